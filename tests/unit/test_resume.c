/*
 * test_resume.c: the checkpoint of sliced runs (src/resume): the skip
 * rule, the recent run directories and the state database read back, the
 * archive of a completed pass.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdlib.h>
#include <time.h>

#include "core/fsutil.h"
#include "report/report.h"
#include "resume/resume.h"
#include "state/state.h"

#define NOW 1718457242251LL /* 2024-06-15T13:14:02.251Z */

/* A run at NOW of max_items of a library of 5,000 that resumes from the
 * run directories under root. */
static void resumed(struct resume_in *in, const char *root, long max_items)
{
    in->root = root;
    in->resume_previous = true;
    in->max_items = max_items;
    in->total = 5000;
    in->now_ms = NOW;
}

/* Removes the test's directory; no error or warning may have come. */
static void done_with(const char *root, struct buf *path, struct buf *err,
                      struct buf *warn)
{
    buf_reset(path);
    buf_addf(path, "rm -rf '%s'", root);
    assert_int_equal(system(path->buf), 0);
    assert_string_equal(err->buf, "");
    assert_string_equal(warn->buf, "");
    buf_release(err);
    buf_release(path);
    buf_release(warn);
}

struct skip_case {
    bool resume;
    int64_t skip_n, max_items, prev, total;
    int64_t want;
    bool cycle;
    const char *source;
};

static void test_resume_skip_rules(void **state)
{
    static const struct skip_case cases[] = {
        /* no previous run: config skip_n, else 0 */
        {true, 0, -1, -1, 1000, 0, false, "none"},
        {true, 25, -1, -1, 1000, 25, false, "config"},
        /* resume with the 500 overlap */
        {true, 0, -1, 900, 5000, 400, false, "resume"},
        /* upstream never advanced with max_items <= 500: overlap is now
         * half a slice */
        {true, 0, 100, 100, 5000, 50, false, "resume"},
        {true, 0, 100, 150, 5000, 100, false, "resume"},
        /* previous count within the overlap of the start: skip_n */
        {true, 7, -1, 400, 5000, 7, false, "config"},
        /* pass finished: a new cycle from skip_n */
        {true, 0, -1, 4800, 5000, 0, true, "cycle"},
        {true, 0, 1000, 4400, 5000, 3900, false, "resume"},
        /* resume off: the checkpoint is ignored */
        {false, 3, -1, 900, 5000, 3, false, "config"},
        /* unknown total: never a cycle */
        {true, 0, -1, 900, -1, 400, false, "resume"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        const struct skip_case *t = &cases[i];
        const char *src = NULL;
        bool cycle = true;
        int64_t got = resume_skip(t->resume, t->skip_n, t->max_items, t->prev,
                                  t->total, &cycle, &src);

        assert_int_equal(got, t->want);
        assert_int_equal(cycle, t->cycle);
        assert_string_equal(src, t->source);
    }
}

static void write_stats(const char *root, const char *name, int count)
{
    struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;

    buf_addf(&path, "%s/%s", root, name);
    assert_int_equal(fs_mkdir_p(path.buf, &err), 0);
    buf_addstr(&path, "/run_statistics.yaml");
    buf_addf(&data, "git_describe_runtime: null\nskip_n: 0\ncount: %d\n",
             count);
    assert_int_equal(fs_write_atomic(path.buf, data.buf, data.len, &err), 0);
    buf_release(&path);
    buf_release(&data);
    buf_release(&err);
}

static void test_resume_reads_recent_runs_and_archives_a_pass(void **state)
{
    char root[] = "/tmp/ia-resume-XXXXXX";
    char recent[32], recent2[32], old[32], name[64];
    struct resume_in in = RESUME_IN_INIT;
    struct resume r;
    struct report_run run;
    struct buf err = BUF_INIT, path = BUF_INIT, warn = BUF_INIT;

    (void)state;
    assert_non_null(mkdtemp(root));
    report_stamp(NOW - 3600 * 1000LL, recent);
    report_stamp(NOW - 7200 * 1000LL, recent2);
    report_stamp(NOW - 100 * 3600 * 1000LL, old);
    snprintf(name, sizeof(name), "%s_PID11", recent);
    write_stats(root, name, 300);
    snprintf(name, sizeof(name), "%s_PID12", recent2);
    write_stats(root, name, 900);
    snprintf(name, sizeof(name), "%s_PID13", old);
    write_stats(root, name, 5000); /* outside the 72 h window */
    write_stats(root, "not-a-run", 7000);
    assert_int_equal(report_run_create(&run, root, NOW, &err), 0);
    /* The current run has no statistics yet and is excluded anyway. */
    write_stats(root, run.name, 99999);
    resumed(&in, root, 1000);
    in.exclude_run = run.name;
    resume_decide(&r, &in, NULL, &warn);
    assert_int_equal(r.prev_count, 900);
    snprintf(name, sizeof(name), "%s_PID12", recent2);
    assert_string_equal(r.prev_run, name);
    assert_int_equal(r.recent_nr, 2);
    assert_int_equal(r.skip, 400);
    assert_string_equal(r.source, "resume");
    assert_int_equal(resume_archive(&r, root, NOW, &err), 0);
    buf_addf(&path, "%s/_archive/cycle-20240615_131402/%s", root, name);
    assert_true(fs_is_dir(path.buf));
    assert_true(fs_is_dir(run.dir)); /* the current run stays */
    resume_release(&r);
    resume_decide(&r, &in, NULL, &warn);
    assert_int_equal(r.prev_count, -1);
    assert_int_equal(r.skip, 0);
    resume_release(&r);
    /* A missing root is no error: no checkpoint. */
    in.root = "/nonexistent-ia";
    resume_decide(&r, &in, NULL, &warn);
    assert_int_equal(r.prev_count, -1);
    resume_release(&r);
    report_run_release(&run);
    done_with(root, &path, &err, &warn);
}

/*
 * The state database counts too: a run whose directory was removed still
 * moves the checkpoint, and the current run's own row does not.
 */
static void test_resume_uses_the_state_database(void **state)
{
    char root[] = "/tmp/ia-resume-XXXXXX";
    struct resume_in in = RESUME_IN_INIT;
    struct resume r;
    struct state *st = NULL;
    struct state_run_end end;
    struct buf err = BUF_INIT, path = BUF_INIT, warn = BUF_INIT;
    int64_t done_id, current_id;

    (void)state;
    assert_non_null(mkdtemp(root));
    buf_addf(&path, "%s/state.sqlite", root);
    assert_int_equal(state_open(&st, path.buf, &err), 0);
    assert_int_equal(state_run_begin(st, "gone", NOW - 60000, &done_id, &err),
                     0);
    memset(&end, 0, sizeof(end));
    end.finished_at = NOW - 50000;
    end.status = STATE_RUN_DONE;
    end.count = 1200;
    assert_int_equal(state_run_finish(st, done_id, &end, &err), 0);
    assert_int_equal(state_run_begin(st, "now", NOW, &current_id, &err), 0);
    resumed(&in, root, 100);
    in.exclude_state_id = current_id;
    resume_decide(&r, &in, st, &warn);
    assert_int_equal(r.prev_count, 1200);
    assert_null(r.prev_run);
    assert_int_equal(r.skip, 1150);
    assert_string_equal(r.source, "resume");
    resume_release(&r);
    /* resume_previous off: skip_n decides. */
    in.resume_previous = false;
    in.skip_n = 7;
    resume_decide(&r, &in, st, &warn);
    assert_int_equal(r.skip, 7);
    assert_string_equal(r.source, "config");
    resume_release(&r);
    state_close(st);
    assert_int_equal(resume_max_items(-1, 0), -1);
    assert_int_equal(resume_max_items(-1, 250), 250);
    assert_int_equal(resume_max_items(10, 250), 10);
    done_with(root, &path, &err, &warn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_skip_rules),
        cmocka_unit_test(test_resume_reads_recent_runs_and_archives_a_pass),
        cmocka_unit_test(test_resume_uses_the_state_database),
    };

    setenv("TZ", "UTC", 1);
    tzset();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
