/* Control API glue: evhttp routes, bearer-token check, JSON in and out. */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "control.h"
#include "log.h"
#include "netaddr.h"
#include "ratelimit.h"
#include "timeutil.h"
#include "token.h"

#define API_PREFIX "/v1/sessions"
/* Slow clients are dropped after this many seconds without progress. */
#define HTTP_TIMEOUT_S 10
#define MAX_HEADERS_BYTES 8192
#define RATE_SOURCES 1024
#define RATE_PER_S 20.0
#define RATE_BURST 40.0
#define DEFAULT_PTIME_MS 20
#define DEFAULT_DURATION_S 10
#define DEFAULT_JB_MS 60
#define MAX_JB_MS 1000

struct rp_control {
    struct event_base *base;
    const struct rp_config *cfg;
    struct rp_reflector *refl;
    struct evhttp *http;
    SSL_CTX *ssl_ctx;
    struct rp_ratelimit *rate;
};

static void reply_json(struct evhttp_request *req, int status, json_t *body)
{
    struct evbuffer *out = evbuffer_new();
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (out && text) {
        evbuffer_add(out, text, strlen(text));
        evbuffer_add(out, "\n", 1);
    }
    free(text);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_send_reply(req, status, NULL, out);
    if (out)
        evbuffer_free(out);
}

static void reply_error(struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void reply_error(struct evhttp_request *req, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(req, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
}

/* getpeername() on the connection: evhttp_connection_get_addr() is empty for
 * TLS bufferevents, which would merge every client into one. */
static bool peer_of(struct evhttp_request *req, struct sockaddr_storage *ss)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    socklen_t len = sizeof *ss;
    memset(ss, 0, sizeof *ss);
    if (fd < 0)
        return false;
    /* evhttp writes headers and body separately: without this, Nagle and delayed
     * ACKs add 40 ms to every TLS response. */
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return getpeername(fd, (struct sockaddr *)ss, &len) == 0 &&
           (ss->ss_family == AF_INET || ss->ss_family == AF_INET6);
}

static bool authorized(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    bool ok = false;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        const char *tok = auth + 7;
        ok = rp_token_check((const uint8_t(*)[RP_TOKEN_HASH_LEN])c->cfg->tokens, c->cfg->ntokens, tok,
                            strlen(tok));
    }
    if (!ok) {
        char ip[RP_ADDRSTRLEN] = "?";
        struct sockaddr_storage peer;
        if (peer_of(req, &peer))
            rp_addr_format_ip((struct sockaddr *)&peer, ip, sizeof ip);
        /* Stable one-line format: conf/fail2ban matches it. */
        rp_log_warn("auth-failure client=%s path=%s", ip, path);
        evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rtpprobed\"");
        reply_error(req, 401, "missing or invalid bearer token");
    }
    return ok;
}

/* Parses the request body as a JSON object; replies 400 and returns NULL if it is not one. */
static json_t *read_body(struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    if (len == 0) {
        reply_error(req, 400, "request body must be a JSON object");
        return NULL;
    }
    const char *data = (const char *)evbuffer_pullup(in, -1);
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        reply_error(req, 400, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        reply_error(req, 400, "request body must be a JSON object");
        return NULL;
    }
    return root;
}

/* Only these keys are accepted, so that a misspelt option is an error, not a default. */
static bool only_keys(struct evhttp_request *req, json_t *obj, const char *const *allowed)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= strcmp(key, *a) == 0;
        if (!known) {
            reply_error(req, 400, "unknown field \"%.64s\"", key);
            return false;
        }
    }
    return true;
}

/* Optional integer field in [min, max]; replies 400 on a wrong type or range. */
static bool get_uint(struct evhttp_request *req, json_t *obj, const char *key, unsigned def,
                     unsigned min, unsigned max, unsigned *out)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return true;
    }
    if (!json_is_integer(v)) {
        reply_error(req, 400, "%s must be an integer", key);
        return false;
    }
    json_int_t i = json_integer_value(v);
    if (i < (json_int_t)min || i > (json_int_t)max) {
        reply_error(req, 400, "%s must be between %u and %u", key, min, max);
        return false;
    }
    *out = (unsigned)i;
    return true;
}

static void handle_create(struct rp_control *c, struct evhttp_request *req)
{
    static const char *const allowed[] = { "codec", "ptime_ms", "duration_s", "bitrate_bps", "transport",
                                           "jitter_buffer_ms", NULL };
    json_t *body = read_body(req);
    if (!body)
        return;
    struct rp_session_params p;
    const struct rp_codec_info *codec;
    json_t *v = json_object_get(body, "codec");
    if (!only_keys(req, body, allowed))
        goto out;
    if (!json_is_string(v)) {
        reply_error(req, 400, "codec is required: \"pcmu\", \"pcma\" or \"opus\"");
        goto out;
    }
    codec = rp_codec_by_name(json_string_value(v));
    if (!codec) {
        reply_error(req, 400, "unknown codec \"%.32s\": use \"pcmu\", \"pcma\" or \"opus\"", json_string_value(v));
        goto out;
    }
    p.codec = codec->id;
    v = json_object_get(body, "transport");
    if (v && (!json_is_string(v) || strcmp(json_string_value(v), "rtp") != 0)) {
        reply_error(req, 400, "transport must be \"rtp\"");
        goto out;
    }
    if (!get_uint(req, body, "ptime_ms", DEFAULT_PTIME_MS, 10, 60, &p.ptime_ms) ||
        !get_uint(req, body, "duration_s", DEFAULT_DURATION_S < c->cfg->max_duration ? DEFAULT_DURATION_S
                                                                                      : c->cfg->max_duration,
                  1, c->cfg->max_duration, &p.duration_s) ||
        !get_uint(req, body, "bitrate_bps", codec->default_bitrate, 1, 510000, &p.bitrate_bps) ||
        !get_uint(req, body, "jitter_buffer_ms", DEFAULT_JB_MS, 0, MAX_JB_MS, &p.jitter_buffer_ms))
        goto out;
    if (!rp_codec_ptime_valid(p.codec, p.ptime_ms)) {
        reply_error(req, 400, "ptime_ms %u is not valid for %s", p.ptime_ms, codec->name);
        goto out;
    }
    if (!rp_codec_bitrate_valid(p.codec, p.bitrate_bps)) {
        reply_error(req, 400, "bitrate_bps %u is not valid for %s", p.bitrate_bps, codec->name);
        goto out;
    }

    int status;
    char err[256];
    struct sockaddr_storage ss;
    if (!peer_of(req, &ss)) {
        reply_error(req, 400, "cannot tell the client's address");
        goto out;
    }
    const struct sockaddr *peer = (const struct sockaddr *)&ss;
    struct rp_session *s = rp_reflector_create(c->refl, &p, peer, &status, err, sizeof err);
    if (!s) {
        rp_log_warn("session refused: %s", err);
        reply_error(req, status, "%s", err);
        goto out;
    }
    char client[RP_ADDRSTRLEN];
    rp_addr_format(peer, client, sizeof client);
    rp_log_info("session %s created for %s: %s/%ums %us, media port %u", rp_session_id(s), client, codec->name,
                p.ptime_ms, p.duration_s, rp_session_port(s));
    char location[64];
    snprintf(location, sizeof location, API_PREFIX "/%s", rp_session_id(s));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    reply_json(req, 201,
               json_pack("{s:s, s:i, s:I, s:I, s:i, s:i, s:s, s:i, s:i, s:i, s:i, s:s}",
                         "id", rp_session_id(s),
                         "media_port", (int)rp_session_port(s),
                         "ssrc_up", (json_int_t)rp_session_ssrc_up(s),
                         "ssrc_down", (json_int_t)rp_session_ssrc_down(s),
                         "pt", (int)codec->pt,
                         "clock_rate", (int)codec->clock_rate,
                         "codec", codec->name,
                         "ptime_ms", (int)p.ptime_ms,
                         "bitrate_bps", (int)p.bitrate_bps,
                         "duration_s", (int)p.duration_s,
                         "jitter_buffer_ms", (int)p.jitter_buffer_ms,
                         "client", client));
out:
    json_decref(body);
}

static void handle_patch(struct rp_control *c, struct evhttp_request *req, struct rp_session *s)
{
    static const char *const allowed[] = { "peer", "stop", "upstream_sent", NULL };
    json_t *body = read_body(req);
    if (!body)
        return;
    if (!only_keys(req, body, allowed))
        goto out;
    json_t *peer = json_object_get(body, "peer");
    json_t *stop = json_object_get(body, "stop");
    json_t *sent = json_object_get(body, "upstream_sent");
    if (!peer && !stop) {
        reply_error(req, 400, "nothing to change: give \"peer\" and/or \"stop\"");
        goto out;
    }
    if (stop && !json_is_boolean(stop)) {
        reply_error(req, 400, "stop must be true or false");
        goto out;
    }
    if (sent && (!json_is_integer(sent) || json_integer_value(sent) < 0 ||
                 json_integer_value(sent) > (json_int_t)UINT32_MAX)) {
        reply_error(req, 400, "upstream_sent must be a non-negative integer");
        goto out;
    }
    struct sockaddr_storage addr;
    socklen_t addrlen;
    if (peer) {
        if (!json_is_string(peer) || rp_addr_parse(json_string_value(peer), 0, &addr, &addrlen) < 0) {
            reply_error(req, 400, "peer must be \"IP:port\" (IPv6 as \"[addr]:port\")");
            goto out;
        }
        if (rp_session_stopped(s)) {
            reply_error(req, 409, "session is stopped");
            goto out;
        }
        rp_session_announce(s, (struct sockaddr *)&addr, rp_monotonic_ns());
    }
    if (stop && json_is_true(stop))
        rp_session_stop(s, sent ? (uint64_t)json_integer_value(sent) : 0);
    rp_reflector_reschedule(c->refl);
    reply_json(req, 200, rp_session_to_json(s));
out:
    json_decref(body);
}

static void handle_sessions(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (strcmp(path, API_PREFIX) == 0) {
        if (cmd != EVHTTP_REQ_POST) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
            reply_error(req, 405, "use POST on " API_PREFIX);
            return;
        }
        handle_create(c, req);
        return;
    }
    const char *id = path + strlen(API_PREFIX "/");
    struct rp_session *s = strlen(id) == RP_SESSION_ID_LEN ? rp_reflector_find(c->refl, id) : NULL;
    if (!s) {
        reply_error(req, 404, "no such session");
        return;
    }
    switch (cmd) {
    case EVHTTP_REQ_GET:
        reply_json(req, 200, rp_session_to_json(s));
        break;
    case EVHTTP_REQ_PATCH:
        handle_patch(c, req, s);
        break;
    case EVHTTP_REQ_DELETE: {
        json_t *last = rp_session_to_json(s);
        rp_log_info("session %s deleted", rp_session_id(s));
        rp_reflector_destroy(c->refl, s);
        reply_json(req, 200, last);
        break;
    }
    default:
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, PATCH, DELETE");
        reply_error(req, 405, "use GET, PATCH or DELETE on a session");
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct rp_control *c = arg;
    struct sockaddr_storage peer;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!peer_of(req, &peer) || !path) {
        reply_error(req, 400, "bad request");
        return;
    }
    if (!rp_ratelimit_allow(c->rate, (struct sockaddr *)&peer, rp_monotonic_ns())) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        reply_error(req, 429, "too many requests from this address");
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        reply_json(req, 200, json_pack("{s:s, s:s, s:i}", "status", "ok", "version", RP_VERSION, "sessions",
                                       (int)rp_reflector_count(c->refl)));
        return;
    }
    if (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0 ||
        (path[strlen(API_PREFIX)] != '\0' && path[strlen(API_PREFIX)] != '/')) {
        reply_error(req, 404, "no such resource");
        return;
    }
    if (!authorized(c, req, path))
        return;
    handle_sessions(c, req, path);
}

static struct bufferevent *make_tls_bev(struct event_base *base, void *arg)
{
    struct rp_control *c = arg;
    SSL *ssl = SSL_new(c->ssl_ctx);
    if (!ssl)
        return NULL;
    return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

static SSL_CTX *load_tls(const struct rp_config *cfg, char *err, size_t errlen)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        snprintf(err, errlen, "cannot create TLS context");
        return NULL;
    }
    /* TLS 1.2+ with forward-secret AEAD suites only. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
    if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1 ||
        SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        char e[160];
        ERR_error_string_n(ERR_get_error(), e, sizeof e);
        snprintf(err, errlen, "TLS certificate %s / key %s: %s", cfg->tls_cert, cfg->tls_key, e);
        SSL_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

struct rp_control *rp_control_new(struct event_base *base, const struct rp_config *cfg,
                                  struct rp_reflector *refl, char *err, size_t errlen)
{
    struct rp_control *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->base = base;
    c->cfg = cfg;
    c->refl = refl;
    c->rate = rp_ratelimit_new(RATE_SOURCES, RATE_PER_S, RATE_BURST);
    c->http = evhttp_new(base);
    if (!c->rate || !c->http) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (cfg->tls_cert[0]) {
        c->ssl_ctx = load_tls(cfg, err, errlen);
        if (!c->ssl_ctx)
            goto fail;
        evhttp_set_bevcb(c->http, make_tls_bev, c);
    }
    evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE);
    evhttp_set_max_body_size(c->http, cfg->max_body);
    evhttp_set_max_headers_size(c->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(c->http, HTTP_TIMEOUT_S);
    evhttp_set_gencb(c->http, on_request, c);

    struct sockaddr_storage ss;
    socklen_t sslen;
    if (rp_addr_parse(cfg->control_listen, 0, &ss, &sslen) < 0) {
        snprintf(err, errlen, "control.listen \"%s\" is not IP:port", cfg->control_listen);
        goto fail;
    }
    char ip[RP_ADDRSTRLEN];
    rp_addr_format_ip((struct sockaddr *)&ss, ip, sizeof ip);
    if (!evhttp_bind_socket_with_handle(c->http, ip, rp_addr_port((struct sockaddr *)&ss))) {
        snprintf(err, errlen, "cannot listen on %s: %s", cfg->control_listen, strerror(errno));
        goto fail;
    }
    return c;
fail:
    rp_control_free(c);
    return NULL;
}

int rp_control_reload(struct rp_control *c, char *err, size_t errlen)
{
    if (!c->ssl_ctx || !c->cfg->tls_cert[0])
        return 0; /* switching TLS on or off needs a restart: the listener is bound */
    SSL_CTX *fresh = load_tls(c->cfg, err, errlen);
    if (!fresh)
        return -1;
    SSL_CTX_free(c->ssl_ctx);
    c->ssl_ctx = fresh;
    return 0;
}

void rp_control_free(struct rp_control *c)
{
    if (!c)
        return;
    if (c->http)
        evhttp_free(c->http);
    SSL_CTX_free(c->ssl_ctx);
    rp_ratelimit_free(c->rate);
    free(c);
}
