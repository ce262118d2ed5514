/* Receive-side statistics of one RTP stream. How each figure is computed, and how
 * it relates to Wireshark's RTP analysis, is written up in docs/measurements.md. */
#include "rxstats.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jbuf.h"
#include "rtp.h"
#include "timeutil.h"

/* Duplicate detection window, in packets behind the highest sequence seen. A packet
 * further behind than this cannot be checked and is counted as reordered. 1024
 * packets is 20 s of 20 ms audio: far beyond any real reordering. */
#define DUP_WINDOW      1024u
#define DUP_WORDS       (DUP_WINDOW / 64u)

/* The histograms are log-linear: exact (linear) bins for the values real runs
 * produce, then each octave split into SUB buckets, so a bucket is at most 1/SUB
 * of its values wide. Quantiles in the exact part are the same as with linear bins
 * throughout (see docs/measurements.md, "Compact histograms"). */

/* |IPDV|, in 0.1 ms units: exact to 51.2 ms, then 32 buckets an octave to 2 s;
 * anything above lands in an overflow bin and is represented by the maximum. */
#define IPDV_UNIT_NS    100000
#define IPDV_EXACT      512u
#define IPDV_SUB        32u
#define IPDV_OCTAVES    6u                        /* 51.2 ms .. 3.2768 s > 2 s */
#define IPDV_LIMIT_NS   (2000 * (uint64_t)NS_PER_MS)
#define IPDV_BINS       (IPDV_EXACT + IPDV_OCTAVES * IPDV_SUB + 1u) /* + overflow */

/* Transit above the first packet's, for the delay view: 2 ms steps from -1 s to
 * +3.096 s (clamped at both ends), counted by their signed distance d in steps
 * from the first packet: exact within 256 ms either side, log-linear beyond. The
 * minimum and maximum are kept exactly. */
#define DELAY_BIN_NS    2000000
#define DELAY_STEPS     2048u
#define DELAY_FLOOR_NS  (-1000 * (int64_t)NS_PER_MS)
#define DELAY_ZERO      500                       /* the step holding the first packet */
#define DELAY_UP_EXACT  128u
#define DELAY_UP_SUB    32u
#define DELAY_UP_OCT    4u                        /* 256 ms .. 4.096 s */
#define DELAY_DN_EXACT  128u
#define DELAY_DN_SUB    32u
#define DELAY_DN_OCT    2u                        /* 256 ms .. 1.024 s */
#define DELAY_DN_BINS   (DELAY_DN_EXACT + DELAY_DN_OCT * DELAY_DN_SUB)
#define DELAY_UP_BINS   (DELAY_UP_EXACT + DELAY_UP_OCT * DELAY_UP_SUB)
#define DELAY_BINS      (DELAY_DN_BINS + DELAY_UP_BINS)

_Static_assert(((uint64_t)IPDV_EXACT << (IPDV_OCTAVES - 1u)) * IPDV_UNIT_NS < IPDV_LIMIT_NS &&
               ((uint64_t)IPDV_EXACT << IPDV_OCTAVES) * IPDV_UNIT_NS >= IPDV_LIMIT_NS,
               "the IPDV octaves end just above the overflow limit");
_Static_assert((DELAY_UP_EXACT << DELAY_UP_OCT) >= DELAY_STEPS - DELAY_ZERO &&
               (DELAY_DN_EXACT << DELAY_DN_OCT) >= DELAY_ZERO,
               "the delay octaves reach both clamps");

/* Runs of missing sequence numbers, fed in sequence order. */
struct run_tracker {
    uint64_t open_run;   /* length of the run still open at the feed position */
    uint64_t bursts;
    uint64_t max_burst;
    uint64_t lost;       /* sum of closed run lengths */
};

/* The sender's send stamps (abs-send-time, rtp.h), unwrapped, and the two
 * transits they split the media-time transit into: the network's (arrival
 * minus send time) and the sender's lag (send time minus media time). Each
 * gets the adaptive buffer's 2 s floors (jbuf.h), as the media time does. */
struct send_clock {
    struct rp_jbuf *net, *lag;
    uint32_t last_stamp;
    int64_t  last_arrival_ns;  /* on the stats' relative time scale */
    int64_t  ticks;            /* the last stamp unwrapped, 2^-18 s since the first */
    int64_t  net_min_ns, lag_min_ns;
    uint64_t packets;
};

struct rp_rxstats {
    double   ns_per_tick;
    double   jb_ns;

    bool     started;
    bool     first_seq_known;
    uint16_t first_seq;

    /* Extended (wrap-free) sequence numbers; signed so that a packet just before the
     * first one does not underflow. */
    int64_t  base_ext;       /* first sequence number counted in `expected` */
    int64_t  highest_ext;
    int64_t  retired_upto;   /* sequence numbers below this have left the window */
    uint64_t seen[DUP_WORDS];/* bit (ext % DUP_WINDOW): ext in the window was received */
    struct run_tracker runs; /* over the sequence numbers that have left the window */

    uint64_t received, duplicates, reordered, late, wire_bytes;
    uint64_t first_arrival_ns, last_arrival_ns;

    /* Timing reference: the latest in-order packet (see docs/measurements.md). */
    uint64_t t0_arrival_ns;  /* origin of the relative time scale */
    uint32_t ref_ts;
    int64_t  ref_ext_ts;     /* ref_ts extended, relative to the first packet's ts */
    double   ref_transit_ns;
    double   min_transit_ns;
    double   jitter_ns;
    double   jitter_sum_ns;
    uint64_t jitter_samples;

    uint64_t ipdv_count;
    uint64_t ipdv_max_ns;
    uint32_t ipdv_hist[IPDV_BINS];

    struct rp_jbuf *jbuf;    /* the adaptive buffer's view of the same arrivals */
    double   last_transit_ns;/* of the packet just added */
    struct send_clock *send; /* when the sender stamps its send times; NULL until then */
    bool     send_clock_failed;
    struct rp_series *series;/* per-second figures, when asked for; NULL otherwise */
    int64_t  series_origin;  /* the extended sequence number of index 0 in it */
    double   max_transit_ns;
    uint64_t delay_count;
    uint32_t delay_hist[DELAY_BINS]; /* DELAY_DN_BINS below the first packet, then at or above */
};

struct rp_rxstats *rp_rxstats_new(unsigned clock_rate, unsigned jb_ms)
{
    struct rp_rxstats *s;

    if (clock_rate == 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->ns_per_tick = (double)NS_PER_S / (double)clock_rate;
    s->jb_ns = (double)jb_ms * NS_PER_MS;
    s->jbuf = rp_jbuf_new();
    if (s->jbuf == NULL) {
        free(s);
        return NULL;
    }
    return s;
}

static void send_clock_free(struct send_clock *c)
{
    if (c == NULL)
        return;
    rp_jbuf_free(c->net);
    rp_jbuf_free(c->lag);
    free(c);
}

void rp_rxstats_free(struct rp_rxstats *s)
{
    if (s == NULL)
        return;
    rp_jbuf_free(s->jbuf);
    send_clock_free(s->send);
    rp_series_free(s->series);
    free(s);
}

void rp_rxstats_set_first_seq(struct rp_rxstats *s, uint16_t first_seq)
{
    if (s->started)
        return;   /* too late: the base is already fixed */
    s->first_seq_known = true;
    s->first_seq = first_seq;
}

/* Signed distance b - a of two wrapping counters, without relying on
 * implementation-defined unsigned-to-signed conversion. */
static int64_t seq16_diff(uint16_t a, uint16_t b)
{
    uint16_t d = (uint16_t)(b - a);
    return d < 0x8000u ? (int64_t)d : (int64_t)d - 0x10000;
}

static int64_t ts32_diff(uint32_t a, uint32_t b)
{
    uint32_t d = b - a;
    return d < 0x80000000u ? (int64_t)d : (int64_t)d - 0x100000000LL;
}

static int64_t ns_diff(uint64_t from, uint64_t to)
{
    return to >= from ? (int64_t)(to - from) : -(int64_t)(from - to);
}

static size_t bit_index(int64_t ext)
{
    /* ext may be negative: take a non-negative remainder. */
    int64_t m = ext % (int64_t)DUP_WINDOW;
    return (size_t)(m < 0 ? m + (int64_t)DUP_WINDOW : m);
}

static bool bit_get(const uint64_t *bits, int64_t ext)
{
    size_t i = bit_index(ext);
    return (bits[i / 64u] >> (i % 64u)) & 1u;
}

static void bit_set(uint64_t *bits, int64_t ext)
{
    size_t i = bit_index(ext);
    bits[i / 64u] |= (uint64_t)1 << (i % 64u);
}

static void bit_clear(uint64_t *bits, int64_t ext)
{
    size_t i = bit_index(ext);
    bits[i / 64u] &= ~((uint64_t)1 << (i % 64u));
}

static void runs_missing(struct run_tracker *r, uint64_t count)
{
    r->open_run += count;
}

static void runs_close(struct run_tracker *r)
{
    if (r->open_run == 0)
        return;
    r->bursts++;
    r->lost += r->open_run;
    if (r->open_run > r->max_burst)
        r->max_burst = r->open_run;
    r->open_run = 0;
}

static void runs_feed(struct run_tracker *r, bool received)
{
    if (received)
        runs_close(r);
    else
        runs_missing(r, 1);
}

/* The highest sequence number moves from highest_ext to new_ext: positions that fall
 * out of the window are final (a later arrival can no longer fill them), so they
 * are retired into the run tracker, then the window is cleared for the new ones.
 * Counting bursts here rather than at the gap keeps a reordered packet that fills a
 * gap from also counting as a lost run. */
static void window_advance(struct rp_rxstats *s, int64_t new_ext)
{
    int64_t old = s->highest_ext;
    int64_t keep_from = new_ext - (int64_t)DUP_WINDOW + 1;
    int64_t p;

    /* Known positions leaving the window. */
    for (p = s->retired_upto; p < keep_from && p <= old; p++)
        runs_feed(&s->runs, bit_get(s->seen, p));
    /* Skipped positions beyond the old highest that are already out of the window:
     * never received. */
    if (keep_from > old + 1) {
        int64_t from = s->retired_upto > old + 1 ? s->retired_upto : old + 1;
        if (keep_from > from)
            runs_missing(&s->runs, (uint64_t)(keep_from - from));
    }
    if (keep_from > s->retired_upto)
        s->retired_upto = keep_from;

    if (new_ext - old >= (int64_t)DUP_WINDOW)
        memset(s->seen, 0, sizeof(s->seen));
    else
        for (p = old + 1; p <= new_ext; p++)
            bit_clear(s->seen, p);
    bit_set(s->seen, new_ext);
    s->highest_ext = new_ext;
}

/* Log-linear bucket of v >= 0: v itself below `exact`, then octave k (from
 * exact * 2^k) in `sub` equal buckets. */
static size_t loglin_bin(uint64_t v, unsigned exact, unsigned sub)
{
    unsigned k = 0;
    if (v < exact)
        return (size_t)v;
    while (v >= (uint64_t)exact << (k + 1u))
        k++;
    uint64_t lo = (uint64_t)exact << k;
    return exact + (size_t)k * sub + (size_t)((v - lo) / (lo / sub));
}

/* The lowest value of bucket `bin` (the inverse of loglin_bin); bin + 1 gives the
 * bucket's exclusive upper edge. */
static uint64_t loglin_low(size_t bin, unsigned exact, unsigned sub)
{
    if (bin < exact)
        return bin;
    size_t k = (bin - exact) / sub, j = (bin - exact) % sub;
    uint64_t lo = (uint64_t)exact << k;
    return lo + j * (lo / sub);
}

static void ipdv_record(struct rp_rxstats *s, double ipdv_ns)
{
    uint64_t mag = (uint64_t)llround(fabs(ipdv_ns));
    size_t bin = mag < IPDV_LIMIT_NS ? loglin_bin(mag / IPDV_UNIT_NS, IPDV_EXACT, IPDV_SUB) : IPDV_BINS - 1u;

    if (s->ipdv_hist[bin] < UINT32_MAX)
        s->ipdv_hist[bin]++;
    s->ipdv_count++;
    if (mag > s->ipdv_max_ns)
        s->ipdv_max_ns = mag;
}

/* Where step b (0 .. DELAY_STEPS - 1, DELAY_ZERO the first packet's) is counted. */
static size_t delay_bin(int64_t b)
{
    int64_t d = b - DELAY_ZERO;
    if (d >= 0)
        return DELAY_DN_BINS + loglin_bin((uint64_t)d, DELAY_UP_EXACT, DELAY_UP_SUB);
    return DELAY_DN_BINS - 1u - loglin_bin((uint64_t)(-d - 1), DELAY_DN_EXACT, DELAY_DN_SUB);
}

/* The highest step that delay bin i holds (the inverse of delay_bin). */
static int64_t delay_top_step(size_t i)
{
    int64_t top;
    if (i >= DELAY_DN_BINS)
        top = DELAY_ZERO + (int64_t)loglin_low(i - DELAY_DN_BINS + 1u, DELAY_UP_EXACT, DELAY_UP_SUB) - 1;
    else
        top = DELAY_ZERO - 1 - (int64_t)loglin_low(DELAY_DN_BINS - 1u - i, DELAY_DN_EXACT, DELAY_DN_SUB);
    return top < (int64_t)DELAY_STEPS - 1 ? top : (int64_t)DELAY_STEPS - 1;
}

/* What a receiver would make of this arrival: late under the adaptive buffer
 * (returned), and how far its transit lies above the first packet's (the delay view). */
static bool playout_record(struct rp_rxstats *s, int64_t arrival_ns, double transit_ns)
{
    int64_t t = (int64_t)llround(transit_ns);
    int64_t b = (t - DELAY_FLOOR_NS) / DELAY_BIN_NS;
    size_t bin;
    bool late = rp_jbuf_add(s->jbuf, arrival_ns, t);
    if (b < 0)
        b = 0;
    if (b >= (int64_t)DELAY_STEPS)
        b = DELAY_STEPS - 1;
    bin = delay_bin(b);
    if (s->delay_hist[bin] < UINT32_MAX)
        s->delay_hist[bin]++;
    s->delay_count++;
    if (transit_ns > s->max_transit_ns)
        s->max_transit_ns = transit_ns;
    return late;
}

/* Extended sequence number of the first arrival: ahead of the announced first
 * sequence number when that is known. */
static int64_t first_ext(const struct rp_rxstats *s, uint16_t seq)
{
    if (!s->first_seq_known)
        return (int64_t)seq;
    return (int64_t)s->first_seq + (int64_t)(uint16_t)(seq - s->first_seq);
}

static void start(struct rp_rxstats *s, int64_t ext, uint32_t rtp_ts, uint64_t arrival_ns)
{
    s->started = true;
    s->base_ext = s->first_seq_known ? (int64_t)s->first_seq : ext;
    s->highest_ext = s->base_ext - 1;
    s->retired_upto = s->base_ext;
    window_advance(s, ext);

    s->t0_arrival_ns = arrival_ns;
    s->ref_ts = rtp_ts;
    s->ref_ext_ts = 0;
    s->ref_transit_ns = 0.0;
    s->min_transit_ns = 0.0;
    s->last_transit_ns = 0.0;
    s->first_arrival_ns = arrival_ns;
    s->last_arrival_ns = arrival_ns;
    bool late_adaptive = playout_record(s, 0, 0.0);
    /* Index 0 is the announced first packet, else this one (a reordered
     * earlier one then counts in second 0). */
    s->series_origin = s->base_ext;
    if (s->series)
        rp_series_add(s->series, ext - s->series_origin, 0.0, 0.0, false, late_adaptive);
}

enum rp_rx_class rp_rxstats_add(struct rp_rxstats *s, uint16_t seq, uint32_t rtp_ts,
                                uint64_t arrival_ns, size_t wire_bytes)
{
    enum rp_rx_class cls;
    int64_t ext, ext_ts;
    double transit_ns, d_ns;

    if (!s->started) {
        ext = first_ext(s, seq);
        start(s, ext, rtp_ts, arrival_ns);
        s->received = 1;
        s->wire_bytes = wire_bytes;
        return RP_RX_IN_ORDER;
    }

    ext = s->highest_ext + seq16_diff((uint16_t)s->highest_ext, seq);
    if (ext > s->highest_ext) {
        cls = RP_RX_IN_ORDER;
    } else if (s->highest_ext - ext < (int64_t)DUP_WINDOW) {
        if (bit_get(s->seen, ext)) {
            s->duplicates++;
            return RP_RX_DUPLICATE;
        }
        bit_set(s->seen, ext);
        cls = RP_RX_REORDERED;
        /* Without an announced start, the stream begins at the oldest packet seen;
         * only inside the window, where the positions in between are known. */
        if (!s->first_seq_known && ext < s->base_ext) {
            s->base_ext = ext;
            if (ext < s->retired_upto)
                s->retired_upto = ext;
        }
    } else {
        cls = RP_RX_REORDERED;   /* too old to tell; assumed not a duplicate */
    }

    s->received++;
    s->wire_bytes += wire_bytes;
    if (arrival_ns < s->first_arrival_ns)
        s->first_arrival_ns = arrival_ns;
    if (arrival_ns > s->last_arrival_ns)
        s->last_arrival_ns = arrival_ns;

    /* Relative transit time (RFC 3550 §6.4.1), in ns: only differences matter. The
     * 32-bit RTP timestamp is extended against the reference by its signed distance. */
    ext_ts = s->ref_ext_ts + ts32_diff(s->ref_ts, rtp_ts);
    transit_ns = (double)ns_diff(s->t0_arrival_ns, arrival_ns) - (double)ext_ts * s->ns_per_tick;

    /* RFC 3550 A.8: J += (|D| - J) / 16, D against the latest in-order packet. */
    d_ns = transit_ns - s->ref_transit_ns;
    s->jitter_ns += (fabs(d_ns) - s->jitter_ns) / 16.0;
    /* Mean of J after each packet but the first, as Wireshark's "Mean Jitter". */
    if (s->received > 1) {
        s->jitter_sum_ns += s->jitter_ns;
        s->jitter_samples++;
    }

    s->last_transit_ns = transit_ns;
    if (transit_ns < s->min_transit_ns)
        s->min_transit_ns = transit_ns;
    bool late = transit_ns - s->min_transit_ns > s->jb_ns;
    if (late)
        s->late++;
    bool late_adaptive = playout_record(s, ns_diff(s->t0_arrival_ns, arrival_ns), transit_ns);
    if (s->series)
        rp_series_add(s->series, ext - s->series_origin, transit_ns, s->jitter_ns, late, late_adaptive);

    if (cls == RP_RX_IN_ORDER) {
        /* RFC 5481 IPDV between consecutive packets: D itself when seq = ref + 1. */
        if (ext == s->highest_ext + 1)
            ipdv_record(s, d_ns);
        window_advance(s, ext);
        s->ref_ts = rtp_ts;
        s->ref_ext_ts = ext_ts;
        s->ref_transit_ns = transit_ns;
    } else {
        s->reordered++;
    }
    return cls;
}

/* Nearest-rank percentile over the histogram: the upper edge of the bin holding the
 * rank, capped at the observed maximum. */
static double ipdv_percentile_ms(const struct rp_rxstats *s, unsigned pct)
{
    uint64_t rank, cum = 0;
    size_t bin;
    double edge_ns, max_ns = (double)s->ipdv_max_ns;

    if (s->ipdv_count == 0)
        return 0.0;
    rank = (s->ipdv_count * pct + 99u) / 100u;
    if (rank == 0)
        rank = 1;
    for (bin = 0; bin < IPDV_BINS; bin++) {
        cum += s->ipdv_hist[bin];
        if (cum >= rank)
            break;
    }
    if (bin < IPDV_BINS - 1u)
        edge_ns = (double)loglin_low(bin + 1u, IPDV_EXACT, IPDV_SUB) * IPDV_UNIT_NS;
    else
        edge_ns = max_ns;
    return (edge_ns < max_ns ? edge_ns : max_ns) / NS_PER_MS;
}

/* Nearest-rank percentile of the transit above the run's minimum: the upper
 * edge of the bin holding the rank, within [0, max - min]. */
static double delay_percentile_ms(const struct rp_rxstats *s, unsigned pct)
{
    uint64_t rank = (s->delay_count * pct + 99u) / 100u, cum = 0;
    size_t bin;
    for (bin = 0; bin < DELAY_BINS - 1u; bin++) {
        cum += s->delay_hist[bin];
        if (cum >= (rank ? rank : 1))
            break;
    }
    double edge_ns = (double)DELAY_FLOOR_NS + (double)(delay_top_step(bin) + 1) * DELAY_BIN_NS - s->min_transit_ns;
    double top_ns = s->max_transit_ns - s->min_transit_ns;
    return (edge_ns < 0 ? 0 : edge_ns < top_ns ? edge_ns : top_ns) / NS_PER_MS;
}

/* Made at the first stamp; out of memory, never: the rise stays the media time's. */
static struct send_clock *send_clock(struct rp_rxstats *s)
{
    if (s->send || s->send_clock_failed)
        return s->send;
    struct send_clock *c = calloc(1, sizeof *c);
    if (c && (c->net = rp_jbuf_new()) && (c->lag = rp_jbuf_new()))
        return s->send = c;
    send_clock_free(c);
    s->send_clock_failed = true;
    return NULL;
}

void rp_rxstats_add_send_stamp(struct rp_rxstats *s, uint64_t arrival_ns, uint32_t stamp)
{
    struct send_clock *c = s->started ? send_clock(s) : NULL;
    if (c == NULL)
        return;
    int64_t arrival = ns_diff(s->t0_arrival_ns, arrival_ns);
    if (c->packets > 0)
        c->ticks += rp_abs_send_time_step(c->last_stamp, stamp, rp_abs_send_time_ticks(arrival - c->last_arrival_ns));
    c->last_stamp = stamp;
    c->last_arrival_ns = arrival;
    int64_t net = arrival - rp_abs_send_time_ns(c->ticks);
    int64_t lag = (int64_t)llround(s->last_transit_ns) - net;
    if (c->packets == 0 || net < c->net_min_ns)
        c->net_min_ns = net;
    if (c->packets == 0 || lag < c->lag_min_ns)
        c->lag_min_ns = lag;
    c->packets++;
    (void)rp_jbuf_add(c->net, arrival, net);
    (void)rp_jbuf_add(c->lag, arrival, lag);
}

/* The rise of the floor above the run's lowest, 0 without a full window. */
static double rise_ms(const struct rp_jbuf_stats *jb, double min_ns)
{
    double rise = jb->have_floor ? ((double)jb->floor_max_ns - min_ns) / NS_PER_MS : 0;
    return rise > 0 ? rise : 0;
}

static void playout_summary(const struct rp_rxstats *s, struct rp_rxsummary *out)
{
    struct rp_jbuf_stats jb;
    rp_jbuf_stats(s->jbuf, &jb);
    out->late_adaptive = jb.late;
    out->jb_mean_ms = jb.mean_ms;
    out->jb_max_ms = jb.max_ms;
    out->delay_p50_ms = delay_percentile_ms(s, 50);
    out->delay_p95_ms = delay_percentile_ms(s, 95);
    out->delay_max_ms = (s->max_transit_ns - s->min_transit_ns) / NS_PER_MS;
    out->delay_rise_ms = rise_ms(&jb, s->min_transit_ns);
    struct rp_jbuf_stats net, lag;
    if (s->send == NULL)
        return;
    rp_jbuf_stats(s->send->net, &net);
    rp_jbuf_stats(s->send->lag, &lag);
    out->has_sender_lag = net.have_floor && lag.have_floor;
    if (out->has_sender_lag) {
        out->delay_rise_ms = rise_ms(&net, (double)s->send->net_min_ns);
        out->sender_lag_ms = rise_ms(&lag, (double)s->send->lag_min_ns);
    }
}

uint64_t rp_rxstats_received(const struct rp_rxstats *s)
{
    return s->received;
}

uint64_t rp_rxstats_wire_bytes(const struct rp_rxstats *s)
{
    return s->wire_bytes;
}

void rp_rxstats_summary(const struct rp_rxstats *s, uint64_t sent, struct rp_rxsummary *out)
{
    struct run_tracker runs = s->runs;
    int64_t p;
    double p_loss, q_recover;

    memset(out, 0, sizeof(*out));
    out->burst_ratio = 1.0;
    if (!s->started) {
        out->expected = sent;
        out->lost = (int64_t)sent;
        out->loss_pct = sent > 0 ? 100.0 : 0.0;
        if (sent > 0) {
            out->bursts = 1;
            out->max_burst = sent > UINT32_MAX ? UINT32_MAX : (uint32_t)sent;
        }
        return;
    }

    out->received = s->received;
    out->expected = sent > 0 ? sent : (uint64_t)(s->highest_ext - s->base_ext + 1);
    out->lost = (int64_t)out->expected - (int64_t)out->received;
    /* More received than the sender said it sent (it under-reported) is no
     * loss: lost shows the surplus, the ratio stays 0-100 (the schema's). */
    out->loss_pct = out->expected > 0 && out->lost > 0 ? 100.0 * (double)out->lost / (double)out->expected : 0.0;
    out->duplicates = s->duplicates;
    out->reordered = s->reordered;
    out->late = s->late;

    /* Finish the run count on a copy: the window still in play, then the packets the
     * sender says it sent after the highest we saw. */
    for (p = s->retired_upto; p <= s->highest_ext; p++)
        runs_feed(&runs, bit_get(s->seen, p));
    if (sent > 0) {
        int64_t last_sent = s->base_ext + (int64_t)sent - 1;
        if (last_sent > s->highest_ext)
            runs_missing(&runs, (uint64_t)(last_sent - s->highest_ext));
    }
    runs_close(&runs);
    out->bursts = runs.bursts;
    out->max_burst = runs.max_burst > UINT32_MAX ? UINT32_MAX : (uint32_t)runs.max_burst;

    /* G.113 Appendix I / G.107: two-state Markov model, p = P(loss | previous
     * received), q = P(received | previous lost), BurstR = 1 / (p + q). Each run is
     * one received->lost and one lost->received transition. */
    if (runs.bursts > 0 && runs.lost > 0 && s->received > 0) {
        p_loss = (double)runs.bursts / (double)s->received;
        q_recover = (double)runs.bursts / (double)runs.lost;
        out->burst_ratio = 1.0 / (p_loss + q_recover);
    }

    out->jitter_ms = s->jitter_ns / NS_PER_MS;
    out->jitter_mean_ms = s->jitter_samples ? s->jitter_sum_ns / (double)s->jitter_samples / NS_PER_MS : 0;
    out->ipdv_p50_ms = ipdv_percentile_ms(s, 50);
    out->ipdv_p95_ms = ipdv_percentile_ms(s, 95);
    out->ipdv_p99_ms = ipdv_percentile_ms(s, 99);
    out->ipdv_max_ms = (double)s->ipdv_max_ns / NS_PER_MS;
    out->wire_bytes = s->wire_bytes;
    out->first_arrival_ns = s->first_arrival_ns;
    out->last_arrival_ns = s->last_arrival_ns;
    playout_summary(s, out);
}

int rp_rxstats_series_enable(struct rp_rxstats *s, unsigned ptime_ms, unsigned seconds)
{
    if (s->started || s->series)
        return -1;
    s->series = rp_series_new(ptime_ms, seconds);
    return s->series ? 0 : -1;
}

bool rp_rxstats_has_series(const struct rp_rxstats *s)
{
    return s->series != NULL;
}

/* The packets the summary expects are the indices lo..hi-1 of the series:
 * from the stream's first (base_ext), `sent` of them when known, else up to
 * the highest seen. */
int rp_rxstats_seconds(const struct rp_rxstats *s, uint64_t sent, struct rp_second **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!s->series)
        return 0;
    if (!s->started)
        return rp_series_seconds(s->series, 0, sent > INT64_MAX ? INT64_MAX : (int64_t)sent, 0, out, n);
    int64_t lo = s->base_ext - s->series_origin;
    int64_t hi = sent > 0 ? lo + (int64_t)(sent < (uint64_t)INT32_MAX ? sent : INT32_MAX)
                          : s->highest_ext - s->series_origin + 1;
    return rp_series_seconds(s->series, lo, hi, s->min_transit_ns, out, n);
}
