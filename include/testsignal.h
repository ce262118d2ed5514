/* Synthetic speech-like test signal: voiced harmonics with a wandering pitch,
 * formant-like spectral shaping and syllabic (≈4 Hz) on/off envelope, so codecs
 * and VAD see something like talk, not silence or a constant tone. Deterministic
 * for a given seed. */
#ifndef RP_TESTSIGNAL_H
#define RP_TESTSIGNAL_H

#include <stddef.h>
#include <stdint.h>

struct rp_testsignal;

struct rp_testsignal *rp_testsignal_new(unsigned sample_rate, uint32_t seed);
void rp_testsignal_fill(struct rp_testsignal *sig, int16_t *pcm, size_t n);
void rp_testsignal_free(struct rp_testsignal *sig);

#endif
