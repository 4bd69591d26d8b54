/*
 * test_e2e_cache.c: album memberships remembered in the state database.
 *
 * Against the small library with the upstream template: a second run
 * reads no album whose listing is unchanged (the albums the first run
 * created included, from the create's answer), an album changed behind
 * the tool's back is read again (and only it), --full-read reads them
 * all, and the end state is the one a full read gives.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

/* `run --quiet` of the template against sim with up to one extra arg (a1
 * may be NULL); returns its exit code. */
static int tool(const struct sim_proc *sim, const char *a1)
{
    return e2e_tool_code(sim,
                         E2E_ARGV("run", "--quiet", "--config",
                                  IA_TEST_DATA "/config/upstream-template.yaml",
                                  "--log-dir", e2e_path("logs"), a1));
}

/* `plan` with the same log root: reads what runs remembered, writes
 * nothing (the database's bytes do not change). */
static void plan_reads_memory(const struct sim_proc *sim)
{
    struct buf db = BUF_INIT, before = BUF_INIT, after = BUF_INIT;

    buf_addf(&db, "%s/state.sqlite", e2e_path("logs"));
    e2e_slurp(db.buf, &before);
    assert_int_equal(
        e2e_tool_code(sim, E2E_ARGV("plan", "--quiet", "--config",
                                    IA_TEST_DATA "/config/upstream-template"
                                                 ".yaml",
                                    "--log-dir", e2e_path("logs"))),
        0);
    e2e_slurp(db.buf, &after);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.buf, after.buf, before.len);
    buf_release(&db);
    buf_release(&before);
    buf_release(&after);
}

static void reset(const struct sim_proc *sim)
{
    assert_int_equal(sim_reset_stats(sim), 0);
}

/*
 * Membership reads since the last call: searches whose body names an
 * album, counted in the simulator's request log.
 */
static long log_seen;

static bool album_search(const char *line)
{
    return strstr(line, "/search/metadata") && strstr(line, "albumIds");
}

static long album_reads(void)
{
    struct buf path = BUF_INIT;
    long n;

    buf_addf(&path, "%s/requests.jsonl", e2e_tmpdir());
    n = e2e_log_count(path.buf, &log_seen, album_search);
    buf_release(&path);
    return n;
}

/* The library's albums with members, and one album with two members of
 * the admin (its id and one asset id). */
static void pick_album(const struct sim_proc *sim, char album[64],
                       char asset[64], long *nonempty)
{
    json_t *root = es_state(sim), *al;
    const char *admin =
        es_str(json_array_get(json_object_get(root, "users"), 0), "id");
    size_t i;

    album[0] = asset[0] = '\0';
    *nonempty = 0;
    json_array_foreach(json_object_get(root, "albums"), i, al)
    {
        json_t *ids = json_object_get(al, "assetIds");

        if (!json_array_size(ids))
            continue;
        (*nonempty)++;
        if (!album[0] && json_array_size(ids) >= 2 &&
            !strcmp(es_str(al, "ownerId"), admin)) {
            snprintf(album, 64, "%s", es_str(al, "id"));
            snprintf(asset, 64, "%s",
                     json_string_value(json_array_get(ids, 0)));
        }
    }
    assert_true(album[0] != '\0');
    json_decref(root);
}

static void test_second_run_reads_only_changed_albums(void **state)
{
    struct buf log = BUF_INIT;
    struct sim_proc sim;
    struct buf body = BUF_INIT, path = BUF_INIT, req = BUF_INIT;
    char album[64], asset[64];
    long nonempty, first, album_writes, created;

    (void)state;
    buf_addf(&log, "%s/requests.jsonl", e2e_tmpdir());
    e2e_boot(&sim, E2E_ARGV("--request-log", log.buf));
    /* run 1 reads the members of every non-empty album */
    pick_album(&sim, album, asset, &nonempty);
    (void)album_reads();
    reset(&sim);
    assert_int_equal(tool(&sim, NULL), 0);
    first = album_reads();
    assert_true(first > 0);
    assert_true(first <= nonempty);
    assert_true(sim_stat_writes(&sim) > 0);

    /* run 2 reads back only the existing albums run 1 added assets or
     * users to (their answers do not describe the album); the albums run
     * 1 created are known from the create's answer */
    album_writes = sim_stat_endpoint(&sim, "PUT /albums/{id}/assets") +
                   sim_stat_endpoint(&sim, "PUT /albums/{id}/users") +
                   sim_stat_endpoint(&sim, "PUT /albums/{id}/user/{userId}");
    created = sim_stat_endpoint(&sim, "POST /albums");
    assert_true(created > 0);
    sleep(1); /* run directories are named by the second */
    reset(&sim);
    assert_int_equal(tool(&sim, NULL), 0);
    assert_true(album_reads() <= album_writes);
    assert_int_equal(sim_stat_writes(&sim), 0);

    /* run 3: nothing changed at all, no album is read */
    sleep(1);
    reset(&sim);
    assert_int_equal(tool(&sim, NULL), 0);
    assert_int_equal(album_reads(), 0);
    assert_int_equal(sim_stat_writes(&sim), 0);

    /* plan uses the same memory, read-only */
    plan_reads_memory(&sim);
    assert_int_equal(album_reads(), 0);
    assert_int_equal(sim_stat_writes(&sim), 0);

    /* someone removes an asset from one album: that album only */
    buf_addf(&path, "/api/albums/%s/assets", album);
    buf_addf(&req, "{\"ids\":[\"%s\"]}", asset);
    assert_int_equal(sim_request(&sim, "DELETE", path.buf, req.buf, &body),
                     200);
    sleep(1);
    reset(&sim);
    assert_int_equal(tool(&sim, NULL), 0);
    assert_int_equal(album_reads(), 1);

    /* --full-read reads every non-empty album again */
    sleep(1);
    reset(&sim);
    assert_int_equal(tool(&sim, "--full-read"), 0);
    assert_true(album_reads() >= first);
    assert_int_equal(sim_stat_writes(&sim), 0);

    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&body);
    buf_release(&path);
    buf_release(&req);
    buf_release(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_second_run_reads_only_changed_albums),
    };

    return e2e_run_group("cache", IA_BIN, tests);
}
