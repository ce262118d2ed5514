/* STUN answers within stun.rate. See include/stunrate.h. */
#include "stunrate.h"

enum rp_stun_verdict rp_stunrate_answer(struct rp_ratelimit *rate, uint64_t now_mono, const uint8_t *req,
                                        size_t len, const struct sockaddr *from, uint8_t *resp, size_t cap,
                                        size_t *resp_len)
{
    enum rp_stun_verdict v = rp_stun_answer(req, len, from, resp, cap, resp_len);
    /* Asked after the verdict: junk and requests too small to answer take no
     * token, so they cannot use up the budget of a real probe behind the
     * same address. */
    if (v == RP_STUN_ANSWERED && rate && !rp_ratelimit_allow(rate, from, now_mono))
        return RP_STUN_DROP_RATE;
    return v;
}
