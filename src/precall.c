/* GET /rtpprobe/precall: the browser pre-call page (web/precall.html, embedded at
 * build time by scripts/embed-precall into build/gen/precall_page.c).
 *
 * The page is public and static: it holds no secret (its token travels in the URL
 * fragment, which the browser never sends). Its Content-Security-Policy allows only
 * its own inline script and style (by hash) and connections to this origin, so an
 * injected element can neither run nor send the token elsewhere; no-store keeps an
 * old page (whose hashes would no longer match the policy) out of caches. */
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "precall.h"

void rp_precall_serve(struct evhttp_request *req)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    struct evbuffer *body = evbuffer_new();
    if (body == NULL) {
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        /* As the control API answers (docs/control-api.md); evhttp_send_error would drop Allow. */
        evhttp_add_header(h, "Allow", "GET, HEAD");
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        evbuffer_add_printf(body, "{\"error\":\"use GET on the page\",\"status\":405}");
        evhttp_send_reply(req, HTTP_BADMETHOD, "Method Not Allowed", body);
        evbuffer_free(body);
        return;
    }
    /* The page is a constant: referenced, not copied (no cleanup function). */
    if (evbuffer_add_reference(body, rp_precall_page, rp_precall_page_len, NULL, NULL) != 0) {
        evbuffer_free(body);
        evhttp_send_error(req, HTTP_INTERNAL, NULL);
        return;
    }
    evhttp_add_header(h, "Content-Type", "text/html; charset=utf-8");
    evhttp_add_header(h, "Content-Security-Policy", rp_precall_csp);
    evhttp_add_header(h, "Cache-Control", "no-store");
    evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
    evhttp_add_header(h, "Referrer-Policy", "no-referrer");
    evhttp_add_header(h, "X-Frame-Options", "DENY");
    evhttp_send_reply(req, HTTP_OK, "OK", body);
    evbuffer_free(body);
}
