/* Event-loop glue for the media plane: reads session sockets, clocks the
 * downstream streams from one timer, expires sessions. The timer's work is
 * proportional to the sessions due, not to all sessions: a binary min-heap
 * of the sending sessions by their next packet's time (a thousand sessions
 * at 20 ms are 50,000 packets a second; a scan of all of them per packet
 * would cost more than the packets). Expiry is checked once a second. */
#include <limits.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "codec.h"
#include "log.h"
#include "netaddr.h"
#include "portalloc.h"
#include "reflector.h"
#include "timeutil.h"
#include "udp.h"

/* The timer also wakes this often to expire sessions. */
#define HOUSEKEEPING_NS NS_PER_S

/* A session and the socket of its media port: the session does no I/O. */
struct slot {
    struct rp_reflector *owner;
    struct rp_session *session;
    int fd;
    struct event *ev;
    uint64_t due;        /* rp_session_next_due() when last looked at */
    unsigned heap_pos;   /* index in owner->heap, NOT_QUEUED when not sending */
};

#define NOT_QUEUED UINT_MAX

struct rp_reflector {
    struct event_base *base;
    const struct rp_config *cfg;
    struct rp_ratelimit *stun_rate; /* handed to every session; the daemon owns it */
    struct rp_payload_cache *loops; /* downstream payload loops, shared read-only by the sessions */
    struct event *tick;
    struct slot **slots;
    unsigned nslots;
    unsigned capacity;
    struct slot **heap;  /* sending sessions, earliest due first (capacity entries) */
    unsigned nheap;
    uint64_t armed_for;  /* monotonic ns the tick timer fires at */
    uint64_t housekeeping_at; /* next expiry check */
    uint64_t created;    /* sessions ever created */
    struct rp_session_counters retired; /* counters of sessions already gone */
    struct rp_quality quality;           /* upstream quality of finished sessions */
};

static int slot_send(void *arg, const uint8_t *pkt, size_t len, const struct sockaddr *to)
{
    struct slot *sl = arg;
    return rp_udp_send(sl->fd, pkt, len, to, rp_addr_len(to)) < 0 ? -1 : 0;
}

/* ---- the heap of sending sessions ---- */

static void heap_place(struct rp_reflector *r, struct slot *sl, unsigned i)
{
    r->heap[i] = sl;
    sl->heap_pos = i;
}

static void heap_up(struct rp_reflector *r, unsigned i)
{
    struct slot *sl = r->heap[i];
    while (i > 0 && r->heap[(i - 1) / 2]->due > sl->due) {
        heap_place(r, r->heap[(i - 1) / 2], i);
        i = (i - 1) / 2;
    }
    heap_place(r, sl, i);
}

static void heap_down(struct rp_reflector *r, unsigned i)
{
    struct slot *sl = r->heap[i];
    for (;;) {
        unsigned c = 2 * i + 1;
        if (c >= r->nheap)
            break;
        if (c + 1 < r->nheap && r->heap[c + 1]->due < r->heap[c]->due)
            c++;
        if (r->heap[c]->due >= sl->due)
            break;
        heap_place(r, r->heap[c], i);
        i = c;
    }
    heap_place(r, sl, i);
}

static void heap_remove(struct rp_reflector *r, struct slot *sl)
{
    unsigned i = sl->heap_pos;
    if (i == NOT_QUEUED)
        return;
    sl->heap_pos = NOT_QUEUED;
    struct slot *last = r->heap[--r->nheap];
    if (last == sl)
        return;
    heap_place(r, last, i);
    heap_up(r, i);
    heap_down(r, last->heap_pos);
}

/* The session's next packet time may have changed: put it where it belongs. */
static void heap_update(struct rp_reflector *r, struct slot *sl)
{
    sl->due = rp_session_next_due(sl->session);
    if (sl->due == UINT64_MAX) {
        heap_remove(r, sl);
        return;
    }
    if (sl->heap_pos == NOT_QUEUED) {
        heap_place(r, sl, r->nheap++);
        heap_up(r, sl->heap_pos);
        return;
    }
    heap_up(r, sl->heap_pos);
    heap_down(r, sl->heap_pos);
}

static void arm(struct rp_reflector *r, bool from_tick);

static void session_datagram(void *arg, uint8_t *buf, size_t len, const struct rp_udp_meta *meta)
{
    struct slot *sl = arg;
    rp_session_on_datagram(sl->session, buf, len, meta, rp_monotonic_ns());
}

static void session_oversized(void *arg)
{
    struct slot *sl = arg;
    rp_session_note_oversized(sl->session);
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
    struct slot *sl = arg;
    (void)what;
    rp_udp_drain(fd, session_datagram, session_oversized, sl);
    /* The first upstream packet may have started (or consent ended) this
     * session's stream. */
    if (rp_session_next_due(sl->session) != sl->due) {
        heap_update(sl->owner, sl);
        if (sl->due < sl->owner->armed_for)
            arm(sl->owner, false);
    }
}

/* A session's end for the histograms: its stop, or its removal when it was
 * never stopped (rp_session_stopped is the "observed" mark, so the session
 * carries nothing extra). Only a session that measured upstream media counts. */
static void observe_end(struct rp_reflector *r, const struct rp_session *s)
{
    struct rp_contract_session doc;
    rp_session_snapshot(s, &doc);
    if (doc.up.rx.received == 0)
        return;
    const struct rp_session_params *p = rp_session_params(s);
    struct rp_quality_sample q;
    rp_quality_score(&doc.up.rx, p->codec, p->ptime_ms, p->jitter_buffer_ms, &q);
    rp_quality_observe(&r->quality, p->codec, p->srtp ? RP_TRANSPORT_SRTP : RP_TRANSPORT_RTP, &q);
}

void rp_reflector_stop(struct rp_reflector *r, struct rp_session *s, uint64_t upstream_sent)
{
    bool first = !rp_session_stopped(s);
    rp_session_stop(s, upstream_sent);
    if (first)
        observe_end(r, s);
}

const struct rp_quality *rp_reflector_quality(const struct rp_reflector *r)
{
    return &r->quality;
}

static void remove_slot(struct rp_reflector *r, unsigned i)
{
    struct slot *sl = r->slots[i];
    if (!rp_session_stopped(sl->session))
        observe_end(r, sl->session);
    heap_remove(r, sl);
    rp_session_add_counters(sl->session, &r->retired);
    event_free(sl->ev);
    rp_session_free(sl->session);
    close(sl->fd);
    free(sl);
    r->slots[i] = r->slots[--r->nslots];
}

static void expire(struct rp_reflector *r, uint64_t now)
{
    for (unsigned i = 0; i < r->nslots;) {
        struct rp_session *s = r->slots[i]->session;
        if (rp_session_expired(s, now)) {
            rp_log_info("session %s expired", rp_session_id(s));
            remove_slot(r, i);
            continue;
        }
        i++;
    }
    r->housekeeping_at = now + HOUSEKEEPING_NS;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct rp_reflector *r = arg;
    (void)fd;
    (void)what;
    uint64_t now = rp_monotonic_ns();
    /* Each session sends what is due and moves on by at least a period, so
     * this ends even when the plane is behind. */
    while (r->nheap > 0 && r->heap[0]->due <= now) {
        struct slot *sl = r->heap[0];
        /* The clock read per session: T3 as late as possible. */
        rp_session_send_due(sl->session, rp_monotonic_ns());
        heap_update(r, sl);
    }
    if (now >= r->housekeeping_at)
        expire(r, now);
    r->armed_for = UINT64_MAX;
    arm(r, true);
}

/* The timer at the earliest of the next packet and the next expiry check. */
static void arm(struct rp_reflector *r, bool from_tick)
{
    uint64_t now = rp_monotonic_ns();
    uint64_t due = r->housekeeping_at;
    if (r->nheap > 0 && r->heap[0]->due < due)
        due = r->heap[0]->due;
    uint64_t wait = due > now ? due - now : 0;
    /* Due again right after a tick: the media plane is behind (more streams
     * than the CPU clocks). At its usual priority the clock would then run on
     * every pass and nothing else ever would (control, upstream reads): take
     * turns instead. Only the tick tells: a stream just started (announce,
     * first upstream) is due at once without anything being behind. The tick
     * is never active when it arms itself (timers turn active only at the
     * start of a pass, and it runs first), so the change is allowed. */
    if (from_tick)
        (void)event_priority_set(r->tick, wait ? RP_PRIO_MEDIA_CLOCK : RP_PRIO_DEFAULT);
    struct timeval tv = rp_timeval_of_ns(wait);
    evtimer_add(r->tick, &tv);
    r->armed_for = due;
}

void rp_reflector_reschedule(struct rp_reflector *r, struct rp_session *s)
{
    for (unsigned i = 0; i < r->nslots; i++) {
        struct slot *sl = r->slots[i];
        if (sl->session != s)
            continue;
        heap_update(r, sl);
        /* Only an earlier time re-arms: re-adding a pending or active tick
         * would push the clock back by a pass. */
        if (sl->due < r->armed_for)
            arm(r, false);
        return;
    }
}

bool rp_reflector_heap_ok(const struct rp_reflector *r)
{
    unsigned queued = 0;
    for (unsigned i = 0; i < r->nslots; i++) {
        const struct slot *sl = r->slots[i];
        uint64_t due = rp_session_next_due(sl->session);
        bool sending = due != UINT64_MAX;
        if (sending != (sl->heap_pos != NOT_QUEUED) || (sending && (sl->due != due || r->heap[sl->heap_pos] != sl)))
            return false;
        queued += sending;
    }
    for (unsigned i = 1; i < r->nheap; i++)
        if (r->heap[(i - 1) / 2]->due > r->heap[i]->due)
            return false;
    return queued == r->nheap && (r->nheap == 0 || r->armed_for <= r->heap[0]->due);
}

struct rp_reflector *rp_reflector_new(struct event_base *base, const struct rp_config *cfg,
                                     struct rp_ratelimit *stun_rate)
{
    struct rp_reflector *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->base = base;
    r->cfg = cfg;
    r->stun_rate = stun_rate;
    /* Any seed: each session starts the loop at a frame of its own (stream.h). */
    r->loops = rp_payload_cache_new(1);
    r->tick = r->loops ? evtimer_new(base, on_tick, r) : NULL;
    /* Before other work: downstream packets leave on time in a burst of
     * control work (see arm() for overload). */
    if (!r->tick || event_priority_set(r->tick, RP_PRIO_MEDIA_CLOCK) < 0) {
        if (r->tick)
            event_free(r->tick);
        rp_payload_cache_free(r->loops);
        free(r);
        return NULL;
    }
    r->armed_for = UINT64_MAX;
    r->housekeeping_at = rp_monotonic_ns() + HOUSEKEEPING_NS;
    arm(r, false);
    return r;
}

void rp_reflector_free(struct rp_reflector *r)
{
    if (!r)
        return;
    while (r->nslots)
        remove_slot(r, r->nslots - 1);
    rp_payload_cache_free(r->loops); /* after every session let go of its loop */
    free(r->slots);
    free(r->heap);
    event_free(r->tick);
    free(r);
}

unsigned rp_reflector_count(const struct rp_reflector *r)
{
    return r->nslots;
}

void rp_reflector_count_by_codec(const struct rp_reflector *r, unsigned *out)
{
    memset(out, 0, RP_CODEC_COUNT * sizeof *out);
    for (unsigned i = 0; i < r->nslots; i++) {
        unsigned c = rp_session_params(r->slots[i]->session)->codec;
        if (c < RP_CODEC_COUNT)
            out[c]++;
    }
}

/* Room in the table and a zeroed slot, or NULL when out of memory. */
static struct slot *reserve_slot(struct rp_reflector *r)
{
    if (r->nslots == r->capacity) {
        unsigned cap = r->capacity ? r->capacity * 2 : 16;
        struct slot **grown = realloc(r->slots, cap * sizeof *grown);
        if (!grown)
            return NULL;
        r->slots = grown;
        struct slot **heap = realloc(r->heap, cap * sizeof *heap);
        if (!heap)
            return NULL;
        r->heap = heap;
        r->capacity = cap;
    }
    return calloc(1, sizeof(struct slot));
}

struct rp_session *rp_reflector_create(struct rp_reflector *r, const struct rp_session_params *p,
                                       const struct sockaddr *client, int *http_status,
                                       char *err, size_t errlen)
{
    *http_status = 503;
    if (r->nslots >= r->cfg->max_sessions) {
        snprintf(err, errlen, "session limit reached (%u)", r->cfg->max_sessions);
        return NULL;
    }
    struct sockaddr_storage bind_addr;
    socklen_t bind_len;
    if (rp_addr_from_ip(r->cfg->media_bind, 0, &bind_addr, &bind_len) < 0) {
        *http_status = 500;
        snprintf(err, errlen, "bad media.bind");
        return NULL;
    }
    uint16_t port;
    int fd = rp_port_alloc((struct sockaddr *)&bind_addr, r->cfg->port_min, r->cfg->port_max, RP_DSCP_EF, &port);
    if (fd < 0) {
        snprintf(err, errlen, "no free media port in %u-%u: %s", r->cfg->port_min, r->cfg->port_max,
                 strerror(errno));
        return NULL;
    }
    struct slot *sl = reserve_slot(r);
    if (!sl) {
        close(fd);
        *http_status = 500;
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sl->owner = r;
    sl->fd = fd;
    struct rp_session_params shared = *p;
    shared.payload_cache = r->loops;
    sl->session = rp_session_new(&shared, port, client, rp_monotonic_ns(), rp_realtime_ns(), slot_send, sl, err,
                                 errlen);
    /* The session decides on STUN itself, with the clock we hand it: the limit
     * is one more input to that decision, like its keys, not a filter here
     * that would have to parse STUN a second time and keep its own counts. */
    if (sl->session)
        rp_session_set_stun_rate(sl->session, r->stun_rate);
    sl->ev = sl->session ? event_new(r->base, fd, EV_READ | EV_PERSIST, on_readable, sl) : NULL;
    if (!sl->ev || event_add(sl->ev, NULL) < 0) {
        if (sl->session)
            snprintf(err, errlen, "cannot watch media socket");
        if (sl->ev)
            event_free(sl->ev);
        rp_session_free(sl->session);
        close(fd);
        free(sl);
        *http_status = 500;
        return NULL;
    }
    sl->heap_pos = NOT_QUEUED;
    sl->due = UINT64_MAX;
    r->slots[r->nslots++] = sl;
    r->created++;
    return sl->session;
}

void rp_reflector_counters(const struct rp_reflector *r, struct rp_session_counters *out, uint64_t *created)
{
    *out = r->retired;
    for (unsigned i = 0; i < r->nslots; i++)
        rp_session_add_counters(r->slots[i]->session, out);
    *created = r->created;
}

unsigned rp_reflector_count_source(const struct rp_reflector *r, const struct sockaddr *ip)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->nslots; i++)
        n += rp_addr_same_ip(rp_session_client(r->slots[i]->session), ip);
    return n;
}

unsigned rp_reflector_count_webrtc(const struct rp_reflector *r)
{
    unsigned n = 0;
    for (unsigned i = 0; i < r->nslots; i++)
        n += rp_session_webrtc(r->slots[i]->session) != NULL;
    return n;
}

struct rp_session *rp_reflector_find(struct rp_reflector *r, const char *id)
{
    for (unsigned i = 0; i < r->nslots; i++)
        if (strcmp(rp_session_id(r->slots[i]->session), id) == 0)
            return r->slots[i]->session;
    return NULL;
}

void rp_reflector_destroy(struct rp_reflector *r, struct rp_session *s)
{
    for (unsigned i = 0; i < r->nslots; i++) {
        if (r->slots[i]->session == s) {
            remove_slot(r, i);
            return;
        }
    }
}

void rp_reflector_reload(struct rp_reflector *r, const struct rp_config *cfg)
{
    r->cfg = cfg; /* read when a session is created: nothing else to do */
}
