/* Media port allocation (rp_port_alloc): an even port in [min, max], never one
 * another socket holds, every even port reachable from any random start,
 * EADDRNOTAVAIL when all are taken, and a released port usable again. Real
 * sockets on loopback: each test first finds a window of ports nobody holds
 * (below the usual ephemeral range), so other work on the machine does not
 * make it fail. The random start comes from RAND_bytes and is not injected:
 * the wrap is exercised by repeating an allocation that can only succeed by
 * wrapping for most starts. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "netaddr.h"
#include "portalloc.h"

#define MAXPORTS 64
#define DSCP_NONE (-1)

static struct sockaddr_storage lo4, lo6;

static int setup(void **state)
{
    (void)state;
    socklen_t len;
    if (rp_addr_from_ip("127.0.0.1", 0, &lo4, &len) < 0 || rp_addr_from_ip("::1", 0, &lo6, &len) < 0)
        return -1;
    return 0;
}

/* A plain UDP socket holding `port` on `addr`, or -1 (someone else has it). */
static int hold(const struct sockaddr_storage *addr, unsigned port)
{
    struct sockaddr_storage ss = *addr;
    rp_addr_set_port((struct sockaddr *)&ss, (uint16_t)port);
    int fd = socket(ss.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    if (bind(fd, (struct sockaddr *)&ss, rp_addr_len((struct sockaddr *)&ss)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* An even base such that base .. base + span - 1 are all free on addr just now. */
static unsigned free_window(const struct sockaddr_storage *addr, unsigned span)
{
    static unsigned next = 0;
    if (!next)
        next = 20000 + 2 * ((unsigned)getpid() % 4000);
    for (unsigned attempt = 0; attempt < 200; attempt++) {
        unsigned base = next;
        next = next + span + 2 > 31000 ? 20000 : next + ((span + 1) & ~1u) + 2;
        int fds[2 * MAXPORTS];
        unsigned n = 0;
        bool ok = true;
        for (unsigned p = base; p < base + span && ok; p++) {
            fds[n] = hold(addr, p);
            ok = fds[n] >= 0;
            n += ok;
        }
        while (n)
            close(fds[--n]);
        if (ok)
            return base;
    }
    fail_msg("no window of %u free UDP ports found", span);
    return 0;
}

/* One allocation that must succeed: checks the fd is bound to the port it
 * reports, non-blocking, and the port is even and within the range. */
static int alloc_ok(const struct sockaddr_storage *addr, unsigned min, unsigned max, uint16_t *port)
{
    *port = 0;
    int fd = rp_port_alloc((const struct sockaddr *)addr, min, max, DSCP_NONE, port);
    if (fd < 0)
        fail_msg("rp_port_alloc [%u, %u]: -1, errno %d", min, max, errno);
    assert_true(*port >= min && *port <= max);
    assert_int_equal(*port % 2, 0);
    struct sockaddr_storage bound;
    socklen_t len = sizeof bound;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&bound, &len), 0);
    assert_int_equal(bound.ss_family, addr->ss_family);
    assert_int_equal(rp_addr_port((struct sockaddr *)&bound), *port);
    assert_true(rp_addr_same_ip((struct sockaddr *)&bound, (const struct sockaddr *)addr));
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    return fd;
}

static void alloc_fails(const struct sockaddr_storage *addr, unsigned min, unsigned max, int err)
{
    uint16_t port = 12345;
    errno = 0;
    assert_int_equal(rp_port_alloc((const struct sockaddr *)addr, min, max, DSCP_NONE, &port), -1);
    assert_int_equal(errno, err);
    assert_int_equal(port, 12345); /* untouched */
}

/* Every even port of the range once, no port twice, then EADDRNOTAVAIL. */
static void exhaust(const struct sockaddr_storage *addr)
{
    unsigned base = free_window(addr, 16);
    unsigned min = base, max = base + 15; /* 8 even ports */
    int fds[8];
    bool seen[16] = { false };
    for (unsigned i = 0; i < 8; i++) {
        uint16_t port;
        fds[i] = alloc_ok(addr, min, max, &port);
        assert_false(seen[port - base]);
        seen[port - base] = true;
    }
    for (unsigned p = 0; p < 16; p += 2)
        assert_true(seen[p]);
    alloc_fails(addr, min, max, EADDRNOTAVAIL);
    for (unsigned i = 0; i < 8; i++)
        close(fds[i]);
}

static void test_every_even_port_once_then_exhausted_ipv4(void **state)
{
    (void)state;
    exhaust(&lo4);
}

static void test_every_even_port_once_then_exhausted_ipv6(void **state)
{
    (void)state;
    exhaust(&lo6);
}

/* A released port is allocated again: the only free one in the range. */
static void test_a_released_port_is_reused(void **state)
{
    (void)state;
    unsigned base = free_window(&lo4, 8);
    int fds[4];
    uint16_t ports[4];
    for (unsigned i = 0; i < 4; i++)
        fds[i] = alloc_ok(&lo4, base, base + 7, &ports[i]);
    alloc_fails(&lo4, base, base + 7, EADDRNOTAVAIL);
    for (unsigned round = 0; round < 8; round++) {
        unsigned i = round % 4;
        close(fds[i]);
        uint16_t again;
        fds[i] = alloc_ok(&lo4, base, base + 7, &again);
        assert_int_equal(again, ports[i]);
        alloc_fails(&lo4, base, base + 7, EADDRNOTAVAIL);
    }
    for (unsigned i = 0; i < 4; i++)
        close(fds[i]);
}

/* A port another process holds is skipped, whichever even port the random
 * start falls on: with only the lowest (or only the highest) port free, 7 of
 * 8 starts have to wrap around the range (or run to its end) to find it. */
static void only_free_port_is_found(unsigned free_index)
{
    unsigned base = free_window(&lo4, 16);
    int held[8];
    for (unsigned i = 0; i < 8; i++)
        held[i] = i == free_index ? -1 : hold(&lo4, base + 2 * i);
    for (unsigned i = 0; i < 8; i++)
        if (i != free_index)
            assert_true(held[i] >= 0);
    for (unsigned trial = 0; trial < 64; trial++) {
        uint16_t port;
        int fd = alloc_ok(&lo4, base, base + 15, &port);
        assert_int_equal(port, base + 2 * free_index);
        close(fd);
    }
    for (unsigned i = 0; i < 8; i++)
        if (held[i] >= 0)
            close(held[i]);
}

static void test_search_wraps_to_the_lowest_port(void **state)
{
    (void)state;
    only_free_port_is_found(0);
}

static void test_search_reaches_the_highest_port(void **state)
{
    (void)state;
    only_free_port_is_found(7);
}

/* Odd bounds: the first even port at or above min, the last at or below max;
 * never an odd port, never one outside. */
static void test_odd_min_and_odd_max_keep_to_even_ports_inside(void **state)
{
    (void)state;
    unsigned base = free_window(&lo4, 8);
    int fds[2];
    uint16_t a, b;
    fds[0] = alloc_ok(&lo4, base + 1, base + 5, &a);
    fds[1] = alloc_ok(&lo4, base + 1, base + 5, &b);
    assert_int_equal(a + b, (base + 2) + (base + 4));
    assert_int_not_equal(a, b);
    alloc_fails(&lo4, base + 1, base + 5, EADDRNOTAVAIL);
    close(fds[0]);
    close(fds[1]);
}

static void test_min_equal_to_max(void **state)
{
    (void)state;
    unsigned base = free_window(&lo4, 2);
    uint16_t port;
    int fd = alloc_ok(&lo4, base, base, &port);
    assert_int_equal(port, base);
    alloc_fails(&lo4, base, base, EADDRNOTAVAIL);
    close(fd);
    /* An odd min == max has no even port: refused before any socket. */
    alloc_fails(&lo4, base + 1, base + 1, EINVAL);
}

static void test_a_range_without_an_even_port_is_invalid(void **state)
{
    (void)state;
    alloc_fails(&lo4, 20001, 20001, EINVAL);
    alloc_fails(&lo4, 20002, 20000, EINVAL);
    alloc_fails(&lo4, 20001, 20000, EINVAL);
    alloc_fails(&lo4, 65535, 65535, EINVAL);
    alloc_fails(&lo6, 30000, 29999, EINVAL);
}

/* The top of the port space: 65534 is the last even port (65535 is its RTCP). */
static void test_the_highest_even_port(void **state)
{
    (void)state;
    int h = hold(&lo4, 65534);
    if (h < 0)
        skip(); /* someone else has it just now */
    close(h);
    uint16_t port;
    int fd = alloc_ok(&lo4, 65533, 65535, &port);
    assert_int_equal(port, 65534);
    alloc_fails(&lo4, 65533, 65535, EADDRNOTAVAIL);
    close(fd);
}

static void test_unknown_family_is_refused(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    alloc_fails(&ss, 20000, 20010, EAFNOSUPPORT);
}

/* The DSCP reaches the socket (EF for media: TOS byte 0xB8). */
static void test_dscp_is_set_on_the_socket(void **state)
{
    (void)state;
    unsigned base = free_window(&lo4, 4);
    uint16_t port;
    int fd = rp_port_alloc((const struct sockaddr *)&lo4, base, base + 3, 46, &port);
    assert_true(fd >= 0);
    int tos = 0;
    socklen_t len = sizeof tos;
    assert_int_equal(getsockopt(fd, IPPROTO_IP, IP_TOS, &tos, &len), 0);
    assert_int_equal(tos, 46 << 2);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_even_port_once_then_exhausted_ipv4),
        cmocka_unit_test(test_every_even_port_once_then_exhausted_ipv6),
        cmocka_unit_test(test_a_released_port_is_reused),
        cmocka_unit_test(test_search_wraps_to_the_lowest_port),
        cmocka_unit_test(test_search_reaches_the_highest_port),
        cmocka_unit_test(test_odd_min_and_odd_max_keep_to_even_ports_inside),
        cmocka_unit_test(test_min_equal_to_max),
        cmocka_unit_test(test_a_range_without_an_even_port_is_invalid),
        cmocka_unit_test(test_the_highest_even_port),
        cmocka_unit_test(test_unknown_family_is_refused),
        cmocka_unit_test(test_dscp_is_set_on_the_socket),
    };
    return cmocka_run_group_tests_name("portalloc", tests, setup, NULL);
}
