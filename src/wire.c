/* Hex text for bytes: the session and port-check ids, the port-check key and the
 * token hashes all use it, so there is one spelling (lowercase) and one check. */
#include "wire.h"

#include <string.h>

int rp_hex_encode(const uint8_t *in, size_t n, char *out, size_t outcap)
{
    static const char digits[] = "0123456789abcdef";

    if (outcap == 0 || n > (outcap - 1) / 2) { /* outcap < 2n + 1, without overflow */
        if (outcap > 0)
            out[0] = '\0';
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
    return 0;
}

int rp_hex_decode(const char *s, uint8_t *out, size_t n)
{
    /* strnlen stops at 2n+1, so a huge string costs nothing and a longer one is caught. */
    if (s == NULL || strnlen(s, 2 * n + 1) != 2 * n)
        return -1;
    /* Check every digit before writing any byte: out untouched on failure. */
    for (size_t i = 0; i < 2 * n; i++)
        if (rp_hex_digit(s[i]) < 0)
            return -1;
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(rp_hex_digit(s[2 * i]) << 4 | rp_hex_digit(s[2 * i + 1]));
    return 0;
}
