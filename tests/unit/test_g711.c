/* G.711 against the Recommendation's own tables.
 *
 * The expected values are rebuilt here from G.711 Table 1 (A-law) and
 * Table 2 (µ-law): segment end points on the standard's scale, 16 equal
 * intervals per segment, decoder output at the interval midpoint, and the
 * bit layout (sign bit 1 = positive; A-law even bits inverted, µ-law the 7
 * magnitude bits inverted). The 16-bit scale is the G.191 one: A-law is 13-bit
 * left-justified (x8), µ-law 14-bit left-justified (x4), and negative inputs
 * are folded with the one's complement (-x - 1) as the G.191 STL does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "g711.h"

/* G.711 Table 1: A-law segment end points on the 4096 scale. */
static const int alaw_seg_end[9] = { 0, 32, 64, 128, 256, 512, 1024, 2048, 4096 };
/* G.711 Table 2: µ-law segment end points on the 8159 scale. Segment 0's
 * first interval is [0, 1) with output 0; its others are 2 wide. */
static const int ulaw_seg_end[9] = { 0, 31, 95, 223, 479, 991, 2015, 4063, 8159 };

/* Decision interval [lo, hi) and output value, on the standard's scale
 * doubled so that every midpoint is an integer. */
struct interval2 { int lo2, hi2, out2; };

static struct interval2 alaw_interval(int seg, int m)
{
    int w2 = 2 * (alaw_seg_end[seg + 1] - alaw_seg_end[seg]) / 16;
    struct interval2 iv = { 2 * alaw_seg_end[seg] + m * w2, 2 * alaw_seg_end[seg] + (m + 1) * w2, 0 };
    iv.out2 = (iv.lo2 + iv.hi2) / 2;
    return iv;
}

static struct interval2 ulaw_interval(int seg, int m)
{
    struct interval2 iv;
    if (seg == 0) {
        iv.lo2 = m == 0 ? 0 : 2 * (2 * m - 1);
        iv.hi2 = 2 * (2 * m + 1);
        iv.out2 = 2 * (2 * m);
    } else {
        int w2 = 2 * (ulaw_seg_end[seg + 1] - ulaw_seg_end[seg]) / 16;
        iv.lo2 = 2 * ulaw_seg_end[seg] + m * w2;
        iv.hi2 = iv.lo2 + w2;
        iv.out2 = (iv.lo2 + iv.hi2) / 2;
    }
    return iv;
}

static uint8_t alaw_code(int positive, int seg, int m)
{
    return (uint8_t)(((positive ? 0x80 : 0) | (seg << 4) | m) ^ 0x55);
}

static uint8_t ulaw_code(int positive, int seg, int m)
{
    return (uint8_t)((positive ? 0x80 : 0) | (0x7F & ~((seg << 4) | m)));
}

static int16_t ref_alaw_decode(uint8_t code)
{
    int bits = (code ^ 0x55) & 0x7F;
    struct interval2 iv = alaw_interval(bits >> 4, bits & 0x0F);
    int v = iv.out2 * 8 / 2;
    return (int16_t)((code & 0x80) ? v : -v);
}

static int16_t ref_ulaw_decode(uint8_t code)
{
    int bits = ~code & 0x7F;
    struct interval2 iv = ulaw_interval(bits >> 4, bits & 0x0F);
    int v = iv.out2 * 4 / 2;
    return (int16_t)((code & 0x80) ? v : -v);
}

/* Search the decision table for the interval that holds x. */
static uint8_t ref_alaw_encode(int16_t x)
{
    int mag = x >= 0 ? x : -(int)x - 1;
    int v2 = mag / 4; /* doubled 4096-scale value; decision points are integers, so flooring is exact */
    for (int seg = 0; seg < 8; seg++)
        for (int m = 0; m < 16; m++) {
            struct interval2 iv = alaw_interval(seg, m);
            if (v2 >= iv.lo2 && v2 < iv.hi2)
                return alaw_code(x >= 0, seg, m);
        }
    return alaw_code(x >= 0, 7, 15);
}

static uint8_t ref_ulaw_encode(int16_t x)
{
    int mag = x >= 0 ? x : -(int)x - 1;
    int v2 = 2 * (mag / 4); /* the 14 MSBs, doubled */
    for (int seg = 0; seg < 8; seg++)
        for (int m = 0; m < 16; m++) {
            struct interval2 iv = ulaw_interval(seg, m);
            if (v2 >= iv.lo2 && v2 < iv.hi2)
                return ulaw_code(x >= 0, seg, m);
        }
    return ulaw_code(x >= 0, 7, 15); /* beyond 8159: overload, top code */
}

static void test_reference_tables_match_published_end_points(void **state)
{
    (void)state;
    /* Spot values printed in G.711 Tables 1 and 2 (before scaling). */
    assert_int_equal(alaw_interval(0, 0).out2, 2 * 1);
    assert_int_equal(alaw_interval(7, 15).out2, 2 * 4032);
    assert_int_equal(ulaw_interval(0, 1).out2, 2 * 2);
    assert_int_equal(ulaw_interval(7, 15).out2, 2 * 8031);
    assert_int_equal(ulaw_interval(7, 15).lo2, 2 * 7903);
}

static void test_ulaw_known_code_points(void **state)
{
    (void)state;
    assert_int_equal(rp_g711_ulaw_encode(0), 0xFF);
    assert_int_equal(rp_g711_ulaw_encode(-1), 0x7F);  /* one's complement: -1 is "negative zero" */
    assert_int_equal(rp_g711_ulaw_encode(32767), 0x80);
    assert_int_equal(rp_g711_ulaw_encode(-32768), 0x00);
    assert_int_equal(rp_g711_ulaw_decode(0x00), -32124);
    assert_int_equal(rp_g711_ulaw_decode(0x80), 32124);
    assert_int_equal(rp_g711_ulaw_decode(0xFF), 0);
    assert_int_equal(rp_g711_ulaw_decode(0x7F), 0);
    assert_int_equal(rp_g711_ulaw_decode(0xFE), 8);
    assert_int_equal(rp_g711_ulaw_decode(0x7E), -8);
}

static void test_alaw_known_code_points(void **state)
{
    (void)state;
    assert_int_equal(rp_g711_alaw_encode(0), 0xD5);
    assert_int_equal(rp_g711_alaw_encode(-1), 0x55);
    assert_int_equal(rp_g711_alaw_encode(32767), 0xAA);
    assert_int_equal(rp_g711_alaw_encode(-32768), 0x2A);
    assert_int_equal(rp_g711_alaw_decode(0xD5), 8);
    assert_int_equal(rp_g711_alaw_decode(0x55), -8);
    assert_int_equal(rp_g711_alaw_decode(0xAA), 32256);
    assert_int_equal(rp_g711_alaw_decode(0x2A), -32256);
}

static void test_decode_matches_g711_table_for_every_code(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        assert_int_equal(rp_g711_alaw_decode((uint8_t)c), ref_alaw_decode((uint8_t)c));
        assert_int_equal(rp_g711_ulaw_decode((uint8_t)c), ref_ulaw_decode((uint8_t)c));
    }
}

static void test_encode_matches_g711_decision_table_for_every_sample(void **state)
{
    (void)state;
    for (int32_t x = INT16_MIN; x <= INT16_MAX; x++) {
        int16_t s = (int16_t)x;
        if (rp_g711_alaw_encode(s) != ref_alaw_encode(s))
            fail_msg("A-law encode of %d: got 0x%02x, table says 0x%02x", (int)x,
                     rp_g711_alaw_encode(s), ref_alaw_encode(s));
        if (rp_g711_ulaw_encode(s) != ref_ulaw_encode(s))
            fail_msg("µ-law encode of %d: got 0x%02x, table says 0x%02x", (int)x,
                     rp_g711_ulaw_encode(s), ref_ulaw_encode(s));
    }
}

static void test_decode_tables_are_monotonic_and_symmetric(void **state)
{
    (void)state;
    /* Positive codes in magnitude order: µ-law 0xFF..0x80, A-law by
     * un-toggled segment/interval 0x00..0x7F. */
    int prev_u = -1, prev_a = -1;
    for (int k = 0; k < 128; k++) {
        int u = rp_g711_ulaw_decode((uint8_t)(0xFF - k));
        int a = rp_g711_alaw_decode((uint8_t)((0x80 | k) ^ 0x55));
        assert_true(u > prev_u);
        assert_true(a > prev_a);
        prev_u = u;
        prev_a = a;
        assert_int_equal(rp_g711_ulaw_decode((uint8_t)(0x7F - k)), -u);
        assert_int_equal(rp_g711_alaw_decode((uint8_t)(k ^ 0x55)), -a);
    }
}

static void test_encoding_a_decoded_value_gives_the_code_back(void **state)
{
    (void)state;
    for (int c = 0; c < 256; c++) {
        uint8_t code = (uint8_t)c;
        assert_int_equal(rp_g711_alaw_encode(rp_g711_alaw_decode(code)), code);
        /* µ-law has two zeros (0xFF, 0x7F); 0 encodes as +0. */
        uint8_t want = code == 0x7F ? 0xFF : code;
        assert_int_equal(rp_g711_ulaw_encode(rp_g711_ulaw_decode(code)), want);
    }
}

static void test_buffer_encoders_match_sample_encoders(void **state)
{
    (void)state;
    int16_t pcm[7] = { 0, -1, 1, 1000, -1000, INT16_MAX, INT16_MIN };
    uint8_t a[7], u[7];
    rp_g711_alaw_encode_buf(pcm, 7, a);
    rp_g711_ulaw_encode_buf(pcm, 7, u);
    for (size_t i = 0; i < 7; i++) {
        assert_int_equal(a[i], ref_alaw_encode(pcm[i]));
        assert_int_equal(u[i], ref_ulaw_encode(pcm[i]));
    }
    rp_g711_ulaw_encode_buf(pcm, 0, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reference_tables_match_published_end_points),
        cmocka_unit_test(test_ulaw_known_code_points),
        cmocka_unit_test(test_alaw_known_code_points),
        cmocka_unit_test(test_decode_matches_g711_table_for_every_code),
        cmocka_unit_test(test_encode_matches_g711_decision_table_for_every_sample),
        cmocka_unit_test(test_decode_tables_are_monotonic_and_symmetric),
        cmocka_unit_test(test_encoding_a_decoded_value_gives_the_code_back),
        cmocka_unit_test(test_buffer_encoders_match_sample_encoders),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
