/* Control API bearer tokens. The config holds only SHA-256 hashes, so reading it
 * (or a leaked copy) does not give API access; tokens must be high-entropy for
 * that to hold, since an unsalted hash of a guessable word is easily reversed. */
#include "token.h"
#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

static const char hash_prefix[] = "sha256:";
#define HASH_PREFIX_LEN (sizeof hash_prefix - 1)

static bool sha256(const char *data, size_t len, uint8_t out[RP_TOKEN_HASH_LEN])
{
    unsigned int outlen = 0;

    if (EVP_Digest(data, len, out, &outlen, EVP_sha256(), NULL) != 1)
        return false;
    return outlen == RP_TOKEN_HASH_LEN;
}

void rp_token_hash(const char *token, size_t len, uint8_t out[RP_TOKEN_HASH_LEN])
{
    /* Only a broken libcrypto fails here; printing or comparing a wrong hash
     * would be worse than stopping. */
    if (!sha256(token, len, out))
        abort();
}

int rp_token_parse_hash(const char *s, uint8_t out[RP_TOKEN_HASH_LEN])
{
    uint8_t h[RP_TOKEN_HASH_LEN];

    if (s == NULL || strncmp(s, hash_prefix, HASH_PREFIX_LEN) != 0)
        return -1;
    s += HASH_PREFIX_LEN;
    /* strnlen stops at 2*LEN+1, so a huge string costs nothing and a longer one is caught. */
    if (strnlen(s, 2 * RP_TOKEN_HASH_LEN + 1) != 2 * RP_TOKEN_HASH_LEN)
        return -1;
    for (size_t i = 0; i < RP_TOKEN_HASH_LEN; i++) {
        int hi = rp_hex_digit(s[2 * i]);
        int lo = rp_hex_digit(s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        h[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(out, h, sizeof h); /* out untouched on failure */
    return 0;
}

void rp_token_format_hash(const uint8_t h[RP_TOKEN_HASH_LEN], char out[RP_TOKEN_HASH_STRLEN])
{
    static const char digits[] = "0123456789abcdef";
    char *p = out;

    memcpy(p, hash_prefix, HASH_PREFIX_LEN);
    p += HASH_PREFIX_LEN;
    for (size_t i = 0; i < RP_TOKEN_HASH_LEN; i++) {
        *p++ = digits[h[i] >> 4];
        *p++ = digits[h[i] & 0x0f];
    }
    *p = '\0';
}

bool rp_token_check(const uint8_t (*hashes)[RP_TOKEN_HASH_LEN], unsigned n, const char *presented, size_t len)
{
    uint8_t h[RP_TOKEN_HASH_LEN];
    unsigned matched = 0;

    if (!sha256(presented, len, h))
        return false;
    /* Every stored hash is compared, in constant time, whatever matched earlier:
     * the response time must not tell which entry (if any) was close. */
    for (unsigned i = 0; i < n; i++)
        matched |= (unsigned)(CRYPTO_memcmp(hashes[i], h, RP_TOKEN_HASH_LEN) == 0);
    return matched != 0;
}
