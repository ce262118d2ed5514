/* SDP for the browser pre-call test: the browser's offer read (RFC 8866 syntax, JSEP RFC 8829,
 * ICE RFC 8839, DTLS RFC 8842, rtcp-mux RFC 5761), the daemon's ICE-lite answer written.
 * The offer comes from the network: every line is a (pointer, length) slice of the caller's
 * buffer, never NUL-terminated, and every read is checked against the slice's length.
 * Reasons never echo the offer's bytes: they go into JSON answers and logs. */
#include "sdp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rtp.h"

#define LINE_MAX_LEN 4096
#define UFRAG_MIN 4
#define PWD_MIN 22
#define PT_COUNT 128         /* RTP payload types 0..127 */
#define DIR_ABSENT (-1)

enum dir { DIR_SENDRECV = 0, DIR_SENDONLY, DIR_RECVONLY, DIR_INACTIVE };
static const char *const dirs[] = { "sendrecv", "sendonly", "recvonly", "inactive" };

struct span {
    const char *p;
    size_t n;
};

/* What one level (session, or the m-line's media section) carried. */
struct level {
    struct span ufrag, pwd;
    unsigned nufrag, npwd, nfp;
    char fp_hash[16];
    uint8_t fp[RP_SDP_FP_MAX];
    size_t fp_len;
    int setup;               /* enum rp_sdp_setup, or -1 absent */
    int dir;                 /* enum dir, or DIR_ABSENT */
    bool has_c, c_ipv6;
};

struct parser {
    struct level sess, media;
    unsigned nm;             /* m-lines seen */
    bool audio, port_zero, proto_ok;
    uint8_t fmt[PT_COUNT];   /* 1: the pt is in the m-line's fmt list */
    struct span mid;
    unsigned nmid;
    bool rtcp_mux, has_ssrc;
    uint32_t ssrc;
    uint8_t abs_send_time_id;
    int pt_opus, pt_pcmu, pt_pcma;
    bool seen_v;
    unsigned lineno;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct parser *ps, const char *fmt, ...)
{
    if (ps->errlen == 0)
        return -1;
    int n = 0;
    if (ps->lineno > 0)
        n = snprintf(ps->err, ps->errlen, "line %u: ", ps->lineno);
    if (n >= 0 && (size_t)n < ps->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static bool span_eq(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    return s.n == n && memcmp(s.p, lit, n) == 0;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool span_eq_ci(struct span s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.n != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(s.p[i]) != lower(lit[i]))
            return false;
    return true;
}

/* Splits off the next field separated by spaces or tabs (RFC 8866 says one SP; browsers
 * write one, leniency costs nothing here). An empty tok means no field left. */
static struct span next_field(struct span *rest)
{
    size_t i = 0;
    while (i < rest->n && (rest->p[i] == ' ' || rest->p[i] == '\t'))
        i++;
    size_t start = i;
    while (i < rest->n && rest->p[i] != ' ' && rest->p[i] != '\t')
        i++;
    struct span tok = { rest->p + start, i - start };
    rest->p += i;
    rest->n -= i;
    return tok;
}

/* Splits at the first `sep`: head before it, *rest after it (empty, not found, when absent). */
static struct span split_at(struct span *rest, char sep, bool *found)
{
    const char *q = rest->n ? memchr(rest->p, sep, rest->n) : NULL;
    struct span head = { rest->p, q ? (size_t)(q - rest->p) : rest->n };
    *found = q != NULL;
    rest->p += q ? head.n + 1 : head.n;
    rest->n -= q ? head.n + 1 : head.n;
    return head;
}

/* Decimal digits only (no sign, no spaces), at most `max`. */
static bool parse_uint(struct span s, uint64_t max, uint64_t *out)
{
    if (s.n == 0 || s.n > 20)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < s.n; i++) {
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
        unsigned d = (unsigned)(s.p[i] - '0');
        if (v > (max - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/" */
static bool ice_chars_ok(struct span s)
{
    for (size_t i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' || c == '/'))
            return false;
    }
    return true;
}

/* RFC 8866 §9 token-char (RFC 5888 identification-tag is a token): it goes back into our answer. */
static bool token_chars_ok(struct span s)
{
    for (size_t i = 0; i < s.n; i++) {
        unsigned char c = (unsigned char)s.p[i];
        if (c < 0x21 || c > 0x7e || c == '"' || c == '(' || c == ')' || c == ',' || c == '/' || c == ':' ||
            (c >= 0x3b && c <= 0x40) || c == '[' || c == '\\' || c == ']')
            return false;
    }
    return true;
}

static void span_copy(char *dst, struct span s)
{
    memcpy(dst, s.p, s.n);
    dst[s.n] = '\0';
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

static const struct {
    const char *name;
    size_t len;
} fp_hashes[] = {
    { "sha-1", 20 }, { "sha-224", 28 }, { "sha-256", 32 }, { "sha-384", 48 }, { "sha-512", 64 },
};

/* RFC 8122 §5: fingerprint-attribute = hash-func SP fingerprint, fingerprint = 2HEXDIG *(":" 2HEXDIG). */
static int parse_fingerprint(struct parser *ps, struct level *lv, struct span v)
{
    struct span hash = next_field(&v), hex = next_field(&v);
    if (hex.n == 0 || next_field(&v).n != 0)
        return fail(ps, "a=fingerprint is not \"<hash> <hex:hex:...>\"");
    size_t want = 0;
    for (size_t i = 0; i < sizeof fp_hashes / sizeof fp_hashes[0]; i++)
        if (span_eq_ci(hash, fp_hashes[i].name)) {
            want = fp_hashes[i].len;
            for (size_t k = 0; k <= hash.n; k++)
                lv->fp_hash[k] = k < hash.n ? lower(hash.p[k]) : '\0';
        }
    if (want == 0)
        return fail(ps, "a=fingerprint hash is not sha-1, sha-224, sha-256, sha-384 or sha-512");
    if (hex.n != 3 * want - 1)
        return fail(ps, "a=fingerprint: %s needs %zu colon-separated hex bytes", lv->fp_hash, want);
    for (size_t i = 0; i < want; i++) {
        int hi = hexval(hex.p[3 * i]), lo = hexval(hex.p[3 * i + 1]);
        if (hi < 0 || lo < 0 || (i + 1 < want && hex.p[3 * i + 2] != ':'))
            return fail(ps, "a=fingerprint is not colon-separated hex bytes");
        lv->fp[i] = (uint8_t)(hi << 4 | lo);
    }
    lv->fp_len = want;
    return 0;
}

/* m=<media> <port> <proto> <fmt> ... (RFC 8866 §5.14). */
static int parse_m_line(struct parser *ps, struct span v)
{
    ps->nm++;
    if (ps->nm > 1)
        return 0;                       /* refused after the walk, with the count */
    struct span media = next_field(&v), port = next_field(&v), proto = next_field(&v);
    uint64_t portnum;
    if (proto.n == 0 || !parse_uint(port, 65535, &portnum))
        return fail(ps, "m= line is not \"<media> <port> <proto> <fmt> ...\"");
    ps->audio = span_eq(media, "audio");
    ps->port_zero = portnum == 0;
    ps->proto_ok = span_eq_ci(proto, "UDP/TLS/RTP/SAVPF") || span_eq_ci(proto, "UDP/TLS/RTP/SAVP");
    struct span f = next_field(&v);
    if (f.n == 0)
        return fail(ps, "m= line is not \"<media> <port> <proto> <fmt> ...\"");
    for (; f.n > 0; f = next_field(&v)) {
        uint64_t pt;
        if (!ps->audio)
            break;                      /* video/application formats are not payload types */
        if (!parse_uint(f, PT_COUNT - 1, &pt))
            return fail(ps, "m=audio format is not a payload type 0..127");
        ps->fmt[pt] = 1;
    }
    return 0;
}

/* c=IN IP4|IP6 <address> (RFC 8866 §5.7). */
static int parse_c_line(struct parser *ps, struct level *lv, struct span v)
{
    struct span net = next_field(&v), type = next_field(&v), addr = next_field(&v);
    if (!span_eq(net, "IN") || addr.n == 0 || next_field(&v).n != 0)
        return fail(ps, "c= line is not \"IN IP4|IP6 <address>\"");
    if (!span_eq(type, "IP4") && !span_eq(type, "IP6"))
        return fail(ps, "c= address type is not IP4 or IP6");
    lv->has_c = true;
    lv->c_ipv6 = span_eq(type, "IP6");
    return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<channels>]: only the three codecs we speak, only
 * for a pt of the m-line's list; everything else (red, CN, telephone-event, ...) ignored. */
static void parse_rtpmap(struct parser *ps, struct span v)
{
    uint64_t pt;
    struct span ptf = next_field(&v), enc = next_field(&v);
    if (!parse_uint(ptf, PT_COUNT - 1, &pt) || !ps->fmt[pt] || next_field(&v).n != 0)
        return;
    if ((span_eq_ci(enc, "opus/48000/2")) && ps->pt_opus < 0)
        ps->pt_opus = (int)pt;
    else if ((span_eq_ci(enc, "PCMU/8000") || span_eq_ci(enc, "PCMU/8000/1")) && ps->pt_pcmu < 0)
        ps->pt_pcmu = (int)pt;
    else if ((span_eq_ci(enc, "PCMA/8000") || span_eq_ci(enc, "PCMA/8000/1")) && ps->pt_pcma < 0)
        ps->pt_pcma = (int)pt;
}

/* a=extmap:<id> <uri> (RFC 8285 §8) in the m-line's section: only abs-send-time, whose
 * stamps tell the network's delay from the sender's own lateness. IDs 1..14 only (the
 * one-byte form: the two-byte one needs a=extmap-allow-mixed in the answer); one with a
 * direction is declined (Chromium writes none for it; we answer it without one). Anything
 * else, and a session-level a=extmap (RFC 8285 allows either), is ignored. */
static void parse_extmap(struct parser *ps, struct span v)
{
    bool slash;
    struct span idf = next_field(&v), uri = next_field(&v);
    struct span num = split_at(&idf, '/', &slash);
    uint64_t id;
    if (!slash && parse_uint(num, RP_RTP_EXT_ONE_BYTE_ID_MAX, &id) && id > 0 && span_eq(uri, RP_SDP_ABS_SEND_TIME_URI) &&
        !ps->abs_send_time_id)
        ps->abs_send_time_id = (uint8_t)id;
}

static int parse_setup(struct parser *ps, struct level *lv, struct span v)
{
    if (span_eq(v, "actpass"))
        lv->setup = RP_SDP_SETUP_ACTPASS;
    else if (span_eq(v, "active"))
        lv->setup = RP_SDP_SETUP_ACTIVE;
    else if (span_eq(v, "passive"))
        lv->setup = RP_SDP_SETUP_PASSIVE;
    else
        return fail(ps, "a=setup is not actpass, active or passive");
    return 0;
}

static int parse_ice_cred(struct parser *ps, struct span v, struct span *dst, unsigned *count, size_t min,
                          size_t max, const char *name)
{
    if (++*count > 1)
        return fail(ps, "2 a=%s lines at one level", name);
    if (v.n < min || v.n > max || !ice_chars_ok(v))
        return fail(ps, "a=%s must be %zu..%zu characters of [A-Za-z0-9+/]", name, min, max);
    *dst = v;
    return 0;
}

/* Media-only attributes: mid, rtcp-mux, rtpmap, extmap, ssrc. Ignored at session level. */
static int parse_media_attr(struct parser *ps, struct span name, struct span v, bool has_v)
{
    if (span_eq(name, "mid")) {
        if (++ps->nmid > 1)
            return fail(ps, "2 a=mid lines");
        if (v.n == 0 || v.n > RP_SDP_MID_MAX || !token_chars_ok(v))
            return fail(ps, "a=mid must be 1..%d token characters", RP_SDP_MID_MAX);
        ps->mid = v;
    } else if (span_eq(name, "rtcp-mux") && !has_v) {
        ps->rtcp_mux = true;
    } else if (span_eq(name, "rtpmap")) {
        parse_rtpmap(ps, v);
    } else if (span_eq(name, "extmap")) {
        parse_extmap(ps, v);
    } else if (span_eq(name, "ssrc") && !ps->has_ssrc) {
        uint64_t ssrc;
        if (!parse_uint(next_field(&v), UINT32_MAX, &ssrc))
            return fail(ps, "a=ssrc does not start with an SSRC of 0..4294967295");
        ps->has_ssrc = true;
        ps->ssrc = (uint32_t)ssrc;
    }
    return 0;
}

static int parse_a_line(struct parser *ps, struct span line)
{
    bool media = ps->nm > 0, has_v;
    if (ps->nm > 1)
        return 0;
    struct level *lv = media ? &ps->media : &ps->sess;
    struct span v = line;
    struct span name = split_at(&v, ':', &has_v);
    for (int d = 0; d < 4; d++)
        if (span_eq(name, dirs[d]) && !has_v) {
            if (lv->dir != DIR_ABSENT)
                return fail(ps, "2 direction attributes at one level");
            lv->dir = d;
            return 0;
        }
    if (span_eq(name, "ice-ufrag"))
        return parse_ice_cred(ps, v, &lv->ufrag, &lv->nufrag, UFRAG_MIN, RP_SDP_UFRAG_MAX, "ice-ufrag");
    if (span_eq(name, "ice-pwd"))
        return parse_ice_cred(ps, v, &lv->pwd, &lv->npwd, PWD_MIN, RP_SDP_PWD_MAX, "ice-pwd");
    if (span_eq(name, "fingerprint")) {
        if (++lv->nfp > 1)
            return fail(ps, "2 a=fingerprint lines at one level: one certificate expected");
        return parse_fingerprint(ps, lv, v);
    }
    if (span_eq(name, "setup")) {
        if (lv->setup >= 0)
            return fail(ps, "2 a=setup lines at one level");
        return parse_setup(ps, lv, v);
    }
    return media ? parse_media_attr(ps, name, v, has_v) : 0;
}

/* One line, without its CRLF/LF. `<type>=<value>` with a lowercase letter type (RFC 8866 §5). */
static int parse_line(struct parser *ps, struct span line)
{
    if (memchr(line.p, '\r', line.n))
        return fail(ps, "a CR inside a line (lines end in CRLF or LF)");
    while (line.n > 0 && (line.p[line.n - 1] == ' ' || line.p[line.n - 1] == '\t'))
        line.n--;                       /* trailing blanks: some gateways add them */
    if (line.n < 2 || line.p[1] != '=' || line.p[0] < 'a' || line.p[0] > 'z')
        return fail(ps, "not a \"<letter>=<value>\" line");
    struct span v = { line.p + 2, line.n - 2 };
    if (!ps->seen_v) {
        ps->seen_v = true;
        return span_eq(line, "v=0") ? 0 : fail(ps, "not an SDP: the first line is not v=0");
    }
    switch (line.p[0]) {
    case 'v':
        return fail(ps, "a second v= line");
    case 'm':
        return parse_m_line(ps, v);
    case 'c':
        return ps->nm > 1 ? 0 : parse_c_line(ps, ps->nm ? &ps->media : &ps->sess, v);
    case 'a':
        return parse_a_line(ps, v);
    default:
        return 0;                       /* o, s, t, b, i, u, e, p, z, k, r: nothing we need */
    }
}

/* Cuts text into lines (LF, with an optional CR before it; the last line may lack it). */
static int walk_lines(struct parser *ps, const char *text, size_t len)
{
    size_t off = 0;
    while (off < len) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        struct span line = { text + off, end - off };
        ps->lineno++;
        if (line.n > 0 && line.p[line.n - 1] == '\r')
            line.n--;
        if (line.n > LINE_MAX_LEN)
            return fail(ps, "longer than %d bytes", LINE_MAX_LEN);
        if (line.n > 0 && parse_line(ps, line) < 0)
            return -1;
        off = nl ? end + 1 : len;
    }
    ps->lineno = 0;
    return 0;
}

/* The m-line itself: one, audio, active, DTLS-SRTP. */
static int check_m_line(struct parser *ps)
{
    if (ps->nm == 0)
        return fail(ps, "no m= line: the page offers one audio m-line");
    if (ps->nm > 1)
        return fail(ps, "%u m-lines: the page offers one audio m-line", ps->nm);
    if (!ps->audio)
        return fail(ps, "the m-line is not m=audio: the page offers one audio m-line");
    if (ps->port_zero)
        return fail(ps, "m=audio port 0 (rejected or bundle-only): the page offers one active audio m-line");
    if (!ps->proto_ok)
        return fail(ps, "m=audio proto is not UDP/TLS/RTP/SAVPF (DTLS-SRTP)");
    if (!ps->media.has_c && !ps->sess.has_c)
        return fail(ps, "no c= line");
    return 0;
}

/* Media level wins over session level (RFC 8839 §5.4, RFC 8122 §5, RFC 4145 §4). */
static int resolve(struct parser *ps, struct rp_sdp_offer *out)
{
    const struct level *m = &ps->media, *s = &ps->sess;
    int dir = m->dir != DIR_ABSENT ? m->dir : s->dir != DIR_ABSENT ? s->dir : DIR_SENDRECV;
    if (dir != DIR_SENDRECV)
        return fail(ps, "a=%s: the page must send and receive (a=sendrecv)", dirs[dir]);
    const struct span *ufrag = m->nufrag ? &m->ufrag : s->nufrag ? &s->ufrag : NULL;
    const struct span *pwd = m->npwd ? &m->pwd : s->npwd ? &s->pwd : NULL;
    if (!ufrag)
        return fail(ps, "no a=ice-ufrag");
    if (!pwd)
        return fail(ps, "no a=ice-pwd");
    const struct level *fp = m->nfp ? m : s->nfp ? s : NULL;
    if (!fp)
        return fail(ps, "no a=fingerprint");
    int setup = m->setup >= 0 ? m->setup : s->setup >= 0 ? s->setup : RP_SDP_SETUP_ACTPASS;
    if (setup == RP_SDP_SETUP_PASSIVE)
        return fail(ps, "a=setup:passive: we answer passive, the offer must be actpass or active");
    if (!ps->rtcp_mux)
        return fail(ps, "no a=rtcp-mux: RTP and RTCP must share the port");
    if (ps->pt_opus < 0 && ps->pt_pcmu < 0 && ps->pt_pcma < 0)
        return fail(ps, "no opus/48000/2, PCMU/8000 or PCMA/8000 in the m-line's formats");
    span_copy(out->ice_ufrag, *ufrag);
    span_copy(out->ice_pwd, *pwd);
    memcpy(out->fp_hash, fp->fp_hash, sizeof out->fp_hash);
    memcpy(out->fp, fp->fp, fp->fp_len);
    out->fp_len = fp->fp_len;
    out->setup = (enum rp_sdp_setup)setup;
    span_copy(out->mid, ps->nmid ? ps->mid : (struct span){ "", 0 });
    out->rtcp_mux = true;
    out->pt_opus = ps->pt_opus;
    out->pt_pcmu = ps->pt_pcmu;
    out->pt_pcma = ps->pt_pcma;
    out->has_ssrc = ps->has_ssrc;
    out->ssrc = ps->ssrc;
    out->abs_send_time_id = ps->abs_send_time_id;
    out->ipv6 = m->has_c ? m->c_ipv6 : s->c_ipv6;
    return 0;
}

int rp_sdp_parse_offer(const char *text, size_t len, struct rp_sdp_offer *out, char *err, size_t errlen)
{
    struct parser ps;
    memset(&ps, 0, sizeof ps);
    ps.sess.setup = ps.media.setup = -1;
    ps.sess.dir = ps.media.dir = DIR_ABSENT;
    ps.pt_opus = ps.pt_pcmu = ps.pt_pcma = -1;
    ps.err = err;
    ps.errlen = errlen;
    if (errlen > 0)
        err[0] = '\0';
    memset(out, 0, sizeof *out);
    out->pt_opus = out->pt_pcmu = out->pt_pcma = -1;
    if (text == NULL || len == 0)
        return fail(&ps, "empty SDP");
    if (len > RP_SDP_MAX_LEN)
        return fail(&ps, "SDP longer than %d bytes", RP_SDP_MAX_LEN);
    if (memchr(text, '\0', len))
        return fail(&ps, "a NUL byte in the SDP");
    /* resolve() writes *out only once every check has passed: a refusal leaves it as set above */
    if (walk_lines(&ps, text, len) < 0 || check_m_line(&ps) < 0 || resolve(&ps, out) < 0)
        return -1;
    return 0;
}

void rp_sdp_format_fingerprint(const uint8_t *fp, size_t n, char *out, size_t cap)
{
    static const char hex[] = "0123456789ABCDEF";
    if (cap == 0)
        return;
    out[0] = '\0';
    if (n == 0 || cap < 3 * n)
        return;
    for (size_t i = 0; i < n; i++) {
        out[3 * i] = hex[fp[i] >> 4];
        out[3 * i + 1] = hex[fp[i] & 0x0f];
        out[3 * i + 2] = i + 1 < n ? ':' : '\0';
    }
}

struct writer {
    char *out;
    size_t cap, len;
    bool full;
};

__attribute__((format(printf, 2, 3))) static void put(struct writer *w, const char *fmt, ...)
{
    if (w->full)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->out + w->len, w->cap - w->len, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= w->cap - w->len)
        w->full = true;
    else
        w->len += (size_t)n;
}

/* A string that goes into the answer: non-empty unless allowed, printable, no space. */
static bool field_ok(const char *s, bool may_be_empty)
{
    if (s == NULL || (!may_be_empty && s[0] == '\0'))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static bool answer_ok(const struct rp_sdp_answer *a)
{
    return field_ok(a->ice_ufrag, false) && field_ok(a->ice_pwd, false) && field_ok(a->mid, true) &&
           field_ok(a->encoding, false) && field_ok(a->cname, false) && field_ok(a->addr, false) &&
           a->pt >= 0 && a->pt < PT_COUNT && a->clock_rate > 0 && a->channels > 0 && a->ptime_ms > 0 &&
           a->abs_send_time_id <= RP_RTP_EXT_ONE_BYTE_ID_MAX;
}

size_t rp_sdp_write_answer(const struct rp_sdp_answer *a, char *out, size_t cap)
{
    struct writer w = { out, cap, 0, cap == 0 };
    if (cap > 0)
        out[0] = '\0';
    if (!answer_ok(a))
        return 0;
    char fp[3 * sizeof a->fp_sha256];
    rp_sdp_format_fingerprint(a->fp_sha256, sizeof a->fp_sha256, fp, sizeof fp);
    const char *ipver = strchr(a->addr, ':') ? "IP6" : "IP4";
    bool mid = a->mid[0] != '\0';
    /* JSEP §5.2.1: the top bit clear; Firefox's parser refuses an o= session id of 2^63 or more */
    put(&w, "v=0\r\no=- %" PRIu64 " 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n", a->sess_id & (UINT64_MAX >> 1));
    if (mid)
        put(&w, "a=group:BUNDLE %s\r\n", a->mid);
    put(&w, "a=ice-lite\r\na=msid-semantic: WMS\r\n");
    put(&w, "m=audio %u UDP/TLS/RTP/SAVPF %d\r\nc=IN %s %s\r\n", (unsigned)a->port, a->pt, ipver, a->addr);
    if (mid)
        put(&w, "a=mid:%s\r\n", a->mid);
    put(&w, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\n", a->ice_ufrag, a->ice_pwd, fp);
    put(&w, "a=setup:passive\r\na=sendrecv\r\na=rtcp-mux\r\n");
    put(&w, "a=rtpmap:%d %s/%u", a->pt, a->encoding, a->clock_rate);
    if (a->channels > 1)
        put(&w, "/%u", a->channels);
    put(&w, "\r\n");
    if (strcmp(a->encoding, "opus") == 0)
        put(&w, "a=fmtp:%d minptime=10;useinbandfec=0\r\n", a->pt);
    if (a->abs_send_time_id)
        put(&w, "a=extmap:%u %s\r\n", (unsigned)a->abs_send_time_id, RP_SDP_ABS_SEND_TIME_URI);
    put(&w, "a=ptime:%u\r\na=ssrc:%" PRIu32 " cname:%s\r\n", a->ptime_ms, a->ssrc, a->cname);
    put(&w, "a=candidate:1 1 udp 2130706431 %s %u typ host\r\na=end-of-candidates\r\n", a->addr,
        (unsigned)a->port);
    if (w.full) {
        if (cap > 0)
            out[0] = '\0';
        return 0;
    }
    return w.len;
}
