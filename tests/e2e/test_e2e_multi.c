/*
 * test_e2e_multi.c: a server shared by several users (issue #11).
 *
 * The library is tests/data/e2e/multi-user.json:
 *   - John's album "2019-07-14 Beach" (3 of his photos), shared with the
 *     admin as editor, who added one photo of hers;
 *   - the admin's temporary album "2020-03-01-autotag-temp-unclassified",
 *     shared with John as editor, holding only 6 photos of John's;
 *   - the admin's 3 photos tagged `meme` (the template's conversion moves
 *     them to album autotag_input_meme) and a classified photo.
 *
 * Each scenario compares what the server holds after the runs with the
 * state a single clean run of each user gives, or with the library file.
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
#include "sim_harness.h"

#define TEMPLATE IA_TEST_DATA "/config/upstream-template.yaml"
#define LIBRARY IA_TEST_DATA "/e2e/multi-user.json"
#define ADMIN_KEY "multi-admin-key"
#define JOHN_KEY "multi-john-key"
#define TEMP_ALBUM "2020-03-01-autotag-temp-unclassified"

static char tmpdir[64];

/* Starts the simulator on library (a file, or "small" for the preset) in
 * dialect, with extra args. */
static void boot_on(struct sim_proc *sim, const char *library,
                    const char *dialect, const char *const *extra)
{
    bool preset = !strcmp(library, "small");
    const char *args[16] = { "--latency", "off", "--seed", "1",
                             preset ? "--preset" : "--library", library,
                             "--dialect", dialect };
    size_t n = 8;
    struct buf err = BUF_INIT;

    for (; extra && *extra && n < ARRAY_SIZE(args) - 1; extra++)
        args[n++] = *extra;
    args[n] = NULL;
    if (sim_start(sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

static void boot(struct sim_proc *sim, const char *dialect,
                 const char *const *extra)
{
    boot_on(sim, LIBRARY, dialect, extra);
}

/*
 * `run` as the user of key (NULL: the simulator's own), its logs under
 * tmpdir/logdir; exit code.  Its stderr goes to err if not NULL.
 */
static int run_err(const struct sim_proc *sim, const char *key,
                   const char *logdir, struct buf *err)
{
    struct sim_proc as = *sim;
    struct buf logs = BUF_INIT, errpath = BUF_INIT, ignored = BUF_INIT;
    const char *args[] = { "run", "--quiet", "--config", TEMPLATE,
                           "--log-dir", NULL, NULL };
    int code;

    if (key)
        snprintf(as.api_key, sizeof(as.api_key), "%s", key);
    buf_addf(&logs, "%s/%s", tmpdir, logdir);
    buf_addf(&errpath, "%s/%s.err", tmpdir, logdir);
    args[5] = logs.buf;
    code = sim_wait_tool(sim_spawn_tool(&as, IA_BIN, args, NULL,
                                        errpath.buf));
    if (err) {
        buf_reset(err);
        assert_int_equal(fs_read_file(errpath.buf, 1 << 24, err, &ignored),
                         0);
    }
    buf_release(&logs);
    buf_release(&errpath);
    buf_release(&ignored);
    assert_true(code >= 0);
    return code;
}

static int run_as(const struct sim_proc *sim, const char *key,
                  const char *logdir)
{
    return run_err(sim, key, logdir, NULL);
}

/* The asset whose originalFileName is name. */
static json_t *asset_named(json_t *st, const char *name)
{
    json_t *a = es_find(st, "assets", "originalFileName", name);

    assert_non_null(a);
    return a;
}

/*
 * Item 1: remembered album memberships are the view of one user.  In 2.x
 * an album search shows the caller only her own assets, so the admin's
 * list of John's album holds her one photo.  John, running next with the
 * same log directory, must read the album himself: the end state equals
 * the one where each user had a log directory of their own.
 */
static void test_cache_is_per_user(void **state)
{
    struct sim_proc shared, apart;
    char *a, *b;
    json_t *st;

    (void)state;
    boot(&shared, "2", NULL);
    assert_int_equal(run_as(&shared, ADMIN_KEY, "shared"), 0);
    assert_int_equal(run_as(&shared, JOHN_KEY, "shared"), 0);

    boot(&apart, "2", NULL);
    assert_int_equal(run_as(&apart, ADMIN_KEY, "admin-alone"), 0);
    assert_int_equal(run_as(&apart, JOHN_KEY, "john-alone"), 0);

    a = es_end_state(&shared);
    b = es_end_state(&apart);
    assert_string_equal(a, b);
    free(a);
    free(b);

    /* and John's beach photos are where they were: classified by their
     * album, in no temporary album, with no output tag */
    st = es_state(&shared);
    for (int i = 0; i < 3; i++) {
        char name[32];
        json_t *x;

        snprintf(name, sizeof(name), "IMG_%04d.JPG", i);
        x = asset_named(st, name);
        assert_true(es_in_album(st, x, "2019-07-14 Beach"));
        assert_null(es_album_of(st, x, 1));
        assert_false(es_has_tag(st, x, "autotag_output_unknown"));
    }
    json_decref(st);
    assert_int_equal(sim_stop(&shared), 0);
    assert_int_equal(sim_stop(&apart), 0);
}

/*
 * Item 2: the admin's temporary album holds only John's photos, which the
 * admin's searches do not show (2.x) or show as not hers (3.x).  The
 * server counts 6 assets in it: it is not empty and stays.
 */
static void shared_temp_album_stays(const char *dialect)
{
    struct sim_proc sim;
    json_t *st;

    boot(&sim, dialect, NULL);
    assert_int_equal(run_as(&sim, ADMIN_KEY, dialect), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "DELETE /albums/{id}"), 0);
    st = es_state(&sim);
    assert_int_equal(es_album_size(st, TEMP_ALBUM), 6);
    json_decref(st);
    assert_int_equal(sim_stop(&sim), 0);
}

static void test_shared_temp_album_stays_2(void **state)
{
    (void)state;
    shared_temp_album_stays("2");
}

static void test_shared_temp_album_stays_3(void **state)
{
    (void)state;
    shared_temp_album_stays("3");
}

/*
 * Item 3: the move of `meme` to album autotag_input_meme fails at the
 * album add (every PUT /albums/{id}/assets answers 500): the run reports
 * the failure (exit 1) and keeps the `meme` tag on every meme, so the
 * next run moves them again.
 */
static void failed_move_keeps_source(const char *dialect)
{
    struct sim_proc sim;
    const char *faults[] = { "--faults", "500@PUT /albums/{id}/assets",
                             NULL };
    json_t *st;

    boot(&sim, dialect, faults);
    assert_int_equal(run_as(&sim, ADMIN_KEY, dialect), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "DELETE /tags/{id}/assets"), 0);
    st = es_state(&sim);
    assert_int_equal(es_tag_count(st, "meme"), 3);
    assert_int_equal(es_album_size(st, "autotag_input_meme"), 0);
    json_decref(st);
    assert_int_equal(sim_stop(&sim), 0);
}

static void test_failed_move_keeps_source_2(void **state)
{
    (void)state;
    failed_move_keeps_source("2");
}

static void test_failed_move_keeps_source_3(void **state)
{
    (void)state;
    failed_move_keeps_source("3");
}

/*
 * Item 7: a reverse proxy whose session expired answers the sharing
 * role change of a sharing (PUT /albums/{id}/user/{userId}, whose success
 * has no JSON body) with a redirect to its login
 * page, or with the page itself.  Neither is a success: the run fails
 * (exit 1) naming the endpoint and what came back, and nothing is
 * counted as shared.
 */
static void login_page_is_a_failure(const char *kind)
{
    struct sim_proc sim;
    struct buf spec = BUF_INIT, err = BUF_INIT;
    const char *faults[] = { "--faults", NULL, NULL };

    buf_addf(&spec, "%s@PUT /albums/{id}/user/{userId}", kind);
    faults[1] = spec.buf;
    boot_on(&sim, "small", "3", faults);
    assert_int_equal(run_err(&sim, NULL, kind, &err), 1);
    assert_true(sim_stat_endpoint(&sim, "PUT /albums/{id}/user/{userId}") > 0);
    assert_int_equal(sim_stat_long(&sim, "faults.login"),
                     sim_stat_endpoint(&sim, "PUT /albums/{id}/user/{userId}"));
    assert_non_null(strstr(err.buf, "PUT /albums/{id}/user/{userId}"));
    assert_non_null(strstr(err.buf, "proxy login page"));
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&spec);
    buf_release(&err);
}

static void test_login_redirect_is_a_failure(void **state)
{
    (void)state;
    login_page_is_a_failure("login");
}

static void test_login_page_is_a_failure(void **state)
{
    (void)state;
    login_page_is_a_failure("loginpage");
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-multi-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cache_is_per_user),
        cmocka_unit_test(test_shared_temp_album_stays_2),
        cmocka_unit_test(test_shared_temp_album_stays_3),
        cmocka_unit_test(test_failed_move_keeps_source_2),
        cmocka_unit_test(test_failed_move_keeps_source_3),
        cmocka_unit_test(test_login_redirect_is_a_failure),
        cmocka_unit_test(test_login_page_is_a_failure),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
