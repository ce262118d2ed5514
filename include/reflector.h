/* The media side of the daemon: the session table, one read event per session
 * socket and one timer for every session's downstream stream and expiry. */
#ifndef RP_REFLECTOR_H
#define RP_REFLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "config.h"
#include "quality.h"
#include "session.h"

struct rp_reflector;

/* Event priorities of the daemon's loop (event_base_priority_init with
 * RP_PRIORITIES): the media clock first, everything else after it. */
enum { RP_PRIO_MEDIA_CLOCK = 0, RP_PRIO_DEFAULT = 1, RP_PRIORITIES = 2 };

struct rp_ratelimit;
/* stun_rate: the daemon's STUN answer limit, handed to every session it
 * creates (rp_session_set_stun_rate); not owned, may be NULL (no limit). */
struct rp_reflector *rp_reflector_new(struct event_base *base, const struct rp_config *cfg,
                                     struct rp_ratelimit *stun_rate);
void rp_reflector_free(struct rp_reflector *r);
/* After a reload: cfg is the configuration now running. Limits and the port
 * range apply to sessions created from then on; running sessions carry on. */
void rp_reflector_reload(struct rp_reflector *r, const struct rp_config *cfg);

/* Create a session. On failure returns NULL, sets *http_status (503 when full or
 * out of ports, 500 otherwise) and a message. */
struct rp_session *rp_reflector_create(struct rp_reflector *r, const struct rp_session_params *p,
                                       const struct sockaddr *client, int *http_status,
                                       char *err, size_t errlen);
struct rp_session *rp_reflector_find(struct rp_reflector *r, const char *id);
void rp_reflector_destroy(struct rp_reflector *r, struct rp_session *s);
/* The probe stops s (PATCH "stop"): rp_session_stop, and the session's
 * upstream quality joins the histograms if this is its first stop. A session
 * never stopped joins them when it is destroyed or expires: each session
 * that received media is observed exactly once. */
void rp_reflector_stop(struct rp_reflector *r, struct rp_session *s, uint64_t upstream_sent);
/* The histograms of finished sessions (/metrics). */
const struct rp_quality *rp_reflector_quality(const struct rp_reflector *r);
/* Call after changing s's sending state (announce, stop). */
void rp_reflector_reschedule(struct rp_reflector *r, struct rp_session *s);
/* For tests: the heap of sending sessions is consistent (every sending
 * session queued once at its next due time, heap order, the timer armed no
 * later than the earliest). */
bool rp_reflector_heap_ok(const struct rp_reflector *r);
unsigned rp_reflector_count(const struct rp_reflector *r);
/* Sessions open now, by codec (out[RP_CODEC_COUNT]). */
void rp_reflector_count_by_codec(const struct rp_reflector *r, unsigned *out);
/* Totals over every session since start (live and gone), and how many were created. */
void rp_reflector_counters(const struct rp_reflector *r, struct rp_session_counters *out, uint64_t *created);
/* Sessions created by clients at this IP address. */
unsigned rp_reflector_count_source(const struct rp_reflector *r, const struct sockaddr *ip);
/* Browser sessions (webrtc.h) open now. */
unsigned rp_reflector_count_webrtc(const struct rp_reflector *r);

#endif
