/*
 * test_e2e_disk.c: a run and the disk under its log directory (issue #13).
 *
 *   full     the log directory is a small tmpfs with room for the start
 *            of a run (lock, state database, links, config dump) but not
 *            for its reports: the run must refuse before its first write
 *            to the server, saying why, instead of changing the library
 *            and then failing every report.  Needs mount(2): skipped
 *            (exit 77) when the kernel refuses it.
 *   journal  a run killed with SIGKILL while its writes stall still
 *            leaves modifications.jsonl with the changes already made:
 *            the journal is written as the writes happen.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define KEY    "e2e-SECRET-key-0f9e8d7c6b5a4321"
#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"
#define SKIP   77

static char logdir[128]; /* the scratch directory's "logs" */

/* `run` (one connection) with the log directory logdir, as KEY. */
static pid_t launch_run(const struct sim_proc *sim, unsigned *n)
{
    return e2e_launch(sim, NULL,
                      E2E_ARGV("run", "-c", CONFIG, "--log-dir", logdir,
                               "--concurrency", "1"),
                      n);
}

static void test_full_disk_refuses_before_writing(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    unsigned n;
    pid_t pid;

    (void)state;
    e2e_boot(&sim, E2E_ARGV("--api-key", KEY));
    pid = launch_run(&sim, &n);
    e2e_reap(pid, n, &r);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, "not enough room in '"));
    assert_non_null(strstr(r.err.buf, "nothing written to the server"));
    e2e_run_release(&r);
    assert_int_equal(sim_stat_writes(&sim), 0);
    e2e_halt(&sim);
}

static void test_killed_run_leaves_its_journal(void **state)
{
    struct sim_proc sim;
    struct buf dir = BUF_INIT, path = BUF_INIT, text = BUF_INIT,
               ignored = BUF_INIT;
    struct e2e_run r;
    size_t lines = 0, created = 0;
    int tries;
    char *line, *save = NULL;
    unsigned n;
    pid_t pid;

    (void)state;
    /* Album creates (and the adds that share their batch) go through;
     * the tag removals that follow them stall. */
    e2e_boot(&sim, E2E_ARGV("--api-key", KEY, "--faults",
                            "spike:1:ms=4000@DELETE /tags/{id}/assets"));
    pid = launch_run(&sim, &n);
    for (tries = 0; tries < 1500; tries++) {
        if (e2e_newest_run_dir(logdir, &dir)) {
            buf_reset(&path);
            buf_addf(&path, "%s/modifications.jsonl", dir.buf);
            buf_reset(&text);
            if (fs_read_file(path.buf, 1 << 24, &text, &ignored) == 0 &&
                text.len)
                break;
        }
        usleep(10000);
    }
    e2e_kill(pid, n, SIGKILL, &r);
    /* Killed while waiting on its writes, not finished. */
    assert_int_equal(r.code, 128 + SIGKILL);
    e2e_run_release(&r);
    assert_true(text.len > 0);
    /* Whole lines only, each a JSON event of a change made (the plan's
     * notes, "noted", are written only when a run ends). */
    assert_int_equal(text.buf[text.len - 1], '\n');
    for (line = strtok_r(text.buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        json_error_t je;
        json_t *ev = json_loads(line, 0, &je);
        const char *kind = NULL, *st = NULL, *album = NULL;

        assert_non_null(ev);
        assert_int_equal(
            json_unpack(ev, "{s:s, s:s}", "kind", &kind, "status", &st), 0);
        if (strcmp(st, "done"))
            fail_msg("not done: %s", line);
        if (!strcmp(kind, "CREATE_ALBUM")) {
            struct buf url = BUF_INIT, body = BUF_INIT;

            assert_int_equal(json_unpack(ev, "{s:s}", "album_id", &album), 0);
            buf_addf(&url, "/api/albums/%s", album);
            assert_int_equal(sim_request(&sim, "GET", url.buf, NULL, &body),
                             200);
            created++;
            buf_release(&url);
            buf_release(&body);
        }
        json_decref(ev);
        lines++;
    }
    assert_true(lines > 0);
    assert_true(created > 0);
    assert_true((long)created <= sim_stat_endpoint(&sim, "POST /albums"));
    e2e_halt(&sim);
    buf_release(&dir);
    buf_release(&path);
    buf_release(&text);
    buf_release(&ignored);
}

int main(int argc, char **argv)
{
    const struct CMUnitTest full[] = {
        cmocka_unit_test(test_full_disk_refuses_before_writing),
    };
    const struct CMUnitTest journal[] = {
        cmocka_unit_test(test_killed_run_leaves_its_journal),
    };
    bool is_full = argc > 1 && !strcmp(argv[1], "full");
    struct buf cmd = BUF_INIT;
    int rc;

    if (e2e_setup("e2e-disk", IA_BIN) < 0)
        return 1;
    snprintf(logdir, sizeof(logdir), "%s", e2e_path("logs"));
    if (mkdir(logdir, 0700) < 0)
        return 1;
    if (is_full) {
        /* Room for the start of a run (about 70 KiB), not its reports. */
        if (mount("tmpfs", logdir, "tmpfs", MS_NOSUID | MS_NODEV,
                  "size=96k,mode=0700") < 0) {
            fprintf(stderr, "SKIP: cannot mount a tmpfs on %s: %s\n", logdir,
                    strerror(errno));
            rmdir(logdir);
            rmdir(e2e_tmpdir());
            return SKIP;
        }
        rc = cmocka_run_group_tests(full, NULL, NULL);
        (void)umount2(logdir, MNT_DETACH);
    } else {
        rc = cmocka_run_group_tests(journal, NULL, NULL);
    }
    buf_addf(&cmd, "rm -rf '%s'", e2e_tmpdir());
    (void)system(cmd.buf);
    buf_release(&cmd);
    return rc;
}
