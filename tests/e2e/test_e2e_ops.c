/*
 * test_e2e_ops.c: the process around a run (issue #13).
 *
 *   - under a small descriptor limit a run completes with a smaller pool
 *     and says so; under one too small for any connection `check` fails
 *     with "out of file descriptors (limit N)", not "couldn't connect";
 *   - against a server that accepts connections and never answers,
 *     `check --stall-timeout 1` fails naming the endpoint and the limit;
 *     a run says what it waits for (-v) and, on SIGTERM, leaves within
 *     2 s (checked against a liveness bound of 5 s) with its reports;
 *   - --loop reads its configuration again at every iteration: a broken
 *     edit is reported with file:line and the last good configuration
 *     kept; a good edit takes effect at the next run;
 *   - with sliced runs, `plan` previews the slice the next `run` takes
 *     (the same checkpoint), and run_statistics.yaml names the last asset
 *     processed.
 *
 * The stalled server is a socket of this test that listens and is never
 * read; everything runs on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "sim_harness.h"

#define KEY    "e2e-ops-key-8a1c55f0e3d24b79"
#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"

static char tmpdir[64];

struct out {
    int code;
    struct buf out, err;
};

static void paths(struct buf *o, struct buf *e)
{
    buf_addf(o, "%s/stdout", tmpdir);
    buf_addf(e, "%s/stderr", tmpdir);
}

static pid_t spawn(const struct sim_proc *s, const char *const *args)
{
    struct buf o = BUF_INIT, e = BUF_INIT;
    pid_t pid;

    paths(&o, &e);
    pid = sim_spawn_tool(s, IA_BIN, args, o.buf, e.buf);
    assert_true(pid > 0);
    buf_release(&o);
    buf_release(&e);
    return pid;
}

static void read_outputs(struct out *r)
{
    struct buf o = BUF_INIT, e = BUF_INIT, ignored = BUF_INIT;

    buf_init(&r->out, 0);
    buf_init(&r->err, 0);
    paths(&o, &e);
    assert_int_equal(fs_read_file(o.buf, 1 << 24, &r->out, &ignored), 0);
    assert_int_equal(fs_read_file(e.buf, 1 << 24, &r->err, &ignored), 0);
    buf_release(&o);
    buf_release(&e);
    buf_release(&ignored);
}

static void finish(pid_t pid, struct out *r)
{
    r->code = sim_wait_tool(pid);
    assert_true(r->code >= 0);
    read_outputs(r);
}

static void out_release(struct out *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

static void start_sim(struct sim_proc *sim)
{
    const char *args[] = {"--preset", "small",     "--seed", "1", "--latency",
                          "off",      "--api-key", KEY,      NULL};
    struct buf err = BUF_INIT;

    if (sim_start(sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Descriptors open in this process: the tool inherits them. */
static long open_fds(void)
{
    long n = 0;

    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* Spawns the tool with the soft descriptor limit at `limit`. */
static pid_t spawn_limited(const struct sim_proc *s, const char *const *args,
                           rlim_t limit)
{
    struct rlimit saved, rl;
    pid_t pid;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rl = saved;
    rl.rlim_cur = limit;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    pid = spawn(s, args);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    return pid;
}

/* 1 if root/<some run directory>/name exists. */
static int run_file_exists(const char *root, const char *name)
{
    DIR *d = opendir(root);
    struct dirent *de;
    struct buf p = BUF_INIT;
    struct stat st;
    int found = 0;

    assert_non_null(d);
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        buf_reset(&p);
        buf_addf(&p, "%s/%s/%s", root, de->d_name, name);
        found = stat(p.buf, &st) == 0;
    }
    closedir(d);
    buf_release(&p);
    return found;
}

static void
test_small_descriptor_limit_completes_with_a_smaller_pool(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf logs = BUF_INIT;
    const char *args[] = {"run", "-c", CONFIG, "--log-dir", NULL, NULL};

    (void)state;
    buf_addf(&logs, "%s/small-fd", tmpdir);
    args[4] = logs.buf;
    start_sim(&sim);
    /* Room for the run's files and a few connections, not for ten. */
    finish(spawn_limited(&sim, args, (rlim_t)(open_fds() + 24)), &r);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err.buf, "out of file descriptors for 10 "
                                      "connections"));
    assert_null(strstr(r.err.buf, "Too many open files"));
    assert_true(run_file_exists(logs.buf, "run_statistics.yaml"));
    assert_true(run_file_exists(logs.buf, "modification_report.txt"));
    assert_true(sim_stat_writes(&sim) > 0);
    out_release(&r);
    buf_release(&logs);
    assert_int_equal(sim_stop(&sim), 0);
}

static void test_tiny_descriptor_limit_says_so(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf want = BUF_INIT;
    const char *args[] = {"check", "-c", CONFIG, NULL};
    rlim_t limit;

    (void)state;
    start_sim(&sim);
    limit = (rlim_t)(open_fds() + 3);
    finish(spawn_limited(&sim, args, limit), &r);
    buf_addf(&want, "out of file descriptors (limit %lu", (unsigned long)limit);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, want.buf));
    assert_null(strstr(r.err.buf, "Couldn't connect"));
    assert_int_equal(sim_stat_endpoint(&sim, "GET /server/about"), 0);
    out_release(&r);
    buf_release(&want);
    assert_int_equal(sim_stop(&sim), 0);
}

/* A server that accepts connections and never answers, as a fake
 * simulator the tool can be pointed at. */
static int stalled_server(struct sim_proc *fake)
{
    int fd;

    memset(fake, 0, sizeof(*fake));
    fake->pid = -1;
    fd = sim_listen_silent(fake->url, sizeof(fake->url));
    assert_true(fd >= 0);
    snprintf(fake->api_key, sizeof(fake->api_key), "%s", KEY);
    return fd;
}

static void test_check_gives_up_a_stalled_server(void **state)
{
    struct sim_proc fake;
    struct out r;
    const char *args[] = {"check", "-c", CONFIG, "--stall-timeout", "1", NULL};
    int fd = stalled_server(&fake);
    double t0 = now_s();

    (void)state;
    finish(spawn(&fake, args), &r);
    /* A liveness bound: its requests stall side by side (about 2 s for
     * all), not one after the other (2 s each, 12 s and more). */
    assert_true(now_s() - t0 < 8.0);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err.buf, ": GET /"));
    assert_non_null(strstr(r.err.buf, "the server sent nothing for 1 s "
                                      "(stall timeout), 2 attempts"));
    out_release(&r);
    close(fd);
}

static void test_sigterm_while_waiting_leaves_soon_with_reports(void **state)
{
    struct sim_proc fake;
    struct out r;
    struct buf logs = BUF_INIT, errpath = BUF_INIT, text = BUF_INIT,
               ignored = BUF_INIT;
    const char *args[] = {"run", "-v", "-c", CONFIG, "--log-dir", NULL, NULL};
    int fd = stalled_server(&fake), tries = 0, status = 0;
    pid_t pid, got;
    double t0;

    (void)state;
    buf_addf(&logs, "%s/stalled", tmpdir);
    args[5] = logs.buf;
    buf_addf(&errpath, "%s/stderr", tmpdir);
    pid = spawn(&fake, args);
    /* -v says what it waits for, from 5 s on. */
    do {
        usleep(100000);
        buf_reset(&text);
        (void)fs_read_file(errpath.buf, 1 << 24, &text, &ignored);
    } while (!strstr(text.buf, "waiting for GET /") && tries++ < 150);
    t0 = now_s();
    assert_int_equal(kill(pid, SIGTERM), 0);
    while ((got = waitpid(pid, &status, WNOHANG)) == 0 && now_s() - t0 < 5.0)
        usleep(20000);
    if (got == 0) {
        (void)kill(pid, SIGKILL); /* leave no process behind */
        (void)sim_wait_tool(pid);
        fail_msg("still running 5 s after SIGTERM");
    }
    /* A liveness bound well above the 2 s promised: the stall timeout
     * (30 s) is what a tool that waits for the request would take. */
    assert_non_null(strstr(text.buf, "waiting for GET /"));
    assert_int_equal(got, pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);
    read_outputs(&r);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    assert_true(run_file_exists(logs.buf, "run_statistics.yaml"));
    assert_true(run_file_exists(logs.buf, "modification_report.txt"));
    out_release(&r);
    buf_release(&logs);
    buf_release(&errpath);
    buf_release(&text);
    buf_release(&ignored);
    close(fd);
}

/* The value of "key: " in the newest run directory's statistics. */
static void newest_stat(const char *root, const char *key, struct buf *val)
{
    DIR *d = opendir(root);
    struct dirent *de;
    struct buf best = BUF_INIT, path = BUF_INIT, text = BUF_INIT,
               ignored = BUF_INIT;
    const char *p;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (de->d_name[0] >= '0' && de->d_name[0] <= '9' &&
            strcmp(de->d_name, best.buf) > 0) {
            buf_reset(&best);
            buf_addstr(&best, de->d_name);
        }
    closedir(d);
    buf_addf(&path, "%s/%s/run_statistics.yaml", root, best.buf);
    assert_int_equal(fs_read_file(path.buf, 1 << 22, &text, &ignored), 0);
    buf_reset(val);
    buf_reset(&path);
    buf_addf(&path, "\n%s: ", key);
    p = strstr(text.buf, path.buf);
    assert_non_null(p);
    p += path.len;
    buf_add(val, p, strcspn(p, "\n"));
    buf_release(&best);
    buf_release(&path);
    buf_release(&text);
    buf_release(&ignored);
}

/* The "[CHECKPOINT] skip_n=..." line of a run's or a plan's stderr. */
static void checkpoint_line(const char *err, struct buf *line)
{
    const char *p = strstr(err, "[CHECKPOINT] skip_n=");

    buf_reset(line);
    if (p)
        buf_add(line, p, strcspn(p, "\n"));
}

static void test_plan_previews_the_slice_run_takes(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf logs = BUF_INIT, val = BUF_INIT, planned = BUF_INIT,
               ran = BUF_INIT;
    const char *run_args[] = {"run", "-c",          CONFIG, "--log-dir",
                              NULL,  "--max-items", "40",   NULL};
    const char *plan_args[] = {"plan", "-c",          CONFIG, "--log-dir",
                               NULL,   "--max-items", "40",   NULL};

    (void)state;
    buf_addf(&logs, "%s/sliced", tmpdir);
    run_args[4] = plan_args[4] = logs.buf;
    start_sim(&sim);
    finish(spawn(&sim, run_args), &r);
    assert_int_equal(r.code, 0);
    out_release(&r);
    newest_stat(logs.buf, "count", &val);
    assert_string_equal(val.buf, "40");
    /* The last asset of the slice, not null. */
    newest_stat(logs.buf, "last_processed_id", &val);
    assert_int_equal(val.len, 36);
    assert_int_equal(val.buf[8], '-');

    /* plan resumes as the next run will: 40 minus half a slice. */
    finish(spawn(&sim, plan_args), &r);
    assert_int_equal(r.code, 0);
    checkpoint_line(r.err.buf, &planned);
    assert_string_equal(planned.buf, "[CHECKPOINT] skip_n=20 (origin: resume)");
    assert_non_null(strstr(r.out.buf, "40 evaluated"));
    out_release(&r);
    finish(spawn(&sim, run_args), &r);
    assert_int_equal(r.code, 0);
    checkpoint_line(r.err.buf, &ran);
    assert_string_equal(ran.buf, planned.buf);
    out_release(&r);
    newest_stat(logs.buf, "count", &val);
    assert_string_equal(val.buf, "60");
    buf_release(&logs);
    buf_release(&val);
    buf_release(&planned);
    buf_release(&ran);
    assert_int_equal(sim_stop(&sim), 0);
}

/* Waits (up to 30 s) until the file at path contains what. */
static int wait_for_text(const char *path, const char *what)
{
    struct buf text = BUF_INIT, ignored = BUF_INIT;
    int tries = 0, found;

    for (;;) {
        buf_reset(&text);
        (void)fs_read_file(path, 1 << 24, &text, &ignored);
        found = strstr(text.buf, what) != NULL;
        if (found || tries++ >= 300)
            break;
        usleep(100000);
    }
    buf_release(&text);
    buf_release(&ignored);
    return found;
}

/* The template with one replacement, written atomically to path. */
static void write_config(const char *path, const char *from, const char *to)
{
    struct buf text = BUF_INIT, out = BUF_INIT, err = BUF_INIT;
    const char *p;

    assert_int_equal(fs_read_file(CONFIG, 1 << 20, &text, &err), 0);
    p = strstr(text.buf, from);
    assert_non_null(p);
    buf_add(&out, text.buf, (size_t)(p - text.buf));
    buf_addstr(&out, to);
    buf_addstr(&out, p + strlen(from));
    assert_int_equal(fs_write_atomic(path, out.buf, out.len, &err), 0);
    buf_release(&text);
    buf_release(&out);
    buf_release(&err);
}

static void test_loop_reads_the_configuration_again(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf cfg = BUF_INIT, logs = BUF_INIT, o = BUF_INIT, e = BUF_INIT,
               where = BUF_INIT;
    const char *args[] = {"run", "--loop",    "1s", "-c",
                          NULL,  "--log-dir", NULL, NULL};
    bool started, kept, said, edited;
    pid_t pid;

    (void)state;
    buf_addf(&cfg, "%s/loop-config.yaml", tmpdir);
    buf_addf(&logs, "%s/loop", tmpdir);
    paths(&o, &e);
    args[4] = cfg.buf;
    args[6] = logs.buf;
    write_config(cfg.buf, "max_items: 1000000", "max_items: 1000000");
    start_sim(&sim);
    pid = spawn(&sim, args);
    started = wait_for_text(e.buf, "loop: next run in");
    /* A broken edit: the loader's file:line, the last good one kept. */
    write_config(cfg.buf, "max_items: 1000000", "max_items: [");
    kept = wait_for_text(e.buf, "keeping the last good configuration");
    buf_addf(&where, "error: %s:", cfg.buf);
    said = wait_for_text(e.buf, where.buf);
    /* A good edit takes effect at the next run. */
    write_config(cfg.buf, "max_items: 1000000", "max_items: 7");
    edited = wait_for_text(o.buf, "Total assets processed: 7\n");
    assert_int_equal(kill(pid, SIGTERM), 0); /* before any assertion */
    finish(pid, &r);
    assert_true(started);
    assert_true(kept);
    assert_true(said);
    assert_true(edited);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    out_release(&r);
    buf_release(&cfg);
    buf_release(&logs);
    buf_release(&o);
    buf_release(&e);
    buf_release(&where);
    assert_int_equal(sim_stop(&sim), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-ops-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(
            test_small_descriptor_limit_completes_with_a_smaller_pool),
        cmocka_unit_test(test_tiny_descriptor_limit_says_so),
        cmocka_unit_test(test_check_gives_up_a_stalled_server),
        cmocka_unit_test(test_sigterm_while_waiting_leaves_soon_with_reports),
        cmocka_unit_test(test_plan_previews_the_slice_run_takes),
        cmocka_unit_test(test_loop_reads_the_configuration_again),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
