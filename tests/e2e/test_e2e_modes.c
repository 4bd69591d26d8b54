/*
 * test_e2e_modes.c: the tool's run modes against immich-sim (issue #6).
 *
 *   - plan and run --dry-run write nothing; plan --json then apply makes
 *     the same end state as a direct run; a stale plan is refused;
 *   - a second run makes no write;
 *   - a run stopped by SIGTERM after its first writes exits 1 with its
 *     reports, and the next run converges to the state of a clean run;
 *   - a write endpoint answering 403 is reported (exit 1, endpoint and
 *     status in the modification report), the other writes still happen;
 *   - the API key appears in no byte the tool writes: stdout, stderr and
 *     every file under the log root.
 */
#define _GNU_SOURCE /* memmem */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <dirent.h>
#include <jansson.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "sim_harness.h"

#define KEY "e2e-SECRET-key-5d1f83c0b9a24e7f"
#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"

static char tmpdir[64];

struct out {
    int code;
    struct buf out, err;
};

static void out_paths(struct buf *o, struct buf *e)
{
    buf_addf(o, "%s/stdout", tmpdir);
    buf_addf(e, "%s/stderr", tmpdir);
}

/* Starts the tool (argv after the program name, NULL-terminated). */
static pid_t spawn(const struct sim_proc *sim, const char *const *args)
{
    struct buf o = BUF_INIT, e = BUF_INIT;
    pid_t pid;

    out_paths(&o, &e);
    pid = sim_spawn_tool(sim, IA_BIN, args, o.buf, e.buf);
    assert_true(pid > 0);
    buf_release(&o);
    buf_release(&e);
    return pid;
}

static void finish(pid_t pid, struct out *r)
{
    struct buf o = BUF_INIT, e = BUF_INIT, ignored = BUF_INIT;

    r->code = sim_wait_tool(pid);
    assert_true(r->code >= 0);
    buf_init(&r->out, 0);
    buf_init(&r->err, 0);
    out_paths(&o, &e);
    assert_int_equal(fs_read_file(o.buf, 1 << 24, &r->out, &ignored), 0);
    assert_int_equal(fs_read_file(e.buf, 1 << 24, &r->err, &ignored), 0);
    buf_release(&o);
    buf_release(&e);
    buf_release(&ignored);
}

static void out_release(struct out *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

static int tool(const struct sim_proc *sim, struct out *r, ...)
{
    const char *args[20];
    size_t n = 0;
    va_list ap;

    va_start(ap, r);
    while (n < ARRAY_SIZE(args) - 1 &&
           (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    finish(spawn(sim, args), r);
    return r->code;
}

static void start(struct sim_proc *sim, const char *faults)
{
    const char *args[] = { "--preset", "small", "--seed", "1", "--latency",
                           "off", "--api-key", KEY, NULL, NULL, NULL };
    struct buf err = BUF_INIT;

    if (faults) {
        args[8] = "--faults";
        args[9] = faults;
    }
    if (sim_start(sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

static void reset(const struct sim_proc *sim)
{
    assert_int_equal(sim_reset_stats(sim), 0);
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines of text in sorted order (creation order is not state). */
static char *sorted_lines(char *text)
{
    char **v = NULL, *p, *save = NULL;
    size_t nr = 0, alloc = 0;
    struct buf o = BUF_INIT;

    for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
        ALLOC_GROW(v, nr + 1, alloc);
        v[nr++] = p;
    }
    if (nr)
        qsort(v, nr, sizeof(*v), cmp_line);
    for (size_t i = 0; i < nr; i++)
        buf_addf(&o, "%s\n", v[i]);
    free(v);
    free(text);
    return buf_detach(&o, NULL);
}

/*
 * The library as the rules see it, without the ids the server mints: per
 * asset its tag values and album names, per album its users and roles.
 */
static char *end_state(const struct sim_proc *sim)
{
    struct buf body = BUF_INIT, o = BUF_INIT;
    json_t *st, *a, *x, *names = json_object(), *tags = json_object();
    json_error_t jerr;
    size_t i, j;
    char *s;

    assert_int_equal(sim_request(sim, "GET", "/__sim/state", NULL, &body),
                     200);
    st = json_loadb(body.buf, body.len, 0, &jerr);
    assert_non_null(st);
    json_array_foreach(json_object_get(st, "albums"), i, a) {
        json_t *users = json_object();

        json_object_set_new(names, json_string_value(json_object_get(a,
                                                                     "id")),
                            json_deep_copy(json_object_get(a, "albumName")));
        /* members in a key-sorted object: the order they were added in
         * does not matter */
        json_array_foreach(json_object_get(a, "albumUsers"), j, x)
            json_object_set(users,
                            json_string_value(json_object_get(x, "userId")),
                            json_object_get(x, "role"));
        s = json_dumps(users, JSON_SORT_KEYS | JSON_COMPACT);
        buf_addf(&o, "album %s users %s\n",
                 json_string_value(json_object_get(a, "albumName")), s);
        free(s);
        json_decref(users);
    }
    json_array_foreach(json_object_get(st, "tags"), i, a)
        json_object_set(tags, json_string_value(json_object_get(a, "id")),
                        json_object_get(a, "value"));
    /* one line per fact, so that the order links were made in is not
     * compared */
    json_array_foreach(json_object_get(st, "assets"), i, a) {
        const char *id = json_string_value(json_object_get(a, "id"));

        buf_addf(&o, "asset %s date %s\n", id,
                 json_string_value(json_object_get(a, "fileCreatedAt")));
        json_array_foreach(json_object_get(a, "tagIds"), j, x)
            buf_addf(&o, "asset %s tag %s\n", id,
                     json_string_value(json_object_get(
                         tags, json_string_value(x))));
        json_array_foreach(json_object_get(a, "albumIds"), j, x)
            buf_addf(&o, "asset %s album %s\n", id,
                     json_string_value(json_object_get(
                         names, json_string_value(x))));
    }
    json_decref(names);
    json_decref(tags);
    json_decref(st);
    buf_release(&body);
    return sorted_lines(buf_detach(&o, NULL));
}

static bool str_is(json_t *v, const char *s)
{
    return json_is_string(v) && s && !strcmp(json_string_value(v), s);
}

static const char *logs(void)
{
    static char path[96];

    snprintf(path, sizeof(path), "%s/logs", tmpdir);
    return path;
}

/* ---- the key is never written ---------------------------------------- */

static void assert_no_key_in_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d))) {
        struct buf p = BUF_INIT, data = BUF_INIT, ignored = BUF_INIT;
        struct stat sb;

        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        buf_addf(&p, "%s/%s", dir, e->d_name);
        assert_int_equal(stat(p.buf, &sb), 0);
        if (S_ISDIR(sb.st_mode)) {
            assert_no_key_in_tree(p.buf);
        } else if (S_ISREG(sb.st_mode)) {
            assert_int_equal(fs_read_file(p.buf, 1 << 26, &data, &ignored),
                             0);
            if (memmem(data.buf, data.len, KEY, strlen(KEY)))
                fail_msg("the API key is in %s", p.buf);
        }
        buf_release(&p);
        buf_release(&data);
        buf_release(&ignored);
    }
    closedir(d);
}

static void assert_no_key(const struct out *r)
{
    assert_null(memmem(r->out.buf, r->out.len, KEY, strlen(KEY)));
    assert_null(memmem(r->err.buf, r->err.len, KEY, strlen(KEY)));
}

/* ---- tests ----------------------------------------------------------- */

static void test_plan_dry_run_apply_and_second_run(void **state)
{
    struct sim_proc a, b;
    struct out r;
    struct buf plan = BUF_INIT, ignored = BUF_INIT;
    char *direct, *applied, *dir;

    (void)state;
    /* a direct run on one library... */
    start(&a, NULL);
    assert_int_equal(tool(&a, &r, "run", "-c", CONFIG, "--log-dir", logs(),
                          NULL),
                     0);
    assert_no_key(&r);
    /* the last line of stdout is the run directory */
    dir = strrchr(r.out.buf, '\n');
    assert_non_null(dir);
    *dir = '\0';
    dir = strrchr(r.out.buf, '\n');
    assert_non_null(strstr(dir ? dir + 1 : r.out.buf, logs()));
    out_release(&r);
    direct = end_state(&a);

    /* ...and plan + apply on a twin: plan and dry-run write nothing */
    start(&b, NULL);
    reset(&b);
    assert_int_equal(tool(&b, &r, "plan", "--json", "-c", CONFIG, NULL), 0);
    buf_add(&plan, r.out.buf, r.out.len);
    out_release(&r);
    assert_int_equal(tool(&b, &r, "run", "--dry-run", "-c", CONFIG,
                          "--log-dir", logs(), NULL),
                     0);
    out_release(&r);
    assert_int_equal(sim_stat_writes(&b), 0);
    {
        struct buf p = BUF_INIT;

        buf_addf(&p, "%s/plan.json", tmpdir);
        assert_int_equal(fs_write_atomic(p.buf, plan.buf, plan.len,
                                         &ignored),
                         0);
        assert_int_equal(tool(&b, &r, "apply", p.buf, "-c", CONFIG,
                              "--log-dir", logs(), NULL),
                         0);
        assert_no_key(&r);
        out_release(&r);
        assert_true(sim_stat_writes(&b) > 0);
        applied = end_state(&b);
        assert_string_equal(applied, direct);

        /* the same plan again: its albums exist now, it is stale */
        reset(&b);
        assert_int_equal(tool(&b, &r, "apply", p.buf, "-c", CONFIG,
                              "--log-dir", logs(), NULL),
                         1);
        assert_non_null(strstr(r.err.buf, "stale"));
        out_release(&r);
        assert_int_equal(sim_stat_writes(&b), 0);
        buf_release(&p);
    }

    /* a second run makes no write */
    reset(&a);
    assert_int_equal(tool(&a, &r, "run", "-c", CONFIG, "--log-dir", logs(),
                          NULL),
                     0);
    out_release(&r);
    assert_int_equal(sim_stat_writes(&a), 0);

    assert_no_key_in_tree(tmpdir);
    free(direct);
    free(applied);
    buf_release(&plan);
    buf_release(&ignored);
    assert_int_equal(sim_stop(&a), 0);
    assert_int_equal(sim_stop(&b), 0);
}

static void test_sigterm_then_rerun_converges(void **state)
{
    struct sim_proc clean, cut;
    struct out r;
    const char *args[] = { "run", "-c", CONFIG, "--log-dir", NULL,
                           "--concurrency", "1", NULL };
    char *want, *got;
    pid_t pid;
    int tries = 0;

    (void)state;
    args[4] = logs();
    start(&clean, NULL);
    assert_int_equal(tool(&clean, &r, "run", "-c", CONFIG, "--log-dir",
                          logs(), NULL),
                     0);
    out_release(&r);
    want = end_state(&clean);
    assert_int_equal(sim_stop(&clean), 0);

    /* every request 30 ms slower, one at a time: time to stop it */
    start(&cut, "spike:1:ms=30");
    pid = spawn(&cut, args);
    while (sim_stat_writes(&cut) < 3 && tries++ < 3000)
        usleep(10000);
    assert_int_equal(kill(pid, SIGTERM), 0);
    finish(pid, &r);
    assert_int_equal(r.code, 1);
    assert_non_null(strstr(r.err.buf, "stopped by signal"));
    assert_non_null(strstr(r.out.buf, logs()));
    out_release(&r);
    got = end_state(&cut);
    assert_string_not_equal(got, want); /* it did stop part way */
    free(got);

    assert_int_equal(tool(&cut, &r, "run", "-c", CONFIG, "--log-dir",
                          logs(), NULL),
                     0);
    out_release(&r);
    got = end_state(&cut);
    assert_string_equal(got, want);
    free(got);
    free(want);
    assert_no_key_in_tree(tmpdir);
    assert_int_equal(sim_stop(&cut), 0);
}

static void test_write_refused_is_reported(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf report = BUF_INIT, ignored = BUF_INIT;
    char *dir, *end;

    (void)state;
    start(&sim, "403:1@DELETE /tags/{id}/assets");
    assert_int_equal(tool(&sim, &r, "run", "-c", CONFIG, "--log-dir",
                          logs(), "--verbose", NULL),
                     1);
    assert_non_null(strstr(r.err.buf, "write requests failed"));
    assert_no_key(&r);
    /* the other phases still wrote */
    assert_true(sim_stat_endpoint(&sim, "POST /albums") > 0);
    end = r.out.buf + r.out.len - 1;
    *end = '\0';
    dir = strrchr(r.out.buf, '\n');
    buf_addf(&report, "%s/modifications.jsonl", dir ? dir + 1 : r.out.buf);
    {
        struct buf data = BUF_INIT;

        assert_int_equal(fs_read_file(report.buf, 1 << 24, &data, &ignored),
                         0);
        assert_non_null(strstr(data.buf, "\"status\":\"failed\""));
        assert_non_null(strstr(data.buf, "DELETE /tags/{id}/assets: 403"));
        buf_release(&data);
    }
    out_release(&r);
    assert_no_key_in_tree(tmpdir);
    buf_release(&report);
    buf_release(&ignored);
    assert_int_equal(sim_stop(&sim), 0);
}

/* Does the state show change g/item (tag and album by name)? */
static bool in_state(json_t *st, json_t *g, const char *id)
{
    const char *op = json_string_value(json_object_get(g, "op"));
    const char *name = json_string_value(json_object_get(g, "name"));
    json_t *a, *x, *y;
    size_t i, j, k;

    if (!strcmp(op, "album_user_role") || !strcmp(op, "album_user_add") ||
        !strcmp(op, "album_user_remove")) {
        json_array_foreach(json_object_get(st, "albums"), i, a) {
            if (!str_is(json_object_get(a, "albumName"), name))
                continue;
            json_array_foreach(json_object_get(a, "albumUsers"), j, x)
                if (str_is(json_object_get(x, "userId"), id))
                    return strcmp(op, "album_user_remove") &&
                           json_equal(json_object_get(x, "role"),
                                      json_object_get(g, "role"));
        }
        return !strcmp(op, "album_user_remove");
    }
    json_array_foreach(json_object_get(st, "assets"), i, a) {
        bool tag = !strncmp(op, "tag_", 4), has = false;

        if (!str_is(json_object_get(a, "id"), id))
            continue;
        if (!strcmp(op, "asset_date"))
            return true; /* checked by the second run making no write */
        json_array_foreach(json_object_get(a, tag ? "tagIds" : "albumIds"),
                           j, x) {
            json_t *list = json_object_get(st, tag ? "tags" : "albums");

            json_array_foreach(list, k, y)
                if (str_is(json_object_get(y, "id"),
                           json_string_value(x)) &&
                    str_is(json_object_get(y, tag ? "value" : "albumName"),
                           name))
                    has = true;
        }
        return strstr(op, "_remove") ? !has : has;
    }
    return false;
}

/*
 * Every change the plan announced, feature by feature, is in the
 * simulator's end state after the run; the library exercises most
 * features of the rules (the reasons counted).
 */
static void test_every_planned_change_is_in_the_end_state(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf body = BUF_INIT;
    json_t *plan, *st, *g, *it;
    json_error_t jerr;
    size_t i, j, checked = 0;
    json_t *reasons = json_object();

    (void)state;
    start(&sim, NULL);
    assert_int_equal(tool(&sim, &r, "plan", "--json", "-c", CONFIG, NULL),
                     0);
    plan = json_loadb(r.out.buf, r.out.len, 0, &jerr);
    assert_non_null(plan);
    out_release(&r);
    assert_int_equal(tool(&sim, &r, "run", "-c", CONFIG, "--log-dir",
                          logs(), NULL),
                     0);
    out_release(&r);
    assert_int_equal(sim_request(&sim, "GET", "/__sim/state", NULL, &body),
                     200);
    st = json_loadb(body.buf, body.len, 0, &jerr);
    assert_non_null(st);
    json_array_foreach(json_object_get(plan, "groups"), i, g) {
        json_array_foreach(json_object_get(g, "items"), j, it) {
            const char *id = json_string_value(json_array_get(it, 0));

            json_object_set_new(reasons,
                                json_string_value(json_array_get(it, 1)),
                                json_true());
            if (!in_state(st, g, id))
                fail_msg("%s %s %s: not in the end state",
                         json_string_value(json_object_get(g, "op")),
                         json_string_value(json_object_get(g, "name")), id);
            checked++;
        }
    }
    assert_true(checked > 50);
    /* conversion, classification (classified, conflict), album date
     * mismatch, temporary albums from dates, permissions... */
    assert_true(json_object_size(reasons) >= 5);
    assert_non_null(json_object_get(reasons, "conversion"));
    assert_non_null(json_object_get(reasons, "album_from_date"));
    assert_non_null(json_object_get(reasons, "permissions"));
    assert_non_null(json_object_get(reasons, "album_date_mismatch"));
    json_decref(reasons);
    json_decref(plan);
    json_decref(st);
    buf_release(&body);
    assert_int_equal(sim_stop(&sim), 0);
}

/* Run directories under the log root (the lock, the database and the
 * archive are not runs). */
static size_t run_dirs(const char *root)
{
    DIR *d = opendir(root);
    struct dirent *e;
    size_t n = 0;

    if (!d)
        return 0;
    while ((e = readdir(d)))
        n += e->d_name[0] >= '0' && e->d_name[0] <= '9';
    closedir(d);
    return n;
}

/*
 * --loop: a run every interval until a signal; the later iterations find
 * nothing to do; SIGTERM ends the loop (at once during the sleep), and the
 * lock is free again.
 */
static void test_loop_runs_until_a_signal(void **state)
{
    struct sim_proc sim;
    struct out r;
    struct buf root = BUF_INIT;
    const char *args[] = { "run", "--loop", "1s", "-c", CONFIG, "--log-dir",
                           NULL, NULL };
    pid_t pid;
    int tries = 0;

    (void)state;
    buf_addf(&root, "%s/loop", tmpdir);
    args[6] = root.buf;
    start(&sim, NULL);
    pid = spawn(&sim, args);
    /* the archive of a completed pass may take earlier run directories:
     * count the requests of the simulator instead */
    while (sim_stat_endpoint(&sim, "GET /server/version") < 3 &&
           tries++ < 3000)
        usleep(10000);
    assert_true(sim_stat_endpoint(&sim, "GET /server/version") >= 3);
    reset(&sim);
    usleep(200000);
    assert_int_equal(kill(pid, SIGTERM), 0);
    finish(pid, &r);
    assert_non_null(strstr(r.err.buf, "loop: iteration 2"));
    assert_non_null(strstr(r.err.buf, "stopped by signal 15"));
    /* in the sleep between runs: a clean stop (0, what a service manager
     * expects); during a run: that run was interrupted (1) */
    assert_int_equal(r.code,
                     strstr(r.err.buf, "loop: stopped by signal") ? 0 : 1);
    out_release(&r);
    assert_true(run_dirs(root.buf) >= 1);
    /* the later iterations wrote nothing, and the lock is free */
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(tool(&sim, &r, "run", "-c", CONFIG, "--log-dir",
                          root.buf, NULL),
                     0);
    out_release(&r);
    buf_release(&root);
    assert_int_equal(sim_stop(&sim), 0);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-modes-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_dry_run_apply_and_second_run),
        cmocka_unit_test(test_sigterm_then_rerun_converges),
        cmocka_unit_test(test_write_refused_is_reported),
        cmocka_unit_test(test_every_planned_change_is_in_the_end_state),
        cmocka_unit_test(test_loop_runs_until_a_signal),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
