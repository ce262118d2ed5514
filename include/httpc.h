/* The probe's control-API client: one HTTP/1.1 request per connection, over TLS
 * (https://) or plain TCP (http://), blocking with a timeout. Control calls are
 * made only before and after the media stream, never while it runs. */
#ifndef RP_HTTPC_H
#define RP_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <jansson.h>

struct rp_httpc;

struct rp_httpc_opts {
    const char *token;       /* bearer token */
    const char *cacert;      /* CA bundle (PEM) to verify the daemon; NULL = system store */
    bool        insecure;    /* skip certificate verification (self-signed test daemons) */
    unsigned    timeout_ms;  /* connect, handshake and each read/write */
};

/* url: http[s]://HOST[:PORT][/PREFIX] (PREFIX for a reverse proxy, e.g. /rtpprobe).
 * Resolves HOST. NULL and a one-line message on failure. */
struct rp_httpc *rp_httpc_new(const char *url, const struct rp_httpc_opts *opts, char *err, size_t errlen);
void rp_httpc_free(struct rp_httpc *c);

/* The server's resolved address (port = control port) and host name. */
const struct sockaddr *rp_httpc_server_addr(const struct rp_httpc *c);
const char *rp_httpc_host(const struct rp_httpc *c);

/* Sends METHOD PREFIX+path with an optional JSON body. Returns 0 when an HTTP
 * response arrived (any status; *resp is its JSON body or NULL), -1 with a
 * one-line message when the daemon could not be reached or spoke no HTTP. */
int rp_httpc_request(struct rp_httpc *c, const char *method, const char *path, json_t *body,
                     int *status, json_t **resp, char *err, size_t errlen);

#endif
