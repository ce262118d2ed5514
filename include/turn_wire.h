/* TURN (RFC 8656) wire format on top of stun.h: message parsing, request
 * building with the long-term credential, MESSAGE-INTEGRITY, ChannelData and
 * stream framing. Pure (no sockets), so it is tested without a server;
 * the client that speaks it is turn.h. Every byte from the server is untrusted. */
#ifndef RP_TURN_WIRE_H
#define RP_TURN_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "stun.h"

/* Methods (RFC 8656 §17) and the class bits of RFC 8489 §5. */
#define RP_TURN_ALLOCATE          0x0003u
#define RP_TURN_REFRESH           0x0004u
#define RP_TURN_CREATE_PERMISSION 0x0008u
#define RP_TURN_CHANNEL_BIND      0x0009u
#define RP_TURN_DATA_INDICATION   0x0017u
#define RP_TURN_SUCCESS           0x0100u
#define RP_TURN_ERROR             0x0110u
#define RP_TURN_CLASS_MASK        0x0110u

#define RP_TURN_CHANNEL_MIN 0x4000u   /* RFC 8656 §12 */
#define RP_TURN_CHANNEL_MAX 0x7FFEu
#define RP_TURN_CHANNEL_HDR 4
#define RP_TURN_KEY_LEN 16            /* MD5(user:realm:pass) */
#define RP_TURN_MAX_TEXT 256          /* REALM, NONCE, reason: longer ones are refused */
#define RP_TURN_MAX_MSG 2048          /* what we accept from the server */

/* The parts of a TURN message the client reads. */
struct rp_turn_msg {
    uint16_t type;
    uint8_t  txid[RP_STUN_TXID_LEN];
    int      error_code;                     /* 0 = none, else 300..699 */
    char     reason[RP_TURN_MAX_TEXT];       /* printable ASCII only */
    char     realm[RP_TURN_MAX_TEXT];
    char     nonce[RP_TURN_MAX_TEXT];
    bool     has_relayed, has_mapped, has_peer, has_lifetime;
    struct sockaddr_storage relayed, mapped, peer;
    uint32_t lifetime;
    const uint8_t *data;                     /* DATA of a Data indication (points into the buffer) */
    size_t   data_len;
    size_t   integrity_off;                  /* offset of MESSAGE-INTEGRITY, 0 = absent */
    bool     unknown_comprehension_required;
};

/* Parses a whole STUN/TURN message (rp_stun_parse's checks, FINGERPRINT
 * included). Attributes after MESSAGE-INTEGRITY other than FINGERPRINT are
 * ignored (RFC 8489 §14.5); unknown ones are skipped. */
enum rp_stun_err rp_turn_parse(const uint8_t *buf, size_t len, struct rp_turn_msg *out);

/* True if the message's MESSAGE-INTEGRITY (HMAC-SHA1 with key) is right. */
bool rp_turn_integrity_ok(const uint8_t *buf, size_t len, const struct rp_turn_msg *m, const uint8_t *key,
                          size_t keylen);

/* A request or indication to build. Unset fields are left out. */
struct rp_turn_req {
    uint16_t type;
    const uint8_t *txid;
    bool requested_udp;                   /* REQUESTED-TRANSPORT UDP (Allocate) */
    bool has_lifetime;
    uint32_t lifetime;
    const struct sockaddr *peer;          /* XOR-PEER-ADDRESS */
    uint16_t channel;                     /* CHANNEL-NUMBER, 0 = none */
    const char *user, *realm, *nonce;     /* with key: the long-term credential */
    const uint8_t *key;                   /* RP_TURN_KEY_LEN bytes, NULL = no MESSAGE-INTEGRITY */
};
/* Bytes written (with FINGERPRINT last), or 0 if it does not fit or a field is too long. */
size_t rp_turn_build(uint8_t *buf, size_t cap, const struct rp_turn_req *req);

/* key = MD5(user ":" realm ":" pass) (RFC 8489 §9.2.2, no SASLprep: ASCII credentials). */
int rp_turn_key(const char *user, const char *realm, const char *pass, uint8_t key[RP_TURN_KEY_LEN]);
/* coturn's REST scheme (--use-auth-secret): rp_turn_rest_credentials in pagetoken.h. */

/* ChannelData (RFC 8656 §12.4): 4-byte header, the data, padded to 4 bytes
 * when `pad` (stream transports). Bytes written, or 0. */
size_t rp_turn_channel_wrap(uint8_t *out, size_t cap, uint16_t channel, const uint8_t *data, size_t n, bool pad);
/* A ChannelData message as received (padding optional, nothing beyond it).
 * 0 with *channel, *data, *n set, or -1. */
int rp_turn_channel_parse(const uint8_t *buf, size_t len, uint16_t *channel, const uint8_t **data, size_t *n);
/* On a stream: the length of the frame starting at buf (STUN message or
 * padded ChannelData), 0 if more bytes are needed to tell, or -1 if the bytes
 * are neither (the stream is unusable). */
ssize_t rp_turn_frame_len(const uint8_t *buf, size_t avail);

#endif
