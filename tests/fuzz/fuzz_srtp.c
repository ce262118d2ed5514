/* libFuzzer target: an SRTP datagram arriving on a session port. The first
 * input byte picks the suite (bits 0-1) and the mode (bit 2); the rest is the
 * packet. Every input gets fresh contexts with a fixed key, so it is judged
 * alone (no replay state carried between inputs).
 *
 * Mode 0: unprotect the packet in place. The seed corpus holds packets really
 * protected with these keys (made by the -DRP_FUZZ_GEN_SEEDS mode below, see
 * README.md), so the post-authentication path runs on every corpus pass; a
 * mutated packet almost never authenticates, which is the point of SRTP.
 * Mode 1: the rest is plain RTP; protect it, then unprotect the result, so
 * arbitrary headers (CSRC counts, extensions, padding) do get past
 * authentication on the receiving side.
 *
 * After a successful unprotect the output must be shorter by exactly the tag,
 * rp_rtp_parse runs on it, protecting it again with an outbound context of the
 * same key must give back the input bytes (SRTP is deterministic for a given
 * key, SSRC and index), and the same packet a second time must be refused as a
 * replay. In mode 1 the unprotected packet must equal the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rtp.h"
#include "srtp.h"

/* Master key || salt for every suite: its first rp_srtp_key_len(suite) bytes. */
static const uint8_t fuzz_master[RP_SRTP_MAX_KEY_LEN] = {
    0xe1, 0xf9, 0x7a, 0x0d, 0x3e, 0x01, 0x8b, 0xe0, 0xd6, 0x4f, 0xa3, 0x2c, 0x06, 0xde, 0x41, 0x39,
    0x0e, 0xc6, 0x75, 0xad, 0x49, 0x8a, 0xfe, 0xeb, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6, 0xc1, 0x73,
    0xc3, 0x17, 0xf2, 0xda, 0xbe, 0x35, 0x77, 0x93, 0xb6, 0x96, 0x0b, 0x3a, 0xab, 0xe6,
};

static struct rp_srtp *context(enum rp_srtp_suite suite, enum rp_srtp_dir dir);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    /* Debian's libsrtp2 uses NSS, and each cipher opens and closes an NSS
     * context: when the last one closes, NSS unloads its softoken, so one
     * context per input would mean a dlopen per input (~1000 exec/s). This
     * context, never used, keeps NSS loaded; no state passes between inputs. */
    static struct rp_srtp *keep_nss_loaded;
    (void)argc;
    (void)argv;
    if (rp_srtp_global_init() != 0)
        abort();
    keep_nss_loaded = context(RP_SRTP_AES_CM_128_HMAC_SHA1_80, RP_SRTP_INBOUND);
    return keep_nss_loaded ? 0 : -1;
}

static struct rp_srtp *context(enum rp_srtp_suite suite, enum rp_srtp_dir dir)
{
    char err[160];
    struct rp_srtp *c = rp_srtp_new(suite, dir, fuzz_master, rp_srtp_key_len(suite), err, sizeof err);
    if (!c) {
        fprintf(stderr, "rp_srtp_new: %s\n", err);
        abort();
    }
    return c;
}

/* After a successful unprotect of `orig` (len bytes) into plain (plain_len bytes). */
static void check_unprotected(struct rp_srtp *in, enum rp_srtp_suite suite, const uint8_t *orig, size_t len,
                              const uint8_t *plain, size_t plain_len)
{
    if (plain_len > len || len - plain_len != rp_srtp_overhead(suite))
        abort();
    struct rp_rtp_pkt pkt;
    if (rp_rtp_parse(plain, plain_len, &pkt) == RP_RTP_OK) {
        const uint8_t *elem;
        size_t elen;
        (void)rp_rtp_ext_find(&pkt, 1, &elem, &elen);
    }

    uint8_t *again = malloc(len);
    if (!again)
        abort();
    memcpy(again, plain, plain_len);
    size_t again_len = plain_len;
    struct rp_srtp *out = context(suite, RP_SRTP_OUTBOUND);
    if (rp_srtp_protect(out, again, &again_len, len) != RP_SRTP_OK || again_len != len ||
        memcmp(again, orig, len) != 0)
        abort();
    rp_srtp_free(out);

    /* `again` now holds the original packet: the same index twice is a replay. */
    size_t replay_len = len;
    if (rp_srtp_unprotect(in, again, &replay_len) != RP_SRTP_EREPLAY)
        abort();
    free(again);
}

/* Unprotects a copy of orig (len bytes). When plain is given, orig was just
 * protected from it, so it must come back exactly. */
static void unprotect_path(enum rp_srtp_suite suite, const uint8_t *orig, size_t len, const uint8_t *plain,
                           size_t plain_expected)
{
    /* Exactly len bytes: unprotect works in place and has no capacity argument,
     * so any byte written past the packet is a bug ASan should see. */
    uint8_t *pkt = malloc(len ? len : 1);
    if (!pkt)
        abort();
    memcpy(pkt, orig, len);
    struct rp_srtp *in = context(suite, RP_SRTP_INBOUND);
    size_t plain_len = len;
    enum rp_srtp_result r = rp_srtp_unprotect(in, pkt, &plain_len);
    if (plain && (r != RP_SRTP_OK || plain_len != plain_expected || memcmp(pkt, plain, plain_len) != 0)) {
        fprintf(stderr, "own packet did not come back: %s\n", rp_srtp_result_name(r));
        abort();
    }
    switch (r) {
    case RP_SRTP_OK:
        check_unprotected(in, suite, orig, len, pkt, plain_len);
        break;
    case RP_SRTP_EAUTH:
    case RP_SRTP_EINVALID:
        break;
    case RP_SRTP_EREPLAY:   /* a fresh context has seen nothing to replay */
    case RP_SRTP_EINTERNAL:
    default:
        fprintf(stderr, "unexpected %s\n", rp_srtp_result_name(r));
        abort();
    }
    rp_srtp_free(in);
    free(pkt);
}

/* The input is plain RTP: protect it (arbitrary headers, so the receiving side
 * gets past authentication with whatever CSRC count, extension or padding the
 * fuzzer made up), then unprotect what a peer would receive. */
static void protect_path(enum rp_srtp_suite suite, const uint8_t *plain, size_t len)
{
    size_t cap = len + RP_SRTP_MAX_OVERHEAD;
    uint8_t *pkt = malloc(cap);
    if (!pkt)
        abort();
    memcpy(pkt, plain, len);
    size_t n = len;
    struct rp_srtp *out = context(suite, RP_SRTP_OUTBOUND);
    enum rp_srtp_result r = rp_srtp_protect(out, pkt, &n, cap);
    rp_srtp_free(out);
    if (r == RP_SRTP_OK) {
        if (n != len + rp_srtp_overhead(suite))
            abort();
        unprotect_path(suite, pkt, n, plain, len);
    } else if (r != RP_SRTP_EINVALID) {
        fprintf(stderr, "protect: unexpected %s\n", rp_srtp_result_name(r));
        abort();
    }
    free(pkt);
}

/* First byte: bits 0-1 the suite; bit 2 set: the rest is plain RTP to protect
 * first, else an SRTP packet to unprotect. */
#define SEL_PROTECT_FIRST 0x04

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum rp_srtp_suite suite = (enum rp_srtp_suite)(data[0] % RP_SRTP_NSUITES);
    if (data[0] & SEL_PROTECT_FIRST)
        protect_path(suite, data + 1, size - 1);
    else
        unprotect_path(suite, data + 1, size - 1, NULL, 0);
    return 0;
}

#ifdef RP_FUZZ_GEN_SEEDS
#include "mext.h"

static void write_seed(const char *dir, enum rp_srtp_suite suite, const char *name, const uint8_t *pkt,
                       size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s_%s", dir, rp_srtp_suite_name(suite), name);
    uint8_t sel = (uint8_t)suite | (strncmp(name, "plain_", 6) == 0 ? SEL_PROTECT_FIRST : 0);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(&sel, 1, 1, f) != 1 || fwrite(pkt, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

static size_t protect(enum rp_srtp_suite suite, uint8_t *pkt, size_t len, size_t cap)
{
    struct rp_srtp *c = context(suite, RP_SRTP_OUTBOUND);
    if (rp_srtp_protect(c, pkt, &len, cap) != RP_SRTP_OK)
        abort();
    rp_srtp_free(c);
    return len;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const char *dir = argv[1];
    if (rp_srtp_global_init() != 0)
        return 1;
    uint8_t pkt[RP_RTP_MAX_PKT], payload[160], up_el[RP_MEXT_UP_LEN];
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(0xd5 ^ i);
    struct rp_mext_up up = { .seq = 3, .t1_ns = 1700000000000000000ull };
    rp_mext_up_encode(&up, up_el, sizeof up_el);

    for (int s = 0; s < RP_SRTP_NSUITES; s++) {
        enum rp_srtp_suite suite = (enum rp_srtp_suite)s;
        struct rp_rtp_hdr hdr = { .pt = suite >= RP_SRTP_AEAD_AES_128_GCM ? 111 : 0, .seq = 1000,
                                  .ts = 80000, .ssrc = 0xdecafbad };
        /* G.711 20 ms with the upstream measurement element. */
        size_t n = rp_rtp_build(pkt, sizeof pkt, &hdr, RP_MEXT_ID_UP, up_el, sizeof up_el, payload, 160);
        write_seed(dir, suite, "plain_pcmu_up_elem", pkt, n);
        n = protect(suite, pkt, n, sizeof pkt);
        write_seed(dir, suite, "pcmu_up_elem", pkt, n);
        /* Same packet, last tag byte flipped: authentication failure. */
        pkt[n - 1] ^= 0x80;
        write_seed(dir, suite, "bad_tag", pkt, n);

        /* Marker set, no extension, short payload, high sequence number. */
        hdr.marker = true;
        hdr.seq = 0xfffe;
        n = rp_rtp_build(pkt, sizeof pkt, &hdr, 0, NULL, 0, payload, 12);
        n = protect(suite, pkt, n, sizeof pkt);
        write_seed(dir, suite, "short_marker", pkt, n);

        /* Header only (empty payload). */
        hdr.marker = false;
        hdr.seq = 1;
        n = rp_rtp_build(pkt, sizeof pkt, &hdr, 0, NULL, 0, NULL, 0);
        n = protect(suite, pkt, n, sizeof pkt);
        write_seed(dir, suite, "empty_payload", pkt, n);

        /* Two CSRCs and RTP padding (P bit), built by hand. */
        uint8_t *p = pkt;
        const uint8_t head[] = { 0xa2, 0x08, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x0b, 0xad, 0xf0, 0x0d,
                                 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00, 0x0b };
        memcpy(p, head, sizeof head);
        p += sizeof head;
        memcpy(p, payload, 40);
        p += 40;
        memset(p, 0, 3);
        p[3] = 4;
        p += 4;
        write_seed(dir, suite, "plain_csrc_padding", pkt, (size_t)(p - pkt));
        n = protect(suite, pkt, (size_t)(p - pkt), sizeof pkt);
        write_seed(dir, suite, "csrc_padding", pkt, n);
    }
    rp_srtp_global_fini();
    return 0;
}
#endif
