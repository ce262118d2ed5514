#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "netaddr.h"
#include "ratelimit.h"
#include "timeutil.h"

struct bucket {
    bool     used;
    struct sockaddr_storage ip; /* port zeroed: the limit is per address */
    double   tokens;
    uint64_t last_ns;
};

struct rp_ratelimit {
    struct bucket *buckets;
    unsigned n;
    double rate, burst;
};

struct rp_ratelimit *rp_ratelimit_new(unsigned nsources, double rate, double burst)
{
    if (nsources == 0) /* a table with no slot could not hold the source it checks */
        return NULL;
    struct rp_ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    rl->buckets = calloc(nsources, sizeof *rl->buckets);
    if (!rl->buckets) {
        free(rl);
        return NULL;
    }
    rl->n = nsources;
    rp_ratelimit_set(rl, rate, burst);
    return rl;
}

void rp_ratelimit_set(struct rp_ratelimit *rl, double rate, double burst)
{
    rl->rate = rate;
    rl->burst = burst < 1 ? 1 : burst;
}

void rp_ratelimit_free(struct rp_ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->buckets);
    free(rl);
}

bool rp_ratelimit_allow(struct rp_ratelimit *rl, const struct sockaddr *src, uint64_t now)
{
    struct bucket *b = NULL, *oldest = &rl->buckets[0];
    for (unsigned i = 0; i < rl->n; i++) {
        struct bucket *c = &rl->buckets[i];
        if (c->used && rp_addr_same_ip((const struct sockaddr *)&c->ip, src)) {
            b = c;
            break;
        }
        if (!c->used || (oldest->used && c->last_ns < oldest->last_ns))
            oldest = c;
    }
    if (!b) {
        b = oldest;
        memset(b, 0, sizeof *b);
        memcpy(&b->ip, src, rp_addr_len(src));
        b->used = true;
        b->tokens = rl->burst;
        b->last_ns = now;
    }
    double elapsed = now > b->last_ns ? (double)(now - b->last_ns) / (double)NS_PER_S : 0;
    b->tokens += elapsed * rl->rate;
    if (b->tokens > rl->burst)
        b->tokens = rl->burst;
    b->last_ns = now;
    if (b->tokens < 1)
        return false;
    b->tokens -= 1;
    return true;
}
