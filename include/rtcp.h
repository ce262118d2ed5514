/* RTCP (RFC 3550 section 6.4, RFC 5761 mux) for the WebRTC peer. Pure wire format. */
#ifndef RP_RTCP_H
#define RP_RTCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RTCP (RFC 3550 §6.4, RFC 5761 mux): the peer's SR/RR read, our SR + SDES CNAME compound written. */
#define RP_RTCP_MAX_BLOCKS 4
bool rp_rtcp_is_rtcp(const uint8_t *buf, size_t len);   /* RFC 5761 §4: version 2, second byte 192..223 */
struct rp_rtcp_sr { uint32_t ssrc; uint64_t ntp; uint32_t rtp_ts, packets, octets; };
struct rp_rtcp_block { uint32_t ssrc; uint8_t fraction_lost; int32_t cum_lost; uint32_t ext_high_seq, jitter, lsr, dlsr; };
struct rp_rtcp_info {
    bool has_sr; struct rp_rtcp_sr sr;
    uint32_t sender_ssrc;                 /* of the SR or RR */
    unsigned nblocks; struct rp_rtcp_block blocks[RP_RTCP_MAX_BLOCKS];  /* extra blocks ignored */
};
/* Walks a compound packet; SR and RR read, other types (SDES, BYE, RTPFB, PSFB, XR) skipped by length.
 * 0, or -1 when malformed (any length field past the buffer). */
int rp_rtcp_parse(const uint8_t *buf, size_t len, struct rp_rtcp_info *out);
/* SR (with one report block if rb != NULL) + SDES CNAME. Bytes or 0. */
size_t rp_rtcp_build_sr(uint8_t *buf, size_t cap, const struct rp_rtcp_sr *sr, const struct rp_rtcp_block *rb, const char *cname);
/* RR (one block if rb != NULL) + SDES CNAME (a receiver-only peer). Bytes or 0. */
size_t rp_rtcp_build_rr(uint8_t *buf, size_t cap, uint32_t ssrc, const struct rp_rtcp_block *rb, const char *cname);
uint64_t rp_rtcp_ntp_from_ns(uint64_t unix_ns);       /* 64-bit NTP timestamp of a UNIX time in ns */
uint32_t rp_rtcp_ntp_mid(uint64_t ntp);                /* its middle 32 bits (LSR form) */
/* Round trip from a block answering our SR: arrival_mid - lsr - dlsr in ns; -1 when lsr == 0 or negative. */
int64_t rp_rtcp_rtt_ns(const struct rp_rtcp_block *b, uint32_t arrival_mid);

#endif
