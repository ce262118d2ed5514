/* One probe run: open a session on rtpprobed, stream media both ways, collect
 * both sides' figures into a report. */
#ifndef RP_PROBE_H
#define RP_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "report.h"
#include "srtp.h"

struct rp_probe_opts {
    const char *server;          /* https://HOST:PORT[/prefix] */
    const char *token;
    const char *cacert;
    const char *proxy;           /* HTTP CONNECT proxy URL; NULL = the environment's (https_proxy...) */
    const char *turn;            /* turn:HOST[:PORT][?transport=udp|tcp] or turns:HOST[:PORT]; NULL = direct */
    const char *turn_user, *turn_pass; /* long-term credentials, or */
    const char *turn_secret;     /* coturn's shared secret (REST: user = expiry:agent) */
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
    unsigned    timeout_s;       /* -t: the whole run ends within this many seconds from start_ns */
    uint64_t    start_ns;        /* CLOCK_MONOTONIC instant the run's deadline counts from; 0 = the call */
    bool        keep_session;    /* do not DELETE at the end (inspection, tests) */
    bool        no_port_sample;  /* skip the quick sample of the media range (partial-port-range) */
    bool        progress;        /* live progress on stderr */
    struct rp_thresholds thresholds;
};

/* The run's deadline (-t S): setup, media, stop and drains must be done by
 * S - RP_PROBE_CLEANUP_S; the last RP_PROBE_CLEANUP_S are kept for deleting
 * the session. Each control step (the setup as a whole, the stop) gets at most
 * half of S - duration, or RP_PROBE_STEP_MAX_S if that is more; the delete at
 * most 2 s. S is at least --duration + RP_PROBE_MIN_SLACK_S; without -t it is
 * --duration + RP_PROBE_DEFAULT_SLACK_S. */
#define RP_PROBE_MIN_SLACK_S 3u
#define RP_PROBE_DEFAULT_SLACK_S 30u
#define RP_PROBE_STEP_MAX_S 10u
#define RP_PROBE_CLEANUP_S 1u

/* 0 with *report filled and evaluated; -1 with a one-line message when no
 * measurement was possible (daemon unreachable, TLS, token, refused session),
 * "timeout after S s ..." when the deadline passed. */
int rp_probe_run(const struct rp_probe_opts *opts, struct rp_report *report, char *err, size_t errlen);

#endif
