/* The probe's report: scores, verdict and diagnosis from what each side saw, rendered
 * as a human table, JSON (docs/report.schema.json) or a Nagios status line. */
#ifndef RP_REPORT_H
#define RP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "portcheck.h" /* struct rp_pc_range */
#include "rxstats.h"
#include "threshold.h"   /* struct rp_thresholds: warning and critical ranges per metric */

struct rp_codec_info;

/* UNKNOWN: the media host's final figures could not be trusted (rp_report.host_figures_error). */
enum rp_verdict { RP_VERDICT_PASS = 0, RP_VERDICT_WARN, RP_VERDICT_FAIL, RP_VERDICT_UNKNOWN };

enum rp_diagnosis {
    RP_DIAG_TWO_WAY = 0,
    RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED,    /* the customer would not hear the agent */
    RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED,  /* the agent would not hear the customer */
    RP_DIAG_NO_MEDIA,
    RP_DIAG_DEGRADED,                    /* two-way, but loss/jitter/delay beyond thresholds */
    RP_DIAG_SYMMETRIC_NAT,               /* two-way only thanks to latching: the agent's NAT maps per destination */
    RP_DIAG_BUFFERBLOAT,                 /* two-way, but a queue built up on the path during the test */
    RP_DIAG_PARTIAL_PORT_RANGE,          /* the test's port works both ways, sampled others of the range not */
};

/* The quick sample of the daemon's media range after the media test
 * (rp_pcp_sample; docs/port-check.md): a call gets a random port of the
 * range, so one that works says little about the others. */
#define RP_REPORT_MAX_PORT_RANGES 8
enum rp_port_sample_state {
    RP_PORT_SAMPLE_NOT_RUN = 0,  /* not tried: why says why (not a fault) */
    RP_PORT_SAMPLE_DONE,
    RP_PORT_SAMPLE_FAILED,       /* tried, no result: why says why */
};
struct rp_port_sample {
    enum rp_port_sample_state state;
    char     why[192];
    unsigned from, to;           /* the range sampled (DONE) */
    unsigned tried, blocked;     /* ports tried; of them, not reachable both ways */
    bool     upstream_blocked;   /* some of them blocked upstream (counted over all, not only the runs kept) */
    unsigned nranges;            /* runs of one outcome, ascending (first and last port tried) */
    bool     truncated;          /* more runs than fit: the last ones are left out */
    struct rp_pc_range ranges[RP_REPORT_MAX_PORT_RANGES];
};

struct rp_dir_report {
    bool     measured;      /* false: this side's figures are unavailable */
    uint64_t sent;
    struct rp_rxsummary rx; /* receiver's view; rx.expected == sent + host_skipped when sent is known */
    uint64_t host_drops;    /* datagrams the receiving host dropped (socket queue), not network loss */
    uint64_t host_skipped;  /* downstream: packets the overloaded media host skipped (its clock called
                               for them, it never sent them): counted lost, not the network's */
    double   kbps;          /* on the wire (IP+UDP+RTP) */
    double   mouth_to_ear_ms; /* one-way estimate the E-model used: RTT/2 + ptime + this direction's
                                 jitter buffer (adaptive mean or fixed) + codec look-ahead */
    double   r_factor;
    double   mos;
    uint64_t auth_failures; /* packets whose SRTP or HMAC tag did not verify (dropped) */
    uint64_t send_errors;   /* sends the sender's own host refused (local firewall, no route) */
    uint64_t foreign_source;/* upstream: authentic packets the host dropped for coming from another IP
                               than the control connection (media.allow_foreign_peer off) */
    bool     reply_only;    /* upstream: arrived only after the host had sent to the agent (stateful
                               firewall/NAT let it in as a reply: the port is not open or forwarded) */
    struct rp_second *per_second; /* the stream second by second (series.h), owned: rp_report_release();
                                     NULL and 0 when not recorded (an older daemon, not measured) */
    size_t   nseconds;
};


struct rp_report {
    char     codec[16];         /* "pcmu" */
    unsigned ptime_ms;
    unsigned bitrate;           /* bps */
    char     transport[32];     /* "rtp" | "srtp" */
    char     cipher[32];        /* SRTP suite, "" for plain RTP */
    double   duration_s;        /* media send duration */
    unsigned jitter_buffer_ms;  /* the fixed buffer's depth */
    bool     jitter_buffer_adaptive; /* the MOS counts late packets and buffer delay of the adaptive model */
    char     server[256];
    char     session_id[64];
    char     path[16];          /* "direct" | "turn-udp" | "turn-tcp" | "turns" ("" = direct) */
    struct {
        char   server[80];      /* the TURN server's address */
        char   relayed[64];     /* the relayed transport address the daemon saw as our peer */
        bool   has_added;       /* added_ms known */
        bool   vs_direct;       /* added_ms is RTT via the relay minus the direct RTT; else the RTT itself */
        double added_ms;
    } relay;                    /* with a TURN path only */
    unsigned media_port;
    char     port_range[16];    /* the daemon's media port range, "10000-20000" (for remediations);
                                   "" if its answer had none: the remediation then names no number */
    struct rp_port_sample port_sample;
    struct rp_dir_report up;    /* agent -> host, measured by the daemon */
    struct rp_dir_report down;  /* host -> agent, measured by the probe */
    char     host_figures_error[192]; /* why the daemon's final figures were rejected (they broke the
                                     contract or contradicted themselves or the probe); "" when used */
    bool     has_rtt;
    double   rtt_min_ms, rtt_avg_ms, rtt_p95_ms, rtt_max_ms;
    struct rp_rtt_second *rtt_per_second; /* by the upstream packets' send second; owned like per_second */
    size_t   nrtt_seconds;
    double   mouth_to_ear_ms;   /* the larger of the two directions' estimates (rp_dir_report) */
    struct {
        char local[64];         /* the probe's media socket */
        char control_seen[64];  /* the probe's IP as the daemon saw it on the control connection */
        char mapped[64];        /* STUN answer from the session's media port */
        char mapped_stun[64];   /* STUN answer from the STUN server (--stun, default host:3478) */
        char announced[64];     /* what the probe told the daemon (PATCH) */
        char latched[64];       /* where upstream really came from, as the daemon latched it; "" if none */
        char type[32];          /* "none" | "nat" | "symmetric" | "unknown" */
    } nat;
    /* Filled by rp_report_evaluate(): */
    enum rp_verdict   verdict;
    enum rp_diagnosis diagnosis;
    char cause[256];
    char remediation[256];
    struct rp_thresholds thresholds;     /* the ones evaluated against (Nagios perfdata) */
};

/* Frees what the report owns (the per-second arrays); the report stays valid, without them. */
void rp_report_release(struct rp_report *r);

const char *rp_verdict_name(enum rp_verdict v);     /* "pass" | "warn" | "fail" | "unknown" */
const char *rp_diagnosis_name(enum rp_diagnosis d); /* "two-way", "one-way-upstream-blocked", ... */

/* Sets nat.type from nat.local, mapped, mapped_stun, announced and latched (RFC 4787
 * terms): "none", "nat" (one mapping for every destination), "symmetric" (the
 * mapping depends on the destination), "unknown". */
void rp_report_classify_nat(struct rp_report *r);
/* Sets verdict, diagnosis, cause and remediation from the figures and thresholds.
 * Each figure is judged as the Nagios perfdata prints it (rounded to its
 * decimals), so that a reader evaluating the perfdata's warn;crit ranges gets
 * the same state for it; the diagnosis can only raise the verdict above the
 * worst of those states (a blocked direction, symmetric NAT, bufferbloat). */
void rp_report_evaluate(struct rp_report *r, const struct rp_thresholds *t);

/* What scoring needs besides the report's own counters. */
struct rp_score_in {
    const struct rp_codec_info *codec; /* E-model ie, bpl and look-ahead */
    unsigned ptime_ms;
    unsigned jitter_buffer_ms;         /* the fixed buffer */
    bool     adaptive;                 /* MOS basis: the adaptive buffer model, else the fixed buffer */
    int64_t *rtt_ns;                   /* round-trip samples, any order: sorted in place */
    size_t   nrtt;
};
/* Late packets under the buffer the MOS uses (adaptive or fixed). */
uint64_t rp_dir_late(const struct rp_report *r, const struct rp_dir_report *d);
/* Completes a report whose up/down sent and rx (wire_bytes included) are filled
 * in: kbps, r_factor and mos of each direction, the RTT figures (has_rtt is
 * false without samples), mouth_to_ear_ms, then rp_report_classify_nat() and
 * rp_report_evaluate(). */
void rp_report_finish(struct rp_report *rep, const struct rp_score_in *in, const struct rp_thresholds *t);
/* Nagios plugin exit codes: the verdict's, and UNKNOWN when nothing could be measured. */
#define RP_EXIT_OK 0
#define RP_EXIT_WARN 1
#define RP_EXIT_CRIT 2
#define RP_EXIT_UNKNOWN 3
/* RP_EXIT_OK (pass), RP_EXIT_WARN, RP_EXIT_CRIT (fail), RP_EXIT_UNKNOWN (unknown). */
int  rp_report_exit_code(const struct rp_report *r);

void rp_report_print_text(const struct rp_report *r, FILE *out);
int  rp_report_print_json(const struct rp_report *r, FILE *out);   /* jansson; 0 or -1 */
/* The --json report as a jansson object (the caller owns it); NULL when out of memory. */
struct json_t *rp_report_json(const struct rp_report *r);
void rp_report_print_nagios(const struct rp_report *r, FILE *out); /* "RTPPROBE OK - ... | perfdata" */
/* "RTPPROBE UNKNOWN - <error> (measured: pass two-way) | perfdata": a run that
 * measured but whose --textfile, --push or --html failed. */
void rp_report_print_nagios_error(const struct rp_report *r, const char *error, FILE *out);

#endif
