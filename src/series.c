/* Per-second figures of one received stream. See include/series.h. */
#include "series.h"

#include <math.h>
#include <stdlib.h>

#include "timeutil.h"

/* A transit is kept in microseconds relative to its origin, clamped to +-20 s:
 * 100 packets a second (10 ms, the shortest ptime) then sum to at most 2e9,
 * within 32 bits; anything slower than 20 s is no network delay anyway. */
#define TRANSIT_CLAMP_US 20000000
#define NS_PER_US 1000.0

/* 16 bytes a second: an hour of series is 57.6 kB. */
struct bin {
    uint16_t packets, late, late_adaptive, spare;
    float    jitter_ms;
    int32_t  transit_sum_us;
};

struct rp_series {
    unsigned ptime_ms;
    size_t   cap;
    struct bin bins[];
};

struct rp_series *rp_series_new(unsigned ptime_ms, unsigned seconds)
{
    if (ptime_ms == 0)
        return NULL;
    size_t cap = seconds < RP_SERIES_MAX_SECONDS ? seconds : RP_SERIES_MAX_SECONDS;
    struct rp_series *s = calloc(1, sizeof *s + cap * sizeof s->bins[0]);
    if (!s)
        return NULL;
    s->ptime_ms = ptime_ms;
    s->cap = cap;
    return s;
}

void rp_series_free(struct rp_series *s)
{
    free(s);
}

uint64_t rp_series_second_of(const struct rp_series *s, int64_t index)
{
    return index <= 0 ? 0 : (uint64_t)index * s->ptime_ms / 1000u;
}

static uint16_t inc16(uint16_t v)
{
    return v < UINT16_MAX ? (uint16_t)(v + 1u) : v;
}

void rp_series_add(struct rp_series *s, int64_t index, double transit_ns, double jitter_ns, bool late,
                   bool late_adaptive)
{
    uint64_t t = rp_series_second_of(s, index);
    if (t >= s->cap)
        return;
    struct bin *b = &s->bins[t];
    double us = transit_ns / NS_PER_US;
    int64_t v = us > TRANSIT_CLAMP_US ? TRANSIT_CLAMP_US : us < -TRANSIT_CLAMP_US ? -TRANSIT_CLAMP_US : llround(us);
    int64_t sum = (int64_t)b->transit_sum_us + v;
    if (sum > INT32_MAX || sum < INT32_MIN)
        return; /* more packets in one second than a stream sends: not a stream's second */
    b->transit_sum_us = (int32_t)sum;
    b->packets = inc16(b->packets);
    if (late)
        b->late = inc16(b->late);
    if (late_adaptive)
        b->late_adaptive = inc16(b->late_adaptive);
    b->jitter_ms = (float)(jitter_ns / NS_PER_MS);
}

/* The first index sent in second t (or later): ceil(t * 1000 / ptime). */
static int64_t first_index(const struct rp_series *s, uint64_t t)
{
    return (int64_t)((t * 1000u + s->ptime_ms - 1u) / s->ptime_ms);
}

/* Packets of [lo, hi) sent in second t; second 0 also holds those before index 0. */
static uint32_t expected_in(const struct rp_series *s, uint64_t t, int64_t lo, int64_t hi)
{
    int64_t from = t == 0 ? lo : first_index(s, t), to = first_index(s, t + 1);
    if (from < lo)
        from = lo;
    if (to > hi)
        to = hi;
    return to > from ? (uint32_t)(to - from) : 0;
}

int rp_series_seconds(const struct rp_series *s, int64_t lo, int64_t hi, double min_transit_ns,
                      struct rp_second **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (hi <= lo)
        return 0;
    uint64_t len = rp_series_second_of(s, hi - 1) + 1u;
    if (len > s->cap)
        len = s->cap;
    if (len == 0)
        return 0;
    struct rp_second *v = calloc((size_t)len, sizeof *v);
    if (!v)
        return -1;
    double jitter_ms = 0;
    for (uint64_t t = 0; t < len; t++) {
        const struct bin *b = &s->bins[t];
        uint32_t expected = expected_in(s, t, lo, hi);
        v[t].packets = b->packets;
        v[t].lost = expected > b->packets ? expected - b->packets : 0;
        v[t].late = b->late;
        v[t].late_adaptive = b->late_adaptive;
        if (b->packets)
            jitter_ms = b->jitter_ms;
        v[t].jitter_ms = jitter_ms;
        v[t].delay_ms = NAN;
        if (b->packets) {
            /* Microsecond rounding may put a mean a hair below the minimum. */
            double d = ((double)b->transit_sum_us * NS_PER_US / b->packets - min_transit_ns) / NS_PER_MS;
            v[t].delay_ms = d > 0 ? d : 0;
        }
    }
    *out = v;
    *n = (size_t)len;
    return 0;
}
