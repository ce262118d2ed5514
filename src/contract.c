/* The daemon<->probe JSON contract. See include/contract.h. One row per key:
 * its path in the document, its type and where it lives in the struct; the
 * encoder and the decoder walk the same rows. */
#include "contract.h"

#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdlib.h>

enum ftype {
    F_U64,     /* uint64_t, JSON integer >= 0 */
    F_I64,     /* int64_t, JSON integer */
    F_U32,     /* uint32_t, JSON integer 0..UINT32_MAX */
    F_UINT,    /* unsigned, JSON integer 0..UINT_MAX */
    F_DBL,     /* double, finite JSON number >= 0, written to 3 decimals */
    F_SDBL,    /* double, finite JSON number, may be negative */
    F_BOOL,
    F_STR,     /* char[size], JSON string that fits */
    F_STR_OR_NULL,    /* char[size], JSON string, or null for "" */
    F_COUNTS,  /* uint64_t[n] from index `first`, JSON object {name: integer} */
};

typedef const char *name_fn(unsigned i);

struct field {
    const char *path;  /* "upstream.ipdv_ms.p50" */
    enum ftype  type;
    size_t      off;
    size_t      size;  /* F_STR, F_STR_OR_NULL: bytes; F_COUNTS: elements */
    unsigned    first; /* F_COUNTS */
    name_fn    *name;  /* F_COUNTS */
    bool        optional; /* absent reads as 0 (never for figures: a missing figure fails) */
    json_int_t  lo, hi;   /* integers: the field's own bounds when hi > 0, else the type's */
};

/* Bounds a daemon's answer must respect before any of it is used: what the
 * daemon itself accepts (ctlreq.c, config.c), so a lying or broken server
 * cannot push a value into arithmetic it does not fit. */
#define PORT_MAX 65535
#define PT_MAX 127
#define CLOCK_MIN 8000
#define CLOCK_MAX 48000
#define PTIME_MIN 10
#define PTIME_MAX 120
#define BITRATE_MIN 6000
#define BITRATE_MAX 510000
#define DURATION_MAX 86400
#define JB_MAX 1000
/* Figures in ms or percent: a day in ms is far beyond any real one. */
#define FIGURE_MAX 1e8

static const char *drop_name(unsigned i) { return rp_drop_reason_name((enum rp_drop_reason)i); }
static const char *stun_name(unsigned i) { return rp_stun_verdict_name((enum rp_stun_verdict)i); }
static const char *rtp_err_name(unsigned i) { return rp_rtp_strerror((enum rp_rtp_err)i); }
static const char *stun_err_name(unsigned i) { return rp_stun_strerror((enum rp_stun_err)i); }

#define S(m) offsetof(struct rp_contract_session, m)
#define NUM(path, type, m) { path, type, S(m), 0, 0, NULL, false, 0, 0 }
#define NUMR(path, type, m, lo, hi) { path, type, S(m), 0, 0, NULL, false, lo, hi }
#define STR(path, m) { path, F_STR, S(m), sizeof(((struct rp_contract_session *)0)->m), 0, NULL, false, 0, 0 }
#define STR_OR_NULL(path, m) { path, F_STR_OR_NULL, S(m), sizeof(((struct rp_contract_session *)0)->m), 0, NULL, false, 0, 0 }
#define COUNTS(path, m, first, fn) \
    { path, F_COUNTS, S(m), sizeof(((struct rp_contract_session *)0)->m) / sizeof(uint64_t), first, fn, false, 0, 0 }

static const struct field session_fields[] = {
    STR("id", id),
    STR("codec", codec),
    NUMR("ptime_ms", F_UINT, ptime_ms, PTIME_MIN, PTIME_MAX),
    NUMR("bitrate_bps", F_UINT, bitrate_bps, BITRATE_MIN, BITRATE_MAX),
    NUMR("duration_s", F_UINT, duration_s, 1, DURATION_MAX),
    NUMR("jitter_buffer_ms", F_UINT, jitter_buffer_ms, 0, JB_MAX),
    NUMR("media_port", F_UINT, media_port, 1, PORT_MAX),
    STR("state", state),
    STR("client", client),
    STR_OR_NULL("announced", announced),
    STR_OR_NULL("latched", latched),
    NUM("relatched", F_U64, relatched),
    NUM("ssrc_up", F_U32, ssrc_up),
    NUM("ssrc_down", F_U32, ssrc_down),
    NUM("upstream.accepted", F_U64, up.accepted),
    NUM("upstream.sent_by_probe", F_U64, up.sent_by_probe),
    NUM("upstream.received", F_U64, up.rx.received),
    NUM("upstream.lost", F_I64, up.rx.lost),
    NUM("upstream.loss_pct", F_SDBL, up.rx.loss_pct),
    NUM("upstream.duplicates", F_U64, up.rx.duplicates),
    NUM("upstream.reordered", F_U64, up.rx.reordered),
    NUM("upstream.late", F_U64, up.rx.late),
    NUM("upstream.late_adaptive", F_U64, up.rx.late_adaptive),
    NUM("upstream.jitter_buffer_mean_ms", F_DBL, up.rx.jb_mean_ms),
    NUM("upstream.jitter_buffer_max_ms", F_DBL, up.rx.jb_max_ms),
    NUM("upstream.bursts", F_U64, up.rx.bursts),
    NUM("upstream.max_burst", F_U32, up.rx.max_burst),
    NUM("upstream.burst_ratio", F_DBL, up.rx.burst_ratio),
    NUM("upstream.jitter_ms", F_DBL, up.rx.jitter_ms),
    NUM("upstream.jitter_mean_ms", F_DBL, up.rx.jitter_mean_ms),
    NUM("upstream.ipdv_ms.p50", F_DBL, up.rx.ipdv_p50_ms),
    NUM("upstream.ipdv_ms.p95", F_DBL, up.rx.ipdv_p95_ms),
    NUM("upstream.ipdv_ms.p99", F_DBL, up.rx.ipdv_p99_ms),
    NUM("upstream.ipdv_ms.max", F_DBL, up.rx.ipdv_max_ms),
    NUM("upstream.delay_ms.p50", F_DBL, up.rx.delay_p50_ms),
    NUM("upstream.delay_ms.p95", F_DBL, up.rx.delay_p95_ms),
    NUM("upstream.delay_ms.max", F_DBL, up.rx.delay_max_ms),
    NUM("upstream.delay_ms.rise", F_DBL, up.rx.delay_rise_ms),
    NUM("upstream.wire_bytes", F_U64, up.rx.wire_bytes),
    NUM("upstream.host_drops", F_U64, up.host_drops),
    COUNTS("upstream.dropped", up.dropped, RP_DROP_FIRST, drop_name),
    NUM("upstream.reply_only", F_BOOL, up.reply_only),
    COUNTS("upstream.stun", up.stun, 0, stun_name),
    COUNTS("upstream.malformed.rtp", up.malformed_rtp, 1, rtp_err_name),
    COUNTS("upstream.malformed.stun", up.malformed_stun, 1, stun_err_name),
    NUM("upstream.auth_failures", F_U64, up.auth_failures),
    NUM("upstream.primed", F_U64, up.primed),
    NUM("downstream.sent", F_U64, down.sent),
    NUM("downstream.skipped", F_U64, down.skipped),
    NUM("downstream.wire_bytes", F_U64, down.wire_bytes),
    NUM("downstream.send_errors", F_U64, down.send_errors),
    STR("transport", transport),
    STR_OR_NULL("cipher", cipher),
};
#undef S
#undef NUM
#undef NUMR
#undef STR
#undef STR_OR_NULL
#undef COUNTS

#define C(m) offsetof(struct rp_contract_created, m)
#define CNUM(path, type, m, lo, hi) { path, type, C(m), 0, 0, NULL, false, lo, hi }
#define CNUM_OPTIONAL(path, type, m, lo, hi) { path, type, C(m), 0, 0, NULL, true, lo, hi }
#define CSTR(path, m) { path, F_STR, C(m), sizeof(((struct rp_contract_created *)0)->m), 0, NULL, false, 0, 0 }
static const struct field created_fields[] = {
    CSTR("id", id),
    CNUM("media_port", F_UINT, media_port, 1, PORT_MAX),
    CNUM("ssrc_up", F_U32, ssrc_up, 0, 0),
    CNUM("ssrc_down", F_U32, ssrc_down, 0, 0),
    CNUM("pt", F_UINT, pt, 0, PT_MAX),
    CNUM("clock_rate", F_UINT, clock_rate, CLOCK_MIN, CLOCK_MAX),
    CSTR("codec", codec),
    CNUM("ptime_ms", F_UINT, ptime_ms, PTIME_MIN, PTIME_MAX),
    CNUM("bitrate_bps", F_UINT, bitrate_bps, BITRATE_MIN, BITRATE_MAX),
    CNUM("duration_s", F_UINT, duration_s, 1, DURATION_MAX),
    CNUM("jitter_buffer_ms", F_UINT, jitter_buffer_ms, 0, JB_MAX),
    CSTR("transport", transport),
    CSTR("client", client),
    /* Optional: without them the report words the range without numbers. */
    CNUM_OPTIONAL("port_min", F_UINT, port_min, 0, PORT_MAX),
    CNUM_OPTIONAL("port_max", F_UINT, port_max, 0, PORT_MAX),
};
#undef C
#undef CNUM
#undef CNUM_OPTIONAL
#undef CSTR

#define NFIELDS(t) (sizeof(t) / sizeof((t)[0]))

/* One entry of upstream.per_second: {"t": i, these keys}. Counts are uint32_t,
 * figures double; delay_ms is null for a second without packets (NAN). */
static const struct second_field {
    const char *name;
    size_t      off;
    bool        figure;
} second_fields[] = {
    { "packets", offsetof(struct rp_second, packets), false },
    { "lost", offsetof(struct rp_second, lost), false },
    { "late", offsetof(struct rp_second, late), false },
    { "late_adaptive", offsetof(struct rp_second, late_adaptive), false },
    { "jitter_ms", offsetof(struct rp_second, jitter_ms), true },
    { "delay_ms", offsetof(struct rp_second, delay_ms), true },
};

/* ---- paths ---- */

/* The object that holds the path's last key, created on the way when `make`;
 * *leaf points at that key inside path. NULL when a step is absent or not an object. */
static json_t *walk(json_t *root, const char *path, bool make, const char **leaf, char *err, size_t errlen)
{
    json_t *obj = root;
    const char *p = path, *dot;
    while ((dot = strchr(p, '.')) != NULL) {
        char step[32];
        size_t n = (size_t)(dot - p);
        if (n >= sizeof step)
            return NULL;
        memcpy(step, p, n);
        step[n] = '\0';
        json_t *next = json_object_get(obj, step);
        if (!next && make) {
            next = json_object();
            if (json_object_set_new(obj, step, next) < 0)
                return NULL;
        }
        if (!json_is_object(next)) {
            snprintf(err, errlen, "%.*s: %s", (int)(dot - path), path, next ? "not an object" : "missing");
            return NULL;
        }
        obj = next;
        p = dot + 1;
    }
    *leaf = p;
    return obj;
}

/* ---- encoding ---- */

/* Microsecond resolution is plenty for the API; round(v*1000)/1000 prints as written. */
static double round3(double v)
{
    return round(v * 1000.0) / 1000.0;
}

static json_t *encode_counts(const struct field *f, const uint64_t *v)
{
    json_t *o = json_object();
    for (unsigned i = f->first; o && i < f->size; i++)
        json_object_set_new(o, f->name(i), json_integer((json_int_t)v[i]));
    return o;
}

static json_t *encode_value(const struct field *f, const void *base)
{
    const char *at = (const char *)base + f->off;
    switch (f->type) {
    case F_U64: return json_integer((json_int_t)*(const uint64_t *)(const void *)at);
    case F_I64: return json_integer((json_int_t)*(const int64_t *)(const void *)at);
    case F_U32: return json_integer((json_int_t)*(const uint32_t *)(const void *)at);
    case F_UINT: return json_integer((json_int_t)*(const unsigned *)(const void *)at);
    case F_DBL:
    case F_SDBL: return json_real(round3(*(const double *)(const void *)at));
    case F_BOOL: return json_boolean(*(const bool *)(const void *)at);
    case F_STR: return json_string(at);
    case F_STR_OR_NULL: return at[0] ? json_string(at) : json_null();
    case F_COUNTS: return encode_counts(f, (const uint64_t *)(const void *)at);
    }
    return NULL;
}

static json_t *encode(const struct field *fields, size_t n, const void *base)
{
    json_t *root = json_object();
    for (size_t i = 0; root && i < n; i++) {
        const char *leaf;
        char err[8];
        json_t *obj = walk(root, fields[i].path, true, &leaf, err, sizeof err);
        json_t *v = encode_value(&fields[i], base);
        if (!obj || !v || json_object_set_new(obj, leaf, v) < 0) {
            json_decref(root);
            return NULL;
        }
    }
    return root;
}

static json_t *encode_second(const struct rp_second *v, size_t t)
{
    json_t *o = json_object();
    if (!o || json_object_set_new(o, "t", json_integer((json_int_t)t)) < 0) {
        json_decref(o);
        return NULL;
    }
    for (size_t i = 0; i < NFIELDS(second_fields); i++) {
        const struct second_field *f = &second_fields[i];
        const char *at = (const char *)v + f->off;
        double d;
        uint32_t u;
        json_t *x;
        if (f->figure) {
            memcpy(&d, at, sizeof d);
            x = isfinite(d) ? json_real(round3(d)) : json_null();
        } else {
            memcpy(&u, at, sizeof u);
            x = json_integer((json_int_t)u);
        }
        if (!x || json_object_set_new(o, f->name, x) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

static json_t *encode_seconds(const struct rp_second *v, size_t n)
{
    json_t *a = json_array();
    for (size_t t = 0; a && t < n; t++)
        if (json_array_append_new(a, encode_second(&v[t], t)) < 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

/* upstream.per_second, when the session has one (see contract.h). */
static int encode_per_second(json_t *root, const struct rp_contract_up *up)
{
    struct rp_second *own = NULL;
    const struct rp_second *v = up->per_second;
    size_t n = up->nseconds;
    if (!up->series && !up->has_per_second)
        return 0;
    if (up->series) {
        if (rp_rxstats_seconds(up->series, up->sent_by_probe, &own, &n) < 0)
            return -1;
        v = own;
    }
    json_t *a = encode_seconds(v, n);
    free(own);
    return a && json_object_set_new(json_object_get(root, "upstream"), "per_second", a) == 0 ? 0 : -1;
}

json_t *rp_contract_session_encode(const struct rp_contract_session *s)
{
    json_t *j = encode(session_fields, NFIELDS(session_fields), s);
    if (j && encode_per_second(j, &s->up) < 0) {
        json_decref(j);
        return NULL;
    }
    return j;
}

static json_t *keys_encode(const struct rp_contract_keys *k)
{
    if (!k->srtp) {
        char b64[RP_MEXT_AUTH_KEY_LEN * 2];
        EVP_EncodeBlock((unsigned char *)b64, k->auth_key, sizeof k->auth_key);
        json_t *j = json_pack("{s:s}", "auth_key", b64);
        OPENSSL_cleanse(b64, sizeof b64);
        return j;
    }
    char up[RP_SRTP_INLINE_MAX], down[RP_SRTP_INLINE_MAX];
    size_t klen = rp_srtp_key_len(k->suite);
    json_t *j = NULL;
    if (rp_srtp_inline_encode(k->key_up, klen, up, sizeof up) == 0 &&
        rp_srtp_inline_encode(k->key_down, klen, down, sizeof down) == 0)
        j = json_pack("{s:{s:s, s:s, s:s}}", "srtp", "suite", rp_srtp_suite_name(k->suite), "key_up", up, "key_down",
                      down);
    OPENSSL_cleanse(up, sizeof up);
    OPENSSL_cleanse(down, sizeof down);
    return j;
}

json_t *rp_contract_created_encode(const struct rp_contract_created *c)
{
    json_t *j = encode(created_fields, NFIELDS(created_fields), c);
    json_t *keys = j ? keys_encode(&c->keys) : NULL;
    if (!keys || json_object_update(j, keys) < 0) {
        json_decref(keys);
        json_decref(j);
        return NULL;
    }
    json_decref(keys);
    return j;
}

/* ---- decoding ---- */

static int bad(char *err, size_t errlen, const char *path, const char *what)
{
    snprintf(err, errlen, "%s: %s", path, what);
    return -1;
}

static int decode_int(const json_t *v, json_int_t lo, json_int_t hi, json_int_t *out)
{
    if (!json_is_integer(v))
        return -1;
    *out = json_integer_value(v);
    return *out >= lo && *out <= hi ? 0 : -2;
}

static int decode_counts(const struct field *f, const json_t *obj, uint64_t *v, char *err, size_t errlen)
{
    if (!json_is_object(obj))
        return bad(err, errlen, f->path, obj ? "not an object" : "missing");
    for (unsigned i = f->first; i < f->size; i++) {
        json_int_t x;
        int rc = decode_int(json_object_get(obj, f->name(i)), 0, INT64_MAX, &x);
        if (rc < 0) {
            snprintf(err, errlen, "%s.%s: %s", f->path, f->name(i), rc == -1 ? "missing or not an integer" : "out of range");
            return -1;
        }
        v[i] = (uint64_t)x;
    }
    return 0;
}

static int decode_text(const struct field *f, const json_t *v, char *at, char *err, size_t errlen)
{
    if (f->type == F_STR_OR_NULL && json_is_null(v)) {
        at[0] = '\0';
        return 0;
    }
    if (!json_is_string(v))
        return bad(err, errlen, f->path, v ? "not a string" : "missing");
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (n >= f->size || strlen(s) != n)
        return bad(err, errlen, f->path, "too long or not text");
    /* Printed in the report and on terminals: no control characters. */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return bad(err, errlen, f->path, "holds control characters");
    memcpy(at, s, n + 1);
    return 0;
}

static int decode_number(const struct field *f, const json_t *v, char *at, char *err, size_t errlen)
{
    if (!json_is_number(v))
        return bad(err, errlen, f->path, v ? "not a number" : "missing");
    double d = json_number_value(v);
    if (!isfinite(d) || d > FIGURE_MAX || d < (f->type == F_DBL ? 0 : -FIGURE_MAX))
        return bad(err, errlen, f->path, "out of range");
    memcpy(at, &d, sizeof d);
    return 0;
}

static int decode_integer(const struct field *f, const json_t *v, char *at, char *err, size_t errlen)
{
    static const json_int_t hi[] = { [F_U64] = INT64_MAX, [F_I64] = INT64_MAX, [F_U32] = UINT32_MAX,
                                     [F_UINT] = UINT_MAX };
    json_int_t x;
    json_int_t lo = f->hi > 0 ? f->lo : f->type == F_I64 ? INT64_MIN : 0;
    int rc = decode_int(v, lo, f->hi > 0 ? f->hi : hi[f->type], &x);
    if (rc < 0)
        return bad(err, errlen, f->path, rc == -2 ? "out of range" : v ? "not an integer" : "missing");
    if (f->type == F_U64) {
        uint64_t u = (uint64_t)x;
        memcpy(at, &u, sizeof u);
    } else if (f->type == F_I64) {
        int64_t i = (int64_t)x;
        memcpy(at, &i, sizeof i);
    } else if (f->type == F_U32) {
        uint32_t u = (uint32_t)x;
        memcpy(at, &u, sizeof u);
    } else {
        unsigned u = (unsigned)x;
        memcpy(at, &u, sizeof u);
    }
    return 0;
}

static int decode_field(const struct field *f, const json_t *root, void *base, char *err, size_t errlen)
{
    const char *leaf;
    json_t *obj = walk((json_t *)(uintptr_t)root, f->path, false, &leaf, err, errlen);
    if (!obj)
        return -1;
    const json_t *v = json_object_get(obj, leaf);
    char *at = (char *)base + f->off;
    if (!v && f->optional)
        return 0; /* the caller zeroed *base */
    switch (f->type) {
    case F_BOOL:
        if (!json_is_boolean(v))
            return bad(err, errlen, f->path, v ? "not a boolean" : "missing");
        *(bool *)(void *)at = json_is_true(v);
        return 0;
    case F_STR:
    case F_STR_OR_NULL: return decode_text(f, v, at, err, errlen);
    case F_DBL:
    case F_SDBL: return decode_number(f, v, at, err, errlen);
    case F_COUNTS: return decode_counts(f, v, (uint64_t *)(void *)at, err, errlen);
    default: return decode_integer(f, v, at, err, errlen);
    }
}

static int decode(const json_t *j, const struct field *fields, size_t n, void *base, char *err, size_t errlen)
{
    if (!json_is_object(j)) {
        snprintf(err, errlen, "not a JSON object");
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (decode_field(&fields[i], j, base, err, errlen) < 0)
            return -1;
    return 0;
}

/* Downstream packets beyond duration / ptime that a session may send. */
#define DOWN_SLACK_MS 5000

uint64_t rp_contract_down_budget(unsigned duration_s, unsigned ptime_ms)
{
    return ptime_ms ? ((uint64_t)duration_s * 1000 + DOWN_SLACK_MS) / ptime_ms : 0;
}

bool rp_contract_id_valid(const char *id)
{
    return id && strlen(id) == RP_CONTRACT_ID_LEN && strspn(id, "0123456789abcdef") == RP_CONTRACT_ID_LEN;
}

/* The id goes into later request lines: only the daemon's own form. */
static int check_id(const char *id, char *err, size_t errlen)
{
    return rp_contract_id_valid(id) ? 0 : bad(err, errlen, "id", "not a session id (32 lowercase hex digits)");
}

static int decode_second(const json_t *o, size_t t, struct rp_second *v, char *err, size_t errlen)
{
    json_int_t x;
    if (!json_is_object(o)) {
        snprintf(err, errlen, "upstream.per_second[%zu]: not an object", t);
        return -1;
    }
    if (decode_int(json_object_get(o, "t"), (json_int_t)t, (json_int_t)t, &x) < 0) {
        snprintf(err, errlen, "upstream.per_second[%zu].t: missing or not %zu", t, t);
        return -1;
    }
    for (size_t i = 0; i < NFIELDS(second_fields); i++) {
        const struct second_field *f = &second_fields[i];
        const json_t *e = json_object_get(o, f->name);
        char *at = (char *)v + f->off;
        double d = NAN;
        bool good;
        if (f->figure) {
            /* Only delay_ms may be null (a second without packets). */
            good = (json_is_null(e) && strcmp(f->name, "delay_ms") == 0) ||
                   (json_is_number(e) && isfinite(d = json_number_value(e)) && d >= 0 && d <= FIGURE_MAX);
            memcpy(at, &d, sizeof d);
        } else {
            good = decode_int(e, 0, UINT32_MAX, &x) == 0;
            uint32_t u = good ? (uint32_t)x : 0;
            memcpy(at, &u, sizeof u);
        }
        if (!good) {
            snprintf(err, errlen, "upstream.per_second[%zu].%s: %s", t, f->name, e ? "not a valid value" : "missing");
            return -1;
        }
    }
    return 0;
}

/* Optional: absent in the document of a session created without "series". */
static int decode_per_second(const json_t *root, struct rp_contract_up *up, char *err, size_t errlen)
{
    const json_t *a = json_object_get(json_object_get(root, "upstream"), "per_second");
    if (!a)
        return 0;
    if (!json_is_array(a) || json_array_size(a) > RP_SERIES_MAX_SECONDS)
        return bad(err, errlen, "upstream.per_second", "not an array of at most 3600 seconds");
    up->has_per_second = true;
    up->nseconds = json_array_size(a);
    if (up->nseconds == 0)
        return 0;
    up->per_second = calloc(up->nseconds, sizeof *up->per_second);
    if (!up->per_second)
        return bad(err, errlen, "upstream.per_second", "out of memory");
    for (size_t t = 0; t < up->nseconds; t++)
        if (decode_second(json_array_get(a, t), t, &up->per_second[t], err, errlen) < 0)
            return -1;
    return 0;
}

int rp_contract_session_decode(const json_t *j, struct rp_contract_session *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (decode(j, session_fields, NFIELDS(session_fields), out, err, errlen) < 0 ||
        decode_per_second(j, &out->up, err, errlen) < 0)
        return -1;
    return check_id(out->id, err, errlen);
}

void rp_contract_session_release(struct rp_contract_session *s)
{
    free(s->up.per_second);
    s->up.per_second = NULL;
    s->up.nseconds = 0;
    s->up.has_per_second = false;
}

/* The seconds count each packet once at most: more than the totals is a lie. */
static bool seconds_exceed(const struct rp_contract_up *up)
{
    uint64_t packets = 0, lost = 0;
    for (size_t t = 0; t < up->nseconds; t++) {
        packets += up->per_second[t].packets;
        lost += up->per_second[t].lost;
    }
    return packets > up->rx.received || lost > (uint64_t)(up->rx.lost > 0 ? up->rx.lost : 0);
}

int rp_contract_session_consistent(const struct rp_contract_session *s, const struct rp_contract_truth *t, char *err,
                                   size_t errlen)
{
    /* The media clock's slots: the in-band count and the budget include the skipped ones. */
    uint64_t slots = s->down.sent > UINT64_MAX - s->down.skipped ? UINT64_MAX : s->down.sent + s->down.skipped;
    char down[80];
    if (s->down.skipped)
        snprintf(down, sizeof down, "downstream.sent %" PRIu64 " + skipped %" PRIu64, s->down.sent, s->down.skipped);
    else
        snprintf(down, sizeof down, "downstream.sent %" PRIu64, s->down.sent);
    if (strcmp(s->id, t->id) != 0)
        snprintf(err, errlen, "the figures are for session %.32s, not %.32s", s->id, t->id);
    else if (s->up.rx.received > t->up_sent)
        snprintf(err, errlen, "upstream.received %" PRIu64 " is more than the %" PRIu64 " packets the probe sent",
                 s->up.rx.received, t->up_sent);
    else if (seconds_exceed(&s->up))
        snprintf(err, errlen, "upstream.per_second counts more packets or losses than upstream.received %" PRIu64
                 " and upstream.lost %" PRId64, s->up.rx.received, s->up.rx.lost);
    else if (s->up.rx.received > s->up.accepted)
        snprintf(err, errlen, "upstream.received %" PRIu64 " is more than upstream.accepted %" PRIu64,
                 s->up.rx.received, s->up.accepted);
    else if (s->down.sent < t->down_received)
        snprintf(err, errlen, "downstream.sent %" PRIu64 " is less than the %" PRIu64 " packets the probe received",
                 s->down.sent, t->down_received);
    else if (slots < t->down_sent_seen)
        snprintf(err, errlen, "%s is less than the %" PRIu64 " packets the probe saw counted in them", down,
                 t->down_sent_seen);
    else if (slots > t->down_budget)
        snprintf(err, errlen, "%s is more than the %" PRIu64 " packets the session may send", down, t->down_budget);
    else
        return 0;
    return -1;
}

static int keys_decode(const json_t *j, struct rp_contract_keys *k, char *err, size_t errlen)
{
    const char *b64 = json_string_value(json_object_get(j, "auth_key"));
    json_t *srtp = json_object_get(j, "srtp");
    if (b64) {
        /* EVP_DecodeBlock counts '=' as zero bytes: a 31-byte key ("...==")
         * also gives 33. Only the canonical text of 32 bytes encodes back to itself. */
        unsigned char raw[RP_MEXT_AUTH_KEY_LEN + 4], again[48];
        bool ok = strlen(b64) == 44 && EVP_DecodeBlock(raw, (const unsigned char *)b64, 44) == 33 &&
                  EVP_EncodeBlock(again, raw, RP_MEXT_AUTH_KEY_LEN) == 44 && memcmp(again, b64, 44) == 0;
        if (ok)
            memcpy(k->auth_key, raw, sizeof k->auth_key);
        OPENSSL_cleanse(raw, sizeof raw);
        OPENSSL_cleanse(again, sizeof again);
        return ok ? 0 : bad(err, errlen, "auth_key", "not a base64 256-bit key");
    }
    if (!json_is_object(srtp))
        return bad(err, errlen, "auth_key", "missing (and no srtp keys)");
    const char *suite = json_string_value(json_object_get(srtp, "suite"));
    const char *up = json_string_value(json_object_get(srtp, "key_up"));
    const char *down = json_string_value(json_object_get(srtp, "key_down"));
    k->srtp = true;
    if (!suite || rp_srtp_suite_parse(suite, &k->suite) < 0)
        return bad(err, errlen, "srtp.suite", "missing or unknown");
    if (!up || rp_srtp_inline_decode(k->suite, up, k->key_up, sizeof k->key_up) < 0)
        return bad(err, errlen, "srtp.key_up", "missing or not an inline key of the suite");
    if (!down || rp_srtp_inline_decode(k->suite, down, k->key_down, sizeof k->key_down) < 0)
        return bad(err, errlen, "srtp.key_down", "missing or not an inline key of the suite");
    return 0;
}

int rp_contract_created_decode(const json_t *j, struct rp_contract_created *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (decode(j, created_fields, NFIELDS(created_fields), out, err, errlen) < 0 ||
        keys_decode(j, &out->keys, err, errlen) < 0)
        return -1;
    return check_id(out->id, err, errlen);
}
