/* X-Forwarded-For, trusted from loopback only: a remote client must not choose
 * the address its limits and logs are counted against. */
#include <string.h>

#include "fwdfor.h"
#include "netaddr.h"

bool rp_fwdfor_client(const struct sockaddr_storage *peer, const char *xff, struct sockaddr_storage *client)
{
    memcpy(client, peer, sizeof *client);
    if (!rp_addr_is_loopback((const struct sockaddr *)peer) || !xff)
        return false;
    const char *last = strrchr(xff, ',');
    last = last ? last + 1 : xff;
    while (*last == ' ')
        last++;
    char ip[RP_ADDRSTRLEN];
    size_t n = strcspn(last, " ");
    if (n == 0 || n >= sizeof ip)
        return false;
    memcpy(ip, last, n);
    ip[n] = '\0';
    struct sockaddr_storage fwd;
    socklen_t len;
    if (rp_addr_from_ip(ip, 0, &fwd, &len) < 0)
        return false;
    memcpy(client, &fwd, sizeof fwd);
    return true;
}
