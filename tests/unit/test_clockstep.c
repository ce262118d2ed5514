/* A step of the wall clock (an NTP correction, a laptop resuming) changes no
 * figure: first the pieces (rp_mono_of_real, the steady wall clock,
 * rp_udp_arrival for a datagram read across a step), then rxstats, the
 * probe's downstream receiver and a whole call through the daemon's session
 * and the probe's receiver, each fed the same jittered stream twice: once
 * with wall clocks that jump by a second and back mid-run, once without.
 * Every delay comes from a fixed pseudo-random sequence, so the two runs see
 * the same network. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "codec.h"
#include "contract.h"
#include "downrx.h"
#include "emodel.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "rxstats.h"
#include "session.h"
#include "stream.h"
#include "timeutil.h"
#include "udp.h"

#define MS      NS_PER_MS
#define US      1000ull
#define SEC     ((int64_t)NS_PER_S)
#define PERIOD  (20 * MS)
#define TICKS   160u                       /* RTP timestamp per 20 ms at 8 kHz */
#define WIRE    214u
#define N       500                        /* packets per stream */
#define M0      (86400ull * NS_PER_S)      /* a monotonic origin: a day after boot */
#define R0      1700000000000000000ull     /* CLOCK_REALTIME at M0 */

/* ---- the pieces ---- */

static void test_mono_of_real_subtracts_the_offset_read_with_it(void **state)
{
    (void)state;
    /* Stamped 30 us before both clocks were read. */
    assert_true(rp_mono_of_real(R0 - 30 * US, R0, M0) == M0 - 30 * US);
    assert_true(rp_mono_of_real(R0, R0, M0) == M0);
}

static void test_a_step_between_two_receptions_leaves_their_interval(void **state)
{
    (void)state;
    const int64_t steps[] = { 0, SEC, -SEC };
    for (size_t k = 0; k < sizeof steps / sizeof steps[0]; k++) {
        /* Arrivals at M0 and M0 + 20 ms, each read 25 us after its stamp; the
         * wall clock jumps by steps[k] in between. */
        uint64_t a = rp_mono_of_real(R0, R0 + 25 * US, M0 + 25 * US);
        uint64_t stamp = R0 + 20 * MS + (uint64_t)steps[k];
        uint64_t b = rp_mono_of_real(stamp, stamp + 25 * US, M0 + 20 * MS + 25 * US);
        assert_true(b - a == 20 * MS);
    }
}

static void test_a_stamp_the_clocks_have_not_reached_maps_to_now(void **state)
{
    (void)state;
    /* Only a step between the stamp and the read can do that: no arrival is
     * later than the moment it is read. */
    assert_true(rp_mono_of_real(R0 + 5 * MS, R0, M0) == M0);
    /* Older than the monotonic clock itself: its origin, never a wrapped value. */
    assert_true(rp_mono_of_real(R0 - M0 - 1, R0, M0) == 0);
    assert_true(rp_mono_of_real(0, R0, M0) == 0);
}

static void test_steady_wall_clock_is_capture_wall_plus_elapsed_monotonic(void **state)
{
    (void)state;
    struct rp_wallclock c = rp_wallclock_at(R0, M0);
    assert_true(rp_wallclock_ns(&c, M0) == R0);
    assert_true(rp_wallclock_ns(&c, M0 + 1234 * MS) == R0 + 1234 * MS);
    /* A wall clock behind the monotonic one (set to 1970) still adds up. */
    c = rp_wallclock_at(5 * MS, M0);
    assert_true(rp_wallclock_ns(&c, M0 + 3 * MS) == 8 * MS);
    /* Taken from the live clocks: the realtime - monotonic offset of now. */
    c = rp_wallclock_now();
    uint64_t real = rp_realtime_ns(), wall = rp_wallclock_ns(&c, rp_monotonic_ns());
    assert_true(wall - real < NS_PER_S || real - wall < NS_PER_S);
}

/* ---- a jittered stream ---- */

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ull + 1442695040888963407ull;
    return *x >> 33;
}

/* 0..max_ms in whole microseconds. */
static uint64_t delay_ns(uint64_t *x, unsigned max_ms)
{
    return lcg(x) % (max_ms * 1000u + 1) * US;
}

struct arrival {
    uint32_t i;     /* sent at i * 20 ms */
    uint64_t mono;  /* arrival, CLOCK_MONOTONIC */
};

/* n packets delayed 0..30 ms each, in arrival order (so some reordered). */
static void jittered_stream(struct arrival *a, unsigned n, uint64_t seed)
{
    for (unsigned i = 0; i < n; i++) {
        a[i] = (struct arrival){ i, M0 + i * PERIOD + delay_ns(&seed, 30) };
        for (unsigned k = i; k > 0 && a[k - 1].mono > a[k].mono; k--) {
            struct arrival t = a[k];
            a[k] = a[k - 1];
            a[k - 1] = t;
        }
    }
}

/* The wall clock's error at the k-th arrival: none, then +1 s from the
 * 200th, then `last` from the 350th. */
static int64_t error_at(unsigned k, int64_t last)
{
    return k >= 350 ? last : k >= 200 ? SEC : 0;
}

/* What the socket layer hands on for the k-th arrival: its realtime stamp
 * off by err_stamp, and rx_mono from both clocks read 20-24 us later, when
 * the wall clock is off by err_read. */
static struct rp_udp_meta socket_view(const struct arrival *a, unsigned k, int64_t err_stamp, int64_t err_read)
{
    uint64_t lag = (20 + k % 5) * US;
    struct rp_udp_meta m = { .rx_ns = R0 + (a->mono - M0) + (uint64_t)err_stamp, .read_mono = a->mono + lag };
    m.rx_mono = rp_mono_of_real(m.rx_ns, R0 + (a->mono + lag - M0) + (uint64_t)err_read, m.read_mono);
    return m;
}

enum feed {
    FEED_TRUE_ARRIVAL,   /* the truth, for reference */
    FEED_ARRIVAL,        /* rp_udp_arrival, as the session and the probe take it */
    FEED_RX_MONO,        /* rx_mono unchecked */
    FEED_REALTIME_STAMP, /* the kernel's stamp itself, as before */
};

/* How the wall clock was stepped: error_at(., last); when straddling, each
 * step falls between a packet's stamp and its read. */
struct stepping {
    int64_t last;
    bool straddle;
};

/* The stream's figures with the wall clock stepped, fed to rxstats as `how` says. */
static void stream_figures(const struct arrival *a, struct stepping st, enum feed how, struct rp_rxsummary *out)
{
    struct rp_rxstats *s = rp_rxstats_new(8000, 20);
    assert_non_null(s);
    rp_rxstats_set_first_seq(s, 60000);
    uint64_t last = 0;
    for (unsigned k = 0; k < N; k++) {
        int64_t err = error_at(k, st.last), before = st.straddle && k > 0 ? error_at(k - 1, st.last) : err;
        struct rp_udp_meta m = socket_view(&a[k], k, before, err);
        uint64_t t = how == FEED_TRUE_ARRIVAL ? a[k].mono
                   : how == FEED_ARRIVAL      ? rp_udp_arrival(&m, &last)
                   : how == FEED_RX_MONO      ? m.rx_mono
                                              : m.rx_ns;
        rp_rxstats_add(s, (uint16_t)(60000 + a[k].i), 77 + a[k].i * TICKS, t, WIRE);
    }
    rp_rxstats_summary(s, N, out);
    rp_rxstats_free(s);
}

/* The E-model on a direction's figures, its loss counting late packets. */
static double mos_of(const struct rp_rxsummary *s)
{
    const struct rp_codec_info *c = rp_codec_get(RP_CODEC_PCMU);
    struct rp_emodel_in in = {
        .ie = c->ie, .bpl = c->bpl, .burst_r = s->burst_ratio, .delay_ms = 60,
        .ppl_pct = 100.0 * (double)(s->lost + (int64_t)s->late) / (double)s->expected,
    };
    struct rp_emodel_out out;
    rp_emodel_compute(&in, &out);
    return out.mos;
}

#define SAME(a, b, f)                                                                              \
    do {                                                                                           \
        if ((a)->f != (b)->f)                                                                      \
            fail_msg("%s: %.9g with the step, %.9g without", #f, (double)(a)->f, (double)(b)->f);  \
    } while (0)

static void assert_same_figures(const struct rp_rxsummary *a, const struct rp_rxsummary *b)
{
    SAME(a, b, received);
    SAME(a, b, expected);
    SAME(a, b, lost);
    SAME(a, b, loss_pct);
    SAME(a, b, duplicates);
    SAME(a, b, reordered);
    SAME(a, b, late);
    SAME(a, b, bursts);
    SAME(a, b, max_burst);
    SAME(a, b, burst_ratio);
    SAME(a, b, jitter_ms);
    SAME(a, b, jitter_mean_ms);
    SAME(a, b, ipdv_p50_ms);
    SAME(a, b, ipdv_p95_ms);
    SAME(a, b, ipdv_p99_ms);
    SAME(a, b, ipdv_max_ms);
    SAME(a, b, wire_bytes);
    SAME(a, b, late_adaptive);
    SAME(a, b, jb_mean_ms);
    SAME(a, b, jb_max_ms);
    SAME(a, b, delay_p50_ms);
    SAME(a, b, delay_p95_ms);
    SAME(a, b, delay_max_ms);
    SAME(a, b, delay_rise_ms);
    if (mos_of(a) != mos_of(b))
        fail_msg("MOS %.6f with the step, %.6f without", mos_of(a), mos_of(b));
}

static void test_rxstats_figures_ignore_wall_clock_steps(void **state)
{
    (void)state;
    static struct arrival a[N];
    jittered_stream(a, N, 42);
    struct rp_rxsummary truth, stepped, stamps;
    stream_figures(a, (struct stepping){ 0, false }, FEED_TRUE_ARRIVAL, &truth);
    /* The stream is not trivial: reordered, jittered, nothing lost. */
    assert_int_equal(truth.received, N);
    assert_true(truth.lost == 0);
    assert_true(truth.reordered > 0);
    assert_true(truth.jitter_mean_ms > 1 && truth.ipdv_max_ms > 10 && truth.ipdv_max_ms <= 30);
    /* +1 s at the 200th packet, -1 s at the 350th: back where it was. */
    stream_figures(a, (struct stepping){ 0, false }, FEED_ARRIVAL, &stepped);
    assert_same_figures(&stepped, &truth);
    /* +1 s, then -2 s: a second behind where it started. */
    stream_figures(a, (struct stepping){ -SEC, false }, FEED_ARRIVAL, &stepped);
    assert_same_figures(&stepped, &truth);
    /* The realtime stamps themselves would have shown a jump of a second. */
    stream_figures(a, (struct stepping){ 0, false }, FEED_REALTIME_STAMP, &stamps);
    assert_true(stamps.ipdv_max_ms > 900);
}

static void test_a_datagram_read_across_a_step_counts_from_its_read(void **state)
{
    (void)state;
    /* Stamped 1 s before the step as rp_mono_of_real sees it: before its predecessor. */
    uint64_t last = M0;
    struct rp_udp_meta m = { .rx_mono = M0 + 20 * MS - NS_PER_S, .read_mono = M0 + 20 * MS + 25 * US };
    assert_true(rp_udp_arrival(&m, &last) == M0 + 20 * MS + 25 * US);
    assert_true(last == M0 + 20 * MS + 25 * US);
    m = (struct rp_udp_meta){ .rx_mono = M0 + 40 * MS, .read_mono = M0 + 40 * MS + 25 * US };
    assert_true(rp_udp_arrival(&m, &last) == M0 + 40 * MS);
    assert_true(last == M0 + 40 * MS);

    /* The stream again, each step between a packet's stamp and its read: the
     * two packets count as arrived when read, some microseconds late. */
    static struct arrival a[N];
    jittered_stream(a, N, 42);
    struct rp_rxsummary truth, straddled, unchecked;
    stream_figures(a, (struct stepping){ 0, false }, FEED_TRUE_ARRIVAL, &truth);
    stream_figures(a, (struct stepping){ 0, true }, FEED_ARRIVAL, &straddled);
    assert_int_equal(straddled.received, truth.received);
    assert_true(straddled.lost == truth.lost);
    assert_int_equal(straddled.reordered, truth.reordered);
    assert_int_equal(straddled.late, truth.late);
    assert_true(fabs(straddled.jitter_mean_ms - truth.jitter_mean_ms) < 0.01);
    assert_true(fabs(straddled.ipdv_max_ms - truth.ipdv_max_ms) < 0.1);
    assert_true(fabs(straddled.ipdv_p99_ms - truth.ipdv_p99_ms) < 0.1);
    /* Unchecked, the one read across the forward step would be a second early. */
    stream_figures(a, (struct stepping){ 0, true }, FEED_RX_MONO, &unchecked);
    assert_true(unchecked.ipdv_max_ms > 900);
}

/* ---- RTT at the probe: T1, T4 on its steady clock, T2, T3 on the daemon's ---- */

static const uint8_t hmac_key[RP_MEXT_AUTH_KEY_LEN] = { 0x5a, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                                                        16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };

static struct rp_stream *down_stream(enum rp_stream_role role)
{
    struct rp_stream_cfg cfg = {
        .role = role, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = 0xcafe0001u, .elem_id = RP_MEXT_ID_DOWN,
        .seq0 = 65000, .ts0 = 9, .bitrate_bps = 64000, .loop_frames = 4, .payload_seed = 7, .key = hmac_key,
    };
    char err[128] = "";
    struct rp_stream *s = rp_stream_new(&cfg, err, sizeof err);
    if (!s)
        fail_msg("rp_stream_new: %s", err);
    return s;
}

#define NR 100
/* Reflection i: the probe sends at i * 20 ms, up u, held h, down d (true time). */
struct reflection {
    uint32_t i;
    uint64_t up, hold, down;
    uint64_t arrival;  /* at the probe, true time */
};

/* The reflections in the order they reach the probe. */
static void reflections(struct reflection *r)
{
    uint64_t x = 7;
    for (uint32_t i = 0; i < NR; i++) {
        r[i] = (struct reflection){ .i = i, .up = delay_ns(&x, 30), .hold = delay_ns(&x, 20),
                                    .down = delay_ns(&x, 30) };
        r[i].arrival = i * PERIOD + r[i].up + r[i].hold + r[i].down;
        for (uint32_t k = i; k > 0 && r[k - 1].arrival > r[k].arrival; k--) {
            struct reflection t = r[k];
            r[k] = r[k - 1];
            r[k - 1] = t;
        }
    }
}

/* Feeds the reflections to a fresh receiver, the probe's wall clock off by
 * +1 s from the 30th arrival and back from the 60th when `stepped`. */
static struct rp_downrx *receive_reflections(const struct reflection *r, bool stepped)
{
    const uint64_t pm0 = M0, dm0 = 3 * M0, dr0 = R0 + 7 * MS;  /* the daemon's clocks: another origin */
    struct rp_wallclock probe = rp_wallclock_at(R0, pm0), daemon = rp_wallclock_at(dr0, dm0);
    struct sockaddr_storage media;
    socklen_t len;
    assert_int_equal(rp_addr_parse("192.0.2.1:36124", 0, &media, &len), 0);
    struct rp_stream *seal = down_stream(RP_STREAM_SEAL);
    struct rp_downrx *d =
        rp_downrx_new(down_stream(RP_STREAM_OPEN), (struct sockaddr *)&media, 8000, 40, NR, probe);
    assert_non_null(d);
    for (unsigned k = 0; k < NR; k++) {
        uint64_t sent = r[k].i * PERIOD, t2 = sent + r[k].up, t3 = t2 + r[k].hold;
        struct rp_stream_elem e = { .down = {
            .flags = RP_MEXT_F_REFLECTION, .refl_seq = r[k].i, .t1_ns = rp_wallclock_ns(&probe, pm0 + sent),
            .t2_ns = rp_wallclock_ns(&daemon, dm0 + t2), .t3_ns = rp_wallclock_ns(&daemon, dm0 + t3),
            .up_received = r[k].i + 1, .down_sent = r[k].i + 1 } };
        uint8_t pkt[RP_STREAM_MAX_PKT];
        size_t n = rp_stream_seal(seal, r[k].i, &e, pkt, sizeof pkt);
        assert_true(n > 0);
        int64_t err = stepped && k >= 30 && k < 60 ? SEC : 0;
        const struct arrival at = { r[k].i, pm0 + r[k].arrival };
        struct rp_udp_meta meta = socket_view(&at, k, err, err);
        meta.fromlen = len;
        memcpy(&meta.from, &media, sizeof media);
        rp_downrx_on_datagram(d, pkt, n, &meta);
    }
    rp_stream_free(seal);
    return d;
}

static void test_rtt_samples_ignore_a_step_of_the_probe_clock(void **state)
{
    (void)state;
    static struct reflection r[NR];
    reflections(r);
    struct rp_downrx *calm = receive_reflections(r, false), *stepped = receive_reflections(r, true);
    size_t n_calm, n_stepped;
    int64_t max_calm, max_stepped;
    const int64_t *rtt_calm = rp_downrx_rtts(calm, &n_calm, &max_calm);
    const int64_t *rtt_stepped = rp_downrx_rtts(stepped, &n_stepped, &max_stepped);
    assert_int_equal(n_calm, NR);
    assert_int_equal(n_stepped, NR);
    /* Each sample is the path both ways, the daemon's hold taken out. */
    for (unsigned k = 0; k < NR; k++) {
        assert_true(rtt_calm[k] == (int64_t)(r[k].up + r[k].down));
        assert_true(rtt_stepped[k] == rtt_calm[k]);
    }
    assert_true(max_stepped == max_calm);
    struct rp_rxsummary a, b;
    rp_downrx_summary(calm, NR, &a);
    rp_downrx_summary(stepped, NR, &b);
    assert_same_figures(&b, &a);
    rp_downrx_free(calm);
    rp_downrx_free(stepped);
}

/* ---- a whole call: the daemon's session and the probe's receiver ---- */

/* A wall clock's error over true time: by[k] added from at[k] on. The steps
 * fall at 500 ns past a microsecond, where no datagram is between its stamp
 * and the clock read (at whole microseconds plus 0, 100 or 200 ns). */
struct steps {
    uint64_t at[2];
    int64_t by[2];
};

static uint64_t wall_at(const struct steps *s, uint64_t r0, uint64_t t)
{
    int64_t err = 0;
    for (int k = 0; k < 2; k++)
        if (s->by[k] && t >= s->at[k])
            err += s->by[k];
    return r0 + t + (uint64_t)err;
}

#define LAG     100ull   /* from the kernel's stamp to our clock read, ns */
#define IN_FLIGHT 16
#define CALL_END (10500 * MS)

struct flight {
    uint64_t at, delay;  /* arrival, true time; its path delay */
    size_t len;
    uint8_t b[RP_STREAM_MAX_PKT];
};

struct queue {
    struct flight f[IN_FLIGHT];
    unsigned n;
};

struct call {
    const struct steps *dsteps, *psteps;
    struct sockaddr_storage probe_addr, daemon_addr;
    struct rp_session *s;
    struct rp_stream *up;
    struct rp_downrx *down;
    struct rp_wallclock probe_wall;
    uint64_t now, seed;
    struct queue to_daemon, to_probe;
    uint64_t up_delay[N];
    int64_t expect[2 * N];  /* RTT samples the probe must take: the true up + down delays */
    size_t nexpect;
    bool have_refl;
    uint32_t last_refl;
};

#define DM0 (2 * M0)             /* the daemon's monotonic origin (true time 0) */
#define DR0 (R0 + 5 * SEC)       /* its wall clock then: 5 s ahead */
#define PM0 M0
#define PR0 R0

static void push(struct queue *q, uint64_t now, uint64_t delay, const uint8_t *b, size_t len)
{
    assert_true(q->n < IN_FLIGHT);
    struct flight *f = &q->f[q->n++];
    f->at = now + delay;
    f->delay = delay;
    f->len = len;
    memcpy(f->b, b, len);
}

/* The queue's earliest arrival, or UINT64_MAX. */
static uint64_t next_at(const struct queue *q, unsigned *which)
{
    uint64_t t = UINT64_MAX;
    for (unsigned k = 0; k < q->n; k++)
        if (q->f[k].at < t) {
            t = q->f[k].at;
            *which = k;
        }
    return t;
}

static struct flight pop(struct queue *q, unsigned k)
{
    struct flight f = q->f[k];
    q->f[k] = q->f[--q->n];
    return f;
}

/* The daemon's socket: downstream leaves for the probe over a 0-30 ms path. */
static int daemon_send(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to)
{
    struct call *c = ctx;
    assert_true(rp_addr_equal(to, (struct sockaddr *)&c->probe_addr));
    push(&c->to_probe, c->now, delay_ns(&c->seed, 30), pkt, len);
    return 0;
}

/* The socket layer's view of an arrival at true time t: the kernel's realtime
 * stamp and rx_mono from both clocks read LAG later. */
static struct rp_udp_meta arrived(const struct steps *st, uint64_t r0, uint64_t m0, uint64_t t,
                                  const struct sockaddr_storage *from)
{
    struct rp_udp_meta meta = { .rx_ns = wall_at(st, r0, t), .read_mono = m0 + t + LAG,
                                .fromlen = rp_addr_len((const struct sockaddr *)from) };
    memcpy(&meta.from, from, sizeof *from);
    meta.rx_mono = rp_mono_of_real(meta.rx_ns, wall_at(st, r0, t + LAG), meta.read_mono);
    return meta;
}

static void probe_sends(struct call *c, uint32_t i)
{
    struct rp_stream_elem e = { .up = { .seq = i, .t1_ns = rp_wallclock_ns(&c->probe_wall, PM0 + c->now) } };
    uint8_t pkt[RP_STREAM_MAX_PKT];
    size_t n = rp_stream_seal(c->up, i, &e, pkt, sizeof pkt);
    assert_true(n > 0);
    c->up_delay[i] = delay_ns(&c->seed, 30);
    push(&c->to_daemon, c->now, c->up_delay[i], pkt, n);
}

static void daemon_receives(struct call *c, const struct flight *f)
{
    struct rp_udp_meta meta = arrived(c->dsteps, DR0, DM0, f->at, &c->probe_addr);
    rp_session_on_datagram(c->s, f->b, f->len, &meta, DM0 + f->at + LAG);
}

/* The probe takes one RTT sample per new reflection, in arrival order. */
static void expect_sample(struct call *c, const struct flight *f)
{
    struct rp_rtp_pkt p;
    const uint8_t *elem;
    size_t elen;
    struct rp_mext_down m;
    assert_int_equal(rp_rtp_parse(f->b, f->len, &p), RP_RTP_OK);
    assert_int_equal(rp_rtp_ext_find(&p, RP_MEXT_ID_DOWN, &elem, &elen), 1);
    assert_int_equal(rp_mext_down_decode(elem, elen, &m), 0);
    if (!(m.flags & RP_MEXT_F_REFLECTION) || (c->have_refl && m.refl_seq == c->last_refl))
        return;
    c->have_refl = true;
    c->last_refl = m.refl_seq;
    assert_true(m.refl_seq < N && c->nexpect < 2 * N);
    c->expect[c->nexpect++] = (int64_t)(c->up_delay[m.refl_seq] + f->delay);
}

static void probe_receives(struct call *c, const struct flight *f)
{
    struct rp_udp_meta meta = arrived(c->psteps, PR0, PM0, f->at, &c->daemon_addr);
    expect_sample(c, f);
    rp_downrx_on_datagram(c->down, f->b, f->len, &meta);
}

static void start_call(struct call *c)
{
    socklen_t len;
    assert_int_equal(rp_addr_parse("127.0.0.1:40000", 0, &c->probe_addr, &len), 0);
    assert_int_equal(rp_addr_parse("127.0.0.1:10000", 0, &c->daemon_addr, &len), 0);
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000,
                                   .duration_s = 10, .jitter_buffer_ms = 40 };
    char err[128];
    c->s = rp_session_new(&p, 10000, (struct sockaddr *)&c->probe_addr, DM0, wall_at(c->dsteps, DR0, 0),
                          daemon_send, c, err, sizeof err);
    assert_non_null(c->s);
    struct rp_contract_keys k;
    struct rp_contract_session doc;
    rp_session_keys(c->s, &k);
    rp_session_snapshot(c->s, &doc);
    struct rp_stream_cfg up = { .role = RP_STREAM_SEAL, .codec = RP_CODEC_PCMU, .ptime_ms = 20, .ssrc = doc.ssrc_up,
                                .elem_id = RP_MEXT_ID_UP, .seq0 = 100, .ts0 = 5, .bitrate_bps = 64000,
                                .loop_frames = 4, .payload_seed = 1, .key = k.auth_key };
    struct rp_stream_cfg down = { .role = RP_STREAM_OPEN, .codec = RP_CODEC_PCMU, .ptime_ms = 20,
                                  .ssrc = doc.ssrc_down, .elem_id = RP_MEXT_ID_DOWN, .key = k.auth_key };
    c->up = rp_stream_new(&up, err, sizeof err);
    assert_non_null(c->up);
    c->probe_wall = rp_wallclock_at(wall_at(c->psteps, PR0, 0), PM0);
    c->down = rp_downrx_new(rp_stream_new(&down, err, sizeof err), (struct sockaddr *)&c->daemon_addr, 8000, 40,
                            2 * N, c->probe_wall);
    assert_non_null(c->down);
    c->seed = 99;
}

/* Runs the call event by event until CALL_END, then stops it and lets the
 * downstream in flight land. */
static void run_call(struct call *c)
{
    uint32_t sent = 0;
    for (;;) {
        unsigned ku = 0, kd = 0;
        uint64_t t_up = next_at(&c->to_daemon, &ku), t_down = next_at(&c->to_probe, &kd);
        uint64_t t_send = sent < N ? sent * PERIOD : UINT64_MAX;
        uint64_t due = rp_session_next_due(c->s), t_due = due == UINT64_MAX ? UINT64_MAX : due - DM0;
        uint64_t t = t_up < t_down ? t_up : t_down;
        t = t_send < t ? t_send : t;
        t = t_due < t ? t_due : t;
        if (t > CALL_END)
            break;
        c->now = t;
        if (t == t_up) {
            struct flight f = pop(&c->to_daemon, ku);
            daemon_receives(c, &f);
        } else if (t == t_down) {
            struct flight f = pop(&c->to_probe, kd);
            probe_receives(c, &f);
        } else if (t == t_send) {
            probe_sends(c, sent++);
        } else {
            rp_session_send_due(c->s, DM0 + t);
        }
    }
    rp_session_stop(c->s, N);
    unsigned k;
    while (next_at(&c->to_probe, &k) != UINT64_MAX) {
        struct flight f = pop(&c->to_probe, k);
        c->now = f.at;
        probe_receives(c, &f);
    }
}

struct call_figures {
    struct rp_rxsummary up, down;
    size_t nrtt;
    int64_t rtt[2 * N];
};

static void call_figures(const struct steps *daemon, const struct steps *probe, struct call_figures *out)
{
    struct call *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->dsteps = daemon;
    c->psteps = probe;
    start_call(c);
    run_call(c);
    struct rp_contract_session doc;
    rp_session_snapshot(c->s, &doc);
    out->up = doc.up.rx;
    rp_downrx_summary(c->down, doc.down.sent, &out->down);
    int64_t max;
    const int64_t *rtt = rp_downrx_rtts(c->down, &out->nrtt, &max);
    /* Ground truth: each sample is the true path both ways. */
    assert_int_equal(out->nrtt, c->nexpect);
    for (size_t k = 0; k < out->nrtt; k++) {
        if (rtt[k] != c->expect[k])
            fail_msg("RTT sample %zu: %lld ns, the path took %lld", k, (long long)rtt[k], (long long)c->expect[k]);
        out->rtt[k] = rtt[k];
    }
    rp_downrx_free(c->down);
    rp_stream_free(c->up);
    rp_session_free(c->s);
    free(c);
}

static void test_a_whole_call_ignores_steps_of_either_wall_clock(void **state)
{
    (void)state;
    static const struct steps none = { { 0, 0 }, { 0, 0 } };
    /* The daemon's clock +1 s at 3 s and back at 6 s; the probe's -1 s at
     * 4.5 s and +2 s at 8 s. */
    static const struct steps daemon = { { 3000 * MS + 500, 6000 * MS + 500 }, { SEC, -SEC } };
    static const struct steps probe = { { 4500 * MS + 500, 8000 * MS + 500 }, { -SEC, 2 * SEC } };
    static struct call_figures calm, stepped;
    call_figures(&none, &none, &calm);
    call_figures(&daemon, &probe, &stepped);
    /* Both directions carried the whole stream, and the RTT was sampled. */
    assert_int_equal(calm.up.received, N);
    assert_true(calm.up.lost == 0 && calm.up.reordered > 0);
    assert_true(calm.down.received > N && calm.down.lost == 0);
    assert_true(calm.nrtt > N / 2);
    assert_same_figures(&stepped.up, &calm.up);
    assert_same_figures(&stepped.down, &calm.down);
    assert_int_equal(stepped.nrtt, calm.nrtt);
    assert_memory_equal(stepped.rtt, calm.rtt, calm.nrtt * sizeof calm.rtt[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mono_of_real_subtracts_the_offset_read_with_it),
        cmocka_unit_test(test_a_step_between_two_receptions_leaves_their_interval),
        cmocka_unit_test(test_a_stamp_the_clocks_have_not_reached_maps_to_now),
        cmocka_unit_test(test_steady_wall_clock_is_capture_wall_plus_elapsed_monotonic),
        cmocka_unit_test(test_rxstats_figures_ignore_wall_clock_steps),
        cmocka_unit_test(test_a_datagram_read_across_a_step_counts_from_its_read),
        cmocka_unit_test(test_rtt_samples_ignore_a_step_of_the_probe_clock),
        cmocka_unit_test(test_a_whole_call_ignores_steps_of_either_wall_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
