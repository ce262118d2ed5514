/* Unit tests for src/stream.c: one direction of a media stream. Reference
 * packets are written out byte by byte from RFC 3550 §5.1, RFC 8285 §4.3 and
 * docs/wire-format.md; only the HMAC tag is computed (rp_mext_auth_sign on the
 * literal). Every drop reason rp_stream_open decides comes from a hand-made
 * variant of that literal. Then seal -> open round trips, plain and SRTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <malloc.h>

#include "codec.h"
#include "mext.h"
#include "rtp.h"
#include "srtp.h"
#include "stream.h"

#define SSRC 0x11223344u

/* The session's 32-byte HMAC key: 0x00, 0x01, ..., 0x1f. */
static const uint8_t hmac_key[RP_MEXT_AUTH_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* AES_CM_128_HMAC_SHA1_80 master key (16) + salt (14). */
static const uint8_t srtp_key[30] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};

/* Plain-RTP upstream packet: PCMU, seq 0x1234, ts 1600, SSRC 0x11223344,
 * element 1 (up: version 1, flags 0x01 priming, seq 7, t1 0x0102030405060708),
 * element 3 (tag, zero until signed), 2 bytes of padding, 8 bytes of payload. */
#define OFF_SSRC 8
#define OFF_ID1  16
#define OFF_TAG  36
#define OFF_ID3  34
static const uint8_t pkt_plain[] = {
    0x90, 0x00, 0x12, 0x34,             /* V=2 P=0 X=1 CC=0 | M=0 PT=0 | seq 0x1234 */
    0x00, 0x00, 0x06, 0x40,             /* timestamp 1600 */
    0x11, 0x22, 0x33, 0x44,             /* SSRC */
    0x10, 0x00, 0x00, 0x08,             /* two-byte form, 8 words */
    0x01, 0x10,                         /* ID 1, 16 bytes */
    0x01, 0x01, 0x00, 0x00,             /*   version 1, flags priming, reserved */
    0x00, 0x00, 0x00, 0x07,             /*   seq 7 */
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, /* t1 */
    0x03, 0x0a,                         /* ID 3, 10 bytes */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* tag, zero before signing */
    0x00, 0x00,                         /* padding to 32 bits */
    0xff, 0xfe, 0xfd, 0xfc, 0x7f, 0x7e, 0x7d, 0x7c, /* payload */
};

/* The same with a 17-byte element 1 (one byte too many): 2+17+2+10 = 31, one padding byte. */
static const uint8_t pkt_long_elem[] = {
    0x90, 0x00, 0x12, 0x34,
    0x00, 0x00, 0x06, 0x40,
    0x11, 0x22, 0x33, 0x44,
    0x10, 0x00, 0x00, 0x08,
    0x01, 0x11,                         /* ID 1, 17 bytes */
    0x01, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x07,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
    0x99,                               /*   the extra byte */
    0x03, 0x0a,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00,                               /* padding */
    0xff, 0xfe, 0xfd, 0xfc,
};

struct pkt {
    uint8_t b[sizeof pkt_plain];
    size_t len;
};

/* A copy of the literal, optionally changed, then signed with the session key. */
static struct pkt signed_copy(size_t off, uint8_t val)
{
    struct pkt p;
    memcpy(p.b, pkt_plain, sizeof pkt_plain);
    p.len = sizeof pkt_plain;
    if (off < p.len)
        p.b[off] = val;
    assert_int_equal(rp_mext_auth_sign(p.b, p.len, hmac_key), 0);
    return p;
}

static struct rp_stream *new_stream(enum rp_stream_role role, bool srtp, uint8_t elem_id, bool optional)
{
    struct rp_stream_cfg cfg = {
        .role = role, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = SSRC, .elem_id = elem_id,
        .elem_optional = optional, .seq0 = 65533, .ts0 = 0xffffff00u, .bitrate_bps = 64000,
        .loop_frames = 10, .payload_seed = 42, .srtp = srtp, .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80,
        .key = srtp ? srtp_key : hmac_key,
    };
    char err[128] = "";
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    if (!s)
        fail_msg("rp_stream_new: %s", err);
    return s;
}

static enum rp_drop_reason open_plain(const uint8_t *buf, size_t len, struct rp_stream_rx *rx)
{
    struct rp_stream *s = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_UP, false);
    enum rp_drop_reason r = rp_stream_open(s, buf, len, rx);
    rp_stream_free(s);
    return r;
}

/* ---- the hand-written packet ---- */

static void test_signing_fills_only_the_tag_bytes(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    assert_memory_equal(p.b, pkt_plain, OFF_TAG);
    assert_memory_equal(p.b + OFF_TAG + RP_MEXT_AUTH_LEN, pkt_plain + OFF_TAG + RP_MEXT_AUTH_LEN,
                        sizeof pkt_plain - OFF_TAG - RP_MEXT_AUTH_LEN);
    static const uint8_t zero[RP_MEXT_AUTH_LEN];
    assert_memory_not_equal(p.b + OFF_TAG, zero, sizeof zero);
}

static void test_literal_packet_opens_with_its_fields(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_NONE);
    assert_int_equal(rx.rtp_err, RP_RTP_OK);
    assert_int_equal(rx.hdr.pt, 0);
    assert_false(rx.hdr.marker);
    assert_int_equal(rx.hdr.seq, 0x1234);
    assert_int_equal(rx.hdr.ts, 1600);
    assert_int_equal(rx.hdr.ssrc, 0x11223344u);
    assert_true(rx.has_elem);
    assert_int_equal(rx.elem.up.flags, RP_MEXT_F_PRIME);
    assert_int_equal(rx.elem.up.seq, 7);
    assert_true(rx.elem.up.t1_ns == 0x0102030405060708ull);
}

/* ---- each drop reason from a variant of the literal ---- */

static void test_eleven_bytes_are_bad_rtp_too_short(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, 11, &rx), RP_DROP_BAD_RTP);
    assert_int_equal(rx.rtp_err, RP_RTP_ETOOSHORT);
}

static void test_version_1_is_bad_rtp_bad_version(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    p.b[0] = 0x50; /* V=1 X=1, after signing: a V=1 packet cannot be signed */
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_BAD_RTP);
    assert_int_equal(rx.rtp_err, RP_RTP_EVERSION);
}

static void test_other_ssrc_is_wrong_ssrc_even_when_authentic(void **state)
{
    (void)state;
    struct pkt p = signed_copy(OFF_SSRC + 3, 0x45); /* SSRC 0x11223345 */
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_WRONG_SSRC);
    assert_int_equal(rx.hdr.ssrc, 0x11223345u);
}

static void test_other_payload_type_is_wrong_pt(void **state)
{
    (void)state;
    struct pkt p = signed_copy(1, 0x08); /* PT 8, PCMA */
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_WRONG_PT);
}

static void test_flipped_tag_byte_is_auth_failure(void **state)
{
    (void)state;
    for (size_t i = 0; i < RP_MEXT_AUTH_LEN; i++) {
        struct pkt p = signed_copy(SIZE_MAX, 0);
        p.b[OFF_TAG + i] ^= 0x01;
        struct rp_stream_rx rx;
        assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_AUTH);
    }
}

static void test_flipped_payload_byte_is_auth_failure(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    p.b[p.len - 1] ^= 0x80;
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_AUTH);
}

static void test_packet_without_tag_element_is_bad_extension(void **state)
{
    (void)state;
    struct pkt p;
    memcpy(p.b, pkt_plain, sizeof pkt_plain);
    p.len = sizeof pkt_plain;
    p.b[OFF_ID3] = 0x04; /* the tag element becomes an unknown ID 4: no element 3 */
    assert_int_equal(rp_mext_auth_sign(p.b, p.len, hmac_key), -1);
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_BAD_EXT);
}

static void test_missing_up_element_is_bad_extension(void **state)
{
    (void)state;
    struct pkt p = signed_copy(OFF_ID1, 0x05); /* element 1 becomes ID 5; tag still valid */
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_BAD_EXT);
    assert_false(rx.has_elem);
}

static void test_up_element_of_17_bytes_is_bad_extension(void **state)
{
    (void)state;
    uint8_t b[sizeof pkt_long_elem];
    memcpy(b, pkt_long_elem, sizeof b);
    assert_int_equal(rp_mext_auth_sign(b, sizeof b, hmac_key), 0);
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(b, sizeof b, &rx), RP_DROP_BAD_EXT);
    assert_false(rx.has_elem);
}

static void test_up_element_of_version_2_is_bad_extension(void **state)
{
    (void)state;
    struct pkt p = signed_copy(OFF_ID1 + 2, 0x02);
    struct rp_stream_rx rx;
    assert_int_equal(open_plain(p.b, p.len, &rx), RP_DROP_BAD_EXT);
}

static void test_down_stream_wants_element_2_not_1(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    struct rp_stream *s = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_DOWN, false);
    struct rp_stream_rx rx;
    assert_int_equal(rp_stream_open(s, p.b, p.len, &rx), RP_DROP_BAD_EXT);
    rp_stream_free(s);
}

static void test_wrong_key_is_auth_failure(void **state)
{
    (void)state;
    struct pkt p = signed_copy(SIZE_MAX, 0);
    uint8_t other[RP_MEXT_AUTH_KEY_LEN];
    memcpy(other, hmac_key, sizeof other);
    other[31] ^= 0xff;
    struct rp_stream_cfg cfg = { .role = RP_STREAM_OPEN, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = SSRC,
                                 .elem_id = RP_MEXT_ID_UP, .key = other };
    char err[128];
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    assert_non_null(s);
    struct rp_stream_rx rx;
    assert_int_equal(rp_stream_open(s, p.b, p.len, &rx), RP_DROP_AUTH);
    rp_stream_free(s);
}

/* ---- seal -> open, plain RTP ---- */

static const struct rp_stream_elem up_elem = {
    .up = { .flags = 0, .seq = 0xa1b2c3d4u, .t1_ns = 0x1122334455667788ull },
};

static void test_sealed_packet_0_starts_with_the_expected_header(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    uint8_t buf[RP_STREAM_MAX_PKT];
    size_t n = rp_stream_seal(tx, 0, &up_elem, buf, sizeof buf);
    /* seq0 65533, ts0 0xffffff00, marked; then the two-byte extension with element 1. */
    static const uint8_t expected[] = {
        0x90, 0x80, 0xff, 0xfd,
        0xff, 0xff, 0xff, 0x00,
        0x11, 0x22, 0x33, 0x44,
        0x10, 0x00, 0x00, 0x08,
        0x01, 0x10,
        0x01, 0x00, 0x00, 0x00,
        0xa1, 0xb2, 0xc3, 0xd4,
        0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
        0x03, 0x0a,
    };
    /* 12 header + 4 extension header + 32 elements + 160 bytes of PCMU (20 ms). */
    assert_int_equal(n, 12 + 4 + 32 + 160);
    assert_memory_equal(buf, expected, sizeof expected);
    assert_int_equal(rp_mext_auth_verify(buf, n, hmac_key), 0);
    rp_stream_free(tx);
}

static void test_seal_then_open_round_trips(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    struct rp_stream *rx_s = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_UP, false);
    assert_int_equal(rp_stream_ssrc(tx), SSRC);
    uint8_t buf[RP_STREAM_MAX_PKT];
    struct rp_stream_rx rx;

    size_t n = rp_stream_seal(tx, 0, &up_elem, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_true(rx.hdr.marker);
    assert_int_equal(rx.hdr.seq, 65533);
    assert_int_equal(rx.hdr.ts, 0xffffff00u);
    assert_int_equal(rx.hdr.pt, 0);
    assert_true(rx.has_elem);
    assert_int_equal(rx.elem.up.seq, 0xa1b2c3d4u);
    assert_true(rx.elem.up.t1_ns == 0x1122334455667788ull);

    struct rp_stream_elem e5 = { .up = { .flags = RP_MEXT_F_PRIME, .seq = 5, .t1_ns = 99 } };
    n = rp_stream_seal(tx, 5, &e5, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_false(rx.hdr.marker);
    assert_int_equal(rx.hdr.seq, (uint16_t)(65533 + 5)); /* wraps to 2 */
    assert_int_equal(rx.hdr.seq, 2);
    assert_int_equal(rx.hdr.ts, (uint32_t)(0xffffff00u + 5 * 160)); /* wraps too */
    assert_int_equal(rx.elem.up.flags, RP_MEXT_F_PRIME);
    assert_int_equal(rx.elem.up.seq, 5);
    assert_true(rx.elem.up.t1_ns == 99);
    rp_stream_free(tx);
    rp_stream_free(rx_s);
}

static void test_negative_index_precedes_packet_0(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    struct rp_stream *rx_s = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_UP, false);
    uint8_t buf[RP_STREAM_MAX_PKT];
    struct rp_stream_rx rx;
    size_t n = rp_stream_seal(tx, -1, &up_elem, buf, sizeof buf);
    assert_true(n > 0);
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_false(rx.hdr.marker);
    assert_int_equal(rx.hdr.seq, 65532);
    assert_int_equal(rx.hdr.ts, 0xffffff00u - 160);
    rp_stream_free(tx);
    rp_stream_free(rx_s);
}

static void test_down_elements_survive_seal_and_open(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_DOWN, false);
    struct rp_stream *rx_s = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_DOWN, false);
    struct rp_stream_elem e = { .down = { .flags = RP_MEXT_F_REFLECTION, .refl_seq = 11, .t1_ns = 21, .t2_ns = 31,
                                          .t3_ns = 41, .up_received = 51, .down_sent = 61, .up_host_drops = 71 } };
    uint8_t buf[RP_STREAM_MAX_PKT];
    struct rp_stream_rx rx;
    size_t n = rp_stream_seal(tx, 3, &e, buf, sizeof buf);
    /* 12 + 4 + 64 (down 48 + auth 10, headers, padding) + 160. */
    assert_int_equal(n, 12 + 4 + 64 + 160);
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    const struct rp_mext_down *m = &rx.elem.down;
    assert_int_equal(m->flags, RP_MEXT_F_REFLECTION);
    assert_int_equal(m->refl_seq, 11);
    assert_true(m->t1_ns == 21 && m->t2_ns == 31 && m->t3_ns == 41);
    assert_int_equal(m->up_received, 51);
    assert_int_equal(m->down_sent, 61);
    assert_int_equal(m->up_host_drops, 71);
    assert_int_equal(rx.hdr.seq, (uint16_t)(65533 + 3));
    rp_stream_free(tx);
    rp_stream_free(rx_s);
}

static void test_seal_refuses_a_buffer_too_small(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    uint8_t buf[RP_STREAM_MAX_PKT];
    /* 208 bytes of packet plus the SRTP headroom seal keeps. */
    assert_int_equal(rp_stream_seal(tx, 0, &up_elem, buf, 208 + RP_SRTP_MAX_OVERHEAD - 1), 0);
    assert_int_equal(rp_stream_seal(tx, 0, &up_elem, buf, 208 + RP_SRTP_MAX_OVERHEAD), 208);
    rp_stream_free(tx);
}

/* ---- SRTP ---- */

static int group_setup(void **state)
{
    (void)state;
    return rp_srtp_global_init();
}

static int group_teardown(void **state)
{
    (void)state;
    rp_srtp_global_fini();
    return 0;
}

static void test_srtp_seal_then_open_then_replay_then_flip(void **state)
{
    (void)state;
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, true, RP_MEXT_ID_UP, false);
    struct rp_stream *rx_s = new_stream(RP_STREAM_OPEN, true, RP_MEXT_ID_UP, false);
    uint8_t buf[RP_STREAM_MAX_PKT], copy[RP_STREAM_MAX_PKT];
    struct rp_stream_rx rx;

    size_t n = rp_stream_seal(tx, 0, &up_elem, buf, sizeof buf);
    /* 12 + 4 + 20 (up element alone, padded) + 160 + 10 (SRTP tag). */
    assert_int_equal(n, 12 + 4 + 20 + 160 + 10);
    memcpy(copy, buf, n);
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_memory_equal(buf, copy, n); /* open leaves the caller's datagram alone */
    assert_int_equal(rx.hdr.seq, 65533);
    assert_true(rx.hdr.marker);
    assert_true(rx.has_elem);
    assert_int_equal(rx.elem.up.seq, 0xa1b2c3d4u);
    assert_true(rx.elem.up.t1_ns == 0x1122334455667788ull);

    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_REPLAY);

    n = rp_stream_seal(tx, 1, &up_elem, buf, sizeof buf);
    assert_true(n > 0);
    buf[n - 20] ^= 0x01; /* a payload byte */
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_AUTH);
    buf[n - 20] ^= 0x01; /* the untouched packet still opens: the failure was not recorded as seen */
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_int_equal(rx.hdr.seq, 65534);
    rp_stream_free(tx);
    rp_stream_free(rx_s);
}

/* SRTP-protects a hand-made RTP packet with the test key. */
static size_t protect(uint8_t *buf, size_t n, size_t cap)
{
    char err[128];
    struct rp_srtp *out = rp_srtp_new(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, srtp_key, sizeof srtp_key,
                                      err, sizeof err);
    assert_non_null(out);
    assert_int_equal(rp_srtp_protect(out, buf, &n, cap), RP_SRTP_OK);
    rp_srtp_free(out);
    return n;
}

/* An SRTP packet with no measurement element, as ffmpeg sends. */
static size_t foreign_srtp_packet(uint8_t *buf, size_t cap)
{
    struct rp_rtp_hdr h = { .pt = 0, .seq = 1000, .ts = 160000, .ssrc = SSRC };
    static const uint8_t payload[160] = { 0xff };
    size_t n = rp_rtp_build(buf, cap - RP_SRTP_MAX_OVERHEAD, &h, 0, NULL, 0, payload, sizeof payload);
    assert_int_equal(n, 12 + 160);
    return protect(buf, n, cap);
}

static void test_srtp_without_element_is_taken_only_when_optional(void **state)
{
    (void)state;
    uint8_t buf[RP_STREAM_MAX_PKT];
    size_t n = foreign_srtp_packet(buf, sizeof buf);
    assert_int_equal(n, 12 + 160 + 10);
    struct rp_stream_rx rx;

    struct rp_stream *opt = new_stream(RP_STREAM_OPEN, true, RP_MEXT_ID_UP, true);
    assert_int_equal(rp_stream_open(opt, buf, n, &rx), RP_DROP_NONE);
    assert_false(rx.has_elem);
    assert_int_equal(rx.hdr.seq, 1000);
    assert_int_equal(rx.hdr.ts, 160000);
    rp_stream_free(opt);

    struct rp_stream *req = new_stream(RP_STREAM_OPEN, true, RP_MEXT_ID_UP, false);
    assert_int_equal(rp_stream_open(req, buf, n, &rx), RP_DROP_BAD_EXT);
    assert_false(rx.has_elem);
    rp_stream_free(req);
}

/* A browser's stream: SRTP, no measurement element either way, and the
 * abs-send-time ID its SDP agreed (0 = none). */
static struct rp_stream *browser_stream(enum rp_stream_role role, uint8_t ast_id)
{
    struct rp_stream_cfg cfg = {
        .role = role, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = SSRC, .elem_id = RP_MEXT_ID_UP,
        .elem_optional = true, .seq0 = 100, .ts0 = 0, .bitrate_bps = 64000, .loop_frames = 10, .payload_seed = 42,
        .srtp = true, .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80, .key = srtp_key, .no_elem = true,
        .abs_send_time_id = ast_id,
    };
    char err[128] = "";
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    if (!s)
        fail_msg("rp_stream_new: %s", err);
    return s;
}

/* A stamp sealed in reads back as it was written. */
static void test_abs_send_time_is_sealed_and_read_back(void **state)
{
    (void)state;
    struct rp_stream *tx = browser_stream(RP_STREAM_SEAL, 5), *rx_s = browser_stream(RP_STREAM_OPEN, 5);
    static const uint32_t stamps[] = { 0xFFFF00u, 0x000100u, 0xABCDEFu };
    for (size_t i = 0; i < sizeof stamps / sizeof stamps[0]; i++) {
        struct rp_stream_elem e = { .abs_send_time = stamps[i] };
        uint8_t buf[RP_STREAM_MAX_PKT];
        size_t n = rp_stream_seal(tx, (int64_t)i, &e, buf, sizeof buf);
        assert_true(n > 0);
        struct rp_stream_rx rx;
        assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
        assert_false(rx.has_elem);
        assert_true(rx.has_send_time);
        assert_int_equal(rx.send_stamp, stamps[i]);
    }
    rp_stream_free(tx);
    rp_stream_free(rx_s);
}

/* As Chromium sends it: RFC 8285's one-byte form (0xBEDE), the audio level
 * in ID 1, abs-send-time in ID 5, then padding. A stamp of the wrong length
 * at the agreed ID is no stamp, and the packet is still media. */
static void test_one_byte_form_stamp_as_chromium_sends_it(void **state)
{
    (void)state;
    uint8_t buf[RP_STREAM_MAX_PKT] = {
        0x90, 0x00, 0x00, 0x07,             /* V=2 X=1 | PT 0 | seq 7 */
        0x00, 0x00, 0x04, 0x60,             /* ts 1120 */
        0x11, 0x22, 0x33, 0x44,             /* SSRC */
        0xBE, 0xDE, 0x00, 0x02,             /* one-byte form, 2 words */
        0x10, 0x8a,                         /* ID 1, 1 byte: audio level */
        0x52, 0x12, 0x34, 0x56,             /* ID 5, 3 bytes: abs-send-time 0x123456 */
        0x00, 0x00,                         /* padding */
    };
    size_t hdr = 24;
    memset(buf + hdr, 0xff, 160);
    struct rp_stream *rx_s = browser_stream(RP_STREAM_OPEN, 5);
    struct rp_stream_rx rx;
    uint8_t pkt[RP_STREAM_MAX_PKT];
    memcpy(pkt, buf, sizeof pkt);
    size_t n = protect(pkt, hdr + 160, sizeof pkt);
    assert_int_equal(rp_stream_open(rx_s, pkt, n, &rx), RP_DROP_NONE);
    assert_true(rx.has_send_time);
    assert_int_equal(rx.send_stamp, 0x123456u);

    buf[3] = 0x08;                          /* the next packet; ID 5 now 2 bytes */
    buf[18] = 0x51;
    memcpy(pkt, buf, sizeof pkt);
    n = protect(pkt, hdr + 160, sizeof pkt);
    assert_int_equal(rp_stream_open(rx_s, pkt, n, &rx), RP_DROP_NONE);
    assert_false(rx.has_send_time);
    assert_int_equal(rx.hdr.seq, 8);
    rp_stream_free(rx_s);
}

/* An abs-send-time ID must be one the SDP could agree, and not clash. */
static void test_abs_send_time_id_is_checked(void **state)
{
    (void)state;
    char err[128];
    struct rp_stream_cfg cfg = {
        .role = RP_STREAM_OPEN, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = SSRC, .elem_id = RP_MEXT_ID_UP,
        .srtp = true, .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80, .key = srtp_key, .abs_send_time_id = 15,
    };
    assert_null(rp_stream_new(&cfg, err, sizeof err));
    cfg.abs_send_time_id = RP_MEXT_ID_UP;          /* the measurement element's */
    assert_null(rp_stream_new(&cfg, err, sizeof err));
    cfg.no_elem = true;                            /* a browser's: ID 1 is free */
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    assert_non_null(s);
    rp_stream_free(s);
    cfg.abs_send_time_id = RP_MEXT_ID_AUTH;        /* plain RTP's tag: free under SRTP */
    s = rp_stream_new(&cfg, err, sizeof err);
    assert_non_null(s);
    rp_stream_free(s);
    cfg.srtp = false;                              /* taken by the tag in plain RTP */
    cfg.key = hmac_key;
    assert_null(rp_stream_new(&cfg, err, sizeof err));
}

/* A browser's packet is media whatever its other elements are: Chromium
 * puts the audio level in ID 1, the element ID of our probe's upstream. */
static void test_browser_stream_takes_any_element_and_a_missing_stamp(void **state)
{
    (void)state;
    uint8_t buf[RP_STREAM_MAX_PKT];
    struct rp_rtp_hdr h = { .pt = 0, .seq = 7, .ts = 1120, .ssrc = SSRC };
    static const uint8_t level[1] = { 0x8a }, payload[160] = { 0xff };
    size_t n = rp_rtp_build(buf, sizeof buf - RP_SRTP_MAX_OVERHEAD, &h, RP_MEXT_ID_UP, level, sizeof level, payload,
                            sizeof payload);
    n = protect(buf, n, sizeof buf);
    struct rp_stream *rx_s = browser_stream(RP_STREAM_OPEN, 5);
    struct rp_stream_rx rx;
    assert_int_equal(rp_stream_open(rx_s, buf, n, &rx), RP_DROP_NONE);
    assert_false(rx.has_send_time);
    assert_int_equal(rx.hdr.seq, 7);
    rp_stream_free(rx_s);
    /* our probe's stream still wants its own element there */
    struct rp_stream *probe = new_stream(RP_STREAM_OPEN, true, RP_MEXT_ID_UP, true);
    assert_int_equal(rp_stream_open(probe, buf, n, &rx), RP_DROP_BAD_EXT);
    rp_stream_free(probe);
}

/* 16 bytes: too short for header + an 80-bit tag, so libsrtp refuses it unread. */
static void test_unreadable_srtp_is_judged_from_its_clear_header(void **state)
{
    (void)state;
    static const uint8_t foreign[16] = {
        0xa0, 0x00, 0x00, 0x01, /* V=2 P=1 | PT 0 | seq 1 */
        0x00, 0x00, 0x00, 0xa0, /* ts 160 */
        0x55, 0x66, 0x77, 0x88, /* someone else's SSRC */
        0x01, 0x02, 0x03, 0x00, /* last byte: padding count 0, invalid if P were honoured */
    };
    static const uint8_t v1[16] = {
        0x60, 0x00, 0x00, 0x01, /* V=1 P=1 */
        0x00, 0x00, 0x00, 0xa0,
        0x11, 0x22, 0x33, 0x44, /* our SSRC */
        0x01, 0x02, 0x03, 0x04,
    };
    struct rp_stream *s = new_stream(RP_STREAM_OPEN, true, RP_MEXT_ID_UP, false);
    struct rp_stream_rx rx;
    assert_int_equal(rp_stream_open(s, foreign, sizeof foreign, &rx), RP_DROP_WRONG_SSRC);
    assert_int_equal(rx.rtp_err, RP_RTP_OK);
    assert_int_equal(rp_stream_open(s, v1, sizeof v1, &rx), RP_DROP_BAD_RTP);
    assert_int_equal(rx.rtp_err, RP_RTP_EVERSION);
    assert_int_equal(rp_stream_open(s, v1, 5, &rx), RP_DROP_BAD_RTP);
    assert_int_equal(rx.rtp_err, RP_RTP_ETOOSHORT);
    rp_stream_free(s);
}

/* ---- names ---- */

static void test_drop_reason_names_are_the_documented_ones(void **state)
{
    (void)state;
    static const char *const names[RP_DROP_COUNT] = {
        [RP_DROP_NONE] = "none",
        [RP_DROP_BAD_RTP] = "bad_rtp",
        [RP_DROP_WRONG_SSRC] = "wrong_ssrc",
        [RP_DROP_WRONG_PT] = "wrong_pt",
        [RP_DROP_BAD_EXT] = "bad_extension",
        [RP_DROP_AUTH] = "auth_failure",
        [RP_DROP_REPLAY] = "replay",
        [RP_DROP_STOPPED] = "after_stop",
        [RP_DROP_OVERSIZED] = "oversized",
        [RP_DROP_FOREIGN_SOURCE] = "foreign_source",
    };
    for (int r = 0; r < RP_DROP_COUNT; r++) {
        assert_non_null(names[r]);
        assert_string_equal(rp_drop_reason_name((enum rp_drop_reason)r), names[r]);
    }
    assert_int_equal(RP_DROP_FIRST, RP_DROP_BAD_RTP);
    assert_string_equal(rp_drop_reason_name(RP_DROP_COUNT), "unknown");
}

static void test_sealed_tag_is_the_one_sealed_before_the_keyed_context(void **state)
{
    (void)state;
    /* Captured from rp_stream_seal as it was when it called HMAC() per packet
     * (commit 4a69adb): the keyed context must not change one bit. The tag
     * covers the whole packet, so this also pins the private payload loop. */
    static const uint8_t tag_then[RP_MEXT_AUTH_LEN] = { 0xc3, 0xe7, 0xe8, 0xdf, 0x2e, 0x0e, 0x4e, 0xe1, 0xdf, 0x6a };
    struct rp_stream *tx = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_DOWN, false);
    struct rp_stream *rx = new_stream(RP_STREAM_OPEN, false, RP_MEXT_ID_DOWN, false);
    struct rp_stream_elem e = { .down = { .flags = 1, .refl_seq = 7, .t1_ns = 0x0102030405060708ull, .t2_ns = 2,
                                          .t3_ns = 3, .up_received = 4, .down_sent = 5 } };
    uint8_t buf[RP_STREAM_MAX_PKT];
    size_t tag_off = 12 + 4 + 2 + RP_MEXT_DOWN_LEN + 2;
    size_t n = rp_stream_seal(tx, 0, &e, buf, sizeof buf);
    assert_int_equal(n, 12 + 4 + 64 + 160);
    assert_memory_equal(buf + tag_off, tag_then, sizeof tag_then);
    /* And packet after packet, the tag the per-key function computes. */
    for (int64_t i = 1; i < 4; i++) {
        struct rp_stream_rx got;
        n = rp_stream_seal(tx, i, &e, buf, sizeof buf);
        assert_int_equal(rp_mext_auth_verify(buf, n, hmac_key), 0);
        assert_int_equal(rp_stream_open(rx, buf, n, &got), RP_DROP_NONE);
        buf[n - 1] ^= 0x01;
        assert_int_equal(rp_stream_open(rx, buf, n, &got), RP_DROP_AUTH);
    }
    rp_stream_free(tx);
    rp_stream_free(rx);
}

static struct rp_stream *cached_stream(struct rp_payload_cache *c, unsigned ptime_ms, uint32_t seed)
{
    struct rp_stream_cfg cfg = {
        .role = RP_STREAM_SEAL, .codec = RP_CODEC_PCMU, .ptime_ms = ptime_ms, .ssrc = SSRC,
        .elem_id = RP_MEXT_ID_DOWN, .bitrate_bps = 64000, .loop_frames = 10, .payload_seed = seed,
        .payload_cache = c, .key = hmac_key,
    };
    char err[128] = "";
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    if (!s)
        fail_msg("rp_stream_new: %s", err);
    return s;
}

/* The payload of packet `index`: the last `plen` bytes of the sealed packet. */
static const uint8_t *sealed_payload(struct rp_stream *s, int64_t index, uint8_t *buf, size_t plen)
{
    struct rp_stream_elem e = { .down = { .refl_seq = 1 } };
    size_t n = rp_stream_seal(s, index, &e, buf, RP_STREAM_MAX_PKT);
    assert_true(n > plen);
    return buf + n - plen;
}

static void test_streams_with_a_cache_send_from_one_shared_loop(void **state)
{
    (void)state;
    struct rp_payload_cache *c = rp_payload_cache_new(9);
    assert_non_null(c);
    struct rp_stream *a = cached_stream(c, 20, 42);
    const struct rp_payloads *loop = rp_stream_loop(a);
    assert_non_null(loop);
    assert_int_equal(rp_payload_cache_loops(c), 1);
    /* A second stream of the same kind takes the loop without making one:
     * the same block, and far less memory than a 16 KiB loop. */
    struct mallinfo2 before = mallinfo2();
    struct rp_stream *b = cached_stream(c, 20, 43);
    struct mallinfo2 after = mallinfo2();
    assert_ptr_equal(rp_stream_loop(b), loop);
    assert_int_equal(rp_payload_cache_loops(c), 1);
    assert_true((long long)after.uordblks - (long long)before.uordblks < 4096); /* 0 under ASan (own allocator) */
    /* Each enters the loop at its seed: a at frame 2, b at frame 3. */
    uint8_t ba[RP_STREAM_MAX_PKT], bb[RP_STREAM_MAX_PKT];
    size_t flen;
    const uint8_t *f2 = rp_payloads_get(loop, 2, &flen), *f3 = rp_payloads_get(loop, 3, NULL);
    assert_int_equal(flen, 160);
    assert_memory_equal(sealed_payload(a, 0, ba, flen), f2, flen);
    assert_memory_equal(sealed_payload(b, 0, bb, flen), f3, flen);
    assert_memory_equal(sealed_payload(a, 1, ba, flen), f3, flen);
    assert_memory_equal(sealed_payload(a, 8, ba, flen), rp_payloads_get(loop, 0, NULL), flen); /* wraps */
    assert_memory_equal(sealed_payload(a, -2, ba, flen), rp_payloads_get(loop, 0, NULL), flen); /* priming */
    assert_true(memcmp(f2, f3, flen) != 0);
    /* Another ptime is another loop; a loop goes with its last stream. */
    struct rp_stream *d = cached_stream(c, 40, 42);
    assert_ptr_not_equal(rp_stream_loop(d), loop);
    assert_int_equal(rp_payload_cache_loops(c), 2);
    rp_stream_free(a);
    assert_int_equal(rp_payload_cache_loops(c), 2);
    rp_stream_free(b);
    assert_int_equal(rp_payload_cache_loops(c), 1);
    rp_stream_free(d);
    assert_int_equal(rp_payload_cache_loops(c), 0);
    rp_payload_cache_free(c);
}

static void test_a_cached_loop_that_cannot_be_made_fails_the_stream(void **state)
{
    (void)state;
    struct rp_payload_cache *c = rp_payload_cache_new(9);
    struct rp_stream_cfg cfg = {
        .role = RP_STREAM_SEAL, .codec = RP_CODEC_PCMU, .ptime_ms = 25, .ssrc = SSRC, .elem_id = RP_MEXT_ID_DOWN,
        .bitrate_bps = 64000, .loop_frames = 10, .payload_cache = c, .key = hmac_key,
    };
    char err[128] = "";
    assert_null(rp_stream_new(&cfg, err, sizeof err));
    assert_string_equal(err, "ptime 25 ms is not valid for pcmu");
    assert_int_equal(rp_payload_cache_loops(c), 0);
    /* An open stream takes no loop from the cache. */
    cfg.role = RP_STREAM_OPEN;
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    assert_non_null(s);
    assert_null(rp_stream_loop(s));
    assert_int_equal(rp_payload_cache_loops(c), 0);
    rp_stream_free(s);
    rp_payload_cache_free(c);
}

static void test_private_loops_belong_to_their_stream(void **state)
{
    (void)state;
    struct rp_stream *a = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    struct rp_stream *b = new_stream(RP_STREAM_SEAL, false, RP_MEXT_ID_UP, false);
    assert_non_null(rp_stream_loop(a));
    assert_ptr_not_equal(rp_stream_loop(a), rp_stream_loop(b));
    /* Packet i carries frame i of its own loop (no offset without a cache). */
    uint8_t buf[RP_STREAM_MAX_PKT];
    size_t flen;
    const uint8_t *f4 = rp_payloads_get(rp_stream_loop(a), 4, &flen);
    assert_memory_equal(sealed_payload(a, 4, buf, flen), f4, flen);
    rp_stream_free(a);
    rp_stream_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sealed_tag_is_the_one_sealed_before_the_keyed_context),
        cmocka_unit_test(test_streams_with_a_cache_send_from_one_shared_loop),
        cmocka_unit_test(test_a_cached_loop_that_cannot_be_made_fails_the_stream),
        cmocka_unit_test(test_private_loops_belong_to_their_stream),
        cmocka_unit_test(test_signing_fills_only_the_tag_bytes),
        cmocka_unit_test(test_literal_packet_opens_with_its_fields),
        cmocka_unit_test(test_eleven_bytes_are_bad_rtp_too_short),
        cmocka_unit_test(test_version_1_is_bad_rtp_bad_version),
        cmocka_unit_test(test_other_ssrc_is_wrong_ssrc_even_when_authentic),
        cmocka_unit_test(test_other_payload_type_is_wrong_pt),
        cmocka_unit_test(test_flipped_tag_byte_is_auth_failure),
        cmocka_unit_test(test_flipped_payload_byte_is_auth_failure),
        cmocka_unit_test(test_packet_without_tag_element_is_bad_extension),
        cmocka_unit_test(test_missing_up_element_is_bad_extension),
        cmocka_unit_test(test_up_element_of_17_bytes_is_bad_extension),
        cmocka_unit_test(test_up_element_of_version_2_is_bad_extension),
        cmocka_unit_test(test_down_stream_wants_element_2_not_1),
        cmocka_unit_test(test_wrong_key_is_auth_failure),
        cmocka_unit_test(test_sealed_packet_0_starts_with_the_expected_header),
        cmocka_unit_test(test_seal_then_open_round_trips),
        cmocka_unit_test(test_negative_index_precedes_packet_0),
        cmocka_unit_test(test_down_elements_survive_seal_and_open),
        cmocka_unit_test(test_seal_refuses_a_buffer_too_small),
        cmocka_unit_test(test_srtp_seal_then_open_then_replay_then_flip),
        cmocka_unit_test(test_srtp_without_element_is_taken_only_when_optional),
        cmocka_unit_test(test_abs_send_time_is_sealed_and_read_back),
        cmocka_unit_test(test_one_byte_form_stamp_as_chromium_sends_it),
        cmocka_unit_test(test_abs_send_time_id_is_checked),
        cmocka_unit_test(test_browser_stream_takes_any_element_and_a_missing_stamp),
        cmocka_unit_test(test_unreadable_srtp_is_judged_from_its_clear_header),
        cmocka_unit_test(test_drop_reason_names_are_the_documented_ones),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
