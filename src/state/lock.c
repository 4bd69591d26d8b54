/*
 * lock.c: the run lock, flock(2) on a file in the log root.  flock locks
 * belong to the open file description, so even two opens inside one
 * process exclude each other (the unit test relies on it), and the kernel
 * releases the lock when the holder dies, however it dies.
 *
 * The lock is the first thing a run touches in the log root, so the root
 * is checked here: nobody else may write to it (fs_check_private_dir),
 * and the lock file is opened without following links.
 */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/numparse.h"

enum state_lock_result state_lock_acquire(struct state_lock *lk,
                                          const char *root, struct buf *err)
{
    struct buf path = BUF_INIT, pid = BUF_INIT;
    int fd;

    lk->fd = -1;
    lk->path = NULL;
    if (fs_check_private_dir(root, err) < 0)
        return STATE_LOCK_ERROR;
    buf_addf(&path, "%s/%s", root, STATE_LOCK_NAME);
    fd = fs_open_private(path.buf, O_RDWR | O_CREAT, err);
    if (fd < 0) {
        buf_release(&path);
        return STATE_LOCK_ERROR;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        char text[32];
        ssize_t n;
        int64_t holder = 0;

        if (errno != EWOULDBLOCK) {
            buf_addf(err, "cannot lock '%s': %s", path.buf, strerror(errno));
            (void)close(fd);
            buf_release(&path);
            return STATE_LOCK_ERROR;
        }
        n = pread(fd, text, sizeof(text) - 1, 0);
        if (n > 0) {
            while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
                n--;
            if (num_parse_i64(text, (size_t)n, 1, INT32_MAX, &holder) < 0)
                holder = 0;
        }
        if (holder)
            buf_addf(err,
                     "another run is in progress (pid %lld holds "
                     "'%s')",
                     (long long)holder, path.buf);
        else
            buf_addf(err, "another run is in progress (it holds '%s')",
                     path.buf);
        (void)close(fd);
        buf_release(&path);
        return STATE_LOCK_BUSY;
    }
    /* Ours: record our pid for the message of whoever comes next. */
    buf_addf(&pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid.buf, pid.len, 0) < 0) {
        /* The lock holds anyway; only the courtesy pid is missing. */
    }
    buf_release(&pid);
    lk->fd = fd;
    lk->path = buf_detach(&path, NULL);
    return STATE_LOCK_ACQUIRED;
}

void state_lock_release(struct state_lock *lk)
{
    if (!lk)
        return;
    if (lk->fd >= 0) {
        (void)flock(lk->fd, LOCK_UN);
        (void)close(lk->fd);
    }
    free(lk->path);
    lk->fd = -1;
    lk->path = NULL;
}
