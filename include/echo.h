/* Echo ports: RTP sent to one of echo.ports comes straight back to its source,
 * so that a softphone or ffmpeg can hear itself through the real path. One
 * datagram out per datagram in, same size, only for allowed sources and within
 * a per-source rate: a reflector, never an amplifier. */
#ifndef RP_ECHO_H
#define RP_ECHO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "config.h"
#include "ratelimit.h"

enum rp_echo_verdict {
    RP_ECHO_ANSWER = 0,        /* send it back (counted as "echoed") */
    RP_ECHO_DROP_NOT_ALLOWED,  /* source outside echo.allow */
    RP_ECHO_DROP_NOT_RTP,      /* not parseable as RTP (no STUN, no junk echoed) */
    RP_ECHO_DROP_RATE,         /* source above echo.rate */
    RP_ECHO_VERDICTS
};
const char *rp_echo_verdict_name(enum rp_echo_verdict v);

/* The decision for one datagram (the caller sends it back on RP_ECHO_ANSWER). */
enum rp_echo_verdict rp_echo_check(const struct rp_config *cfg, struct rp_ratelimit *rate, const uint8_t *buf,
                                   size_t len, const struct sockaddr *from, uint64_t now_mono);

struct rp_echo;
struct event_base;
/* Binds every echo port on media.bind; a port another process holds is skipped
 * with a warning. cfg is read for every datagram (echo.allow). NULL only on
 * allocation failure. */
struct rp_echo *rp_echo_new(struct event_base *base, const struct rp_config *cfg);
/* After a reload: cfg is the configuration now running (echo.allow, echo.rate;
 * the ports stay bound). e may be NULL (no echo ports). */
void rp_echo_reload(struct rp_echo *e, const struct rp_config *cfg);
void rp_echo_free(struct rp_echo *e);
uint64_t rp_echo_count(const struct rp_echo *e, enum rp_echo_verdict v);

#endif
