/*
 * e2e_tool.c: running the tool in end-to-end tests.  See e2e_tool.h.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

int e2e_run_output(struct e2e_run *r, struct buf *out, struct buf *err)
{
    if (out) {
        buf_reset(out);
        buf_add(out, r->out.buf, r->out.len);
    }
    if (err) {
        buf_reset(err);
        buf_add(err, r->err.buf, r->err.len);
    }
    e2e_run_release(r);
    return r->code;
}

int e2e_setup(const char *name, const char *bin)
{
    tool_bin = bin;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-%.32s-XXXXXX", name);
    if (mkdtemp(tmpdir))
        return 0;
    fprintf(stderr, "e2e: cannot make %s: %s\n", tmpdir, strerror(errno));
    return -1;
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

const char *e2e_out_path(unsigned n)
{
    return out_path(n, "out");
}

const char *e2e_err_path(unsigned n)
{
    return out_path(n, "err");
}

pid_t e2e_launch(const struct sim_proc *sim, const char *key,
                 const char *const *args, unsigned *n)
{
    return e2e_launch_with(sim, key, args, NULL, NULL, n);
}

pid_t e2e_launch_with(const struct sim_proc *sim, const char *key,
                      const char *const *args, void (*child)(void *), void *arg,
                      unsigned *n)
{
    struct sim_proc as = *sim;
    pid_t pid;

    if (!tool_bin || !tmpdir[0])
        fail_msg("e2e_setup() was not called");
    if (key)
        snprintf(as.api_key, sizeof(as.api_key), "%s", key);
    *n = ++launches;
    pid = sim_spawn_tool_with(&as, tool_bin, args, out_path(*n, "out"),
                              out_path(*n, "err"), child, arg);
    assert_true(pid > 0);
    return pid;
}

/* The outputs of launch n into r, whose code is set. */
/*
 * Reaps launch n (blocking unless flags is WNOHANG: false while it runs)
 * and reads its outputs into r.  A death by a signal other than
 * `allowed` fails the test.
 */
static bool reap(pid_t pid, unsigned n, int flags, int allowed,
                 struct e2e_run *r)
{
    struct rusage ru;
    int status = 0;
    pid_t got;

    while ((got = wait4(pid, &status, flags, &ru)) < 0 && errno == EINTR)
        ;
    if (got == 0)
        return false;
    r->code = -1;
    r->maxrss_kb = got == pid ? ru.ru_maxrss : 0;
    if (got == pid && WIFEXITED(status))
        r->code = WEXITSTATUS(status);
    else if (got == pid && WIFSIGNALED(status) && allowed &&
             WTERMSIG(status) == allowed)
        r->code = 128 + allowed;
    buf_init(&r->out, 0);
    buf_init(&r->err, 0);
    e2e_slurp(out_path(n, "out"), &r->out);
    e2e_slurp(out_path(n, "err"), &r->err);
    if (r->code < 0)
        fail_msg("the tool did not exit: %s", r->err.buf);
    return true;
}

void e2e_reap(pid_t pid, unsigned n, struct e2e_run *r)
{
    (void)reap(pid, n, 0, 0, r);
}

bool e2e_try_reap(pid_t pid, unsigned n, struct e2e_run *r)
{
    return reap(pid, n, WNOHANG, 0, r);
}

void e2e_kill(pid_t pid, unsigned n, int sig, struct e2e_run *r)
{
    assert_int_equal(kill(pid, sig), 0);
    (void)reap(pid, n, 0, sig, r);
}

int e2e_exec(const char *const *argv, const char *out, const char *err)
{
    pid_t pid = fork();

    if (pid < 0)
        return -1;
    if (pid == 0) {
        if (!freopen(out, "w", stdout) || !freopen(err, "w", stderr))
            _exit(127);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return sim_wait_tool(pid);
}

double e2e_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void e2e_reap_within(pid_t pid, unsigned n, double seconds, struct e2e_run *r)
{
    double t0 = e2e_now();

    while (!e2e_try_reap(pid, n, r)) {
        if (e2e_now() - t0 >= seconds) {
            e2e_kill(pid, n, SIGKILL, r); /* leave no process behind */
            e2e_run_release(r);
            fail_msg("the tool still ran %.0f s later", seconds);
        }
        usleep(20 * 1000);
    }
}

size_t e2e_err_len(unsigned n)
{
    struct stat sb;

    return stat(out_path(n, "err"), &sb) < 0 ? 0 : (size_t)sb.st_size;
}

bool e2e_wait_err(unsigned n, size_t from, const char *needle, int max_s,
                  size_t *at)
{
    struct buf text = BUF_INIT;
    double end = e2e_now() + max_s;
    const char *hit = NULL;

    for (;;) {
        buf_reset(&text);
        if (e2e_err_len(n)) /* the child may not have opened it yet */
            e2e_slurp(out_path(n, "err"), &text);
        if (text.len > from && (hit = memmem(text.buf + from, text.len - from,
                                             needle, strlen(needle))))
            break;
        if (e2e_now() > end)
            break;
        (void)usleep(50000);
    }
    if (hit && at)
        *at = (size_t)(hit - text.buf) + strlen(needle);
    buf_release(&text);
    return hit != NULL;
}

void e2e_term(pid_t pid, unsigned n, struct e2e_run *r)
{
    double end = e2e_now() + 5.0;

    assert_int_equal(kill(pid, SIGTERM), 0);
    while (!reap(pid, n, WNOHANG, SIGTERM, r)) {
        if (e2e_now() > end) {
            e2e_kill(pid, n, SIGKILL, r); /* leave no process behind */
            e2e_run_release(r);
            fail_msg("still running 5 s after SIGTERM");
        }
        (void)usleep(20000);
    }
}

bool e2e_wait_for(const char *path, const char *needle, size_t times)
{
    struct buf data = BUF_INIT, err = BUF_INIT;
    bool found = false;

    for (int polls = 0; polls < 6000 && !found; polls++) {
        buf_reset(&data);
        buf_reset(&err);
        found = !fs_read_file(path, 1 << 24, &data, &err) &&
                e2e_count(data.buf, data.len, needle) >= times;
        if (!found)
            usleep(10 * 1000);
    }
    buf_release(&data);
    buf_release(&err);
    return found;
}

void e2e_run_dir(const struct e2e_run *r, struct buf *dir)
{
    const char *end = r->out.buf + r->out.len, *p;

    while (end > r->out.buf && end[-1] == '\n')
        end--;
    for (p = end; p > r->out.buf && p[-1] != '\n'; p--)
        ;
    buf_reset(dir);
    buf_add(dir, p, (size_t)(end - p));
    if (!fs_is_dir(dir->buf))
        fail_msg("the last line of stdout, '%s', is not a run directory",
                 dir->buf);
}

bool e2e_newest_run_dir(const char *root, struct buf *dir)
{
    DIR *d = opendir(root);
    struct dirent *de;
    struct buf best = BUF_INIT;

    if (!d)
        fail_msg("cannot open '%s'", root);
    while ((de = readdir(d)))
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
            strcmp(de->d_name, best.buf) > 0) {
            buf_reset(&best);
            buf_addstr(&best, de->d_name);
        }
    closedir(d);
    buf_reset(dir);
    if (best.len)
        buf_addf(dir, "%s/%s", root, best.buf);
    buf_release(&best);
    return dir->len > 0;
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

int e2e_tool_code_key(const struct sim_proc *sim, const char *key,
                      const char *const *args)
{
    struct e2e_run r;
    int code = e2e_tool_key(sim, key, args, &r);

    e2e_run_release(&r);
    return code;
}

int e2e_tool_code(const struct sim_proc *sim, const char *const *args)
{
    return e2e_tool_code_key(sim, NULL, args);
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

void e2e_boot_opt(struct sim_proc *sim, const char *const *extra,
                  const char *opt, const char *value)
{
    const char *args[24];
    size_t n = 0;

    for (; extra && *extra; extra++) {
        if (n >= ARRAY_SIZE(args) - 3)
            fail_msg("too many simulator arguments");
        args[n++] = *extra;
    }
    if (value) {
        args[n++] = opt;
        args[n++] = value;
    }
    args[n] = NULL;
    e2e_boot(sim, args);
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
