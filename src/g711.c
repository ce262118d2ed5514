/* ITU-T G.711 companding, bit-exact with the G.191 STL reference (g711.c).
 *
 * Like the STL, negative samples are folded with the one's complement (~x,
 * i.e. -x - 1), so -1 encodes like 0 in both laws (µ-law 0x7F, A-law 0x55).
 * The classic Sun g711.c negates µ-law input instead and differs from the STL
 * for some negative inputs (e.g. -1 -> 0x7E there). */
#include "g711.h"

/* µ-law works on 14-bit magnitudes with a bias of 33 (G.711 Table 2 end
 * points 31, 95, ... 8159 become powers of two once biased). */
enum { ULAW_BIAS = 33, ULAW_BIASED_MAX = 0x1FFF };

/* Magnitude of a sample as the STL sees it: one's complement for negatives,
 * which keeps -32768 in range and makes the code table symmetric. */
static int folded_magnitude(int16_t pcm)
{
    return pcm < 0 ? ~(int)pcm : (int)pcm;
}

uint8_t rp_g711_ulaw_encode(int16_t pcm)
{
    int biased = (folded_magnitude(pcm) >> 2) + ULAW_BIAS;
    if (biased > ULAW_BIASED_MAX)
        biased = ULAW_BIASED_MAX;

    int segment = 0;
    for (int t = biased >> 6; t != 0; t >>= 1)
        segment++;
    int interval = (biased >> (segment + 1)) & 0x0F;

    /* G.711 transmits µ-law with the 7 magnitude bits inverted. */
    uint8_t code = (uint8_t)(0x7F ^ ((segment << 4) | interval));
    if (pcm >= 0)
        code |= 0x80;
    return code;
}

int16_t rp_g711_ulaw_decode(uint8_t code)
{
    int bits = ~code & 0x7F;
    int segment = bits >> 4;
    int interval = bits & 0x0F;
    /* Interval midpoint on the biased scale, unbiased, in 16-bit units
     * (biased * 4): ((2 * interval + 33) << segment) * 4 - 33 * 4. */
    int magnitude = (((interval << 3) + 4 * ULAW_BIAS) << segment) - 4 * ULAW_BIAS;
    return (int16_t)((code & 0x80) ? magnitude : -magnitude);
}

uint8_t rp_g711_alaw_encode(int16_t pcm)
{
    /* 16-bit input carries 13-bit A-law samples left-justified; the finest
     * step (segments 0 and 1) is 16 in 16-bit units. */
    int steps = folded_magnitude(pcm) >> 4;
    int code;
    if (steps < 16) {
        code = steps;
    } else {
        int segment = 1;
        while (steps > 31) {
            steps >>= 1;
            segment++;
        }
        code = (segment << 4) | (steps - 16);
    }
    if (pcm >= 0)
        code |= 0x80;
    /* G.711 transmits A-law with the even bits inverted. */
    return (uint8_t)(code ^ 0x55);
}

int16_t rp_g711_alaw_decode(uint8_t code)
{
    int bits = (code ^ 0x55) & 0x7F;
    int segment = bits >> 4;
    int interval = bits & 0x0F;
    int magnitude;
    if (segment == 0)
        magnitude = (interval << 4) + 8;
    else
        magnitude = (((interval + 16) << 4) + 8) << (segment - 1);
    return (int16_t)((code & 0x80) ? magnitude : -magnitude);
}

void rp_g711_ulaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = rp_g711_ulaw_encode(pcm[i]);
}

void rp_g711_alaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out)
{
    for (size_t i = 0; i < n; i++)
        out[i] = rp_g711_alaw_encode(pcm[i]);
}
