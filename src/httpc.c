/* The control client on libcurl (why: docs/control-client.md). Every failure
 * becomes one line that names the cause and what to do about it: decided
 * first (rp_httpc_classify), then put into words (cause_words[]). */
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/x509.h>

#include "httpc.h"
#include "netaddr.h"
#include "timeutil.h"

struct body {
    char  *buf;
    size_t len, cap;
    bool   too_large;
    bool   nomem;       /* realloc failed */
};

struct rp_httpc {
    CURL    *h;
    CURLM   *m;                 /* runs every request; its cache keeps the connection */
    int      watch_fd;          /* read while a request waits (-1: none) */
    bool   (*on_watch)(void *arg);
    void    *watch_arg;
    struct rp_httpc_url u;
    char     base[600];         /* scheme://hostport/prefix */
    char    *auth;              /* "Authorization: Bearer TOKEN" */
    char    *cacert;
    char    *proxy;             /* --proxy, or NULL */
    bool     insecure;
    unsigned timeout_ms;
    uint64_t deadline_ns;       /* 0 = none */
    /* The first connection, as told after the first completed request. */
    bool     connected;
    bool     proxied;           /* it went through a CONNECT tunnel */
    bool     have_peer;         /* direct, and curl told its address: */
    struct sockaddr_storage peer;
    struct curl_slist *pin;     /* CURLOPT_RESOLVE: later connections go to `peer` too */
    struct body body;
    char     errbuf[CURL_ERROR_SIZE];
};

/* ---- URL ---- */

static int parse_authority(const char *url, const char *rest, size_t authlen, struct rp_httpc_url *u, char *err,
                           size_t errlen)
{
    const char *portsep = NULL, *hstart = rest;
    size_t hlen;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', authlen);
        if (!close) {
            snprintf(err, errlen, "bad IPv6 address in --server \"%s\"", url);
            return -1;
        }
        hstart = rest + 1;
        hlen = (size_t)(close - rest - 1);
        if ((size_t)(close + 1 - rest) < authlen) {
            if (close[1] != ':') {
                snprintf(err, errlen, "bad IPv6 address in --server \"%s\"", url);
                return -1;
            }
            portsep = close + 1;
        }
    } else {
        portsep = memchr(rest, ':', authlen);
        hlen = portsep ? (size_t)(portsep - rest) : authlen;
    }
    if (hlen == 0 || hlen >= sizeof u->host || memchr(hstart, '@', hlen)) {
        snprintf(err, errlen, "no host in --server \"%s\"", url);
        return -1;
    }
    memcpy(u->host, hstart, hlen);
    u->host[hlen] = '\0';
    if (portsep) {
        char *end;
        unsigned long p = strtoul(portsep + 1, &end, 10);
        if (end != rest + authlen || end == portsep + 1 || p == 0 || p > 65535) {
            snprintf(err, errlen, "bad port in --server \"%s\"", url);
            return -1;
        }
        u->port = (unsigned)p;
    }
    return 0;
}

int rp_httpc_parse_url(const char *url, struct rp_httpc_url *u, char *err, size_t errlen)
{
    const char *rest;
    /* Messages quote the URL without a user:password@ (they reach logs and Nagios). */
    char shown[512];
    rp_httpc_strip_userinfo(url, shown, sizeof shown);
    memset(u, 0, sizeof *u);
    if (strncasecmp(url, "https://", 8) == 0) {
        u->tls = true;
        rest = url + 8;
        u->port = 443;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        rest = url + 7;
        u->port = 80;
    } else {
        snprintf(err, errlen, "--server must start with https:// or http:// (got \"%s\")", shown);
        return -1;
    }
    /* Nothing a request line or header could be built from. */
    for (const char *p = url; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f || *p == '?' || *p == '#') {
            snprintf(err, errlen, "--server must be a plain URL without spaces, query or fragment");
            return -1;
        }
    }
    const char *slash = strchr(rest, '/');
    size_t authlen = slash ? (size_t)(slash - rest) : strlen(rest);
    if (memchr(rest, '@', authlen)) {
        snprintf(err, errlen, "--server must not hold user:password@ (the bearer token authenticates): \"%s\"", shown);
        return -1;
    }
    if (parse_authority(shown, rest, authlen, u, err, errlen) < 0)
        return -1;
    if (slash && strlen(slash) >= sizeof u->prefix) {
        snprintf(err, errlen, "--server path too long");
        return -1;
    }
    snprintf(u->prefix, sizeof u->prefix, "%s", slash ? slash : "");
    size_t pl = strlen(u->prefix);
    while (pl > 0 && u->prefix[pl - 1] == '/')
        u->prefix[--pl] = '\0';
    snprintf(u->hostport, sizeof u->hostport, strchr(u->host, ':') ? "[%s]:%u" : "%s:%u", u->host, u->port);
    return 0;
}

/* ---- Causes and their words ---- */

enum rp_httpc_cause rp_httpc_classify(const struct rp_httpc_facts *f)
{
    const char *eb = f->errbuf ? f->errbuf : "";
    if (f->body_nomem)
        return RP_HTTPC_NOMEM;
    if (f->body_too_large || f->rc == CURLE_FILESIZE_EXCEEDED)
        return RP_HTTPC_TOO_LARGE;
    if (f->connect_code >= 300 && f->rc != CURLE_OK)
        return RP_HTTPC_PROXY_REFUSED;
    switch (f->rc) {
    case CURLE_OK: return RP_HTTPC_OK;
    case CURLE_OPERATION_TIMEDOUT: return RP_HTTPC_TIMEOUT;
    case CURLE_COULDNT_RESOLVE_HOST: return RP_HTTPC_RESOLVE;
    case CURLE_COULDNT_RESOLVE_PROXY: return RP_HTTPC_PROXY_RESOLVE;
    case CURLE_COULDNT_CONNECT:
        if (f->at_proxy)
            return RP_HTTPC_PROXY_UNREACHABLE;
        return f->os_errno == ECONNREFUSED ? RP_HTTPC_REFUSED : RP_HTTPC_UNREACHABLE;
    case CURLE_PEER_FAILED_VERIFICATION:
        /* curl checks the name itself after OpenSSL accepted the chain and
         * then leaves "unspecified" as the verify result: its text tells. */
        if (f->verify_result == X509_V_ERR_HOSTNAME_MISMATCH || f->verify_result == X509_V_ERR_IP_ADDRESS_MISMATCH ||
            ((f->verify_result == X509_V_OK || f->verify_result == X509_V_ERR_UNSPECIFIED) &&
             strstr(eb, "target host name")))
            return RP_HTTPC_CERT_MISMATCH;
        return RP_HTTPC_CERT_UNTRUSTED;
#if LIBCURL_VERSION_NUM < 0x073e00
    /* Before 7.62 an untrusted chain had its own code (60; 51 was the name). */
    case CURLE_SSL_CACERT: return RP_HTTPC_CERT_UNTRUSTED;
#endif
    case CURLE_SSL_CACERT_BADFILE: return RP_HTTPC_CACERT_FILE;
    case CURLE_SSL_CONNECT_ERROR:
        return f->verify_result != 0 ? RP_HTTPC_CERT_UNTRUSTED : RP_HTTPC_TLS;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_UNSUPPORTED_PROTOCOL: /* "Received HTTP/0.9": a TLS port asked in http:// */
    case CURLE_BAD_CONTENT_ENCODING:
        return RP_HTTPC_NOT_HTTP;
    case CURLE_RECV_ERROR:
        /* Bad chunking and a giant header end here too; curl's text tells. */
        if (strstr(eb, "chunk") || strstr(eb, "header") || strstr(eb, "Header"))
            return RP_HTTPC_NOT_HTTP;
        return RP_HTTPC_CLOSED;
    case CURLE_GOT_NOTHING:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
        return RP_HTTPC_CLOSED;
    case CURLE_OUT_OF_MEMORY:
        /* curl's header buffer has a size limit (100 KB a line) and says "out
         * of memory" when an answer's header passes it. */
        return f->response_code > 0 ? RP_HTTPC_NOT_HTTP : RP_HTTPC_NOMEM;
    default: return RP_HTTPC_OTHER;
    }
}

/* Who the message is about, and what it says around the detail. */
enum target { T_SERVER, T_HOST, T_PROXY, T_NONE };

static const struct {
    const char *name;    /* rp_httpc_cause_name() */
    enum target target;
    const char *lead;    /* "<lead> <target>" */
    const char *hint;    /* after ": <detail>" */
} cause_words[RP_HTTPC_NCAUSES] = {
    [RP_HTTPC_OK] = { "ok", T_SERVER, "no error with", "" },
    [RP_HTTPC_TIMEOUT] = { "timed out", T_SERVER, "timed out talking to",
                           " (no complete answer before the --timeout deadline: firewall, wrong host or a stalled "
                           "server?)" },
    [RP_HTTPC_RESOLVE] = { "cannot resolve", T_HOST, "cannot resolve", " (is the host name in --server right?)" },
    [RP_HTTPC_REFUSED] = { "connection refused", T_SERVER, "connection refused by",
                           " (is rtpprobed running and listening there?)" },
    [RP_HTTPC_UNREACHABLE] = { "unreachable", T_SERVER, "cannot reach the daemon at", " (firewall? wrong host?)" },
    [RP_HTTPC_PROXY_RESOLVE] = { "proxy unresolvable", T_PROXY, "cannot resolve the proxy",
                                 " (check --proxy or https_proxy)" },
    [RP_HTTPC_PROXY_UNREACHABLE] = { "proxy unreachable", T_PROXY, "cannot reach the proxy",
                                     " (check --proxy or https_proxy; no_proxy lists hosts to reach directly)" },
    [RP_HTTPC_PROXY_REFUSED] = { "proxy refused", T_PROXY, "the proxy", "" },
    [RP_HTTPC_CERT_MISMATCH] = { "certificate name mismatch", T_SERVER, "wrong certificate at", "" },
    [RP_HTTPC_CERT_UNTRUSTED] = { "certificate not trusted", T_SERVER, "cannot verify the daemon's certificate at",
                                  "" },
    [RP_HTTPC_CACERT_FILE] = { "bad --cacert", T_NONE, "cannot load CA certificates from --cacert", "" },
    [RP_HTTPC_TLS] = { "TLS handshake failed", T_SERVER, "TLS handshake with",
                       " (is it an https:// port? a plain HTTP port needs http://)" },
    [RP_HTTPC_NOT_HTTP] = { "not valid HTTP", T_SERVER, "the answer is not valid HTTP from",
                            " (is it the right port and scheme?)" },
    [RP_HTTPC_CLOSED] = { "connection closed", T_SERVER, "connection closed by",
                          " (is it the right port and scheme?)" },
    [RP_HTTPC_TOO_LARGE] = { "answer too large", T_SERVER, "answer too large from",
                             " (over 1 MiB: not rtpprobed?)" },
    [RP_HTTPC_NOMEM] = { "out of memory", T_NONE, "out of memory", "" },
    [RP_HTTPC_OTHER] = { "request failed", T_SERVER, "request to", "" },
};

const char *rp_httpc_cause_name(enum rp_httpc_cause cause)
{
    return cause < RP_HTTPC_NCAUSES ? cause_words[cause].name : "?";
}

/* ---- Verbose trace ---- */

size_t rp_httpc_clean_text(char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            s[i] = '?';
            n++;
        }
    }
    return n;
}

size_t rp_httpc_strip_userinfo(const char *url, char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    const char *auth = url, *sep = strstr(url, "://");
    if (sep && !memchr(url, '/', (size_t)(sep - url)))
        auth = sep + 3;
    size_t authlen = strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < auth + authlen; p++)
        if (*p == '@')
            at = p; /* the last one: a password may hold '@' */
    int n = at ? snprintf(out, outlen, "%.*s%s", (int)(auth - url), url, at + 1) : snprintf(out, outlen, "%s", url);
    return n < 0 ? 0 : (size_t)n < outlen ? (size_t)n : outlen - 1;
}

/* Where `at` ('@' in line[0..at]) ends a URL's user:password: the start of
 * the user part, or SIZE_MAX when it is no such thing. */
static size_t userinfo_start(const char *line, size_t at)
{
    size_t start = at;
    while (start > 0 && !strchr(" '\"<>(=,", line[start - 1]))
        start--;
    for (size_t i = start; i + 3 <= at; i++)
        if (memcmp(line + i, "://", 3) == 0)
            return i + 3 < at && !memchr(line + i + 3, '/', at - i - 3) ? i + 3 : SIZE_MAX;
    /* No scheme (curl takes "user:pass@host:port" as a proxy too): a colon tells. */
    return at > start && memchr(line + start, ':', at - start) && !memchr(line + start, '/', at - start) ? start
                                                                                                         : SIZE_MAX;
}

/* Copies line[0..len) into out with every URL's user:password as "[redacted]"
 * (curl's "Uses proxy env variable https_proxy == 'http://u:p@h:3128'"). */
static size_t redact_userinfo(const char *line, size_t len, char *out, size_t outlen)
{
    size_t w = 0, from = 0;
    for (size_t i = 0; i <= len && w + 1 < outlen; i++) {
        size_t start = i < len && line[i] == '@' ? userinfo_start(line, i) : SIZE_MAX;
        if (i < len && start != SIZE_MAX && start < from) {
            from = i; /* a later '@' of the password redacted already ("u:pa@ss@host") */
            continue;
        }
        if (i < len && start == SIZE_MAX)
            continue;
        size_t upto = i < len ? start : len;
        size_t n = upto - from < outlen - 1 - w ? upto - from : outlen - 1 - w;
        memcpy(out + w, line + from, n);
        w += n;
        if (i < len) {
            int m = snprintf(out + w, outlen - w, "[redacted]");
            w += m > 0 && (size_t)m < outlen - w ? (size_t)m : outlen - 1 - w;
            from = i;
        }
    }
    out[w] = '\0';
    return w;
}

size_t rp_httpc_redact_line(const char *line, size_t len, char *out, size_t outlen)
{
    static const char *const secret[] = { "authorization:", "proxy-authorization:" };
    if (outlen == 0)
        return 0;
    size_t keep = len;
    for (size_t i = 0; i < sizeof secret / sizeof secret[0]; i++) {
        size_t n = strlen(secret[i]);
        if (len < n || strncasecmp(line, secret[i], n) != 0)
            continue;
        /* Keep "Authorization: Bearer", drop what follows the scheme (all
         * of a value that has no scheme). */
        size_t p = n;
        while (p < len && line[p] == ' ')
            p++;
        size_t scheme = p;
        while (p < len && line[p] != ' ')
            p++;
        keep = p < len ? p : scheme > n ? scheme - 1 : n;
        break;
    }
    size_t w = redact_userinfo(line, keep, out, outlen);
    if (keep < len) {
        int m = snprintf(out + w, outlen - w, " [redacted]");
        w += m > 0 && (size_t)m < outlen - w ? (size_t)m : outlen - 1 - w;
    }
    out[w] = '\0';
    return w;
}

static int debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
    (void)h;
    (void)arg;
    const char *mark;
    switch (type) {
    case CURLINFO_TEXT: mark = "*"; break;
    case CURLINFO_HEADER_IN: mark = "<"; break;
    case CURLINFO_HEADER_OUT: mark = ">"; break;
    default: return 0; /* bodies: the answer carries the session's keys */
    }
    while (size > 0) {
        const char *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) + 1 : size, len = n;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r'))
            len--;
        char line[1024];
        /* The server's header lines as they came: no terminal escapes from it. */
        rp_httpc_clean_text(line, rp_httpc_redact_line(data, len, line, sizeof line));
        if (len > 0)
            fprintf(stderr, "rtpprobe: %s %s\n", mark, line);
        data += n;
        size -= n;
    }
    return 0;
}

/* ---- The handle ---- */

static size_t write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
    struct body *b = arg;
    size_t n = size * nmemb;
    if (n > RP_HTTPC_MAX_BODY - b->len) {
        b->too_large = true;
        return 0; /* CURLE_WRITE_ERROR */
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *grown = realloc(b->buf, cap);
        if (!grown) {
            b->nomem = true;
            return 0; /* CURLE_WRITE_ERROR */
        }
        b->buf = grown;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    b->buf[b->len] = '\0';
    return n;
}

static char *dup_or_null(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

/* What stays the same for every request. */
static int set_fixed_options(struct rp_httpc *c, bool verbose)
{
    CURL *h = c->h;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf);
    bad |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500 /* 7.85: CURLOPT_PROTOCOLS is deprecated there */
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    bad |= curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
#if LIBCURL_VERSION_NUM >= 0x074000 /* 7.64; the default from 7.66, earlier ones take any bytes as a body */
    bad |= curl_easy_setopt(h, CURLOPT_HTTP09_ALLOWED, 0L);
#endif
    bad |= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    bad |= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    bad |= curl_easy_setopt(h, CURLOPT_USERAGENT, "rtpprobe/" RP_VERSION);
    /* Our headers (the token) never go to the proxy in its CONNECT. */
    bad |= curl_easy_setopt(h, CURLOPT_HEADEROPT, (long)CURLHEADER_SEPARATE);
    bad |= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, c->insecure ? 0L : 1L);
    bad |= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, c->insecure ? 0L : 2L);
    bad |= curl_easy_setopt(h, CURLOPT_CERTINFO, 1L); /* names for a mismatch message */
    if (c->cacert)
        bad |= curl_easy_setopt(h, CURLOPT_CAINFO, c->cacert);
    /* Without CURLOPT_PROXY curl reads https_proxy, no_proxy... itself. */
    if (c->proxy)
        bad |= curl_easy_setopt(h, CURLOPT_PROXY, c->proxy);
    /* A CONNECT tunnel for http:// too: a forward proxy would see the request,
     * token included. An HTTP proxy then answers a CONNECT; a SOCKS one (from
     * all_proxy) does not, but curl's peer port is then the proxy's. */
    bad |= curl_easy_setopt(h, CURLOPT_HTTPPROXYTUNNEL, 1L);
    bad |= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)RP_HTTPC_MAX_BODY);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
    bad |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->body);
    bad |= curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
    if (verbose) {
        bad |= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, debug_cb);
        bad |= curl_easy_setopt(h, CURLOPT_VERBOSE, 1L);
    }
    return bad ? -1 : 0;
}

struct rp_httpc *rp_httpc_new(const char *url, const struct rp_httpc_opts *opts, char *err, size_t errlen)
{
    struct rp_httpc *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (rp_httpc_parse_url(url, &c->u, err, errlen) < 0)
        goto fail;
    snprintf(c->base, sizeof c->base, "%s://%s%s", c->u.tls ? "https" : "http", c->u.hostport, c->u.prefix);
    bool ok = true;
    c->cacert = dup_or_null(opts->cacert, &ok);
    c->proxy = dup_or_null(opts->proxy, &ok);
    c->insecure = opts->insecure;
    c->timeout_ms = opts->timeout_ms;
    if (opts->token) {
        size_t n = strlen("Authorization: Bearer ") + strlen(opts->token) + 1;
        c->auth = malloc(n);
        if (c->auth)
            snprintf(c->auth, n, "Authorization: Bearer %s", opts->token);
        else
            ok = false;
    }
    c->watch_fd = -1;
    c->h = ok ? curl_easy_init() : NULL;
    c->m = c->h ? curl_multi_init() : NULL;
    if (!c->m) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (set_fixed_options(c, opts->verbose) < 0) {
        snprintf(err, errlen, "libcurl lacks an option the probe needs (libcurl %s; 7.61 or later)",
                 curl_version_info(CURLVERSION_NOW)->version);
        goto fail;
    }
    return c;
fail:
    rp_httpc_free(c);
    return NULL;
}

void rp_httpc_free(struct rp_httpc *c)
{
    if (!c)
        return;
    if (c->h)
        curl_easy_cleanup(c->h);
    if (c->m)
        curl_multi_cleanup(c->m);
    curl_slist_free_all(c->pin);
    if (c->auth) {
        OPENSSL_cleanse(c->auth, strlen(c->auth));
        free(c->auth);
    }
    if (c->body.buf)
        OPENSSL_cleanse(c->body.buf, c->body.cap); /* the session's keys */
    free(c->body.buf);
    free(c->cacert);
    free(c->proxy);
    free(c);
}

void rp_httpc_watch(struct rp_httpc *c, int fd, bool (*on_readable)(void *arg), void *arg)
{
    c->watch_fd = on_readable ? fd : -1;
    c->on_watch = on_readable;
    c->watch_arg = arg;
}

void rp_httpc_set_deadline(struct rp_httpc *c, uint64_t deadline_mono_ns)
{
    c->deadline_ns = deadline_mono_ns;
}

uint64_t rp_httpc_time_left(const struct rp_httpc *c)
{
    if (!c->deadline_ns)
        return UINT64_MAX;
    uint64_t now = rp_monotonic_ns();
    return now < c->deadline_ns ? c->deadline_ns - now : 0;
}

const char *rp_httpc_host(const struct rp_httpc *c)
{
    return c->u.host;
}

const char *rp_httpc_base(const struct rp_httpc *c)
{
    return c->base;
}

/* ---- Words for a failure ---- */

/* The proxy curl was given or (probably) took from the environment, as set. */
static const char *proxy_raw(const struct rp_httpc *c)
{
    static const char *const https_env[] = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
    static const char *const http_env[] = { "http_proxy", "all_proxy", "ALL_PROXY" };
    if (c->proxy) /* "" = none, not even the environment's */
        return c->proxy[0] ? c->proxy : NULL;
    const char *const *env = c->u.tls ? https_env : http_env;
    size_t n = c->u.tls ? sizeof https_env / sizeof *https_env : sizeof http_env / sizeof *http_env;
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(env[i]);
        if (v && v[0])
            return v;
    }
    return NULL;
}

/* The same for messages: without its user:password. NULL if none. */
static const char *proxy_name(const struct rp_httpc *c, char *buf, size_t buflen)
{
    const char *raw = proxy_raw(c);
    if (!raw)
        return NULL;
    rp_httpc_strip_userinfo(raw, buf, buflen);
    return buf;
}

/* A refused CONNECT; 407 = the proxy wants (other) credentials (tinyproxy
 * answers wrong ones with 401). */
static void proxy_refusal(const struct rp_httpc *c, long code, char *err, size_t errlen)
{
    char buf[512];
    const char *proxy = proxy_name(c, buf, sizeof buf), *raw = proxy_raw(c);
    const char *name = proxy ? proxy : "(from the environment)";
    bool auth = code == 407 || code == 401, had_user = raw && proxy && strlen(raw) != strlen(proxy);
    if (auth && had_user)
        snprintf(err, errlen, "the proxy %s rejected the user:password in its URL to connect to %s (HTTP %ld)", name,
                 c->u.hostport, code);
    else if (auth)
        snprintf(err, errlen, "the proxy %s asks for authentication to connect to %s (HTTP %ld): put user:password "
                 "in the proxy URL (http://USER:PASSWORD@HOST:PORT)", name, c->u.hostport, code);
    else
        snprintf(err, errlen, "the proxy %s refused to connect to %s (HTTP %ld)", name, c->u.hostport, code);
}

/* The leaf certificate's names as curl's CERTINFO lists them: the subject
 * alternative names (DNS and IP), else the subject's CN. */
static void cert_names(CURL *h, char *out, size_t outlen)
{
    struct curl_certinfo *ci = NULL;
    out[0] = '\0';
    if (curl_easy_getinfo(h, CURLINFO_CERTINFO, &ci) != CURLE_OK || !ci || ci->num_of_certs < 1)
        return;
    const char *san = NULL, *cn = NULL;
    for (struct curl_slist *s = ci->certinfo[0]; s; s = s->next) {
        if (strncmp(s->data, "X509v3 Subject Alternative Name:", 32) == 0)
            san = s->data + 32;
        else if (strncmp(s->data, "Subject:", 8) == 0)
            cn = s->data + 8;
    }
    size_t w = 0;
    for (const char *p = san; p && *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t n = strcspn(p, ",");
        const char *v = strncmp(p, "DNS:", 4) == 0 ? p + 4 : strncmp(p, "IP Address:", 11) == 0 ? p + 11 : NULL;
        if (v && w < outlen) {
            int m = snprintf(out + w, outlen - w, "%s%.*s", w ? ", " : "", (int)(n - (size_t)(v - p)), v);
            w += m > 0 ? (size_t)m : 0;
        }
        p += n;
    }
    const char *at = cn ? strstr(cn, "CN = ") : NULL;
    size_t skip = 5;
    if (cn && !at) {
        at = strstr(cn, "CN=");
        skip = 3;
    }
    if (w == 0 && at)
        snprintf(out, outlen, "%.*s", (int)strcspn(at + skip, ",/\n"), at + skip);
}

/* The words for a certificate problem: the names, or the CA to give. */
static void cert_detail(struct rp_httpc *c, enum rp_httpc_cause cause, long verify, char *err, size_t errlen)
{
    if (cause == RP_HTTPC_CERT_MISMATCH) {
        char names[512];
        cert_names(c->h, names, sizeof names);
        snprintf(err, errlen,
                 "the daemon's certificate for \"%s\" does not match \"%s\" (at %s): put a name the certificate "
                 "holds in --server, or give the daemon a certificate for \"%s\"",
                 names[0] ? names : "unknown names", c->u.host, c->u.hostport, c->u.host);
        return;
    }
    bool self = verify == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || verify == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN;
    const char *why = verify ? X509_verify_cert_error_string(verify) : c->errbuf;
    if (c->cacert)
        snprintf(err, errlen, "cannot verify the daemon's certificate at %s: %s (is --cacert %s the CA that signed "
                 "it?)", c->u.hostport, why, c->cacert);
    else
        snprintf(err, errlen, "cannot verify the daemon's certificate at %s: %s (give its CA with --cacert FILE%s)",
                 c->u.hostport, why, self ? ", or --insecure for a self-signed test daemon" : "");
}

static void describe(struct rp_httpc *c, enum rp_httpc_cause cause, const struct rp_httpc_facts *f, char *err,
                     size_t errlen)
{
    char buf[512];
    const char *proxy = proxy_name(c, buf, sizeof buf);
    if (cause == RP_HTTPC_CERT_MISMATCH || cause == RP_HTTPC_CERT_UNTRUSTED) {
        cert_detail(c, cause, f->verify_result, err, errlen);
        return;
    }
    if (cause == RP_HTTPC_PROXY_REFUSED) {
        proxy_refusal(c, f->connect_code, err, errlen);
        return;
    }
    const char *target = "";
    switch (cause_words[cause].target) {
    case T_SERVER: target = c->u.hostport; break;
    case T_HOST: target = c->u.host; break;
    case T_PROXY: target = proxy ? proxy : "(from the environment)"; break;
    case T_NONE: break;
    }
    char detail[CURL_ERROR_SIZE + 64] = "";
    if ((cause == RP_HTTPC_UNREACHABLE || cause == RP_HTTPC_PROXY_UNREACHABLE) && f->os_errno)
        snprintf(detail, sizeof detail, "%s", strerror((int)f->os_errno));
    else if (cause == RP_HTTPC_CACERT_FILE)
        snprintf(detail, sizeof detail, "%s", c->cacert ? c->cacert : "");
    else if (cause == RP_HTTPC_TLS || cause == RP_HTTPC_NOT_HTTP || cause == RP_HTTPC_CLOSED ||
             cause == RP_HTTPC_OTHER || cause == RP_HTTPC_PROXY_UNREACHABLE || cause == RP_HTTPC_UNREACHABLE)
        snprintf(detail, sizeof detail, "%s",
                 f->errbuf[0]                      ? f->errbuf
                 : f->rc == CURLE_OUT_OF_MEMORY ? "a header larger than curl takes (100 KB)"
                                                   : curl_easy_strerror((CURLcode)f->rc));
    snprintf(err, errlen, "%s%s%s%s%s%s", cause_words[cause].lead, target[0] ? " " : "", target,
             detail[0] ? ": " : "", detail, cause_words[cause].hint);
}

/* The proxy URL's host and port (curl's defaults: 1080, 443 for https://). */
static int proxy_hostport(const char *url, char *host, size_t hostlen, unsigned *port)
{
    char buf[512];
    rp_httpc_strip_userinfo(url, buf, sizeof buf);
    const char *p = buf, *sep = strstr(buf, "://");
    *port = 1080;
    if (sep) {
        if (strncasecmp(buf, "https://", 8) == 0)
            *port = 443;
        p = sep + 3;
    }
    size_t n;
    if (*p == '[') {
        n = strcspn(++p, "]");
        if (p[n] != ']')
            return -1;
    } else {
        n = strcspn(p, ":/");
    }
    if (n == 0 || n >= hostlen)
        return -1;
    memcpy(host, p, n);
    host[n] = '\0';
    p += n + (p[n] == ']');
    if (*p == ':') {
        char *end;
        unsigned long v = strtoul(p + 1, &end, 10);
        if (end == p + 1 || v == 0 || v > 65535)
            return -1;
        *port = (unsigned)v;
    }
    return 0;
}

bool rp_httpc_failed_at_proxy(const char *proxy_url, long primary_port, const char *server_host, unsigned server_port,
                              const char *errbuf)
{
    char phost[256], needle[300];
    unsigned pport;
    if (!proxy_url || !proxy_url[0] || proxy_hostport(proxy_url, phost, sizeof phost, &pport) < 0)
        return false;
    /* The port curl last tried (0: not known, which says nothing). */
    if (primary_port > 0 && primary_port == (long)pport && pport != server_port)
        return true;
    /* curl's "Failed to connect to HOST port PORT...": unless the proxy and the
     * daemon are the same host:port, naming the proxy's tells. */
    if (pport == server_port && strcasecmp(phost, server_host) == 0)
        return false;
    snprintf(needle, sizeof needle, "to %s port %u", phost, pport);
    for (const char *m = errbuf ? strstr(errbuf, needle) : NULL; m; m = strstr(m + 1, needle)) {
        char next = m[strlen(needle)];
        if (next < '0' || next > '9')
            return true;
    }
    return false;
}

/* Gathers what curl knows about the failed transfer. */
static void facts_of(struct rp_httpc *c, CURLcode rc, struct rp_httpc_facts *f)
{
    memset(f, 0, sizeof *f);
    f->rc = (int)rc;
    f->errbuf = c->errbuf;
    f->body_too_large = c->body.too_large;
    f->body_nomem = c->body.nomem;
    (void)curl_easy_getinfo(c->h, CURLINFO_HTTP_CONNECTCODE, &f->connect_code);
    (void)curl_easy_getinfo(c->h, CURLINFO_SSL_VERIFYRESULT, &f->verify_result);
    (void)curl_easy_getinfo(c->h, CURLINFO_OS_ERRNO, &f->os_errno);
    (void)curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &f->response_code);
    long port = 0;
    (void)curl_easy_getinfo(c->h, CURLINFO_PRIMARY_PORT, &port);
    f->at_proxy = rc == CURLE_COULDNT_CONNECT &&
                  rp_httpc_failed_at_proxy(proxy_raw(c), port, c->u.host, c->u.port, c->errbuf);
}

/* ---- Requests ---- */

static void free_headers(struct curl_slist *l)
{
    for (struct curl_slist *s = l; s; s = s->next)
        OPENSSL_cleanse(s->data, strlen(s->data));
    curl_slist_free_all(l);
}

static struct curl_slist *make_headers(const struct rp_httpc *c, bool with_body)
{
    struct curl_slist *l = NULL, *n;
    const char *fixed[] = { "Accept: application/json", "Expect:", with_body ? "Content-Type: application/json" : NULL,
                            c->auth };
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) {
        if (!fixed[i])
            continue;
        n = curl_slist_append(l, fixed[i]);
        if (!n) {
            free_headers(l);
            return NULL;
        }
        l = n;
    }
    return l;
}

/* Method, URL, headers and time for one request on the reused handle. */
static int set_request(struct rp_httpc *c, const char *method, const char *url, const char *payload,
                       struct curl_slist *hdrs, long timeout_ms)
{
    CURL *h = c->h;
    int bad = 0;
    bad |= curl_easy_setopt(h, CURLOPT_URL, url);
    bad |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    bad |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    if (payload || strcmp(method, "POST") == 0) {
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDS, payload ? payload : "");
        bad |= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)(payload ? strlen(payload) : 0));
    } else {
        bad |= curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    bad |= curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, strcmp(method, "GET") && strcmp(method, "POST") ? method : NULL);
    return bad ? -1 : 0;
}

/* The request's own limit: what is left before the deadline, rounded up. */
static long request_timeout_ms(const struct rp_httpc *c)
{
    uint64_t left = rp_httpc_time_left(c);
    if (left == UINT64_MAX)
        return (long)c->timeout_ms;
    return (long)((left + NS_PER_MS - 1) / NS_PER_MS);
}

/* How long curl may sleep in curl_multi_wait: what curl asks for, at most a
 * second. */
static int wait_ms(CURLM *m)
{
    long t = -1;
    if (curl_multi_timeout(m, &t) != CURLM_OK || t < 0 || t > 1000)
        return 1000;
    return (int)t;
}

/* curl_multi_wait before 7.66 returns at once when curl has no socket to
 * wait on (its resolver thread runs): then we sleep a little ourselves, as
 * its own curl_easy_perform does, instead of spinning. */
static void no_fds_pause(uint64_t waited_ns, int ms)
{
    if (waited_ns < 10 * NS_PER_MS)
        (void)poll(NULL, 0, ms < 10 ? ms : 10);
}

/* curl_easy_perform, on our own multi handle, serving the watched fd while
 * the transfer waits on the network: the stop is asked for while downstream
 * still comes, and the media socket must not overflow meanwhile. */
static CURLcode transfer(struct rp_httpc *c)
{
    if (curl_multi_add_handle(c->m, c->h) != CURLM_OK)
        return CURLE_FAILED_INIT;
    CURLcode rc = CURLE_FAILED_INIT;
    int running = 1;
    while (curl_multi_perform(c->m, &running) == CURLM_OK && running) {
        struct curl_waitfd w = { .fd = c->watch_fd, .events = CURL_WAIT_POLLIN };
        int n = 0, ms = wait_ms(c->m);
        uint64_t before = rp_monotonic_ns();
        if (curl_multi_wait(c->m, c->watch_fd >= 0 ? &w : NULL, c->watch_fd >= 0 ? 1 : 0, ms, &n) != CURLM_OK)
            break;
        if (n == 0)
            no_fds_pause(rp_monotonic_ns() - before, ms);
        /* A watch that has nothing more to read (a closed relay) ends. */
        if (c->watch_fd >= 0 && (w.revents & CURL_WAIT_POLLIN) && !c->on_watch(c->watch_arg))
            c->watch_fd = -1;
    }
    CURLMsg *msg;
    int queued;
    while ((msg = curl_multi_info_read(c->m, &queued)))
        if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->h)
            rc = msg->data.result;
    (void)curl_multi_remove_handle(c->m, c->h);
    return rc;
}

static CURLcode perform(struct rp_httpc *c, const char *method, const char *path, json_t *body, char *err,
                        size_t errlen)
{
    char url[sizeof c->base + 512];
    /* 15 significant digits: figures travel as the --json report prints them. */
    char *payload = body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    struct curl_slist *hdrs = make_headers(c, payload != NULL);
    if (!hdrs || (body && !payload)) {
        free_headers(hdrs);
        free(payload);
        return CURLE_OUT_OF_MEMORY;
    }
    snprintf(url, sizeof url, "%s%s", c->base, path);
    c->errbuf[0] = '\0';
    c->body.len = 0;
    c->body.too_large = false;
    c->body.nomem = false;
    CURLcode rc = CURLE_BAD_FUNCTION_ARGUMENT;
    if (set_request(c, method, url, payload, hdrs, request_timeout_ms(c)) == 0)
        rc = transfer(c);
    else
        snprintf(err, errlen, "libcurl refused the request's options");
    (void)curl_easy_setopt(c->h, CURLOPT_HTTPHEADER, NULL);
    (void)curl_easy_setopt(c->h, CURLOPT_POSTFIELDS, NULL);
    free_headers(hdrs);
    free(payload);
    return rc;
}

/* Later connections (curl reconnects when the daemon closed the idle one,
 * rtpprobed does after limits.request_timeout) go to the address the first
 * one used, not to another host behind round-robin DNS. "-HOST:PORT" first:
 * libcurl before 7.64 keeps a name already cached and ignores the new entry. */
static void pin_address(struct rp_httpc *c, const char *ip)
{
    struct sockaddr_storage lit;
    socklen_t len;
    if (rp_addr_from_ip(c->u.host, 0, &lit, &len) == 0)
        return; /* an address in --server: nothing is resolved */
    char drop[300], add[400];
    snprintf(drop, sizeof drop, "-%s:%u", c->u.host, c->u.port);
#if LIBCURL_VERSION_NUM >= 0x073900 /* 7.57: [brackets] around an IPv6 address */
    if (strchr(ip, ':'))
        snprintf(add, sizeof add, "%s:%u:[%s]", c->u.host, c->u.port, ip);
    else
#endif
        snprintf(add, sizeof add, "%s:%u:%s", c->u.host, c->u.port, ip);
    struct curl_slist *l = curl_slist_append(NULL, drop), *n = l ? curl_slist_append(l, add) : NULL;
    if (!n || curl_easy_setopt(c->h, CURLOPT_RESOLVE, n) != CURLE_OK) {
        curl_slist_free_all(n ? n : l); /* unpinned: curl resolves again, as before */
        return;
    }
    c->pin = n;
}

const char *rp_httpc_pin(const struct rp_httpc *c)
{
    return c->pin && c->pin->next ? c->pin->next->data : NULL;
}

/* After the first completed request: was it proxied, and where did it go? */
static void note_connection(struct rp_httpc *c)
{
    long connects = 0, connect_code = 0, port = 0;
    char *ip = NULL;
    socklen_t len;
    if (c->connected || curl_easy_getinfo(c->h, CURLINFO_NUM_CONNECTS, &connects) != CURLE_OK || connects == 0)
        return;
    c->connected = true;
    (void)curl_easy_getinfo(c->h, CURLINFO_HTTP_CONNECTCODE, &connect_code);
    (void)curl_easy_getinfo(c->h, CURLINFO_PRIMARY_PORT, &port);
    c->proxied = connect_code != 0 || port != (long)c->u.port;
    if (c->proxied || curl_easy_getinfo(c->h, CURLINFO_PRIMARY_IP, &ip) != CURLE_OK || !ip ||
        rp_addr_from_ip(ip, 0, &c->peer, &len) < 0)
        return;
    c->have_peer = true;
    pin_address(c, ip);
}

static void timed_out(const struct rp_httpc *c, char *err, size_t errlen)
{
    snprintf(err, errlen, "%s %s%s", cause_words[RP_HTTPC_TIMEOUT].lead, c->u.hostport,
             cause_words[RP_HTTPC_TIMEOUT].hint);
}

int rp_httpc_request(struct rp_httpc *c, const char *method, const char *path, json_t *body,
                     int *status, json_t **resp, char *err, size_t errlen)
{
    *resp = NULL;
    *status = 0;
    for (const char *p = path; *p; p++) {
        if ((unsigned char)*p <= ' ' || *p == 0x7f) {
            snprintf(err, errlen, "refusing a request path with spaces or control characters");
            return -1;
        }
    }
    if (rp_httpc_time_left(c) == 0) {
        timed_out(c, err, errlen);
        return -1;
    }
    CURLcode rc = perform(c, method, path, body, err, errlen);
    if (rc != CURLE_OK) {
        struct rp_httpc_facts f;
        facts_of(c, rc, &f);
        describe(c, rp_httpc_classify(&f), &f, err, errlen);
        rp_httpc_clean_text(err, strlen(err)); /* curl's text, certificate names */
        return -1;
    }
    note_connection(c);
    long code = 0;
    (void)curl_easy_getinfo(c->h, CURLINFO_RESPONSE_CODE, &code);
    if (code < 100 || code > 999) {
        /* No status line: libcurl before 7.66 takes any bytes as an HTTP/0.9 body. */
        snprintf(err, errlen, "%s %s: no HTTP status line%s", cause_words[RP_HTTPC_NOT_HTTP].lead, c->u.hostport,
                 cause_words[RP_HTTPC_NOT_HTTP].hint);
        return -1;
    }
    *status = (int)code;
    if (c->body.len > 0)
        *resp = json_loadb(c->body.buf, c->body.len, 0, NULL);
    if (c->body.buf)
        OPENSSL_cleanse(c->body.buf, c->body.len);
    return 0;
}

/* ---- The media host ---- */

/* One lookup of HOST by getaddrinfo_a: glibc's resolver thread writes into
 * all of it until the lookup ends. */
struct lookup {
    struct gaicb    cb;
    struct addrinfo hints;
    char            name[256];
};

static void lookup_free(struct lookup *l)
{
    if (l->cb.ar_result)
        freeaddrinfo(l->cb.ar_result);
    free(l);
}

/* A lookup still running when its time is up cannot be freed under the
 * resolver thread, and outlives its only owner. This static is the one
 * deliberate exception to "no globals outside the daemon's top level": an
 * anchor that keeps it reachable (no leak report) until the process ends,
 * which it does soon after (there is one media lookup per run). A second
 * abandon frees the first once that one is done. */
static void lookup_abandon(struct lookup *l)
{
    static struct lookup *left_behind;
    if (gai_cancel(&l->cb) != EAI_NOTCANCELED) {
        lookup_free(l);
        return;
    }
    if (left_behind && gai_error(&left_behind->cb) != EAI_INPROGRESS)
        lookup_free(left_behind);
    left_behind = l;
}

/* Waits for the lookup until end_ns (0 = no limit): its gai_error(), or
 * EAI_INPROGRESS when the time is up. */
static int lookup_wait(struct lookup *l, uint64_t end_ns)
{
    const struct gaicb *list[1] = { &l->cb };
    for (;;) {
        int e = gai_error(&l->cb);
        if (e != EAI_INPROGRESS)
            return e;
        uint64_t now = rp_monotonic_ns();
        if (end_ns && now >= end_ns)
            return EAI_INPROGRESS;
        struct timespec ts = { 0, 0 };
        if (end_ns) {
            ts.tv_sec = (time_t)((end_ns - now) / NS_PER_S);
            ts.tv_nsec = (long)((end_ns - now) % NS_PER_S);
        }
        (void)gai_suspend(list, 1, end_ns ? &ts : NULL); /* done, timed out or a signal: look again */
    }
}

/* Through a proxy: HOST resolved here, its first address, within the time
 * left (a resolver that does not answer must not outlast --timeout). */
static int resolve_for_media(const struct rp_httpc *c, struct sockaddr_storage *out, char *err, size_t errlen)
{
    uint64_t left = rp_httpc_time_left(c);
    if (left == 0) { /* the deadline has passed: no wait at all, not an unbounded one */
        snprintf(err, errlen, "timed out resolving %s for the media (the proxy carried the control calls)",
                 c->u.host);
        return -1;
    }
    if (left == UINT64_MAX)
        left = c->timeout_ms ? (uint64_t)c->timeout_ms * NS_PER_MS : 0;
    uint64_t end = left ? rp_monotonic_ns() + left : 0;
    struct lookup *l = calloc(1, sizeof *l);
    if (!l) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    snprintf(l->name, sizeof l->name, "%s", c->u.host);
    l->hints.ai_socktype = SOCK_STREAM;
    l->hints.ai_flags = AI_ADDRCONFIG;
    l->cb.ar_name = l->name;
    l->cb.ar_request = &l->hints;
    struct gaicb *list[1] = { &l->cb };
    int rc = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
    if (rc == 0)
        rc = lookup_wait(l, end);
    if (rc == EAI_INPROGRESS) {
        lookup_abandon(l);
        snprintf(err, errlen, "timed out resolving %s for the media (the proxy carried the control calls)",
                 c->u.host);
        return -1;
    }
    bool found = rc == 0 && l->cb.ar_result && l->cb.ar_result->ai_addrlen <= sizeof *out;
    if (found)
        memcpy(out, l->cb.ar_result->ai_addr, l->cb.ar_result->ai_addrlen);
    else
        snprintf(err, errlen, "cannot resolve %s for the media (the proxy carried the control calls): %s",
                 c->u.host, rc ? gai_strerror(rc) : "no address");
    lookup_free(l);
    return found ? 0 : -1;
}

int rp_httpc_media_host(struct rp_httpc *c, struct sockaddr_storage *out, char *err, size_t errlen)
{
    socklen_t len;
    if (!c->connected) {
        snprintf(err, errlen, "no control connection to %s yet", c->u.hostport);
        return -1;
    }
    if (!c->proxied) {
        /* The address the control connection used: no second lookup that
         * could block or, behind round-robin DNS, pick another host. */
        if (!c->have_peer) {
            snprintf(err, errlen, "libcurl did not tell the address of %s", c->u.hostport);
            return -1;
        }
        memcpy(out, &c->peer, sizeof *out);
    } else if (rp_addr_from_ip(c->u.host, 0, out, &len) < 0 && resolve_for_media(c, out, err, errlen) < 0) {
        return -1;
    }
    (void)rp_addr_set_port((struct sockaddr *)out, 0);
    return 0;
}
