/* Unit tests for src/dtls.c.
 *
 * Two rp_dtls in one process (a server and a client, each given the other's
 * fingerprint) exchange datagrams through in-memory queues. The other end of
 * reference is OpenSSL's own `openssl s_client -dtls1_2 -use_srtp`, run
 * against a server rp_dtls bridged to a UDP socket on 127.0.0.1: the key
 * material s_client prints (-keymatexport EXTRACTOR-dtls_srtp) must be what
 * rp_dtls_srtp_keys derived, split as RFC 5764 §4.2 says. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "dtls.h"
#include "rtp.h"
#include "srtp.h"

#define MTU 1200
#define QMAX 64
#define DGRAM_MAX 2048

struct queue {
    size_t n;
    size_t len[QMAX];
    uint8_t buf[QMAX][DGRAM_MAX];
    size_t over_mtu;      /* datagrams larger than the MTU: must stay 0 */
};

static int enqueue(void *ctx, const uint8_t *buf, size_t len)
{
    struct queue *q = ctx;
    if (len > MTU)
        q->over_mtu++;
    if (q->n == QMAX || len > DGRAM_MAX)
        return -1;
    memcpy(q->buf[q->n], buf, len);
    q->len[q->n++] = len;
    return 0;
}

static struct rp_dtls_cert *server_cert, *client_cert;

static int group_setup(void **state)
{
    (void)state;
    char err[160];
    if (rp_srtp_global_init() != 0)
        return -1;
    server_cert = rp_dtls_cert_new(err, sizeof err);
    client_cert = rp_dtls_cert_new(err, sizeof err);
    return server_cert && client_cert ? 0 : -1;
}

static int group_teardown(void **state)
{
    (void)state;
    rp_dtls_cert_free(server_cert);
    rp_dtls_cert_free(client_cert);
    rp_srtp_global_fini();
    return 0;
}

/* A server and a client, each expecting the other's certificate. */
struct pair {
    struct queue to_server, to_client;
    struct rp_dtls *server, *client;
};

static struct pair *pair_new(const uint8_t *server_expects, const uint8_t *client_expects)
{
    char err[160];
    struct pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->server = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-256", server_expects, 32, enqueue, &p->to_client,
                            err, sizeof err);
    assert_non_null(p->server);
    p->client = rp_dtls_new(client_cert, RP_DTLS_CLIENT, "sha-256", client_expects, 32, enqueue, &p->to_server,
                            err, sizeof err);
    assert_non_null(p->client);
    return p;
}

static void pair_free(struct pair *p)
{
    assert_int_equal(p->to_server.over_mtu + p->to_client.over_mtu, 0);
    rp_dtls_free(p->server);
    rp_dtls_free(p->client);
    free(p);
}

static void deliver(struct queue *q, struct rp_dtls *to)
{
    struct queue copy = *q;   /* `to` may answer into the other queue only */
    q->n = 0;
    for (size_t i = 0; i < copy.n; i++)
        rp_dtls_on_datagram(to, copy.buf[i], copy.len[i]);
}

/* Passes datagrams both ways until neither side has anything to say. */
static void pump(struct pair *p)
{
    for (int round = 0; round < 20 && (p->to_server.n || p->to_client.n); round++) {
        deliver(&p->to_server, p->server);
        deliver(&p->to_client, p->client);
    }
}

static struct pair *connected_pair(void)
{
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    assert_int_equal(rp_dtls_start(p->server), RP_DTLS_HANDSHAKING);
    assert_int_equal(p->to_client.n, 0);            /* the server waits for the ClientHello */
    assert_int_equal(rp_dtls_start(p->client), RP_DTLS_HANDSHAKING);
    assert_int_equal(p->to_server.n, 1);
    pump(p);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_CONNECTED);
    assert_string_equal(rp_dtls_error(p->server), "");
    return p;
}

static void test_cert_fingerprint_is_sha256_of_der(void **state)
{
    (void)state;
    /* Independently: a fresh certificate differs, and a zero digest is no digest. */
    char err[160];
    struct rp_dtls_cert *c = rp_dtls_cert_new(err, sizeof err);
    assert_non_null(c);
    static const uint8_t zero[32];
    assert_memory_not_equal(rp_dtls_cert_sha256(c), zero, 32);
    assert_memory_not_equal(rp_dtls_cert_sha256(c), rp_dtls_cert_sha256(server_cert), 32);
    rp_dtls_cert_free(c);
}

static void test_handshake_connects_and_keys_cross_match(void **state)
{
    (void)state;
    struct pair *p = connected_pair();
    enum rp_srtp_suite ss, cs;
    uint8_t s_local[RP_SRTP_MAX_KEY_LEN], s_remote[RP_SRTP_MAX_KEY_LEN];
    uint8_t c_local[RP_SRTP_MAX_KEY_LEN], c_remote[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(p->server, &ss, s_local, s_remote), 0);
    assert_int_equal(rp_dtls_srtp_keys(p->client, &cs, c_local, c_remote), 0);
    /* Both offer GCM first: GCM is chosen. */
    assert_int_equal(ss, RP_SRTP_AEAD_AES_128_GCM);
    assert_int_equal(cs, ss);
    size_t n = rp_srtp_key_len(ss);
    assert_int_equal(n, 28);
    assert_memory_equal(c_local, s_remote, n);
    assert_memory_equal(s_local, c_remote, n);
    assert_memory_not_equal(s_local, s_remote, n);
    assert_false(rp_dtls_peer_closed(p->server));
    assert_int_equal(rp_dtls_timeout_ns(p->client), UINT64_MAX);   /* nothing left to retransmit */
    pair_free(p);
}

/* Garbage and truncated records after the handshake change nothing: still
 * CONNECTED, the same keys. */
static void test_garbage_after_connected_keeps_keys(void **state)
{
    (void)state;
    struct pair *p = connected_pair();
    enum rp_srtp_suite s1, s2;
    uint8_t l1[RP_SRTP_MAX_KEY_LEN], r1[RP_SRTP_MAX_KEY_LEN], l2[RP_SRTP_MAX_KEY_LEN], r2[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(p->server, &s1, l1, r1), 0);
    uint8_t buf[300];
    unsigned seed = 5;
    for (int i = 0; i < 200; i++) {
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)rand_r(&seed);
        buf[0] = (uint8_t)(20 + i % 4);   /* change_cipher_spec, alert, handshake, application_data */
        buf[1] = 0xfe, buf[2] = 0xfd;
        assert_int_equal(rp_dtls_on_datagram(p->server, buf, n), RP_DTLS_CONNECTED);
    }
    assert_int_equal(rp_dtls_srtp_keys(p->server, &s2, l2, r2), 0);
    assert_int_equal(s1, s2);
    assert_memory_equal(l1, l2, rp_srtp_key_len(s1));
    assert_memory_equal(r1, r2, rp_srtp_key_len(s1));
    assert_int_equal(ERR_peek_error(), 0);
    pair_free(p);
}

static void test_keys_before_connected_refused(void **state)
{
    (void)state;
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    enum rp_srtp_suite s;
    uint8_t a[RP_SRTP_MAX_KEY_LEN], b[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(p->server, &s, a, b), -1);
    pair_free(p);
}

/* One RTP packet protected with `out_key`, unprotected with `in_key`. */
static enum rp_srtp_result srtp_round_trip(enum rp_srtp_suite s, const uint8_t *out_key, const uint8_t *in_key)
{
    char err[160];
    uint8_t pkt[256], payload[160];
    memset(payload, 0xd5, sizeof payload);
    struct rp_rtp_hdr hdr = { .pt = 111, .seq = 7, .ts = 960, .ssrc = 0x11223344 };
    size_t n = rp_rtp_build(pkt, sizeof pkt, &hdr, 0, NULL, 0, payload, sizeof payload);
    assert_true(n > 0);
    struct rp_srtp *out = rp_srtp_new(s, RP_SRTP_OUTBOUND, out_key, rp_srtp_key_len(s), err, sizeof err);
    struct rp_srtp *in = rp_srtp_new(s, RP_SRTP_INBOUND, in_key, rp_srtp_key_len(s), err, sizeof err);
    assert_non_null(out);
    assert_non_null(in);
    assert_int_equal(rp_srtp_protect(out, pkt, &n, sizeof pkt), RP_SRTP_OK);
    enum rp_srtp_result r = rp_srtp_unprotect(in, pkt, &n);
    if (r == RP_SRTP_OK)
        assert_memory_equal(pkt + 12, payload, sizeof payload);
    rp_srtp_free(out);
    rp_srtp_free(in);
    return r;
}

static void test_exported_keys_protect_and_unprotect(void **state)
{
    (void)state;
    struct pair *p = connected_pair();
    enum rp_srtp_suite s;
    uint8_t s_local[RP_SRTP_MAX_KEY_LEN], s_remote[RP_SRTP_MAX_KEY_LEN];
    uint8_t c_local[RP_SRTP_MAX_KEY_LEN], c_remote[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(p->server, &s, s_local, s_remote), 0);
    assert_int_equal(rp_dtls_srtp_keys(p->client, &s, c_local, c_remote), 0);
    assert_int_equal(srtp_round_trip(s, c_local, s_remote), RP_SRTP_OK);   /* browser -> daemon */
    assert_int_equal(srtp_round_trip(s, s_local, c_remote), RP_SRTP_OK);   /* daemon -> browser */
    /* Our own key does not open what the peer sent: the directions differ. */
    assert_int_equal(srtp_round_trip(s, c_local, s_local), RP_SRTP_EAUTH);
    pair_free(p);
}

static void test_wrong_fingerprint_fails(void **state)
{
    (void)state;
    uint8_t wrong[32];
    memcpy(wrong, rp_dtls_cert_sha256(client_cert), 32);
    wrong[31] ^= 0x01;
    /* The server expects another client certificate. */
    struct pair *p = pair_new(wrong, rp_dtls_cert_sha256(server_cert));
    rp_dtls_start(p->client);
    pump(p);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_FAILED);
    assert_string_equal(rp_dtls_error(p->server), "peer fingerprint does not match the SDP");
    assert_int_not_equal(rp_dtls_state(p->client), RP_DTLS_CONNECTED);
    assert_int_equal(ERR_peek_error(), 0);      /* nothing left for the next session's call */
    enum rp_srtp_suite s;
    uint8_t a[RP_SRTP_MAX_KEY_LEN], b[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(p->server, &s, a, b), -1);
    pair_free(p);

    /* The client expects another server certificate. */
    memcpy(wrong, rp_dtls_cert_sha256(server_cert), 32);
    wrong[0] ^= 0x80;
    p = pair_new(rp_dtls_cert_sha256(client_cert), wrong);
    rp_dtls_start(p->client);
    pump(p);
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_FAILED);
    assert_string_equal(rp_dtls_error(p->client), "peer fingerprint does not match the SDP");
    assert_int_not_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    pair_free(p);
}

static void test_fingerprint_hash_must_match_its_length(void **state)
{
    (void)state;
    char err[160] = "";
    struct queue q = { 0 };
    uint8_t fp[64] = { 0 };
    assert_null(rp_dtls_new(server_cert, RP_DTLS_SERVER, "md5", fp, 16, enqueue, &q, err, sizeof err));
    assert_true(err[0] != '\0');
    assert_null(rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-256", fp, 20, enqueue, &q, err, sizeof err));
    struct rp_dtls *d = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-1", fp, 20, enqueue, &q, err, sizeof err);
    assert_non_null(d);
    rp_dtls_free(d);
    d = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-512", fp, 64, enqueue, &q, err, sizeof err);
    assert_non_null(d);
    rp_dtls_free(d);
}

/* A SHA-256 digest handed over as the first half of a "sha-512" fingerprint
 * is no match: the hash the SDP names is the one computed. */
static void test_fingerprint_checked_with_the_named_hash(void **state)
{
    (void)state;
    uint8_t fp512[64] = { 0 };
    memcpy(fp512, rp_dtls_cert_sha256(client_cert), 32);
    char err[160];
    struct pair *p = calloc(1, sizeof *p);
    assert_non_null(p);
    p->server = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-512", fp512, 64, enqueue, &p->to_client,
                            err, sizeof err);
    p->client = rp_dtls_new(client_cert, RP_DTLS_CLIENT, "sha-256", rp_dtls_cert_sha256(server_cert), 32,
                            enqueue, &p->to_server, err, sizeof err);
    assert_non_null(p->server);
    assert_non_null(p->client);
    rp_dtls_start(p->client);
    pump(p);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_FAILED);
    assert_string_equal(rp_dtls_error(p->server), "peer fingerprint does not match the SDP");
    pair_free(p);
}

/* The ClientHello a fresh client sends. */
static size_t client_hello(uint8_t *out, size_t cap)
{
    char err[160];
    struct queue q = { 0 };
    struct rp_dtls *c = rp_dtls_new(client_cert, RP_DTLS_CLIENT, "sha-256", rp_dtls_cert_sha256(server_cert), 32,
                                    enqueue, &q, err, sizeof err);
    assert_non_null(c);
    rp_dtls_start(c);
    rp_dtls_free(c);
    assert_int_equal(q.n, 1);
    assert_true(q.len[0] <= cap && q.len[0] > 25);
    assert_int_equal(q.buf[0][0], 22);    /* handshake record */
    assert_int_equal(q.buf[0][13], 1);    /* client_hello */
    memcpy(out, q.buf[0], q.len[0]);
    return q.len[0];
}

/* A ClientHello from an address nobody checked the return path of (a token
 * holder spoofing a victim) gets a HelloVerifyRequest, smaller than itself,
 * and nothing more: the full server flight only once the cookie came back. */
static void test_first_answer_is_a_cookie_smaller_than_the_hello(void **state)
{
    (void)state;
    char err[160];
    uint8_t hello[DGRAM_MAX];
    size_t n = client_hello(hello, sizeof hello);
    struct queue out = { 0 };
    struct rp_dtls *srv = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-256", rp_dtls_cert_sha256(client_cert), 32,
                                      enqueue, &out, err, sizeof err);
    assert_non_null(srv);
    assert_int_equal(rp_dtls_on_datagram(srv, hello, n), RP_DTLS_HANDSHAKING);
    assert_int_equal(out.n, 1);
    assert_int_equal(out.buf[0][0], 22);   /* handshake record */
    assert_int_equal(out.buf[0][13], 3);   /* hello_verify_request */
    assert_true(out.len[0] < n);
    /* The same hello again (no cookie in it): again only the small answer. */
    out.n = 0;
    rp_dtls_on_datagram(srv, hello, n);
    assert_true(out.n <= 1 && (out.n == 0 || (out.buf[0][13] == 3 && out.len[0] < n)));
    rp_dtls_free(srv);
}

/* Truncated records (every cut of a real ClientHello) are dropped: the server
 * stays HANDSHAKING, answers nothing, and still completes a handshake after. */
static void test_truncated_records_leave_server_handshaking(void **state)
{
    (void)state;
    uint8_t hello[DGRAM_MAX];
    size_t n = client_hello(hello, sizeof hello);
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    for (size_t cut = 1; cut < n; cut++)
        assert_int_equal(rp_dtls_on_datagram(p->server, hello, cut), RP_DTLS_HANDSHAKING);
    /* The record header claims more than the datagram holds. */
    hello[11] = 0xff;
    hello[12] = 0xff;
    assert_int_equal(rp_dtls_on_datagram(p->server, hello, n), RP_DTLS_HANDSHAKING);
    assert_int_equal(p->to_client.n, 0);
    rp_dtls_start(p->client);
    pump(p);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_CONNECTED);
    pair_free(p);
}

/* Random records (first byte 20..63, as the demultiplexer lets through, some
 * with a real DTLS 1.2 header) never connect and never crash; each goes to a
 * fresh server and to one that sees them all. */
static void test_garbage_records_never_connect(void **state)
{
    (void)state;
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    uint8_t buf[1500];
    unsigned seed = 17, failed = 0;
    for (int i = 0; i < 400; i++) {
        size_t n = 1 + (size_t)rand_r(&seed) % sizeof buf;
        for (size_t k = 0; k < n; k++)
            buf[k] = (uint8_t)rand_r(&seed);
        buf[0] = (uint8_t)(20 + buf[0] % 44);
        if (i % 2 && n > 13) {   /* handshake record, DTLS 1.2, epoch 0, fitting length */
            buf[0] = 22, buf[1] = 0xfe, buf[2] = 0xfd, buf[3] = 0, buf[4] = 0;
            buf[11] = (uint8_t)((n - 13) >> 8), buf[12] = (uint8_t)(n - 13);
        }
        enum rp_dtls_state st = rp_dtls_on_datagram(p->server, buf, n);
        assert_int_not_equal(st, RP_DTLS_CONNECTED);
        struct queue q = { 0 };
        char err[160];
        struct rp_dtls *fresh = rp_dtls_new(server_cert, RP_DTLS_SERVER, "sha-256", rp_dtls_cert_sha256(client_cert),
                                            32, enqueue, &q, err, sizeof err);
        assert_non_null(fresh);
        st = rp_dtls_on_datagram(fresh, buf, n);
        assert_int_not_equal(st, RP_DTLS_CONNECTED);
        if (st == RP_DTLS_FAILED) {
            failed++;
            assert_true(strncmp(rp_dtls_error(fresh), "handshake: ", 11) == 0);
        }
        assert_int_equal(q.over_mtu, 0);
        assert_int_equal(ERR_peek_error(), 0);
        rp_dtls_free(fresh);
    }
    print_message("garbage: %u of 400 fresh servers FAILED, the rest still HANDSHAKING\n", failed);
    pair_free(p);
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Waits (polling rp_dtls_timeout_ns, never a fixed sleep) until d's timer is
 * due, at most limit_ns; true if it became due. */
static bool wait_until_due(struct rp_dtls *d, uint64_t limit_ns)
{
    uint64_t end = now_ns() + limit_ns;
    for (;;) {
        uint64_t t = rp_dtls_timeout_ns(d);
        if (t == 0)
            return true;
        if (t == UINT64_MAX || now_ns() >= end)
            return false;
        if (t > 20000000u)
            t = 20000000u;
        struct timespec ts = { 0, (long)t };
        nanosleep(&ts, NULL);
    }
}

/* The ClientHello is lost: nothing happens before the timer is due, then
 * rp_dtls_tick sends it again and the handshake completes. */
static void test_lost_flight_retransmitted_on_tick(void **state)
{
    (void)state;
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    rp_dtls_start(p->client);
    assert_int_equal(p->to_server.n, 1);
    p->to_server.n = 0;                          /* lost */
    uint64_t t = rp_dtls_timeout_ns(p->client);
    assert_true(t > 0 && t <= 1000000000u);      /* OpenSSL's first timeout: 1 s */
    rp_dtls_tick(p->client);                     /* not due yet: nothing sent */
    assert_int_equal(p->to_server.n, 0);
    assert_true(wait_until_due(p->client, 3000000000u));
    rp_dtls_tick(p->client);
    assert_int_equal(p->to_server.n, 1);
    assert_int_equal(p->to_server.buf[0][13], 1);   /* the ClientHello again */
    pump(p);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_CONNECTED);
    pair_free(p);
}

/* The server's last flight (ChangeCipherSpec + Finished) is lost: the client
 * retransmits its own flight on its timer, and the CONNECTED server answers
 * it with its last flight again. */
static void test_lost_last_flight_resent_by_connected_server(void **state)
{
    (void)state;
    struct pair *p = pair_new(rp_dtls_cert_sha256(client_cert), rp_dtls_cert_sha256(server_cert));
    rp_dtls_start(p->client);
    for (int round = 0; round < 20 && rp_dtls_state(p->server) != RP_DTLS_CONNECTED; round++) {
        deliver(&p->to_server, p->server);
        if (rp_dtls_state(p->server) != RP_DTLS_CONNECTED)
            deliver(&p->to_client, p->client);
    }
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    assert_true(p->to_client.n > 0);
    p->to_client.n = 0;                          /* lost */
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_HANDSHAKING);
    assert_true(wait_until_due(p->client, 3000000000u));
    rp_dtls_tick(p->client);
    assert_true(p->to_server.n > 0);
    pump(p);
    assert_int_equal(rp_dtls_state(p->client), RP_DTLS_CONNECTED);
    assert_int_equal(rp_dtls_state(p->server), RP_DTLS_CONNECTED);
    pair_free(p);
}

/* ---- interop: openssl s_client as the DTLS client ---- */

struct sclient {
    char dir[64];
    uint8_t fp[32];            /* its certificate's SHA-256 */
    uint8_t fp384[48];         /* and SHA-384, as a browser may name it */
    int udp;                   /* our server's socket on 127.0.0.1 */
    struct sockaddr_in peer;
    bool have_peer;
    pid_t pid;
    int in_fd, out_fd;         /* s_client's stdin (ours to write), stdout (ours to read) */
    char out[65536];
    size_t out_len;
    bool out_eof;
    struct rp_dtls *server;
};

static int udp_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct sclient *s = ctx;
    if (!s->have_peer)
        return -1;
    return sendto(s->udp, buf, len, 0, (const struct sockaddr *)&s->peer, sizeof s->peer) == (ssize_t)len ? 0 : -1;
}

/* A P-256 client certificate for s_client (made by openssl req), and its fingerprint. */
static void sclient_cert(struct sclient *s)
{
    snprintf(s->dir, sizeof s->dir, "/tmp/test_dtls.XXXXXX");
    assert_non_null(mkdtemp(s->dir));
    char cmd[512];
    snprintf(cmd, sizeof cmd, "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
             "-subj /CN=sclient -days 2 -keyout %s/key.pem -out %s/cert.pem 2>/dev/null", s->dir, s->dir);
    assert_int_equal(system(cmd), 0);
    snprintf(cmd, sizeof cmd, "%s/cert.pem", s->dir);
    FILE *f = fopen(cmd, "r");
    assert_non_null(f);
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    assert_non_null(x);
    unsigned n = 0;
    assert_int_equal(X509_digest(x, EVP_sha256(), s->fp, &n), 1);
    assert_int_equal(X509_digest(x, EVP_sha384(), s->fp384, &n), 1);
    X509_free(x);
}

static void sclient_spawn(struct sclient *s, const char *profile, unsigned exportlen)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof a;
    s->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    assert_true(s->udp >= 0);
    assert_int_equal(bind(s->udp, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(s->udp, (struct sockaddr *)&a, &alen), 0);
    char connect_to[32], cert[96], key[96], len[16];
    snprintf(connect_to, sizeof connect_to, "127.0.0.1:%u", ntohs(a.sin_port));
    snprintf(cert, sizeof cert, "%s/cert.pem", s->dir);
    snprintf(key, sizeof key, "%s/key.pem", s->dir);
    snprintf(len, sizeof len, "%u", exportlen);
    int in[2], out[2];
    assert_int_equal(pipe(in), 0);
    assert_int_equal(pipe(out), 0);
    s->pid = fork();
    assert_true(s->pid >= 0);
    if (s->pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(null, 2);
        close(in[1]);
        close(out[0]);
        execlp("openssl", "openssl", "s_client", "-dtls1_2", "-connect", connect_to, "-cert", cert, "-key", key,
               "-use_srtp", profile, "-keymatexport", "EXTRACTOR-dtls_srtp", "-keymatexportlen", len, (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    s->in_fd = in[1];
    s->out_fd = out[0];
}

/* One turn of the bridge: datagrams from s_client into the server, its
 * stdout into s->out, the server's timer. */
static void sclient_turn(struct sclient *s)
{
    struct pollfd pfd[2] = { { .fd = s->udp, .events = POLLIN }, { .fd = s->out_fd, .events = POLLIN } };
    (void)poll(pfd, s->out_eof ? 1 : 2, 20);
    uint8_t buf[DGRAM_MAX];
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof from;
        ssize_t n = recvfrom(s->udp, buf, sizeof buf, 0, (struct sockaddr *)&from, &flen);
        if (n <= 0)
            break;
        s->peer = from;
        s->have_peer = true;
        rp_dtls_on_datagram(s->server, buf, (size_t)n);
    }
    if (!s->out_eof && (pfd[1].revents & (POLLIN | POLLHUP))) {
        ssize_t n = read(s->out_fd, s->out + s->out_len, sizeof s->out - 1 - s->out_len);
        if (n <= 0)
            s->out_eof = true;
        else
            s->out_len += (size_t)n;
        s->out[s->out_len] = '\0';
    }
    if (rp_dtls_timeout_ns(s->server) == 0)
        rp_dtls_tick(s->server);
}

/* The hex after "Keying material: " once its line is complete; bytes or 0. */
static size_t sclient_keymat(const struct sclient *s, uint8_t *out, size_t cap)
{
    const char *p = strstr(s->out, "Keying material: ");
    if (!p || !strchr(p, '\n'))
        return 0;
    p += strlen("Keying material: ");
    size_t n = 0;
    unsigned v;
    while (n < cap && sscanf(p, "%2x", &v) == 1 && p[0] != '\n' && p[1] != '\n') {
        out[n++] = (uint8_t)v;
        p += 2;
    }
    return n;
}

static void sclient_reap(struct sclient *s)
{
    if (s->in_fd >= 0)
        close(s->in_fd);
    close(s->out_fd);
    close(s->udp);
    int status;
    for (int i = 0; i < 100 && waitpid(s->pid, &status, WNOHANG) == 0; i++) {
        if (i == 50)
            kill(s->pid, SIGTERM);
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
    }
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", s->dir);
    (void)system(cmd);
}

/* hash: the SDP name our server is given s_client's fingerprint under. */
static struct sclient *sclient_start(const char *profile, unsigned exportlen, const char *hash)
{
    struct sclient *s = calloc(1, sizeof *s);
    assert_non_null(s);
    char err[160];
    sclient_cert(s);
    bool sha384 = strcmp(hash, "sha-384") == 0;
    s->server = rp_dtls_new(server_cert, RP_DTLS_SERVER, hash, sha384 ? s->fp384 : s->fp, sha384 ? 48 : 32,
                            udp_send, s, err, sizeof err);
    assert_non_null(s->server);
    sclient_spawn(s, profile, exportlen);
    return s;
}

/* Bridges until the server leaves HANDSHAKING and s_client has printed its
 * key material (or 10 s pass). The key material's length, 0 if none. */
static size_t sclient_handshake(struct sclient *s, uint8_t *km, size_t cap)
{
    uint64_t end = now_ns() + 10000000000u;
    size_t kn = 0;
    while (now_ns() < end && !s->out_eof) {
        sclient_turn(s);
        kn = sclient_keymat(s, km, cap);
        if (rp_dtls_state(s->server) == RP_DTLS_FAILED || (kn && rp_dtls_state(s->server) == RP_DTLS_CONNECTED))
            break;
    }
    if (!kn && rp_dtls_state(s->server) != RP_DTLS_FAILED)
        print_message("s_client printed:\n%s\n", s->out);
    return kn;
}

/* What s_client exported must be client_key|server_key|client_salt|server_salt
 * (RFC 5764 §4.2) with ours (the server's) local and its remote. */
static void check_keymat(const struct sclient *s, const uint8_t *km, size_t kn, enum rp_srtp_suite want)
{
    enum rp_srtp_suite suite;
    uint8_t local[RP_SRTP_MAX_KEY_LEN], remote[RP_SRTP_MAX_KEY_LEN];
    assert_int_equal(rp_dtls_srtp_keys(s->server, &suite, local, remote), 0);
    assert_int_equal(suite, want);
    size_t n = rp_srtp_key_len(suite), key = 16, salt = n - key;
    assert_int_equal(kn, 2 * n);
    assert_memory_equal(km, remote, key);
    assert_memory_equal(km + key, local, key);
    assert_memory_equal(km + 2 * key, remote + key, salt);
    assert_memory_equal(km + 2 * key + salt, local + key, salt);
}

static void sclient_keys_case(const char *profile, unsigned exportlen, enum rp_srtp_suite want, const char *hash)
{
    struct sclient *s = sclient_start(profile, exportlen, hash);
    uint8_t km[128];
    size_t kn = sclient_handshake(s, km, sizeof km);
    assert_string_equal(rp_dtls_error(s->server), "");
    assert_int_equal(rp_dtls_state(s->server), RP_DTLS_CONNECTED);
    char line[96];
    snprintf(line, sizeof line, "SRTP Extension negotiated, profile=%s", profile);
    assert_non_null(strstr(s->out, line));
    check_keymat(s, km, kn, want);

    /* Application data, then close_notify (stdin's end): ignored, noted, keys kept. */
    assert_int_equal(write(s->in_fd, "hello\n", 6), 6);
    close(s->in_fd);
    s->in_fd = -1;
    uint64_t end = now_ns() + 5000000000u;
    while (now_ns() < end && !s->out_eof && !rp_dtls_peer_closed(s->server))
        sclient_turn(s);
    assert_true(rp_dtls_peer_closed(s->server));
    assert_int_equal(rp_dtls_state(s->server), RP_DTLS_CONNECTED);
    check_keymat(s, km, kn, want);
    sclient_reap(s);
    rp_dtls_free(s->server);
    free(s);
}

static void test_openssl_s_client_aes_cm_keys_match(void **state)
{
    (void)state;
    sclient_keys_case("SRTP_AES128_CM_SHA1_80", 60, RP_SRTP_AES_CM_128_HMAC_SHA1_80, "sha-256");
}

static void test_openssl_s_client_gcm_keys_match(void **state)
{
    (void)state;
    /* This time the SDP names its fingerprint with sha-384. */
    sclient_keys_case("SRTP_AEAD_AES_128_GCM", 56, RP_SRTP_AEAD_AES_128_GCM, "sha-384");
}

/* s_client offers only a profile we do not: the handshake itself succeeds
 * (OpenSSL leaves use_srtp out of the ServerHello), our server fails it. */
static void test_no_common_srtp_profile_fails(void **state)
{
    (void)state;
    struct sclient *s = sclient_start("SRTP_AES128_CM_SHA1_32", 60, "sha-256");
    uint8_t km[128];
    (void)sclient_handshake(s, km, sizeof km);
    assert_int_equal(rp_dtls_state(s->server), RP_DTLS_FAILED);
    assert_string_equal(rp_dtls_error(s->server), "no SRTP profile in common");
    sclient_reap(s);
    rp_dtls_free(s->server);
    free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cert_fingerprint_is_sha256_of_der),
        cmocka_unit_test(test_handshake_connects_and_keys_cross_match),
        cmocka_unit_test(test_garbage_after_connected_keeps_keys),
        cmocka_unit_test(test_keys_before_connected_refused),
        cmocka_unit_test(test_exported_keys_protect_and_unprotect),
        cmocka_unit_test(test_wrong_fingerprint_fails),
        cmocka_unit_test(test_fingerprint_hash_must_match_its_length),
        cmocka_unit_test(test_fingerprint_checked_with_the_named_hash),
        cmocka_unit_test(test_first_answer_is_a_cookie_smaller_than_the_hello),
        cmocka_unit_test(test_truncated_records_leave_server_handshaking),
        cmocka_unit_test(test_garbage_records_never_connect),
        cmocka_unit_test(test_lost_flight_retransmitted_on_tick),
        cmocka_unit_test(test_lost_last_flight_resent_by_connected_server),
        cmocka_unit_test(test_openssl_s_client_aes_cm_keys_match),
        cmocka_unit_test(test_openssl_s_client_gcm_keys_match),
        cmocka_unit_test(test_no_common_srtp_profile_fails),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
