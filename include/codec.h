/* Codec table and precomputed payload loops (no per-packet encoding on the media path). */
#ifndef RP_CODEC_H
#define RP_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rp_codec_id { RP_CODEC_PCMU = 0, RP_CODEC_PCMA, RP_CODEC_OPUS, RP_CODEC_COUNT };

struct rp_codec_info {
    enum rp_codec_id id;
    const char *name;          /* "pcmu", "pcma", "opus" */
    const char *encoding;      /* SDP encoding name: "PCMU", "PCMA", "opus" */
    uint8_t     pt;            /* 0, 8, 111 (dynamic, as browsers use) */
    unsigned    clock_rate;    /* RTP clock: 8000, 8000, 48000 */
    unsigned    sample_rate;   /* PCM rate fed to the encoder */
    unsigned    default_bitrate; /* bps; 64000 for G.711, 32000 for Opus */
    double      ie;            /* E-model equipment impairment (see codec.c for sources) */
    double      bpl;           /* E-model packet-loss robustness */
    double      algo_delay_ms; /* codec look-ahead added to mouth-to-ear delay */
};

const struct rp_codec_info *rp_codec_get(enum rp_codec_id id);
const struct rp_codec_info *rp_codec_by_name(const char *name); /* case-insensitive; NULL if unknown */

/* Valid ptimes: G.711 10..60 ms step 10 (RFC 3551); Opus 10, 20, 40, 60 (RFC 7587). */
bool rp_codec_ptime_valid(enum rp_codec_id id, unsigned ptime_ms);
/* Valid bitrates: G.711 only 64000; Opus 6000..510000 (RFC 6716). */
bool rp_codec_bitrate_valid(enum rp_codec_id id, unsigned bitrate_bps);
/* RTP timestamp increment per packet. */
unsigned rp_codec_samples_per_packet(enum rp_codec_id id, unsigned ptime_ms);

/* A loop of `nframes` encoded frames of the test signal. */
struct rp_payloads;
struct rp_payloads *rp_payloads_new(enum rp_codec_id id, unsigned ptime_ms, unsigned bitrate_bps,
                                    unsigned nframes, uint32_t seed, char *err, size_t errlen);
/* Frame idx % nframes. */
const uint8_t *rp_payloads_get(const struct rp_payloads *p, uint32_t idx, size_t *len);
unsigned rp_payloads_count(const struct rp_payloads *p);
void rp_payloads_free(struct rp_payloads *p);

/* Loops shared read-only by the streams that ask for the same codec, ptime,
 * bitrate and length: one per kind instead of one per stream (a 2 s PCMU
 * loop is 16 KiB). Owned by the daemon's reflector; all shared loops come
 * from one seed. get: the loop (made on first use), counted as held, or NULL
 * with a message as rp_payloads_new. put: releases one hold; the last
 * holder's put frees the loop. Free the cache after every stream using it. */
struct rp_payload_cache;
struct rp_payload_cache *rp_payload_cache_new(uint32_t seed);
void rp_payload_cache_free(struct rp_payload_cache *c);
const struct rp_payloads *rp_payload_cache_get(struct rp_payload_cache *c, enum rp_codec_id id, unsigned ptime_ms,
                                               unsigned bitrate_bps, unsigned nframes, char *err, size_t errlen);
void rp_payload_cache_put(struct rp_payload_cache *c, const struct rp_payloads *loop);
/* Loops held now (tests, metrics). */
unsigned rp_payload_cache_loops(const struct rp_payload_cache *c);

#endif
