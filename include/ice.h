/* ICE-lite (RFC 8445 section 2.5) connectivity checks on STUN with short-term
 * credentials (RFC 8489 section 9.1). Pure wire format: no sockets. */
#ifndef RP_ICE_H
#define RP_ICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* ICE-lite (RFC 8445 §2.5): answer connectivity checks, short-term credentials (RFC 8489 §9.1). */
enum rp_ice_verdict {
    RP_ICE_ANSWERED = 0,
    RP_ICE_DROP_MALFORMED,      /* not parseable STUN / bad FINGERPRINT */
    RP_ICE_DROP_NOT_REQUEST,    /* not a Binding request */
    RP_ICE_DROP_NO_INTEGRITY,   /* USERNAME or MESSAGE-INTEGRITY missing */
    RP_ICE_DROP_BAD_USERNAME,   /* not "<our ufrag>:<their ufrag>" */
    RP_ICE_DROP_BAD_INTEGRITY,  /* HMAC-SHA1 with our password does not verify */
    RP_ICE_DROP_ROLE,           /* ICE-CONTROLLED: a lite agent is always controlled, the peer must control */
    RP_ICE_DROP_TOO_SMALL,      /* the answer would be larger than the request: no amplification */
    RP_ICE_VERDICTS
};
const char *rp_ice_verdict_name(enum rp_ice_verdict v);  /* "answered", "malformed", "not_request", "no_integrity", "bad_username", "bad_integrity", "role", "too_small" */
struct rp_ice_creds { const char *local_ufrag, *local_pwd, *remote_ufrag; };
struct rp_ice_check { bool use_candidate; uint32_t priority; };
/* A Binding success response (XOR-MAPPED-ADDRESS of `from`, MESSAGE-INTEGRITY with local_pwd, FINGERPRINT)
 * to a valid check, never larger than the request. */
enum rp_ice_verdict rp_ice_answer(const struct rp_ice_creds *c, const uint8_t *req, size_t len,
                                  const struct sockaddr *from, uint8_t *resp, size_t cap, size_t *resp_len,
                                  struct rp_ice_check *check);
/* A check as a browser sends it (USERNAME, PRIORITY, ICE-CONTROLLING, USE-CANDIDATE if asked, MI with
 * remote_pwd, FINGERPRINT) -- for tests, fuzz seeds and test tools. Bytes or 0. */
size_t rp_ice_build_check(uint8_t *buf, size_t cap, const uint8_t txid[12], const char *username,
                          const char *pwd, bool use_candidate);

#endif
