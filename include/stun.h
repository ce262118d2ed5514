/* STUN Binding (RFC 8489) wire format: just what NAT discovery needs.
 * Pure wire format: no sockets. Every read is length-checked. */
#ifndef RP_STUN_H
#define RP_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RP_STUN_PORT 3478 /* RFC 8489 §9: the default port for STUN over UDP */
#define RP_STUN_HDR_LEN 20
#define RP_STUN_MAGIC 0x2112A442u
#define RP_STUN_BINDING_REQUEST 0x0001u
#define RP_STUN_BINDING_SUCCESS 0x0101u
#define RP_STUN_TXID_LEN 12

/* RFC 7983 §7 demultiplexing on the first byte: 0..3 STUN, 128..191 RTP/RTCP. */
bool rp_stun_first_byte_is_stun(const uint8_t *buf, size_t len);

enum rp_stun_err {
    RP_STUN_OK = 0,
    RP_STUN_ETOOSHORT,     /* shorter than the 20-byte header */
    RP_STUN_ENOTSTUN,      /* top two bits set, or no magic cookie (RFC 3489 is not answered) */
    RP_STUN_ELENGTH,       /* message length not a multiple of 4 or beyond the datagram */
    RP_STUN_EATTR,         /* an attribute runs past the message */
    RP_STUN_EFINGERPRINT,  /* FINGERPRINT present but wrong, or not last */
    RP_STUN_NERR
};
const char *rp_stun_strerror(enum rp_stun_err err);

struct rp_stun_msg {
    uint16_t type;                       /* e.g. RP_STUN_BINDING_REQUEST */
    uint8_t  txid[RP_STUN_TXID_LEN];
    size_t   length;                     /* header + attributes actually used */
    bool     has_fingerprint;
    bool     has_mapped;                 /* XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS, was present */
    struct sockaddr_storage mapped;      /* decoded (un-XORed) address */
    bool     unknown_comprehension_required; /* an attribute < 0x8000 we do not know */
};

/* Parses a STUN message (with magic cookie). Trailing bytes after the message
 * length are rejected as ELENGTH. */
enum rp_stun_err rp_stun_parse(const uint8_t *buf, size_t len, struct rp_stun_msg *out);

/* Binding request with SOFTWARE, padded with a PADDING attribute (RFC 5780 §7.6)
 * to at least min_len bytes, and FINGERPRINT. Returns bytes written or 0. */
size_t rp_stun_build_request(uint8_t *buf, size_t cap, const uint8_t txid[RP_STUN_TXID_LEN], size_t min_len);

/* Binding success response carrying XOR-MAPPED-ADDRESS of `mapped` and
 * FINGERPRINT. Returns bytes written or 0 when it would not fit in cap. */
size_t rp_stun_build_response(uint8_t *buf, size_t cap, const uint8_t txid[RP_STUN_TXID_LEN],
                              const struct sockaddr *mapped);

/* Size of the response rp_stun_build_response writes for this address family. */
size_t rp_stun_response_len(int family);

/* The answering policy, shared by session ports and stun.listen: answer only
 * well-formed Binding requests, never with more bytes than the request. */
enum rp_stun_verdict {
    RP_STUN_ANSWERED = 0,
    RP_STUN_DROP_MALFORMED,  /* not a parseable STUN message */
    RP_STUN_DROP_NOT_REQUEST,/* a response, indication or other method */
    RP_STUN_DROP_TOO_SMALL,  /* the answer would be larger than the request: no amplification */
    RP_STUN_DROP_UNKNOWN_ATTR,/* comprehension-required attribute we do not know: RFC 8489 wants a
                                 420 error, which could be larger than the request; we stay silent */
    RP_STUN_DROP_RATE,       /* would be answered, but its source IP is above stun.rate */
    RP_STUN_VERDICTS
};
const char *rp_stun_verdict_name(enum rp_stun_verdict v);

/* Writes the Binding success response for a request from `from` into resp and
 * sets *resp_len, or returns why not. */
enum rp_stun_verdict rp_stun_answer(const uint8_t *req, size_t len, const struct sockaddr *from,
                                    uint8_t *resp, size_t cap, size_t *resp_len);

/* For TURN (turn.c), which builds on this wire format: the FINGERPRINT value
 * of the first `covered` bytes (header length already counting FINGERPRINT),
 * and a (XOR-)address attribute value decoded against header `hdr`. */
uint32_t rp_stun_fingerprint(const uint8_t *msg, size_t covered);
enum rp_stun_err rp_stun_decode_address(const uint8_t *val, size_t vlen, bool xored, const uint8_t *hdr,
                                        struct sockaddr_storage *out);

/* MESSAGE-INTEGRITY (RFC 8489 §14.5), shared by TURN (long-term key,
 * turn_wire.c) and ICE (short-term key = the password itself, ice.c). */
#define RP_STUN_ATTR_HDR_LEN 4
#define RP_STUN_ATTR_INTEGRITY 0x0008u
#define RP_STUN_INTEGRITY_LEN 20         /* HMAC-SHA1 */
/* HMAC-SHA1(key, a || b); b may be NULL when blen is 0. 0, or -1 if libcrypto failed. */
int rp_stun_hmac_sha1(const uint8_t *key, size_t keylen, const uint8_t *a, size_t alen, const uint8_t *b,
                      size_t blen, uint8_t mac[RP_STUN_INTEGRITY_LEN]);
/* The MESSAGE-INTEGRITY value of the message in msg whose MESSAGE-INTEGRITY
 * attribute starts at mi_off (>= 20): HMAC-SHA1 over the bytes before it, the
 * header's length field counting up to the end of MESSAGE-INTEGRITY. 0 or -1. */
int rp_stun_integrity(const uint8_t *msg, size_t mi_off, const uint8_t *key, size_t keylen,
                      uint8_t mac[RP_STUN_INTEGRITY_LEN]);
/* Whether the MESSAGE-INTEGRITY attribute at mi_off (all of it inside len) is
 * right for key; constant-time comparison. */
bool rp_stun_integrity_ok(const uint8_t *msg, size_t len, size_t mi_off, const uint8_t *key, size_t keylen);
/* Ends a message whose header is written and whose attributes fill buf up to
 * off: MESSAGE-INTEGRITY with key (none when key is NULL), then FINGERPRINT,
 * each computed with the header length counting up to its own end. Total
 * bytes, or 0 if it does not fit in cap. */
size_t rp_stun_finish(uint8_t *buf, size_t cap, size_t off, const uint8_t *key, size_t keylen);

#endif
