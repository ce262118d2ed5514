/* Socket addresses: changing the port in place, what rp_addr_from_ip reports
 * for text that is not an IP literal, and the port of a resolved name. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "netaddr.h"

static void addr_of(const char *ip, uint16_t port, struct sockaddr_storage *ss)
{
    socklen_t len;
    assert_int_equal(rp_addr_from_ip(ip, port, ss, &len), 0);
}

static void assert_formats_as(const struct sockaddr_storage *ss, const char *expect)
{
    char buf[RP_ADDRSTRLEN];
    rp_addr_format((const struct sockaddr *)ss, buf, sizeof buf);
    assert_string_equal(buf, expect);
}

/* Only the port changes: the same address with the new port, byte for byte. */
static void assert_set_port_keeps_address(const char *ip, uint16_t from, uint16_t to)
{
    struct sockaddr_storage got, want;
    addr_of(ip, from, &got);
    addr_of(ip, to, &want);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&got, to), 0);
    assert_int_equal(rp_addr_port((struct sockaddr *)&got), to);
    assert_memory_equal(&got, &want, sizeof got);
}

static void test_set_port_changes_ipv4_port_in_network_order(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("192.0.2.7", 5004, &ss);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 3478), 0);
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
    assert_int_equal(sin->sin_family, AF_INET);
    assert_int_equal(ntohs(sin->sin_port), 3478);
    assert_formats_as(&ss, "192.0.2.7:3478");
    assert_set_port_keeps_address("192.0.2.7", 5004, 65535);
    assert_set_port_keeps_address("0.0.0.0", 0, 1);
}

static void test_set_port_changes_ipv6_port_and_keeps_address(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("2001:db8::1", 40000, &ss);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 8743), 0);
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6->sin6_port), 8743);
    assert_formats_as(&ss, "[2001:db8::1]:8743");
    assert_set_port_keeps_address("2001:db8::1", 40000, 1);
    assert_set_port_keeps_address("::", 0, 20000);
}

static void test_set_port_keeps_v4_mapped_address_ipv6(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("::ffff:192.0.2.7", 10000, &ss);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 10002), 0);
    const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
    assert_int_equal(sin6->sin6_family, AF_INET6);
    assert_true(IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr));
    assert_int_equal(rp_addr_port((struct sockaddr *)&ss), 10002);
    assert_formats_as(&ss, "[::ffff:192.0.2.7]:10002");
    assert_set_port_keeps_address("::ffff:127.0.0.1", 10000, 10002);
}

static void test_set_port_to_zero_leaves_an_address_without_port(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("203.0.113.7", 45684, &ss);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 0), 0);
    assert_formats_as(&ss, "203.0.113.7");
}

static void test_set_port_refuses_unknown_family_and_leaves_it_alone(void **state)
{
    (void)state;
    struct sockaddr_storage ss, before;
    memset(&ss, 0xA5, sizeof ss);
    ss.ss_family = AF_UNIX;
    memcpy(&before, &ss, sizeof ss);
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 3478), -1);
    assert_memory_equal(&ss, &before, sizeof ss);
    ss.ss_family = AF_UNSPEC;
    assert_int_equal(rp_addr_set_port((struct sockaddr *)&ss, 3478), -1);
}

static void test_from_ip_sets_family_length_and_port(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len = 0;
    assert_int_equal(rp_addr_from_ip("198.51.100.1", 9, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in));
    assert_formats_as(&ss, "198.51.100.1:9");
    assert_int_equal(rp_addr_from_ip("::1", 9, &ss, &len), 0);
    assert_int_equal(len, sizeof(struct sockaddr_in6));
    assert_formats_as(&ss, "[::1]:9");
}

static void test_from_ip_rejects_names_ports_and_garbage(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(rp_addr_from_ip("localhost", 0, &ss, &len), -1);
    assert_int_equal(rp_addr_from_ip("192.0.2.7:5004", 0, &ss, &len), -1);
    assert_int_equal(rp_addr_from_ip("[::1]", 0, &ss, &len), -1);
    assert_int_equal(rp_addr_from_ip("", 0, &ss, &len), -1);
    assert_int_equal(rp_addr_from_ip("256.0.0.1", 0, &ss, &len), -1);
}

/* A resolved name gets its port the same way (localhost: /etc/hosts, no DNS). */
static void test_resolve_puts_the_port_on_a_resolved_name(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(rp_addr_resolve("localhost:3479", 3478, &ss, &len), 0);
    assert_int_equal(rp_addr_port((struct sockaddr *)&ss), 3479);
    assert_true(rp_addr_is_loopback((struct sockaddr *)&ss));
    assert_int_equal(rp_addr_resolve("localhost", 3478, &ss, &len), 0);
    assert_int_equal(rp_addr_port((struct sockaddr *)&ss), 3478);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_port_changes_ipv4_port_in_network_order),
        cmocka_unit_test(test_set_port_changes_ipv6_port_and_keeps_address),
        cmocka_unit_test(test_set_port_keeps_v4_mapped_address_ipv6),
        cmocka_unit_test(test_set_port_to_zero_leaves_an_address_without_port),
        cmocka_unit_test(test_set_port_refuses_unknown_family_and_leaves_it_alone),
        cmocka_unit_test(test_from_ip_sets_family_length_and_port),
        cmocka_unit_test(test_from_ip_rejects_names_ports_and_garbage),
        cmocka_unit_test(test_resolve_puts_the_port_on_a_resolved_name),
    };
    return cmocka_run_group_tests_name("netaddr", tests, NULL, NULL);
}
