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
 *   - --watch with --loop is refused before any request (exit 2);
 *   - on both server lines, each change below makes the next poll run a
 *     pass: inside an album another user shares with the caller (renamed,
 *     a member removed), a shared album appearing and one taken away from
 *     the caller, and a hidden asset edited; where the rules care, the
 *     pass acts (an asset classified by the shared album's new name,
 *     unclassified again once the album is gone); an idle poll costs
 *     exactly two requests on 3.x and five on 2.x.
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

/* Upstream's rule for an asset no rule classifies: a temporary album
 * of its day, "<date>-autotag-temp-unclassified".  Is the asset in one? */
static bool in_temp_album(json_t *st, json_t *asset)
{
    const char *suffix = "-autotag-temp-unclassified";
    size_t sl = strlen(suffix);

    for (size_t i = 0; es_album_of(st, asset, i); i++) {
        const char *name = es_album_of(st, asset, i);
        size_t len = strlen(name);

        if (len > sl && !strcmp(name + len - sl, suffix))
            return true;
    }
    return false;
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
    bool idle, idle2, passed;

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
    assert_true(in_temp_album(st, asset));
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

/* The other users' keys (the simulator's small library). */
#define JOHN_KEY "immich-sim-key-John"
#define JANE_KEY "immich-sim-key-Jane"
/* Albums of other users in that library; the admin is an editor of
 * John's, not a member of Jane's. */
#define JOHN_ALBUM "John\xe2\x80\x99s album 1"
#define JANE_ALBUM "Jane\xe2\x80\x99s album 1"
/* A name the template's date rule (^\d{4}-...) classifies by. */
#define DATED_NAME "2020-06-01 Picnic"

/* A request as the user of key; fails the test unless 2xx.  The body
 * (printf format, may be NULL) into out when out is not NULL. */
static void as_user(const struct sim_proc *sim, const char *key,
                    const char *method, const char *path, struct buf *out,
                    const char *fmt, ...)
{
    struct buf body = BUF_INIT, answer = BUF_INIT;
    va_list ap;
    int st;

    if (fmt) {
        va_start(ap, fmt);
        buf_vaddf(&body, fmt, ap);
        va_end(ap);
    }
    st =
        sim_request_key(sim, key ? key : sim->api_key, method, path,
                        fmt ? body.buf : NULL, out ? out : &answer, NULL, NULL);
    if (st < 200 || st > 299)
        fail_msg("%s %s: %d %s", method, path, st, out ? out->buf : answer.buf);
    buf_release(&body);
    buf_release(&answer);
}

/* A watch of 1 s polls under way, and the first thing it did wrong. */
struct watching {
    struct sim_proc sim;
    pid_t pid;
    unsigned n;
    size_t at; /* stderr offset after the last "nothing new" line */
    struct buf failed;
};

static void watch_start(struct watching *w, const char *logs)
{
    const char *args[] = {"run",    "--watch",   "1s", "-c",
                          TEMPLATE, "--log-dir", logs, NULL};

    buf_init(&w->failed, 0);
    w->pid = e2e_launch(&w->sim, NULL, args, &w->n);
    if (!e2e_wait_err(w->n, 0, "watching: nothing new", WAIT_S, &w->at))
        buf_addstr(&w->failed, "the watch never became idle");
}

/*
 * The change (made by the caller since w->at, while the tool sleeps)
 * must make the next poll run a pass; then the watch must become idle
 * again (the pass's own writes may take one more).  The first failure
 * is kept in w->failed, and later steps are skipped: the test fails
 * once the tool is stopped.
 */
static void next_poll_runs_a_pass(struct watching *w, size_t mark,
                                  const char *change)
{
    struct buf err = BUF_INIT;
    size_t next, eol;

    if (w->failed.len)
        return;
    if (!e2e_wait_err(w->n, mark, "watching: ", WAIT_S, &next)) {
        buf_addf(&w->failed, "%s: no poll after it", change);
        return;
    }
    e2e_slurp(e2e_err_path(w->n), &err);
    eol = strcspn(err.buf + next, "\n");
    if (!e2e_count(err.buf + next, eol, "running a pass"))
        buf_addf(&w->failed, "%s: the next poll said \"watching: %.*s\"",
                 change, (int)eol, err.buf + next);
    else if (!e2e_wait_err(w->n, next, "watching: nothing new", WAIT_S, &w->at))
        buf_addf(&w->failed, "%s: the watch never became idle again", change);
    buf_release(&err);
}

/* Is asset id unclassified now (in a temporary album of its day)? */
static bool unclassified(const struct sim_proc *sim, const char *id)
{
    json_t *st = es_state(sim);
    json_t *asset = es_find(st, "assets", "id", id);
    bool yes;

    assert_non_null(asset);
    yes = in_temp_album(st, asset);
    json_decref(st);
    return yes;
}

/* Stops the watch; fails with its first failure, if any. */
static void watch_end(struct watching *w)
{
    struct e2e_run r;

    e2e_term(w->pid, w->n, &r);
    if (w->failed.len) /* with the end of the tool's log */
        fail_msg("%s\n...%s", w->failed.buf,
                 r.err.buf + (r.err.len > 1500 ? r.err.len - 1500 : 0));
    assert_int_equal(r.code, 0);
    e2e_run_release(&r);
    buf_release(&w->failed);
}

/* One new photo of the admin, uploaded now: its id into id. */
static void upload_one(const struct sim_proc *sim, struct buf *id)
{
    struct buf body = BUF_INIT;
    json_t *up;

    as_user(sim, NULL, "POST", "/__sim/upload", &body, "{\"count\":1}");
    up = es_parse(body.buf, body.len);
    buf_reset(id);
    buf_addstr(
        id, json_string_value(json_array_get(json_object_get(up, "ids"), 0)));
    json_decref(up);
    buf_release(&body);
}

/*
 * Albums another user shares with the caller, on one server line.  Before
 * the watch: a new photo X of the admin is put (the admin is an editor)
 * into John's album, and John shares the album with Jane too.  While
 * watching, each of these runs a pass at the next poll: John renames the
 * album with a date (X is then classified: it leaves its temporary
 * album), John takes Jane off the album, Jane shares her album with the
 * admin, John takes the admin off his album (X, in no album the admin
 * sees, is unclassified again: back in a temporary album).  Then an idle
 * poll costs `idle` requests by the simulator's count.
 */
static void shared_albums_are_watched(const char *dialect, long idle)
{
    struct watching w;
    struct buf john = BUF_INIT, jane_album = BUF_INIT, x = BUF_INIT,
               path = BUF_INIT;
    char jane[64], admin[64];
    bool named_classifies, unshared_unclassifies;
    long before, after = -1;
    json_t *st;

    e2e_boot(&w.sim, E2E_ARGV("--dialect", dialect));
    st = es_state(&w.sim);
    snprintf(jane, sizeof(jane), "%s", es_user_id(st, "jane@example.com"));
    snprintf(admin, sizeof(admin), "%s", es_admin_id(st));
    json_decref(st);
    album_id(&w.sim, JOHN_ALBUM, &john);
    album_id(&w.sim, JANE_ALBUM, &jane_album);
    upload_one(&w.sim, &x);
    buf_addf(&path, "/api/albums/%s/assets", john.buf);
    as_user(&w.sim, NULL, "PUT", path.buf, NULL, "{\"ids\":[\"%s\"]}", x.buf);
    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s/users", john.buf);
    as_user(&w.sim, JOHN_KEY, "PUT", path.buf, NULL,
            "{\"albumUsers\":[{\"userId\":\"%s\",\"role\":\"viewer\"}]}", jane);
    watch_start(
        &w, e2e_path(dialect[0] == '2' ? "watch-shared2" : "watch-shared3"));

    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s", john.buf);
    if (!w.failed.len)
        as_user(&w.sim, JOHN_KEY, "PATCH", path.buf, NULL,
                "{\"albumName\":\"" DATED_NAME "\"}");
    next_poll_runs_a_pass(&w, w.at, "the shared album renamed");
    named_classifies = !unclassified(&w.sim, x.buf);

    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s/user/%s", john.buf, jane);
    if (!w.failed.len)
        as_user(&w.sim, JOHN_KEY, "DELETE", path.buf, NULL, NULL);
    next_poll_runs_a_pass(&w, w.at, "a member taken off the shared album");

    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s/users", jane_album.buf);
    if (!w.failed.len)
        as_user(&w.sim, JANE_KEY, "PUT", path.buf, NULL,
                "{\"albumUsers\":[{\"userId\":\"%s\",\"role\":\"viewer\"}]}",
                admin);
    next_poll_runs_a_pass(&w, w.at, "an album newly shared with the caller");

    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s/user/%s", john.buf, admin);
    if (!w.failed.len)
        as_user(&w.sim, JOHN_KEY, "DELETE", path.buf, NULL, NULL);
    next_poll_runs_a_pass(&w, w.at, "the shared album taken from the caller");
    unshared_unclassifies = unclassified(&w.sim, x.buf);

    /* One idle poll: the simulator's count between two "nothing new"
     * lines (the tool sleeps after each). */
    before = sim_stat_long(&w.sim, "requests");
    if (!w.failed.len &&
        e2e_wait_err(w.n, w.at, "watching: nothing new", WAIT_S, NULL))
        after = sim_stat_long(&w.sim, "requests");
    watch_end(&w);
    assert_true(named_classifies);
    assert_true(unshared_unclassifies);
    assert_int_equal(after - before, idle);
    buf_release(&john);
    buf_release(&jane_album);
    buf_release(&x);
    buf_release(&path);
    e2e_halt(&w.sim);
}

static void test_shared_albums_are_watched_v2(void **state)
{
    (void)state;
    /* owned and shared album lists, timeline/archive/hidden searches */
    shared_albums_are_watched("2", 5);
}

static void test_shared_albums_are_watched_v3(void **state)
{
    (void)state;
    /* one album list, one search */
    shared_albums_are_watched("3", 2);
}

/*
 * A hidden asset (a live photo's video part) edited while watching: the
 * next poll runs a pass on both server lines (2.x searches hidden assets
 * only when asked for them).  The rules skip hidden assets, so the pass
 * has nothing to write for it.
 */
static void hidden_asset_is_watched(const char *dialect)
{
    struct watching w;
    struct buf h = BUF_INIT, path = BUF_INIT;
    size_t mark;

    e2e_boot(&w.sim, E2E_ARGV("--dialect", dialect));
    upload_one(&w.sim, &h);
    buf_addf(&path, "/api/assets/%s", h.buf);
    as_user(&w.sim, NULL, "PUT", path.buf, NULL, "{\"visibility\":\"hidden\"}");
    watch_start(
        &w, e2e_path(dialect[0] == '2' ? "watch-hidden2" : "watch-hidden3"));
    mark = e2e_err_len(w.n);
    if (!w.failed.len)
        as_user(&w.sim, NULL, "PUT", path.buf, NULL, "{\"isFavorite\":true}");
    next_poll_runs_a_pass(&w, mark, "a hidden asset edited");
    watch_end(&w);
    buf_release(&h);
    buf_release(&path);
    e2e_halt(&w.sim);
}

static void test_hidden_asset_is_watched_v2(void **state)
{
    (void)state;
    hidden_asset_is_watched("2");
}

static void test_hidden_asset_is_watched_v3(void **state)
{
    (void)state;
    hidden_asset_is_watched("3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upload_is_classified_by_the_next_poll),
        cmocka_unit_test(test_sigterm_during_a_pass_writes_its_reports),
        cmocka_unit_test(test_failed_poll_writes_nothing),
        cmocka_unit_test(test_watch_with_loop_is_refused),
        cmocka_unit_test(test_shared_albums_are_watched_v2),
        cmocka_unit_test(test_shared_albums_are_watched_v3),
        cmocka_unit_test(test_hidden_asset_is_watched_v2),
        cmocka_unit_test(test_hidden_asset_is_watched_v3),
    };

    return e2e_run_group("watch", IA_BIN, tests);
}
