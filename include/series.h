/* Per-second figures of one received stream (docs/report.md, "Per second"):
 * each packet is binned by the second in which it was sent, its index in the
 * stream times ptime, so a loss lands in the second it was sent, whenever the
 * packets around it arrived. One allocation of a capacity fixed at creation,
 * none per packet. */
#ifndef RP_SERIES_H
#define RP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The most seconds a series keeps: an hour. A longer session's later seconds
 * are not recorded (a session may last a day; its series would cost 1.4 MB). */
#define RP_SERIES_MAX_SECONDS 3600u

/* One second of a stream, as reported. */
struct rp_second {
    uint32_t packets;       /* unique packets received that were sent in this second */
    uint32_t lost;          /* sent in this second and never received */
    uint32_t late;          /* received, but late for the fixed buffer */
    uint32_t late_adaptive; /* received, but late for the adaptive buffer model */
    double   jitter_ms;     /* RFC 3550 J after the last packet of the second taken (an empty
                               second keeps the J before it) */
    double   delay_ms;      /* mean transit above the run's lowest; NAN when no packet */
};

/* One second of round-trip times. */
struct rp_rtt_second {
    uint32_t samples;
    double   rtt_ms;        /* their mean; NAN without samples */
};

struct rp_series;

/* ptime_ms: the stream's packet time. seconds: capacity, at most RP_SERIES_MAX_SECONDS
 * (more is cut to it). NULL when out of memory or ptime_ms is 0. */
struct rp_series *rp_series_new(unsigned ptime_ms, unsigned seconds);
void rp_series_free(struct rp_series *s);

/* The second packet `index` (0: the first sent) was sent in; a negative index
 * (a stream whose start is not known exactly) counts in second 0. */
uint64_t rp_series_second_of(const struct rp_series *s, int64_t index);

/* One unique packet: its index, transit (ns, any fixed origin), J after it (ns)
 * and whether it was late for each buffer. Beyond the capacity: not kept. */
void rp_series_add(struct rp_series *s, int64_t index, double transit_ns, double jitter_ns, bool late,
                   bool late_adaptive);

/* The seconds of the packets with indices lo..hi-1 (lo <= 0: what the stream
 * expected), delay above min_transit_ns (same origin as the transits), into a
 * new array of *n entries that the caller frees (NULL when *n is 0). lost = the
 * second's expected packets minus those received. 0, or -1 when out of memory. */
int rp_series_seconds(const struct rp_series *s, int64_t lo, int64_t hi, double min_transit_ns,
                      struct rp_second **out, size_t *n);

#endif
