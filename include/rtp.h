/* RTP (RFC 3550) header build/parse with RFC 8285 header extensions.
 * Pure wire format: no sockets, no event loop. Every read is length-checked. */
#ifndef RP_RTP_H
#define RP_RTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_RTP_HDR_LEN 12
#define RP_RTP_EXT_ONE_BYTE 0xBEDEu /* RFC 8285 §4.2 */
#define RP_RTP_EXT_ONE_BYTE_ID_MAX 14 /* its element IDs are 1..14 */
#define RP_RTP_EXT_TWO_BYTE 0x1000u /* RFC 8285 §4.3, appbits 0 (mask 0xFFF0) */
#define RP_RTP_MAX_PKT 1500

struct rp_rtp_hdr {
    uint8_t  pt;
    bool     marker;
    uint16_t seq;
    uint32_t ts;
    uint32_t ssrc;
};

/* A parsed packet; pointers point into the caller's buffer. */
struct rp_rtp_pkt {
    struct rp_rtp_hdr hdr;
    uint8_t        csrc_count;
    bool           has_ext;
    uint16_t       ext_profile;   /* "defined by profile" field */
    const uint8_t *ext;           /* extension body after the 4-byte ext header */
    size_t         ext_len;       /* bytes, multiple of 4 */
    const uint8_t *payload;
    size_t         payload_len;   /* padding excluded */
    uint8_t        padding_len;   /* 0 when P bit clear */
};

enum rp_rtp_err {
    RP_RTP_OK = 0,
    RP_RTP_ETOOSHORT,   /* shorter than the fixed header */
    RP_RTP_EVERSION,    /* V != 2 */
    RP_RTP_ECSRC,       /* CSRC list runs past the end */
    RP_RTP_EEXT,        /* extension header/length runs past the end */
    RP_RTP_EPADDING,    /* padding count 0 or larger than what is left */
    RP_RTP_NERR
};

const char *rp_rtp_strerror(enum rp_rtp_err err);

/* Parse buf[0..len). On error *out is unspecified. */
enum rp_rtp_err rp_rtp_parse(const uint8_t *buf, size_t len, struct rp_rtp_pkt *out);

/* Find RFC 8285 element `id` (one-byte 0xBEDE or two-byte 0x100x form).
 * Returns 1 and sets *data and *len when found, 0 when absent (or the extension
 * is not RFC 8285), -1 when the element list is malformed (runs past ext_len). */
int rp_rtp_ext_find(const struct rp_rtp_pkt *pkt, uint8_t id, const uint8_t **data, size_t *len);

/* Build V=2, no CSRC, no padding. When elem_len > 0, adds a two-byte-form
 * RFC 8285 extension holding one element (id 1..255, elem_len 1..255), zero-padded
 * to 32 bits. Returns bytes written, or 0 if it does not fit in cap or args are bad. */
size_t rp_rtp_build(uint8_t *buf, size_t cap, const struct rp_rtp_hdr *hdr,
                    uint8_t elem_id, const uint8_t *elem, size_t elem_len,
                    const uint8_t *payload, size_t payload_len);

/* The same with several elements (each id 1..255, len 1..255), in order. */
struct rp_rtp_elem {
    uint8_t        id;
    const uint8_t *data;
    size_t         len;
};
size_t rp_rtp_build_elems(uint8_t *buf, size_t cap, const struct rp_rtp_hdr *hdr,
                         const struct rp_rtp_elem *elems, size_t nelems,
                         const uint8_t *payload, size_t payload_len);

/* abs-send-time (http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time),
 * the element WebRTC stacks stamp as a packet leaves: 3 bytes, network order,
 * seconds in 6.18 fixed point, so it wraps every 64 s. */
#define RP_ABS_SEND_TIME_LEN 3
#define RP_ABS_SEND_TIME_MASK 0xFFFFFFu
/* The stamp of a time in ns (any origin; taken modulo 64 s). */
uint32_t rp_abs_send_time_from_ns(uint64_t ns);
uint32_t rp_abs_send_time_get(const uint8_t b[RP_ABS_SEND_TIME_LEN]);
void rp_abs_send_time_put(uint32_t stamp, uint8_t b[RP_ABS_SEND_TIME_LEN]);
/* From one stamp to the next, in 2^-18 s ticks: of the steps the two stamps
 * allow (64 s apart), the one nearest expect_ticks, the arrival gap between
 * the two packets. A reordered packet steps back, and an outage of more
 * than 32 s is not taken for a step back. */
int64_t rp_abs_send_time_step(uint32_t from, uint32_t to, int64_t expect_ticks);
/* ns <-> ticks of 2^-18 s, both truncated toward 0. */
int64_t rp_abs_send_time_ns(int64_t ticks);
int64_t rp_abs_send_time_ticks(int64_t ns);

#endif
