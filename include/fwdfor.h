/* The client address of a control request: the TCP peer, or for a proxy on
 * this host (nginx) the last X-Forwarded-For entry. No I/O, no libevent: the
 * caller passes the peer and the header's value. */
#ifndef RP_FWDFOR_H
#define RP_FWDFOR_H

#include <stdbool.h>
#include <sys/socket.h>

/* *client = *peer, unless peer is a loopback address and xff (the header's
 * value, NULL when absent) ends in an IP literal: then that address, port 0.
 * Only the last entry counts (the one nginx appended: what it saw itself);
 * spaces around it are skipped. Returns true when the header was used. */
bool rp_fwdfor_client(const struct sockaddr_storage *peer, const char *xff, struct sockaddr_storage *client);

#endif
