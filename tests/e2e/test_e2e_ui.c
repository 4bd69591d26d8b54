/*
 * test_e2e_ui.c: what a run did, why, and taking it back (issue #16):
 * `undo`, `explain`, `report` and `history` against immich-sim's small
 * preset (269 assets), and undo of a run on the seed preset (26,562).
 *
 * undo is checked on the end state /__sim/state shows: after `run` then
 * `undo` the library is as before the run, except for what was changed
 * by hand in between, which stays and is listed.
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
#include "core/timeutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE IA_TEST_DATA "/config/upstream-template.yaml"
#define DATES    IA_TEST_DATA "/e2e/date-correction.yaml"
#define MINIMAL  IA_TEST_DATA "/config/minimal.yaml"

static void boot(struct sim_proc *sim, const char *preset)
{
    e2e_boot(sim, E2E_ARGV("--preset", preset));
}

/*
 * Runs immich-autotag with args (NULL-terminated), the configuration and
 * the log directory logdir of the scratch directory; its stdout and
 * stderr into out and err (may be NULL).  Returns the exit code.
 */
static int tool_cfg(const struct sim_proc *sim, const char *logdir,
                    const char *config, const char *const *extra,
                    struct buf *out, struct buf *err)
{
    const char *args[24];
    struct e2e_run r;
    size_t n = 0;

    for (; *extra && n < ARRAY_SIZE(args) - 6; extra++)
        args[n++] = *extra;
    args[n++] = "--config";
    args[n++] = config;
    args[n++] = "--log-dir";
    args[n++] = e2e_path(logdir);
    args[n] = NULL;
    (void)e2e_tool(sim, args, &r);
    return e2e_run_output(&r, out, err);
}

static int tool(const struct sim_proc *sim, const char *logdir,
                const char *const *extra, struct buf *out, struct buf *err)
{
    return tool_cfg(sim, logdir, TEMPLATE, extra, out, err);
}

static int tool1(const struct sim_proc *sim, const char *logdir,
                 const char *cmd, struct buf *out, struct buf *err)
{
    const char *const args[] = {cmd, NULL};

    return tool(sim, logdir, args, out, err);
}

/* The end state (es_end_state) as a JSON value. */
static json_t *end_state(const struct sim_proc *sim)
{
    char *s = es_end_state(sim);
    json_t *v = es_parse(s, strlen(s));

    free(s);
    return v;
}

static void assert_json_equal(json_t *want, json_t *got)
{
    char *w = json_dumps(want, JSON_SORT_KEYS | JSON_COMPACT);
    char *g = json_dumps(got, JSON_SORT_KEYS | JSON_COMPACT);

    if (strcmp(w, g)) {
        /* Name the first asset or album that differs. */
        const char *lists[] = {"assets", "albums"};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(lists); i++) {
            json_t *wl = json_object_get(want, lists[i]);
            json_t *gl = json_object_get(got, lists[i]);
            const char *k;
            json_t *v;

            json_object_foreach(wl, k, v)
            {
                if (!json_equal(v, json_object_get(gl, k))) {
                    char *a = json_dumps(v, JSON_SORT_KEYS);
                    char *b =
                        json_dumps(json_object_get(gl, k), JSON_SORT_KEYS);

                    print_error("%s %s: want %s, got %s\n", lists[i], k, a,
                                b ? b : "(absent)");
                    free(a);
                    free(b);
                    break;
                }
            }
            if (json_object_size(wl) != json_object_size(gl))
                print_error("%s: want %zu, got %zu\n", lists[i],
                            json_object_size(wl), json_object_size(gl));
        }
    }
    assert_string_equal(w, g);
    free(w);
    free(g);
}

/* `undo` (its logs under logdir) succeeds and leaves the library's end
 * state want. */
static void undo_leaves(const struct sim_proc *sim, const char *logdir,
                        json_t *want)
{
    json_t *now;

    assert_int_equal(tool1(sim, logdir, "undo", NULL, NULL), 0);
    now = end_state(sim);
    assert_json_equal(want, now);
    json_decref(now);
}

/* An album name of `after` that `before` does not have (one the run
 * created), or NULL. */
static const char *new_album(json_t *before, json_t *after)
{
    const char *k;
    json_t *v;

    json_object_foreach(
        json_object_get(after, "albums"), k,
        v) if (!json_object_get(json_object_get(before, "albums"), k)) return k;
    return NULL;
}

/* An asset the run did not touch: the same in before and after. */
static const char *untouched_asset(json_t *before, json_t *after)
{
    const char *k;
    json_t *v;

    json_object_foreach(
        json_object_get(before, "assets"), k,
        v) if (json_equal(v, json_object_get(json_object_get(after, "assets"),
                                             k))) return k;
    return NULL;
}

/*
 * A member whose role the run changed: sets *album (its name) and *user
 * (the member's id), both malloc'ed; false when there is none.  raw0 and
 * raw are /__sim/state before and after the run.
 */
static bool role_changed(json_t *raw0, json_t *raw, char **album, char **user)
{
    json_t *al, *m, *m0;
    size_t i, j, k;

    json_array_foreach(json_object_get(raw, "albums"), i, al)
    {
        json_t *al0 = es_find(raw0, "albums", "id", es_str(al, "id"));

        json_array_foreach(json_object_get(al, "albumUsers"), j, m)
            json_array_foreach(
                json_object_get(al0, "albumUsers"), k,
                m0) if (!strcmp(es_str(m0, "userId"), es_str(m, "userId")) &&
                        strcmp(es_str(m0, "role"), es_str(m, "role")))
        {
            *album = xstrdup(es_str(al, "albumName"));
            *user = xstrdup(es_str(m, "userId"));
            return true;
        }
    }
    return false;
}

static const char *album_id(json_t *raw, const char *name)
{
    json_t *al = es_find(raw, "albums", "albumName", name);

    assert_non_null(al);
    return es_str(al, "id");
}

/*
 * run, then two changes by hand (an asset of the library put into an
 * album the run created, and a member the run changed the role of
 * removed from the album), then undo: the library is as before the run
 * but for those two changes; undo lists the two changes of the run it
 * left alone because of them and writes nothing over them.
 */
static void test_undo_restores_all_but_later_changes(void **state)
{
    struct sim_proc sim;
    struct buf body = BUF_INIT, err = BUF_INIT, path = BUF_INIT,
               want_line = BUF_INIT;
    json_t *before, *after_run, *mid, *end, *raw0, *raw, *want;
    const char *album, *asset;
    char *album_s, *shared_s = NULL, *asset_s, *user = NULL;

    (void)state;
    boot(&sim, "small");
    before = end_state(&sim);
    raw0 = es_state(&sim);
    assert_int_equal(tool1(&sim, "undo1", "run", NULL, NULL), 0);
    after_run = end_state(&sim);
    assert_false(json_equal(before, after_run));

    album = new_album(before, after_run);
    asset = untouched_asset(before, after_run);
    assert_non_null(album);
    assert_non_null(asset);
    album_s = xstrdup(album);
    asset_s = xstrdup(asset);

    /* The later changes, made by hand on the server. */
    raw = es_state(&sim);
    buf_addf(&path, "/api/albums/%s/assets", album_id(raw, album_s));
    buf_addf(&want_line, "{\"ids\":[\"%s\"]}", asset_s);
    assert_int_equal(sim_request(&sim, "PUT", path.buf, want_line.buf, &body),
                     200);
    assert_true(role_changed(raw0, raw, &shared_s, &user));
    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s/user/%s", album_id(raw, shared_s), user);
    assert_int_equal(sim_request(&sim, "DELETE", path.buf, NULL, &body), 204);
    json_decref(raw);
    json_decref(raw0);
    mid = end_state(&sim);

    assert_int_equal(tool1(&sim, "undo1", "undo", NULL, &err), 0);
    end = end_state(&sim);

    /* Before the run, plus the two later changes as the server had them
     * before the undo. */
    want = json_deep_copy(before);
    json_object_set(json_object_get(want, "albums"), album_s,
                    json_object_get(json_object_get(mid, "albums"), album_s));
    json_object_set(json_object_get(want, "albums"), shared_s,
                    json_object_get(json_object_get(mid, "albums"), shared_s));
    json_object_set_new(
        json_object_get(
            json_object_get(json_object_get(want, "assets"), asset_s),
            "albums"),
        album_s, json_true());
    assert_json_equal(want, end);

    /* Both are listed as left alone. */
    buf_reset(&want_line);
    buf_addf(&want_line, "left alone: CREATE_ALBUM album '%s'", album_s);
    assert_non_null(strstr(err.buf, want_line.buf));
    buf_reset(&want_line);
    buf_addf(&want_line,
             "left alone: ALBUM_PERMISSION_ROLE_CHANGED album "
             "'%s' user %s: the sharing was changed since",
             shared_s, user);
    assert_non_null(strstr(err.buf, want_line.buf));
    assert_non_null(strstr(err.buf, "2 changes were changed since the run"));

    json_decref(before);
    json_decref(after_run);
    json_decref(mid);
    json_decref(end);
    json_decref(want);
    free(album_s);
    free(asset_s);
    free(shared_s);
    free(user);
    buf_release(&body);
    buf_release(&err);
    buf_release(&path);
    buf_release(&want_line);
    assert_int_equal(sim_stop(&sim), 0);
}

/*
 * The seed library (26,562 assets): the template's run makes its 7,758
 * changes (2,181 new albums among them), undo takes every one back, and
 * the library is as it was; a second undo redoes the run.
 */
static void test_undo_restores_the_seed_library(void **state)
{
    struct sim_proc sim;
    json_t *before, *after_run;

    (void)state;
    boot(&sim, "seed");
    before = end_state(&sim);
    assert_int_equal(tool1(&sim, "seed", "run", NULL, NULL), 0);
    after_run = end_state(&sim);
    assert_false(json_equal(before, after_run));
    undo_leaves(&sim, "seed", before);
    undo_leaves(&sim, "seed", after_run);
    json_decref(before);
    json_decref(after_run);
    assert_int_equal(sim_stop(&sim), 0);
}

/*
 * undo --json and undo --dry-run write nothing; undo then undo again (the
 * undo of the undo) gives the library the run left.
 */
static void test_undo_of_undo_redoes(void **state)
{
    const char *const dry[] = {"undo", "--dry-run", NULL};
    const char *const json[] = {"undo", "--json", NULL};
    struct sim_proc sim;
    struct buf out = BUF_INIT;
    json_t *before, *after_run, *now, *plan;
    long writes;

    (void)state;
    boot(&sim, "small");
    before = end_state(&sim);
    assert_int_equal(tool1(&sim, "undo2", "run", NULL, NULL), 0);
    after_run = end_state(&sim);
    writes = sim_stat_writes(&sim);
    assert_true(writes > 0);

    assert_int_equal(tool(&sim, "undo2", json, &out, NULL), 0);
    plan = es_parse(out.buf, out.len);
    assert_true(json_integer_value(json_object_get(
                    json_object_get(plan, "plan"), "changes")) > 0);
    assert_int_equal(json_array_size(json_object_get(plan, "left_alone")), 0);
    json_decref(plan);
    assert_int_equal(tool(&sim, "undo2", dry, &out, NULL), 0);
    assert_non_null(strstr(out.buf, "undo"));
    assert_int_equal(sim_stat_writes(&sim), writes);
    now = end_state(&sim);
    assert_json_equal(after_run, now);
    json_decref(now);
    undo_leaves(&sim, "undo2", before);
    undo_leaves(&sim, "undo2", after_run);

    json_decref(before);
    json_decref(after_run);
    buf_release(&out);
    assert_int_equal(sim_stop(&sim), 0);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The strings of list, sorted, one per line (list released). */
static void sorted_text(json_t *list, struct buf *out)
{
    const char **v = xcalloc(json_array_size(list) + 1, sizeof(*v));
    size_t i;

    for (i = 0; i < json_array_size(list); i++)
        v[i] = json_string_value(json_array_get(list, i));
    qsort(v, i, sizeof(*v), cmp_str);
    buf_reset(out);
    for (i = 0; i < json_array_size(list); i++)
        buf_addf(out, "%s\n", v[i]);
    free(v);
    json_decref(list);
}

/*
 * A rule was wrong and the configuration changed before the undo: undo
 * reads the tags and albums the run changed even when the configuration
 * it runs with no longer names them (here the minimal file, which reads
 * none of the template's tags), and restores the library all the same.
 */
static void test_undo_with_another_configuration(void **state)
{
    const char *const undo[] = {"undo", NULL};
    struct sim_proc sim;
    json_t *before, *end;

    (void)state;
    boot(&sim, "small");
    before = end_state(&sim);
    assert_int_equal(tool1(&sim, "undo3", "run", NULL, NULL), 0);
    assert_int_equal(tool_cfg(&sim, "undo3", MINIMAL, undo, NULL, NULL), 0);
    end = end_state(&sim);
    assert_json_equal(before, end);
    json_decref(before);
    json_decref(end);
    assert_int_equal(sim_stop(&sim), 0);
}

/* o[key], an ISO date, moved by ms. */
static void shift(json_t *o, const char *key, int64_t ms)
{
    const char *s = es_str(o, key);
    char iso[32];
    int64_t t;

    assert_int_equal(time_parse_iso(s, strlen(s), &t, NULL), 0);
    time_format_iso(t + ms, iso);
    json_object_set_new(o, key, json_string(iso));
}

/*
 * Dates: a library where a camera file's dates were all moved three days
 * after the time its name says (as e2e.run's date correction test does);
 * the run sets it back to the name's time, undo gives it the moved date
 * again (dateTimeOriginal and the file date the server derives from it),
 * from the prior date the journal keeps.
 */
static void test_undo_restores_dates(void **state)
{
    const char *const undo[] = {"undo", NULL};
    const char *const run[] = {"run", NULL};
    struct sim_proc sim;
    struct buf path = BUF_INIT, err = BUF_INIT;
    json_t *lib, *a, *x, *before, *after_run, *end;
    const char *args[] = {"--library", NULL, NULL};
    const char *id = NULL;
    char *text;
    size_t i;

    (void)state;
    boot(&sim, "small");
    lib = es_state(&sim);
    assert_int_equal(sim_stop(&sim), 0);
    json_array_foreach(json_object_get(lib, "assets"), i, a)
    {
        if (!id && !strcmp(es_str(a, "ownerId"), es_admin_id(lib)) &&
            json_is_null(json_object_get(a, "deletedAt")) &&
            !strncmp(es_str(a, "originalFileName"), "PXL_", 4) &&
            json_is_object(json_object_get(a, "exifInfo"))) {
            id = es_str(a, "id");
            shift(a, "fileCreatedAt", 3 * 86400000LL);
            shift(a, "fileModifiedAt", 3 * 86400000LL);
            shift(a, "localDateTime", 3 * 86400000LL);
            shift(a, "createdAt", 3 * 86400000LL);
            shift(json_object_get(a, "exifInfo"), "dateTimeOriginal",
                  3 * 86400000LL);
        }
    }
    assert_non_null(id);
    json_array_foreach(json_object_get(lib, "assets"), i, x)
        json_object_del(x, "albumIds");
    buf_addstr(&path, e2e_path("dates.json"));
    text = json_dumps(lib, JSON_COMPACT);
    assert_int_equal(fs_write_atomic(path.buf, text, strlen(text), &err), 0);
    free(text);
    args[1] = path.buf;
    e2e_boot(&sim, args);

    before = end_state(&sim);
    assert_int_equal(tool_cfg(&sim, "dates", DATES, run, NULL, NULL), 0);
    after_run = end_state(&sim);
    assert_false(
        json_equal(json_object_get(json_object_get(before, "assets"), id),
                   json_object_get(json_object_get(after_run, "assets"), id)));
    assert_int_equal(tool_cfg(&sim, "dates", DATES, undo, NULL, NULL), 0);
    end = end_state(&sim);
    assert_json_equal(before, end);

    json_decref(lib);
    json_decref(before);
    json_decref(after_run);
    json_decref(end);
    buf_release(&path);
    buf_release(&err);
    assert_int_equal(sim_stop(&sim), 0);
}

/* "op|name|reason|rule" of each plan item about asset id, sorted. */
static void plan_decisions(json_t *plan, const char *id, struct buf *out)
{
    json_t *g, *it, *list = json_array();
    size_t i, j;

    json_array_foreach(json_object_get(plan, "groups"), i, g)
        json_array_foreach(
            json_object_get(g, "items"), j,
            it) if (!strcmp(json_string_value(json_array_get(it, 0)), id))
            json_array_append_new(
                list, json_sprintf("%s|%s|%s|%lld", es_str(g, "op"),
                                   es_str(g, "name"),
                                   json_string_value(json_array_get(it, 1)),
                                   json_integer_value(json_array_get(it, 2))));
    sorted_text(list, out);
}

/* The same from an explained asset's "decisions". */
static void explain_decisions(json_t *asset, struct buf *out)
{
    json_t *d, *list = json_array();
    size_t i;

    json_array_foreach(json_object_get(asset, "decisions"), i, d)
        json_array_append_new(
            list, json_sprintf("%s|%s|%s|%lld", es_str(d, "op"),
                               es_str(d, "name"), es_str(d, "reason"),
                               json_integer_value(json_object_get(d, "rule"))));
    sorted_text(list, out);
}

/* The asset of the first plan note of kind, or of the first item of a
 * group with op and reason. */
static const char *planted(json_t *plan, const char *note_kind, const char *op,
                           const char *reason)
{
    json_t *n, *g, *it;
    size_t i, j;

    json_array_foreach(
        json_object_get(plan, "notes"), i,
        n) if (note_kind &&
               !strcmp(es_str(n, "kind"), note_kind)) return es_str(n, "asset");
    json_array_foreach(json_object_get(plan, "groups"), i, g)
        json_array_foreach(
            json_object_get(g, "items"), j,
            it) if (op && !strcmp(es_str(g, "op"), op) &&
                    !strcmp(
                        json_string_value(json_array_get(it, 1)),
                        reason)) return json_string_value(json_array_get(it,
                                                                         0));
    return NULL;
}

/*
 * explain of the planted edge cases (a classification conflict, an
 * album date mismatch, an unclassified asset) named by id, by file name
 * and by web link: each decision (op, tag or album, reason, rule) is the
 * one `plan --json` records for that asset, and so are the notes, from a
 * read of those assets only.
 */
static void test_explain_equals_plan(void **state)
{
    const char *plan_args[] = {"plan", "--json", NULL};
    struct sim_proc sim;
    struct buf out = BUF_INIT, want = BUF_INIT, got = BUF_INIT, link = BUF_INIT;
    json_t *plan, *raw, *ex, *a;
    const char *ids[3], *args[6];
    size_t i;

    (void)state;
    boot(&sim, "small");
    assert_int_equal(tool(&sim, "explain", plan_args, &out, NULL), 0);
    plan = es_parse(out.buf, out.len);
    ids[0] = planted(plan, "CLASSIFICATION_CONFLICT", NULL, NULL);
    ids[1] = planted(plan, "ALBUM_DATE_MISMATCH", NULL, NULL);
    ids[2] = planted(plan, NULL, "album_add", "album_from_date");
    for (i = 0; i < 3; i++)
        assert_non_null(ids[i]);
    raw = es_state(&sim);
    args[0] = "explain";
    args[1] = "--json";
    args[2] = ids[0];
    args[3] = es_str(es_find(raw, "assets", "id", ids[1]), "originalFileName");
    buf_addf(&link, "%s/photos/%s", sim.url, ids[2]);
    args[4] = link.buf;
    args[5] = NULL;
    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(tool(&sim, "explain", args, &out, NULL), 0);
    /* One read of each asset and of its albums, one search for the name,
     * nothing of the rest of the library. */
    assert_int_equal(sim_stat_endpoint(&sim, "GET /assets/{id}"), 3);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /albums"), 3);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"), 1);
    assert_int_equal(sim_stat_writes(&sim), 0);

    ex = es_parse(out.buf, out.len);
    assert_int_equal(json_array_size(json_object_get(ex, "assets")), 3);
    json_array_foreach(json_object_get(ex, "assets"), i, a)
    {
        json_t *n, *pn;
        size_t j, k, notes = 0;

        assert_string_equal(es_str(a, "id"), ids[i]);
        plan_decisions(plan, ids[i], &want);
        explain_decisions(a, &got);
        assert_true(want.len > 0);
        assert_string_equal(got.buf, want.buf);
        json_array_foreach(json_object_get(plan, "notes"), j, pn)
        {
            if (strcmp(es_str(pn, "asset"), ids[i]))
                continue;
            notes++;
            json_array_foreach(
                json_object_get(a, "notes"), k,
                n) if (!strcmp(es_str(n, "kind"), es_str(pn, "kind")) &&
                       json_equal(json_object_get(n, "detail"),
                                  json_object_get(pn, "detail"))) break;
            assert_true(k < json_array_size(json_object_get(a, "notes")));
        }
        assert_int_equal(json_array_size(json_object_get(a, "notes")), notes);
    }
    assert_int_equal(
        json_array_size(json_object_get(
            json_array_get(json_object_get(ex, "assets"), 0), "notes")),
        1);
    json_decref(ex);
    json_decref(raw);
    json_decref(plan);
    buf_release(&out);
    buf_release(&want);
    buf_release(&got);
    buf_release(&link);
    assert_int_equal(sim_stop(&sim), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undo_restores_the_seed_library),
        cmocka_unit_test(test_undo_restores_all_but_later_changes),
        cmocka_unit_test(test_undo_of_undo_redoes),
        cmocka_unit_test(test_undo_restores_dates),
        cmocka_unit_test(test_undo_with_another_configuration),
        cmocka_unit_test(test_explain_equals_plan),
    };

    return e2e_run_group("ui", IA_BIN, tests);
}
