/* The synthetic talker: speech-like level while talking, pauses, never clipping,
 * a voice pitch, and the same samples for the same seed. Reference figures are
 * computed here from the samples, against fixed expectations for speech
 * (ITU-T P.56 puts active speech around -26 to -16 dBov; voice pitch 80-300 Hz). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testsignal.h"

#define RATE 8000
#define SECONDS 20
#define N (RATE * SECONDS)
#define FRAME 160 /* 20 ms */

static int16_t *generate(uint32_t seed)
{
    int16_t *pcm = malloc(N * sizeof *pcm);
    assert_non_null(pcm);
    struct rp_testsignal *sig = rp_testsignal_new(RATE, seed);
    assert_non_null(sig);
    /* Odd chunk sizes: the generator must not depend on how it is asked. */
    for (size_t done = 0; done < N;) {
        size_t n = N - done < 777 ? N - done : 777;
        rp_testsignal_fill(sig, pcm + done, n);
        done += n;
    }
    rp_testsignal_free(sig);
    return pcm;
}

static double frame_dbov(const int16_t *f)
{
    double sum = 0;
    for (int i = 0; i < FRAME; i++)
        sum += (double)f[i] * f[i];
    double rms = sqrt(sum / FRAME);
    /* 0 dBov: the RMS of a full-scale sine, 32767 / sqrt(2). */
    return rms > 0 ? 20 * log10(rms / (32767.0 / sqrt(2.0))) : -200;
}

static void test_talk_level_pauses_and_headroom(void **state)
{
    (void)state;
    int16_t *pcm = generate(7);
    unsigned active = 0, silent = 0;
    double active_power = 0;
    int peak = 0;
    for (int i = 0; i < N; i++)
        peak = abs(pcm[i]) > peak ? abs(pcm[i]) : peak;
    for (int f = 0; f < N / FRAME; f++) {
        double db = frame_dbov(pcm + f * FRAME);
        if (db > -40) {
            active++;
            active_power += pow(10, db / 10);
        } else {
            silent++;
        }
    }
    double active_db = 10 * log10(active_power / active);
    assert_true(active_db > -26 && active_db < -16);
    /* Talk spurts and pauses, as in conversation: neither all talk nor all silence. */
    assert_true(active > N / FRAME / 4 && silent > N / FRAME / 10);
    assert_true(peak < 32767); /* no clipping */
    free(pcm);
}

static void test_pitch_is_a_voice(void **state)
{
    (void)state;
    int16_t *pcm = generate(11);
    /* Autocorrelation pitch of the loudest 40 ms block: lag within 80-300 Hz. */
    int best_block = 0;
    double best = 0;
    for (int b = 0; b + 320 <= N; b += 320) {
        double e = 0;
        for (int i = 0; i < 320; i++)
            e += (double)pcm[b + i] * pcm[b + i];
        if (e > best) {
            best = e;
            best_block = b;
        }
    }
    int best_lag = 0;
    double best_r = -1;
    for (int lag = RATE / 300; lag <= RATE / 60; lag++) {
        double r = 0;
        for (int i = 0; i + lag < 320; i++)
            r += (double)pcm[best_block + i] * pcm[best_block + i + lag];
        if (r > best_r) {
            best_r = r;
            best_lag = lag;
        }
    }
    double f0 = (double)RATE / best_lag;
    assert_true(f0 >= 80 && f0 <= 300);
    free(pcm);
}

static void test_same_seed_same_signal_other_seed_other_signal(void **state)
{
    (void)state;
    int16_t *a = generate(3), *b = generate(3), *c = generate(4);
    assert_memory_equal(a, b, N * sizeof *a);
    assert_true(memcmp(a, c, N * sizeof *a) != 0);
    free(a);
    free(b);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_talk_level_pauses_and_headroom),
        cmocka_unit_test(test_pitch_is_a_voice),
        cmocka_unit_test(test_same_seed_same_signal_other_seed_other_signal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
