/* Unit tests for src/ice.c (and the MESSAGE-INTEGRITY code it shares with TURN in
 * src/stun.c). The RFC 5769 §2.1-§2.3 messages are the RFC's bytes; the expected
 * answers were computed independently with Python's hmac/hashlib/zlib (key: the
 * password "VOkJxbRl1RmTxUk/WvJxBt" itself, RFC 8489 §9.1.1). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "ice.h"
#include "stun.h"
#include "wire.h"

#define PWD "VOkJxbRl1RmTxUk/WvJxBt"

/* RFC 5769 §2.1 sample request: USERNAME "evtj:h6vY", ICE-CONTROLLED. */
static const uint8_t rfc5769_request[] = {
    0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x10,             /* SOFTWARE "STUN test client" */
    0x53, 0x54, 0x55, 0x4e, 0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74,
    0x00, 0x24, 0x00, 0x04, 0x6e, 0x00, 0x01, 0xff,                          /* PRIORITY */
    0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1, 0x51, 0x26, 0x3b, 0x36,  /* ICE-CONTROLLED */
    0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68, 0x36, 0x76, 0x59, 0x20, 0x20, 0x20,
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY at 76 */
    0x9a, 0xea, 0xa7, 0x0c, 0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e,
    0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5, 0x71, 0xa2,
    0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,                          /* FINGERPRINT */
};
#define REQ_MI_OFF 76
#define REQ_CONTROLLED_OFF 48

/* RFC 5769 §2.2: 192.0.2.1 port 32853. */
static const uint8_t rfc5769_response_v4[] = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY at 48 */
    0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74,
    0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7,
    0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};
#define V4_MI_OFF 48

/* RFC 5769 §2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853. */
static const uint8_t rfc5769_response_v6[] = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae,
    0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20,
    0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47,
    0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14,             /* MESSAGE-INTEGRITY at 60 */
    0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84,
    0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
    0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};
#define V6_MI_OFF 60

/* Our answers to the RFC 5769 transaction from the RFC's addresses (Python). */
static const uint8_t expected_answer_v4[] = {
    0x01, 0x01, 0x00, 0x2c, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x00, 0x20, 0x00, 0x08,
    0x00, 0x01, 0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43,
    0x00, 0x08, 0x00, 0x14, 0x74, 0xc9, 0x37, 0x1e,
    0xbf, 0x31, 0x48, 0x54, 0x85, 0x18, 0x69, 0x9c,
    0x3e, 0x31, 0x74, 0xc2, 0x0d, 0xd9, 0xe6, 0x8a,
    0x80, 0x28, 0x00, 0x04, 0xfa, 0xe4, 0x04, 0x3a,
};
static const uint8_t expected_answer_v6[] = {
    0x01, 0x01, 0x00, 0x38, 0x21, 0x12, 0xa4, 0x42,
    0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6, 0x86,
    0xfa, 0x87, 0xdf, 0xae, 0x00, 0x20, 0x00, 0x14,
    0x00, 0x02, 0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa,
    0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
    0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14,
    0xee, 0x33, 0xa0, 0x55, 0x53, 0x19, 0xee, 0xc1,
    0x0a, 0xd5, 0xfb, 0xfd, 0xf8, 0x73, 0x3d, 0x19,
    0x6e, 0x55, 0x2b, 0x3c, 0x80, 0x28, 0x00, 0x04,
    0x5d, 0xed, 0x71, 0x86,
};

static const uint8_t txid_a[RP_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };

/* The RFC's request as we are its answerer: local "evtj", remote "h6vY". */
static const struct rp_ice_creds rfc_creds = { "evtj", PWD, "h6vY" };
/* A browser's check to us: USERNAME "ours:theirs" keyed with our password. */
static const struct rp_ice_creds creds = { "LOCALufrag", "local-password-0123456789", "rEm0" };

static struct sockaddr_storage v4_from, v6_from;

static int setup(void **state)
{
    (void)state;
    struct sockaddr_in *sin = (struct sockaddr_in *)&v4_from;
    sin->sin_family = AF_INET;
    sin->sin_port = htons(32853);
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&v6_from;
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(32853);
    inet_pton(AF_INET6, "2001:db8:1234:5678:11:2233:4455:6677", &sin6->sin6_addr);
    return 0;
}

#define V4 ((const struct sockaddr *)&v4_from)
#define V6 ((const struct sockaddr *)&v6_from)

static enum rp_ice_verdict answer(const struct rp_ice_creds *c, const uint8_t *req, size_t len,
                                  const struct sockaddr *from, uint8_t *resp, size_t *rlen)
{
    struct rp_ice_check chk;
    *rlen = 0;
    return rp_ice_answer(c, req, len, from, resp, 512, rlen, &chk);
}

/* The RFC request with ICE-CONTROLLED turned into ICE-CONTROLLING (as a browser
 * offering to a lite agent sends), MI and FINGERPRINT recomputed. */
static size_t rfc_request_controlling(uint8_t *buf, size_t cap)
{
    memcpy(buf, rfc5769_request, sizeof rfc5769_request);
    rp_put16(buf + REQ_CONTROLLED_OFF, 0x802A);
    return rp_stun_finish(buf, cap, REQ_MI_OFF, (const uint8_t *)PWD, strlen(PWD));
}

static void test_mi_and_fingerprint_reproduce_rfc5769_request_bytes(void **state)
{
    (void)state;
    uint8_t mac[RP_STUN_INTEGRITY_LEN];
    assert_int_equal(rp_stun_integrity(rfc5769_request, REQ_MI_OFF, (const uint8_t *)PWD, strlen(PWD), mac), 0);
    assert_memory_equal(mac, rfc5769_request + REQ_MI_OFF + 4, sizeof mac);
    assert_true(rp_stun_integrity_ok(rfc5769_request, sizeof rfc5769_request, REQ_MI_OFF, (const uint8_t *)PWD,
                                     strlen(PWD)));
    /* Rebuilt from the bytes before MESSAGE-INTEGRITY: the whole vector, byte for byte. */
    uint8_t buf[256];
    memcpy(buf, rfc5769_request, REQ_MI_OFF);
    assert_int_equal(rp_stun_finish(buf, sizeof buf, REQ_MI_OFF, (const uint8_t *)PWD, strlen(PWD)),
                     sizeof rfc5769_request);
    assert_memory_equal(buf, rfc5769_request, sizeof rfc5769_request);
}

static void rebuild_and_compare(const uint8_t *vec, size_t len, size_t mi_off)
{
    uint8_t buf[256];
    memset(buf, 0xEE, sizeof buf);
    memcpy(buf, vec, mi_off);
    assert_int_equal(rp_stun_finish(buf, sizeof buf, mi_off, (const uint8_t *)PWD, strlen(PWD)), len);
    assert_memory_equal(buf, vec, len);
    assert_true(rp_stun_integrity_ok(vec, len, mi_off, (const uint8_t *)PWD, strlen(PWD)));
}

static void test_mi_and_fingerprint_reproduce_rfc5769_ipv4_response(void **state)
{
    (void)state;
    rebuild_and_compare(rfc5769_response_v4, sizeof rfc5769_response_v4, V4_MI_OFF);
}

static void test_mi_and_fingerprint_reproduce_rfc5769_ipv6_response(void **state)
{
    (void)state;
    rebuild_and_compare(rfc5769_response_v6, sizeof rfc5769_response_v6, V6_MI_OFF);
}

static void test_rfc5769_request_is_authenticated_then_dropped_for_its_role(void **state)
{
    (void)state;
    uint8_t resp[512];
    size_t n;
    /* ICE-CONTROLLED: the RFC's client is controlled, and so are we (lite). */
    assert_int_equal(answer(&rfc_creds, rfc5769_request, sizeof rfc5769_request, V4, resp, &n), RP_ICE_DROP_ROLE);
    assert_int_equal(n, 0);
    /* The role verdict comes only after the MAC verified: a wrong password says so first. */
    struct rp_ice_creds wrong = { "evtj", "VOkJxbRl1RmTxUk/WvJxBT", "h6vY" };
    assert_int_equal(answer(&wrong, rfc5769_request, sizeof rfc5769_request, V4, resp, &n),
                     RP_ICE_DROP_BAD_INTEGRITY);
}

static void test_answer_to_rfc5769_transaction_matches_reference_ipv4(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t len = rfc_request_controlling(req, sizeof req), n;
    assert_int_equal(len, sizeof rfc5769_request);
    struct rp_ice_check chk = { true, 1 };
    assert_int_equal(rp_ice_answer(&rfc_creds, req, len, V4, resp, sizeof resp, &n, &chk), RP_ICE_ANSWERED);
    assert_int_equal(n, sizeof expected_answer_v4);
    assert_memory_equal(resp, expected_answer_v4, n);
    assert_false(chk.use_candidate);
    assert_int_equal(chk.priority, 0x6e0001ffu);
}

static void test_answer_to_rfc5769_transaction_matches_reference_ipv6(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t len = rfc_request_controlling(req, sizeof req), n;
    assert_int_equal(answer(&rfc_creds, req, len, V6, resp, &n), RP_ICE_ANSWERED);
    assert_int_equal(n, sizeof expected_answer_v6);
    assert_memory_equal(resp, expected_answer_v6, n);
    /* And it parses as a Binding success carrying the source address. */
    struct rp_stun_msg m;
    assert_int_equal(rp_stun_parse(resp, n, &m), RP_STUN_OK);
    assert_int_equal(m.type, RP_STUN_BINDING_SUCCESS);
    assert_true(m.has_fingerprint);
    assert_memory_equal(&((struct sockaddr_in6 *)&m.mapped)->sin6_addr,
                        &((struct sockaddr_in6 *)&v6_from)->sin6_addr, 16);
}

static void test_built_check_is_answered_and_answer_verifies(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    for (int uc = 0; uc <= 1; uc++) {
        size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, uc);
        assert_true(len > 0);
        struct rp_stun_msg m;
        assert_int_equal(rp_stun_parse(req, len, &m), RP_STUN_OK);
        assert_true(m.has_fingerprint);
        assert_int_equal(m.type, RP_STUN_BINDING_REQUEST);
        for (int fam = 0; fam < 2; fam++) {
            struct rp_ice_check chk;
            size_t n = 0;
            assert_int_equal(rp_ice_answer(&creds, req, len, fam ? V6 : V4, resp, sizeof resp, &n, &chk),
                             RP_ICE_ANSWERED);
            assert_true(n > 0 && n <= len);
            assert_int_equal(chk.use_candidate, uc);
            assert_int_equal(chk.priority, (110u << 24) | (65535u << 8) | 255u);
            assert_int_equal(rp_stun_parse(resp, n, &m), RP_STUN_OK);
            assert_int_equal(m.type, RP_STUN_BINDING_SUCCESS);
            assert_memory_equal(m.txid, txid_a, sizeof txid_a);
            assert_true(m.has_mapped && m.has_fingerprint);
            /* MESSAGE-INTEGRITY right after XOR-MAPPED-ADDRESS, keyed with our password. */
            size_t mi_off = fam ? 20 + 24 : 20 + 12;
            assert_true(rp_stun_integrity_ok(resp, n, mi_off, (const uint8_t *)creds.local_pwd,
                                             strlen(creds.local_pwd)));
            assert_false(rp_stun_integrity_ok(resp, n, mi_off, (const uint8_t *)"another-password-0123",
                                              strlen("another-password-0123")));
        }
    }
}

static void test_every_truncation_is_malformed(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, true), n;
    for (size_t cut = 0; cut < len; cut++)
        assert_int_equal(answer(&creds, req, cut, V4, resp, &n), RP_ICE_DROP_MALFORMED);
}

static void test_bad_or_misplaced_fingerprint_is_malformed(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, true), n;
    req[len - 1] ^= 1;
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_MALFORMED);
    req[len - 1] ^= 1;
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_ANSWERED);
    /* A SOFTWARE after FINGERPRINT: FINGERPRINT no longer last. */
    uint8_t *p = req + len;
    rp_put16(p, 0x8022);
    rp_put16(p + 2, 4);
    memcpy(p + 4, "abcd", 4);
    rp_put16(req + 2, (uint16_t)(len + 8 - 20));
    assert_int_equal(answer(&creds, req, len + 8, V4, resp, &n), RP_ICE_DROP_MALFORMED);
}

static void test_unknown_comprehension_required_attribute_is_malformed(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, false), n;
    /* PRIORITY (at 20 + 4 + 16 = 40) retyped to 0x0024 -> 0x7777, re-signed. */
    size_t mi_off = len - 8 - 24;
    assert_int_equal(rp_get16(req + 40), 0x0024);
    rp_put16(req + 40, 0x7777);
    assert_int_equal(rp_stun_finish(req, sizeof req, mi_off, (const uint8_t *)creds.local_pwd,
                                    strlen(creds.local_pwd)), len);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_MALFORMED);
    /* Comprehension-optional (0xC057, Chrome's GOOG-NETWORK-INFO): ignored. */
    rp_put16(req + 40, 0xC057);
    rp_stun_finish(req, sizeof req, mi_off, (const uint8_t *)creds.local_pwd, strlen(creds.local_pwd));
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_ANSWERED);
}

static void test_responses_and_indications_are_not_requests(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t n;
    static const uint16_t types[] = { 0x0101, 0x0111, 0x0011, 0x0003 };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, false);
        rp_put16(req, types[i]);
        rp_stun_finish(req, sizeof req, len - 32, (const uint8_t *)creds.local_pwd, strlen(creds.local_pwd));
        assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_NOT_REQUEST);
    }
}

/* A request with only the given USERNAME (NULL: none), then MI (if pwd) and FINGERPRINT. */
static size_t bare_request(uint8_t *buf, size_t cap, const char *user, const char *pwd)
{
    rp_put16(buf, RP_STUN_BINDING_REQUEST);
    rp_put16(buf + 2, 0);
    rp_put32(buf + 4, RP_STUN_MAGIC);
    memcpy(buf + 8, txid_a, 12);
    size_t off = 20;
    if (user) {
        size_t ul = strlen(user), padded = (ul + 3) & ~(size_t)3;
        rp_put16(buf + off, 0x0006);
        rp_put16(buf + off + 2, (uint16_t)ul);
        memset(buf + off + 4, 0, padded);
        memcpy(buf + off + 4, user, ul);
        off += 4 + padded;
    }
    return rp_stun_finish(buf, cap, off, (const uint8_t *)pwd, pwd ? strlen(pwd) : 0);
}

static void test_missing_username_or_integrity_is_no_integrity(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t n, len;
    len = bare_request(req, sizeof req, NULL, creds.local_pwd);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_NO_INTEGRITY);
    len = bare_request(req, sizeof req, "LOCALufrag:rEm0", NULL);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_NO_INTEGRITY);
    len = bare_request(req, sizeof req, "LOCALufrag:rEm0", creds.local_pwd);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_ANSWERED);
}

static void test_username_must_be_ours_colon_theirs_exactly(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "rEm0:LOCALufrag",   /* the other way round */
        "LOCALufrag:rEm",    /* their ufrag cut */
        "LOCALufrag:rEm00",  /* or longer */
        "LOCALufra:rEm0",
        "LOCALufragg:rEm0",
        "localufrag:rEm0",   /* ufrags are case-sensitive */
        "LOCALufrag",
        "LOCALufrag:",
        "LOCALufragXrEm0",
        ":rEm0",
    };
    uint8_t req[256], resp[512];
    size_t n;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t len = rp_ice_build_check(req, sizeof req, txid_a, bad[i], creds.local_pwd, true);
        assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_BAD_USERNAME);
    }
    /* A NUL inside USERNAME ("LOCALufrag:rEm0\0"): the length counts, not a C string. */
    size_t len = bare_request(req, sizeof req, "LOCALufrag:rEm0 ", creds.local_pwd);
    req[20 + 4 + 15] = 0;
    rp_stun_finish(req, sizeof req, len - 32, (const uint8_t *)creds.local_pwd, strlen(creds.local_pwd));
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_BAD_USERNAME);
}

static void test_wrong_password_or_altered_body_is_bad_integrity(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t n;
    size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", "their-password-01234567", true);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_BAD_INTEGRITY);
    /* Every value byte covered by MI but judged by nothing else, altered, with
     * FINGERPRINT fixed up so that only MI can tell: the txid, USERNAME's
     * padding, PRIORITY's and ICE-CONTROLLING's values (layout: USERNAME 20..40,
     * PRIORITY 40..48, ICE-CONTROLLING 48..60, USE-CANDIDATE 60..64, MI 64..88). */
    len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, true);
    assert_int_equal(len, 96);
    static const size_t ranges[][2] = { { 8, 20 }, { 39, 40 }, { 44, 48 }, { 52, 60 }, { 68, 88 } };
    for (size_t r = 0; r < sizeof ranges / sizeof ranges[0]; r++) {
        for (size_t i = ranges[r][0]; i < ranges[r][1]; i++) {
            uint8_t save = req[i];
            req[i] ^= 0x40;
            rp_put32(req + len - 4, rp_stun_fingerprint(req, len - 8));
            assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_BAD_INTEGRITY);
            req[i] = save;
        }
    }
    rp_put32(req + len - 4, rp_stun_fingerprint(req, len - 8));
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_ANSWERED);
}

static void test_ice_controlled_is_dropped_for_role(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t n;
    size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, false);
    /* ICE-CONTROLLING at 48 (after USERNAME 16 and PRIORITY 8) turned into ICE-CONTROLLED. */
    assert_int_equal(rp_get16(req + 48), 0x802A);
    rp_put16(req + 48, 0x8029);
    rp_stun_finish(req, sizeof req, len - 32, (const uint8_t *)creds.local_pwd, strlen(creds.local_pwd));
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_DROP_ROLE);
    assert_int_equal(n, 0);
}

static void test_answer_never_larger_than_request(void **state)
{
    (void)state;
    uint8_t req[256], resp[512];
    size_t n;
    /* USERNAME + MI + FINGERPRINT only: 20 + 20 + 24 + 8 = 72 bytes; the IPv4 answer is 64, the IPv6 one 76. */
    size_t len = bare_request(req, sizeof req, "LOCALufrag:rEm0", creds.local_pwd);
    assert_int_equal(len, 72);
    assert_int_equal(answer(&creds, req, len, V4, resp, &n), RP_ICE_ANSWERED);
    assert_int_equal(n, 64);
    assert_int_equal(answer(&creds, req, len, V6, resp, &n), RP_ICE_DROP_TOO_SMALL);
    assert_int_equal(n, 0);
    /* And a cap too small for the answer. */
    struct rp_ice_check chk;
    assert_int_equal(rp_ice_answer(&creds, req, len, V4, resp, 63, &n, &chk), RP_ICE_DROP_TOO_SMALL);
    /* An address family without XOR-MAPPED-ADDRESS form. */
    struct sockaddr unix_from = { .sa_family = AF_UNIX };
    assert_int_equal(rp_ice_answer(&creds, req, len, &unix_from, resp, sizeof resp, &n, &chk),
                     RP_ICE_DROP_TOO_SMALL);
    /* Random requests, and every usernames' length: never an answer larger than the request. */
    char user[80] = "LOCALufrag:";
    for (size_t extra = 0; extra < 40; extra++) {
        len = bare_request(req, sizeof req, user, creds.local_pwd);
        for (int fam = 0; fam < 2; fam++) {
            n = 0;
            enum rp_ice_verdict v = answer(&creds, req, len, fam ? V6 : V4, resp, &n);
            assert_true(v != RP_ICE_ANSWERED || (n > 0 && n <= len));
        }
        user[11 + extra] = 'x';
    }
}

static void test_remote_ufrag_unknown_checks_only_ours(void **state)
{
    (void)state;
    struct rp_ice_creds c = { "LOCALufrag", "local-password-0123456789", NULL };
    uint8_t req[256], resp[512];
    size_t n, len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:anything", c.local_pwd, true);
    assert_int_equal(answer(&c, req, len, V4, resp, &n), RP_ICE_ANSWERED);
    len = rp_ice_build_check(req, sizeof req, txid_a, "OTHER:anything", c.local_pwd, true);
    assert_int_equal(answer(&c, req, len, V4, resp, &n), RP_ICE_DROP_BAD_USERNAME);
}

static void test_build_check_refuses_small_cap(void **state)
{
    (void)state;
    uint8_t req[256];
    size_t full = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, true);
    assert_int_equal(full, 20 + 20 + 8 + 12 + 4 + 24 + 8);
    for (size_t cap = 0; cap < full; cap++)
        assert_int_equal(rp_ice_build_check(req, cap, txid_a, "LOCALufrag:rEm0", creds.local_pwd, true), 0);
}

static void test_verdict_names(void **state)
{
    (void)state;
    static const char *const want[] = { "answered", "malformed", "not_request", "no_integrity",
                                        "bad_username", "bad_integrity", "role", "too_small" };
    for (int v = 0; v < RP_ICE_VERDICTS; v++)
        assert_string_equal(rp_ice_verdict_name((enum rp_ice_verdict)v), want[v]);
    assert_string_equal(rp_ice_verdict_name(RP_ICE_VERDICTS), "unknown");
}

static void test_random_buffers_never_crash_or_amplify(void **state)
{
    (void)state;
    uint8_t req[200], resp[512];
    srand(17);
    for (int i = 0; i < 20000; i++) {
        size_t len = rp_ice_build_check(req, sizeof req, txid_a, "LOCALufrag:rEm0", creds.local_pwd, i & 1);
        req[(size_t)rand() % len] = (uint8_t)rand();
        if (i & 2)
            len = (size_t)rand() % (len + 1);
        size_t n = 0;
        enum rp_ice_verdict v = answer(&creds, req, len, (i & 4) ? V6 : V4, resp, &n);
        assert_true(v < RP_ICE_VERDICTS);
        assert_true(v != RP_ICE_ANSWERED || (n > 0 && n <= len));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mi_and_fingerprint_reproduce_rfc5769_request_bytes),
        cmocka_unit_test(test_mi_and_fingerprint_reproduce_rfc5769_ipv4_response),
        cmocka_unit_test(test_mi_and_fingerprint_reproduce_rfc5769_ipv6_response),
        cmocka_unit_test(test_rfc5769_request_is_authenticated_then_dropped_for_its_role),
        cmocka_unit_test(test_answer_to_rfc5769_transaction_matches_reference_ipv4),
        cmocka_unit_test(test_answer_to_rfc5769_transaction_matches_reference_ipv6),
        cmocka_unit_test(test_built_check_is_answered_and_answer_verifies),
        cmocka_unit_test(test_every_truncation_is_malformed),
        cmocka_unit_test(test_bad_or_misplaced_fingerprint_is_malformed),
        cmocka_unit_test(test_unknown_comprehension_required_attribute_is_malformed),
        cmocka_unit_test(test_responses_and_indications_are_not_requests),
        cmocka_unit_test(test_missing_username_or_integrity_is_no_integrity),
        cmocka_unit_test(test_username_must_be_ours_colon_theirs_exactly),
        cmocka_unit_test(test_wrong_password_or_altered_body_is_bad_integrity),
        cmocka_unit_test(test_ice_controlled_is_dropped_for_role),
        cmocka_unit_test(test_answer_never_larger_than_request),
        cmocka_unit_test(test_remote_ufrag_unknown_checks_only_ours),
        cmocka_unit_test(test_build_check_refuses_small_cap),
        cmocka_unit_test(test_verdict_names),
        cmocka_unit_test(test_random_buffers_never_crash_or_amplify),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
