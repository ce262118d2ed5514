/* rtpprobed's command line: options, --check-config, --hash-token, --page-token. */
#ifndef RP_DAEMON_CLI_H
#define RP_DAEMON_CLI_H

#include <stddef.h>
#include <stdint.h>

#define RP_PAGE_TOKEN_TTL_DEFAULT 600 /* seconds: --page-token without --ttl */

int rp_daemon_main(int argc, char **argv);

/* --page-token's work: load config, read its webrtc.page_secret_file and mint a token for agent ("" = none)
 * expiring at now + ttl (1..webrtc.token_max_ttl) into out. 0, or -1 with a one-line err (the config's
 * "file:line: message", "webrtc.page_secret_file is not set in FILE", the secret file's problem). */
int rp_daemon_page_token(const char *config, const char *agent, unsigned ttl, uint64_t now, char *out, size_t cap,
                         char *err, size_t errlen);

#endif
