/* The per-source token bucket (rp_ratelimit): a burst, refill at the rate up
 * to the burst, one bucket per IP (not per port), and a fixed table in which
 * the least recently seen source gives way. Time is passed in, so every step
 * here is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "netaddr.h"
#include "ratelimit.h"
#include "timeutil.h"

#define MS NS_PER_MS
#define T0 (1000ull * NS_PER_S) /* an arbitrary monotonic origin */

static bool allow(struct rp_ratelimit *rl, const char *src, uint64_t now)
{
    struct sockaddr_storage ss;
    socklen_t len;
    assert_int_equal(rp_addr_parse(src, 0, &ss, &len), 0);
    return rp_ratelimit_allow(rl, (struct sockaddr *)&ss, now);
}

/* How many requests from src pass at one instant, trying up to `tries`. */
static unsigned passes(struct rp_ratelimit *rl, const char *src, uint64_t now, unsigned tries)
{
    unsigned n = 0;
    for (unsigned i = 0; i < tries; i++)
        n += allow(rl, src, now);
    return n;
}

static struct rp_ratelimit *limiter(unsigned nsources, double rate, double burst)
{
    struct rp_ratelimit *rl = rp_ratelimit_new(nsources, rate, burst);
    assert_non_null(rl);
    return rl;
}

static void test_a_new_source_gets_exactly_the_burst(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 10, 5);
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0, 100), 5);
    assert_false(allow(rl, "192.0.2.1:1000", T0));
    rp_ratelimit_free(rl);
}

static void test_tokens_come_back_at_the_rate(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 10, 5); /* one token per 100 ms */
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0, 5), 5);
    assert_false(allow(rl, "192.0.2.1:1000", T0 + 99 * MS));
    assert_true(allow(rl, "192.0.2.1:1000", T0 + 100 * MS));
    assert_false(allow(rl, "192.0.2.1:1000", T0 + 100 * MS));
    /* Half a token, then the other half: fractions are kept. */
    assert_false(allow(rl, "192.0.2.1:1000", T0 + 150 * MS));
    assert_true(allow(rl, "192.0.2.1:1000", T0 + 200 * MS));
    assert_false(allow(rl, "192.0.2.1:1000", T0 + 200 * MS));
    /* 300 ms: three tokens. */
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0 + 500 * MS, 100), 3);
    rp_ratelimit_free(rl);
}

/* A long quiet spell refills to the burst, never beyond. */
static void test_refill_stops_at_the_burst(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 10, 5);
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0, 5), 5);
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0 + 3600 * NS_PER_S, 100), 5);
    assert_int_equal(passes(rl, "192.0.2.1:1000", UINT64_MAX, 100), 5);
    rp_ratelimit_free(rl);
}

/* Over a long run the rate holds: 10/s for 10 s, asked 1000 times a second. */
static void test_sustained_rate_is_the_configured_rate(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 10, 5);
    unsigned n = 0;
    for (unsigned ms = 0; ms < 10000; ms++)
        n += allow(rl, "192.0.2.1:1000", T0 + ms * MS);
    /* The burst, then one per 100 ms from the start: 5 + 99 (the 100th
     * token arrives at 10000 ms, just outside). */
    assert_int_equal(n, 5 + 99);
    rp_ratelimit_free(rl);
}

/* A clock that seems to go back gives no tokens. */
static void test_an_earlier_time_adds_nothing(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 10, 5);
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0 + NS_PER_S, 5), 5);
    assert_false(allow(rl, "192.0.2.1:1000", T0));
    assert_false(allow(rl, "192.0.2.1:1000", 0));
    rp_ratelimit_free(rl);
}

/* The limit is per address: another port of the same IP shares the bucket. */
static void test_ports_of_one_address_share_a_bucket(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 1, 4);
    assert_true(allow(rl, "192.0.2.1:1000", T0));
    assert_true(allow(rl, "192.0.2.1:1001", T0));
    assert_true(allow(rl, "192.0.2.1:65535", T0));
    assert_true(allow(rl, "192.0.2.1:2", T0));
    assert_false(allow(rl, "192.0.2.1:3", T0));
    assert_true(allow(rl, "[2001:db8::1]:1000", T0));
    assert_int_equal(passes(rl, "[2001:db8::1]:2000", T0, 10), 3);
    rp_ratelimit_free(rl);
}

/* One source spending its tokens costs no other source any. */
static void test_distinct_addresses_have_their_own_buckets(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(16, 1, 3);
    assert_int_equal(passes(rl, "192.0.2.1:1000", T0, 10), 3);
    assert_int_equal(passes(rl, "192.0.2.2:1000", T0, 10), 3);
    assert_int_equal(passes(rl, "[2001:db8::1]:1000", T0, 10), 3);
    assert_int_equal(passes(rl, "[2001:db8::2]:1000", T0, 10), 3);
    /* The v4-mapped form is another source, as the socket reports it. */
    assert_int_equal(passes(rl, "[::ffff:192.0.2.1]:1000", T0, 10), 3);
    assert_false(allow(rl, "192.0.2.1:1000", T0));
    assert_false(allow(rl, "[2001:db8::1]:1000", T0));
    rp_ratelimit_free(rl);
}

/* A full table recycles the least recently seen source; the ones seen since
 * keep their state (an exhausted bucket stays exhausted). */
static void test_full_table_recycles_the_least_recently_seen_source(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(2, 1, 2);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0, 5), 2);      /* A: exhausted */
    assert_int_equal(passes(rl, "192.0.2.2:1", T0 + 1, 5), 2);  /* B: exhausted */
    assert_false(allow(rl, "192.0.2.1:1", T0 + 2));              /* A seen after B */
    assert_int_equal(passes(rl, "192.0.2.3:1", T0 + 3, 1), 1);  /* C takes B's slot */
    assert_false(allow(rl, "192.0.2.1:1", T0 + 4));              /* A kept its bucket */
    /* B comes back as new, with a full burst, and takes C's slot (A at +4 is newer). */
    assert_int_equal(passes(rl, "192.0.2.2:1", T0 + 5, 5), 2);
    assert_false(allow(rl, "192.0.2.1:1", T0 + 6));
    /* C was recycled: it starts over with a full burst too. */
    assert_int_equal(passes(rl, "192.0.2.3:1", T0 + 7, 5), 2);
    rp_ratelimit_free(rl);
}

/* Refused requests count as being seen: a source hammering while limited is
 * the most recent one and keeps its (empty) bucket. */
static void test_a_refused_source_is_still_recently_seen(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(2, 1, 1);
    assert_true(allow(rl, "192.0.2.1:1", T0));
    assert_true(allow(rl, "192.0.2.2:1", T0 + 1));
    assert_false(allow(rl, "192.0.2.1:1", T0 + 2)); /* refused, but seen */
    assert_true(allow(rl, "192.0.2.3:1", T0 + 3));  /* evicts 192.0.2.2 */
    assert_false(allow(rl, "192.0.2.1:1", T0 + 4));
    rp_ratelimit_free(rl);
}

/* A table of one still limits, and a stream of new sources each get the burst. */
static void test_a_table_of_one_source(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(1, 1, 2);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0, 5), 2);
    assert_int_equal(passes(rl, "192.0.2.2:1", T0, 5), 2);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0, 5), 2);
    rp_ratelimit_free(rl);
}

/* Many more sources than slots (a spoofing flood) stay within the table and
 * each of them is limited to its burst while it holds a slot. */
static void test_a_flood_of_sources_stays_in_the_table(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(64, 1, 3);
    char src[64];
    for (unsigned i = 0; i < 10000; i++) {
        snprintf(src, sizeof src, "[2001:db8::%x]:%u", i, 1 + i % 65535);
        assert_int_equal(passes(rl, src, T0 + i, 10), 3);
    }
    rp_ratelimit_free(rl);
}

static void test_burst_below_one_is_one_and_rate_zero_never_refills(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(4, 0, 0);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0, 5), 1);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0 + 3600 * NS_PER_S, 5), 0);
    rp_ratelimit_set(rl, 0, -5);
    assert_int_equal(passes(rl, "192.0.2.2:1", T0, 5), 1);
    rp_ratelimit_free(rl);
}

/* A reload's new rate and burst apply to buckets that already exist: a lower
 * burst caps what a source has saved, a higher rate refills faster. */
static void test_set_applies_to_existing_buckets(void **state)
{
    (void)state;
    struct rp_ratelimit *rl = limiter(4, 1, 10);
    assert_true(allow(rl, "192.0.2.1:1", T0)); /* 9 left */
    rp_ratelimit_set(rl, 1, 3);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0, 20), 3);
    rp_ratelimit_set(rl, 100, 3);
    assert_int_equal(passes(rl, "192.0.2.1:1", T0 + 20 * MS, 20), 2);
    /* New sources start with the new burst. */
    assert_int_equal(passes(rl, "192.0.2.2:1", T0, 20), 3);
    rp_ratelimit_free(rl);
}

static void test_free_accepts_null(void **state)
{
    (void)state;
    rp_ratelimit_free(NULL);
}

/* A table of no slot is refused, not indexed out of bounds. */
static void test_a_table_of_no_slot_is_refused(void **state)
{
    (void)state;
    assert_null(rp_ratelimit_new(0, 10, 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_new_source_gets_exactly_the_burst),
        cmocka_unit_test(test_a_table_of_no_slot_is_refused),
        cmocka_unit_test(test_tokens_come_back_at_the_rate),
        cmocka_unit_test(test_refill_stops_at_the_burst),
        cmocka_unit_test(test_sustained_rate_is_the_configured_rate),
        cmocka_unit_test(test_an_earlier_time_adds_nothing),
        cmocka_unit_test(test_ports_of_one_address_share_a_bucket),
        cmocka_unit_test(test_distinct_addresses_have_their_own_buckets),
        cmocka_unit_test(test_full_table_recycles_the_least_recently_seen_source),
        cmocka_unit_test(test_a_refused_source_is_still_recently_seen),
        cmocka_unit_test(test_a_table_of_one_source),
        cmocka_unit_test(test_a_flood_of_sources_stays_in_the_table),
        cmocka_unit_test(test_burst_below_one_is_one_and_rate_zero_never_refills),
        cmocka_unit_test(test_set_applies_to_existing_buckets),
        cmocka_unit_test(test_free_accepts_null),
    };
    return cmocka_run_group_tests_name("ratelimit", tests, NULL, NULL);
}
