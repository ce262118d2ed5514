/* libFuzzer target: a datagram as the port check's raw socket hands it over
 * (IPv4 header first). rp_pc_parse_ipv4, then rp_pc_decode of its payload
 * with a fixed key. Aborts when the payload found lies outside the input, or
 * when a packet that verifies does not encode back to the same bytes (the
 * tag covers every field the daemon answers from). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "portcheck.h"

static const uint8_t key[RP_PC_KEY_LEN] = { 0x42 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rp_pc_dgram g;
    struct rp_pc_pkt p;
    uint8_t again[RP_PC_PKT_LEN];
    if (rp_pc_parse_ipv4(data, size, &g) == 0) {
        if (g.payload < data || g.payload + g.len > data + size)
            abort();
        if (rp_pc_decode(g.payload, g.len, key, &p) == 0 &&
            (rp_pc_encode(&p, key, again, sizeof again) != RP_PC_PKT_LEN ||
             memcmp(again + 4, g.payload + 4, 2) != 0 || memcmp(again + 8, g.payload + 8, 14) != 0))
            abort();
    }
    /* The payload alone too: the decoder is what sees attacker bytes first. */
    if (rp_pc_decode(data, size, key, &p) == 0 && size != RP_PC_PKT_LEN)
        abort();
    return 0;
}
