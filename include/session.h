/* One probe session on the daemon: its media socket, upstream receive statistics,
 * latching, and the downstream stream it sends. Pure logic: no event loop here;
 * reflector.c drives it. */
#ifndef RP_SESSION_H
#define RP_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

#include "codec.h"
#include "rtp.h"
#include "stun.h"
#include "srtp.h"
#include "udp.h"

#define RP_SESSION_ID_LEN 32 /* hex chars */

struct rp_session;

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
    uint8_t  key_up[RP_SRTP_MAX_KEY_LEN];
};

/* Why an upstream datagram was dropped; exported as counters. */
enum rp_drop_reason {
    RP_DROP_BAD_RTP = 0,   /* not parseable as RTP */
    RP_DROP_WRONG_SSRC,    /* not this session's upstream SSRC */
    RP_DROP_WRONG_PT,      /* not the session's payload type */
    RP_DROP_BAD_EXT,       /* measurement extension missing or malformed */
    RP_DROP_STOPPED,       /* arrived after the probe stopped the session */
    RP_DROP_AUTH,          /* SRTP or measurement HMAC tag did not verify */
    RP_DROP_REPLAY,        /* SRTP replay protection */
    RP_DROP_OVERSIZED,     /* larger than any RTP packet we accept (truncated on receive) */
    RP_DROP_FOREIGN_SOURCE,/* authentic, but from another IP than the session's client */
    RP_DROP_COUNT
};
const char *rp_drop_reason_name(enum rp_drop_reason r);

/* Takes ownership of fd. control_peer: the client as seen on the control connection. */
struct rp_session *rp_session_new(const struct rp_session_params *p, int fd, uint16_t port,
                                  const struct sockaddr *control_peer, uint64_t now_mono,
                                  char *err, size_t errlen);
void rp_session_free(struct rp_session *s);

const char *rp_session_id(const struct rp_session *s);
int      rp_session_fd(const struct rp_session *s);
uint16_t rp_session_port(const struct rp_session *s);
uint32_t rp_session_ssrc_up(const struct rp_session *s);
uint32_t rp_session_ssrc_down(const struct rp_session *s);
const struct rp_session_params *rp_session_params(const struct rp_session *s);
const struct sockaddr *rp_session_control_peer(const struct rp_session *s);
bool     rp_session_expired(const struct rp_session *s, uint64_t now_mono);

/* An upstream datagram arrived on the session's socket. RTP never produces a
 * reply: the downstream stream is clocked, so input cannot amplify output. A
 * STUN Binding request gets one answer, no larger than the request. */
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
/* Send every downstream packet due at now_mono. Returns packets sent. */
unsigned rp_session_send_due(struct rp_session *s, uint64_t now_mono);

/* Counters for the daemon-wide totals (/metrics). */
struct rp_session_counters {
    uint64_t up_packets;            /* accepted upstream RTP */
    uint64_t up_bytes;              /* on the wire, accepted */
    uint64_t down_packets;
    uint64_t down_bytes;
    uint64_t drops[RP_DROP_COUNT];
    uint64_t stun[5];               /* by enum rp_stun_verdict (checked in session.c) */
    uint64_t rtp_errors[RP_RTP_NERR];   /* malformed RTP by parser reason */
    uint64_t stun_errors[RP_STUN_NERR]; /* malformed STUN by parser reason */
    uint64_t host_drops;
};
/* Adds this session's counters to *acc. */
void rp_session_add_counters(const struct rp_session *s, struct rp_session_counters *acc);

/* The session's keys for the client, only ever sent over TLS or loopback:
 * {"auth_key": base64} for RTP, {"srtp": {"suite", "key_up", "key_down"}} for SRTP.
 * New reference. */
json_t *rp_session_keys_json(const struct rp_session *s);

/* The daemon's side of the session for GET /v1/sessions/{id}. New reference. */
json_t *rp_session_to_json(const struct rp_session *s);

#endif
