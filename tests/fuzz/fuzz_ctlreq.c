/* libFuzzer target: a control API request body, as POST /v1/sessions and as
 * PATCH /v1/sessions/{id}, with the daemon's default limits.
 *
 * Aborts when a parse fails without a reason, or succeeds with parameters
 * outside the bounds it was given or that the codec cannot use. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>

#include "codec.h"
#include "ctlreq.h"
#include "srtp.h"

static void check_create(const struct rp_ctl_bounds *b, const struct rp_session_params *p)
{
    if ((unsigned)p->codec >= RP_CODEC_COUNT || p->ptime_ms < b->ptime_min || p->ptime_ms > b->ptime_max ||
        p->duration_s < 1 || p->duration_s > b->max_duration || p->jitter_buffer_ms > 1000 ||
        !rp_codec_ptime_valid(p->codec, p->ptime_ms) || !rp_codec_bitrate_valid(p->codec, p->bitrate_bps))
        abort();
    if (p->codec == RP_CODEC_OPUS && (p->bitrate_bps < b->bitrate_min || p->bitrate_bps > b->bitrate_max))
        abort();
    if (p->codec != RP_CODEC_OPUS && p->bitrate_bps != 64000)
        abort();
    if ((unsigned)p->suite >= RP_SRTP_NSUITES || (!p->srtp && (p->has_key_up || p->suite != 0)))
        abort();
}

static void check_patch(const struct rp_patch_req *r)
{
    if (r->has_peer && r->peer.ss_family != AF_INET && r->peer.ss_family != AF_INET6)
        abort();
    if (r->has_upstream_sent && r->upstream_sent > UINT32_MAX)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const struct rp_ctl_bounds bounds = {
        .max_duration = 3600, .ptime_min = 10, .ptime_max = 60, .bitrate_min = 6000, .bitrate_max = 128000,
    };
    /* The body is not NUL-terminated, as it arrives from the HTTP layer. */
    const char *body = (const char *)data;
    char err[256];

    struct rp_session_params params;
    err[0] = '\0';
    if (rp_ctlreq_parse_create(body, size, &bounds, &params, err, sizeof err) == 0)
        check_create(&bounds, &params);
    else if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
        abort();

    struct rp_patch_req patch;
    err[0] = '\0';
    if (rp_ctlreq_parse_patch(body, size, &patch, err, sizeof err) == 0)
        check_patch(&patch);
    else if (err[0] == '\0' || memchr(err, '\0', sizeof err) == NULL)
        abort();
    return 0;
}
