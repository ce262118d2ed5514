/* Socket addresses: parsing "host:port" text (config, request bodies) and what
 * it refuses, formatting and its round trip, comparing, loopback, lengths and
 * UDP overhead, prefixes; changing the port in place, what rp_addr_from_ip
 * reports for text that is not an IP literal, and the port of a resolved name. */
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

static void test_text_same_ip_takes_bare_ips_ports_and_mapped_v4(void **state)
{
    (void)state;
    /* X-Forwarded-For gives a bare IP; the latched address has a port. */
    assert_true(rp_addr_text_same_ip("198.51.100.7", "198.51.100.7:4000"));
    assert_true(rp_addr_text_same_ip("198.51.100.7:1", "198.51.100.7:4000"));
    assert_true(rp_addr_text_same_ip("[::ffff:198.51.100.7]:5", "198.51.100.7"));
    assert_true(rp_addr_text_same_ip("[2001:db8::1]:5", "2001:db8::1"));
    assert_false(rp_addr_text_same_ip("198.51.100.7", "198.51.100.8:4000"));
    assert_false(rp_addr_text_same_ip("198.51.100.7", ""));
    assert_false(rp_addr_text_same_ip("", ""));
    assert_false(rp_addr_text_same_ip(NULL, "198.51.100.7"));
    assert_false(rp_addr_text_same_ip("2001:db8::1", "198.51.100.7"));
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

/* rp_addr_parse of `text` succeeds, with this family, length and formatted form. */
static void assert_parses_as(const char *text, uint16_t default_port, int family, const char *expect)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    memset(&ss, 0x5A, sizeof ss);
    assert_int_equal(rp_addr_parse(text, default_port, &ss, &len), 0);
    assert_int_equal(ss.ss_family, family);
    assert_int_equal(len, family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
    assert_int_equal(len, rp_addr_len((struct sockaddr *)&ss));
    assert_formats_as(&ss, expect);
}

static void assert_parse_refuses(const char *text, uint16_t default_port)
{
    struct sockaddr_storage ss;
    socklen_t len = 0;
    if (rp_addr_parse(text, default_port, &ss, &len) != -1)
        fail_msg("\"%s\" (default port %u) was accepted", text, (unsigned)default_port);
}

static void test_parse_ipv4_with_port(void **state)
{
    (void)state;
    assert_parses_as("192.0.2.7:5004", 0, AF_INET, "192.0.2.7:5004");
    assert_parses_as("192.0.2.7:5004", 3478, AF_INET, "192.0.2.7:5004");
    assert_parses_as("0.0.0.0:1", 0, AF_INET, "0.0.0.0:1");
    assert_parses_as("255.255.255.255:65535", 0, AF_INET, "255.255.255.255:65535");
    /* Leading zeros in the port: five digits at most, the value counts. */
    assert_parses_as("192.0.2.7:00080", 0, AF_INET, "192.0.2.7:80");
}

static void test_parse_bracketed_ipv6_with_port(void **state)
{
    (void)state;
    assert_parses_as("[2001:db8::1]:5004", 0, AF_INET6, "[2001:db8::1]:5004");
    assert_parses_as("[::1]:8743", 0, AF_INET6, "[::1]:8743");
    assert_parses_as("[::]:65535", 0, AF_INET6, "[::]:65535");
    assert_parses_as("[::ffff:192.0.2.7]:10000", 0, AF_INET6, "[::ffff:192.0.2.7]:10000");
    /* The longest IPv6 text form fits. */
    assert_parses_as("[ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:1", 0, AF_INET6,
                     "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:1");
    /* Brackets around an IPv4 literal are taken as they are. */
    assert_parses_as("[192.0.2.7]:5004", 0, AF_INET, "192.0.2.7:5004");
}

/* Without a port the default applies; a default of 0 means a port is required. */
static void test_parse_without_port_takes_the_default_or_refuses(void **state)
{
    (void)state;
    assert_parses_as("192.0.2.7", 3478, AF_INET, "192.0.2.7:3478");
    assert_parses_as("::1", 3478, AF_INET6, "[::1]:3478");
    assert_parses_as("[2001:db8::1]", 3478, AF_INET6, "[2001:db8::1]:3478");
    /* Two colons make it a bare IPv6 literal: the last group is not a port. */
    assert_parses_as("2001:db8::1:5004", 3478, AF_INET6, "[2001:db8::1:5004]:3478");
    assert_parse_refuses("192.0.2.7", 0);
    assert_parse_refuses("::1", 0);
    assert_parse_refuses("[2001:db8::1]", 0);
    assert_parse_refuses("2001:db8::1:5004", 0);
}

static void test_parse_refuses_empty_and_missing_parts(void **state)
{
    (void)state;
    const char *bad[] = {
        "", ":", ":5004", "[]", "[]:5004", "[", "[::1", "[::1]:", "192.0.2.7:", "]:5004",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_parse_refuses(bad[i], 0);
        assert_parse_refuses(bad[i], 3478);
    }
}

static void test_parse_refuses_port_zero_and_out_of_range(void **state)
{
    (void)state;
    const char *bad[] = {
        "192.0.2.7:0", "192.0.2.7:00000", "192.0.2.7:65536", "192.0.2.7:99999", "192.0.2.7:100000",
        "192.0.2.7:000001", "192.0.2.7:4294967297", "192.0.2.7:18446744073709551617",
        "[::1]:0", "[::1]:65536", "[::1]:123456",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_parse_refuses(bad[i], 3478);
    assert_parses_as("[::1]:65535", 0, AF_INET6, "[::1]:65535");
    assert_parses_as("192.0.2.7:1", 0, AF_INET, "192.0.2.7:1");
}

static void test_parse_refuses_garbage_names_and_trailing_junk(void **state)
{
    (void)state;
    const char *bad[] = {
        "localhost:5004", "example.com", "rtp://192.0.2.7:5004", "192.0.2.256:5004", "192.0.2:5004",
        "192.0.2.7.1:5004", "0x7f.1:5004", "192.0.2.7:+5004", "192.0.2.7:-5004", "192.0.2.7: 5004",
        "192.0.2.7:5004 ", "192.0.2.7:5004x", "192.0.2.7:50a4", "192.0.2.7 :5004", " 192.0.2.7:5004",
        "192.0.2.7:5004:6", "[::1]x", "[::1]5004", "[::1]:5004]", "[::1]:5004:6", "[[::1]]:5004",
        "[::1:5004", "::1]:5004", "2001:db8::g", "2001:db8:::1", "[fe80::1%eth0]:5004",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_parse_refuses(bad[i], 3478);
}

/* A host longer than any IP literal is refused before it is copied (the
 * sanitized build would see an overrun of the 47-byte copy otherwise). */
static void test_parse_refuses_overlong_hosts(void **state)
{
    (void)state;
    char text[4096];
    memset(text, '1', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    assert_parse_refuses(text, 3478);
    text[0] = '[';
    memcpy(text + sizeof text - 7, "]:5004", 7);
    assert_parse_refuses(text, 3478);
    memcpy(text + 60, ":5004", 6);
    assert_parse_refuses(text + 1, 3478); /* 59 digits, then a port */
    /* 46 characters: one more than the longest literal, zero-padded. */
    assert_parse_refuses("[0ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255]:1", 0);
}

/* What rp_addr_format writes, rp_addr_parse reads back to the same address. */
static void test_format_round_trips_through_parse(void **state)
{
    (void)state;
    const char *texts[] = {
        "192.0.2.7:5004", "0.0.0.0:1", "[2001:db8::1]:65535", "[::1]:8743", "[::]:1",
        "[::ffff:192.0.2.7]:10000", "[2001:db8:0:1:2:3:4:5]:3478", "[fe80::1]:9",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        struct sockaddr_storage a, b;
        socklen_t alen, blen;
        char buf[RP_ADDRSTRLEN];
        assert_int_equal(rp_addr_parse(texts[i], 0, &a, &alen), 0);
        rp_addr_format((struct sockaddr *)&a, buf, sizeof buf);
        assert_string_equal(buf, texts[i]);
        assert_int_equal(rp_addr_parse(buf, 0, &b, &blen), 0);
        assert_int_equal(alen, blen);
        assert_true(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
        assert_memory_equal(&a, &b, alen);
    }
    /* Non-canonical text comes back canonical. */
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(rp_addr_parse("[2001:0DB8:0000::0001]:5004", 0, &ss, &len), 0);
    assert_formats_as(&ss, "[2001:db8::1]:5004");
}

static void test_format_ip_leaves_out_the_port_and_unknown_family_is_a_question_mark(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    char buf[RP_ADDRSTRLEN];
    addr_of("2001:db8::1", 5004, &ss);
    rp_addr_format_ip((struct sockaddr *)&ss, buf, sizeof buf);
    assert_string_equal(buf, "2001:db8::1");
    addr_of("192.0.2.7", 5004, &ss);
    rp_addr_format_ip((struct sockaddr *)&ss, buf, sizeof buf);
    assert_string_equal(buf, "192.0.2.7");
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    rp_addr_format_ip((struct sockaddr *)&ss, buf, sizeof buf);
    assert_string_equal(buf, "?");
    rp_addr_format((struct sockaddr *)&ss, buf, sizeof buf);
    assert_string_equal(buf, "?");
    assert_int_equal(rp_addr_port((struct sockaddr *)&ss), 0);
}

/* A buffer too small is never overrun: the text is cut and terminated. */
static void test_format_into_a_small_buffer_is_cut_and_terminated(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("2001:db8::1", 5004, &ss);
    char buf[8];
    memset(buf, 'X', sizeof buf);
    rp_addr_format((struct sockaddr *)&ss, buf, 6);
    assert_string_equal(buf, "[2001");
    assert_int_equal(buf[6], 'X');
    addr_of("192.0.2.7", 5004, &ss);
    rp_addr_format((struct sockaddr *)&ss, buf, 4);
    assert_string_equal(buf, "192");
}

static void test_equal_needs_family_ip_and_port_same_ip_ignores_port(void **state)
{
    (void)state;
    struct sockaddr_storage a, b;
    addr_of("192.0.2.7", 5004, &a);
    addr_of("192.0.2.7", 5004, &b);
    assert_true(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
    assert_true(rp_addr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
    addr_of("192.0.2.7", 5006, &b);
    assert_false(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
    assert_true(rp_addr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
    addr_of("192.0.2.8", 5004, &b);
    assert_false(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
    assert_false(rp_addr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
    addr_of("2001:db8::1", 5004, &a);
    addr_of("2001:db8::1", 5004, &b);
    assert_true(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
    addr_of("2001:db8::2", 5004, &b);
    assert_false(rp_addr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
    addr_of("2001:db8::1", 5005, &b);
    assert_false(rp_addr_equal((struct sockaddr *)&a, (struct sockaddr *)&b));
    assert_true(rp_addr_same_ip((struct sockaddr *)&a, (struct sockaddr *)&b));
}

/* Addresses are compared as the socket saw them: an IPv4 address and its
 * v4-mapped IPv6 form are different sources (only rp_cidr_match maps). */
static void test_v4_and_its_v4_mapped_form_are_not_the_same_ip(void **state)
{
    (void)state;
    struct sockaddr_storage v4, mapped, unix_a, unix_b;
    addr_of("192.0.2.7", 5004, &v4);
    addr_of("::ffff:192.0.2.7", 5004, &mapped);
    assert_false(rp_addr_same_ip((struct sockaddr *)&v4, (struct sockaddr *)&mapped));
    assert_false(rp_addr_same_ip((struct sockaddr *)&mapped, (struct sockaddr *)&v4));
    assert_false(rp_addr_equal((struct sockaddr *)&v4, (struct sockaddr *)&mapped));
    /* The first four bytes of an IPv6 address are not an IPv4 address. */
    addr_of("c000:207::", 5004, &mapped);
    assert_false(rp_addr_same_ip((struct sockaddr *)&v4, (struct sockaddr *)&mapped));
    memset(&unix_a, 0, sizeof unix_a);
    memset(&unix_b, 0, sizeof unix_b);
    unix_a.ss_family = unix_b.ss_family = AF_UNIX;
    assert_false(rp_addr_same_ip((struct sockaddr *)&unix_a, (struct sockaddr *)&unix_b));
}

static void test_loopback_is_127_slash_8_and_v6_loopback_and_mapped(void **state)
{
    (void)state;
    const char *yes[] = { "127.0.0.1", "127.255.255.254", "127.0.0.0", "::1", "::ffff:127.0.0.1", "::ffff:127.9.9.9" };
    const char *no[] = { "128.0.0.1", "126.255.255.255", "0.0.0.0", "192.0.2.7", "::", "::2",
                         "::ffff:128.0.0.1", "::127.0.0.1", "2001:db8::1", "fe80::1" };
    struct sockaddr_storage ss;
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        addr_of(yes[i], 1, &ss);
        assert_true(rp_addr_is_loopback((struct sockaddr *)&ss));
    }
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        addr_of(no[i], 1, &ss);
        assert_false(rp_addr_is_loopback((struct sockaddr *)&ss));
    }
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    assert_false(rp_addr_is_loopback((struct sockaddr *)&ss));
}

/* IP (20 or 40) + UDP (8) header bytes: a v4-mapped address goes out of an
 * IPv6 socket but on the wire as IPv4; the code counts the socket's family. */
static void test_length_and_udp_overhead_follow_the_family(void **state)
{
    (void)state;
    struct sockaddr_storage ss;
    addr_of("192.0.2.7", 5004, &ss);
    assert_int_equal(rp_addr_udp_overhead((struct sockaddr *)&ss), 28);
    assert_int_equal(rp_addr_len((struct sockaddr *)&ss), sizeof(struct sockaddr_in));
    addr_of("2001:db8::1", 5004, &ss);
    assert_int_equal(rp_addr_udp_overhead((struct sockaddr *)&ss), 48);
    assert_int_equal(rp_addr_len((struct sockaddr *)&ss), sizeof(struct sockaddr_in6));
    addr_of("::ffff:192.0.2.7", 5004, &ss);
    assert_int_equal(rp_addr_udp_overhead((struct sockaddr *)&ss), 48);
    assert_int_equal(rp_addr_len((struct sockaddr *)&ss), sizeof(struct sockaddr_in6));
}

static void cidr_matches(const char *prefix, const char *ip, bool expect)
{
    struct rp_cidr c;
    struct sockaddr_storage ss;
    assert_int_equal(rp_cidr_parse(prefix, &c), 0);
    addr_of(ip, 5004, &ss);
    assert_int_equal(rp_cidr_match(&c, (struct sockaddr *)&ss), expect);
}

/* Prefix edges: /0, a bit inside a byte, a v4 prefix and v4-mapped sources. */
static void test_cidr_prefix_edges_and_mapped_sources(void **state)
{
    (void)state;
    cidr_matches("0.0.0.0/0", "203.0.113.7", true);
    cidr_matches("0.0.0.0/0", "::ffff:203.0.113.7", true);
    cidr_matches("0.0.0.0/0", "2001:db8::1", false);
    cidr_matches("::/0", "2001:db8::1", true);
    cidr_matches("::/0", "203.0.113.7", false);
    cidr_matches("192.0.2.128/25", "192.0.2.128", true);
    cidr_matches("192.0.2.128/25", "192.0.2.255", true);
    cidr_matches("192.0.2.128/25", "192.0.2.127", false);
    cidr_matches("192.0.2.128/25", "::ffff:192.0.2.200", true);
    cidr_matches("192.0.2.128/25", "::ffff:192.0.2.100", false);
    cidr_matches("192.0.2.7", "192.0.2.7", true);
    cidr_matches("192.0.2.7", "192.0.2.6", false);
    cidr_matches("2001:db8::/33", "2001:db8:7fff::1", true);
    cidr_matches("2001:db8::/33", "2001:db8:8000::1", false);
    cidr_matches("2001:db8::1", "2001:db8::1", true);
    cidr_matches("2001:db8::1", "2001:db8::2", false);
}

static void test_cidr_parse_refuses_bad_prefixes(void **state)
{
    (void)state;
    const char *bad[] = {
        "", "/8", "192.0.2.0/", "192.0.2.0/33", "2001:db8::/129", "192.0.2.0/8x", "192.0.2.0/-1",
        "192.0.2.0/4294967304", "example.com/8", "192.0.2.0:5004", "[2001:db8::]/32", "192.0.2/24",
    };
    struct rp_cidr c;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(rp_cidr_parse(bad[i], &c), -1);
    assert_int_equal(rp_cidr_parse("192.0.2.0/32", &c), 0);
    assert_int_equal(c.bits, 32);
    assert_int_equal(rp_cidr_parse("2001:db8::/128", &c), 0);
    assert_int_equal(c.bits, 128);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_ipv4_with_port),
        cmocka_unit_test(test_parse_bracketed_ipv6_with_port),
        cmocka_unit_test(test_parse_without_port_takes_the_default_or_refuses),
        cmocka_unit_test(test_parse_refuses_empty_and_missing_parts),
        cmocka_unit_test(test_parse_refuses_port_zero_and_out_of_range),
        cmocka_unit_test(test_parse_refuses_garbage_names_and_trailing_junk),
        cmocka_unit_test(test_parse_refuses_overlong_hosts),
        cmocka_unit_test(test_format_round_trips_through_parse),
        cmocka_unit_test(test_format_ip_leaves_out_the_port_and_unknown_family_is_a_question_mark),
        cmocka_unit_test(test_format_into_a_small_buffer_is_cut_and_terminated),
        cmocka_unit_test(test_equal_needs_family_ip_and_port_same_ip_ignores_port),
        cmocka_unit_test(test_v4_and_its_v4_mapped_form_are_not_the_same_ip),
        cmocka_unit_test(test_loopback_is_127_slash_8_and_v6_loopback_and_mapped),
        cmocka_unit_test(test_length_and_udp_overhead_follow_the_family),
        cmocka_unit_test(test_cidr_prefix_edges_and_mapped_sources),
        cmocka_unit_test(test_cidr_parse_refuses_bad_prefixes),
        cmocka_unit_test(test_text_same_ip_takes_bare_ips_ports_and_mapped_v4),
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
