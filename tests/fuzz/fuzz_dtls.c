/* libFuzzer target: DTLS records arriving at the daemon's WebRTC session, as
 * the browser (or anyone who got past ICE) sends them. The input is a series
 * of datagrams, each a 2-byte big-endian length and that many bytes (the
 * last one takes what is left if its length runs past the end), fed in turn
 * to a fresh server-role rp_dtls (one per input, so inputs are judged
 * alone; its certificate lives as long as the process).
 *
 * Aborts when: a datagram the server sends is empty or larger than the MTU
 * of 1200 bytes; the server ever reaches CONNECTED (it cannot: a client's
 * Finished depends on the server's fresh random, so no fixed input can
 * complete a handshake); a FAILED server has a reason other than
 * "handshake: ..." or the fingerprint mismatch (a fuzzed Certificate message
 * does get to the fingerprint check); rp_dtls_srtp_keys gives keys before
 * CONNECTED; or OpenSSL's error queue is not empty after a call (one
 * session's errors must never show up in another's). */
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "dtls.h"

#define MTU 1200
#define MAX_DATAGRAMS 16

static struct rp_dtls_cert *server_cert;
static const uint8_t peer_fp[32] = {   /* some browser's certificate: never this input's */
    0x5a, 0x1e, 0x0f, 0x3c, 0x9d, 0x22, 0x81, 0x47, 0xa0, 0x6b, 0x13, 0xee, 0x74, 0x02, 0xc8, 0x59,
    0x31, 0x9f, 0xd6, 0x0a, 0x4b, 0x7c, 0xe5, 0x18, 0x66, 0xb2, 0x2d, 0x90, 0x0e, 0xf3, 0x57, 0xa4,
};

static int on_send(void *ctx, const uint8_t *buf, size_t len)
{
    (void)ctx;
    (void)buf;
    if (len == 0 || len > MTU) {
        fprintf(stderr, "sent a datagram of %zu bytes\n", len);
        abort();
    }
    return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    char err[160];
    server_cert = rp_dtls_cert_new(err, sizeof err);
    if (!server_cert) {
        fprintf(stderr, "rp_dtls_cert_new: %s\n", err);
        abort();
    }
    return 0;
}

static void check_after_call(struct rp_dtls *d)
{
    if (ERR_peek_error() != 0) {
        fprintf(stderr, "OpenSSL error queue left non-empty\n");
        abort();
    }
    enum rp_dtls_state st = rp_dtls_state(d);
    const char *why = rp_dtls_error(d);
    if (st == RP_DTLS_CONNECTED) {
        fprintf(stderr, "garbage completed a handshake\n");
        abort();
    }
    if (st == RP_DTLS_FAILED && strncmp(why, "handshake: ", 11) != 0 &&
        strcmp(why, "peer fingerprint does not match the SDP") != 0) {
        fprintf(stderr, "unexpected reason: %s\n", why);
        abort();
    }
    if (st == RP_DTLS_HANDSHAKING && why[0] != '\0')
        abort();
    enum rp_srtp_suite suite;
    uint8_t local[RP_SRTP_MAX_KEY_LEN], remote[RP_SRTP_MAX_KEY_LEN];
    if (rp_dtls_srtp_keys(d, &suite, local, remote) != -1)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[160];
    struct rp_dtls *d = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-256", peer_fp, sizeof peer_fp, on_send,
                                    NULL, err, sizeof err);
    if (!d)
        abort();
    if (rp_dtls_start(d) != RP_DTLS_HANDSHAKING)
        abort();
    for (int i = 0; i < MAX_DATAGRAMS && size >= 2; i++) {
        size_t n = (size_t)data[0] << 8 | data[1];
        data += 2;
        size -= 2;
        if (n > size)
            n = size;
        rp_dtls_on_datagram(d, data, n);
        check_after_call(d);
        (void)rp_dtls_timeout_ns(d);
        check_after_call(d);
        data += n;
        size -= n;
    }
    rp_dtls_free(d);
    return 0;
}

#ifdef RP_FUZZ_GEN_SEEDS
/* Seeds: what a real client (an rp_dtls in the client role) sends a server:
 * its ClientHello, the whole conversation (ClientHello, then its second
 * flight, which a fresh server sees with another random and whose
 * certificate fails the fingerprint check), and a ClientHello cut short. */
struct capture {
    size_t n;
    size_t len[8];
    uint8_t buf[8][MTU];
};

static int capture_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct capture *c = ctx;
    if (c->n < 8 && len <= MTU) {
        memcpy(c->buf[c->n], buf, len);
        c->len[c->n++] = len;
    }
    return 0;
}

static void write_seed(const char *dir, const char *name, const struct capture *c, size_t first, size_t count,
                       size_t cut)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    for (size_t i = first; f && i < first + count && i < c->n; i++) {
        size_t n = cut && cut < c->len[i] ? cut : c->len[i];
        uint8_t hdr[2] = { (uint8_t)(n >> 8), (uint8_t)n };
        if (fwrite(hdr, 1, 2, f) != 2 || fwrite(c->buf[i], 1, n, f) != n)
            break;
    }
    if (!f || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    char err[160];
    struct rp_dtls_cert *sc = rp_dtls_cert_new(err, sizeof err), *cc = rp_dtls_cert_new(err, sizeof err);
    struct capture to_server = { 0 }, to_client = { 0 };
    struct rp_dtls *srv = rp_dtls_new(sc, RP_DTLS_SERVER, "sha-256", rp_dtls_cert_sha256(cc), 32, capture_send,
                                      &to_client, err, sizeof err);
    struct rp_dtls *cli = rp_dtls_new(cc, RP_DTLS_CLIENT, "sha-256", rp_dtls_cert_sha256(sc), 32, capture_send,
                                      &to_server, err, sizeof err);
    if (!srv || !cli)
        return 1;
    rp_dtls_start(cli);
    rp_dtls_on_datagram(srv, to_server.buf[0], to_server.len[0]);
    for (size_t i = 0; i < to_client.n; i++)
        rp_dtls_on_datagram(cli, to_client.buf[i], to_client.len[i]);
    if (to_server.n < 2)
        return 1;
    write_seed(argv[1], "client_hello", &to_server, 0, 1, 0);
    write_seed(argv[1], "client_flights", &to_server, 0, to_server.n, 0);
    write_seed(argv[1], "client_hello_cut", &to_server, 0, 1, 40);
    rp_dtls_free(srv);
    rp_dtls_free(cli);
    rp_dtls_cert_free(sc);
    rp_dtls_cert_free(cc);
    return 0;
}
#endif
