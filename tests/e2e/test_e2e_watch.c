/*
 * test_e2e_watch.c: `run --watch` against immich-sim (issue #18).
 *
 *   - an upload made while watching is classified by the pass the next
 *     poll starts (the first poll after the upload, not a later one);
 *   - an idle poll costs at most two requests (the simulator's count
 *     between two "nothing new" lines, while the tool sleeps);
 *   - SIGTERM while watching: between polls, exit 0 within the bound, the
 *     passes' reports in place; during a pass, exit 1 with its reports;
 *   - a poll that fails (a proxy's login page) starts no pass: no request
 *     after it, nothing written;
 *   - --watch with --loop is refused before any request (exit 2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/common.h"
#include "e2e_state.h"
#include "e2e_tool.h"

#define TEMPLATE IA_TEST_DATA "/config/upstream-template.yaml"
/* A liveness bound for the waits (ASan builds are slow), not a timing. */
#define WAIT_S 120

/* The id of the album named name in the simulator's state. */
static void album_id(const struct sim_proc *sim, const char *name,
                     struct buf *id)
{
    json_t *st = es_state(sim);
    json_t *al = es_find(st, "albums", "albumName", name);

    assert_non_null(al);
    buf_reset(id);
    buf_addstr(id, es_str(al, "id"));
    json_decref(st);
}

/* How many run directories below root hold run_statistics.yaml; 0 when
 * root was never made (no pass began); any other failure fails. */
static int runs_with_reports(const char *root)
{
    struct stat rs;
    struct dirent *e;
    DIR *d;
    int n = 0;

    if (stat(root, &rs) < 0 && errno == ENOENT)
        return 0;
    d = opendir(root);
    assert_non_null(d);
    while ((e = readdir(d))) {
        struct buf p = BUF_INIT;
        struct stat sb;

        buf_addf(&p, "%s/%s/run_statistics.yaml", root, e->d_name);
        n += e->d_name[0] != '.' && stat(p.buf, &sb) == 0;
        buf_release(&p);
    }
    closedir(d);
    return n;
}

/*
 * The whole life of a watch on the small library: the start, a guest's
 * upload classified by the pass the first poll after it starts (the
 * simulator's state, not the tool's report, says where the photo went),
 * the cost of an idle poll by the simulator's own count, and SIGTERM
 * while the tool sleeps between polls (exit 0, reports in place).
 */
static void test_upload_is_classified_by_the_next_poll(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    struct buf album = BUF_INIT, body = BUF_INIT, req = BUF_INIT;
    const char *logs = e2e_path("watch-upload");
    const char *args[] = {"run",    "--watch",   "2s", "-c",
                          TEMPLATE, "--log-dir", logs, NULL};
    size_t at, mark, next;
    long before, after;
    unsigned n;
    pid_t pid;
    json_t *st, *up, *asset;
    const char *line;
    bool idle, idle2, passed, in_temp = false;

    (void)state;
    e2e_boot(&sim, NULL);
    album_id(&sim, "Family Christmas 2005", &album);
    pid = e2e_launch(&sim, NULL, args, &n);
    /* The full pass at start, its follow-up (its own album writes), then
     * a poll that finds nothing: the tool now sleeps 2 s. */
    idle = e2e_wait_err(n, 0, "watching: nothing new since", WAIT_S, &at);

    /* A guest uploads a new photo through the album's shared link. */
    buf_addf(&req, "{\"albumId\":\"%s\"}", album.buf);
    mark = e2e_err_len(n);
    assert_int_equal(
        sim_request(&sim, "POST", "/__sim/shared-link-upload", req.buf, &body),
        200);
    up = es_parse(body.buf, body.len);
    /* The first poll after it starts a pass, which ends with the next
     * "next poll in". */
    passed = e2e_wait_err(n, mark, "watching: ", WAIT_S, &next) &&
             e2e_wait_err(n, next, "next poll in", WAIT_S, NULL);
    e2e_slurp(e2e_err_path(n), &body);
    line = body.buf + next - strlen("watching: ");
    st = es_state(&sim);
    asset = es_find(st, "assets", "id", es_str(up, "id"));

    /* One idle poll: the simulator's count between two "nothing new"
     * lines (the tool sleeps after each). */
    idle2 = e2e_wait_err(n, next, "watching: nothing new", WAIT_S, &at);
    before = sim_stat_long(&sim, "requests");
    idle2 = idle2 && e2e_wait_err(n, at, "watching: nothing new", WAIT_S, NULL);
    after = sim_stat_long(&sim, "requests");

    e2e_term(pid, n, &r);
    assert_true(idle);
    assert_true(passed);
    assert_true(!strncmp(line,
                         "watching: 1 new or changed asset: running a "
                         "pass",
                         strlen("watching: 1 new or changed asset: running a "
                                "pass")));
    assert_non_null(asset);
    /* Upstream's rule for an asset no rule classifies: a temporary
     * album of its day, "<date>-autotag-temp-unclassified". */
    for (size_t i = 0; es_album_of(st, asset, i); i++) {
        const char *name = es_album_of(st, asset, i);
        size_t len = strlen(name), sl = strlen("-autotag-temp-unclassified");

        in_temp |=
            len > sl && !strcmp(name + len - sl, "-autotag-temp-unclassified");
    }
    assert_true(in_temp);
    assert_true(idle2);
    assert_true(after - before >= 1);
    assert_true(after - before <= 2);
    /* SIGTERM while it sleeps: a clean stop after good passes. */
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    assert_true(runs_with_reports(logs) >= 1);
    json_decref(st);
    json_decref(up);
    e2e_run_release(&r);
    buf_release(&album);
    buf_release(&body);
    buf_release(&req);
    e2e_halt(&sim);
}

/*
 * Starts `run --watch 1h` on sim with its reports under logs, waits until
 * its stderr says line, then stops it with SIGTERM (into r): whether the
 * line came.
 */
static bool watch_until(const struct sim_proc *sim, const char *logs,
                        const char *line, struct e2e_run *r)
{
    const char *args[] = {"run",    "--watch",   "1h", "-c",
                          TEMPLATE, "--log-dir", logs, NULL};
    unsigned n;
    pid_t pid = e2e_launch(sim, NULL, args, &n);
    bool said = e2e_wait_err(n, 0, line, WAIT_S, NULL);

    e2e_term(pid, n, r);
    return said;
}

/* SIGTERM while the start's full pass runs: the pass winds down with
 * its reports and the watch ends with the pass's exit code 1. */
static void test_sigterm_during_a_pass_writes_its_reports(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    const char *logs = e2e_path("watch-term");
    bool began;

    (void)state;
    /* The seed latency model: the start's full pass takes seconds. */
    e2e_boot(&sim, E2E_ARGV("--latency", "seed"));
    began = watch_until(&sim, logs, "watching: a full pass to start with", &r);
    assert_true(began);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    assert_int_equal(runs_with_reports(logs), 1);
    e2e_run_release(&r);
    e2e_halt(&sim);
}

/* A poll that meets a proxy's login page starts no pass: nothing after
 * the poll's own requests, no run directory, no write. */
static void test_failed_poll_writes_nothing(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    const char *logs = e2e_path("watch-fail");
    bool said;
    long requests;

    (void)state;
    /* The first GET /albums meets a proxy's login page; every later
     * request would be answered, so a pass started anyway would write. */
    e2e_boot(&sim, E2E_ARGV("--faults", "loginpage:first=1@GET /albums"));
    said = watch_until(&sim, logs, "watching: could not ask the server", &r);
    requests = sim_stat_long(&sim, "requests");
    assert_true(said);
    assert_non_null(strstr(r.err.buf, "an HTML page"));
    assert_int_equal(sim_stat_writes(&sim), 0);
    /* The first poll's own requests (version, statistics, albums) and
     * nothing after them. */
    assert_true(requests >= 1);
    assert_true(requests <= 3);
    assert_int_equal(runs_with_reports(logs), 0);
    assert_int_equal(r.code, 0);
    e2e_run_release(&r);
    e2e_halt(&sim);
}

static void test_watch_with_loop_is_refused(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;

    (void)state;
    e2e_boot(&sim, NULL);
    assert_int_equal(
        e2e_tool(&sim,
                 E2E_ARGV("run", "--watch", "--loop", "1h", "-c", TEMPLATE,
                          "--log-dir", e2e_path("watch-loop")),
                 &r),
        2);
    assert_non_null(strstr(r.err.buf, "--watch and --loop"));
    assert_int_equal(sim_stat_long(&sim, "requests"), 0);
    e2e_run_release(&r);
    e2e_halt(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_is_classified_by_the_next_poll),
        cmocka_unit_test(test_sigterm_during_a_pass_writes_its_reports),
        cmocka_unit_test(test_failed_poll_writes_nothing),
        cmocka_unit_test(test_watch_with_loop_is_refused),
    };

    return e2e_run_group("watch", IA_BIN, tests);
}
