/* The reflector's media clock: a heap of the sending sessions. Sessions are
 * announced in random order, stopped and destroyed from the middle while the
 * loop runs; after every step the heap must be consistent, every running
 * session must keep sending, and a stopped or destroyed one must not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "daemon.h"
#include "netaddr.h"
#include "reflector.h"
#include "timeutil.h"
#include "udp.h"

#define NSESS 40
#define WANT 5 /* packets every running session must deliver */

struct world {
    struct event_base *base;
    struct rp_reflector *r;
    struct rp_session *s[NSESS];
    uint16_t port[NSESS];
    unsigned got[NSESS];
    enum { RUNNING, STOPPED, GONE } state[NSESS];
    int sink;
    struct sockaddr_storage sink_addr;
};

static void drain_sink(struct world *w)
{
    uint8_t buf[2048];
    struct sockaddr_storage from;
    for (;;) {
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(w->sink, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
        if (n < 0)
            return;
        for (unsigned i = 0; i < NSESS; i++)
            if (rp_addr_port((struct sockaddr *)&from) == w->port[i])
                w->got[i]++;
    }
}

static void setup_world(struct world *w)
{
    memset(w, 0, sizeof *w);
    static struct rp_config cfg;
    rp_config_defaults(&cfg);
    snprintf(cfg.media_bind, sizeof cfg.media_bind, "127.0.0.1");
    cfg.port_min = 38000;
    cfg.port_max = 38999;
    cfg.max_sessions = NSESS;
    w->base = rp_daemon_event_base();
    assert_non_null(w->base);
    w->r = rp_reflector_new(w->base, &cfg, NULL);
    assert_non_null(w->r);
    socklen_t len;
    assert_int_equal(rp_addr_from_ip("127.0.0.1", 0, &w->sink_addr, &len), 0);
    w->sink = rp_udp_open((struct sockaddr *)&w->sink_addr, len, -1);
    assert_true(w->sink >= 0);
    len = sizeof w->sink_addr;
    assert_int_equal(getsockname(w->sink, (struct sockaddr *)&w->sink_addr, &len), 0);
    struct sockaddr_storage client;
    assert_int_equal(rp_addr_from_ip("127.0.0.1", 4000, &client, &len), 0);
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000,
                                   .duration_s = 30, .jitter_buffer_ms = 40 };
    for (unsigned i = 0; i < NSESS; i++) {
        int status;
        char err[160];
        w->s[i] = rp_reflector_create(w->r, &p, (struct sockaddr *)&client, &status, err, sizeof err);
        if (!w->s[i])
            fail_msg("session %u: %s", i, err);
        w->port[i] = rp_session_port(w->s[i]);
        assert_true(rp_reflector_heap_ok(w->r)); /* created, not sending: not queued */
    }
}

/* Runs the loop until every running session delivered WANT more packets
 * than in `base`; guarded by a number of passes, not by time. */
static void run_until_each_sent(struct world *w, const unsigned base[NSESS])
{
    for (unsigned pass = 0; pass < 20000; pass++) {
        event_base_loop(w->base, EVLOOP_ONCE);
        assert_true(rp_reflector_heap_ok(w->r));
        drain_sink(w);
        bool all = true;
        for (unsigned i = 0; i < NSESS; i++)
            all = all && (w->state[i] != RUNNING || w->got[i] >= base[i] + WANT);
        if (all)
            return;
    }
    fail_msg("some running session stopped sending");
}

static void test_heap_keeps_every_stream_going(void **state)
{
    (void)state;
    struct world w;
    setup_world(&w);
    unsigned order[NSESS];
    for (unsigned i = 0; i < NSESS; i++)
        order[i] = i;
    srand(13);
    for (unsigned i = NSESS - 1; i > 0; i--) {
        unsigned j = (unsigned)rand() % (i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    for (unsigned k = 0; k < NSESS; k++) {
        rp_session_announce(w.s[order[k]], (struct sockaddr *)&w.sink_addr, rp_monotonic_ns());
        rp_reflector_reschedule(w.r, w.s[order[k]]);
        assert_true(rp_reflector_heap_ok(w.r));
    }
    unsigned zero[NSESS] = { 0 };
    run_until_each_sent(&w, zero);

    /* Stop every third, destroy every fifth (not stopped), from the middle of the heap. */
    for (unsigned i = 0; i < NSESS; i++) {
        if (i % 3 == 1) {
            rp_session_stop(w.s[i], 0);
            rp_reflector_reschedule(w.r, w.s[i]);
            w.state[i] = STOPPED;
        } else if (i % 5 == 2) {
            rp_reflector_destroy(w.r, w.s[i]);
            w.state[i] = GONE;
        }
        assert_true(rp_reflector_heap_ok(w.r));
    }
    drain_sink(&w);
    unsigned frozen[NSESS];
    memcpy(frozen, w.got, sizeof frozen);
    run_until_each_sent(&w, frozen);
    for (unsigned i = 0; i < NSESS; i++)
        if (w.state[i] != RUNNING && w.got[i] != frozen[i])
            fail_msg("session %u sent %u packets after it was %s", i, w.got[i] - frozen[i],
                     w.state[i] == STOPPED ? "stopped" : "destroyed");
    /* Stopped and destroyed, but none received upstream media: no quality
     * observation (an empty session would read as perfect or as lost). */
    rp_reflector_stop(w.r, w.s[0], 100);
    const struct rp_quality *q = rp_reflector_quality(w.r);
    for (unsigned f = 0; f < RP_QF_COUNT; f++)
        for (unsigned c = 0; c < RP_CODEC_COUNT; c++)
            for (unsigned t = 0; t < RP_TRANSPORT_COUNT; t++)
                assert_int_equal(q->h[f][c][t].count, 0);
    rp_reflector_free(w.r);
    close(w.sink);
    event_base_free(w.base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_heap_keeps_every_stream_going),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
