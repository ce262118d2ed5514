/* libFuzzer target: a page token as the browser sends it (Authorization:
 * Bearer), not NUL-terminated, checked with a fixed secret at a fixed time.
 *
 * Aborts when a token is accepted that is not exactly what rp_pagetoken_mint
 * writes for its expiry and agent (one spelling per token), when a refused
 * token leaves an agent name behind, or when the input's first bytes taken
 * as an expiry and an agent name mint a token that does not check back to
 * the verdict its expiry calls for, with the same agent. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pagetoken.h"

static const uint8_t secret[] = "fuzz-page-token-secret-0123456789abcdef"; /* 39 bytes + NUL */
#define SECRET_LEN (sizeof secret - 1)
#define NOW 1800000000u
#define MAX_TTL 3600u

static void accepted_is_minted(const uint8_t *data, size_t size, const char *agent)
{
    char again[RP_PAGETOKEN_MAX];
    uint64_t expiry = 0;
    for (size_t i = 3; i < size && data[i] != ':'; i++) /* "v1:<digits>:" was checked */
        expiry = expiry * 10 + (uint64_t)(data[i] - '0');
    if (rp_pagetoken_mint(secret, SECRET_LEN, expiry, agent, again, sizeof again) != 0 || strlen(again) != size ||
        memcmp(again, data, size) != 0)
        abort();
}

static void minted_checks_back(const uint8_t *data, size_t size)
{
    uint64_t expiry;
    char agent[RP_PAGETOKEN_MAX], tok[RP_PAGETOKEN_MAX], out[65];
    memcpy(&expiry, data, sizeof expiry);
    size_t alen = size - sizeof expiry < 70 ? size - sizeof expiry : 70;
    memcpy(agent, data + sizeof expiry, alen);
    agent[alen] = '\0';
    if (rp_pagetoken_mint(secret, SECRET_LEN, expiry, agent, tok, sizeof tok) != 0) {
        if (rp_pagetoken_agent_ok(agent))
            abort(); /* only a bad agent name stops minting into a full-size buffer */
        return;
    }
    enum rp_pagetoken_verdict want = expiry <= NOW             ? RP_PAGETOKEN_EXPIRED
                                     : expiry - NOW > MAX_TTL ? RP_PAGETOKEN_TOO_LONG
                                                               : RP_PAGETOKEN_OK;
    if (rp_pagetoken_check(secret, SECRET_LEN, tok, strlen(tok), NOW, MAX_TTL, out) != want)
        abort();
    if (want == RP_PAGETOKEN_OK && strcmp(out, agent) != 0)
        abort();
    /* another secret: never accepted */
    if (rp_pagetoken_check(secret + 1, SECRET_LEN - 1, tok, strlen(tok), NOW, MAX_TTL, out) != RP_PAGETOKEN_BAD_SIGNATURE)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char agent[65] = "x";
    /* a copy of exactly size bytes, so that ASan sees any read past the end */
    char *tok = malloc(size ? size : 1);
    if (tok == NULL)
        return 0;
    memcpy(tok, data, size);
    enum rp_pagetoken_verdict v = rp_pagetoken_check(secret, SECRET_LEN, tok, size, NOW, MAX_TTL, agent);
    if ((unsigned)v >= RP_PAGETOKEN_VERDICTS)
        abort();
    if (v == RP_PAGETOKEN_OK)
        accepted_is_minted(data, size, agent);
    else if (agent[0] != '\0')
        abort();
    free(tok);
    if (size >= sizeof(uint64_t))
        minted_checks_back(data, size);
    return 0;
}
