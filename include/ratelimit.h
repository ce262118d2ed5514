/* Per-source rate limit (token bucket per IP): control API requests, echo and STUN answers.
 * Fixed memory: a bounded table, the least recently seen source is recycled. */
#ifndef RP_RATELIMIT_H
#define RP_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

struct rp_ratelimit;

/* rate: requests per second refilled; burst: bucket size. */
/* NULL when out of memory or nsources is 0. */
struct rp_ratelimit *rp_ratelimit_new(unsigned nsources, double rate, double burst);
void rp_ratelimit_set(struct rp_ratelimit *rl, double rate, double burst);
void rp_ratelimit_free(struct rp_ratelimit *rl);
/* Takes one token for this source's IP; false when it has none left. */
bool rp_ratelimit_allow(struct rp_ratelimit *rl, const struct sockaddr *src, uint64_t now_mono_ns);

#endif
