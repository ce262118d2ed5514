/* Adaptive jitter-buffer model. See include/jbuf.h and docs/measurements.md.
 *
 * NetEq (modules/audio_coding/neteq/delay_manager.cc, relative_arrival_delay_
 * tracker.cc, histogram.cc) measures each packet's delay relative to the
 * fastest packet of the last 2 s, keeps a histogram of it in 20 ms buckets
 * with a forget factor of 0.983, and aims at its 0.95 quantile, starting at
 * 80 ms. It raises the target at once and lowers the buffer gradually by time
 * stretching; here that is a decay of at most 10 ms per second. */
#include "jbuf.h"

#include <stdlib.h>

#include "timeutil.h"

#define WINDOW_NS       (2000 * (int64_t)NS_PER_MS)  /* relative to the fastest packet of the last 2 s */
#define BUCKET_NS       (20 * (int64_t)NS_PER_MS)
#define BUCKETS         50                            /* 0 .. 1 s; the last one holds anything above */
#define FORGET          0.983
#define QUANTILE        0.95
#define START_NS        (80 * (int64_t)NS_PER_MS)
#define MIN_NS          (20 * (int64_t)NS_PER_MS)
#define MAX_NS          (1000 * (int64_t)NS_PER_MS)
#define DECAY_NS_PER_S  (10 * (int64_t)NS_PER_MS)
/* The window's minimum: a monotonic queue of (arrival, transit) with rising
 * transits. At most one entry per packet of the last 2 s; should a burst
 * arrive faster, the oldest entry goes first (the minimum only rises). */
#define QUEUE_CAP       256
/* A floor speaks for a standing queue only when its window is full: 2 s of
 * stream behind it, and at least this many packets in it (not the lone
 * packet after an outage, nor the first few of the run). */
#define FLOOR_MIN_PACKETS 20

struct sample {
    int64_t arrival_ns, transit_ns;
};

struct rp_jbuf {
    struct sample q[QUEUE_CAP];
    unsigned head, count;
    int64_t  arrivals[QUEUE_CAP];  /* the last arrivals, to count the window's packets */
    unsigned arrivals_head, arrivals_count;
    int64_t  first_arrival_ns;
    bool     have_floor;
    double   mass[BUCKETS];
    double   total;
    int64_t  target_ns;
    int64_t  last_arrival_ns;
    uint64_t packets, late;
    double   target_sum_ns;
    int64_t  target_max_ns;
    int64_t  floor_max_ns;
};

struct rp_jbuf *rp_jbuf_new(void)
{
    struct rp_jbuf *j = calloc(1, sizeof *j);
    if (j)
        j->target_ns = START_NS;
    return j;
}

void rp_jbuf_free(struct rp_jbuf *j)
{
    free(j);
}

static struct sample *at(struct rp_jbuf *j, unsigned i)
{
    return &j->q[(j->head + i) % QUEUE_CAP];
}

/* The lowest transit among the packets of the last 2 s, this one included. */
static int64_t window_min(struct rp_jbuf *j, int64_t arrival_ns, int64_t transit_ns)
{
    while (j->count && at(j, 0)->arrival_ns <= arrival_ns - WINDOW_NS) {
        j->head = (j->head + 1) % QUEUE_CAP;
        j->count--;
    }
    while (j->count && at(j, j->count - 1)->transit_ns >= transit_ns)
        j->count--;
    if (j->count == QUEUE_CAP) {
        j->head = (j->head + 1) % QUEUE_CAP;
        j->count--;
    }
    *at(j, j->count) = (struct sample){ arrival_ns, transit_ns };
    j->count++;
    return at(j, 0)->transit_ns;
}

/* Counts this arrival in the last 2 s; true when the window is full (see
 * FLOOR_MIN_PACKETS). A burst beyond QUEUE_CAP drops the oldest: the count
 * only matters up to FLOOR_MIN_PACKETS. */
static bool window_full(struct rp_jbuf *j, int64_t arrival_ns)
{
    while (j->arrivals_count &&
           j->arrivals[j->arrivals_head % QUEUE_CAP] <= arrival_ns - WINDOW_NS) {
        j->arrivals_head = (j->arrivals_head + 1) % QUEUE_CAP;
        j->arrivals_count--;
    }
    if (j->arrivals_count == QUEUE_CAP) {
        j->arrivals_head = (j->arrivals_head + 1) % QUEUE_CAP;
        j->arrivals_count--;
    }
    j->arrivals[(j->arrivals_head + j->arrivals_count) % QUEUE_CAP] = arrival_ns;
    j->arrivals_count++;
    return arrival_ns - j->first_arrival_ns >= WINDOW_NS && j->arrivals_count >= FLOOR_MIN_PACKETS;
}

/* The histogram's QUANTILE, as the upper edge of its bucket. */
static int64_t quantile_ns(const struct rp_jbuf *j)
{
    double want = QUANTILE * j->total, cum = 0;
    int k = 0;
    for (; k < BUCKETS - 1; k++) {
        cum += j->mass[k];
        if (cum >= want)
            break;
    }
    return (int64_t)(k + 1) * BUCKET_NS;
}

static void learn(struct rp_jbuf *j, int64_t rel_ns)
{
    int64_t k = rel_ns / BUCKET_NS;
    j->total = 0;
    for (int i = 0; i < BUCKETS; i++) {
        j->mass[i] *= FORGET;
        j->total += j->mass[i];
    }
    j->mass[k < BUCKETS ? k : BUCKETS - 1] += 1.0 - FORGET;
    j->total += 1.0 - FORGET;
}

/* Up at once, down slowly: a receiver shrinks its buffer by time stretching. */
static void retarget(struct rp_jbuf *j, int64_t arrival_ns)
{
    int64_t want = quantile_ns(j);
    if (want > j->target_ns) {
        j->target_ns = want;
    } else {
        int64_t dt = j->packets ? arrival_ns - j->last_arrival_ns : 0;
        int64_t down = dt > 0 ? (int64_t)((double)dt * (double)DECAY_NS_PER_S / (double)NS_PER_S) : 0;
        j->target_ns = j->target_ns - down > want ? j->target_ns - down : want;
    }
    if (j->target_ns < MIN_NS)
        j->target_ns = MIN_NS;
    if (j->target_ns > MAX_NS)
        j->target_ns = MAX_NS;
}

bool rp_jbuf_add(struct rp_jbuf *j, int64_t arrival_ns, int64_t transit_ns)
{
    int64_t floor_ns = window_min(j, arrival_ns, transit_ns);
    int64_t rel_ns = transit_ns - floor_ns;
    if (j->packets == 0)
        j->first_arrival_ns = arrival_ns;
    if (window_full(j, arrival_ns) && (!j->have_floor || floor_ns > j->floor_max_ns)) {
        j->floor_max_ns = floor_ns;
        j->have_floor = true;
    }
    bool late = rel_ns > j->target_ns;
    learn(j, rel_ns);
    retarget(j, arrival_ns);
    j->last_arrival_ns = arrival_ns;
    j->packets++;
    j->late += late;
    j->target_sum_ns += (double)j->target_ns;
    if (j->target_ns > j->target_max_ns)
        j->target_max_ns = j->target_ns;
    return late;
}

void rp_jbuf_stats(const struct rp_jbuf *j, struct rp_jbuf_stats *out)
{
    out->late = j->late;
    out->mean_ms = j->packets ? j->target_sum_ns / (double)j->packets / NS_PER_MS : 0;
    out->max_ms = (double)j->target_max_ns / NS_PER_MS;
    out->have_floor = j->have_floor;
    out->floor_max_ns = j->floor_max_ns;
}
