/*
 * fsutil.h: small file-system helpers shared by the report, state and CLI
 * code.
 *
 * Files the program leaves behind (reports, statistics, plans) are written
 * whole to a temporary name in the same directory and renamed into place,
 * so a reader (or a run killed half way) never sees a half-written file
 * (git lockfile.h, redis rdb.c).
 *
 * Everything the program creates is private to the user whatever the
 * umask: directories 0700, files 0600 (they hold file, album and people's
 * names).  Files are opened through fs_open_private() only, which never
 * follows a symbolic link in the last component and refuses anything but
 * a regular file of ours, so a link planted where a file is expected
 * cannot make the program write somewhere else.  The directories that
 * hold them are checked by fs_check_private_dir() first: a directory
 * others may write to is refused, because nobody else must be able to
 * plant anything there.
 *
 * All functions fail with -1 and one line in err ("what failed: why").
 */
#ifndef IA_FSUTIL_H
#define IA_FSUTIL_H

#include "core/buf.h"

/* Creates dir and its missing parents (mode 0700: private). */
int fs_mkdir_p(const char *dir, struct buf *err);
/*
 * Writes data[0..len) to path through "<path>.tmp<pid>" + fsync + rename.
 * On failure the temporary file is removed and path is untouched.
 */
int fs_write_atomic(const char *path, const void *data, size_t len,
                    struct buf *err);
/*
 * The same, a piece at a time, for files too big to build in memory:
 *
 *     struct fs_atomic a;
 *     if (fs_atomic_open(&a, path, &err) < 0) ...
 *     fs_atomic_write(&a, piece, n, &err);   // as often as needed
 *     fs_atomic_commit(&a, &err);            // fsync + rename, or:
 *     fs_atomic_abort(&a);                   // temporary file removed
 *
 * After a failed write or commit the file is aborted already; abort
 * after commit does nothing.
 */
struct fs_atomic {
    int fd; /* -1 when closed */
    struct buf path, tmp;
};
int fs_atomic_open(struct fs_atomic *a, const char *path, struct buf *err);
int fs_atomic_write(struct fs_atomic *a, const void *data, size_t len,
                    struct buf *err);
int fs_atomic_commit(struct fs_atomic *a, struct buf *err);
void fs_atomic_abort(struct fs_atomic *a);
/* Reads the whole file into out (appended); -1 if it cannot be read or is
 * larger than max bytes. */
int fs_read_file(const char *path, size_t max, struct buf *out,
                 struct buf *err);
/*
 * Opens path with flags (O_RDONLY, O_WRONLY or O_RDWR, plus O_CREAT,
 * O_EXCL, O_APPEND, O_TRUNC) without following a symbolic link in its last
 * component.  A file it creates is 0600; an existing one must be a regular
 * file owned by us (or by root when we are root) and is made 0600 if
 * others could read it.  Returns the descriptor (close-on-exec).
 */
int fs_open_private(const char *path, int flags, struct buf *err);
/* fs_open_private(path, O_WRONLY | O_CREAT | O_APPEND) as a stdio stream
 * (line-buffered); NULL on failure. */
FILE *fs_fopen_append(const char *path, struct buf *err);
/*
 * Checks that dir is a directory nobody but us can write to: owned by us
 * or by root, and not writable by its group or by others (a sticky bit
 * does not help: it keeps others from removing our files, not from
 * planting their own).  -1 with the reason and the fix.
 */
int fs_check_private_dir(const char *dir, struct buf *err);
/* True if path exists and is a directory. */
bool fs_is_dir(const char *path);

#endif
