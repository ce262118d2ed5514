/* UDP sockets for media: kernel receive timestamps (SO_TIMESTAMPNS, mapped
 * onto CLOCK_MONOTONIC), socket queue overflow counts (SO_RXQ_OVFL), DSCP marking. */
#ifndef RP_UDP_H
#define RP_UDP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

/* Non-blocking, close-on-exec. Never SO_REUSEADDR/SO_REUSEPORT: a port another
 * process holds is never shared or stolen. dscp < 0 leaves TOS alone.
 * Returns fd, or -1 with errno set (EADDRINUSE when the port is taken). */
int rp_udp_open(const struct sockaddr *bind, socklen_t len, int dscp);

/* DSCP EF (46) as phones mark voice (RFC 3246, RFC 4594). */
#define RP_DSCP_EF 46

struct rp_udp_meta {
    struct sockaddr_storage from;
    socklen_t fromlen;
    /* Arrival: the kernel's stamp (SO_TIMESTAMPNS, CLOCK_REALTIME), or the
     * clock read right after the read (recvmsg, or the recvmmsg batch) when
     * there is none. rx_mono is the one to
     * measure with: rx_ns moves with every step of the wall clock. */
    uint64_t  rx_mono;    /* CLOCK_MONOTONIC ns (rp_mono_of_real of the stamp) */
    uint64_t  rx_ns;      /* CLOCK_REALTIME ns, as stamped */
    uint64_t  read_mono;  /* CLOCK_MONOTONIC ns when the read (its batch) returned it */
    bool      has_drops;
    uint32_t  rxq_drops;  /* cumulative SO_RXQ_OVFL count of this socket */
};

/* One datagram. Returns its length, or -1 with errno (EAGAIN when drained).
 * Truncated datagrams (larger than cap) are dropped and reported as -1/EMSGSIZE. */
ssize_t rp_udp_recv(int fd, uint8_t *buf, size_t cap, struct rp_udp_meta *meta);
/* Datagrams handled per wakeup and socket: bounded, so that one busy socket
 * cannot starve the others on the same event loop. */
#define RP_UDP_READ_BUDGET 64

/* Datagrams read per recvmmsg call, and the largest taken (more than any
 * MTU: bigger ones are truncated and dropped). */
#define RP_UDP_BATCH 8
#define RP_UDP_DGRAM_CAP 2048

typedef void rp_udp_datagram_fn(void *arg, uint8_t *buf, size_t len, const struct rp_udp_meta *meta);
/* Reads up to RP_UDP_READ_BUDGET datagrams with recvmmsg, RP_UDP_BATCH a
 * call (so the read that finds the queue empty costs no call of its own),
 * calling on_datagram for each (buf is its own, writable until it returns),
 * and on_oversized (may be NULL) for each one larger than RP_UDP_DGRAM_CAP
 * (dropped); stops when the socket is drained. Other receive errors (ICMP
 * reports from a closed peer port) are skipped. */
void rp_udp_drain(int fd, rp_udp_datagram_fn *on_datagram, void (*on_oversized)(void *arg), void *arg);

/* The arrival to measure with: rx_mono, unless it maps before *last, the
 * arrival of the socket's previous datagram (updated). One socket's datagrams
 * are stamped in order, so such a one was stamped before a wall-clock step
 * and read after it, and rx_mono is off by the step: its read time is then
 * the better estimate (late by its wait in the socket queue). */
uint64_t rp_udp_arrival(const struct rp_udp_meta *meta, uint64_t *last);

ssize_t rp_udp_send(int fd, const uint8_t *buf, size_t len, const struct sockaddr *to, socklen_t tolen);

#endif
