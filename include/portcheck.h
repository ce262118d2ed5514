/* Port-range check, the parts both ends share and that do no I/O: the tagged
 * check packet, the classic BPF filter the daemon's raw socket uses, the
 * hand-built UDP answer, the choice of ports, and the merging of per-port
 * results into ranges. docs/port-check.md describes the mechanism. */
#ifndef RP_PORTCHECK_H
#define RP_PORTCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

#include "procstat.h"

/* Check packet, 34 bytes (docs/wire-format.md "Port-check packets"):
 * magic "RPPC" u32, version u8, type u8, reserved u16, check id 8 bytes,
 * seq u32, port u16, reserved u16, tag 10 bytes = the first 10 bytes of
 * HMAC-SHA-256 (check key) over the 24 bytes before it. */
#define RP_PC_MAGIC    0x52505043u
#define RP_PC_VERSION  1
#define RP_PC_PROBE    1 /* probe -> daemon, to the port under test */
#define RP_PC_ANSWER   2 /* daemon -> probe, from that port */
#define RP_PC_ID_LEN   8
#define RP_PC_KEY_LEN  32
#define RP_PC_TAG_LEN  10
#define RP_PC_PKT_LEN  34

/* Limits: the probe sends at most RP_PC_RATE_PPS; a check (and the daemon's
 * raw socket) lives at most RP_PC_MAX_S. */
#define RP_PC_RATE_PPS     200u
#define RP_PC_MAX_S        30u
#define RP_PC_GRACE_S      3u  /* after the last packet's planned time */
#define RP_PC_SAMPLE_INNER 16u /* sampled ports between the two edges */
#define RP_PC_PKTS_SAMPLE  6u  /* packets per port: sample; a port reads as blocked only when
                                  all are lost, 1e-5 at 15 % random loss (a loss is not a block) */
#define RP_PC_PKTS_FULL    1u  /* full: every even port once, within RP_PC_MAX_S */
#define RP_PC_MAX_PORTS    ((RP_PC_MAX_S - RP_PC_GRACE_S) * RP_PC_RATE_PPS)

struct rp_pc_pkt {
    uint8_t  type;                /* RP_PC_PROBE or RP_PC_ANSWER */
    uint8_t  id[RP_PC_ID_LEN];
    uint32_t seq;                 /* 0..packets-1: port = ports[seq % nports] */
    uint16_t port;                /* the port under test */
};

/* Writes RP_PC_PKT_LEN bytes; returns that, or 0 if cap is too small. */
size_t rp_pc_encode(const struct rp_pc_pkt *in, const uint8_t key[RP_PC_KEY_LEN], uint8_t *buf, size_t cap);
/* 0, -1 when malformed (length, magic, version, type), -2 when the tag is
 * wrong (constant-time comparison). Longer buffers are malformed too. */
int rp_pc_decode(const uint8_t *buf, size_t len, const uint8_t key[RP_PC_KEY_LEN], struct rp_pc_pkt *out);

/* The raw socket's filter: IPv4 UDP, not a later fragment, from src (network
 * byte order), to a port in lo..hi. prog must hold RP_PC_BPF_LEN entries.
 * Returns the number of instructions. */
#define RP_PC_BPF_LEN 16
unsigned rp_pc_bpf(struct sock_filter *prog, uint32_t src_be, uint16_t lo, uint16_t hi);

/* An IPv4 datagram as the raw socket hands it over (IP header first): the
 * addresses (network byte order), ports and UDP payload. 0, or -1 if it is
 * not a complete, unfragmented UDP datagram. */
struct rp_pc_dgram {
    uint32_t src_be, dst_be;
    uint16_t sport, dport;
    const uint8_t *payload;
    size_t   len;
};
int rp_pc_parse_ipv4(const uint8_t *buf, size_t len, struct rp_pc_dgram *out);
/* A UDP header and payload for a raw IPPROTO_UDP send (the kernel adds the IP
 * header), with the checksum over the IPv4 pseudo-header. Returns the bytes
 * written (8 + len), or 0 if cap is too small. */
size_t rp_pc_build_udp(uint32_t src_be, uint32_t dst_be, uint16_t sport, uint16_t dport, const uint8_t *payload,
                       size_t len, uint8_t *out, size_t cap);

/* Ports to try in lo..hi (even ones only): full = every even port; sample =
 * both edges (lo rounded up, hi rounded down to even) and RP_PC_SAMPLE_INNER
 * spread evenly between. Ports marked in in_use (may be NULL) are not tried
 * but listed in busy. Both lists ascend. Returns the ports to try. */
unsigned rp_pc_select(unsigned lo, unsigned hi, bool full, const struct rp_portbits *in_use, uint16_t *ports,
                      unsigned cap, uint16_t *busy, unsigned busycap, unsigned *nbusy);

/* "A-B" or "A" (1..65535, A <= B). 0 or -1. */
int rp_pc_parse_range(const char *s, unsigned *lo, unsigned *hi);

/* A tried port's outcome: the daemon saw the probe's packets (upstream) and
 * the probe got answers (downstream). */
enum rp_pc_status {
    RP_PC_BOTH,            /* reachable both ways */
    RP_PC_UP_BLOCKED,      /* the daemon saw nothing */
    RP_PC_DOWN_BLOCKED,    /* the daemon saw it, no answer came back */
    RP_PC_NSTATUS
};
enum rp_pc_status rp_pc_status_of(bool seen, bool answered);
/* "both", "blocked-upstream", "blocked-downstream" (JSON) and the text words. */
const char *rp_pc_status_name(enum rp_pc_status s);
const char *rp_pc_status_text(enum rp_pc_status s);

/* A run of tried ports with one outcome. from/to are the first and last port
 * tried; with extend (the full check) to reaches the port before the next
 * range's first (the odd RTCP port between) and the last range reaches hi. */
struct rp_pc_range {
    unsigned from, to;
    enum rp_pc_status status;
};
/* ports ascend; status[i] is ports[i]'s. Returns the ranges written (at most cap). */
unsigned rp_pc_merge(const uint16_t *ports, const enum rp_pc_status *status, unsigned n, bool extend, unsigned hi,
                     struct rp_pc_range *out, unsigned cap);

#endif
