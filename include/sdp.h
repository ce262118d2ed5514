/* SDP (RFC 8866) for the browser pre-call test: the browser's offer read, the daemon's
 * ICE-lite answer written (RFC 8829 JSEP, RFC 8839 ICE, RFC 8842 DTLS, RFC 5761 rtcp-mux).
 * Only what one audio m-line needs; anything else is refused with a reason. Pure text, no I/O. */
#ifndef RP_SDP_H
#define RP_SDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_SDP_MAX_LEN 16384           /* larger offers are refused */
#define RP_SDP_UFRAG_MAX 256
#define RP_SDP_PWD_MAX 256
#define RP_SDP_FP_MAX 64               /* bytes of the largest hash (sha-512) */
#define RP_SDP_MID_MAX 32
enum rp_sdp_setup { RP_SDP_SETUP_ACTPASS = 0, RP_SDP_SETUP_ACTIVE, RP_SDP_SETUP_PASSIVE };
struct rp_sdp_offer {
    char     ice_ufrag[RP_SDP_UFRAG_MAX + 1];   /* session- or media-level, RFC 8839 ice-char, 4..256 */
    char     ice_pwd[RP_SDP_PWD_MAX + 1];       /* 22..256 */
    char     fp_hash[16];                       /* "sha-256", "sha-1", "sha-384", "sha-512", "sha-224" (lowercase) */
    uint8_t  fp[RP_SDP_FP_MAX];
    size_t   fp_len;                            /* must equal the hash's size */
    enum rp_sdp_setup setup;                    /* absent = actpass */
    char     mid[RP_SDP_MID_MAX + 1];           /* "" when absent */
    bool     rtcp_mux;
    int      pt_opus, pt_pcmu, pt_pcma;         /* payload types offered, -1 = not offered (opus/48000/2, PCMU/8000, PCMA/8000) */
    bool     has_ssrc;
    uint32_t ssrc;                              /* first a=ssrc of the m-line */
    bool     ipv6;                              /* c= of the m-line is IP6 */
};
/* Exactly one m=audio with proto UDP/TLS/RTP/SAVPF (or UDP/TLS/RTP/SAVP), port != 0, direction sendrecv,
 * ice-ufrag/pwd, one a=fingerprint, rtcp-mux required (WebRTC always offers it). Anything else: -1 and a
 * one-line reason in err ("no a=fingerprint", "2 m-lines: the page offers one audio m-line", ...).
 * CRLF or LF line ends; a NUL byte or a line > 4096 bytes refuses. Never reads past len. */
int rp_sdp_parse_offer(const char *text, size_t len, struct rp_sdp_offer *out, char *err, size_t errlen);
struct rp_sdp_answer {
    uint64_t    sess_id;                /* o= */
    const char *ice_ufrag, *ice_pwd;    /* ours */
    uint8_t     fp_sha256[32];          /* our certificate's */
    const char *mid;                    /* the offer's, "" = none (then no a=mid, no BUNDLE) */
    const char *encoding;               /* "opus" | "PCMU" | "PCMA" */
    unsigned    clock_rate, channels;   /* 48000/2, 8000/1 */
    int         pt;                     /* the offer's pt for it */
    unsigned    ptime_ms;
    uint32_t    ssrc;                   /* our downstream SSRC */
    const char *cname;
    const char *addr;                   /* our candidate's IP literal (v4 or v6) */
    uint16_t    port;                   /* our media port */
};
/* The ICE-lite answer: a=ice-lite, a=setup:passive, one host candidate (udp, component 1), rtcp-mux,
 * a=sendrecv, the one codec (opus fmtp: minptime=10;useinbandfec=0 -- no FEC: we measure the path),
 * a=ptime, a=ssrc cname, a=end-of-candidates. CRLF line ends. Bytes written (NUL-terminated), 0 if cap too small. */
size_t rp_sdp_write_answer(const struct rp_sdp_answer *a, char *out, size_t cap);
/* "AB:CD:..." of n bytes into out (3n bytes needed). */
void rp_sdp_format_fingerprint(const uint8_t *fp, size_t n, char *out, size_t cap);

#endif
