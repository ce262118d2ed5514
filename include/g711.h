/* ITU-T G.711 µ-law and A-law, encoded in-tree (bit-exact with the G.191 reference). */
#ifndef RP_G711_H
#define RP_G711_H

#include <stddef.h>
#include <stdint.h>

uint8_t rp_g711_ulaw_encode(int16_t pcm);
int16_t rp_g711_ulaw_decode(uint8_t code);
uint8_t rp_g711_alaw_encode(int16_t pcm);
int16_t rp_g711_alaw_decode(uint8_t code);

void rp_g711_ulaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out);
void rp_g711_alaw_encode_buf(const int16_t *pcm, size_t n, uint8_t *out);

#endif
