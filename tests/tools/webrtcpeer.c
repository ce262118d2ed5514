/* webrtcpeer: a minimal WebRTC client built from the project's own modules
 * (ice, dtls, srtp, stream), for tests/webrtc/t-hostile.sh: it can do what a
 * browser does, and what a browser never would. The real-browser interop is
 * Chromium's (t-loopback.sh); this tool is for hostile input.
 *
 *   webrtcpeer --mode ok|bad-mi|wrong-fp|garbage [--packets N] [--codec opus|pcmu]
 *
 * Protocol with the script: one line out, {"sdp": OFFER}; one line in, the
 * POST /v1/webrtc answer ({"id", "sdp", ...}); then one JSON line out with
 * what happened: {"ice": true|false, "dtls": "connected"|"failed"|"none",
 * "error": "...", "suite": "...", "sent": N, "received": M}.
 *   ok       a proper check, handshake, N upstream packets at 20 ms, downstream counted
 *   bad-mi   the check carries a MESSAGE-INTEGRITY made with a wrong password,
 *            then a ClientHello anyway (from an address no check verified)
 *   wrong-fp the offer's fingerprint is not our certificate's
 *   garbage  50 junk DTLS-looking datagrams after the check, then as ok */
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "codec.h"
#include "dtls.h"
#include "ice.h"
#include "netaddr.h"
#include "sdp.h"
#include "srtp.h"
#include "stream.h"
#include "stun.h"
#include "timeutil.h"
#include "webrtc.h"
#include "wire.h"

enum mode { MODE_OK, MODE_BAD_MI, MODE_WRONG_FP, MODE_GARBAGE };

struct peer {
    enum mode mode;
    enum rp_codec_id codec;
    unsigned packets;
    int fd;
    struct sockaddr_storage daemon;
    char our_ufrag[16], our_pwd[40];
    char their_ufrag[260], their_pwd[260];
    uint8_t their_fp[32];
    int pt;
    uint32_t ssrc;
    struct rp_dtls_cert *cert;
    struct rp_dtls *dtls;
    bool ice_ok;
    unsigned sent, received;
};

static void die(const char *what)
{
    fprintf(stderr, "webrtcpeer: %s\n", what);
    exit(2);
}

static int send_to_daemon(void *ctx, const uint8_t *buf, size_t len)
{
    struct peer *p = ctx;
    return sendto(p->fd, buf, len, 0, (struct sockaddr *)&p->daemon, rp_addr_len((struct sockaddr *)&p->daemon)) < 0
               ? -1
               : 0;
}

static void write_offer(struct peer *p)
{
    char fp[100];
    uint8_t wrong[32];
    const uint8_t *mine = rp_dtls_cert_sha256(p->cert);
    if (p->mode == MODE_WRONG_FP && RAND_bytes(wrong, sizeof wrong) != 1)
        die("RAND_bytes");
    rp_sdp_format_fingerprint(p->mode == MODE_WRONG_FP ? wrong : mine, 32, fp, sizeof fp);
    char sdp[2048];
    snprintf(sdp, sizeof sdp,
             "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
             "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\n"
             "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\na=fingerprint:sha-256 %s\r\na=setup:actpass\r\n"
             "a=sendrecv\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=rtpmap:0 PCMU/8000\r\n"
             "a=ssrc:%u cname:webrtcpeer\r\n",
             p->our_ufrag, p->our_pwd, fp, p->ssrc);
    json_t *j = json_pack("{s:s}", "sdp", sdp);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    if (!text)
        die("out of memory");
    printf("%s\n", text);
    fflush(stdout);
    free(text);
    json_decref(j);
}

/* The few lines of our daemon's answer the tool needs. */
static void read_answer(struct peer *p)
{
    char line[65536];
    if (!fgets(line, sizeof line, stdin))
        die("no answer on stdin");
    json_error_t e;
    json_t *j = json_loads(line, 0, &e);
    const char *sdp = j ? json_string_value(json_object_get(j, "sdp")) : NULL;
    if (!sdp)
        die("the answer has no sdp");
    char addr[64] = "";
    unsigned port = 0;
    char fphex[200] = "";
    for (const char *l = sdp; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        (void)sscanf(l, "a=ice-ufrag:%255[^\r\n]", p->their_ufrag);
        (void)sscanf(l, "a=ice-pwd:%255[^\r\n]", p->their_pwd);
        (void)sscanf(l, "a=fingerprint:sha-256 %199[0-9A-Fa-f:]", fphex);
        (void)sscanf(l, "a=candidate:%*s %*s udp %*s %63s %u typ host", addr, &port);
        (void)sscanf(l, "m=audio %*u UDP/TLS/RTP/SAVPF %d", &p->pt);
    }
    for (size_t i = 0; i < 32; i++)
        p->their_fp[i] = (uint8_t)(rp_hex_digit(fphex[3 * i]) << 4 | rp_hex_digit(fphex[3 * i + 1]));
    socklen_t len;
    char hp[96];
    snprintf(hp, sizeof hp, "%s:%u", addr, port);
    if (rp_addr_parse(hp, 0, &p->daemon, &len) < 0 || !p->their_ufrag[0] || !p->their_pwd[0])
        die("cannot read the answer's candidate or credentials");
    json_decref(j);
}

/* One datagram within ms, or 0. */
static ssize_t recv_within(struct peer *p, uint8_t *buf, size_t cap, int ms)
{
    struct pollfd pfd = { .fd = p->fd, .events = POLLIN };
    if (poll(&pfd, 1, ms) <= 0)
        return 0;
    ssize_t n = recv(p->fd, buf, cap, 0);
    return n < 0 ? 0 : n;
}

static void ice_check(struct peer *p)
{
    char user[600];
    uint8_t txid[12], buf[1500];
    snprintf(user, sizeof user, "%s:%s", p->their_ufrag, p->our_ufrag);
    if (RAND_bytes(txid, sizeof txid) != 1)
        die("RAND_bytes");
    const char *pwd = p->mode == MODE_BAD_MI ? "not-the-password-of-the-daemon" : p->their_pwd;
    size_t n = rp_ice_build_check(buf, sizeof buf, txid, user, pwd, true);
    if (n == 0 || send_to_daemon(p, buf, n) < 0)
        die("cannot send the check");
    uint64_t end = rp_monotonic_ns() + 1500 * NS_PER_MS;
    while (!p->ice_ok && rp_monotonic_ns() < end) {
        struct rp_stun_msg m;
        ssize_t r = recv_within(p, buf, sizeof buf, 100);
        p->ice_ok = r > 0 && rp_stun_parse(buf, (size_t)r, &m) == RP_STUN_OK && m.type == RP_STUN_BINDING_SUCCESS &&
                    memcmp(m.txid, txid, sizeof txid) == 0;
    }
}

static void garbage(struct peer *p)
{
    uint8_t junk[300];
    for (int i = 0; i < 50; i++) {
        if (RAND_bytes(junk, sizeof junk) != 1)
            die("RAND_bytes");
        junk[0] = (uint8_t)(20 + i % 44); /* a DTLS content type's range (RFC 7983) */
        (void)send_to_daemon(p, junk, 13 + (size_t)(i * 5) % sizeof junk);
    }
}

static enum rp_dtls_state handshake(struct peer *p, char *err, size_t errlen)
{
    p->dtls = rp_dtls_new(p->cert, RP_DTLS_CLIENT, "sha-256", p->their_fp, sizeof p->their_fp, send_to_daemon, p, err,
                          errlen);
    if (!p->dtls)
        return RP_DTLS_FAILED;
    enum rp_dtls_state st = rp_dtls_start(p->dtls);
    uint64_t end = rp_monotonic_ns() + 5 * NS_PER_S;
    uint8_t buf[2048];
    while (st == RP_DTLS_HANDSHAKING && rp_monotonic_ns() < end) {
        ssize_t r = recv_within(p, buf, sizeof buf, 50);
        if (r > 0 && rp_webrtc_classify(buf, (size_t)r) == RP_WEBRTC_DTLS)
            st = rp_dtls_on_datagram(p->dtls, buf, (size_t)r);
        else if (rp_dtls_timeout_ns(p->dtls) == 0)
            rp_dtls_tick(p->dtls);
    }
    if (st == RP_DTLS_FAILED)
        snprintf(err, errlen, "%s", rp_dtls_error(p->dtls));
    else if (st == RP_DTLS_HANDSHAKING)
        snprintf(err, errlen, "no handshake within 5 s");
    return st;
}

/* Downstream datagrams waiting now: authentic RTP counted. */
static void drain(struct peer *p, struct rp_stream *down, int ms)
{
    uint8_t buf[2048];
    ssize_t r;
    while ((r = recv_within(p, buf, sizeof buf, ms)) > 0) {
        struct rp_stream_rx rx;
        if (rp_webrtc_classify(buf, (size_t)r) == RP_WEBRTC_RTP && rp_stream_open(down, buf, (size_t)r, &rx) == RP_DROP_NONE)
            p->received++;
        ms = 0;
    }
}

static void media(struct peer *p, enum rp_srtp_suite suite, const uint8_t *local, const uint8_t *remote)
{
    char err[160];
    struct rp_stream_cfg up = { .role = RP_STREAM_SEAL, .codec = p->codec, .ptime_ms = 20, .ssrc = p->ssrc,
                                .bitrate_bps = rp_codec_get(p->codec)->default_bitrate, .loop_frames = 50,
                                .srtp = true, .suite = suite, .key = local, .set_pt = true, .pt = (uint8_t)p->pt,
                                .no_elem = true };
    struct rp_stream_cfg down = { .role = RP_STREAM_OPEN, .codec = p->codec, .ptime_ms = 20, .elem_optional = true,
                                  .elem_id = RP_MEXT_ID_DOWN, .srtp = true, .suite = suite, .key = remote,
                                  .set_pt = true, .pt = (uint8_t)p->pt, .learn_ssrc = true };
    struct rp_stream *su = rp_stream_new(&up, err, sizeof err), *sd = rp_stream_new(&down, err, sizeof err);
    if (!su || !sd)
        die(err);
    uint64_t next = rp_monotonic_ns();
    for (unsigned i = 0; i < p->packets; i++) {
        uint8_t pkt[RP_STREAM_MAX_PKT];
        struct rp_stream_elem none = { 0 };
        size_t n = rp_stream_seal(su, i, &none, pkt, sizeof pkt);
        if (n && send_to_daemon(p, pkt, n) == 0)
            p->sent++;
        next += 20 * NS_PER_MS;
        uint64_t now = rp_monotonic_ns();
        drain(p, sd, next > now ? (int)((next - now) / NS_PER_MS) : 0);
    }
    drain(p, sd, 300);
    rp_stream_free(su);
    rp_stream_free(sd);
}

static void parse_args(int argc, char **argv, struct peer *p)
{
    p->mode = MODE_OK;
    p->codec = RP_CODEC_OPUS;
    p->packets = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--mode") == 0) {
            const char *m = argv[i + 1];
            p->mode = strcmp(m, "bad-mi") == 0 ? MODE_BAD_MI : strcmp(m, "wrong-fp") == 0 ? MODE_WRONG_FP
                      : strcmp(m, "garbage") == 0 ? MODE_GARBAGE : MODE_OK;
        } else if (strcmp(argv[i], "--packets") == 0) {
            p->packets = (unsigned)strtoul(argv[i + 1], NULL, 10);
        } else if (strcmp(argv[i], "--codec") == 0) {
            p->codec = strcmp(argv[i + 1], "pcmu") == 0 ? RP_CODEC_PCMU : RP_CODEC_OPUS;
        }
    }
}

static void setup(struct peer *p)
{
    char err[160];
    uint8_t r[12 + 4];
    if (rp_srtp_global_init() < 0 || RAND_bytes(r, sizeof r) != 1 || !(p->cert = rp_dtls_cert_new(err, sizeof err)))
        die("cannot initialise");
    snprintf(p->our_ufrag, sizeof p->our_ufrag, "%02x%02x%02x%02x", r[0], r[1], r[2], r[3]);
    for (size_t i = 0; i < 12; i++)
        snprintf(p->our_pwd + 2 * i, 3, "%02x", r[4 + i % 12]);
    memcpy(&p->ssrc, r + 4, sizeof p->ssrc);
    struct sockaddr_in lo = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    p->fd = socket(AF_INET, SOCK_DGRAM, 0);
    if (p->fd < 0 || bind(p->fd, (struct sockaddr *)&lo, sizeof lo) < 0)
        die("cannot bind a UDP socket on 127.0.0.1");
}

int main(int argc, char **argv)
{
    struct peer p = { 0 };
    parse_args(argc, argv, &p);
    setup(&p);
    write_offer(&p);
    read_answer(&p);
    ice_check(&p);
    if (p.mode == MODE_GARBAGE && p.ice_ok)
        garbage(&p);
    char err[200] = "";
    enum rp_dtls_state st = p.ice_ok || p.mode == MODE_BAD_MI ? handshake(&p, err, sizeof err) : RP_DTLS_FAILED;
    enum rp_srtp_suite suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80;
    uint8_t local[RP_SRTP_MAX_KEY_LEN], remote[RP_SRTP_MAX_KEY_LEN];
    if (st == RP_DTLS_CONNECTED && rp_dtls_srtp_keys(p.dtls, &suite, local, remote) == 0)
        media(&p, suite, local, remote);
    json_t *out = json_pack("{s:b, s:s, s:s, s:s, s:i, s:i}", "ice", p.ice_ok, "dtls",
                            st == RP_DTLS_CONNECTED ? "connected" : p.dtls ? "failed" : "none", "error", err, "suite",
                            rp_srtp_suite_name(suite), "sent", (int)p.sent, "received", (int)p.received);
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
    json_decref(out);
    rp_dtls_free(p.dtls);
    rp_dtls_cert_free(p.cert);
    close(p.fd);
    return 0;
}
