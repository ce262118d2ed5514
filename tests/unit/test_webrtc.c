/* The WebRTC transport of a browser session (src/webrtc.c), against a client
 * built from the project's own ICE, DTLS and RTCP code: checks gate DTLS,
 * the handshake's address is the peer and stays it, RTCP both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <netinet/in.h>
#include <openssl/rand.h>

#include "dtls.h"
#include "ice.h"
#include "netaddr.h"
#include "rtcp.h"
#include "srtp.h"
#include "webrtc.h"

#define QMAX 32
#define DGRAM 2048

/* What the transport sent, and where. */
struct out {
    size_t n;
    size_t len[QMAX];
    uint8_t buf[QMAX][DGRAM];
    struct sockaddr_storage to[QMAX];
};

static int capture(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to)
{
    struct out *o = ctx;
    if (o->n == QMAX || len > DGRAM)
        return -1;
    memcpy(o->buf[o->n], pkt, len);
    o->len[o->n] = len;
    memcpy(&o->to[o->n++], to, rp_addr_len(to));
    return 0;
}

/* The browser's side: its DTLS client's datagrams, queued. */
struct cq {
    size_t n;
    size_t len[QMAX];
    uint8_t buf[QMAX][DGRAM];
};

static int client_send(void *ctx, const uint8_t *buf, size_t len)
{
    struct cq *q = ctx;
    if (q->n == QMAX || len > DGRAM)
        return -1;
    memcpy(q->buf[q->n], buf, len);
    q->len[q->n++] = len;
    return 0;
}

struct fx {
    struct rp_dtls_cert *server_cert, *client_cert;
    struct rp_webrtc *w;
    struct out out;
    struct rp_dtls *client;
    struct cq cq;
    struct sockaddr_in a, c; /* the browser's address, and a victim's */
};

static void addr(struct sockaddr_in *sa, uint32_t ip, uint16_t port)
{
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_addr.s_addr = htonl(ip);
    sa->sin_port = htons(port);
}

static void fx_init(struct fx *f)
{
    char err[160];
    memset(f, 0, sizeof *f);
    assert_int_equal(rp_srtp_global_init(), 0);
    f->server_cert = rp_dtls_cert_new(err, sizeof err);
    f->client_cert = rp_dtls_cert_new(err, sizeof err);
    assert_non_null(f->server_cert);
    assert_non_null(f->client_cert);
    struct rp_webrtc_params p = { .remote_ufrag = "brws", .fp_hash = "sha-256", .fp_len = 32,
                                  .cert = f->server_cert, .pt = 111 };
    memcpy(p.fp, rp_dtls_cert_sha256(f->client_cert), 32);
    f->w = rp_webrtc_new(&p, capture, &f->out, err, sizeof err);
    assert_non_null(f->w);
    f->client = rp_dtls_new(f->client_cert, RP_DTLS_CLIENT, "sha-256", rp_dtls_cert_sha256(f->server_cert), 32,
                            client_send, &f->cq, err, sizeof err);
    assert_non_null(f->client);
    addr(&f->a, 0xC0000201, 40000); /* 192.0.2.1 */
    addr(&f->c, 0xC6336407, 53);    /* 198.51.100.7 */
}

static void fx_free(struct fx *f)
{
    rp_dtls_free(f->client);
    rp_webrtc_free(f->w);
    rp_dtls_cert_free(f->server_cert);
    rp_dtls_cert_free(f->client_cert);
}

/* A check as the browser sends it, from `from`; the verdict. */
static enum rp_ice_verdict check(struct fx *f, const struct sockaddr_in *from, const char *pwd)
{
    uint8_t txid[12], buf[512];
    char user[64];
    assert_int_equal(RAND_bytes(txid, sizeof txid), 1);
    snprintf(user, sizeof user, "%s:brws", rp_webrtc_local_ufrag(f->w));
    size_t n = rp_ice_build_check(buf, sizeof buf, txid, user, pwd, true);
    assert_true(n > 0);
    return rp_webrtc_on_stun(f->w, buf, n, (const struct sockaddr *)from);
}

/* Runs the handshake with the client's records arriving from `from`; true once connected. */
static bool handshake(struct fx *f, const struct sockaddr_in *from)
{
    bool done = false;
    rp_dtls_start(f->client);
    for (int round = 0; round < 20 && f->cq.n; round++) {
        struct cq in = f->cq;
        f->cq.n = 0;
        for (size_t i = 0; i < in.n; i++)
            done |= rp_webrtc_on_dtls(f->w, in.buf[i], in.len[i], (const struct sockaddr *)from);
        for (size_t i = 0; i < f->out.n; i++)
            if (rp_webrtc_classify(f->out.buf[i], f->out.len[i]) == RP_WEBRTC_DTLS)
                rp_dtls_on_datagram(f->client, f->out.buf[i], f->out.len[i]);
        f->out.n = 0;
    }
    return done;
}

static void test_dtls_only_after_a_check_and_only_from_its_address(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    /* No check yet: the ClientHello is refused, nothing is sent. */
    rp_dtls_start(f.client);
    assert_false(rp_webrtc_on_dtls(f.w, f.cq.buf[0], f.cq.len[0], (const struct sockaddr *)&f.a));
    assert_int_equal(f.out.n, 0);
    f.cq.n = 0;
    assert_int_equal(check(&f, &f.a, "wrong-password-of-24-chars"), RP_ICE_DROP_BAD_INTEGRITY);
    assert_int_equal(f.out.n, 0);
    assert_int_equal(check(&f, &f.a, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    assert_int_equal(f.out.n, 1);
    assert_true(rp_addr_equal((const struct sockaddr *)&f.out.to[0], (const struct sockaddr *)&f.a));
    f.out.n = 0;
    rp_dtls_free(f.client); /* a fresh client: the first one's hello was spent */
    char err[160];
    f.client = rp_dtls_new(f.client_cert, RP_DTLS_CLIENT, "sha-256", rp_dtls_cert_sha256(f.server_cert), 32,
                           client_send, &f.cq, err, sizeof err);
    assert_true(handshake(&f, &f.a));
    assert_true(rp_webrtc_connected(f.w));
    assert_true(rp_addr_equal(rp_webrtc_peer(f.w), (const struct sockaddr *)&f.a));
    struct rp_webrtc_stats st;
    rp_webrtc_stats(f.w, &st);
    assert_int_equal(st.dtls_refused, 1);
    assert_int_equal(st.ice[RP_ICE_DROP_BAD_INTEGRITY], 1);
    fx_free(&f);
}

/* A token holder knows the ICE password: a valid check with USE-CANDIDATE
 * from a victim's (spoofed) address is answered, but moves nothing. */
static void test_a_later_nomination_does_not_move_the_peer(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    assert_int_equal(check(&f, &f.a, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    f.out.n = 0;
    assert_true(handshake(&f, &f.a));
    assert_int_equal(check(&f, &f.c, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    assert_true(rp_webrtc_takes(f.w, (const struct sockaddr *)&f.c));
    assert_true(rp_addr_equal(rp_webrtc_peer(f.w), (const struct sockaddr *)&f.a));
    /* Nor does DTLS from there get an answer there. */
    f.out.n = 0;
    uint8_t junk[64] = { 22, 0xfe, 0xfd };
    assert_false(rp_webrtc_on_dtls(f.w, junk, sizeof junk, (const struct sockaddr *)&f.c));
    for (size_t i = 0; i < f.out.n; i++)
        assert_true(rp_addr_equal((const struct sockaddr *)&f.out.to[i], (const struct sockaddr *)&f.a));
    fx_free(&f);
}

/* A browser may switch candidate pairs mid-handshake (a relay first, then
 * direct): its records from another checked address are taken, and every
 * answer still goes to the address the handshake began at. */
static void test_a_pair_switch_mid_handshake_is_followed_for_input_only(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    assert_int_equal(check(&f, &f.a, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    assert_int_equal(check(&f, &f.c, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    f.out.n = 0;
    bool done = false;
    rp_dtls_start(f.client);
    for (int round = 0; round < 20 && f.cq.n; round++) {
        struct cq in = f.cq;
        f.cq.n = 0;
        /* The first record from A, everything after it from C. */
        for (size_t i = 0; i < in.n; i++)
            done |= rp_webrtc_on_dtls(f.w, in.buf[i], in.len[i],
                                      (const struct sockaddr *)(round == 0 && i == 0 ? &f.a : &f.c));
        for (size_t i = 0; i < f.out.n; i++) {
            assert_true(rp_addr_equal((const struct sockaddr *)&f.out.to[i], (const struct sockaddr *)&f.a));
            rp_dtls_on_datagram(f.client, f.out.buf[i], f.out.len[i]);
        }
        f.out.n = 0;
    }
    assert_true(done);
    assert_true(rp_addr_equal(rp_webrtc_peer(f.w), (const struct sockaddr *)&f.a));
    fx_free(&f);
}

/* The browser's SR and RR reach the transport; ours carries a block whose
 * LSR is the browser's SR, and the round trip comes from its block. */
static void test_rtcp_both_ways(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    assert_int_equal(check(&f, &f.a, rp_webrtc_local_pwd(f.w)), RP_ICE_ANSWERED);
    f.out.n = 0;
    assert_true(handshake(&f, &f.a));
    enum rp_srtp_suite suite;
    uint8_t local[RP_SRTP_MAX_KEY_LEN], remote[RP_SRTP_MAX_KEY_LEN];
    char err[160];
    assert_int_equal(rp_dtls_srtp_keys(f.client, &suite, local, remote), 0);
    struct rp_srtp *out = rp_srtp_new(suite, RP_SRTP_OUTBOUND, local, rp_srtp_key_len(suite), err, sizeof err);
    struct rp_srtp *in = rp_srtp_new(suite, RP_SRTP_INBOUND, remote, rp_srtp_key_len(suite), err, sizeof err);
    assert_non_null(out);
    assert_non_null(in);
    /* Our SR first (so that the browser's block can be about our SSRC). */
    uint64_t t0 = 1800000000ull * 1000000000ull;
    struct rp_webrtc_sender snd = { .ssrc = 0x11111111, .packets = 50, .octets = 4000, .have_upstream = true,
                                    .up_ssrc = 0x22222222, .up_expected = 50, .up_received = 49 };
    rp_webrtc_send_rtcp(f.w, &snd, t0);
    assert_int_equal(f.out.n, 1);
    size_t n = f.out.len[0];
    assert_int_equal(rp_srtp_unprotect_rtcp(in, f.out.buf[0], &n), RP_SRTP_OK);
    struct rp_rtcp_info info;
    assert_int_equal(rp_rtcp_parse(f.out.buf[0], n, &info), 0);
    assert_true(info.has_sr);
    assert_int_equal(info.nblocks, 1);
    assert_int_equal(info.blocks[0].ssrc, 0x22222222);
    assert_int_equal(info.blocks[0].cum_lost, 1);
    /* Every packet since that report lost: fraction 255/256, not a wrap to 0. */
    snd.up_expected = 100;
    f.out.n = 0;
    rp_webrtc_send_rtcp(f.w, &snd, t0 + 50000000ull);
    assert_int_equal(f.out.n, 1);
    size_t n2 = f.out.len[0];
    assert_int_equal(rp_srtp_unprotect_rtcp(in, f.out.buf[0], &n2), RP_SRTP_OK);
    struct rp_rtcp_info info2;
    assert_int_equal(rp_rtcp_parse(f.out.buf[0], n2, &info2), 0);
    assert_int_equal(info2.blocks[0].fraction_lost, 255);
    /* The browser's RR about our stream, 100 ms later, 40 ms of it its own delay. */
    struct rp_rtcp_block b = { .ssrc = 0x11111111, .lsr = rp_rtcp_ntp_mid(info.sr.ntp),
                               .dlsr = (uint32_t)(0.040 * 65536) };
    uint8_t pkt[256];
    n = rp_rtcp_build_rr(pkt, sizeof pkt - 32, 0x22222222, &b, "browser");
    assert_int_equal(rp_srtp_protect_rtcp(out, pkt, &n, sizeof pkt), RP_SRTP_OK);
    rp_webrtc_on_rtcp(f.w, pkt, n, (const struct sockaddr *)&f.c, t0 + 100000000ull); /* not the peer */
    rp_webrtc_on_rtcp(f.w, pkt, n, (const struct sockaddr *)&f.a, t0 + 100000000ull);
    struct rp_webrtc_stats st;
    rp_webrtc_stats(&*f.w, &st);
    assert_int_equal(st.rtcp_bad, 1);
    assert_int_equal(st.rtcp_in, 1);
    assert_int_equal(st.nrtt, 1);
    assert_true(st.rtt_ms[0] > 59.0 && st.rtt_ms[0] < 61.0);
    rp_srtp_free(out);
    rp_srtp_free(in);
    fx_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dtls_only_after_a_check_and_only_from_its_address),
        cmocka_unit_test(test_a_later_nomination_does_not_move_the_peer),
        cmocka_unit_test(test_a_pair_switch_mid_handshake_is_followed_for_input_only),
        cmocka_unit_test(test_rtcp_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
