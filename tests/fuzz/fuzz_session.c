/* rp_session_on_datagram: the whole upstream path of a plain-RTP or an SRTP
 * session (STUN demux and answers, SRTP unprotect, RTP parse, SSRC/PT, HMAC,
 * measurement element, latching, statistics), with the clock moving and the
 * downstream clock run in between. The first input byte steers: bit0 = make
 * SSRC/PT the session's and sign the packet with its key, or protect it with
 * its SRTP key (so inputs get past authentication), bit1 = send due downstream
 * after it, bit2 = the SRTP session instead of the plain one. Replies go to a
 * loopback socket of this process only. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

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
static uint64_t now = 1000000000ull;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A fresh session every so many inputs: a session's stream ends with its
 * duration (and 5 s after upstream goes quiet), and the fuzzer should keep
 * reaching the sending path all run long. */
#define INPUTS_PER_SESSION 20000
static unsigned inputs;

static struct rp_session *open_session(bool srtp)
{
    struct sockaddr_storage lo;
    socklen_t len;
    rp_addr_from_ip("127.0.0.1", 0, &lo, &len);
    int fd = rp_udp_open((struct sockaddr *)&lo, len, -1);
    if (fd < 0)
        abort();
    struct rp_session_params p = { .codec = RP_CODEC_PCMU, .ptime_ms = 20, .bitrate_bps = 64000,
                                   .duration_s = 3600, .jitter_buffer_ms = 40, .srtp = srtp,
                                   .suite = RP_SRTP_AES_CM_128_HMAC_SHA1_80 };
    char err[128];
    struct rp_session *s = rp_session_new(&p, fd, 0, (struct sockaddr *)&peer, now, err, sizeof err);
    if (!s)
        abort();
    return s;
}

static void new_sessions(void)
{
    session = open_session(false);
    srtp_session = open_session(true);
    json_t *sk = rp_session_keys_json(srtp_session);
    uint8_t skey[64];
    char err[128];
    const char *up = json_string_value(json_object_get(json_object_get(sk, "srtp"), "key_up"));
    if (!up || rp_srtp_inline_decode(RP_SRTP_AES_CM_128_HMAC_SHA1_80, up, skey, sizeof skey) < 0)
        abort();
    srtp_sender = rp_srtp_new(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_OUTBOUND, skey,
                              rp_srtp_key_len(RP_SRTP_AES_CM_128_HMAC_SHA1_80), err, sizeof err);
    if (!srtp_sender)
        abort();
    json_decref(sk);
    json_t *k = rp_session_keys_json(session);
    unsigned char raw[RP_MEXT_AUTH_KEY_LEN + 4];
    if (EVP_DecodeBlock(raw, (const unsigned char *)json_string_value(json_object_get(k, "auth_key")), 44) != 33)
        abort();
    memcpy(key, raw, sizeof key);
    json_decref(k);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    struct sockaddr_storage lo;
    socklen_t len, pl = sizeof peer;
    rp_addr_from_ip("127.0.0.1", 0, &lo, &len);
    int sink = rp_udp_open((struct sockaddr *)&lo, len, -1); /* where answers and media go */
    if (sink < 0 || getsockname(sink, (struct sockaddr *)&peer, &pl) < 0)
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
        uint32_t ssrc = rp_session_ssrc_up(target);
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
    struct rp_udp_meta meta = { .rx_ns = now, .fromlen = rp_addr_len((struct sockaddr *)&peer) };
    memcpy(&meta.from, &peer, sizeof peer);
    rp_session_on_datagram(target, buf, len, &meta, now);
    now += 20000000ull;
    if (mode & 2)
        (void)rp_session_send_due(target, now);
    json_decref(rp_session_to_json(target));
    return 0;
}
