/* Control API request bodies: JSON in, validated parameters out, or a one-line
 * reason for a 400. Pure: no HTTP, no sockets, so it is unit-tested and fuzzed. */
#ifndef RP_CTLREQ_H
#define RP_CTLREQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "session.h"

/* Bounds from the config (limits.*). */
struct rp_ctl_bounds {
    unsigned max_duration;
    unsigned ptime_min, ptime_max;
    unsigned bitrate_min, bitrate_max;
};

/* POST /v1/sessions. 0, or -1 with the reason in err. */
int rp_ctlreq_parse_create(const char *body, size_t len, const struct rp_ctl_bounds *b,
                           struct rp_session_params *out, char *err, size_t errlen);

struct rp_patch_req {
    bool     has_peer;
    struct sockaddr_storage peer;
    bool     stop;
    bool     has_upstream_sent;
    uint64_t upstream_sent;
};

/* PATCH /v1/sessions/{id}. 0, or -1 with the reason in err. */
int rp_ctlreq_parse_patch(const char *body, size_t len, struct rp_patch_req *out, char *err, size_t errlen);

#endif
