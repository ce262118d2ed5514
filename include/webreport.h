/* The browser pre-call report (docs/webrtc.md). */
#ifndef RP_WEBREPORT_H
#define RP_WEBREPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "contract.h"
#include "report.h"

struct json_t;
struct rp_codec_info;
struct rp_thresholds;

/* The browser pre-call report: the daemon's own view of upstream (its session) and the browser's getStats()
 * view of downstream, combined into the CLI's report (report.h) and scored by the same code. */
#define RP_WEBREPORT_SR_MAX 120   /* sender reports' delays taken (one a second, 120 s at most) */

struct rp_browser_stats {
    char     user_agent[160];              /* navigator.userAgent, cut to fit: shown, never parsed */
    /* outbound-rtp (the browser's audio sender) */
    uint64_t packets_sent;
    /* inbound-rtp (our downstream, as the browser's receiver saw it) */
    bool     has_inbound;
    uint64_t packets_received;
    int64_t  packets_lost;                 /* may be negative (duplicates), as RFC 3550 */
    double   jitter_s;                     /* RFC 3550 interarrival jitter, seconds */
    double   jitter_buffer_delay_s;        /* sum (jitterBufferDelay) */
    uint64_t jitter_buffer_emitted;        /* jitterBufferEmittedCount */
    bool     has_jitter_buffer;            /* jitterBufferDelay and jitterBufferEmittedCount given */
    bool     has_concealment;              /* concealedSamples and totalSamplesReceived given */
    /* Samples per channel at the decoder's rate (NetEq's fs_hz: 48000 for Opus, 8000 for PCMU): docs/webrtc.md */
    uint64_t concealed_samples, silent_concealed_samples, total_samples_received, concealment_events;
    uint64_t bytes_received;               /* RTP payload bytes (RFC 3550 octet count): shown only, the bitrate
                                              comes from the daemon's own wire bytes */
    /* When the inbound-rtp was read and when its last packet came (getStats ms, DOMHighResTimeStamp): the
     * concealment after the stream's end is not lateness. Both 0 when not given. */
    double   stats_time_ms, last_packet_ms;
    /* remote-inbound-rtp (our RR about the browser's upstream): the browser's RTT */
    bool     has_rtt;
    double   rtt_s;                        /* latest roundTripTime, seconds */
    double   rtt_total_s; uint64_t rtt_measurements;   /* totalRoundTripTime (a sum), roundTripTimeMeasurements */
    /* the selected candidate pair */
    char     local_type[8], remote_type[8];   /* host|srflx|prflx|relay */
    char     relay_protocol[8];               /* udp|tcp|tls, "" when not relayed */
    char     local_address[64], remote_address[64];   /* "ip:port", "[ipv6]:port", or an mDNS name:port */
    /* ICE connectivity checks over every candidate pair ("checks" group: requestsSent, responsesReceived):
     * before a handshake, the only packets each way, so what tells a blocked direction then */
    bool     has_checks;
    uint64_t checks_sent, checks_answered;
    /* remote-outbound-rtp, once per SR of ours ("remote_outbound": {"delays_ms": [...]}): when each
     * arrived less when we sent it, ms, the clocks' offset included alike: its floor's rise is
     * downstream's queue */
    size_t   nsr_delays;
    double   sr_delays_ms[RP_WEBREPORT_SR_MAX];
};

/* Decodes the page's POST body (docs/webrtc.md: field names as getStats() names them, grouped
 * {"outbound":{...},"inbound":{...},"remote_inbound":{...},"pair":{...},"user_agent":""}). Every field range-checked
 * (counts integers 0..2^40, packetsLost -2^31..2^40, seconds finite 0..3600 -- the sums jitterBufferDelay and
 * totalRoundTripTime 0..2^40 h --, strings bounded printable ASCII); a group may be missing (has_inbound, has_rtt
 * false), a key may be missing or null (0, "") except the ones docs/webrtc.md names as required; unknown keys
 * ignored. 0, or -1 and "KEY: why" in err (never the value). */
int rp_browser_stats_decode(const struct json_t *j, struct rp_browser_stats *out, char *err, size_t errlen);

#define RP_WEBREPORT_RTT_MAX 128   /* round trips the report scores at most */

struct rp_webreport_in {
    const struct rp_contract_session *daemon;   /* the session's own document (upstream rx, downstream sent) */
    const struct rp_browser_stats *browser;
    const struct rp_codec_info *codec;
    unsigned ptime_ms;
    /* the daemon's own round trips from the browser's RRs (LSR/DLSR), in order (Chromium sends one every
     * 5 s or so): the report's RTT figures, and how far their floor rose, less upstream's own rise, is
     * downstream's delay rise (a browser tells nobody its one-way delay); none: the browser's mean */
    const double *rtt_series_ms;
    size_t   nrtt_series;
    const char *server;                          /* for the report's "server" */
    const char *port_range;                      /* "10000-20000" */
    /* The session's transport: did the DTLS handshake complete, and the ICE checks the daemon
     * received (any verdict) and answered. Without a handshake no media flowed either way, and the
     * report judges each direction by the checks (docs/webrtc.md). */
    bool     connected;
    uint64_t checks_received, checks_answered;
    const char *handshake_error;                 /* why the DTLS handshake failed, "" or NULL: none said */
};

/* Fills *out as the CLI would (codec, transport "srtp", cipher, path "direct" or "turn-udp"/"turn-tcp"/"turns"
 * from the pair, up from the daemon, down from the browser, RTT, NAT block from the pair) and calls
 * rp_report_finish with the adaptive basis. Downstream late packets (not lost, concealed) come from the
 * browser's concealment: docs/webrtc.md says how. 0 with err "" or a note for the log (the browser's
 * packetsSent was older than the daemon's count), or -1 + err (figures that contradict each other; *out
 * then holds nothing to free). Release *out with rp_report_release (it owns nothing today). */
int rp_webreport_build(const struct rp_webreport_in *in, const struct rp_thresholds *t, struct rp_report *out,
                       char *err, size_t errlen);

#endif
