/* Unit tests for src/rtcp.c. The browser packets below are written by hand in
 * the layout Chrome sends (not a capture): a receiver's compound RR + SDES
 * CNAME (16 base64 characters, as Chrome makes them) + PSFB REMB, a standalone
 * RTPFB transport-cc (reduced-size, RFC 5506), and a sender's SR + SDES. The
 * RTT example is RFC 3550 §6.4.1's figure; the NTP values were computed
 * independently with Python integers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtcp.h"
#include "wire.h"

#define OUR_SSRC     0x1234ABCDu
#define CHROME_SSRC  0x5F2E7A13u

static const uint8_t chrome_rr_sdes_remb[] = {
    /* RR, one block: V=2 RC=1, PT 201, length 7 (32 bytes) */
    0x81, 0xc9, 0x00, 0x07,
    0x5f, 0x2e, 0x7a, 0x13,             /* sender SSRC */
    0x12, 0x34, 0xab, 0xcd,             /* about our SSRC */
    0x05, 0x00, 0x00, 0x03,             /* fraction lost 5/256, cumulative 3 */
    0x00, 0x01, 0x02, 0xa7,             /* extended highest sequence */
    0x00, 0x00, 0x00, 0x3c,             /* jitter 60 */
    0xb7, 0x05, 0x20, 0x00,             /* LSR */
    0x00, 0x05, 0x40, 0x00,             /* DLSR */
    /* SDES, one chunk: PT 202, length 6 (28 bytes) */
    0x81, 0xca, 0x00, 0x06,
    0x5f, 0x2e, 0x7a, 0x13,
    0x01, 0x10, 'X', '3', 'b', 'H', 'k', 'Y', '7', 'l', 'Q', 'e', '9', 'p', 'Z', 's', '2', 'W',
    0x00, 0x00,                         /* end of list + padding to 32 bits */
    /* PSFB (206) FMT 15 REMB, length 5 (24 bytes) */
    0x8f, 0xce, 0x00, 0x05,
    0x5f, 0x2e, 0x7a, 0x13,
    0x00, 0x00, 0x00, 0x00,             /* media SSRC: 0 for REMB */
    'R', 'E', 'M', 'B',
    0x01, 0x0a, 0x32, 0x14,             /* 1 SSRC, exp 2, mantissa 0x23214 */
    0x12, 0x34, 0xab, 0xcd,
};

static const uint8_t chrome_transport_cc[] = {
    0x8f, 0xcd, 0x00, 0x05,             /* RTPFB (205) FMT 15, length 5 */
    0x5f, 0x2e, 0x7a, 0x13,
    0x12, 0x34, 0xab, 0xcd,
    0x00, 0x01, 0x00, 0x02,             /* base sequence 1, 2 packets */
    0x00, 0x00, 0x10, 0x00,             /* reference time, feedback count 0 */
    0x20, 0x02, 0x04, 0x04,             /* run-length chunk (small deltas x2), deltas */
};

static const uint8_t chrome_sr_sdes[] = {
    /* SR, no block: PT 200, length 6 (28 bytes) */
    0x80, 0xc8, 0x00, 0x06,
    0x5f, 0x2e, 0x7a, 0x13,
    0xe8, 0xfe, 0x6f, 0x80, 0x40, 0x00, 0x00, 0x00,   /* NTP */
    0x00, 0x0b, 0xb8, 0x00,             /* RTP timestamp 768000 */
    0x00, 0x00, 0x01, 0xf4,             /* 500 packets */
    0x00, 0x00, 0x9c, 0x40,             /* 40000 octets */
    0x81, 0xca, 0x00, 0x06,
    0x5f, 0x2e, 0x7a, 0x13,
    0x01, 0x10, 'X', '3', 'b', 'H', 'k', 'Y', '7', 'l', 'Q', 'e', '9', 'p', 'Z', 's', '2', 'W',
    0x00, 0x00,
};

static void test_chrome_receiver_compound_is_read(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb, &info), 0);
    assert_false(info.has_sr);
    assert_int_equal(info.sender_ssrc, CHROME_SSRC);
    assert_int_equal(info.nblocks, 1);
    const struct rp_rtcp_block *b = &info.blocks[0];
    assert_int_equal(b->ssrc, OUR_SSRC);
    assert_int_equal(b->fraction_lost, 5);
    assert_int_equal(b->cum_lost, 3);
    assert_int_equal(b->ext_high_seq, 0x000102a7);
    assert_int_equal(b->jitter, 60);
    assert_int_equal(b->lsr, 0xb7052000u);
    assert_int_equal(b->dlsr, 0x00054000u);
    assert_true(rp_rtcp_is_rtcp(chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb));
}

static void test_chrome_sender_compound_is_read(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(chrome_sr_sdes, sizeof chrome_sr_sdes, &info), 0);
    assert_true(info.has_sr);
    assert_int_equal(info.sender_ssrc, CHROME_SSRC);
    assert_int_equal(info.sr.ssrc, CHROME_SSRC);
    assert_true(info.sr.ntp == 0xe8fe6f8040000000ull);
    assert_int_equal(info.sr.rtp_ts, 768000);
    assert_int_equal(info.sr.packets, 500);
    assert_int_equal(info.sr.octets, 40000);
    assert_int_equal(info.nblocks, 0);
}

static void test_standalone_feedback_is_skipped(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(chrome_transport_cc, sizeof chrome_transport_cc, &info), 0);
    assert_false(info.has_sr);
    assert_int_equal(info.nblocks, 0);
    assert_true(rp_rtcp_is_rtcp(chrome_transport_cc, sizeof chrome_transport_cc));
}

static void test_every_truncation_is_refused(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    const struct { const uint8_t *p; size_t n; } pkts[] = {
        { chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb },
        { chrome_sr_sdes, sizeof chrome_sr_sdes },
        { chrome_transport_cc, sizeof chrome_transport_cc },
    };
    for (size_t k = 0; k < 3; k++) {
        for (size_t cut = 0; cut < pkts[k].n; cut++) {
            uint8_t *copy = malloc(cut ? cut : 1); /* exact size: ASan sees a read past it */
            memcpy(copy, pkts[k].p, cut);
            /* A cut exactly between two packets is a shorter, valid compound. */
            bool boundary = (k == 0 && (cut == 32 || cut == 60)) || (k == 1 && cut == 28);
            assert_int_equal(rp_rtcp_parse(copy, cut, &info), boundary ? 0 : -1);
            free(copy);
        }
    }
}

static void test_trailing_bytes_and_overlong_lengths_are_refused(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    uint8_t buf[128];
    size_t n = sizeof chrome_rr_sdes_remb;
    memcpy(buf, chrome_rr_sdes_remb, n);
    memset(buf + n, 0, 8);
    for (size_t extra = 1; extra < 4; extra++)
        assert_int_equal(rp_rtcp_parse(buf, n + extra, &info), -1);
    /* Each packet's length one word too long. */
    static const size_t hdrs[] = { 0, 32, 60 };
    for (size_t i = 0; i < 3; i++) {
        memcpy(buf, chrome_rr_sdes_remb, n);
        buf[hdrs[i] + 3]++;
        assert_int_equal(rp_rtcp_parse(buf, n, &info), -1);
        buf[hdrs[i] + 2] = 0xff;
        assert_int_equal(rp_rtcp_parse(buf, n, &info), -1);
    }
    /* A report count the length cannot hold: RC 2 in a one-block RR. */
    memcpy(buf, chrome_rr_sdes_remb, n);
    buf[0] = 0x82;
    assert_int_equal(rp_rtcp_parse(buf, n, &info), -1);
    /* An SR shorter than its sender info. */
    static const uint8_t short_sr[] = { 0x80, 0xc8, 0x00, 0x01, 0, 0, 0, 1 };
    assert_int_equal(rp_rtcp_parse(short_sr, sizeof short_sr, &info), -1);
}

static void test_version_and_padding_rules(void **state)
{
    (void)state;
    struct rp_rtcp_info info;
    uint8_t buf[128];
    size_t n = sizeof chrome_rr_sdes_remb;
    memcpy(buf, chrome_rr_sdes_remb, n);
    buf[32] = 0x41; /* SDES with version 1 */
    assert_int_equal(rp_rtcp_parse(buf, n, &info), -1);
    /* Padding on the last packet: REMB grown by 4 bytes, the last one the count. */
    memcpy(buf, chrome_rr_sdes_remb, n);
    buf[60] |= 0x20;
    buf[63] = 6;
    memset(buf + n, 0, 4);
    buf[n + 3] = 4;
    assert_int_equal(rp_rtcp_parse(buf, n + 4, &info), 0);
    assert_int_equal(info.nblocks, 1);
    buf[n + 3] = 0;              /* a count of 0 */
    assert_int_equal(rp_rtcp_parse(buf, n + 4, &info), -1);
    buf[n + 3] = 25;             /* more than the body */
    assert_int_equal(rp_rtcp_parse(buf, n + 4, &info), -1);
    /* Padding on a packet that is not the last. */
    memcpy(buf, chrome_rr_sdes_remb, n);
    buf[32] |= 0x20;
    assert_int_equal(rp_rtcp_parse(buf, n, &info), -1);
    /* Padding eating into an RR's report block. */
    static const uint8_t rr_pad[] = { 0xa1, 0xc9, 0x00, 0x02, 0, 0, 0, 1, 0, 0, 0, 4 };
    assert_int_equal(rp_rtcp_parse(rr_pad, sizeof rr_pad, &info), -1);
}

static void test_rtt_worked_example_of_rfc3550(void **state)
{
    (void)state;
    /* RFC 3550 §6.4.1: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000
     * (46853.125 s), DLSR = 0x0005:4000 (5.250 s): delay 0x0006:2000 = 6.125 s. */
    struct rp_rtcp_block b = { .lsr = 0xb7052000u, .dlsr = 0x00054000u };
    assert_true(rp_rtcp_rtt_ns(&b, 0xb7108000u) == 6125000000ll);
    /* Through the parsed Chrome block, which carries the same LSR and DLSR. */
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb, &info), 0);
    assert_true(rp_rtcp_rtt_ns(&info.blocks[0], 0xb7108000u) == 6125000000ll);
    /* 1/65536 s resolution: one unit is 15258 ns (floor). */
    assert_true(rp_rtcp_rtt_ns(&b, 0xb7108001u) == 6125015258ll);
    /* Zero RTT is an answer; no SR yet (LSR 0) or a negative RTT is not. */
    assert_true(rp_rtcp_rtt_ns(&b, 0xb7052000u + 0x00054000u) == 0);
    assert_true(rp_rtcp_rtt_ns(&b, 0xb7052000u + 0x00053fffu) == -1);
    assert_true(rp_rtcp_rtt_ns(&b, 0xb7051fffu) == -1);
    struct rp_rtcp_block none = { .lsr = 0, .dlsr = 0 };
    assert_true(rp_rtcp_rtt_ns(&none, 0x00010000u) == -1);
    /* Across the 2^32 wrap of the middle bits. */
    struct rp_rtcp_block wrap = { .lsr = 0xffff8000u, .dlsr = 0x00004000u };
    assert_true(rp_rtcp_rtt_ns(&wrap, 0x00004000u) == 500000000ll);
}

static void test_ntp_conversion(void **state)
{
    (void)state;
    assert_true(rp_rtcp_ntp_from_ns(0) == 0x83aa7e8000000000ull);             /* 1970 in NTP */
    assert_true(rp_rtcp_ntp_from_ns(123456789) == 0x83aa7e801f9add37ull);
    assert_true(rp_rtcp_ntp_from_ns(1700000000250000000ull) == 0xe8fe6f8040000000ull);
    assert_true(rp_rtcp_ntp_from_ns(1500000000ull) == 0x83aa7e8180000000ull);
    assert_int_equal(rp_rtcp_ntp_mid(0xe8fe6f8040000000ull), 0x6f804000u);
    /* The fraction never reaches 2^32 (999999999 ns). */
    assert_true((rp_rtcp_ntp_from_ns(999999999ull) & 0xffffffffull) == 0xfffffffbull);
}

/* Field by field: the struct has padding after fraction_lost. */
static void assert_block_equal(const struct rp_rtcp_block *a, const struct rp_rtcp_block *b)
{
    assert_int_equal(a->ssrc, b->ssrc);
    assert_int_equal(a->fraction_lost, b->fraction_lost);
    assert_int_equal(a->cum_lost, b->cum_lost);
    assert_int_equal(a->ext_high_seq, b->ext_high_seq);
    assert_int_equal(a->jitter, b->jitter);
    assert_int_equal(a->lsr, b->lsr);
    assert_int_equal(a->dlsr, b->dlsr);
}

static void test_build_sr_then_parse_round_trip(void **state)
{
    (void)state;
    struct rp_rtcp_sr sr = { OUR_SSRC, 0xe8fe6f8040000000ull, 768000, 500, 80000 };
    struct rp_rtcp_block rb = { CHROME_SSRC, 12, -5, 0x0002ffff, 77, 0x6f804000u, 0x00010000u };
    uint8_t buf[256];
    size_t n = rp_rtcp_build_sr(buf, sizeof buf, &sr, &rb, "rtpprobe-cname");
    /* SR 52 + SDES 4 + pad4(4 + 2 + 14 + 1) = 52 + 28. */
    assert_int_equal(n, 80);
    assert_true(rp_rtcp_is_rtcp(buf, n));
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_true(info.has_sr);
    assert_int_equal(info.sender_ssrc, OUR_SSRC);
    assert_int_equal(info.sr.ssrc, sr.ssrc);
    assert_true(info.sr.ntp == sr.ntp);
    assert_int_equal(info.sr.rtp_ts, sr.rtp_ts);
    assert_int_equal(info.sr.packets, sr.packets);
    assert_int_equal(info.sr.octets, sr.octets);
    assert_int_equal(info.nblocks, 1);
    assert_block_equal(&info.blocks[0], &rb);
    /* The SDES chunk: SSRC, CNAME item, NUL-padded to the packet's end. */
    assert_int_equal(buf[53], 202);
    assert_int_equal(rp_get32(buf + 56), OUR_SSRC);
    assert_int_equal(buf[60], 1);
    assert_int_equal(buf[61], 14);
    assert_memory_equal(buf + 62, "rtpprobe-cname", 14);
    assert_int_equal(buf[76], 0);
    /* Without a block. */
    n = rp_rtcp_build_sr(buf, sizeof buf, &sr, NULL, "rtpprobe-cname");
    assert_int_equal(n, 56);
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_true(info.has_sr);
    assert_int_equal(info.nblocks, 0);
}

static void test_build_rr_then_parse_round_trip(void **state)
{
    (void)state;
    struct rp_rtcp_block rb = { CHROME_SSRC, 255, 8388607, 0xffffffffu, 0, 0, 0 };
    uint8_t buf[256];
    size_t n = rp_rtcp_build_rr(buf, sizeof buf, OUR_SSRC, &rb, "c");
    assert_int_equal(n, 32 + 12);
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_false(info.has_sr);
    assert_int_equal(info.sender_ssrc, OUR_SSRC);
    assert_block_equal(&info.blocks[0], &rb);
    /* cum_lost beyond 24 bits is clamped, the sign kept. */
    rb.cum_lost = -9000000;
    n = rp_rtcp_build_rr(buf, sizeof buf, OUR_SSRC, &rb, "c");
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_int_equal(info.blocks[0].cum_lost, -8388608);
    rb.cum_lost = 9000000;
    n = rp_rtcp_build_rr(buf, sizeof buf, OUR_SSRC, &rb, "c");
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_int_equal(info.blocks[0].cum_lost, 8388607);
    rb.cum_lost = -1;
    n = rp_rtcp_build_rr(buf, sizeof buf, OUR_SSRC, &rb, "c");
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_int_equal(info.blocks[0].cum_lost, -1);
    /* Receiver-only without a block. */
    n = rp_rtcp_build_rr(buf, sizeof buf, OUR_SSRC, NULL, "c");
    assert_int_equal(n, 8 + 12);
    assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
    assert_int_equal(info.nblocks, 0);
}

static void test_sdes_is_padded_to_32_bits_for_every_cname_length(void **state)
{
    (void)state;
    char cname[256];
    uint8_t buf[600];
    struct rp_rtcp_sr sr = { OUR_SSRC, 1, 2, 3, 4 };
    for (size_t len = 0; len <= 255; len++) {
        memset(cname, 'a', len);
        cname[len] = '\0';
        size_t n = rp_rtcp_build_sr(buf, sizeof buf, &sr, NULL, cname);
        assert_true(n > 0 && n % 4 == 0);
        size_t sdes = n - 28;
        /* At least one null octet after the item (RFC 3550 §6.5), at most four. */
        size_t nulls = sdes - (4 + 4 + 2 + len);
        assert_true(nulls >= 1 && nulls <= 4);
        assert_int_equal((size_t)(rp_get16(buf + 30) + 1) * 4, sdes);
        struct rp_rtcp_info info;
        assert_int_equal(rp_rtcp_parse(buf, n, &info), 0);
        /* Every cap short of it refused. */
        assert_int_equal(rp_rtcp_build_sr(buf, n - 1, &sr, NULL, cname), 0);
    }
    char longer[300];
    memset(longer, 'b', 256);
    longer[256] = '\0';
    assert_int_equal(rp_rtcp_build_sr(buf, sizeof buf, &sr, NULL, longer), 0);
    assert_int_equal(rp_rtcp_build_rr(buf, sizeof buf, 1, NULL, longer), 0);
    assert_int_equal(rp_rtcp_build_rr(buf, sizeof buf, 1, NULL, NULL), 0);
}

static void test_blocks_beyond_the_maximum_are_ignored(void **state)
{
    (void)state;
    /* An RR with 6 blocks: the first RP_RTCP_MAX_BLOCKS kept. */
    uint8_t buf[8 + 6 * 24];
    memset(buf, 0, sizeof buf);
    buf[0] = 0x86;
    buf[1] = 201;
    rp_put16(buf + 2, (uint16_t)(sizeof buf / 4 - 1));
    rp_put32(buf + 4, CHROME_SSRC);
    for (uint32_t i = 0; i < 6; i++)
        rp_put32(buf + 8 + i * 24, 100 + i);
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(buf, sizeof buf, &info), 0);
    assert_int_equal(info.nblocks, RP_RTCP_MAX_BLOCKS);
    for (unsigned i = 0; i < RP_RTCP_MAX_BLOCKS; i++)
        assert_int_equal(info.blocks[i].ssrc, 100 + i);
}

static void test_reports_of_another_sender_are_not_mixed_in(void **state)
{
    (void)state;
    /* RR of Chrome (1 block), RR of another SSRC (1 block), RR of Chrome again (1 block). */
    uint8_t buf[3 * 32];
    memset(buf, 0, sizeof buf);
    static const uint32_t senders[] = { CHROME_SSRC, 0x0BADF00Du, CHROME_SSRC };
    for (uint32_t i = 0; i < 3; i++) {
        uint8_t *p = buf + i * 32;
        p[0] = 0x81;
        p[1] = 201;
        rp_put16(p + 2, 7);
        rp_put32(p + 4, senders[i]);
        rp_put32(p + 8, 200 + i);
    }
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(buf, sizeof buf, &info), 0);
    assert_int_equal(info.sender_ssrc, CHROME_SSRC);
    assert_int_equal(info.nblocks, 2);
    assert_int_equal(info.blocks[0].ssrc, 200);
    assert_int_equal(info.blocks[1].ssrc, 202);
}

static void test_rtcp_demux_follows_rfc5761(void **state)
{
    (void)state;
    uint8_t p[2] = { 0x80, 0 };
    for (unsigned b = 0; b < 256; b++) {
        p[1] = (uint8_t)b;
        assert_int_equal(rp_rtcp_is_rtcp(p, 2), b >= 192 && b <= 223);
    }
    p[1] = 200;
    p[0] = 0x40;
    assert_false(rp_rtcp_is_rtcp(p, 2));
    p[0] = 0x80;
    assert_false(rp_rtcp_is_rtcp(p, 1));
    /* RTP Opus (PT 111) with the marker bit: 0xEF, not RTCP. */
    p[1] = 0xEF;
    assert_false(rp_rtcp_is_rtcp(p, 2));
}

static void test_random_buffers_never_crash(void **state)
{
    (void)state;
    uint8_t buf[96];
    struct rp_rtcp_info info;
    srand(3550);
    for (int i = 0; i < 100000; i++) {
        memcpy(buf, chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb);
        for (int k = 0; k < 3; k++)
            buf[(size_t)rand() % sizeof chrome_rr_sdes_remb] = (uint8_t)rand();
        size_t len = (size_t)rand() % (sizeof chrome_rr_sdes_remb + 1);
        int rc = rp_rtcp_parse(buf, len, &info);
        assert_true(rc == 0 || rc == -1);
        assert_true(info.nblocks <= RP_RTCP_MAX_BLOCKS);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chrome_receiver_compound_is_read),
        cmocka_unit_test(test_chrome_sender_compound_is_read),
        cmocka_unit_test(test_standalone_feedback_is_skipped),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_trailing_bytes_and_overlong_lengths_are_refused),
        cmocka_unit_test(test_version_and_padding_rules),
        cmocka_unit_test(test_rtt_worked_example_of_rfc3550),
        cmocka_unit_test(test_ntp_conversion),
        cmocka_unit_test(test_build_sr_then_parse_round_trip),
        cmocka_unit_test(test_build_rr_then_parse_round_trip),
        cmocka_unit_test(test_sdes_is_padded_to_32_bits_for_every_cname_length),
        cmocka_unit_test(test_blocks_beyond_the_maximum_are_ignored),
        cmocka_unit_test(test_reports_of_another_sender_are_not_mixed_in),
        cmocka_unit_test(test_rtcp_demux_follows_rfc5761),
        cmocka_unit_test(test_random_buffers_never_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
