/* The two sources the STUN fuzzers (fuzz_stun, fuzz_ice) answer: one IPv4,
 * one IPv6, both documentation addresses, so that each input exercises the
 * XOR-MAPPED-ADDRESS of either family. */
#ifndef RP_FUZZ_SOURCES_H
#define RP_FUZZ_SOURCES_H

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

static inline void make_sources(struct sockaddr_storage *v4, struct sockaddr_storage *v6)
{
    struct sockaddr_in sin;
    struct sockaddr_in6 sin6;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(40000);
    sin.sin_addr.s_addr = htonl(0xC6336407); /* 198.51.100.7 */
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(61000);
    static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0, 0x01 };
    memcpy(&sin6.sin6_addr, a6, sizeof a6);
    memset(v4, 0, sizeof *v4);
    memset(v6, 0, sizeof *v6);
    memcpy(v4, &sin, sizeof sin);
    memcpy(v6, &sin6, sizeof sin6);
}

#endif
