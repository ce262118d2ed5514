/* rp_session_on_datagram: the whole upstream path of a plain-RTP or an SRTP
 * session (STUN demux and answers, SRTP unprotect, RTP parse, SSRC/PT, HMAC,
 * measurement element, latching, statistics), with the clock moving and the
 * downstream clock run in between. The first input byte steers: bit0 = make
 * SSRC/PT the session's and sign the packet with its key, or protect it with
 * its SRTP key (so inputs get past authentication), bit1 = send due downstream
 * after it, bit2 = the SRTP session instead of the plain one. The session
 * does no I/O: what it sends goes to a callback that checks it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "contract.h"
#include "mext.h"
#include "netaddr.h"
#include "rtp.h"
#include "session.h"
#include "srtp.h"
#include "udp.h"

static struct rp_session *session, *srtp_session;
static struct rp_srtp *srtp_sender; /* the probe's side of srtp_session's upstream */
static struct sockaddr_storage peer;
static uint8_t key[RP_MEXT_AUTH_KEY_LEN];
static uint16_t srtp_seq;
static uint64_t now = 1000000000ull;     /* CLOCK_MONOTONIC */
#define WALL 1700000000000000000ull     /* CLOCK_REALTIME at the sessions' start */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh session every so many inputs: a session's stream ends with its
 * duration (and 5 s after upstream goes quiet), and the fuzzer should keep
 * reaching the sending path all run long. */
#define INPUTS_PER_SESSION 20000
static unsigned inputs;

/* Never more out than in: an answer or a media packet is at most an MTU, to the peer. */
static int sink(void *ctx, const uint8_t *pkt, size_t len, const struct sockaddr *to)
{
    (void)ctx;
    (void)pkt;
    if (len > RP_STREAM_MAX_PKT || !rp_addr_equal(to, (const struct sockaddr *)&peer))
        abort();
    return 0;
}

static struct rp_session *open_session(bool srtp)
{
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000,
                                   .duration_s = 3600, .jitter_buffer_ms = 40, .srtp = srtp,
                                   .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80 };
    char err[128];
    struct rp_session *s = rp_session_new(&p, 10000, (struct sockaddr *)&peer, now, WALL, sink, NULL, err, sizeof err);
    if (!s)
        abort();
    return s;
}

static void new_sessions(void)
{
    session = open_session(false);
    srtp_session = open_session(true);
    struct rp_contract_keys k;
    char err[128];
    rp_session_keys(srtp_session, &k);
    srtp_sender = rp_srtp_new(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, k.key_up,
                              rp_srtp_key_len(RP_SRTP_AES_CM_128_HMAC_SHA1_80), err, sizeof err);
    if (!srtp_sender)
        abort();
    rp_session_keys(session, &k);
    memcpy(key, k.auth_key, sizeof key);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    socklen_t len;
    if (rp_addr_parse("127.0.0.1:40000", 0, &peer, &len) < 0)
        abort();
    if (rp_srtp_global_init() < 0)
        abort();
    new_sessions();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > RP_RTP_MAX_PKT + 1)
        return 0;
    if (++inputs % INPUTS_PER_SESSION == 0) {
        rp_session_free(session);
        rp_session_free(srtp_session);
        rp_srtp_free(srtp_sender);
        new_sessions();
    }
    uint8_t mode = data[0];
    uint8_t buf[RP_RTP_MAX_PKT + RP_SRTP_MAX_OVERHEAD];
    size_t len = size - 1;
    memcpy(buf, data + 1, len);
    struct rp_session *target = (mode & 4) ? srtp_session : session;
    if ((mode & 1) && len >= RP_RTP_HDR_LEN) {
        buf[1] = (uint8_t)(buf[1] & 0x80); /* PT 0 */
        struct rp_contract_session doc;
        rp_session_snapshot(target, &doc);
        uint32_t ssrc = doc.ssrc_up;
        buf[8] = (uint8_t)(ssrc >> 24);
        buf[9] = (uint8_t)(ssrc >> 16);
        buf[10] = (uint8_t)(ssrc >> 8);
        buf[11] = (uint8_t)ssrc;
        if (mode & 4) {
            /* A fresh index each time: libsrtp will not protect one twice. */
            buf[0] = (uint8_t)((buf[0] & 0x3F) | 0x80);
            buf[2] = (uint8_t)(srtp_seq >> 8);
            buf[3] = (uint8_t)srtp_seq++;
            (void)rp_srtp_protect(srtp_sender, buf, &len, sizeof buf);
        } else {
            (void)rp_mext_auth_sign(buf, len, key);
        }
    }
    struct rp_udp_meta meta = { .rx_mono = now, .rx_ns = WALL + now, .read_mono = now,
                                .fromlen = rp_addr_len((struct sockaddr *)&peer) };
    memcpy(&meta.from, &peer, sizeof peer);
    rp_session_on_datagram(target, buf, len, &meta, now);
    now += 20000000ull;
    if (mode & 2)
        (void)rp_session_send_due(target, now);
    struct rp_contract_session doc;
    rp_session_snapshot(target, &doc);
    json_decref(rp_contract_session_encode(&doc));
    return 0;
}
