/* Page tokens for the browser pre-call page, and coturn REST credentials (docs/webrtc.md). */
#ifndef RP_PAGETOKEN_H
#define RP_PAGETOKEN_H

#include <stddef.h>
#include <stdint.h>

/* Page tokens: short-lived HMAC-SHA256 credentials for the browser pre-call page (docs/webrtc.md).
 * Form: "v1:<expiry unix s>:<agent>:<base64url(HMAC-SHA256(secret, "v1:<expiry>:<agent>"))>", agent
 * [A-Za-z0-9._-]{0,64} (may be empty). A site's web app mints them with the shared secret too. */
#define RP_PAGETOKEN_MAX 192
#define RP_PAGETOKEN_SECRET_MIN 32     /* bytes */
enum rp_pagetoken_verdict { RP_PAGETOKEN_OK = 0, RP_PAGETOKEN_MALFORMED, RP_PAGETOKEN_BAD_SIGNATURE, RP_PAGETOKEN_EXPIRED,
                            RP_PAGETOKEN_TOO_LONG /* expiry further than max_ttl from now: not ours to accept */, RP_PAGETOKEN_VERDICTS };
const char *rp_pagetoken_verdict_name(enum rp_pagetoken_verdict v);  /* "ok", "malformed", "bad_signature", "expired", "too_long" */
int rp_pagetoken_mint(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *agent, char *out, size_t cap);
/* Constant-time signature check. agent_out (65 bytes) gets the agent name. */
enum rp_pagetoken_verdict rp_pagetoken_check(const uint8_t *secret, size_t secret_len, const char *token, size_t len,
                                             uint64_t now, unsigned max_ttl, char agent_out[65]);
/* coturn's REST API credentials (use-auth-secret, static-auth-secret): username "<expiry>:<name>",
 * password base64(HMAC-SHA1(secret, username)). 0 or -1. */
int rp_turn_rest_credentials(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *name,
                             char *user, size_t ucap, char *pass, size_t pcap);

/* A secret file: the whole file (one trailing newline stripped), at least
 * RP_PAGETOKEN_SECRET_MIN bytes; refused when group- or world-readable. 0 or -1 + err. */
int rp_pagetoken_read_secret(const char *path, uint8_t *out, size_t cap, size_t *len, char *err, size_t errlen);

#endif
