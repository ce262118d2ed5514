/* Control API glue: evhttp routes, bearer-token check, JSON in and out. */
#include <assert.h>
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
#include <sys/socket.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "agents.h"
#include "contract.h"
#include "control.h"
#include "ctlreq.h"
#include "fwdfor.h"
#include "metrics.h"
#include "procstat.h"
#include "stunsrv.h"
#include "log.h"
#include "netaddr.h"
#include "pcdaemon.h"
#include "ratelimit.h"
#include "timeutil.h"
#include "token.h"
#include "precall.h"
#include "webctl.h"

#define API_PREFIX "/v1/sessions"
#define REPORTS_PATH "/v1/reports"
#define PORTCHECKS_PATH "/v1/portchecks"
#define MAX_HEADERS_BYTES 8192
#define RATE_SOURCES 1024
/* Control connections tracked against their request deadline; when full, the
 * newest connection of the address holding most connections without a request
 * is cut to make room. */
#define MAX_PENDING_CONNS 1024
/* Connections one address may hold before its first request completes. */
#define MAX_PENDING_PER_SOURCE 32
/* How often pending connections are checked against their deadline. */
#define SWEEP_INTERVAL_MS 250

struct rp_control {
    struct event_base *base;
    const struct rp_config *cfg;
    struct rp_reflector *refl;
    struct evhttp *http;
    SSL_CTX *ssl_ctx;
    struct rp_ratelimit *rate;
    const struct rp_stunsrv *stun;
    const struct rp_echo *echo;
    struct rp_agents *agents; /* latest report per agent (POST /v1/reports) */
    struct rp_pcd *pcd;       /* the port-range check (POST /v1/portchecks) */
    struct rp_webctl *web;    /* the browser pre-call test (/v1/webrtc, the page) */
    uint64_t http_responses[RP_HTTP_STATUS_CLASSES];
    uint64_t auth_failures;
    /* evhttp's timeout restarts with every byte, so a client trickling its
     * request (slow loris) would never time out: each new connection gets an
     * absolute deadline for its first request. We hold a reference on its
     * bufferevent, so checking it later is safe even after evhttp let it go. */
    struct pending {
        struct bufferevent *bev;
        uint64_t deadline;
        unsigned served;  /* requests it delivered so far */
        bool     has_peer;
        bool     peer_unknown;        /* getpeername failed (reset already) */
        struct sockaddr_storage peer; /* read once, when the socket is there */
    } pending[MAX_PENDING_CONNS];
    unsigned npending;
    struct event *sweep;
    uint64_t slow_dropped;
};

static void reply_json(struct rp_control *c, struct evhttp_request *req, int status, json_t *body)
{
    if (status >= 100 && status < 600)
        c->http_responses[status / 100]++;
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

static void reply_error(struct rp_control *c, struct evhttp_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Replaces control characters and bytes that are not valid UTF-8 with '?', in
 * place: messages quote client input, and a JSON string (or a log line) must
 * stay valid and one line whatever the client sent. */
static void make_printable(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        unsigned n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        bool ok = n > 0 && !(n == 2 && *p < 0xC2) && !(n == 4 && *p > 0xF4);
        for (unsigned k = 1; ok && k < n; k++)
            ok = (p[k] & 0xC0) == 0x80;
        if (ok && n == 3)
            ok = !(p[0] == 0xE0 && p[1] < 0xA0) && !(p[0] == 0xED && p[1] >= 0xA0); /* overlong, surrogates */
        if (ok && n == 4)
            ok = !(p[0] == 0xF0 && p[1] < 0x90) && !(p[0] == 0xF4 && p[1] >= 0x90);
        if (!ok || (n == 1 && (*p < 0x20 || *p == 0x7F))) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

static void reply_error(struct rp_control *c, struct evhttp_request *req, int status, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    make_printable(msg);
    reply_json(c, req, status, json_pack("{s:s, s:i}", "error", msg, "status", status));
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

/* Two addresses per request, named alike throughout this file (and as in
 * docs/control-api.md): `peer` is the TCP peer of the connection; `client` is
 * who the request is for, as far as limits, logs and session answers go (the
 * session's "client"): the peer, or for a proxy on this host (nginx), the
 * address it puts in X-Forwarded-For (the last entry: the one nginx itself
 * saw). Headers from other hosts are not trusted. (A session's "peer", in a
 * PATCH, is a third address: where its media goes.) */
static bool client_of(struct evhttp_request *req, struct sockaddr_storage *peer, struct sockaddr_storage *client)
{
    if (!peer_of(req, peer))
        return false;
    (void)rp_fwdfor_client(peer, evhttp_find_header(evhttp_request_get_input_headers(req), "X-Forwarded-For"),
                           client);
    return true;
}

/* The bearer token presented, or NULL. */
static const char *bearer_of(struct evhttp_request *req)
{
    const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    return auth && strncasecmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
}

static bool control_token(const struct rp_control *c, const char *tok)
{
    return tok && rp_token_check((const uint8_t(*)[RP_TOKEN_HASH_LEN])c->cfg->tokens, c->cfg->ntokens, tok,
                                 strlen(tok));
}

static void auth_failed(struct rp_control *c, struct evhttp_request *req, const char *path);

static bool authorized(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    bool ok = control_token(c, bearer_of(req));
    if (!ok)
        auth_failed(c, req, path);
    return ok;
}

/* /v1/webrtc takes a control token, or a page token (webctl.h): a page
 * token opens browser sessions and nothing else. agent: the page token's. */
static bool authorized_webrtc(struct rp_control *c, struct evhttp_request *req, const char *path, char agent[65])
{
    const char *tok = bearer_of(req);
    agent[0] = '\0';
    bool ok = control_token(c, tok) ||
              (tok && rp_webctl_check_token(c->web, tok, strlen(tok), agent) == RP_PAGETOKEN_OK);
    if (!ok)
        auth_failed(c, req, path);
    return ok;
}

static void auth_failed(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    char ip[RP_ADDRSTRLEN] = "?";
    struct sockaddr_storage peer, client;
    if (client_of(req, &peer, &client))
        rp_addr_format_ip((struct sockaddr *)&client, ip, sizeof ip);
    /* Stable one-line format: conf/fail2ban matches it. */
    char shown[128];
    snprintf(shown, sizeof shown, "%s", path);
    make_printable(shown);
    for (char *q = shown; *q; q++)
        if (*q == ' ')
            *q = '?';
    rp_log_warn("auth-failure client=%s path=%s", ip, shown);
    c->auth_failures++;
    evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate", "Bearer realm=\"rtpprobed\"");
    reply_error(c, req, 401, "missing or invalid bearer token");
}

/* The request body as one contiguous buffer (bounded by evhttp's max body size). */
static const char *body_of(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    *len = evbuffer_get_length(in);
    return *len ? (const char *)evbuffer_pullup(in, -1) : "";
}

/* Keys leave only over TLS, or to a client on this host (nginx terminating TLS). */
static bool may_receive_keys(const struct rp_control *c, const struct sockaddr *peer)
{
    return c->ssl_ctx != NULL || rp_addr_is_loopback(peer);
}

/* The session's document (docs/control-api.md). New reference. */
static json_t *session_json(const struct rp_session *s)
{
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    return rp_contract_session_encode(&doc);
}

/* The POST answer: the session as agreed, and its keys. New reference. */
static json_t *created_answer(const struct rp_config *cfg, const struct rp_session *s, const char *client_text)
{
    const struct rp_session_params *p = rp_session_params(s);
    const struct rp_codec_info *codec = rp_codec_get(p->codec);
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    struct rp_contract_created created = {
        .media_port = doc.media_port,
        .ssrc_up = doc.ssrc_up,
        .ssrc_down = doc.ssrc_down,
        .pt = codec->pt,
        .clock_rate = codec->clock_rate,
        .ptime_ms = p->ptime_ms,
        .bitrate_bps = p->bitrate_bps,
        .duration_s = p->duration_s,
        .jitter_buffer_ms = p->jitter_buffer_ms,
        .port_min = cfg->port_min,
        .port_max = cfg->port_max,
    };
    snprintf(created.id, sizeof created.id, "%s", doc.id);
    snprintf(created.codec, sizeof created.codec, "%s", doc.codec);
    snprintf(created.transport, sizeof created.transport, "%s", doc.transport);
    snprintf(created.client, sizeof created.client, "%s", client_text);
    rp_session_keys(s, &created.keys);
    json_t *answer = rp_contract_created_encode(&created);
    OPENSSL_cleanse(&created.keys, sizeof created.keys);
    return answer;
}

static void handle_create(struct rp_control *c, struct evhttp_request *req)
{
    const struct rp_config *cfg = c->cfg;
    struct rp_ctl_bounds bounds = {
        .max_duration = cfg->max_duration,
        .ptime_min = cfg->ptime_min,
        .ptime_max = cfg->ptime_max,
        .bitrate_min = cfg->bitrate_min,
        .bitrate_max = cfg->bitrate_max,
    };
    struct rp_session_params p;
    char err[256];
    size_t len;
    const char *body = body_of(req, &len);
    if (rp_ctlreq_parse_create(body, len, &bounds, &p, err, sizeof err) < 0) {
        reply_error(c, req, 400, "%s", err);
        return;
    }
    struct sockaddr_storage peer, client;
    if (!client_of(req, &peer, &client)) {
        reply_error(c, req, 400, "cannot tell the client's address");
        return;
    }
    /* (on_request already refused /v1 over plain HTTP from another host: keys
     * never leave that way.) Limits and the session's "client" go by who is
     * behind a local proxy. */
    const struct sockaddr *client_sa = (const struct sockaddr *)&client;
    p.allow_foreign_peer = cfg->allow_foreign_peer;
    if (rp_reflector_count_source(c->refl, client_sa) >= cfg->max_sessions_per_source) {
        reply_error(c, req, 503, "too many sessions from this address (limit %u)", cfg->max_sessions_per_source);
        return;
    }
    int status;
    struct rp_session *s = rp_reflector_create(c->refl, &p, client_sa, &status, err, sizeof err);
    if (!s) {
        rp_log_warn("session refused: %s", err);
        reply_error(c, req, status, "%s", err);
        return;
    }
    const struct rp_codec_info *codec = rp_codec_get(p.codec);
    char client_text[RP_ADDRSTRLEN];
    rp_addr_format(client_sa, client_text, sizeof client_text);
    rp_log_info("session %s created for %s: %s/%ums %us %s, media port %u", rp_session_id(s), client_text, codec->name,
                p.ptime_ms, p.duration_s, p.srtp ? rp_srtp_suite_name(p.suite) : "rtp", rp_session_port(s));
    char location[64];
    snprintf(location, sizeof location, API_PREFIX "/%s", rp_session_id(s));
    evhttp_add_header(evhttp_request_get_output_headers(req), "Location", location);
    reply_json(c, req, 201, created_answer(cfg, s, client_text));
}

static void handle_patch(struct rp_control *c, struct evhttp_request *req, struct rp_session *s)
{
    struct rp_patch_req p;
    char err[256];
    size_t len;
    const char *body = body_of(req, &len);
    if (rp_ctlreq_parse_patch(body, len, &p, err, sizeof err) < 0) {
        reply_error(c, req, 400, "%s", err);
        return;
    }
    if (p.has_peer) {
        if (rp_session_stopped(s)) {
            reply_error(c, req, 409, "session is stopped");
            return;
        }
        /* Media goes only where the session's own client is (p.peer is the
         * media peer asked for; rp_session_client() the client): a token
         * must not buy a stream aimed at somebody else. */
        if (!c->cfg->allow_foreign_peer &&
            !rp_addr_same_ip((struct sockaddr *)&p.peer, rp_session_client(s))) {
            reply_error(c, req, 403, "peer must be the client's own address (media.allow_foreign_peer is off)");
            return;
        }
        rp_session_announce(s, (struct sockaddr *)&p.peer, rp_monotonic_ns());
    }
    if (p.stop)
        rp_reflector_stop(c->refl, s, p.has_upstream_sent ? p.upstream_sent : 0);
    rp_reflector_reschedule(c->refl, s);
    reply_json(c, req, 200, session_json(s));
}

static void handle_sessions(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (strcmp(path, API_PREFIX) == 0) {
        if (cmd != EVHTTP_REQ_POST) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
            reply_error(c, req, 405, "use POST on " API_PREFIX);
            return;
        }
        handle_create(c, req);
        return;
    }
    const char *id = path + strlen(API_PREFIX "/");
    struct rp_session *s = strlen(id) == RP_SESSION_ID_LEN ? rp_reflector_find(c->refl, id) : NULL;
    if (!s) {
        reply_error(c, req, 404, "no such session");
        return;
    }
    switch (cmd) {
    case EVHTTP_REQ_GET:
        reply_json(c, req, 200, session_json(s));
        break;
    case EVHTTP_REQ_PATCH:
        handle_patch(c, req, s);
        break;
    case EVHTTP_REQ_DELETE: {
        json_t *last = session_json(s);
        rp_log_info("session %s deleted", rp_session_id(s));
        rp_reflector_destroy(c->refl, s);
        reply_json(c, req, 200, last);
        break;
    }
    default:
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, PATCH, DELETE");
        reply_error(c, req, 405, "use GET, PATCH or DELETE on a session");
    }
}

/* A module's answer ({"error": ...} from 400 on, as its status says; NULL:
 * out of memory), sent as every other answer of the API. */
static void reply_answer(struct rp_control *c, struct evhttp_request *req, int status, json_t *answer)
{
    if (!answer) {
        reply_error(c, req, 500, "out of memory");
        return;
    }
    if (status >= 400) {
        reply_error(c, req, status, "%s", json_string_value(json_object_get(answer, "error")));
        json_decref(answer);
        return;
    }
    reply_json(c, req, status, answer);
}

/* /v1/portchecks (docs/control-api.md, docs/port-check.md): POST creates the
 * one check at a time, GET/DELETE on its id read (and end) it. The request
 * rate limit and the token apply as for sessions. */
static void handle_portchecks(struct rp_control *c, struct evhttp_request *req, const char *path)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    json_t *answer = NULL;
    int status;
    if (strcmp(path, PORTCHECKS_PATH) == 0) {
        if (cmd != EVHTTP_REQ_POST) {
            evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
            reply_error(c, req, 405, "use POST on " PORTCHECKS_PATH);
            return;
        }
        struct sockaddr_storage peer, client;
        size_t len;
        const char *body = body_of(req, &len);
        if (!client_of(req, &peer, &client)) {
            reply_error(c, req, 400, "cannot tell the client's address");
            return;
        }
        status = rp_pcd_create(c->pcd, body, len, c->cfg->port_min, c->cfg->port_max, (struct sockaddr *)&client,
                               &answer);
    } else if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_DELETE) {
        status = rp_pcd_get(c->pcd, path + strlen(PORTCHECKS_PATH "/"), cmd == EVHTTP_REQ_DELETE, &answer);
    } else {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, DELETE");
        reply_error(c, req, 405, "use GET or DELETE on a port check");
        return;
    }
    reply_answer(c, req, status, answer);
}

/* POST /v1/reports: an agent's finished report, kept as its latest figures
 * for /metrics. The time is ours, not the agent's. */
static void handle_report(struct rp_control *c, struct evhttp_request *req)
{
    if (evhttp_request_get_command(req) != EVHTTP_REQ_POST) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "POST");
        reply_error(c, req, 405, "use POST on " REPORTS_PATH);
        return;
    }
    struct rp_agent_report r;
    char err[256];
    size_t len;
    const char *body = body_of(req, &len);
    if (rp_agents_parse(body, len, &r, err, sizeof err) < 0) {
        rp_agents_note_rejected(c->agents);
        make_printable(err);
        rp_log_info("report refused: %s", err);
        reply_error(c, req, 400, "%s", err);
        return;
    }
    if (rp_agents_put(c->agents, &r, (double)rp_realtime_ns() / 1e9) < 0) {
        reply_error(c, req, 500, "out of memory");
        return;
    }
    rp_log_debug("report from agent %s", r.agent);
    c->http_responses[2]++;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Cache-Control", "no-store");
    evhttp_send_reply(req, 204, "No Content", NULL);
}

/* The control connection's local address: the address the browser reached. */
static const struct sockaddr *local_of(struct evhttp_request *req, struct sockaddr_storage *ss)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    struct bufferevent *bev = conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    socklen_t len = sizeof *ss;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)ss, &len) < 0)
        return NULL;
    return ss->ss_family == AF_INET || ss->ss_family == AF_INET6 ? (const struct sockaddr *)ss : NULL;
}

/* Which /v1/webrtc resource, and the method it takes. */
enum webrtc_route { WEBRTC_CONFIG, WEBRTC_CREATE, WEBRTC_STOP, WEBRTC_STATS, WEBRTC_NONE };

static enum webrtc_route webrtc_route_of(const char *rest, char *id, size_t idcap, enum evhttp_cmd_type *method)
{
    size_t n = strlen(rest);
    *method = EVHTTP_REQ_POST;
    if (strcmp(rest, "/config") == 0) {
        *method = EVHTTP_REQ_GET;
        return WEBRTC_CONFIG;
    }
    if (n == 0)
        return WEBRTC_CREATE;
    if (n <= 1 + RP_SESSION_ID_LEN || rest[0] != '/' || rest[1 + RP_SESSION_ID_LEN] != '/' ||
        idcap <= RP_SESSION_ID_LEN)
        return WEBRTC_NONE;
    memcpy(id, rest + 1, RP_SESSION_ID_LEN);
    id[RP_SESSION_ID_LEN] = '\0';
    const char *verb = rest + 2 + RP_SESSION_ID_LEN;
    return strcmp(verb, "stats") == 0 ? WEBRTC_STATS : strcmp(verb, "stop") == 0 ? WEBRTC_STOP : WEBRTC_NONE;
}

/* /v1/webrtc (docs/webrtc.md): the page's three calls. */
static void handle_webrtc(struct rp_control *c, struct evhttp_request *req, const char *path,
                          const struct sockaddr *client, const char *agent)
{
    char id[RP_SESSION_ID_LEN + 1];
    enum evhttp_cmd_type method;
    enum webrtc_route route = webrtc_route_of(path + strlen(RP_WEBCTL_PREFIX), id, sizeof id, &method);
    if (route == WEBRTC_NONE) {
        reply_error(c, req, 404, "no such resource");
        return;
    }
    if (evhttp_request_get_command(req) != method) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", method == EVHTTP_REQ_GET ? "GET" : "POST");
        reply_error(c, req, 405, "use %s on %s", method == EVHTTP_REQ_GET ? "GET" : "POST", path);
        return;
    }
    struct sockaddr_storage local;
    struct rp_webctl_req rq = {
        .client = client, .local = local_of(req, &local), .agent = agent,
        .server = evhttp_find_header(evhttp_request_get_input_headers(req), "Host"),
    };
    rq.body = body_of(req, &rq.len);
    json_t *answer = NULL;
    int status = route == WEBRTC_CONFIG   ? rp_webctl_config(c->web, &rq, &answer)
                 : route == WEBRTC_CREATE ? rp_webctl_create(c->web, c->refl, &rq, &answer)
                 : route == WEBRTC_STOP   ? rp_webctl_stop(c->refl, id, &answer)
                                          : rp_webctl_stats(c->web, c->refl, id, &rq, &answer);
    reply_answer(c, req, status, answer);
}

static void forget_pending(struct rp_control *c, unsigned i)
{
    bufferevent_decref(c->pending[i].bev);
    c->pending[i] = c->pending[--c->npending];
}

static int find_pending(const struct rp_control *c, const struct bufferevent *bev)
{
    for (unsigned i = 0; bev && i < c->npending; i++)
        if (c->pending[i].bev == bev)
            return (int)i;
    return -1;
}

/* Shut the socket down rather than free it: evhttp sees EOF and frees the
 * connection itself (so reading must stay enabled). If evhttp is already done
 * with it, only our reference keeps it; its read watermark bounds what a
 * client still sending after a refusal (413) can make us hold. */
static void cut_pending(struct rp_control *c, unsigned i)
{
    struct bufferevent *bev = c->pending[i].bev;
    evutil_socket_t sock = bufferevent_getfd(bev);
    if (sock >= 0 && shutdown(sock, SHUT_RDWR) == 0 && c->pending[i].served == 0)
        c->slow_dropped++;
    forget_pending(c, i);
}

static void on_conn_close(struct evhttp_connection *conn, void *arg)
{
    struct rp_control *c = arg;
    int i = find_pending(c, evhttp_connection_get_bufferevent(conn));
    if (i >= 0)
        forget_pending(c, (unsigned)i);
}

/* A request arrived in time. A kept-alive connection gets a new deadline for
 * its next one, and is forgotten when evhttp closes it. */
static void request_arrived(struct rp_control *c, struct evhttp_request *req)
{
    struct evhttp_connection *conn = evhttp_request_get_connection(req);
    int i = conn ? find_pending(c, evhttp_connection_get_bufferevent(conn)) : -1;
    if (i < 0)
        return;
    c->pending[i].served++;
    c->pending[i].deadline = rp_monotonic_ns() + (uint64_t)c->cfg->request_timeout * NS_PER_S;
    evhttp_connection_set_closecb(conn, on_conn_close, c);
}

/* The peer address, read once. A socket reset before we looked (an RST flood)
 * has none: it is asked once and then grouped with the other unknowns. */
static bool pending_peer(struct rp_control *c, unsigned i)
{
    struct pending *p = &c->pending[i];
    if (!p->has_peer && !p->peer_unknown) {
        evutil_socket_t sock = bufferevent_getfd(p->bev);
        socklen_t len = sizeof p->peer;
        if (sock < 0)
            return false; /* not attached yet: ask again next time */
        p->has_peer = getpeername(sock, (struct sockaddr *)&p->peer, &len) == 0;
        p->peer_unknown = !p->has_peer;
    }
    return p->has_peer;
}

/* Connections without a request yet, grouped by address: sorted once, so that
 * the sweep and the full-table eviction cost O(n log n), not a system call or
 * a comparison per pair (the loop also clocks the media streams). */
struct peer_key {
    uint8_t  ip[16];
    unsigned index;
};

static int cmp_peer_key(const void *a, const void *b)
{
    const struct peer_key *x = a, *y = b;
    int d = memcmp(x->ip, y->ip, sizeof x->ip);
    return d ? d : (x->index > y->index) - (x->index < y->index);
}

static unsigned unserved_by_address(struct rp_control *c, struct peer_key *keys)
{
    unsigned n = 0;
    for (unsigned i = 0; i < c->npending; i++) {
        if (c->pending[i].served)
            continue;
        if (!pending_peer(c, i)) {
            if (c->pending[i].peer_unknown) { /* one group for all address-less sockets */
                memset(keys[n].ip, 0xFF, sizeof keys[n].ip);
                keys[n++].index = i;
            }
            continue;
        }
        const struct sockaddr *sa = (const struct sockaddr *)&c->pending[i].peer;
        memset(keys[n].ip, 0, sizeof keys[n].ip);
        if (sa->sa_family == AF_INET6)
            memcpy(keys[n].ip, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
        else
            memcpy(keys[n].ip + 12, &((const struct sockaddr_in *)sa)->sin_addr, 4);
        keys[n++].index = i;
    }
    qsort(keys, n, sizeof *keys, cmp_peer_key);
    return n;
}

/* Cuts, per address, the newest connections beyond `cap` that have no request
 * yet; with cap 0, cuts only the newest of the largest group (making room). */
static void cut_crowds(struct rp_control *c, unsigned cap)
{
    static_assert(MAX_PENDING_CONNS <= 4096, "keys live on the stack");
    struct peer_key keys[MAX_PENDING_CONNS];
    bool cut[MAX_PENDING_CONNS] = { false };
    unsigned n = unserved_by_address(c, keys), best = 0, best_len = 0;
    for (unsigned g = 0; g < n;) {
        unsigned e = g;
        while (e < n && memcmp(keys[e].ip, keys[g].ip, sizeof keys[g].ip) == 0)
            e++;
        if (cap) {
            for (unsigned k = g + cap; k < e; k++) /* indices ascend: newest last */
                cut[keys[k].index] = true;
        } else if (e - g > best_len) {
            best_len = e - g;
            best = keys[e - 1].index;
        }
        g = e;
    }
    if (!cap && best_len)
        cut[best] = true;
    for (unsigned i = c->npending; i-- > 0;) /* backwards: forget_pending moves the last entry */
        if (cut[i])
            cut_pending(c, i);
}

static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
    struct rp_control *c = arg;
    (void)fd;
    (void)what;
    uint64_t now = rp_monotonic_ns();
    for (unsigned i = 0; i < c->npending;) {
        if (now >= c->pending[i].deadline)
            cut_pending(c, i);
        else
            i++;
    }
    /* One address may not hold more than its share of connections that have
     * not sent a request yet, or it could starve everyone else. */
    if (c->npending > MAX_PENDING_PER_SOURCE)
        cut_crowds(c, MAX_PENDING_PER_SOURCE);
}

/* Every control connection is made here. Never return NULL: evhttp would then
 * build a plain socket bufferevent by itself, i.e. cleartext on the TLS port. */
static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
    struct rp_control *c = arg;
    if (c->npending == MAX_PENDING_CONNS) {
        /* Full: make room at the expense of the address holding the most
         * connections without a request, not of whoever happens to be oldest. */
        unsigned before = c->npending;
        cut_crowds(c, 0);
        if (c->npending == before) {
            unsigned victim = 0;
            for (unsigned i = 1; i < c->npending; i++)
                if (c->pending[i].deadline < c->pending[victim].deadline)
                    victim = i;
            cut_pending(c, victim);
        }
    }
    struct bufferevent *bev;
    if (c->ssl_ctx) {
        SSL *ssl = SSL_new(c->ssl_ctx);
        bev = ssl ? bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE)
                  : NULL;
    } else {
        bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    }
    if (!bev)
        rp_fatal("out of memory for a control connection");
    /* evhttp sets no read limit of its own: never buffer more than one
     * request's worth of headers and body. */
    bufferevent_setwatermark(bev, EV_READ, 0, MAX_HEADERS_BYTES + c->cfg->max_body + 4096);
    bufferevent_incref(bev);
    c->pending[c->npending++] = (struct pending){
        .bev = bev, .deadline = rp_monotonic_ns() + (uint64_t)c->cfg->request_timeout * NS_PER_S };
    return bev;
}

static void free_text(const void *data, size_t len, void *arg)
{
    (void)len;
    (void)arg;
    free((void *)(uintptr_t)data);
}

static void reply_metrics(struct rp_control *c, struct evhttp_request *req)
{
    struct rp_metrics_snapshot m = {
        .sessions_active = rp_reflector_count(c->refl),
        .sessions_max = c->cfg->max_sessions,
        .port_min = c->cfg->port_min,
        .port_max = c->cfg->port_max,
        .auth_failures_control = c->auth_failures,
        .slow_clients_dropped = c->slow_dropped,
        .quality = rp_reflector_quality(c->refl),
        .agents = c->agents,
    };
    rp_webctl_counters(c->web, &m.webrtc);
    rp_reflector_counters(c->refl, &m.media, &m.sessions_created);
    rp_reflector_count_by_codec(c->refl, m.sessions_by_codec);
    rp_procstat_read(&m.proc);
    /* The whole host's sockets, read on each scrape (scrapes are seconds apart). */
    static const char *const udp_paths[] = RP_PROC_UDP_PATHS;
    struct rp_portbits *bound = calloc(1, sizeof *bound);
    if (bound && rp_proc_read_udp(udp_paths, sizeof udp_paths / sizeof *udp_paths, RP_PROC_UDP_CAP, bound) > 0) {
        m.have_ports_bound = true;
        m.media_ports_bound = rp_portbits_count(bound, m.port_min, m.port_max, true);
    }
    free(bound);
    for (unsigned v = 0; v < RP_STUN_VERDICTS; v++)
        m.stun_listener[v] = c->stun ? rp_stunsrv_count(c->stun, v) : 0;
    for (unsigned v = 0; v < RP_ECHO_VERDICTS; v++)
        m.echo[v] = c->echo ? rp_echo_count(c->echo, v) : 0;
    c->http_responses[2]++; /* this answer */
    memcpy(m.http_responses, c->http_responses, sizeof m.http_responses);
    size_t n = 0;
    char *text = rp_metrics_render(&m, &n);
    struct evbuffer *out = evbuffer_new();
    /* The evbuffer takes the text as it is (a megabyte with many agents), no copy. */
    if (out && text && evbuffer_add_reference(out, text, n, free_text, NULL) == 0)
        text = NULL;
    else
        n = 0;
    free(text);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; version=0.0.4");
    evhttp_send_reply(req, n ? 200 : 500, NULL, out);
    if (out)
        evbuffer_free(out);
}

void rp_control_set_listeners(struct rp_control *c, const struct rp_stunsrv *stun, const struct rp_echo *echo)
{
    c->stun = stun;
    c->echo = echo;
}

/* The browser pre-call test's page and API (webctl.h). True when path was theirs. */
static bool route_browser(struct rp_control *c, struct evhttp_request *req, const char *path,
                          const struct sockaddr *peer, const struct sockaddr *client)
{
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (strcmp(path, "/precall") == 0 && rp_webctl_page_enabled(c->web)) {
        c->http_responses[cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD ? 2 : 4]++;
        rp_precall_serve(req); /* GET and HEAD; 405 with Allow for the rest */
        return true;
    }
    size_t n = strlen(RP_WEBCTL_PREFIX);
    if (strncmp(path, RP_WEBCTL_PREFIX, n) != 0 || (path[n] != '\0' && path[n] != '/'))
        return false;
    char agent[65];
    if (!may_receive_keys(c, peer))
        reply_error(c, req, 403, "use the TLS control port (or nginx on 443): no tokens over plain HTTP");
    else if (authorized_webrtc(c, req, path, agent))
        handle_webrtc(c, req, path, client, agent);
    return true;
}

static void on_request(struct evhttp_request *req, void *arg)
{
    struct rp_control *c = arg;
    struct sockaddr_storage peer, client;
    request_arrived(c, req);
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    if (!client_of(req, &peer, &client) || !path) {
        reply_error(c, req, 400, "bad request");
        return;
    }
    if (!rp_ratelimit_allow(c->rate, (struct sockaddr *)&client, rp_monotonic_ns())) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        reply_error(c, req, 429, "too many requests from this address");
        return;
    }
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if ((strcmp(path, "/metrics") == 0 || strcmp(path, "/healthz") == 0) && cmd != EVHTTP_REQ_GET) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET");
        reply_error(c, req, 405, "use GET on %s", path);
        return;
    }
    if (strcmp(path, "/metrics") == 0) {
        /* Open to the host itself (a local Prometheus or nginx); others need a
         * token, and a token only over TLS. */
        if (!rp_addr_is_loopback((struct sockaddr *)&client)) {
            if (!may_receive_keys(c, (struct sockaddr *)&peer)) {
                reply_error(c, req, 403, "use the TLS control port (or nginx on 443): no tokens over plain HTTP");
                return;
            }
            if (!authorized(c, req, path))
                return;
        }
        reply_metrics(c, req);
        return;
    }
    if (strcmp(path, "/healthz") == 0) {
        reply_json(c, req, 200, json_pack("{s:s, s:s, s:i}", "status", "ok", "version", RP_VERSION, "sessions",
                                       (int)rp_reflector_count(c->refl)));
        return;
    }
    if (route_browser(c, req, path, (struct sockaddr *)&peer, (struct sockaddr *)&client))
        return;
    bool reports = strcmp(path, REPORTS_PATH) == 0;
    bool portchecks = strncmp(path, PORTCHECKS_PATH, strlen(PORTCHECKS_PATH)) == 0 &&
                      (path[strlen(PORTCHECKS_PATH)] == '\0' || path[strlen(PORTCHECKS_PATH)] == '/');
    if (!reports && !portchecks && (strncmp(path, API_PREFIX, strlen(API_PREFIX)) != 0 ||
                                    (path[strlen(API_PREFIX)] != '\0' && path[strlen(API_PREFIX)] != '/'))) {
        reply_error(c, req, 404, "no such resource");
        return;
    }
    /* Bearer tokens must not cross the network in clear: /v1 over plain HTTP
     * only from this host (nginx terminating TLS). */
    if (!may_receive_keys(c, (struct sockaddr *)&peer)) {
        reply_error(c, req, 403, "use the TLS control port (or nginx on 443): no tokens over plain HTTP");
        return;
    }
    if (!authorized(c, req, path))
        return;
    if (reports)
        handle_report(c, req);
    else if (portchecks)
        handle_portchecks(c, req, path);
    else
        handle_sessions(c, req, path);
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

int rp_control_check_tls(const struct rp_config *cfg, char *err, size_t errlen)
{
    if (!cfg->tls_cert[0])
        return 0;
    SSL_CTX *ctx = load_tls(cfg, err, errlen);
    SSL_CTX_free(ctx);
    return ctx ? 0 : -1;
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
    c->rate = rp_ratelimit_new(RATE_SOURCES, cfg->requests_per_second, cfg->request_burst);
    c->agents = rp_agents_new(cfg->max_agents);
    c->http = evhttp_new(base);
    c->pcd = rp_pcd_new(base);
    if (!c->rate || !c->agents || !c->http || !c->pcd) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (!(c->web = rp_webctl_new(cfg, err, errlen)))
        goto fail;
    if (cfg->tls_cert[0]) {
        c->ssl_ctx = load_tls(cfg, err, errlen);
        if (!c->ssl_ctx)
            goto fail;
    }
    evhttp_set_bevcb(c->http, make_bev, c);
    c->sweep = event_new(base, -1, EV_PERSIST, on_sweep, c);
    struct timeval sweep_every = { 0, SWEEP_INTERVAL_MS * 1000 };
    if (!c->sweep || event_add(c->sweep, &sweep_every) < 0) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    /* Every method libevent knows reaches us, so that a wrong one gets a JSON
     * 405; methods it does not know at all get its own 501. */
    evhttp_set_allowed_methods(c->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_max_body_size(c->http, cfg->max_body);
    evhttp_set_max_headers_size(c->http, MAX_HEADERS_BYTES);
    evhttp_set_timeout(c->http, (int)cfg->request_timeout);
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

int rp_control_reload(struct rp_control *c, const struct rp_config *cfg, char *err, size_t errlen)
{
    c->cfg = cfg;
    rp_ratelimit_set(c->rate, cfg->requests_per_second, cfg->request_burst);
    rp_agents_set_max(c->agents, cfg->max_agents);
    evhttp_set_max_body_size(c->http, cfg->max_body);
    evhttp_set_timeout(c->http, (int)cfg->request_timeout);
    /* The secret files first: a failure there keeps the old secrets, and
     * says so, but does not stop a new TLS certificate. */
    char web_err[256] = "", tls_err[256] = "";
    int web = rp_webctl_reload(c->web, cfg, web_err, sizeof web_err);
    SSL_CTX *fresh = NULL;
    /* Switching TLS on or off needs a restart: the listener is bound. */
    if (c->ssl_ctx && cfg->tls_cert[0] && (fresh = load_tls(cfg, tls_err, sizeof tls_err))) {
        SSL_CTX_free(c->ssl_ctx);
        c->ssl_ctx = fresh;
    }
    snprintf(err, errlen, "%s%s%s%s%s", web < 0 ? "kept the old webrtc secrets: " : "", web_err,
             web < 0 && tls_err[0] ? "; " : "", tls_err[0] ? "kept the old TLS certificate: " : "", tls_err);
    return web < 0 || tls_err[0] ? -1 : 0;
}

void rp_control_free(struct rp_control *c)
{
    if (!c)
        return;
    if (c->sweep)
        event_free(c->sweep);
    if (c->http)
        evhttp_free(c->http);
    while (c->npending)
        forget_pending(c, c->npending - 1);
    SSL_CTX_free(c->ssl_ctx);
    rp_ratelimit_free(c->rate);
    rp_agents_free(c->agents);
    rp_pcd_free(c->pcd);
    rp_webctl_free(c->web);
    free(c);
}
