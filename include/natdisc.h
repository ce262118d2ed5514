/* NAT discovery for the probe: the blocking STUN Binding exchange from the
 * media socket (to the session's media port, and to a STUN server such as
 * coturn), and the choice of the address the probe announces to the daemon. */
#ifndef RP_NATDISC_H
#define RP_NATDISC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

struct rp_natdisc {
    bool media_answered;                  /* the session's media port answered */
    bool server_answered;                 /* the STUN server answered */
    struct sockaddr_storage media_mapped; /* our address as each of them saw it */
    struct sockaddr_storage server_mapped;
};

/* Binding requests every 100 ms to the media port, and to server (NULL: none)
 * at the RFC 8489 pace, for at most 600 ms; answers are matched by transaction
 * id and source. 0, or -1 when no transaction id could be drawn (RAND_bytes). */
int rp_natdisc_run(int fd, const struct sockaddr *media_port, const struct sockaddr *server, struct rp_natdisc *out);

/* The address to announce, as "IP:port" (each argument "" when unknown): the
 * media port's answer (behind a symmetric NAT the STUN server's answer is a
 * port the media flow does not use), else the STUN server's, else the IP the
 * daemon saw on the control connection (with or without a port: behind nginx
 * it is a bare IP) with our local media port (right for port-preserving
 * NATs), else our local address. */
void rp_natdisc_announce(const char *mapped, const char *mapped_stun, const char *control_seen, const char *local,
                         char *out, size_t outlen);

#endif
