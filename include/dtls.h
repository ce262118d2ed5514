/* DTLS-SRTP (RFC 5764, RFC 8842) over OpenSSL for the WebRTC peer. No sockets:
 * the session owns the socket; datagrams come in through rp_dtls_on_datagram and
 * go out through the send callback, one datagram per call, none larger than the
 * MTU of 1200 bytes. One rp_dtls per peer; nothing is shared between two. */
#ifndef RP_DTLS_H
#define RP_DTLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "srtp.h"

/* Our certificate: a fresh ECDSA P-256 key, self-signed X.509 (CN "rtpprobed",
 * random serial, valid from a day ago to 30 days ahead). NULL + err on failure. */
struct rp_dtls_cert;
struct rp_dtls_cert *rp_dtls_cert_new(char *err, size_t errlen);
void rp_dtls_cert_free(struct rp_dtls_cert *c);
/* SHA-256 over the certificate's DER: the SDP a=fingerprint (32 bytes). */
const uint8_t *rp_dtls_cert_sha256(const struct rp_dtls_cert *c);

enum rp_dtls_role { RP_DTLS_SERVER = 0, RP_DTLS_CLIENT };
enum rp_dtls_state { RP_DTLS_HANDSHAKING = 0, RP_DTLS_CONNECTED, RP_DTLS_FAILED };
/* Sends one datagram; its result is ignored (a lost datagram is retransmitted by the timer). */
typedef int rp_dtls_send_fn(void *ctx, const uint8_t *buf, size_t len);
struct rp_dtls;

/* c must outlive the rp_dtls. peer_hash: the SDP's hash name ("sha-256", "sha-1", "sha-224",
 * "sha-384", "sha-512"); peer_fp (fp_len bytes, the hash's size): the fingerprint the peer's
 * certificate must have. NULL + err on failure (unknown hash, wrong length, OpenSSL). */
struct rp_dtls *rp_dtls_new(const struct rp_dtls_cert *c, enum rp_dtls_role role, const char *peer_hash,
                            const uint8_t *peer_fp, size_t fp_len, rp_dtls_send_fn *send, void *ctx,
                            char *err, size_t errlen);
void rp_dtls_free(struct rp_dtls *d);
enum rp_dtls_state rp_dtls_start(struct rp_dtls *d);               /* client: sends ClientHello; server: no-op */
/* One received datagram of DTLS records (RFC 7983: first byte 20..63; the caller demultiplexes).
 * Garbage is dropped or fails the handshake; after CONNECTED, application data is ignored and
 * an alert or close_notify only sets rp_dtls_peer_closed (the keys stay). */
enum rp_dtls_state rp_dtls_on_datagram(struct rp_dtls *d, const uint8_t *buf, size_t len);
uint64_t rp_dtls_timeout_ns(struct rp_dtls *d);   /* until the next retransmission is due, UINT64_MAX none */
void rp_dtls_tick(struct rp_dtls *d);             /* retransmit if due (DTLSv1_handle_timeout); may FAIL after too many */
enum rp_dtls_state rp_dtls_state(const struct rp_dtls *d);
/* Why FAILED, one line: "peer fingerprint does not match the SDP", "no SRTP profile in common",
 * "handshake: <OpenSSL reason>"; "" otherwise. */
const char *rp_dtls_error(const struct rp_dtls *d);
/* The peer sent close_notify or an alert after CONNECTED (the browser closed the call). */
bool rp_dtls_peer_closed(const struct rp_dtls *d);
/* CONNECTED only: the negotiated profile (SRTP_AES128_CM_SHA1_80 -> RP_SRTP_AES_CM_128_HMAC_SHA1_80,
 * SRTP_AEAD_AES_128_GCM -> RP_SRTP_AEAD_AES_128_GCM; offered in that order of preference: GCM first)
 * and the master key||salt for each direction as rp_srtp_new wants it (RFC 5764 §4.2 key export
 * "EXTRACTOR-dtls_srtp"), rp_srtp_key_len(suite) bytes each. local = what we protect with,
 * remote = what we unprotect with. 0, or -1 when not CONNECTED. */
int rp_dtls_srtp_keys(const struct rp_dtls *d, enum rp_srtp_suite *suite, uint8_t local[RP_SRTP_MAX_KEY_LEN],
                      uint8_t remote[RP_SRTP_MAX_KEY_LEN]);

#endif
