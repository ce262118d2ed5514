/* The report fixture test_report.c and test_htmlreport.c share: a clean G.711
 * run both ways, and the helpers that spoil and evaluate it. static inline, so a
 * test that uses only some of them compiles without unused-function warnings. */
#ifndef RP_TEST_REPORT_FIXTURE_H
#define RP_TEST_REPORT_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "report.h"
#include "threshold.h"

/* A clean G.711 run: 500 packets of 20 ms each way (10 s), no loss.
 * 87.2 kbps = (20 IP + 8 UDP + 12 RTP + 160 payload) * 8 bit * 50 pps + RTP ext
 * is not checked here; the value only has to survive the rendering.
 * MOS 4.41 is G.107 Annex B for R = 93.2:
 * 1 + 0.035*93.2 + 93.2*(93.2-60)*(100-93.2)*7e-6 = 4.409. */
static inline void clean_dir(struct rp_dir_report *d)
{
    memset(d, 0, sizeof *d);
    d->measured = true;
    d->sent = 500;
    d->rx.received = 500;
    d->rx.expected = 500;
    d->rx.lost = 0;
    d->rx.loss_pct = 0.0;
    d->rx.burst_ratio = 1.0;
    d->rx.jitter_ms = 1.2;
    d->rx.jitter_mean_ms = 1.2;
    d->rx.ipdv_p50_ms = 0.1;
    d->rx.ipdv_p95_ms = 0.5;
    d->rx.ipdv_p99_ms = 0.9;
    d->rx.ipdv_max_ms = 2.0;
    d->kbps = 80.0;
    d->r_factor = 93.2;
    d->mos = 4.409;
}

static inline void clean_report(struct rp_report *r)
{
    memset(r, 0, sizeof *r);
    snprintf(r->codec, sizeof r->codec, "pcmu");
    r->ptime_ms = 20;
    r->bitrate = 64000;
    snprintf(r->transport, sizeof r->transport, "rtp");
    r->duration_s = 10.0;
    r->jitter_buffer_ms = 60;
    snprintf(r->server, sizeof r->server, "media.example.net");
    snprintf(r->session_id, sizeof r->session_id, "s-0123456789abcdef");
    r->media_port = 12346;
    /* The daemon's default range, as its answer to the session states it. */
    snprintf(r->port_range, sizeof r->port_range, "10000-20000");
    clean_dir(&r->up);
    clean_dir(&r->down);
    r->has_rtt = true;
    r->rtt_min_ms = 10.0;
    r->rtt_avg_ms = 12.0;
    r->rtt_p95_ms = 15.0;
    r->rtt_max_ms = 20.0;
    r->mouth_to_ear_ms = 86.0;
    snprintf(r->nat.local, sizeof r->nat.local, "192.168.1.20:40000");
    snprintf(r->nat.control_seen, sizeof r->nat.control_seen, "203.0.113.7:51000");
    snprintf(r->nat.announced, sizeof r->nat.announced, "203.0.113.7:40000");
    snprintf(r->nat.latched, sizeof r->nat.latched, "203.0.113.7:40000");
    snprintf(r->nat.type, sizeof r->nat.type, "nat");
}

static inline void set_loss(struct rp_dir_report *d, uint64_t lost)
{
    d->rx.received = d->rx.expected - lost;
    d->rx.lost = (int64_t)lost;
    d->rx.loss_pct = 100.0 * (double)lost / (double)d->rx.expected;
}

static inline void evaluate_default(struct rp_report *r)
{
    struct rp_thresholds t;
    rp_thresholds_default(&t);
    rp_report_evaluate(r, &t);
}

#endif
