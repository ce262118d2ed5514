/* Replacing a file so that a reader (node_exporter's textfile collector, a
 * browser) never sees half of it: --textfile and --html. */
#ifndef RP_FILEREPLACE_H
#define RP_FILEREPLACE_H

#include <stddef.h>

/* Replaces path by data: a temporary file ".NAME.XXXXXX" beside it (mkstemp, so
 * in the same file system), written, fsync'ed, mode 0644, renamed over path,
 * the directory fsync'ed. On any failure path is left as it was, the temporary
 * file removed, and err says why in one line. 0 or -1. */
int rp_file_replace(const char *path, const char *data, size_t len, char *err, size_t errlen);

#endif
