/* Control request bodies (src/ctlreq.c). Expected values come from the API
 * contract (docs/control-api.md): defaults ptime 20 ms, duration 10 s, jitter
 * buffer 40 ms, G.711 at 64000 bit/s, Opus 32000 bit/s by default, plain RTP;
 * suite names from RFC 4568 §6.2.1 and RFC 7714 §14.2; key lengths (master key
 * + salt) 30, 30, 28, 44 bytes from RFC 3711 / RFC 7714. Every error case also
 * checks that a reason was written for the 400 answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cmocka.h>

#include "ctlreq.h"
#include "srtp.h"

/* The daemon's default limits (conf/rtpprobed.conf). */
static const struct rp_ctl_bounds defaults = {
    .max_duration = 3600, .ptime_min = 10, .ptime_max = 60, .bitrate_min = 6000, .bitrate_max = 128000,
};

#define MB (1024 * 1024)

/* ---- helpers ---- */

static int create_len(const char *body, size_t len, struct rp_session_params *p, char *err, size_t errlen)
{
    return rp_ctlreq_parse_create(body, len, &defaults, p, err, errlen);
}

static void expect_create_ok(const char *body, struct rp_session_params *p)
{
    char err[256] = "";
    if (create_len(body, strlen(body), p, err, sizeof err) != 0)
        fail_msg("%s: unexpected error: %s", body, err);
}

/* The body (len bytes) is refused with a non-empty reason containing needle (NULL: any). */
static void expect_create_error_len(const char *body, size_t len, const char *needle)
{
    struct rp_session_params p;
    char err[256];
    memset(err, 'x', sizeof err);
    err[sizeof err - 1] = '\0';
    err[0] = '\0';
    assert_int_equal(create_len(body, len, &p, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_non_null(memchr(err, '\0', sizeof err));
    if (needle && strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

static void expect_create_error(const char *body, const char *needle)
{
    expect_create_error_len(body, strlen(body), needle);
}

static void expect_patch_ok(const char *body, struct rp_patch_req *r)
{
    char err[256] = "";
    if (rp_ctlreq_parse_patch(body, strlen(body), r, err, sizeof err) != 0)
        fail_msg("%s: unexpected error: %s", body, err);
}

static void expect_patch_error(const char *body, const char *needle)
{
    struct rp_patch_req r;
    char err[256] = "";
    assert_int_equal(rp_ctlreq_parse_patch(body, strlen(body), &r, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    if (needle && strstr(err, needle) == NULL)
        fail_msg("error \"%s\" does not mention \"%s\"", err, needle);
}

/* A 1 MB buffer: prefix, then `fill` bytes, then suffix (not NUL-terminated in the length). */
static char *big_body(const char *prefix, char fill, const char *suffix, size_t *len)
{
    size_t pre = strlen(prefix), suf = strlen(suffix);
    char *b = malloc(MB + 1);
    assert_non_null(b);
    memcpy(b, prefix, pre);
    memset(b + pre, fill, MB - pre - suf);
    memcpy(b + MB - suf, suffix, suf);
    b[MB] = '\0';
    *len = MB;
    return b;
}

/* ---- create: defaults and full requests ---- */

static void test_minimal_pcmu_gets_documented_defaults(void **state)
{
    (void)state;
    struct rp_session_params p;
    memset(&p, 0xa5, sizeof p);
    expect_create_ok("{\"codec\":\"pcmu\"}", &p);
    assert_int_equal(p.codec, RP_CODEC_PCMU);
    assert_int_equal(p.ptime_ms, 20);
    assert_int_equal(p.duration_s, 10);
    assert_int_equal(p.jitter_buffer_ms, 40);
    assert_int_equal(p.bitrate_bps, 64000);
    assert_false(p.srtp);
    assert_false(p.has_key_up);
}

static void test_minimal_pcma_and_opus_defaults(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcma\"}", &p);
    assert_int_equal(p.codec, RP_CODEC_PCMA);
    assert_int_equal(p.bitrate_bps, 64000);
    expect_create_ok("{\"codec\":\"opus\"}", &p);
    assert_int_equal(p.codec, RP_CODEC_OPUS);
    assert_int_equal(p.bitrate_bps, 32000);
    assert_int_equal(p.ptime_ms, 20);
    assert_false(p.srtp);
}

static void test_codec_name_is_case_insensitive(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"OPUS\"}", &p);
    assert_int_equal(p.codec, RP_CODEC_OPUS);
}

static void test_every_field_is_taken(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"opus\",\"ptime_ms\":40,\"duration_s\":3600,\"bitrate_bps\":24000,"
                     "\"jitter_buffer_ms\":0,\"transport\":\"rtp\"}", &p);
    assert_int_equal(p.codec, RP_CODEC_OPUS);
    assert_int_equal(p.ptime_ms, 40);
    assert_int_equal(p.duration_s, 3600);
    assert_int_equal(p.bitrate_bps, 24000);
    assert_int_equal(p.jitter_buffer_ms, 0);
    assert_false(p.srtp);

    expect_create_ok(" {\n\t\"jitter_buffer_ms\" : 1000 , \"codec\" : \"pcma\", \"ptime_ms\": 60,"
                     " \"bitrate_bps\": 64000, \"duration_s\": 1 } \n", &p);
    assert_int_equal(p.codec, RP_CODEC_PCMA);
    assert_int_equal(p.ptime_ms, 60);
    assert_int_equal(p.duration_s, 1);
    assert_int_equal(p.jitter_buffer_ms, 1000);
    assert_int_equal(p.bitrate_bps, 64000);
}

static void test_series_is_false_unless_asked_and_must_be_a_boolean(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\"}", &p);
    assert_false(p.series);
    expect_create_ok("{\"codec\":\"pcmu\",\"series\":true}", &p);
    assert_true(p.series);
    expect_create_ok("{\"codec\":\"pcmu\",\"series\":false}", &p);
    assert_false(p.series);
    expect_create_error("{\"codec\":\"pcmu\",\"series\":1}", "series must be true or false");
}

static void test_defaults_are_clipped_to_tighter_limits(void **state)
{
    (void)state;
    const struct rp_ctl_bounds tight = {
        .max_duration = 5, .ptime_min = 10, .ptime_max = 60, .bitrate_min = 6000, .bitrate_max = 16000,
    };
    struct rp_session_params p;
    char err[256] = "";
    const char *body = "{\"codec\":\"opus\"}";
    assert_int_equal(rp_ctlreq_parse_create(body, strlen(body), &tight, &p, err, sizeof err), 0);
    assert_int_equal(p.duration_s, 5);
    assert_int_equal(p.bitrate_bps, 16000);
}

/* ---- create: types and values ---- */

static void test_wrong_types_are_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":\"20\"}", "ptime_ms");
    expect_create_error("{\"codec\":5}", "codec");
    expect_create_error("{\"codec\":null}", "codec");
    expect_create_error("{\"codec\":[\"pcmu\"]}", "codec");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":true}", "duration_s");
    expect_create_error("{\"codec\":\"pcmu\",\"jitter_buffer_ms\":null}", "jitter_buffer_ms");
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":{}}", "bitrate_bps");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":1}", "transport");
}

static void test_missing_or_unknown_codec_is_rejected(void **state)
{
    (void)state;
    expect_create_error("{}", "codec");
    expect_create_error("{\"ptime_ms\":20}", "codec");
    expect_create_error("{\"codec\":\"g729\"}", "g729");
    expect_create_error("{\"codec\":\"\"}", "codec");
    expect_create_error("{\"codec\":\"pcmu \"}", "codec");
}

static void test_negative_and_huge_numbers_are_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":-1}", "ptime_ms");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":-1}", "duration_s");
    expect_create_error("{\"codec\":\"pcmu\",\"jitter_buffer_ms\":-1}", "jitter_buffer_ms");
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":-1}", "bitrate_bps");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":99999999999}", "duration_s");
    /* 2^32 + 20 must not wrap to 20 in an unsigned */
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":4294967316}", "ptime_ms");
    /* beyond int64: jansson refuses the number itself */
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":18446744073709551616}", NULL);
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":-9223372036854775809}", NULL);
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":1e300}", "duration_s");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":1e999}", NULL);
}

static void test_floats_are_not_integers(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":20.0}", "ptime_ms");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":10.5}", "duration_s");
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":3.2e4}", "bitrate_bps");
}

static void test_ptime_is_checked_against_limits_and_codec(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\",\"ptime_ms\":10}", &p);
    assert_int_equal(p.ptime_ms, 10);
    expect_create_ok("{\"codec\":\"pcmu\",\"ptime_ms\":30}", &p);
    assert_int_equal(p.ptime_ms, 30);
    expect_create_ok("{\"codec\":\"opus\",\"ptime_ms\":60}", &p);
    assert_int_equal(p.ptime_ms, 60);
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":0}", "ptime_ms");
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":5}", "ptime_ms");
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":70}", "ptime_ms");
    /* within the limits but not a G.711 multiple of 10 ms (RFC 3551 use here) */
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":25}", "ptime_ms");
    /* Opus frames are 10, 20, 40, 60 ms (RFC 7587) */
    expect_create_error("{\"codec\":\"opus\",\"ptime_ms\":30}", "ptime_ms");
}

static void test_duration_and_jitter_buffer_bounds(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\",\"duration_s\":1}", &p);
    assert_int_equal(p.duration_s, 1);
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":0}", "duration_s");
    expect_create_error("{\"codec\":\"pcmu\",\"duration_s\":3601}", "duration_s");
    expect_create_error("{\"codec\":\"pcmu\",\"jitter_buffer_ms\":1001}", "jitter_buffer_ms");
}

static void test_opus_bitrate_bounds_come_from_limits(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"opus\",\"bitrate_bps\":6000}", &p);
    assert_int_equal(p.bitrate_bps, 6000);
    expect_create_ok("{\"codec\":\"opus\",\"bitrate_bps\":128000}", &p);
    assert_int_equal(p.bitrate_bps, 128000);
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":5999}", "bitrate_bps");
    /* Opus itself goes to 510000 (RFC 6716), the configured limit does not */
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":128001}", "bitrate_bps");
    expect_create_error("{\"codec\":\"opus\",\"bitrate_bps\":510000}", "bitrate_bps");
}

static void test_g711_bitrate_must_be_64000_if_given(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\",\"bitrate_bps\":64000}", &p);
    assert_int_equal(p.bitrate_bps, 64000);
    expect_create_ok("{\"codec\":\"pcma\",\"bitrate_bps\":64000}", &p);
    assert_int_equal(p.bitrate_bps, 64000);
    expect_create_error("{\"codec\":\"pcmu\",\"bitrate_bps\":32000}", "bitrate_bps");
    expect_create_error("{\"codec\":\"pcma\",\"bitrate_bps\":64001}", "bitrate_bps");
    expect_create_error("{\"codec\":\"pcmu\",\"bitrate_bps\":0}", "bitrate_bps");
}

/* ---- create: keys ---- */

static void test_unknown_fields_are_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"ptime\":20}", "ptime");
    expect_create_error("{\"codec\":\"pcmu\",\"Codec\":\"pcmu\"}", "Codec");
    expect_create_error("{\"codec\":\"pcmu\",\"\":1}", "unknown field");
}

static void test_duplicated_keys_are_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"codec\":\"pcma\"}", NULL);
    expect_create_error("{\"codec\":\"pcmu\",\"ptime_ms\":20,\"ptime_ms\":20}", NULL);
}

/* ---- create: bytes that are not JSON objects ---- */

static void test_non_utf8_bytes_are_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"\xff\"}", NULL);
    expect_create_error("{\"codec\":\"pc\xc3\"}", NULL);       /* truncated sequence */
    expect_create_error("{\"codec\":\"\xc0\xaf\"}", NULL);      /* overlong '/' */
    expect_create_error("{\"\xfe\":1,\"codec\":\"pcmu\"}", NULL);
}

static void test_embedded_nul_is_rejected(void **state)
{
    (void)state;
    static const char raw_in_string[] = "{\"codec\":\"pc\0mu\"}";
    static const char raw_after_object[] = "{\"codec\":\"pcmu\"}\0";
    expect_create_error_len(raw_in_string, sizeof raw_in_string - 1, NULL);
    expect_create_error_len(raw_after_object, sizeof raw_after_object - 1, NULL);
    /* the escaped form: a C string would end at the NUL, "pcmu\u0000x" must not become "pcmu" */
    expect_create_error("{\"codec\":\"pcmu\\u0000x\"}", NULL);
    expect_create_error("{\"codec\\u0000\":\"pcmu\"}", NULL);
}

static void test_empty_body_is_rejected(void **state)
{
    (void)state;
    expect_create_error_len("", 0, "JSON object");
    expect_create_error("   \n", NULL);
}

static void test_top_level_must_be_an_object(void **state)
{
    (void)state;
    expect_create_error("[{\"codec\":\"pcmu\"}]", "must be a JSON object");
    /* jansson itself refuses scalars at the top level ("'[' or '{' expected") */
    expect_create_error("\"pcmu\"", "{");
    expect_create_error("42", "{");
    expect_create_error("null", "{");
    expect_create_error("{\"codec\":\"pcmu\"} {}", NULL);
    expect_create_error("{\"codec\":\"pcmu\"", NULL);
}

static void test_one_megabyte_of_spaces_is_rejected(void **state)
{
    (void)state;
    size_t len;
    char *b = big_body("", ' ', "", &len);
    expect_create_error_len(b, len, NULL);
    free(b);
    /* spaces around a valid object are still whitespace */
    b = big_body("{\"codec\":\"pcmu\"", ' ', "}", &len);
    struct rp_session_params p;
    char err[256] = "";
    assert_int_equal(create_len(b, len, &p, err, sizeof err), 0);
    assert_int_equal(p.codec, RP_CODEC_PCMU);
    free(b);
}

static void test_one_megabyte_string_gives_a_bounded_message(void **state)
{
    (void)state;
    size_t len;
    char *b = big_body("{\"codec\":\"", 'a', "\"}", &len);
    struct rp_session_params p;
    char err[256] = "";
    assert_int_equal(create_len(b, len, &p, err, sizeof err), -1);
    assert_true(err[0] != '\0');
    assert_true(strlen(err) < 128);   /* the attacker's string is not echoed whole */
    free(b);

    b = big_body("{\"codec\":\"pcmu\",\"", 'k', "\":1}", &len);
    assert_int_equal(create_len(b, len, &p, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown field"));
    assert_true(strlen(err) < 128);
    free(b);
}

static void test_deeply_nested_arrays_fail_without_crashing(void **state)
{
    (void)state;
    const size_t depth = 100000;
    char *b = malloc(2 * depth + 32);
    assert_non_null(b);
    /* as the whole body */
    memset(b, '[', depth);
    memset(b + depth, ']', depth);
    expect_create_error_len(b, 2 * depth, NULL);
    /* as a field value */
    size_t n = (size_t)sprintf(b, "{\"codec\":");
    memset(b + n, '[', depth);
    memset(b + n + depth, ']', depth);
    n += 2 * depth;
    b[n++] = '}';
    expect_create_error_len(b, n, NULL);
    /* unbalanced: only openers */
    memset(b, '[', depth);
    expect_create_error_len(b, depth, NULL);
    free(b);
}

static void test_small_error_buffer_is_not_overrun(void **state)
{
    (void)state;
    struct rp_session_params p;
    char err[9];
    memset(err, '#', sizeof err);
    const char *body = "{\"codec\":\"g729\"}";
    assert_int_equal(rp_ctlreq_parse_create(body, strlen(body), &defaults, &p, err, 8), -1);
    assert_int_equal(strlen(err), 7);
    assert_int_equal(err[8], '#');
}

/* ---- create: SRTP ---- */

static void test_srtp_transport_defaults_to_aes_cm_80(void **state)
{
    (void)state;
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\",\"transport\":\"srtp\"}", &p);
    assert_true(p.srtp);
    assert_int_equal(p.suite, RP_SRTP_AES_CM_128_HMAC_SHA1_80);
    assert_false(p.has_key_up);
}

static void test_srtp_transport_with_each_suite_name(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum rp_srtp_suite suite;
    } suites[] = {
        { "AES_CM_128_HMAC_SHA1_80", RP_SRTP_AES_CM_128_HMAC_SHA1_80 },
        { "AES_CM_128_HMAC_SHA1_32", RP_SRTP_AES_CM_128_HMAC_SHA1_32 },
        { "AEAD_AES_128_GCM", RP_SRTP_AEAD_AES_128_GCM },
        { "AEAD_AES_256_GCM", RP_SRTP_AEAD_AES_256_GCM },
    };
    for (size_t i = 0; i < sizeof suites / sizeof suites[0]; i++) {
        char body[160];
        struct rp_session_params p;
        snprintf(body, sizeof body, "{\"codec\":\"opus\",\"transport\":\"srtp\",\"srtp_suite\":\"%s\"}",
                 suites[i].name);
        expect_create_ok(body, &p);
        assert_true(p.srtp);
        assert_int_equal(p.suite, suites[i].suite);
        assert_false(p.has_key_up);
    }
}

static void test_bad_srtp_suite_is_rejected(void **state)
{
    (void)state;
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_suite\":\"NULL_HMAC_SHA1_80\"}",
                        "srtp_suite");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_suite\":\"\"}", "srtp_suite");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_suite\":0}", "srtp_suite");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"dtls-srtp\"}", "transport");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"SRTP \"}", "transport");
}

/* body for suite s with srtp_key_up = inline: of keylen fresh random bytes (kept in key) */
static void key_body(enum rp_srtp_suite s, const char *suite_field, uint8_t *key, size_t keylen, char *body,
                     size_t bodylen)
{
    char inl[RP_SRTP_INLINE_MAX + 16];
    assert_true(keylen <= RP_SRTP_MAX_KEY_LEN + 2);
    /* rp_srtp_keygen gives exactly one suite's length; other lengths are cut or extended */
    uint8_t fresh[RP_SRTP_MAX_KEY_LEN + 2] = { 0 };
    assert_int_equal(rp_srtp_keygen(s, fresh, sizeof fresh), 0);
    memcpy(key, fresh, keylen);
    assert_int_equal(rp_srtp_inline_encode(key, keylen, inl, sizeof inl), 0);
    snprintf(body, bodylen, "{\"codec\":\"pcmu\",\"transport\":\"srtp\"%s,\"srtp_key_up\":\"%s\"}", suite_field,
             inl);
}

static void test_srtp_key_up_of_the_right_length_is_decoded(void **state)
{
    (void)state;
    static const struct {
        enum rp_srtp_suite suite;
        const char *field;
        size_t key_len;   /* RFC 3711 §8.2 / RFC 7714 §12: master key + salt */
    } cases[] = {
        { RP_SRTP_AES_CM_128_HMAC_SHA1_80, "", 30 },
        { RP_SRTP_AES_CM_128_HMAC_SHA1_32, ",\"srtp_suite\":\"AES_CM_128_HMAC_SHA1_32\"", 30 },
        { RP_SRTP_AEAD_AES_128_GCM, ",\"srtp_suite\":\"AEAD_AES_128_GCM\"", 28 },
        { RP_SRTP_AEAD_AES_256_GCM, ",\"srtp_suite\":\"AEAD_AES_256_GCM\"", 44 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t key[RP_SRTP_MAX_KEY_LEN + 2];
        char body[256];
        struct rp_session_params p;
        key_body(cases[i].suite, cases[i].field, key, cases[i].key_len, body, sizeof body);
        expect_create_ok(body, &p);
        assert_true(p.srtp);
        assert_int_equal(p.suite, cases[i].suite);
        assert_true(p.has_key_up);
        assert_memory_equal(p.key_up, key, cases[i].key_len);
    }
}

static void test_srtp_key_up_of_a_wrong_length_is_rejected(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN + 2];
    char body[256];
    /* 29 and 31 bytes for a 30-byte suite */
    key_body(RP_SRTP_AES_CM_128_HMAC_SHA1_80, "", key, 29, body, sizeof body);
    expect_create_error(body, "srtp_key_up");
    key_body(RP_SRTP_AES_CM_128_HMAC_SHA1_80, "", key, 31, body, sizeof body);
    expect_create_error(body, "srtp_key_up");
    /* a 30-byte AES-CM key for AES-128-GCM (28) and AES-256-GCM (44) */
    key_body(RP_SRTP_AES_CM_128_HMAC_SHA1_80, ",\"srtp_suite\":\"AEAD_AES_128_GCM\"", key, 30, body, sizeof body);
    expect_create_error(body, "srtp_key_up");
    key_body(RP_SRTP_AES_CM_128_HMAC_SHA1_80, ",\"srtp_suite\":\"AEAD_AES_256_GCM\"", key, 30, body, sizeof body);
    expect_create_error(body, "srtp_key_up");
    /* not inline: form, lifetime/MKI, not a string */
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_key_up\":\"WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\"}",
                        "srtp_key_up");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_key_up\":"
                        "\"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:32\"}", "srtp_key_up");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_key_up\":30}", "srtp_key_up");
    expect_create_error("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_key_up\":\"inline:\"}", "srtp_key_up");
}

static void test_rfc4568_example_key_is_accepted(void **state)
{
    (void)state;
    /* RFC 4568 §6.1's example key; its base64 decodes to the 30 ASCII bytes below */
    static const char ascii[] = "YS___semctl () {\t220;}\n}\nunles";
    struct rp_session_params p;
    expect_create_ok("{\"codec\":\"pcmu\",\"transport\":\"srtp\",\"srtp_key_up\":"
                     "\"inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz\"}", &p);
    assert_true(p.has_key_up);
    assert_memory_equal(p.key_up, ascii, 30);
}

static void test_srtp_fields_need_srtp_transport(void **state)
{
    (void)state;
    uint8_t key[RP_SRTP_MAX_KEY_LEN + 2];
    char inl[RP_SRTP_INLINE_MAX];
    char body[256];
    assert_int_equal(rp_srtp_keygen(RP_SRTP_AES_CM_128_HMAC_SHA1_80, key, sizeof key), 0);
    assert_int_equal(rp_srtp_inline_encode(key, 30, inl, sizeof inl), 0);
    snprintf(body, sizeof body, "{\"codec\":\"pcmu\",\"transport\":\"rtp\",\"srtp_key_up\":\"%s\"}", inl);
    expect_create_error(body, "srtp");
    snprintf(body, sizeof body, "{\"codec\":\"pcmu\",\"srtp_key_up\":\"%s\"}", inl);
    expect_create_error(body, "srtp");
    expect_create_error("{\"codec\":\"pcmu\",\"srtp_suite\":\"AEAD_AES_128_GCM\"}", "srtp");
}

/* ---- patch ---- */

static void test_patch_peer_ipv4(void **state)
{
    (void)state;
    struct rp_patch_req r;
    expect_patch_ok("{\"peer\":\"203.0.113.5:40000\"}", &r);
    assert_true(r.has_peer);
    assert_false(r.stop);
    assert_false(r.has_upstream_sent);
    struct sockaddr_in sin;
    assert_int_equal(r.peer.ss_family, AF_INET);
    memcpy(&sin, &r.peer, sizeof sin);
    assert_int_equal(ntohs(sin.sin_port), 40000);
    assert_int_equal(ntohl(sin.sin_addr.s_addr), 0xCB007105u); /* 203.0.113.5 */
}

static void test_patch_peer_ipv6(void **state)
{
    (void)state;
    static const uint8_t addr[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 };
    struct rp_patch_req r;
    expect_patch_ok("{\"peer\":\"[2001:db8::1]:5004\"}", &r);
    assert_true(r.has_peer);
    struct sockaddr_in6 sin6;
    assert_int_equal(r.peer.ss_family, AF_INET6);
    memcpy(&sin6, &r.peer, sizeof sin6);
    assert_int_equal(ntohs(sin6.sin6_port), 5004);
    assert_memory_equal(&sin6.sin6_addr, addr, 16);
}

static void test_patch_bad_peer_is_rejected(void **state)
{
    (void)state;
    expect_patch_error("{\"peer\":\"203.0.113.5\"}", "peer");          /* no port */
    expect_patch_error("{\"peer\":\"203.0.113.5:0\"}", "peer");
    expect_patch_error("{\"peer\":\"203.0.113.5:65536\"}", "peer");
    expect_patch_error("{\"peer\":\"example.com:80\"}", "peer");       /* names are not resolved */
    expect_patch_error("{\"peer\":\"2001:db8::1:5004\"}", "peer");     /* v6 without brackets */
    expect_patch_error("{\"peer\":\"[2001:db8::1]\"}", "peer");
    expect_patch_error("{\"peer\":\"\"}", "peer");
    expect_patch_error("{\"peer\":5004}", "peer");
    expect_patch_error("{\"peer\":null}", "peer");
    expect_patch_error("{\"peer\":\"999.0.0.1:5\"}", "peer");
}

static void test_patch_stop(void **state)
{
    (void)state;
    struct rp_patch_req r;
    expect_patch_ok("{\"stop\":true}", &r);
    assert_true(r.stop);
    assert_false(r.has_peer);
    assert_false(r.has_upstream_sent);
    expect_patch_ok("{\"stop\":false}", &r);
    assert_false(r.stop);
    expect_patch_ok("{\"peer\":\"198.51.100.1:9\",\"stop\":true}", &r);
    assert_true(r.stop);
    assert_true(r.has_peer);
}

static void test_patch_stop_must_be_boolean(void **state)
{
    (void)state;
    expect_patch_error("{\"stop\":\"true\"}", "stop");
    expect_patch_error("{\"stop\":1}", "stop");
    expect_patch_error("{\"stop\":null}", "stop");
    expect_patch_error("{\"stop\":[true]}", "stop");
}

static void test_patch_upstream_sent_bounds(void **state)
{
    (void)state;
    struct rp_patch_req r;
    expect_patch_ok("{\"stop\":true,\"upstream_sent\":0}", &r);
    assert_true(r.has_upstream_sent);
    assert_int_equal(r.upstream_sent, 0);
    expect_patch_ok("{\"stop\":true,\"upstream_sent\":4294967295}", &r);
    assert_true(r.has_upstream_sent);
    assert_int_equal(r.upstream_sent, UINT32_MAX);
    expect_patch_error("{\"stop\":true,\"upstream_sent\":4294967296}", "upstream_sent");
    expect_patch_error("{\"stop\":true,\"upstream_sent\":-1}", "upstream_sent");
    expect_patch_error("{\"stop\":true,\"upstream_sent\":1.5}", "upstream_sent");
    expect_patch_error("{\"stop\":true,\"upstream_sent\":\"5\"}", "upstream_sent");
    expect_patch_error("{\"stop\":true,\"upstream_sent\":18446744073709551616}", NULL);
}

static void test_patch_with_nothing_to_change_is_rejected(void **state)
{
    (void)state;
    expect_patch_error("{}", "nothing to change");
    expect_patch_error("{\"upstream_sent\":10}", "nothing to change");
}

static void test_patch_unknown_fields_and_non_objects_are_rejected(void **state)
{
    (void)state;
    struct rp_patch_req r;
    char err[256] = "";
    expect_patch_error("{\"stop\":true,\"restart\":true}", "restart");
    expect_patch_error("{\"stop\":true,\"stop\":false}", NULL);
    expect_patch_error("[{\"stop\":true}]", "must be a JSON object");
    expect_patch_error("\"stop\"", "{");
    expect_patch_error("{\"peer\":\"\xff\"}", NULL);
    assert_int_equal(rp_ctlreq_parse_patch("", 0, &r, err, sizeof err), -1);
    assert_true(err[0] != '\0');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_pcmu_gets_documented_defaults),
        cmocka_unit_test(test_minimal_pcma_and_opus_defaults),
        cmocka_unit_test(test_codec_name_is_case_insensitive),
        cmocka_unit_test(test_every_field_is_taken),
        cmocka_unit_test(test_series_is_false_unless_asked_and_must_be_a_boolean),
        cmocka_unit_test(test_defaults_are_clipped_to_tighter_limits),
        cmocka_unit_test(test_wrong_types_are_rejected),
        cmocka_unit_test(test_missing_or_unknown_codec_is_rejected),
        cmocka_unit_test(test_negative_and_huge_numbers_are_rejected),
        cmocka_unit_test(test_floats_are_not_integers),
        cmocka_unit_test(test_ptime_is_checked_against_limits_and_codec),
        cmocka_unit_test(test_duration_and_jitter_buffer_bounds),
        cmocka_unit_test(test_opus_bitrate_bounds_come_from_limits),
        cmocka_unit_test(test_g711_bitrate_must_be_64000_if_given),
        cmocka_unit_test(test_unknown_fields_are_rejected),
        cmocka_unit_test(test_duplicated_keys_are_rejected),
        cmocka_unit_test(test_non_utf8_bytes_are_rejected),
        cmocka_unit_test(test_embedded_nul_is_rejected),
        cmocka_unit_test(test_empty_body_is_rejected),
        cmocka_unit_test(test_top_level_must_be_an_object),
        cmocka_unit_test(test_one_megabyte_of_spaces_is_rejected),
        cmocka_unit_test(test_one_megabyte_string_gives_a_bounded_message),
        cmocka_unit_test(test_deeply_nested_arrays_fail_without_crashing),
        cmocka_unit_test(test_small_error_buffer_is_not_overrun),
        cmocka_unit_test(test_srtp_transport_defaults_to_aes_cm_80),
        cmocka_unit_test(test_srtp_transport_with_each_suite_name),
        cmocka_unit_test(test_bad_srtp_suite_is_rejected),
        cmocka_unit_test(test_srtp_key_up_of_the_right_length_is_decoded),
        cmocka_unit_test(test_srtp_key_up_of_a_wrong_length_is_rejected),
        cmocka_unit_test(test_rfc4568_example_key_is_accepted),
        cmocka_unit_test(test_srtp_fields_need_srtp_transport),
        cmocka_unit_test(test_patch_peer_ipv4),
        cmocka_unit_test(test_patch_peer_ipv6),
        cmocka_unit_test(test_patch_bad_peer_is_rejected),
        cmocka_unit_test(test_patch_stop),
        cmocka_unit_test(test_patch_stop_must_be_boolean),
        cmocka_unit_test(test_patch_upstream_sent_bounds),
        cmocka_unit_test(test_patch_with_nothing_to_change_is_rejected),
        cmocka_unit_test(test_patch_unknown_fields_and_non_objects_are_rejected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
