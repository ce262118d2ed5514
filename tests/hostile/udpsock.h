/* UDP sockets of the hostile-suite tools (amplify.c, stunflood.c): the tool's
 * own receive queue must never drop an answer, which would hide amplification
 * or the answers a rate limit let through, and a drop must show (SO_RXQ_OVFL).
 * Header-only, since each tool is a single translation unit. */
#ifndef RP_TESTS_UDPSOCK_H
#define RP_TESTS_UDPSOCK_H

#include <stdbool.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netaddr.h"

/* A non-blocking socket bound to ip (any port), with a receive queue of
 * rcvbuf bytes (SO_RCVBUFFORCE as root, as the suite runs, else as far as
 * rmem_max lets SO_RCVBUF go) and SO_RXQ_OVFL on; with timestamps,
 * SO_TIMESTAMPNS too (the reader's control buffer must have room for it).
 * The fd with *local the address bound, or -1. */
static inline int udpsock_open(const char *ip, int rcvbuf, bool timestamps, struct sockaddr_storage *local)
{
    struct sockaddr_storage a;
    socklen_t len;
    if (rp_addr_from_ip(ip, 0, &a, &len) < 0)
        return -1;
    int fd = socket(a.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int on = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    (void)setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
    if (timestamps)
        (void)setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on);
    socklen_t ll = sizeof *local;
    if (bind(fd, (struct sockaddr *)&a, len) < 0 || getsockname(fd, (struct sockaddr *)local, &ll) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

#endif
