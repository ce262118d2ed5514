/* One probe run: open a session on rtpprobed, stream media both ways, collect
 * both sides' figures into a report. */
#ifndef RP_PROBE_H
#define RP_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "codec.h"
#include "report.h"
#include "srtp.h"

struct rp_probe_opts {
    const char *server;          /* https://HOST:PORT[/prefix] */
    const char *token;
    const char *cacert;
    const char *proxy;           /* HTTP CONNECT proxy URL; NULL = the environment's (https_proxy...) */
    const char *stun;            /* STUN server HOST[:PORT]; NULL = the media host's 3478; "none" = off */
    bool        insecure;
    bool        verbose;         /* the control exchange on stderr (token redacted) */
    enum rp_codec_id codec;
    bool        srtp;
    enum rp_srtp_suite srtp_suite;
    unsigned    ptime_ms;
    unsigned    duration_s;
    unsigned    bitrate_bps;     /* 0 = codec default */
    int         dscp;            /* -1 = leave unmarked */
    unsigned    jitter_buffer_ms;    /* the fixed buffer (reported always; the MOS basis unless adaptive) */
    bool        jitter_buffer_adaptive; /* MOS from the adaptive buffer model */
    unsigned    timeout_s;       /* control API: setup within this, teardown within as much again */
    bool        keep_session;    /* do not DELETE at the end (inspection, tests) */
    bool        progress;        /* live progress on stderr */
    struct rp_thresholds thresholds;
};

/* 0 with *report filled and evaluated; -1 with a one-line message when no
 * measurement was possible (daemon unreachable, TLS, token, refused session). */
int rp_probe_run(const struct rp_probe_opts *opts, struct rp_report *report, char *err, size_t errlen);

#endif
