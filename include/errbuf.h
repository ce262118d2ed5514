/* The error text a failing call leaves in its caller's buffer. */
#ifndef RP_ERRBUF_H
#define RP_ERRBUF_H

#include <stddef.h>

/* err (errlen bytes) formatted, truncated to fit; a NULL err or errlen 0 is
 * left alone. Always -1, so that a failing function can end with
 * "return rp_errf(err, errlen, ...)". */
int rp_errf(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
