/* rxstats against ground truth the tests construct: a G.711-like stream (8 kHz clock,
 * 20 ms = 160 ticks per packet) whose one-way delay, losses, duplicates and order
 * are chosen here, so every expected figure follows from RFC 3550 / RFC 5481 /
 * G.113 by hand or by a straightforward computation in the test itself. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rtp.h"
#include "rxstats.h"

#define CLOCK       8000u
#define TICKS       160u                   /* per 20 ms packet */
#define PERIOD_NS   20000000ull
#define MS          1000000.0              /* ns */
#define T0_NS       1700000000000000000ull /* a CLOCK_REALTIME instant in 2023 */
#define WIRE        214u                   /* IPv4 20 + UDP 8 + RTP 12 + 160 + ext 14 */
#define JB_MS       40u

#define assert_near(actual, expected, tol)                                            \
    do {                                                                              \
        double a_ = (actual), e_ = (expected);                                        \
        if (!(fabs(a_ - e_) <= (tol)))                                                \
            fail_msg("%s = %.12g, expected %.12g +- %g", #actual, a_, e_, (double)(tol)); \
    } while (0)

/* Packet number i of a stream that started at seq0/ts0, arriving delay_ms after
 * its nominal send time T0 + i * 20 ms. */
static enum rp_rx_class send_pkt(struct rp_rxstats *s, uint16_t seq0, uint32_t ts0,
                                 uint32_t i, double delay_ms)
{
    uint64_t arrival = T0_NS + (uint64_t)i * PERIOD_NS + (uint64_t)llround(delay_ms * MS);
    return rp_rxstats_add(s, (uint16_t)(seq0 + i), ts0 + i * TICKS, arrival, WIRE);
}

static struct rp_rxstats *new_stats(void)
{
    struct rp_rxstats *s = rp_rxstats_new(CLOCK, JB_MS);
    assert_non_null(s);
    return s;
}

/* ---- jitter ---------------------------------------------------------------- */

static void test_constant_delay_gives_zero_jitter(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    for (uint32_t i = 0; i < 500; i++)
        assert_int_equal(send_pkt(s, 1000, 12345678u, i, 37.0), RP_RX_IN_ORDER);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 0.0, 1e-12);
    assert_near(sum.ipdv_max_ms, 0.0, 1e-12);
    assert_near(sum.ipdv_p99_ms, 0.0, 1e-12);
    assert_int_equal(sum.received, 500);
    assert_int_equal(sum.expected, 500);
    assert_int_equal(sum.lost, 0);
    assert_int_equal(sum.late, 0);
    assert_int_equal(sum.bursts, 0);
    assert_near(sum.burst_ratio, 1.0, 1e-12);
    assert_int_equal(sum.wire_bytes, 500u * WIRE);
    assert_int_equal(sum.first_arrival_ns, T0_NS + 37000000u);
    assert_int_equal(sum.last_arrival_ns, T0_NS + 499u * PERIOD_NS + 37000000u);
    rp_rxstats_free(s);
}

/* A sender that under-reports (said 90, 100 arrived): lost shows the surplus,
 * the loss ratio is 0, never negative (the report schema's 0-100). */
static void test_an_under_reporting_sender_is_no_negative_loss(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    for (uint32_t i = 0; i < 100; i++)
        send_pkt(s, 1000, 12345678u, i, 37.0);
    rp_rxstats_summary(s, 90, &sum);
    assert_int_equal(sum.lost, -10);
    assert_true(sum.loss_pct == 0.0);
    rp_rxstats_summary(s, 110, &sum);
    assert_int_equal(sum.lost, 10);
    assert_near(sum.loss_pct, 100.0 * 10 / 110, 1e-9);
    rp_rxstats_free(s);
}

static void test_alternating_offsets_follow_the_rfc3550_recursion_to_twice_the_offset(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    const double d = 1.5;   /* ms: delays alternate base + d, base - d */

    for (uint32_t i = 0; i < 200; i++)
        send_pkt(s, 7, 0, i, 10.0 + ((i % 2) ? -d : d));
    rp_rxstats_summary(s, 0, &sum);
    /* |D| = 2d for each of the 199 packets after the first: J_n = 2d (1 - (15/16)^n). */
    assert_near(sum.jitter_ms, 2 * d * (1.0 - pow(15.0 / 16.0, 199)), 1e-9);
    assert_near(sum.jitter_ms, 3.0, 1e-5);
    /* Every |IPDV| is 2d = 3 ms. */
    assert_near(sum.ipdv_max_ms, 3.0, 1e-9);
    assert_true(sum.ipdv_p50_ms >= 3.0 && sum.ipdv_p50_ms <= 3.1);
    rp_rxstats_free(s);
}

static void test_short_sequence_matches_hand_computed_jitter(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* Extra delay 0, 2, 1, 1 ms = transit 0, 16, 8, 8 ticks.
     * D = 16, -8, 0;  J = 16/16 = 1;  1 + (8 - 1)/16 = 1.4375;  1.4375 * 15/16 = 1.34765625
     * ticks = 1.34765625 / 8 ms = 0.16845703125 ms. */
    send_pkt(s, 0, 0, 0, 0.0);
    send_pkt(s, 0, 0, 1, 2.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 1.0 / 8, 1e-12);
    send_pkt(s, 0, 0, 2, 1.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 1.4375 / 8, 1e-12);
    send_pkt(s, 0, 0, 3, 1.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 0.16845703125, 1e-12);
    /* Mean of J after packets 2..4 (Wireshark's Mean Jitter): (1 + 1.4375 + 1.34765625) / 3 ticks. */
    assert_near(sum.jitter_mean_ms, (1.0 + 1.4375 + 1.34765625) / 3 / 8, 1e-12);

    /* |IPDV| = 2, 1, 0 ms: nearest rank p50 is the 2nd = 1 ms (0.1 ms bins), max 2. */
    assert_true(sum.ipdv_p50_ms >= 1.0 && sum.ipdv_p50_ms <= 1.1);
    assert_near(sum.ipdv_p99_ms, 2.0, 1e-9);
    assert_near(sum.ipdv_max_ms, 2.0, 1e-9);
    rp_rxstats_free(s);
}

static void test_jitter_spans_a_loss_but_ipdv_skips_it(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* Packet 2 is lost; 3 and 4 arrive 15 ms later than 0 and 1.
     * D(1,3) = 15 ms -> J = 15/16; D(3,4) = 0 -> J = 15/16 * 15/16 = 0.87890625 ms.
     * IPDV only for consecutive pairs (0,1) and (3,4): both 0. */
    send_pkt(s, 0, 0, 0, 5.0);
    send_pkt(s, 0, 0, 1, 5.0);
    send_pkt(s, 0, 0, 3, 20.0);
    send_pkt(s, 0, 0, 4, 20.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 0.87890625, 1e-12);
    assert_near(sum.ipdv_max_ms, 0.0, 1e-12);
    assert_int_equal(sum.lost, 1);
    rp_rxstats_free(s);
}

static void test_rtp_timestamp_wrap_does_not_disturb_jitter(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    const uint32_t ts0 = 0xFFFFFC00u;   /* wraps between packets 6 and 7 */

    for (uint32_t i = 0; i < 20; i++)
        send_pkt(s, 500, ts0, i, i == 10 ? 12.0 : 10.0);
    rp_rxstats_summary(s, 0, &sum);
    /* D = +2 ms at packet 10, -2 ms at 11, 0 for 12..19:
     * J = 2/16 = 0.125; 0.125 + (2 - 0.125)/16 = 0.2421875; then * (15/16)^8. */
    assert_near(sum.jitter_ms, 0.2421875 * pow(15.0 / 16.0, 8), 1e-12);
    assert_near(sum.ipdv_max_ms, 2.0, 1e-9);
    assert_int_equal(sum.lost, 0);
    assert_int_equal(sum.late, 0);
    assert_int_equal(sum.reordered, 0);
    rp_rxstats_free(s);
}

static void test_reordered_packet_is_measured_against_the_latest_in_order_one(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* Packet 2 is held 30 ms and arrives after 3. As in Wireshark's RTP analysis the
     * reference stays on the newest in-order packet: D(3,2) = +30 ms, D(3,4) = 0.
     * J = 30/16 = 1.875, then 1.875 * 15/16 = 1.7578125 ms. (Pure arrival order would
     * also charge D(2,4) = -30 ms.) */
    assert_int_equal(send_pkt(s, 0, 0, 0, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 0, 0, 1, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 0, 0, 3, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 0, 0, 2, 40.0), RP_RX_REORDERED);
    assert_int_equal(send_pkt(s, 0, 0, 4, 10.0), RP_RX_IN_ORDER);
    rp_rxstats_summary(s, 0, &sum);
    assert_near(sum.jitter_ms, 1.7578125, 1e-12);
    assert_int_equal(sum.reordered, 1);
    assert_int_equal(sum.lost, 0);
    assert_int_equal(sum.bursts, 0);   /* the gap was filled: no lost run */
    assert_near(sum.burst_ratio, 1.0, 1e-12);
    rp_rxstats_free(s);
}

/* ---- loss, duplicates, reordering ----------------------------------------- */

static void test_sequence_wrap_with_loss_duplicate_and_reorder_is_counted(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* 20 packets, seq 65530..65535, 0..13. Lost: i=4 (65534) and i=8 (2).
     * i=6 (seq 0) arrives twice; i=11 (5) arrives after i=13 (7). */
    for (uint32_t i = 0; i < 11; i++) {
        if (i == 4 || i == 8)
            continue;
        assert_int_equal(send_pkt(s, 65530, 1, i, 10.0), RP_RX_IN_ORDER);
        if (i == 6)
            assert_int_equal(send_pkt(s, 65530, 1, i, 10.5), RP_RX_DUPLICATE);
    }
    assert_int_equal(send_pkt(s, 65530, 1, 12, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 65530, 1, 13, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 65530, 1, 11, 50.0), RP_RX_REORDERED);
    assert_int_equal(send_pkt(s, 65530, 1, 11, 51.0), RP_RX_DUPLICATE);
    for (uint32_t i = 14; i < 20; i++)
        assert_int_equal(send_pkt(s, 65530, 1, i, 10.0), RP_RX_IN_ORDER);

    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 20);
    assert_int_equal(sum.received, 18);
    assert_int_equal(sum.lost, 2);
    assert_near(sum.loss_pct, 10.0, 1e-12);
    assert_int_equal(sum.duplicates, 2);
    assert_int_equal(sum.reordered, 1);
    assert_int_equal(sum.bursts, 2);
    assert_int_equal(sum.max_burst, 1);
    assert_int_equal(sum.wire_bytes, 18u * WIRE);   /* duplicates excluded */
    /* p = 2/18, q = 2/2: BurstR = 1 / (1/9 + 1) = 0.9 */
    assert_near(sum.burst_ratio, 0.9, 1e-12);
    rp_rxstats_free(s);
}

static void test_sequence_keeps_extending_over_many_wraps(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* 200 000 packets: three wraps of the 16-bit sequence and of the window. */
    for (uint32_t i = 0; i < 200000; i++)
        send_pkt(s, 40000, 0, i, 10.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 200000);
    assert_int_equal(sum.received, 200000);
    assert_int_equal(sum.lost, 0);
    assert_int_equal(sum.bursts, 0);
    assert_int_equal(sum.reordered, 0);
    rp_rxstats_free(s);
}

static void test_leading_and_trailing_loss_count_when_first_seq_and_sent_are_known(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* Sent: seq 100..159 (60 packets). Lost: 100..102 (leading), 120..121, 151..159
     * (trailing) = 3 + 2 + 9 = 14. */
    rp_rxstats_set_first_seq(s, 100);
    for (uint32_t i = 3; i <= 50; i++)
        if (i != 20 && i != 21)
            send_pkt(s, 100, 0, i, 10.0);
    rp_rxstats_summary(s, 60, &sum);
    assert_int_equal(sum.expected, 60);
    assert_int_equal(sum.received, 46);
    assert_int_equal(sum.lost, 14);
    assert_int_equal(sum.bursts, 3);
    assert_int_equal(sum.max_burst, 9);
    /* p = 3/46, q = 3/14 */
    assert_near(sum.burst_ratio, 1.0 / (3.0 / 46 + 3.0 / 14), 1e-12);

    /* Without `sent`, the RFC 3550 expectation runs from first_seq to the highest. */
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 51);
    assert_int_equal(sum.lost, 5);
    assert_int_equal(sum.bursts, 2);
    assert_int_equal(sum.max_burst, 3);
    rp_rxstats_free(s);
}

static void test_leading_loss_across_the_sequence_wrap(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* Sender starts at 65534; 65534, 65535 and 0 are lost, 1..9 arrive. */
    rp_rxstats_set_first_seq(s, 65534);
    for (uint32_t i = 3; i < 12; i++)
        send_pkt(s, 65534, 0, i, 10.0);
    rp_rxstats_summary(s, 12, &sum);
    assert_int_equal(sum.expected, 12);
    assert_int_equal(sum.received, 9);
    assert_int_equal(sum.lost, 3);
    assert_int_equal(sum.bursts, 1);
    assert_int_equal(sum.max_burst, 3);
    rp_rxstats_free(s);
}

static void test_leading_gap_longer_than_the_window_is_one_burst(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    rp_rxstats_set_first_seq(s, 0);
    for (uint32_t i = 3000; i < 3100; i++)
        send_pkt(s, 0, 0, i, 10.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 3100);
    assert_int_equal(sum.lost, 3000);
    assert_int_equal(sum.bursts, 1);
    assert_int_equal(sum.max_burst, 3000);
    rp_rxstats_free(s);
}

static void test_without_first_seq_the_oldest_packet_starts_the_stream(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* 5 arrives first, then 3, then 6: 4 is missing, 3..6 expected. */
    assert_int_equal(send_pkt(s, 0, 0, 5, 10.0), RP_RX_IN_ORDER);
    assert_int_equal(send_pkt(s, 0, 0, 3, 50.0), RP_RX_REORDERED);
    assert_int_equal(send_pkt(s, 0, 0, 6, 10.0), RP_RX_IN_ORDER);
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 4);
    assert_int_equal(sum.received, 3);
    assert_int_equal(sum.lost, 1);
    assert_int_equal(sum.bursts, 1);
    rp_rxstats_free(s);
}

static void test_packet_older_than_the_window_is_reordered_not_duplicate(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    for (uint32_t i = 0; i < 5000; i++)
        send_pkt(s, 0, 0, i, 10.0);
    /* 4000 behind the highest: beyond any duplicate window, so it cannot be checked. */
    assert_int_equal(send_pkt(s, 0, 0, 999, 10.0), RP_RX_REORDERED);
    /* 10 and 1000 behind: inside the 1024-packet window, recognised. */
    assert_int_equal(send_pkt(s, 0, 0, 4989, 10.0), RP_RX_DUPLICATE);
    assert_int_equal(send_pkt(s, 0, 0, 3999, 10.0), RP_RX_DUPLICATE);
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.duplicates, 2);
    assert_int_equal(sum.reordered, 1);
    assert_int_equal(sum.received, 5001);
    rp_rxstats_free(s);
}

static void test_nothing_received_loses_everything_sent(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.expected, 0);
    assert_int_equal(sum.lost, 0);
    assert_near(sum.loss_pct, 0.0, 1e-12);
    assert_near(sum.burst_ratio, 1.0, 1e-12);

    rp_rxstats_summary(s, 250, &sum);
    assert_int_equal(sum.expected, 250);
    assert_int_equal(sum.lost, 250);
    assert_near(sum.loss_pct, 100.0, 1e-12);
    rp_rxstats_free(s);
}

static void test_zero_clock_rate_is_refused(void **state)
{
    (void)state;
    assert_null(rp_rxstats_new(0, JB_MS));
}

/* ---- bursts ---------------------------------------------------------------- */

static void test_runs_of_five_every_fifty_give_burst_ratio_4_5(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* 1000 packets from 65000 (crossing the wrap); positions 20..24 of every 50 lost:
     * 20 runs of 5, 100 lost, 900 received. p = 20/900 = 1/45, q = 20/100 = 1/5,
     * BurstR = 1 / (1/45 + 9/45) = 4.5. */
    rp_rxstats_set_first_seq(s, 65000);
    for (uint32_t i = 0; i < 1000; i++)
        if (i % 50 < 20 || i % 50 > 24)
            send_pkt(s, 65000, 0, i, 10.0);
    rp_rxstats_summary(s, 1000, &sum);
    assert_int_equal(sum.received, 900);
    assert_int_equal(sum.lost, 100);
    assert_near(sum.loss_pct, 10.0, 1e-12);
    assert_int_equal(sum.bursts, 20);
    assert_int_equal(sum.max_burst, 5);
    assert_near(sum.burst_ratio, 4.5, 1e-9);
    rp_rxstats_free(s);
}

/* splitmix64: a fixed, seeded generator so the "random" pattern is reproducible. */
static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void test_random_loss_gives_burst_ratio_near_1(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    enum { N = 200000 };
    uint64_t seed = 42, received = 0, runs = 0, longest = 0, run = 0;

    /* Independent 5 % loss (Bernoulli), counted here by a plain scan. */
    rp_rxstats_set_first_seq(s, 12345);
    for (uint32_t i = 0; i < N; i++) {
        bool lost = (splitmix64(&seed) >> 11) * 0x1.0p-53 < 0.05;
        if (lost) {
            run++;
            continue;
        }
        if (run > 0) {
            runs++;
            if (run > longest)
                longest = run;
            run = 0;
        }
        received++;
        send_pkt(s, 12345, 0, i, 10.0);
    }
    if (run > 0) {
        runs++;
        if (run > longest)
            longest = run;
    }
    rp_rxstats_summary(s, N, &sum);
    assert_int_equal(sum.received, received);
    assert_int_equal(sum.lost, N - received);
    assert_int_equal(sum.bursts, runs);
    assert_int_equal(sum.max_burst, longest);
    assert_near(sum.burst_ratio, 1.0, 0.05);
    assert_near(sum.loss_pct, 5.0, 0.25);
    rp_rxstats_free(s);
}

/* ---- late packets ---------------------------------------------------------- */

static void test_packet_delayed_beyond_the_jitter_buffer_is_late(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* 40 ms buffer, base delay 10 ms. Packet 50: +60 ms (late, and overtaken by 51..52);
     * packet 70: +30 ms (within the buffer, overtaken by 71). */
    for (uint32_t i = 0; i < 100; i++) {
        if (i == 50 || i == 70)
            continue;
        send_pkt(s, 0, 0, i, 10.0);
        if (i == 52)
            assert_int_equal(send_pkt(s, 0, 0, 50, 70.0), RP_RX_REORDERED);
        if (i == 71)
            assert_int_equal(send_pkt(s, 0, 0, 70, 40.0), RP_RX_REORDERED);
    }
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.late, 1);
    assert_int_equal(sum.reordered, 2);
    assert_int_equal(sum.received, 100);
    assert_int_equal(sum.lost, 0);
    rp_rxstats_free(s);
}

static void test_lateness_is_measured_from_the_fastest_packet_so_far(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;

    /* First packet slow (30 ms), the rest 10 ms; packet 5 at 55 ms is 45 ms over the
     * fastest (late) though only 25 ms over the first. 50 ms on packet 6 is exactly
     * 40 over: not late (late means more than the buffer). */
    send_pkt(s, 0, 0, 0, 30.0);
    for (uint32_t i = 1; i < 5; i++)
        send_pkt(s, 0, 0, i, 10.0);
    send_pkt(s, 0, 0, 5, 55.0);
    send_pkt(s, 0, 0, 6, 50.0);
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.late, 1);
    rp_rxstats_free(s);
}

/* ---- IPDV percentiles ------------------------------------------------------ */

static void test_ipdv_percentiles_on_a_constructed_delay_pattern(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    double delay = 10.0;
    uint32_t i = 0;

    /* 100 consecutive delay steps (IPDV = delay_i - delay_i-1):
     * 50 x 0.5 ms and 45 x 3 ms alternating in sign, 4 x +150 ms, 1 x +2500 ms.
     * Sorted |IPDV|: ranks 1-50 0.5, 51-95 3, 96-99 150, 100 2500. Nearest rank:
     * p50 = 0.5, p95 = 3, p99 = 150, max = 2500 (beyond the 2 s histogram). */
    send_pkt(s, 300, 0, i++, delay);
    for (int k = 0; k < 50; k++) {
        delay += (k % 2) ? -0.5 : 0.5;
        send_pkt(s, 300, 0, i++, delay);
    }
    for (int k = 0; k < 45; k++) {
        delay += (k % 2) ? -3.0 : 3.0;
        send_pkt(s, 300, 0, i++, delay);
    }
    for (int k = 0; k < 4; k++) {
        delay += 150.0;
        send_pkt(s, 300, 0, i++, delay);
    }
    delay += 2500.0;
    send_pkt(s, 300, 0, i++, delay);

    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(sum.reordered, 0);
    /* Bins are 0.1 ms wide below 51.2 ms, then 1/32 of an octave up to 2 s. */
    assert_true(sum.ipdv_p50_ms >= 0.5 && sum.ipdv_p50_ms <= 0.6);
    assert_true(sum.ipdv_p95_ms >= 3.0 && sum.ipdv_p95_ms <= 3.1);
    assert_true(sum.ipdv_p99_ms >= 150.0 && sum.ipdv_p99_ms <= 151.0);
    assert_near(sum.ipdv_max_ms, 2500.0, 1e-9);
    rp_rxstats_free(s);
}

/* The per-packet paths (the daemon's downstream counter, the probe's progress)
 * read `received` and `wire_bytes` without the summary's walk of the window. */
static void test_received_accessors_agree_with_the_summary(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_stats();
    struct rp_rxsummary sum;
    assert_int_equal(rp_rxstats_received(s), 0);
    for (uint32_t i = 0; i < 50; i++)
        if (i % 7 != 3)
            send_pkt(s, 100, 0, i, 10.0);
    send_pkt(s, 100, 0, 20, 10.0);   /* a duplicate counts in neither */
    rp_rxstats_summary(s, 0, &sum);
    assert_int_equal(rp_rxstats_received(s), sum.received);
    assert_int_equal(rp_rxstats_wire_bytes(s), sum.wire_bytes);
    assert_int_equal(sum.received, 43);
    rp_rxstats_free(s);
}

/* ---- compact histograms against the exact ones they replaced --------------- */

/* The reference: the linear histograms rxstats had before the log-linear ones
 * (|IPDV| in 0.1 ms bins to 100 ms, 1 ms bins to 2 s, an overflow bin; transit in
 * 2 ms bins from 1 s below to 3.096 s above the first packet's), fed the same
 * IPDV and transit values, read the same way (nearest rank, upper edge, capped). */
#define REF_FINE_NS     100000
#define REF_FINE_BINS   1000u
#define REF_COARSE_NS   1000000
#define REF_HIST_BINS   (REF_FINE_BINS + 1900u + 1u)
#define REF_FINE_LIMIT  ((uint64_t)REF_FINE_BINS * REF_FINE_NS)
#define REF_LIMIT       (REF_FINE_LIMIT + 1900ull * REF_COARSE_NS)
#define REF_DELAY_NS    2000000
#define REF_DELAY_BINS  2048u
#define REF_DELAY_FLOOR (-1000000000LL)
#define CMP_PACKETS     3000u

struct ref_hist {
    uint32_t ipdv[REF_HIST_BINS];
    uint64_t ipdv_n, ipdv_max;
    uint32_t delay[REF_DELAY_BINS];
    uint64_t delay_n;
    int64_t  min, max;               /* transit above the first packet's, ns */
    uint64_t sorted_ipdv[CMP_PACKETS];
    int64_t  sorted_transit[CMP_PACKETS];
};

static void ref_ipdv(struct ref_hist *r, int64_t d)
{
    uint64_t mag = (uint64_t)(d < 0 ? -d : d);
    size_t bin = mag < REF_FINE_LIMIT ? mag / REF_FINE_NS
               : mag < REF_LIMIT ? REF_FINE_BINS + (mag - REF_FINE_LIMIT) / REF_COARSE_NS
               : REF_HIST_BINS - 1u;
    r->ipdv[bin]++;
    r->sorted_ipdv[r->ipdv_n++] = mag;
    if (mag > r->ipdv_max)
        r->ipdv_max = mag;
}

static void ref_transit(struct ref_hist *r, int64_t t)
{
    int64_t bin = (t - REF_DELAY_FLOOR) / REF_DELAY_NS;
    bin = bin < 0 ? 0 : bin >= (int64_t)REF_DELAY_BINS ? REF_DELAY_BINS - 1 : bin;
    r->delay[bin]++;
    r->sorted_transit[r->delay_n++] = t;
    r->min = t < r->min ? t : r->min;
    r->max = t > r->max ? t : r->max;
}

static uint64_t ref_rank(uint64_t n, unsigned pct)
{
    uint64_t rank = (n * pct + 99u) / 100u;
    return rank ? rank : 1;
}

static double ref_ipdv_ms(const struct ref_hist *r, unsigned pct)
{
    uint64_t cum = 0, rank = ref_rank(r->ipdv_n, pct);
    size_t bin;
    double edge, max = (double)r->ipdv_max;
    for (bin = 0; bin < REF_HIST_BINS; bin++)
        if ((cum += r->ipdv[bin]) >= rank)
            break;
    if (bin < REF_FINE_BINS)
        edge = (double)(bin + 1u) * REF_FINE_NS;
    else if (bin < REF_HIST_BINS - 1u)
        edge = (double)REF_FINE_LIMIT + (double)(bin - REF_FINE_BINS + 1u) * REF_COARSE_NS;
    else
        edge = max;
    return (edge < max ? edge : max) / MS;
}

static double ref_delay_ms(const struct ref_hist *r, unsigned pct)
{
    uint64_t cum = 0, rank = ref_rank(r->delay_n, pct);
    size_t bin;
    for (bin = 0; bin < REF_DELAY_BINS - 1u; bin++)
        if ((cum += r->delay[bin]) >= rank)
            break;
    double edge = (double)REF_DELAY_FLOOR + (double)(bin + 1u) * REF_DELAY_NS - (double)r->min;
    double top = (double)(r->max - r->min);
    return (edge < 0 ? 0 : edge < top ? edge : top) / MS;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Feed delay_ns[i] (one-way delay of packet i; lost when negative) to rxstats and
 * to the reference. In order, so IPDV is taken between consecutive packets. */
static void feed_both(const int64_t *delay_ns, size_t n, struct rp_rxsummary *sum, struct ref_hist *r)
{
    struct rp_rxstats *s = new_stats();
    int64_t first = -1, prev = -1;
    memset(r, 0, sizeof *r);
    for (size_t i = 0; i < n; i++) {
        if (delay_ns[i] < 0) {
            prev = -1;
            continue;
        }
        uint64_t arrival = T0_NS + (uint64_t)i * PERIOD_NS + (uint64_t)delay_ns[i];
        assert_int_equal(rp_rxstats_add(s, (uint16_t)(7 + i), (uint32_t)(i * TICKS), arrival, WIRE), RP_RX_IN_ORDER);
        if (first < 0)
            first = delay_ns[i];
        ref_transit(r, delay_ns[i] - first);
        if (prev >= 0)
            ref_ipdv(r, delay_ns[i] - prev);
        prev = delay_ns[i];
    }
    rp_rxstats_summary(s, 0, sum);
    rp_rxstats_free(s);
    qsort(r->sorted_ipdv, r->ipdv_n, sizeof r->sorted_ipdv[0], cmp_u64);
    qsort(r->sorted_transit, r->delay_n, sizeof r->sorted_transit[0], cmp_i64);
}

/* Identical where the value at the rank lies in the exact part (|IPDV| below
 * 51.2 ms; transit within 256 ms either side of the first packet's); beyond,
 * at least the true value and at most 1/32 of the value (IPDV) or 2 ms + 1/32 of the distance
 * from the first packet (delay) above it. The maxima are exact. */
static void assert_compact_matches(const struct rp_rxsummary *sum, const struct ref_hist *r, const char *what)
{
    static const unsigned ipdv_pct[3] = { 50, 95, 99 }, delay_pct[2] = { 50, 95 };
    const double ipdv_got[3] = { sum->ipdv_p50_ms, sum->ipdv_p95_ms, sum->ipdv_p99_ms };
    const double delay_got[2] = { sum->delay_p50_ms, sum->delay_p95_ms };
    unsigned exact = 0;
    if (sum->ipdv_max_ms != (double)r->ipdv_max / MS || sum->delay_max_ms != (double)(r->max - r->min) / MS)
        fail_msg("%s: maxima differ", what);
    for (unsigned k = 0; k < 3; k++) {
        double truth = (double)r->sorted_ipdv[ref_rank(r->ipdv_n, ipdv_pct[k]) - 1u] / MS;
        double ref = ref_ipdv_ms(r, ipdv_pct[k]), got = ipdv_got[k];
        if (truth < 51.2 || truth >= 2000.0)
            exact++;
        if ((truth < 51.2 || truth >= 2000.0) ? got != ref : got < truth || got > truth * (1 + 1.0 / 32) + 1e-9)
            fail_msg("%s: IPDV p%u %.6f ms, exact histogram %.6f, true %.6f", what, ipdv_pct[k], got, ref, truth);
    }
    for (unsigned k = 0; k < 2; k++) {
        int64_t t = r->sorted_transit[ref_rank(r->delay_n, delay_pct[k]) - 1u];
        double truth = (double)(t - r->min) / MS, ref = ref_delay_ms(r, delay_pct[k]), got = delay_got[k];
        bool in_exact = t >= -256000000 && t < 256000000;
        exact += in_exact;
        if (in_exact ? got != ref : got < truth || got > truth + 2.0 + fabs((double)t / MS) / 32)
            fail_msg("%s: delay p%u %.6f ms, exact histogram %.6f, true %.6f", what, delay_pct[k], got, ref, truth);
    }
    print_message("%-44s IPDV p50/p95/p99 %.3f/%.3f/%.3f (exact %.3f/%.3f/%.3f), delay p50/p95 %.3f/%.3f (%.3f/%.3f), %u of 5 in the exact part\n",
                  what, sum->ipdv_p50_ms, sum->ipdv_p95_ms, sum->ipdv_p99_ms, ref_ipdv_ms(r, 50), ref_ipdv_ms(r, 95),
                  ref_ipdv_ms(r, 99), sum->delay_p50_ms, sum->delay_p95_ms, ref_delay_ms(r, 50), ref_delay_ms(r, 95), exact);
}

/* Delay profiles (ns per packet, -1 = lost): what the net tests and real paths make. */
enum profile { P_JITTER40, P_STEPS, P_BURSTS, P_JITTER400, P_BLOAT, P_SLOW_FIRST, P_SLOWER_FIRST, P_COUNT };

static int64_t profile_delay(enum profile p, size_t i, uint64_t *rng)
{
    uint64_t r = splitmix64(rng);
    int64_t base = 10000000;   /* 10 ms */
    if (p != P_BURSTS && r % 100u == 0)
        return -1;   /* 1 % loss: IPDV skips the pair */
    switch (p) {
    case P_JITTER40:   return base + (int64_t)(r % 40000001u);
    case P_STEPS:      return base + (i >= 1000 ? 50000000 : 0) + (i >= 2000 ? 70000000 : 0) + (int64_t)(r % 3000001u);
    case P_BURSTS:     /* every 5 s a 300 ms stall released at once */
        return base + (int64_t)(r % 2000001u) + (i % 250u >= 100u && i % 250u < 115u ? 300000000 - (int64_t)(i % 250u - 100u) * 20000000 : 0);
    case P_JITTER400:  return base + (int64_t)(r % 400000001u);
    case P_BLOAT:      /* a queue filling to 1.5 s, then draining */
        return base + (int64_t)(i < 1500 ? i : 3000 - i) * 1000000 + (int64_t)(r % 5000001u);
    case P_SLOW_FIRST: return base + (i == 0 ? 150000000 : (int64_t)(r % 20000001u));
    case P_SLOWER_FIRST: return base + (i == 0 ? 400000000 : (int64_t)(r % 20000001u));
    case P_COUNT:      break;
    }
    return base;
}

static void test_compact_histograms_match_the_exact_ones(void **state)
{
    (void)state;
    static const char *const names[P_COUNT] = {
        "jitter 0-40 ms, 1 % loss", "steps +50 ms, +70 ms", "300 ms stalls every 5 s",
        "jitter 0-400 ms", "a queue rising to 1.5 s and draining", "first packet 150 ms slow", "first packet 400 ms slow",
    };
    static int64_t delay[CMP_PACKETS];
    static struct ref_hist ref;
    struct rp_rxsummary sum;
    char what[80];
    for (unsigned p = 0; p < P_COUNT; p++)
        for (uint64_t seed = 1; seed <= 5; seed++) {
            uint64_t rng = seed * 7919u + p;
            for (size_t i = 0; i < CMP_PACKETS; i++)
                delay[i] = profile_delay((enum profile)p, i, &rng);
            delay[0] = delay[0] < 0 ? 10000000 : delay[0];
            feed_both(delay, CMP_PACKETS, &sum, &ref);
            snprintf(what, sizeof what, "%s (seed %u)", names[p], (unsigned)seed);
            assert_compact_matches(&sum, &ref, what);
        }
}

/* The exact part covers what the jitter 0-40 ms of the network tests makes. */
static void test_compact_histograms_are_exact_for_40_ms_of_jitter(void **state)
{
    (void)state;
    static int64_t delay[CMP_PACKETS];
    static struct ref_hist ref;
    struct rp_rxsummary sum;
    for (uint64_t seed = 100; seed < 140; seed++) {
        uint64_t rng = seed;
        for (size_t i = 0; i < CMP_PACKETS; i++)
            delay[i] = profile_delay(P_JITTER40, i, &rng);
        delay[0] = 10000000;
        feed_both(delay, CMP_PACKETS, &sum, &ref);
        assert_true(sum.ipdv_p50_ms == ref_ipdv_ms(&ref, 50) && sum.ipdv_p95_ms == ref_ipdv_ms(&ref, 95) &&
                    sum.ipdv_p99_ms == ref_ipdv_ms(&ref, 99));
        assert_true(sum.delay_p50_ms == ref_delay_ms(&ref, 50) && sum.delay_p95_ms == ref_delay_ms(&ref, 95));
        assert_true(sum.ipdv_p99_ms > 30.0);   /* the exact part was reached */
    }
}

/* ---- per-second series ------------------------------------------------------ */

static struct rp_rxstats *new_series_stats(unsigned seconds)
{
    struct rp_rxstats *s = new_stats();
    assert_int_equal(rp_rxstats_series_enable(s, 20, seconds), 0);
    return s;
}

/* The seconds' packets and lost sum to the summary's received and lost. */
static void assert_seconds_sum_to_summary(const struct rp_second *v, size_t n, const struct rp_rxsummary *sum)
{
    uint64_t packets = 0, lost = 0;
    for (size_t i = 0; i < n; i++) {
        packets += v[i].packets;
        lost += v[i].lost;
    }
    assert_int_equal(packets, sum->received);
    assert_int_equal(lost, sum->lost);
}

static void test_losses_land_in_the_second_they_were_sent(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_series_stats(10);
    struct rp_rxsummary sum;
    struct rp_second *v;
    size_t n;

    /* 5 s at 50 packets/s from seq 100; lost: 0..1 (leading, second 0),
     * 60..64 (second 1), 149..150 (one each side of the 2/3 boundary), 249 (trailing). */
    rp_rxstats_set_first_seq(s, 100);
    for (uint32_t i = 2; i < 249; i++)
        if (!(i >= 60 && i <= 64) && i != 149 && i != 150)
            send_pkt(s, 100, 0, i, 10.0);
    rp_rxstats_summary(s, 250, &sum);
    assert_int_equal(rp_rxstats_seconds(s, 250, &v, &n), 0);
    assert_int_equal(n, 5);
    const uint32_t lost[5] = { 2, 5, 1, 1, 1 };
    for (size_t t = 0; t < n; t++) {
        assert_int_equal(v[t].lost, lost[t]);
        assert_int_equal(v[t].packets, 50 - lost[t]);
    }
    assert_seconds_sum_to_summary(v, n, &sum);
    free(v);
    rp_rxstats_free(s);
}

static void test_reordered_packet_counts_in_its_send_second(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_series_stats(10);
    struct rp_rxsummary sum;
    struct rp_second *v;
    size_t n;

    /* Packet 49 (second 0) overtaken by 50..55 (second 1): it counts in second 0,
     * and no second has a loss. */
    rp_rxstats_set_first_seq(s, 7);
    for (uint32_t i = 0; i < 100; i++) {
        if (i == 49)
            continue;
        send_pkt(s, 7, 0, i, 10.0);
        if (i == 55)
            assert_int_equal(send_pkt(s, 7, 0, 49, 130.0), RP_RX_REORDERED);
    }
    send_pkt(s, 7, 0, 20, 10.0); /* a duplicate counts nowhere */
    rp_rxstats_summary(s, 100, &sum);
    assert_int_equal(rp_rxstats_seconds(s, 100, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].packets, 50);
    assert_int_equal(v[1].packets, 50);
    assert_int_equal(v[0].lost + v[1].lost, 0);
    /* 49 was 120 ms behind the others: late for the 40 ms fixed buffer, in second 0. */
    assert_int_equal(v[0].late, 1);
    assert_int_equal(v[1].late, 0);
    assert_int_equal(sum.late, 1);
    assert_seconds_sum_to_summary(v, n, &sum);
    free(v);
    rp_rxstats_free(s);
}

static void test_empty_seconds_are_all_lost_and_have_no_delay(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_series_stats(10);
    struct rp_rxsummary sum;
    struct rp_second *v;
    size_t n;

    /* Seconds 1 and 2 (packets 50..149) never arrive; second 0 alternates 10 and
     * 12 ms (some jitter), second 3 is 10 ms slower than the fastest. */
    rp_rxstats_set_first_seq(s, 0);
    for (uint32_t i = 0; i < 200; i++)
        if (i < 50 || i >= 150)
            send_pkt(s, 0, 0, i, i >= 150 ? 20.0 : i % 2 ? 12.0 : 10.0);
    rp_rxstats_summary(s, 200, &sum);
    assert_int_equal(rp_rxstats_seconds(s, 200, &v, &n), 0);
    assert_int_equal(n, 4);
    for (size_t t = 1; t <= 2; t++) {
        assert_int_equal(v[t].packets, 0);
        assert_int_equal(v[t].lost, 50);
        assert_true(isnan(v[t].delay_ms));
        assert_near(v[t].jitter_ms, v[0].jitter_ms, 1e-6); /* J does not move without packets */
    }
    assert_true(v[0].jitter_ms > 0.5);
    assert_near(v[0].delay_ms, 1.0, 1e-3);
    assert_near(v[3].delay_ms, 10.0, 1e-3);
    assert_near(v[3].jitter_ms, sum.jitter_ms, 1e-4); /* the last second ends where the stream does */
    assert_seconds_sum_to_summary(v, n, &sum);
    free(v);
    rp_rxstats_free(s);
}

static void test_series_is_cut_at_its_capacity_and_absent_unless_asked(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_series_stats(2), *plain = new_stats();
    struct rp_second *v;
    size_t n;

    for (uint32_t i = 0; i < 250; i++) {
        send_pkt(s, 0, 0, i, 10.0);
        send_pkt(plain, 0, 0, i, 10.0);
    }
    assert_int_equal(rp_rxstats_seconds(s, 250, &v, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(v[1].packets, 50);
    free(v);
    assert_int_equal(rp_rxstats_series_enable(plain, 20, 10), -1); /* too late: the stream began */
    assert_false(rp_rxstats_has_series(plain));
    assert_int_equal(rp_rxstats_seconds(plain, 250, &v, &n), 0);
    assert_null(v);
    assert_int_equal(n, 0);
    rp_rxstats_free(s);
    rp_rxstats_free(plain);
}

static void test_nothing_received_gives_seconds_of_loss(void **state)
{
    (void)state;
    struct rp_rxstats *s = new_series_stats(10);
    struct rp_second *v;
    size_t n;

    assert_int_equal(rp_rxstats_seconds(s, 0, &v, &n), 0);
    assert_int_equal(n, 0);
    assert_int_equal(rp_rxstats_seconds(s, 120, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].lost + v[1].lost + v[2].lost, 120);
    assert_int_equal(v[2].lost, 20);
    free(v);
    rp_rxstats_free(s);
}

static void test_packet_time_that_does_not_divide_a_second(void **state)
{
    (void)state;
    /* 30 ms: packets 0..33 are sent in second 0 (0..990 ms), 34..66 in second 1. */
    struct rp_series *s = rp_series_new(30, 5);
    struct rp_second *v;
    size_t n;
    assert_non_null(s);
    assert_int_equal(rp_series_second_of(s, 33), 0);
    assert_int_equal(rp_series_second_of(s, 34), 1);
    assert_int_equal(rp_series_seconds(s, 0, 100, 0, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].lost, 34);
    assert_int_equal(v[1].lost, 33);
    assert_int_equal(v[2].lost, 33);
    free(v);
    rp_series_free(s);
}

/* ---- send-time stamps: the sender's lag apart from the network's queue ------ */

/* 10 s of packets (unless `packets` says otherwise); from packet lag_from on,
 * the sender sends each packet lag_ms after its media time (it fell behind its
 * own clock and never caught up, as a starved audio capture does); packets
 * queue_from..queue_to-1 the network holds queue_ms longer. stamped: the
 * sender's abs-send-time stamps given, first_stamped packets on. gap_after:
 * the sender pauses gap_s seconds after that packet (an outage: media and
 * send time jump alike). */
struct lag_run {
    double lag_ms, queue_ms, gap_s;
    uint32_t lag_from, queue_from, queue_to, gap_after;
    bool stamped;
    uint32_t first_stamped, packets;
};

static void run_lagging_stream(const struct lag_run *run, struct rp_rxsummary *sum)
{
    struct rp_rxstats *s = new_stats();
    uint64_t gap_ns = 0;
    for (uint32_t i = 0; i < run->packets; i++) {
        if (run->gap_after && i == run->gap_after + 1)
            gap_ns = (uint64_t)llround(run->gap_s * 1e9);
        double lag = i >= run->lag_from ? run->lag_ms : 0;
        double queue = i >= run->queue_from && i < run->queue_to ? run->queue_ms : 0;
        uint64_t media = T0_NS + gap_ns + (uint64_t)i * PERIOD_NS;
        uint64_t sent = media + (uint64_t)llround(lag * MS);
        uint64_t arrival = sent + (uint64_t)llround((5.0 + queue) * MS);
        uint32_t ts = 4000u + i * TICKS + (uint32_t)(gap_ns / 125000u);
        enum rp_rx_class c = rp_rxstats_add(s, (uint16_t)(100 + i), ts, arrival, WIRE);
        assert_int_equal(c, RP_RX_IN_ORDER);
        /* the sender's clock has its own origin */
        if (run->stamped && i >= run->first_stamped)
            rp_rxstats_add_send_stamp(s, arrival, rp_abs_send_time_from_ns(sent - T0_NS + 987654321u));
    }
    rp_rxstats_summary(s, 0, sum);
    rp_rxstats_free(s);
}

static void test_a_lagging_sender_is_no_queue_when_it_stamps_send_times(void **state)
{
    (void)state;
    struct rp_rxsummary sum;
    run_lagging_stream(&(struct lag_run){ .lag_ms = 60, .lag_from = 150, .stamped = true, .packets = 500 }, &sum);
    assert_true(sum.has_sender_lag);
    assert_near(sum.delay_rise_ms, 0, 0.5);
    assert_near(sum.sender_lag_ms, 60, 0.5);
    /* what the receiver's buffer sees stays the media time's: the late step */
    assert_near(sum.delay_max_ms, 60, 2.5);
    assert_int_equal(sum.late, 500 - 150);

    /* the same sender without stamps: its lag reads as a queue */
    run_lagging_stream(&(struct lag_run){ .lag_ms = 60, .lag_from = 150, .packets = 500 }, &sum);
    assert_false(sum.has_sender_lag);
    assert_near(sum.delay_rise_ms, 60, 0.5);
    assert_near(sum.sender_lag_ms, 0, 0);
}

static void test_a_queue_rises_with_or_without_send_times(void **state)
{
    (void)state;
    struct rp_rxsummary sum;
    run_lagging_stream(&(struct lag_run){ .queue_ms = 60, .queue_from = 150, .queue_to = 500, .stamped = true,
                                          .packets = 500 },
                       &sum);
    assert_true(sum.has_sender_lag);
    assert_near(sum.delay_rise_ms, 60, 0.5);
    assert_near(sum.sender_lag_ms, 0, 0.5);
    /* both at once: each where it belongs */
    run_lagging_stream(&(struct lag_run){ .lag_ms = 40, .lag_from = 150, .queue_ms = 50, .queue_from = 150,
                                          .queue_to = 500, .stamped = true, .packets = 500 },
                       &sum);
    assert_near(sum.delay_rise_ms, 50, 0.5);
    assert_near(sum.sender_lag_ms, 40, 0.5);
    /* one after the other: a 50 ms queue in seconds 3-5 that drains, then a
     * 40 ms lag from second 7 on; neither hides the other */
    run_lagging_stream(&(struct lag_run){ .lag_ms = 40, .lag_from = 350, .queue_ms = 50, .queue_from = 150,
                                          .queue_to = 250, .stamped = true, .packets = 500 },
                       &sum);
    assert_near(sum.delay_rise_ms, 50, 0.5);
    assert_near(sum.sender_lag_ms, 40, 0.5);
}

/* The stamps wrap every 64 s: an outage longer than half of that is a step
 * forward (by the arrival gap), not back. */
static void test_send_stamps_unwrap_across_long_outages(void **state)
{
    (void)state;
    static const double gaps_s[] = { 10, 40, 70, 150 };
    for (size_t g = 0; g < sizeof gaps_s / sizeof gaps_s[0]; g++) {
        struct rp_rxsummary sum;
        run_lagging_stream(&(struct lag_run){ .gap_s = gaps_s[g], .gap_after = 199, .lag_ms = 30, .lag_from = 300,
                                              .stamped = true, .packets = 500 },
                           &sum);
        assert_true(sum.has_sender_lag);
        assert_near(sum.delay_rise_ms, 0, 0.5);
        assert_near(sum.sender_lag_ms, 30, 0.5);
    }
}

static void test_stamps_shorter_than_a_window_say_nothing(void **state)
{
    (void)state;
    struct rp_rxsummary sum;
    /* stamps on the last 1.5 s only: no full window of them */
    run_lagging_stream(&(struct lag_run){ .lag_ms = 60, .lag_from = 150, .stamped = true, .first_stamped = 425,
                                          .packets = 500 },
                       &sum);
    assert_false(sum.has_sender_lag);
    assert_near(sum.delay_rise_ms, 60, 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_delay_gives_zero_jitter),
        cmocka_unit_test(test_an_under_reporting_sender_is_no_negative_loss),
        cmocka_unit_test(test_alternating_offsets_follow_the_rfc3550_recursion_to_twice_the_offset),
        cmocka_unit_test(test_short_sequence_matches_hand_computed_jitter),
        cmocka_unit_test(test_jitter_spans_a_loss_but_ipdv_skips_it),
        cmocka_unit_test(test_rtp_timestamp_wrap_does_not_disturb_jitter),
        cmocka_unit_test(test_reordered_packet_is_measured_against_the_latest_in_order_one),
        cmocka_unit_test(test_sequence_wrap_with_loss_duplicate_and_reorder_is_counted),
        cmocka_unit_test(test_sequence_keeps_extending_over_many_wraps),
        cmocka_unit_test(test_leading_and_trailing_loss_count_when_first_seq_and_sent_are_known),
        cmocka_unit_test(test_leading_loss_across_the_sequence_wrap),
        cmocka_unit_test(test_leading_gap_longer_than_the_window_is_one_burst),
        cmocka_unit_test(test_without_first_seq_the_oldest_packet_starts_the_stream),
        cmocka_unit_test(test_packet_older_than_the_window_is_reordered_not_duplicate),
        cmocka_unit_test(test_nothing_received_loses_everything_sent),
        cmocka_unit_test(test_zero_clock_rate_is_refused),
        cmocka_unit_test(test_runs_of_five_every_fifty_give_burst_ratio_4_5),
        cmocka_unit_test(test_random_loss_gives_burst_ratio_near_1),
        cmocka_unit_test(test_packet_delayed_beyond_the_jitter_buffer_is_late),
        cmocka_unit_test(test_lateness_is_measured_from_the_fastest_packet_so_far),
        cmocka_unit_test(test_ipdv_percentiles_on_a_constructed_delay_pattern),
        cmocka_unit_test(test_received_accessors_agree_with_the_summary),
        cmocka_unit_test(test_compact_histograms_match_the_exact_ones),
        cmocka_unit_test(test_compact_histograms_are_exact_for_40_ms_of_jitter),
        cmocka_unit_test(test_losses_land_in_the_second_they_were_sent),
        cmocka_unit_test(test_reordered_packet_counts_in_its_send_second),
        cmocka_unit_test(test_empty_seconds_are_all_lost_and_have_no_delay),
        cmocka_unit_test(test_series_is_cut_at_its_capacity_and_absent_unless_asked),
        cmocka_unit_test(test_nothing_received_gives_seconds_of_loss),
        cmocka_unit_test(test_packet_time_that_does_not_divide_a_second),
        cmocka_unit_test(test_a_lagging_sender_is_no_queue_when_it_stamps_send_times),
        cmocka_unit_test(test_a_queue_rises_with_or_without_send_times),
        cmocka_unit_test(test_stamps_shorter_than_a_window_say_nothing),
        cmocka_unit_test(test_send_stamps_unwrap_across_long_outages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
