/* Unit tests for src/turn_wire.c and the URI parser of src/turn.c. The two
 * messages below are RFC 5769 §2.1/§2.2 (as in test_stun.c): their
 * MESSAGE-INTEGRITY is HMAC-SHA1 keyed with the password, the same check as
 * the long-term mechanism with key MD5(user:realm:pass). Expected key and REST
 * password were computed independently (md5sum, Python hmac/base64). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "turn.h"
#include "turn_wire.h"
#include "pagetoken.h"

static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09,
    0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14,
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};
static const uint8_t rfc5769_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
static const char rfc5769_password[] = "VOkJxbRl1RmTxUk/WvJxBt";
static const uint8_t txid[RP_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

static void test_rfc5769_request_integrity_is_verified(void **state)
{
    (void)state;
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(rfc5769_request, sizeof rfc5769_request, &m), RP_STUN_OK);
    assert_int_equal(m.integrity_off, 76);
    assert_true(rp_turn_integrity_ok(rfc5769_request, sizeof rfc5769_request, &m,
                                     (const uint8_t *)rfc5769_password, strlen(rfc5769_password)));
    assert_false(rp_turn_integrity_ok(rfc5769_request, sizeof rfc5769_request, &m, (const uint8_t *)"wrong", 5));
}

static void test_rfc5769_response_integrity_and_mapped(void **state)
{
    (void)state;
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(rfc5769_response_v4, sizeof rfc5769_response_v4, &m), RP_STUN_OK);
    assert_true(m.has_mapped);
    struct sockaddr_in sin;
    memcpy(&sin, &m.mapped, sizeof sin);
    assert_int_equal(ntohs(sin.sin_port), 32853);
    assert_int_equal(ntohl(sin.sin_addr.s_addr), 0xC0000201u);
    assert_true(rp_turn_integrity_ok(rfc5769_response_v4, sizeof rfc5769_response_v4, &m,
                                     (const uint8_t *)rfc5769_password, strlen(rfc5769_password)));
}

/* A message altered under a recomputed FINGERPRINT (an attacker can do that)
 * still fails MESSAGE-INTEGRITY. */
static void test_altered_message_fails_integrity(void **state)
{
    (void)state;
    uint8_t msg[sizeof rfc5769_response_v4];
    memcpy(msg, rfc5769_response_v4, sizeof msg);
    msg[43] ^= 1; /* the mapped port */
    uint32_t fp = rp_stun_fingerprint(msg, sizeof msg - 8);
    msg[sizeof msg - 4] = (uint8_t)(fp >> 24);
    msg[sizeof msg - 3] = (uint8_t)(fp >> 16);
    msg[sizeof msg - 2] = (uint8_t)(fp >> 8);
    msg[sizeof msg - 1] = (uint8_t)fp;
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(msg, sizeof msg, &m), RP_STUN_OK);
    assert_false(rp_turn_integrity_ok(msg, sizeof msg, &m, (const uint8_t *)rfc5769_password,
                                      strlen(rfc5769_password)));
    /* Without a MESSAGE-INTEGRITY there is nothing to trust. */
    m.integrity_off = 0;
    assert_false(rp_turn_integrity_ok(msg, sizeof msg, &m, (const uint8_t *)rfc5769_password,
                                      strlen(rfc5769_password)));
}

static void test_long_term_key_is_md5_of_user_realm_pass(void **state)
{
    (void)state;
    static const uint8_t want[RP_TURN_KEY_LEN] = { 0x5c, 0x81, 0x57, 0xfd, 0x8e, 0xf5, 0xf6, 0xb5,
                                                   0x66, 0x29, 0xb7, 0x39, 0x9d, 0x83, 0xce, 0x25 };
    uint8_t key[RP_TURN_KEY_LEN];
    assert_int_equal(rp_turn_key("u", "test", "p", key), 0);
    assert_memory_equal(key, want, sizeof want);
}

static void test_rest_credentials_follow_coturn(void **state)
{
    (void)state;
    char user[64], pass[64];
    assert_int_equal(rp_turn_rest_credentials((const uint8_t *)"secret", 6, 1700000000, "agent", user, sizeof user,
                                              pass, sizeof pass), 0);
    assert_string_equal(user, "1700000000:agent");
    assert_string_equal(pass, "tD41Q5c+9WWrTdm+3ERWRLfDzs4=");
    assert_int_equal(rp_turn_rest_credentials((const uint8_t *)"secret", 6, 1, "agent", user, 4, pass, sizeof pass), -1);
}

static void test_allocate_round_trips_with_integrity(void **state)
{
    (void)state;
    uint8_t key[RP_TURN_KEY_LEN], buf[512];
    assert_int_equal(rp_turn_key("u", "test", "p", key), 0);
    struct rp_turn_req req = { .type = RP_TURN_ALLOCATE, .txid = txid, .requested_udp = true,
                               .user = "u", .realm = "test", .nonce = "abc", .key = key };
    size_t n = rp_turn_build(buf, sizeof buf, &req);
    assert_true(n > 0 && n % 4 == 0);
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_OK);
    assert_int_equal(m.type, RP_TURN_ALLOCATE);
    assert_memory_equal(m.txid, txid, sizeof txid);
    assert_false(m.unknown_comprehension_required);
    assert_true(m.integrity_off > 0);
    assert_true(rp_turn_integrity_ok(buf, n, &m, key, sizeof key));
    /* Every shorter buffer is refused, never read past. */
    for (size_t cap = 0; cap < n; cap++)
        assert_int_equal(rp_turn_build(buf, cap, &req), 0);
}

static void test_peer_address_round_trips_v4_and_v6(void **state)
{
    (void)state;
    struct sockaddr_in6 v6 = { .sin6_family = AF_INET6, .sin6_port = htons(10002) };
    inet_pton(AF_INET6, "2001:db8::7", &v6.sin6_addr);
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = htons(10000) };
    inet_pton(AF_INET, "198.51.100.9", &v4.sin_addr);
    const struct sockaddr *peers[] = { (const struct sockaddr *)&v4, (const struct sockaddr *)&v6 };
    for (size_t i = 0; i < 2; i++) {
        uint8_t buf[256];
        struct rp_turn_req req = { .type = RP_TURN_CHANNEL_BIND, .txid = txid, .peer = peers[i], .channel = 0x4000 };
        size_t n = rp_turn_build(buf, sizeof buf, &req);
        struct rp_turn_msg m;
        assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_OK);
        assert_true(m.has_peer);
        assert_int_equal(m.peer.ss_family, peers[i]->sa_family);
        size_t len = peers[i]->sa_family == AF_INET ? sizeof v4 : sizeof v6;
        assert_memory_equal(&m.peer, peers[i], len);
    }
}

/* A server answer built by hand: type, attributes, FINGERPRINT. */
static size_t server_msg(uint8_t *buf, uint16_t type, const uint8_t *attrs, size_t alen)
{
    buf[0] = (uint8_t)(type >> 8);
    buf[1] = (uint8_t)type;
    size_t body = alen + 8;
    buf[2] = (uint8_t)(body >> 8);
    buf[3] = (uint8_t)body;
    buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
    memcpy(buf + 8, txid, sizeof txid);
    memcpy(buf + 20, attrs, alen);
    uint32_t fp = rp_stun_fingerprint(buf, 20 + alen);
    uint8_t fpa[8] = { 0x80, 0x28, 0, 4, (uint8_t)(fp >> 24), (uint8_t)(fp >> 16), (uint8_t)(fp >> 8), (uint8_t)fp };
    memcpy(buf + 20 + alen, fpa, 8);
    return 28 + alen;
}

static void test_401_gives_realm_nonce_and_code(void **state)
{
    (void)state;
    static const uint8_t attrs[] = {
        0x00, 0x09, 0x00, 0x10, 0, 0, 4, 1, 'U', 'n', 'a', 'u', 't', 'h', 0x1b, 'd', '!', '!', '!', '!',
        0x00, 0x14, 0x00, 0x04, 't', 'e', 's', 't',
        0x00, 0x15, 0x00, 0x03, 'n', '0', '1', 0,
        0x7f, 0xff, 0x00, 0x01, 9, 0, 0, 0,          /* unknown, comprehension-required: flagged */
        0xc0, 0x01, 0x00, 0x00,                      /* unknown optional, empty: skipped */
    };
    uint8_t buf[256];
    size_t n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_ERROR, attrs, sizeof attrs);
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_OK);
    assert_int_equal(m.error_code, 401);
    assert_string_equal(m.reason, "Unauth?d!!!!"); /* the escape byte is not passed on */
    assert_string_equal(m.realm, "test");
    assert_string_equal(m.nonce, "n01");
    assert_true(m.unknown_comprehension_required);
}

static void test_hostile_attributes_are_refused(void **state)
{
    (void)state;
    uint8_t buf[1024], attrs[600];
    struct rp_turn_msg m;
    /* A REALM longer than we keep. */
    memset(attrs, 'a', sizeof attrs);
    attrs[0] = 0x00, attrs[1] = 0x14, attrs[2] = 0x01, attrs[3] = 0x00;
    size_t n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_ERROR, attrs, 4 + 256);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
    /* ERROR-CODE with class 7, and one too short. */
    static const uint8_t badcls[] = { 0x00, 0x09, 0x00, 0x04, 0, 0, 7, 1 };
    n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_ERROR, badcls, sizeof badcls);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
    static const uint8_t shortec[] = { 0x00, 0x09, 0x00, 0x02, 0, 0, 0, 0 };
    n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_ERROR, shortec, sizeof shortec);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
    /* XOR-RELAYED-ADDRESS of the wrong size, LIFETIME of 2 bytes. */
    static const uint8_t badrel[] = { 0x00, 0x16, 0x00, 0x04, 0, 1, 0, 0 };
    n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_SUCCESS, badrel, sizeof badrel);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
    static const uint8_t badlife[] = { 0x00, 0x0d, 0x00, 0x02, 0, 1, 0, 0 };
    n = server_msg(buf, RP_TURN_REFRESH | RP_TURN_SUCCESS, badlife, sizeof badlife);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
    /* MESSAGE-INTEGRITY of the wrong size. */
    static const uint8_t badmi[] = { 0x00, 0x08, 0x00, 0x04, 0, 0, 0, 0 };
    n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_SUCCESS, badmi, sizeof badmi);
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_EATTR);
}

/* Attributes after MESSAGE-INTEGRITY are not taken (RFC 8489 §14.5): a relay
 * address appended by someone without the key must not be used. */
static void test_attributes_after_integrity_are_ignored(void **state)
{
    (void)state;
    static const uint8_t attrs[] = {
        0x00, 0x08, 0x00, 0x14, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
        0x00, 0x16, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    };
    uint8_t buf[256];
    size_t n = server_msg(buf, RP_TURN_ALLOCATE | RP_TURN_SUCCESS, attrs, sizeof attrs);
    struct rp_turn_msg m;
    assert_int_equal(rp_turn_parse(buf, n, &m), RP_STUN_OK);
    assert_int_equal(m.integrity_off, 20);
    assert_false(m.has_relayed);
}

static void test_channel_data_wraps_and_parses(void **state)
{
    (void)state;
    uint8_t out[64];
    const uint8_t data[5] = { 0x80, 1, 2, 3, 4 };
    size_t n = rp_turn_channel_wrap(out, sizeof out, 0x4000, data, sizeof data, true);
    assert_int_equal(n, 12);
    assert_int_equal(out[0], 0x40);
    assert_int_equal(out[3], 5);
    assert_int_equal(rp_turn_frame_len(out, n), 12);
    uint16_t ch;
    const uint8_t *d;
    size_t dlen;
    assert_int_equal(rp_turn_channel_parse(out, n, &ch, &d, &dlen), 0);
    assert_int_equal(ch, 0x4000);
    assert_int_equal(dlen, 5);
    assert_memory_equal(d, data, 5);
    /* Unpadded (UDP) parses too; shorter than the length, or bytes beyond the padding, do not. */
    assert_int_equal(rp_turn_channel_wrap(out, sizeof out, 0x4000, data, sizeof data, false), 9);
    assert_int_equal(rp_turn_channel_parse(out, 9, &ch, &d, &dlen), 0);
    assert_int_equal(rp_turn_channel_parse(out, 8, &ch, &d, &dlen), -1);
    assert_int_equal(rp_turn_channel_parse(out, 13, &ch, &d, &dlen), -1);
    assert_int_equal(rp_turn_channel_parse(out, 3, &ch, &d, &dlen), -1);
    /* Channel numbers outside 0x4000..0x7FFE are not ChannelData. */
    out[0] = 0x7f, out[1] = 0xff;
    assert_int_equal(rp_turn_channel_parse(out, 9, &ch, &d, &dlen), -1);
    assert_int_equal(rp_turn_frame_len(out, 9), -1);
    assert_int_equal(rp_turn_channel_wrap(out, 8, 0x4000, data, sizeof data, true), 0);
}

static void test_frame_len_on_streams(void **state)
{
    (void)state;
    assert_int_equal(rp_turn_frame_len(rfc5769_request, 3), 0);
    assert_int_equal(rp_turn_frame_len(rfc5769_request, 4), sizeof rfc5769_request);
    static const uint8_t rtp[4] = { 0x80, 0, 0, 0 }, odd[4] = { 0, 1, 0, 5 };
    assert_int_equal(rp_turn_frame_len(rtp, 4), -1);  /* not TURN framing: the stream is broken */
    assert_int_equal(rp_turn_frame_len(odd, 4), -1);  /* STUN length not a multiple of 4 */
}

static void test_uri_forms(void **state)
{
    (void)state;
    struct rp_turn_uri u;
    char err[160];
    assert_int_equal(rp_turn_uri_parse("turn:relay.example", &u, err, sizeof err), 0);
    assert_int_equal(u.transport, RP_TURN_UDP);
    assert_int_equal(u.port, 3478);
    assert_string_equal(u.host, "relay.example");
    assert_int_equal(rp_turn_uri_parse("turn:10.0.0.1:3479?transport=tcp", &u, err, sizeof err), 0);
    assert_int_equal(u.transport, RP_TURN_TCP);
    assert_int_equal(u.port, 3479);
    assert_int_equal(rp_turn_uri_parse("turns:[2001:db8::1]", &u, err, sizeof err), 0);
    assert_int_equal(u.transport, RP_TURN_TLS);
    assert_int_equal(u.port, 5349);
    assert_string_equal(u.host, "2001:db8::1");
    assert_int_equal(rp_turn_uri_parse("turn:h?transport=udp", &u, err, sizeof err), 0);
    assert_int_equal(rp_turn_uri_parse("stun:h", &u, err, sizeof err), -1);
    assert_int_equal(rp_turn_uri_parse("turn:h:0", &u, err, sizeof err), -1);
    assert_int_equal(rp_turn_uri_parse("turn:h:70000", &u, err, sizeof err), -1);
    assert_int_equal(rp_turn_uri_parse("turn:", &u, err, sizeof err), -1);
    assert_int_equal(rp_turn_uri_parse("turns:h?transport=udp", &u, err, sizeof err), -1);
    assert_int_equal(rp_turn_uri_parse("turn:[::1", &u, err, sizeof err), -1);
}

static void test_random_buffers_never_crash(void **state)
{
    (void)state;
    srand(16);
    uint8_t buf[256];
    struct rp_turn_msg m;
    for (int i = 0; i < 20000; i++) {
        size_t n = (size_t)rand() % sizeof buf;
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)rand();
        if (n >= 8) { /* make some look like STUN so the walk runs */
            buf[0] &= 0x01, buf[2] = 0, buf[3] = (uint8_t)((n - 20) & 0xFC);
            buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
        }
        if (rp_turn_parse(buf, n, &m) == RP_STUN_OK)
            (void)rp_turn_integrity_ok(buf, n, &m, (const uint8_t *)"k", 1);
        uint16_t ch;
        const uint8_t *d;
        size_t dl;
        (void)rp_turn_channel_parse(buf, n, &ch, &d, &dl);
        (void)rp_turn_frame_len(buf, n);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5769_request_integrity_is_verified),
        cmocka_unit_test(test_rfc5769_response_integrity_and_mapped),
        cmocka_unit_test(test_altered_message_fails_integrity),
        cmocka_unit_test(test_long_term_key_is_md5_of_user_realm_pass),
        cmocka_unit_test(test_rest_credentials_follow_coturn),
        cmocka_unit_test(test_allocate_round_trips_with_integrity),
        cmocka_unit_test(test_peer_address_round_trips_v4_and_v6),
        cmocka_unit_test(test_401_gives_realm_nonce_and_code),
        cmocka_unit_test(test_hostile_attributes_are_refused),
        cmocka_unit_test(test_attributes_after_integrity_are_ignored),
        cmocka_unit_test(test_channel_data_wraps_and_parses),
        cmocka_unit_test(test_frame_len_on_streams),
        cmocka_unit_test(test_uri_forms),
        cmocka_unit_test(test_random_buffers_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
