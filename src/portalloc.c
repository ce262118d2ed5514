#include <errno.h>
#include <string.h>

#include <openssl/rand.h>

#include "netaddr.h"
#include "portalloc.h"
#include "udp.h"

int rp_port_alloc(const struct sockaddr *bind_addr, unsigned port_min, unsigned port_max,
                  int dscp, uint16_t *port)
{
    /* Even ports for RTP (RFC 3550 §11); the odd neighbour is left for RTCP. */
    unsigned first = (port_min + 1) & ~1u;
    if (first > port_max) {
        errno = EINVAL;
        return -1;
    }
    unsigned count = (port_max - first) / 2 + 1;
    uint32_t r;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1) {
        errno = EIO;
        return -1;
    }

    struct sockaddr_storage ss;
    socklen_t len = rp_addr_len(bind_addr);
    memcpy(&ss, bind_addr, len);
    for (unsigned i = 0; i < count; i++) {
        uint16_t candidate = (uint16_t)(first + 2 * ((r + i) % count));
        if (rp_addr_set_port((struct sockaddr *)&ss, candidate) < 0) {
            errno = EAFNOSUPPORT;
            return -1;
        }
        int fd = rp_udp_open((struct sockaddr *)&ss, len, dscp);
        if (fd >= 0) {
            *port = candidate;
            return fd;
        }
        if (errno != EADDRINUSE && errno != EACCES)
            return -1;
    }
    errno = EADDRNOTAVAIL;
    return -1;
}
