/* One probe session on the daemon: upstream receive statistics, latching,
 * and the downstream stream it sends. No I/O: the reflector owns the socket
 * and the clocks; the session takes (datagram, arrival time) and hands what
 * it sends to a callback. Its figures leave as plain data (contract.h). */
#ifndef RP_SESSION_H
#define RP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "codec.h"
#include "contract.h"
#include "rtp.h"
#include "srtp.h"
#include "stream.h"
#include "stun.h"
#include "udp.h"
#include "webrtc.h"

#define RP_SESSION_ID_LEN RP_CONTRACT_ID_LEN

struct rp_session;

struct rp_payload_cache;

struct rp_session_params {
    enum rp_codec_id codec;
    unsigned ptime_ms;
    unsigned bitrate_bps;
    unsigned duration_s;
    unsigned jitter_buffer_ms;
    bool     srtp;               /* else plain RTP, authenticated by the measurement HMAC */
    enum rp_srtp_suite suite;
    bool     has_key_up;         /* the client chose the upstream SRTP key (e.g. an ffmpeg sender) */
    bool     allow_foreign_peer; /* media.allow_foreign_peer: latch/announce other IPs than the client's */
    bool     series;             /* keep upstream per-second figures (the document's upstream.per_second) */
    uint8_t  key_up[RP_SRTP_MAX_KEY_LEN];
    struct rp_payload_cache *payload_cache; /* the daemon's shared payload loops; NULL: a private one */
    /* A browser's session (webrtc.h): ICE-lite, DTLS-SRTP keys, RTCP; read
     * by rp_session_new only. NULL: a probe's session. */
    const struct rp_webrtc_params *webrtc;
};

/* Sends one datagram from the session's port. 0, or -1 when the host refused
 * it (ICMP unreachable, local firewall): counted, the clock goes on. */
typedef int rp_session_send_fn(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to);

/* port: the session's media port (for its document). client: the client
 * as seen on the control connection. now_mono and now_real: both clocks read
 * together; their offset is the session's steady wall clock for T2 and T3
 * (timeutil.h), so a later step of the wall clock moves neither. */
struct rp_session *rp_session_new(const struct rp_session_params *p, uint16_t port,
                                  const struct sockaddr *client, uint64_t now_mono, uint64_t now_real,
                                  rp_session_send_fn *send, void *send_ctx, char *err, size_t errlen);
void rp_session_free(struct rp_session *s);
/* The daemon's STUN answer limit (stun.rate), shared with stun.listen and
 * every other session: a flood spread over ports gets no more answers. The
 * session asks it with its own now_mono (no clock of its own); it does not
 * own it. Without one (NULL, the default) every Binding request is answered. */
struct rp_ratelimit;
void rp_session_set_stun_rate(struct rp_session *s, struct rp_ratelimit *rate);

const char *rp_session_id(const struct rp_session *s);
uint16_t rp_session_port(const struct rp_session *s);
const struct rp_session_params *rp_session_params(const struct rp_session *s);
const struct sockaddr *rp_session_client(const struct rp_session *s);
bool     rp_session_expired(const struct rp_session *s, uint64_t now_mono);

/* An upstream datagram arrived on the session's port (its arrival: meta->rx_mono,
 * CLOCK_MONOTONIC, as rp_udp_arrival checks it). RTP never produces a reply:
 * the downstream stream is clocked, so input cannot amplify output. A STUN
 * Binding request gets one answer, no larger than the request, within the
 * source's share of stun.rate (rp_session_set_stun_rate). */
void rp_session_on_datagram(struct rp_session *s, const uint8_t *buf, size_t len,
                            const struct rp_udp_meta *meta, uint64_t now_mono);

/* A datagram too large to be ours arrived (the reflector's buffer truncated it). */
void rp_session_note_oversized(struct rp_session *s);

/* The probe's announced media address (PATCH). */
void rp_session_announce(struct rp_session *s, const struct sockaddr *addr, uint64_t now_mono);
/* Stop downstream and freeze the counters; upstream_sent lets loss include the tail. */
void rp_session_stop(struct rp_session *s, uint64_t upstream_sent);
bool rp_session_stopped(const struct rp_session *s);

/* Downstream scheduling: monotonic ns of the next packet due, or UINT64_MAX if none. */
uint64_t rp_session_next_due(const struct rp_session *s);
/* Send every downstream packet due at now_mono, which is also their transmit
 * time T3 (on the session's steady wall clock). Returns packets sent. The
 * packet index (RTP seq and timestamp) is the slot of the media clock: after
 * a stall of more than 5 periods the overdue slots are skipped and counted
 * (downstream.skipped), leaving a gap the probe sees as loss; a shorter one
 * is caught up at once. */
unsigned rp_session_send_due(struct rp_session *s, uint64_t now_mono);

/* A browser's session: its WebRTC transport (ICE credentials for the
 * answer, the handshake's state, RTCP figures); NULL for a probe's. */
struct rp_webrtc *rp_session_webrtc(const struct rp_session *s);

/* Counters for the daemon-wide totals (/metrics). */
struct rp_session_counters {
    uint64_t up_packets;            /* accepted upstream RTP */
    uint64_t up_bytes;              /* on the wire, accepted */
    uint64_t down_packets;
    uint64_t down_skipped;          /* downstream slots skipped after stalls (overload) */
    uint64_t down_bytes;
    uint64_t drops[RP_DROP_COUNT];  /* [RP_DROP_NONE] unused */
    uint64_t stun[RP_STUN_VERDICTS];
    uint64_t rtp_errors[RP_RTP_NERR];   /* malformed RTP by parser reason */
    uint64_t stun_errors[RP_STUN_NERR]; /* malformed STUN by parser reason */
    uint64_t host_drops;
    uint64_t ice[RP_ICE_VERDICTS];  /* browser sessions: connectivity checks by verdict */
    uint64_t dtls_refused;          /* browser sessions: DTLS records from an address no check verified */
    uint64_t rtcp_bad;              /* browser sessions: SRTCP that did not verify or parse */
};
/* Adds this session's counters to *acc. */
void rp_session_add_counters(const struct rp_session *s, struct rp_session_counters *acc);

/* The session's document (GET /v1/sessions/{id}), as plain data. */
void rp_session_snapshot(const struct rp_session *s, struct rp_contract_session *out);
/* Its keys for the client; the caller cleanses *out after use. */
void rp_session_keys(const struct rp_session *s, struct rp_contract_keys *out);

#endif
