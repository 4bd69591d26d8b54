/*
 * test_e2e_process.c: the process around a run (issue #13).
 *
 * The API key must never reach a core dump.  Whether a core is written,
 * and where, depends on the machine (kernel.core_pattern may pipe it to
 * systemd-coredump, which ignores RLIMIT_CORE, or write a file, or be
 * off), so the test does not crash the tool and look for a core: it looks
 * at what the kernel decides from.  The tool is started with an unlimited
 * core limit, as a user who is not root when the test runs as root, and
 * pointed at a listener of the test that accepts the connection and never
 * answers; once the connection is there the tool is past its start-up,
 * with the key read, and waits.  Then:
 *   - /proc/PID/limits must say "Max core file size 0 0" (soft and hard,
 *     so nothing it starts can raise it again);
 *   - /proc/PID/environ (which holds the key when it came from there)
 *     must be owned by root although the tool runs as another
 *     user: the kernel does that for a non-dumpable process only, and a
 *     non-dumpable process is never dumped, whatever core_pattern says.
 *
 * The peak memory a run reports is the process's true peak, measured
 * after the reports are built and written (on the 1m library the report
 * phase goes past the read: 519 MB real against "299 MiB" taken at the
 * end of the read).  The test compares run_statistics.yaml's
 * extra.peak_rss_kb with the child's ru_maxrss from wait4() on the seed
 * library; under AddressSanitizer the process keeps growing after the
 * reports (quarantine, the leak check at exit), so there only the
 * presence of the figure is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define KEY    "e2e-SECRET-key-7c1e0d5a9b3f4e21"
#define CONFIG IA_TEST_DATA "/config/minimal.yaml"
#define NOBODY 65534

/* In the tool's process before the exec: core limit unlimited, and the
 * user nobody when *(bool *)drop. */
static void unlimited_core_as(void *drop)
{
    struct rlimit all = {RLIM_INFINITY, RLIM_INFINITY};

    if (setrlimit(RLIMIT_CORE, &all) < 0)
        _exit(120);
    if (*(bool *)drop &&
        (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 || setuid(NOBODY) < 0))
        _exit(121);
}

/* "Max core file size  SOFT  HARD  bytes" of pid, into soft and hard. */
static void core_limits(pid_t pid, struct buf *soft, struct buf *hard)
{
    struct buf path = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
    const char *line;
    char s[32], h[32];

    buf_addf(&path, "/proc/%ld/limits", (long)pid);
    assert_int_equal(fs_read_file(path.buf, 1 << 16, &text, &err), 0);
    line = strstr(text.buf, "Max core file size");
    assert_non_null(line);
    assert_int_equal(
        sscanf(line + strlen("Max core file size"), "%31s %31s", s, h), 2);
    buf_addstr(soft, s);
    buf_addstr(hard, h);
    buf_release(&path);
    buf_release(&text);
    buf_release(&err);
}

static void test_process_cannot_dump_core(void **state)
{
    struct buf soft = BUF_INIT, hard = BUF_INIT, proc = BUF_INIT;
    struct sim_proc silent;
    struct e2e_run r;
    struct pollfd pfd;
    struct stat st;
    bool drop = geteuid() == 0;
    int lfd, cfd;
    unsigned n;
    pid_t pid;

    (void)state;
    /* `check` against a listener that never answers */
    memset(&silent, 0, sizeof(silent));
    lfd = sim_listen_silent(silent.url, sizeof(silent.url));
    assert_true(lfd >= 0);
    pid = e2e_launch_with(&silent, KEY, E2E_ARGV("check", "--config", CONFIG),
                          unlimited_core_as, &drop, &n);
    pfd.fd = lfd;
    pfd.events = POLLIN;
    /* The tool connects once its configuration and key are loaded. */
    assert_int_equal(poll(&pfd, 1, 60000), 1);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);

    core_limits(pid, &soft, &hard);
    buf_addf(&proc, "/proc/%ld/environ", (long)pid);
    assert_int_equal(stat(proc.buf, &st), 0);
    e2e_kill(pid, n, SIGKILL, &r);
    e2e_run_release(&r);
    (void)close(cfd);
    (void)close(lfd);

    assert_string_equal(soft.buf, "0");
    assert_string_equal(hard.buf, "0");
    if (drop)
        assert_int_equal(st.st_uid, 0); /* nobody's process, not dumpable */
    buf_release(&soft);
    buf_release(&hard);
    buf_release(&proc);
}

static void test_run_reports_its_true_peak_memory(void **state)
{
    const char *logs = e2e_path("peak");
    struct sim_proc sim;
    struct buf dir = BUF_INIT, yaml = BUF_INIT;
    struct e2e_run r;
    const char *p;
    long peak;

    (void)state;
    e2e_boot(&sim, E2E_ARGV("--preset", "seed"));
    assert_int_equal(
        e2e_tool(&sim,
                 E2E_ARGV("run", "-c",
                          IA_TEST_DATA "/config/upstream-template.yaml",
                          "--log-dir", logs),
                 &r),
        0);
    e2e_halt(&sim);
    e2e_run_dir(&r, &dir);
    buf_addstr(&dir, "/run_statistics.yaml");
    e2e_slurp(dir.buf, &yaml);
    p = strstr(yaml.buf, "\n  peak_rss_kb: ");
    assert_non_null(p);
    peak = strtol(p + strlen("\n  peak_rss_kb: "), NULL, 10);
    assert_true(peak > 0);
#ifndef __SANITIZE_ADDRESS__
    /* The kernel's two figures come from counters that may lag by a few
     * pages: within 5% of each other. */
    assert_true(peak >= r.maxrss_kb - r.maxrss_kb / 20);
    assert_true(peak <= r.maxrss_kb + r.maxrss_kb / 20);
#endif
    e2e_run_release(&r);
    /* the seed library's reports are large */
    buf_reset(&dir);
    buf_addf(&dir, "rm -rf '%s'", logs);
    assert_int_equal(system(dir.buf), 0);
    buf_release(&dir);
    buf_release(&yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_process_cannot_dump_core),
        cmocka_unit_test(test_run_reports_its_true_peak_memory),
    };

    signal(SIGPIPE, SIG_IGN);
    return e2e_run_group("e2e-process", IA_BIN, tests);
}
