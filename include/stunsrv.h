/* The stun.listen socket: event glue around rp_stun_answer() (stun.h). */
#ifndef RP_STUNSRV_H
#define RP_STUNSRV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "stun.h"

struct event_base;

struct rp_stunsrv;
struct rp_ratelimit;
/* Binds listen ("IP:port"). Answers within rate (stun.rate, shared with the
 * session ports; not owned; NULL: no limit). Returns NULL with errno
 * EADDRINUSE when another process (coturn) holds the port, or NULL and a
 * message for other errors. */
struct rp_stunsrv *rp_stunsrv_new(struct event_base *base, const char *listen, struct rp_ratelimit *rate, char *err,
                                  size_t errlen);
void rp_stunsrv_free(struct rp_stunsrv *s);
uint64_t rp_stunsrv_count(const struct rp_stunsrv *s, enum rp_stun_verdict v);

#endif
