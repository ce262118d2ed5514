/* The daemon's STUN answering: rp_stun_answer() (stun.h, shared with the
 * probe) within a per-source answer budget (stun.rate). One limiter serves
 * stun.listen and every session port; both ask through here. No I/O, no
 * clock reads: the caller passes now_mono. */
#ifndef RP_STUNRATE_H
#define RP_STUNRATE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "ratelimit.h"
#include "stun.h"

/* rp_stun_answer(), then a token from rate (NULL: no limit) for an answer:
 * one its source IP has no token for is RP_STUN_DROP_RATE. Only answers take
 * a token: what would not be answered anyway costs the sender nothing here. */
enum rp_stun_verdict rp_stunrate_answer(struct rp_ratelimit *rate, uint64_t now_mono, const uint8_t *req,
                                        size_t len, const struct sockaddr *from, uint8_t *resp, size_t cap,
                                        size_t *resp_len);

#endif
