/* Prometheus exposition: every sample line is "name{labels} value" with the
 * snapshot's numbers, every family has HELP and TYPE, and a small buffer fails. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

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
    char buf[8192];
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
    /* Every line is a comment or "name[{...}] integer". */
    for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#') {
            assert_true(strncmp(line, "# HELP rtpprobed_", 17) == 0 || strncmp(line, "# TYPE rtpprobed_", 17) == 0);
            continue;
        }
        char name[128];
        assert_int_equal(sscanf(line, "%127[a-z_]", name), 1);
        assert_true(strncmp(name, "rtpprobed_", 10) == 0);
        const char *sp = strrchr(line, ' ');
        assert_non_null(sp);
        for (const char *d = sp + 1; *d; d++)
            assert_true(*d >= '0' && *d <= '9');
    }
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
        cmocka_unit_test(test_too_small_a_buffer_gives_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
