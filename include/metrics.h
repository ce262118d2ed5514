/* Prometheus text exposition (format 0.0.4) of the daemon's counters. Pure
 * rendering: the caller gathers a snapshot. */
#ifndef RP_METRICS_H
#define RP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agents.h"
#include "codec.h"
#include "echo.h"
#include "procstat.h"
#include "quality.h"
#include "session.h"
#include "stunsrv.h"
#include "webctl.h"

#define RP_HTTP_STATUS_CLASSES 6 /* 1xx..5xx, index = status / 100 */

struct rp_metrics_snapshot {
    unsigned sessions_active;
    unsigned sessions_max;
    uint64_t sessions_created;
    unsigned sessions_by_codec[RP_CODEC_COUNT]; /* open now */
    unsigned port_min, port_max;
    bool     have_ports_bound;         /* /proc/self/net/udp{,6} could be read */
    unsigned media_ports_bound;        /* even ports of the range bound by anyone */
    struct rp_procstat proc;           /* process_*: families it lacks are left out */
    struct rp_session_counters media;          /* all sessions, live and gone */
    uint64_t stun_listener[RP_STUN_VERDICTS];  /* the stun.listen socket; 0 when off */
    uint64_t echo[RP_ECHO_VERDICTS];           /* echo ports; 0 when none */
    uint64_t http_responses[RP_HTTP_STATUS_CLASSES];
    uint64_t auth_failures_control;            /* 401s */
    uint64_t slow_clients_dropped;             /* no complete request within limits.request_timeout */
    const struct rp_quality *quality;          /* finished sessions' histograms; NULL: left out */
    const struct rp_agents *agents;            /* POST /v1/reports; NULL: left out */
    struct rp_webctl_counters webrtc;          /* the browser pre-call test's control side */
};

/* The exposition (NUL-terminated) in a buffer from malloc, as large as it
 * needs (a thousand agents are about a megabyte); its length in *len. NULL
 * when out of memory. The caller frees it. */
char *rp_metrics_render(const struct rp_metrics_snapshot *m, size_t *len);

#endif
