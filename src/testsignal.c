/* Synthetic talk: a harmonic (voiced) source with a wandering pitch, shaped by
 * gliding formant resonances, switched by a syllable envelope (≈4 Hz) with
 * short and longer pauses, plus a little noise.
 *
 * Levels: 0 dBov is full scale (32768). The voiced part is normalised so that
 * talk (syllables) averages about -20 dBov: a clearly active talker, a few dB
 * above the -26 dBov often used for codec test material, so that codecs and
 * VAD treat it as speech. The sum of harmonic amplitudes is capped below full
 * scale, so the signal never clips. */
#include <math.h>
#include <stdlib.h>

#include "testsignal.h"

#define TWO_PI 6.283185307179586

enum {
    MAX_HARMONICS = 96,
    NUM_VOWELS = 6,
};

static const double FULL_SCALE = 32768.0;
/* Syllable peak RMS: -20 dBov for talk on average, plus about 2 dB that the
 * attack/release tapers and the syllable gain spread (-4..+2 dB) take off. */
static const double PEAK_RMS_DBOV = -17.9;
/* Peak limit for the voiced sum: -1.5 dBov leaves room for the noise. */
static const double PEAK_LIMIT = 0.84;
static const double HIGHEST_HARMONIC_HZ = 7000.0; /* wideband speech reaches ~7 kHz */
static const double NOISE_FLOOR_DBOV = -66.0;     /* room/line noise, pauses are not digital silence */
static const double ASPIRATION_DB = -30.0;        /* breath noise relative to the voiced level */

/* Male vowel formants F1/F2 (Peterson & Barney 1952 averages): a, i, u, e, o, æ. */
static const double VOWEL_F1[NUM_VOWELS] = { 730, 270, 300, 530, 570, 660 };
static const double VOWEL_F2[NUM_VOWELS] = { 1090, 2290, 870, 1840, 840, 1720 };

struct rp_testsignal {
    double fs;
    uint32_t rng;                 /* xorshift32 state, never 0 */

    /* syllable clock */
    unsigned seg_len;             /* samples in the current segment */
    unsigned seg_pos;
    int talking;                  /* current segment is a syllable (else a pause) */
    unsigned syllables_left;      /* before the next longer pause */
    unsigned attack, release;     /* taper lengths in samples */
    double syl_gain;

    /* voice */
    double phase;                 /* fundamental phase, radians, wrapped */
    double f0, f0_start, f0_end;  /* pitch glides across a syllable */
    double f0_jitter;             /* slow random wander */
    double f1, f2, f1_target, f2_target;
    unsigned vowel_switch_at;     /* seg_pos of a diphthong glide, 0 = none */
    unsigned block_len, block_pos;
    unsigned nharm;
    double amp[MAX_HARMONICS + 1]; /* harmonic amplitudes at unit envelope */
};

static uint32_t rng_next(struct rp_testsignal *s)
{
    uint32_t x = s->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    s->rng = x;
    return x;
}

/* Uniform in [0, 1). */
static double rng_unit(struct rp_testsignal *s)
{
    return (double)(rng_next(s) >> 8) / 16777216.0;
}

static double rng_range(struct rp_testsignal *s, double lo, double hi)
{
    return lo + (hi - lo) * rng_unit(s);
}

static double db_to_lin(double db)
{
    return pow(10.0, db / 20.0);
}

static unsigned ms_to_samples(const struct rp_testsignal *s, double ms)
{
    double n = ms * s->fs / 1000.0;
    return n < 1.0 ? 1u : (unsigned)n;
}

static void pick_vowel(struct rp_testsignal *s)
{
    unsigned v = rng_next(s) % NUM_VOWELS;
    s->f1_target = VOWEL_F1[v];
    s->f2_target = VOWEL_F2[v];
}

/* Next syllable or pause: ~180 ms syllables with ~70 ms gaps give ≈4 Hz;
 * every few syllables a longer pause, as between phrases. */
static void next_segment(struct rp_testsignal *s)
{
    s->seg_pos = 0;
    if (s->talking) {
        s->talking = 0;
        if (s->syllables_left == 0) {
            s->seg_len = ms_to_samples(s, rng_range(s, 300.0, 700.0));
            s->syllables_left = 3 + rng_next(s) % 6;
        } else {
            s->seg_len = ms_to_samples(s, rng_range(s, 30.0, 110.0));
        }
        return;
    }
    s->talking = 1;
    s->syllables_left--;
    s->seg_len = ms_to_samples(s, rng_range(s, 120.0, 260.0));
    s->attack = ms_to_samples(s, rng_range(s, 15.0, 35.0));
    s->release = ms_to_samples(s, rng_range(s, 30.0, 60.0));
    s->syl_gain = db_to_lin(rng_range(s, -4.0, 2.0));
    /* Pitch: a speaker-like register that wanders between 100 and 250 Hz,
     * falling a little within the syllable (declination). */
    double centre = rng_range(s, 110.0, 230.0);
    s->f0_start = centre * rng_range(s, 1.0, 1.08);
    s->f0_end = centre * rng_range(s, 0.88, 1.0);
    pick_vowel(s);
    s->vowel_switch_at = rng_next(s) % 3 == 0 ? s->seg_len / 2 : 0;
}

static double envelope(const struct rp_testsignal *s)
{
    if (!s->talking)
        return 0.0;
    unsigned pos = s->seg_pos;
    if (pos < s->attack)
        return 0.5 - 0.5 * cos(M_PI * pos / s->attack);
    unsigned from_end = s->seg_len - pos;
    if (from_end < s->release)
        return 0.5 - 0.5 * cos(M_PI * from_end / s->release);
    return 1.0;
}

/* Gain of a second-order resonance at f (Hz): F² / |F² - f² + j·B·f|. */
static double resonance(double f, double centre, double bandwidth)
{
    double d = centre * centre - f * f;
    return centre * centre / sqrt(d * d + bandwidth * bandwidth * f * f);
}

/* Recompute pitch, formants and harmonic amplitudes once per block (1 ms):
 * they move slowly, so this is inaudible and saves most of the work. */
static void update_voice(struct rp_testsignal *s)
{
    double progress = s->talking ? (double)s->seg_pos / s->seg_len : 1.0;
    s->f0_jitter += rng_range(s, -0.01, 0.01);
    s->f0_jitter *= 0.98;
    double f0 = (s->f0_start + (s->f0_end - s->f0_start) * progress) * (1.0 + s->f0_jitter);
    if (f0 < 95.0)
        f0 = 95.0;
    if (f0 > 260.0)
        f0 = 260.0;
    s->f0 = f0;

    /* Formants glide towards the vowel target (~20 ms time constant), and
     * now and then towards a second vowel, like a diphthong. */
    if (s->talking && s->vowel_switch_at != 0 && s->seg_pos >= s->vowel_switch_at) {
        pick_vowel(s);
        s->vowel_switch_at = 0;
    }
    s->f1 += (s->f1_target - s->f1) * 0.05;
    s->f2 += (s->f2_target - s->f2) * 0.05;

    unsigned n = (unsigned)(fmin(HIGHEST_HARMONIC_HZ, 0.45 * s->fs) / f0);
    if (n > MAX_HARMONICS)
        n = MAX_HARMONICS;
    if (n < 1)
        n = 1;
    s->nharm = n;

    double power = 0.0, sum_abs = 0.0;
    for (unsigned k = 1; k <= n; k++) {
        double f = k * f0;
        /* Glottal source and lip radiation: about -6 dB/octave overall. */
        double a = 1.0 / k;
        a *= resonance(f, s->f1, 80.0) * resonance(f, s->f2, 100.0) *
             resonance(f, 2500.0, 150.0) * resonance(f, 3500.0, 250.0);
        s->amp[k] = a;
        power += 0.5 * a * a;
        sum_abs += a;
    }
    double scale = FULL_SCALE * db_to_lin(PEAK_RMS_DBOV) / sqrt(power);
    if (scale * sum_abs > PEAK_LIMIT * FULL_SCALE)
        scale = PEAK_LIMIT * FULL_SCALE / sum_abs;
    for (unsigned k = 1; k <= n; k++)
        s->amp[k] *= scale;
}

struct rp_testsignal *rp_testsignal_new(unsigned sample_rate, uint32_t seed)
{
    if (sample_rate < 8000 || sample_rate > 384000) /* keeps sample counts in range */
        return NULL;
    struct rp_testsignal *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->fs = sample_rate;
    /* Spread the seed (splitmix32-style finaliser) so nearby seeds give
     * unrelated signals; xorshift must not start at 0. */
    uint32_t z = seed + 0x9E3779B9u;
    z = (z ^ (z >> 16)) * 0x85EBCA6Bu;
    z = (z ^ (z >> 13)) * 0xC2B2AE35u;
    z ^= z >> 16;
    s->rng = z != 0 ? z : 0x6D2B79F5u;

    s->block_len = ms_to_samples(s, 1.0);
    s->f1 = s->f1_target = VOWEL_F1[0];
    s->f2 = s->f2_target = VOWEL_F2[0];
    s->f0_start = s->f0_end = s->f0 = 150.0;
    s->syllables_left = 1 + rng_next(s) % 4;
    /* Start in a short pause so the first syllable has an attack. */
    s->talking = 0;
    s->seg_len = ms_to_samples(s, 40.0);
    update_voice(s);
    return s;
}

void rp_testsignal_fill(struct rp_testsignal *s, int16_t *pcm, size_t n)
{
    const double floor_amp = FULL_SCALE * db_to_lin(NOISE_FLOOR_DBOV) * sqrt(3.0);
    const double breath = FULL_SCALE * db_to_lin(PEAK_RMS_DBOV + ASPIRATION_DB) * sqrt(3.0);

    for (size_t i = 0; i < n; i++) {
        if (s->seg_pos >= s->seg_len)
            next_segment(s);
        if (s->block_pos == 0)
            update_voice(s);
        if (++s->block_pos >= s->block_len)
            s->block_pos = 0;

        double env = envelope(s) * s->syl_gain;
        double voiced = 0.0;
        if (env > 0.0) {
            /* sin(kθ) by the Chebyshev recurrence: two libm calls per sample. */
            double c2 = 2.0 * cos(s->phase);
            double prev = 0.0, cur = sin(s->phase);
            for (unsigned k = 1; k <= s->nharm; k++) {
                voiced += s->amp[k] * cur;
                double next = c2 * cur - prev;
                prev = cur;
                cur = next;
            }
        }
        /* Uniform noise; sqrt(3) above makes its RMS the stated level. */
        double aspiration = breath * rng_range(s, -1.0, 1.0);
        double y = env * (voiced + aspiration) + floor_amp * rng_range(s, -1.0, 1.0);

        s->phase += TWO_PI * s->f0 / s->fs;
        if (s->phase >= TWO_PI)
            s->phase -= TWO_PI;
        s->seg_pos++;

        long v = lrint(y);
        if (v > INT16_MAX)
            v = INT16_MAX;
        if (v < INT16_MIN)
            v = INT16_MIN;
        pcm[i] = (int16_t)v;
    }
}

void rp_testsignal_free(struct rp_testsignal *s)
{
    free(s);
}
