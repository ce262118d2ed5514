/* The WebRTC transport of a browser session (docs/webrtc.md): what a datagram
 * on the session's port is (RFC 7983), ICE-lite answers to the browser's
 * connectivity checks, the DTLS-SRTP handshake that gives the session its
 * SRTP keys, and RTCP both ways (so that the browser's remote-inbound-rtp has
 * a round-trip time, and we learn its view of downstream). No socket and no
 * clock of its own: the session hands it datagrams and the time, and it sends
 * through the session's callback. RTP itself stays with the session's streams. */
#ifndef RP_WEBRTC_H
#define RP_WEBRTC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ice.h"
#include "rtcp.h"
#include "rxstats.h"
#include "sdp.h"
#include "srtp.h"

struct rp_dtls_cert;

/* What the browser's offer fixed (sdp.h), and the daemon's certificate. */
struct rp_webrtc_params {
    char     remote_ufrag[RP_SDP_UFRAG_MAX + 1];
    char     fp_hash[16];
    uint8_t  fp[RP_SDP_FP_MAX];
    size_t   fp_len;
    const struct rp_dtls_cert *cert;    /* not owned; outlives the session */
    uint8_t  pt;                        /* the payload type agreed for the codec, both directions */
    bool     has_ssrc;                  /* the offer's a=ssrc: the browser's upstream SSRC */
    uint32_t ssrc;
    uint8_t  abs_send_time_id;          /* the RFC 8285 ID agreed for abs-send-time; 0 = none */
};

/* RFC 7983 section 7 on the first byte, and RFC 5761 section 4 for RTCP. */
enum rp_webrtc_kind { RP_WEBRTC_STUN = 0, RP_WEBRTC_DTLS, RP_WEBRTC_RTCP, RP_WEBRTC_RTP, RP_WEBRTC_OTHER };
enum rp_webrtc_kind rp_webrtc_classify(const uint8_t *buf, size_t len);

typedef int rp_webrtc_send_fn(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to);

struct rp_webrtc;
/* Fresh ICE credentials (ours) from RAND_bytes. NULL and a message on failure. */
struct rp_webrtc *rp_webrtc_new(const struct rp_webrtc_params *p, rp_webrtc_send_fn *send, void *ctx, char *err,
                                size_t errlen);
void rp_webrtc_free(struct rp_webrtc *w);
const char *rp_webrtc_local_ufrag(const struct rp_webrtc *w);
const char *rp_webrtc_local_pwd(const struct rp_webrtc *w);

/* A connectivity check: answered when valid (never larger than it). The
 * address becomes a verified one. Returns the verdict (counted). */
enum rp_ice_verdict rp_webrtc_on_stun(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from);
/* A DTLS record. Taken only from a verified address (nobody who has not
 * proved knowledge of our ICE password gets a DTLS answer); the first one
 * pins the peer, where every answer goes. True when this datagram completed
 * the handshake (the keys are ready). */
bool rp_webrtc_on_dtls(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from);
bool rp_webrtc_connected(const struct rp_webrtc *w);
/* Why the handshake failed ("" while none did). */
const char *rp_webrtc_error(const struct rp_webrtc *w);
/* CONNECTED: the suite and keys (local protects, remote unprotects). 0 or -1. */
int rp_webrtc_keys(const struct rp_webrtc *w, enum rp_srtp_suite *suite, uint8_t local[RP_SRTP_MAX_KEY_LEN],
                   uint8_t remote[RP_SRTP_MAX_KEY_LEN]);
/* True when from passed a connectivity check. */
bool rp_webrtc_verified(const struct rp_webrtc *w, const struct sockaddr *from);
/* Where media goes once the handshake completed (NULL before): the address
 * the handshake came from, pinned at its first record. Nominations do not
 * move it: a token holder spoofing a victim's address with a valid check
 * cannot complete a handshake there. */
const struct sockaddr *rp_webrtc_peer(const struct rp_webrtc *w);
/* What comes from `from` may be taken (DTLS, SRTP, SRTCP: each authenticates
 * itself): a verified address, or the peer. Nothing is ever sent back there
 * but to the peer, so taking it cannot aim anything at anyone. */
bool rp_webrtc_takes(const struct rp_webrtc *w, const struct sockaddr *from);

/* An SRTCP packet from the browser: its SR (for our report blocks' LSR) and
 * its report block about our stream (loss, jitter, and the round trip from
 * LSR/DLSR). arrival_wall: its arrival on the session's steady wall clock. */
void rp_webrtc_on_rtcp(struct rp_webrtc *w, const uint8_t *buf, size_t len, const struct sockaddr *from,
                       uint64_t arrival_wall);

/* What our SR says about our stream, and our report block about theirs. */
struct rp_webrtc_sender {
    uint32_t ssrc;
    uint32_t rtp_ts;            /* the media clock's timestamp at now_wall */
    uint32_t packets, octets;   /* sent so far; octets: RTP payload only (RFC 3550 section 6.4.1) */
    bool     have_upstream;
    uint32_t up_ssrc;
    uint32_t up_ext_high_seq;
    uint64_t up_expected, up_received;
    uint32_t up_jitter;         /* RTP clock units */
};
/* One SR (with a report block about upstream once there is one) and SDES
 * CNAME, protected, to the peer. Once a second from the session's clock. */
void rp_webrtc_send_rtcp(struct rp_webrtc *w, const struct rp_webrtc_sender *snd, uint64_t now_wall);

/* Round trips kept in order: a browser test lasts at most 120 s, one a second. */
#define RP_WEBRTC_RTT_MAX 128

/* What the browser told us, and what happened on this transport. */
struct rp_webrtc_stats {
    uint64_t ice[RP_ICE_VERDICTS];
    uint64_t dtls_in, dtls_refused;      /* records taken; from an unverified address */
    uint64_t rtcp_in, rtcp_bad, rtcp_out;
    /* The round trips in order (as often as the browser reports: Chromium about
     * every 5 s; the first RP_WEBRTC_RTT_MAX):
     * a rise of their floor is a queue building up on the path */
    unsigned nrtt;
    double   rtt_ms[RP_WEBRTC_RTT_MAX];
    bool     has_block;                  /* the browser's report block about our stream */
    struct rp_rtcp_block block;
};
void rp_webrtc_stats(const struct rp_webrtc *w, struct rp_webrtc_stats *out);

#endif
