/* Receive-side statistics of one RTP stream: loss, duplicates, reordering,
 * RFC 3550 interarrival jitter, IPDV distribution, loss bursts, late packets
 * against a simulated fixed jitter buffer. No allocation per packet. */
#ifndef RP_RXSTATS_H
#define RP_RXSTATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "series.h"

struct rp_rxstats;

enum rp_rx_class {
    RP_RX_IN_ORDER = 0,  /* new highest sequence (possibly after a gap) */
    RP_RX_REORDERED,     /* older than the highest seen, not seen before */
    RP_RX_DUPLICATE,     /* seen before: not counted as received */
};

/* clock_rate: RTP clock (Hz). jb_ms: depth of the fixed jitter buffer; a packet
 * whose transit exceeds the lowest transit seen so far by more than jb_ms is late
 * under it. The adaptive buffer model (jbuf.h) judges the same arrivals too. */
struct rp_rxstats *rp_rxstats_new(unsigned clock_rate, unsigned jb_ms);
void rp_rxstats_free(struct rp_rxstats *s);

/* The sequence number the sender started with, when known (counts losses before
 * the first arrival). Call before the first rp_rxstats_add(). */
void rp_rxstats_set_first_seq(struct rp_rxstats *s, uint16_t first_seq);

/* One arrival. arrival_ns: receive time (the kernel's timestamp on CLOCK_MONOTONIC, ns).
 * wire_bytes: the datagram's size on the wire (IP + UDP + RTP). */
enum rp_rx_class rp_rxstats_add(struct rp_rxstats *s, uint16_t seq, uint32_t rtp_ts,
                                uint64_t arrival_ns, size_t wire_bytes);

/* The sender's abs-send-time stamp (24 bits, rtp.h) of the packet just added,
 * for a packet rp_rxstats_add() did not find a duplicate; arrival_ns as
 * given to it. Stamps are unwrapped by the arrival gap (an outage longer
 * than the 64 s wrap's half is no step back). The network's transit
 * (arrival minus send time) then gives the delay rise, and the sender's lag
 * (send time minus media time) its own. Costs three allocations, at the
 * first call. */
void rp_rxstats_add_send_stamp(struct rp_rxstats *s, uint64_t arrival_ns, uint32_t stamp);

struct rp_rxsummary {
    uint64_t received;      /* unique packets (duplicates excluded) */
    uint64_t expected;      /* `sent` when known, else highest - first + 1 */
    int64_t  lost;          /* expected - received */
    double   loss_pct;      /* 100 * lost / expected; 0 when expected is 0 */
    uint64_t duplicates;
    uint64_t reordered;
    uint64_t late;          /* received but too late for a fixed buffer of jb_ms (above the lowest transit) */
    uint64_t late_adaptive; /* too late for the adaptive buffer model (jbuf.h) */
    double   jb_mean_ms;    /* the adaptive buffer's mean and largest target (its depth) */
    double   jb_max_ms;
    double   delay_p50_ms;  /* transit above the run's lowest: p50, p95, max */
    double   delay_p95_ms;
    double   delay_max_ms;
    double   delay_rise_ms; /* how far the floor (lowest transit of 2 s) rose above the run's lowest:
                               a standing queue, not jitter; from the send stamps when they cover a
                               full 2 s window (rp_rxstats_add_send_stamp), else from the media times */
    bool     has_sender_lag;/* the sender stamped send times over at least one full 2 s window */
    double   sender_lag_ms; /* how far the floor of the sender's lag (send stamp minus media time)
                               rose: the sender falling behind its own media clock (a busy
                               machine), not a queue */
    uint64_t bursts;        /* runs of consecutive lost packets (leading/trailing runs included when known) */
    uint32_t max_burst;     /* longest run */
    double   burst_ratio;   /* G.113 BurstR = 1/(p+q) from the run counts; 1.0 with no loss */
    double   jitter_ms;     /* RFC 3550 §6.4.1 / A.8, converted to ms: J after the last packet */
    double   jitter_mean_ms;/* mean of J over the stream (after each packet but the first), as
                               Wireshark's RTP analysis reports "Mean Jitter" */
    double   ipdv_p50_ms;   /* |IPDV| (RFC 5481) between consecutive in-order packets */
    double   ipdv_p95_ms;
    double   ipdv_p99_ms;
    double   ipdv_max_ms;
    uint64_t wire_bytes;    /* of unique packets */
    uint64_t first_arrival_ns;
    uint64_t last_arrival_ns;
};

/* Unique packets received and their bytes on the wire so far: cheap, for the
 * per-packet paths that need only these (the summary walks the windows). */
uint64_t rp_rxstats_received(const struct rp_rxstats *s);
uint64_t rp_rxstats_wire_bytes(const struct rp_rxstats *s);

/* sent: packets the sender says it sent (0 = unknown, fall back to RFC 3550 expected). */
void rp_rxstats_summary(const struct rp_rxstats *s, uint64_t sent, struct rp_rxsummary *out);

/* Also keep per-second figures (series.h) of up to `seconds` seconds of the
 * stream at ptime_ms; call before the first rp_rxstats_add(). 0, or -1 when
 * out of memory or too late. Only on request: they cost 16 bytes a second. */
int  rp_rxstats_series_enable(struct rp_rxstats *s, unsigned ptime_ms, unsigned seconds);
bool rp_rxstats_has_series(const struct rp_rxstats *s);
/* The per-second figures, with `sent` as in rp_rxstats_summary(), into a new
 * array (*out, *n; NULL and 0 without a series or a second; the caller frees
 * it): the packets and lost of the seconds sum to the summary's received and
 * lost, unless the stream outlasted the series' capacity. 0, or -1 when out
 * of memory. */
int  rp_rxstats_seconds(const struct rp_rxstats *s, uint64_t sent, struct rp_second **out, size_t *n);

#endif
