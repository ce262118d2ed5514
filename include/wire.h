/* Network byte order reads and writes through byte pointers: packets are never
 * cast to structs (alignment, padding, aliasing). Callers check lengths first. */
#ifndef RP_WIRE_H
#define RP_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* A hex digit's value (either case), or -1: for hex text on the wire and in /proc. */
static inline int rp_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* n bytes as 2n lowercase hex digits and a NUL (ids, keys, hashes). 0, or -1 if
 * outcap < 2n + 1: then out is "" (when outcap > 0), never a truncated id. */
int rp_hex_encode(const uint8_t *in, size_t n, char *out, size_t outcap);

/* Exactly 2n hex digits (either case) into n bytes: 0, or -1 (NULL, another
 * length, a non-hex digit) with out untouched. */
int rp_hex_decode(const char *s, uint8_t *out, size_t n);

static inline uint16_t rp_get16(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static inline uint32_t rp_get32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t rp_get64(const uint8_t *p)
{
    return (uint64_t)rp_get32(p) << 32 | rp_get32(p + 4);
}

static inline void rp_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void rp_put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static inline void rp_put64(uint8_t *p, uint64_t v)
{
    rp_put32(p, (uint32_t)(v >> 32));
    rp_put32(p + 4, (uint32_t)v);
}

#endif
