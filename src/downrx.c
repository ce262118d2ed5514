/* The probe's receiving end of the downstream stream. See include/downrx.h. */
#include "downrx.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"
#include "timeutil.h"

/* An RTT sample beyond this is a bogus reflection, not a network. */
#define RTT_SANE_NS (10ull * 1000 * NS_PER_MS)

struct rp_downrx {
    struct rp_stream *stream;
    struct sockaddr_storage media_port;
    unsigned overhead;          /* IP + UDP bytes per datagram */
    struct rp_rxstats *stats;
    struct rp_wallclock wall;   /* the probe's, as in its T1 */
    uint64_t last_rx_mono;      /* the latest arrival taken (rp_udp_arrival) */
    bool first;
    struct rp_downrx_progress seen;
    int64_t *rtt_ns;
    size_t nrtt, rtt_cap;
    int64_t rtt_max_ns;
    bool have_refl;
    uint32_t last_refl_seq;
    /* RTT per second of upstream (on request): sum and count of its samples. */
    struct rtt_bin { int64_t sum_ns; uint32_t n; } *rtt_bins;
    unsigned rtt_ptime_ms, rtt_seconds;
};

enum rp_drop_reason rp_downrx_classify(struct rp_stream *stream, const uint8_t *buf, size_t len,
                                       const struct sockaddr *from, const struct sockaddr *media_port,
                                       struct rp_stream_rx *rx)
{
    if (!rp_addr_equal(from, media_port))
        return RP_DROP_FOREIGN_SOURCE;
    enum rp_drop_reason why = rp_stream_open(stream, buf, len, rx);
    /* down_sent counts the slots up to the packet that carries it: never 0 from a real daemon. */
    if (why == RP_DROP_NONE && rx->elem.down.down_sent == 0)
        return RP_DROP_BAD_EXT;
    return why;
}

struct rp_downrx *rp_downrx_new(struct rp_stream *stream, const struct sockaddr *media_port, unsigned clock_rate,
                                unsigned jitter_buffer_ms, size_t rtt_cap, struct rp_wallclock wall)
{
    struct rp_downrx *d = calloc(1, sizeof *d);
    if (!d) {
        rp_stream_free(stream);
        return NULL;
    }
    d->stream = stream;
    memcpy(&d->media_port, media_port, rp_addr_len(media_port));
    d->overhead = rp_addr_udp_overhead(media_port);
    d->stats = rp_rxstats_new(clock_rate, jitter_buffer_ms);
    d->rtt_cap = rtt_cap;
    d->wall = wall;
    d->rtt_ns = calloc(rtt_cap ? rtt_cap : 1, sizeof *d->rtt_ns);
    if (!d->stats || !d->rtt_ns) {
        rp_downrx_free(d);
        return NULL;
    }
    return d;
}

void rp_downrx_free(struct rp_downrx *d)
{
    if (!d)
        return;
    rp_stream_free(d->stream);
    rp_rxstats_free(d->stats);
    free(d->rtt_ns);
    free(d->rtt_bins);
    free(d);
}

/* RTT = (T4 - T1) - (T3 - T2): no clock sync needed, and with T1 and T4 on
 * our steady wall clock and T2, T3 on the daemon's, each difference is a
 * monotonic interval. One sample per reflection. */
static void record_rtt(struct rp_downrx *d, const struct rp_mext_down *m, uint64_t t4)
{
    if (!(m->flags & RP_MEXT_F_REFLECTION) || (d->have_refl && m->refl_seq == d->last_refl_seq))
        return;
    d->have_refl = true;
    d->last_refl_seq = m->refl_seq;
    int64_t rtt = (int64_t)(t4 - m->t1_ns) - (int64_t)(m->t3_ns - m->t2_ns);
    if (rtt < 0 || (uint64_t)rtt > RTT_SANE_NS)
        return;
    /* The reflected counter is the upstream packet's index: its send second. */
    uint64_t t = d->rtt_bins ? (uint64_t)m->refl_seq * d->rtt_ptime_ms / 1000u : UINT64_MAX;
    if (t < d->rtt_seconds) {
        d->rtt_bins[t].sum_ns += rtt;
        d->rtt_bins[t].n++;
    }
    if (d->nrtt == d->rtt_cap)
        return;
    d->rtt_ns[d->nrtt++] = rtt;
    if (rtt > d->rtt_max_ns)
        d->rtt_max_ns = rtt;
}

static void take(struct rp_downrx *d, const struct rp_stream_rx *rx, size_t len, uint64_t rx_mono)
{
    const struct rp_mext_down *m = &rx->elem.down;
    if (!d->first) {
        /* down_sent counts slots up to this packet (its index + 1): slot 0 was down_sent - 1 earlier. */
        rp_rxstats_set_first_seq(d->stats, (uint16_t)(rx->hdr.seq - (uint16_t)(m->down_sent - 1)));
        d->first = true;
    }
    /* Bytes on the wire: the datagram as received, SRTP tag included. */
    rp_rxstats_add(d->stats, rx->hdr.seq, rx->hdr.ts, rx_mono, len + d->overhead);
    if (m->down_sent > d->seen.down_sent_seen)
        d->seen.down_sent_seen = m->down_sent;
    if (m->up_received > d->seen.up_received_seen)
        d->seen.up_received_seen = m->up_received;
    if ((m->flags & RP_MEXT_F_REFLECTION) && m->refl_seq + 1 > d->seen.up_highest_seen)
        d->seen.up_highest_seen = m->refl_seq + 1;
    record_rtt(d, m, rp_wallclock_ns(&d->wall, rx_mono));
}

void rp_downrx_on_datagram(struct rp_downrx *d, const uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    if (meta->has_drops)
        d->seen.host_drops = meta->rxq_drops;
    struct rp_stream_rx rx;
    enum rp_drop_reason why = rp_downrx_classify(d->stream, buf, len, (const struct sockaddr *)&meta->from,
                                                 (const struct sockaddr *)&d->media_port, &rx);
    if (why != RP_DROP_NONE) {
        d->seen.drops[why]++;
        return;
    }
    take(d, &rx, len, rp_udp_arrival(meta, &d->last_rx_mono));
}

void rp_downrx_progress(const struct rp_downrx *d, struct rp_downrx_progress *out)
{
    *out = d->seen;
    out->received = rp_rxstats_received(d->stats);
}

void rp_downrx_summary(const struct rp_downrx *d, uint64_t sent, struct rp_rxsummary *out)
{
    rp_rxstats_summary(d->stats, sent, out);
}

int64_t *rp_downrx_rtts(struct rp_downrx *d, size_t *n, int64_t *max_ns)
{
    *n = d->nrtt;
    *max_ns = d->rtt_max_ns;
    return d->rtt_ns;
}

int rp_downrx_series_enable(struct rp_downrx *d, unsigned ptime_ms, unsigned seconds)
{
    if (seconds > RP_SERIES_MAX_SECONDS)
        seconds = RP_SERIES_MAX_SECONDS;
    if (ptime_ms == 0 || d->rtt_bins || rp_rxstats_series_enable(d->stats, ptime_ms, seconds) < 0)
        return -1;
    d->rtt_bins = calloc(seconds ? seconds : 1, sizeof *d->rtt_bins);
    d->rtt_ptime_ms = ptime_ms;
    d->rtt_seconds = seconds;
    return d->rtt_bins ? 0 : -1;
}

int rp_downrx_seconds(const struct rp_downrx *d, uint64_t sent, struct rp_second **out, size_t *n)
{
    return rp_rxstats_seconds(d->stats, sent, out, n);
}

int rp_downrx_rtt_seconds(const struct rp_downrx *d, uint64_t up_sent, struct rp_rtt_second **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!d->rtt_bins || up_sent == 0)
        return 0;
    uint64_t len = (up_sent - 1) * d->rtt_ptime_ms / 1000u + 1u;
    if (len > d->rtt_seconds)
        len = d->rtt_seconds;
    if (len == 0)
        return 0;
    struct rp_rtt_second *v = calloc((size_t)len, sizeof *v);
    if (!v)
        return -1;
    for (size_t t = 0; t < len; t++) {
        v[t].samples = d->rtt_bins[t].n;
        v[t].rtt_ms = v[t].samples ? (double)d->rtt_bins[t].sum_ns / v[t].samples / NS_PER_MS : NAN;
    }
    *out = v;
    *n = (size_t)len;
    return 0;
}
