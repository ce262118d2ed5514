/* libFuzzer target: a datagram on a WebRTC session's port, where ICE
 * connectivity checks and (after SRTCP) RTCP arrive. rp_ice_answer with fixed
 * credentials for a fixed IPv4 and IPv6 source, twice: on the input as it is,
 * and on a copy whose MESSAGE-INTEGRITY (and a FINGERPRINT right after it) the
 * harness re-signs with our password, so that mutations get past the HMAC.
 * Then rp_rtcp_parse on the input.
 *
 * Aborts when an answer is longer than the request (no amplification), does
 * not parse back as a Binding success for the request's transaction with the
 * source address, FINGERPRINT and a MESSAGE-INTEGRITY that verifies with our
 * password; when a request that is answered lacks our USERNAME or a verifying
 * MESSAGE-INTEGRITY; or when rp_rtcp_parse returns anything but 0/-1 or more
 * blocks than it has room for. Build with -DRP_FUZZ_GEN_SEEDS to regenerate the
 * seeds (see README.md). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ice.h"
#include "rtcp.h"
#include "fuzz_sources.h"
#include "netaddr.h"
#include "stun.h"
#include "wire.h"

#define LOCAL_UFRAG "LOCALufrag"
#define LOCAL_PWD   "local-password-0123456789"
#define REMOTE_UFRAG "rEm0"
#define USERNAME    LOCAL_UFRAG ":" REMOTE_UFRAG
#define MAX_DGRAM   2048

static const struct rp_ice_creds creds = { LOCAL_UFRAG, LOCAL_PWD, REMOTE_UFRAG };

/* The harness's own attribute walk (independent of ice.c's): the offsets of
 * the first USERNAME and of MESSAGE-INTEGRITY, 0 when absent or when the walk
 * leaves the buffer. */
static void find_attrs(const uint8_t *buf, size_t len, size_t *user_off, size_t *mi_off)
{
    *user_off = *mi_off = 0;
    size_t off = RP_STUN_HDR_LEN;
    while (off + 4 <= len) {
        uint16_t type = rp_get16(buf + off);
        size_t vlen = rp_get16(buf + off + 2), padded = (vlen + 3) & ~(size_t)3;
        if (padded > len - off - 4)
            return;
        if (type == 0x0006 && *user_off == 0)
            *user_off = off;
        if (type == RP_STUN_ATTR_INTEGRITY) {
            *mi_off = off;
            return;
        }
        off += 4 + padded;
    }
}

static void check_answer(const uint8_t *req, size_t len, const struct sockaddr_storage *from)
{
    uint8_t resp[512];
    size_t resp_len = 0;
    struct rp_ice_check chk;
    enum rp_ice_verdict v =
        rp_ice_answer(&creds, req, len, (const struct sockaddr *)from, resp, sizeof resp, &resp_len, &chk);
    if ((unsigned)v >= RP_ICE_VERDICTS)
        abort();
    if (v != RP_ICE_ANSWERED)
        return;
    struct rp_stun_msg m;
    if (rp_stun_parse(req, len, &m) != RP_STUN_OK || m.type != RP_STUN_BINDING_REQUEST)
        abort();
    size_t user_off, mi_off;
    find_attrs(req, len, &user_off, &mi_off);
    if (user_off == 0 || mi_off == 0 || rp_get16(req + user_off + 2) != strlen(USERNAME) ||
        memcmp(req + user_off + 4, USERNAME, strlen(USERNAME)) != 0 ||
        !rp_stun_integrity_ok(req, len, mi_off, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD)))
        abort();
    if (resp_len == 0 || resp_len > len || resp_len > sizeof resp)
        abort();
    struct rp_stun_msg back;
    if (rp_stun_parse(resp, resp_len, &back) != RP_STUN_OK || back.type != RP_STUN_BINDING_SUCCESS ||
        memcmp(back.txid, m.txid, RP_STUN_TXID_LEN) != 0 || !back.has_mapped || !back.has_fingerprint ||
        !rp_addr_equal((const struct sockaddr *)&back.mapped, (const struct sockaddr *)from))
        abort();
    size_t rmi = RP_STUN_HDR_LEN + (from->ss_family == AF_INET ? 12 : 24);
    if (!rp_stun_integrity_ok(resp, resp_len, rmi, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD)))
        abort();
}

/* MESSAGE-INTEGRITY recomputed with our password, and FINGERPRINT if it
 * directly follows it and ends the datagram. False when there is nothing to sign. */
static bool resign(uint8_t *buf, size_t len)
{
    size_t user_off, mi_off;
    if (len < RP_STUN_HDR_LEN)
        return false;
    find_attrs(buf, len, &user_off, &mi_off);
    if (mi_off == 0 || len - mi_off < 4 + RP_STUN_INTEGRITY_LEN)
        return false;
    size_t after = len - mi_off - 4 - RP_STUN_INTEGRITY_LEN;
    if (after == 8 && rp_get16(buf + len - 8) == 0x8028) {
        return rp_stun_finish(buf, len, mi_off, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD)) == len;
    }
    return rp_stun_integrity(buf, mi_off, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD), buf + mi_off + 4) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sockaddr_storage v4, v6;
    make_sources(&v4, &v6);
    check_answer(data, size, &v4);
    check_answer(data, size, &v6);
    if (size <= MAX_DGRAM) {
        uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any read past it */
        if (!copy)
            abort();
        memcpy(copy, data, size);
        if (resign(copy, size)) {
            check_answer(copy, size, &v4);
            check_answer(copy, size, &v6);
        }
        free(copy);
    }

    struct rp_rtcp_info info;
    int rc = rp_rtcp_parse(data, size, &info);
    if ((rc != 0 && rc != -1) || info.nblocks > RP_RTCP_MAX_BLOCKS)
        abort();
    if (rc == 0 && info.has_sr && info.sr.ssrc != info.sender_ssrc)
        abort();
    return 0;
}

#ifdef RP_FUZZ_GEN_SEEDS
static void write_seed(const char *dir, const char *name, const uint8_t *buf, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Chrome's receiver compound (RR + SDES CNAME + REMB), as in test_rtcp.c. */
static const uint8_t chrome_rr_sdes_remb[] = {
    0x81, 0xc9, 0x00, 0x07, 0x5f, 0x2e, 0x7a, 0x13, 0x12, 0x34, 0xab, 0xcd, 0x05, 0x00, 0x00, 0x03,
    0x00, 0x01, 0x02, 0xa7, 0x00, 0x00, 0x00, 0x3c, 0xb7, 0x05, 0x20, 0x00, 0x00, 0x05, 0x40, 0x00,
    0x81, 0xca, 0x00, 0x06, 0x5f, 0x2e, 0x7a, 0x13, 0x01, 0x10, 'X', '3', 'b', 'H', 'k', 'Y',
    '7', 'l', 'Q', 'e', '9', 'p', 'Z', 's', '2', 'W', 0x00, 0x00,
    0x8f, 0xce, 0x00, 0x05, 0x5f, 0x2e, 0x7a, 0x13, 0x00, 0x00, 0x00, 0x00, 'R', 'E', 'M', 'B',
    0x01, 0x0a, 0x32, 0x14, 0x12, 0x34, 0xab, 0xcd,
};
static const uint8_t chrome_transport_cc[] = {
    0x8f, 0xcd, 0x00, 0x05, 0x5f, 0x2e, 0x7a, 0x13, 0x12, 0x34, 0xab, 0xcd,
    0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x10, 0x00, 0x20, 0x02, 0x04, 0x04,
};

static void gen_checks(const char *dir)
{
    static const uint8_t txid[RP_STUN_TXID_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12 };
    uint8_t buf[512];
    size_t n = rp_ice_build_check(buf, sizeof buf, txid, USERNAME, LOCAL_PWD, false);
    write_seed(dir, "check", buf, n);
    n = rp_ice_build_check(buf, sizeof buf, txid, USERNAME, LOCAL_PWD, true);
    write_seed(dir, "check_use_candidate", buf, n);
    n = rp_ice_build_check(buf, sizeof buf, txid, "OTHERufrag:" REMOTE_UFRAG, LOCAL_PWD, true);
    write_seed(dir, "check_bad_username", buf, n);
    n = rp_ice_build_check(buf, sizeof buf, txid, USERNAME, "their-password-0123456", true);
    write_seed(dir, "check_bad_integrity", buf, n);
    /* ICE-CONTROLLING (at 48) turned into ICE-CONTROLLED, re-signed. */
    n = rp_ice_build_check(buf, sizeof buf, txid, USERNAME, LOCAL_PWD, false);
    rp_put16(buf + 48, 0x8029);
    rp_stun_finish(buf, sizeof buf, n - 32, (const uint8_t *)LOCAL_PWD, strlen(LOCAL_PWD));
    write_seed(dir, "check_controlled", buf, n);
}

static void gen_rtcp(const char *dir)
{
    uint8_t buf[512];
    write_seed(dir, "rtcp_chrome_rr_sdes_remb", chrome_rr_sdes_remb, sizeof chrome_rr_sdes_remb);
    write_seed(dir, "rtcp_chrome_transport_cc", chrome_transport_cc, sizeof chrome_transport_cc);
    struct rp_rtcp_sr sr = { 0x1234abcdu, 0xe8fe6f8040000000ull, 768000, 500, 80000 };
    struct rp_rtcp_block rb = { 0x5f2e7a13u, 12, -5, 0x0002ffff, 77, 0x6f804000u, 0x00010000u };
    size_t n = rp_rtcp_build_sr(buf, sizeof buf, &sr, &rb, "rtpprobe-cname");
    write_seed(dir, "rtcp_sr_sdes", buf, n);
    n = rp_rtcp_build_rr(buf, sizeof buf, 0x1234abcdu, &rb, "rtpprobe-cname");
    write_seed(dir, "rtcp_rr_sdes", buf, n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    gen_checks(argv[1]);
    gen_rtcp(argv[1]);
    return 0;
}
#endif
