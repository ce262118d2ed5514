/* The browser pre-call test's control side. See include/webctl.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "codec.h"
#include "contract.h"
#include "dtls.h"
#include "log.h"
#include "netaddr.h"
#include "report.h"
#include "sdp.h"
#include "session.h"
#include "threshold.h"
#include "timeutil.h"
#include "webctl.h"
#include "webreport.h"
#include "webrtc.h"
#include "wire.h"

/* What the page asks for when it says nothing: a call's first seconds. */
#define DEFAULT_DURATION_S 15
#define WEBRTC_PTIME_MS 20    /* what browsers send for Opus and G.711 unless told otherwise */
#define WEBRTC_JB_MS 40       /* the fixed buffer's depth, as the CLI's default (the MOS uses the adaptive one) */
/* A pre-call test, not a monitor: a page left open does not hold a stream
 * (and a port) for limits.max_duration. */
#define WEBRTC_MAX_DURATION_S 120
#define SECRET_MAX 4096

struct rp_webctl {
    const struct rp_config *cfg;
    struct rp_dtls_cert *cert;
    uint8_t  page_secret[SECRET_MAX];
    size_t   page_secret_len;        /* 0: the page is off */
    uint8_t  turn_secret[SECRET_MAX];
    size_t   turn_secret_len;        /* 0: no TURN offered */
    struct rp_webctl_counters n;
};

struct secrets {
    uint8_t page[SECRET_MAX], turn[SECRET_MAX];
    size_t  page_len, turn_len;
};

static int read_secrets(const struct rp_config *cfg, struct secrets *s, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    if (cfg->webrtc_page_secret_file[0] &&
        rp_pagetoken_read_secret(cfg->webrtc_page_secret_file, s->page, sizeof s->page, &s->page_len, err, errlen) < 0)
        return -1;
    if (cfg->webrtc_turn_secret_file[0] &&
        rp_pagetoken_read_secret(cfg->webrtc_turn_secret_file, s->turn, sizeof s->turn, &s->turn_len, err, errlen) < 0)
        return -1;
    return 0;
}

static void take_secrets(struct rp_webctl *w, struct secrets *s)
{
    memcpy(w->page_secret, s->page, sizeof w->page_secret);
    memcpy(w->turn_secret, s->turn, sizeof w->turn_secret);
    w->page_secret_len = s->page_len;
    w->turn_secret_len = s->turn_len;
    OPENSSL_cleanse(s, sizeof *s);
}

struct rp_webctl *rp_webctl_new(const struct rp_config *cfg, char *err, size_t errlen)
{
    struct rp_webctl *w = calloc(1, sizeof *w);
    struct secrets s;
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->cfg = cfg;
    if (read_secrets(cfg, &s, err, errlen) < 0 || !(w->cert = rp_dtls_cert_new(err, errlen))) {
        OPENSSL_cleanse(&s, sizeof s);
        rp_webctl_free(w);
        return NULL;
    }
    take_secrets(w, &s);
    return w;
}

int rp_webctl_check(const struct rp_config *cfg, char *err, size_t errlen)
{
    struct secrets s;
    int rc = read_secrets(cfg, &s, err, errlen);
    OPENSSL_cleanse(&s, sizeof s);
    return rc;
}

int rp_webctl_reload(struct rp_webctl *w, const struct rp_config *cfg, char *err, size_t errlen)
{
    struct secrets s;
    w->cfg = cfg;
    if (read_secrets(cfg, &s, err, errlen) < 0) {
        OPENSSL_cleanse(&s, sizeof s);
        return -1;
    }
    take_secrets(w, &s);
    return 0;
}

void rp_webctl_free(struct rp_webctl *w)
{
    if (!w)
        return;
    rp_dtls_cert_free(w->cert);
    OPENSSL_cleanse(w, sizeof *w);
    free(w);
}

bool rp_webctl_page_enabled(const struct rp_webctl *w)
{
    return w->page_secret_len > 0;
}

enum rp_pagetoken_verdict rp_webctl_check_token(struct rp_webctl *w, const char *token, size_t len,
                                                char agent_out[65])
{
    agent_out[0] = '\0';
    if (!w->page_secret_len)
        return RP_PAGETOKEN_BAD_SIGNATURE; /* no secret: no page token is ours */
    enum rp_pagetoken_verdict v =
        rp_pagetoken_check(w->page_secret, w->page_secret_len, token, len, rp_realtime_ns() / NS_PER_S,
                           w->cfg->webrtc_token_max_ttl, agent_out);
    w->n.tokens[v]++;
    return v;
}

void rp_webctl_counters(const struct rp_webctl *w, struct rp_webctl_counters *out)
{
    *out = w->n;
}

static int fail(json_t **answer, int status, const char *msg)
{
    *answer = json_pack("{s:s, s:i}", "error", msg, "status", status);
    return status;
}

/* coturn's REST credentials (use-auth-secret) for the configured TURN URLs. */
static json_t *ice_servers(const struct rp_webctl *w, const char *agent)
{
    const struct rp_config *cfg = w->cfg;
    json_t *list = json_array();
    if (!list || !w->turn_secret_len || !cfg->nwebrtc_turn_urls)
        return list;
    char user[160], pass[64];
    uint64_t expiry = rp_realtime_ns() / NS_PER_S + cfg->webrtc_turn_ttl;
    if (rp_turn_rest_credentials(w->turn_secret, w->turn_secret_len, expiry, agent[0] ? agent : "rtpprobe", user,
                                 sizeof user, pass, sizeof pass) < 0)
        return list;
    json_t *urls = json_array();
    for (unsigned i = 0; urls && i < cfg->nwebrtc_turn_urls; i++)
        json_array_append_new(urls, json_string(cfg->webrtc_turn_urls[i]));
    json_array_append_new(list, json_pack("{s:o?, s:s, s:s}", "urls", urls, "username", user, "credential", pass));
    OPENSSL_cleanse(pass, sizeof pass);
    return list;
}

int rp_webctl_config(struct rp_webctl *w, const struct rp_webctl_req *rq, json_t **answer)
{
    unsigned duration = DEFAULT_DURATION_S < w->cfg->max_duration ? DEFAULT_DURATION_S : w->cfg->max_duration;
    *answer = json_pack("{s:o?, s:i, s:[ss]}", "ice_servers", ice_servers(w, rq->agent), "duration", (int)duration,
                        "codecs", "opus", "pcmu");
    return 200;
}

/* The POST body: {"sdp", "codec", "duration", "agent"}; nothing else. */
struct create_req {
    const char *sdp;
    size_t sdp_len;
    enum rp_codec_id codec;
    unsigned duration;
    char agent[65];
};

static bool agent_valid(const char *a)
{
    size_t n = strlen(a);
    if (n > 64)
        return false;
    return strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

static int read_create_keys(json_t *root, unsigned max_duration, struct create_req *out, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "sdp") == 0 && json_is_string(v)) {
            out->sdp = json_string_value(v);
            out->sdp_len = json_string_length(v);
        } else if (strcmp(key, "codec") == 0 && json_is_string(v)) {
            const struct rp_codec_info *c = rp_codec_by_name(json_string_value(v));
            if (!c) {
                snprintf(err, errlen, "codec: opus, pcmu or pcma");
                return -1;
            }
            out->codec = c->id;
        } else if (strcmp(key, "duration") == 0 && json_is_integer(v) && json_integer_value(v) >= 3 &&
                   json_integer_value(v) <= (json_int_t)max_duration) {
            out->duration = (unsigned)json_integer_value(v);
        } else if (strcmp(key, "agent") == 0 && json_is_string(v) && agent_valid(json_string_value(v))) {
            snprintf(out->agent, sizeof out->agent, "%s", json_string_value(v));
        } else {
            snprintf(err, errlen, "%.40s: unknown key, or a wrong type or range (duration 3..%u, agent [A-Za-z0-9._-]{0,64})",
                     key, max_duration);
            return -1;
        }
    }
    if (!out->sdp) {
        snprintf(err, errlen, "sdp: the offer is missing");
        return -1;
    }
    return 0;
}

static json_t *parse_create(const struct rp_webctl_req *rq, unsigned max_duration, struct create_req *out, char *err,
                            size_t errlen)
{
    json_error_t jerr;
    json_t *root = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    memset(out, 0, sizeof *out);
    out->codec = RP_CODEC_OPUS;
    out->duration = DEFAULT_DURATION_S < max_duration ? DEFAULT_DURATION_S : max_duration;
    if (!root || !json_is_object(root)) {
        snprintf(err, errlen, "body: not a JSON object (%s)", root ? "other type" : jerr.text);
        json_decref(root);
        return NULL;
    }
    if (read_create_keys(root, max_duration, out, err, errlen) < 0) {
        json_decref(root);
        return NULL;
    }
    return root;
}

/* The offer's payload type for the codec asked for, or -1. */
static int offered_pt(const struct rp_sdp_offer *o, enum rp_codec_id c)
{
    return c == RP_CODEC_OPUS ? o->pt_opus : c == RP_CODEC_PCMU ? o->pt_pcmu : o->pt_pcma;
}

/* Our candidate's address: webrtc.address, else the address the browser's
 * control connection reached, unless that is loopback for a remote client
 * (a proxy on this host: only the configuration can say). */
static bool candidate_address(const struct rp_webctl *w, const struct rp_webctl_req *rq, char *out, size_t cap)
{
    if (w->cfg->webrtc_address[0]) {
        snprintf(out, cap, "%s", w->cfg->webrtc_address);
        return true;
    }
    if (!rq->local || (rp_addr_is_loopback(rq->local) && !rp_addr_is_loopback(rq->client)))
        return false;
    rp_addr_format_ip(rq->local, out, cap);
    return true;
}

/* The session for an offer (400/503 and a reason in err when not). */
static struct rp_session *session_for(struct rp_webctl *w, struct rp_reflector *refl, const struct rp_webctl_req *rq,
                                      const struct create_req *cr, const struct rp_sdp_offer *o, int *status,
                                      char *err, size_t errlen)
{
    const struct rp_config *cfg = w->cfg;
    int pt = offered_pt(o, cr->codec);
    *status = 400;
    if (pt < 0) {
        snprintf(err, errlen, "the offer has no %s", rp_codec_get(cr->codec)->encoding);
        return NULL;
    }
    *status = 503;
    if (rp_reflector_count_webrtc(refl) >= cfg->webrtc_max_sessions) {
        snprintf(err, errlen, "too many browser tests at once (webrtc.max_sessions %u)", cfg->webrtc_max_sessions);
        return NULL;
    }
    if (rp_reflector_count_source(refl, rq->client) >= cfg->max_sessions_per_source) {
        snprintf(err, errlen, "too many sessions from this address (limit %u)", cfg->max_sessions_per_source);
        return NULL;
    }
    struct rp_webrtc_params wp = { .cert = w->cert, .pt = (uint8_t)pt, .has_ssrc = o->has_ssrc, .ssrc = o->ssrc,
                                   .fp_len = o->fp_len, .abs_send_time_id = o->abs_send_time_id };
    snprintf(wp.remote_ufrag, sizeof wp.remote_ufrag, "%s", o->ice_ufrag);
    snprintf(wp.fp_hash, sizeof wp.fp_hash, "%s", o->fp_hash);
    memcpy(wp.fp, o->fp, o->fp_len);
    const struct rp_codec_info *codec = rp_codec_get(cr->codec);
    struct rp_session_params p = {
        .codec = cr->codec, .ptime_ms = WEBRTC_PTIME_MS, .bitrate_bps = codec->default_bitrate,
        .duration_s = cr->duration, .jitter_buffer_ms = WEBRTC_JB_MS, .srtp = true, .webrtc = &wp,
    };
    return rp_reflector_create(refl, &p, rq->client, status, err, errlen);
}

/* Our answer to the offer, for session s. 0, or -1 when it does not fit. */
static int write_answer(struct rp_webctl *w, const struct rp_sdp_offer *o, struct rp_session *s, const char *addr,
                        char *out, size_t cap)
{
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    const struct rp_session_params *p = rp_session_params(s);
    const struct rp_codec_info *codec = rp_codec_get(p->codec);
    struct rp_webrtc *t = rp_session_webrtc(s);
    uint64_t sess_id = 0;
    for (size_t i = 0; i < 8 && doc.id[2 * i]; i++)
        sess_id = sess_id << 8 | (uint64_t)(rp_hex_digit(doc.id[2 * i]) << 4 | rp_hex_digit(doc.id[2 * i + 1]));
    struct rp_sdp_answer a = {
        .sess_id = sess_id >> 1, /* o= wants a number a 64-bit signed reader takes */
        .ice_ufrag = rp_webrtc_local_ufrag(t), .ice_pwd = rp_webrtc_local_pwd(t),
        .mid = o->mid, .encoding = codec->encoding, .clock_rate = codec->clock_rate,
        .channels = p->codec == RP_CODEC_OPUS ? 2 : 1, .pt = offered_pt(o, p->codec), .ptime_ms = p->ptime_ms,
        .ssrc = doc.ssrc_down, .cname = "rtpprobed", .addr = addr, .port = rp_session_port(s),
        .abs_send_time_id = o->abs_send_time_id,
    };
    memcpy(a.fp_sha256, rp_dtls_cert_sha256(w->cert), sizeof a.fp_sha256);
    rp_contract_session_release(&doc);
    return rp_sdp_write_answer(&a, out, cap) ? 0 : -1;
}

static int refuse(struct rp_webctl *w, json_t **answer, int status, const char *err)
{
    w->n.offers_refused++;
    rp_log_info("browser session refused: %s", err);
    return fail(answer, status, err);
}

int rp_webctl_create(struct rp_webctl *w, struct rp_reflector *refl, const struct rp_webctl_req *rq, json_t **answer)
{
    char err[256], addr[RP_ADDRSTRLEN];
    struct create_req cr;
    unsigned max = w->cfg->max_duration < WEBRTC_MAX_DURATION_S ? w->cfg->max_duration : WEBRTC_MAX_DURATION_S;
    json_t *root = parse_create(rq, max, &cr, err, sizeof err);
    if (!root)
        return refuse(w, answer, 400, err);
    struct rp_sdp_offer *o = calloc(1, sizeof *o);
    int status = 500;
    if (!o || rp_sdp_parse_offer(cr.sdp, cr.sdp_len, o, err, sizeof err) < 0) {
        int code = o ? 400 : 500;
        if (!o)
            snprintf(err, sizeof err, "out of memory");
        json_decref(root);
        free(o);
        return refuse(w, answer, code, err);
    }
    if (!candidate_address(w, rq, addr, sizeof addr)) {
        snprintf(err, sizeof err, "set webrtc.address: the browser reached this host through a local proxy");
        json_decref(root);
        free(o);
        return refuse(w, answer, 500, err);
    }
    struct rp_session *s = session_for(w, refl, rq, &cr, o, &status, err, sizeof err);
    char *sdp = s ? malloc(RP_SDP_MAX_LEN) : NULL;
    if (s && (!sdp || write_answer(w, o, s, addr, sdp, RP_SDP_MAX_LEN) < 0)) {
        rp_reflector_destroy(refl, s);
        s = NULL;
        status = 500;
        snprintf(err, sizeof err, "cannot write the answer");
    }
    const char *agent = rq->agent[0] ? rq->agent : cr.agent;
    if (s) {
        w->n.created++;
        rp_log_info("browser session %s created for %s%s: %s %us, media port %u", rp_session_id(s),
                    agent[0] ? "agent " : "", agent[0] ? agent : "a page", rp_codec_get(cr.codec)->name, cr.duration,
                    rp_session_port(s));
        *answer = json_pack("{s:s, s:s, s:i, s:s, s:i}", "id", rp_session_id(s), "sdp", sdp, "duration",
                            (int)cr.duration, "codec", rp_codec_get(cr.codec)->name, "media_port",
                            (int)rp_session_port(s));
    }
    free(sdp);
    free(o);
    json_decref(root);
    return s ? 201 : refuse(w, answer, status, err);
}

/* The browser has stopped sending: the session stops too, and says how many
 * packets it sent, so that the page can wait for the last ones before it
 * reads its own figures (no packet in flight counted lost). */
int rp_webctl_stop(struct rp_reflector *refl, const char *id, json_t **answer)
{
    struct rp_session *s = strlen(id) == RP_SESSION_ID_LEN ? rp_reflector_find(refl, id) : NULL;
    if (!s || !rp_session_webrtc(s))
        return fail(answer, 404, "no such browser session");
    rp_reflector_stop(refl, s, 0);
    rp_reflector_reschedule(refl, s);
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    *answer = json_pack("{s:I, s:I}", "downstream_sent", (json_int_t)(doc.down.sent + doc.down.skipped),
                        "upstream_received", (json_int_t)doc.up.rx.received);
    rp_contract_session_release(&doc);
    return 200;
}

/* The report from the session's own figures and the browser's. */
static int make_report(struct rp_webctl *w, struct rp_session *s, const struct rp_browser_stats *b,
                       const struct rp_webctl_req *rq, struct rp_report *rep, char *err, size_t errlen)
{
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    struct rp_webrtc_stats ts;
    rp_webrtc_stats(rp_session_webrtc(s), &ts);
    const struct rp_session_params *p = rp_session_params(s);
    char range[24];
    snprintf(range, sizeof range, "%u-%u", w->cfg->port_min, w->cfg->port_max);
    struct rp_webreport_in in = {
        .daemon = &doc, .browser = b, .codec = rp_codec_get(p->codec), .ptime_ms = p->ptime_ms,
        .server = rq->server ? rq->server : "",
        .port_range = range, .connected = rp_webrtc_connected(rp_session_webrtc(s)),
        .handshake_error = rp_webrtc_error(rp_session_webrtc(s)),
        .rtt_series_ms = ts.rtt_ms, .nrtt_series = ts.nrtt,
        .checks_answered = ts.ice[RP_ICE_ANSWERED],
        /* Checks that named this session (its ICE username), answered or not:
         * scanners' junk on the port does not count as upstream arriving. */
        .checks_received = ts.ice[RP_ICE_ANSWERED] + ts.ice[RP_ICE_DROP_BAD_INTEGRITY] + ts.ice[RP_ICE_DROP_ROLE] +
                           ts.ice[RP_ICE_DROP_TOO_SMALL],
    };
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    int rc = rp_webreport_build(&in, &t, rep, err, errlen);
    if (rc == 0 && err[0]) /* a note, not a refusal: the browser's figures were stale */
        rp_log_info("browser session %s: %s", rp_session_id(s), err);
    rp_contract_session_release(&doc);
    return rc;
}

int rp_webctl_stats(struct rp_webctl *w, struct rp_reflector *refl, const char *id, const struct rp_webctl_req *rq,
                    json_t **answer)
{
    struct rp_session *s = strlen(id) == RP_SESSION_ID_LEN ? rp_reflector_find(refl, id) : NULL;
    if (!s || !rp_session_webrtc(s))
        return fail(answer, 404, "no such browser session");
    char err[256];
    json_error_t jerr;
    json_t *root = json_loadb(rq->body, rq->len, JSON_REJECT_DUPLICATES, &jerr);
    struct rp_browser_stats b;
    if (!root || rp_browser_stats_decode(root, &b, err, sizeof err) < 0) {
        if (!root)
            snprintf(err, sizeof err, "body: not JSON (%s)", jerr.text);
        json_decref(root);
        w->n.stats_refused++;
        return fail(answer, 400, err);
    }
    json_decref(root);
    /* The browser's own count is not the daemon's to record (the histograms
     * of /metrics score the session on its own counts): the report uses it. */
    rp_reflector_stop(refl, s, 0);
    rp_reflector_reschedule(refl, s);
    struct rp_report rep;
    if (make_report(w, s, &b, rq, &rep, err, sizeof err) < 0) {
        w->n.stats_refused++;
        return fail(answer, 422, err);
    }
    w->n.reports++;
    *answer = rp_report_json(&rep);
    rp_log_info("browser session %s: %s %s", id, rp_verdict_name(rep.verdict), rp_diagnosis_name(rep.diagnosis));
    rp_report_release(&rep);
    return 200;
}
