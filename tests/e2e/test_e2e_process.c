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
#include <arpa/inet.h>
#include <grp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "sim_harness.h"

#define KEY    "e2e-SECRET-key-7c1e0d5a9b3f4e21"
#define CONFIG IA_TEST_DATA "/config/minimal.yaml"
#define NOBODY 65534

/* A listener on 127.0.0.1 that never answers; returns its fd. */
static int listen_silent(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    assert_true(fd >= 0);
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(listen(fd, 4), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    *port = ntohs(sa.sin_port);
    return fd;
}

/* `immich-autotag check` against port, core limit unlimited, as nobody
 * when we are root. */
static pid_t spawn_check(int port, bool drop)
{
    struct buf url = BUF_INIT, asan = BUF_INIT;
    const char *argv[] = {IA_BIN, "check", "--config", CONFIG, NULL};
    const char *envp[5];
    size_t m = 0;
    pid_t pid;

    buf_addf(&url, "IMMICH_URL=http://127.0.0.1:%d", port);
    envp[m++] = url.buf;
    envp[m++] = "IMMICH_API_KEY=" KEY;
    envp[m++] = "PATH=/usr/bin:/bin";
    if (getenv("ASAN_OPTIONS")) {
        buf_addf(&asan, "ASAN_OPTIONS=%s", getenv("ASAN_OPTIONS"));
        envp[m++] = asan.buf;
    }
    envp[m] = NULL;
    pid = fork();
    if (pid == 0) {
        struct rlimit all = {RLIM_INFINITY, RLIM_INFINITY};

        if (setrlimit(RLIMIT_CORE, &all) < 0)
            _exit(120);
        if (drop && (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
                     setuid(NOBODY) < 0))
            _exit(121);
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(122);
        execve(IA_BIN, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    buf_release(&url);
    buf_release(&asan);
    return pid;
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
    struct pollfd pfd;
    struct stat st;
    bool drop = geteuid() == 0;
    int lfd, cfd, port, status;
    pid_t pid;

    (void)state;
    lfd = listen_silent(&port);
    pid = spawn_check(port, drop);
    assert_true(pid > 0);
    pfd.fd = lfd;
    pfd.events = POLLIN;
    /* The tool connects once its configuration and key are loaded. */
    assert_int_equal(poll(&pfd, 1, 60000), 1);
    cfd = accept(lfd, NULL, NULL);
    assert_true(cfd >= 0);

    core_limits(pid, &soft, &hard);
    buf_addf(&proc, "/proc/%ld/environ", (long)pid);
    assert_int_equal(stat(proc.buf, &st), 0);
    (void)kill(pid, SIGKILL);
    assert_int_equal(waitpid(pid, &status, 0), pid);
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
    const char *sim_args[] = {"--preset",  "seed", "--seed", "1",
                              "--latency", "off",  NULL};
    char dir[] = "/tmp/ia-e2e-peak-XXXXXX";
    struct sim_proc sim;
    struct buf err = BUF_INIT, logs = BUF_INIT, outp = BUF_INIT, out = BUF_INIT,
               path = BUF_INIT, yaml = BUF_INIT;
    const char *args[] = {
        "run",       "-c", IA_TEST_DATA "/config/upstream-template.yaml",
        "--log-dir", NULL, NULL};
    struct rusage ru;
    const char *p;
    char *last;
    long peak;
    int status;
    pid_t pid;

    (void)state;
    assert_non_null(mkdtemp(dir));
    buf_addf(&logs, "%s/logs", dir);
    buf_addf(&outp, "%s/stdout", dir);
    args[4] = logs.buf;
    if (sim_start(&sim, sim_args, &err) < 0)
        fail_msg("%s", err.buf);
    pid = sim_spawn_tool(&sim, IA_BIN, args, outp.buf, NULL);
    assert_true(pid > 0);
    assert_int_equal(wait4(pid, &status, 0, &ru), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_int_equal(sim_stop(&sim), 0);

    /* The run directory is stdout's last line. */
    assert_int_equal(fs_read_file(outp.buf, 1 << 24, &out, &err), 0);
    assert_true(out.len > 1);
    out.buf[--out.len] = '\0';
    last = strrchr(out.buf, '\n');
    buf_addf(&path, "%s/run_statistics.yaml", last ? last + 1 : out.buf);
    assert_int_equal(fs_read_file(path.buf, 1 << 24, &yaml, &err), 0);
    p = strstr(yaml.buf, "\n  peak_rss_kb: ");
    assert_non_null(p);
    peak = strtol(p + strlen("\n  peak_rss_kb: "), NULL, 10);
    assert_true(peak > 0);
#ifndef __SANITIZE_ADDRESS__
    /* The kernel's two figures come from counters that may lag by a few
     * pages: within 5% of each other. */
    assert_true(peak >= ru.ru_maxrss - ru.ru_maxrss / 20);
    assert_true(peak <= ru.ru_maxrss + ru.ru_maxrss / 20);
#endif
    buf_reset(&path);
    buf_addf(&path, "rm -rf '%s'", dir);
    assert_int_equal(system(path.buf), 0);
    buf_release(&err);
    buf_release(&logs);
    buf_release(&outp);
    buf_release(&out);
    buf_release(&path);
    buf_release(&yaml);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_process_cannot_dump_core),
        cmocka_unit_test(test_run_reports_its_true_peak_memory),
    };

    signal(SIGPIPE, SIG_IGN);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
