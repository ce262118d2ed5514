/* The TURN client over TCP and TLS against a fake relay in a child process:
 * when the relay stops reading and a media write times out halfway through a
 * frame (or a TLS record), the stream must still carry only whole frames once
 * it reads again: a cut ChannelData frame desynchronises the relay for the
 * rest of the run, a TLS record retried with other bytes ends the connection.
 * The child checks every frame it gets; its exit status is the verdict.
 * On loopback a plain TCP send of a frame is all or nothing, so the TCP case
 * shows the waiting tail does no harm; the TLS case, a record that wanted to
 * write retried with the next, shorter or longer frame, fails without it.
 * Before that, the relay sends a ChannelData frame too big for the client
 * (it must be dropped, and reception go on) and a normal one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "stun.h"
#include "timeutil.h"
#include "turn.h"
#include "turn_wire.h"

/* Odd sizes, alternating by sequence number: a retried TLS record must be
 * the same bytes, and a frame is not a buffer's divisor. */
#define PAYLOAD(seq) ((seq) % 2 ? 1201u : 1001u)
#define FRAME(seq) (RP_TURN_CHANNEL_HDR + PAYLOAD(seq) + 3)
#define AFTER_RESUME 20

/* The relay's side of the connection: plain, or TLS when ssl is set. */
struct conn { int fd; SSL *ssl; };

static ssize_t conn_read(const struct conn *c, uint8_t *buf, size_t n)
{
    if (!c->ssl)
        return read(c->fd, buf, n);
    int r = SSL_read(c->ssl, buf, (int)n);
    if (r > 0)
        return r;
    int e = SSL_get_error(c->ssl, r);
    /* The end with or without close_notify: whole frames are what counts. */
    return e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) ? 0 : -1;
}

static ssize_t conn_write(const struct conn *c, const uint8_t *buf, size_t n)
{
    return c->ssl ? SSL_write(c->ssl, buf, (int)n) : write(c->fd, buf, n);
}

/* Reads exactly n bytes; 0, or -1 at EOF or error. */
static int read_full(const struct conn *fd, uint8_t *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t r = conn_read(fd, buf + got, n - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

/* The next whole frame off the stream into buf (cap RP_TURN_MAX_MSG): its
 * length, 0 at a clean EOF, -1 if the bytes are not a TURN frame. */
static ssize_t next_frame(const struct conn *fd, uint8_t *buf)
{
    ssize_t r = conn_read(fd, buf, 4);
    if (r == 0)
        return 0;
    if (r < 4 && (r < 0 || read_full(fd, buf + r, 4 - (size_t)r) < 0))
        return -1;
    if (buf[0] < 0x40 && read_full(fd, buf + 4, 16) < 0)
        return -1; /* a STUN header is 20 bytes */
    ssize_t len = rp_turn_frame_len(buf, buf[0] < 0x40 ? 20 : 4);
    if (len <= 0 || len > RP_TURN_MAX_MSG)
        return -1;
    size_t have = buf[0] < 0x40 ? 20 : 4;
    return read_full(fd, buf + have, (size_t)len - have) < 0 ? -1 : len;
}

/* A success answer to the request in req: the same method and transaction,
 * XOR-RELAYED-ADDRESS for an Allocate, FINGERPRINT last. */
static size_t answer(const uint8_t *req, uint8_t *out)
{
    uint16_t type = (uint16_t)((req[0] << 8 | req[1]) | RP_TURN_SUCCESS);
    size_t alen = 0;
    memcpy(out, req, 20);
    out[0] = (uint8_t)(type >> 8), out[1] = (uint8_t)type;
    if ((type & ~RP_TURN_CLASS_MASK) == RP_TURN_ALLOCATE) {
        /* 127.0.0.1:50000 XORed with the magic cookie (RFC 8489 §14.2). */
        const uint8_t relayed[12] = { 0x00, 0x16, 0, 8, 0, 1, 0xc3 ^ 0x21, 0x50 ^ 0x12,
                                      127 ^ 0x21, 0 ^ 0x12, 0 ^ 0xa4, 1 ^ 0x42 };
        memcpy(out + 20, relayed, sizeof relayed);
        alen = sizeof relayed;
    }
    out[2] = (uint8_t)((alen + 8) >> 8), out[3] = (uint8_t)(alen + 8);
    uint32_t fp = rp_stun_fingerprint(out, 20 + alen);
    const uint8_t fpa[8] = { 0x80, 0x28, 0, 4, (uint8_t)(fp >> 24), (uint8_t)(fp >> 16), (uint8_t)(fp >> 8),
                             (uint8_t)fp };
    memcpy(out + 20 + alen, fpa, sizeof fpa);
    return 28 + alen;
}

/* A frame of `len` payload bytes on the client's channel (0x4000, the one
 * it binds), payload = seq then seq's low byte repeated. */
static size_t media_frame(uint8_t *out, long seq, size_t len)
{
    memset(out, (uint8_t)seq, RP_TURN_CHANNEL_HDR + len + 3);
    out[0] = 0x40, out[1] = 0x00, out[2] = (uint8_t)(len >> 8), out[3] = (uint8_t)len;
    out[4] = (uint8_t)(seq >> 24), out[5] = (uint8_t)(seq >> 16), out[6] = (uint8_t)(seq >> 8), out[7] = (uint8_t)seq;
    return (RP_TURN_CHANNEL_HDR + len + 3) & ~(size_t)3;
}

/* Is this ChannelData frame one of ours, whole, with a sequence above *last? */
static int frame_ok(const uint8_t *f, ssize_t n, long *last)
{
    uint16_t ch;
    const uint8_t *d;
    size_t dl;
    if (rp_turn_channel_parse(f, (size_t)n, &ch, &d, &dl) < 0 || dl < 4)
        return 0;
    long seq = (long)((uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3]);
    if ((size_t)n != FRAME(seq) || dl != PAYLOAD(seq))
        return 0;
    for (size_t i = 4; i < dl; i++)
        if (d[i] != (uint8_t)seq)
            return 0;
    if (seq <= *last)
        return 0;
    *last = seq;
    return 1;
}

/* The fake relay: answers the set-up requests, stops reading until the
 * parent says go (one byte on `go`), then checks every frame to EOF.
 * Exit 0: only whole frames, at least AFTER_RESUME after the stall. */
static int relay(int lfd, int go, SSL_CTX *tls)
{
    alarm(30); /* a parent that failed an assert leaves us waiting: not for ever */
    struct conn cn = { .fd = accept(lfd, NULL, NULL) }, *fd = &cn;
    if (cn.fd < 0)
        return 2;
    if (tls && (!(cn.ssl = SSL_new(tls)) || SSL_set_fd(cn.ssl, cn.fd) != 1 || SSL_accept(cn.ssl) != 1))
        return 8;
    uint8_t f[RP_TURN_MAX_MSG], out[64];
    for (int answered = 0; answered < 3;) { /* Allocate, CreatePermission, ChannelBind */
        ssize_t n = next_frame(fd, f);
        if (n <= 0 || f[0] >= 0x40)
            return 3;
        size_t m = answer(f, out);
        if (conn_write(fd, out, m) != (ssize_t)m)
            return 4;
        answered++;
    }
    static uint8_t big[RP_TURN_CHANNEL_HDR + 3000 + 3], small[RP_TURN_CHANNEL_HDR + 100 + 3];
    size_t nb = media_frame(big, 1, 3000), ns = media_frame(small, 7, 100);
    if (conn_write(fd, big, nb) != (ssize_t)nb || conn_write(fd, small, ns) != (ssize_t)ns)
        return 9;
    char c;
    if (read(go, &c, 1) != 1)
        return 5;
    long last = -1, frames = 0;
    for (ssize_t n; (n = next_frame(fd, f)) != 0;) {
        if (n > 0 && f[0] < 0x40) { /* the Refresh of the client's close */
            size_t m = answer(f, out);
            if (conn_write(fd, out, m) != (ssize_t)m)
                return 10;
            continue;
        }
        if (n < 0 || !frame_ok(f, n, &last))
            return 6;
        frames++;
    }
    return frames >= AFTER_RESUME ? 0 : 7;
}

static int send_seq(struct rp_turn *t, long seq)
{
    uint8_t p[PAYLOAD(1)];
    memset(p, (uint8_t)seq, sizeof p);
    p[0] = (uint8_t)(seq >> 24), p[1] = (uint8_t)(seq >> 16), p[2] = (uint8_t)(seq >> 8), p[3] = (uint8_t)seq;
    return rp_turn_send(t, p, PAYLOAD(seq));
}

/* A throw-away self-signed P-256 certificate for the TLS relay. */
static SSL_CTX *relay_tls(void)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *crt = X509_new();
    assert_true(ctx && key && crt);
    X509_set_version(crt, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(crt), 1);
    X509_gmtime_adj(X509_getm_notBefore(crt), 0);
    X509_gmtime_adj(X509_getm_notAfter(crt), 3600);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(crt), "CN", MBSTRING_ASC, (const unsigned char *)"relay", -1,
                               -1, 0);
    X509_set_issuer_name(crt, X509_get_subject_name(crt));
    X509_set_pubkey(crt, key);
    assert_true(X509_sign(crt, key, EVP_sha256()) > 0);
    assert_int_equal(SSL_CTX_use_certificate(ctx, crt), 1);
    assert_int_equal(SSL_CTX_use_PrivateKey(ctx, key), 1);
    X509_free(crt);
    EVP_PKEY_free(key);
    return ctx;
}

static void stalled_relay_gets_only_whole_frames(bool tls)
{
    int lfd = socket(AF_INET, SOCK_STREAM, 0), go[2];
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t al = sizeof a;
    assert_true(lfd >= 0 && pipe(go) == 0);
    int small = 4096;
    /* Small windows: the stall fills them within a few frames. */
    assert_int_equal(setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small), 0);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(lfd, 1), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    SSL_CTX *ctx = tls ? relay_tls() : NULL;
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0)
        _exit(relay(lfd, go[0], ctx));
    close(lfd);
    SSL_CTX_free(ctx);
    char uri[64], err[256];
    snprintf(uri, sizeof uri, tls ? "turns:127.0.0.1:%u" : "turn:127.0.0.1:%u?transport=tcp", ntohs(a.sin_port));
    struct rp_turn_cfg cfg = { .uri = uri, .user = "u", .pass = "p", .dscp = -1, .insecure = true };
    enum rp_turn_fail why;
    uint64_t deadline = rp_monotonic_ns() + 10 * NS_PER_S;
    struct rp_turn *t = rp_turn_open(&cfg, deadline, &why, err, sizeof err);
    if (!t)
        fail_msg("rp_turn_open: %s", err);
    struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(10000) };
    peer.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (rp_turn_bind_peer(t, (struct sockaddr *)&peer, deadline, err, sizeof err) < 0)
        fail_msg("rp_turn_bind_peer: %s", err);
    int fd = rp_turn_fd(t);
    /* The frame too big to take is dropped; the one after it arrives. */
    uint8_t got[RP_TURN_MAX_MSG];
    ssize_t n;
    while ((n = rp_turn_recv(t, got, sizeof got, NULL)) < 0) {
        assert_int_equal(errno, EAGAIN);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        assert_int_equal(poll(&p, 1, 10000), 1);
    }
    assert_int_equal(n, 100);
    assert_int_equal(got[3], 7);
    assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    /* Until a write times out and the next cannot start: the relay's window,
     * both buffers, and one frame's tail waiting in the client. */
    long seq = 0;
    while (send_seq(t, seq) == 0)
        assert_true(++seq < 100000);
    assert_int_equal(write(go[1], "g", 1), 1);
    for (int i = 0; i < AFTER_RESUME; i++)
        while (send_seq(t, ++seq) != 0)
            assert_true(rp_monotonic_ns() < deadline); /* the relay reads again: frames go */
    /* The close sends what is left of a frame, then its Refresh, answered. */
    rp_turn_close(t, rp_monotonic_ns() + 10 * NS_PER_S);
    int status = 0;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static void test_a_stalled_tcp_relay_gets_only_whole_frames(void **state)
{
    (void)state;
    stalled_relay_gets_only_whole_frames(false);
}

static void test_a_stalled_tls_relay_gets_only_whole_frames(void **state)
{
    (void)state;
    stalled_relay_gets_only_whole_frames(true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_a_stalled_tcp_relay_gets_only_whole_frames),
        cmocka_unit_test(test_a_stalled_tls_relay_gets_only_whole_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
