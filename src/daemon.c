#include <errno.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "caps.h"
#include "config.h"
#include "control.h"
#include "daemon.h"
#include "echo.h"
#include "log.h"
#include "notify.h"
#include "ratelimit.h"
#include "reflector.h"
#include "srtp.h"
#include "stunsrv.h"

#define DAEMON_SIGNALS 3
/* Sources the STUN limiter remembers, as for the echo ports and the control
 * API: fixed memory, the least recently seen recycled. To get a flooded
 * address a fresh bucket, a flood must show 256 other addresses between two
 * of its requests: the victim then gets fewer than 1 in 257 of them. */
#define STUN_RATE_SOURCES 256

struct daemon {
    const char *config_path;
    struct rp_config cfg;
    struct event_base *base;
    struct rp_reflector *refl;
    struct rp_control *control;
    struct rp_stunsrv *stun;
    struct rp_ratelimit *stun_rate; /* stun.rate: one for stun.listen and every session port */
    struct rp_echo *echo;
    struct event *sigs[DAEMON_SIGNALS]; /* SIGTERM, SIGINT, SIGHUP */
};

static void on_terminate(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    (void)what;
    rp_log_info("signal %d: shutting down with %u session(s)", (int)sig, rp_reflector_count(d->refl));
    rp_notify("STOPPING=1");
    event_base_loopbreak(d->base);
}

/* Each key as its row in config.c says: a reload applies the live ones
 * through every module's reload hook and keeps the running value of the ones
 * bound at start-up (a warning names them); sessions keep running. A config
 * that fails to load leaves the running one untouched. */
static void on_reload(evutil_socket_t sig, short what, void *arg)
{
    struct daemon *d = arg;
    struct rp_config fresh;
    char err[512], restart[256];
    (void)sig;
    (void)what;
    rp_notify("RELOADING=1");
    if (rp_config_load(d->config_path, &fresh, err, sizeof err) < 0) {
        rp_log_err("reload failed, keeping the running configuration: %s", err);
    } else {
        if (rp_config_reload(&d->cfg, &fresh, restart, sizeof restart) > 0)
            rp_log_warn("reload: %s take effect after a restart", restart);
        rp_log_set_level(d->cfg.log_level);
        rp_reflector_reload(d->refl, &d->cfg);
        if (rp_control_reload(d->control, &d->cfg, err, sizeof err) < 0)
            rp_log_err("reload: %s", err);
        rp_echo_reload(d->echo, &d->cfg);
        rp_ratelimit_set(d->stun_rate, d->cfg.stun_rate, d->cfg.stun_rate);
        rp_log_info("configuration reloaded: %u token(s), max %u sessions", d->cfg.ntokens, d->cfg.max_sessions);
    }
    rp_notify("READY=1");
}

struct event_base *rp_daemon_event_base(void)
{
    struct event_config *ec = event_config_new();
    if (!ec)
        return NULL;
    /* Precise timers: downstream packets must leave on a 20 ms grid, not epoll's 1 ms rounding. */
    event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    /* libevent runs every ready callback of one priority before it looks at
     * the timers again: a burst of TLS handshakes would hold the media clock
     * for hundreds of ms. Default-priority work now yields after a slice. */
    const struct timeval slice = { 0, RP_LOOP_SLICE_MS * 1000 };
    struct event_base *base = NULL;
    if (event_config_set_max_dispatch_interval(ec, &slice, -1, RP_PRIO_DEFAULT) == 0)
        base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (base && event_base_priority_init(base, RP_PRIORITIES) < 0) {
        event_base_free(base);
        base = NULL;
    }
    return base;
}

/* stun.listen: a port another process holds (coturn) is that process's job. */
static void open_stun(struct daemon *d)
{
    char err[512];

    if (!d->cfg.stun_listen[0])
        return;
    d->stun = rp_stunsrv_new(d->base, d->cfg.stun_listen, d->stun_rate, err, sizeof err);
    if (!d->stun && errno == EADDRINUSE)
        rp_log_info("%s is held by another process (coturn?): it answers STUN there, not rtpprobed",
                    d->cfg.stun_listen);
    else if (!d->stun)
        rp_log_warn("not answering STUN on stun.listen: %s", err);
}

/* The loop and every module on it, in start-up order. 0, or -1 logged. */
static int start(struct daemon *d)
{
    char err[512];

    d->base = rp_daemon_event_base();
    if (!d->base) {
        rp_log_err("cannot create event loop");
        return -1;
    }
    signal(SIGPIPE, SIG_IGN);
    /* Burst = one second's worth: stun.rate is the one knob (docs/configuration.md). */
    d->stun_rate = rp_ratelimit_new(STUN_RATE_SOURCES, d->cfg.stun_rate, d->cfg.stun_rate);
    d->refl = d->stun_rate ? rp_reflector_new(d->base, &d->cfg, d->stun_rate) : NULL;
    if (!d->refl) {
        rp_log_err("out of memory");
        return -1;
    }
    d->control = rp_control_new(d->base, &d->cfg, d->refl, err, sizeof err);
    if (!d->control) {
        rp_log_err("%s", err);
        return -1;
    }
    /* The port check's raw socket is open (or could not be): nothing the
     * daemon does from here on needs CAP_NET_RAW, so it goes for good. */
    if (rp_caps_has(CAP_NET_RAW) && rp_caps_drop(CAP_NET_RAW) < 0)
        rp_log_warn("cannot drop CAP_NET_RAW: %s", strerror(errno));
    open_stun(d);
    if (d->cfg.necho_ports) {
        d->echo = rp_echo_new(d->base, &d->cfg);
        if (!d->echo) {
            rp_log_err("out of memory");
            return -1;
        }
    }
    rp_control_set_listeners(d->control, d->stun, d->echo);
    return 0;
}

static int install_signals(struct daemon *d)
{
    d->sigs[0] = evsignal_new(d->base, SIGTERM, on_terminate, d);
    d->sigs[1] = evsignal_new(d->base, SIGINT, on_terminate, d);
    d->sigs[2] = evsignal_new(d->base, SIGHUP, on_reload, d);
    for (int i = 0; i < DAEMON_SIGNALS; i++) {
        /* With the media clock: never starved by control work. */
        if (!d->sigs[i] || event_priority_set(d->sigs[i], RP_PRIO_MEDIA_CLOCK) < 0 ||
            evsignal_add(d->sigs[i], NULL) < 0) {
            rp_log_err("cannot install signal handlers");
            return -1;
        }
    }
    return 0;
}

/* Whatever start() and install_signals() got to, in reverse order. */
static void stop(struct daemon *d)
{
    for (int i = 0; i < DAEMON_SIGNALS; i++)
        if (d->sigs[i])
            event_free(d->sigs[i]);
    rp_echo_free(d->echo);
    rp_stunsrv_free(d->stun);
    rp_control_free(d->control);
    rp_reflector_free(d->refl);
    rp_ratelimit_free(d->stun_rate);
    /* Freed bufferevents finish in deferred callbacks: let them run, or their
     * TLS state outlives the event base (a leak ASan sees at exit). */
    if (d->base) {
        event_base_loop(d->base, EVLOOP_NONBLOCK);
        event_base_free(d->base);
    }
}

int rp_daemon_run(const char *config_path)
{
    struct daemon d = { .config_path = config_path };
    char err[512];
    int rc = RP_DAEMON_EXIT_FAIL;

    if (rp_config_load(config_path, &d.cfg, err, sizeof err) < 0) {
        rp_log_err("%s", err);
        return RP_DAEMON_EXIT_FAIL;
    }
    if (rp_srtp_global_init() < 0) {
        rp_log_err("cannot initialise libsrtp2");
        return RP_DAEMON_EXIT_FAIL;
    }
    rp_log_set_level(d.cfg.log_level);
    if (start(&d) == 0 && install_signals(&d) == 0) {
        rp_log_info("rtpprobed %s: control on %s (%s), media %s ports %u-%u, STUN %s", RP_VERSION,
                    d.cfg.control_listen, d.cfg.tls_cert[0] ? "https" : "http", d.cfg.media_bind, d.cfg.port_min,
                    d.cfg.port_max, d.stun ? d.cfg.stun_listen : "off");
        rp_notify("READY=1");
        event_base_dispatch(d.base);
        rc = RP_DAEMON_EXIT_OK;
    }
    stop(&d);
    rp_srtp_global_fini();
    return rc;
}
