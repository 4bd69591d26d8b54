/*
 * test_e2e_jobs.c: Immich's background jobs against the tool's writes
 * (issue #12).
 *
 * In 2.x every tag change queues a sidecar write and then a metadata
 * re-read that replaces the asset's tags with the sidecar's: a change made
 * between the two is undone.  The simulator runs its job queues only when
 * the test says so (--jobs delay=1h, POST /__sim/jobs/run), so the race is
 * ordered exactly:
 *
 *   1. someone tags the admin's party photo `meme` (a sidecar write is
 *      queued) and the sidecar write runs: the sidecar says {meme}, its
 *      re-read is still ahead;
 *   2. the run moves the meme (the template's conversion): album
 *      autotag_input_meme, tag `meme` removed;
 *   3. the re-read runs and puts `meme` back (before the sidecar write
 *      of the removal, which then writes the reverted list).
 *
 * The run waits for the job queues (GET /jobs), reads the changed tags
 * back, and removes `meme` again: once the queues are drained, a plan has
 * nothing left to do.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE  IA_TEST_DATA "/config/upstream-template.yaml"
#define LIBRARY   IA_TEST_DATA "/e2e/multi-user.json"
#define ADMIN_KEY "multi-admin-key"

static void run_jobs(const struct sim_proc *sim)
{
    struct buf body = BUF_INIT;

    assert_int_equal(sim_request(sim, "POST", "/__sim/jobs/run", NULL, &body),
                     200);
    buf_release(&body);
}

static void run_queue(const struct sim_proc *sim, const char *queue)
{
    struct buf body = BUF_INIT, path = BUF_INIT;

    buf_addf(&path, "/__sim/jobs/run?queue=%s", queue);
    assert_int_equal(sim_request(sim, "POST", path.buf, NULL, &body), 200);
    buf_release(&body);
    buf_release(&path);
}

/* A tool run (admin) while the test plays the job queues: once the run
 * has removed a tag, the waiting re-read runs, then every queued job,
 * every 100 ms, until the run ends. */
static int run_racing_jobs(const struct sim_proc *sim, const char *cmd,
                           struct buf *out)
{
    const char *args[] = {cmd,         "--config",       TEMPLATE,
                          "--log-dir", e2e_path("logs"), NULL};
    struct e2e_run r;
    int raced = 0;
    bool done = false;
    unsigned n;
    pid_t pid = e2e_launch(sim, ADMIN_KEY, args, &n);

    for (int i = 0; i < 600 && !(done = e2e_try_reap(pid, n, &r)); i++) {
        if (sim_stat_endpoint(sim, "DELETE /tags/{id}/assets") > 0) {
            /* the re-read that was waiting runs first: it reads the
             * sidecar written before the removal */
            if (!raced++)
                run_queue(sim, "metadataExtraction");
            run_jobs(sim);
        }
        usleep(100 * 1000);
    }
    /* a run that did not wait for the jobs meets the re-read now */
    if (!raced && sim_stat_endpoint(sim, "DELETE /tags/{id}/assets") > 0)
        run_queue(sim, "metadataExtraction");
    if (!done)
        e2e_reap_within(pid, n, 0, &r); /* kills it and fails */
    return e2e_run_output(&r, out, NULL);
}

static void test_undone_tag_change_is_made_again(void **state)
{
    const char *args[] = {"--library", LIBRARY,           "--dialect", "2",
                          "--jobs",    "delay=1h,rate=0", NULL};
    struct sim_proc sim;
    struct buf body = BUF_INIT, out = BUF_INIT, path = BUF_INIT;
    json_t *st, *party, *meme;

    (void)state;
    e2e_boot(&sim, args);
    st = es_state(&sim);
    party = es_find(st, "assets", "originalFileName", "IMG_9100.JPG");
    meme = es_find(st, "tags", "value", "meme");
    assert_non_null(party);
    assert_non_null(meme);
    buf_addf(&path, "/api/tags/%s/assets", es_str(meme, "id"));
    buf_addf(&body, "{\"ids\":[\"%s\"]}", es_str(party, "id"));
    assert_int_equal(sim_request(&sim, "PUT", path.buf, body.buf, &out), 200);
    /* its sidecar write runs; the re-read waits */
    buf_reset(&out);
    assert_int_equal(
        sim_request(&sim, "POST", "/__sim/jobs/run?queue=sidecar", NULL, &out),
        200);

    assert_int_equal(run_racing_jobs(&sim, "run", &out), 0);
    run_jobs(&sim);
    run_jobs(&sim);

    json_decref(st);
    st = es_state(&sim);
    party = es_find(st, "assets", "originalFileName", "IMG_9100.JPG");
    assert_false(es_has_tag(st, party, "meme"));
    assert_true(es_in_album(st, party, "autotag_input_meme"));
    json_decref(st);

    /* nothing left for a next run */
    {
        struct e2e_run r;
        json_t *p;

        assert_int_equal(
            e2e_tool_key(&sim, ADMIN_KEY,
                         E2E_ARGV("plan", "--json", "--config", TEMPLATE,
                                  "--log-dir", e2e_path("logs")),
                         &r),
            0);
        p = es_parse(r.out.buf, r.out.len);
        assert_int_equal(json_array_size(json_object_get(p, "groups")), 0);
        json_decref(p);
        e2e_run_release(&r);
    }
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&body);
    buf_release(&out);
    buf_release(&path);
}

/*
 * A library of one photo whose dates are three days later than its name
 * says (PXL_20190714_153012000.jpg: 15:30:12 in Madrid, 13:30:12 UTC), so
 * the date correction sets it back; readOnly: its file cannot take a
 * sidecar.  Written to the scratch directory's `name`; the path in out.
 */
static void shifted_library(const char *name, bool read_only, struct buf *out)
{
    const char *late = "2019-07-17T13:30:12.000Z";
    json_t *asset, *lib;

    asset = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
        " s:n, s:s, s:b, s:n, s:[], s:{s:s, s:s}}",
        "id", "00000000-0000-4000-8000-0000000000e1", "ownerId",
        "00000000-0000-4000-8000-00000000a001", "type", "IMAGE", "originalPath",
        "/photos/PXL_20190714_153012000.jpg", "originalFileName",
        "PXL_20190714_153012000.jpg", "fileCreatedAt", late, "fileModifiedAt",
        late, "localDateTime", "2019-07-17T15:30:12.000Z", "createdAt", late,
        "updatedAt", late, "deletedAt", "visibility", "timeline", "isFavorite",
        0, "duplicateId", "tagIds", "exifInfo", "dateTimeOriginal", late,
        "timeZone", "Europe/Madrid");
    if (read_only)
        json_object_set_new(asset, "readOnly", json_true());
    lib = json_pack("{s:s, s:[{s:s, s:s, s:s, s:b, s:[], s:[{s:s, s:s,"
                    " s:[s]}]}], s:[], s:[], s:[o], s:{}}",
                    "format", "immich-sim-library/1", "users", "id",
                    "00000000-0000-4000-8000-00000000a001", "email",
                    "admin@example.com", "name", "Admin", "isAdmin", 1,
                    "partners", "apiKeys", "key", ADMIN_KEY, "name", "k",
                    "permissions", "all", "tags", "albums", "assets", asset,
                    "expected");
    buf_reset(out);
    buf_addstr(out, e2e_path(name));
    assert_int_equal(json_dump_file(lib, out->buf, JSON_COMPACT), 0);
    json_decref(lib);
}

/* One `run` with the date-correction fixture as the admin. */
static int correction_run(const struct sim_proc *sim, const char *logdir)
{
    return e2e_tool_code_key(sim, ADMIN_KEY,
                             E2E_ARGV("run", "--quiet", "--config",
                                      IA_TEST_DATA "/e2e/date-correction.yaml",
                                      "--log-dir", e2e_path(logdir)));
}

/*
 * A date correction is recorded in the EXIF row at once and moves the
 * asset's dates only when the jobs have run, or never (a read-only
 * file).  The next run, meanwhile, takes the EXIF date as the asset's:
 * it does not correct the date again (one PUT /assets in all).
 */
static void correction_waits(const char *jobs, bool read_only, const char *name)
{
    const char *args[] = {"--library", NULL, "--jobs", jobs, NULL};
    struct sim_proc sim;
    struct buf lib = BUF_INIT, dir = BUF_INIT;
    json_t *st, *a;

    shifted_library(name, read_only, &lib);
    args[1] = lib.buf;
    e2e_boot(&sim, args);
    buf_addf(&dir, "%s-1", name);
    assert_int_equal(correction_run(&sim, dir.buf), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /assets"), 1);
    usleep(300 * 1000); /* the jobs that can run have run */
    buf_reset(&dir);
    buf_addf(&dir, "%s-2", name);
    assert_int_equal(correction_run(&sim, dir.buf), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /assets"), 1);
    st = es_state(&sim);
    a = json_array_get(json_object_get(st, "assets"), 0);
    /* the server recorded the correction; the file's date waits */
    assert_string_equal(
        es_str(json_object_get(a, "exifInfo"), "dateTimeOriginal"),
        "2019-07-14T13:30:12.000Z");
    assert_string_equal(es_str(a, "fileCreatedAt"), "2019-07-17T13:30:12.000Z");
    json_decref(st);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&lib);
    buf_release(&dir);
}

static void test_correction_waiting_for_jobs_is_not_made_again(void **state)
{
    (void)state;
    correction_waits("delay=1h,rate=0", false, "pending.json");
}

static void test_correction_of_a_read_only_file_is_not_made_again(void **state)
{
    (void)state;
    correction_waits("delay=10ms,rate=0", true, "readonly.json");
}

/*
 * The run's timeline (timeline.json in the run directory, the last line
 * of its stdout at out_path) has the holds as phases of their own, and
 * the write phases they interrupted still end and count their requests.
 * reported: the holds the run's log counted.
 */
static void hold_timeline(const char *out_path, size_t reported)
{
    struct buf out = BUF_INIT, err = BUF_INIT, path = BUF_INIT;
    json_t *spans, *x;
    size_t i, holds = 0, removes = 0;
    char *end;

    assert_int_equal(fs_read_file(out_path, 1 << 20, &out, &err), 0);
    while (out.len && out.buf[out.len - 1] == '\n')
        out.buf[--out.len] = '\0';
    end = strrchr(out.buf, '\n');
    buf_addf(&path, "%s/timeline.json", end ? end + 1 : out.buf);
    buf_reset(&out);
    assert_int_equal(fs_read_file(path.buf, 1 << 22, &out, &err), 0);
    spans = es_parse(out.buf, out.len);
    json_array_foreach(spans, i, x)
    {
        const char *phase = es_str(x, "phase");
        json_int_t start = json_integer_value(json_object_get(x, "start_ms"));
        json_int_t stop = json_integer_value(json_object_get(x, "end_ms"));

        if (!strcmp(phase, "holding writes: job queues")) {
            holds++;
            assert_true(stop > start);
        } else if (!strcmp(phase, "tag removes")) {
            removes++;
            /* its 5 writes and the GET /jobs between them */
            assert_true(json_integer_value(json_object_get(x, "requests")) >=
                        5);
            assert_true(stop > start);
        }
    }
    /* as many as the run reported ("writes held N times") */
    assert_true(holds >= 1);
    assert_int_equal(holds, reported);
    assert_int_equal(removes, 1);
    json_decref(spans);
    buf_release(&out);
    buf_release(&err);
    buf_release(&path);
}

/*
 * Politeness: a key that may read the job queues holds new tag writes
 * while more than --hold-jobs jobs are ahead.  The template on the small
 * library (3.x: 2 tag adds, 5 tag removals, each queuing a sidecar write
 * and then a metadata re-read per asset) with a threshold of one job:
 * every tag write after the first waits until the queues have drained to
 * one job.  The simulator records the most jobs ahead when a write
 * queued its first one (max_ahead_at_write); jobs wait 1 s, so without
 * the hold the second write would find the first one's jobs ahead.
 */
static void test_writes_wait_for_deep_job_queues(void **state)
{
    const char *args[] = {"--preset", "small",  "--dialect",
                          "3",        "--jobs", "delay=1s,rate=1000/s",
                          NULL};
    struct sim_proc sim;
    struct buf err = BUF_INIT, logs = BUF_INIT, errpath = BUF_INIT,
               out = BUF_INIT, outpath = BUF_INIT;
    const char *held;
    const char *targs[] = {"run", "--config",  TEMPLATE, "--hold-jobs",
                           "1",   "--log-dir", NULL,     NULL};

    (void)state;
    if (sim_start(&sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_addstr(&logs, e2e_path("hold-logs"));
    buf_addstr(&errpath, e2e_path("hold.err"));
    targs[6] = logs.buf;
    buf_addstr(&outpath, e2e_path("hold.out"));
    assert_int_equal(sim_wait_tool(sim_spawn_tool(&sim, IA_BIN, targs,
                                                  outpath.buf, errpath.buf)),
                     0);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /tags/{id}/assets"), 2);
    assert_int_equal(sim_stat_endpoint(&sim, "DELETE /tags/{id}/assets"), 5);
    /* the queues were asked before each of the 6 later writes */
    assert_true(sim_stat_endpoint(&sim, "GET /jobs") >= 6);
    /* no write queued jobs while more than one was ahead */
    assert_in_range(sim_stat_long(&sim, "jobs.max_ahead_at_write"), 0, 1);
    /* and the run said so */
    assert_int_equal(fs_read_file(errpath.buf, 1 << 20, &out, &err), 0);
    held = strstr(out.buf, "writes held ");
    if (!held)
        fail_msg("no hold reported: %s", out.buf);
    hold_timeline(outpath.buf,
                  strtoul(held + strlen("writes held "), NULL, 10));
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&err);
    buf_release(&logs);
    buf_release(&errpath);
    buf_release(&out);
    buf_release(&outpath);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undone_tag_change_is_made_again),
        cmocka_unit_test(test_correction_waiting_for_jobs_is_not_made_again),
        cmocka_unit_test(test_correction_of_a_read_only_file_is_not_made_again),
        cmocka_unit_test(test_writes_wait_for_deep_job_queues),
    };

    return e2e_run_group("jobs", IA_BIN, tests);
}
