/* TURN (RFC 8656) client: a relay for the probe's media when direct UDP to the
 * media host does not work. It allocates, permits one peer, binds a channel and
 * relays ChannelData over UDP, TCP or TLS; the wire format is turn_wire.h. */
#ifndef RP_TURN_H
#define RP_TURN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

enum rp_turn_transport { RP_TURN_UDP, RP_TURN_TCP, RP_TURN_TLS };
const char *rp_turn_path_name(enum rp_turn_transport t);  /* "turn-udp", "turn-tcp", "turns" */

struct rp_turn_uri {
    enum rp_turn_transport transport;
    char host[256];
    uint16_t port;
};
/* turn:HOST[:PORT][?transport=udp|tcp], turns:HOST[:PORT]; IPv6 in [ ]. */
int rp_turn_uri_parse(const char *uri, struct rp_turn_uri *out, char *err, size_t errlen);

struct rp_turn_cfg {
    const char *uri;
    const char *user, *pass;     /* long-term credentials, or */
    const char *secret;          /* coturn's shared secret (REST scheme) */
    const char *cacert;          /* turns: CA file; NULL = system's */
    bool insecure;               /* turns: no certificate check */
    int dscp;                    /* -1 = leave unmarked */
};

/* Why rp_turn_open failed: credentials are the user's to fix (exit 3). */
enum rp_turn_fail { RP_TURN_FAIL_NONE, RP_TURN_FAIL_AUTH, RP_TURN_FAIL_OTHER };

struct rp_turn;
/* Connects, allocates a UDP relay, and returns the client (non-blocking fd).
 * NULL with a message and *why on failure. Blocks until deadline_ns at most. */
struct rp_turn *rp_turn_open(const struct rp_turn_cfg *cfg, uint64_t deadline_ns, enum rp_turn_fail *why,
                             char *err, size_t errlen);
int rp_turn_fd(const struct rp_turn *t);
enum rp_turn_transport rp_turn_transport_of(const struct rp_turn *t);
const struct sockaddr *rp_turn_relayed(const struct rp_turn *t);
const struct sockaddr *rp_turn_server(const struct rp_turn *t);
/* CreatePermission and ChannelBind for the peer; media to and from it then
 * go as ChannelData. 0, or -1 with a message. */
int rp_turn_bind_peer(struct rp_turn *t, const struct sockaddr *peer, uint64_t deadline_ns, char *err,
                      size_t errlen);
/* Sends one packet to the bound peer. 0, or -1 (errno). */
int rp_turn_send(struct rp_turn *t, const uint8_t *pkt, size_t n);
/* Next packet from the bound peer into buf: its length, or -1 with errno
 * EAGAIN when nothing more is there (other frames are skipped), or another
 * errno when the connection is gone. */
struct rp_udp_meta;
ssize_t rp_turn_recv(struct rp_turn *t, uint8_t *buf, size_t cap, struct rp_udp_meta *meta);
/* Releases the allocation (Refresh, lifetime 0; best effort within deadline)
 * and frees everything. NULL is fine. */
void rp_turn_close(struct rp_turn *t, uint64_t deadline_ns);

#endif
