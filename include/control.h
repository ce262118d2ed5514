/* The control API: HTTP/1.1 + JSON over TLS (libevent evhttp + OpenSSL), bearer
 * tokens. Routes and bodies are documented in docs/control-api.md. */
#ifndef RP_CONTROL_H
#define RP_CONTROL_H

#include <stddef.h>

#include <event2/event.h>

#include "config.h"
#include "reflector.h"

struct rp_control;

/* Binds cfg->control_listen. NULL and a message on failure. */
struct rp_control *rp_control_new(struct event_base *base, const struct rp_config *cfg,
                                  struct rp_reflector *refl, char *err, size_t errlen);
/* Loads control.tls_cert/tls_key as rp_control_new would (for --check-config). 0 or -1. */
int  rp_control_check_tls(const struct rp_config *cfg, char *err, size_t errlen);
/* After a reload: cfg is the configuration now running. Tokens and limits are
 * read from it per request; this applies the rate limit, body size and timeout
 * and reads the TLS certificate and key again. 0, or -1 keeping the old ones. */
int  rp_control_reload(struct rp_control *c, const struct rp_config *cfg, char *err, size_t errlen);
void rp_control_free(struct rp_control *c);
/* The stun.listen socket and echo ports whose counters /metrics shows (either may be NULL). */
struct rp_stunsrv;
struct rp_echo;
void rp_control_set_listeners(struct rp_control *c, const struct rp_stunsrv *stun, const struct rp_echo *echo);

#endif
