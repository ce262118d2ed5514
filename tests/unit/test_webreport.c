/* The browser pre-call report: the page's getStats() body decoded strictly
 * (each refusal names its key), and the daemon's and the browser's figures
 * combined into the CLI's report with the diagnosis the CLI would give. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "codec.h"
#include "contract.h"
#include "report.h"
#include "threshold.h"
#include "webreport.h"

/* A clean 15 s Opus run at 20 ms: 750 packets each way, 48 kHz samples. */
#define PKTS 750
#define SPP 960

/* A body as the page posts it from Chromium's getStats() (names as getStats names them). */
static const char *const chrome_body =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36\","
    "\"outbound\":{\"packetsSent\":750,\"bytesSent\":60000},"
    "\"inbound\":{\"packetsReceived\":750,\"packetsLost\":0,\"jitter\":0.002,\"jitterBufferDelay\":28800.0,"
    "\"jitterBufferEmittedCount\":720000,\"concealedSamples\":0,\"silentConcealedSamples\":0,"
    "\"totalSamplesReceived\":720000,\"concealmentEvents\":0,\"bytesReceived\":60000,"
    "\"timestamp\":1765046400123.5,\"lastPacketReceivedTimestamp\":1765046400100.0},"
    "\"remote_inbound\":{\"roundTripTime\":0.021,\"totalRoundTripTime\":0.06,\"roundTripTimeMeasurements\":3},"
    "\"pair\":{\"local_type\":\"host\",\"remote_type\":\"host\",\"relay_protocol\":\"\","
    "\"local_address\":\"192.168.1.20:40000\",\"remote_address\":\"198.51.100.5:12346\"}}";

struct fx {
    struct rp_contract_session daemon;
    struct rp_browser_stats browser;
    struct rp_webreport_in in;
    struct rp_thresholds t;
    struct rp_report rep;
    char err[256];
};

static void clean_daemon(struct rp_contract_session *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->id, sizeof s->id, "0123456789abcdef0123456789abcdef");
    snprintf(s->codec, sizeof s->codec, "opus");
    s->ptime_ms = 20;
    s->bitrate_bps = 32000;
    s->duration_s = 15;
    s->jitter_buffer_ms = 60;
    s->media_port = 12346;
    snprintf(s->client, sizeof s->client, "203.0.113.7:51000");
    snprintf(s->latched, sizeof s->latched, "203.0.113.7:40000");
    snprintf(s->transport, sizeof s->transport, "srtp");
    snprintf(s->cipher, sizeof s->cipher, "AEAD_AES_128_GCM");
    struct rp_rxsummary *rx = &s->up.rx;
    rx->received = PKTS;
    rx->burst_ratio = 1.0;
    rx->jitter_ms = 1.0;
    rx->jitter_mean_ms = 1.0;
    rx->jb_mean_ms = 40.0;
    rx->jb_max_ms = 60.0;
    rx->wire_bytes = PKTS * (28 + 12 + 80 + 16);
    s->up.accepted = PKTS;
    s->down.sent = PKTS;
    s->down.wire_bytes = PKTS * (28 + 12 + 80 + 16);
}

static void fx_init(struct fx *f)
{
    memset(f, 0, sizeof *f);
    clean_daemon(&f->daemon);
    json_error_t je;
    json_t *j = json_loads(chrome_body, 0, &je);
    assert_non_null(j);
    assert_int_equal(rp_browser_stats_decode(j, &f->browser, f->err, sizeof f->err), 0);
    json_decref(j);
    f->in = (struct rp_webreport_in){ .daemon = &f->daemon, .browser = &f->browser,
                                      .codec = rp_codec_get(RP_CODEC_OPUS), .ptime_ms = 20,
                                      .server = "media.example.net", .port_range = "10000-20000" };
    rp_thresholds_default(&f->t);
}

static int build(struct fx *f)
{
    return rp_webreport_build(&f->in, &f->t, &f->rep, f->err, sizeof f->err);
}

static void build_ok(struct fx *f)
{
    int rc = build(f);
    if (rc != 0)
        fail_msg("refused: %s", f->err);
}

/* ---- decoding ------------------------------------------------------------- */

static void test_decode_reads_every_field_of_a_chrome_body(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    const struct rp_browser_stats *b = &f.browser;
    assert_string_equal(f.err, "");
    assert_int_equal(b->packets_sent, 750);
    assert_true(b->has_inbound);
    assert_true(b->has_jitter_buffer);
    assert_true(b->has_concealment);
    assert_int_equal(b->packets_received, 750);
    assert_int_equal(b->packets_lost, 0);
    assert_true(b->jitter_s == 0.002);
    assert_true(b->jitter_buffer_delay_s == 28800.0);
    assert_int_equal(b->jitter_buffer_emitted, 720000);
    assert_int_equal(b->total_samples_received, 720000);
    assert_int_equal(b->bytes_received, 60000);
    assert_true(b->stats_time_ms == 1765046400123.5);
    assert_true(b->last_packet_ms == 1765046400100.0);
    assert_true(b->has_rtt);
    assert_true(b->rtt_s == 0.021);
    assert_int_equal(b->rtt_measurements, 3);
    assert_string_equal(b->local_type, "host");
    assert_string_equal(b->remote_type, "host");
    assert_string_equal(b->relay_protocol, "");
    assert_string_equal(b->local_address, "192.168.1.20:40000");
    assert_string_equal(b->remote_address, "198.51.100.5:12346");
    assert_memory_equal(b->user_agent, "Mozilla/5.0 (X11;", 17);
}

static int decode_text(const char *text, struct rp_browser_stats *b, char *err, size_t errlen)
{
    json_error_t je;
    json_t *j = json_loads(text, JSON_ALLOW_NUL, &je);
    if (!j)
        fail_msg("test body does not parse: %s: %s", je.text, text);
    int rc = rp_browser_stats_decode(j, b, err, errlen);
    json_decref(j);
    return rc;
}

static void test_decode_allows_missing_groups_and_null_keys(void **state)
{
    (void)state;
    struct rp_browser_stats b;
    char err[128];
    assert_int_equal(decode_text("{}", &b, err, sizeof err), 0);
    assert_false(b.has_inbound);
    assert_false(b.has_rtt);
    assert_int_equal(b.packets_sent, 0);
    assert_string_equal(b.local_type, "");
    /* JSON.stringify writes NaN as null: such a figure is not given. */
    assert_int_equal(decode_text("{\"inbound\":{\"packetsReceived\":5,\"packetsLost\":0,\"jitter\":0.001,"
                                 "\"concealedSamples\":null},\"remote_inbound\":{\"roundTripTime\":null},"
                                 "\"outbound\":null}",
                                 &b, err, sizeof err),
                     0);
    assert_true(b.has_inbound);
    assert_false(b.has_concealment);
    assert_false(b.has_jitter_buffer);
    assert_false(b.has_rtt);
    /* A negative packetsLost (duplicates) is RFC 3550's. */
    assert_int_equal(decode_text("{\"inbound\":{\"packetsReceived\":5,\"packetsLost\":-2,\"jitter\":0}}", &b, err,
                                 sizeof err),
                     0);
    assert_int_equal(b.packets_lost, -2);
}

struct refusal {
    const char *body;
    const char *err;   /* the whole message: the key and why */
};

static const struct refusal refusals[] = {
    { "[]", "the stats are not a JSON object" },
    { "{\"outbound\":[1]}", "outbound: not an object" },
    { "{\"inbound\":\"x\"}", "inbound: not an object" },
    { "{\"outbound\":{}}", "outbound.packetsSent: missing" },
    { "{\"outbound\":{\"packetsSent\":\"750\"}}", "outbound.packetsSent: not an integer" },
    { "{\"outbound\":{\"packetsSent\":750.5}}", "outbound.packetsSent: not an integer" },
    { "{\"outbound\":{\"packetsSent\":true}}", "outbound.packetsSent: not an integer" },
    { "{\"outbound\":{\"packetsSent\":-1}}", "outbound.packetsSent: out of range" },
    { "{\"outbound\":{\"packetsSent\":1099511627777}}", "outbound.packetsSent: out of range" },
    { "{\"inbound\":{\"packetsLost\":0,\"jitter\":0}}", "inbound.packetsReceived: missing" },
    { "{\"inbound\":{\"packetsReceived\":1,\"jitter\":0}}", "inbound.packetsLost: missing" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0}}", "inbound.jitter: missing" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":-2147483649,\"jitter\":0}}",
      "inbound.packetsLost: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":1099511627777,\"jitter\":0}}",
      "inbound.packetsLost: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":-0.001}}", "inbound.jitter: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":3600.5}}", "inbound.jitter: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":\"0\"}}", "inbound.jitter: not a number" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"jitterBufferDelay\":-1}}",
      "inbound.jitterBufferDelay: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"jitterBufferEmittedCount\":1.5}}",
      "inbound.jitterBufferEmittedCount: not an integer" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"concealedSamples\":{}}}",
      "inbound.concealedSamples: not an integer" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"silentConcealedSamples\":-5}}",
      "inbound.silentConcealedSamples: out of range" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"totalSamplesReceived\":[]}}",
      "inbound.totalSamplesReceived: not an integer" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"concealmentEvents\":\"2\"}}",
      "inbound.concealmentEvents: not an integer" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"bytesReceived\":1e3}}",
      "inbound.bytesReceived: not an integer" },
    { "{\"inbound\":{\"packetsReceived\":1,\"packetsLost\":0,\"jitter\":0,\"timestamp\":-1}}",
      "inbound.timestamp: out of range" },
    { "{\"remote_inbound\":{\"roundTripTime\":3601}}", "remote_inbound.roundTripTime: out of range" },
    { "{\"remote_inbound\":{\"totalRoundTripTime\":\"1\"}}", "remote_inbound.totalRoundTripTime: not a number" },
    { "{\"remote_inbound\":{\"roundTripTimeMeasurements\":-3}}",
      "remote_inbound.roundTripTimeMeasurements: out of range" },
    { "{\"pair\":{\"local_type\":\"bogus\"}}", "pair.local_type: not a known value" },
    { "{\"pair\":{\"remote_type\":5}}", "pair.remote_type: not a string" },
    { "{\"pair\":{\"relay_protocol\":\"sctp\"}}", "pair.relay_protocol: not a known value" },
    { "{\"pair\":{\"local_address\":\"10.0.0.1\\n:1\"}}", "pair.local_address: not printable ASCII" },
    { "{\"pair\":{\"remote_address\":\"10.0.0.1\\u0000x\"}}", "pair.remote_address: not printable ASCII" },
    { "{\"pair\":{\"local_address\":\"\\u00e9t\\u00e9\"}}", "pair.local_address: not printable ASCII" },
    { "{\"pair\":{\"local_address\":\"0123456789012345678901234567890123456789012345678901234567890123\"}}",
      "pair.local_address: too long" },
    { "{\"user_agent\":\"Mozilla\\u001b[31m\"}", "user_agent: not printable ASCII" },
    { "{\"user_agent\":42}", "user_agent: not a string" },
};

static void test_decode_refuses_each_bad_field_naming_its_key(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof refusals / sizeof refusals[0]; i++) {
        struct rp_browser_stats b;
        char err[128] = "";
        if (decode_text(refusals[i].body, &b, err, sizeof err) != -1)
            fail_msg("accepted: %s", refusals[i].body);
        if (strcmp(err, refusals[i].err) != 0)
            fail_msg("%s: err \"%s\", wanted \"%s\"", refusals[i].body, err, refusals[i].err);
    }
}

/* The user agent is only shown: a long one is cut, not the report refused. */
static void test_decode_cuts_a_long_user_agent(void **state)
{
    (void)state;
    char body[400];
    char ua[301];
    memset(ua, 'a', 300);
    ua[300] = '\0';
    snprintf(body, sizeof body, "{\"user_agent\":\"%s\"}", ua);
    struct rp_browser_stats b;
    char err[128];
    assert_int_equal(decode_text(body, &b, err, sizeof err), 0);
    assert_int_equal(strlen(b.user_agent), sizeof b.user_agent - 1);
}

/* ---- the report --------------------------------------------------------- */

static void test_clean_opus_run_passes_two_way_with_mos_above_4(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    build_ok(&f);
    assert_string_equal(f.err, "");
    assert_int_equal(f.rep.verdict, RP_VERDICT_PASS);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
    assert_true(f.rep.up.mos >= 4.0);
    assert_true(f.rep.down.mos >= 4.0);
    assert_string_equal(f.rep.codec, "opus");
    assert_string_equal(f.rep.transport, "srtp");
    assert_string_equal(f.rep.cipher, "AEAD_AES_128_GCM");
    assert_string_equal(f.rep.path, "direct");
    assert_true(f.rep.jitter_buffer_adaptive);
    assert_string_equal(f.rep.session_id, f.daemon.id);
    assert_string_equal(f.rep.port_range, "10000-20000");
    /* The browser's figures, in the report's units. */
    assert_int_equal(f.rep.down.rx.expected, PKTS);
    assert_int_equal(f.rep.down.rx.lost, 0);
    assert_true(f.rep.down.rx.jitter_ms > 1.999 && f.rep.down.rx.jitter_ms < 2.001);
    assert_true(f.rep.down.rx.jb_mean_ms > 39.999 && f.rep.down.rx.jb_mean_ms < 40.001);
    assert_int_equal(f.rep.down.rx.late_adaptive, 0);
    assert_true(f.rep.down.kbps > 54.3 && f.rep.down.kbps < 54.5); /* 136 bytes a 20 ms */
    /* RTT: the browser's mean of three, not its latest. */
    assert_true(f.rep.has_rtt);
    assert_true(f.rep.rtt_avg_ms > 19.999 && f.rep.rtt_avg_ms < 20.001);
    assert_string_equal(f.rep.nat.local, "192.168.1.20:40000");
    assert_string_equal(f.rep.nat.latched, "203.0.113.7:40000");
    assert_string_equal(f.rep.nat.type, "nat");
    json_t *j = rp_report_json(&f.rep);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "diagnosis")), "two-way");
    json_decref(j);
    rp_report_release(&f.rep);
}

static void test_nothing_received_by_the_browser_is_downstream_blocked(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    /* Chromium has no inbound-rtp before the first packet. */
    f.browser.has_inbound = false;
    f.browser.packets_received = 0;
    f.browser.has_concealment = false;
    f.browser.has_jitter_buffer = false;
    f.browser.stats_time_ms = f.browser.last_packet_ms = 0;
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    assert_true(f.rep.down.measured);
    assert_int_equal(f.rep.down.rx.lost, PKTS);
    /* The same with an inbound-rtp that counted nothing. */
    fx_init(&f);
    f.browser.packets_received = 0;
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
}

/* The daemon answers (ICE checks, DTLS): the browser always sends first, so
 * its media arriving after ours is no "reply only" upstream. */
static void test_upstream_after_downstream_is_not_reply_only(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.daemon.up.reply_only = true;
    build_ok(&f);
    assert_false(f.rep.up.reply_only);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
}

static void test_nothing_received_by_the_daemon_is_upstream_blocked(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.daemon.up.rx = (struct rp_rxsummary){ 0 };
    f.daemon.up.accepted = 0;
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    assert_true(f.rep.up.measured);
    assert_int_equal(f.rep.up.rx.lost, PKTS);
}

static void test_nothing_either_way_is_no_media(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.daemon.up.rx = (struct rp_rxsummary){ 0 };
    f.daemon.up.accepted = 0;
    f.browser.has_inbound = false;
    f.browser.packets_received = 0;
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_NO_MEDIA);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    /* Nor did the browser send (no DTLS, no SRTP keys): still no media. */
    fx_init(&f);
    f.daemon.up.rx = (struct rp_rxsummary){ 0 };
    f.daemon.up.accepted = 0;
    f.daemon.down.sent = 0;
    f.daemon.down.wire_bytes = 0;
    memset(&f.browser, 0, sizeof f.browser);
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_NO_MEDIA);
    assert_false(f.rep.up.measured);
    assert_false(f.rep.down.measured);
}

/* The daemon's round trips, one a second, step up by 80 ms at 5 s: with
 * upstream's own rise 3 ms, downstream's queue is the rest (a browser tells
 * nobody its one-way delay), and the report names it as the CLI would. */
static void test_round_trip_floor_rise_is_a_downstream_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    double rtt[15];
    for (int i = 0; i < 15; i++)
        rtt[i] = (i < 5 ? 40.0 : 120.0) + (i % 3) * 4.0;
    f.daemon.up.rx.delay_rise_ms = 3.0;
    f.in.rtt_series_ms = rtt;
    f.in.nrtt_series = 15;
    build_ok(&f);
    assert_true(f.rep.down.rx.delay_rise_ms > 76.9 && f.rep.down.rx.delay_rise_ms < 85.1);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_BUFFERBLOAT);
    /* The report's RTT figures are those round trips. */
    assert_true(f.rep.rtt_min_ms > 39.9 && f.rep.rtt_min_ms < 40.1);
    assert_true(f.rep.rtt_max_ms > 127.9 && f.rep.rtt_max_ms < 128.1);
    rp_report_release(&f.rep);
    /* One lone slow round trip is no floor: no rise. */
    fx_init(&f);
    for (int i = 0; i < 15; i++)
        rtt[i] = i == 7 ? 200.0 : 40.0;
    f.in.rtt_series_ms = rtt;
    f.in.nrtt_series = 15;
    build_ok(&f);
    assert_true(f.rep.down.rx.delay_rise_ms < 0.001);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
    rp_report_release(&f.rep);
}

/* Our sender reports as the browser timed them (arrival less our send time,
 * the clocks' offset in each): their floor steps up by 80 ms at 5 s while
 * the round trips alone (too few) would say nothing: a downstream queue. */
static void test_sender_report_delays_rise_is_a_downstream_queue(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.browser.nsr_delays = 15;
    for (int i = 0; i < 15; i++)
        f.browser.sr_delays_ms[i] = -5000.0 + (i < 5 ? 10.0 : 90.0) + (i % 3) * 3.0;
    build_ok(&f);
    assert_true(f.rep.down.rx.delay_rise_ms > 79.9 && f.rep.down.rx.delay_rise_ms < 86.1);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_BUFFERBLOAT);
    rp_report_release(&f.rep);
    /* A steady offset, however large, is no rise. */
    fx_init(&f);
    f.browser.nsr_delays = 15;
    for (int i = 0; i < 15; i++)
        f.browser.sr_delays_ms[i] = 123456.0 + (i % 2);
    build_ok(&f);
    assert_true(f.rep.down.rx.delay_rise_ms < 1.001);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
    rp_report_release(&f.rep);
}

static void test_decode_sender_report_delays(void **state)
{
    (void)state;
    struct rp_browser_stats b;
    char err[256];
    json_t *j = json_loads("{\"outbound\":{\"packetsSent\":1},\"remote_outbound\":{\"delays_ms\":[1.5,-2,3]}}", 0, NULL);
    assert_int_equal(rp_browser_stats_decode(j, &b, err, sizeof err), 0);
    assert_int_equal(b.nsr_delays, 3);
    assert_true(b.sr_delays_ms[1] < -1.999 && b.sr_delays_ms[1] > -2.001);
    json_decref(j);
    j = json_loads("{\"remote_outbound\":{\"delays_ms\":[1,\"x\"]}}", 0, NULL);
    assert_int_equal(rp_browser_stats_decode(j, &b, err, sizeof err), -1);
    assert_non_null(strstr(err, "remote_outbound.delays_ms"));
    json_decref(j);
    j = json_loads("{\"remote_outbound\":{\"delays_ms\":[1e9]}}", 0, NULL);
    assert_int_equal(rp_browser_stats_decode(j, &b, err, sizeof err), -1);
    json_decref(j);
}

/* No handshake, so no media either way (ICE failed): each direction is judged
 * by the connectivity checks, as the CLI judges by its packets. */
static void fx_unconnected(struct fx *f, uint64_t sent, uint64_t received, uint64_t answered, uint64_t answers_got)
{
    fx_init(f);
    f->daemon.up.rx = (struct rp_rxsummary){ 0 };
    f->daemon.up.accepted = 0;
    f->daemon.down.sent = f->daemon.down.skipped = 0;
    f->daemon.down.wire_bytes = 0;
    memset(&f->browser, 0, sizeof f->browser);
    f->browser.has_checks = true;
    f->browser.checks_sent = sent;
    f->browser.checks_answered = answers_got;
    f->in.connected = false;
    f->in.checks_received = received;
    f->in.checks_answered = answered;
}

static void test_checks_that_never_arrive_block_upstream(void **state)
{
    (void)state;
    struct fx f;
    fx_unconnected(&f, 40, 0, 0, 0);
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_UPSTREAM_BLOCKED);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    assert_int_equal(f.rep.up.sent, 40);
    assert_int_equal(f.rep.up.rx.received, 0);
    assert_false(f.rep.down.measured);
    rp_report_release(&f.rep);
}

static void test_answers_that_never_arrive_block_downstream(void **state)
{
    (void)state;
    struct fx f;
    fx_unconnected(&f, 40, 38, 38, 0);
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    assert_int_equal(f.rep.down.sent, 38);
    assert_int_equal(f.rep.down.rx.received, 0);
    rp_report_release(&f.rep);
    /* Checks both ways and still no handshake: no audio, whatever the checks say. */
    fx_unconnected(&f, 40, 40, 40, 40);
    f.in.handshake_error = "DTLS: peer fingerprint does not match the SDP";
    build_ok(&f);
    assert_int_equal(f.rep.verdict, RP_VERDICT_FAIL);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_NO_MEDIA);
    assert_non_null(strstr(f.rep.cause, "fingerprint"));
    rp_report_release(&f.rep);
    /* An older page without the checks group: downstream is not known. */
    fx_unconnected(&f, 0, 38, 38, 0);
    f.browser.has_checks = false;
    build_ok(&f);
    assert_false(f.rep.down.measured);
    assert_int_not_equal(f.rep.diagnosis, RP_DIAG_ONE_WAY_DOWNSTREAM_BLOCKED);
    rp_report_release(&f.rep);
    /* Once media flowed, the checks say nothing: the media decides. */
    fx_init(&f);
    f.browser.has_checks = true;
    f.browser.checks_sent = 40;
    f.in.connected = true;
    build_ok(&f);
    assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
    rp_report_release(&f.rep);
}

/* The browser lost 4 packets in the stream and concealed 10 more that came too
 * late; after its last packet it concealed until the stats were read (100 ms):
 * that is the end, not lateness. */
static void test_concealment_not_from_loss_counts_as_late(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.browser.packets_received = PKTS - 4;
    f.browser.packets_lost = 4;
    f.browser.stats_time_ms = f.browser.last_packet_ms + 100.0;
    uint64_t tail = 100 * 48; /* 100 ms at 48 kHz */
    uint64_t silent = 5 * SPP;
    f.browser.concealed_samples = (4 + 10) * SPP + tail + silent;
    f.browser.silent_concealed_samples = silent;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.late_adaptive, 10);
    assert_int_equal(f.rep.down.rx.lost, 4);
    uint64_t late = rp_dir_late(&f.rep, &f.rep.down);
    assert_int_equal(late, 10);
    /* The MOS counts them as lost: lower than with the same loss and none late. */
    double mos_late = f.rep.down.mos;
    f.browser.concealed_samples -= 10 * SPP;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.late_adaptive, 0);
    assert_true(mos_late < f.rep.down.mos);
}

/* PCMU: NetEq counts at 8 kHz, 160 samples a 20 ms packet. */
static void test_concealment_of_pcmu_counts_at_8khz(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.in.codec = rp_codec_get(RP_CODEC_PCMU);
    f.browser.stats_time_ms = f.browser.last_packet_ms = 0;
    f.browser.total_samples_received = PKTS * 160;
    f.browser.concealed_samples = 7 * 160;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.late_adaptive, 7);
}

static void test_tail_and_lead_loss_count_from_the_daemons_sent(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    /* The path went down after 700 packets: the browser's packetsLost stays 0. */
    f.browser.packets_received = 700;
    f.browser.packets_lost = 0;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.expected, PKTS);
    assert_int_equal(f.rep.down.rx.received, 700);
    assert_int_equal(f.rep.down.rx.lost, 50);
    assert_true(f.rep.down.rx.loss_pct > 6.66 && f.rep.down.rx.loss_pct < 6.67);
    assert_int_not_equal(f.rep.verdict, RP_VERDICT_PASS);
    /* Slots the daemon skipped under load are expected too (lost, its own). */
    fx_init(&f);
    f.daemon.down.sent = PKTS - 3;
    f.daemon.down.skipped = 3;
    f.browser.packets_received = PKTS - 3;
    f.browser.packets_lost = 3;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.expected, PKTS);
    assert_int_equal(f.rep.down.rx.lost, 3);
    assert_int_equal(f.rep.down.host_skipped, 3);
}

static void test_duplicates_are_not_received_twice(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.browser.packets_received = PKTS + 2;
    f.browser.packets_lost = -2;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.received, PKTS);
    assert_int_equal(f.rep.down.rx.duplicates, 2);
    assert_int_equal(f.rep.down.rx.lost, 0);
}

/* The browser's packetsSent was read before the post; the daemon counted on. */
static void test_stale_packets_sent_takes_the_daemons_count_with_a_note(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.browser.packets_sent = PKTS - 5;
    build_ok(&f);
    assert_int_equal(f.rep.up.sent, PKTS);
    assert_int_equal(f.rep.up.rx.lost, 0);
    assert_non_null(strstr(f.err, "packetsSent 745"));
    /* The browser sent more than arrived: that is loss. */
    fx_init(&f);
    f.browser.packets_sent = PKTS + 10;
    build_ok(&f);
    assert_string_equal(f.err, "");
    assert_int_equal(f.rep.up.rx.expected, PKTS + 10);
    assert_int_equal(f.rep.up.rx.lost, 10);
}

struct spoil {
    const char *what;
    void (*apply)(struct fx *f);
    const char *err; /* a part of the message */
};

static void more_received_than_sent(struct fx *f) { f->browser.packets_received = PKTS + 10; }
static void span_beyond_slots(struct fx *f) { f->browser.packets_lost = 20; }
/* Within the slots (sent + skipped), but more packets than were sent. */
static void more_received_than_sent_within_slots(struct fx *f)
{
    f->daemon.down.sent = PKTS - 10;
    f->daemon.down.skipped = 10;
    f->browser.packets_received = PKTS - 5;
    f->browser.packets_lost = 5;
}
static void concealed_beyond_total(struct fx *f) { f->browser.concealed_samples = 720001; }
static void silent_beyond_concealed(struct fx *f) { f->browser.silent_concealed_samples = 1; }
static void lost_below_received(struct fx *f)
{
    f->browser.packets_received = 2;
    f->browser.packets_lost = -3;
}
static void rtt_sum_without_count(struct fx *f) { f->browser.rtt_measurements = 0; }
static void jb_sum_without_count(struct fx *f) { f->browser.jitter_buffer_emitted = 0; }
static void relay_without_protocol(struct fx *f) { snprintf(f->browser.local_type, 8, "relay"); }

static const struct spoil spoils[] = {
    { "received > sent", more_received_than_sent, "more than the 750 the daemon sent" },
    { "span > slots", span_beyond_slots, "over a span of 770" },
    { "received > sent, within the slots", more_received_than_sent_within_slots, "745 packets received" },
    { "concealed > total", concealed_beyond_total, "inbound.concealedSamples 720001 is more than total" },
    { "silent > concealed", silent_beyond_concealed, "inbound.silentConcealedSamples 1 is more than concealedSamples" },
    { "lost < -received", lost_below_received, "inbound.packetsLost -3" },
    { "rtt sum, no measurements", rtt_sum_without_count, "remote_inbound.totalRoundTripTime" },
    { "jb sum, no count", jb_sum_without_count, "inbound.jitterBufferDelay" },
    { "relay, no protocol", relay_without_protocol, "pair.relay_protocol" },
};

static void test_contradicting_figures_are_refused(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof spoils / sizeof spoils[0]; i++) {
        struct fx f;
        fx_init(&f);
        spoils[i].apply(&f);
        if (build(&f) != -1)
            fail_msg("%s: accepted", spoils[i].what);
        if (!strstr(f.err, spoils[i].err))
            fail_msg("%s: err \"%s\" lacks \"%s\"", spoils[i].what, f.err, spoils[i].err);
        assert_int_equal(f.rep.up.sent, 0); /* nothing half-filled to use */
    }
}

static void test_relay_pair_names_the_turn_path(void **state)
{
    (void)state;
    static const struct { const char *proto, *path; } cases[] = {
        { "udp", "turn-udp" }, { "tcp", "turn-tcp" }, { "tls", "turns" } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct fx f;
        fx_init(&f);
        snprintf(f.browser.local_type, sizeof f.browser.local_type, "relay");
        snprintf(f.browser.relay_protocol, sizeof f.browser.relay_protocol, "%s", cases[i].proto);
        snprintf(f.browser.local_address, sizeof f.browser.local_address, "198.51.100.9:50000");
        build_ok(&f);
        assert_string_equal(f.rep.path, cases[i].path);
        assert_string_equal(f.rep.relay.relayed, "198.51.100.9:50000");
        assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
    }
    /* A server-reflexive pair is direct, its address the NAT's mapping. */
    struct fx f;
    fx_init(&f);
    snprintf(f.browser.local_type, sizeof f.browser.local_type, "srflx");
    snprintf(f.browser.local_address, sizeof f.browser.local_address, "203.0.113.7:40000");
    build_ok(&f);
    assert_string_equal(f.rep.path, "direct");
    assert_string_equal(f.rep.nat.mapped, "203.0.113.7:40000");
}

static void test_rtt_is_the_daemons_rtcp_else_the_browsers(void **state)
{
    (void)state;
    struct fx f;
    fx_init(&f);
    f.browser.has_rtt = false;
    f.browser.rtt_total_s = 0;
    f.browser.rtt_measurements = 0;
    static const double daemon_rtt_ms[] = { 33.0 };
    f.in.rtt_series_ms = daemon_rtt_ms;
    f.in.nrtt_series = 1;
    build_ok(&f);
    assert_true(f.rep.has_rtt);
    assert_true(f.rep.rtt_avg_ms > 32.999 && f.rep.rtt_avg_ms < 33.001);
    /* Only the latest: used when the browser gives no mean. */
    fx_init(&f);
    f.browser.rtt_total_s = 0;
    f.browser.rtt_measurements = 0;
    build_ok(&f);
    assert_true(f.rep.rtt_avg_ms > 20.999 && f.rep.rtt_avg_ms < 21.001);
    /* Neither: no RTT. */
    fx_init(&f);
    f.browser.has_rtt = false;
    f.browser.rtt_total_s = 0;
    f.browser.rtt_measurements = 0;
    build_ok(&f);
    assert_false(f.rep.has_rtt);
}

/* ---- Chromium's own figures ------------------------------------------------ */

/* Bodies made from Chromium 156's getStats() (headless, Debian 12's chromium
 * 156.0.8078.114): two RTCPeerConnections on one host, a WebAudio 440 Hz
 * oscillator sent for 4 s at ptime 20, each group's keys copied as the page
 * copies them (the candidates' address and port joined, IPv6 in brackets).
 * "live": read while the stream ran; "ended": the sender's track replaced by
 * null at 4 s, then read every 200 ms until lastPacketReceivedTimestamp stood
 * still (as docs/webrtc.md asks of the page); "waited": read 1 s after. */
static const char *const chromium_opus_live =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChr"
    "ome/156.0.0.0 Safari/537.36\",\"outbound\":{\"packetsSent\":199},\"inbound\":{\"packetsReceived\":19"
    "9,\"packetsLost\":0,\"jitter\":0,\"jitterBufferDelay\":6556.8,\"jitterBufferEmittedCount\":190080,\""
    "concealedSamples\":0,\"silentConcealedSamples\":0,\"totalSamplesReceived\":190560,\"concealmentEvent"
    "s\":0,\"bytesReceived\":16030,\"timestamp\":1796583156753.957,\"lastPacketReceivedTimestamp\":179658"
    "3156742.926},\"remote_inbound\":{\"roundTripTime\":0.002167,\"totalRoundTripTime\":0.002167,\"roundT"
    "ripTimeMeasurements\":1},\"pair\":{\"local_type\":\"host\",\"remote_type\":\"host\",\"relay_protocol"
    "\":\"\",\"local_address\":\"[fd00::2]:56840\",\"remote_address\":\"[fd00::2]:32980\"}}";
static const char *const chromium_pcmu_live =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChr"
    "ome/156.0.0.0 Safari/537.36\",\"outbound\":{\"packetsSent\":199},\"inbound\":{\"packetsReceived\":19"
    "9,\"packetsLost\":0,\"jitter\":0.003,\"jitterBufferDelay\":1171.2,\"jitterBufferEmittedCount\":31520"
    ",\"concealedSamples\":73,\"silentConcealedSamples\":0,\"totalSamplesReceived\":31680,\"concealmentEv"
    "ents\":1,\"bytesReceived\":31840,\"timestamp\":1796583160835.266,\"lastPacketReceivedTimestamp\":179"
    "6583160834.517},\"remote_inbound\":{\"roundTripTime\":0.0012209999999999999,\"totalRoundTripTime\":0"
    ".0012209999999999999,\"roundTripTimeMeasurements\":1},\"pair\":{\"local_type\":\"host\",\"remote_typ"
    "e\":\"host\",\"relay_protocol\":\"\",\"local_address\":\"[fd00::2]:60875\",\"remote_address\":\"[fd0"
    "0::2]:51471\"}}";
static const char *const chromium_opus_ended =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChr"
    "ome/156.0.0.0 Safari/537.36\",\"outbound\":{\"packetsSent\":199},\"inbound\":{\"packetsReceived\":19"
    "9,\"packetsLost\":0,\"jitter\":0.003,\"jitterBufferDelay\":10358.4,\"jitterBufferEmittedCount\":1910"
    "40,\"concealedSamples\":19838,\"silentConcealedSamples\":0,\"totalSamplesReceived\":210240,\"conceal"
    "mentEvents\":3,\"bytesReceived\":16091,\"timestamp\":1796583233156.856,\"lastPacketReceivedTimestamp"
    "\":1796583232737.606},\"remote_inbound\":{\"roundTripTime\":0.001022,\"totalRoundTripTime\":0.001022"
    ",\"roundTripTimeMeasurements\":1},\"pair\":{\"local_type\":\"host\",\"remote_type\":\"host\",\"relay"
    "_protocol\":\"\",\"local_address\":\"[fd00::2]:44259\",\"remote_address\":\"[fd00::2]:60752\"}}";
static const char *const chromium_pcmu_ended =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChr"
    "ome/156.0.0.0 Safari/537.36\",\"outbound\":{\"packetsSent\":192},\"inbound\":{\"packetsReceived\":19"
    "2,\"packetsLost\":0,\"jitter\":0.009,\"jitterBufferDelay\":2496,\"jitterBufferEmittedCount\":30720,\""
    "concealedSamples\":3320,\"silentConcealedSamples\":0,\"totalSamplesReceived\":34480,\"concealmentEve"
    "nts\":6,\"bytesReceived\":30720,\"timestamp\":1796583237681.622,\"lastPacketReceivedTimestamp\":1796"
    "583237217.023},\"remote_inbound\":{\"roundTripTime\":0.001,\"totalRoundTripTime\":0.001,\"roundTripT"
    "imeMeasurements\":1},\"pair\":{\"local_type\":\"host\",\"remote_type\":\"host\",\"relay_protocol\":\""
    "\",\"local_address\":\"[fd00::2]:47656\",\"remote_address\":\"[fd00::2]:33547\"}}";
static const char *const chromium_opus_waited =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChr"
    "ome/156.0.0.0 Safari/537.36\",\"outbound\":{\"packetsSent\":197},\"inbound\":{\"packetsReceived\":19"
    "7,\"packetsLost\":0,\"jitter\":0.004,\"jitterBufferDelay\":15820.8,\"jitterBufferEmittedCount\":1891"
    "20,\"concealedSamples\":35062,\"silentConcealedSamples\":9556,\"totalSamplesReceived\":226080,\"conc"
    "ealmentEvents\":4,\"bytesReceived\":15929,\"timestamp\":1796583191268.325,\"lastPacketReceivedTimest"
    "amp\":1796583190252.363},\"remote_inbound\":{\"roundTripTime\":null,\"totalRoundTripTime\":0,\"round"
    "TripTimeMeasurements\":0},\"pair\":{\"local_type\":\"host\",\"remote_type\":\"host\",\"relay_protoco"
    "l\":\"\",\"local_address\":\"[fd00::2]:50223\",\"remote_address\":\"[fd00::2]:57100\"}}";

/* The same live runs in Firefox ESR 153.8.0 (headless, no driver: the page
 * posted its figures to a local server), whose audio receiver is libwebrtc's
 * NetEq too: integer timestamps, an mDNS host address, no RTT yet. */
static const char *const firefox_opus_live =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0\",\"outboun"
    "d\":{\"packetsSent\":188},\"inbound\":{\"packetsReceived\":188,\"packetsLost\":0,\"jitter\":0.007,\""
    "jitterBufferDelay\":9196.8,\"jitterBufferEmittedCount\":177600,\"concealedSamples\":1440,\"silentCon"
    "cealedSamples\":0,\"totalSamplesReceived\":179520,\"concealmentEvents\":1,\"bytesReceived\":564,\"ti"
    "mestamp\":1796583377490,\"lastPacketReceivedTimestamp\":1796583377488},\"remote_inbound\":{\"roundTr"
    "ipTime\":null,\"totalRoundTripTime\":0,\"roundTripTimeMeasurements\":0},\"pair\":{\"local_type\":\"h"
    "ost\",\"remote_type\":\"host\",\"relay_protocol\":\"\",\"local_address\":\"bb75920d-9b12-4300-a610-8"
    "7b56fb26b36.local:40966\",\"remote_address\":\"cbf12c48-83af-4a37-87bb-e6b360d78755.local:57825\"}}";
static const char *const firefox_pcmu_live =
    "{\"user_agent\":\"Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0\",\"outboun"
    "d\":{\"packetsSent\":195},\"inbound\":{\"packetsReceived\":195,\"packetsLost\":0,\"jitter\":0.005,\""
    "jitterBufferDelay\":1131.2,\"jitterBufferEmittedCount\":30880,\"concealedSamples\":240,\"silentConce"
    "aledSamples\":0,\"totalSamplesReceived\":31120,\"concealmentEvents\":1,\"bytesReceived\":31200,\"tim"
    "estamp\":1796583381531,\"lastPacketReceivedTimestamp\":1796583381516},\"remote_inbound\":{\"roundTri"
    "pTime\":null,\"totalRoundTripTime\":0,\"roundTripTimeMeasurements\":0},\"pair\":{\"local_type\":\"ho"
    "st\",\"remote_type\":\"host\",\"relay_protocol\":\"\",\"local_address\":\"12e10510-9a71-4223-8537-85"
    "be37eb8a23.local:54548\",\"remote_address\":\"f3146d80-b8c9-44cd-b58e-27d89775d6e9.local:42135\"}}";

/* A clean 4 s run as the daemon would have counted it with the browser's figures. */
static void browser_fx(struct fx *f, const char *body, enum rp_codec_id codec)
{
    memset(f, 0, sizeof *f);
    assert_int_equal(decode_text(body, &f->browser, f->err, sizeof f->err), 0);
    clean_daemon(&f->daemon);
    f->daemon.duration_s = 4;
    uint64_t n = f->browser.packets_sent;
    f->daemon.up.rx.received = f->daemon.up.accepted = n;
    f->daemon.down.sent = f->browser.packets_received;
    f->daemon.down.wire_bytes = f->daemon.down.sent * (28 + 12 + 80 + 16);
    f->in = (struct rp_webreport_in){ .daemon = &f->daemon, .browser = &f->browser, .codec = rp_codec_get(codec),
                                      .ptime_ms = 20, .server = "localhost", .port_range = "10000-20000" };
    rp_thresholds_default(&f->t);
}

/* What docs/webrtc.md says of the unit, on Chromium's figures: its samples
 * are per channel at the decoder's rate, 48 kHz for Opus and 8 kHz for PCMU,
 * so a 20 ms packet is 960 or 160 of them (a little less: the stats were read
 * a few ms after the last packet's decoding). */
static void test_browsers_count_samples_at_the_decoders_rate(void **state)
{
    (void)state;
    static const struct { const char *const *body; unsigned spp; } runs[] = {
        { &chromium_opus_live, 960 }, { &chromium_pcmu_live, 160 },
        { &firefox_opus_live, 960 }, { &firefox_pcmu_live, 160 } };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        struct rp_browser_stats b;
        char err[128];
        assert_int_equal(decode_text(*runs[i].body, &b, err, sizeof err), 0);
        assert_true(b.has_concealment);
        double per_packet = (double)b.total_samples_received / (double)b.packets_received;
        if (per_packet < 0.95 * runs[i].spp || per_packet > 1.01 * runs[i].spp)
            fail_msg("%.1f samples a packet, not about %u", per_packet, runs[i].spp);
        /* jitterBufferDelay is a sum over samples: far above 3600 s in 4 s. */
        assert_true(b.jitter_buffer_delay_s > 1000);
        double jb_ms = b.jitter_buffer_delay_s / (double)b.jitter_buffer_emitted * 1000.0;
        assert_true(jb_ms > 5 && jb_ms < 200);
    }
}

static void test_browsers_clean_runs_pass_without_late_packets(void **state)
{
    (void)state;
    static const struct { const char *const *body; enum rp_codec_id codec; } runs[] = {
        { &chromium_opus_live, RP_CODEC_OPUS }, { &chromium_pcmu_live, RP_CODEC_PCMU },
        { &chromium_opus_ended, RP_CODEC_OPUS }, { &chromium_pcmu_ended, RP_CODEC_PCMU },
        { &chromium_opus_waited, RP_CODEC_OPUS }, { &firefox_opus_live, RP_CODEC_OPUS },
        { &firefox_pcmu_live, RP_CODEC_PCMU } };
    for (size_t i = 0; i < sizeof runs / sizeof runs[0]; i++) {
        struct fx f;
        browser_fx(&f, *runs[i].body, runs[i].codec);
        build_ok(&f);
        /* Firefox conceals 1440 and 240 samples as it starts: a packet's worth, rounded. */
        uint64_t most = *runs[i].body == firefox_opus_live || *runs[i].body == firefox_pcmu_live ? 1 : 0;
        if (f.rep.down.rx.late_adaptive > most)
            fail_msg("run %zu: %" PRIu64 " late", i, f.rep.down.rx.late_adaptive);
        assert_int_equal(f.rep.diagnosis, RP_DIAG_TWO_WAY);
        assert_int_equal(f.rep.verdict, RP_VERDICT_PASS);
        assert_int_equal(f.rep.down.rx.lost, 0);
        assert_string_equal(f.rep.path, "direct");
        assert_true(strstr(f.rep.nat.local, "[fd00::2]:") || strstr(f.rep.nat.local, ".local:"));
        if (runs[i].codec == RP_CODEC_OPUS)
            assert_true(f.rep.down.mos >= 4.0);
    }
}

/* After the stream's end Chromium conceals until the stats are read: 19838
 * voiced samples (20 packets' worth) in the ended Opus run, 25506 in the
 * waited one. None of it is lateness. */
static void test_chromium_concealment_after_the_end_is_not_late(void **state)
{
    (void)state;
    struct fx f;
    browser_fx(&f, chromium_opus_ended, RP_CODEC_OPUS);
    assert_int_equal(f.browser.concealed_samples - f.browser.silent_concealed_samples, 19838);
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.late_adaptive, 0);
    /* Without its last-packet time the same concealment would count. */
    f.browser.last_packet_ms = 0;
    build_ok(&f);
    assert_int_equal(f.rep.down.rx.late_adaptive, 21);
    /* No remote-inbound-rtp RTT yet in the waited run (roundTripTime null): the daemon's is used. */
    browser_fx(&f, chromium_opus_waited, RP_CODEC_OPUS);
    assert_false(f.browser.has_rtt);
    static const double daemon_rtt_ms[] = { 1.5 };
    f.in.rtt_series_ms = daemon_rtt_ms;
    f.in.nrtt_series = 1;
    build_ok(&f);
    assert_true(f.rep.has_rtt);
    assert_true(f.rep.rtt_avg_ms > 1.499 && f.rep.rtt_avg_ms < 1.501);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_reads_every_field_of_a_chrome_body),
        cmocka_unit_test(test_decode_allows_missing_groups_and_null_keys),
        cmocka_unit_test(test_decode_refuses_each_bad_field_naming_its_key),
        cmocka_unit_test(test_decode_cuts_a_long_user_agent),
        cmocka_unit_test(test_clean_opus_run_passes_two_way_with_mos_above_4),
        cmocka_unit_test(test_nothing_received_by_the_browser_is_downstream_blocked),
        cmocka_unit_test(test_nothing_received_by_the_daemon_is_upstream_blocked),
        cmocka_unit_test(test_upstream_after_downstream_is_not_reply_only),
        cmocka_unit_test(test_nothing_either_way_is_no_media),
        cmocka_unit_test(test_round_trip_floor_rise_is_a_downstream_queue),
        cmocka_unit_test(test_sender_report_delays_rise_is_a_downstream_queue),
        cmocka_unit_test(test_decode_sender_report_delays),
        cmocka_unit_test(test_checks_that_never_arrive_block_upstream),
        cmocka_unit_test(test_answers_that_never_arrive_block_downstream),
        cmocka_unit_test(test_concealment_not_from_loss_counts_as_late),
        cmocka_unit_test(test_concealment_of_pcmu_counts_at_8khz),
        cmocka_unit_test(test_tail_and_lead_loss_count_from_the_daemons_sent),
        cmocka_unit_test(test_duplicates_are_not_received_twice),
        cmocka_unit_test(test_stale_packets_sent_takes_the_daemons_count_with_a_note),
        cmocka_unit_test(test_contradicting_figures_are_refused),
        cmocka_unit_test(test_relay_pair_names_the_turn_path),
        cmocka_unit_test(test_rtt_is_the_daemons_rtcp_else_the_browsers),
        cmocka_unit_test(test_browsers_count_samples_at_the_decoders_rate),
        cmocka_unit_test(test_browsers_clean_runs_pass_without_late_packets),
        cmocka_unit_test(test_chromium_concealment_after_the_end_is_not_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
