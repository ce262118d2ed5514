/* libFuzzer target: what a TURN server (or anyone on the path of plain TURN
 * over UDP) sends the probe. Byte 0 picks the view, the rest is the input:
 *   bit 0 clear: one datagram or stream frame: rp_turn_parse, then
 *     rp_turn_integrity_ok with a fixed key; rp_turn_channel_parse;
 *   bit 0 set: a byte stream cut into frames with rp_turn_frame_len, as the
 *     client's stream reader does.
 * Aborts when a parsed part points outside the input, a frame length is not
 * what the header says or is smaller than a header, a ChannelData payload
 * does not fit its frame, text fields are not NUL-terminated printable
 * ASCII, or an error code is outside 300..699. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"
#include "turn_wire.h"

static void check_text(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort();
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            abort();
}

static void one_message(const uint8_t *p, size_t n)
{
    struct rp_turn_msg m;
    if (rp_turn_parse(p, n, &m) == RP_STUN_OK) {
        check_text(m.reason, sizeof m.reason);
        check_text(m.realm, sizeof m.realm);
        check_text(m.nonce, sizeof m.nonce);
        if (m.error_code && (m.error_code < 300 || m.error_code > 699))
            abort();
        if (m.data && (m.data < p || m.data_len > n || m.data > p + n - m.data_len))
            abort();
        if (m.integrity_off && m.integrity_off + 24 > n)
            abort();
        static const uint8_t key[RP_TURN_KEY_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 };
        (void)rp_turn_integrity_ok(p, n, &m, key, sizeof key);
    }
    uint16_t ch;
    const uint8_t *d;
    size_t dl;
    if (rp_turn_channel_parse(p, n, &ch, &d, &dl) == 0) {
        if (d != p + RP_TURN_CHANNEL_HDR || dl > n - RP_TURN_CHANNEL_HDR || ch < RP_TURN_CHANNEL_MIN)
            abort();
    }
}

static void stream(const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t len = rp_turn_frame_len(p, n);
        if (len <= 0)
            return; /* more bytes needed, or not a frame: the reader stops */
        if ((size_t)len < RP_TURN_CHANNEL_HDR)
            abort();
        if ((size_t)len > n)
            return;
        one_message(p, (size_t)len);
        p += len;
        n -= (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    /* Copies of exactly the input's size, so that a read past it is caught. */
    uint8_t *buf = malloc(size - 1 ? size - 1 : 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 1)
        stream(buf, size - 1);
    else
        one_message(buf, size - 1);
    free(buf);
    return 0;
}
