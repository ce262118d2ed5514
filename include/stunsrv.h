/* Answering STUN Binding requests: the policy (answer only well-formed Binding
 * requests, never with more bytes than the request), shared by the session
 * ports and the stun.listen socket, and that socket's event glue. */
#ifndef RP_STUNSRV_H
#define RP_STUNSRV_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

enum rp_stun_verdict {
    RP_STUN_ANSWERED = 0,
    RP_STUN_DROP_MALFORMED,  /* not a parseable STUN message */
    RP_STUN_DROP_NOT_REQUEST,/* a response, indication or other method */
    RP_STUN_DROP_TOO_SMALL,  /* the answer would be larger than the request: no amplification */
    RP_STUN_DROP_UNKNOWN_ATTR,/* comprehension-required attribute we do not know: RFC 8489 wants a
                                 420 error, which could be larger than the request; we stay silent */
    RP_STUN_VERDICTS
};
const char *rp_stun_verdict_name(enum rp_stun_verdict v);

/* Writes the Binding success response for a request from `from` into resp and
 * sets *resp_len, or returns why not. */
enum rp_stun_verdict rp_stun_answer(const uint8_t *req, size_t len, const struct sockaddr *from,
                                    uint8_t *resp, size_t cap, size_t *resp_len);

struct rp_stunsrv;
/* Binds listen ("IP:port"). Returns NULL with errno EADDRINUSE when another
 * process (coturn) holds the port, or NULL and a message for other errors. */
struct rp_stunsrv *rp_stunsrv_new(struct event_base *base, const char *listen, char *err, size_t errlen);
void rp_stunsrv_free(struct rp_stunsrv *s);
uint64_t rp_stunsrv_count(const struct rp_stunsrv *s, enum rp_stun_verdict v);

#endif
