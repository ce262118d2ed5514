/* The daemon's side of page tokens and TURN credentials, for scripts that
 * check them against other implementations (tests/integration/turn-rest.sh,
 * tests/integration/page-token-mint.sh):
 *   pagetool turn SECRET_FILE NAME TTL        "user\npass\n" as rtpprobed hands them
 *                                             to the page (TTL < 0: already expired)
 *   pagetool check SECRET_FILE TOKEN MAX_TTL  the verdict ("ok alice"), exit 0 only for ok */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pagetoken.h"

static int turn(const uint8_t *secret, size_t len, const char *name, long long ttl)
{
    char user[128], pass[64];
    long long expiry = (long long)time(NULL) + ttl;
    if (expiry < 0 || rp_turn_rest_credentials(secret, len, (uint64_t)expiry, name, user, sizeof user, pass,
                                               sizeof pass) < 0) {
        fprintf(stderr, "pagetool: cannot make the credentials\n");
        return 1;
    }
    printf("%s\n%s\n", user, pass);
    return 0;
}

static int check(const uint8_t *secret, size_t len, const char *token, unsigned max_ttl)
{
    char agent[65];
    enum rp_pagetoken_verdict v =
        rp_pagetoken_check(secret, len, token, strlen(token), (uint64_t)time(NULL), max_ttl, agent);
    printf("%s%s%s\n", rp_pagetoken_verdict_name(v), v == RP_PAGETOKEN_OK ? " " : "", v == RP_PAGETOKEN_OK ? agent : "");
    return v == RP_PAGETOKEN_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    uint8_t secret[4096];
    size_t len = 0;
    char err[512];

    if (argc != 5 || (strcmp(argv[1], "turn") != 0 && strcmp(argv[1], "check") != 0)) {
        fprintf(stderr, "usage: pagetool turn SECRET_FILE NAME TTL | pagetool check SECRET_FILE TOKEN MAX_TTL\n");
        return 2;
    }
    if (rp_pagetoken_read_secret(argv[2], secret, sizeof secret, &len, err, sizeof err) < 0) {
        fprintf(stderr, "pagetool: %s\n", err);
        return 1;
    }
    if (strcmp(argv[1], "turn") == 0)
        return turn(secret, len, argv[3], strtoll(argv[4], NULL, 10));
    return check(secret, len, argv[3], (unsigned)strtoul(argv[4], NULL, 10));
}
