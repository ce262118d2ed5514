#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "codec.h"
#include "ctlreq.h"
#include "netaddr.h"

#define DEFAULT_PTIME_MS 20
#define DEFAULT_DURATION_S 10
#define DEFAULT_JB_MS 40
#define MAX_JB_MS 1000

/* The body as a JSON object; jansson rejects invalid UTF-8 and NUL bytes. */
static json_t *load_object(const char *body, size_t len, char *err, size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen, "request body must be a JSON object");
        return NULL;
    }
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "invalid JSON at line %d column %d: %s", jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "request body must be a JSON object");
        return NULL;
    }
    return root;
}

/* Only these keys are accepted, so that a misspelt option is an error, not a default. */
static int only_keys(json_t *obj, const char *const *allowed, char *err, size_t errlen)
{
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++)
            known |= strcmp(key, *a) == 0;
        if (!known) {
            /* %.64s: the key is attacker-chosen; keep the message bounded. */
            snprintf(err, errlen, "unknown field \"%.64s\"", key);
            return -1;
        }
    }
    return 0;
}

static int get_uint(json_t *obj, const char *key, unsigned def, unsigned min, unsigned max, unsigned *out,
                    char *err, size_t errlen)
{
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (!json_is_integer(v)) {
        snprintf(err, errlen, "%s must be an integer", key);
        return -1;
    }
    json_int_t i = json_integer_value(v);
    if (i < (json_int_t)min || i > (json_int_t)max) {
        snprintf(err, errlen, "%s must be between %u and %u", key, min, max);
        return -1;
    }
    *out = (unsigned)i;
    return 0;
}

static int parse_transport(json_t *body, struct rp_session_params *p, char *err, size_t errlen)
{
    json_t *t = json_object_get(body, "transport");
    json_t *suite = json_object_get(body, "srtp_suite");
    json_t *key = json_object_get(body, "srtp_key_up");
    const char *name = t ? json_string_value(t) : "rtp";
    if (!name || (strcmp(name, "rtp") != 0 && strcmp(name, "srtp") != 0)) {
        snprintf(err, errlen, "transport must be \"rtp\" or \"srtp\"");
        return -1;
    }
    p->srtp = strcmp(name, "srtp") == 0;
    p->suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80;
    if (!p->srtp) {
        if (suite || key) {
            snprintf(err, errlen, "srtp_suite and srtp_key_up need transport \"srtp\"");
            return -1;
        }
        return 0;
    }
    if (suite && (!json_is_string(suite) || rp_srtp_suite_parse(json_string_value(suite), &p->suite) < 0)) {
        snprintf(err, errlen, "srtp_suite must be AES_CM_128_HMAC_SHA1_80, AES_CM_128_HMAC_SHA1_32, "
                              "AEAD_AES_128_GCM or AEAD_AES_256_GCM");
        return -1;
    }
    if (key) {
        if (!json_is_string(key) ||
            rp_srtp_inline_decode(p->suite, json_string_value(key), p->key_up, sizeof p->key_up) < 0) {
            snprintf(err, errlen, "srtp_key_up must be \"inline:<base64 of %zu bytes>\" for %s",
                     rp_srtp_key_len(p->suite), rp_srtp_suite_name(p->suite));
            return -1;
        }
        p->has_key_up = true;
    }
    return 0;
}

int rp_ctlreq_parse_create(const char *body, size_t len, const struct rp_ctl_bounds *b,
                           struct rp_session_params *p, char *err, size_t errlen)
{
    static const char *const allowed[] = { "codec", "ptime_ms", "duration_s", "bitrate_bps", "transport",
                                           "jitter_buffer_ms", "srtp_suite", "srtp_key_up", "series", NULL };
    int rc = -1;
    json_t *root = load_object(body, len, err, errlen);
    if (!root)
        return -1;
    memset(p, 0, sizeof *p);
    const struct rp_codec_info *codec;
    json_t *v = json_object_get(root, "codec");
    if (only_keys(root, allowed, err, errlen) < 0)
        goto out;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "codec is required: \"pcmu\", \"pcma\" or \"opus\"");
        goto out;
    }
    codec = rp_codec_by_name(json_string_value(v));
    if (!codec) {
        snprintf(err, errlen, "unknown codec \"%.32s\": use \"pcmu\", \"pcma\" or \"opus\"", json_string_value(v));
        goto out;
    }
    p->codec = codec->id;
    /* Defaults obey the configured bounds too: the nearest valid value inside them. */
    unsigned def_duration = DEFAULT_DURATION_S < b->max_duration ? DEFAULT_DURATION_S : b->max_duration;
    unsigned def_bitrate = codec->default_bitrate;
    if (def_bitrate > b->bitrate_max)
        def_bitrate = b->bitrate_max;
    if (def_bitrate < b->bitrate_min)
        def_bitrate = b->bitrate_min;
    unsigned def_ptime = DEFAULT_PTIME_MS;
    if (def_ptime < b->ptime_min || def_ptime > b->ptime_max || !rp_codec_ptime_valid(codec->id, def_ptime)) {
        def_ptime = 0;
        for (unsigned t = b->ptime_min; t <= b->ptime_max && !def_ptime; t++)
            if (rp_codec_ptime_valid(codec->id, t))
                def_ptime = t;
        if (!def_ptime) {
            snprintf(err, errlen, "no packet time for %s within limits (%u-%u ms)", codec->name, b->ptime_min,
                     b->ptime_max);
            goto out;
        }
    }
    if (get_uint(root, "ptime_ms", def_ptime, b->ptime_min, b->ptime_max, &p->ptime_ms, err, errlen) < 0 ||
        get_uint(root, "duration_s", def_duration, 1, b->max_duration, &p->duration_s, err, errlen) < 0 ||
        get_uint(root, "jitter_buffer_ms", DEFAULT_JB_MS, 0, MAX_JB_MS, &p->jitter_buffer_ms, err, errlen) < 0)
        goto out;
    if (codec->id == RP_CODEC_OPUS) {
        if (get_uint(root, "bitrate_bps", def_bitrate, b->bitrate_min, b->bitrate_max, &p->bitrate_bps, err,
                     errlen) < 0)
            goto out;
    } else if (get_uint(root, "bitrate_bps", codec->default_bitrate, codec->default_bitrate,
                        codec->default_bitrate, &p->bitrate_bps, err, errlen) < 0) {
        goto out;
    }
    if (!rp_codec_ptime_valid(p->codec, p->ptime_ms)) {
        snprintf(err, errlen, "ptime_ms %u is not valid for %s", p->ptime_ms, codec->name);
        goto out;
    }
    if (!rp_codec_bitrate_valid(p->codec, p->bitrate_bps)) {
        snprintf(err, errlen, "bitrate_bps %u is not valid for %s", p->bitrate_bps, codec->name);
        goto out;
    }
    if (parse_transport(root, p, err, errlen) < 0)
        goto out;
    json_t *series = json_object_get(root, "series");
    if (series && !json_is_boolean(series)) {
        snprintf(err, errlen, "series must be true or false");
        goto out;
    }
    p->series = series && json_is_true(series);
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int rp_ctlreq_parse_patch(const char *body, size_t len, struct rp_patch_req *out, char *err, size_t errlen)
{
    static const char *const allowed[] = { "peer", "stop", "upstream_sent", NULL };
    int rc = -1;
    json_t *root = load_object(body, len, err, errlen);
    if (!root)
        return -1;
    memset(out, 0, sizeof *out);
    json_t *peer = json_object_get(root, "peer");
    json_t *stop = json_object_get(root, "stop");
    json_t *sent = json_object_get(root, "upstream_sent");
    if (only_keys(root, allowed, err, errlen) < 0)
        goto out;
    if (!peer && !stop) {
        snprintf(err, errlen, "nothing to change: give \"peer\" and/or \"stop\"");
        goto out;
    }
    if (stop && !json_is_boolean(stop)) {
        snprintf(err, errlen, "stop must be true or false");
        goto out;
    }
    if (sent && (!json_is_integer(sent) || json_integer_value(sent) < 0 ||
                 json_integer_value(sent) > (json_int_t)UINT32_MAX)) {
        snprintf(err, errlen, "upstream_sent must be an integer from 0 to 4294967295");
        goto out;
    }
    if (peer) {
        socklen_t alen;
        if (!json_is_string(peer) || rp_addr_parse(json_string_value(peer), 0, &out->peer, &alen) < 0) {
            snprintf(err, errlen, "peer must be \"IP:port\" (IPv6 as \"[addr]:port\")");
            goto out;
        }
        out->has_peer = true;
    }
    out->stop = stop && json_is_true(stop);
    if (sent) {
        out->has_upstream_sent = true;
        out->upstream_sent = (uint64_t)json_integer_value(sent);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
