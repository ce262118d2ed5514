/* A model of an adaptive jitter buffer, after WebRTC NetEq's delay manager:
 * it decides which packets a receiver that follows slow delay changes would
 * have played out and which it would have found too late. Pure arithmetic on
 * arrival and media times; the algorithm and its parameters are written up in
 * docs/measurements.md ("Late packets (adaptive jitter buffer ...)"). */
#ifndef RP_JBUF_H
#define RP_JBUF_H

#include <stdbool.h>
#include <stdint.h>

struct rp_jbuf;

struct rp_jbuf *rp_jbuf_new(void);
void rp_jbuf_free(struct rp_jbuf *j);

/* One packet: its arrival (ns, monotonic) and transit (arrival minus media
 * time, ns, any fixed origin). True when it misses its playout time under the
 * buffer's target as it stood before this packet; then the target moves. */
bool rp_jbuf_add(struct rp_jbuf *j, int64_t arrival_ns, int64_t transit_ns);

struct rp_jbuf_stats {
    uint64_t late;
    double   mean_ms;   /* the target's mean over the packets (the buffer's mean depth) */
    double   max_ms;
    bool     have_floor;   /* a full window was seen (2 s of stream, >= 20 packets in it) */
    int64_t  floor_max_ns; /* the highest floor of a full window (lowest transit of the last
                              2 s), in the transit's origin: how far a standing queue raised it */
};
void rp_jbuf_stats(const struct rp_jbuf *j, struct rp_jbuf_stats *out);

#endif
