/* The browser pre-call page (web/precall.html), embedded at build time and
 * served from the control listener at /rtpprobe/precall (docs/webrtc.md). */
#ifndef RP_PRECALL_H
#define RP_PRECALL_H

#include <stddef.h>

struct evhttp_request;

/* 200 with the page: text/html, its Content-Security-Policy (the inline
 * script's and style's hashes, connect-src 'self'), Cache-Control: no-store,
 * X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer. */
void rp_precall_serve(struct evhttp_request *req);

/* The page and its policy (generated at build time). */
extern const unsigned char rp_precall_page[];
extern const size_t rp_precall_page_len;
extern const char rp_precall_csp[];

#endif
