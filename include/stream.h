/* One direction of a measured media stream, the same on both ends: its SSRC,
 * sequence and timestamp origin, payload loop, measurement element and its
 * protection (the plain-RTP HMAC tag, or an SRTP context). `seal` builds the
 * next packet into the caller's buffer; `open` verifies and parses a datagram
 * and says what it is in one verdict: taken, or the drop reason both ends
 * report. No sockets, no clocks: the caller owns both. */
#ifndef RP_STREAM_H
#define RP_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "mext.h"
#include "rtp.h"
#include "srtp.h"

/* Largest datagram seal writes and open accepts. */
#define RP_STREAM_MAX_PKT (RP_RTP_MAX_PKT + RP_SRTP_MAX_OVERHEAD)

/* What became of a received datagram: taken (RP_DROP_NONE), or why it was
 * dropped. One list for both ends, which count and report drops by these
 * names (in this order: the session document and /metrics list them so).
 * rp_stream_open decides the ones marked [open]; the receiver around it the rest. */
enum rp_drop_reason {
    RP_DROP_NONE = 0,
    RP_DROP_BAD_RTP,        /* [open] not readable as (S)RTP; rp_stream_rx.rtp_err says why when known */
    RP_DROP_WRONG_SSRC,     /* [open] not this direction's SSRC */
    RP_DROP_WRONG_PT,       /* [open] not the codec's payload type */
    RP_DROP_BAD_EXT,        /* [open] measurement element missing or malformed */
    RP_DROP_STOPPED,        /* arrived after the stream was stopped */
    RP_DROP_AUTH,           /* [open] SRTP or HMAC tag did not verify */
    RP_DROP_REPLAY,         /* [open] SRTP replay protection; the session also drops a measurement
                               counter far behind the newest */
    RP_DROP_OVERSIZED,      /* larger than any RTP packet we accept (truncated on receive) */
    RP_DROP_FOREIGN_SOURCE, /* from another address than the stream's peer */
    RP_DROP_COUNT
};
#define RP_DROP_FIRST RP_DROP_BAD_RTP
/* "bad_rtp", "wrong_ssrc", "wrong_pt", "bad_extension", "after_stop", "auth_failure",
 * "replay", "oversized", "foreign_source"; "none" for RP_DROP_NONE. */
const char *rp_drop_reason_name(enum rp_drop_reason r);

enum rp_stream_role { RP_STREAM_SEAL, RP_STREAM_OPEN };

struct rp_stream_cfg {
    enum rp_stream_role role;
    enum rp_codec_id codec;
    unsigned ptime_ms;
    uint32_t ssrc;
    uint8_t  elem_id;          /* RP_MEXT_ID_UP or RP_MEXT_ID_DOWN: the element this direction carries */
    bool     elem_optional;    /* open: SRTP senders that are not ours (ffmpeg) carry none */
    /* seal only */
    uint16_t seq0;             /* RTP sequence and timestamp of packet index 0 */
    uint32_t ts0;
    unsigned bitrate_bps;
    unsigned loop_frames;      /* payload loop length in packets */
    uint32_t payload_seed;
    /* NULL: a private loop of the test signal from payload_seed (the probe).
     * Else the cache's loop for this codec, ptime, bitrate and length, shared
     * read-only with other streams and entered at frame payload_seed %
     * loop_frames, so that concurrent streams do not carry the same frames at
     * the same time (the daemon). The cache must outlive the stream. */
    struct rp_payload_cache *payload_cache;
    /* A browser's stream (webrtc.h): the payload type the SDP agreed instead
     * of the codec's own, no measurement element (seal writes none, open
     * looks for none; SRTP only), an upstream SSRC taken from the first
     * authentic packet when the offer named none (then only that one), and
     * the RFC 8285 ID the SDP agreed for abs-send-time (1..14, 0 = none;
     * not the measurement element's, nor plain RTP's tag's): open reads the sender's
     * stamp; seal writes elem->abs_send_time (for tests: the daemon's own
     * stream stamps none). */
    bool     set_pt;
    uint8_t  pt;
    bool     no_elem;
    bool     learn_ssrc;
    uint8_t  abs_send_time_id;
    /* protection: SRTP master key + salt for `suite`, else the 32-byte HMAC key */
    bool     srtp;
    enum rp_srtp_suite suite;
    const uint8_t *key;
};

struct rp_stream;
/* NULL with a message on failure (no memory, codec, libsrtp, an
 * abs_send_time_id out of range or taken by another element). */
struct rp_stream *rp_stream_new(const struct rp_stream_cfg *cfg, char *err, size_t errlen);
void rp_stream_free(struct rp_stream *s);

/* The measurement element of a packet: up or down, by the stream's elem_id;
 * and its abs-send-time stamp when the stream has an ID for it. */
struct rp_stream_elem {
    struct rp_mext_up   up;
    struct rp_mext_down down;
    uint32_t abs_send_time;    /* 24 bits (rtp.h) */
};

/* Packet `index` of the stream (0 = the first, marked; negative ones precede
 * it, as priming does): seq0 + index, ts0 + index * samples per packet, the
 * loop's frame at index, the element, then the tag or SRTP protection. Bytes
 * written (at most RP_STREAM_MAX_PKT), or 0 if cap is too small or protection
 * failed. */
size_t rp_stream_seal(struct rp_stream *s, int64_t index, const struct rp_stream_elem *elem, uint8_t *buf,
                      size_t cap);

/* What open found in an accepted packet, and the parser's reason for bad_rtp. */
struct rp_stream_rx {
    struct rp_rtp_hdr hdr;
    bool     has_elem;         /* false only for elem_optional and no_elem streams */
    struct rp_stream_elem elem;
    /* The sender's abs-send-time stamp (24 bits, rtp.h): its own clock, which
     * runs beside the media clock of the RTP timestamps and falls behind it
     * when the sender is late (rxstats.h unwraps it). False when the stream
     * has no ID for it or the packet no 3-byte element of that ID. */
    bool     has_send_time;
    uint32_t send_stamp;
    enum rp_rtp_err rtp_err;   /* RP_RTP_OK unless a bad_rtp verdict has a parser reason */
};

/* Verifies (tag or SRTP, with replay protection) and parses one datagram:
 * RP_DROP_NONE with *out filled, or one of the reasons marked [open]. */
enum rp_drop_reason rp_stream_open(struct rp_stream *s, const uint8_t *buf, size_t len, struct rp_stream_rx *out);

uint32_t rp_stream_ssrc(const struct rp_stream *s);
/* The payload loop a seal stream sends from (private or shared); NULL for open. */
const struct rp_payloads *rp_stream_loop(const struct rp_stream *s);

#endif
