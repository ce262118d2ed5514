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
    if (s == NULL || strncmp(s, hash_prefix, HASH_PREFIX_LEN) != 0)
        return -1;
    return rp_hex_decode(s + HASH_PREFIX_LEN, out, RP_TOKEN_HASH_LEN); /* out untouched on failure */
}

void rp_token_format_hash(const uint8_t h[RP_TOKEN_HASH_LEN], char out[RP_TOKEN_HASH_STRLEN])
{
    memcpy(out, hash_prefix, HASH_PREFIX_LEN);
    rp_hex_encode(h, RP_TOKEN_HASH_LEN, out + HASH_PREFIX_LEN, RP_TOKEN_HASH_STRLEN - HASH_PREFIX_LEN);
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
