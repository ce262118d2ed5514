/* Prometheus exposition: every sample line is "name{labels} value" with the
 * snapshot's numbers, every family has HELP and TYPE, and a small buffer fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
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
    char buf[16384];
    size_t n = rp_metrics_render(&m, buf, sizeof buf);
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
    every_line_is_a_comment_or_a_sample(buf);
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
        for (const char *d = sp + 1; *d; d++) {
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
    char buf[16384];
    assert_true(rp_metrics_render(&m, buf, sizeof buf) > 0);
    assert_non_null(strstr(buf, "\nprocess_resident_memory_bytes 4096\n"));
    assert_null(strstr(buf, "process_start_time_seconds"));
    assert_null(strstr(buf, "process_cpu_seconds_total"));
    assert_null(strstr(buf, "process_open_fds"));
    assert_null(strstr(buf, "process_max_fds"));
    assert_null(strstr(buf, "rtpprobed_media_ports_bound"));
    /* known codecs are listed with no session */
    assert_non_null(strstr(buf, "\nrtpprobed_sessions_by_codec{codec=\"pcmu\"} 0\n"));
}

static void test_too_small_a_buffer_gives_zero(void **state)
{
    (void)state;
    struct rp_metrics_snapshot m = { .port_min = 10000, .port_max = 20000 };
    char buf[64];
    assert_int_equal(rp_metrics_render(&m, buf, sizeof buf), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_carry_the_snapshot_values),
        cmocka_unit_test(test_unread_figures_are_left_out),
        cmocka_unit_test(test_too_small_a_buffer_gives_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
