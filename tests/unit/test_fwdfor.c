/* The client address of a control request (rp_fwdfor_client): the peer, or
 * from a loopback peer (nginx on this host) the last X-Forwarded-For entry
 * when it is an IP literal; anything else leaves the peer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "fwdfor.h"
#include "netaddr.h"

static void addr(const char *s, struct sockaddr_storage *ss)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse(s, 0, ss, &len), 0);
}

/* The client for a request from `peer_text` carrying `xff` (NULL: no header),
 * formatted; `used` is what rp_fwdfor_client said about the header. */
static void client_for(const char *peer_text, const char *xff, bool used, const char *expect)
{
    struct sockaddr_storage peer, client;
    addr(peer_text, &peer);
    memset(&client, 0x5A, sizeof client);
    if (rp_fwdfor_client(&peer, xff, &client) != used)
        fail_msg("peer %s, X-Forwarded-For \"%.80s\": header %s", peer_text, xff ? xff : "(none)",
                 used ? "not used" : "used");
    char buf[RP_ADDRSTRLEN];
    rp_addr_format((const struct sockaddr *)&client, buf, sizeof buf);
    assert_string_equal(buf, expect);
    if (!used)
        assert_memory_equal(&client, &peer, sizeof peer);
}

static void test_single_address_from_loopback_is_the_client_without_port(void **state)
{
    (void)state;
    client_for("127.0.0.1:40000", "203.0.113.7", true, "203.0.113.7");
    client_for("127.0.0.1:40000", "2001:db8::7", true, "2001:db8::7");
    struct sockaddr_storage peer, client;
    addr("127.0.0.1:40000", &peer);
    assert_true(rp_fwdfor_client(&peer, "203.0.113.7", &client));
    assert_int_equal(client.ss_family, AF_INET);
    assert_int_equal(rp_addr_port((struct sockaddr *)&client), 0);
}

static void test_the_last_entry_of_a_list_is_the_one_nginx_appended(void **state)
{
    (void)state;
    client_for("127.0.0.1:40000", "198.51.100.1, 203.0.113.7", true, "203.0.113.7");
    client_for("127.0.0.1:40000", "198.51.100.1,203.0.113.7", true, "203.0.113.7");
    client_for("127.0.0.1:40000", "10.0.0.1, 10.0.0.2, 2001:db8::9", true, "2001:db8::9");
    /* What the agent put first, however plausible, is not the client. */
    client_for("127.0.0.1:40000", "127.0.0.1, 192.0.2.44", true, "192.0.2.44");
}

static void test_spaces_around_the_last_entry_are_skipped(void **state)
{
    (void)state;
    client_for("127.0.0.1:40000", "   203.0.113.7", true, "203.0.113.7");
    client_for("127.0.0.1:40000", "203.0.113.7   ", true, "203.0.113.7");
    client_for("127.0.0.1:40000", "198.51.100.1 ,   203.0.113.7  ", true, "203.0.113.7");
}

static void test_ipv6_loopback_and_v4_mapped_loopback_peers_are_trusted(void **state)
{
    (void)state;
    client_for("[::1]:40000", "203.0.113.7", true, "203.0.113.7");
    client_for("[::ffff:127.0.0.1]:40000", "2001:db8::1", true, "2001:db8::1");
    client_for("127.9.9.9:40000", "203.0.113.7", true, "203.0.113.7");
}

/* A remote client must not choose its own address. */
static void test_header_from_a_remote_peer_is_ignored(void **state)
{
    (void)state;
    client_for("192.0.2.10:40000", "203.0.113.7", false, "192.0.2.10:40000");
    client_for("[2001:db8::10]:40000", "203.0.113.7", false, "[2001:db8::10]:40000");
    client_for("[::ffff:192.0.2.10]:40000", "127.0.0.1", false, "[::ffff:192.0.2.10]:40000");
    client_for("128.0.0.1:40000", "203.0.113.7", false, "128.0.0.1:40000");
}

static void test_no_header_leaves_the_peer(void **state)
{
    (void)state;
    client_for("127.0.0.1:40000", NULL, false, "127.0.0.1:40000");
}

static void test_empty_or_blank_last_entry_leaves_the_peer(void **state)
{
    (void)state;
    client_for("127.0.0.1:40000", "", false, "127.0.0.1:40000");
    client_for("127.0.0.1:40000", "    ", false, "127.0.0.1:40000");
    client_for("127.0.0.1:40000", "203.0.113.7,", false, "127.0.0.1:40000");
    client_for("127.0.0.1:40000", "203.0.113.7, ", false, "127.0.0.1:40000");
    client_for("127.0.0.1:40000", ",", false, "127.0.0.1:40000");
}

/* Only a bare IP literal: no names, no ports, no brackets, nothing after it. */
static void test_garbage_names_and_ports_leave_the_peer(void **state)
{
    (void)state;
    const char *bad[] = {
        "unknown", "example.com", "203.0.113.7:5060", "[2001:db8::1]:5060", "[2001:db8::1]",
        "203.0.113.256", "203.0.113", "203.0.113.7x", "203.0.113.7\t",
        "198.51.100.1, unknown", "2001:db8::1::2", "-1", "0x7f000001",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        client_for("127.0.0.1:40000", bad[i], false, "127.0.0.1:40000");
    /* A good entry earlier in the list does not rescue a bad last one. */
    client_for("127.0.0.1:40000", "203.0.113.7, garbage", false, "127.0.0.1:40000");
    /* The entry ends at its first space: what follows is not looked at (nginx
     * sends only the address; kept as control.c always read it). */
    client_for("127.0.0.1:40000", "203.0.113.7 junk", true, "203.0.113.7");
}

/* No IP literal is longer than 45 characters, so an entry longer than the
 * 64-byte copy is refused before it is copied: without that check the copy
 * overruns the stack (the sanitized build stops there). Leading spaces do not
 * count towards the length. */
static void test_overlong_entries_leave_the_peer(void **state)
{
    (void)state;
    /* 45 characters: the longest IPv6 text form, accepted. */
    client_for("127.0.0.1:40000", "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255", true,
               "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
    char longer[4096];
    memset(longer, '1', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    client_for("127.0.0.1:40000", longer, false, "127.0.0.1:40000");
    char padded[RP_ADDRSTRLEN + 8];
    memset(padded, ' ', sizeof padded - 1);
    padded[sizeof padded - 1] = '\0';
    memcpy(padded + sizeof padded - 1 - 11, "203.0.113.7", 11);
    client_for("127.0.0.1:40000", padded, true, "203.0.113.7");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_single_address_from_loopback_is_the_client_without_port),
        cmocka_unit_test(test_the_last_entry_of_a_list_is_the_one_nginx_appended),
        cmocka_unit_test(test_spaces_around_the_last_entry_are_skipped),
        cmocka_unit_test(test_ipv6_loopback_and_v4_mapped_loopback_peers_are_trusted),
        cmocka_unit_test(test_header_from_a_remote_peer_is_ignored),
        cmocka_unit_test(test_no_header_leaves_the_peer),
        cmocka_unit_test(test_empty_or_blank_last_entry_leaves_the_peer),
        cmocka_unit_test(test_garbage_names_and_ports_leave_the_peer),
        cmocka_unit_test(test_overlong_entries_leave_the_peer),
    };
    return cmocka_run_group_tests_name("fwdfor", tests, NULL, NULL);
}
