/* The daemon's upstream quality sample: loss and mean jitter in base units as
 * the report has them, MOS and R from the probe's own scoring without path
 * delay; histograms count each observation once, cumulatively. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "quality.h"
#include "report.h"

static struct rp_rxsummary lossy(void)
{
    return (struct rp_rxsummary){ .received = 490, .expected = 500, .lost = 10, .loss_pct = 2.0,
                                  .jitter_mean_ms = 12.5, .jb_mean_ms = 30, .burst_ratio = 1.4,
                                  .late_adaptive = 3, .wire_bytes = 490 * 214 };
}

static void test_sample_is_in_base_units_and_scored_as_the_probe_does(void **state)
{
    (void)state;
    struct rp_rxsummary rx = lossy();
    struct rp_quality_sample q;
    rp_quality_score(&rx, RP_CODEC_PCMA, 20, 40, &q);
    assert_true(fabs(q.loss_ratio - 0.02) < 1e-12);
    assert_true(fabs(q.jitter_s - 0.0125) < 1e-12);
    /* the report's upstream with no RTT samples: the same MOS and R */
    struct rp_report rep;
    memset(&rep, 0, sizeof rep);
    rep.up.measured = true;
    rep.up.sent = 500;
    rep.up.rx = rx;
    struct rp_score_in in = { .codec = rp_codec_get(RP_CODEC_PCMA), .ptime_ms = 20, .jitter_buffer_ms = 40,
                              .adaptive = true };
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    rp_report_finish(&rep, &in, &t);
    assert_true(q.mos == rep.up.mos && q.r_factor == rep.up.r_factor);
    /* delay basis: ptime + adaptive buffer mean + look-ahead, no path */
    assert_true(fabs(rep.up.mouth_to_ear_ms - (20 + 30 + rp_codec_get(RP_CODEC_PCMA)->algo_delay_ms)) < 1e-9);
    /* loss and late packets cost MOS: below a clean stream's */
    struct rp_rxsummary clean = { .received = 500, .expected = 500, .jb_mean_ms = 30, .burst_ratio = 1 };
    struct rp_quality_sample c;
    rp_quality_score(&clean, RP_CODEC_PCMA, 20, 40, &c);
    assert_true(c.mos > q.mos && c.r_factor > q.r_factor && c.loss_ratio == 0);
}

static void test_observations_are_cumulative_and_once(void **state)
{
    (void)state;
    struct rp_quality qh;
    memset(&qh, 0, sizeof qh);
    struct rp_quality_sample s = { .loss_ratio = 0.01, .jitter_s = 0.2, .mos = 4.5, .r_factor = 93.2 };
    rp_quality_observe(&qh, RP_CODEC_OPUS, RP_TRANSPORT_SRTP, &s);
    const struct rp_histogram *loss = &qh.h[RP_QF_LOSS][RP_CODEC_OPUS][RP_TRANSPORT_SRTP];
    /* bounds 0.001 0.005 0.01 ...: "le" includes the bound itself */
    assert_int_equal(loss->bucket[0], 0);
    assert_int_equal(loss->bucket[1], 0);
    assert_int_equal(loss->bucket[2], 1);
    assert_int_equal(loss->bucket[8], 1);
    assert_int_equal(loss->count, 1);
    assert_true(qh.h[RP_QF_R][RP_CODEC_OPUS][RP_TRANSPORT_SRTP].bucket[5] == 1); /* le 93.2 */
    assert_true(qh.h[RP_QF_MOS][RP_CODEC_OPUS][RP_TRANSPORT_SRTP].bucket[7] == 1); /* le 4.5 */
    assert_int_equal(qh.h[RP_QF_MOS][RP_CODEC_OPUS][RP_TRANSPORT_RTP].count, 0);
    /* beyond the last bound: only +Inf (count) */
    struct rp_quality_sample worse = { .loss_ratio = 1, .jitter_s = 0.75, .mos = 1, .r_factor = 95 };
    rp_quality_observe(&qh, RP_CODEC_OPUS, RP_TRANSPORT_SRTP, &worse);
    const struct rp_histogram *jit = &qh.h[RP_QF_JITTER][RP_CODEC_OPUS][RP_TRANSPORT_SRTP];
    assert_int_equal(jit->bucket[8], 1);
    assert_int_equal(jit->count, 2);
    assert_true(fabs(jit->sum - 0.95) < 1e-12);
    /* not a number: left out of its family only */
    struct rp_quality_sample nan_mos = { .loss_ratio = 0, .jitter_s = 0, .mos = NAN, .r_factor = 90 };
    rp_quality_observe(&qh, RP_CODEC_OPUS, RP_TRANSPORT_SRTP, &nan_mos);
    assert_int_equal(qh.h[RP_QF_MOS][RP_CODEC_OPUS][RP_TRANSPORT_SRTP].count, 2);
    assert_int_equal(qh.h[RP_QF_LOSS][RP_CODEC_OPUS][RP_TRANSPORT_SRTP].count, 3);
    /* out-of-range codec or transport: ignored, not written out of bounds */
    rp_quality_observe(&qh, RP_CODEC_COUNT, RP_TRANSPORT_RTP, &s);
    rp_quality_observe(&qh, RP_CODEC_PCMU, RP_TRANSPORT_COUNT, &s);
    assert_int_equal(qh.h[RP_QF_LOSS][RP_CODEC_PCMU][RP_TRANSPORT_RTP].count, 0);
}

static void test_families_follow_the_spec(void **state)
{
    (void)state;
    const struct rp_quality_family_info *f = rp_quality_family(RP_QF_LOSS);
    assert_string_equal(f->name, "rtpprobed_session_loss_ratio");
    assert_int_equal(f->nbounds, 9);
    assert_string_equal(rp_quality_family(RP_QF_JITTER)->name, "rtpprobed_session_jitter_seconds");
    assert_string_equal(rp_quality_family(RP_QF_MOS)->name, "rtpprobed_session_mos");
    assert_int_equal(rp_quality_family(RP_QF_MOS)->nbounds, 8);
    assert_string_equal(rp_quality_family(RP_QF_R)->name, "rtpprobed_session_r_factor");
    assert_true(rp_quality_family(RP_QF_R)->bounds[5] == 93.2);
    assert_null(rp_quality_family(RP_QF_COUNT));
    for (unsigned k = 0; k < RP_QF_COUNT; k++)
        for (unsigned i = 1; i < rp_quality_family(k)->nbounds; i++)
            assert_true(rp_quality_family(k)->bounds[i - 1] < rp_quality_family(k)->bounds[i]);
    assert_string_equal(rp_transport_name(RP_TRANSPORT_RTP), "rtp");
    assert_string_equal(rp_transport_name(RP_TRANSPORT_SRTP), "srtp");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sample_is_in_base_units_and_scored_as_the_probe_does),
        cmocka_unit_test(test_observations_are_cumulative_and_once),
        cmocka_unit_test(test_families_follow_the_spec),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
