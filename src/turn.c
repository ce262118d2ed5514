/* TURN client (RFC 8656): connect over UDP, TCP or TLS, Allocate with the
 * long-term credential (401 -> realm/nonce -> MESSAGE-INTEGRITY, 438 -> new
 * nonce), CreatePermission and ChannelBind for one peer, ChannelData for the
 * media, Refresh 0 at the end. Setup is blocking (bounded by a deadline);
 * media I/O is non-blocking for the probe's event loop. */
#include "turn.h"
#include "turn_wire.h"
#include "pagetoken.h"
#include "netaddr.h"
#include "timeutil.h"
#include "udp.h"
#include "wire.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define DEFAULT_PORT      3478u
#define DEFAULT_TLS_PORT  5349u
#define RTO_NS            (500 * NS_PER_MS)   /* RFC 8489 §6.2.1 initial RTO */
#define MAX_NONCE_RETRIES 3
#define REST_VALIDITY_S   3600                /* the REST user name's expiry: an hour from now */
#define CHANNEL           0x4000u             /* the one channel we bind */
#define MEDIA_WRITE_NS    (50 * NS_PER_MS)    /* a stream write of one media frame may wait this */
#define RBUF_CAP          (2 * RP_TURN_MAX_MSG)

struct rp_turn {
    enum rp_turn_transport tr;
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    struct sockaddr_storage server, relayed, peer;
    char user[320], pass[128], realm[RP_TURN_MAX_TEXT], nonce[RP_TURN_MAX_TEXT];
    uint8_t key[RP_TURN_KEY_LEN];
    bool keyed, allocated;
    uint16_t channel;
    uint8_t rbuf[RBUF_CAP];     /* stream transports: bytes of frames not yet whole */
    size_t rlen;
    size_t skip;                /* bytes still to drop of a frame too big to take (ChannelData up to 64 KiB) */
    /* Stream transports: the unsent tail of a frame whose write timed out.
     * It goes out before anything else, so that frames stay whole on the
     * stream (a cut frame would desynchronise the relay for good). */
    uint8_t wbuf[RP_TURN_MAX_MSG];
    size_t wlen;
};

const char *rp_turn_path_name(enum rp_turn_transport t)
{
    switch (t) {
    case RP_TURN_UDP: return "turn-udp";
    case RP_TURN_TCP: return "turn-tcp";
    case RP_TURN_TLS: return "turns";
    }
    return "turn";
}

/* Splits "[v6]:port", "host:port" or "host" into host and port. */
static int split_host_port(const char *hp, struct rp_turn_uri *out, char *err, size_t errlen)
{
    const char *colon;
    size_t hlen;
    if (hp[0] == '[') {
        const char *end = strchr(hp, ']');
        if (!end) {
            snprintf(err, errlen, "TURN URI: missing ] after an IPv6 address");
            return -1;
        }
        hlen = (size_t)(end - hp - 1);
        hp++;
        colon = end[1] == ':' ? end + 1 : end[1] ? end : NULL;
        if (colon == end) {
            snprintf(err, errlen, "TURN URI: unexpected text after ]");
            return -1;
        }
    } else {
        colon = strchr(hp, ':');
        hlen = colon ? (size_t)(colon - hp) : strlen(hp);
    }
    if (hlen == 0 || hlen >= sizeof out->host) {
        snprintf(err, errlen, "TURN URI: no host, or a host name too long");
        return -1;
    }
    memcpy(out->host, hp, hlen);
    out->host[hlen] = '\0';
    if (colon) {
        char *end;
        long port = strtol(colon + 1, &end, 10);
        if (end == colon + 1 || *end || port < 1 || port > 65535) {
            snprintf(err, errlen, "TURN URI: bad port '%s'", colon + 1);
            return -1;
        }
        out->port = (uint16_t)port;
    }
    return 0;
}

int rp_turn_uri_parse(const char *uri, struct rp_turn_uri *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *rest;
    if (strncmp(uri, "turns:", 6) == 0) {
        out->transport = RP_TURN_TLS;
        out->port = DEFAULT_TLS_PORT;
        rest = uri + 6;
    } else if (strncmp(uri, "turn:", 5) == 0) {
        out->transport = RP_TURN_UDP;
        out->port = DEFAULT_PORT;
        rest = uri + 5;
    } else {
        snprintf(err, errlen, "TURN URI must start with turn: or turns: (RFC 7065)");
        return -1;
    }
    char hp[300];
    const char *q = strchr(rest, '?');
    size_t n = q ? (size_t)(q - rest) : strlen(rest);
    if (n >= sizeof hp) {
        snprintf(err, errlen, "TURN URI too long");
        return -1;
    }
    memcpy(hp, rest, n);
    hp[n] = '\0';
    if (split_host_port(hp, out, err, errlen) < 0)
        return -1;
    if (!q)
        return 0;
    if (out->transport == RP_TURN_UDP && strcmp(q, "?transport=udp") == 0)
        return 0;
    if (strcmp(q, "?transport=tcp") == 0) {
        if (out->transport == RP_TURN_UDP)
            out->transport = RP_TURN_TCP;
        return 0;
    }
    snprintf(err, errlen, "TURN URI: only ?transport=udp or ?transport=tcp (turns: is TLS over TCP)");
    return -1;
}

static bool is_stream(const struct rp_turn *t)
{
    return t->tr != RP_TURN_UDP;
}

/* Waits until fd is ready for `events` or the deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, uint64_t deadline_ns)
{
    for (;;) {
        uint64_t now = rp_monotonic_ns();
        if (now >= deadline_ns)
            return 0;
        uint64_t ms = (deadline_ns - now + NS_PER_MS - 1) / NS_PER_MS;
        struct pollfd p = { .fd = fd, .events = events };
        int rc = poll(&p, 1, ms > 60000 ? 60000 : (int)ms);
        if (rc > 0)
            return 1;
        if (rc < 0 && errno != EINTR)
            return -1;
    }
}

/* One write of buf on the stream: >0 bytes taken, 0 not now (*want: what to
 * wait for), -1 failed. */
static ssize_t stream_write(struct rp_turn *t, const uint8_t *buf, size_t n, short *want)
{
    *want = POLLOUT;
    if (t->ssl) {
        int w = SSL_write(t->ssl, buf, (int)n);
        if (w > 0)
            return w;
        int e = SSL_get_error(t->ssl, w);
        if (e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ) {
            errno = EPIPE;
            return -1;
        }
        *want = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        return 0;
    }
    ssize_t w = send(t->fd, buf, n, MSG_NOSIGNAL);
    if (w > 0)
        return w;
    return w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR ? -1 : 0;
}

/* Writes buf[*done..n) until done or the deadline: 0 all written, -1 with
 * errno (ETIMEDOUT: *done tells how far it got). */
static int stream_write_until(struct rp_turn *t, const uint8_t *buf, size_t n, size_t *done, uint64_t deadline_ns)
{
    while (*done < n) {
        short want;
        ssize_t w = stream_write(t, buf + *done, n - *done, &want);
        if (w < 0)
            return -1;
        *done += (size_t)w;
        if (w == 0 && wait_fd(t->fd, want, deadline_ns) <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
    return 0;
}

/* The tail a timed-out write left: 0 once it is out, -1 (ETIMEDOUT: still
 * some left, nothing else may go) otherwise. */
static int flush_pending(struct rp_turn *t, uint64_t deadline_ns)
{
    size_t done = 0;
    int rc = stream_write_until(t, t->wbuf, t->wlen, &done, deadline_ns);
    memmove(t->wbuf, t->wbuf + done, t->wlen - done);
    t->wlen -= done;
    return rc;
}

/* Sends one frame. On a stream, after any pending tail; a frame that cannot
 * all go before the deadline keeps its tail for the next write, so the
 * stream never carries a cut frame: 0 when it went (or its tail is queued),
 * -1 when it could not start (the frame is dropped) or the stream failed. */
static int write_all(struct rp_turn *t, const uint8_t *buf, size_t n, uint64_t deadline_ns)
{
    if (!is_stream(t))
        return send(t->fd, buf, n, 0) == (ssize_t)n ? 0 : -1;
    if (t->wlen && flush_pending(t, deadline_ns) < 0)
        return -1;
    size_t done = 0;
    if (stream_write_until(t, buf, n, &done, deadline_ns) == 0)
        return 0;
    /* Plain TCP with nothing taken: dropped, nothing to finish. A TLS
     * record that wanted to write may be partly on the wire inside OpenSSL:
     * it must be finished with the same bytes. */
    if (errno != ETIMEDOUT || (done == 0 && !t->ssl))
        return -1;
    memcpy(t->wbuf, buf + done, n - done);
    t->wlen = n - done;
    return 0;
}

/* Moves more stream bytes into rbuf: >0 read, -1 with errno (EAGAIN: nothing now). */
static ssize_t stream_fill(struct rp_turn *t)
{
    size_t room = sizeof t->rbuf - t->rlen;
    if (room == 0) {
        errno = EPROTO; /* no frame fits: the peer is not speaking TURN */
        return -1;
    }
    if (t->ssl) {
        int r = SSL_read(t->ssl, t->rbuf + t->rlen, (int)room);
        if (r > 0) {
            t->rlen += (size_t)r;
            return r;
        }
        int e = SSL_get_error(t->ssl, r);
        errno = e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? EAGAIN : ECONNRESET;
        return -1;
    }
    ssize_t r = recv(t->fd, t->rbuf + t->rlen, room, 0);
    if (r > 0) {
        t->rlen += (size_t)r;
        return r;
    }
    if (r == 0)
        errno = ECONNRESET;
    return -1;
}

/* Drops what is buffered of a frame too big to take; true while more is to come. */
static bool skipping(struct rp_turn *t)
{
    size_t k = t->skip < t->rlen ? t->skip : t->rlen;
    memmove(t->rbuf, t->rbuf + k, t->rlen - k);
    t->rlen -= k;
    t->skip -= k;
    return t->skip > 0;
}

/* The next whole frame (datagram, or STUN message / ChannelData off the
 * stream) into buf: its length, or -1 with errno (EAGAIN: none yet). A
 * ChannelData frame longer than cap is dropped, as the server's bytes come,
 * and the stream goes on; a STUN message too long is EMSGSIZE, and bytes that
 * are no frame at all end the stream (EPROTO). */
static ssize_t read_frame(struct rp_turn *t, uint8_t *buf, size_t cap, struct rp_udp_meta *meta)
{
    if (!is_stream(t)) {
        struct rp_udp_meta m;
        return rp_udp_recv(t->fd, buf, cap, meta ? meta : &m);
    }
    for (;;) {
        ssize_t flen = t->skip && skipping(t) ? 0 : rp_turn_frame_len(t->rbuf, t->rlen);
        if (flen < 0) {
            errno = EPROTO;
            return -1;
        }
        if ((size_t)flen > cap || (size_t)flen > sizeof t->rbuf) {
            /* A STUN answer we cannot take is said at once, not waited for
             * until the deadline; media (ChannelData) too big is dropped. */
            if ((t->rbuf[0] & 0xC0) != 0x40) {
                errno = EMSGSIZE;
                return -1;
            }
            t->skip = (size_t)flen;
            continue;
        }
        if (flen > 0 && (size_t)flen <= t->rlen) {
            size_t n = (size_t)flen;
            memcpy(buf, t->rbuf, n);
            memmove(t->rbuf, t->rbuf + n, t->rlen - n);
            t->rlen -= n;
            if (meta) {
                memset(meta, 0, sizeof *meta);
                meta->rx_mono = meta->read_mono = rp_monotonic_ns();
                meta->rx_ns = rp_realtime_ns();
            }
            return (ssize_t)n;
        }
        if (stream_fill(t) < 0)
            return -1;
    }
}

/* A frame can be had without waiting for the socket: TLS holds decrypted
 * bytes, or rbuf holds a whole frame. */
static bool buffered(struct rp_turn *t)
{
    if (t->ssl && SSL_pending(t->ssl) > 0)
        return true;
    if (t->skip)
        return t->rlen > 0; /* read_frame drops it and looks further */
    ssize_t flen = rp_turn_frame_len(t->rbuf, t->rlen);
    return flen != 0 && (flen < 0 || (size_t)flen <= t->rlen);
}

/* One transaction: sends the request (retransmitted on UDP, RFC 8489 §6.2.1)
 * and waits for the response with its transaction id. 0 with resp parsed
 * from rbuf, or -1 with a message. Other frames meanwhile are dropped. */
static int transact(struct rp_turn *t, struct rp_turn_req *req, struct rp_turn_msg *resp, uint8_t *rbuf,
                    size_t *rlen, uint64_t deadline_ns, char *err, size_t errlen)
{
    uint8_t txid[RP_STUN_TXID_LEN], out[RP_TURN_MAX_MSG];
    if (RAND_bytes(txid, sizeof txid) != 1) {
        snprintf(err, errlen, "no randomness for a TURN transaction id");
        return -1;
    }
    req->txid = txid;
    size_t n = rp_turn_build(out, sizeof out, req);
    if (n == 0) {
        snprintf(err, errlen, "TURN request does not fit (credentials too long?)");
        return -1;
    }
    uint64_t rto = RTO_NS, next = 0;
    for (;;) {
        uint64_t now = rp_monotonic_ns();
        if (now >= deadline_ns)
            break;
        if (now >= next && (next == 0 || !is_stream(t))) {
            if (write_all(t, out, n, deadline_ns) < 0 && is_stream(t)) {
                snprintf(err, errlen, "TURN server %s: send failed: %s", rp_turn_path_name(t->tr), strerror(errno));
                return -1;
            }
            next = now + rto;
            rto *= 2;
        }
        uint64_t until = is_stream(t) || next > deadline_ns ? deadline_ns : next;
        if (!buffered(t) && wait_fd(t->fd, POLLIN, until) <= 0)
            continue;
        for (;;) {
            ssize_t r = read_frame(t, rbuf, RP_TURN_MAX_MSG, NULL);
            if (r < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
                    break;
                if (!is_stream(t))
                    continue; /* ICMP reports; the deadline ends the wait */
                snprintf(err, errlen, "TURN server connection: %s", strerror(errno));
                return -1;
            }
            if (rp_turn_parse(rbuf, (size_t)r, resp) != RP_STUN_OK || memcmp(resp->txid, txid, sizeof txid) != 0 ||
                (resp->type & ~RP_TURN_CLASS_MASK) != req->type || !(resp->type & RP_TURN_SUCCESS))
                continue;
            *rlen = (size_t)r;
            return 0;
        }
    }
    snprintf(err, errlen, "no answer from the TURN server (%s) in time", rp_turn_path_name(t->tr));
    return -1;
}

/* An authenticated request: 438 (stale nonce) retried with the new nonce.
 * A success must carry a valid MESSAGE-INTEGRITY. 0 success, 1 an error
 * response (in resp), -1 no usable answer (message in err). */
static int request(struct rp_turn *t, struct rp_turn_req *req, struct rp_turn_msg *resp, uint64_t deadline_ns,
                   char *err, size_t errlen)
{
    uint8_t rbuf[RP_TURN_MAX_MSG];
    size_t rlen;
    for (int tries = 0; tries <= MAX_NONCE_RETRIES; tries++) {
        req->user = t->user;
        req->realm = t->realm;
        req->nonce = t->nonce;
        req->key = t->keyed ? t->key : NULL;
        if (transact(t, req, resp, rbuf, &rlen, deadline_ns, err, errlen) < 0)
            return -1;
        if (t->keyed && (resp->type & RP_TURN_CLASS_MASK) == RP_TURN_SUCCESS &&
            !rp_turn_integrity_ok(rbuf, rlen, resp, t->key, sizeof t->key)) {
            snprintf(err, errlen, "the TURN server's answer fails MESSAGE-INTEGRITY (wrong password, or not "
                                  "the server it claims to be)");
            return -1;
        }
        if ((resp->type & RP_TURN_CLASS_MASK) == RP_TURN_SUCCESS)
            return 0;
        if (resp->error_code == 438 && resp->nonce[0]) {
            snprintf(t->nonce, sizeof t->nonce, "%s", resp->nonce);
            continue;
        }
        return 1;
    }
    snprintf(err, errlen, "the TURN server keeps saying the nonce is stale (438)");
    return -1;
}

static void describe_error(const struct rp_turn_msg *m, const char *what, char *err, size_t errlen)
{
    snprintf(err, errlen, "TURN %s refused: %d %s", what, m->error_code, m->reason[0] ? m->reason : "(no reason)");
}

/* Allocate: first without credentials to learn realm and nonce (401), then
 * with them. */
static int allocate(struct rp_turn *t, uint64_t deadline_ns, enum rp_turn_fail *why, char *err, size_t errlen)
{
    struct rp_turn_msg m;
    struct rp_turn_req req = { .type = RP_TURN_ALLOCATE, .requested_udp = true };
    int rc = request(t, &req, &m, deadline_ns, err, errlen);
    if (rc == 1 && m.error_code == 401) {
        if (!m.realm[0] || !m.nonce[0]) {
            snprintf(err, errlen, "TURN server answered 401 without REALM and NONCE");
            return -1;
        }
        snprintf(t->realm, sizeof t->realm, "%s", m.realm);
        snprintf(t->nonce, sizeof t->nonce, "%s", m.nonce);
        if (rp_turn_key(t->user, t->realm, t->pass, t->key) < 0) {
            snprintf(err, errlen, "TURN credentials too long");
            return -1;
        }
        t->keyed = true;
        rc = request(t, &req, &m, deadline_ns, err, errlen);
        if (rc == 1 && m.error_code == 401) {
            *why = RP_TURN_FAIL_AUTH;
            snprintf(err, errlen, "the TURN server rejected the credentials (401 %s, realm \"%s\"): check "
                     "--turn-user/--turn-pass or --turn-secret", m.reason, t->realm);
            return -1;
        }
    }
    if (rc == 1)
        describe_error(&m, "Allocate", err, errlen);
    if (rc != 0)
        return -1;
    if (!m.has_relayed) {
        snprintf(err, errlen, "TURN Allocate answer without XOR-RELAYED-ADDRESS");
        return -1;
    }
    t->relayed = m.relayed;
    t->allocated = true;
    return 0;
}

static int tls_start(struct rp_turn *t, const struct rp_turn_cfg *cfg, const char *host, uint64_t deadline_ns,
                     char *err, size_t errlen)
{
    t->ctx = SSL_CTX_new(TLS_client_method());
    if (!t->ctx || !(t->ssl = SSL_new(t->ctx))) {
        snprintf(err, errlen, "TLS: out of memory");
        return -1;
    }
    SSL_CTX_set_min_proto_version(t->ctx, TLS1_2_VERSION);
    /* A write that timed out is finished later from wbuf, not the caller's buffer. */
    SSL_set_mode(t->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (!cfg->insecure) {
        SSL_set_verify(t->ssl, SSL_VERIFY_PEER, NULL);
        if ((cfg->cacert ? SSL_CTX_load_verify_locations(t->ctx, cfg->cacert, NULL)
                         : SSL_CTX_set_default_verify_paths(t->ctx)) != 1 ||
            SSL_set1_host(t->ssl, host) != 1) {
            snprintf(err, errlen, "TLS: cannot load the CA certificates");
            return -1;
        }
    }
    struct sockaddr_storage lit;
    socklen_t ll;
    if (rp_addr_from_ip(host, 0, &lit, &ll) < 0) {
        /* SNI for names only (RFC 6066 §3); a copy: the macro casts away const. */
        char sni[256];
        snprintf(sni, sizeof sni, "%s", host);
        SSL_set_tlsext_host_name(t->ssl, sni);
    }
    SSL_set_fd(t->ssl, t->fd);
    for (;;) {
        int r = SSL_connect(t->ssl);
        if (r == 1)
            return 0;
        int e = SSL_get_error(t->ssl, r);
        if ((e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) &&
            wait_fd(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline_ns) > 0)
            continue;
        long v = SSL_get_verify_result(t->ssl);
        snprintf(err, errlen, "TLS to the TURN server failed: %s",
                 v != X509_V_OK ? X509_verify_cert_error_string(v)
                 : e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? "timeout" : "handshake error");
        return -1;
    }
}

/* The socket towards the server: UDP connected (ICMP errors show), or TCP. */
static int connect_server(struct rp_turn *t, const struct rp_turn_cfg *cfg, uint64_t deadline_ns, char *err,
                          size_t errlen)
{
    const struct sockaddr *srv = (const struct sockaddr *)&t->server;
    if (!is_stream(t)) {
        struct sockaddr_storage any;
        socklen_t alen;
        rp_addr_from_ip(srv->sa_family == AF_INET6 ? "::" : "0.0.0.0", 0, &any, &alen);
        t->fd = rp_udp_open((struct sockaddr *)&any, alen, cfg->dscp);
    } else {
        t->fd = socket(srv->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (t->fd >= 0 && cfg->dscp >= 0) {
            int tos = cfg->dscp << 2;
            (void)setsockopt(t->fd, srv->sa_family == AF_INET6 ? IPPROTO_IPV6 : IPPROTO_IP,
                             srv->sa_family == AF_INET6 ? IPV6_TCLASS : IP_TOS, &tos, sizeof tos);
        }
    }
    if (t->fd < 0 || (connect(t->fd, srv, rp_addr_len(srv)) < 0 && errno != EINPROGRESS)) {
        snprintf(err, errlen, "cannot connect to the TURN server: %s", strerror(errno));
        return -1;
    }
    if (is_stream(t)) {
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (wait_fd(t->fd, POLLOUT, deadline_ns) <= 0 ||
            getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
            snprintf(err, errlen, "cannot connect to the TURN server over TCP: %s",
                     soerr ? strerror(soerr) : "timeout");
            return -1;
        }
    }
    return 0;
}

static int set_credentials(struct rp_turn *t, const struct rp_turn_cfg *cfg, char *err, size_t errlen)
{
    if (cfg->secret) {
        char host[64] = "rtpprobe";
        (void)gethostname(host, sizeof host - 1);
        host[sizeof host - 1] = '\0';
        if (rp_turn_rest_credentials((const uint8_t *)cfg->secret, strlen(cfg->secret),
                                     (uint64_t)time(NULL) + REST_VALIDITY_S, host, t->user, sizeof t->user, t->pass,
                                     sizeof t->pass) < 0) {
            snprintf(err, errlen, "cannot make the TURN REST credentials");
            return -1;
        }
        return 0;
    }
    if (!cfg->user || !cfg->pass || strlen(cfg->user) >= sizeof t->user || strlen(cfg->pass) >= sizeof t->pass) {
        snprintf(err, errlen, "TURN needs --turn-user and --turn-pass, or --turn-secret");
        return -1;
    }
    snprintf(t->user, sizeof t->user, "%s", cfg->user);
    snprintf(t->pass, sizeof t->pass, "%s", cfg->pass);
    return 0;
}

struct rp_turn *rp_turn_open(const struct rp_turn_cfg *cfg, uint64_t deadline_ns, enum rp_turn_fail *why,
                             char *err, size_t errlen)
{
    struct rp_turn_uri uri;
    *why = RP_TURN_FAIL_OTHER;
    if (rp_turn_uri_parse(cfg->uri, &uri, err, errlen) < 0)
        return NULL;
    struct rp_turn *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    t->fd = -1;
    t->tr = uri.transport;
    socklen_t slen;
    char hp[300];
    snprintf(hp, sizeof hp, strchr(uri.host, ':') ? "[%s]" : "%s", uri.host);
    if (rp_addr_resolve(hp, uri.port, &t->server, &slen) < 0) {
        snprintf(err, errlen, "cannot resolve the TURN server %s", uri.host);
        goto fail;
    }
    if (set_credentials(t, cfg, err, errlen) < 0 || connect_server(t, cfg, deadline_ns, err, errlen) < 0 ||
        (t->tr == RP_TURN_TLS && tls_start(t, cfg, uri.host, deadline_ns, err, errlen) < 0) ||
        allocate(t, deadline_ns, why, err, errlen) < 0)
        goto fail;
    *why = RP_TURN_FAIL_NONE;
    return t;
fail:
    rp_turn_close(t, 0);
    return NULL;
}

int rp_turn_fd(const struct rp_turn *t)
{
    return t->fd;
}

enum rp_turn_transport rp_turn_transport_of(const struct rp_turn *t)
{
    return t->tr;
}

const struct sockaddr *rp_turn_relayed(const struct rp_turn *t)
{
    return (const struct sockaddr *)&t->relayed;
}

const struct sockaddr *rp_turn_server(const struct rp_turn *t)
{
    return (const struct sockaddr *)&t->server;
}

int rp_turn_bind_peer(struct rp_turn *t, const struct sockaddr *peer, uint64_t deadline_ns, char *err,
                      size_t errlen)
{
    struct rp_turn_msg m;
    /* ChannelBind installs the permission too (§11.2), but an explicit
     * CreatePermission names a refusal (403: the relay forbids that peer). */
    struct rp_turn_req perm = { .type = RP_TURN_CREATE_PERMISSION, .peer = peer };
    int rc = request(t, &perm, &m, deadline_ns, err, errlen);
    if (rc == 1)
        describe_error(&m, "CreatePermission for the media host", err, errlen);
    if (rc != 0)
        return -1;
    struct rp_turn_req bind = { .type = RP_TURN_CHANNEL_BIND, .peer = peer, .channel = CHANNEL };
    rc = request(t, &bind, &m, deadline_ns, err, errlen);
    if (rc == 1)
        describe_error(&m, "ChannelBind", err, errlen);
    if (rc != 0)
        return -1;
    memcpy(&t->peer, peer, rp_addr_len(peer));
    t->channel = CHANNEL;
    return 0;
}

int rp_turn_send(struct rp_turn *t, const uint8_t *pkt, size_t n)
{
    uint8_t out[RP_TURN_MAX_MSG];
    size_t len = rp_turn_channel_wrap(out, sizeof out, t->channel, pkt, n, is_stream(t));
    if (!t->channel || len == 0) {
        errno = EMSGSIZE;
        return -1;
    }
    return write_all(t, out, len, rp_monotonic_ns() + MEDIA_WRITE_NS);
}

ssize_t rp_turn_recv(struct rp_turn *t, uint8_t *buf, size_t cap, struct rp_udp_meta *meta)
{
    uint8_t frame[RP_TURN_MAX_MSG];
    for (;;) {
        ssize_t r = read_frame(t, frame, sizeof frame, meta);
        if (r < 0) {
            if (!is_stream(t) && errno != EAGAIN && errno != EWOULDBLOCK)
                continue; /* ICMP reports */
            return -1;
        }
        uint16_t ch;
        const uint8_t *data;
        size_t n;
        /* Only our channel's data counts; Data indications and late answers are skipped. */
        if (rp_turn_channel_parse(frame, (size_t)r, &ch, &data, &n) < 0 || ch != t->channel || n > cap)
            continue;
        memcpy(buf, data, n);
        if (meta) {
            memcpy(&meta->from, &t->peer, sizeof t->peer);
            meta->fromlen = rp_addr_len((const struct sockaddr *)&t->peer);
        }
        return (ssize_t)n;
    }
}

void rp_turn_close(struct rp_turn *t, uint64_t deadline_ns)
{
    if (!t)
        return;
    if (t->allocated && deadline_ns > rp_monotonic_ns()) {
        /* Frees the relay now instead of after its lifetime (RFC 8656 §7). */
        struct rp_turn_msg m;
        char err[128];
        struct rp_turn_req req = { .type = RP_TURN_REFRESH, .has_lifetime = true, .lifetime = 0 };
        (void)request(t, &req, &m, deadline_ns, err, sizeof err);
    }
    if (t->ssl) {
        (void)SSL_shutdown(t->ssl);
        SSL_free(t->ssl);
    }
    SSL_CTX_free(t->ctx);
    if (t->fd >= 0)
        close(t->fd);
    OPENSSL_cleanse(t, sizeof *t);
    free(t);
}
