/* libFuzzer target: a datagram on a STUN-answering port. rp_stun_parse, then
 * the answering policy for a fixed IPv4 and a fixed IPv6 source.
 *
 * Aborts when an answer is produced that is longer than the request (the
 * no-amplification rule), or that does not parse back as a Binding success
 * for the request's transaction carrying the source address. Build with
 * -DRP_FUZZ_GEN_SEEDS to regenerate the built seeds (see README.md). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_sources.h"
#include "netaddr.h"
#include "stun.h"
#include "stunsrv.h"

static void check_answer(const uint8_t *req, size_t len, const struct rp_stun_msg *parsed, bool parsed_ok,
                         const struct sockaddr_storage *from)
{
    uint8_t resp[512];
    size_t resp_len = 0;
    enum rp_stun_verdict v = rp_stun_answer(req, len, (const struct sockaddr *)from, resp, sizeof resp, &resp_len);
    if ((unsigned)v >= RP_STUN_VERDICTS)
        abort();
    if (v != RP_STUN_ANSWERED) {
        /* A parseable Binding request at least as large as the answer, with no
         * comprehension-required attribute we do not know, must be answered. */
        if (parsed_ok && parsed->type == RP_STUN_BINDING_REQUEST && !parsed->unknown_comprehension_required &&
            len >= rp_stun_response_len(from->ss_family))
            abort();
        return;
    }
    if (!parsed_ok || parsed->type != RP_STUN_BINDING_REQUEST || parsed->unknown_comprehension_required)
        abort();
    if (resp_len == 0 || resp_len > len || resp_len > sizeof resp)
        abort();
    struct rp_stun_msg back;
    if (rp_stun_parse(resp, resp_len, &back) != RP_STUN_OK || back.type != RP_STUN_BINDING_SUCCESS ||
        memcmp(back.txid, parsed->txid, RP_STUN_TXID_LEN) != 0 || !back.has_mapped || !back.has_fingerprint ||
        !rp_addr_equal((const struct sockaddr *)&back.mapped, (const struct sockaddr *)from))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rp_stun_msg msg;
    enum rp_stun_err e = rp_stun_parse(data, size, &msg);
    if ((unsigned)e >= RP_STUN_NERR)
        abort();
    /* (The RFC 7983 first-byte demux is narrower than the parser, 0..3 vs 0..63: no check there.) */
    if (e == RP_STUN_OK && msg.length != size)
        abort();
    struct sockaddr_storage v4, v6;
    make_sources(&v4, &v6);
    check_answer(data, size, &msg, e == RP_STUN_OK, &v4);
    check_answer(data, size, &msg, e == RP_STUN_OK, &v6);
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

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    static const uint8_t txid[RP_STUN_TXID_LEN] = { 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                                    0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae };
    uint8_t buf[1024];
    size_t n = rp_stun_build_request(buf, sizeof buf, txid, 0);
    write_seed(dir, "request_unpadded", buf, n);
    n = rp_stun_build_request(buf, sizeof buf, txid, 64);
    write_seed(dir, "request_padded_64", buf, n);
    n = rp_stun_build_request(buf, sizeof buf, txid, 300);
    write_seed(dir, "request_padded_300", buf, n);
    /* Answers to a v4 and a v6 source: responses must not be answered. */
    struct sockaddr_storage v4, v6;
    make_sources(&v4, &v6);
    n = rp_stun_build_response(buf, sizeof buf, txid, (const struct sockaddr *)&v4);
    write_seed(dir, "response_v4", buf, n);
    n = rp_stun_build_response(buf, sizeof buf, txid, (const struct sockaddr *)&v6);
    write_seed(dir, "response_v6", buf, n);
    /* A bare 20-byte request: too small to answer. */
    n = rp_stun_build_request(buf, sizeof buf, txid, 0);
    buf[2] = 0;
    buf[3] = 0;
    write_seed(dir, "request_header_only", buf, 20);
    return 0;
}
#endif
