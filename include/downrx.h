/* The probe's receiving end of the downstream stream: which datagrams are
 * the daemon's media (a pure classifier), and what they say: receive
 * statistics, the daemon's in-band counters and the RTT samples of its
 * reflections. No sockets: the probe's loop hands datagrams in. */
#ifndef RP_DOWNRX_H
#define RP_DOWNRX_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "rxstats.h"
#include "stream.h"
#include "timeutil.h"
#include "udp.h"

/* Taken (RP_DROP_NONE, *rx filled) or why not: a datagram from any other
 * address than the media port is foreign_source; else the stream decides,
 * and a measurement element that counts no packet sent is bad_extension.
 * STUN is not media: the caller sorts it out first. */
enum rp_drop_reason rp_downrx_classify(struct rp_stream *stream, const uint8_t *buf, size_t len,
                                       const struct sockaddr *from, const struct sockaddr *media_port,
                                       struct rp_stream_rx *rx);

struct rp_downrx;
/* stream: opens downstream packets (owned from here on). rtt_cap: most RTT
 * samples kept (one per upstream packet is enough). wall: the run's steady
 * wall clock, the one its T1 come from (T4 = wall of the arrival's rx_mono).
 * NULL when out of memory. */
struct rp_downrx *rp_downrx_new(struct rp_stream *stream, const struct sockaddr *media_port, unsigned clock_rate,
                                unsigned jitter_buffer_ms, size_t rtt_cap, struct rp_wallclock wall);
void rp_downrx_free(struct rp_downrx *d);

/* One datagram from the media socket (STUN already set aside); its arrival
 * is meta->rx_mono as rp_udp_arrival checks it (rx_ns, which a wall-clock
 * step moves, is not used). */
void rp_downrx_on_datagram(struct rp_downrx *d, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta);

/* What the stream said so far: the daemon's counters as of its newest packet. */
struct rp_downrx_progress {
    uint64_t received;           /* downstream packets we took */
    uint32_t down_sent_seen;     /* downstream slots the daemon had used (sent + skipped) */
    uint32_t up_received_seen;   /* upstream packets the daemon had taken */
    uint32_t up_highest_seen;    /* upstream packets up to its latest reflection */
    uint64_t host_drops;         /* our socket's queue overflows */
    uint64_t drops[RP_DROP_COUNT];
};
void rp_downrx_progress(const struct rp_downrx *d, struct rp_downrx_progress *out);
/* sent: downstream packets the daemon says it sent (0 = unknown). */
void rp_downrx_summary(const struct rp_downrx *d, uint64_t sent, struct rp_rxsummary *out);
/* Keep per-second figures of the downstream stream and of the RTT, up to
 * `seconds` (series.h) at ptime_ms; call before the first datagram. 0, or -1
 * when out of memory. */
int rp_downrx_series_enable(struct rp_downrx *d, unsigned ptime_ms, unsigned seconds);
/* The downstream seconds (sent as in rp_downrx_summary) into a new array the
 * caller frees; see rp_rxstats_seconds(). */
int rp_downrx_seconds(const struct rp_downrx *d, uint64_t sent, struct rp_second **out, size_t *n);
/* The RTT per second of the upstream stream whose `up_sent` packets were
 * reflected (a sample counts in the second its upstream packet was sent), into
 * a new array the caller frees; NULL and 0 without a series. 0, or -1 when
 * out of memory. */
int rp_downrx_rtt_seconds(const struct rp_downrx *d, uint64_t up_sent, struct rp_rtt_second **out, size_t *n);
/* The RTT samples, in arrival order until the caller reorders them (the
 * report sorts them in place at the end); largest one in *max_ns (0 if none). */
int64_t *rp_downrx_rtts(struct rp_downrx *d, size_t *n, int64_t *max_ns);

#endif
