/* The browser pre-call test's control side (docs/webrtc.md): page tokens,
 * GET /v1/webrtc/config (ICE servers with fresh TURN credentials),
 * POST /v1/webrtc (the browser's offer in, a browser session and our answer
 * out) and POST /v1/webrtc/{id}/stats (the browser's figures in, the report
 * out). control.c routes and authenticates; this module decides and answers. */
#ifndef RP_WEBCTL_H
#define RP_WEBCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "pagetoken.h"
#include "reflector.h"

struct json_t;
struct rp_webctl;

#define RP_WEBCTL_PREFIX "/v1/webrtc"

/* Makes the DTLS certificate and reads the secret files cfg names. NULL and
 * a message on failure (a secret file that cannot be used is an error). */
struct rp_webctl *rp_webctl_new(const struct rp_config *cfg, char *err, size_t errlen);
/* The secret files cfg names can be read and used (--check-config). 0 or -1. */
int  rp_webctl_check(const struct rp_config *cfg, char *err, size_t errlen);
/* After a reload: the secret files are read again; on error the old ones stay. 0 or -1. */
int  rp_webctl_reload(struct rp_webctl *w, const struct rp_config *cfg, char *err, size_t errlen);
void rp_webctl_free(struct rp_webctl *w);

/* The page is served, and page tokens accepted, only with a page secret. */
bool rp_webctl_page_enabled(const struct rp_webctl *w);
/* A page token's verdict (counted); agent_out gets its agent name. */
enum rp_pagetoken_verdict rp_webctl_check_token(struct rp_webctl *w, const char *token, size_t len,
                                                char agent_out[65]);

/* One request, as control.c saw it. */
struct rp_webctl_req {
    const char *body;
    size_t      len;
    const struct sockaddr *client;  /* who it is for (X-Forwarded-For from a local proxy) */
    const struct sockaddr *local;   /* the control connection's local address: the candidate's
                                       when webrtc.address is unset */
    const char *agent;              /* the page token's agent, "" for none */
    const char *server;             /* the Host header, for the report */
};
/* Each returns the HTTP status and sets *answer: a new reference to the
 * document, or to {"error": "..."}; NULL only when out of memory. */
int rp_webctl_config(struct rp_webctl *w, const struct rp_webctl_req *rq, struct json_t **answer);
int rp_webctl_create(struct rp_webctl *w, struct rp_reflector *refl, const struct rp_webctl_req *rq,
                     struct json_t **answer);
/* POST /v1/webrtc/{id}/stop: the session stops (the page, having stopped its
 * sender, waits for what is in flight, then posts its figures). */
int rp_webctl_stop(struct rp_reflector *refl, const char *id, struct json_t **answer);
int rp_webctl_stats(struct rp_webctl *w, struct rp_reflector *refl, const char *id, const struct rp_webctl_req *rq,
                    struct json_t **answer);

struct rp_webctl_counters {
    uint64_t tokens[RP_PAGETOKEN_VERDICTS];  /* page tokens presented, by verdict */
    uint64_t offers_refused;                 /* POST /v1/webrtc refused (bad body or SDP, limits) */
    uint64_t created;                        /* browser sessions created */
    uint64_t reports;                        /* reports made from a browser's figures */
    uint64_t stats_refused;                  /* figures refused */
};
void rp_webctl_counters(const struct rp_webctl *w, struct rp_webctl_counters *out);

#endif
