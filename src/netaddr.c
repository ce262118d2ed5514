/* Numeric socket addresses only: the daemon never resolves names it is sent. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netaddr.h"

int rp_addr_set_port(struct sockaddr *sa, uint16_t port)
{
    if (sa->sa_family == AF_INET)
        ((struct sockaddr_in *)sa)->sin_port = htons(port);
    else if (sa->sa_family == AF_INET6)
        ((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
    else
        return -1;
    return 0;
}

int rp_addr_from_ip(const char *ip, uint16_t port, struct sockaddr_storage *out, socklen_t *outlen)
{
    memset(out, 0, sizeof *out);
    struct sockaddr_in *sin = (struct sockaddr_in *)out;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)out;
    if (inet_pton(AF_INET, ip, &sin->sin_addr) == 1) {
        sin->sin_family = AF_INET;
        *outlen = sizeof *sin;
    } else if (inet_pton(AF_INET6, ip, &sin6->sin6_addr) == 1) {
        sin6->sin6_family = AF_INET6;
        *outlen = sizeof *sin6;
    } else {
        return -1;
    }
    return rp_addr_set_port((struct sockaddr *)out, port);
}

static int parse_port(const char *s, uint16_t *port)
{
    if (*s == '\0' || strlen(s) > 5)
        return -1;
    unsigned long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v == 0 || v > 65535)
        return -1;
    *port = (uint16_t)v;
    return 0;
}

int rp_addr_parse(const char *s, uint16_t default_port, struct sockaddr_storage *out, socklen_t *outlen)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *port_str = NULL;
    size_t hostlen;

    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (!end)
            return -1;
        hostlen = (size_t)(end - s - 1);
        if (end[1] == ':')
            port_str = end + 2;
        else if (end[1] != '\0')
            return -1;
        s++;
    } else {
        const char *colon = strchr(s, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* bare IPv6 literal: no port */
        hostlen = colon ? (size_t)(colon - s) : strlen(s);
        if (colon)
            port_str = colon + 1;
    }
    if (hostlen == 0 || hostlen >= sizeof host)
        return -1;
    memcpy(host, s, hostlen);
    host[hostlen] = '\0';

    uint16_t port = default_port;
    if (port_str) {
        if (parse_port(port_str, &port) < 0)
            return -1;
    } else if (default_port == 0) {
        return -1;
    }
    return rp_addr_from_ip(host, port, out, outlen);
}

void rp_addr_format_ip(const struct sockaddr *sa, char *buf, size_t len)
{
    const void *src = sa->sa_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)sa)->sin6_addr
                                                : (const void *)&((const struct sockaddr_in *)sa)->sin_addr;
    if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6) {
        snprintf(buf, len, "?");
        return;
    }
    if (!inet_ntop(sa->sa_family, src, buf, (socklen_t)len))
        snprintf(buf, len, "?");
}

void rp_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
    char ip[INET6_ADDRSTRLEN];
    rp_addr_format_ip(sa, ip, sizeof ip);
    if (rp_addr_port(sa) == 0) { /* an address without a port (e.g. from X-Forwarded-For) */
        snprintf(buf, len, "%s", ip);
        return;
    }
    if (sa->sa_family == AF_INET6)
        snprintf(buf, len, "[%s]:%u", ip, rp_addr_port(sa));
    else
        snprintf(buf, len, "%s:%u", ip, rp_addr_port(sa));
}

uint16_t rp_addr_port(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return ntohs(((const struct sockaddr_in *)sa)->sin_port);
    if (sa->sa_family == AF_INET6)
        return ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
    return 0;
}

bool rp_addr_same_ip(const struct sockaddr *a, const struct sockaddr *b)
{
    if (a->sa_family != b->sa_family)
        return false;
    if (a->sa_family == AF_INET)
        return ((const struct sockaddr_in *)a)->sin_addr.s_addr == ((const struct sockaddr_in *)b)->sin_addr.s_addr;
    if (a->sa_family == AF_INET6)
        return memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr, &((const struct sockaddr_in6 *)b)->sin6_addr,
                      sizeof(struct in6_addr)) == 0;
    return false;
}

/* ::ffff:a.b.c.d as AF_INET, in place. */
static void unmap_v4(struct sockaddr_storage *ss)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
    if (ss->ss_family != AF_INET6 || !IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr))
        return;
    struct sockaddr_in v4 = { .sin_family = AF_INET, .sin_port = s6->sin6_port };
    memcpy(&v4.sin_addr, s6->sin6_addr.s6_addr + 12, 4);
    memset(ss, 0, sizeof *ss);
    memcpy(ss, &v4, sizeof v4);
}

bool rp_addr_text_same_ip(const char *a, const char *b)
{
    struct sockaddr_storage x, y;
    socklen_t xl, yl;
    /* Any default port: a bare IP (X-Forwarded-For) parses too. */
    if (!a || !b || rp_addr_parse(a, 1, &x, &xl) < 0 || rp_addr_parse(b, 1, &y, &yl) < 0)
        return false;
    unmap_v4(&x);
    unmap_v4(&y);
    return rp_addr_same_ip((struct sockaddr *)&x, (struct sockaddr *)&y);
}

bool rp_addr_equal(const struct sockaddr *a, const struct sockaddr *b)
{
    return rp_addr_same_ip(a, b) && rp_addr_port(a) == rp_addr_port(b);
}

bool rp_addr_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (IN6_IS_ADDR_LOOPBACK(a))
            return true;
        return IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127;
    }
    return false;
}

socklen_t rp_addr_len(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

unsigned rp_addr_udp_overhead(const struct sockaddr *sa)
{
    return sa->sa_family == AF_INET6 ? 40 + 8 : 20 + 8;
}

int rp_addr_resolve(const char *s, uint16_t default_port, struct sockaddr_storage *out, socklen_t *outlen)
{
    if (rp_addr_parse(s, default_port, out, outlen) == 0)
        return 0;
    char host[256];
    const char *colon = strrchr(s, ':');
    size_t hlen = colon ? (size_t)(colon - s) : strlen(s);
    uint16_t port = default_port;
    if (hlen == 0 || hlen >= sizeof host || (colon && parse_port(colon + 1, &port) < 0) || port == 0)
        return -1;
    memcpy(host, s, hlen);
    host[hlen] = '\0';
    struct addrinfo hints = { .ai_socktype = SOCK_DGRAM }, *ai;
    if (getaddrinfo(host, NULL, &hints, &ai) != 0)
        return -1;
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *outlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return rp_addr_set_port((struct sockaddr *)out, port);
}

int rp_cidr_parse(const char *s, struct rp_cidr *out)
{
    char ip[INET6_ADDRSTRLEN + 1];
    const char *slash = strchr(s, '/');
    size_t len = slash ? (size_t)(slash - s) : strlen(s);
    if (len == 0 || len >= sizeof ip)
        return -1;
    memcpy(ip, s, len);
    ip[len] = '\0';
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, ip, out->addr) == 1) {
        out->family = AF_INET;
        out->bits = 32;
    } else if (inet_pton(AF_INET6, ip, out->addr) == 1) {
        out->family = AF_INET6;
        out->bits = 128;
    } else {
        return -1;
    }
    if (slash) {
        char *end;
        unsigned long b = strtoul(slash + 1, &end, 10);
        if (slash[1] == '\0' || *end || b > out->bits)
            return -1;
        out->bits = (unsigned)b;
    }
    return 0;
}

bool rp_cidr_match(const struct rp_cidr *c, const struct sockaddr *sa)
{
    const uint8_t *a;
    if (sa->sa_family == AF_INET && c->family == AF_INET) {
        a = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
        if (c->family == AF_INET6)
            a = a6->s6_addr;
        else if (IN6_IS_ADDR_V4MAPPED(a6))
            a = a6->s6_addr + 12;
        else
            return false;
    } else {
        return false;
    }
    unsigned full = c->bits / 8, rest = c->bits % 8;
    if (memcmp(a, c->addr, full) != 0)
        return false;
    if (rest == 0)
        return true;
    uint8_t mask = (uint8_t)(0xFF << (8 - rest));
    return (a[full] & mask) == (c->addr[full] & mask);
}
