/* Report: diagnosis from what each side saw, verdict escalation at the documented
 * thresholds, exit codes, and the three renderings. The JSON is parsed back and
 * checked against docs/report.schema.json (tests run from the repository root). */
#include <math.h>
#include <regex.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec.h"
#include "emodel.h"
#include "report.h"
#include "report_fixture.h"

static void block(struct rp_dir_report *d)
{
    d->rx.received = 0;
    d->rx.lost = (int64_t)d->rx.expected;
    d->rx.loss_pct = 100.0;
    d->rx.jitter_ms = 0.0;
    d->kbps = 0.0;
}

/* The sample of scenario 12's network: the edge forwards 10000-14999 only. */
static void partial_sample(struct rp_report *r)
{
    struct rp_port_sample *ps = &r->port_sample;
    *ps = (struct rp_port_sample){ .state = RP_PORT_SAMPLE_DONE, .from = 10000, .to = 20000, .tried = 18,
                                   .blocked = 9, .upstream_blocked = true, .nranges = 2 };
    ps->ranges[0] = (struct rp_pc_range){ 10000, 14706, RP_PC_BOTH };
    ps->ranges[1] = (struct rp_pc_range){ 15294, 20000, RP_PC_UP_BLOCKED };
}

/* Everything a printer wrote, as one NUL-terminated string (caller frees). */
struct capture { char *buf; size_t len; FILE *f; };

static FILE *capture_open(struct capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    assert_non_null(c->f);
    return c->f;
}

static char *capture_close(struct capture *c)
{
    assert_int_equal(fclose(c->f), 0);
    return c->buf;
}

/* ---- thresholds, diagnosis, verdict ---- */

static void test_default_thresholds_are_the_documented_ones(void **state)
{
    (void)state;
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    assert_string_equal(t.warn[RP_THR_LOSS].text, "1");
    assert_string_equal(t.crit[RP_THR_LOSS].text, "5");
    assert_string_equal(t.warn[RP_THR_JITTER].text, "30");
    assert_string_equal(t.crit[RP_THR_JITTER].text, "60");
    assert_string_equal(t.warn[RP_THR_RTT].text, "300");
    assert_string_equal(t.crit[RP_THR_RTT].text, "600");
    assert_string_equal(t.warn[RP_THR_MOS].text, "4:");
    assert_string_equal(t.crit[RP_THR_MOS].text, "3.6:");
}

static void test_clean_run_both_ways_is_two_way_pass(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "two-way");
    assert_string_equal(rp_verdict_name(r.verdict), "pass");
    assert_int_equal(rp_report_exit_code(&r), 0);
    assert_true(r.cause[0] != '\0');
    assert_true(r.remediation[0] != '\0');
}

static void test_nothing_upstream_is_upstream_blocked_and_names_the_port(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    block(&r.up);
    r.has_rtt = false; /* no upstream, no reflection */
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "one-way-upstream-blocked");
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(rp_report_exit_code(&r), 2);
    assert_string_equal(r.cause, "no RTP from the agent reached the media host on UDP 12346");
    assert_non_null(strstr(r.remediation, "forward UDP 10000-20000 to the media host"));
    assert_non_null(strstr(r.remediation, "firewall-cmd --permanent --add-port=10000-20000/udp"));
    assert_non_null(strstr(r.remediation, "outbound UDP"));
}

static void test_nothing_downstream_is_downstream_blocked(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    block(&r.down);
    r.has_rtt = false;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "one-way-downstream-blocked");
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_non_null(strstr(r.cause, "the agent would not hear the customer"));
    assert_non_null(strstr(r.remediation, "TURN over TLS on 5349"));
}

static void test_nothing_either_way_is_no_media(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    block(&r.up);
    block(&r.down);
    r.has_rtt = false;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_NO_MEDIA);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "no-media");
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_string_equal(r.cause, "UDP is blocked both ways");
    assert_non_null(strstr(r.remediation, "TURN/TLS on 5349"));
}

/* Blocked is about what arrived, not about figures: even thresholds that
 * could never be crossed leave a blocked direction a failure. */
static void test_blocked_direction_fails_whatever_the_thresholds(void **state)
{
    (void)state;
    struct rp_thresholds lax;
    char err[128];
    rp_thresholds_default(&lax);
    assert_int_equal(rp_thresholds_set(&lax, RP_THR_WARN, "loss=~:,jitter=~:,rtt=~:,mos=~:", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&lax, RP_THR_CRIT, "loss=~:,jitter=~:,rtt=~:,mos=~:", err, sizeof err), 0);
    struct rp_report r;
    clean_report(&r);
    block(&r.up);
    rp_report_evaluate(&r, &lax);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
}

static void test_unmeasured_upstream_with_downstream_says_unknown_and_warns(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    memset(&r.up.rx, 0, sizeof r.up.rx);
    r.up.measured = false;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_int_equal(rp_report_exit_code(&r), 1);
    assert_non_null(strstr(r.cause, "upstream unknown"));
}

static void test_unmeasured_upstream_keeps_a_worse_downstream_verdict(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.measured = false;
    set_loss(&r.down, 40); /* 8 % */
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_non_null(strstr(r.cause, "upstream unknown"));
    assert_non_null(strstr(r.cause, "downstream loss 8 % (fail > 5 %)"));
}

static void test_unmeasured_upstream_without_downstream_fails_as_downstream_blocked(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.measured = false;
    block(&r.down);
    r.has_rtt = false;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_non_null(strstr(r.cause, "upstream unknown"));
}

/* Ranges (Monitoring Plugins): "1" alerts above 1, not at it. */
static void test_loss_warns_above_1_pct_and_fails_above_5_pct(void **state)
{
    (void)state;
    /* Of 500 packets: 5 = 1 %, 6 = 1.2 %, 25 = 5 %, 26 = 5.2 %. */
    static const struct { uint64_t lost; enum rp_verdict v; } cases[] = {
        { 5, RP_VERDICT_PASS }, { 6, RP_VERDICT_WARN }, { 25, RP_VERDICT_WARN }, { 26, RP_VERDICT_FAIL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_report r;
        clean_report(&r);
        set_loss(&r.up, cases[i].lost);
        evaluate_default(&r);
        assert_int_equal(r.verdict, cases[i].v);
        assert_int_equal(r.diagnosis, cases[i].v == RP_VERDICT_PASS ? RP_DIAG_TWO_WAY : RP_DIAG_DEGRADED);
    }
}

static void test_degraded_cause_names_direction_figure_and_threshold(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.rx.expected = 1000;
    set_loss(&r.up, 32); /* 3.2 % */
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_string_equal(r.cause, "upstream loss 3.2 % (warn > 1 %)");
    assert_string_equal(r.remediation,
                        "check the agent's uplink: bandwidth, Wi-Fi, QoS/DSCP EF for UDP 10000-20000");
}

static void test_host_drops_are_told_apart_from_network_loss(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.down, 10); /* 2 % */
    r.down.host_drops = 10;
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_non_null(strstr(r.cause, "downstream loss 2 %"));
    assert_non_null(strstr(r.cause, "10 of them dropped by the receiving host"));
}

static void test_jitter_warns_above_30_ms_and_fails_above_60_ms(void **state)
{
    (void)state;
    static const struct { double ms; enum rp_verdict v; } cases[] = {
        { 30.0, RP_VERDICT_PASS }, { 30.001, RP_VERDICT_WARN }, { 60.0, RP_VERDICT_WARN }, { 60.001, RP_VERDICT_FAIL },
        { 30.0004, RP_VERDICT_PASS }, /* the perfdata's 30.000: judged as printed */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_report r;
        clean_report(&r);
        r.down.rx.jitter_mean_ms = cases[i].ms; /* thresholds apply to the mean of J */
        evaluate_default(&r);
        assert_int_equal(r.verdict, cases[i].v);
    }
    struct rp_report r;
    clean_report(&r);
    r.down.rx.jitter_mean_ms = 45.0;
    evaluate_default(&r);
    assert_string_equal(r.cause, "downstream jitter 45 ms (warn > 30 ms)");
    assert_non_null(strstr(r.remediation, "downlink"));
}

static void test_rtt_warns_above_300_ms_and_fails_above_600_ms(void **state)
{
    (void)state;
    static const struct { double ms; enum rp_verdict v; } cases[] = {
        { 300.0, RP_VERDICT_PASS }, { 300.001, RP_VERDICT_WARN }, { 600.0, RP_VERDICT_WARN }, { 600.001, RP_VERDICT_FAIL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_report r;
        clean_report(&r);
        r.rtt_avg_ms = cases[i].ms;
        evaluate_default(&r);
        assert_int_equal(r.verdict, cases[i].v);
    }
    struct rp_report r;
    clean_report(&r);
    r.rtt_avg_ms = 350.0;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_non_null(strstr(r.cause, "round-trip time 350 ms"));
}

static void test_mos_warns_below_4_0_and_fails_below_3_6(void **state)
{
    (void)state;
    static const struct { double mos; enum rp_verdict v; } cases[] = {
        { 4.0, RP_VERDICT_PASS }, { 3.99, RP_VERDICT_WARN }, { 3.6, RP_VERDICT_WARN }, { 3.59, RP_VERDICT_FAIL },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rp_report r;
        clean_report(&r);
        r.up.mos = cases[i].mos;
        evaluate_default(&r);
        assert_int_equal(r.verdict, cases[i].v);
    }
    struct rp_report r;
    clean_report(&r);
    r.up.mos = 3.8;
    evaluate_default(&r);
    assert_string_equal(r.cause, "upstream MOS 3.80 (warn < 4)");
}

static void test_verdict_is_the_worst_of_both_directions(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.up, 10);   /* 2 %: warn */
    set_loss(&r.down, 30); /* 6 %: fail */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_string_equal(r.cause, "downstream loss 6 % (fail > 5 %); also upstream loss 2 %");
    assert_non_null(strstr(r.remediation, "downlink"));
}

/* Loss and jitter cause a low MOS: at equal severity the cause is named first. */
static void test_cause_is_preferred_over_its_mos_consequence(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.up, 10);   /* 2 %: warn */
    r.up.mos = 3.9;        /* warn */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_string_equal(r.cause, "upstream loss 2 % (warn > 1 %); also upstream MOS 3.90");
}

static void test_custom_thresholds_are_applied(void **state)
{
    (void)state;
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    char err[128];
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "jitter=1", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "jitter=2", err, sizeof err), 0);
    struct rp_report r;
    clean_report(&r); /* jitter 1.2 ms */
    rp_report_evaluate(&r, &t);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
}

static void test_exit_codes_follow_nagios(void **state)
{
    (void)state;
    struct rp_report r;
    memset(&r, 0, sizeof r);
    r.verdict = RP_VERDICT_PASS;
    assert_int_equal(rp_report_exit_code(&r), 0);
    r.verdict = RP_VERDICT_WARN;
    assert_int_equal(rp_report_exit_code(&r), 1);
    r.verdict = RP_VERDICT_FAIL;
    assert_int_equal(rp_report_exit_code(&r), 2);
}

/* ---- JSON ---- */

static json_t *json_of(const struct rp_report *r)
{
    struct capture c;
    FILE *f = capture_open(&c);
    assert_int_equal(rp_report_print_json(r, f), 0);
    char *text = capture_close(&c);
    json_error_t err;
    json_t *j = json_loads(text, 0, &err);
    if (!j)
        fail_msg("report JSON does not parse: %s at line %d: %s", err.text, err.line, text);
    free(text);
    return j;
}

static double jnum(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    assert_true(json_is_number(v));
    return json_number_value(v);
}

/* Three seconds of downstream: packets, a loss, a late packet (fixed 1,
 * adaptive 2), and an empty second; two seconds of RTT, the second without samples. */
static struct rp_second test_seconds[3] = {
    { .packets = 50, .lost = 0, .late = 1, .late_adaptive = 2, .jitter_ms = 0.3141, .delay_ms = 0.05 },
    { .packets = 0, .lost = 50, .jitter_ms = 0.3141, .delay_ms = NAN },
    { .packets = 49, .lost = 1, .jitter_ms = 1.5, .delay_ms = 12.25 },
};
static struct rp_rtt_second test_rtt_seconds[2] = { { .samples = 50, .rtt_ms = 0.21 }, { .samples = 0, .rtt_ms = NAN } };

static void give_seconds(struct rp_report *r)
{
    r->down.per_second = test_seconds;
    r->down.nseconds = 3;
    r->rtt_per_second = test_rtt_seconds;
    r->nrtt_seconds = 2;
}

static void test_json_carries_the_per_second_figures(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    give_seconds(&r);
    evaluate_default(&r);
    json_t *j = json_of(&r);
    json_t *down = json_object_get(json_object_get(j, "downstream"), "per_second");
    assert_int_equal(json_array_size(down), 3);
    json_t *s0 = json_array_get(down, 0), *s1 = json_array_get(down, 1), *s2 = json_array_get(down, 2);
    assert_int_equal(json_integer_value(json_object_get(s0, "t")), 0);
    assert_int_equal(json_integer_value(json_object_get(s2, "t")), 2);
    assert_int_equal(json_integer_value(json_object_get(s0, "packets")), 50);
    assert_int_equal(json_integer_value(json_object_get(s1, "lost")), 50);
    assert_int_equal(json_integer_value(json_object_get(s0, "late")), 1); /* the fixed buffer */
    assert_true(jnum(s0, "jitter_ms") == 0.314);
    assert_true(jnum(s2, "delay_ms") == 12.25);
    assert_true(json_is_null(json_object_get(s1, "delay_ms")));
    assert_int_equal(json_object_size(s0), 6); /* t, packets, lost, late, jitter_ms, delay_ms */
    /* Not recorded: an empty array, not a missing key. */
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "upstream"), "per_second")), 0);
    json_t *rtt = json_object_get(j, "rtt_per_second");
    assert_int_equal(json_array_size(rtt), 2);
    assert_true(jnum(json_array_get(rtt, 0), "rtt_ms") == 0.21);
    assert_true(json_is_null(json_object_get(json_array_get(rtt, 1), "rtt_ms")));
    json_decref(j);

    /* Under the adaptive buffer, late is the adaptive model's. */
    r.jitter_buffer_adaptive = true;
    j = json_of(&r);
    down = json_object_get(json_object_get(j, "downstream"), "per_second");
    assert_int_equal(json_integer_value(json_object_get(json_array_get(down, 0), "late")), 2);
    json_decref(j);
}

static void test_release_frees_the_series_and_leaves_a_valid_report(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.per_second = calloc(2, sizeof *r.up.per_second);
    r.up.nseconds = 2;
    r.rtt_per_second = calloc(1, sizeof *r.rtt_per_second);
    r.nrtt_seconds = 1;
    rp_report_release(&r); /* ASan: nothing leaks */
    assert_null(r.up.per_second);
    assert_int_equal(r.up.nseconds, 0);
    assert_null(r.rtt_per_second);
    rp_report_release(&r); /* twice is harmless */
    evaluate_default(&r);
    json_decref(json_of(&r));
}

static void test_json_carries_every_figure(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.rx.jitter_ms = 1.23456;   /* ms: 3 decimals -> 1.235 */
    r.down.rx.duplicates = 3;
    r.down.rx.reordered = 2;
    r.down.rx.late = 1;
    r.down.rx.bursts = 1;
    r.down.rx.max_burst = 4;
    set_loss(&r.down, 4);
    r.down.rx.burst_ratio = 2.5;
    r.down.host_drops = 7;
    r.down.kbps = 87.2;
    evaluate_default(&r);
    json_t *j = json_of(&r);

    assert_int_equal(json_integer_value(json_object_get(j, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(j, "server")), "media.example.net");
    assert_string_equal(json_string_value(json_object_get(j, "session_id")), "s-0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(j, "codec")), "pcmu");
    assert_int_equal(json_integer_value(json_object_get(j, "ptime_ms")), 20);
    assert_int_equal(json_integer_value(json_object_get(j, "bitrate_bps")), 64000);
    assert_string_equal(json_string_value(json_object_get(j, "transport")), "rtp");
    assert_true(jnum(j, "duration_s") == 10.0);
    assert_int_equal(json_integer_value(json_object_get(j, "jitter_buffer_ms")), 60);
    assert_int_equal(json_integer_value(json_object_get(j, "media_port")), 12346);

    json_t *up = json_object_get(j, "upstream");
    assert_true(json_is_true(json_object_get(up, "measured")));
    assert_int_equal(json_integer_value(json_object_get(up, "sent")), 500);
    assert_int_equal(json_integer_value(json_object_get(up, "received")), 500);
    assert_true(jnum(up, "jitter_ms") == 1.235);
    assert_true(jnum(up, "mos") == 4.41);   /* 4.409 to 2 decimals */
    assert_true(jnum(up, "r_factor") == 93.2);
    json_t *ipdv = json_object_get(up, "ipdv_ms");
    assert_true(jnum(ipdv, "p50") == 0.1);
    assert_true(jnum(ipdv, "p95") == 0.5);
    assert_true(jnum(ipdv, "p99") == 0.9);
    assert_true(jnum(ipdv, "max") == 2.0);

    json_t *down = json_object_get(j, "downstream");
    assert_int_equal(json_integer_value(json_object_get(down, "received")), 496);
    assert_int_equal(json_integer_value(json_object_get(down, "lost")), 4);
    assert_true(jnum(down, "loss_pct") == 0.8);
    assert_int_equal(json_integer_value(json_object_get(down, "duplicates")), 3);
    assert_int_equal(json_integer_value(json_object_get(down, "reordered")), 2);
    assert_int_equal(json_integer_value(json_object_get(down, "late")), 1);
    assert_int_equal(json_integer_value(json_object_get(down, "bursts")), 1);
    assert_int_equal(json_integer_value(json_object_get(down, "max_burst")), 4);
    assert_true(jnum(down, "burst_ratio") == 2.5);
    assert_true(jnum(down, "kbps") == 87.2);
    assert_int_equal(json_integer_value(json_object_get(down, "host_drops")), 7);

    json_t *rtt = json_object_get(j, "rtt_ms");
    assert_true(jnum(rtt, "min") == 10.0);
    assert_true(jnum(rtt, "avg") == 12.0);
    assert_true(jnum(rtt, "p95") == 15.0);
    assert_true(jnum(rtt, "max") == 20.0);
    assert_true(jnum(j, "mouth_to_ear_ms") == 86.0);

    json_t *nat = json_object_get(j, "nat");
    assert_string_equal(json_string_value(json_object_get(nat, "local")), "192.168.1.20:40000");
    assert_string_equal(json_string_value(json_object_get(nat, "control_seen")), "203.0.113.7:51000");
    assert_string_equal(json_string_value(json_object_get(nat, "announced")), "203.0.113.7:40000");
    assert_string_equal(json_string_value(json_object_get(nat, "latched")), "203.0.113.7:40000");
    assert_string_equal(json_string_value(json_object_get(nat, "type")), "nat");

    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "pass");
    assert_string_equal(json_string_value(json_object_get(j, "diagnosis")), "two-way");
    assert_string_equal(json_string_value(json_object_get(j, "cause")), r.cause);
    assert_string_equal(json_string_value(json_object_get(j, "remediation")), r.remediation);
    json_decref(j);
}

/* Downstream packets the overloaded media host skipped: part of the loss (the
 * expected count has them), told apart from the network's and named first
 * when they are most of a loss that crossed a threshold. */
static void test_host_skipped_packets_are_attributed_to_the_overloaded_host(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.down.sent = 470;
    r.down.host_skipped = 30;
    set_loss(&r.down, 30); /* 6 % of the 500 slots */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_string_equal(r.cause, "the media host skipped 30 packets: it is overloaded; downstream loss 6 % "
                                 "(fail > 5 %), 30 of them skipped by the media host, not the network");
    assert_string_equal(r.remediation, "give rtpprobed on the media host more CPU or run fewer probe sessions at "
                                       "once (rtpprobed_downstream_skipped_total and "
                                       "rtpprobed_socket_drops_total in its /metrics), then run again");
    json_t *j = json_of(&r);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "downstream"), "host_skipped")), 30);
    assert_true(json_is_null(json_object_get(json_object_get(j, "upstream"), "host_skipped")));
    json_decref(j);
    struct capture c;
    rp_report_print_text(&r, capture_open(&c));
    char *text = capture_close(&c);
    assert_non_null(strstr(text, "\n  host skipped                        -             30\n"));
    free(text);
}

/* Upstream datagrams the media host's socket queue dropped unread (it did not
 * read in time): the host's, not the agent's uplink, when they are most of an
 * upstream loss that crossed a threshold; the network's loss stays the story
 * when it is most of it. */
static void test_upstream_host_drops_are_attributed_to_the_overloaded_host(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.host_drops = 30;
    set_loss(&r.up, 30); /* 6 % */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_string_equal(r.cause, "the media host dropped 30 upstream packets unread from its socket queue: it is "
                                 "overloaded; upstream loss 6 % (fail > 5 %), 30 of them dropped by the "
                                 "receiving host, not the network");
    assert_non_null(strstr(r.remediation, "give rtpprobed on the media host more CPU"));
    assert_null(strstr(r.remediation, "uplink"));

    clean_report(&r);
    r.up.host_drops = 5;
    set_loss(&r.up, 40); /* 8 %, 35 of them the network's */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_null(strstr(r.cause, "socket queue"));
    assert_non_null(strstr(r.remediation, "check the agent's uplink"));
}

/* A blocked direction keeps its cause and remedy (forward the range, not
 * "more CPU"); the skips are said after it. And without the host's final
 * figures its skips are unknown, not 0. */
static void test_host_skips_do_not_hide_a_blocked_direction(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    block(&r.up);
    r.down.host_skipped = 30;
    set_loss(&r.down, 30);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_non_null(strstr(r.remediation, "forward"));
    assert_null(strstr(r.remediation, "more CPU"));
    assert_non_null(strstr(r.cause, "; the media host skipped 30 packets: it is overloaded"));

    clean_report(&r);
    memset(&r.up, 0, sizeof r.up); /* the host's figures rejected */
    snprintf(r.host_figures_error, sizeof r.host_figures_error, "downstream.sent: missing");
    evaluate_default(&r);
    json_t *j = json_of(&r);
    assert_true(json_is_null(json_object_get(json_object_get(j, "downstream"), "host_skipped")));
    json_decref(j);
}

/* Skips within the thresholds are still said; network loss stays the story
 * when it is most of the loss. */
static void test_host_skipped_packets_are_never_silent(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.down.host_skipped = 3;
    set_loss(&r.down, 3);
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    assert_string_equal(r.cause, "media flows both ways within the thresholds; the media host skipped 3 packets: "
                                 "it is overloaded");
    clean_report(&r);
    r.down.host_skipped = 5;
    set_loss(&r.down, 40); /* 8 %, 35 of them the network's */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_string_equal(r.cause, "downstream loss 8 % (fail > 5 %), 5 of them skipped by the media host, not "
                                 "the network; the media host skipped 5 packets: it is overloaded");
    assert_non_null(strstr(r.remediation, "check the agent's downlink"));
}

static void test_json_unmeasured_direction_has_null_figures(void **state)
{
    (void)state;
    static const char *const figures[] = {
        "received", "lost", "loss_pct", "duplicates", "reordered", "late", "bursts", "max_burst",
        "burst_ratio", "jitter_ms", "ipdv_ms", "kbps", "r_factor", "mos", "host_drops",
        "host_skipped",
    };
    struct rp_report r;
    clean_report(&r);
    memset(&r.up, 0, sizeof r.up);
    r.up.measured = false;
    r.has_rtt = false;
    r.nat.latched[0] = '\0';
    evaluate_default(&r);
    json_t *j = json_of(&r);
    json_t *up = json_object_get(j, "upstream");
    assert_true(json_is_false(json_object_get(up, "measured")));
    assert_true(json_is_null(json_object_get(up, "sent")));
    for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
        json_t *v = json_object_get(up, figures[i]);
        if (!json_is_null(v))
            fail_msg("upstream.%s is not null", figures[i]);
    }
    assert_true(json_is_null(json_object_get(j, "rtt_ms")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "nat"), "latched")));
    assert_true(json_is_true(json_object_get(json_object_get(j, "downstream"), "measured")));
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "warn");
    json_decref(j);
}

/* A long cause is cut to fit, and never in the middle of a UTF-8 character;
 * a server name that is not UTF-8 still yields valid JSON. */
static void test_json_survives_long_causes_and_non_utf8_text(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.measured = false;
    set_loss(&r.down, 30);
    r.down.host_drops = 123456789012345ULL;
    r.down.rx.jitter_mean_ms = 70.0;
    r.down.mos = 2.0;
    r.rtt_avg_ms = 700.0;
    evaluate_default(&r);
    assert_true(strlen(r.cause) < sizeof r.cause);
    snprintf(r.server, sizeof r.server, "m%cdia.example", 0xe9);  /* Latin-1 */
    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "server")), "m?dia.example");
    assert_string_equal(json_string_value(json_object_get(j, "cause")), r.cause);
    json_decref(j);
}

static void test_json_blocked_direction_counts_but_has_no_stream_figures(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    block(&r.up);
    r.has_rtt = false;
    evaluate_default(&r);
    json_t *j = json_of(&r);
    json_t *up = json_object_get(j, "upstream");
    assert_int_equal(json_integer_value(json_object_get(up, "received")), 0);
    assert_int_equal(json_integer_value(json_object_get(up, "lost")), 500);
    assert_true(jnum(up, "loss_pct") == 100.0);
    assert_true(json_is_null(json_object_get(up, "jitter_ms")));
    assert_true(json_is_null(json_object_get(up, "mos")));
    assert_string_equal(json_string_value(json_object_get(j, "diagnosis")), "one-way-upstream-blocked");
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "fail");
    json_decref(j);
}

/* A small JSON Schema subset — the keywords docs/report.schema.json uses:
 * $ref (local), type, const, enum, minimum, maximum, oneOf, required,
 * properties, additionalProperties:false, items. Returns the number of violations. */
static int validate(const json_t *root, const json_t *schema, const json_t *inst,
                    const char *path, int report);

static const json_t *resolve_ref(const json_t *root, const char *ref)
{
    const char prefix[] = "#/$defs/";
    if (strncmp(ref, prefix, sizeof prefix - 1) != 0)
        fail_msg("unsupported $ref %s", ref);
    const json_t *target = json_object_get(json_object_get(root, "$defs"), ref + sizeof prefix - 1);
    if (!target)
        fail_msg("dangling $ref %s", ref);
    return target;
}

static int type_matches(const char *type, const json_t *inst)
{
    if (!strcmp(type, "null")) return json_is_null(inst);
    if (!strcmp(type, "boolean")) return json_is_boolean(inst);
    if (!strcmp(type, "integer")) return json_is_integer(inst);
    if (!strcmp(type, "number")) return json_is_number(inst);
    if (!strcmp(type, "string")) return json_is_string(inst);
    if (!strcmp(type, "object")) return json_is_object(inst);
    if (!strcmp(type, "array")) return json_is_array(inst);
    fail_msg("unknown type %s in schema", type);
    return 0;
}

static int validate(const json_t *root, const json_t *schema, const json_t *inst,
                    const char *path, int report)
{
    int errors = 0;
#define VIOLATION(...) do { errors++; if (report) print_error(__VA_ARGS__); } while (0)
    const json_t *ref = json_object_get(schema, "$ref");
    if (ref)
        errors += validate(root, resolve_ref(root, json_string_value(ref)), inst, path, report);

    const json_t *type = json_object_get(schema, "type");
    if (json_is_string(type) && !type_matches(json_string_value(type), inst))
        VIOLATION("%s: not of type %s\n", path, json_string_value(type));
    if (json_is_array(type)) {
        int any = 0;
        size_t i;
        const json_t *t;
        json_array_foreach(type, i, t)
            any |= type_matches(json_string_value(t), inst);
        if (!any)
            VIOLATION("%s: of none of the allowed types\n", path);
    }
    const json_t *cnst = json_object_get(schema, "const");
    if (cnst && !json_equal(cnst, inst))
        VIOLATION("%s: not the constant\n", path);
    const json_t *enm = json_object_get(schema, "enum");
    if (enm) {
        int any = 0;
        size_t i;
        const json_t *e;
        json_array_foreach(enm, i, e)
            any |= json_equal(e, inst);
        if (!any)
            VIOLATION("%s: not one of the enum values\n", path);
    }
    if (json_is_number(inst)) {
        const json_t *min = json_object_get(schema, "minimum");
        const json_t *max = json_object_get(schema, "maximum");
        if (min && json_number_value(inst) < json_number_value(min))
            VIOLATION("%s: below minimum\n", path);
        if (max && json_number_value(inst) > json_number_value(max))
            VIOLATION("%s: above maximum\n", path);
    }
    const json_t *one_of = json_object_get(schema, "oneOf");
    if (one_of) {
        int passing = 0;
        size_t i;
        const json_t *sub;
        json_array_foreach(one_of, i, sub)
            passing += validate(root, sub, inst, path, 0) == 0;
        if (passing != 1)
            VIOLATION("%s: matches %d of oneOf, not 1\n", path, passing);
    }
    if (json_is_object(inst)) {
        const json_t *props = json_object_get(schema, "properties");
        const json_t *required = json_object_get(schema, "required");
        size_t i;
        const json_t *req;
        json_array_foreach(required, i, req)
            if (!json_object_get(inst, json_string_value(req)))
                VIOLATION("%s: required key %s missing\n", path, json_string_value(req));
        const char *key;
        json_t *value;
        json_object_foreach((json_t *)(uintptr_t)inst, key, value) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s.%s", path, key);
            const json_t *ps = json_object_get(props, key);
            if (ps)
                errors += validate(root, ps, value, sub, report);
            else if (json_is_false(json_object_get(schema, "additionalProperties")))
                VIOLATION("%s: key not in the schema\n", sub);
        }
    }
    const json_t *items = json_object_get(schema, "items");
    if (items && json_is_array(inst)) {
        size_t i;
        const json_t *e;
        json_array_foreach(inst, i, e) {
            char sub[256];
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            errors += validate(root, items, e, sub, report);
        }
    }
#undef VIOLATION
    return errors;
}

static json_t *load_schema(void)
{
    json_error_t err;
    json_t *schema = json_load_file("docs/report.schema.json", 0, &err);
    if (!schema)
        fail_msg("docs/report.schema.json: %s at line %d (run from the repository root)", err.text, err.line);
    assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
                        "https://json-schema.org/draft/2020-12/schema");
    return schema;
}

/* Every key the output has is in the schema's properties (and typed as the
 * schema says), recursively, for each shape the output takes. */
static void test_json_output_conforms_to_the_schema(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    struct rp_report reports[6];
    clean_report(&reports[0]);
    clean_report(&reports[1]);
    block(&reports[1].up);
    reports[1].has_rtt = false;
    clean_report(&reports[2]);
    memset(&reports[2].up, 0, sizeof reports[2].up);
    memset(reports[2].nat.latched, 0, sizeof reports[2].nat.latched);
    clean_report(&reports[3]);
    block(&reports[3].up);
    block(&reports[3].down);
    memset(&reports[4], 0, sizeof reports[4]);   /* nothing known at all */
    clean_report(&reports[5]);
    partial_sample(&reports[5]);
    give_seconds(&reports[0]);
    for (size_t i = 0; i < sizeof reports / sizeof reports[0]; i++) {
        evaluate_default(&reports[i]);
        json_t *j = json_of(&reports[i]);
        int errors = validate(schema, schema, j, "report", 1);
        if (errors)
            fail_msg("report %zu: %d schema violations", i, errors);
        json_decref(j);
    }
    json_decref(schema);
}

static void test_schema_checker_catches_an_unknown_key(void **state)
{
    (void)state;
    json_t *schema = load_schema();
    struct rp_report r;
    clean_report(&r);
    evaluate_default(&r);
    json_t *j = json_of(&r);
    json_object_set_new(json_object_get(j, "upstream"), "not_in_schema", json_integer(1));
    assert_int_equal(validate(schema, schema, j, "report", 0), 1);
    json_object_del(json_object_get(j, "upstream"), "not_in_schema");
    json_object_del(j, "verdict");
    assert_int_equal(validate(schema, schema, j, "report", 0), 1);
    json_decref(j);
    json_decref(schema);
}

/* ---- Nagios and text ---- */

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static char *nagios_of(const struct rp_report *r)
{
    struct capture c;
    rp_report_print_nagios(r, capture_open(&c));
    return capture_close(&c);
}

/* Plugin output, one line: "RTPPROBE STATE - text | label=value[UOM];warn;crit[;min[;max]] ..."
 * (Nagios plugin development guidelines, performance data). */
static void assert_nagios_format(const char *line)
{
    static const char pattern[] =
        "^RTPPROBE (OK|WARNING|CRITICAL|UNKNOWN) - [^|\n]+ \\|"
        "( [a-z_]+=(U|-?[0-9]+(\\.[0-9]+)?)(%|ms)?(;@?(~|-?[0-9.]+)?(:(-?[0-9.]+)?)?){2}(;[0-9.]*){0,2})+\n$";
    regex_t re;
    assert_int_equal(regcomp(&re, pattern, REG_EXTENDED), 0);
    int rc = regexec(&re, line, 0, NULL, 0);
    regfree(&re);
    if (rc != 0)
        fail_msg("not a plugin line: %s", line);
}

static void test_nagios_line_for_a_clean_run(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    evaluate_default(&r);
    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_string_equal(line,
        "RTPPROBE OK - two-way, MOS up 4.41 down 4.41, loss up 0.0% down 0.0%"
        " | up_loss=0%;1;5;0;100 down_loss=0%;1;5;0;100"
        " up_jitter=1.2ms;30;60;0 down_jitter=1.2ms;30;60;0"
        " rtt=12ms;300;600;0"
        " up_mos=4.41;4:;3.6:;1;5 down_mos=4.41;4:;3.6:;1;5 verdict=0;0;1;0;3\n");
    free(line);
}

static void test_nagios_state_follows_the_verdict(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.up, 10); /* 2 % */
    evaluate_default(&r);
    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_true(starts_with(line, "RTPPROBE WARNING - degraded: upstream loss 2 %"));
    assert_non_null(strstr(line, " up_loss=2%;1;5;0;100 "));
    free(line);

    clean_report(&r);
    block(&r.down);
    r.has_rtt = false;
    evaluate_default(&r);
    line = nagios_of(&r);
    assert_nagios_format(line);
    assert_true(starts_with(line, "RTPPROBE CRITICAL - one-way-downstream-blocked"));
    assert_non_null(strstr(line, " down_loss=100%;1;5;0;100 "));
    assert_non_null(strstr(line, " down_jitter=U;30;60;0 "));
    assert_non_null(strstr(line, " rtt=U;300;600;0 "));
    assert_non_null(strstr(line, " down_mos=U;4:;3.6:;1;5 "));
    /* No figure crosses a threshold for "blocked": the verdict item says it. */
    assert_non_null(strstr(line, " verdict=2;0;1;0;3\n"));
    free(line);
}

/* An output besides the report failed: UNKNOWN with the reason, the run's perfdata kept. */
static void test_nagios_error_line_keeps_the_perfdata(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    evaluate_default(&r);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    rp_report_print_nagios_error(&r, "--push: refused | by\nthe daemon", f);
    fclose(f);
    assert_nagios_format(buf);
    assert_true(starts_with(buf, "RTPPROBE UNKNOWN - --push: refused / by the daemon (measured: pass two-way) | "));
    assert_non_null(strstr(buf, " up_mos=4.41;4:;3.6:;1;5 down_mos=4.41;4:;3.6:;1;5 verdict=0;0;1;0;3\n"));
    free(buf);
}

static void test_nagios_unmeasured_direction_is_undetermined(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    memset(&r.up, 0, sizeof r.up);
    evaluate_default(&r);
    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_true(starts_with(line, "RTPPROBE WARNING - two-way: upstream unknown"));
    assert_non_null(strstr(line, "MOS up n/a down 4.41, loss up n/a down 0.0%"));
    assert_non_null(strstr(line, " up_loss=U;1;5;0;100 "));
    assert_non_null(strstr(line, " up_mos=U;"));
    free(line);
}

static void test_nagios_perfdata_uses_the_evaluated_thresholds(void **state)
{
    (void)state;
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    char err[128];
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "loss=0.5,mos=4.2:", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "loss=2.5", err, sizeof err), 0);
    struct rp_report r;
    clean_report(&r);
    rp_report_evaluate(&r, &t);
    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_non_null(strstr(line, " up_loss=0%;0.5;2.5;0;100 "));
    assert_non_null(strstr(line, " up_mos=4.41;4.2:;3.6:;1;5 "));
    free(line);
}

/* The perfdata's own state, as a Nagios/Icinga host computes it from the
 * warn;crit ranges of each figure (U: no state), the worst of all. */
static int perfdata_state(const char *line)
{
    const char *p = strstr(line, " | ");
    int worst = 0;
    assert_non_null(p);
    for (p += 3; *p && *p != '\n';) {
        char item[160], fields[5][40] = { "", "", "", "", "" };
        size_t n = strcspn(p, " \n");
        assert_true(n < sizeof item);
        memcpy(item, p, n);
        item[n] = '\0';
        p += n + (p[n] == ' ');
        char *eq = strchr(item, '='), *f = eq + 1;
        assert_non_null(eq);
        for (unsigned i = 0; i < 5 && f; i++) {
            char *semi = strchr(f, ';');
            snprintf(fields[i], sizeof fields[i], "%.*s", semi ? (int)(semi - f) : (int)strlen(f), f);
            f = semi ? semi + 1 : NULL;
        }
        if (strcmp(fields[0], "U") == 0)
            continue;
        double v = strtod(fields[0], NULL); /* the UOM after it is ignored */
        struct rp_range w, c;
        char err[128];
        assert_int_equal(rp_range_parse(fields[1], &w, err, sizeof err), 0);
        assert_int_equal(rp_range_parse(fields[2], &c, err, sizeof err), 0);
        int st = rp_range_alerts(&c, v) ? 2 : rp_range_alerts(&w, v) ? 1 : 0;
        worst = st > worst ? st : worst;
    }
    return worst;
}

/* The warn;crit fields are the ranges as given, and the exit status is what
 * the perfdata says, figure by figure, on and around every boundary and where
 * rounding to the perfdata's decimals decides. */
static void test_nagios_exit_status_and_perfdata_always_agree(void **state)
{
    (void)state;
    static const char *const warn[] = { "loss=1,jitter=30,rtt=300,mos=4:", "loss=@0:0,mos=4.5:",
                                        "loss=~:0.5,jitter=10:20,rtt=@0:11.9995", "mos=4.41:,jitter=1.2" };
    static const char *const crit[] = { "loss=5,jitter=60,rtt=600,mos=3.6:", "loss=5,mos=4:",
                                        "loss=~:2,jitter=5:25,rtt=@0:11", "mos=4.409:,jitter=1.2" };
    static const double loss[] = { 0, 0.0004, 0.5, 0.5004, 0.5005, 1, 1.0006, 2, 5, 5.2 };
    static const double jitter[] = { 1.2, 1.2004, 1.2005, 5, 9.9996, 20, 25.001, 30, 30.0005, 61 };
    static const double rtt[] = { 11, 11.0004, 11.9995, 12, 300.0004, 600.001 };
    static const double mos[] = { 4.409, 4.405, 4.4049, 3.996, 3.9949, 4.5, 3.6 };
    unsigned checked = 0;
    for (size_t t = 0; t < sizeof warn / sizeof warn[0]; t++) {
        struct rp_thresholds th;
        char err[256];
        rp_thresholds_default(&th);
        assert_int_equal(rp_thresholds_set(&th, RP_THR_WARN, warn[t], err, sizeof err), 0);
        assert_int_equal(rp_thresholds_set(&th, RP_THR_CRIT, crit[t], err, sizeof err), 0);
        assert_int_equal(rp_thresholds_check_order(&th, err, sizeof err), 0);
        for (size_t i = 0; i < 10; i++) {
            struct rp_report r;
            clean_report(&r);
            r.up.rx.loss_pct = loss[i];
            r.down.rx.jitter_mean_ms = jitter[i];
            r.rtt_avg_ms = rtt[i % 6];
            r.down.mos = mos[i % 7];
            r.up.mos = mos[(i + 3) % 7];
            rp_report_evaluate(&r, &th);
            char *line = nagios_of(&r);
            assert_nagios_format(line);
            if (rp_report_exit_code(&r) != perfdata_state(line))
                fail_msg("exit %d, perfdata %d: %s", rp_report_exit_code(&r), perfdata_state(line), line);
            free(line);
            checked++;
        }
    }
    assert_int_equal(checked, 40);
}

static void test_nagios_perfdata_prints_the_ranges_as_given(void **state)
{
    (void)state;
    struct rp_thresholds t;
    char err[256];
    rp_thresholds_default(&t);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "loss=@0:0,jitter=~:20,rtt=10:250", err, sizeof err), 0);
    assert_int_equal(rp_thresholds_set(&t, RP_THR_CRIT, "jitter=~:40,rtt=5:500,mos=@1:3.6", err, sizeof err), 0);
    struct rp_report r;
    clean_report(&r);
    rp_report_evaluate(&r, &t);
    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_true(starts_with(line, "RTPPROBE WARNING - degraded: upstream loss 0 % (warn in @0:0); also "
                                  "downstream loss 0 %"));
    assert_non_null(strstr(line, " up_loss=0%;@0:0;5;0;100 down_loss=0%;@0:0;5;0;100 "));
    assert_non_null(strstr(line, " up_jitter=1.2ms;~:20;~:40;0 "));
    assert_non_null(strstr(line, " rtt=12ms;10:250;5:500;0 "));
    assert_non_null(strstr(line, " up_mos=4.41;4:;@1:3.6;1;5 "));
    free(line);
}

/* MOS 3.996 is 4.00 in the perfdata: not below 4:, so no warning either. */
static void test_verdict_judges_the_figure_as_printed(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.up.mos = 3.996;
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    r.up.mos = 3.9949;
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_string_equal(r.cause, "upstream MOS 3.99 (warn < 4)");
    clean_report(&r);
    r.down.rx.loss_pct = 1.0004; /* 1.000 % in the perfdata */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    r.down.rx.loss_pct = 1.0005; /* 1.001 % */
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_string_equal(r.cause, "downstream loss 1.001 % (warn > 1 %)");
}

static void test_text_table_has_both_columns_and_the_verdict(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.down, 10);
    evaluate_default(&r);
    struct capture c;
    rp_report_print_text(&r, capture_open(&c));
    char *text = capture_close(&c);
    assert_non_null(strstr(text, "upstream"));
    assert_non_null(strstr(text, "downstream"));
    assert_non_null(strstr(text, "MOS"));
    assert_non_null(strstr(text, "2.00 %"));    /* downstream loss */
    assert_non_null(strstr(text, "verdict                warn"));
    assert_non_null(strstr(text, "diagnosis              degraded"));
    assert_non_null(strstr(text, r.cause));
    assert_null(strstr(text, "\x1b["));         /* no colours */
    /* Every row of the table is aligned: the two columns end at the same offsets. */
    const char *row = strstr(text, "  received");
    const char *end = strchr(row, '\n');
    assert_int_equal(end - row, 2 + 22 + 1 + 14 + 1 + 14);
    free(text);
}

static void test_reply_only_upstream_is_blocked_whatever_its_figures(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.media_port = 10042;
    r.up.reply_only = true; /* every packet arrived, but only after the host had sent */
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(rp_report_exit_code(&r), 2);
    assert_non_null(strstr(r.cause, "only as replies"));
    assert_non_null(strstr(r.remediation, "forward UDP 10000-20000"));
}

static void test_remediation_names_the_daemons_port_range(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    snprintf(r.port_range, sizeof r.port_range, "33000-33099");
    r.up.rx.received = 0;
    set_loss(&r.up, r.up.sent);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_non_null(strstr(r.remediation, "forward UDP 33000-33099"));
    assert_null(strstr(r.remediation, "10000-20000"));
}

static void test_symmetric_nat_is_diagnosed_when_media_flows(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    snprintf(r.nat.type, sizeof r.nat.type, "symmetric");
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_SYMMETRIC_NAT);
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_int_equal(rp_report_exit_code(&r), 1);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "symmetric-nat");
    assert_non_null(strstr(r.remediation, "TURN"));
}

static void test_partial_port_range_fails_and_names_the_blocked_part(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    partial_sample(&r);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_PARTIAL_PORT_RANGE);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "partial-port-range");
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_int_equal(rp_report_exit_code(&r), 2);
    assert_string_equal(r.cause, "the test's port UDP 12346 works both ways, but not the whole range: sampled UDP "
                                 "15294-20000 blocked upstream; a call given such a port has one-way or no audio");
    assert_string_equal(r.remediation, "forward UDP 10000-20000 to the media host and allow it in firewalld "
                                       "(firewall-cmd --permanent --add-port=10000-20000/udp); check the agent's "
                                       "firewall allows outbound UDP");
    /* A threshold crossed too follows "also"; more blocked runs are counted. */
    set_loss(&r.down, 15);
    r.port_sample.ranges[2] = (struct rp_pc_range){ 19412, 20000, RP_PC_DOWN_BLOCKED };
    r.port_sample.ranges[1].to = 18824;
    r.port_sample.nranges = 3;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_PARTIAL_PORT_RANGE);
    assert_non_null(strstr(r.cause, "blocked upstream (+1 more range); a call"));
    assert_non_null(strstr(r.cause, "; also downstream loss 3 % (warn > 1 %)"));
}

static void test_partial_port_range_words_for_downstream_and_many_runs(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    partial_sample(&r);
    struct rp_port_sample *ps = &r.port_sample;
    ps->nranges = RP_REPORT_MAX_PORT_RANGES;
    ps->truncated = true;
    ps->upstream_blocked = false;
    for (unsigned i = 0; i < ps->nranges; i++)
        ps->ranges[i] = (struct rp_pc_range){ 10000 + 1000 * i, 10500 + 1000 * i,
                                              i % 2 ? RP_PC_BOTH : RP_PC_DOWN_BLOCKED };
    evaluate_default(&r);
    assert_non_null(strstr(r.cause, "sampled UDP 10000-10500 blocked downstream (+at least 3 more ranges); a call "
                                    "given such a port has one-way or no audio"));
    /* Only replies blocked: the remedy is the inbound one, not a forward. */
    assert_non_null(strstr(r.remediation, "allow inbound UDP replies"));
    /* An upstream block beyond the runs kept still asks for the forward. */
    ps->upstream_blocked = true;
    evaluate_default(&r);
    assert_non_null(strstr(r.remediation, "forward UDP 10000-20000"));
    /* A symmetric NAT found too is still said. */
    clean_report(&r);
    partial_sample(&r);
    snprintf(r.nat.type, sizeof r.nat.type, "symmetric");
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_PARTIAL_PORT_RANGE);
    assert_non_null(strstr(r.cause, "; the agent's NAT maps each destination"));
}

static void test_partial_port_range_needs_a_sample_that_found_blocked_ports(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    partial_sample(&r);
    r.port_sample.blocked = 0;
    r.port_sample.nranges = 1;
    r.port_sample.ranges[0].to = 20000;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
    partial_sample(&r);
    r.port_sample.state = RP_PORT_SAMPLE_FAILED;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    /* The test's own port blocked one way: that is the story, not the range. */
    partial_sample(&r);
    block(&r.up);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
}

static void test_port_sample_in_json_and_text(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    partial_sample(&r);
    evaluate_default(&r);
    json_t *j = json_of(&r), *ps = json_object_get(j, "port_sample");
    assert_string_equal(json_string_value(json_object_get(ps, "state")), "done");
    assert_true(json_is_null(json_object_get(ps, "reason")));
    assert_int_equal(json_integer_value(json_object_get(ps, "ports_tried")), 18);
    assert_int_equal(json_integer_value(json_object_get(ps, "blocked")), 9);
    json_t *r1 = json_array_get(json_object_get(ps, "ranges"), 1);
    assert_int_equal(json_integer_value(json_object_get(r1, "from")), 15294);
    assert_string_equal(json_string_value(json_object_get(r1, "status")), "blocked-upstream");
    json_decref(j);
    struct capture c;
    rp_report_print_text(&r, capture_open(&c));
    char *text = capture_close(&c);
    assert_non_null(strstr(text, "port sample            18 ports of 10000-20000: 10000-14706 both ways, "
                                 "15294-20000 blocked upstream\n"));
    free(text);

    clean_report(&r);
    snprintf(r.port_sample.why, sizeof r.port_sample.why, "--no-port-sample");
    evaluate_default(&r);
    j = json_of(&r);
    ps = json_object_get(j, "port_sample");
    assert_string_equal(json_string_value(json_object_get(ps, "state")), "not-run");
    assert_string_equal(json_string_value(json_object_get(ps, "reason")), "--no-port-sample");
    assert_true(json_is_null(json_object_get(ps, "range")));
    json_decref(j);
}

static void nat(struct rp_report *r, const char *local, const char *mapped, const char *mapped_stun,
                const char *announced, const char *latched)
{
    snprintf(r->nat.local, sizeof r->nat.local, "%s", local);
    snprintf(r->nat.mapped, sizeof r->nat.mapped, "%s", mapped);
    snprintf(r->nat.mapped_stun, sizeof r->nat.mapped_stun, "%s", mapped_stun);
    snprintf(r->nat.announced, sizeof r->nat.announced, "%s", announced);
    snprintf(r->nat.latched, sizeof r->nat.latched, "%s", latched);
    rp_report_classify_nat(r);
}

static void test_nat_type_from_stun_answers_and_latching(void **state)
{
    (void)state;
    struct rp_report r;
    memset(&r, 0, sizeof r);
    nat(&r, "198.18.1.2:5000", "198.18.1.2:5000", "198.18.1.2:5000", "198.18.1.2:5000", "198.18.1.2:5000");
    assert_string_equal(r.nat.type, "none");
    nat(&r, "198.18.1.2:5000", "198.18.100.2:5000", "198.18.100.2:5000", "198.18.100.2:5000", "198.18.100.2:5000");
    assert_string_equal(r.nat.type, "nat");
    /* Another port towards the STUN server than towards the media port: endpoint-dependent mapping. */
    nat(&r, "198.18.1.2:5000", "198.18.100.2:52919", "198.18.100.2:3988", "198.18.100.2:52919",
        "198.18.100.2:52919");
    assert_string_equal(r.nat.type, "symmetric");
    /* Media came from another port than the STUN mapping we announced. */
    nat(&r, "198.18.1.2:5000", "", "198.18.100.2:3988", "198.18.100.2:3988", "198.18.100.2:40000");
    assert_string_equal(r.nat.type, "symmetric");
    /* Nothing answered and nothing latched. */
    nat(&r, "198.18.1.2:5000", "", "", "198.18.100.2:5000", "");
    assert_string_equal(r.nat.type, "unknown");
    /* No STUN, but latched where we said: translated, consistent. */
    nat(&r, "198.18.1.2:5000", "", "", "198.18.100.2:5000", "198.18.100.2:5000");
    assert_string_equal(r.nat.type, "nat");
}

static void test_upstream_refused_by_the_agents_own_host_says_so(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.media_port = 10042;
    set_loss(&r.up, r.up.sent);
    r.up.rx.received = 0;
    r.up.send_errors = r.up.sent; /* every sendto() failed: EPERM from the local firewall */
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_non_null(strstr(r.cause, "agent's own host refused"));
}

static void test_media_refused_for_its_source_ip_is_named(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    set_loss(&r.up, r.up.sent);
    r.up.rx.received = 0;
    r.up.foreign_source = 150;
    set_loss(&r.down, r.down.sent);
    r.down.rx.received = 0;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_NO_MEDIA);
    assert_non_null(strstr(r.cause, "another IP than its HTTPS"));
    assert_non_null(strstr(r.remediation, "allow_foreign_peer"));
}

/* Without the daemon's range the probe names none rather than guess one. */
static void test_unknown_port_range_is_named_without_a_number(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.port_range[0] = '\0';
    block(&r.up);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_string_equal(r.remediation,
                        "forward the daemon's UDP media port range to the media host and allow it in firewalld "
                        "(firewall-cmd --permanent --add-port=<media.port_min>-<media.port_max>/udp); check the "
                        "agent's firewall allows outbound UDP");
    assert_null(strstr(r.remediation, "10000-20000"));

    clean_report(&r);
    r.port_range[0] = '\0';
    block(&r.up);
    block(&r.down);
    evaluate_default(&r);
    assert_string_equal(r.remediation, "use TURN/TLS on 5349 or a VPN; open the daemon's UDP media port range");

    clean_report(&r);
    r.port_range[0] = '\0';
    set_loss(&r.up, 10);
    evaluate_default(&r);
    assert_string_equal(r.remediation,
                        "check the agent's uplink: bandwidth, Wi-Fi, QoS/DSCP EF for the daemon's UDP media port "
                        "range");
}

/* Every cause and remediation as printed (docs/report.md): the tests
 * of the real network grep some of them, so they must not drift. */
static void test_causes_and_remediations_word_for_word(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    evaluate_default(&r);
    assert_string_equal(r.cause, "media flows both ways within the thresholds");
    assert_string_equal(r.remediation, "none needed");

    clean_report(&r);
    r.up.measured = false;
    r.down.measured = false;
    evaluate_default(&r);
    assert_string_equal(r.cause, "neither direction was measured");
    assert_string_equal(r.remediation, "check the probe's control connection to the daemon (HTTPS, nginx on 443) "
                                       "and run again");

    clean_report(&r);
    r.up.measured = false;
    evaluate_default(&r);
    assert_string_equal(r.cause, "upstream unknown (no figures from the media host, but RTT replies show "
                                 "upstream arrived); the measured figures are within the thresholds");
    assert_string_equal(r.remediation, "check the probe's control connection to the daemon (HTTPS, nginx on 443) "
                                       "and run again");

    clean_report(&r);
    r.up.measured = false;
    r.has_rtt = false;
    block(&r.down);
    evaluate_default(&r);
    assert_string_equal(r.cause, "the agent would not hear the customer: RTP from the media host did not reach "
                                 "the agent; upstream unknown (no figures from the media host)");
    assert_string_equal(r.remediation, "allow inbound UDP replies at the agent (home router/corporate firewall), "
                                       "or use TURN over TLS on 5349");

    clean_report(&r);
    r.down.measured = false;
    block(&r.up);
    evaluate_default(&r);
    assert_string_equal(r.cause, "no RTP from the agent reached the media host on UDP 12346; downstream unknown "
                                 "(no receive figures from the probe)");
    assert_string_equal(r.remediation, "forward UDP 10000-20000 to the media host and allow it in firewalld "
                                       "(firewall-cmd --permanent --add-port=10000-20000/udp); check the agent's "
                                       "firewall allows outbound UDP");

    clean_report(&r);
    r.media_port = 0;
    r.up.reply_only = true;
    evaluate_default(&r);
    assert_string_equal(r.cause, "RTP from the agent reached the media host on its media port only as replies to "
                                 "the host's own packets: the RTP range is not forwarded or is blocked inbound");

    clean_report(&r);
    block(&r.up);
    r.up.send_errors = r.up.sent;
    evaluate_default(&r);
    assert_string_equal(r.cause, "the agent's own host refused to send RTP to UDP 12346 (local firewall or no "
                                 "route): nothing left the agent");

    clean_report(&r);
    block(&r.up);
    block(&r.down);
    r.up.foreign_source = 150;
    evaluate_default(&r);
    assert_string_equal(r.cause, "the agent's RTP reached the media host from another IP than its HTTPS (a proxy "
                                 "or a second public address), so the host refused it (150 packets)");
    assert_string_equal(r.remediation, "send HTTPS and media from the same address, or set "
                                       "media.allow_foreign_peer = true on the host");

    clean_report(&r);
    block(&r.up);
    block(&r.down);
    evaluate_default(&r);
    assert_string_equal(r.remediation, "use TURN/TLS on 5349 or a VPN; open UDP 10000-20000");

    clean_report(&r);
    snprintf(r.nat.type, sizeof r.nat.type, "symmetric");
    set_loss(&r.down, 10);
    evaluate_default(&r);
    assert_string_equal(r.cause, "the agent's NAT maps each destination to a different port (symmetric NAT): "
                                 "media flows only because the media host latches to where it really comes "
                                 "from; also downstream loss 2 % (warn > 1 %)");
    assert_string_equal(r.remediation, "use TURN (coturn on 3478, TURN/TLS on 5349) for this agent, or a router "
                                       "with endpoint-independent mapping (RFC 4787); keep latching "
                                       "(strictrtp/comedia) on");
}

/* The worst finding decides the remediation (docs/report.md, "worst figure"). */
static void test_degraded_remediation_follows_the_worst_finding(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.rtt_avg_ms = 700;
    evaluate_default(&r);
    assert_string_equal(r.cause, "round-trip time 700 ms avg (fail > 600 ms)");
    assert_string_equal(r.remediation, "shorten the path between agent and media host: avoid VPN/proxy detours "
                                       "and mobile or satellite links; a TURN relay adds delay, prefer direct UDP");

    clean_report(&r);
    r.down.rx.jitter_mean_ms = 42;
    evaluate_default(&r);
    assert_string_equal(r.cause, "downstream jitter 42 ms (warn > 30 ms)");
    assert_string_equal(r.remediation, "check the agent's downlink (Wi-Fi, competing downloads) and the media "
                                       "host's outbound bandwidth; QoS/DSCP EF for UDP 10000-20000");

    clean_report(&r);
    r.up.mos = 3.5;
    evaluate_default(&r);
    assert_string_equal(r.cause, "upstream MOS 3.50 (fail < 3.6)");
    assert_string_equal(r.remediation, "late packets or delay lower the upstream MOS: check the agent's uplink "
                                       "(bandwidth, Wi-Fi) and QoS/DSCP EF for UDP 10000-20000");

    clean_report(&r);
    r.down.mos = 3.9;
    r.up.rx.jitter_mean_ms = 35;
    r.rtt_avg_ms = 320;
    evaluate_default(&r);
    assert_string_equal(r.cause, "upstream jitter 35 ms (warn > 30 ms); also round-trip time 320 ms, "
                                 "downstream MOS 3.90");
    assert_string_equal(r.remediation, "check the agent's uplink: bandwidth, Wi-Fi, QoS/DSCP EF for UDP "
                                       "10000-20000");

    clean_report(&r);
    r.down.mos = 3.9;
    evaluate_default(&r);
    assert_string_equal(r.remediation, "late packets or delay lower the downstream MOS: check the agent's downlink "
                                       "(Wi-Fi, competing downloads) and QoS/DSCP EF for UDP 10000-20000");
}

/* ---- scoring: rp_report_finish ---- */

/* What the probe knows after a run of 500 G.711 packets each way, before scoring. */
static void unscored_report(struct rp_report *r)
{
    clean_report(r);
    r->has_rtt = false;
    r->rtt_min_ms = r->rtt_avg_ms = r->rtt_p95_ms = r->rtt_max_ms = 0;
    r->mouth_to_ear_ms = 0;
    snprintf(r->nat.type, sizeof r->nat.type, "%s", "");
    struct rp_dir_report *dirs[] = { &r->up, &r->down };
    for (size_t i = 0; i < 2; i++) {
        dirs[i]->kbps = dirs[i]->r_factor = dirs[i]->mos = 0;
        dirs[i]->rx.wire_bytes = 500 * 214; /* 20 IP + 8 UDP + 12 RTP + 14 element + 160 payload */
    }
}

static struct rp_score_in score_in(enum rp_codec_id codec, int64_t *rtt_ns, size_t nrtt)
{
    return (struct rp_score_in){ .codec = rp_codec_get(codec), .ptime_ms = 20, .jitter_buffer_ms = 60,
                                 .rtt_ns = rtt_ns, .nrtt = nrtt };
}

static void finish_default(struct rp_report *r, const struct rp_score_in *in)
{
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    rp_report_finish(r, in, &t);
}

/* 20 samples of 1..20 ms in no order: min 1, max 20, mean 10.5, and p95 the
 * 19th of 20 (nearest rank: ceil(0.95 * 20) = 19). */
static void test_finish_rtt_figures_of_unsorted_samples(void **state)
{
    (void)state;
    static const int order[20] = { 7, 19, 3, 12, 1, 20, 15, 9, 4, 18, 11, 2, 16, 6, 13, 8, 17, 5, 14, 10 };
    int64_t rtt[20];
    for (size_t i = 0; i < 20; i++)
        rtt[i] = (int64_t)order[i] * 1000000;
    struct rp_report r;
    unscored_report(&r);
    struct rp_score_in in = score_in(RP_CODEC_PCMU, rtt, 20);
    finish_default(&r, &in);
    assert_true(r.has_rtt);
    assert_true(r.rtt_min_ms == 1.0);
    assert_true(r.rtt_max_ms == 20.0);
    assert_true(fabs(r.rtt_avg_ms - 10.5) < 1e-9);
    assert_true(r.rtt_p95_ms == 19.0);
    for (size_t i = 1; i < 20; i++) /* sorted in place, as documented */
        assert_true(rtt[i - 1] <= rtt[i]);

    /* Of 10 samples, p95 is the largest (ceil(9.5) = 10); of one, that one. */
    int64_t ten[10] = { 5, 1, 9, 3, 7, 2, 8, 4, 10, 6 };
    for (size_t i = 0; i < 10; i++)
        ten[i] *= 1000000;
    in = score_in(RP_CODEC_PCMU, ten, 10);
    finish_default(&r, &in);
    assert_true(r.rtt_p95_ms == 10.0);
    int64_t one[1] = { 2500000 };
    in = score_in(RP_CODEC_PCMU, one, 1);
    finish_default(&r, &in);
    assert_true(r.rtt_min_ms == 2.5 && r.rtt_avg_ms == 2.5 && r.rtt_p95_ms == 2.5 && r.rtt_max_ms == 2.5);
}

static void test_finish_without_rtt_samples_has_no_rtt(void **state)
{
    (void)state;
    struct rp_report r;
    unscored_report(&r);
    r.has_rtt = true; /* whatever was there before */
    struct rp_score_in in = score_in(RP_CODEC_PCMU, NULL, 0);
    finish_default(&r, &in);
    assert_false(r.has_rtt);
    /* Mouth-to-ear without RTT: ptime 20 + jitter buffer 60 + G.711 look-ahead 0. */
    assert_true(fabs(r.mouth_to_ear_ms - 80.0) < 1e-9);
}

/* 107000 bytes in 500 packets of 20 ms (10 s): 107000 * 8 / 10 s = 85.6 kbit/s. */
static void test_finish_kbps_from_wire_bytes(void **state)
{
    (void)state;
    struct rp_report r;
    unscored_report(&r);
    r.down.rx.wire_bytes = 500 * 160; /* payload only: 64 kbit/s */
    struct rp_score_in in = score_in(RP_CODEC_PCMU, NULL, 0);
    finish_default(&r, &in);
    assert_true(fabs(r.up.kbps - 85.6) < 1e-9);
    assert_true(fabs(r.down.kbps - 64.0) < 1e-9);

    unscored_report(&r);
    r.up.sent = 0; /* nothing sent: no bitrate, not a division by zero */
    finish_default(&r, &in);
    assert_true(r.up.kbps == 0.0);
}

/* Mouth-to-ear is half the mean RTT plus ptime, jitter buffer and look-ahead:
 * 12 ms / 2 + 20 + 60 + 0 (G.711), + 6.5 for Opus. */
static void test_finish_mouth_to_ear_adds_half_the_rtt_and_the_codec_delay(void **state)
{
    (void)state;
    int64_t rtt[3] = { 10000000, 12000000, 14000000 };
    struct rp_report r;
    unscored_report(&r);
    struct rp_score_in in = score_in(RP_CODEC_PCMU, rtt, 3);
    finish_default(&r, &in);
    assert_true(fabs(r.mouth_to_ear_ms - 86.0) < 1e-9);
    unscored_report(&r);
    in = score_in(RP_CODEC_OPUS, rtt, 3);
    finish_default(&r, &in);
    assert_true(fabs(r.mouth_to_ear_ms - 92.5) < 1e-9);
}

static double emodel_mos(enum rp_codec_id codec, double ppl_pct, double burst_r, double delay_ms)
{
    const struct rp_codec_info *c = rp_codec_get(codec);
    struct rp_emodel_in in = { .ie = c->ie, .bpl = c->bpl, .ppl_pct = ppl_pct, .burst_r = burst_r,
                               .delay_ms = delay_ms };
    struct rp_emodel_out out;
    rp_emodel_compute(&in, &out);
    return out.mos;
}

/* MOS from the E-model with the loss the receiver saw; late packets (thrown
 * away by the jitter buffer) count as lost. By hand, G.711 at 86 ms mouth to
 * ear: Id = 0.024 * 86 = 2.064, so no loss is R = 93.2 - 2.064 = 91.136, MOS
 * 4.366 (Annex B); 5 % random loss adds Ie,eff = 95 * 5 / (5 + 25.1) = 15.78:
 * R 75.36, MOS 3.837. */
static void test_finish_mos_from_loss_and_late_packets(void **state)
{
    (void)state;
    int64_t rtt[3] = { 10000000, 12000000, 14000000 };
    struct rp_report r;
    unscored_report(&r);
    set_loss(&r.up, 25);     /* 5 % */
    set_loss(&r.down, 20);   /* 4 %, and 1 % late: 5 % for the E-model */
    r.down.rx.late = 5;
    struct rp_score_in in = score_in(RP_CODEC_PCMU, rtt, 3);
    finish_default(&r, &in);
    double five = emodel_mos(RP_CODEC_PCMU, 5.0, 1.0, 86.0);
    assert_true(fabs(r.up.mos - five) < 1e-9);
    assert_true(fabs(r.down.mos - five) < 1e-9);
    assert_true(fabs(five - 3.837) < 0.001);
    assert_true(fabs(r.up.r_factor - 75.355) < 0.001);

    unscored_report(&r);
    in = score_in(RP_CODEC_PCMU, rtt, 3);
    finish_default(&r, &in);
    assert_true(fabs(r.up.mos - emodel_mos(RP_CODEC_PCMU, 0.0, 1.0, 86.0)) < 1e-9);
    assert_true(fabs(r.up.mos - 4.366) < 0.001);
    assert_true(fabs(r.up.r_factor - 91.136) < 1e-9);

    /* Bursty loss lowers it further; a burst ratio below 1 counts as random loss. */
    unscored_report(&r);
    set_loss(&r.up, 25);
    r.up.rx.burst_ratio = 2.0;
    set_loss(&r.down, 25);
    r.down.rx.burst_ratio = 0.5;
    finish_default(&r, &in);
    assert_true(fabs(r.up.mos - emodel_mos(RP_CODEC_PCMU, 5.0, 2.0, 86.0)) < 1e-9);
    assert_true(r.up.mos < five);
    assert_true(fabs(r.down.mos - five) < 1e-9);
}

/* Scoring ends in the NAT type and the evaluation: the report is complete. */
static void test_finish_classifies_and_evaluates(void **state)
{
    (void)state;
    int64_t rtt[3] = { 10000000, 12000000, 14000000 };
    struct rp_report r;
    unscored_report(&r);
    struct rp_score_in in = score_in(RP_CODEC_PCMU, rtt, 3);
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    char err[128];
    assert_int_equal(rp_thresholds_set(&t, RP_THR_WARN, "loss=0.5", err, sizeof err), 0);
    rp_report_finish(&r, &in, &t);
    assert_string_equal(r.nat.type, "nat"); /* latched 203.0.113.7, local 192.168.1.20 */
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    assert_string_equal(r.cause, "media flows both ways within the thresholds");
    assert_string_equal(r.thresholds.warn[RP_THR_LOSS].text, "0.5");

    unscored_report(&r);
    set_loss(&r.up, 26);
    rp_report_finish(&r, &in, &t);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
    assert_int_equal(r.verdict, RP_VERDICT_FAIL);
    assert_string_equal(r.cause, "upstream loss 5.2 % (fail > 5 %); also upstream MOS 3.81");
}

/* The bufferbloat case: no loss, little jitter, the delay's floor rose by
 * 95 ms downstream. An adaptive buffer rides it out: pass, with the queue named. */
static void test_a_standing_queue_is_named_bufferbloat_not_a_failure(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.jitter_buffer_adaptive = true;
    r.down.rx.delay_rise_ms = 95.2;
    r.down.rx.jb_mean_ms = 40.0;
    r.up.rx.delay_rise_ms = 4.0;
    evaluate_default(&r);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "bufferbloat");
    assert_int_equal(r.verdict, RP_VERDICT_PASS);
    assert_string_equal(r.cause, "delay rose by 95 ms during the test on the way to the agent, with little loss: "
                                 "a queue on the agent's link (bufferbloat); the call's jitter buffer absorbs it "
                                 "as delay");
    assert_string_equal(r.remediation,
                        "enable SQM/fq_codel on the agent's router, or stop large downloads during calls");
}

/* More one-way delay than a call tolerates is a warning by itself. */
static void test_bufferbloat_beyond_what_a_call_tolerates_warns(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.jitter_buffer_adaptive = true;
    r.up.rx.delay_rise_ms = 120.0;
    r.up.rx.jb_mean_ms = 60.0;
    r.rtt_avg_ms = 200.0;
    r.mouth_to_ear_ms = 180.0; /* 100 ms one way + 20 ptime + 60 ms of buffer */
    evaluate_default(&r);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "bufferbloat");
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_non_null(strstr(r.cause, "on the way from the agent"));
    assert_non_null(strstr(r.cause, "mouth-to-ear delay with the jitter buffer reaches 180 ms"));
    assert_non_null(strstr(r.remediation, "stop large uploads"));
}

/* A queue deep enough to push the round trip over its threshold is still named
 * as the queue, with the crossing after it. */
static void test_bufferbloat_that_crosses_the_rtt_threshold_is_still_named(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.jitter_buffer_adaptive = true;
    r.down.rx.delay_rise_ms = 126.0;
    r.rtt_avg_ms = 320.0;
    evaluate_default(&r);
    assert_string_equal(rp_diagnosis_name(r.diagnosis), "bufferbloat");
    assert_int_equal(r.verdict, RP_VERDICT_WARN);
    assert_non_null(strstr(r.cause, "delay rose by 126 ms"));
    assert_non_null(strstr(r.cause, "; also round-trip time 320 ms avg (warn"));
    assert_non_null(strstr(r.remediation, "SQM/fq_codel"));
    /* Loss beyond its threshold is another story: degraded, as before. */
    set_loss(&r.down, 20);
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_DEGRADED);
}

/* Jitter without a rising floor is not a queue. */
static void test_jitter_without_a_rise_is_not_bufferbloat(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.down.rx.delay_p95_ms = 38.0;
    r.down.rx.delay_max_ms = 40.0;
    r.down.rx.delay_rise_ms = 1.0;
    evaluate_default(&r);
    assert_int_equal(r.diagnosis, RP_DIAG_TWO_WAY);
}

/* The MOS basis: with the adaptive buffer, its late packets count as loss and
 * its mean depth as delay; with --jitter-buffer MS, the fixed buffer's. */
static void test_finish_mos_basis_adaptive_or_fixed(void **state)
{
    (void)state;
    int64_t rtt[3] = { 10000000, 12000000, 14000000 };
    struct rp_report r;
    unscored_report(&r);
    r.down.rx.late = 25;          /* 5 % late under the fixed 60 ms buffer */
    r.down.rx.late_adaptive = 0;
    r.down.rx.jb_mean_ms = 100.0; /* a deep buffer instead */
    struct rp_score_in in = score_in(RP_CODEC_PCMU, rtt, 3);
    in.adaptive = true;
    finish_default(&r, &in);
    /* 6 ms one way + 20 ptime + 100 buffer + 0 look-ahead: delay, no loss. */
    assert_true(fabs(r.down.mouth_to_ear_ms - 126.0) < 1e-9);
    assert_true(fabs(r.down.mos - emodel_mos(RP_CODEC_PCMU, 0.0, 1.0, 126.0)) < 1e-9);
    assert_int_equal(rp_dir_late(&r, &r.down), 0);
    assert_true(fabs(r.mouth_to_ear_ms - 126.0) < 1e-9); /* the larger direction */

    /* Upstream (the daemon's figures) follows the same basis. */
    unscored_report(&r);
    r.up.rx.late = 25;
    r.up.rx.late_adaptive = 5;
    r.up.rx.jb_mean_ms = 50.0;
    in = score_in(RP_CODEC_PCMU, rtt, 3);
    in.adaptive = true;
    finish_default(&r, &in);
    assert_true(fabs(r.up.mos - emodel_mos(RP_CODEC_PCMU, 1.0, 1.0, 76.0)) < 1e-9);

    unscored_report(&r);
    r.down.rx.late = 25;
    r.down.rx.late_adaptive = 0;
    r.down.rx.jb_mean_ms = 100.0;
    in = score_in(RP_CODEC_PCMU, rtt, 3);
    in.adaptive = false;
    finish_default(&r, &in);
    assert_true(fabs(r.down.mouth_to_ear_ms - 86.0) < 1e-9);
    assert_true(fabs(r.down.mos - emodel_mos(RP_CODEC_PCMU, 5.0, 1.0, 86.0)) < 1e-9);
    assert_int_equal(rp_dir_late(&r, &r.down), 25);
}

/* Each late count under its own key, and "late" the basis's. */
static void test_json_names_each_buffer_and_the_delay_view(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    r.jitter_buffer_adaptive = true;
    r.down.rx.late = 371;
    r.down.rx.late_adaptive = 5;
    r.down.rx.jb_mean_ms = 78.5;
    r.down.rx.delay_p95_ms = 81.5;
    r.down.rx.delay_rise_ms = 59.5;
    evaluate_default(&r);
    json_t *j = json_of(&r);
    json_t *d = json_object_get(j, "downstream");
    assert_string_equal(json_string_value(json_object_get(j, "jitter_buffer")), "adaptive");
    assert_int_equal(json_integer_value(json_object_get(d, "late")), 5);
    assert_int_equal(json_integer_value(json_object_get(d, "late_adaptive")), 5);
    assert_int_equal(json_integer_value(json_object_get(d, "late_fixed")), 371);
    assert_true(json_real_value(json_object_get(d, "jitter_buffer_mean_ms")) == 78.5);
    assert_true(json_real_value(json_object_get(json_object_get(d, "delay_ms"), "p95")) == 81.5);
    assert_true(json_real_value(json_object_get(json_object_get(d, "delay_ms"), "rise")) == 59.5);
    /* no send stamps: the sender's lag is unknown, null, not 0 */
    assert_true(json_is_null(json_object_get(json_object_get(d, "delay_ms"), "sender_lag")));
    json_decref(j);
    r.up.rx.has_sender_lag = true;
    r.up.rx.sender_lag_ms = 326.9;
    j = json_of(&r);
    json_t *up_delay = json_object_get(json_object_get(j, "upstream"), "delay_ms");
    assert_true(json_real_value(json_object_get(up_delay, "sender_lag")) == 326.9);
    json_decref(j);
    r.jitter_buffer_adaptive = false;
    j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "jitter_buffer")), "fixed");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "downstream"), "late")), 371);
    json_decref(j);
}

/* The daemon contradicted itself: what was seen is worded, but there is no verdict. */
static void test_rejected_host_figures_give_no_verdict(void **state)
{
    (void)state;
    struct rp_report r;
    clean_report(&r);
    memset(&r.up, 0, sizeof r.up);
    block(&r.down);
    snprintf(r.host_figures_error, sizeof r.host_figures_error,
             "upstream.received 60 is more than the 50 packets the probe sent");
    evaluate_default(&r);
    assert_int_equal(r.verdict, RP_VERDICT_UNKNOWN);
    assert_int_equal(rp_report_exit_code(&r), RP_EXIT_UNKNOWN);
    assert_string_equal(rp_verdict_name(r.verdict), "unknown");
    assert_true(starts_with(r.cause, "the media host's figures are unusable (upstream.received 60 is more than "
                                     "the 50 packets the probe sent); "));
    assert_non_null(strstr(r.remediation, "same version of rtpprobed"));

    char *line = nagios_of(&r);
    assert_nagios_format(line);
    assert_true(starts_with(line, "RTPPROBE UNKNOWN - "));
    free(line);

    json_t *j = json_of(&r);
    assert_string_equal(json_string_value(json_object_get(j, "verdict")), "unknown");
    assert_string_equal(json_string_value(json_object_get(j, "host_figures_error")), r.host_figures_error);
    assert_true(json_is_false(json_object_get(json_object_get(j, "upstream"), "measured")));
    json_decref(j);

    clean_report(&r);
    evaluate_default(&r);
    j = json_of(&r);
    assert_true(json_is_null(json_object_get(j, "host_figures_error")));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rejected_host_figures_give_no_verdict),
        cmocka_unit_test(test_json_names_each_buffer_and_the_delay_view),
        cmocka_unit_test(test_finish_mos_basis_adaptive_or_fixed),
        cmocka_unit_test(test_a_standing_queue_is_named_bufferbloat_not_a_failure),
        cmocka_unit_test(test_bufferbloat_beyond_what_a_call_tolerates_warns),
        cmocka_unit_test(test_bufferbloat_that_crosses_the_rtt_threshold_is_still_named),
        cmocka_unit_test(test_jitter_without_a_rise_is_not_bufferbloat),
        cmocka_unit_test(test_reply_only_upstream_is_blocked_whatever_its_figures),
        cmocka_unit_test(test_upstream_refused_by_the_agents_own_host_says_so),
        cmocka_unit_test(test_media_refused_for_its_source_ip_is_named),
        cmocka_unit_test(test_remediation_names_the_daemons_port_range),
        cmocka_unit_test(test_unknown_port_range_is_named_without_a_number),
        cmocka_unit_test(test_causes_and_remediations_word_for_word),
        cmocka_unit_test(test_degraded_remediation_follows_the_worst_finding),
        cmocka_unit_test(test_finish_rtt_figures_of_unsorted_samples),
        cmocka_unit_test(test_finish_without_rtt_samples_has_no_rtt),
        cmocka_unit_test(test_finish_kbps_from_wire_bytes),
        cmocka_unit_test(test_finish_mouth_to_ear_adds_half_the_rtt_and_the_codec_delay),
        cmocka_unit_test(test_finish_mos_from_loss_and_late_packets),
        cmocka_unit_test(test_finish_classifies_and_evaluates),
        cmocka_unit_test(test_symmetric_nat_is_diagnosed_when_media_flows),
        cmocka_unit_test(test_partial_port_range_fails_and_names_the_blocked_part),
        cmocka_unit_test(test_partial_port_range_needs_a_sample_that_found_blocked_ports),
        cmocka_unit_test(test_partial_port_range_words_for_downstream_and_many_runs),
        cmocka_unit_test(test_port_sample_in_json_and_text),
        cmocka_unit_test(test_nat_type_from_stun_answers_and_latching),
        cmocka_unit_test(test_default_thresholds_are_the_documented_ones),
        cmocka_unit_test(test_clean_run_both_ways_is_two_way_pass),
        cmocka_unit_test(test_nothing_upstream_is_upstream_blocked_and_names_the_port),
        cmocka_unit_test(test_nothing_downstream_is_downstream_blocked),
        cmocka_unit_test(test_nothing_either_way_is_no_media),
        cmocka_unit_test(test_blocked_direction_fails_whatever_the_thresholds),
        cmocka_unit_test(test_unmeasured_upstream_with_downstream_says_unknown_and_warns),
        cmocka_unit_test(test_unmeasured_upstream_keeps_a_worse_downstream_verdict),
        cmocka_unit_test(test_unmeasured_upstream_without_downstream_fails_as_downstream_blocked),
        cmocka_unit_test(test_loss_warns_above_1_pct_and_fails_above_5_pct),
        cmocka_unit_test(test_degraded_cause_names_direction_figure_and_threshold),
        cmocka_unit_test(test_host_drops_are_told_apart_from_network_loss),
        cmocka_unit_test(test_host_skipped_packets_are_attributed_to_the_overloaded_host),
        cmocka_unit_test(test_upstream_host_drops_are_attributed_to_the_overloaded_host),
        cmocka_unit_test(test_host_skipped_packets_are_never_silent),
        cmocka_unit_test(test_host_skips_do_not_hide_a_blocked_direction),
        cmocka_unit_test(test_jitter_warns_above_30_ms_and_fails_above_60_ms),
        cmocka_unit_test(test_rtt_warns_above_300_ms_and_fails_above_600_ms),
        cmocka_unit_test(test_mos_warns_below_4_0_and_fails_below_3_6),
        cmocka_unit_test(test_verdict_is_the_worst_of_both_directions),
        cmocka_unit_test(test_cause_is_preferred_over_its_mos_consequence),
        cmocka_unit_test(test_custom_thresholds_are_applied),
        cmocka_unit_test(test_exit_codes_follow_nagios),
        cmocka_unit_test(test_json_carries_every_figure),
        cmocka_unit_test(test_json_unmeasured_direction_has_null_figures),
        cmocka_unit_test(test_json_survives_long_causes_and_non_utf8_text),
        cmocka_unit_test(test_json_blocked_direction_counts_but_has_no_stream_figures),
        cmocka_unit_test(test_json_output_conforms_to_the_schema),
        cmocka_unit_test(test_json_carries_the_per_second_figures),
        cmocka_unit_test(test_release_frees_the_series_and_leaves_a_valid_report),
        cmocka_unit_test(test_schema_checker_catches_an_unknown_key),
        cmocka_unit_test(test_nagios_line_for_a_clean_run),
        cmocka_unit_test(test_nagios_state_follows_the_verdict),
        cmocka_unit_test(test_nagios_error_line_keeps_the_perfdata),
        cmocka_unit_test(test_nagios_unmeasured_direction_is_undetermined),
        cmocka_unit_test(test_nagios_perfdata_uses_the_evaluated_thresholds),
        cmocka_unit_test(test_nagios_exit_status_and_perfdata_always_agree),
        cmocka_unit_test(test_nagios_perfdata_prints_the_ranges_as_given),
        cmocka_unit_test(test_verdict_judges_the_figure_as_printed),
        cmocka_unit_test(test_text_table_has_both_columns_and_the_verdict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
