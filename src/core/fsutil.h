/*
 * fsutil.h: small file-system helpers shared by the report, state and CLI
 * code.
 *
 * Files the program leaves behind (reports, statistics, plans) are written
 * whole to a temporary name in the same directory and renamed into place,
 * so a reader (or a run killed half way) never sees a half-written file
 * (git lockfile.h, redis rdb.c).
 *
 * All functions fail with -1 and one line in err ("what failed: why").
 */
#ifndef IA_FSUTIL_H
#define IA_FSUTIL_H

#include "core/buf.h"

/* Creates dir and its missing parents (mode 0755 before umask). */
int fs_mkdir_p(const char *dir, struct buf *err);
/*
 * Writes data[0..len) to path through "<path>.tmp<pid>" + fsync + rename.
 * On failure the temporary file is removed and path is untouched.
 */
int fs_write_atomic(const char *path, const void *data, size_t len,
                    struct buf *err);
/* Reads the whole file into out (appended); -1 if it cannot be read or is
 * larger than max bytes. */
int fs_read_file(const char *path, size_t max, struct buf *out,
                 struct buf *err);
/* True if path exists and is a directory. */
bool fs_is_dir(const char *path);

#endif
