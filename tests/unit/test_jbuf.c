/* The adaptive jitter-buffer model (src/jbuf.c) and what rxstats reports from
 * it: late packets under a buffer that follows slow delay changes, its depth,
 * and the delay view. Expected figures are worked out by hand from the
 * algorithm in docs/measurements.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>

#include <cmocka.h>

#include "jbuf.h"
#include "rxstats.h"

#define MS 1000000LL
#define PTIME (20 * MS)

/* Packet k of a 20 ms stream whose one-way delay is extra_ns above the base. */
static bool feed(struct rp_jbuf *j, int k, int64_t extra_ns)
{
    return rp_jbuf_add(j, k * PTIME + extra_ns, extra_ns);
}

static void test_clean_path_has_no_late_packets_and_the_buffer_shrinks_slowly(void **state)
{
    (void)state;
    struct rp_jbuf *j = rp_jbuf_new();
    assert_non_null(j);
    for (int k = 0; k < 500; k++)
        assert_false(feed(j, k, 0));
    struct rp_jbuf_stats s;
    rp_jbuf_stats(j, &s);
    assert_int_equal(s.late, 0);
    /* 80 ms at the start, down 0.2 ms a packet (10 ms/s) to the 20 ms floor at
     * packet 300: (301 * 80 - 0.2 * 300 * 301 / 2 + 199 * 20) / 500 = 38.06. */
    assert_true(fabs(s.mean_ms - 38.06) < 1e-6);
    assert_true(s.max_ms == 80.0);
    rp_jbuf_free(j);
}

static void test_a_lone_spike_is_late_but_does_not_move_the_buffer(void **state)
{
    (void)state;
    struct rp_jbuf *j = rp_jbuf_new();
    for (int k = 0; k < 400; k++)
        feed(j, k, 0);
    assert_true(feed(j, 400, 100 * MS));   /* 100 ms > the 20 ms target */
    for (int k = 401; k < 500; k++)
        assert_false(feed(j, k, 0));
    struct rp_jbuf_stats s;
    rp_jbuf_stats(j, &s);
    assert_int_equal(s.late, 1);
    /* One sample of 0.017 never reaches the 5 % above the quantile. */
    assert_true(s.max_ms == 80.0);
    rp_jbuf_free(j);
}

static void test_recurring_delay_raises_the_buffer_within_a_few_packets(void **state)
{
    (void)state;
    struct rp_jbuf *j = rp_jbuf_new();
    for (int k = 0; k < 1000; k++)
        assert_false(feed(j, k, k % 10 == 5 ? 50 * MS : 0));
    struct rp_jbuf_stats s;
    rp_jbuf_stats(j, &s);
    /* One packet in ten at 50 ms is more than the 5 % tail: from the third of
     * them (0.6 s) the 0.95 quantile lands in the 40-60 ms bucket, so the
     * target, decaying from 80 ms, stops at 60 ms (after 2 s) and stays there:
     * (sum of 80 .. 60.2 over 100 packets + 60 * 900) / 1000, about 61. */
    assert_int_equal(s.late, 0);
    assert_true(s.max_ms == 80.0);
    assert_true(fabs(s.mean_ms - 60.99) < 0.2);
    rp_jbuf_free(j);
}

static struct rp_rxsummary run_stream(int64_t (*extra)(int k), int n)
{
    struct rp_rxstats *rx = rp_rxstats_new(8000, 40);
    assert_non_null(rx);
    for (int k = 0; k < n; k++) {
        int64_t e = extra(k);
        rp_rxstats_add(rx, (uint16_t)k, (uint32_t)(k * 160), (uint64_t)(1000 * MS + k * PTIME + e), 200);
    }
    struct rp_rxsummary s;
    rp_rxstats_summary(rx, (uint64_t)n, &s);
    rp_rxstats_free(rx);
    return s;
}

/* A queue that fills at 10 ms per second for 10 s, as a bufferbloated router
 * while a download runs: 0.2 ms more delay per packet. */
static int64_t ramp(int k)
{
    return k * MS / 5;
}

static void test_a_standing_queue_is_delay_not_loss(void **state)
{
    (void)state;
    struct rp_rxsummary s = run_stream(ramp, 500);
    assert_int_equal(s.lost, 0);
    /* Within any 2 s the delay rises by at most 20 ms: nothing is late for
     * a buffer that follows it ... */
    assert_int_equal(s.late_adaptive, 0);
    /* ... while a fixed 40 ms buffer anchored at the lowest transit loses every
     * packet more than 40 ms above it: packets 201..499. */
    assert_int_equal(s.late, 299);
    /* The last packet arrives at 499 * 20.2 ms: the floor (lowest of the last
     * 2 s) is packet 400's delay, 400 * 0.2 = 80 ms above the start. */
    assert_true(fabs(s.delay_rise_ms - 80.0) < 0.01);
    assert_true(fabs(s.delay_max_ms - 99.8) < 0.01);
    assert_true(fabs(s.delay_p50_ms - 50.0) <= 2.0);
}

static int64_t step60(int k)
{
    return k >= 250 ? 60 * MS : 0;
}

static void test_a_delay_step_costs_a_few_packets_then_the_buffer_follows(void **state)
{
    (void)state;
    struct rp_rxsummary s = run_stream(step60, 500);
    /* The first packets after the step miss the old target until the
     * histogram's tail passes 5 % (3 samples of 0.017), then the target
     * jumps to 80 ms; 2 s later the floor has caught up. */
    assert_int_equal(s.late_adaptive, 3);
    assert_int_equal(s.late, 250);   /* the fixed buffer: every packet after the step */
    assert_true(fabs(s.delay_rise_ms - 60.0) < 0.01);
    /* Down from 80 ms to 20 ms by packet 300 ... then 80 ms from the step's
     * third packet, decaying again once the floor caught up. */
    assert_true(fabs(s.jb_mean_ms - 67.347) < 0.001);
}

/* Seeded uniform 0-40 ms of extra delay per packet (an LCG: the same every run). */
static uint32_t lcg = 12345;
static int64_t jitter40(int k)
{
    (void)k;
    lcg = lcg * 1103515245u + 12345u;
    return (int64_t)((lcg >> 8) % 40000) * 1000;
}

static void test_random_jitter_is_not_a_delay_rise(void **state)
{
    (void)state;
    for (int run = 0; run < 20; run++) {
        struct rp_rxsummary s = run_stream(jitter40, 500);
        /* The delay spreads over 0-40 ms (p95 near 38) but its floor, the
         * lowest of 100 packets, stays near the bottom. */
        assert_true(s.delay_p95_ms > 30.0);
        assert_true(s.delay_rise_ms < 5.0);
    }
}

/* A 3 s outage, then one slow packet: a window with one packet is no floor. */
static int64_t outage(int k)
{
    return k == 350 ? 35 * MS : 0;
}

static void test_a_lone_packet_after_an_outage_is_not_a_rise(void **state)
{
    (void)state;
    struct rp_rxstats *rx = rp_rxstats_new(8000, 40);
    for (int k = 0; k < 500; k++) {
        if (k >= 200 && k < 350)
            continue;
        rp_rxstats_add(rx, (uint16_t)k, (uint32_t)(k * 160), (uint64_t)(1000 * MS + k * PTIME + outage(k)), 200);
    }
    struct rp_rxsummary s;
    rp_rxstats_summary(rx, 500, &s);
    rp_rxstats_free(rx);
    assert_true(s.delay_max_ms == 35.0);
    assert_true(s.delay_rise_ms == 0.0);
}

/* Decay follows the arrival gap, not the packet count. */
static void test_the_buffer_shrinks_by_time_not_by_packets(void **state)
{
    (void)state;
    struct rp_jbuf *j = rp_jbuf_new();
    rp_jbuf_add(j, 0, 0);
    rp_jbuf_add(j, 1000 * MS, 0);   /* 1 s later: 80 - 10 = 70 ms */
    struct rp_jbuf_stats s;
    rp_jbuf_stats(j, &s);
    assert_true(fabs(s.mean_ms - 75.0) < 1e-9);
    rp_jbuf_free(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_clean_path_has_no_late_packets_and_the_buffer_shrinks_slowly),
        cmocka_unit_test(test_a_lone_spike_is_late_but_does_not_move_the_buffer),
        cmocka_unit_test(test_recurring_delay_raises_the_buffer_within_a_few_packets),
        cmocka_unit_test(test_a_standing_queue_is_delay_not_loss),
        cmocka_unit_test(test_a_delay_step_costs_a_few_packets_then_the_buffer_follows),
        cmocka_unit_test(test_random_jitter_is_not_a_delay_rise),
        cmocka_unit_test(test_a_lone_packet_after_an_outage_is_not_a_rise),
        cmocka_unit_test(test_the_buffer_shrinks_by_time_not_by_packets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
