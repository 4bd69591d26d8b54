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
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define KEY    "e2e-ops-key-8a1c55f0e3d24b79"
#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"

/* The simulator of these tests: the small preset, with the key KEY. */
static void start_sim(struct sim_proc *sim)
{
    e2e_boot(sim, E2E_ARGV("--api-key", KEY));
}

/* Descriptors open in this process: the tool inherits them. */
static long open_fds(void)
{
    long n = 0;

    for (int fd = 0; fd < 4096; fd++)
        n += fcntl(fd, F_GETFD) >= 0;
    return n;
}

/* Runs the tool with the soft descriptor limit at `limit`. */
static void run_limited(const struct sim_proc *s, const char *const *args,
                        rlim_t limit, struct e2e_run *r)
{
    struct rlimit saved, rl;
    unsigned n;
    pid_t pid;

    assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
    rl = saved;
    rl.rlim_cur = limit;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    pid = e2e_launch(s, NULL, args, &n);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
    e2e_reap(pid, n, r);
}

/* Does the run directory under root hold the file name? */
static bool run_file_exists(const char *root, const char *name)
{
    struct buf p = BUF_INIT;
    bool found;

    found = e2e_newest_run_dir(root, &p);
    buf_addf(&p, "/%s", name);
    found = found && access(p.buf, F_OK) == 0;
    buf_release(&p);
    return found;
}

static void
test_small_descriptor_limit_completes_with_a_smaller_pool(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    const char *logs = e2e_path("small-fd");
    const char *args[] = {"run", "-c", CONFIG, "--log-dir", logs, NULL};

    (void)state;
    start_sim(&sim);
    /* Room for the run's files and a few connections, not for ten. */
    run_limited(&sim, args, (rlim_t)(open_fds() + 24), &r);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err.buf, "out of file descriptors for 10 "
                                      "connections"));
    assert_null(strstr(r.err.buf, "Too many open files"));
    assert_true(run_file_exists(logs, "run_statistics.yaml"));
    assert_true(run_file_exists(logs, "modification_report.txt"));
    assert_true(sim_stat_writes(&sim) > 0);
    e2e_run_release(&r);
    assert_int_equal(sim_stop(&sim), 0);
}

static void test_tiny_descriptor_limit_says_so(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    struct buf want = BUF_INIT;
    const char *args[] = {"check", "-c", CONFIG, NULL};
    rlim_t limit;

    (void)state;
    start_sim(&sim);
    limit = (rlim_t)(open_fds() + 3);
    run_limited(&sim, args, limit, &r);
    buf_addf(&want, "out of file descriptors (limit %lu", (unsigned long)limit);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, want.buf));
    assert_null(strstr(r.err.buf, "Couldn't connect"));
    assert_int_equal(sim_stat_endpoint(&sim, "GET /server/about"), 0);
    e2e_run_release(&r);
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
    struct e2e_run r;
    const char *args[] = {"check", "-c", CONFIG, "--stall-timeout", "1", NULL};
    int fd = stalled_server(&fake);
    double t0 = e2e_now();

    (void)state;
    assert_int_equal(e2e_tool(&fake, args, &r), 3);
    /* A liveness bound: its requests stall side by side (about 2 s for
     * all), not one after the other (2 s each, 12 s and more). */
    assert_true(e2e_now() - t0 < 8.0);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err.buf, ": GET /"));
    assert_non_null(strstr(r.err.buf, "the server sent nothing for 1 s "
                                      "(stall timeout), 2 attempts"));
    e2e_run_release(&r);
    close(fd);
}

static void test_sigterm_while_waiting_leaves_soon_with_reports(void **state)
{
    struct sim_proc fake;
    struct e2e_run r;
    const char *logs = e2e_path("stalled");
    const char *args[] = {"run", "-v", "-c", CONFIG, "--log-dir", logs, NULL};
    int fd = stalled_server(&fake);
    bool waiting;
    unsigned n;
    pid_t pid;

    (void)state;
    pid = e2e_launch(&fake, NULL, args, &n);
    /* -v says what it waits for, from 5 s on. */
    waiting = e2e_wait_for(e2e_err_path(n), "waiting for GET /", 1);
    assert_int_equal(kill(pid, SIGTERM), 0);
    /* A liveness bound well above the 2 s promised: the stall timeout
     * (30 s) is what a tool that waits for the request would take. */
    e2e_reap_within(pid, n, 5.0, &r);
    assert_true(waiting);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    assert_true(run_file_exists(logs, "run_statistics.yaml"));
    assert_true(run_file_exists(logs, "modification_report.txt"));
    e2e_run_release(&r);
    close(fd);
}

/* The value of "key: " in the newest run directory's statistics. */
static void newest_stat(const char *root, const char *key, struct buf *val)
{
    struct buf path = BUF_INIT, text = BUF_INIT;
    const char *p;

    assert_true(e2e_newest_run_dir(root, &path));
    buf_addstr(&path, "/run_statistics.yaml");
    e2e_slurp(path.buf, &text);
    buf_reset(val);
    buf_reset(&path);
    buf_addf(&path, "\n%s: ", key);
    p = strstr(text.buf, path.buf);
    assert_non_null(p);
    p += path.len;
    buf_add(val, p, strcspn(p, "\n"));
    buf_release(&path);
    buf_release(&text);
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
    struct e2e_run r;
    struct buf val = BUF_INIT, planned = BUF_INIT, ran = BUF_INIT;
    const char *logs = e2e_path("sliced");
    const char *run_args[] = {"run", "-c",          CONFIG, "--log-dir",
                              logs,  "--max-items", "40",   NULL};
    const char *plan_args[] = {"plan", "-c",          CONFIG, "--log-dir",
                               logs,   "--max-items", "40",   NULL};

    (void)state;
    start_sim(&sim);
    assert_int_equal(e2e_tool(&sim, run_args, &r), 0);
    e2e_run_release(&r);
    newest_stat(logs, "count", &val);
    assert_string_equal(val.buf, "40");
    /* The last asset of the slice, not null. */
    newest_stat(logs, "last_processed_id", &val);
    assert_int_equal(val.len, 36);
    assert_int_equal(val.buf[8], '-');

    /* plan resumes as the next run will: 40 minus half a slice. */
    assert_int_equal(e2e_tool(&sim, plan_args, &r), 0);
    checkpoint_line(r.err.buf, &planned);
    assert_string_equal(planned.buf, "[CHECKPOINT] skip_n=20 (origin: resume)");
    assert_non_null(strstr(r.out.buf, "40 evaluated"));
    e2e_run_release(&r);
    assert_int_equal(e2e_tool(&sim, run_args, &r), 0);
    checkpoint_line(r.err.buf, &ran);
    assert_string_equal(ran.buf, planned.buf);
    e2e_run_release(&r);
    newest_stat(logs, "count", &val);
    assert_string_equal(val.buf, "60");
    buf_release(&val);
    buf_release(&planned);
    buf_release(&ran);
    assert_int_equal(sim_stop(&sim), 0);
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
    struct e2e_run r;
    struct buf where = BUF_INIT;
    const char *cfg = e2e_path("loop-config.yaml");
    const char *args[] = {"run", "--loop",    "1s", "-c",
                          cfg,   "--log-dir", NULL, NULL};
    bool started, kept, said, edited;
    unsigned n;
    pid_t pid;

    (void)state;
    args[6] = e2e_path("loop");
    write_config(cfg, "max_items: 1000000", "max_items: 1000000");
    start_sim(&sim);
    pid = e2e_launch(&sim, NULL, args, &n);
    started = e2e_wait_for(e2e_err_path(n), "loop: next run in", 1);
    /* A broken edit: the loader's file:line, the last good one kept. */
    write_config(cfg, "max_items: 1000000", "max_items: [");
    kept =
        e2e_wait_for(e2e_err_path(n), "keeping the last good configuration", 1);
    buf_addf(&where, "error: %s:", cfg);
    said = e2e_wait_for(e2e_err_path(n), where.buf, 1);
    /* A good edit takes effect at the next run. */
    write_config(cfg, "max_items: 1000000", "max_items: 7");
    edited = e2e_wait_for(e2e_out_path(n), "Total assets processed: 7\n", 1);
    assert_int_equal(kill(pid, SIGTERM), 0); /* before any assertion */
    e2e_reap(pid, n, &r);
    assert_true(started);
    assert_true(kept);
    assert_true(said);
    assert_true(edited);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    e2e_run_release(&r);
    buf_release(&where);
    assert_int_equal(sim_stop(&sim), 0);
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

    return e2e_run_group("ops", IA_BIN, tests);
}
