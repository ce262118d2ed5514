/* Codec table and precomputed payload loops. The media path only copies
 * payloads out of one block built here, so it never encodes per packet. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <opus.h>

#include "codec.h"
#include "errbuf.h"
#include "g711.h"
#include "testsignal.h"

static const struct rp_codec_info codecs[RP_CODEC_COUNT] = {
    [RP_CODEC_PCMU] = {
        .id = RP_CODEC_PCMU,
        .name = "pcmu",
        .encoding = "PCMU",
        .pt = 0,                  /* static payload type, RFC 3551 Table 4 */
        .clock_rate = 8000,       /* RFC 3551 Table 4 */
        .sample_rate = 8000,
        .default_bitrate = 64000, /* G.711: 8 bits x 8000 samples/s */
        /* ITU-T G.113 (11/2007) Appendix I, Table I.3 (Ie and Bpl pairs; later
         * editions renumber it): G.711 with the G.711 Appendix I PLC, random
         * loss: Ie = 0, Bpl = 25.1. */
        .ie = 0.0,
        .bpl = 25.1,
        .algo_delay_ms = 0.0,     /* sample-by-sample, no look-ahead (G.711 §1) */
    },
    [RP_CODEC_PCMA] = {
        .id = RP_CODEC_PCMA,
        .name = "pcma",
        .encoding = "PCMA",
        .pt = 8,                  /* RFC 3551 Table 4 */
        .clock_rate = 8000,       /* RFC 3551 Table 4 */
        .sample_rate = 8000,
        .default_bitrate = 64000,
        .ie = 0.0,                /* ITU-T G.113 Appendix I, Table I.3 (as PCMU) */
        .bpl = 25.1,              /* ITU-T G.113 Appendix I, Table I.3 (as PCMU) */
        .algo_delay_ms = 0.0,     /* as PCMU */
    },
    [RP_CODEC_OPUS] = {
        .id = RP_CODEC_OPUS,
        .name = "opus",
        .encoding = "opus",
        .pt = 111,                /* dynamic (RFC 7587 §7); 111 is what browsers offer */
        .clock_rate = 48000,      /* RFC 7587 §4.1: always 48000 */
        .sample_rate = 48000,
        .default_bitrate = 32000, /* inside the 20-60 kbit/s the deployment plans for */
        /* ITU-T G.113 gives no Ie/Bpl for Opus. Narrowband-scale (Ro - Is = 93.2)
         * values from Alahmadi, Pocta, Melvin, "An Adaptive Bitrate Switching
         * Algorithm for Speech Applications in Context of WebRTC", ACM TOMM 17(4),
         * art. 133, 2021 (doi:10.1145/3458751), data published as
         * github.com/mohaoahmadi/Opus_Codec_Quality_Evaluation Opus_emodel.js,
         * "nb" CBR 11 kbit/s row: Ie 2.03, Bpl (random loss) 15.95.
         * Caveat: that is the highest bitrate they measured on the NB scale; at
         * 20-60 kbit/s fullband Opus is at least as good, but the NB scale cannot
         * credit wideband audio, so MOS for Opus is conservative and Bpl reflects
         * Opus PLC without in-band FEC (which we do not enable). */
        .ie = 2.03,
        .bpl = 15.95,
        /* libopus look-ahead at 48 kHz for OPUS_APPLICATION_VOIP: 2.5 ms CELT
         * overlap (Fs/400) + 4 ms delay compensation (Fs/250) = 312 samples,
         * what OPUS_GET_LOOKAHEAD reports (checked in test_codec). */
        .algo_delay_ms = 6.5,
    },
};

/* Loop length limit: keeps every offset in uint32_t even at 510 kbit/s. */
enum { MAX_FRAMES = 1u << 20, OPUS_MAX_PACKET = 4000 /* libopus's recommended bound */ };

struct rp_payloads {
    unsigned count;
    /* offsets[count + 1], then the payload bytes, all in this allocation */
    uint32_t offsets[];
};

const struct rp_codec_info *rp_codec_get(enum rp_codec_id id)
{
    if ((unsigned)id >= RP_CODEC_COUNT)
        return NULL;
    return &codecs[id];
}

const struct rp_codec_info *rp_codec_by_name(const char *name)
{
    if (name == NULL)
        return NULL;
    for (unsigned i = 0; i < RP_CODEC_COUNT; i++)
        if (strcasecmp(name, codecs[i].name) == 0)
            return &codecs[i];
    return NULL;
}

bool rp_codec_ptime_valid(enum rp_codec_id id, unsigned ptime_ms)
{
    switch (id) {
    case RP_CODEC_PCMU:
    case RP_CODEC_PCMA:
        /* RFC 3551 §4.5: any multiple of the 0.125 ms frame; we keep 10..60 step 10 */
        return ptime_ms >= 10 && ptime_ms <= 60 && ptime_ms % 10 == 0;
    case RP_CODEC_OPUS:
        /* single-frame Opus packets that libopus encodes directly */
        return ptime_ms == 10 || ptime_ms == 20 || ptime_ms == 40 || ptime_ms == 60;
    case RP_CODEC_COUNT:
        break;
    }
    return false;
}

bool rp_codec_bitrate_valid(enum rp_codec_id id, unsigned bitrate_bps)
{
    switch (id) {
    case RP_CODEC_PCMU:
    case RP_CODEC_PCMA:
        return bitrate_bps == 64000;
    case RP_CODEC_OPUS:
        return bitrate_bps >= 6000 && bitrate_bps <= 510000; /* RFC 6716 §2.1.1 */
    case RP_CODEC_COUNT:
        break;
    }
    return false;
}

unsigned rp_codec_samples_per_packet(enum rp_codec_id id, unsigned ptime_ms)
{
    const struct rp_codec_info *info = rp_codec_get(id);
    if (info == NULL)
        return 0;
    return info->clock_rate / 1000 * ptime_ms;
}

static uint8_t *payload_data(struct rp_payloads *p)
{
    return (uint8_t *)&p->offsets[p->count + 1];
}

static const uint8_t *payload_data_const(const struct rp_payloads *p)
{
    return (const uint8_t *)&p->offsets[p->count + 1];
}

static struct rp_payloads *payloads_alloc(unsigned nframes, size_t data_bytes)
{
    struct rp_payloads *p = malloc(sizeof(*p) + (size_t)(nframes + 1) * sizeof(uint32_t) + data_bytes);
    if (p != NULL) {
        p->count = nframes;
        p->offsets[0] = 0;
    }
    return p;
}

static struct rp_payloads *g711_payloads(enum rp_codec_id id, struct rp_testsignal *sig, int16_t *pcm,
                                         size_t samples, unsigned nframes, char *err, size_t errlen)
{
    struct rp_payloads *p = payloads_alloc(nframes, (size_t)nframes * samples);
    if (p == NULL) {
        rp_errf(err, errlen, "out of memory for %u G.711 frames", nframes);
        return NULL;
    }
    uint8_t *out = payload_data(p);
    for (unsigned f = 0; f < nframes; f++) {
        rp_testsignal_fill(sig, pcm, samples);
        if (id == RP_CODEC_PCMU)
            rp_g711_ulaw_encode_buf(pcm, samples, out + (size_t)f * samples);
        else
            rp_g711_alaw_encode_buf(pcm, samples, out + (size_t)f * samples);
        p->offsets[f + 1] = (uint32_t)((size_t)(f + 1) * samples);
    }
    return p;
}

static struct rp_payloads *opus_payloads(struct rp_testsignal *sig, int16_t *pcm, size_t samples,
                                         unsigned bitrate_bps, unsigned nframes, char *err, size_t errlen)
{
    int oerr = OPUS_OK;
    OpusEncoder *enc = opus_encoder_create((opus_int32)codecs[RP_CODEC_OPUS].sample_rate, 1,
                                           OPUS_APPLICATION_VOIP, &oerr);
    if (enc == NULL || oerr != OPUS_OK) {
        rp_errf(err, errlen, "opus_encoder_create: %s", opus_strerror(oerr));
        opus_encoder_destroy(enc);
        return NULL;
    }
    oerr = opus_encoder_ctl(enc, OPUS_SET_BITRATE((opus_int32)bitrate_bps));
    if (oerr != OPUS_OK) {
        rp_errf(err, errlen, "opus bitrate %u: %s", bitrate_bps, opus_strerror(oerr));
        opus_encoder_destroy(enc);
        return NULL;
    }

    /* Packet sizes are known only after encoding: grow the one block (it is
     * realloc'd, never split), then trim it to size. */
    size_t cap = (size_t)nframes * ((size_t)bitrate_bps / 8 * samples / codecs[RP_CODEC_OPUS].sample_rate + 16);
    struct rp_payloads *p = payloads_alloc(nframes, cap);
    size_t used = 0;
    uint8_t packet[OPUS_MAX_PACKET];
    for (unsigned f = 0; p != NULL && f < nframes; f++) {
        rp_testsignal_fill(sig, pcm, samples);
        opus_int32 n = opus_encode(enc, pcm, (int)samples, packet, (opus_int32)sizeof(packet));
        if (n < 0) {
            rp_errf(err, errlen, "opus_encode: %s", opus_strerror(n));
            free(p);
            opus_encoder_destroy(enc);
            return NULL;
        }
        if (used + (size_t)n > cap) {
            size_t ncap = cap * 2 + (size_t)n;
            struct rp_payloads *np = realloc(p, sizeof(*p) + (size_t)(nframes + 1) * sizeof(uint32_t) + ncap);
            if (np == NULL) {
                free(p);
                p = NULL;
                break;
            }
            p = np;
            cap = ncap;
        }
        memcpy(payload_data(p) + used, packet, (size_t)n);
        used += (size_t)n;
        p->offsets[f + 1] = (uint32_t)used;
    }
    opus_encoder_destroy(enc);
    if (p == NULL) {
        rp_errf(err, errlen, "out of memory for %u Opus frames", nframes);
        return NULL;
    }
    struct rp_payloads *trimmed = realloc(p, sizeof(*p) + (size_t)(nframes + 1) * sizeof(uint32_t) + used);
    return trimmed != NULL ? trimmed : p;
}

struct rp_payloads *rp_payloads_new(enum rp_codec_id id, unsigned ptime_ms, unsigned bitrate_bps,
                                    unsigned nframes, uint32_t seed, char *err, size_t errlen)
{
    const struct rp_codec_info *info = rp_codec_get(id);
    if (info == NULL) {
        rp_errf(err, errlen, "unknown codec id %d", (int)id);
        return NULL;
    }
    if (!rp_codec_ptime_valid(id, ptime_ms)) {
        rp_errf(err, errlen, "ptime %u ms is not valid for %s", ptime_ms, info->name);
        return NULL;
    }
    if (!rp_codec_bitrate_valid(id, bitrate_bps)) {
        rp_errf(err, errlen, "bitrate %u bit/s is not valid for %s", bitrate_bps, info->name);
        return NULL;
    }
    if (nframes == 0 || nframes > MAX_FRAMES) {
        rp_errf(err, errlen, "frame count %u out of range 1..%u", nframes, (unsigned)MAX_FRAMES);
        return NULL;
    }

    size_t samples = (size_t)info->sample_rate / 1000 * ptime_ms;
    struct rp_testsignal *sig = rp_testsignal_new(info->sample_rate, seed);
    int16_t *pcm = malloc(samples * sizeof(*pcm));
    struct rp_payloads *p = NULL;
    if (sig == NULL || pcm == NULL)
        rp_errf(err, errlen, "out of memory for the test signal");
    else if (id == RP_CODEC_OPUS)
        p = opus_payloads(sig, pcm, samples, bitrate_bps, nframes, err, errlen);
    else
        p = g711_payloads(id, sig, pcm, samples, nframes, err, errlen);
    free(pcm);
    rp_testsignal_free(sig);
    return p;
}

const uint8_t *rp_payloads_get(const struct rp_payloads *p, uint32_t idx, size_t *len)
{
    if (p == NULL || p->count == 0) {
        if (len != NULL)
            *len = 0;
        return NULL;
    }
    uint32_t i = idx % p->count;
    if (len != NULL)
        *len = p->offsets[i + 1] - p->offsets[i];
    return payload_data_const(p) + p->offsets[i];
}

unsigned rp_payloads_count(const struct rp_payloads *p)
{
    return p != NULL ? p->count : 0;
}

void rp_payloads_free(struct rp_payloads *p)
{
    free(p);
}

/* One shared loop: what it was made for, and how many streams hold it. */
struct cache_entry {
    struct cache_entry *next;
    enum rp_codec_id id;
    unsigned ptime_ms, bitrate_bps, nframes;
    unsigned refs;
    struct rp_payloads *loop;
};

/* A list: a daemon sees a handful of (codec, ptime, bitrate) kinds, and a
 * lookup happens once per session, never per packet. */
struct rp_payload_cache {
    uint32_t seed;
    unsigned loops;
    struct cache_entry *head;
};

struct rp_payload_cache *rp_payload_cache_new(uint32_t seed)
{
    struct rp_payload_cache *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->seed = seed;
    return c;
}

void rp_payload_cache_free(struct rp_payload_cache *c)
{
    if (c == NULL)
        return;
    while (c->head != NULL) {
        struct cache_entry *e = c->head;
        c->head = e->next;
        rp_payloads_free(e->loop);
        free(e);
    }
    free(c);
}

const struct rp_payloads *rp_payload_cache_get(struct rp_payload_cache *c, enum rp_codec_id id, unsigned ptime_ms,
                                               unsigned bitrate_bps, unsigned nframes, char *err, size_t errlen)
{
    for (struct cache_entry *e = c->head; e != NULL; e = e->next) {
        if (e->id == id && e->ptime_ms == ptime_ms && e->bitrate_bps == bitrate_bps && e->nframes == nframes) {
            e->refs++;
            return e->loop;
        }
    }
    struct cache_entry *e = calloc(1, sizeof *e);
    if (e == NULL) {
        rp_errf(err, errlen, "out of memory for a payload loop");
        return NULL;
    }
    e->loop = rp_payloads_new(id, ptime_ms, bitrate_bps, nframes, c->seed, err, errlen);
    if (e->loop == NULL) {
        free(e);
        return NULL;
    }
    e->id = id;
    e->ptime_ms = ptime_ms;
    e->bitrate_bps = bitrate_bps;
    e->nframes = nframes;
    e->refs = 1;
    e->next = c->head;
    c->head = e;
    c->loops++;
    return e->loop;
}

void rp_payload_cache_put(struct rp_payload_cache *c, const struct rp_payloads *loop)
{
    for (struct cache_entry **pe = &c->head; *pe != NULL; pe = &(*pe)->next) {
        struct cache_entry *e = *pe;
        if (e->loop != loop)
            continue;
        /* The last holder frees it: Opus takes any bitrate from 6 to 510
         * kbit/s, so kept loops would let clients grow the cache unbounded. */
        if (--e->refs == 0) {
            *pe = e->next;
            rp_payloads_free(e->loop);
            free(e);
            c->loops--;
        }
        return;
    }
}

unsigned rp_payload_cache_loops(const struct rp_payload_cache *c)
{
    return c != NULL ? c->loops : 0;
}
