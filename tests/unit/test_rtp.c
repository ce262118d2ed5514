/* Unit tests for src/rtp.c. Reference packets are written out byte by byte from
 * RFC 3550 §5.1 and RFC 8285 §4.2/§4.3, as Wireshark's hex pane would show them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtp.h"

/* PCMU packet, marker set, seq 4660, ts 1600, SSRC 0xDEADBEEF, carrying a one-byte-form
 * extension with abs-send-time (ID 3, 3 bytes), one padding byte, transport-cc (ID 5,
 * 2 bytes), then 4 bytes of payload. */
static const uint8_t pkt_one_byte[] = {
    0x90, 0x80, 0x12, 0x34,             /* V=2 P=0 X=1 CC=0 | M=1 PT=0 | seq 0x1234 */
    0x00, 0x00, 0x06, 0x40,             /* timestamp 1600 */
    0xde, 0xad, 0xbe, 0xef,             /* SSRC */
    0xbe, 0xde, 0x00, 0x02,             /* one-byte form, 2 words */
    0x32, 0x12, 0x34, 0x56,             /* ID 3, L=2 (3 bytes): 12 34 56 */
    0x00,                               /* padding */
    0x51, 0x00, 0x2a,                   /* ID 5, L=1 (2 bytes): 00 2a */
    0xff, 0xff, 0xff, 0xff,             /* payload */
};

/* PCMA, two CSRCs, three bytes of RTP padding, no extension. */
static const uint8_t pkt_csrc_padding[] = {
    0xa2, 0x08, 0xff, 0xfe,             /* V=2 P=1 X=0 CC=2 | M=0 PT=8 | seq 65534 */
    0x00, 0x01, 0x00, 0x00,             /* timestamp 65536 */
    0x80, 0x00, 0x00, 0x01,             /* SSRC */
    0x00, 0x00, 0x00, 0x0a,             /* CSRC 10 */
    0x00, 0x00, 0x00, 0x0b,             /* CSRC 11 */
    0xd5, 0xd5,                         /* payload */
    0x00, 0x00, 0x03,                   /* padding, count 3 */
};

/* Two-byte form: a zero-length element, a padding byte, a 3-byte element; no payload. */
static const uint8_t pkt_two_byte[] = {
    0x90, 0x6f, 0x00, 0x01,             /* V=2 X=1 | M=0 PT=111 | seq 1 */
    0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01,
    0x10, 0x00, 0x00, 0x02,             /* two-byte form, appbits 0, 2 words */
    0x01, 0x00,                         /* ID 1, length 0 */
    0x00,                               /* padding */
    0x02, 0x03, 0xaa, 0xbb, 0xcc,       /* ID 2, length 3 */
};

/* Copy into an exact-size heap block so that ASan sees any read past the end. */
static uint8_t *dup_exact(const uint8_t *src, size_t len)
{
    uint8_t *p = malloc(len > 0 ? len : 1);
    assert_non_null(p);
    if (len > 0)
        memcpy(p, src, len);
    return p;
}

static enum rp_rtp_err parse_exact(const uint8_t *src, size_t len, struct rp_rtp_pkt *out)
{
    uint8_t *copy = dup_exact(src, len);
    enum rp_rtp_err err = rp_rtp_parse(copy, len, out);
    free(copy);
    return err;
}

/* ---- parsing hand-written packets ---- */

static void test_one_byte_extension_packet_fields_are_parsed(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    assert_int_equal(rp_rtp_parse(pkt_one_byte, sizeof(pkt_one_byte), &p), RP_RTP_OK);
    assert_int_equal(p.hdr.pt, 0);
    assert_true(p.hdr.marker);
    assert_int_equal(p.hdr.seq, 4660);
    assert_int_equal(p.hdr.ts, 1600);
    assert_int_equal(p.hdr.ssrc, 0xDEADBEEFu);
    assert_int_equal(p.csrc_count, 0);
    assert_true(p.has_ext);
    assert_int_equal(p.ext_profile, 0xBEDE);
    assert_ptr_equal(p.ext, pkt_one_byte + 16);
    assert_int_equal(p.ext_len, 8);
    assert_ptr_equal(p.payload, pkt_one_byte + 24);
    assert_int_equal(p.payload_len, 4);
    assert_int_equal(p.padding_len, 0);
}

static void test_one_byte_elements_are_found_across_padding(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(pkt_one_byte, sizeof(pkt_one_byte), &p), RP_RTP_OK);

    assert_int_equal(rp_rtp_ext_find(&p, 3, &d, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(d, ((const uint8_t[]){0x12, 0x34, 0x56}), 3);

    assert_int_equal(rp_rtp_ext_find(&p, 5, &d, &n), 1);
    assert_int_equal(n, 2);
    assert_memory_equal(d, ((const uint8_t[]){0x00, 0x2a}), 2);
    assert_ptr_equal(d, pkt_one_byte + 22);
}

static void test_absent_element_id_is_not_found(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(pkt_one_byte, sizeof(pkt_one_byte), &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 0);
    assert_int_equal(rp_rtp_ext_find(&p, 14, &d, &n), 0);
    assert_int_equal(rp_rtp_ext_find(&p, 15, &d, &n), 0);  /* not a valid one-byte ID */
    assert_int_equal(rp_rtp_ext_find(&p, 200, &d, &n), 0);
    assert_int_equal(rp_rtp_ext_find(&p, 0, &d, &n), 0);   /* 0 is padding, never an element */
}

static void test_csrc_list_and_padding_are_skipped(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(pkt_csrc_padding, sizeof(pkt_csrc_padding), &p), RP_RTP_OK);
    assert_int_equal(p.hdr.pt, 8);
    assert_false(p.hdr.marker);
    assert_int_equal(p.hdr.seq, 65534);
    assert_int_equal(p.hdr.ts, 65536);
    assert_int_equal(p.hdr.ssrc, 0x80000001u);
    assert_int_equal(p.csrc_count, 2);
    assert_false(p.has_ext);
    assert_ptr_equal(p.payload, pkt_csrc_padding + 20);
    assert_int_equal(p.payload_len, 2);
    assert_int_equal(p.padding_len, 3);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 0);
}

static void test_two_byte_elements_allow_zero_length_and_padding(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 99;
    assert_int_equal(rp_rtp_parse(pkt_two_byte, sizeof(pkt_two_byte), &p), RP_RTP_OK);
    assert_int_equal(p.hdr.pt, 111);
    assert_false(p.hdr.marker);
    assert_int_equal(p.ext_profile, 0x1000);
    assert_int_equal(p.ext_len, 8);
    assert_int_equal(p.payload_len, 0);

    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);
    assert_int_equal(n, 0);
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), 1);
    assert_int_equal(n, 3);
    assert_memory_equal(d, ((const uint8_t[]){0xaa, 0xbb, 0xcc}), 3);
    assert_int_equal(rp_rtp_ext_find(&p, 3, &d, &n), 0);
}

static void test_two_byte_form_accepts_any_appbits(void **state)
{
    (void)state;
    uint8_t b[sizeof(pkt_two_byte)];
    memcpy(b, pkt_two_byte, sizeof(b));
    b[13] = 0x0f;                       /* profile 0x100F: appbits 0xF */
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), 1);
    assert_int_equal(n, 3);
}

static void test_non_rfc8285_extension_has_no_elements(void **state)
{
    (void)state;
    uint8_t b[sizeof(pkt_two_byte)];
    memcpy(b, pkt_two_byte, sizeof(b));
    b[12] = 0xab;                       /* profile 0xAB00: some other profile's extension */
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_true(p.has_ext);
    assert_int_equal(p.ext_profile, 0xAB00);
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), 0);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 0);
}

static void test_extension_of_zero_words_is_valid_and_empty(void **state)
{
    (void)state;
    static const uint8_t b[] = {
        0x90, 0x00, 0x00, 0x07, 0, 0, 0, 0, 0, 0, 0, 0,
        0xbe, 0xde, 0x00, 0x00,
        0x7f,
    };
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_true(p.has_ext);
    assert_int_equal(p.ext_len, 0);
    assert_int_equal(p.payload_len, 1);
    assert_int_equal(p.payload[0], 0x7f);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 0);
}

/* ---- ext_find edge cases ---- */

static struct rp_rtp_pkt ext_pkt(uint16_t profile, const uint8_t *body, size_t len)
{
    struct rp_rtp_pkt p;
    memset(&p, 0, sizeof(p));
    p.has_ext = true;
    p.ext_profile = profile;
    p.ext = body;
    p.ext_len = len;
    return p;
}

static void test_one_byte_id_15_stops_parsing(void **state)
{
    (void)state;
    const uint8_t *d = NULL;
    size_t n = 0;
    /* ID 1 (1 byte), then ID 15 with L=0. Were ID 15 an ordinary element, it would
     * cover the next byte and ID 2 would follow; RFC 8285 §4.2 says stop instead. */
    static const uint8_t hides_element[] = {0x10, 0xaa, 0xf0, 0x00, 0x20, 0xbb, 0x00, 0x00};
    struct rp_rtp_pkt p = ext_pkt(0xBEDE, hides_element, sizeof(hides_element));
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);
    assert_int_equal(n, 1);
    assert_int_equal(d[0], 0xaa);
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), 0);

    /* Behind ID 15, an element running past the end is not seen either. */
    static const uint8_t hides_damage[] = {0x10, 0xaa, 0xf0, 0x00, 0x3f, 0x00, 0x00, 0x00};
    p = ext_pkt(0xBEDE, hides_damage, sizeof(hides_damage));
    assert_int_equal(rp_rtp_ext_find(&p, 3, &d, &n), 0);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);
}

static void test_one_byte_element_running_past_end_is_malformed(void **state)
{
    (void)state;
    /* ID 1 fine, then ID 2 with L=3 (4 bytes) but only 3 bytes follow. */
    static const uint8_t body[] = {0x10, 0xaa, 0x23, 0x01, 0x02, 0x03};
    struct rp_rtp_pkt p = ext_pkt(0xBEDE, body, sizeof(body));
    const uint8_t *d = NULL;
    size_t n = 0;
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), -1);
    assert_int_equal(rp_rtp_ext_find(&p, 7, &d, &n), -1);
    /* An element before the damage is still reported. */
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);

    static const uint8_t lone_header[] = {0x00, 0x00, 0x00, 0x40};  /* ID 4 with no data */
    p = ext_pkt(0xBEDE, lone_header, sizeof(lone_header));
    assert_int_equal(rp_rtp_ext_find(&p, 4, &d, &n), -1);
}

static void test_two_byte_element_running_past_end_is_malformed(void **state)
{
    (void)state;
    const uint8_t *d = NULL;
    size_t n = 0;
    static const uint8_t too_long[] = {0x01, 0x01, 0xaa, 0x02, 0x04, 0x01, 0x02, 0x03};
    struct rp_rtp_pkt p = ext_pkt(0x1000, too_long, sizeof(too_long));
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &n), -1);
    assert_int_equal(rp_rtp_ext_find(&p, 9, &d, &n), -1);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);

    /* Length byte itself missing: last byte is a non-zero ID. */
    static const uint8_t no_len[] = {0x01, 0x01, 0xaa, 0x00, 0x00, 0x00, 0x00, 0x05};
    p = ext_pkt(0x1000, no_len, sizeof(no_len));
    assert_int_equal(rp_rtp_ext_find(&p, 5, &d, &n), -1);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 1);
}

static void test_packet_without_extension_has_no_elements(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    const uint8_t *d = NULL;
    size_t n = 0;
    static const uint8_t b[] = {0x80, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_false(p.has_ext);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &n), 0);
}

/* ---- malformed packets ---- */

static void test_truncated_header_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    for (size_t len = 0; len < RP_RTP_HDR_LEN; len++)
        assert_int_equal(parse_exact(pkt_one_byte, len, &p), RP_RTP_ETOOSHORT);
}

static void test_version_other_than_2_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    uint8_t b[sizeof(pkt_one_byte)];
    static const uint8_t first_bytes[] = {0x10, 0x50, 0xd0}; /* V=0, V=1, V=3, X=1 */
    for (size_t i = 0; i < sizeof(first_bytes); i++) {
        memcpy(b, pkt_one_byte, sizeof(b));
        b[0] = first_bytes[i];
        assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EVERSION);
    }
}

static void test_csrc_count_15_with_too_few_bytes_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    uint8_t b[12 + 15 * 4];
    memset(b, 0, sizeof(b));
    b[0] = 0x8f;                        /* V=2, CC=15: needs 72 bytes */
    for (size_t len = 12; len < sizeof(b); len++)
        assert_int_equal(parse_exact(b, len, &p), RP_RTP_ECSRC);
    assert_int_equal(parse_exact(b, sizeof(b), &p), RP_RTP_OK);
    assert_int_equal(p.csrc_count, 15);
    assert_int_equal(p.payload_len, 0);
}

static void test_extension_header_or_length_past_end_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    /* X set but fewer than 4 bytes for the extension header. */
    for (size_t len = 12; len < 16; len++)
        assert_int_equal(parse_exact(pkt_one_byte, len, &p), RP_RTP_EEXT);
    /* Extension says 2 words, fewer than 8 bytes follow. */
    for (size_t len = 16; len < 24; len++)
        assert_int_equal(parse_exact(pkt_one_byte, len, &p), RP_RTP_EEXT);

    /* Length field 0xFFFF words on a short packet. */
    uint8_t b[sizeof(pkt_one_byte)];
    memcpy(b, pkt_one_byte, sizeof(b));
    b[14] = 0xff;
    b[15] = 0xff;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EEXT);
    /* 3 words: 12 bytes wanted, 8 + 4 payload bytes present: exactly fits, valid. */
    b[14] = 0x00;
    b[15] = 0x03;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_int_equal(p.ext_len, 12);
    assert_int_equal(p.payload_len, 0);
    /* 4 words: one word too many. */
    b[15] = 0x04;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EEXT);
}

static void test_csrc_then_extension_past_end_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    static const uint8_t b[] = {
        0x91, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,   /* X=1, CC=1 */
        0x00, 0x00, 0x00, 0x09,                     /* CSRC */
        0xbe, 0xde, 0x00, 0x01,                     /* 1 word ... */
        0x10, 0xaa, 0x00,                           /* ... but only 3 bytes */
    };
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EEXT);
    assert_int_equal(parse_exact(b, 15, &p), RP_RTP_ECSRC);
}

static void test_padding_count_zero_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    uint8_t b[sizeof(pkt_csrc_padding)];
    memcpy(b, pkt_csrc_padding, sizeof(b));
    b[sizeof(b) - 1] = 0;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EPADDING);
}

static void test_padding_count_too_big_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    uint8_t b[sizeof(pkt_csrc_padding)];
    memcpy(b, pkt_csrc_padding, sizeof(b));
    /* 5 bytes follow the CSRC list (2 payload + 3 padding): 5 is the most allowed. */
    b[sizeof(b) - 1] = 5;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(p.padding_len, 5);
    b[sizeof(b) - 1] = 6;               /* would eat the last CSRC */
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EPADDING);
    b[sizeof(b) - 1] = 255;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EPADDING);
}

static void test_padding_may_not_reach_into_extension(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    uint8_t b[sizeof(pkt_one_byte)];
    memcpy(b, pkt_one_byte, sizeof(b));
    b[0] |= 0x20;                       /* P=1 */
    b[sizeof(b) - 1] = 4;               /* the 4 payload bytes are all padding: fine */
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_OK);
    assert_int_equal(p.payload_len, 0);
    assert_int_equal(p.padding_len, 4);
    b[sizeof(b) - 1] = 5;
    assert_int_equal(rp_rtp_parse(b, sizeof(b), &p), RP_RTP_EPADDING);
}

static void test_padding_bit_with_nothing_after_header_is_rejected(void **state)
{
    (void)state;
    struct rp_rtp_pkt p;
    /* The last byte is the SSRC's, not a padding count. */
    static const uint8_t b[] = {0xa0, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0x01};
    assert_int_equal(parse_exact(b, sizeof(b), &p), RP_RTP_EPADDING);
}

static void test_error_strings_are_label_friendly(void **state)
{
    (void)state;
    assert_string_equal(rp_rtp_strerror(RP_RTP_OK), "ok");
    assert_string_equal(rp_rtp_strerror(RP_RTP_ETOOSHORT), "too_short");
    assert_string_equal(rp_rtp_strerror(RP_RTP_EVERSION), "bad_version");
    assert_string_equal(rp_rtp_strerror(RP_RTP_ECSRC), "bad_csrc");
    assert_string_equal(rp_rtp_strerror(RP_RTP_EEXT), "bad_extension");
    assert_string_equal(rp_rtp_strerror(RP_RTP_EPADDING), "bad_padding");
    assert_string_equal(rp_rtp_strerror(RP_RTP_NERR), "unknown");
    assert_string_equal(rp_rtp_strerror((enum rp_rtp_err)77), "unknown");
}

/* ---- building ---- */

static void test_build_writes_two_byte_extension_bytes(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x90, 0x80, 0x12, 0x34,         /* V=2 X=1 | M=1 PT=0 | seq */
        0x00, 0x00, 0x06, 0x40,
        0xde, 0xad, 0xbe, 0xef,
        0x10, 0x00, 0x00, 0x02,         /* two-byte form, 2 words */
        0x01, 0x03, 0x01, 0x02, 0x03,   /* ID 1, length 3 */
        0x00, 0x00, 0x00,               /* zero padding to 32 bits */
        0xff, 0xff,                     /* payload */
    };
    struct rp_rtp_hdr h = {.pt = 0, .marker = true, .seq = 0x1234, .ts = 1600, .ssrc = 0xDEADBEEFu};
    uint8_t buf[64];
    memset(buf, 0xee, sizeof(buf));
    size_t n = rp_rtp_build(buf, sizeof(buf), &h, 1, (const uint8_t[]){1, 2, 3}, 3,
                            (const uint8_t[]){0xff, 0xff}, 2);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

static void test_build_without_element_has_no_extension(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x80, 0x08, 0x00, 0x2a, 0x00, 0x00, 0x00, 0xa0, 0x01, 0x02, 0x03, 0x04,
        0xd5, 0xd5, 0xd5,
    };
    struct rp_rtp_hdr h = {.pt = 8, .marker = false, .seq = 42, .ts = 160, .ssrc = 0x01020304u};
    uint8_t buf[32];
    /* elem_id is irrelevant without an element. */
    size_t n = rp_rtp_build(buf, sizeof(buf), &h, 0, NULL, 0, (const uint8_t[]){0xd5, 0xd5, 0xd5}, 3);
    assert_int_equal(n, sizeof(want));
    assert_memory_equal(buf, want, sizeof(want));
}

static void test_build_pads_element_to_word_boundary(void **state)
{
    (void)state;
    struct rp_rtp_hdr h = {.pt = 0, .seq = 1, .ts = 1, .ssrc = 1};
    uint8_t elem[255];
    uint8_t buf[RP_RTP_MAX_PKT];
    for (size_t i = 0; i < sizeof(elem); i++)
        elem[i] = (uint8_t)(i + 1);
    /* element length -> extension body bytes: 2 + len rounded up to a multiple of 4 */
    static const struct { size_t len, body; } cases[] = {
        {1, 4}, {2, 4}, {3, 8}, {6, 8}, {16, 20}, {48, 52}, {254, 256}, {255, 260},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        memset(buf, 0xee, sizeof(buf));
        size_t n = rp_rtp_build(buf, sizeof(buf), &h, 200, elem, cases[c].len, NULL, 0);
        assert_int_equal(n, 16 + cases[c].body);
        assert_int_equal(buf[14] << 8 | buf[15], cases[c].body / 4);
        assert_int_equal(buf[16], 200);
        assert_int_equal(buf[17], cases[c].len);
        assert_memory_equal(buf + 18, elem, cases[c].len);
        for (size_t i = 18 + cases[c].len; i < n; i++)
            assert_int_equal(buf[i], 0);
    }
}

static void test_build_then_parse_round_trips(void **state)
{
    (void)state;
    static const uint8_t elem[] = {0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x07,
                                   0x17, 0x9a, 0x2b, 0x3c, 0x4d, 0x5e, 0x6f, 0x70};
    uint8_t payload[160];
    for (size_t i = 0; i < sizeof(payload); i++)
        payload[i] = (uint8_t)(i * 7);
    struct rp_rtp_hdr h = {.pt = 0, .marker = true, .seq = 513, .ts = 82080, .ssrc = 0x5ca1ab1eu};
    uint8_t buf[RP_RTP_MAX_PKT];
    size_t n = rp_rtp_build(buf, sizeof(buf), &h, 1, elem, sizeof(elem), payload, sizeof(payload));
    assert_int_equal(n, 12 + 4 + 20 + 160);

    struct rp_rtp_pkt p;
    assert_int_equal(parse_exact(buf, n, &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_parse(buf, n, &p), RP_RTP_OK);
    assert_int_equal(p.hdr.pt, 0);
    assert_true(p.hdr.marker);
    assert_int_equal(p.hdr.seq, 513);
    assert_int_equal(p.hdr.ts, 82080);
    assert_int_equal(p.hdr.ssrc, 0x5ca1ab1eu);
    assert_int_equal(p.csrc_count, 0);
    assert_true(p.has_ext);
    assert_int_equal(p.ext_profile, 0x1000);
    assert_int_equal(p.ext_len, 20);
    assert_int_equal(p.padding_len, 0);
    assert_int_equal(p.payload_len, sizeof(payload));
    assert_memory_equal(p.payload, payload, sizeof(payload));

    const uint8_t *d = NULL;
    size_t dn = 0;
    assert_int_equal(rp_rtp_ext_find(&p, 1, &d, &dn), 1);
    assert_int_equal(dn, sizeof(elem));
    assert_memory_equal(d, elem, sizeof(elem));
    assert_int_equal(rp_rtp_ext_find(&p, 2, &d, &dn), 0);
}

static void test_high_bits_in_header_fields_survive(void **state)
{
    (void)state;
    static const uint8_t want[] = {
        0x80, 0xff, 0xff, 0xff,         /* M=1 PT=127, seq 65535 */
        0xff, 0xff, 0xff, 0xff,         /* ts 2^32-1 */
        0x80, 0x00, 0x00, 0x00,         /* ssrc 2^31 */
    };
    struct rp_rtp_hdr h = {.pt = 127, .marker = true, .seq = 0xFFFF, .ts = 0xFFFFFFFFu,
                           .ssrc = 0x80000000u};
    uint8_t buf[16];
    size_t n = rp_rtp_build(buf, sizeof(buf), &h, 0, NULL, 0, NULL, 0);
    assert_int_equal(n, 12);
    assert_memory_equal(buf, want, sizeof(want));

    struct rp_rtp_pkt p;
    assert_int_equal(rp_rtp_parse(want, sizeof(want), &p), RP_RTP_OK);
    assert_int_equal(p.hdr.pt, 127);
    assert_true(p.hdr.marker);
    assert_int_equal(p.hdr.seq, 0xFFFF);
    assert_int_equal(p.hdr.ts, 0xFFFFFFFFu);
    assert_int_equal(p.hdr.ssrc, 0x80000000u);
}

static void test_build_rejects_too_small_cap_without_writing(void **state)
{
    (void)state;
    struct rp_rtp_hdr h = {.pt = 0, .seq = 1, .ts = 2, .ssrc = 3};
    static const uint8_t elem[5] = {1, 2, 3, 4, 5};
    static const uint8_t payload[10] = {0};
    uint8_t buf[64];
    /* 12 header + 4 ext header + 8 (2+5 padded) + 10 payload = 34 */
    for (size_t cap = 0; cap < 34; cap++) {
        memset(buf, 0xee, sizeof(buf));
        assert_int_equal(rp_rtp_build(buf, cap, &h, 1, elem, sizeof(elem), payload, sizeof(payload)), 0);
        for (size_t i = 0; i < sizeof(buf); i++)
            assert_int_equal(buf[i], 0xee);
    }
    assert_int_equal(rp_rtp_build(buf, 34, &h, 1, elem, sizeof(elem), payload, sizeof(payload)), 34);
    assert_int_equal(rp_rtp_build(buf, 11, &h, 0, NULL, 0, NULL, 0), 0);
    assert_int_equal(rp_rtp_build(buf, 12, &h, 0, NULL, 0, NULL, 0), 12);
    /* A payload length that would overflow the size sum. */
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &h, 0, NULL, 0, payload, SIZE_MAX), 0);
}

static void test_build_rejects_bad_element_arguments(void **state)
{
    (void)state;
    struct rp_rtp_hdr h = {.pt = 0, .seq = 1, .ts = 2, .ssrc = 3};
    uint8_t elem[256] = {0};
    uint8_t buf[RP_RTP_MAX_PKT];
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &h, 0, elem, 4, NULL, 0), 0);
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &h, 1, elem, 256, NULL, 0), 0);
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &h, 1, NULL, 4, NULL, 0), 0);
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &h, 255, elem, 255, NULL, 0), 276);
    struct rp_rtp_hdr bad_pt = {.pt = 128};
    assert_int_equal(rp_rtp_build(buf, sizeof(buf), &bad_pt, 0, NULL, 0, NULL, 0), 0);
}

/* ---- robustness ---- */

/* Whatever parse accepts must account for every byte and stay inside the buffer. */
static void check_consistent(const uint8_t *buf, size_t len, const struct rp_rtp_pkt *p)
{
    size_t used = RP_RTP_HDR_LEN + (size_t)p->csrc_count * 4
                + (p->has_ext ? 4 + p->ext_len : 0) + p->payload_len + p->padding_len;
    assert_int_equal(used, len);
    assert_true(p->payload >= buf && p->payload + p->payload_len <= buf + len);
    if (p->has_ext) {
        assert_int_equal(p->ext_len % 4, 0);
        assert_true(p->ext >= buf && p->ext + p->ext_len <= p->payload);
    }
    for (unsigned id = 0; id < 256; id++) {
        const uint8_t *d = NULL;
        size_t n = 0;
        if (rp_rtp_ext_find(p, (uint8_t)id, &d, &n) == 1)
            assert_true(d >= p->ext && d + n <= p->ext + p->ext_len);
    }
}

static void test_every_prefix_of_valid_packets_is_handled(void **state)
{
    (void)state;
    uint8_t built[64];
    struct rp_rtp_hdr h = {.pt = 96, .seq = 9, .ts = 9, .ssrc = 9};
    size_t built_len = rp_rtp_build(built, sizeof(built), &h, 7, (const uint8_t[]){9, 9, 9, 9, 9}, 5,
                                    (const uint8_t[]){1, 2, 3}, 3);
    assert_int_not_equal(built_len, 0);
    const struct { const uint8_t *b; size_t len; } pkts[] = {
        {pkt_one_byte, sizeof(pkt_one_byte)},
        {pkt_csrc_padding, sizeof(pkt_csrc_padding)},
        {pkt_two_byte, sizeof(pkt_two_byte)},
        {built, built_len},
    };
    for (size_t k = 0; k < sizeof(pkts) / sizeof(pkts[0]); k++) {
        for (size_t len = 0; len <= pkts[k].len; len++) {
            uint8_t *copy = dup_exact(pkts[k].b, len);
            struct rp_rtp_pkt p;
            enum rp_rtp_err err = rp_rtp_parse(copy, len, &p);
            if (len < RP_RTP_HDR_LEN)
                assert_int_equal(err, RP_RTP_ETOOSHORT);
            if (err == RP_RTP_OK)
                check_consistent(copy, len, &p);
            else
                assert_true(err > RP_RTP_OK && err < RP_RTP_NERR);
            free(copy);
        }
        struct rp_rtp_pkt full;
        assert_int_equal(rp_rtp_parse(pkts[k].b, pkts[k].len, &full), RP_RTP_OK);
    }
}

static void test_random_bytes_never_escape_the_buffer(void **state)
{
    (void)state;
    uint32_t x = 0x12345678u;           /* xorshift32: deterministic, no libc rand state */
    for (int iter = 0; iter < 20000; iter++) {
        uint8_t tmp[48];
        x ^= x << 13; x ^= x >> 17; x ^= x << 5;
        size_t len = x % sizeof(tmp);
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            tmp[i] = (uint8_t)x;
        }
        /* Bias towards V=2 and small ext lengths so the deeper paths are reached. */
        if (len > 0 && (iter & 1))
            tmp[0] = (uint8_t)(0x80 | (tmp[0] & 0x3f));
        if (len > 15 && (iter & 2))
            tmp[14] = 0;
        if (len > 13 && (iter & 4)) {
            tmp[12] = (iter & 8) ? 0xbe : 0x10;
            tmp[13] = (iter & 8) ? 0xde : 0x00;
        }
        uint8_t *copy = dup_exact(tmp, len);
        struct rp_rtp_pkt p;
        if (rp_rtp_parse(copy, len, &p) == RP_RTP_OK)
            check_consistent(copy, len, &p);
        free(copy);
    }
}

/* abs-send-time: 6.18 fixed-point seconds in 24 bits (webrtc.org's
 * rtp-hdrext/abs-send-time), so 1 s = 0x040000 and the stamp wraps at 64 s. */
static void test_abs_send_time_stamps(void **state)
{
    (void)state;
    assert_int_equal(rp_abs_send_time_from_ns(0), 0);
    assert_int_equal(rp_abs_send_time_from_ns(1000000000ull), 0x040000);
    assert_int_equal(rp_abs_send_time_from_ns(500000000ull), 0x020000);
    assert_int_equal(rp_abs_send_time_from_ns(63999999999ull), 0xFFFFFF);   /* one tick short of the wrap */
    assert_int_equal(rp_abs_send_time_from_ns(64000000000ull), 0);
    assert_int_equal(rp_abs_send_time_from_ns(1700000000123456789ull), rp_abs_send_time_from_ns(1700000000123456789ull % 64000000000ull));
    uint8_t b[RP_ABS_SEND_TIME_LEN];
    rp_abs_send_time_put(0xABCDEF, b);
    assert_int_equal(b[0], 0xAB);
    assert_int_equal(b[1], 0xCD);
    assert_int_equal(b[2], 0xEF);
    assert_int_equal(rp_abs_send_time_get(b), 0xABCDEF);
    /* expected 0 (packets arriving together): the nearer way round */
    assert_true(rp_abs_send_time_step(0xFFFFF0, 0x000010, 0) == 0x20);
    assert_true(rp_abs_send_time_step(0x000010, 0xFFFFF0, 0) == -0x20);   /* reordered: back */
    assert_true(rp_abs_send_time_step(0, 0x7FFFFF, 0) == 0x7FFFFF);        /* just under +32 s */
    assert_true(rp_abs_send_time_step(0, 0x800001, 0) == -0x7FFFFF);       /* just over: back */
    /* an outage: the step nearest the arrival gap, whole circles of 64 s added */
    assert_true(rp_abs_send_time_step(0, 40 * 0x040000, 40 * 0x040000) == 40 * 0x040000);
    assert_true(rp_abs_send_time_step(0x100, 0x100 + 6 * 0x040000, 70 * 0x040000) == 70 * 0x040000);
    assert_true(rp_abs_send_time_step(0x100, 0x100 + 6 * 0x040000, 134 * 0x040000) == 134 * 0x040000);
    assert_true(rp_abs_send_time_step(0x100, 0x0F0, 40 * 0x040000) == 64 * 0x040000 - 0x10); /* 64 s less 16 ticks */
    assert_true(rp_abs_send_time_ticks(1000000000) == 0x040000);
    assert_true(rp_abs_send_time_ticks(-1000000000) == -0x040000);
    assert_true(rp_abs_send_time_ticks(70000000000) == 70 * 0x040000);
    assert_true(rp_abs_send_time_ns(0x040000) == 1000000000);
    assert_true(rp_abs_send_time_ns(-0x040000) == -1000000000);
    assert_true(rp_abs_send_time_ns(1) == 3814);                             /* 3814.697 ns, truncated */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_byte_extension_packet_fields_are_parsed),
        cmocka_unit_test(test_one_byte_elements_are_found_across_padding),
        cmocka_unit_test(test_absent_element_id_is_not_found),
        cmocka_unit_test(test_csrc_list_and_padding_are_skipped),
        cmocka_unit_test(test_two_byte_elements_allow_zero_length_and_padding),
        cmocka_unit_test(test_two_byte_form_accepts_any_appbits),
        cmocka_unit_test(test_non_rfc8285_extension_has_no_elements),
        cmocka_unit_test(test_extension_of_zero_words_is_valid_and_empty),
        cmocka_unit_test(test_one_byte_id_15_stops_parsing),
        cmocka_unit_test(test_one_byte_element_running_past_end_is_malformed),
        cmocka_unit_test(test_two_byte_element_running_past_end_is_malformed),
        cmocka_unit_test(test_packet_without_extension_has_no_elements),
        cmocka_unit_test(test_truncated_header_is_rejected),
        cmocka_unit_test(test_version_other_than_2_is_rejected),
        cmocka_unit_test(test_csrc_count_15_with_too_few_bytes_is_rejected),
        cmocka_unit_test(test_extension_header_or_length_past_end_is_rejected),
        cmocka_unit_test(test_csrc_then_extension_past_end_is_rejected),
        cmocka_unit_test(test_padding_count_zero_is_rejected),
        cmocka_unit_test(test_padding_count_too_big_is_rejected),
        cmocka_unit_test(test_padding_may_not_reach_into_extension),
        cmocka_unit_test(test_padding_bit_with_nothing_after_header_is_rejected),
        cmocka_unit_test(test_error_strings_are_label_friendly),
        cmocka_unit_test(test_build_writes_two_byte_extension_bytes),
        cmocka_unit_test(test_build_without_element_has_no_extension),
        cmocka_unit_test(test_build_pads_element_to_word_boundary),
        cmocka_unit_test(test_build_then_parse_round_trips),
        cmocka_unit_test(test_high_bits_in_header_fields_survive),
        cmocka_unit_test(test_build_rejects_too_small_cap_without_writing),
        cmocka_unit_test(test_build_rejects_bad_element_arguments),
        cmocka_unit_test(test_every_prefix_of_valid_packets_is_handled),
        cmocka_unit_test(test_random_bytes_never_escape_the_buffer),
        cmocka_unit_test(test_abs_send_time_stamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
