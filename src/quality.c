/* Upstream quality of finished sessions as Prometheus histograms. See
 * include/quality.h. */
#include <math.h>
#include <string.h>

#include "quality.h"
#include "report.h"

/* Fixed bucket bounds (docs/monitoring.md): alert rules and dashboards are
 * written against them; 3.6 and 4 are the default MOS thresholds. */
static const double loss_bounds[] = { 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1 };
static const double jitter_bounds[] = { 0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5 };
static const double mos_bounds[] = { 1, 2, 3, 3.6, 4, 4.2, 4.4, 4.5 };
static const double r_bounds[] = { 50, 60, 70, 80, 90, 93.2 };

#define FAMILY(n, h, b) { .name = n, .help = h, .nbounds = sizeof b / sizeof b[0], .bounds = b }
static const struct rp_quality_family_info families[RP_QF_COUNT] = {
    [RP_QF_LOSS] = FAMILY("rtpprobed_session_loss_ratio",
                          "Upstream packet loss (0-1) of finished sessions that received media.", loss_bounds),
    [RP_QF_JITTER] = FAMILY("rtpprobed_session_jitter_seconds",
                            "Upstream mean interarrival jitter (RFC 3550) of finished sessions, in seconds.",
                            jitter_bounds),
    [RP_QF_MOS] = FAMILY("rtpprobed_session_mos",
                         "Upstream E-model MOS of finished sessions (no network delay: docs/measurements.md).",
                         mos_bounds),
    [RP_QF_R] = FAMILY("rtpprobed_session_r_factor",
                       "Upstream E-model R factor of finished sessions (no network delay: docs/measurements.md).",
                       r_bounds),
};
#undef FAMILY

_Static_assert(sizeof loss_bounds / sizeof loss_bounds[0] <= RP_QUALITY_MAX_BUCKETS, "room for the buckets");
_Static_assert(sizeof jitter_bounds / sizeof jitter_bounds[0] <= RP_QUALITY_MAX_BUCKETS, "room for the buckets");
_Static_assert(sizeof mos_bounds / sizeof mos_bounds[0] <= RP_QUALITY_MAX_BUCKETS, "room for the buckets");
_Static_assert(sizeof r_bounds / sizeof r_bounds[0] <= RP_QUALITY_MAX_BUCKETS, "room for the buckets");

const struct rp_quality_family_info *rp_quality_family(enum rp_quality_family f)
{
    return f < RP_QF_COUNT ? &families[f] : NULL;
}

const char *rp_transport_name(enum rp_transport t)
{
    return t == RP_TRANSPORT_SRTP ? "srtp" : "rtp";
}

void rp_quality_score(const struct rp_rxsummary *rx, enum rp_codec_id codec, unsigned ptime_ms,
                      unsigned jitter_buffer_ms, struct rp_quality_sample *out)
{
    /* The probe's own scoring, so that the daemon's MOS and the report's differ
     * only by the path delay: a report with this stream as its upstream and no
     * RTT samples (no network delay in the mouth-to-ear estimate). */
    struct rp_report rep;
    memset(&rep, 0, sizeof rep);
    rep.up.measured = true;
    rep.up.sent = rx->expected;
    rep.up.rx = *rx;
    struct rp_score_in in = {
        .codec = rp_codec_get(codec),
        .ptime_ms = ptime_ms,
        .jitter_buffer_ms = jitter_buffer_ms,
        .adaptive = true, /* the probe's default MOS basis */
    };
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    rp_report_finish(&rep, &in, &t);
    /* The report's upstream loss_pct, as a ratio. */
    double loss = rx->loss_pct / 100.0;
    out->loss_ratio = loss < 0 ? 0 : loss > 1 ? 1 : loss;
    out->jitter_s = rx->jitter_mean_ms / 1000.0;
    out->mos = rep.up.mos;
    out->r_factor = rep.up.r_factor;
}

static void observe(struct rp_histogram *h, const struct rp_quality_family_info *f, double v)
{
    if (!isfinite(v))
        return;
    for (unsigned i = 0; i < f->nbounds; i++)
        if (v <= f->bounds[i])
            h->bucket[i]++;
    h->count++;
    h->sum += v;
}

void rp_quality_observe(struct rp_quality *q, enum rp_codec_id codec, enum rp_transport t,
                        const struct rp_quality_sample *s)
{
    if (codec >= RP_CODEC_COUNT || t >= RP_TRANSPORT_COUNT)
        return;
    observe(&q->h[RP_QF_LOSS][codec][t], &families[RP_QF_LOSS], s->loss_ratio);
    observe(&q->h[RP_QF_JITTER][codec][t], &families[RP_QF_JITTER], s->jitter_s);
    observe(&q->h[RP_QF_MOS][codec][t], &families[RP_QF_MOS], s->mos);
    observe(&q->h[RP_QF_R][codec][t], &families[RP_QF_R], s->r_factor);
}
