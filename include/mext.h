/* The measurement extension: rtpprobe's data carried in an RFC 8285 element.
 * Layout (network byte order) is documented in docs/wire-format.md. */
#ifndef RP_MEXT_H
#define RP_MEXT_H

#include <stddef.h>
#include <stdint.h>

#define RP_MEXT_VERSION 1
#define RP_MEXT_ID_UP   1   /* probe -> daemon */
#define RP_MEXT_ID_DOWN 2   /* daemon -> probe */

/* Upstream element, 16 bytes: version u8, flags u8 (bit0: priming), reserved u16, seq u32, t1_ns u64. */
#define RP_MEXT_UP_LEN 16
/* Priming packet: sent before the stream (and before the probe announces its
 * address), so that the agent's NAT maps the media flow and the host sees
 * upstream first; it latches but is not part of the measured stream. */
#define RP_MEXT_F_PRIME 0x01
struct rp_mext_up {
    uint8_t  flags;    /* RP_MEXT_F_PRIME */
    uint32_t seq;      /* probe's own 32-bit packet counter, 0-based */
    uint64_t t1_ns;    /* probe transmit time, ns on its steady wall clock (timeutil.h) */
};

/* Downstream element, 48 bytes: version u8, flags u8 (bit0: reflection valid), reserved u16,
 * refl_seq u32, t1_ns u64, t2_ns u64, t3_ns u64, up_received u32, down_sent u32,
 * up_host_drops u32, reserved u32. */
#define RP_MEXT_DOWN_LEN 48
#define RP_MEXT_F_REFLECTION 0x01
struct rp_mext_down {
    uint8_t  flags;
    uint32_t refl_seq;     /* seq of the latest upstream packet (its rp_mext_up.seq) */
    uint64_t t1_ns;        /* that packet's T1, echoed */
    uint64_t t2_ns;        /* daemon receive time of it (kernel timestamp) */
    uint64_t t3_ns;        /* daemon transmit time of this downstream packet */
    uint32_t up_received;  /* upstream packets the daemon accepted so far */
    uint32_t down_sent;    /* downstream slots so far, this one included: sent + skipped (overload) */
    uint32_t up_host_drops;/* datagrams the daemon's socket dropped (SO_RXQ_OVFL) */
};

/* Authentication of plain-RTP measurement packets: element ID 3 carries the
 * first 10 bytes (80 bits, as SRTP's default tag) of HMAC-SHA-256 over the whole
 * packet with the tag bytes zeroed, keyed per session (handed out by the
 * control API). Without the key nobody can inject into or spoof a session. */
#define RP_MEXT_ID_AUTH      3
#define RP_MEXT_AUTH_LEN     10
#define RP_MEXT_AUTH_KEY_LEN 32

/* Writes the tag into the packet's (zero-filled) ID-3 element. 0, or -1 when
 * the packet has no such element of the right size. */
int rp_mext_auth_sign(uint8_t *pkt, size_t len, const uint8_t key[RP_MEXT_AUTH_KEY_LEN]);
/* 0 when the tag verifies, -1 when the element is missing or malformed, -2 when
 * the tag is wrong. Constant-time comparison. */
int rp_mext_auth_verify(const uint8_t *pkt, size_t len, const uint8_t key[RP_MEXT_AUTH_KEY_LEN]);

/* The same tag from a context keyed once (a stream keeps one for its life):
 * the per-packet cost is a copy of the key's hashed pads, not a key schedule.
 * The context is read-only after new. new: NULL when out of memory. seal and
 * check return as rp_mext_auth_sign and rp_mext_auth_verify (which stay as the
 * one-shot form, the tests' reference) with the context's key. */
struct rp_mext_auth;
struct rp_mext_auth *rp_mext_auth_new(const uint8_t key[RP_MEXT_AUTH_KEY_LEN]);
void rp_mext_auth_free(struct rp_mext_auth *a);
int  rp_mext_auth_seal(const struct rp_mext_auth *a, uint8_t *pkt, size_t len);
int  rp_mext_auth_check(const struct rp_mext_auth *a, const uint8_t *pkt, size_t len);

/* Encoders return bytes written (RP_MEXT_*_LEN) or 0 if cap is too small.
 * Decoders return 0 on success, -1 on bad length or unknown version. */
size_t rp_mext_up_encode(const struct rp_mext_up *in, uint8_t *buf, size_t cap);
int    rp_mext_up_decode(const uint8_t *data, size_t len, struct rp_mext_up *out);
size_t rp_mext_down_encode(const struct rp_mext_down *in, uint8_t *buf, size_t cap);
int    rp_mext_down_decode(const uint8_t *data, size_t len, struct rp_mext_down *out);

#endif
