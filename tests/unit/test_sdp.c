/* SDP: the browser's offer read, the ICE-lite answer written (src/sdp.c).
 * chrome_offer and chrome_offer_gathered are real offers, byte for byte: captured on this machine
 * from Chromium 156.0.8078.114 (Debian 12, headless, driven by python3-selenium + chromedriver):
 * an RTCPeerConnection with one audio transceiver (sendrecv), createOffer() for the first, and for
 * the second a WebAudio oscillator track, setLocalDescription and the localDescription once ICE
 * gathering completed (as the pre-call page sends it). firefox_offer is real too: Firefox ESR
 * 153.0 (Debian's firefox-esr 153.8.0esr-1~deb12u1, headless), the same oscillator track and
 * localDescription after gathering, POSTed by the page to a local python http.server. Both browsers
 * also accepted (setRemoteDescription, currentDirection sendrecv) the answers rp_sdp_write_answer
 * wrote for those offers: opus and PCMU, IPv4 and IPv6 candidate. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sdp.h"

static const char chrome_offer[] =
    "v=0\r\n"
    "o=- 8658512598917535036 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=ice-ufrag:e8JO\r\n"
    "a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kVn\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 24:57:40:0F:27:C3:D4:9D:04:F2:E0:08:EB:9E:96:A9:43:20:ED:EE:E4:61:1F:F9:6D:DE:C2:C6:45:F3:A7:BF\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:- 65025dd7-9660-44c2-a34d-f3d2de66fdf5\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:2258134174 cname:b88VJLjRgguOpqZc\r\n"
    "a=ssrc:2258134174 msid:- 65025dd7-9660-44c2-a34d-f3d2de66fdf5\r\n";

static const char chrome_offer_gathered[] =
    "v=0\r\n"
    "o=- 384888726243220500 2 IN IP4 127.0.0.1\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=rtcp:9 IN IP4 0.0.0.0\r\n"
    "a=candidate:1475624857 1 udp 2113937151 c3141da8-b3e5-404e-8420-055ba67c2e4c.local 59049 typ host generation 0 network-cost 999\r\n"
    "a=candidate:2626879097 1 udp 2113942271 2655e998-6cfb-4de0-aa0a-d3e274a89f89.local 55887 typ host generation 0 network-cost 999\r\n"
    "a=ice-ufrag:mbsf\r\n"
    "a=ice-pwd:7HYDC2+KXwpsl9bYFg5Iuunl\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 88:01:A3:FB:28:E1:D4:77:6E:2E:BE:64:9D:0A:4F:33:13:61:B3:70:B9:EE:C0:57:B4:AF:94:3A:2B:F3:93:9F\r\n"
    "a=setup:actpass\r\n"
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\n"
    "a=msid:- 2d2dd147-af3b-461d-a33d-681d6bc96064\r\n"
    "a=rtcp-mux\r\n"
    "a=rtcp-rsize\r\n"
    "a=rtcp-xr:rcvr-rtt=all\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=rtcp-fb:111 transport-cc\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\n"
    "a=fmtp:63 111/111\r\n"
    "a=rtpmap:9 G722/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:13 CN/8000\r\n"
    "a=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:2431038015 cname:0bazI3LxoHsK+68+\r\n"
    "a=ssrc:2431038015 msid:- 2d2dd147-af3b-461d-a33d-681d6bc96064\r\n";

static const char firefox_offer[] =
    "v=0\r\n"
    "o=mozilla...THIS_IS_SDPARTA-99.0 5572642773598401431 0 IN IP4 0.0.0.0\r\n"
    "s=-\r\n"
    "t=0 0\r\n"
    "a=sendrecv\r\n"
    "a=fingerprint:sha-256 BC:3A:13:8D:C1:A5:C3:2A:1B:1A:39:8D:91:DC:BD:48:DA:48:BE:C9:DB:97:1F:EF:3A:54:C6:22:C8:52:60:ED\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-options:trickle\r\n"
    "a=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:0 1 UDP 2122187007 4f867c50-b3e2-4827-b03c-2c17636dc9c1.local 41907 typ host\r\n"
    "a=candidate:1 1 UDP 2122252543 767c904a-7d34-41b1-a5fe-dc96a7e03ab8.local 46020 typ host\r\n"
    "a=candidate:2 1 TCP 2105458943 4f867c50-b3e2-4827-b03c-2c17636dc9c1.local 9 typ host tcptype active\r\n"
    "a=candidate:3 1 TCP 2105524479 767c904a-7d34-41b1-a5fe-dc96a7e03ab8.local 9 typ host tcptype active\r\n"
    "a=candidate:0 2 UDP 2122187006 4f867c50-b3e2-4827-b03c-2c17636dc9c1.local 35801 typ host\r\n"
    "a=candidate:1 2 UDP 2122252542 767c904a-7d34-41b1-a5fe-dc96a7e03ab8.local 38026 typ host\r\n"
    "a=candidate:2 2 TCP 2105458942 4f867c50-b3e2-4827-b03c-2c17636dc9c1.local 9 typ host tcptype active\r\n"
    "a=candidate:3 2 TCP 2105524478 767c904a-7d34-41b1-a5fe-dc96a7e03ab8.local 9 typ host tcptype active\r\n"
    "a=sendrecv\r\n"
    "a=end-of-candidates\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap-allow-mixed\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\n"
    "a=fmtp:101 0-15\r\n"
    "a=ice-pwd:0e458650f64c6eb410f9f1f82810951e\r\n"
    "a=ice-ufrag:0e8671dc\r\n"
    "a=mid:0\r\n"
    "a=msid:{73fc9e78-2646-46bc-9370-eb435b3d9fb8} {5f182f44-ca99-4168-81d0-386502fc298a}\r\n"
    "a=rtcp:35801 IN IP4 4f867c50-b3e2-4827-b03c-2c17636dc9c1.local\r\n"
    "a=rtcp-fb:109 transport-cc\r\n"
    "a=rtcp-fb:9 transport-cc\r\n"
    "a=rtcp-fb:0 transport-cc\r\n"
    "a=rtcp-fb:8 transport-cc\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:109 opus/48000/2\r\n"
    "a=rtpmap:9 G722/8000/1\r\n"
    "a=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:101 telephone-event/8000\r\n"
    "a=setup:actpass\r\n"
    "a=ssrc:2820093742 cname:{05d84622-7f18-417b-8a18-91a33232c3ff}\r\n";

static const uint8_t chrome_fp[32] = {
    0x24, 0x57, 0x40, 0x0F, 0x27, 0xC3, 0xD4, 0x9D, 0x04, 0xF2, 0xE0, 0x08, 0xEB, 0x9E, 0x96, 0xA9,
    0x43, 0x20, 0xED, 0xEE, 0xE4, 0x61, 0x1F, 0xF9, 0x6D, 0xDE, 0xC2, 0xC6, 0x45, 0xF3, 0xA7, 0xBF,
};

/* Parses from a heap copy of exactly len bytes: under the ASan build a read past len is a
 * heap-buffer-overflow, not a silent read of the string's NUL. */
static int parse(const char *text, size_t len, struct rp_sdp_offer *o, char *err, size_t errlen)
{
    char *copy = malloc(len ? len : 1);
    assert_non_null(copy);
    memcpy(copy, text, len);
    int rc = rp_sdp_parse_offer(copy, len, o, err, errlen);
    free(copy);
    return rc;
}

static void parses(const char *text, struct rp_sdp_offer *o)
{
    char err[256];
    int rc = parse(text, strlen(text), o, err, sizeof err);
    if (rc != 0)
        fail_msg("refused: %s", err);
}

/* Refused, with a one-line reason containing `want`, and *out left as "nothing offered". */
static void refuses_n(const char *text, size_t len, const char *want)
{
    struct rp_sdp_offer o;
    char err[256];
    memset(&o, 0x5a, sizeof o);
    assert_int_equal(parse(text, len, &o, err, sizeof err), -1);
    if (strstr(err, want) == NULL)
        fail_msg("reason \"%s\" does not contain \"%s\"", err, want);
    assert_null(strchr(err, '\n'));
    assert_string_equal(o.ice_ufrag, "");
    assert_int_equal(o.fp_len, 0);
    assert_int_equal(o.pt_opus, -1);
    assert_int_equal(o.pt_pcmu, -1);
    assert_int_equal(o.pt_pcma, -1);
}

static void refuses(const char *text, const char *want)
{
    refuses_n(text, strlen(text), want);
}

/* The Chrome offer with the first occurrence of `old` replaced by `new_` ("" deletes it). */
static char ebuf[4 * RP_SDP_MAX_LEN];
static const char *edit_of(const char *src, const char *old, const char *new_)
{
    const char *at = strstr(src, old);
    if (at == NULL)
        fail_msg("\"%s\" not in the offer", old);
    size_t head = (size_t)(at - src), ol = strlen(old), nl = strlen(new_), tail = strlen(at + ol);
    assert_true(head + nl + tail < sizeof ebuf);
    memmove(ebuf, src, head);
    memcpy(ebuf + head, new_, nl);
    memcpy(ebuf + head + nl, at + ol, tail + 1);
    return ebuf;
}

static const char *edit(const char *old, const char *new_)
{
    return edit_of(chrome_offer, old, new_);
}

static void test_real_chrome_offer_is_read(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    parses(chrome_offer, &o);
    assert_string_equal(o.ice_ufrag, "e8JO");
    assert_string_equal(o.ice_pwd, "my0jbWhBSG8lgLZ3Pa6F+kVn");
    assert_string_equal(o.fp_hash, "sha-256");
    assert_int_equal(o.fp_len, 32);
    assert_memory_equal(o.fp, chrome_fp, 32);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTPASS);
    assert_string_equal(o.mid, "0");
    assert_true(o.rtcp_mux);
    assert_int_equal(o.pt_opus, 111);
    assert_int_equal(o.pt_pcmu, 0);
    assert_int_equal(o.pt_pcma, 8);
    assert_true(o.has_ssrc);
    assert_int_equal(o.ssrc, 2258134174u);
    assert_false(o.ipv6);
    assert_int_equal(o.abs_send_time_id, 2);
}

static void test_real_chrome_offer_after_gathering_is_read(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    parses(chrome_offer_gathered, &o);
    assert_string_equal(o.ice_ufrag, "mbsf");
    assert_string_equal(o.ice_pwd, "7HYDC2+KXwpsl9bYFg5Iuunl");
    assert_int_equal(o.fp[0], 0x88);
    assert_int_equal(o.fp[31], 0x9F);
    assert_int_equal(o.pt_opus, 111);
    assert_int_equal(o.ssrc, 2431038015u);
}

static void test_real_firefox_offer_session_level_fingerprint_is_read(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    parses(firefox_offer, &o);
    assert_string_equal(o.ice_ufrag, "0e8671dc");
    assert_string_equal(o.ice_pwd, "0e458650f64c6eb410f9f1f82810951e");
    assert_string_equal(o.fp_hash, "sha-256");
    assert_int_equal(o.fp_len, 32);
    assert_int_equal(o.fp[0], 0xBC);
    assert_int_equal(o.fp[31], 0xED);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTPASS);
    assert_string_equal(o.mid, "0");
    assert_int_equal(o.pt_opus, 109);
    assert_int_equal(o.pt_pcmu, 0);
    assert_int_equal(o.pt_pcma, 8);
    assert_int_equal(o.ssrc, 2820093742u);
    assert_false(o.ipv6);
    assert_int_equal(o.abs_send_time_id, 0); /* Firefox stamps audio with none */
}

/* abs-send-time is noted only in the one-byte form's IDs, without a direction;
 * anything else about it is ignored, never refused. */
static void test_abs_send_time_extmap(void **state)
{
    (void)state;
    static const char *const ast = "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n";
    static const struct {
        const char *line;
        int id;
    } cases[] = {
        { "a=extmap:14 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 14 },
        { "a=extmap:1 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 1 },
        { "a=extmap:15 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 0 },
        { "a=extmap:0 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 0 },
        { "a=extmap:2/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 0 },
        { "a=extmap:x http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", 0 },
        { "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-timeX\r\n", 0 },
        { "a=extmap:2\r\n", 0 },
        { "a=extmap:\r\n", 0 },
    };
    struct rp_sdp_offer o;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        parses(edit(ast, cases[i].line), &o);
        assert_int_equal(o.abs_send_time_id, cases[i].id);
    }
    /* the first one counts */
    char two[256];
    snprintf(two, sizeof two, "%sa=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n", ast);
    parses(edit(ast, two), &o);
    assert_int_equal(o.abs_send_time_id, 2);
}

static void test_lf_line_ends_and_missing_last_newline_are_read(void **state)
{
    (void)state;
    static char lf[sizeof chrome_offer];
    size_t n = 0;
    for (const char *p = chrome_offer; *p; p++)
        if (*p != '\r')
            lf[n++] = *p;
    lf[n - 1] = '\0';                   /* and no newline after the last line */
    struct rp_sdp_offer o;
    parses(lf, &o);
    assert_string_equal(o.ice_pwd, "my0jbWhBSG8lgLZ3Pa6F+kVn");
    assert_int_equal(o.ssrc, 2258134174u);
}

static void test_nothing_past_len_is_read(void **state)
{
    (void)state;
    /* rtcp-mux only after len: a parser reading on would accept */
    const char *t = edit("a=rtcp-mux\r\n", "");
    static char buf[sizeof chrome_offer + 32];
    size_t n = strlen(t);
    memcpy(buf, t, n);
    memcpy(buf + n, "a=rtcp-mux\r\n", 13);
    refuses_n(buf, n, "no a=rtcp-mux");
    /* the offer cut before its last line: the ssrc is not seen */
    struct rp_sdp_offer o;
    char err[256];
    const char *last = strstr(chrome_offer, "a=ssrc:2258134174 cname");
    assert_int_equal(parse(chrome_offer, (size_t)(last - chrome_offer) + 10, &o, err, sizeof err), 0);
    assert_true(o.has_ssrc);
    assert_int_equal(o.ssrc, 225);
}

static void test_media_level_wins_over_session_level(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    /* session-level ufrag/pwd/fingerprint/setup, overridden at media level */
    const char *t = edit("a=msid-semantic: WMS\r\n",
                         "a=msid-semantic: WMS\r\na=ice-ufrag:sessU\r\na=ice-pwd:sessionsessionsession22\r\n"
                         "a=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n"
                         "a=setup:active\r\na=recvonly\r\n");
    parses(t, &o);
    assert_string_equal(o.ice_ufrag, "e8JO");
    assert_string_equal(o.ice_pwd, "my0jbWhBSG8lgLZ3Pa6F+kVn");
    assert_string_equal(o.fp_hash, "sha-256");
    assert_memory_equal(o.fp, chrome_fp, 32);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTPASS);
    /* only at session level: used */
    char copy[sizeof ebuf];
    strcpy(copy, t);
    edit_of(copy, "a=ice-ufrag:e8JO\r\n", "");
    strcpy(copy, ebuf);
    edit_of(copy, "a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kVn\r\n", "");
    strcpy(copy, ebuf);
    edit_of(copy, "a=fingerprint:sha-256 24:57:40:0F:27:C3:D4:9D:04:F2:E0:08:EB:9E:96:A9:43:20:ED:EE:"
                  "E4:61:1F:F9:6D:DE:C2:C6:45:F3:A7:BF\r\n", "");
    strcpy(copy, ebuf);
    edit_of(copy, "a=setup:actpass\r\n", "");
    parses(ebuf, &o);
    assert_string_equal(o.ice_ufrag, "sessU");
    assert_string_equal(o.ice_pwd, "sessionsessionsession22");
    assert_string_equal(o.fp_hash, "sha-1");
    assert_int_equal(o.fp_len, 20);
    assert_int_equal(o.fp[10], 0xAA);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTIVE);
    /* a session-level direction applies when the m-line has none */
    strcpy(copy, ebuf);
    refuses(edit_of(copy, "a=sendrecv\r\n", ""), "a=recvonly");
}

static void test_fingerprint_hash_names_and_lengths(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    const char *fpline = "a=fingerprint:sha-256 24:57:40:0F:27:C3:D4:9D:04:F2:E0:08:EB:9E:96:A9:43:20:ED:EE:"
                         "E4:61:1F:F9:6D:DE:C2:C6:45:F3:A7:BF\r\n";
    /* hash name case-insensitive, stored lowercase; lowercase hex */
    parses(edit(fpline, "a=fingerprint:SHA-256 24:57:40:0f:27:c3:d4:9d:04:f2:e0:08:eb:9e:96:a9:43:20:ed:ee:"
                        "e4:61:1f:f9:6d:de:c2:c6:45:f3:a7:bf\r\n"), &o);
    assert_string_equal(o.fp_hash, "sha-256");
    assert_memory_equal(o.fp, chrome_fp, 32);
    static const struct { const char *name; size_t n; } h[] = {
        { "sha-1", 20 }, { "sha-224", 28 }, { "sha-384", 48 }, { "Sha-512", 64 },
    };
    for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
        char line[256];
        int k = snprintf(line, sizeof line, "a=fingerprint:%s ", h[i].name);
        for (size_t b = 0; b < h[i].n; b++)
            k += snprintf(line + k, sizeof line - (size_t)k, b + 1 < h[i].n ? "%02X:" : "%02X\r\n", (unsigned)b);
        parses(edit(fpline, line), &o);
        assert_int_equal(o.fp_len, h[i].n);
        assert_int_equal(o.fp[h[i].n - 1], h[i].n - 1);
        assert_int_equal(o.fp_hash[1], 'h');
        /* one byte short and one byte long */
        line[k - 5] = '\r';
        line[k - 4] = '\n';
        line[k - 3] = '\0';
        refuses(edit(fpline, line), "colon-separated hex bytes");
        snprintf(line + k - 5, sizeof line - (size_t)k + 5, ":00:00\r\n");
        refuses(edit(fpline, line), "colon-separated hex bytes");
    }
}

static void test_pt_in_rtpmap_but_not_in_m_line_is_ignored(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    parses(edit("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n",
                "m=audio 9 UDP/TLS/RTP/SAVPF 63 9 8 13 110 126\r\n"), &o);
    assert_int_equal(o.pt_opus, -1);
    assert_int_equal(o.pt_pcmu, -1);
    assert_int_equal(o.pt_pcma, 8);
    /* SAVP is accepted too; no a=ssrc, no a=mid, no a=setup */
    parses(edit("UDP/TLS/RTP/SAVPF", "UDP/TLS/RTP/SAVP"), &o);
    parses(edit("a=ssrc:2258134174 cname:b88VJLjRgguOpqZc\r\n"
                "a=ssrc:2258134174 msid:- 65025dd7-9660-44c2-a34d-f3d2de66fdf5\r\n", ""), &o);
    assert_false(o.has_ssrc);
    /* the first a=ssrc counts (a second source's lines after it do not) */
    parses(edit("a=ssrc:2258134174 msid:", "a=ssrc:1 cname:other\r\na=ssrc:2258134174 msid:"), &o);
    assert_int_equal(o.ssrc, 2258134174u);
    parses(edit("a=ssrc:2258134174 cname:", "a=ssrc:1 cname:other\r\na=ssrc:2258134174 cname:"), &o);
    assert_int_equal(o.ssrc, 1);
    parses(edit("a=mid:0\r\n", ""), &o);
    assert_string_equal(o.mid, "");
    parses(edit("a=setup:actpass\r\n", ""), &o);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTPASS);
    parses(edit("a=setup:actpass\r\n", "a=setup:active\r\n"), &o);
    assert_int_equal(o.setup, RP_SDP_SETUP_ACTIVE);
    parses(edit("c=IN IP4 0.0.0.0\r\n", "c=IN IP6 ::\r\n"), &o);
    assert_true(o.ipv6);
    /* trailing blanks after a value */
    parses(edit("a=ice-ufrag:e8JO\r\n", "a=ice-ufrag:e8JO  \r\n"), &o);
    assert_string_equal(o.ice_ufrag, "e8JO");
}

static void test_structure_refusals(void **state)
{
    (void)state;
    refuses("", "empty");
    refuses_n(chrome_offer, 0, "empty");
    refuses(edit("v=0\r\n", "v=1\r\n"), "first line is not v=0");
    refuses(edit("v=0\r\n", ""), "first line is not v=0");
    refuses(edit("s=-\r\n", "v=0\r\n"), "second v=");
    refuses(edit("s=-\r\n", "garbage\r\n"), "line 3: not a \"<letter>=<value>\" line");
    refuses(edit("s=-\r\n", "S=-\r\n"), "not a \"<letter>=<value>\"");
    refuses(edit("s=-\r\n", "s=-\rt=0 0\r\n"), "a CR inside a line");
    refuses(edit("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n", ""), "no m= line");
    refuses(edit("a=ssrc:2258134174 cname", "m=video 9 UDP/TLS/RTP/SAVPF 96\r\na=ssrc:2258134174 cname"),
            "2 m-lines: the page offers one audio m-line");
    refuses(edit("m=audio 9", "m=video 9"), "not m=audio");
    refuses(edit("m=audio 9 ", "m=audio 0 "), "port 0");
    refuses(edit("m=audio 9 ", "m=audio 65536 "), "m= line is not");
    refuses(edit("m=audio 9 ", "m=audio 9/2 "), "m= line is not");
    refuses(edit("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n", "m=audio 9 UDP/TLS/RTP/SAVPF\r\n"),
            "m= line is not");
    refuses(edit("UDP/TLS/RTP/SAVPF", "RTP/AVP"), "proto is not UDP/TLS/RTP/SAVPF");
    refuses(edit("UDP/TLS/RTP/SAVPF", "RTP/SAVPF"), "proto is not UDP/TLS/RTP/SAVPF");
    refuses(edit(" 126\r\n", " 128\r\n"), "payload type 0..127");
    refuses(edit(" 126\r\n", " red\r\n"), "payload type 0..127");
    refuses(edit("c=IN IP4 0.0.0.0\r\n", ""), "no c= line");
    refuses(edit("c=IN IP4 0.0.0.0\r\n", "c=IN IP5 0.0.0.0\r\n"), "IP4 or IP6");
    refuses(edit("c=IN IP4 0.0.0.0\r\n", "c=IN IP4\r\n"), "c= line is not");
    refuses(edit("a=ssrc:2258134174 cname", "a=ssrc:4294967296 cname"), "a=ssrc");
    refuses(edit("a=mid:0\r\n", "a=mid:0\r\na=mid:1\r\n"), "2 a=mid");
    refuses(edit("a=mid:0\r\n", "a=mid:abc:d\r\n"), "a=mid must be");
    refuses(edit("a=mid:0\r\n", "a=mid:\r\n"), "a=mid must be");
}

static void test_media_refusals(void **state)
{
    (void)state;
    refuses(edit("a=sendrecv\r\n", "a=recvonly\r\n"), "a=recvonly: the page must send and receive");
    refuses(edit("a=sendrecv\r\n", "a=sendonly\r\n"), "a=sendonly");
    refuses(edit("a=sendrecv\r\n", "a=inactive\r\n"), "a=inactive");
    refuses(edit("a=sendrecv\r\n", "a=sendrecv\r\na=sendrecv\r\n"), "2 direction attributes");
    refuses(edit("a=ice-ufrag:e8JO\r\n", ""), "no a=ice-ufrag");
    refuses(edit("a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kVn\r\n", ""), "no a=ice-pwd");
    refuses(edit("a=ice-ufrag:e8JO\r\n", "a=ice-ufrag:e8JO\r\na=ice-ufrag:e8JP\r\n"), "2 a=ice-ufrag");
    refuses(edit("a=ice-ufrag:e8JO\r\n", "a=ice-ufrag:e8-O\r\n"), "a=ice-ufrag must be 4..256");
    refuses(edit("a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kVn\r\n", "a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kV=\r\n"),
            "a=ice-pwd must be 22..256");
    refuses(edit("a=fingerprint:sha-256 ", "a=fingerprint-x:sha-256 "), "no a=fingerprint");
    refuses(edit("a=setup:actpass\r\n",
                 "a=setup:actpass\r\na=fingerprint:sha-1 00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33\r\n"),
            "2 a=fingerprint lines");
    refuses(edit("a=fingerprint:sha-256 ", "a=fingerprint:md5 "), "hash is not sha-1");
    refuses(edit("a=fingerprint:sha-256 ", "a=fingerprint:sha-256"), "a=fingerprint is not");
    refuses(edit("a=fingerprint:sha-256 24:57:40:0F", "a=fingerprint:sha-256 24:57:40:0G"), "hex bytes");
    refuses(edit("a=fingerprint:sha-256 24:57:40:0F", "a=fingerprint:sha-256 24:57;40:0F"), "hex bytes");
    refuses(edit("A7:BF\r\n", "A7:BF extra\r\n"), "a=fingerprint is not");
    refuses(edit("a=setup:actpass\r\n", "a=setup:passive\r\n"), "a=setup:passive: we answer passive");
    refuses(edit("a=setup:actpass\r\n", "a=setup:holdconn\r\n"), "a=setup is not");
    refuses(edit("a=setup:actpass\r\n", "a=setup:actpass\r\na=setup:active\r\n"), "2 a=setup");
    refuses(edit("a=rtcp-mux\r\n", ""), "no a=rtcp-mux");
    refuses(edit("m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n",
                 "m=audio 9 UDP/TLS/RTP/SAVPF 63 9 13 110 126\r\n"), "no opus/48000/2, PCMU/8000 or PCMA/8000");
    /* the right names at the wrong rate or channels */
    static char t[sizeof ebuf];
    strcpy(t, edit("a=rtpmap:111 opus/48000/2\r\n", "a=rtpmap:111 opus/48000/1\r\n"));
    strcpy(t, edit_of(t, "a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:0 PCMU/16000\r\n"));
    refuses(edit_of(t, "a=rtpmap:8 PCMA/8000\r\n", "a=rtpmap:8 PCMA/8000/2\r\n"), "no opus/48000/2");
}

/* One offer line of exactly n bytes (without its CRLF). */
static const char *with_line_of(size_t n)
{
    static char line[8192];
    memcpy(line, "a=x-pad:", 8);
    memset(line + 8, 'p', n - 8);
    memcpy(line + n, "\r\na=sendrecv\r\n", 15);
    return edit("a=sendrecv\r\n", line);
}

static void test_boundary_lengths(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    char v[300], line[400];
    /* ufrag 4..256, pwd 22..256 */
    static const struct { const char *attr; size_t len; bool ok; } b[] = {
        { "ice-ufrag", 3, false }, { "ice-ufrag", 4, true }, { "ice-ufrag", 256, true }, { "ice-ufrag", 257, false },
        { "ice-pwd", 21, false }, { "ice-pwd", 22, true }, { "ice-pwd", 256, true }, { "ice-pwd", 257, false },
    };
    for (size_t i = 0; i < sizeof b / sizeof b[0]; i++) {
        memset(v, 'A', b[i].len);
        v[b[i].len] = '\0';
        v[0] = '+';
        v[1] = '/';
        snprintf(line, sizeof line, "a=%s:%s\r\n", b[i].attr, v);
        const char *old = b[i].attr[4] == 'u' ? "a=ice-ufrag:e8JO\r\n" : "a=ice-pwd:my0jbWhBSG8lgLZ3Pa6F+kVn\r\n";
        if (!b[i].ok) {
            refuses(edit(old, line), "must be");
            continue;
        }
        parses(edit(old, line), &o);
        assert_string_equal(b[i].attr[4] == 'u' ? o.ice_ufrag : o.ice_pwd, v);
    }
    /* mid 32 ok, 33 refused */
    memset(v, 'm', 33);
    snprintf(line, sizeof line, "a=mid:%.32s\r\n", v);
    parses(edit("a=mid:0\r\n", line), &o);
    assert_int_equal(strlen(o.mid), 32);
    snprintf(line, sizeof line, "a=mid:%.33s\r\n", v);
    refuses(edit("a=mid:0\r\n", line), "a=mid must be 1..32");
    /* a line of 4096 bytes is read, 4097 refused (CR LF not counted) */
    parses(with_line_of(4096), &o);
    refuses(with_line_of(4097), "longer than 4096 bytes");
    /* RP_SDP_MAX_LEN bytes read, one more refused */
    static char big[RP_SDP_MAX_LEN + 2];
    size_t n = strlen(chrome_offer);
    memcpy(big, chrome_offer, n);
    while (n < RP_SDP_MAX_LEN) {
        size_t room = RP_SDP_MAX_LEN - n, take = room >= 2004 ? 1000 : room - 2;
        memcpy(big + n, "a=", 2);
        memset(big + n + 2, 'z', take - 2);
        memcpy(big + n + take, "\r\n", 2);
        n += take + 2;
    }
    assert_int_equal(n, RP_SDP_MAX_LEN);
    assert_int_equal(parse(big, n, &o, v, sizeof v), 0);
    big[n] = '\n';
    refuses_n(big, n + 1, "longer than 16384");
}

static void test_nul_byte_refuses(void **state)
{
    (void)state;
    static char t[sizeof chrome_offer];
    memcpy(t, chrome_offer, sizeof chrome_offer);
    t[100] = '\0';
    refuses_n(t, sizeof chrome_offer - 1, "NUL byte");
    memcpy(t, chrome_offer, sizeof chrome_offer);
    refuses_n(t, sizeof chrome_offer, "NUL byte");   /* the terminator counted in len */
}

static void test_err_is_truncated_not_overflowed(void **state)
{
    (void)state;
    struct rp_sdp_offer o;
    char err[8];
    memset(err, 'x', sizeof err);
    assert_int_equal(rp_sdp_parse_offer("v=0\r\n", 5, &o, err, sizeof err), -1);
    assert_string_equal(err, "no m= l");
    assert_int_equal(rp_sdp_parse_offer("v=0\r\n", 5, &o, NULL, 0), -1);
}

static struct rp_sdp_answer opus_answer(void)
{
    struct rp_sdp_answer a = {
        .sess_id = 18446744073709551615u, .ice_ufrag = "rpUf", .ice_pwd = "rtpprobeIcePassword0123",
        .mid = "0", .encoding = "opus", .clock_rate = 48000, .channels = 2, .pt = 111, .ptime_ms = 20,
        .ssrc = 4294967295u, .cname = "rtpprobe", .addr = "192.0.2.10", .port = 10002,
    };
    for (size_t i = 0; i < sizeof a.fp_sha256; i++)
        a.fp_sha256[i] = (uint8_t)(0xA0 + i);
    return a;
}

static const char opus_answer_text[] =
    "v=0\r\n"
    "o=- 9223372036854775807 2 IN IP4 127.0.0.1\r\n"          /* sess_id's top bit cleared */
    "s=-\r\n"
    "t=0 0\r\n"
    "a=group:BUNDLE 0\r\n"
    "a=ice-lite\r\n"
    "a=msid-semantic: WMS\r\n"
    "m=audio 10002 UDP/TLS/RTP/SAVPF 111\r\n"
    "c=IN IP4 192.0.2.10\r\n"
    "a=mid:0\r\n"
    "a=ice-ufrag:rpUf\r\n"
    "a=ice-pwd:rtpprobeIcePassword0123\r\n"
    "a=fingerprint:sha-256 A0:A1:A2:A3:A4:A5:A6:A7:A8:A9:AA:AB:AC:AD:AE:AF:"
    "B0:B1:B2:B3:B4:B5:B6:B7:B8:B9:BA:BB:BC:BD:BE:BF\r\n"
    "a=setup:passive\r\n"
    "a=sendrecv\r\n"
    "a=rtcp-mux\r\n"
    "a=rtpmap:111 opus/48000/2\r\n"
    "a=fmtp:111 minptime=10;useinbandfec=0\r\n"
    "a=ptime:20\r\n"
    "a=ssrc:4294967295 cname:rtpprobe\r\n"
    "a=candidate:1 1 udp 2130706431 192.0.2.10 10002 typ host\r\n"
    "a=end-of-candidates\r\n";

static void test_answer_is_written_as_documented(void **state)
{
    (void)state;
    struct rp_sdp_answer a = opus_answer();
    char out[2048];
    size_t n = rp_sdp_write_answer(&a, out, sizeof out);
    assert_string_equal(out, opus_answer_text);
    assert_int_equal(n, strlen(opus_answer_text));
}

static void test_answer_echoes_abs_send_time(void **state)
{
    (void)state;
    struct rp_sdp_answer a = opus_answer();
    char out[2048];
    a.abs_send_time_id = 2;
    assert_true(rp_sdp_write_answer(&a, out, sizeof out) > 0);
    assert_non_null(strstr(out, "a=fmtp:111 minptime=10;useinbandfec=0\r\n"
                                "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
                                "a=ptime:20\r\n"));
    a.abs_send_time_id = 15; /* no one-byte ID */
    assert_int_equal(rp_sdp_write_answer(&a, out, sizeof out), 0);
}

static void test_answer_for_pcmu_ipv6_without_mid(void **state)
{
    (void)state;
    struct rp_sdp_answer a = opus_answer();
    a.encoding = "PCMU";
    a.clock_rate = 8000;
    a.channels = 1;
    a.pt = 0;
    a.mid = "";
    a.addr = "2001:db8::10";
    char out[2048];
    assert_true(rp_sdp_write_answer(&a, out, sizeof out) > 0);
    assert_non_null(strstr(out, "m=audio 10002 UDP/TLS/RTP/SAVPF 0\r\nc=IN IP6 2001:db8::10\r\n"));
    assert_non_null(strstr(out, "\r\na=rtpmap:0 PCMU/8000\r\na=ptime:20\r\n"));
    assert_non_null(strstr(out, "a=candidate:1 1 udp 2130706431 2001:db8::10 10002 typ host\r\n"));
    assert_null(strstr(out, "a=fmtp"));
    assert_null(strstr(out, "a=mid"));
    assert_null(strstr(out, "BUNDLE"));
}

static void test_answer_needs_room_for_every_byte(void **state)
{
    (void)state;
    struct rp_sdp_answer a = opus_answer();
    size_t need = strlen(opus_answer_text);
    static char out[2048];
    for (size_t cap = 0; cap <= need; cap++) {
        memset(out, 'x', sizeof out);
        assert_int_equal(rp_sdp_write_answer(&a, out, cap), 0);
        if (cap > 0)
            assert_int_equal(out[0], '\0');
        assert_int_equal(out[cap], 'x');          /* nothing written past cap */
    }
    assert_int_equal(rp_sdp_write_answer(&a, out, need + 1), need);
}

static void test_answer_refuses_fields_that_would_break_lines(void **state)
{
    (void)state;
    char out[2048];
    struct rp_sdp_answer a = opus_answer();
    a.addr = "192.0.2.10\r\na=inject";
    assert_int_equal(rp_sdp_write_answer(&a, out, sizeof out), 0);
    a = opus_answer();
    a.cname = "a b";
    assert_int_equal(rp_sdp_write_answer(&a, out, sizeof out), 0);
    a = opus_answer();
    a.ice_pwd = NULL;
    assert_int_equal(rp_sdp_write_answer(&a, out, sizeof out), 0);
    a = opus_answer();
    a.pt = 128;
    assert_int_equal(rp_sdp_write_answer(&a, out, sizeof out), 0);
}

/* The answer read back by the offer parser: the fields the browser will take from it.
 * Our a=setup:passive is what the parser refuses in an offer, so it is swapped first. */
static void test_answer_round_trips_through_the_parser(void **state)
{
    (void)state;
    struct rp_sdp_answer a = opus_answer();
    char out[2048];
    assert_true(rp_sdp_write_answer(&a, out, sizeof out) > 0);
    struct rp_sdp_offer o;
    refuses(out, "a=setup:passive");
    parses(edit_of(out, "a=setup:passive", "a=setup:active"), &o);
    assert_string_equal(o.ice_ufrag, a.ice_ufrag);
    assert_string_equal(o.ice_pwd, a.ice_pwd);
    assert_string_equal(o.fp_hash, "sha-256");
    assert_memory_equal(o.fp, a.fp_sha256, 32);
    assert_string_equal(o.mid, "0");
    assert_int_equal(o.pt_opus, 111);
    assert_int_equal(o.pt_pcmu, -1);
    assert_true(o.has_ssrc);
    assert_int_equal(o.ssrc, a.ssrc);
    assert_false(o.ipv6);
    a.encoding = "PCMA";
    a.clock_rate = 8000;
    a.channels = 1;
    a.pt = 8;
    a.addr = "::1";
    assert_true(rp_sdp_write_answer(&a, out, sizeof out) > 0);
    parses(edit_of(out, "a=setup:passive", "a=setup:active"), &o);
    assert_int_equal(o.pt_pcma, 8);
    assert_int_equal(o.pt_opus, -1);
    assert_true(o.ipv6);
}

static void test_format_fingerprint(void **state)
{
    (void)state;
    char s[3 * 32];
    rp_sdp_format_fingerprint(chrome_fp, 32, s, sizeof s);
    assert_string_equal(s, "24:57:40:0F:27:C3:D4:9D:04:F2:E0:08:EB:9E:96:A9:"
                           "43:20:ED:EE:E4:61:1F:F9:6D:DE:C2:C6:45:F3:A7:BF");
    memset(s, 'x', sizeof s);
    rp_sdp_format_fingerprint(chrome_fp, 32, s, sizeof s - 1);
    assert_string_equal(s, "");
    assert_int_equal(s[1], 'x');
    rp_sdp_format_fingerprint(chrome_fp, 1, s, 3);
    assert_string_equal(s, "24");
    rp_sdp_format_fingerprint(chrome_fp, 0, s, 3);
    assert_string_equal(s, "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_chrome_offer_is_read),
        cmocka_unit_test(test_real_chrome_offer_after_gathering_is_read),
        cmocka_unit_test(test_real_firefox_offer_session_level_fingerprint_is_read),
        cmocka_unit_test(test_abs_send_time_extmap),
        cmocka_unit_test(test_lf_line_ends_and_missing_last_newline_are_read),
        cmocka_unit_test(test_nothing_past_len_is_read),
        cmocka_unit_test(test_media_level_wins_over_session_level),
        cmocka_unit_test(test_fingerprint_hash_names_and_lengths),
        cmocka_unit_test(test_pt_in_rtpmap_but_not_in_m_line_is_ignored),
        cmocka_unit_test(test_structure_refusals),
        cmocka_unit_test(test_media_refusals),
        cmocka_unit_test(test_boundary_lengths),
        cmocka_unit_test(test_nul_byte_refuses),
        cmocka_unit_test(test_err_is_truncated_not_overflowed),
        cmocka_unit_test(test_answer_is_written_as_documented),
        cmocka_unit_test(test_answer_echoes_abs_send_time),
        cmocka_unit_test(test_answer_for_pcmu_ipv6_without_mid),
        cmocka_unit_test(test_answer_needs_room_for_every_byte),
        cmocka_unit_test(test_answer_refuses_fields_that_would_break_lines),
        cmocka_unit_test(test_answer_round_trips_through_the_parser),
        cmocka_unit_test(test_format_fingerprint),
    };
    return cmocka_run_group_tests_name("sdp", tests, NULL, NULL);
}
