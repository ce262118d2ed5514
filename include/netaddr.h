/* Socket address parsing and formatting (numeric only: no DNS on the daemon side). */
#ifndef RP_NETADDR_H
#define RP_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define RP_ADDRSTRLEN 64 /* "[v6]:port" */

/* "1.2.3.4:5", "[::1]:5", "::1" or "1.2.3.4" (then default_port; 0 = port required).
 * Returns 0 or -1. */
int  rp_addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *out, socklen_t *outlen);
/* Like rp_addr_parse, but HOST may be a name (resolved with getaddrinfo): for
 * the probe's command line only, never for anything the daemon receives. */
int  rp_addr_resolve(const char *s, uint16_t default_port, struct sockaddr_storage *out, socklen_t *outlen);
/* IP literal + port. */
int  rp_addr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out, socklen_t *outlen);
void rp_addr_format(const struct sockaddr *sa, char *buf, size_t len);
void rp_addr_format_ip(const struct sockaddr *sa, char *buf, size_t len);
bool rp_addr_equal(const struct sockaddr *a, const struct sockaddr *b);     /* family, IP and port */
bool rp_addr_same_ip(const struct sockaddr *a, const struct sockaddr *b);
/* Two addresses as text ("ip:port", "[v6]:port" or a bare IP, as reports
 * hold them) name the same IP; an IPv4-mapped IPv6 address is its IPv4 one.
 * False when either does not parse. */
bool rp_addr_text_same_ip(const char *a, const char *b);
uint16_t rp_addr_port(const struct sockaddr *sa);
/* Changes the port of an AF_INET or AF_INET6 address in place (a v4-mapped
 * IPv6 address stays IPv6). 0, or -1 leaving *sa alone for another family. */
int  rp_addr_set_port(struct sockaddr *sa, uint16_t port);
bool rp_addr_is_loopback(const struct sockaddr *sa);
socklen_t rp_addr_len(const struct sockaddr *sa);
/* IP + UDP header bytes for this family (28 or 48). */
unsigned rp_addr_udp_overhead(const struct sockaddr *sa);

/* An address prefix: "198.18.0.0/15", "2001:db8::/32", or a bare address (/32, /128). */
struct rp_cidr {
    int     family;
    uint8_t addr[16];
    unsigned bits;
};
int  rp_cidr_parse(const char *s, struct rp_cidr *out);                 /* 0 or -1 */
bool rp_cidr_match(const struct rp_cidr *c, const struct sockaddr *sa);  /* IPv4-mapped v6 matches v4 */

#endif
