/* rtpprobe --push: the finished report, without its per-second arrays, to the
 * daemon's POST /v1/reports over the same control client as the session. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agents.h"
#include "httpc.h"
#include "push.h"

void rp_push_agent_clean(const char *s, char *out, size_t outlen)
{
    if (outlen == 0)
        return;
    size_t n = 0;
    for (; s[n] && n < RP_AGENT_NAME_MAX && n + 1 < outlen; n++)
        out[n] = rp_agent_name_char(s[n]) ? s[n] : '_';
    out[n] = '\0';
    if (n == 0)
        snprintf(out, outlen, "unknown");
}

void rp_push_agent_default(char *out, size_t outlen)
{
    char host[256];
    if (gethostname(host, sizeof host) < 0)
        host[0] = '\0';
    host[sizeof host - 1] = '\0'; /* not terminated when cut */
    rp_push_agent_clean(host, out, outlen);
}

void rp_push_strip(json_t *report)
{
    static const char *const dirs[] = { "upstream", "downstream" };
    json_object_del(report, "rtt_per_second");
    for (size_t i = 0; i < 2; i++) {
        json_t *d = json_object_get(report, dirs[i]);
        if (json_is_object(d))
            json_object_del(d, "per_second");
    }
}

json_t *rp_push_body(const struct rp_report *r, const char *agent)
{
    /* The --json report itself, so that the daemon reads the documented keys. */
    json_t *rep = rp_report_json(r);
    if (!rep)
        return NULL;
    rp_push_strip(rep);
    /* "o": the body takes over the reference to rep, also on failure. */
    return json_pack("{s:s, s:o}", "agent", agent, "report", rep);
}

static const char *error_text(json_t *resp)
{
    json_t *e = json_is_object(resp) ? json_object_get(resp, "error") : NULL;
    return json_is_string(e) ? json_string_value(e) : "no detail";
}

/* Why the daemon did not take the report, in the user's words. */
static void refused(const struct rp_httpc *c, int status, json_t *resp, char *err, size_t errlen)
{
    if (status == 401)
        snprintf(err, errlen, "the daemon rejected the token (HTTP 401): check --token-file or RTPPROBE_TOKEN");
    else if (status == 404 || status == 405)
        snprintf(err, errlen, "HTTP %d from %s/v1/reports: this rtpprobed takes no reports (older version?)",
                 status, rp_httpc_base(c));
    else if (status == 413)
        snprintf(err, errlen, "the report is larger than the daemon takes (HTTP 413)");
    else
        snprintf(err, errlen, "the daemon refused the report (HTTP %d): %s", status, error_text(resp));
}

int rp_push_report(const struct rp_probe_opts *o, const struct rp_report *r, const char *agent,
                   uint64_t deadline_ns, char *err, size_t errlen)
{
    json_t *body = rp_push_body(r, agent);
    if (!body) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    struct rp_httpc_opts ho = { .token = o->token, .cacert = o->cacert, .proxy = o->proxy,
                                .insecure = o->insecure, .verbose = o->verbose };
    struct rp_httpc *c = rp_httpc_new(o->server, &ho, err, errlen);
    int rc = -1;
    if (c) {
        rp_httpc_set_deadline(c, deadline_ns);
        int status;
        json_t *resp = NULL;
        if (rp_httpc_request(c, "POST", "/v1/reports", body, &status, &resp, err, errlen) == 0) {
            if (status >= 200 && status <= 299)
                rc = 0;
            else
                refused(c, status, resp, err, errlen);
        }
        json_decref(resp);
        rp_httpc_free(c);
    }
    json_decref(body);
    if (rc < 0)
        rp_httpc_clean_text(err, strlen(err)); /* may quote the daemon */
    return rc;
}
