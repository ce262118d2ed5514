/* libFuzzer target: an upstream datagram as the reflector sees it. RTP header
 * parse, RFC 8285 element lookup for the measurement IDs, the element decoders
 * and the HMAC tag check with a fixed session key.
 *
 * Invariants checked beyond "no crash": parsed lengths stay inside the input,
 * found elements lie inside the extension block, a decoded element re-encodes
 * to the same values, and re-signing a packet that has a tag element makes it
 * verify. Seeds: tests/fuzz/corpus/fuzz_rtp/ (see README.md for how the signed
 * ones were made; build with -DRP_FUZZ_GEN_SEEDS to regenerate them). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mext.h"
#include "rtp.h"

/* The fixed session key the signed seeds were made with. */
static const uint8_t fuzz_auth_key[RP_MEXT_AUTH_KEY_LEN] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

static void check_up(const uint8_t *data, size_t len)
{
    struct rp_mext_up up, again;
    uint8_t buf[RP_MEXT_UP_LEN];
    if (rp_mext_up_decode(data, len, &up) != 0)
        return;
    if (rp_mext_up_encode(&up, buf, sizeof buf) != RP_MEXT_UP_LEN || rp_mext_up_decode(buf, sizeof buf, &again) != 0 ||
        again.seq != up.seq || again.t1_ns != up.t1_ns)
        abort();
}

static void check_down(const uint8_t *data, size_t len)
{
    struct rp_mext_down d, again;
    uint8_t buf[RP_MEXT_DOWN_LEN];
    /* Zeroed so that the struct padding compares equal below. */
    memset(&d, 0, sizeof d);
    memset(&again, 0, sizeof again);
    if (rp_mext_down_decode(data, len, &d) != 0)
        return;
    if (rp_mext_down_encode(&d, buf, sizeof buf) != RP_MEXT_DOWN_LEN ||
        rp_mext_down_decode(buf, sizeof buf, &again) != 0 || memcmp(&again, &d, sizeof d) != 0)
        abort();
}

/* A packet whose tag element is well formed verifies once signed with the key. */
static void check_auth(const uint8_t *pkt, size_t len)
{
    int v = rp_mext_auth_verify(pkt, len, fuzz_auth_key);
    if (v != 0 && v != -1 && v != -2)
        abort();
    if (v == -1 || len > RP_RTP_MAX_PKT)
        return;
    uint8_t *copy = malloc(len);
    if (!copy)
        return;
    memcpy(copy, pkt, len);
    if (rp_mext_auth_sign(copy, len, fuzz_auth_key) != 0 || rp_mext_auth_verify(copy, len, fuzz_auth_key) != 0)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rp_rtp_pkt pkt;
    if (rp_rtp_parse(data, size, &pkt) != RP_RTP_OK) {
        /* Without a parseable header there is no tag element either. */
        if (rp_mext_auth_verify(data, size, fuzz_auth_key) != -1)
            abort();
        return 0;
    }
    const uint8_t *end = data + size;
    if (pkt.payload < data || pkt.payload + pkt.payload_len > end)
        abort();
    if (pkt.has_ext && (pkt.ext < data || pkt.ext_len % 4 != 0 || pkt.ext + pkt.ext_len > pkt.payload))
        abort();

    for (uint8_t id = 1; id <= 3; id++) {
        const uint8_t *elem = NULL;
        size_t elen = 0;
        int found = rp_rtp_ext_find(&pkt, id, &elem, &elen);
        if (found < -1 || found > 1)
            abort();
        if (found != 1)
            continue;
        if (elem < pkt.ext || elem + elen > pkt.ext + pkt.ext_len)
            abort();
        if (id == RP_MEXT_ID_UP)
            check_up(elem, elen);
        else if (id == RP_MEXT_ID_DOWN)
            check_down(elem, elen);
        /* The decoders must not care which ID carried the bytes. */
        check_up(elem, elen);
        check_down(elem, elen);
    }
    check_auth(data, size);
    return 0;
}

#ifdef RP_FUZZ_GEN_SEEDS
/* Seed generator: cc -DRP_FUZZ_GEN_SEEDS ... tests/fuzz/fuzz_rtp.c build/librtpprobe.a ...
 * then ./a.out tests/fuzz/corpus/fuzz_rtp */
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
    uint8_t pkt[RP_RTP_MAX_PKT], payload[160], up_el[RP_MEXT_UP_LEN], down_el[RP_MEXT_DOWN_LEN];
    uint8_t zero_tag[RP_MEXT_AUTH_LEN] = { 0 };
    for (size_t i = 0; i < sizeof payload; i++)
        payload[i] = (uint8_t)(0xff - i); /* G.711-ish bytes */
    struct rp_rtp_hdr hdr = { .pt = 0, .marker = true, .seq = 4242, .ts = 160000, .ssrc = 0x11223344 };
    struct rp_mext_up up = { .seq = 7, .t1_ns = 1700000000123456789ull };
    struct rp_mext_down down = { .flags = RP_MEXT_F_REFLECTION, .refl_seq = 7, .t1_ns = 1700000000123456789ull,
                                 .t2_ns = 1700000000133456789ull, .t3_ns = 1700000000143456789ull,
                                 .up_received = 8, .down_sent = 9, .up_host_drops = 1 };
    rp_mext_up_encode(&up, up_el, sizeof up_el);
    rp_mext_down_encode(&down, down_el, sizeof down_el);

    /* Upstream as the probe sends it: ID 1 + signed ID 3, G.711 payload. */
    struct rp_rtp_elem ups[] = { { RP_MEXT_ID_UP, up_el, sizeof up_el }, { RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag } };
    size_t n = rp_rtp_build_elems(pkt, sizeof pkt, &hdr, ups, 2, payload, sizeof payload);
    if (n == 0 || rp_mext_auth_sign(pkt, n, fuzz_auth_key) != 0)
        return 1;
    write_seed(dir, "up_signed_pcmu", pkt, n);
    /* The same with one payload bit flipped: a wrong tag (-2). */
    pkt[n - 1] ^= 1;
    write_seed(dir, "up_bad_tag", pkt, n);

    /* Downstream: ID 2 + signed ID 3, short Opus-like payload. */
    hdr.pt = 111;
    struct rp_rtp_elem downs[] = { { RP_MEXT_ID_DOWN, down_el, sizeof down_el },
                                   { RP_MEXT_ID_AUTH, zero_tag, sizeof zero_tag } };
    n = rp_rtp_build_elems(pkt, sizeof pkt, &hdr, downs, 2, payload, 40);
    if (n == 0 || rp_mext_auth_sign(pkt, n, fuzz_auth_key) != 0)
        return 1;
    write_seed(dir, "down_signed_opus", pkt, n);

    /* Unsigned up element only, and a plain header without extension. */
    n = rp_rtp_build(pkt, sizeof pkt, &hdr, RP_MEXT_ID_UP, up_el, sizeof up_el, payload, 20);
    write_seed(dir, "up_unsigned", pkt, n);
    n = rp_rtp_build(pkt, sizeof pkt, &hdr, 0, NULL, 0, payload, 0);
    write_seed(dir, "header_only", pkt, n);

    /* One-byte form (0xBEDE): padding byte, ID 1 (16 bytes, L=15), ID 3 (10 bytes),
     * signed; then CSRCs and RTP padding around it. */
    uint8_t *p = pkt;
    *p++ = 0x80 | 0x10 | 0x20 | 2; /* V=2, P, X, CC=2 */
    *p++ = 0;
    memcpy(p, "\x10\x92\x00\x02\x71\x00\x11\x22\x33\x44", 10);
    p += 10;
    memcpy(p, "\x00\x00\x00\x01\x00\x00\x00\x02", 8); /* CSRCs */
    p += 8;
    *p++ = 0xBE;
    *p++ = 0xDE;
    *p++ = 0;
    *p++ = 8; /* 32 bytes: 1 pad + 17 + 11 + 3 pad */
    uint8_t *ext = p;
    memset(ext, 0, 32);
    ext[1] = (uint8_t)(RP_MEXT_ID_UP << 4 | (RP_MEXT_UP_LEN - 1));
    memcpy(ext + 2, up_el, sizeof up_el);
    ext[18] = (uint8_t)(RP_MEXT_ID_AUTH << 4 | (RP_MEXT_AUTH_LEN - 1));
    p += 32;
    memcpy(p, payload, 20);
    p += 20;
    memset(p, 0, 3);
    p[3] = 4; /* RTP padding, count includes itself */
    p += 4;
    n = (size_t)(p - pkt);
    if (rp_mext_auth_sign(pkt, n, fuzz_auth_key) != 0)
        return 1;
    write_seed(dir, "one_byte_form_signed_csrc_padding", pkt, n);

    /* Malformed: element running past the extension, and a wrong version. */
    uint8_t bad_elem[] = { 0x90, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0x10, 0x00, 0x00, 0x01, 0x01, 0x09, 0, 0 };
    write_seed(dir, "two_byte_elem_overruns", bad_elem, sizeof bad_elem);
    uint8_t v1[12] = { 0x40, 0, 0, 1 };
    write_seed(dir, "version_1", v1, sizeof v1);
    return 0;
}
#endif
