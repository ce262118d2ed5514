/* Page tokens for the browser pre-call page, and coturn REST credentials (docs/webrtc.md). */
#ifndef RP_PAGETOKEN_H
#define RP_PAGETOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Page tokens: short-lived HMAC-SHA256 credentials for the browser pre-call page (docs/webrtc.md).
 * Form: "v1:<expiry unix s>:<agent>:<base64url(HMAC-SHA256(secret, "v1:<expiry>:<agent>"))>", agent
 * [A-Za-z0-9._-]{0,64} (may be empty). A site's web app mints them with the shared secret too, so the
 * form is fixed: expiry in decimal without sign or leading zero, the MAC in base64url without padding
 * (43 characters). */
#define RP_PAGETOKEN_MAX 192           /* longer input is malformed; every token minted fits */
#define RP_PAGETOKEN_SECRET_MIN 32     /* bytes */
enum rp_pagetoken_verdict { RP_PAGETOKEN_OK = 0, RP_PAGETOKEN_MALFORMED, RP_PAGETOKEN_BAD_SIGNATURE, RP_PAGETOKEN_EXPIRED,
                            RP_PAGETOKEN_TOO_LONG /* expiry further than max_ttl from now: not ours to accept */, RP_PAGETOKEN_VERDICTS };
const char *rp_pagetoken_verdict_name(enum rp_pagetoken_verdict v);  /* "ok", "malformed", "bad_signature", "expired", "too_long" */
/* Whether agent (NUL-terminated) fits a token: [A-Za-z0-9._-]{0,64}. */
bool rp_pagetoken_agent_ok(const char *agent);
/* The token, NUL-terminated, into out (RP_PAGETOKEN_MAX is always enough). agent NULL = "".
 * 0, or -1: secret shorter than RP_PAGETOKEN_SECRET_MIN, agent outside the charset, cap too small. */
int rp_pagetoken_mint(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *agent, char *out, size_t cap);
/* Constant-time signature check of token[0..len) (no NUL needed). The signature is checked before the
 * time, so EXPIRED and TOO_LONG are only said of tokens this secret signed. Valid while now < expiry
 * and expiry - now <= max_ttl. agent_out (65 bytes, may be NULL) gets the agent name on OK, "" otherwise. */
enum rp_pagetoken_verdict rp_pagetoken_check(const uint8_t *secret, size_t secret_len, const char *token, size_t len,
                                             uint64_t now, unsigned max_ttl, char agent_out[65]);
/* coturn's REST API credentials (use-auth-secret, static-auth-secret): username "<expiry>:<name>",
 * password base64(HMAC-SHA1(secret, username)), standard alphabet, padded (28 characters + NUL, so
 * pcap >= 29). name: printable ASCII without spaces, at most 64, NULL = "". 0 or -1. */
int rp_turn_rest_credentials(const uint8_t *secret, size_t secret_len, uint64_t expiry, const char *name,
                             char *user, size_t ucap, char *pass, size_t pcap);

/* A secret file (page or TURN secret): the whole file, one trailing newline stripped, at least
 * RP_PAGETOKEN_SECRET_MIN bytes and at most min(cap, 4096). Refused (as ssh refuses an open private key)
 * when others have any access or the group may write (mode & 027), or not a regular file. Group read is
 * allowed: the systemd unit's dynamic user reads through the rtpprobe group (root:rtpprobe 0640).
 * 0, or -1 with a one-line err naming the path. */
int rp_pagetoken_read_secret(const char *path, uint8_t *out, size_t cap, size_t *len, char *err, size_t errlen);

#endif
