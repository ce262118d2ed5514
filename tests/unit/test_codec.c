/* Codec table, ptime/bitrate rules and payload loops. Payloads are checked
 * from the outside: G.711 through the Recommendation's µ-law/A-law expansion
 * (computed here from the segment formula), Opus through libopus's own
 * decoder and packet parser. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <opus.h>

#include "codec.h"

/* G.711 µ-law expansion (Table 2/G.711 output values, 14-bit left-justified),
 * written from the segment formula: ((2m + 33) << seg) - 33, times 4. */
static int ulaw_expand(uint8_t code)
{
    int bits = ~code & 0x7F;
    int v = (((2 * (bits & 0x0F) + 33) << (bits >> 4)) - 33) * 4;
    return (code & 0x80) ? v : -v;
}

/* G.711 A-law expansion (Table 1/G.711, 13-bit left-justified): segment 0
 * output 2m + 1, segment s > 0 output (2m + 33) << (s - 1), times 8. */
static int alaw_expand(uint8_t code)
{
    int bits = (code ^ 0x55) & 0x7F;
    int seg = bits >> 4, m = bits & 0x0F;
    int v = (seg == 0 ? 2 * m + 1 : (2 * m + 33) << (seg - 1)) * 8;
    return (code & 0x80) ? v : -v;
}

static double dbov(double mean_square)
{
    return 10.0 * log10(mean_square / (32768.0 * 32768.0));
}

/* Level of the talk, counting only frames above -45 dBov (pauses carry a
 * -66 dBov noise floor), and how much of the time is talk. */
struct level { double active_dbov, active_share, loudest_dbov, quietest_dbov; };

static struct level measure(const int *pcm, size_t frames, size_t frame_len)
{
    struct level l = { 0, 0, -200, 200 };
    double active_sum = 0;
    size_t active = 0;
    for (size_t f = 0; f < frames; f++) {
        double ms = 0;
        for (size_t i = 0; i < frame_len; i++)
            ms += (double)pcm[f * frame_len + i] * pcm[f * frame_len + i];
        ms /= (double)frame_len;
        double d = ms > 0 ? dbov(ms) : -200;
        if (d > -45.0) {
            active_sum += ms;
            active++;
        }
        if (d > l.loudest_dbov)
            l.loudest_dbov = d;
        if (d < l.quietest_dbov)
            l.quietest_dbov = d;
    }
    l.active_share = (double)active / (double)frames;
    l.active_dbov = active ? dbov(active_sum / (double)active) : -200;
    return l;
}

static void test_table_has_rfc_payload_types_and_clocks(void **state)
{
    (void)state;
    const struct rp_codec_info *pcmu = rp_codec_get(RP_CODEC_PCMU);
    const struct rp_codec_info *pcma = rp_codec_get(RP_CODEC_PCMA);
    const struct rp_codec_info *opus = rp_codec_get(RP_CODEC_OPUS);
    assert_non_null(pcmu);
    assert_non_null(pcma);
    assert_non_null(opus);
    /* RFC 3551 Table 4 */
    assert_int_equal(pcmu->pt, 0);
    assert_string_equal(pcmu->encoding, "PCMU");
    assert_int_equal(pcmu->clock_rate, 8000);
    assert_int_equal(pcma->pt, 8);
    assert_string_equal(pcma->encoding, "PCMA");
    assert_int_equal(pcma->clock_rate, 8000);
    /* RFC 7587 §4.1 and §7: opus/48000, dynamic type */
    assert_string_equal(opus->encoding, "opus");
    assert_int_equal(opus->clock_rate, 48000);
    assert_int_equal(opus->sample_rate, 48000);
    assert_in_range(opus->pt, 96, 127);
    assert_int_equal(opus->default_bitrate, 32000);
    assert_int_equal(pcmu->default_bitrate, 64000);
    for (int id = 0; id < RP_CODEC_COUNT; id++)
        assert_int_equal(rp_codec_get((enum rp_codec_id)id)->id, id);
    assert_null(rp_codec_get(RP_CODEC_COUNT));
}

static void test_g711_emodel_values_are_g113_appendix_i(void **state)
{
    (void)state;
    const struct rp_codec_info *pcmu = rp_codec_get(RP_CODEC_PCMU);
    const struct rp_codec_info *pcma = rp_codec_get(RP_CODEC_PCMA);
    assert_true(pcmu->ie == 0.0 && pcma->ie == 0.0);
    assert_true(fabs(pcmu->bpl - 25.1) < 1e-9 && fabs(pcma->bpl - 25.1) < 1e-9);
    assert_true(pcmu->algo_delay_ms == 0.0);
}

static void test_opus_algorithmic_delay_is_libopus_lookahead(void **state)
{
    (void)state;
    int err;
    OpusEncoder *enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
    assert_int_equal(err, OPUS_OK);
    opus_int32 lookahead = 0;
    assert_int_equal(opus_encoder_ctl(enc, OPUS_GET_LOOKAHEAD(&lookahead)), OPUS_OK);
    opus_encoder_destroy(enc);
    double ms = lookahead / 48.0;
    assert_true(fabs(rp_codec_get(RP_CODEC_OPUS)->algo_delay_ms - ms) < 1e-9);
}

static void test_lookup_by_name_ignores_case(void **state)
{
    (void)state;
    assert_ptr_equal(rp_codec_by_name("pcmu"), rp_codec_get(RP_CODEC_PCMU));
    assert_ptr_equal(rp_codec_by_name("PCMU"), rp_codec_get(RP_CODEC_PCMU));
    assert_ptr_equal(rp_codec_by_name("PcMa"), rp_codec_get(RP_CODEC_PCMA));
    assert_ptr_equal(rp_codec_by_name("OPUS"), rp_codec_get(RP_CODEC_OPUS));
    assert_ptr_equal(rp_codec_by_name("opus"), rp_codec_get(RP_CODEC_OPUS));
}

static void test_unknown_names_are_not_found(void **state)
{
    (void)state;
    assert_null(rp_codec_by_name("g729"));
    assert_null(rp_codec_by_name(""));
    assert_null(rp_codec_by_name("pcm"));
    assert_null(rp_codec_by_name("pcmux"));
    assert_null(rp_codec_by_name(NULL));
}

static void test_g711_ptime_is_10_to_60_in_steps_of_10(void **state)
{
    (void)state;
    static const unsigned ok[] = { 10, 20, 30, 40, 50, 60 };
    static const unsigned bad[] = { 0, 5, 9, 11, 15, 25, 61, 70, 120 };
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_true(rp_codec_ptime_valid(RP_CODEC_PCMU, ok[i]));
        assert_true(rp_codec_ptime_valid(RP_CODEC_PCMA, ok[i]));
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(rp_codec_ptime_valid(RP_CODEC_PCMU, bad[i]));
        assert_false(rp_codec_ptime_valid(RP_CODEC_PCMA, bad[i]));
    }
}

static void test_opus_ptime_is_10_20_40_or_60(void **state)
{
    (void)state;
    assert_true(rp_codec_ptime_valid(RP_CODEC_OPUS, 10));
    assert_true(rp_codec_ptime_valid(RP_CODEC_OPUS, 20));
    assert_true(rp_codec_ptime_valid(RP_CODEC_OPUS, 40));
    assert_true(rp_codec_ptime_valid(RP_CODEC_OPUS, 60));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 0));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 5));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 30));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 50));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 80));
    assert_false(rp_codec_ptime_valid(RP_CODEC_OPUS, 120));
    assert_false(rp_codec_ptime_valid(RP_CODEC_COUNT, 20));
}

static void test_bitrate_limits(void **state)
{
    (void)state;
    assert_true(rp_codec_bitrate_valid(RP_CODEC_PCMU, 64000));
    assert_true(rp_codec_bitrate_valid(RP_CODEC_PCMA, 64000));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_PCMU, 63999));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_PCMA, 32000));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_PCMU, 0));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_OPUS, 5999));
    assert_true(rp_codec_bitrate_valid(RP_CODEC_OPUS, 6000));
    assert_true(rp_codec_bitrate_valid(RP_CODEC_OPUS, 32000));
    assert_true(rp_codec_bitrate_valid(RP_CODEC_OPUS, 510000));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_OPUS, 510001));
    assert_false(rp_codec_bitrate_valid(RP_CODEC_COUNT, 64000));
}

static void test_samples_per_packet_follows_the_rtp_clock(void **state)
{
    (void)state;
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_PCMU, 20), 160);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_PCMA, 30), 240);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_PCMU, 10), 80);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_OPUS, 20), 960);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_OPUS, 10), 480);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_OPUS, 60), 2880);
    assert_int_equal(rp_codec_samples_per_packet(RP_CODEC_COUNT, 20), 0);
}

static void check_g711_loop(enum rp_codec_id id, unsigned ptime, int (*expand)(uint8_t))
{
    enum { FRAMES = 500 };
    char err[128] = "";
    struct rp_payloads *p = rp_payloads_new(id, ptime, 64000, FRAMES, 42, err, sizeof(err));
    assert_non_null(p);
    assert_int_equal(rp_payloads_count(p), FRAMES);

    size_t frame_len = ptime * 8u;
    int *pcm = malloc(sizeof(int) * frame_len * FRAMES);
    assert_non_null(pcm);
    unsigned differing = 0;
    const uint8_t *prev = NULL;
    for (uint32_t f = 0; f < FRAMES; f++) {
        size_t len = 0;
        const uint8_t *b = rp_payloads_get(p, f, &len);
        assert_non_null(b);
        assert_int_equal(len, frame_len);
        for (size_t i = 0; i < len; i++)
            pcm[f * frame_len + i] = expand(b[i]);
        if (prev != NULL && memcmp(prev, b, len) != 0)
            differing++;
        prev = b;
    }
    /* Talk at about -20 dBov, with pauses: not silence, not a constant tone. */
    struct level l = measure(pcm, FRAMES, frame_len);
    assert_true(l.active_dbov > -24.0 && l.active_dbov < -16.0);
    assert_true(l.active_share > 0.35 && l.active_share < 0.85);
    assert_true(l.loudest_dbov < -6.0);
    assert_true(l.loudest_dbov - l.quietest_dbov > 30.0);
    assert_true(differing >= FRAMES - 2);

    /* The loop repeats: index FRAMES is frame 0 again. */
    size_t l0, ln;
    assert_ptr_equal(rp_payloads_get(p, 0, &l0), rp_payloads_get(p, FRAMES, &ln));
    assert_ptr_equal(rp_payloads_get(p, 7, &l0), rp_payloads_get(p, 7 + 3 * FRAMES, &ln));
    free(pcm);
    rp_payloads_free(p);
}

static int ulaw_expand_cb(uint8_t c) { return ulaw_expand(c); }
static int alaw_expand_cb(uint8_t c) { return alaw_expand(c); }

static void test_pcmu_payloads_are_speech_level_and_frame_sized(void **state)
{
    (void)state;
    check_g711_loop(RP_CODEC_PCMU, 20, ulaw_expand_cb);
}

static void test_pcma_payloads_are_speech_level_and_frame_sized(void **state)
{
    (void)state;
    check_g711_loop(RP_CODEC_PCMA, 20, alaw_expand_cb);
}

static void test_g711_frame_size_is_eight_bytes_per_ms(void **state)
{
    (void)state;
    static const unsigned ptimes[] = { 10, 30, 60 };
    for (size_t i = 0; i < 3; i++) {
        struct rp_payloads *p = rp_payloads_new(RP_CODEC_PCMA, ptimes[i], 64000, 3, 1, NULL, 0);
        assert_non_null(p);
        size_t len = 0;
        assert_non_null(rp_payloads_get(p, 2, &len));
        assert_int_equal(len, ptimes[i] * 8);
        rp_payloads_free(p);
    }
}

static void test_same_seed_gives_same_payloads_other_seed_differs(void **state)
{
    (void)state;
    struct rp_payloads *a = rp_payloads_new(RP_CODEC_PCMU, 20, 64000, 100, 7, NULL, 0);
    struct rp_payloads *b = rp_payloads_new(RP_CODEC_PCMU, 20, 64000, 100, 7, NULL, 0);
    struct rp_payloads *c = rp_payloads_new(RP_CODEC_PCMU, 20, 64000, 100, 8, NULL, 0);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(c);
    size_t la, lb, lc;
    const uint8_t *pa = rp_payloads_get(a, 0, &la);
    const uint8_t *pb = rp_payloads_get(b, 0, &lb);
    const uint8_t *pc = rp_payloads_get(c, 0, &lc);
    /* Frames are contiguous: compare the whole loop at once. */
    assert_memory_equal(pa, pb, la * 100);
    assert_memory_not_equal(pa, pc, la * 100);
    rp_payloads_free(a);
    rp_payloads_free(b);
    rp_payloads_free(c);
}

static void check_opus_loop(unsigned ptime, unsigned bitrate, unsigned frames, double *avg_bytes)
{
    char err[128] = "";
    struct rp_payloads *p = rp_payloads_new(RP_CODEC_OPUS, ptime, bitrate, frames, 3, err, sizeof(err));
    if (p == NULL)
        fail_msg("rp_payloads_new: %s", err);
    assert_int_equal(rp_payloads_count(p), frames);

    int derr;
    OpusDecoder *dec = opus_decoder_create(48000, 1, &derr);
    assert_int_equal(derr, OPUS_OK);
    const int frame_len = (int)(48 * ptime);
    opus_int16 *out = malloc(sizeof(*out) * 5760);
    int *pcm = malloc(sizeof(int) * (size_t)frame_len * frames);
    assert_non_null(out);
    assert_non_null(pcm);
    size_t total = 0;
    for (uint32_t f = 0; f < frames; f++) {
        size_t len = 0;
        const uint8_t *b = rp_payloads_get(p, f, &len);
        assert_non_null(b);
        assert_in_range(len, 1, 1275 * 3);
        total += len;
        assert_int_equal(opus_packet_get_nb_samples(b, (opus_int32)len, 48000), frame_len);
        int n = opus_decode(dec, b, (opus_int32)len, out, 5760, 0);
        assert_int_equal(n, frame_len);
        for (int i = 0; i < n; i++)
            pcm[(size_t)f * (size_t)frame_len + (size_t)i] = out[i];
    }
    *avg_bytes = (double)total / frames;

    /* Decoded talk still sits near -20 dBov, with pauses. */
    struct level l = measure(pcm, frames, (size_t)frame_len);
    assert_true(l.active_dbov > -25.0 && l.active_dbov < -15.0);
    assert_true(l.loudest_dbov - l.quietest_dbov > 30.0);

    opus_decoder_destroy(dec);
    free(out);
    free(pcm);
    rp_payloads_free(p);
}

static void test_opus_payloads_decode_to_20ms_at_about_32kbps(void **state)
{
    (void)state;
    double avg;
    check_opus_loop(20, 32000, 500, &avg);
    /* 32 kbit/s x 20 ms = 80 bytes; VBR spends less in pauses. */
    assert_true(avg > 80 * 0.7 && avg < 80 * 1.3);
}

static void test_opus_payloads_for_every_ptime(void **state)
{
    (void)state;
    static const unsigned ptimes[] = { 10, 40, 60 };
    for (size_t i = 0; i < 3; i++) {
        double avg;
        check_opus_loop(ptimes[i], 48000, 150, &avg);
        double nominal = 48000 / 8.0 * ptimes[i] / 1000.0;
        assert_true(avg > nominal * 0.6 && avg < nominal * 1.4);
    }
}

static void test_invalid_arguments_give_null_and_a_reason(void **state)
{
    (void)state;
    char err[128];
    err[0] = '\0';
    assert_null(rp_payloads_new(RP_CODEC_OPUS, 30, 32000, 10, 1, err, sizeof(err)));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(rp_payloads_new(RP_CODEC_PCMU, 20, 32000, 10, 1, err, sizeof(err)));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(rp_payloads_new(RP_CODEC_PCMA, 20, 64000, 0, 1, err, sizeof(err)));
    assert_true(err[0] != '\0');
    err[0] = '\0';
    assert_null(rp_payloads_new(RP_CODEC_COUNT, 20, 64000, 10, 1, err, sizeof(err)));
    assert_true(err[0] != '\0');
    assert_null(rp_payloads_new(RP_CODEC_OPUS, 20, 1000, 10, 1, NULL, 0));
    size_t len = 99;
    assert_null(rp_payloads_get(NULL, 0, &len));
    assert_int_equal(len, 0);
    assert_int_equal(rp_payloads_count(NULL), 0);
    rp_payloads_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_has_rfc_payload_types_and_clocks),
        cmocka_unit_test(test_g711_emodel_values_are_g113_appendix_i),
        cmocka_unit_test(test_opus_algorithmic_delay_is_libopus_lookahead),
        cmocka_unit_test(test_lookup_by_name_ignores_case),
        cmocka_unit_test(test_unknown_names_are_not_found),
        cmocka_unit_test(test_g711_ptime_is_10_to_60_in_steps_of_10),
        cmocka_unit_test(test_opus_ptime_is_10_20_40_or_60),
        cmocka_unit_test(test_bitrate_limits),
        cmocka_unit_test(test_samples_per_packet_follows_the_rtp_clock),
        cmocka_unit_test(test_pcmu_payloads_are_speech_level_and_frame_sized),
        cmocka_unit_test(test_pcma_payloads_are_speech_level_and_frame_sized),
        cmocka_unit_test(test_g711_frame_size_is_eight_bytes_per_ms),
        cmocka_unit_test(test_same_seed_gives_same_payloads_other_seed_differs),
        cmocka_unit_test(test_opus_payloads_decode_to_20ms_at_about_32kbps),
        cmocka_unit_test(test_opus_payloads_for_every_ptime),
        cmocka_unit_test(test_invalid_arguments_give_null_and_a_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
