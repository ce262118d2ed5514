/* Threshold ranges: the Monitoring Plugins guidelines' table, value by value at
 * and around every boundary, the text written back into perfdata, what is not
 * a range, the order of warning and critical, and -w/-c METRIC=RANGE lists. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "threshold.h"

static struct rp_range range_of(const char *s)
{
    struct rp_range r;
    char err[160];
    if (rp_range_parse(s, &r, err, sizeof err) < 0)
        fail_msg("\"%s\" refused: %s", s, err);
    return r;
}

/* alert(x) for the guidelines' five forms, at -1e9, below, on and above each
 * boundary, in between and at 1e9. */
static void test_guideline_table_value_by_value(void **state)
{
    (void)state;
    static const struct {
        const char *range;
        double x;
        bool alert;
    } cases[] = {
        /* 10: alert if x < 0 or x > 10 */
        { "10", -1e9, true }, { "10", -0.001, true }, { "10", 0, false }, { "10", 5, false },
        { "10", 10, false }, { "10", 10.001, true }, { "10", 1e9, true },
        /* 10: alert if x < 10 */
        { "10:", -1e9, true }, { "10:", 0, true }, { "10:", 9.999, true }, { "10:", 10, false },
        { "10:", 10.001, false }, { "10:", 1e9, false },
        /* ~:10 alert if x > 10 */
        { "~:10", -1e9, false }, { "~:10", -0.001, false }, { "~:10", 0, false }, { "~:10", 10, false },
        { "~:10", 10.001, true }, { "~:10", 1e9, true },
        /* 10:20 alert if x < 10 or x > 20 */
        { "10:20", -1e9, true }, { "10:20", 9.999, true }, { "10:20", 10, false }, { "10:20", 15, false },
        { "10:20", 20, false }, { "10:20", 20.001, true }, { "10:20", 1e9, true },
        /* @10:20 alert if 10 <= x <= 20 */
        { "@10:20", -1e9, false }, { "@10:20", 9.999, false }, { "@10:20", 10, true }, { "@10:20", 15, true },
        { "@10:20", 20, true }, { "@10:20", 20.001, false }, { "@10:20", 1e9, false },
        /* the forms the probe's defaults and docs use */
        { "1", 1, false }, { "1", 1.001, true }, { "3.6:", 3.59, true }, { "3.6:", 3.6, false },
        { "@0:0", 0, true }, { "@0:0", 0.001, false }, { "@0:0", -0.001, false },
        { "~:", -1e9, false }, { "~:", 1e9, false }, { "@~:", 0, true },
        { "-5:-1", -3, false }, { "-5:-1", 0, true }, { "0:", -0.001, true }, { "0:", 1e9, false },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_range r = range_of(cases[i].range);
        if (rp_range_alerts(&r, cases[i].x) != cases[i].alert)
            fail_msg("range %s, x = %g: alert %d, want %d", cases[i].range, cases[i].x, !cases[i].alert,
                     cases[i].alert);
    }
}

/* What goes into the perfdata's warn;crit fields: the guidelines' form with
 * the numbers as given, and it reads back to the same range. */
static void test_range_text_is_the_guideline_form(void **state)
{
    (void)state;
    static const struct { const char *in, *out; } cases[] = {
        { "10", "10" }, { "10:", "10:" }, { "~:10", "~:10" }, { "10:20", "10:20" }, { "@10:20", "@10:20" },
        { "0:10", "10" }, { ":10", "10" }, { "0:", "0:" }, { "~:", "~:" }, { "@0:0", "@0:0" },
        { "@5", "@0:5" }, { "+2.50", "2.50" }, { "-1.5:.5", "-1.5:.5" }, { "3.6:", "3.6:" }, { "@~:3", "@~:3" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_range r = range_of(cases[i].in), back;
        assert_string_equal(r.text, cases[i].out);
        back = range_of(r.text);
        assert_true(back.start == r.start && back.end == r.end && back.inside == r.inside);
        assert_string_equal(back.text, r.text);
    }
    struct rp_range r = range_of("~:10");
    assert_true(isinf(r.start) && r.start < 0 && r.end == 10 && !r.inside);
    r = range_of("10:");
    assert_true(r.start == 10 && isinf(r.end) && r.end > 0);
}

static void test_what_is_not_a_range_is_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "", ":", "@", "@:", "~", "~10", "10:~", "a", "1e3", "inf", "nan", "0x10", "10:20:30", "20:10",
        "@20:10", " 10", "10 ", "1,5", "--1", "+", "-", ".", "1.2.3", "@@1", "~:~", "5:4.999",
        "12345678901234567890123456789", /* too long */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rp_range r = range_of("7");
        char err[160] = "";
        if (rp_range_parse(bad[i], &r, err, sizeof err) == 0)
            fail_msg("\"%s\" accepted as %s", bad[i], r.text);
        assert_true(err[0] != '\0');
        assert_string_equal(r.text, "7"); /* untouched */
    }
}

/* Every value the narrow one alerts on, the wide one does too: checked by
 * brute force on a grid against the closed-form answer. */
static void test_alerts_within_matches_brute_force(void **state)
{
    (void)state;
    static const char *const ranges[] = { "10", "10:", "~:10", "10:20", "@10:20", "5", "5:25", "@5:25",
                                          "@12:15", "~:20", "20:", "@~:10", "@10:", "~:", "@0:0", "0:" };
    const size_t n = sizeof ranges / sizeof ranges[0];
    for (size_t a = 0; a < n; a++) {
        for (size_t b = 0; b < n; b++) {
            struct rp_range na = range_of(ranges[a]), wi = range_of(ranges[b]);
            bool within = true;
            for (double x = -40; x <= 40; x += 0.25)
                if (rp_range_alerts(&na, x) && !rp_range_alerts(&wi, x))
                    within = false;
            if (rp_range_alerts_within(&na, &wi) != within)
                fail_msg("%s within %s: %d, brute force %d", ranges[a], ranges[b], !within, within);
        }
    }
}

static void test_default_thresholds_are_the_documented_ones(void **state)
{
    (void)state;
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    static const char *const warn[] = { "1", "30", "300", "4:" }, *const crit[] = { "5", "60", "600", "3.6:" };
    for (unsigned m = 0; m < RP_THR_N; m++) {
        assert_string_equal(t.warn[m].text, warn[m]);
        assert_string_equal(t.crit[m].text, crit[m]);
    }
    char err[256];
    assert_int_equal(rp_thresholds_check_order(&t, err, sizeof err), 0);
    assert_string_equal(rp_thr_metric_name(RP_THR_MOS), "mos");
}

static void test_metric_lists_set_and_replace(void **state)
{
    (void)state;
    struct rp_thresholds t;
    char err[256];
    rp_thresholds_default(&t);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "loss=0.5,jitter=~:20,mos=4.2:", err, sizeof err), 0);
    assert_string_equal(t.warn[RP_THR_LOSS].text, "0.5");
    assert_string_equal(t.warn[RP_THR_JITTER].text, "~:20");
    assert_string_equal(t.warn[RP_THR_MOS].text, "4.2:");
    assert_string_equal(t.warn[RP_THR_RTT].text, "300"); /* untouched */
    assert_string_equal(t.crit[RP_THR_LOSS].text, "5");
    /* Repeated: the later one wins. */
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "rtt=@0:10", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "rtt=700", err, sizeof err), 0);
    assert_string_equal(t.crit[RP_THR_RTT].text, "700");
    static const char *const bad[] = { "", "loss", "loss=", "=1", "los=1", "loss=1,", ",loss=1", "loss=1,,mos=4:",
                                       "loss=1;5", "MOS=4:", "loss=x", "mos=4:,jitter=1e2" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rp_thresholds before = t;
        err[0] = '\0';
        if (rp_thresholds_set(&t, RP_THR_WARN, bad[i], err, sizeof err) == 0)
            fail_msg("\"%s\" accepted", bad[i]);
        assert_true(err[0] != '\0');
        assert_memory_equal(&before, &t, sizeof t); /* nothing half-set */
    }
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "bogus=1", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown metric \"bogus\""));
}

static void test_wrong_order_is_refused(void **state)
{
    (void)state;
    static const struct { const char *warn, *crit; bool ok; } cases[] = {
        { "loss=1", "loss=5", true }, { "loss=5", "loss=1", false }, { "loss=5", "loss=5", true },
        { "mos=4:", "mos=3.6:", true }, { "mos=3.6:", "mos=4:", false }, { "jitter=10:20", "jitter=5:25", true },
        { "jitter=5:25", "jitter=10:20", false }, { "rtt=@100:200", "rtt=@120:150", true },
        { "rtt=@120:150", "rtt=@100:200", false }, { "loss=~:1", "loss=5", false }, { "loss=1", "loss=~:5", true },
        /* different forms are not ordered */
        { "loss=@0:0", "loss=5", true }, { "loss=10", "loss=@0:0", true },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_thresholds t;
        char err[256] = "";
        rp_thresholds_default(&t);
        assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, cases[i].warn, err, sizeof err), 0);
        assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, cases[i].crit, err, sizeof err), 0);
        int rc = rp_thresholds_check_order(&t, err, sizeof err);
        if ((rc == 0) != cases[i].ok)
            fail_msg("-w %s -c %s: %s", cases[i].warn, cases[i].crit, rc ? err : "accepted");
    }
    struct rp_thresholds t;
    char err[256];
    rp_thresholds_default(&t);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "mos=3.6:", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "mos=4:", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_check_order(&t, err, sizeof err), -1);
    assert_non_null(strstr(err, "wrong order for mos: critical mos=4: alerts where warning mos=3.6: does not"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_guideline_table_value_by_value),
        cmocka_unit_test(test_range_text_is_the_guideline_form),
        cmocka_unit_test(test_what_is_not_a_range_is_refused),
        cmocka_unit_test(test_alerts_within_matches_brute_force),
        cmocka_unit_test(test_default_thresholds_are_the_documented_ones),
        cmocka_unit_test(test_metric_lists_set_and_replace),
        cmocka_unit_test(test_wrong_order_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
