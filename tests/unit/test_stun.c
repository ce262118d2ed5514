/* Unit tests for src/stun.c. The three messages below are RFC 5769 §2.1-§2.3 byte for
 * byte; their FINGERPRINT (zlib crc32) and MESSAGE-INTEGRITY (HMAC-SHA1, password
 * "VOkJxbRl1RmTxUk/WvJxBt") were re-checked with Python's zlib/hmac when typed in.
 * Expected builder output was computed independently with Python zlib.crc32; the
 * XOR-MAPPED-ADDRESS values in it are the RFC 5769 ones. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "stun.h"

/* RFC 5769 §2.1 sample request (short-term credentials). */
static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58,             /* Binding request, length 88 */
    0x21, 0x12, 0xa4, 0x42,             /* magic cookie */
    0xb7, 0xe7, 0xa7, 0x01,             /* transaction id */
    0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x10,             /* SOFTWARE, 16 bytes */
    0x53, 0x54, 0x55, 0x4e,             /* "STUN test client" */
    0x20, 0x74, 0x65, 0x73,
    0x74, 0x20, 0x63, 0x6c,
    0x69, 0x65, 0x6e, 0x74,
    0x00, 0x24, 0x00, 0x04,             /* PRIORITY */
    0x6e, 0x00, 0x01, 0xff,
    0x80, 0x29, 0x00, 0x08,             /* ICE-CONTROLLED */
    0x93, 0x2f, 0xf9, 0xb1,
    0x51, 0x26, 0x3b, 0x36,
    0x00, 0x06, 0x00, 0x09,             /* USERNAME "evtj:h6vY" */
    0x65, 0x76, 0x74, 0x6a,
    0x3a, 0x68, 0x36, 0x76,
    0x59, 0x20, 0x20, 0x20,             /* three bytes of padding */
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY */
    0x9a, 0xea, 0xa7, 0x0c,
    0xbf, 0xd8, 0xcb, 0x56,
    0x78, 0x1e, 0xf2, 0xb5,
    0xb2, 0xd3, 0xf2, 0x49,
    0xc1, 0xb5, 0x71, 0xa2,
    0x80, 0x28, 0x00, 0x04,             /* FINGERPRINT */
    0xe5, 0x7a, 0x3b, 0xcf,
};
/* Where each attribute of rfc5769_request starts, and where the message ends. */
static const size_t rfc5769_request_bounds[] = { 20, 40, 48, 60, 76, 100, 108 };

/* RFC 5769 §2.2 sample IPv4 response: 192.0.2.1 port 32853. */
static const uint8_t rfc5769_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c,             /* Binding success, length 60 */
    0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b,             /* SOFTWARE "test vector", 11 bytes */
    0x74, 0x65, 0x73, 0x74,
    0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08,             /* XOR-MAPPED-ADDRESS */
    0x00, 0x01, 0xa1, 0x47,             /* IPv4, port 32853 ^ 0x2112 */
    0xe1, 0x12, 0xa6, 0x43,             /* 192.0.2.1 ^ cookie */
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY */
    0x2b, 0x91, 0xf5, 0x99,
    0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9,
    0x2a, 0xf9, 0xba, 0x53,
    0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04,             /* FINGERPRINT */
    0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 §2.3 sample IPv6 response: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc5769_response_v6[] = {
    0x01, 0x01, 0x00, 0x48,             /* Binding success, length 72 */
    0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01,
    0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b,             /* SOFTWARE "test vector" */
    0x74, 0x65, 0x73, 0x74,
    0x20, 0x76, 0x65, 0x63,
    0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14,             /* XOR-MAPPED-ADDRESS */
    0x00, 0x02, 0xa1, 0x47,             /* IPv6, port */
    0x01, 0x13, 0xa9, 0xfa,             /* address ^ (cookie || txid) */
    0xa5, 0xd3, 0xf1, 0x79,
    0xbc, 0x25, 0xf4, 0xb5,
    0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY */
    0xa3, 0x82, 0x95, 0x4e,
    0x4b, 0xe6, 0x7b, 0xf1,
    0x17, 0x84, 0xc9, 0x7c,
    0x82, 0x92, 0xc2, 0x75,
    0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04,             /* FINGERPRINT */
    0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc5769_txid[RP_STUN_TXID_LEN] = {
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
};
static const uint8_t txid_1_to_12[RP_STUN_TXID_LEN] = {
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
};

/* Expected rp_stun_build_request(txid_1_to_12, min_len <= 40); CRC by Python zlib. */
static const uint8_t expected_request_40[] = {
    0x00, 0x01, 0x00, 0x14, 0x21, 0x12, 0xa4, 0x42,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x80, 0x22, 0x00, 0x08, 'r', 't', 'p', 'p', 'r', 'o', 'b', 'e',
    0x80, 0x28, 0x00, 0x04, 0x8d, 0xf9, 0xeb, 0x90,
};

/* Same with min_len 52: SOFTWARE grows to 20 characters ("rtpprobe" and spaces),
 * comprehension-optional, so that servers without RFC 5780 PADDING still answer. */
static const uint8_t expected_request_52[] = {
    0x00, 0x01, 0x00, 0x20, 0x21, 0x12, 0xa4, 0x42,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c,
    0x80, 0x22, 0x00, 0x14, 'r', 't', 'p', 'p', 'r', 'o', 'b', 'e',
    ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' ',
    0x80, 0x28, 0x00, 0x04, 0x00, 0xe0, 0x6b, 0x83,
};

/* Expected responses to the RFC 5769 transaction for 192.0.2.1:32853 and the §2.3
 * IPv6 address: the RFC's XOR-MAPPED-ADDRESS, then FINGERPRINT (Python zlib). */
static const uint8_t expected_response_v4[] = {
    0x01, 0x01, 0x00, 0x14, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x80, 0x28, 0x00, 0x04, 0x7d, 0x28, 0x1f, 0x59,
};
static const uint8_t expected_response_v6[] = {
    0x01, 0x01, 0x00, 0x20, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
    0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79,
    0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x80, 0x28, 0x00, 0x04, 0x68, 0xd5, 0xc9, 0x50,
};

static const char rfc5769_v6_text[] = "2001:db8:1234:5678:11:2233:4455:6677";
#define RFC5769_PORT 32853

/* Copy into an exact-size heap block so that ASan sees any read past the end. */
static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    if (len > 0)
        memcpy(p, src, len);
    return p;
}

static enum rp_stun_err parse_exact(const uint8_t *src, size_t len, struct rp_stun_msg *out)
{
    uint8_t *copy = dup_exact(src, len);
    enum rp_stun_err err = rp_stun_parse(copy, len, out);
    free(copy);
    return err;
}

static void assert_mapped_v4(const struct rp_stun_msg *msg, const char *addr, uint16_t port)
{
    assert_true(msg->has_mapped);
    struct sockaddr_in sin;
    memcpy(&sin, &msg->mapped, sizeof(sin));
    assert_int_equal(sin.sin_family, AF_INET);
    assert_int_equal(ntohs(sin.sin_port), port);
    struct in_addr want;
    assert_int_equal(inet_pton(AF_INET, addr, &want), 1);
    assert_memory_equal(&sin.sin_addr, &want, sizeof(want));
}

static void assert_mapped_v6(const struct rp_stun_msg *msg, const char *addr, uint16_t port)
{
    assert_true(msg->has_mapped);
    struct sockaddr_in6 sin6;
    memcpy(&sin6, &msg->mapped, sizeof(sin6));
    assert_int_equal(sin6.sin6_family, AF_INET6);
    assert_int_equal(ntohs(sin6.sin6_port), port);
    struct in6_addr want;
    assert_int_equal(inet_pton(AF_INET6, addr, &want), 1);
    assert_memory_equal(&sin6.sin6_addr, &want, sizeof(want));
}

static struct sockaddr_in make_v4(const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    assert_int_equal(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    return sin;
}

static struct sockaddr_in6 make_v6(const char *addr, uint16_t port)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
    return sin6;
}

/* ---- RFC 5769 vectors ---- */

static void test_rfc5769_request_parses_and_fingerprint_verifies(void **state)
{
    (void)state;
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(rfc5769_request, sizeof(rfc5769_request), &msg), RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_REQUEST);
    assert_memory_equal(msg.txid, rfc5769_txid, RP_STUN_TXID_LEN);
    assert_int_equal(msg.length, 108);
    assert_true(msg.has_fingerprint);
    assert_false(msg.has_mapped);
    /* PRIORITY, USERNAME and MESSAGE-INTEGRITY are comprehension-required and not ours. */
    assert_true(msg.unknown_comprehension_required);
}

static void test_rfc5769_ipv4_response_decodes_xor_mapped_address(void **state)
{
    (void)state;
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(rfc5769_response_v4, sizeof(rfc5769_response_v4), &msg),
                     RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_SUCCESS);
    assert_memory_equal(msg.txid, rfc5769_txid, RP_STUN_TXID_LEN);
    assert_int_equal(msg.length, 80);
    assert_true(msg.has_fingerprint);
    assert_mapped_v4(&msg, "192.0.2.1", RFC5769_PORT);
}

static void test_rfc5769_ipv6_response_decodes_xor_mapped_address(void **state)
{
    (void)state;
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(rfc5769_response_v6, sizeof(rfc5769_response_v6), &msg),
                     RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_SUCCESS);
    assert_int_equal(msg.length, 92);
    assert_true(msg.has_fingerprint);
    assert_mapped_v6(&msg, rfc5769_v6_text, RFC5769_PORT);
}

static void test_corrupted_fingerprint_value_is_rejected(void **state)
{
    (void)state;
    uint8_t buf[sizeof(rfc5769_request)];
    struct rp_stun_msg msg;
    memcpy(buf, rfc5769_request, sizeof(buf));
    buf[sizeof(buf) - 1] ^= 0x01;
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_EFINGERPRINT);
}

static void test_corrupted_body_byte_fails_fingerprint(void **state)
{
    (void)state;
    const uint8_t *vectors[] = { rfc5769_request, rfc5769_response_v4, rfc5769_response_v6 };
    const size_t lens[] = { sizeof(rfc5769_request), sizeof(rfc5769_response_v4),
                            sizeof(rfc5769_response_v6) };
    for (size_t v = 0; v < 3; v++) {
        uint8_t buf[128];
        struct rp_stun_msg msg;
        memcpy(buf, vectors[v], lens[v]);
        buf[27] = 23;  /* inside SOFTWARE text: structure intact, CRC not */
        assert_int_equal(parse_exact(buf, lens[v], &msg), RP_STUN_EFINGERPRINT);
    }
}

static void test_every_truncation_of_rfc5769_vectors_is_rejected(void **state)
{
    (void)state;
    const uint8_t *vectors[] = { rfc5769_request, rfc5769_response_v4, rfc5769_response_v6 };
    const size_t lens[] = { sizeof(rfc5769_request), sizeof(rfc5769_response_v4),
                            sizeof(rfc5769_response_v6) };
    for (size_t v = 0; v < 3; v++) {
        for (size_t cut = 0; cut < lens[v]; cut++) {
            struct rp_stun_msg msg;
            enum rp_stun_err want = cut < RP_STUN_HDR_LEN ? RP_STUN_ETOOSHORT : RP_STUN_ELENGTH;
            assert_int_equal(parse_exact(vectors[v], cut, &msg), want);
        }
    }
}

/* Truncations with the header length rewritten to match, so the attribute walk
 * itself meets the cut: OK exactly at attribute boundaries, EATTR inside one. */
static void test_truncation_with_consistent_header_length_is_caught_by_attribute_walk(void **state)
{
    (void)state;
    for (size_t cut = RP_STUN_HDR_LEN; cut < sizeof(rfc5769_request); cut += 4) {
        uint8_t buf[sizeof(rfc5769_request)];
        memcpy(buf, rfc5769_request, cut);
        buf[2] = (uint8_t)((cut - RP_STUN_HDR_LEN) >> 8);
        buf[3] = (uint8_t)(cut - RP_STUN_HDR_LEN);
        bool at_boundary = false;
        for (size_t i = 0; i < sizeof(rfc5769_request_bounds) / sizeof(rfc5769_request_bounds[0]); i++)
            at_boundary |= rfc5769_request_bounds[i] == cut;
        struct rp_stun_msg msg;
        enum rp_stun_err err = parse_exact(buf, cut, &msg);
        assert_int_equal(err, at_boundary ? RP_STUN_OK : RP_STUN_EATTR);
        if (at_boundary)
            assert_false(msg.has_fingerprint);
    }
}

/* ---- framing errors ---- */

static void test_attribute_running_past_the_end_is_rejected(void **state)
{
    (void)state;
    uint8_t buf[sizeof(rfc5769_response_v4)];
    struct rp_stun_msg msg;
    memcpy(buf, rfc5769_response_v4, sizeof(buf));
    buf[22] = 0x00;
    buf[23] = 0xff;  /* SOFTWARE claims 255 bytes of a 60-byte body */
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_EATTR);

    /* A last attribute one padded word too long. */
    memcpy(buf, rfc5769_response_v4, sizeof(buf));
    buf[sizeof(buf) - 6] = 0x00;
    buf[sizeof(buf) - 5] = 0x05;  /* FINGERPRINT length 5 pads to 8, only 4 left */
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_EATTR);
}

static void test_trailing_bytes_after_message_are_rejected(void **state)
{
    (void)state;
    uint8_t buf[sizeof(rfc5769_response_v4) + 4];
    struct rp_stun_msg msg;
    memcpy(buf, rfc5769_response_v4, sizeof(rfc5769_response_v4));
    memset(buf + sizeof(rfc5769_response_v4), 0, 4);
    assert_int_equal(parse_exact(buf, sizeof(rfc5769_response_v4) + 1, &msg), RP_STUN_ELENGTH);
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_ELENGTH);
}

static void test_length_not_multiple_of_four_is_rejected(void **state)
{
    (void)state;
    static const uint8_t msg_bytes[] = {
        0x00, 0x01, 0x00, 0x02, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x00,
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(msg_bytes, sizeof(msg_bytes), &msg), RP_STUN_ELENGTH);
}

static void test_message_without_magic_cookie_is_not_stun(void **state)
{
    (void)state;
    /* RFC 3489 Binding request: the cookie position holds transaction id bytes. */
    static const uint8_t rfc3489_request[] = {
        0x00, 0x01, 0x00, 0x00, 0xde, 0xad, 0xbe, 0xef,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(rfc3489_request, sizeof(rfc3489_request), &msg),
                     RP_STUN_ENOTSTUN);
}

static void test_top_two_type_bits_set_is_not_stun(void **state)
{
    (void)state;
    uint8_t buf[sizeof(rfc5769_response_v4)];
    struct rp_stun_msg msg;
    memcpy(buf, rfc5769_response_v4, sizeof(buf));
    buf[0] |= 0x80;  /* what an RTP packet looks like */
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_ENOTSTUN);
    buf[0] = 0x41;
    assert_int_equal(parse_exact(buf, sizeof(buf), &msg), RP_STUN_ENOTSTUN);
}

static void test_header_only_message_parses(void **state)
{
    (void)state;
    static const uint8_t bare[] = {
        0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(bare, sizeof(bare), &msg), RP_STUN_OK);
    assert_int_equal(msg.type, RP_STUN_BINDING_REQUEST);
    assert_int_equal(msg.length, 20);
    assert_false(msg.has_fingerprint);
    assert_false(msg.has_mapped);
    assert_false(msg.unknown_comprehension_required);
}

/* ---- attribute semantics (hand-built, no FINGERPRINT: it is optional) ---- */

static void test_fingerprint_not_last_is_rejected(void **state)
{
    (void)state;
    static const uint8_t fp_first[] = {
        0x01, 0x01, 0x00, 0x10, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x80, 0x28, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00,  /* FINGERPRINT */
        0x80, 0x22, 0x00, 0x04, 'a', 'b', 'c', 'd',      /* SOFTWARE after it */
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(fp_first, sizeof(fp_first), &msg), RP_STUN_EFINGERPRINT);
}

static void test_mapped_address_is_used_when_no_xor_mapped_address(void **state)
{
    (void)state;
    static const uint8_t plain_only[] = {
        0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x01, 0x00, 0x08,                          /* MAPPED-ADDRESS */
        0x00, 0x01, 0x12, 0x34, 10, 0, 0, 1,             /* IPv4 10.0.0.1:4660, not XORed */
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(plain_only, sizeof(plain_only), &msg), RP_STUN_OK);
    assert_false(msg.unknown_comprehension_required);
    assert_mapped_v4(&msg, "10.0.0.1", 0x1234);
}

static void test_xor_mapped_address_wins_over_mapped_address(void **state)
{
    (void)state;
    /* MAPPED-ADDRESS first, then the RFC 5769 XOR-MAPPED-ADDRESS (cookie-only XOR). */
    static const uint8_t both[] = {
        0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42,
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        0x00, 0x01, 0x00, 0x08, 0x00, 0x01, 0x12, 0x34, 10, 0, 0, 1,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(both, sizeof(both), &msg), RP_STUN_OK);
    assert_mapped_v4(&msg, "192.0.2.1", RFC5769_PORT);
}

static void test_first_xor_mapped_address_wins(void **state)
{
    (void)state;
    /* 192.0.2.1:32853, then 0.0.0.0:8466 (all-zero value XORed with the cookie). */
    static const uint8_t two[] = {
        0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42,
        0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    struct rp_stun_msg msg;
    assert_int_equal(parse_exact(two, sizeof(two), &msg), RP_STUN_OK);
    assert_mapped_v4(&msg, "192.0.2.1", RFC5769_PORT);
}

static void test_address_attribute_with_wrong_value_length_is_rejected(void **state)
{
    (void)state;
    struct rp_stun_msg msg;
    /* IPv4 family but a 20-byte value. */
    static const uint8_t v4_len20[] = {
        0x01, 0x01, 0x00, 0x18, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x20, 0x00, 0x14, 0x00, 0x01, 0xa1, 0x47,
        0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    };
    assert_int_equal(parse_exact(v4_len20, sizeof(v4_len20), &msg), RP_STUN_EATTR);
    /* IPv6 family but an 8-byte value. */
    static const uint8_t v6_len8[] = {
        0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x02, 0xa1, 0x47, 0, 0, 0, 0,
    };
    assert_int_equal(parse_exact(v6_len8, sizeof(v6_len8), &msg), RP_STUN_EATTR);
    /* Too short to hold family and port. */
    static const uint8_t len2[] = {
        0x01, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x01, 0x00, 0x02, 0x00, 0x01, 0x00, 0x00,
    };
    assert_int_equal(parse_exact(len2, sizeof(len2), &msg), RP_STUN_EATTR);
    /* Unknown address family 3. */
    static const uint8_t family3[] = {
        0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x00, 0x20, 0x00, 0x08, 0x00, 0x03, 0xa1, 0x47, 0, 0, 0, 0,
    };
    assert_int_equal(parse_exact(family3, sizeof(family3), &msg), RP_STUN_EATTR);
}

static void test_unknown_attribute_sets_comprehension_flag_only_below_0x8000(void **state)
{
    (void)state;
    struct rp_stun_msg msg;
    static const uint8_t optional[] = {
        0x00, 0x01, 0x00, 0x08, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x80, 0x01, 0x00, 0x03, 'x', 'y', 'z', 0,        /* unknown, comprehension-optional */
    };
    assert_int_equal(parse_exact(optional, sizeof(optional), &msg), RP_STUN_OK);
    assert_false(msg.unknown_comprehension_required);
    static const uint8_t required[] = {
        0x00, 0x01, 0x00, 0x04, 0x21, 0x12, 0xa4, 0x42,
        1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
        0x7f, 0xff, 0x00, 0x00,                          /* unknown, comprehension-required */
    };
    assert_int_equal(parse_exact(required, sizeof(required), &msg), RP_STUN_OK);
    assert_true(msg.unknown_comprehension_required);
}

/* ---- builders ---- */

static void test_build_request_without_min_len_matches_reference_bytes(void **state)
{
    (void)state;
    uint8_t buf[128];
    assert_int_equal(rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, 0), 40);
    assert_memory_equal(buf, expected_request_40, sizeof(expected_request_40));
    assert_int_equal(rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, 40), 40);
    assert_memory_equal(buf, expected_request_40, sizeof(expected_request_40));
}

static void test_build_request_padded_to_52_matches_reference_bytes(void **state)
{
    (void)state;
    uint8_t buf[128];
    assert_int_equal(rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, 52), 52);
    assert_memory_equal(buf, expected_request_52, sizeof(expected_request_52));
}

static void test_build_request_reaches_min_len_and_parses(void **state)
{
    (void)state;
    static const struct { size_t min_len, want; } cases[] = {
        { 0, 40 }, { 40, 40 }, { 41, 44 }, { 44, 44 }, { 45, 48 }, { 52, 52 },
        { 53, 56 }, { 64, 64 }, { 548, 548 }, { 1200, 1200 },
    };
    uint8_t buf[1500];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, cases[i].min_len);
        assert_int_equal(n, cases[i].want);
        struct rp_stun_msg msg;
        assert_int_equal(parse_exact(buf, n, &msg), RP_STUN_OK);
        assert_int_equal(msg.type, RP_STUN_BINDING_REQUEST);
        assert_memory_equal(msg.txid, txid_1_to_12, RP_STUN_TXID_LEN);
        assert_int_equal(msg.length, n);
        assert_true(msg.has_fingerprint);
        assert_false(msg.has_mapped);
        /* PADDING is ours: a server must not answer 420 to it. */
        assert_false(msg.unknown_comprehension_required);
    }
}

static void test_build_request_large_enough_for_any_response(void **state)
{
    (void)state;
    uint8_t buf[128];
    size_t n = rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, rp_stun_response_len(AF_INET6));
    assert_true(n >= 52);
}

static void test_build_request_refuses_small_cap_or_huge_min_len(void **state)
{
    (void)state;
    uint8_t buf[64];
    assert_int_equal(rp_stun_build_request(buf, 39, txid_1_to_12, 0), 0);
    assert_int_equal(rp_stun_build_request(buf, 40, txid_1_to_12, 0), 40);
    assert_int_equal(rp_stun_build_request(buf, 63, txid_1_to_12, 64), 0);
    assert_int_equal(rp_stun_build_request(buf, 64, txid_1_to_12, 64), 64);
    /* The 16-bit length field cannot describe more than 20 + 65532 bytes. */
    assert_int_equal(rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, 70000), 0);
    assert_int_equal(rp_stun_build_request(buf, sizeof(buf), txid_1_to_12, SIZE_MAX), 0);
}

static void test_build_request_accepts_largest_describable_size(void **state)
{
    (void)state;
    size_t cap = 20 + 0xFFFC;
    uint8_t *buf = malloc(cap);
    assert_non_null(buf);
    assert_int_equal(rp_stun_build_request(buf, cap, txid_1_to_12, cap), cap);
    struct rp_stun_msg msg;
    assert_int_equal(rp_stun_parse(buf, cap, &msg), RP_STUN_OK);
    assert_true(msg.has_fingerprint);
    assert_int_equal(rp_stun_build_request(buf, cap, txid_1_to_12, cap + 1), 0);
    free(buf);
}

static void test_response_len_per_family(void **state)
{
    (void)state;
    assert_int_equal(rp_stun_response_len(AF_INET), 20 + 12 + 8);
    assert_int_equal(rp_stun_response_len(AF_INET6), 20 + 24 + 8);
    assert_int_equal(rp_stun_response_len(AF_UNIX), 0);
}

static void test_build_response_ipv4_matches_reference_bytes(void **state)
{
    (void)state;
    struct sockaddr_in sin = make_v4("192.0.2.1", RFC5769_PORT);
    uint8_t buf[128];
    size_t n = rp_stun_build_response(buf, sizeof(buf), rfc5769_txid, (const struct sockaddr *)&sin);
    assert_int_equal(n, sizeof(expected_response_v4));
    assert_memory_equal(buf, expected_response_v4, sizeof(expected_response_v4));
}

static void test_build_response_ipv6_matches_reference_bytes(void **state)
{
    (void)state;
    struct sockaddr_in6 sin6 = make_v6(rfc5769_v6_text, RFC5769_PORT);
    uint8_t buf[128];
    size_t n = rp_stun_build_response(buf, sizeof(buf), rfc5769_txid, (const struct sockaddr *)&sin6);
    assert_int_equal(n, sizeof(expected_response_v6));
    assert_memory_equal(buf, expected_response_v6, sizeof(expected_response_v6));
}

static void test_build_response_refuses_small_cap_and_unknown_family(void **state)
{
    (void)state;
    uint8_t buf[64];
    struct sockaddr_in sin = make_v4("192.0.2.1", 1);
    struct sockaddr_in6 sin6 = make_v6("::1", 1);
    assert_int_equal(rp_stun_build_response(buf, 39, rfc5769_txid, (const struct sockaddr *)&sin), 0);
    assert_int_equal(rp_stun_build_response(buf, 40, rfc5769_txid, (const struct sockaddr *)&sin), 40);
    assert_int_equal(rp_stun_build_response(buf, 51, rfc5769_txid, (const struct sockaddr *)&sin6), 0);
    assert_int_equal(rp_stun_build_response(buf, 52, rfc5769_txid, (const struct sockaddr *)&sin6), 52);
    struct sockaddr_storage other;
    memset(&other, 0, sizeof(other));
    other.ss_family = AF_UNIX;
    assert_int_equal(rp_stun_build_response(buf, sizeof(buf), rfc5769_txid, (const struct sockaddr *)&other), 0);
}

static void test_response_round_trip_keeps_address(void **state)
{
    (void)state;
    static const char *const v4s[] = { "0.0.0.0", "203.0.113.77", "255.255.255.255" };
    static const char *const v6s[] = { "::", "::ffff:198.51.100.9", "fe80::1", rfc5769_v6_text };
    static const uint16_t ports[] = { 0, 1, 8466, 65535 };
    uint8_t buf[64];
    for (size_t p = 0; p < 4; p++) {
        for (size_t i = 0; i < 3; i++) {
            struct sockaddr_in sin = make_v4(v4s[i], ports[p]);
            size_t n = rp_stun_build_response(buf, sizeof(buf), txid_1_to_12, (const struct sockaddr *)&sin);
            assert_int_equal(n, 40);
            struct rp_stun_msg msg;
            assert_int_equal(parse_exact(buf, n, &msg), RP_STUN_OK);
            assert_int_equal(msg.type, RP_STUN_BINDING_SUCCESS);
            assert_memory_equal(msg.txid, txid_1_to_12, RP_STUN_TXID_LEN);
            assert_true(msg.has_fingerprint);
            assert_false(msg.unknown_comprehension_required);
            assert_mapped_v4(&msg, v4s[i], ports[p]);
        }
        for (size_t i = 0; i < 4; i++) {
            struct sockaddr_in6 sin6 = make_v6(v6s[i], ports[p]);
            size_t n = rp_stun_build_response(buf, sizeof(buf), txid_1_to_12, (const struct sockaddr *)&sin6);
            assert_int_equal(n, 52);
            struct rp_stun_msg msg;
            assert_int_equal(parse_exact(buf, n, &msg), RP_STUN_OK);
            assert_true(msg.has_fingerprint);
            assert_mapped_v6(&msg, v6s[i], ports[p]);
        }
    }
}

/* ---- demux, labels, robustness ---- */

static void test_first_byte_demux_follows_rfc7983(void **state)
{
    (void)state;
    for (unsigned b = 0; b <= 3; b++) {
        uint8_t byte = (uint8_t)b;
        assert_true(rp_stun_first_byte_is_stun(&byte, 1));
    }
    static const uint8_t not_stun[] = { 0x04, 0x14, 0x40, 0x80, 0xbf, 0xff };
    for (size_t i = 0; i < sizeof(not_stun); i++)
        assert_false(rp_stun_first_byte_is_stun(&not_stun[i], 1));
    uint8_t zero = 0;
    assert_false(rp_stun_first_byte_is_stun(&zero, 0));
}

static void test_strerror_labels_are_snake_case(void **state)
{
    (void)state;
    assert_string_equal(rp_stun_strerror(RP_STUN_OK), "ok");
    assert_string_equal(rp_stun_strerror(RP_STUN_ETOOSHORT), "too_short");
    assert_string_equal(rp_stun_strerror(RP_STUN_ENOTSTUN), "not_stun");
    assert_string_equal(rp_stun_strerror(RP_STUN_ELENGTH), "bad_length");
    assert_string_equal(rp_stun_strerror(RP_STUN_EATTR), "bad_attribute");
    assert_string_equal(rp_stun_strerror(RP_STUN_EFINGERPRINT), "bad_fingerprint");
    assert_string_equal(rp_stun_strerror(RP_STUN_NERR), "unknown");
}

static uint32_t xorshift32(uint32_t *s)
{
    uint32_t x = *s;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Random bytes, half of them given a valid header (cookie, matching length) so that
 * the attribute walk sees garbage TLVs; each in an exact-size heap block for ASan. */
static void test_random_buffers_never_crash(void **state)
{
    (void)state;
    uint32_t seed = 0x5354554e;
    uint8_t scratch[256];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len = xorshift32(&seed) % sizeof(scratch);
        for (size_t i = 0; i < len; i++)
            scratch[i] = (uint8_t)xorshift32(&seed);
        if ((iter & 1) && len >= RP_STUN_HDR_LEN) {
            len &= ~(size_t)3;
            scratch[0] &= 0x3f;
            scratch[2] = (uint8_t)((len - RP_STUN_HDR_LEN) >> 8);
            scratch[3] = (uint8_t)(len - RP_STUN_HDR_LEN);
            scratch[4] = 0x21;
            scratch[5] = 0x12;
            scratch[6] = 0xa4;
            scratch[7] = 0x42;
            /* Keep some attribute lengths small so walks go beyond the first TLV. */
            for (size_t off = RP_STUN_HDR_LEN; off + 4 <= len; off += 8)
                if (xorshift32(&seed) & 1) {
                    scratch[off + 2] = 0;
                    scratch[off + 3] &= 0x0f;
                }
        }
        struct rp_stun_msg msg;
        enum rp_stun_err err = parse_exact(scratch, len, &msg);
        assert_true(err < RP_STUN_NERR);
        if (err == RP_STUN_OK)
            assert_int_equal(msg.length, len);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5769_request_parses_and_fingerprint_verifies),
        cmocka_unit_test(test_rfc5769_ipv4_response_decodes_xor_mapped_address),
        cmocka_unit_test(test_rfc5769_ipv6_response_decodes_xor_mapped_address),
        cmocka_unit_test(test_corrupted_fingerprint_value_is_rejected),
        cmocka_unit_test(test_corrupted_body_byte_fails_fingerprint),
        cmocka_unit_test(test_every_truncation_of_rfc5769_vectors_is_rejected),
        cmocka_unit_test(test_truncation_with_consistent_header_length_is_caught_by_attribute_walk),
        cmocka_unit_test(test_attribute_running_past_the_end_is_rejected),
        cmocka_unit_test(test_trailing_bytes_after_message_are_rejected),
        cmocka_unit_test(test_length_not_multiple_of_four_is_rejected),
        cmocka_unit_test(test_message_without_magic_cookie_is_not_stun),
        cmocka_unit_test(test_top_two_type_bits_set_is_not_stun),
        cmocka_unit_test(test_header_only_message_parses),
        cmocka_unit_test(test_fingerprint_not_last_is_rejected),
        cmocka_unit_test(test_mapped_address_is_used_when_no_xor_mapped_address),
        cmocka_unit_test(test_xor_mapped_address_wins_over_mapped_address),
        cmocka_unit_test(test_first_xor_mapped_address_wins),
        cmocka_unit_test(test_address_attribute_with_wrong_value_length_is_rejected),
        cmocka_unit_test(test_unknown_attribute_sets_comprehension_flag_only_below_0x8000),
        cmocka_unit_test(test_build_request_without_min_len_matches_reference_bytes),
        cmocka_unit_test(test_build_request_padded_to_52_matches_reference_bytes),
        cmocka_unit_test(test_build_request_reaches_min_len_and_parses),
        cmocka_unit_test(test_build_request_large_enough_for_any_response),
        cmocka_unit_test(test_build_request_refuses_small_cap_or_huge_min_len),
        cmocka_unit_test(test_build_request_accepts_largest_describable_size),
        cmocka_unit_test(test_response_len_per_family),
        cmocka_unit_test(test_build_response_ipv4_matches_reference_bytes),
        cmocka_unit_test(test_build_response_ipv6_matches_reference_bytes),
        cmocka_unit_test(test_build_response_refuses_small_cap_and_unknown_family),
        cmocka_unit_test(test_response_round_trip_keeps_address),
        cmocka_unit_test(test_first_byte_demux_follows_rfc7983),
        cmocka_unit_test(test_strerror_labels_are_snake_case),
        cmocka_unit_test(test_random_buffers_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
