/* Unit tests for src/mext.c against the byte layouts in docs/wire-format.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "mext.h"
#include "rtp.h"

/* seq 0x01020304, T1 0x1122334455667788 */
static const uint8_t up_bytes[RP_MEXT_UP_LEN] = {
    0x01, 0x00, 0x00, 0x00,                         /* version 1, flags 0, reserved */
    0x01, 0x02, 0x03, 0x04,                         /* seq */
    0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, /* t1_ns */
};

static const uint8_t down_bytes[RP_MEXT_DOWN_LEN] = {
    0x01, 0x01, 0x00, 0x00,                         /* version 1, flags: reflection valid */
    0xa0, 0xb0, 0xc0, 0xd0,                         /* refl_seq */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* t1_ns */
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, /* t2_ns */
    0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, /* t3_ns */
    0x31, 0x32, 0x33, 0x34,                         /* up_received */
    0x41, 0x42, 0x43, 0x44,                         /* down_sent */
    0x51, 0x52, 0x53, 0x54,                         /* up_host_drops */
    0x00, 0x00, 0x00, 0x00,                         /* reserved */
};

static const struct rp_mext_down down_fields = {
    .flags = RP_MEXT_F_REFLECTION,
    .refl_seq = 0xa0b0c0d0u,
    .t1_ns = 0x0102030405060708u,
    .t2_ns = 0x1112131415161718u,
    .t3_ns = 0x2122232425262728u,
    .up_received = 0x31323334u,
    .down_sent = 0x41424344u,
    .up_host_drops = 0x51525354u,
};

static void test_up_element_has_documented_byte_layout(void **state)
{
    (void)state;
    struct rp_mext_up in = {.seq = 0x01020304u, .t1_ns = 0x1122334455667788u};
    uint8_t buf[RP_MEXT_UP_LEN];
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(rp_mext_up_encode(&in, buf, sizeof(buf)), RP_MEXT_UP_LEN);
    assert_memory_equal(buf, up_bytes, sizeof(up_bytes));
}

static void test_up_element_hand_written_bytes_decode(void **state)
{
    (void)state;
    struct rp_mext_up out;
    assert_int_equal(rp_mext_up_decode(up_bytes, sizeof(up_bytes), &out), 0);
    assert_int_equal(out.seq, 0x01020304u);
    assert_true(out.t1_ns == 0x1122334455667788u);
}

static void test_up_element_round_trips_extreme_values(void **state)
{
    (void)state;
    /* 2023-11-14T22:13:20.123456789Z in ns, and the all-ones corners. */
    static const struct rp_mext_up cases[] = {
        {.seq = 0, .t1_ns = 0},
        {.seq = 49, .t1_ns = 1700000000123456789u},
        {.seq = 0xFFFFFFFFu, .t1_ns = UINT64_MAX},
        {.seq = 0x80000000u, .t1_ns = 0x8000000000000000u},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint8_t buf[RP_MEXT_UP_LEN];
        struct rp_mext_up out;
        assert_int_equal(rp_mext_up_encode(&cases[i], buf, sizeof(buf)), RP_MEXT_UP_LEN);
        assert_int_equal(rp_mext_up_decode(buf, sizeof(buf), &out), 0);
        assert_int_equal(out.seq, cases[i].seq);
        assert_true(out.t1_ns == cases[i].t1_ns);
    }
}

static void test_up_t1_is_big_endian_nanoseconds(void **state)
{
    (void)state;
    /* 1700000000123456789 = 0x1797_9cfe_3d85_cd15 (computed independently with python3 hex()). */
    struct rp_mext_up in = {.seq = 49, .t1_ns = 1700000000123456789u};
    uint8_t buf[RP_MEXT_UP_LEN];
    assert_int_equal(rp_mext_up_encode(&in, buf, sizeof(buf)), RP_MEXT_UP_LEN);
    assert_memory_equal(buf + 4, ((const uint8_t[]){0, 0, 0, 49}), 4);
    assert_memory_equal(buf + 8, ((const uint8_t[]){0x17, 0x97, 0x9c, 0xfe, 0x3d, 0x85, 0xcd, 0x15}), 8);
}

static void test_down_element_has_documented_byte_layout(void **state)
{
    (void)state;
    uint8_t buf[RP_MEXT_DOWN_LEN];
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(rp_mext_down_encode(&down_fields, buf, sizeof(buf)), RP_MEXT_DOWN_LEN);
    assert_memory_equal(buf, down_bytes, sizeof(down_bytes));
}

static void test_down_element_hand_written_bytes_decode(void **state)
{
    (void)state;
    struct rp_mext_down out;
    memset(&out, 0, sizeof(out));
    assert_int_equal(rp_mext_down_decode(down_bytes, sizeof(down_bytes), &out), 0);
    assert_int_equal(out.flags, RP_MEXT_F_REFLECTION);
    assert_int_equal(out.refl_seq, 0xa0b0c0d0u);
    assert_true(out.t1_ns == 0x0102030405060708u);
    assert_true(out.t2_ns == 0x1112131415161718u);
    assert_true(out.t3_ns == 0x2122232425262728u);
    assert_int_equal(out.up_received, 0x31323334u);
    assert_int_equal(out.down_sent, 0x41424344u);
    assert_int_equal(out.up_host_drops, 0x51525354u);
}

static void test_down_element_round_trips_extreme_values(void **state)
{
    (void)state;
    struct rp_mext_down in = {
        .flags = 0, .refl_seq = 0xFFFFFFFFu, .t1_ns = UINT64_MAX, .t2_ns = 0,
        .t3_ns = 0x8000000000000001u, .up_received = 0, .down_sent = 0xFFFFFFFFu,
        .up_host_drops = 0x80000000u,
    };
    uint8_t buf[RP_MEXT_DOWN_LEN];
    struct rp_mext_down out;
    assert_int_equal(rp_mext_down_encode(&in, buf, sizeof(buf)), RP_MEXT_DOWN_LEN);
    assert_int_equal(rp_mext_down_decode(buf, sizeof(buf), &out), 0);
    assert_int_equal(out.flags, 0);
    assert_int_equal(out.refl_seq, in.refl_seq);
    assert_true(out.t1_ns == in.t1_ns);
    assert_true(out.t2_ns == in.t2_ns);
    assert_true(out.t3_ns == in.t3_ns);
    assert_int_equal(out.up_received, in.up_received);
    assert_int_equal(out.down_sent, in.down_sent);
    assert_int_equal(out.up_host_drops, in.up_host_drops);
}

static void test_encode_rejects_small_buffer_without_writing(void **state)
{
    (void)state;
    struct rp_mext_up up = {.seq = 1, .t1_ns = 2};
    uint8_t buf[64];
    for (size_t cap = 0; cap < RP_MEXT_UP_LEN; cap++) {
        memset(buf, 0xee, sizeof(buf));
        assert_int_equal(rp_mext_up_encode(&up, buf, cap), 0);
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xee);
    }
    for (size_t cap = 0; cap < RP_MEXT_DOWN_LEN; cap++) {
        memset(buf, 0xee, sizeof(buf));
        assert_int_equal(rp_mext_down_encode(&down_fields, buf, cap), 0);
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xee);
    }
    /* A larger buffer is fine; only the element's bytes are written. */
    memset(buf, 0xee, sizeof(buf));
    assert_int_equal(rp_mext_up_encode(&up, buf, sizeof(buf)), RP_MEXT_UP_LEN);
    assert_int_equal(buf[RP_MEXT_UP_LEN], 0xee);
}

static void test_decode_rejects_wrong_length(void **state)
{
    (void)state;
    uint8_t big[RP_MEXT_DOWN_LEN + 1];
    memset(big, 0, sizeof(big));
    memcpy(big, down_bytes, sizeof(down_bytes));
    struct rp_mext_up up;
    struct rp_mext_down down;
    for (size_t len = 0; len <= sizeof(big); len++) {
        uint8_t *copy = malloc(len > 0 ? len : 1);   /* exact size, so ASan sees overreads */
        assert_non_null(copy);
        memcpy(copy, big, len);
        assert_int_equal(rp_mext_up_decode(copy, len, &up), len == RP_MEXT_UP_LEN ? 0 : -1);
        assert_int_equal(rp_mext_down_decode(copy, len, &down), len == RP_MEXT_DOWN_LEN ? 0 : -1);
        free(copy);
    }
}

static void test_decode_rejects_unknown_version(void **state)
{
    (void)state;
    static const uint8_t versions[] = {0, 2, 0x81, 0xff};
    uint8_t u[RP_MEXT_UP_LEN];
    uint8_t d[RP_MEXT_DOWN_LEN];
    struct rp_mext_up up;
    struct rp_mext_down down;
    for (size_t i = 0; i < sizeof(versions); i++) {
        memcpy(u, up_bytes, sizeof(u));
        memcpy(d, down_bytes, sizeof(d));
        u[0] = versions[i];
        d[0] = versions[i];
        assert_int_equal(rp_mext_up_decode(u, sizeof(u), &up), -1);
        assert_int_equal(rp_mext_down_decode(d, sizeof(d), &down), -1);
    }
}

static void test_decode_ignores_reserved_bytes(void **state)
{
    (void)state;
    /* Reserved fields are for later additions within version 1: ignored, not checked. */
    uint8_t u[RP_MEXT_UP_LEN];
    uint8_t d[RP_MEXT_DOWN_LEN];
    memcpy(u, up_bytes, sizeof(u));
    memcpy(d, down_bytes, sizeof(d));
    u[1] = 0xff; u[2] = 0xff; u[3] = 0xff;
    d[2] = 0xff; d[3] = 0xff; d[44] = 0xff; d[47] = 0xff;
    struct rp_mext_up up;
    struct rp_mext_down down;
    assert_int_equal(rp_mext_up_decode(u, sizeof(u), &up), 0);
    assert_int_equal(up.seq, 0x01020304u);
    assert_int_equal(rp_mext_down_decode(d, sizeof(d), &down), 0);
    assert_int_equal(down.refl_seq, 0xa0b0c0d0u);
    assert_int_equal(down.up_host_drops, 0x51525354u);
}

static void test_up_element_in_rtp_packet_has_expected_bytes(void **state)
{
    (void)state;
    /* A whole upstream packet: PCMU, seq 1, ts 160, SSRC 0x11223344, element ID 1. */
    static const uint8_t want[] = {
        0x90, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0xa0, 0x11, 0x22, 0x33, 0x44,
        0x10, 0x00, 0x00, 0x05,                     /* two-byte form, 5 words */
        0x01, 0x10,                                 /* ID 1, length 16 */
        0x01, 0x00, 0x00, 0x00, 0x01, 0x02, 0x03, 0x04,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x00, 0x00,                                 /* pad to 32 bits */
        0xff, 0xff, 0xff, 0xff,                     /* payload */
    };
    struct rp_mext_up in = {.seq = 0x01020304u, .t1_ns = 0x1122334455667788u};
    uint8_t elem[RP_MEXT_UP_LEN];
    assert_int_equal(rp_mext_up_encode(&in, elem, sizeof(elem)), RP_MEXT_UP_LEN);
    struct rp_rtp_hdr h = {.pt = 0, .seq = 1, .ts = 160, .ssrc = 0x11223344u};
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = rp_rtp_build(pkt, sizeof(pkt), &h, RP_MEXT_ID_UP, elem, sizeof(elem),
                            (const uint8_t[]){0xff, 0xff, 0xff, 0xff}, 4);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(pkt, want, sizeof(want));

    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t dn = 0;
    struct rp_mext_up out;
    assert_int_equal(rp_rtp_parse(want, sizeof(want), &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(&p, RP_MEXT_ID_UP, &d, &dn), 1);
    assert_int_equal(rp_mext_up_decode(d, dn, &out), 0);
    assert_int_equal(out.seq, 0x01020304u);
    assert_true(out.t1_ns == 0x1122334455667788u);
}

static void test_down_element_in_rtp_packet_round_trips(void **state)
{
    (void)state;
    uint8_t elem[RP_MEXT_DOWN_LEN];
    assert_int_equal(rp_mext_down_encode(&down_fields, elem, sizeof(elem)), RP_MEXT_DOWN_LEN);
    struct rp_rtp_hdr h = {.pt = 8, .seq = 7, .ts = 1120, .ssrc = 0x55667788u};
    uint8_t pkt[RP_RTP_MAX_PKT];
    size_t n = rp_rtp_build(pkt, sizeof(pkt), &h, RP_MEXT_ID_DOWN, elem, sizeof(elem), NULL, 0);
    /* 48-byte element + 2 header bytes = 50, padded to 52 = 13 words. */
    assert_int_equal(n, 12 + 4 + 52);
    assert_int_equal(pkt[15], 13);

    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t dn = 0;
    struct rp_mext_down out;
    assert_int_equal(rp_rtp_parse(pkt, n, &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(&p, RP_MEXT_ID_UP, &d, &dn), 0);
    assert_int_equal(rp_rtp_ext_find(&p, RP_MEXT_ID_DOWN, &d, &dn), 1);
    assert_int_equal(rp_mext_down_decode(d, dn, &out), 0);
    assert_int_equal(out.refl_seq, down_fields.refl_seq);
    assert_true(out.t3_ns == down_fields.t3_ns);
}

/* HMAC-SHA-256 tag over the packet with the tag zeroed: the expected bytes were
 * computed independently (Python hmac/hashlib) for this exact packet and key. */
static size_t signed_fixture(uint8_t *pkt, size_t cap)
{
    struct rp_mext_up up = { .seq = 0, .t1_ns = 1 };
    uint8_t elem[RP_MEXT_UP_LEN], zero_tag[RP_MEXT_AUTH_LEN] = { 0 }, payload[160];
    memset(payload, 0xd5, sizeof payload);
    rp_mext_up_encode(&up, elem, sizeof elem);
    struct rp_rtp_elem elems[] = {
        { RP_MEXT_ID_UP, elem, sizeof elem },
        { RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag },
    };
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1, .ts = 160, .ssrc = 0x11223344 };
    return rp_rtp_build_elems(pkt, cap, &h, elems, 2, payload, sizeof payload);
}

static void test_auth_tag_matches_independent_hmac_sha256(void **state)
{
    (void)state;
    static const uint8_t expected[RP_MEXT_AUTH_LEN] = { 0xd0, 0xd0, 0x8d, 0x59, 0x5d, 0xfa, 0x90, 0xa0, 0x79, 0x4c };
    uint8_t key[RP_MEXT_AUTH_KEY_LEN], pkt[RP_RTP_MAX_PKT];
    for (unsigned i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)i;
    size_t n = signed_fixture(pkt, sizeof pkt);
    assert_int_equal(n, 12 + 4 + 32 + 160);
    assert_int_equal(rp_mext_auth_sign(pkt, n, key), 0);
    /* ID 3 element: after the 4-byte ext header, ID 1 (2 + 16 bytes) and its own 2-byte header. */
    assert_memory_equal(pkt + 12 + 4 + 18 + 2, expected, sizeof expected);
    assert_int_equal(rp_mext_auth_verify(pkt, n, key), 0);
}

static void test_auth_rejects_tampering_wrong_key_and_missing_tag(void **state)
{
    (void)state;
    uint8_t key[RP_MEXT_AUTH_KEY_LEN] = { 1 }, other[RP_MEXT_AUTH_KEY_LEN] = { 2 }, pkt[RP_RTP_MAX_PKT];
    size_t n = signed_fixture(pkt, sizeof pkt);
    assert_int_equal(rp_mext_auth_sign(pkt, n, key), 0);
    assert_int_equal(rp_mext_auth_verify(pkt, n, other), -2);
    pkt[n - 1] ^= 1; /* payload */
    assert_int_equal(rp_mext_auth_verify(pkt, n, key), -2);
    pkt[n - 1] ^= 1;
    pkt[3] ^= 1; /* sequence number */
    assert_int_equal(rp_mext_auth_verify(pkt, n, key), -2);
    pkt[3] ^= 1;
    assert_int_equal(rp_mext_auth_verify(pkt, n, key), 0);
    uint8_t plain[RP_RTP_MAX_PKT], elem[RP_MEXT_UP_LEN] = { RP_MEXT_VERSION };
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1 };
    size_t m = rp_rtp_build(plain, sizeof plain, &h, RP_MEXT_ID_UP, elem, sizeof elem, NULL, 0);
    assert_int_equal(rp_mext_auth_verify(plain, m, key), -1);
    assert_int_equal(rp_mext_auth_sign(plain, m, key), -1);
    assert_int_equal(rp_mext_auth_verify(plain, 5, key), -1);
}

/* HMAC-SHA-256 of pkt with its tag bytes zeroed, by OpenSSL's one-shot EVP_Q_mac:
 * a computation that shares nothing with mext.c's. */
static void independent_tag(const uint8_t *pkt, size_t n, size_t tag_off, const uint8_t *key, uint8_t out[10])
{
    uint8_t copy[RP_RTP_MAX_PKT], md[32];
    size_t mdlen = 0;
    memcpy(copy, pkt, n);
    memset(copy + tag_off, 0, RP_MEXT_AUTH_LEN);
    assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, RP_MEXT_AUTH_KEY_LEN, copy, n, md,
                              sizeof md, &mdlen));
    assert_int_equal(mdlen, 32);
    memcpy(out, md, RP_MEXT_AUTH_LEN);
}

static void test_keyed_context_gives_the_same_tags_packet_after_packet(void **state)
{
    (void)state;
    uint8_t key[RP_MEXT_AUTH_KEY_LEN], pkt[RP_RTP_MAX_PKT], again[RP_RTP_MAX_PKT], want[RP_MEXT_AUTH_LEN];
    for (unsigned i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0xa0 ^ i);
    struct rp_mext_auth *a = rp_mext_auth_new(key);
    assert_non_null(a);
    size_t n = signed_fixture(pkt, sizeof pkt), tag_off = 12 + 4 + 18 + 2;
    /* The context is reset, not re-keyed, between packets: each of these
     * must come out as a fresh HMAC over its own bytes. */
    for (unsigned k = 0; k < 5; k++) {
        pkt[3] = (uint8_t)k;          /* sequence number */
        pkt[n - 1] = (uint8_t)(k * 7); /* payload */
        memset(pkt + tag_off, 0xee, RP_MEXT_AUTH_LEN); /* whatever was there is not hashed */
        memcpy(again, pkt, n);
        assert_int_equal(rp_mext_auth_seal(a, pkt, n), 0);
        assert_int_equal(rp_mext_auth_sign(again, n, key), 0);
        assert_memory_equal(pkt, again, n);
        independent_tag(pkt, n, tag_off, key, want);
        assert_memory_equal(pkt + tag_off, want, sizeof want);
        assert_int_equal(rp_mext_auth_check(a, pkt, n), 0);
        assert_int_equal(rp_mext_auth_verify(pkt, n, key), 0);
    }
    rp_mext_auth_free(a);
}

static void test_keyed_context_rejects_what_the_key_rejects(void **state)
{
    (void)state;
    uint8_t key[RP_MEXT_AUTH_KEY_LEN] = { 1 }, other[RP_MEXT_AUTH_KEY_LEN] = { 2 }, pkt[RP_RTP_MAX_PKT];
    struct rp_mext_auth *a = rp_mext_auth_new(key), *b = rp_mext_auth_new(other);
    assert_non_null(a);
    assert_non_null(b);
    size_t n = signed_fixture(pkt, sizeof pkt);
    assert_int_equal(rp_mext_auth_seal(a, pkt, n), 0);
    assert_int_equal(rp_mext_auth_check(b, pkt, n), -2);
    assert_int_equal(rp_mext_auth_check(a, pkt, n), 0); /* b's failure left a as it was */
    pkt[n - 1] ^= 1;
    assert_int_equal(rp_mext_auth_check(a, pkt, n), -2);
    pkt[n - 1] ^= 1;
    assert_int_equal(rp_mext_auth_check(a, pkt, n), 0);
    uint8_t plain[RP_RTP_MAX_PKT], elem[RP_MEXT_UP_LEN] = { RP_MEXT_VERSION };
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1 };
    size_t m = rp_rtp_build(plain, sizeof plain, &h, RP_MEXT_ID_UP, elem, sizeof elem, NULL, 0);
    assert_int_equal(rp_mext_auth_check(a, plain, m), -1);
    assert_int_equal(rp_mext_auth_seal(a, plain, m), -1);
    assert_int_equal(rp_mext_auth_check(a, plain, 5), -1);
    rp_mext_auth_free(a);
    rp_mext_auth_free(b);
    rp_mext_auth_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_tag_matches_independent_hmac_sha256),
        cmocka_unit_test(test_auth_rejects_tampering_wrong_key_and_missing_tag),
        cmocka_unit_test(test_keyed_context_gives_the_same_tags_packet_after_packet),
        cmocka_unit_test(test_keyed_context_rejects_what_the_key_rejects),
        cmocka_unit_test(test_up_element_has_documented_byte_layout),
        cmocka_unit_test(test_up_element_hand_written_bytes_decode),
        cmocka_unit_test(test_up_element_round_trips_extreme_values),
        cmocka_unit_test(test_up_t1_is_big_endian_nanoseconds),
        cmocka_unit_test(test_down_element_has_documented_byte_layout),
        cmocka_unit_test(test_down_element_hand_written_bytes_decode),
        cmocka_unit_test(test_down_element_round_trips_extreme_values),
        cmocka_unit_test(test_encode_rejects_small_buffer_without_writing),
        cmocka_unit_test(test_decode_rejects_wrong_length),
        cmocka_unit_test(test_decode_rejects_unknown_version),
        cmocka_unit_test(test_decode_ignores_reserved_bytes),
        cmocka_unit_test(test_up_element_in_rtp_packet_has_expected_bytes),
        cmocka_unit_test(test_down_element_in_rtp_packet_round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
