/* The probe's control-API client on libcurl: one easy handle (one kept-alive
 * connection) for the run, HTTP/1.1 over TLS (https://) or plain TCP (http://),
 * proxies from --proxy or the environment, every request bounded by a
 * deadline. Control calls are made before and after the media stream, and
 * the stop while downstream still runs (rp_httpc_watch keeps it read).
 * docs/control-client.md tells why and how. */
#ifndef RP_HTTPC_H
#define RP_HTTPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <jansson.h>

/* Largest answer body taken (the daemon's are a few KB). */
#define RP_HTTPC_MAX_BODY (1024 * 1024)

struct rp_httpc;

struct rp_httpc_opts {
    const char *token;       /* bearer token */
    const char *cacert;      /* CA bundle (PEM) to verify the daemon; NULL = system store */
    const char *proxy;       /* HTTP CONNECT proxy URL; NULL = https_proxy/no_proxy... as curl reads them */
    bool        insecure;    /* skip certificate verification (self-signed test daemons) */
    bool        verbose;     /* curl's trace of the exchange on stderr, the token redacted */
    unsigned    timeout_ms;  /* each request's limit while no deadline is set; 0 = none */
};

/* url: http[s]://HOST[:PORT][/PREFIX] (PREFIX for a reverse proxy, e.g. /rtpprobe).
 * Needs curl_global_init() done. Nothing is resolved or connected yet. NULL
 * and a one-line message on failure. */
struct rp_httpc *rp_httpc_new(const char *url, const struct rp_httpc_opts *opts, char *err, size_t errlen);
void rp_httpc_free(struct rp_httpc *c);

/* While a later request waits on the network, `fd` becoming readable calls
 * on_readable(arg) (the probe reads downstream during its stop request);
 * false from it ends the watch (nothing more will come). on_readable NULL:
 * nothing watched. */
void rp_httpc_watch(struct rp_httpc *c, int fd, bool (*on_readable)(void *arg), void *arg);

/* Every later request must complete before this CLOCK_MONOTONIC instant
 * (rp_monotonic_ns()); 0 = no deadline (opts.timeout_ms per request). */
void rp_httpc_set_deadline(struct rp_httpc *c, uint64_t deadline_mono_ns);
/* Nanoseconds left before the deadline (0 when passed; UINT64_MAX without one). */
uint64_t rp_httpc_time_left(const struct rp_httpc *c);

const char *rp_httpc_host(const struct rp_httpc *c);
/* "https://HOST:PORT/PREFIX" as requests go to (path appended), for messages. */
const char *rp_httpc_base(const struct rp_httpc *c);

/* The daemon's media host: the address the first control connection used
 * (curl's primary IP, no second lookup) when it went direct; through a proxy
 * (a CONNECT was answered), HOST resolved here (its first address) within the
 * time left before the deadline. Port 0. Call after a completed request. 0,
 * or -1 with a one-line message. Later requests are pinned to that first
 * direct address (CURLOPT_RESOLVE) when curl has to reconnect. */
int rp_httpc_media_host(struct rp_httpc *c, struct sockaddr_storage *out, char *err, size_t errlen);

/* Sends METHOD PREFIX+path with an optional JSON body. Returns 0 when an HTTP
 * response arrived (any status; *resp is its JSON body or NULL), -1 with a
 * one-line message when the daemon could not be reached, spoke no HTTP, or
 * the deadline passed. */
int rp_httpc_request(struct rp_httpc *c, const char *method, const char *path, json_t *body,
                     int *status, json_t **resp, char *err, size_t errlen);

/* The CURLOPT_RESOLVE entry later connections are pinned with
 * ("HOST:PORT:ADDRESS"), or NULL (none yet, proxied, or an address in --server). */
const char *rp_httpc_pin(const struct rp_httpc *c);

/* --- Pure parts, exposed for the unit tests --- */

/* What went wrong with a request: decided first, then put into words. */
enum rp_httpc_cause {
    RP_HTTPC_OK,
    RP_HTTPC_TIMEOUT,
    RP_HTTPC_RESOLVE,          /* the daemon's host name */
    RP_HTTPC_REFUSED,          /* TCP connection refused */
    RP_HTTPC_UNREACHABLE,      /* other connect failures (no route, ...) */
    RP_HTTPC_PROXY_RESOLVE,
    RP_HTTPC_PROXY_UNREACHABLE,
    RP_HTTPC_PROXY_REFUSED,    /* the proxy answered CONNECT with an error status */
    RP_HTTPC_CERT_MISMATCH,    /* trusted certificate, other names */
    RP_HTTPC_CERT_UNTRUSTED,   /* no chain to the CA given (or the system store) */
    RP_HTTPC_CACERT_FILE,      /* --cacert file unreadable */
    RP_HTTPC_TLS,              /* handshake failed otherwise (not a TLS port?) */
    RP_HTTPC_NOT_HTTP,         /* no/garbled status line, giant header, bad chunking */
    RP_HTTPC_CLOSED,           /* closed before or while answering */
    RP_HTTPC_TOO_LARGE,        /* body over RP_HTTPC_MAX_BODY */
    RP_HTTPC_NOMEM,
    RP_HTTPC_OTHER,
    RP_HTTPC_NCAUSES
};

/* What curl told about a failed request. */
struct rp_httpc_facts {
    int         rc;            /* CURLcode */
    long        connect_code;  /* CURLINFO_HTTP_CONNECTCODE: the proxy's answer to CONNECT, 0 = none */
    long        verify_result; /* CURLINFO_SSL_VERIFYRESULT (X509_V_*) */
    long        os_errno;      /* CURLINFO_OS_ERRNO */
    long        response_code; /* CURLINFO_RESPONSE_CODE: a status line arrived when > 0 */
    bool        at_proxy;      /* the failing connection was to the proxy (rp_httpc_failed_at_proxy) */
    bool        body_too_large;/* our write callback refused the body */
    bool        body_nomem;    /* our write callback could not grow its buffer */
    const char *errbuf;        /* CURLOPT_ERRORBUFFER text ("" if none) */
};

enum rp_httpc_cause rp_httpc_classify(const struct rp_httpc_facts *f);

/* Whether a failed connect was to the proxy, from facts only (a proxy set
 * is not used for a no_proxy host): the port curl last tried
 * (CURLINFO_PRIMARY_PORT; 0 = not known) is the proxy URL's and not the
 * daemon's, or curl's error text names the proxy's host and port. proxy_url
 * is --proxy or the variable curl reads for the scheme, NULL if none. */
bool rp_httpc_failed_at_proxy(const char *proxy_url, long primary_port, const char *server_host, unsigned server_port,
                              const char *errbuf);
/* A short fixed phrase for the cause ("timed out", "connection refused", ...). */
const char *rp_httpc_cause_name(enum rp_httpc_cause cause);

/* The verbose trace's line filter: copies one line (without its line end)
 * into out, the value of Authorization/Proxy-Authorization replaced by its
 * scheme and "[redacted]", and a URL's user:password (curl names the proxy
 * variable it uses, credentials and all) by "[redacted]". Returns the length
 * written (out is always NUL-terminated when outlen > 0). */
size_t rp_httpc_redact_line(const char *line, size_t len, char *out, size_t outlen);

/* Replaces every control character (bytes below 0x20, NUL included, and
 * 0x7f) in s[0..len) by '?': text from the server (its header lines, its
 * {"error": ...}, certificate names, curl's words about them) reaches a
 * terminal without escapes. Returns how many were replaced. */
size_t rp_httpc_clean_text(char *s, size_t len);

/* url without the user:password@ of its authority ("http://u:p@h:3128" ->
 * "http://h:3128"; also without a scheme), for messages. Returns the length
 * written; out is always NUL-terminated when outlen > 0. */
size_t rp_httpc_strip_userinfo(const char *url, char *out, size_t outlen);

/* The pieces of --server. */
struct rp_httpc_url {
    bool     tls;
    char     host[256];       /* without brackets */
    unsigned port;
    char     hostport[300];   /* "host:port", "[v6]:port" */
    char     prefix[256];     /* "" or "/rtpprobe" (no trailing slash) */
};
int rp_httpc_parse_url(const char *url, struct rp_httpc_url *out, char *err, size_t errlen);

#endif
