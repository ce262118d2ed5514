/* The error text a failing call leaves in its caller's buffer: one writer
 * for the modules that say why in a string (agents file, codec, DTLS, SRTP,
 * page tokens). */
#include "errbuf.h"

#include <stdarg.h>
#include <stdio.h>

int rp_errf(char *err, size_t errlen, const char *fmt, ...)
{
    if (err == NULL || errlen == 0)
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}
