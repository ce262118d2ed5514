/* rp_udp_drain: every datagram handed on once, in order, with its own
 * arrival stamp; oversized ones reported; the per-wakeup budget kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "netaddr.h"
#include "udp.h"

struct seen {
    unsigned n, oversized;
    uint32_t first[256];
    size_t len[256];
    uint64_t last_rx;
    bool ordered;
};

static void on_datagram(void *arg, uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    struct seen *s = arg;
    uint32_t v = 0;
    memcpy(&v, buf, len < sizeof v ? len : sizeof v);
    if (s->n < 256) {
        s->first[s->n] = v;
        s->len[s->n] = len;
    }
    s->ordered = s->ordered && meta->rx_mono >= s->last_rx && meta->rx_mono > 0;
    s->last_rx = meta->rx_mono;
    s->n++;
}

static void on_oversized(void *arg)
{
    ((struct seen *)arg)->oversized++;
}

/* A receiving and a sending socket on loopback; *to is the receiver. */
static void pair(int *rx, int *tx, struct sockaddr_storage *to, socklen_t *tolen)
{
    struct sockaddr_storage any;
    socklen_t alen;
    assert_int_equal(rp_addr_from_ip("127.0.0.1", 0, &any, &alen), 0);
    *rx = rp_udp_open((struct sockaddr *)&any, alen, -1);
    *tx = rp_udp_open((struct sockaddr *)&any, alen, -1);
    assert_true(*rx >= 0 && *tx >= 0);
    *tolen = sizeof *to;
    assert_int_equal(getsockname(*rx, (struct sockaddr *)to, tolen), 0);
}

static void send_n(int tx, const struct sockaddr_storage *to, socklen_t tolen, uint32_t from, unsigned n,
                   size_t len)
{
    uint8_t buf[4000] = { 0 };
    for (uint32_t i = from; i < from + n; i++) {
        memcpy(buf, &i, sizeof i);
        assert_int_equal(rp_udp_send(tx, buf, len, (const struct sockaddr *)to, tolen), (ssize_t)len);
    }
}

static void test_drain_hands_on_every_datagram_in_order(void **state)
{
    (void)state;
    int rx, tx;
    struct sockaddr_storage to;
    socklen_t tolen;
    pair(&rx, &tx, &to, &tolen);
    send_n(tx, &to, tolen, 0, 11, 172);                     /* more than a batch */
    send_n(tx, &to, tolen, 1000, 1, RP_UDP_DGRAM_CAP + 1);  /* truncated: dropped */
    send_n(tx, &to, tolen, 11, 2, RP_UDP_DGRAM_CAP);        /* exactly the cap: taken */
    struct seen s = { .ordered = true };
    rp_udp_drain(rx, on_datagram, on_oversized, &s);
    assert_int_equal(s.n, 13);
    assert_int_equal(s.oversized, 1);
    for (unsigned i = 0; i < 13; i++)
        assert_int_equal(s.first[i], i);
    assert_int_equal(s.len[0], 172);
    assert_int_equal(s.len[12], RP_UDP_DGRAM_CAP);
    assert_true(s.ordered);
    close(rx);
    close(tx);
}

static void test_drain_keeps_its_budget_and_leaves_the_rest_queued(void **state)
{
    (void)state;
    int rx, tx;
    struct sockaddr_storage to;
    socklen_t tolen;
    pair(&rx, &tx, &to, &tolen);
    send_n(tx, &to, tolen, 0, 100, 64);
    struct seen s = { .ordered = true };
    rp_udp_drain(rx, on_datagram, NULL, &s);
    assert_int_equal(s.n, RP_UDP_READ_BUDGET);
    rp_udp_drain(rx, on_datagram, NULL, &s);
    assert_int_equal(s.n, 100);
    for (unsigned i = 0; i < 100; i++)
        assert_int_equal(s.first[i], i);
    rp_udp_drain(rx, on_datagram, NULL, &s); /* empty: returns at once */
    assert_int_equal(s.n, 100);
    close(rx);
    close(tx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drain_hands_on_every_datagram_in_order),
        cmocka_unit_test(test_drain_keeps_its_budget_and_leaves_the_rest_queued),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
