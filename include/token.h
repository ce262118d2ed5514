/* Control API bearer tokens: stored as SHA-256, compared in constant time. */
#ifndef RP_TOKEN_H
#define RP_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RP_TOKEN_HASH_LEN 32
#define RP_TOKEN_HASH_STRLEN (7 + 64 + 1) /* "sha256:" + hex + NUL */

void rp_token_hash(const char *token, size_t len, uint8_t out[RP_TOKEN_HASH_LEN]);
int  rp_token_parse_hash(const char *s, uint8_t out[RP_TOKEN_HASH_LEN]); /* "sha256:<64 hex>": 0 or -1 */
void rp_token_format_hash(const uint8_t h[RP_TOKEN_HASH_LEN], char out[RP_TOKEN_HASH_STRLEN]);
/* Hash `presented` and compare against every stored hash without early exit. */
bool rp_token_check(const uint8_t (*hashes)[RP_TOKEN_HASH_LEN], unsigned n, const char *presented, size_t len);

#endif
