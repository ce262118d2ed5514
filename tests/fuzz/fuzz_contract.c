/* libFuzzer target: the probe's reading of the daemon's JSON answers, the
 * POST answer (rp_contract_created_decode) and the session document
 * (rp_contract_session_decode, then rp_contract_session_consistent against
 * what a probe knows of its own run).
 *
 * Aborts when a decoder or the consistency check fails without a reason, or
 * accepts a document the daemon could not have sent (an id that is not 32
 * lowercase hex digits, a figure out of its range), or when a decoded document,
 * encoded as the daemon encodes it, printed and loaded again, does not decode
 * back to the same struct: the encoder and the decoder walk one key table, and
 * this is what holds them to it. upstream.per_second (optional) is compared
 * apart, entry by entry: the decoded array is owned, released after each input. */
#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "contract.h"

/* The session of the docs/control-api.md examples (30 s at 20 ms), 150
 * packets up, 51 down; the budget is rp_contract_down_budget(30, 20). */
static const struct rp_contract_truth truth = {
    .id = "c6bcaa90775c902ff8f653567e41ad66", .up_sent = 150, .down_received = 51,
    .down_sent_seen = 51, .down_budget = 1750,
};

/* The session document's figures in ms or percent: the encoder writes them
 * to 3 decimals, so only they may move on a round trip, by half a unit of the
 * third decimal at most. */
static const size_t figures[] = {
#define UP(m) offsetof(struct rp_contract_session, up.rx.m)
    UP(loss_pct),     UP(jb_mean_ms),   UP(jb_max_ms),      UP(delay_p50_ms), UP(delay_p95_ms),
    UP(delay_max_ms), UP(delay_rise_ms), UP(burst_ratio),   UP(jitter_ms),    UP(jitter_mean_ms),
    UP(ipdv_p50_ms),  UP(ipdv_p95_ms),  UP(ipdv_p99_ms),    UP(ipdv_max_ms),
#undef UP
};
#define NFIGURES (sizeof figures / sizeof figures[0])

static void fail(const char *what, const char *detail)
{
    fprintf(stderr, "fuzz_contract: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
    abort();
}

static double figure(const struct rp_contract_session *s, size_t i)
{
    double d;
    memcpy(&d, (const char *)s + figures[i], sizeof d);
    return d;
}

/* A failure names what is wrong, in a NUL-terminated buffer. */
static void check_reason(const char *err, size_t errlen)
{
    if (err[0] == '\0' || memchr(err, '\0', errlen) == NULL)
        fail("a failure without a reason", NULL);
}

static void check_id(const char *id)
{
    if (strlen(id) != RP_CONTRACT_ID_LEN || strspn(id, "0123456789abcdef") != RP_CONTRACT_ID_LEN)
        fail("accepted an id that is not the daemon's form", id);
}

/* The daemon's way out (json_dumps, JSON_COMPACT: control.c) and the probe's
 * way in (json_loadb, flags 0: httpc.c). Takes the reference to j. */
static json_t *over_the_wire(json_t *j)
{
    if (j == NULL)
        fail("the encoder failed on a decoded document", NULL);
    char *text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (text == NULL)
        fail("json_dumps failed on an encoded document", NULL);
    json_error_t jerr;
    json_t *back = json_loadb(text, strlen(text), 0, &jerr);
    if (back == NULL)
        fail("the encoded document does not load", jerr.text);
    free(text);
    return back;
}

static void session_again(const struct rp_contract_session *s, struct rp_contract_session *out)
{
    char err[256] = "";
    json_t *j = over_the_wire(rp_contract_session_encode(s));
    /* The decoders memset their output, padding included, and store field by
     * field: two decodes of one document compare equal byte for byte. */
    if (rp_contract_session_decode(j, out, err, sizeof err) < 0)
        fail("a re-encoded session document does not decode", err);
    json_decref(j);
}

/* |x - y| within tol; a tol of half the last printed digit (0.0005) also takes
 * the binary rounding of that digit (0.1025 is 0.10249999..., printed 0.102). */
static bool within(double x, double y, double tol)
{
    return fabs(x - y) <= (tol > 0 ? tol * (1 + 1e-9) + 1e-12 * fabs(x) : 0);
}

/* Equal per-second entries: counts exactly, figures within the rounding
 * (exactly with tol 0), a null delay_ms (NAN) only against another. */
static bool seconds_equal(const struct rp_contract_up *a, const struct rp_contract_up *b, double tol)
{
    if (a->has_per_second != b->has_per_second || a->nseconds != b->nseconds)
        return false;
    for (size_t t = 0; t < a->nseconds; t++) {
        const struct rp_second *x = &a->per_second[t], *y = &b->per_second[t];
        if (x->packets != y->packets || x->lost != y->lost || x->late != y->late ||
            x->late_adaptive != y->late_adaptive || !within(x->jitter_ms, y->jitter_ms, tol) ||
            isnan(x->delay_ms) != isnan(y->delay_ms) || (!isnan(x->delay_ms) && !within(x->delay_ms, y->delay_ms, tol)))
            return false;
    }
    return true;
}

/* The struct without its owned array, for memcmp. */
static struct rp_contract_session detached(const struct rp_contract_session *s)
{
    struct rp_contract_session d = *s;
    d.up.per_second = NULL;
    return d;
}

static void check_session_round_trip(const struct rp_contract_session *s)
{
    struct rp_contract_session once, twice;
    session_again(s, &once);
    session_again(&once, &twice);
    struct rp_contract_session once_d = detached(&once), twice_d = detached(&twice), s_d = detached(s);
    if (memcmp(&once_d, &twice_d, sizeof once) != 0 || !seconds_equal(&once.up, &twice.up, 0))
        fail("a session document changes on its second round trip", NULL);
    if (!seconds_equal(&s->up, &once.up, 0.0005))
        fail("upstream.per_second does not survive a round trip", NULL);
    rp_contract_session_release(&twice);
    rp_contract_session_release(&once);
    once = once_d;
    /* Against the first decode: every figure within the rounding, and with
     * the first decode's figures put back, the same struct. */
    for (size_t i = 0; i < NFIGURES; i++) {
        double a = figure(s, i), b = figure(&once, i);
        if (!(fabs(a - b) <= 0.0005 + fabs(a) * 1e-15))
            fail("a figure moved by more than its rounding", NULL);
        memcpy((char *)&once + figures[i], &a, sizeof a);
    }
    if (memcmp(&s_d, &once, sizeof once) != 0)
        fail("a session document does not survive a round trip", NULL);
}

/* Downstream slots of the media clock: sent + skipped, saturated. */
static uint64_t slots(const struct rp_contract_session *s)
{
    return s->down.sent > UINT64_MAX - s->down.skipped ? UINT64_MAX : s->down.sent + s->down.skipped;
}

static void check_consistent(const struct rp_contract_session *s)
{
    char err[256] = "";
    if (rp_contract_session_consistent(s, &truth, err, sizeof err) < 0) {
        check_reason(err, sizeof err);
        return;
    }
    uint64_t packets = 0, lost = 0;
    for (size_t t = 0; t < s->up.nseconds; t++) {
        packets += s->up.per_second[t].packets;
        lost += s->up.per_second[t].lost;
    }
    if (packets > s->up.rx.received || lost > (uint64_t)(s->up.rx.lost > 0 ? s->up.rx.lost : 0))
        fail("per-second figures beyond the totals passed as consistent", NULL);
    if (strcmp(s->id, truth.id) != 0 || s->up.rx.received > truth.up_sent || s->up.rx.received > s->up.accepted ||
        s->down.sent < truth.down_received || slots(s) < truth.down_sent_seen || slots(s) > truth.down_budget)
        fail("a contradiction passed as consistent", NULL);
}

static void check_session(const json_t *j)
{
    struct rp_contract_session s;
    char err[256] = "";
    if (rp_contract_session_decode(j, &s, err, sizeof err) < 0) {
        rp_contract_session_release(&s);
        check_reason(err, sizeof err);
        return;
    }
    check_id(s.id);
    for (size_t i = 0; i < NFIGURES; i++)
        if (!isfinite(figure(&s, i)) || fabs(figure(&s, i)) > 1e8)
            fail("accepted a figure out of range", NULL);
    check_consistent(&s);
    check_session_round_trip(&s);
    rp_contract_session_release(&s);
}

static void check_created(const json_t *j)
{
    struct rp_contract_created c, again;
    char err[256] = "";
    if (rp_contract_created_decode(j, &c, err, sizeof err) < 0) {
        check_reason(err, sizeof err);
        return;
    }
    check_id(c.id);
    if ((unsigned)c.keys.suite >= RP_SRTP_NSUITES)
        fail("accepted an SRTP suite that does not exist", NULL);
    json_t *back = over_the_wire(rp_contract_created_encode(&c));
    if (rp_contract_created_decode(back, &again, err, sizeof err) < 0)
        fail("a re-encoded POST answer does not decode", err);
    json_decref(back);
    if (memcmp(&c, &again, sizeof c) != 0)
        fail("a POST answer does not survive a round trip", NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* JSON_ALLOW_NUL accepts all the probe's flags 0 do, and strings with
     * "\u0000" too, so the decoders' own check against them is reached. The
     * input is not NUL-terminated, as the answer's body is not. */
    json_t *j = json_loadb((const char *)data, size, JSON_ALLOW_NUL, NULL);
    if (j == NULL)
        return 0;
    check_created(j);
    check_session(j);
    json_decref(j);
    return 0;
}
