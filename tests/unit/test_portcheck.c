/* Unit tests for src/portcheck.c: the check packet (docs/wire-format.md), the
 * raw socket's BPF filter (run here by a small classic-BPF interpreter), the
 * hand-built UDP answer, the choice of ports and the merging into ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <arpa/inet.h>

#include "portcheck.h"
#include "wire.h"

static const uint8_t key[RP_PC_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static struct rp_pc_pkt sample_pkt(void)
{
    struct rp_pc_pkt p = { .type = RP_PC_PROBE, .seq = 0x01020304, .port = 15000 };
    memcpy(p.id, "\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8", RP_PC_ID_LEN);
    return p;
}

static void test_packet_has_documented_layout_and_round_trips(void **state)
{
    (void)state;
    struct rp_pc_pkt p = sample_pkt(), q;
    uint8_t buf[64];
    assert_int_equal(rp_pc_encode(&p, key, buf, sizeof buf), RP_PC_PKT_LEN);
    static const uint8_t head[24] = { 'R', 'P', 'P', 'C', 1, RP_PC_PROBE, 0, 0, 0xa1, 0xa2, 0xa3, 0xa4,
                                      0xa5, 0xa6, 0xa7, 0xa8, 1, 2, 3, 4, 0x3a, 0x98, 0, 0 };
    assert_memory_equal(buf, head, sizeof head);
    assert_int_equal(rp_pc_decode(buf, RP_PC_PKT_LEN, key, &q), 0);
    assert_int_equal(q.type, RP_PC_PROBE);
    assert_int_equal(q.seq, p.seq);
    assert_int_equal(q.port, p.port);
    assert_memory_equal(q.id, p.id, RP_PC_ID_LEN);
}

static void test_any_changed_bit_or_other_key_fails_the_tag(void **state)
{
    (void)state;
    struct rp_pc_pkt p = sample_pkt(), q;
    uint8_t buf[RP_PC_PKT_LEN], other[RP_PC_KEY_LEN] = { 0 };
    rp_pc_encode(&p, key, buf, sizeof buf);
    assert_int_equal(rp_pc_decode(buf, sizeof buf, other, &q), -2);
    for (size_t i = 8; i < sizeof buf; i++) { /* past magic/version/type, which are -1 */
        buf[i] ^= 0x10;
        assert_int_equal(rp_pc_decode(buf, sizeof buf, key, &q), -2);
        buf[i] ^= 0x10;
    }
}

static void test_malformed_packets_are_refused_before_the_tag(void **state)
{
    (void)state;
    struct rp_pc_pkt p = sample_pkt(), q;
    uint8_t buf[RP_PC_PKT_LEN + 1] = { 0 };
    rp_pc_encode(&p, key, buf, sizeof buf);
    assert_int_equal(rp_pc_decode(buf, RP_PC_PKT_LEN + 1, key, &q), -1);
    assert_int_equal(rp_pc_decode(buf, RP_PC_PKT_LEN - 1, key, &q), -1);
    buf[0] = 'X';
    assert_int_equal(rp_pc_decode(buf, RP_PC_PKT_LEN, key, &q), -1);
    buf[0] = 'R';
    buf[5] = 9;
    assert_int_equal(rp_pc_decode(buf, RP_PC_PKT_LEN, key, &q), -1);
    assert_int_equal(rp_pc_encode(&p, key, buf, RP_PC_PKT_LEN - 1), 0);
}

/* Classic BPF, the instructions rp_pc_bpf uses, as the kernel runs them. */
static unsigned run_bpf(const struct sock_filter *f, unsigned n, const uint8_t *pkt, size_t len)
{
    uint32_t a = 0, x = 0;
    for (unsigned pc = 0; pc < n; pc++) {
        const struct sock_filter *i = &f[pc];
        uint32_t off = i->k;
        switch (i->code) {
        case BPF_LD | BPF_B | BPF_ABS: if (off + 1 > len) return 0; a = pkt[off]; break;
        case BPF_LD | BPF_H | BPF_ABS: if (off + 2 > len) return 0; a = rp_get16(pkt + off); break;
        case BPF_LD | BPF_W | BPF_ABS: if (off + 4 > len) return 0; a = rp_get32(pkt + off); break;
        case BPF_LD | BPF_H | BPF_IND: if (x + off + 2 > len) return 0; a = rp_get16(pkt + x + off); break;
        case BPF_LD | BPF_W | BPF_IND: if (x + off + 4 > len) return 0; a = rp_get32(pkt + x + off); break;
        case BPF_LDX | BPF_B | BPF_MSH: if (off + 1 > len) return 0; x = 4u * (pkt[off] & 0xf); break;
        case BPF_JMP | BPF_JEQ | BPF_K: pc += a == i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGE | BPF_K: pc += a >= i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JGT | BPF_K: pc += a > i->k ? i->jt : i->jf; break;
        case BPF_JMP | BPF_JSET | BPF_K: pc += (a & i->k) ? i->jt : i->jf; break;
        case BPF_RET | BPF_K: return i->k;
        default: fail_msg("instruction 0x%x not known to the test", i->code);
        }
    }
    fail_msg("fell off the end of the program");
    return 0;
}

/* An IPv4 datagram: header of ihl words, UDP to dport from src, carrying a
 * payload of plen bytes that starts as a check packet does ("RPPC"). */
static size_t ipv4_udp_len(uint8_t *buf, unsigned ihl, uint32_t src_be, uint16_t dport, uint16_t frag, uint8_t proto,
                           size_t plen)
{
    uint8_t payload[64] = { 0 };
    rp_put32(payload, RP_PC_MAGIC);
    size_t hl = ihl * 4;
    memset(buf, 0, hl);
    buf[0] = (uint8_t)(0x40 | ihl);
    buf[9] = proto;
    rp_put16(buf + 6, frag);
    memcpy(buf + 12, &src_be, 4);
    uint32_t dst = htonl(0x7f000001);
    memcpy(buf + 16, &dst, 4);
    size_t u = rp_pc_build_udp(src_be, dst, 40000, dport, payload, plen, buf + hl, 128);
    rp_put16(buf + 2, (uint16_t)(hl + u));
    return hl + u;
}

static size_t ipv4_udp(uint8_t *buf, unsigned ihl, uint32_t src_be, uint16_t dport, uint16_t frag, uint8_t proto)
{
    return ipv4_udp_len(buf, ihl, src_be, dport, frag, proto, RP_PC_PKT_LEN);
}

static void test_filter_keeps_only_the_probes_udp_to_the_range(void **state)
{
    (void)state;
    struct sock_filter f[RP_PC_BPF_LEN];
    uint32_t probe = htonl(0xc0000201), other = htonl(0xc0000202);
    unsigned n = rp_pc_bpf(f, probe, 10000, 20000);
    uint8_t pkt[256];
    size_t len;
    len = ipv4_udp(pkt, 5, probe, 10000, 0, 17);
    assert_int_not_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, probe, 20000, 0, 17);
    assert_int_not_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 7, probe, 15000, 0x4000, 17); /* options; DF is not a fragment */
    assert_int_not_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, probe, 9999, 0, 17);
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, probe, 20001, 0, 17);
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, other, 15000, 0, 17);
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, probe, 15000, 0x0010, 17); /* a later fragment */
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 5, probe, 15000, 0, 6);
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    /* Only check packets: another length (a call's RTP) or another first word. */
    len = ipv4_udp_len(pkt, 5, probe, 15000, 0, 17, 60);
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
    len = ipv4_udp(pkt, 6, probe, 15000, 0, 17);
    pkt[24 + 8] ^= 0x01; /* "RPPC" -> "SPPC" (the UDP checksum does not matter to the filter) */
    assert_int_equal(run_bpf(f, n, pkt, len), 0);
}

static void test_udp_answer_checksum_verifies_and_parses_back(void **state)
{
    (void)state;
    uint8_t pkt[256];
    uint32_t src = htonl(0xc0000201);
    size_t len = ipv4_udp(pkt, 5, src, 15000, 0, 17);
    /* The one's complement sum over pseudo-header and UDP is all ones. */
    uint32_t acc = 0;
    for (int i = 12; i < 20; i += 2)
        acc += rp_get16(pkt + i);
    acc += 17 + rp_get16(pkt + 24);
    for (size_t i = 20; i + 1 < len; i += 2)
        acc += rp_get16(pkt + i);
    while (acc >> 16)
        acc = (acc & 0xffff) + (acc >> 16);
    assert_int_equal(acc, 0xffff);
    struct rp_pc_dgram g;
    assert_int_equal(rp_pc_parse_ipv4(pkt, len, &g), 0);
    assert_int_equal(g.sport, 40000);
    assert_int_equal(g.dport, 15000);
    assert_int_equal(g.len, RP_PC_PKT_LEN);
    assert_int_equal(g.src_be, src);
    assert_int_equal(rp_pc_parse_ipv4(pkt, len - 1, &g), -1);     /* truncated */
    len = ipv4_udp(pkt, 5, src, 15000, 0x2000, 17);                /* more fragments */
    assert_int_equal(rp_pc_parse_ipv4(pkt, len, &g), -1);
    assert_int_equal(rp_pc_build_udp(src, src, 1, 2, pkt, 10, pkt + 100, 17), 0);
}

static void test_full_selection_is_every_free_even_port(void **state)
{
    (void)state;
    static struct rp_portbits used;
    uint16_t ports[64], busy[64];
    unsigned nbusy;
    memset(&used, 0, sizeof used);
    used.bit[10004 / 8] |= 1u << (10004 % 8);
    used.bit[10005 / 8] |= 1u << (10005 % 8); /* odd: never tried anyway */
    unsigned n = rp_pc_select(10001, 10010, true, &used, ports, 64, busy, 64, &nbusy);
    assert_int_equal(n, 4);
    assert_int_equal(ports[0], 10002);
    assert_int_equal(ports[1], 10006);
    assert_int_equal(ports[3], 10010);
    assert_int_equal(nbusy, 1);
    assert_int_equal(busy[0], 10004);
}

static void test_sample_has_both_edges_and_spreads_ascending(void **state)
{
    (void)state;
    uint16_t ports[64], busy[64];
    unsigned nbusy;
    unsigned n = rp_pc_select(10000, 20000, false, NULL, ports, 64, busy, 64, &nbusy);
    assert_int_equal(n, RP_PC_SAMPLE_INNER + 2);
    assert_int_equal(ports[0], 10000);
    assert_int_equal(ports[n - 1], 20000);
    for (unsigned i = 1; i < n; i++) {
        assert_true(ports[i] > ports[i - 1]);
        assert_int_equal(ports[i] % 2, 0);
    }
    n = rp_pc_select(10000, 10006, false, NULL, ports, 64, busy, 64, &nbusy); /* narrow: no repeats */
    assert_int_equal(n, 4);
    assert_int_equal(rp_pc_select(10001, 10001, false, NULL, ports, 64, busy, 64, &nbusy), 0);
}

static void test_merge_gives_the_partial_forward_split(void **state)
{
    (void)state;
    uint16_t ports[8] = { 10000, 10002, 10004, 10006, 10008, 10010 };
    enum rp_pc_status st[8] = { RP_PC_BOTH, RP_PC_BOTH, RP_PC_UP_BLOCKED, RP_PC_UP_BLOCKED, RP_PC_DOWN_BLOCKED,
                                RP_PC_DOWN_BLOCKED };
    struct rp_pc_range r[8];
    unsigned n = rp_pc_merge(ports, st, 6, true, 10011, r, 8);
    assert_int_equal(n, 3);
    assert_int_equal(r[0].from, 10000);
    assert_int_equal(r[0].to, 10003); /* up to the odd port before the next range */
    assert_int_equal(r[1].from, 10004);
    assert_int_equal(r[1].to, 10007);
    assert_int_equal(r[2].status, RP_PC_DOWN_BLOCKED);
    assert_int_equal(r[2].to, 10011); /* the last reaches the range's end */
    n = rp_pc_merge(ports, st, 6, false, 10011, r, 8); /* a sample: only what was tried */
    assert_int_equal(n, 3);
    assert_int_equal(r[0].to, 10002);
    assert_int_equal(r[2].to, 10010);
    assert_int_equal(rp_pc_merge(ports, st, 6, true, 10011, r, 2), 2);
    assert_int_equal(rp_pc_merge(ports, st, 0, true, 10011, r, 8), 0);
}

static void test_status_and_range_words(void **state)
{
    (void)state;
    unsigned lo, hi;
    assert_int_equal(rp_pc_status_of(true, true), RP_PC_BOTH);
    assert_int_equal(rp_pc_status_of(false, false), RP_PC_UP_BLOCKED);
    assert_int_equal(rp_pc_status_of(true, false), RP_PC_DOWN_BLOCKED);
    assert_string_equal(rp_pc_status_name(RP_PC_UP_BLOCKED), "blocked-upstream");
    assert_int_equal(rp_pc_parse_range("10000-14999", &lo, &hi), 0);
    assert_int_equal(lo, 10000);
    assert_int_equal(hi, 14999);
    assert_int_equal(rp_pc_parse_range("12000", &lo, &hi), 0);
    assert_int_equal(hi, 12000);
    assert_int_equal(rp_pc_parse_range("2-1", &lo, &hi), -1);
    assert_int_equal(rp_pc_parse_range("0-5", &lo, &hi), -1);
    assert_int_equal(rp_pc_parse_range("1-65536", &lo, &hi), -1);
    assert_int_equal(rp_pc_parse_range("1-", &lo, &hi), -1);
    assert_int_equal(rp_pc_parse_range("-3", &lo, &hi), -1);
    assert_int_equal(rp_pc_parse_range("full", &lo, &hi), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packet_has_documented_layout_and_round_trips),
        cmocka_unit_test(test_any_changed_bit_or_other_key_fails_the_tag),
        cmocka_unit_test(test_malformed_packets_are_refused_before_the_tag),
        cmocka_unit_test(test_filter_keeps_only_the_probes_udp_to_the_range),
        cmocka_unit_test(test_udp_answer_checksum_verifies_and_parses_back),
        cmocka_unit_test(test_full_selection_is_every_free_even_port),
        cmocka_unit_test(test_sample_has_both_edges_and_spreads_ascending),
        cmocka_unit_test(test_merge_gives_the_partial_forward_split),
        cmocka_unit_test(test_status_and_range_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
