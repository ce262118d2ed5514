/* Media port allocation from the configured range, the way Asterisk does it:
 * a random even port, skipping any port another process holds. Binding without
 * SO_REUSEADDR/SO_REUSEPORT means a port in use is never shared or stolen. */
#ifndef RP_PORTALLOC_H
#define RP_PORTALLOC_H

#include <stdint.h>
#include <sys/socket.h>

/* Returns a bound, non-blocking UDP fd and sets *port, or -1 with errno
 * (EADDRNOTAVAIL when every even port in the range is taken). */
int rp_port_alloc(const struct sockaddr *bind_addr, unsigned port_min, unsigned port_max,
                  int dscp, uint16_t *port);

#endif
