/* SRTP (RFC 3711, RFC 7714) through libsrtp2, and SDES key strings (RFC 4568
 * "inline:" form). One context protects or unprotects one direction. Keys come
 * from OpenSSL's RAND_bytes. Replay protection stays on. */
#ifndef RP_SRTP_H
#define RP_SRTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rp_srtp_suite {
    RP_SRTP_AES_CM_128_HMAC_SHA1_80 = 0, /* default, RFC 4568 */
    RP_SRTP_AES_CM_128_HMAC_SHA1_32,
    RP_SRTP_AEAD_AES_128_GCM,            /* RFC 7714, 16-byte tag */
    RP_SRTP_AEAD_AES_256_GCM,
    RP_SRTP_NSUITES
};

#define RP_SRTP_MAX_KEY_LEN 46          /* master key + salt, largest suite (32 + 12, rounded up) */
#define RP_SRTP_MAX_OVERHEAD 16         /* bytes srtp_protect may add (auth tag / AEAD tag), no MKI */
#define RP_SRTP_INLINE_MAX 80           /* "inline:" + base64 of the largest key + NUL */

const char *rp_srtp_suite_name(enum rp_srtp_suite s);  /* "AES_CM_128_HMAC_SHA1_80", ... (RFC 4568/7714 names) */
int rp_srtp_suite_parse(const char *name, enum rp_srtp_suite *out);  /* case-insensitive; 0 or -1 */
size_t rp_srtp_key_len(enum rp_srtp_suite s);           /* master key + master salt: 30, 30, 28, 44 */
size_t rp_srtp_overhead(enum rp_srtp_suite s);          /* tag bytes added per RTP packet: 10, 4, 16, 16 */

/* Fresh master key + salt from RAND_bytes. 0 or -1. */
int rp_srtp_keygen(enum rp_srtp_suite s, uint8_t *key, size_t len);
/* "inline:<base64 key||salt>" (RFC 4568 §6.1, no lifetime or MKI). 0 or -1 if out is too small. */
int rp_srtp_inline_encode(const uint8_t *key, size_t len, char *out, size_t outlen);
/* Parses "inline:<base64>[|lifetime][|MKI:len]" (lifetime and MKI are rejected: -1),
 * requires exactly rp_srtp_key_len(s) bytes. 0 or -1. */
int rp_srtp_inline_decode(enum rp_srtp_suite s, const char *text, uint8_t *key, size_t keycap);

struct rp_srtp;

enum rp_srtp_dir { RP_SRTP_OUTBOUND, RP_SRTP_INBOUND };

/* Call once per process before any rp_srtp_new (srtp_init). 0 or -1. */
int rp_srtp_global_init(void);
void rp_srtp_global_fini(void);

/* A context for one direction, any SSRC. NULL with a message on failure. */
struct rp_srtp *rp_srtp_new(enum rp_srtp_suite s, enum rp_srtp_dir dir, const uint8_t *key, size_t len,
                            char *err, size_t errlen);
void rp_srtp_free(struct rp_srtp *c);

enum rp_srtp_result {
    RP_SRTP_OK = 0,
    RP_SRTP_EAUTH,     /* authentication tag did not verify */
    RP_SRTP_EREPLAY,   /* replayed or too old (outside the replay window) */
    RP_SRTP_EINVALID,  /* too short or malformed for SRTP */
    RP_SRTP_EINTERNAL,
};
const char *rp_srtp_result_name(enum rp_srtp_result r); /* "auth_failure", "replay", "malformed", "internal" */

/* In place. protect: *len grows by up to RP_SRTP_MAX_OVERHEAD; cap must allow it.
 * unprotect: *len shrinks to the plain RTP packet. */
enum rp_srtp_result rp_srtp_protect(struct rp_srtp *c, uint8_t *pkt, size_t *len, size_t cap);
enum rp_srtp_result rp_srtp_unprotect(struct rp_srtp *c, uint8_t *pkt, size_t *len);

/* SRTCP (RFC 3711 section 3.4) with the same context: RTCP of a WebRTC peer
 * (rtcp-mux). protect adds up to RP_SRTCP_MAX_OVERHEAD bytes. */
#define RP_SRTCP_MAX_OVERHEAD (4 + 16)   /* E flag + SRTCP index word, then the tag */
size_t rp_srtp_rtcp_overhead(enum rp_srtp_suite s);     /* bytes protect_rtcp adds: 14, 14, 20, 20 */
enum rp_srtp_result rp_srtp_protect_rtcp(struct rp_srtp *c, uint8_t *pkt, size_t *len, size_t cap);
enum rp_srtp_result rp_srtp_unprotect_rtcp(struct rp_srtp *c, uint8_t *pkt, size_t *len);

#endif
