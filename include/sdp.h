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
#define RP_SDP_ABS_SEND_TIME_URI "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
enum rp_sdp_setup { RP_SDP_SETUP_ACTPASS = 0, RP_SDP_SETUP_ACTIVE, RP_SDP_SETUP_PASSIVE };
struct rp_sdp_offer {
    char     ice_ufrag[RP_SDP_UFRAG_MAX + 1];   /* session- or media-level, RFC 8839 ice-char, 4..256 */
    char     ice_pwd[RP_SDP_PWD_MAX + 1];       /* 22..256 */
    char     fp_hash[16];                       /* "sha-1", "sha-224", "sha-256", "sha-384", "sha-512" (lowercased) */
    uint8_t  fp[RP_SDP_FP_MAX];
    size_t   fp_len;                            /* must equal the hash's size */
    enum rp_sdp_setup setup;                    /* actpass or active (passive refused); absent = actpass */
    char     mid[RP_SDP_MID_MAX + 1];           /* RFC 8866 token characters; "" when absent */
    bool     rtcp_mux;                          /* always true: refused without it */
    int      pt_opus, pt_pcmu, pt_pcma;         /* payload types offered, -1 = not offered (opus/48000/2, PCMU/8000, PCMA/8000) */
    bool     has_ssrc;                          /* the m-line has an a=ssrc (browsers' offers do) */
    uint32_t ssrc;                              /* its first a=ssrc */
    uint8_t  abs_send_time_id;                  /* a=extmap ID of abs-send-time, 1..14; 0 = not offered */
    bool     ipv6;                              /* the c= that applies (the m-line's, else the session's) is IP6 */
};
/* The browser's offer: exactly one m-line, m=audio, port != 0 (a bundle-only or rejected port 0
 * is refused), proto UDP/TLS/RTP/SAVPF (or UDP/TLS/RTP/SAVP), direction sendrecv (absent = sendrecv;
 * a session-level one applies when the m-line has none), a=ice-ufrag and a=ice-pwd, one
 * a=fingerprint (RFC 8122: sha-1/224/256/384/512, hex pairs with colons, as many as the hash has),
 * a=setup actpass or active (passive is refused: our answer is passive), a=rtcp-mux (WebRTC always
 * offers it), c=IN IP4|IP6, and at least one of opus/48000/2, PCMU/8000, PCMA/8000 whose pt is in
 * the m-line's format list (rtpmaps for other pts are ignored). Credentials, fingerprint, setup and
 * direction may be session- or media-level: the media level wins. a=mid: 1..32 token characters
 * (it is echoed in the answer). A media-level a=extmap of abs-send-time with an ID of 1..14 and
 * no direction is noted (other IDs, directions, session-level extmaps and other extensions are
 * ignored). Other lines and attributes are skipped.
 * Refused, -1 with a one-line reason in err that never quotes the offer ("no a=fingerprint",
 * "2 m-lines: the page offers one audio m-line", "line 12: a=ice-pwd must be ..."), *out then
 * holds nothing offered (zeroes, pts -1): len 0 or > RP_SDP_MAX_LEN, a NUL byte, a line longer than
 * 4096 bytes, a CR inside a line, a first line other than v=0, any malformed line we read.
 * Lines end in CRLF or LF (the last may have neither). Never reads text[len] or beyond: text
 * need not be NUL-terminated. */
int rp_sdp_parse_offer(const char *text, size_t len, struct rp_sdp_offer *out, char *err, size_t errlen);
struct rp_sdp_answer {
    uint64_t    sess_id;                /* o=; written with its top bit cleared (JSEP §5.2.1: Firefox refuses >= 2^63) */
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
    uint8_t     abs_send_time_id;       /* the offer's, echoed (RFC 8285 §6); 0 = none */
};
/* The ICE-lite answer (RFC 8445 §2.5, RFC 8839): v=0, o=- <sess_id> 2 IN IP4 127.0.0.1, s=-, t=0 0,
 * a=group:BUNDLE <mid> (when mid is not ""), a=ice-lite, a=msid-semantic: WMS, then
 * m=audio <port> UDP/TLS/RTP/SAVPF <pt>, c=IN IP4|IP6 <addr>, a=mid, a=ice-ufrag, a=ice-pwd,
 * a=fingerprint:sha-256, a=setup:passive (the browser is the DTLS client), a=sendrecv, a=rtcp-mux,
 * a=rtpmap:<pt> <encoding>/<clock_rate>[/<channels> when > 1], for opus a=fmtp minptime=10;
 * useinbandfec=0 (no FEC: we measure the path), a=extmap:<id> of abs-send-time when
 * abs_send_time_id is not 0, a=ptime, a=ssrc:<ssrc> cname:<cname>, one host
 * candidate (udp, component 1, priority 2130706431, addr and port), a=end-of-candidates. CRLF line
 * ends. Accepted by Chromium 156 and Firefox ESR 153 (setRemoteDescription, sendrecv).
 * Bytes written (NUL-terminated), or 0 (out "" when cap > 0) if cap is too small or a string is
 * NULL, empty (mid may be), or has a space or control character, pt is not 0..127,
 * abs_send_time_id is above 14, or clock_rate,
 * channels or ptime_ms is 0. c= and the candidate say IP6 when addr has a ':'. */
size_t rp_sdp_write_answer(const struct rp_sdp_answer *a, char *out, size_t cap);
/* "AB:CD:..." (uppercase, as browsers write it) of n bytes into out: 3n bytes needed, else "". */
void rp_sdp_format_fingerprint(const uint8_t *fp, size_t n, char *out, size_t cap);

#endif
