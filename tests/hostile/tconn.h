/* Client connections of the hostile-suite tools (slowcli.c, stress.c): plain
 * TCP or TLS, read and written the same way in both. Header-only, since each
 * tool is a single translation unit. */
#ifndef RP_TESTS_TCONN_H
#define RP_TESTS_TCONN_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A client context that accepts the suite's self-signed certificate; exits
 * with a message naming the tool when OpenSSL cannot make one. */
static inline SSL_CTX *tconn_client_ctx(const char *tool, long mode)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        fprintf(stderr, "%s: cannot create TLS context\n", tool);
        exit(1);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    if (mode)
        SSL_CTX_set_mode(ctx, mode);
    return ctx;
}

static inline void tconn_close(SSL **ssl, int *fd)
{
    if (*ssl)
        SSL_free(*ssl);
    if (*fd >= 0)
        close(*fd);
    *ssl = NULL;
    *fd = -1;
}

/* All n bytes, or -1. */
static inline int tconn_write_all(SSL *ssl, int fd, const void *buf, size_t n)
{
    if (ssl)
        return SSL_write(ssl, buf, (int)n) == (int)n ? 0 : -1;
    return send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* >0 bytes, 0 closed by the peer (or reset), -1 nothing there yet (would
 * block) or a receive timeout. */
static inline ssize_t tconn_read(SSL *ssl, int fd, void *buf, size_t n)
{
    if (ssl) {
        ERR_clear_error();
        int r = SSL_read(ssl, buf, (int)n);
        if (r > 0)
            return r;
        int e = SSL_get_error(ssl, r);
        return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? -1 : 0;
    }
    ssize_t r = recv(fd, buf, n, 0);
    if (r > 0)
        return r;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return -1;
    return 0;
}

/* Reads a whole (Connection: close) response, up to 4 KiB; its status, 0 if none. */
static inline int tconn_read_status(SSL *ssl, int fd)
{
    char buf[4096];
    size_t have = 0;
    for (;;) {
        ssize_t r = tconn_read(ssl, fd, buf + have, sizeof buf - 1 - have);
        if (r <= 0)
            break;
        have += (size_t)r;
        if (have >= sizeof buf - 1)
            break;
    }
    buf[have] = '\0';
    int status = 0;
    (void)sscanf(buf, "HTTP/1.%*d %d", &status);
    return status;
}

#endif
