/*
 * rundir.c: the run directory (upstream's "<stamp>_PID<pid>" under the log
 * root) and writing report files into it.  The checkpoint that reads
 * run directories back is src/resume.
 */
#include "report/report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"
#include "core/numparse.h"

void report_stamp(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    if (!strftime(out, 32, "%Y%m%d_%H%M%S", &tm))
        out[0] = '\0';
}

void report_iso_local(int64_t ms, char out[40])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char base[32];
    int frac = (int)(ms % 1000);

    if (frac < 0)
        frac += 1000;
    if (!localtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    if (!strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm))
        base[0] = '\0';
    /* Python prints microseconds; we know milliseconds. */
    snprintf(out, 40, "%s.%03d000", base, frac);
}

int report_run_create(struct report_run *run, const char *root, int64_t now_ms,
                      struct buf *err)
{
    struct buf name = BUF_INIT, dir = BUF_INIT;
    char stamp[32];
    int attempt;

    memset(run, 0, sizeof(*run));
    if (!root || !*root)
        root = REPORT_DEFAULT_ROOT;
    if (fs_mkdir_p(root, err) < 0 || fs_check_private_dir(root, err) < 0)
        return -1;
    report_stamp(now_ms, stamp);
    for (attempt = 1; attempt < 100; attempt++) {
        buf_reset(&name);
        buf_reset(&dir);
        buf_addf(&name, "%s_PID%ld", stamp, (long)getpid());
        if (attempt > 1)
            buf_addf(&name, "_%d", attempt);
        buf_addf(&dir, "%s/%s", root, name.buf);
        if (mkdir(dir.buf, 0700) == 0)
            break;
        if (errno != EEXIST) {
            buf_addf(err, "cannot create run directory '%s': %s", dir.buf,
                     strerror(errno));
            goto fail;
        }
    }
    if (attempt == 100) {
        buf_addf(err, "cannot create run directory '%s': name taken", dir.buf);
        goto fail;
    }
    run->root = xstrdup(root);
    run->dir = buf_detach(&dir, NULL);
    run->name = buf_detach(&name, NULL);
    run->started_at = now_ms;
    return 0;
fail:
    buf_release(&name);
    buf_release(&dir);
    return -1;
}

void report_run_release(struct report_run *run)
{
    if (!run)
        return;
    free(run->root);
    free(run->dir);
    free(run->name);
    memset(run, 0, sizeof(*run));
}

int report_file_open(struct report_file *rf, const struct report_run *run,
                     const char *name, struct buf *err)
{
    struct buf path = BUF_INIT;
    int ret;

    buf_init(&rf->clean, 0);
    buf_addf(&path, "%s/%s", run->dir, name);
    ret = fs_atomic_open(&rf->f, path.buf, err);
    buf_release(&path);
    return ret;
}

/* Writes text with every registered secret masked. */
static int add_text(struct report_file *rf, const char *text, struct buf *err)
{
    int ret;

    /* Belt and braces: nothing registered as secret reaches a file. */
    buf_reset(&rf->clean);
    log_redact(&rf->clean, text);
    ret = fs_atomic_write(&rf->f, rf->clean.buf, rf->clean.len, err);
    if (ret < 0)
        buf_release(&rf->clean);
    return ret;
}

int report_file_add(struct report_file *rf, struct buf *piece, struct buf *err)
{
    int ret = add_text(rf, piece->buf, err);

    buf_reset(piece);
    return ret;
}

int report_file_spill(struct report_file *rf, struct buf *piece, bool all,
                      struct buf *err)
{
    if (!rf || !piece->len || (!all && piece->len < REPORT_FILE_PIECE))
        return 0;
    return report_file_add(rf, piece, err);
}

int report_file_commit(struct report_file *rf, struct buf *err)
{
    buf_release(&rf->clean);
    return fs_atomic_commit(&rf->f, err);
}

void report_file_abort(struct report_file *rf)
{
    buf_release(&rf->clean);
    fs_atomic_abort(&rf->f);
}

int report_write(const struct report_run *run, const char *name,
                 const struct buf *data, struct buf *err)
{
    struct report_file rf;

    if (report_file_open(&rf, run, name, err) < 0 ||
        add_text(&rf, data->buf, err) < 0)
        return -1;
    return report_file_commit(&rf, err);
}

/* Creates and removes a probe file in dir, then compares the room left
 * with need. */
static int check_dir_room(const char *dir, uint64_t need, struct buf *err)
{
    struct buf probe = BUF_INIT;
    struct statvfs vfs;
    uint64_t avail;
    int fd, ret = -1;

    buf_addf(&probe, "%s/.write-check%ld", dir, (long)getpid());
    (void)unlink(probe.buf);
    fd = fs_open_private(probe.buf, O_WRONLY | O_CREAT | O_EXCL, err);
    if (fd < 0)
        goto out;
    (void)close(fd);
    (void)unlink(probe.buf);
    if (statvfs(dir, &vfs) < 0) {
        buf_addf(err, "cannot check the room in '%s': %s", dir,
                 strerror(errno));
        goto out;
    }
    avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    if (avail < need) {
        buf_addf(err,
                 "not enough room in '%s': %llu KiB free, the reports "
                 "of this run need about %llu KiB",
                 dir, (unsigned long long)(avail / 1024),
                 (unsigned long long)(need / 1024));
        goto out;
    }
    ret = 0;
out:
    buf_release(&probe);
    return ret;
}

int report_run_check_room(const struct report_run *run, const struct plan *plan,
                          struct buf *err)
{
    uint64_t items = plan->notes_nr;
    size_t i;

    for (i = 0; i < plan->nr; i++)
        items += plan->groups[i].nr + 1;
    /* The text and JSON lines of every change, the statistics. */
    return check_dir_room(run->dir,
                          REPORT_ROOM_MIN + items * REPORT_ROOM_PER_ITEM,
                          err) < 0 ||
                   check_dir_room(run->root, REPORT_ROOM_MIN, err) < 0
               ? -1
               : 0;
}

int report_run_name_time(const char *name, int64_t *ms)
{
    struct tm tm;
    int64_t v[6];
    static const int pos[6][2] = {{0, 4}, {4, 2},  {6, 2},
                                  {9, 2}, {11, 2}, {13, 2}};
    size_t i;
    time_t t;

    if (strlen(name) < 19 || name[8] != '_' || strncmp(name + 15, "_PID", 4))
        return -1;
    for (i = 0; i < 6; i++)
        if (num_parse_i64(name + pos[i][0], (size_t)pos[i][1], 0, 9999, &v[i]) <
            0)
            return -1;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (int)v[0] - 1900;
    tm.tm_mon = (int)v[1] - 1;
    tm.tm_mday = (int)v[2];
    tm.tm_hour = (int)v[3];
    tm.tm_min = (int)v[4];
    tm.tm_sec = (int)v[5];
    tm.tm_isdst = -1;
    t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *ms = (int64_t)t * 1000;
    return 0;
}
