/* Histograms of the upstream quality of finished sessions, by codec and
 * transport (/metrics: rtpprobed_session_*). Plain data, fixed size: the
 * daemon keeps one set for all sessions, none per session. */
#ifndef RP_QUALITY_H
#define RP_QUALITY_H

#include <stdbool.h>
#include <stdint.h>

#include "codec.h"
#include "rxstats.h"

enum rp_quality_family { RP_QF_LOSS = 0, RP_QF_JITTER, RP_QF_MOS, RP_QF_R, RP_QF_COUNT };
enum rp_transport { RP_TRANSPORT_RTP = 0, RP_TRANSPORT_SRTP, RP_TRANSPORT_COUNT };

#define RP_QUALITY_MAX_BUCKETS 9 /* finite upper bounds; +Inf is count */

struct rp_histogram {
    uint64_t bucket[RP_QUALITY_MAX_BUCKETS]; /* cumulative: observations <= the bound */
    uint64_t count;
    double   sum;
};

struct rp_quality {
    struct rp_histogram h[RP_QF_COUNT][RP_CODEC_COUNT][RP_TRANSPORT_COUNT];
};

/* One finished session's upstream: loss as a ratio 0-1, mean jitter in
 * seconds, MOS and R of the E-model. */
struct rp_quality_sample {
    double loss_ratio;
    double jitter_s;
    double mos;
    double r_factor;
};

struct rp_quality_family_info {
    const char *name;        /* "rtpprobed_session_loss_ratio" */
    const char *help;
    unsigned    nbounds;
    const double *bounds;    /* ascending */
};
const struct rp_quality_family_info *rp_quality_family(enum rp_quality_family f);
const char *rp_transport_name(enum rp_transport t); /* "rtp" | "srtp" */

/* The sample from the daemon's own figures of a stream: loss and mean jitter
 * as received; MOS and R with the probe's scoring (rp_report_finish) on the
 * adaptive buffer's basis, without the network delay the daemon cannot know
 * (docs/measurements.md). */
void rp_quality_score(const struct rp_rxsummary *rx, enum rp_codec_id codec, unsigned ptime_ms,
                      unsigned jitter_buffer_ms, struct rp_quality_sample *out);
/* Adds one observation to each family of (codec, transport). A value that is
 * not a finite number is left out of its family. */
void rp_quality_observe(struct rp_quality *q, enum rp_codec_id codec, enum rp_transport t,
                        const struct rp_quality_sample *s);

#endif
