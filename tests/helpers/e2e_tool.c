/*
 * e2e_tool.c: running the tool in end-to-end tests.  See e2e_tool.h.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_tool.h"

static char tmpdir[64];
static const char *tool_bin;
static unsigned launches; /* numbers the output files of each tool run */

void e2e_run_release(struct e2e_run *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

int e2e_setup(const char *name, const char *bin)
{
    tool_bin = bin;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-%.32s-XXXXXX", name);
    return mkdtemp(tmpdir) ? 0 : -1;
}

const char *e2e_tmpdir(void)
{
    return tmpdir;
}

const char *e2e_path(const char *name)
{
    static char path[8][192];
    static unsigned slot;
    char *p = path[slot++ % ARRAY_SIZE(path)];

    snprintf(p, sizeof(path[0]), "%s/%s", tmpdir, name);
    return p;
}

void e2e_slurp(const char *path, struct buf *into)
{
    struct buf err = BUF_INIT;

    buf_reset(into);
    if (fs_read_file(path, 1 << 26, into, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

static const char *out_path(unsigned n, const char *ext)
{
    static char path[4][128];
    static unsigned slot;
    char *p = path[slot++ % ARRAY_SIZE(path)];

    snprintf(p, sizeof(path[0]), "%s/run%u.%s", tmpdir, n, ext);
    return p;
}

const char *e2e_err_path(unsigned n)
{
    return out_path(n, "err");
}

pid_t e2e_launch(const struct sim_proc *sim, const char *key,
                 const char *const *args, unsigned *n)
{
    struct sim_proc as = *sim;
    pid_t pid;

    if (!tool_bin || !tmpdir[0])
        fail_msg("e2e_setup() was not called");
    if (key)
        snprintf(as.api_key, sizeof(as.api_key), "%s", key);
    *n = ++launches;
    pid = sim_spawn_tool(&as, tool_bin, args, out_path(*n, "out"),
                         out_path(*n, "err"));
    assert_true(pid > 0);
    return pid;
}

void e2e_reap(pid_t pid, unsigned n, struct e2e_run *r)
{
    r->code = sim_wait_tool(pid);
    buf_init(&r->out, 0);
    buf_init(&r->err, 0);
    e2e_slurp(out_path(n, "out"), &r->out);
    e2e_slurp(out_path(n, "err"), &r->err);
    if (r->code < 0)
        fail_msg("the tool did not exit: %s", r->err.buf);
}

int e2e_tool_key(const struct sim_proc *sim, const char *key,
                 const char *const *args, struct e2e_run *r)
{
    unsigned n;
    pid_t pid = e2e_launch(sim, key, args, &n);

    e2e_reap(pid, n, r);
    return r->code;
}

int e2e_tool(const struct sim_proc *sim, const char *const *args,
             struct e2e_run *r)
{
    return e2e_tool_key(sim, NULL, args, r);
}

int e2e_tool_code(const struct sim_proc *sim, const char *const *args)
{
    struct e2e_run r;
    int code = e2e_tool(sim, args, &r);

    e2e_run_release(&r);
    return code;
}

void e2e_boot(struct sim_proc *sim, const char *const *extra)
{
    const char *args[32] = {"--latency", "off", "--seed", "1"};
    size_t n = 4;
    bool has_library = false;
    struct buf err = BUF_INIT;

    for (; extra && *extra; extra++) {
        if (n >= ARRAY_SIZE(args) - 3)
            fail_msg("too many simulator arguments");
        has_library |=
            !strcmp(*extra, "--library") || !strcmp(*extra, "--preset");
        args[n++] = *extra;
    }
    if (!has_library) {
        args[n++] = "--preset";
        args[n++] = "small";
    }
    args[n] = NULL;
    if (sim_start(sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

void e2e_halt(struct sim_proc *sim)
{
    assert_int_equal(sim_stop(sim), 0);
}

size_t e2e_count(const char *data, size_t len, const char *needle)
{
    size_t n = 0, k = strlen(needle);
    const char *p = data, *end = data + len;

    while (p < end && (p = memmem(p, (size_t)(end - p), needle, k))) {
        n++;
        p += k;
    }
    return n;
}

size_t e2e_scan_tree(const char *dir, const char *needle, struct buf *where)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    struct buf path = BUF_INIT, data = BUF_INIT;
    struct stat sb;
    size_t files = 0;

    if (!d)
        fail_msg("cannot open '%s'", dir);
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        buf_reset(&path);
        buf_addf(&path, "%s/%s", dir, e->d_name);
        assert_int_equal(lstat(path.buf, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            files += e2e_scan_tree(path.buf, needle, where);
        } else if (S_ISREG(sb.st_mode)) {
            e2e_slurp(path.buf, &data);
            if (e2e_count(data.buf, data.len, needle))
                buf_addf(where, " %s", path.buf);
            files++;
        }
    }
    closedir(d);
    buf_release(&path);
    buf_release(&data);
    return files;
}

long e2e_log_count(const char *path, long *seen,
                   bool (*match)(const char *line))
{
    FILE *f = fopen(path, "r");
    char line[16384];
    long n = 0, i = 0;

    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (i++ >= *seen && match(line))
            n++;
    *seen = i;
    fclose(f);
    return n;
}
