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
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "sim_harness.h"

#define KEY    "e2e-SECRET-key-0f9e8d7c6b5a4321"
#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"
#define SKIP   77

static char tmpdir[64];
static char logdir[96];

static void start(struct sim_proc *sim, const char *faults)
{
    struct buf err = BUF_INIT;

    if (sim_start_small(sim, KEY, faults, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

static pid_t spawn_run(const struct sim_proc *sim, struct buf *err_path)
{
    const char *args[] = {"run",           "-c", CONFIG, "--log-dir", logdir,
                          "--concurrency", "1",  NULL};

    buf_addf(err_path, "%s/stderr", tmpdir);
    return sim_spawn_tool(sim, IA_BIN, args, NULL, err_path->buf);
}

static void test_full_disk_refuses_before_writing(void **state)
{
    struct sim_proc sim;
    struct buf errp = BUF_INIT, text = BUF_INIT, ignored = BUF_INIT;
    pid_t pid;

    (void)state;
    start(&sim, NULL);
    pid = spawn_run(&sim, &errp);
    assert_true(pid > 0);
    assert_int_equal(sim_wait_tool(pid), 1);
    assert_int_equal(fs_read_file(errp.buf, 1 << 20, &text, &ignored), 0);
    assert_non_null(strstr(text.buf, "not enough room in '"));
    assert_non_null(strstr(text.buf, "nothing written to the server"));
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&errp);
    buf_release(&text);
    buf_release(&ignored);
}

/* The run directory under logdir (the only one). */
static void run_dir(struct buf *out)
{
    struct buf cmd = BUF_INIT, ignored = BUF_INIT;

    buf_addf(&cmd, "%s/runname", tmpdir);
    {
        struct buf sh = BUF_INIT;

        buf_addf(&sh, "cd '%s' && ls -d 2*_PID* > '%s' 2>/dev/null", logdir,
                 cmd.buf);
        (void)system(sh.buf);
        buf_release(&sh);
    }
    buf_reset(out);
    if (fs_read_file(cmd.buf, 4096, out, &ignored) == 0 && out->len) {
        char *nl = strchr(out->buf, '\n');
        struct buf full = BUF_INIT;

        if (nl)
            *nl = '\0';
        buf_addf(&full, "%s/%s", logdir, out->buf);
        buf_reset(out);
        buf_addstr(out, full.buf);
        buf_release(&full);
    }
    buf_release(&cmd);
    buf_release(&ignored);
}

static void test_killed_run_leaves_its_journal(void **state)
{
    struct sim_proc sim;
    struct buf errp = BUF_INIT, dir = BUF_INIT, path = BUF_INIT,
               text = BUF_INIT, ignored = BUF_INIT;
    size_t lines = 0, created = 0;
    int status, tries;
    char *line, *save = NULL;
    pid_t pid;

    (void)state;
    /* Album creates go through; the adds that follow them stall. */
    start(&sim, "spike:1:ms=4000@PUT /albums/{id}/assets");
    pid = spawn_run(&sim, &errp);
    assert_true(pid > 0);
    for (tries = 0; tries < 1500; tries++) {
        run_dir(&dir);
        if (dir.len) {
            buf_reset(&path);
            buf_addf(&path, "%s/modifications.jsonl", dir.buf);
            buf_reset(&text);
            if (fs_read_file(path.buf, 1 << 24, &text, &ignored) == 0 &&
                text.len)
                break;
        }
        usleep(10000);
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    /* Killed while waiting on its writes, not finished. */
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
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
        assert_string_equal(st, "done");
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
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&errp);
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

    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-e2e-disk-XXXXXX");
    if (!mkdtemp(tmpdir))
        return 1;
    snprintf(logdir, sizeof(logdir), "%s/logs", tmpdir);
    if (mkdir(logdir, 0700) < 0)
        return 1;
    if (is_full) {
        /* Room for the start of a run (about 70 KiB), not its reports. */
        if (mount("tmpfs", logdir, "tmpfs", MS_NOSUID | MS_NODEV,
                  "size=96k,mode=0700") < 0) {
            fprintf(stderr, "SKIP: cannot mount a tmpfs on %s: %s\n", logdir,
                    strerror(errno));
            rmdir(logdir);
            rmdir(tmpdir);
            return SKIP;
        }
        rc = cmocka_run_group_tests(full, NULL, NULL);
        (void)umount2(logdir, MNT_DETACH);
    } else {
        rc = cmocka_run_group_tests(journal, NULL, NULL);
    }
    buf_addf(&cmd, "rm -rf '%s'", tmpdir);
    (void)system(cmd.buf);
    buf_release(&cmd);
    return rc;
}
