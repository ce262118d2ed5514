/* signaldump: the CLI's synthetic talker (src/testsignal.c) as text, one int16
 * sample a line, for the pre-call page's port of it (tests/webrtc/stub_check.py).
 *   signaldump RATE SEED N */
#include <stdio.h>
#include <stdlib.h>

#include "testsignal.h"

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: signaldump RATE SEED N\n");
        return 2;
    }
    unsigned long rate = strtoul(argv[1], NULL, 10), seed = strtoul(argv[2], NULL, 10);
    unsigned long n = strtoul(argv[3], NULL, 10);
    struct rp_testsignal *s = rp_testsignal_new((unsigned)rate, (uint32_t)seed);
    int16_t *pcm = malloc((n ? n : 1) * sizeof *pcm);
    if (s == NULL || pcm == NULL || n > 10000000) {
        fprintf(stderr, "signaldump: bad rate or N, or out of memory\n");
        return 1;
    }
    rp_testsignal_fill(s, pcm, n);
    for (unsigned long i = 0; i < n; i++)
        printf("%d\n", pcm[i]);
    free(pcm);
    rp_testsignal_free(s);
    return 0;
}
