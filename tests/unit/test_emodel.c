/* E-model reference points, computed by hand from the published formulas:
 *   R   = 93.2 - Id - Ie,eff                                   (G.107 §7.1, A = 0)
 *   Id  = 0.024 Ta + 0.11 (Ta - 177.3) H(Ta - 177.3)           (Cole & Rosenbluth 2001)
 *   Ie,eff = Ie + (95 - Ie) Ppl / (Ppl / BurstR + Bpl)         (G.107 eq. 7-29)
 *   MOS = 1 + 0.035 R + R (R - 60)(100 - R) 7e-6               (G.107 Annex B)
 * G.711 with PLC: Ie = 0, Bpl = 25.1 (G.113 Appendix I). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "emodel.h"

/* cmocka's float assertion works in single precision; these are doubles. */
#define assert_near(actual, expected, tol)                                            \
    do {                                                                              \
        double a_ = (actual), e_ = (expected);                                        \
        if (!(fabs(a_ - e_) <= (tol)))                                                \
            fail_msg("%s = %.9g, expected %.9g +- %g", #actual, a_, e_, (double)(tol)); \
    } while (0)

#define G711_IE  0.0
#define G711_BPL 25.1

static struct rp_emodel_out run(double ppl_pct, double burst_r, double delay_ms)
{
    struct rp_emodel_in in = {
        .ie = G711_IE, .bpl = G711_BPL, .ppl_pct = ppl_pct, .burst_r = burst_r,
        .delay_ms = delay_ms,
    };
    struct rp_emodel_out out;

    rp_emodel_compute(&in, &out);
    return out;
}

static void test_g711_no_loss_no_delay_is_r93_2_mos4_41(void **state)
{
    (void)state;
    struct rp_emodel_out out = run(0.0, 1.0, 0.0);

    /* MOS = 1 + 3.262 + 93.2 * 33.2 * 6.8 * 7e-6 = 4.4093 */
    assert_near(out.id, 0.0, 1e-9);
    assert_near(out.ie_eff, 0.0, 1e-9);
    assert_near(out.r, 93.2, 0.01);
    assert_near(out.mos, 4.41, 0.01);
}

static void test_g711_2pct_random_loss_100ms_is_r83_79_mos4_16(void **state)
{
    (void)state;
    struct rp_emodel_out out = run(2.0, 1.0, 100.0);

    /* Id = 2.4; Ie,eff = 95 * 2 / (2 + 25.1) = 7.0111; R = 83.789;
     * MOS = 1 + 2.9326 + 83.789 * 23.789 * 16.211 * 7e-6 = 4.1588 */
    assert_near(out.id, 2.4, 0.001);
    assert_near(out.ie_eff, 7.011, 0.001);
    assert_near(out.r, 83.79, 0.01);
    assert_near(out.mos, 4.16, 0.01);
}

static void test_g711_5pct_bursty_loss_150ms_is_r72_39_mos3_71(void **state)
{
    (void)state;
    struct rp_emodel_out out = run(5.0, 2.0, 150.0);

    /* Id = 3.6; Ie,eff = 95 * 5 / (2.5 + 25.1) = 17.2101; R = 72.3899;
     * MOS = 1 + 2.5336 + 72.39 * 12.39 * 27.61 * 7e-6 = 3.7070 */
    assert_near(out.id, 3.6, 0.001);
    assert_near(out.ie_eff, 17.210, 0.001);
    assert_near(out.r, 72.39, 0.01);
    assert_near(out.mos, 3.71, 0.01);
}

static void test_delay_impairment_bends_at_177_3_ms(void **state)
{
    (void)state;
    /* Below the knee only the linear term: 0.024 * 177.3 = 4.2552. */
    assert_near(rp_emodel_delay_impairment(177.3), 4.2552, 1e-6);
    /* 300 ms: 0.024 * 300 + 0.11 * (300 - 177.3) = 7.2 + 13.497 = 20.697. */
    assert_near(rp_emodel_delay_impairment(300.0), 20.697, 1e-6);
    /* 400 ms: 9.6 + 0.11 * 222.7 = 9.6 + 24.497 = 34.097. */
    assert_near(rp_emodel_delay_impairment(400.0), 34.097, 1e-6);
    assert_near(rp_emodel_delay_impairment(0.0), 0.0, 1e-12);
    assert_near(rp_emodel_delay_impairment(-5.0), 0.0, 1e-12);
}

static void test_300ms_without_loss_gives_r72_50(void **state)
{
    (void)state;
    struct rp_emodel_out out = run(0.0, 1.0, 300.0);

    /* R = 93.2 - 20.697 = 72.503; MOS = 1 + 2.5376 + 72.503 * 12.503 * 27.497 * 7e-6 = 3.7121 */
    assert_near(out.r, 72.503, 0.001);
    assert_near(out.mos, 3.71, 0.01);
}

static void test_mos_is_clamped_at_both_ends(void **state)
{
    (void)state;
    assert_near(rp_emodel_mos_from_r(-20.0), 1.0, 1e-12);
    assert_near(rp_emodel_mos_from_r(0.0), 1.0, 1e-12);
    /* The Annex B cubic dips to 0.9889 at R = 3.1; held at the bottom of the scale. */
    assert_near(rp_emodel_mos_from_r(3.1), 1.0, 1e-12);
    assert_near(rp_emodel_mos_from_r(100.0), 4.5, 1e-12);
    assert_near(rp_emodel_mos_from_r(120.0), 4.5, 1e-12);
    /* Mid-scale: 1 + 1.75 + 50 * -10 * 50 * 7e-6 = 2.575. */
    assert_near(rp_emodel_mos_from_r(50.0), 2.575, 1e-9);
}

static void test_heavy_impairment_gives_negative_r_and_mos_1(void **state)
{
    (void)state;
    /* 50 % loss, 600 ms: Id = 14.4 + 0.11 * 422.7 = 60.897;
     * Ie,eff = 95 * 50 / 75.1 = 63.249; R = 93.2 - 124.146 = -30.946 (not clamped). */
    struct rp_emodel_out out = run(50.0, 1.0, 600.0);

    assert_near(out.r, -30.946, 0.001);
    assert_near(out.mos, 1.0, 1e-12);
}

static void test_r_falls_monotonically_with_loss_delay_and_burstiness(void **state)
{
    (void)state;
    double prev = 1e9;

    for (double loss = 0.0; loss <= 30.0; loss += 0.5) {
        struct rp_emodel_out out = run(loss, 1.0, 50.0);
        assert_true(out.r < prev);
        prev = out.r;
    }
    prev = 1e9;
    for (double delay = 0.0; delay <= 800.0; delay += 10.0) {
        struct rp_emodel_out out = run(1.0, 1.0, delay);
        assert_true(out.r < prev);
        prev = out.r;
    }
    prev = 1e9;
    for (double burst = 1.0; burst <= 8.0; burst += 0.5) {
        struct rp_emodel_out out = run(3.0, burst, 50.0);
        assert_true(out.r < prev);
        prev = out.r;
    }
}

static void test_mos_rises_monotonically_with_r_above_6_5(void **state)
{
    (void)state;
    double prev = 0.0;

    for (double r = 6.5; r <= 100.0; r += 0.5) {
        double mos = rp_emodel_mos_from_r(r);
        assert_true(mos > prev);
        prev = mos;
    }
}

static void test_missing_burst_ratio_means_random_loss(void **state)
{
    (void)state;
    struct rp_emodel_out unknown = run(2.0, 0.0, 100.0);
    struct rp_emodel_out random = run(2.0, 1.0, 100.0);

    assert_near(unknown.r, random.r, 1e-12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_g711_no_loss_no_delay_is_r93_2_mos4_41),
        cmocka_unit_test(test_g711_2pct_random_loss_100ms_is_r83_79_mos4_16),
        cmocka_unit_test(test_g711_5pct_bursty_loss_150ms_is_r72_39_mos3_71),
        cmocka_unit_test(test_delay_impairment_bends_at_177_3_ms),
        cmocka_unit_test(test_300ms_without_loss_gives_r72_50),
        cmocka_unit_test(test_mos_is_clamped_at_both_ends),
        cmocka_unit_test(test_heavy_impairment_gives_negative_r_and_mos_1),
        cmocka_unit_test(test_r_falls_monotonically_with_loss_delay_and_burstiness),
        cmocka_unit_test(test_mos_rises_monotonically_with_r_above_6_5),
        cmocka_unit_test(test_missing_burst_ratio_means_random_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
