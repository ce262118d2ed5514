/* DTLS-SRTP (RFC 5764, RFC 8842) over OpenSSL for the WebRTC peer. No sockets. */
#ifndef RP_DTLS_H
#define RP_DTLS_H

#include <stddef.h>
#include <stdint.h>
#include "srtp.h"

/* DTLS-SRTP (RFC 5764, RFC 8842) over OpenSSL: no sockets (the session owns the socket; datagrams in via
 * rp_dtls_on_datagram, out via the send callback, one record flight datagram per call, MTU 1200). */
struct rp_dtls_cert;
struct rp_dtls_cert *rp_dtls_cert_new(char *err, size_t errlen);   /* self-signed ECDSA P-256, fresh key, 30 days */
void rp_dtls_cert_free(struct rp_dtls_cert *c);
const uint8_t *rp_dtls_cert_sha256(const struct rp_dtls_cert *c);   /* 32 bytes */
enum rp_dtls_role { RP_DTLS_SERVER = 0, RP_DTLS_CLIENT };
enum rp_dtls_state { RP_DTLS_HANDSHAKING = 0, RP_DTLS_CONNECTED, RP_DTLS_FAILED };
typedef int rp_dtls_send_fn(void *ctx, const uint8_t *buf, size_t len);
struct rp_dtls;
/* peer_hash: SDP name ("sha-256", ...); peer_fp: the fingerprint the peer's certificate must have. */
struct rp_dtls *rp_dtls_new(const struct rp_dtls_cert *c, enum rp_dtls_role role, const char *peer_hash,
                            const uint8_t *peer_fp, size_t fp_len, rp_dtls_send_fn *send, void *ctx,
                            char *err, size_t errlen);
void rp_dtls_free(struct rp_dtls *d);
enum rp_dtls_state rp_dtls_start(struct rp_dtls *d);               /* client: sends ClientHello; server: no-op */
enum rp_dtls_state rp_dtls_on_datagram(struct rp_dtls *d, const uint8_t *buf, size_t len);  /* records (first byte 20..63) */
uint64_t rp_dtls_timeout_ns(struct rp_dtls *d);   /* until the next retransmission, UINT64_MAX none */
void rp_dtls_tick(struct rp_dtls *d);             /* retransmit if due (DTLSv1_handle_timeout) */
enum rp_dtls_state rp_dtls_state(const struct rp_dtls *d);
const char *rp_dtls_error(const struct rp_dtls *d);   /* why FAILED, one line: "peer fingerprint does not match the SDP", "no SRTP profile in common", "handshake: <openssl reason>" */
/* CONNECTED only: the negotiated profile (SRTP_AES128_CM_SHA1_80 -> RP_SRTP_AES_CM_128_HMAC_SHA1_80,
 * SRTP_AEAD_AES_128_GCM -> RP_SRTP_AEAD_AES_128_GCM; offered in that order of preference: GCM first) and the
 * master key||salt for each direction as rp_srtp_new wants it (RFC 5764 §4.2 key export "EXTRACTOR-dtls_srtp").
 * local = what we protect with, remote = what we unprotect with. 0 or -1. */
int rp_dtls_srtp_keys(const struct rp_dtls *d, enum rp_srtp_suite *suite, uint8_t local[RP_SRTP_MAX_KEY_LEN],
                      uint8_t remote[RP_SRTP_MAX_KEY_LEN]);

#endif
