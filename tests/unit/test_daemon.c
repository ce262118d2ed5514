/* The daemon's event loop: the media clock is not held back by a burst of
 * default-priority work (TLS handshakes on the control API), which libevent
 * would otherwise run to the end before it looks at the timers again. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "daemon.h"
#include "reflector.h"
#include "timeutil.h"

#define BURST 100

struct burst {
    unsigned ran;             /* default-priority callbacks done so far */
    unsigned ran_before_clock; /* ... when the media clock fired */
    bool clock_fired;
};

static void busy_1ms(evutil_socket_t fd, short what, void *arg)
{
    struct burst *b = arg;
    (void)fd;
    (void)what;
    uint64_t until = rp_monotonic_ns() + 1000000u;
    while (rp_monotonic_ns() < until)
        ;
    b->ran++;
}

static void media_clock(evutil_socket_t fd, short what, void *arg)
{
    struct burst *b = arg;
    (void)fd;
    (void)what;
    b->clock_fired = true;
    b->ran_before_clock = b->ran;
}

static void test_media_clock_fires_in_the_middle_of_a_burst_of_control_work(void **state)
{
    (void)state;
    struct event_base *base = rp_daemon_event_base();
    assert_non_null(base);
    struct burst b = { 0 };
    struct event *work[BURST];
    for (unsigned i = 0; i < BURST; i++) {
        work[i] = event_new(base, -1, 0, busy_1ms, &b);
        assert_non_null(work[i]);
        event_active(work[i], 0, 0);
    }
    struct event *clock = evtimer_new(base, media_clock, &b);
    assert_non_null(clock);
    assert_int_equal(event_priority_set(clock, RP_PRIO_MEDIA_CLOCK), 0);
    struct timeval in_2ms = { 0, 2000 };
    evtimer_add(clock, &in_2ms);
    event_base_dispatch(base);
    assert_true(b.clock_fired);
    assert_int_equal(b.ran, BURST);
    /* Due after ~2 callbacks, run after a slice (5 ms): far from the end of
     * the burst (100 ms of work), which is where it ran before the slice. */
    assert_true(b.ran_before_clock < BURST / 2);
    event_free(clock);
    for (unsigned i = 0; i < BURST; i++)
        event_free(work[i]);
    event_base_free(base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_media_clock_fires_in_the_middle_of_a_burst_of_control_work),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
