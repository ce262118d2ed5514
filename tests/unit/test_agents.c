/* POST /v1/reports bodies and the bounded store of the latest report per
 * agent: every key the daemon reads is checked (missing, mistyped, out of
 * range: refused, naming the key), the probe's own --json is accepted, and a
 * full store evicts the agent whose report is oldest. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agents.h"
#include "codec.h"
#include "report.h"

#define DIR_OK "{\"mos\": 4.2, \"loss_pct\": 1.5, \"jitter_mean_ms\": 2.5, \"delay_ms\": {\"rise\": 12}}"
#define REPORT_OK(up, down, rtt, verdict) \
    "{\"verdict\": " verdict ", \"upstream\": " up ", \"downstream\": " down ", \"rtt_ms\": " rtt "}"
#define BODY(agent, report) "{\"agent\": " agent ", \"report\": " report "}"
#define GOOD BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "{\"avg\": 30}", "\"warn\""))

static int parse(const char *body, struct rp_agent_report *r, char *err, size_t errlen)
{
    return rp_agents_parse(body, strlen(body), r, err, errlen);
}

static void expect_refused(const char *body, const char *message)
{
    struct rp_agent_report r;
    char err[256] = "";
    if (parse(body, &r, err, sizeof err) == 0)
        fail_msg("accepted: %s", body);
    if (!strstr(err, message))
        fail_msg("\"%s\" does not say \"%s\" (body %s)", err, message, body);
}

static void test_a_good_body_is_read_in_base_units(void **state)
{
    (void)state;
    struct rp_agent_report r;
    char err[256];
    assert_int_equal(parse(GOOD, &r, err, sizeof err), 0);
    assert_string_equal(r.agent, "a1");
    assert_int_equal(r.f.verdict, 1);
    assert_true(fabs(r.f.mos[RP_AGENT_UP] - 4.2) < 1e-12);
    assert_true(fabs(r.f.loss_ratio[RP_AGENT_DOWN] - 0.015) < 1e-12);
    assert_true(fabs(r.f.jitter_s[RP_AGENT_UP] - 0.0025) < 1e-12);
    assert_true(fabs(r.f.delay_rise_s[RP_AGENT_DOWN] - 0.012) < 1e-12);
    assert_true(fabs(r.f.rtt_s - 0.030) < 1e-12);
}

/* null is "not measured": no figure, not a refusal and not a 0. */
static void test_null_figures_are_unmeasured(void **state)
{
    (void)state;
    struct rp_agent_report r;
    char err[256];
    const char *body = BODY("\"a-1.b_2\"", REPORT_OK("{\"mos\": null, \"loss_pct\": null, \"jitter_mean_ms\": null, "
                                                     "\"delay_ms\": null}",
                                                     "{\"mos\": 3, \"loss_pct\": 0, \"jitter_mean_ms\": 0, "
                                                     "\"delay_ms\": {\"rise\": null}}",
                                                     "null", "\"unknown\""));
    assert_int_equal(parse(body, &r, err, sizeof err), 0);
    assert_true(isnan(r.f.mos[RP_AGENT_UP]) && isnan(r.f.loss_ratio[RP_AGENT_UP]));
    assert_true(isnan(r.f.jitter_s[RP_AGENT_UP]) && isnan(r.f.delay_rise_s[RP_AGENT_UP]));
    assert_true(isnan(r.f.delay_rise_s[RP_AGENT_DOWN]) && isnan(r.f.rtt_s));
    assert_true(r.f.mos[RP_AGENT_DOWN] == 3 && r.f.loss_ratio[RP_AGENT_DOWN] == 0);
    assert_int_equal(r.f.verdict, 3);
}

static void test_bad_bodies_are_refused_naming_the_key(void **state)
{
    (void)state;
    expect_refused("", "not JSON");
    expect_refused("{\"agent\": \"a1\", ", "not JSON");
    expect_refused("[1]", "expected an object");
    expect_refused("{\"report\": {}}", "agent: missing");
    expect_refused(BODY("\"a1\"", "{}") , "report.verdict: missing");
    expect_refused("{\"agent\": \"a1\"}", "report: missing");
    expect_refused("{\"agent\": \"a1\", \"report\": 5}", "report: expected an object");
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "null", "\"great\"")), "report.verdict: expected");
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "null", "0")), "report.verdict: expected");
    expect_refused(BODY("\"a1\"", "{\"verdict\": \"pass\", \"downstream\": " DIR_OK ", \"rtt_ms\": null}"),
                   "report.upstream: missing");
    expect_refused(BODY("\"a1\"", REPORT_OK("[]", DIR_OK, "null", "\"pass\"")), "report.upstream: expected an object");
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, "{\"loss_pct\": 1, \"jitter_mean_ms\": 1, \"delay_ms\": null}",
                                            "null", "\"pass\"")),
                   "report.downstream.mos: missing");
    expect_refused(BODY("\"a1\"", REPORT_OK("{\"mos\": \"4\", \"loss_pct\": 1, \"jitter_mean_ms\": 1, \"delay_ms\": null}",
                                            DIR_OK, "null", "\"pass\"")),
                   "report.upstream.mos: expected a number or null");
    expect_refused(BODY("\"a1\"", REPORT_OK("{\"mos\": 4, \"loss_pct\": 1, \"jitter_mean_ms\": 1, \"delay_ms\": 3}",
                                            DIR_OK, "null", "\"pass\"")),
                   "report.upstream.delay_ms: expected an object or null");
    expect_refused(BODY("\"a1\"", REPORT_OK("{\"mos\": 4, \"loss_pct\": 1, \"jitter_mean_ms\": 1, \"delay_ms\": {}}",
                                            DIR_OK, "null", "\"pass\"")),
                   "report.upstream.delay_ms.rise: missing");
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "{\"min\": 1}", "\"pass\"")), "report.rtt_ms.avg: missing");
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "{\"avg\": true}", "\"pass\"")),
                   "report.rtt_ms.avg: expected a number or null");
    /* two values for one key: which one would count? */
    expect_refused("{\"agent\": \"a1\", \"agent\": \"a2\", \"report\": {}}", "not JSON");
}

static void test_values_out_of_range_are_refused(void **state)
{
    (void)state;
#define UP(mos, loss, jit, rise) \
    BODY("\"a1\"", REPORT_OK("{\"mos\": " mos ", \"loss_pct\": " loss ", \"jitter_mean_ms\": " jit \
                             ", \"delay_ms\": {\"rise\": " rise "}}", DIR_OK, "null", "\"pass\""))
    expect_refused(UP("0.5", "0", "0", "0"), "report.upstream.mos: 0.5 is out of range 1..5");
    expect_refused(UP("5.01", "0", "0", "0"), "report.upstream.mos");
    expect_refused(UP("4", "-0.1", "0", "0"), "report.upstream.loss_pct");
    expect_refused(UP("4", "100.5", "0", "0"), "report.upstream.loss_pct");
    expect_refused(UP("4", "0", "-1", "0"), "report.upstream.jitter_mean_ms");
    expect_refused(UP("4", "0", "1e300", "0"), "report.upstream.jitter_mean_ms");
    expect_refused(UP("4", "0", "0", "-5"), "report.upstream.delay_ms.rise");
#undef UP
    expect_refused(BODY("\"a1\"", REPORT_OK(DIR_OK, DIR_OK, "{\"avg\": -1}", "\"pass\"")), "report.rtt_ms.avg");
    /* the edges are in */
    struct rp_agent_report r;
    char err[256];
    assert_int_equal(parse(BODY("\"a1\"", REPORT_OK("{\"mos\": 1, \"loss_pct\": 100, \"jitter_mean_ms\": 0, "
                                                    "\"delay_ms\": {\"rise\": 0}}",
                                                    "{\"mos\": 5, \"loss_pct\": 0, \"jitter_mean_ms\": 0, "
                                                    "\"delay_ms\": null}", "{\"avg\": 0}", "\"fail\"")),
                           &r, err, sizeof err),
                     0);
    assert_true(r.f.loss_ratio[RP_AGENT_UP] == 1.0);
}

/* The name becomes a Prometheus label value: nothing that needs escaping. */
static void test_agent_names_are_label_safe(void **state)
{
    (void)state;
    assert_true(rp_agent_name_valid("a", 1));
    assert_true(rp_agent_name_valid("Agent-7.site_B", 14));
    char longest[RP_AGENT_NAME_MAX + 2];
    memset(longest, 'x', sizeof longest);
    assert_true(rp_agent_name_valid(longest, RP_AGENT_NAME_MAX));
    assert_false(rp_agent_name_valid(longest, RP_AGENT_NAME_MAX + 1));
    assert_false(rp_agent_name_valid("", 0));
    const char *bad[] = { "a\"b", "a\nb", "a b", "a\\b", "a{b}", "agent=1", "caf\xc3\xa9", "a/b" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_false(rp_agent_name_valid(bad[i], strlen(bad[i])));
    assert_false(rp_agent_name_valid("a\0b", 3));
    expect_refused(BODY("\"a\\\"b\"", REPORT_OK(DIR_OK, DIR_OK, "null", "\"pass\"")), "agent: expected");
    expect_refused(BODY("\"a\\nb\"", REPORT_OK(DIR_OK, DIR_OK, "null", "\"pass\"")), "agent: expected");
    expect_refused(BODY("\"a\\u0000b\"", REPORT_OK(DIR_OK, DIR_OK, "null", "\"pass\"")), "not JSON"); /* jansson */
    expect_refused(BODY("\"\"", REPORT_OK(DIR_OK, DIR_OK, "null", "\"pass\"")), "agent: expected");
    expect_refused(BODY("7", REPORT_OK(DIR_OK, DIR_OK, "null", "\"pass\"")), "agent: expected");
}

/* What rtpprobe --json prints is what the daemon reads (same key names). */
static void test_the_probes_own_json_report_is_accepted(void **state)
{
    (void)state;
    struct rp_report rep;
    memset(&rep, 0, sizeof rep);
    snprintf(rep.codec, sizeof rep.codec, "pcmu");
    snprintf(rep.transport, sizeof rep.transport, "rtp");
    rep.ptime_ms = 20;
    struct rp_dir_report *dirs[] = { &rep.up, &rep.down };
    for (int i = 0; i < 2; i++) {
        dirs[i]->measured = true;
        dirs[i]->sent = 500;
        dirs[i]->rx = (struct rp_rxsummary){ .received = 490, .expected = 500, .lost = 10, .loss_pct = 2.0,
                                            .jitter_mean_ms = 1.25 + i, .delay_rise_ms = 3.5, .burst_ratio = 1,
                                            .wire_bytes = 490 * 214 };
    }
    int64_t rtt[] = { 20000000, 22000000 };
    struct rp_score_in in = { .codec = rp_codec_get(RP_CODEC_PCMU), .ptime_ms = 20, .jitter_buffer_ms = 40,
                              .adaptive = true, .rtt_ns = rtt, .nrtt = 2 };
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    rp_report_finish(&rep, &in, &t);
    char *json = NULL;
    size_t jlen = 0;
    FILE *f = open_memstream(&json, &jlen);
    assert_non_null(f);
    fputs("{\"agent\": \"probe-1\", \"report\": ", f);
    assert_int_equal(rp_report_print_json(&rep, f), 0);
    fputs("}", f);
    fclose(f);
    struct rp_agent_report r;
    char err[256];
    if (rp_agents_parse(json, jlen, &r, err, sizeof err) < 0)
        fail_msg("%s", err);
    free(json);
    assert_true(fabs(r.f.mos[RP_AGENT_UP] - round(rep.up.mos * 100) / 100) < 1e-9);
    assert_true(fabs(r.f.loss_ratio[RP_AGENT_UP] - 0.02) < 1e-9);
    assert_true(fabs(r.f.jitter_s[RP_AGENT_DOWN] - 0.00225) < 1e-9);
    assert_true(fabs(r.f.delay_rise_s[RP_AGENT_UP] - 0.0035) < 1e-9);
    assert_true(fabs(r.f.rtt_s - 0.021) < 1e-9);
    assert_int_equal(r.f.verdict, (unsigned)rep.verdict);
}

static void put(struct rp_agents *a, const char *name, double when)
{
    struct rp_agent_report r = { .f = { .verdict = 0 } };
    snprintf(r.agent, sizeof r.agent, "%s", name);
    assert_int_equal(rp_agents_put(a, &r, when), 0);
}

static bool holds(const struct rp_agents *a, const char *name)
{
    for (unsigned i = 0; i < rp_agents_count(a); i++)
        if (strcmp(rp_agents_name(a, i), name) == 0)
            return true;
    return false;
}

/* Oldest by when the daemon accepted it (not by name, not by first report):
 * a fresh report keeps an agent; a known agent's report never evicts. */
static void test_a_full_store_evicts_the_oldest_report(void **state)
{
    (void)state;
    struct rp_agents *a = rp_agents_new(3);
    put(a, "c", 1);
    put(a, "a", 2);
    put(a, "b", 3);
    put(a, "c", 4); /* c is now the newest: a is the oldest */
    assert_int_equal(rp_agents_count(a), 3);
    assert_int_equal(rp_agents_evictions(a), 0);
    put(a, "d", 5);
    assert_int_equal(rp_agents_count(a), 3);
    assert_int_equal(rp_agents_evictions(a), 1);
    assert_false(holds(a, "a"));
    assert_true(holds(a, "b") && holds(a, "c") && holds(a, "d"));
    /* listed by name */
    assert_string_equal(rp_agents_name(a, 0), "b");
    assert_string_equal(rp_agents_name(a, 2), "d");
    double when;
    assert_non_null(rp_agents_figures(a, 1, &when));
    assert_true(when == 4);
    assert_null(rp_agents_name(a, 3));
    assert_null(rp_agents_figures(a, 3, NULL));
    /* a lower bound (reload) evicts the oldest down to it */
    rp_agents_set_max(a, 1);
    assert_int_equal(rp_agents_count(a), 1);
    assert_int_equal(rp_agents_evictions(a), 3);
    assert_string_equal(rp_agents_name(a, 0), "d");
    rp_agents_set_max(a, 5);
    put(a, "e", 6);
    assert_int_equal(rp_agents_count(a), 2);
    assert_int_equal(rp_agents_reports(a, true), 6);
    rp_agents_note_rejected(a);
    assert_int_equal(rp_agents_reports(a, false), 1);
    rp_agents_free(a);
}

/* max_agents agents, then as many new ones again: the store stays at its
 * bound, every eviction counted, and what is left are the newest. */
static void test_the_store_holds_max_agents_and_no_more(void **state)
{
    (void)state;
    const unsigned max = RP_AGENTS_DEFAULT;
    struct rp_agents *a = rp_agents_new(max);
    char name[32];
    for (unsigned i = 0; i < 2 * max; i++) {
        snprintf(name, sizeof name, "agent-%u", (i * 7919u) % (2 * max)); /* not in name order */
        put(a, name, i);
    }
    assert_int_equal(rp_agents_count(a), max);
    assert_int_equal(rp_agents_max(a), max);
    assert_int_equal(rp_agents_evictions(a), max);
    for (unsigned i = 0; i < rp_agents_count(a); i++) {
        double when;
        rp_agents_figures(a, i, &when);
        assert_true(when >= max);
        if (i)
            assert_true(strcmp(rp_agents_name(a, i - 1), rp_agents_name(a, i)) < 0);
    }
    rp_agents_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_good_body_is_read_in_base_units),
        cmocka_unit_test(test_null_figures_are_unmeasured),
        cmocka_unit_test(test_bad_bodies_are_refused_naming_the_key),
        cmocka_unit_test(test_values_out_of_range_are_refused),
        cmocka_unit_test(test_agent_names_are_label_safe),
        cmocka_unit_test(test_the_probes_own_json_report_is_accepted),
        cmocka_unit_test(test_a_full_store_evicts_the_oldest_report),
        cmocka_unit_test(test_the_store_holds_max_agents_and_no_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
