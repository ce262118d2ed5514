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
#include <cmocka.h>

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
    /* Bins are 0.1 ms wide below 100 ms and 1 ms wide up to 2 s. */
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_constant_delay_gives_zero_jitter),
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
