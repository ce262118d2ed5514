/* The daemon<->probe JSON contract (docs/control-api.md): the POST answer
 * that creates a session and the session document GET, PATCH and DELETE
 * return. Each message has one key table that its encoder (the daemon) and
 * its decoder (the probe) share, and the decoder fails loudly, naming the key,
 * when one is missing, mistyped or out of range: a renamed key cannot read as 0. */
#ifndef RP_CONTRACT_H
#define RP_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "rxstats.h"
#include "srtp.h"
#include "stream.h"
#include "stun.h"

#define RP_CONTRACT_ID_LEN 32 /* hex chars of a session id */

/* 32 lowercase hex digits: the daemon's form, safe in a request line (NULL: false). */
bool rp_contract_id_valid(const char *id);

/* The upstream direction as the daemon measured it. rx.expected, first and
 * last arrival are not part of the contract (the probe knows what it sent). */
struct rp_contract_up {
    struct rp_rxsummary rx;
    uint64_t accepted;       /* every accepted datagram, duplicates included */
    uint64_t sent_by_probe;  /* as the probe said at stop; 0 = not yet */
    uint64_t host_drops;     /* the daemon's socket queue overflowed (not network loss) */
    uint64_t auth_failures;
    uint64_t primed;         /* priming packets: latch, not measured */
    bool     reply_only;     /* upstream arrived only after downstream went out */
    uint64_t dropped[RP_DROP_COUNT];         /* [RP_DROP_NONE] unused */
    uint64_t stun[RP_STUN_VERDICTS];
    uint64_t malformed_rtp[RP_RTP_NERR];     /* [RP_RTP_OK] unused */
    uint64_t malformed_stun[RP_STUN_NERR];   /* [RP_STUN_OK] unused */
    /* upstream.per_second: only in the document of a session created with
     * "series": true (an optional key: older daemons and probes do without).
     * Encoding writes the seconds of `series` (the daemon's own statistics,
     * borrowed; `sent_by_probe` packets), else per_second when has_per_second.
     * Decoding sets has_per_second and per_second, which the caller owns:
     * rp_contract_session_release(). */
    const struct rp_rxstats *series;
    bool     has_per_second;
    struct rp_second *per_second;
    size_t   nseconds;
};

struct rp_contract_down {
    uint64_t sent;           /* packets sent */
    uint64_t skipped;        /* slots of the media clock the overloaded daemon skipped (gaps, lost) */
    uint64_t wire_bytes;
    uint64_t send_errors;    /* sends the daemon's host refused (still counted as sent) */
};

/* GET/PATCH/DELETE /v1/sessions/{id}. Addresses "" when unset (JSON null). */
struct rp_contract_session {
    char     id[RP_CONTRACT_ID_LEN + 1];
    char     codec[16];
    unsigned ptime_ms, bitrate_bps, duration_s, jitter_buffer_ms;
    unsigned media_port;
    char     state[16];      /* "waiting" | "sending" | "stopped" */
    char     client[RP_ADDRSTRLEN];
    char     announced[RP_ADDRSTRLEN];
    char     latched[RP_ADDRSTRLEN];
    uint64_t relatched;
    uint32_t ssrc_up, ssrc_down;
    char     transport[8];   /* "rtp" | "srtp" */
    char     cipher[32];     /* SRTP suite name; "" for plain RTP (JSON null) */
    struct rp_contract_up up;
    struct rp_contract_down down;
};

/* The session's keys: the HMAC key for plain RTP, or the SRTP suite and the
 * master keys of both directions. Only ever sent over TLS or loopback. */
struct rp_contract_keys {
    bool     srtp;
    uint8_t  auth_key[RP_MEXT_AUTH_KEY_LEN];
    enum rp_srtp_suite suite;
    uint8_t  key_up[RP_SRTP_MAX_KEY_LEN];
    uint8_t  key_down[RP_SRTP_MAX_KEY_LEN];
};

/* POST /v1/sessions, 201. */
struct rp_contract_created {
    char     id[RP_CONTRACT_ID_LEN + 1];
    unsigned media_port;
    uint32_t ssrc_up, ssrc_down;
    unsigned pt, clock_rate;
    char     codec[16];
    unsigned ptime_ms, bitrate_bps, duration_s, jitter_buffer_ms;
    char     transport[8];
    char     client[RP_ADDRSTRLEN];
    unsigned port_min, port_max;   /* the daemon's media port range */
    struct rp_contract_keys keys;
};

/* jansson's json_t: the plain structs above need no JSON library to be used. */
struct json_t;

/* New references; NULL only when out of memory. */
struct json_t *rp_contract_session_encode(const struct rp_contract_session *s);
struct json_t *rp_contract_created_encode(const struct rp_contract_created *c);

/* 0, or -1 with "KEY: missing" / "KEY: not an integer" / ... in err. The
 * created decoder also checks the keys (base64 HMAC key, or inline SRTP keys
 * of the suite named). Secrets in *out are the caller's to cleanse. A decoded
 * session may own its upstream.per_second: rp_contract_session_release() it
 * (also after a failed decode; harmless when it owns nothing). */
int rp_contract_session_decode(const struct json_t *j, struct rp_contract_session *out, char *err, size_t errlen);
void rp_contract_session_release(struct rp_contract_session *s);

/* The most downstream slots (packets sent + skipped) a session of duration_s
 * at ptime_ms uses (the daemon's limit, and the probe's check of its count). */
uint64_t rp_contract_down_budget(unsigned duration_s, unsigned ptime_ms);

/* What the probe knows itself about the session a final document describes. */
struct rp_contract_truth {
    const char *id;
    uint64_t    up_sent;        /* upstream packets the probe sent */
    uint64_t    down_received;  /* authentic downstream packets it received (no duplicates) */
    uint64_t    down_sent_seen; /* the highest "slots so far" count they carried (sent + skipped) */
    uint64_t    down_budget;    /* most downstream slots the session may use (rp_contract_down_budget) */
};
/* A decoded document that contradicts itself or the probe: another session's
 * id, more upstream received than sent (or than accepted), fewer downstream
 * sent than the probe received, fewer downstream slots (sent + skipped) than
 * its packets counted, more slots than the session may use. -1 with the contradiction in err: its
 * figures must not be used. */
int rp_contract_session_consistent(const struct rp_contract_session *s, const struct rp_contract_truth *t, char *err,
                                   size_t errlen);
int rp_contract_created_decode(const struct json_t *j, struct rp_contract_created *out, char *err, size_t errlen);

#endif
