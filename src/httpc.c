/* Blocking HTTP/1.1 client on OpenSSL. Every failure becomes one line that says
 * what to do about it: unreachable daemon, certificate problem, timeout. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "httpc.h"
#include "netaddr.h"

#define MAX_RESPONSE (1024 * 1024)

struct rp_httpc {
    bool     tls;
    char     host[256];
    char     hostport[300];     /* for messages and the Host header */
    char     prefix[256];
    struct sockaddr_storage addr;
    socklen_t addrlen;
    struct rp_httpc_opts opts;
    char    *token;
    char    *cacert;
    SSL_CTX *ctx;
};

static int parse_url(struct rp_httpc *c, const char *url, char *err, size_t errlen)
{
    const char *rest;
    unsigned port;
    if (strncmp(url, "https://", 8) == 0) {
        c->tls = true;
        rest = url + 8;
        port = 443;
    } else if (strncmp(url, "http://", 7) == 0) {
        c->tls = false;
        rest = url + 7;
        port = 80;
    } else {
        snprintf(err, errlen, "--server must start with https:// or http:// (got \"%s\")", url);
        return -1;
    }
    const char *slash = strchr(rest, '/');
    size_t authlen = slash ? (size_t)(slash - rest) : strlen(rest);
    const char *portsep = NULL;
    const char *hstart = rest;
    size_t hlen;
    if (rest[0] == '[') {
        const char *close = memchr(rest, ']', authlen);
        if (!close) {
            snprintf(err, errlen, "bad IPv6 address in --server \"%s\"", url);
            return -1;
        }
        hstart = rest + 1;
        hlen = (size_t)(close - rest - 1);
        if ((size_t)(close + 1 - rest) < authlen && close[1] == ':')
            portsep = close + 1;
    } else {
        portsep = memchr(rest, ':', authlen);
        hlen = portsep ? (size_t)(portsep - rest) : authlen;
    }
    if (hlen == 0 || hlen >= sizeof c->host) {
        snprintf(err, errlen, "no host in --server \"%s\"", url);
        return -1;
    }
    memcpy(c->host, hstart, hlen);
    c->host[hlen] = '\0';
    if (portsep) {
        char *end;
        unsigned long p = strtoul(portsep + 1, &end, 10);
        if (end != rest + authlen || p == 0 || p > 65535) {
            snprintf(err, errlen, "bad port in --server \"%s\"", url);
            return -1;
        }
        port = (unsigned)p;
    }
    snprintf(c->prefix, sizeof c->prefix, "%s", slash ? slash : "");
    size_t pl = strlen(c->prefix);
    while (pl > 0 && c->prefix[pl - 1] == '/')
        c->prefix[--pl] = '\0';

    struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG }, *ai;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%u", port);
    int rc = getaddrinfo(c->host, portstr, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", c->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&c->addr, ai->ai_addr, ai->ai_addrlen);
    c->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    if (strchr(c->host, ':'))
        snprintf(c->hostport, sizeof c->hostport, "[%s]:%u", c->host, port);
    else
        snprintf(c->hostport, sizeof c->hostport, "%s:%u", c->host, port);
    return 0;
}

struct rp_httpc *rp_httpc_new(const char *url, const struct rp_httpc_opts *opts, char *err, size_t errlen)
{
    struct rp_httpc *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->opts = *opts;
    c->token = opts->token ? strdup(opts->token) : NULL;
    c->cacert = opts->cacert ? strdup(opts->cacert) : NULL;
    c->opts.token = c->token;
    c->opts.cacert = c->cacert;
    if (parse_url(c, url, err, errlen) < 0)
        goto fail;
    if (c->tls) {
        c->ctx = SSL_CTX_new(TLS_client_method());
        if (!c->ctx || SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION) != 1) {
            snprintf(err, errlen, "cannot create TLS context");
            goto fail;
        }
        if (c->opts.insecure) {
            SSL_CTX_set_verify(c->ctx, SSL_VERIFY_NONE, NULL);
        } else {
            SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
            int ok = c->cacert ? SSL_CTX_load_verify_locations(c->ctx, c->cacert, NULL)
                               : SSL_CTX_set_default_verify_paths(c->ctx);
            if (ok != 1) {
                snprintf(err, errlen, "cannot load CA certificates%s%s", c->cacert ? " from " : "",
                         c->cacert ? c->cacert : "");
                goto fail;
            }
        }
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
    SSL_CTX_free(c->ctx);
    if (c->token)
        OPENSSL_cleanse(c->token, strlen(c->token));
    free(c->token);
    free(c->cacert);
    free(c);
}

const struct sockaddr *rp_httpc_server_addr(const struct rp_httpc *c)
{
    return (const struct sockaddr *)&c->addr;
}

const char *rp_httpc_host(const struct rp_httpc *c)
{
    return c->host;
}

static int connect_timeout(struct rp_httpc *c, char *err, size_t errlen)
{
    int fd = socket(c->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    int rc = connect(fd, (struct sockaddr *)&c->addr, c->addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
        rc = poll(&pfd, 1, (int)c->opts.timeout_ms);
        if (rc == 0) {
            snprintf(err, errlen, "cannot reach the daemon at %s: no answer within %u ms (firewall? wrong host?)",
                     c->hostport, c->opts.timeout_ms);
            close(fd);
            return -1;
        }
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
        errno = soerr;
        rc = soerr ? -1 : 0;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cannot reach the daemon at %s: %s%s", c->hostport, strerror(errno),
                 errno == ECONNREFUSED ? " (is rtpprobed running and listening there?)" : "");
        close(fd);
        return -1;
    }
    int on = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    /* Back to blocking with timeouts: the exchange is a handful of small messages. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    struct timeval tv = { .tv_sec = c->opts.timeout_ms / 1000, .tv_usec = (c->opts.timeout_ms % 1000) * 1000 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

struct conn {
    int  fd;
    SSL *ssl;
};

static void tls_error(struct rp_httpc *c, SSL *ssl, char *err, size_t errlen)
{
    long vr = SSL_get_verify_result(ssl);
    if (vr != X509_V_OK) {
        snprintf(err, errlen, "TLS: cannot verify the daemon's certificate at %s: %s (give its CA with --cacert FILE%s)",
                 c->hostport, X509_verify_cert_error_string(vr),
                 vr == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT || vr == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
                     ? ", or --insecure for a self-signed test daemon"
                     : "");
        return;
    }
    unsigned long e = ERR_peek_last_error();
    if (e) {
        char buf[200];
        ERR_error_string_n(e, buf, sizeof buf);
        snprintf(err, errlen, "TLS handshake with %s failed: %s (is it an https:// port?)", c->hostport, buf);
    } else {
        snprintf(err, errlen, "TLS handshake with %s failed: %s", c->hostport,
                 errno == EAGAIN ? "timed out" : errno ? strerror(errno) : "connection closed (is it an https:// port?)");
    }
}

static int conn_open(struct rp_httpc *c, struct conn *k, char *err, size_t errlen)
{
    k->ssl = NULL;
    k->fd = connect_timeout(c, err, errlen);
    if (k->fd < 0)
        return -1;
    if (!c->tls)
        return 0;
    ERR_clear_error();
    k->ssl = SSL_new(c->ctx);
    if (!k->ssl || SSL_set_fd(k->ssl, k->fd) != 1) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    struct sockaddr_storage lit;
    socklen_t litlen;
    bool is_ip = rp_addr_from_ip(c->host, 0, &lit, &litlen) == 0;
    if (!is_ip) /* RFC 6066 §3: no IP literals in SNI */
        SSL_set_tlsext_host_name(k->ssl, c->host);
    if (!c->opts.insecure) {
        /* Check the name (or IP) in the certificate against what the user typed. */
        X509_VERIFY_PARAM *param = SSL_get0_param(k->ssl);
        int named = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, c->host) : SSL_set1_host(k->ssl, c->host);
        if (named != 1) { /* unchecked, any certificate the CA signed would do */
            snprintf(err, errlen, "TLS: cannot check the daemon's certificate against \"%s\"", c->host);
            goto fail;
        }
    }
    errno = 0;
    if (SSL_connect(k->ssl) != 1) {
        tls_error(c, k->ssl, err, errlen);
        goto fail;
    }
    return 0;
fail:
    SSL_free(k->ssl);
    close(k->fd);
    return -1;
}

static void conn_close(struct conn *k)
{
    if (k->ssl) {
        SSL_shutdown(k->ssl);
        SSL_free(k->ssl);
    }
    close(k->fd);
}

static int conn_write(struct conn *k, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = k->ssl ? SSL_write(k->ssl, buf, (int)len) : write(k->fd, buf, len);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads until the peer closes (we send Connection: close). */
static ssize_t conn_read_all(struct conn *k, char **out)
{
    size_t cap = 8192, len = 0;
    char *buf = malloc(cap + 1);
    if (!buf)
        return -1;
    for (;;) {
        if (len == cap) {
            if (cap >= MAX_RESPONSE)
                break;
            cap *= 2;
            char *grown = realloc(buf, cap + 1);
            if (!grown) {
                free(buf);
                return -1;
            }
            buf = grown;
        }
        ssize_t n = k->ssl ? SSL_read(k->ssl, buf + len, (int)(cap - len)) : read(k->fd, buf + len, cap - len);
        if (n <= 0) {
            if (n < 0 && len == 0) {
                free(buf);
                return -1;
            }
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    *out = buf;
    return (ssize_t)len;
}

/* Decodes a chunked body in place; returns its length or -1. */
static ssize_t dechunk(char *body, size_t len)
{
    size_t in = 0, out = 0;
    for (;;) {
        char *end;
        if (in >= len)
            return -1;
        unsigned long sz = strtoul(body + in, &end, 16);
        char *crlf = strstr(body + in, "\r\n");
        if (!crlf || end > crlf)
            return -1;
        in = (size_t)(crlf - body) + 2;
        if (sz == 0)
            return (ssize_t)out;
        if (sz > len - in)
            return -1;
        memmove(body + out, body + in, sz);
        out += sz;
        in += sz + 2;
    }
}

int rp_httpc_request(struct rp_httpc *c, const char *method, const char *path, json_t *body,
                     int *status, json_t **resp, char *err, size_t errlen)
{
    *resp = NULL;
    char *payload = body ? json_dumps(body, JSON_COMPACT) : NULL;
    size_t plen = payload ? strlen(payload) : 0;
    size_t hcap = 1024 + (c->token ? strlen(c->token) : 0);
    char *head = malloc(hcap);
    if (!head || (body && !payload)) {
        free(head);
        free(payload);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int hlen = snprintf(head, hcap,
                        "%s %s%s HTTP/1.1\r\nHost: %s\r\nUser-Agent: rtpprobe/%s\r\nAccept: application/json\r\n"
                        "Connection: close\r\n%s%s%s%s",
                        method, c->prefix, path, c->hostport, RP_VERSION, c->token ? "Authorization: Bearer " : "",
                        c->token ? c->token : "", c->token ? "\r\n" : "",
                        payload ? "Content-Type: application/json\r\n" : "");
    if (hlen < 0 || (size_t)hlen >= hcap - 40) {
        free(head);
        free(payload);
        snprintf(err, errlen, "request too long");
        return -1;
    }
    hlen += snprintf(head + hlen, hcap - (size_t)hlen, "Content-Length: %zu\r\n\r\n", plen);

    struct conn k;
    if (conn_open(c, &k, err, errlen) < 0) {
        OPENSSL_cleanse(head, (size_t)hlen);
        free(head);
        free(payload);
        return -1;
    }
    int wr = conn_write(&k, head, (size_t)hlen);
    if (wr == 0 && plen)
        wr = conn_write(&k, payload, plen);
    OPENSSL_cleanse(head, (size_t)hlen);
    free(head);
    free(payload);
    char *raw = NULL;
    ssize_t rlen = wr == 0 ? conn_read_all(&k, &raw) : -1;
    conn_close(&k);
    if (rlen <= 0) {
        snprintf(err, errlen, "no HTTP answer from %s%s", c->hostport,
                 errno == EAGAIN ? " (timed out)" : " (connection closed: is it the right port and scheme?)");
        free(raw);
        return -1;
    }

    int code;
    char *hdr_end = strstr(raw, "\r\n\r\n");
    if (sscanf(raw, "HTTP/1.%*[01] %3d", &code) != 1 || !hdr_end) {
        snprintf(err, errlen, "%s did not answer HTTP (is it the right port and scheme?)", c->hostport);
        free(raw);
        return -1;
    }
    *status = code;
    *hdr_end = '\0';
    char *bodyp = hdr_end + 4;
    size_t blen = (size_t)rlen - (size_t)(bodyp - raw);
    for (char *line = strstr(raw, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
        if (strncasecmp(line + 2, "Transfer-Encoding:", 18) == 0 && strstr(line + 2, "chunked")) {
            ssize_t d = dechunk(bodyp, blen);
            blen = d < 0 ? 0 : (size_t)d;
            break;
        }
    }
    if (blen > 0)
        *resp = json_loadb(bodyp, blen, 0, NULL);
    free(raw);
    return 0;
}
