/* Prometheus exposition: every sample line is "name{labels} value" with the
 * snapshot's numbers, every family has HELP and TYPE, histograms are cumulative,
 * and the output grows to what the agents need. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static void every_line_is_a_comment_or_a_sample(char *buf);

static void test_samples_carry_the_snapshot_values(void **state)
{
    (void)state;
    struct rp_metrics_snapshot m = { .sessions_active = 3, .sessions_max = 100, .sessions_created = 17,
                                     .port_min = 10000, .port_max = 20000, .auth_failures_control = 5 };
    m.media.up_packets = 12345;
    m.media.down_skipped = 812;
    m.media.drops[RP_DROP_AUTH] = 7;
    m.media.drops[RP_DROP_BAD_RTP] = 2;
    m.stun_listener[RP_STUN_DROP_TOO_SMALL] = 9;
    m.stun_listener[RP_STUN_DROP_RATE] = 13;
    m.media.stun[RP_STUN_DROP_RATE] = 14;
    m.http_responses[4] = 11;
    m.media.host_drops = 21;
    m.sessions_by_codec[RP_CODEC_OPUS] = 3;
    m.have_ports_bound = true;
    m.media_ports_bound = 4321;
    m.proc = (struct rp_procstat){ .have_cpu = true, .have_rss = true, .have_fds = true, .have_max_fds = true,
                                   .have_start = true, .cpu_seconds = 12.5, .rss_bytes = 7340032, .open_fds = 23,
                                   .max_fds = 1024, .start_time_seconds = 1733480000.25 };
    size_t n;
    char *buf = rp_metrics_render(&m, &n);
    assert_non_null(buf);
    assert_true(n > 0 && n == strlen(buf));
    assert_non_null(strstr(buf, "\nrtpprobed_sessions 3\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_created_total 17\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_media_ports 5001\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_packets_total{direction=\"upstream\"} 12345\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_dropped_total{reason=\"bad_rtp\"} 2\n"));
    /* slots an overloaded daemon skipped */
    assert_non_null(strstr(buf, "\n# TYPE rtpprobed_downstream_skipped_total counter\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_downstream_skipped_total 812\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_auth_failures_total{plane=\"media\"} 7\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_auth_failures_total{plane=\"control\"} 5\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_stun_total{port=\"listen\",verdict=\"too_small\"} 9\n"));
    /* answers refused for stun.rate */
    assert_non_null(strstr(buf, "\nrtpprobed_stun_total{port=\"listen\",verdict=\"rate\"} 13\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_stun_total{port=\"session\",verdict=\"rate\"} 14\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_http_responses_total{code=\"4xx\"} 11\n"));
    /* issue 15: a counter named as one; sessions by codec, port usage, build, process */
    assert_non_null(strstr(buf, "\n# TYPE rtpprobed_socket_drops_total counter\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_socket_drops_total 21\n"));
    assert_null(strstr(buf, "rtpprobed_socket_drops "));
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_by_codec{codec=\"pcmu\"} 0\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_by_codec{codec=\"pcma\"} 0\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_by_codec{codec=\"opus\"} 3\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_media_ports_bound 4321\n"));
    assert_non_null(strstr(buf, "\nrtpprobed_build_info{version=\"" RP_VERSION "\"} 1\n"));
    assert_non_null(strstr(buf, "\nprocess_cpu_seconds_total 12.500000\n"));
    assert_non_null(strstr(buf, "\nprocess_resident_memory_bytes 7340032\n"));
    assert_non_null(strstr(buf, "\nprocess_open_fds 23\n"));
    assert_non_null(strstr(buf, "\nprocess_max_fds 1024\n"));
    assert_non_null(strstr(buf, "\nprocess_start_time_seconds 1733480000.25\n"));
    static const struct { const char *name, *type; } families[] = {
        { "rtpprobed_socket_drops_total", "counter" },  { "rtpprobed_sessions_by_codec", "gauge" },
        { "rtpprobed_media_ports_bound", "gauge" },     { "rtpprobed_build_info", "gauge" },
        { "process_cpu_seconds_total", "counter" },     { "process_resident_memory_bytes", "gauge" },
        { "process_open_fds", "gauge" },                { "process_max_fds", "gauge" },
        { "process_start_time_seconds", "gauge" },
    };
    for (size_t i = 0; i < sizeof families / sizeof *families; i++) {
        char want[160];
        snprintf(want, sizeof want, "\n# HELP %s ", families[i].name);
        assert_non_null(strstr(buf, want));
        snprintf(want, sizeof want, "\n# TYPE %s %s\n", families[i].name, families[i].type);
        assert_non_null(strstr(buf, want));
    }
    /* no quality or agents in the snapshot: their families are left out */
    assert_null(strstr(buf, "rtpprobed_session_"));
    assert_null(strstr(buf, "rtpprobed_agent"));
    every_line_is_a_comment_or_a_sample(buf);
    free(buf);
}

/* A comment is HELP or TYPE; a sample "name[{...}] number" with a name of ours
 * or of the client libraries' process_* families. */
static void every_line_is_a_comment_or_a_sample(char *buf)
{
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP ", 7) == 0 || strncmp(line, "# TYPE ", 7) == 0);
            assert_true(strncmp(line + 7, "rtpprobed_", 10) == 0 || strncmp(line + 7, "process_", 8) == 0);
            continue;
        }
        char name[128];
        assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
        assert_true(strncmp(name, "rtpprobed_", 10) == 0 || strncmp(name, "process_", 8) == 0);
        const char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        unsigned dots = 0;
        for (const char *d = sp + 1 + (sp[1] == '-'); *d; d++) {
            dots += *d == '.';
            assert_true((*d >= '0' && *d <= '9') || *d == '.');
        }
        assert_true(dots <= 1 && sp[1] != '.');
    }
}

/* Figures that could not be read are left out, family and all: no 0 that
 * would read as "no memory" or "started in 1970". */
static void test_unread_figures_are_left_out(void **state)
{
    (void)state;
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000 };
    m.proc.have_rss = true;
    m.proc.rss_bytes = 4096;
    size_t n;
    char *buf = rp_metrics_render(&m, &n);
    assert_non_null(buf);
    assert_non_null(strstr(buf, "\nprocess_resident_memory_bytes 4096\n"));
    assert_null(strstr(buf, "process_start_time_seconds"));
    assert_null(strstr(buf, "process_cpu_seconds_total"));
    assert_null(strstr(buf, "process_open_fds"));
    assert_null(strstr(buf, "process_max_fds"));
    assert_null(strstr(buf, "rtpprobed_media_ports_bound"));
    /* known codecs are listed with no session */
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_by_codec{codec=\"pcmu\"} 0\n"));
    free(buf);
}

static bool has_line(const char *buf, const char *line)
{
    char want[320];
    int n = snprintf(want, sizeof want, "\n%s\n", line);
    assert_true(n > 0 && (size_t)n < sizeof want);
    return strstr(buf, want) != NULL;
}

/* Histograms: cumulative buckets ending in +Inf = _count, a _sum, one HELP and
 * TYPE per family, every codec x transport listed. */
static void test_quality_histograms_are_cumulative_with_inf_sum_and_count(void **state)
{
    (void)state;
    struct rp_quality q;
    memset(&q, 0, sizeof q);
    struct rp_quality_sample a = { .loss_ratio = 0.004, .jitter_s = 0.0025, .mos = 4.35, .r_factor = 88.5 };
    struct rp_quality_sample b = { .loss_ratio = 0.3, .jitter_s = 0.04, .mos = 2.5, .r_factor = -3.25 };
    rp_quality_observe(&q, RP_CODEC_PCMA, RP_TRANSPORT_SRTP, &a);
    rp_quality_observe(&q, RP_CODEC_PCMA, RP_TRANSPORT_SRTP, &b);
    rp_quality_observe(&q, RP_CODEC_OPUS, RP_TRANSPORT_RTP, &a);
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000, .quality = &q };
    size_t n;
    char *buf = rp_metrics_render(&m, &n);
    assert_non_null(buf);
#define PS "codec=\"pcma\",transport=\"srtp\""
    assert_true(has_line(buf, "# TYPE rtpprobed_session_loss_ratio histogram"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"0.001\"} 0"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"0.005\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"0.2\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"0.5\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"1\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_bucket{" PS ",le=\"+Inf\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_sum{" PS "} 0.304000"));
    assert_true(has_line(buf, "rtpprobed_session_loss_ratio_count{" PS "} 2"));
    assert_true(has_line(buf, "rtpprobed_session_jitter_seconds_bucket{" PS ",le=\"0.005\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_jitter_seconds_bucket{" PS ",le=\"0.03\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_jitter_seconds_bucket{" PS ",le=\"0.05\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_mos_bucket{" PS ",le=\"3.6\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_mos_bucket{" PS ",le=\"4.4\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_r_factor_bucket{" PS ",le=\"50\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_r_factor_bucket{" PS ",le=\"93.2\"} 2"));
    assert_true(has_line(buf, "rtpprobed_session_r_factor_sum{" PS "} 85.250000"));
#undef PS
    assert_true(has_line(buf, "rtpprobed_session_mos_count{codec=\"opus\",transport=\"rtp\"} 1"));
    assert_true(has_line(buf, "rtpprobed_session_mos_count{codec=\"pcmu\",transport=\"srtp\"} 0"));
    /* one HELP and one TYPE per family */
    const char *fams[] = { "rtpprobed_session_loss_ratio", "rtpprobed_session_jitter_seconds",
                           "rtpprobed_session_mos", "rtpprobed_session_r_factor" };
    for (size_t i = 0; i < 4; i++) {
        char want[128];
        snprintf(want, sizeof want, "# TYPE %s histogram\n", fams[i]);
        const char *at = strstr(buf, want);
        assert_non_null(at);
        assert_null(strstr(at + 1, want));
    }
    every_line_is_a_comment_or_a_sample(buf);
    free(buf);
}

/* The largest store (RP_AGENTS_LIMIT agents with the longest names and every
 * figure) renders whole: far beyond any fixed buffer. */
static void test_a_full_agent_store_renders_whole(void **state)
{
    (void)state;
    struct rp_agents *a = rp_agents_new(RP_AGENTS_LIMIT);
    assert_non_null(a);
    struct rp_agent_report r = { .f = { .mos = { 4.41, 4.2 }, .loss_ratio = { 0.01, 0 }, .jitter_s = { 0.002, 0.003 },
                                        .delay_rise_s = { 0.001, 0.0005 }, .rtt_s = 0.0301, .verdict = 1 } };
    for (unsigned i = 0; i < RP_AGENTS_LIMIT; i++) {
        snprintf(r.agent, sizeof r.agent, "%064u", i);
        assert_int_equal(rp_agents_put(a, &r, 1733480000.5 + i), 0);
    }
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000, .agents = a };
    size_t n;
    char *buf = rp_metrics_render(&m, &n);
    assert_non_null(buf);
    assert_true(n > 1000000 && n == strlen(buf));
    char line[256];
    snprintf(line, sizeof line, "rtpprobed_agent_mos{agent=\"%064u\",direction=\"upstream\"} 4.410000",
             RP_AGENTS_LIMIT - 1);
    assert_true(has_line(buf, line));
    snprintf(line, sizeof line, "rtpprobed_agent_verdict{agent=\"%064u\"} 1", 0u);
    assert_true(has_line(buf, line));
    snprintf(line, sizeof line, "rtpprobed_agents %u", RP_AGENTS_LIMIT);
    assert_true(has_line(buf, line));
    /* the last family is there: nothing was cut */
    snprintf(line, sizeof line, "rtpprobed_agent_report_timestamp_seconds{agent=\"%064u\"} %.3f",
             RP_AGENTS_LIMIT - 1, 1733480000.5 + RP_AGENTS_LIMIT - 1);
    assert_true(has_line(buf, line));
    every_line_is_a_comment_or_a_sample(buf);
    free(buf);
    rp_agents_free(a);
}

/* Figures a report did not have are no samples, and a family with none is
 * left out; the store's counters are always there. */
static void test_unmeasured_agent_figures_have_no_sample(void **state)
{
    (void)state;
    struct rp_agents *a = rp_agents_new(2);
    struct rp_agent_report r = { .agent = "a1", .f = { .mos = { 4.1, NAN }, .loss_ratio = { 0, NAN },
                                                       .jitter_s = { NAN, NAN }, .delay_rise_s = { NAN, NAN },
                                                       .rtt_s = NAN, .verdict = 3 } };
    assert_int_equal(rp_agents_put(a, &r, 100), 0);
    rp_agents_note_rejected(a);
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000, .agents = a };
    size_t n;
    char *buf = rp_metrics_render(&m, &n);
    assert_non_null(buf);
    assert_true(has_line(buf, "rtpprobed_agent_mos{agent=\"a1\",direction=\"upstream\"} 4.100000"));
    assert_null(strstr(buf, "agent=\"a1\",direction=\"downstream\""));
    assert_null(strstr(buf, "rtpprobed_agent_jitter_seconds"));
    assert_null(strstr(buf, "rtpprobed_agent_rtt_seconds"));
    assert_true(has_line(buf, "rtpprobed_agent_verdict{agent=\"a1\"} 3"));
    assert_true(has_line(buf, "rtpprobed_agents_max 2"));
    assert_true(has_line(buf, "rtpprobed_agent_evictions_total 0"));
    assert_true(has_line(buf, "rtpprobed_reports_total{result=\"accepted\"} 1"));
    assert_true(has_line(buf, "rtpprobed_reports_total{result=\"rejected\"} 1"));
    every_line_is_a_comment_or_a_sample(buf);
    free(buf);
    rp_agents_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_carry_the_snapshot_values),
        cmocka_unit_test(test_unread_figures_are_left_out),
        cmocka_unit_test(test_quality_histograms_are_cumulative_with_inf_sum_and_count),
        cmocka_unit_test(test_a_full_agent_store_renders_whole),
        cmocka_unit_test(test_unmeasured_agent_figures_have_no_sample),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
