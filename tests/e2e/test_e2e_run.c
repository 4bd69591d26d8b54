/*
 * test_e2e_run.c: what a run leaves on the server, checked on immich-sim's
 * /__sim/state against figures computed here from the library before the
 * run (issue #6's test list).
 *
 *   - the upstream template, both dialects: every feature's end state
 *     (unclassified, conflict, conversions, album dates, sharing), the net
 *     change of every tag and album equal to the plan printed before, the
 *     exact requests by endpoint, and a second run that writes nothing;
 *   - one feature at a time (the fixtures in tests/data/e2e; sharing
 *     alone is tests/scenarios/sharing-only), date correction on a
 *     library with a shifted asset;
 *   - SIGTERM while writing (2.x, modeled latency), then a re-run: the
 *     same end state as one clean run;
 *   - refused writes (403 fault), a per-user key;
 *   - plan, run --dry-run, plan --json + apply, stale plans;
 *   - the API key in no byte written, in every mode;
 *
 * The read-only key and read faults are data: tests/scenarios (run by
 * test_scenario.c), as is every case that needs no computed figure.
 *
 * Request counts are those of the small preset (seed 1); where each comes
 * from is said next to it.
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
#include <time.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "core/timeutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE      IA_TEST_DATA "/config/upstream-template.yaml"
#define FIXTURE(name) IA_TEST_DATA "/e2e/" name ".yaml"
#define SECRET        "run-e2e-3b9d0c7a51f2-SECRET-e84a6f1d2c95"
#define DAY_S         86400.0

/* ---- the simulator's state ------------------------------------------- */

static long expected(json_t *st, const char *key)
{
    json_t *v = json_object_get(json_object_get(st, "expected"), key);

    assert_true(json_is_integer(v));
    return (long)json_integer_value(v);
}

/* ISO-8601 "YYYY-MM-DDTHH:MM:SS..." (UTC) -> seconds. */
static double iso_seconds(const char *s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon,
               &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        fail_msg("bad date '%s'", s);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

/* The date an album name starts with (upstream's
 * ^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?, missing parts 1), or -1. */
static double album_name_date(const char *name)
{
    char iso[32];
    int y, m = 1, d = 1;

    if (strlen(name) < 4 || strspn(name, "0123456789") < 4)
        return -1;
    y = (name[0] - '0') * 1000 + (name[1] - '0') * 100 + (name[2] - '0') * 10 +
        name[3] - '0';
    if (name[4] == '-' && strspn(name + 5, "0123456789") >= 2) {
        m = (name[5] - '0') * 10 + name[6] - '0';
        if (name[7] == '-' && strspn(name + 8, "0123456789") >= 2)
            d = (name[8] - '0') * 10 + name[9] - '0';
    }
    snprintf(iso, sizeof(iso), "%04d-%02d-%02dT00:00:00", y, m, d);
    return iso_seconds(iso);
}

/* The template's rule matches of an asset, from its tags and albums, one
 * per matching tag or album (a day album and its month album are two):
 * 0 unclassified, 1 classified, 2+ conflict. */
static int categories(json_t *st, json_t *a)
{
    static const char *const tags[][2] = {
        {"meme", "autotag_input_meme"},
        {"adult_meme", "autotag_input_adult_meme"},
        {"autotag_input_pending_review", NULL},
        {"autotag_input_ignore", NULL},
        {"autotag_input_broken", NULL},
    };
    const char *n;
    int hits = 0;

    for (size_t r = 0; r < ARRAY_SIZE(tags); r++) {
        const char *album = tags[r][1] ? tags[r][1] : tags[r][0];

        hits += es_has_tag(st, a, tags[r][0]);
        hits += tags[r][1] && es_has_tag(st, a, tags[r][1]);
        for (size_t i = 0; (n = es_album_of(st, a, i)); i++)
            hits += !strcmp(n, album);
    }
    /* ^\d{4}-(\d{2}(-\d{2})?)? : four digits and a dash */
    for (size_t i = 0; (n = es_album_of(st, a, i)); i++)
        hits += strspn(n, "0123456789") == 4 && n[4] == '-';
    return hits;
}

/* Is the asset further than `days` from the date of one of its albums? */
static bool date_mismatch(json_t *st, json_t *a, double days)
{
    double t = iso_seconds(es_str(a, "fileCreatedAt")), d;
    const char *n;

    for (size_t i = 0; (n = es_album_of(st, a, i)); i++) {
        d = album_name_date(n);
        if (d >= 0 && (t - d > days * DAY_S || d - t > days * DAY_S))
            return true;
    }
    return false;
}

static bool is_admins_live(json_t *st, json_t *a)
{
    return !strcmp(es_str(a, "ownerId"), es_admin_id(st)) &&
           json_is_null(json_object_get(a, "deletedAt"));
}

/* ---- the tool's output ----------------------------------------------- */

/* The run directory (stdout's last line), which must be under `root`. */
static void run_dir(const struct e2e_run *t, const char *root, struct buf *dir)
{
    e2e_run_dir(t, dir);
    if (strncmp(dir->buf, root, strlen(root)))
        fail_msg("run directory '%s' is not under %s", dir->buf, root);
}

static void read_report(const char *dir, const char *file, struct buf *into)
{
    struct buf path = BUF_INIT;

    buf_addf(&path, "%s/%s", dir, file);
    e2e_slurp(path.buf, into);
    buf_release(&path);
}

static void assert_reports(const char *dir)
{
    static const char *const files[] = {
        "modification_report.txt",
        "modifications.jsonl",
        "run_statistics.yaml",
        "summary.txt",
        "immich_autotag_links.md",
        "user_config_dump.yaml",
        "immich_autotag_full_output.log",
        "metrics.json",
    };
    struct buf path = BUF_INIT;
    struct stat sb;

    for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
        buf_reset(&path);
        buf_addf(&path, "%s/%s", dir, files[i]);
        if (stat(path.buf, &sb) < 0 || !S_ISREG(sb.st_mode))
            fail_msg("no %s", path.buf);
    }
    buf_release(&path);
}

static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* ---- plans ------------------------------------------------------------ */

/* Items the plan has for (op, name); name NULL: every group of op. */
static long plan_items(json_t *plan, const char *op, const char *name)
{
    json_t *g;
    size_t i;
    long n = 0;

    json_array_foreach(json_object_get(plan, "groups"), i,
                       g) if (!strcmp(es_str(g, "op"), op) &&
                              (!name || !strcmp(es_str(g, "name"), name))) n +=
        (long)json_array_size(json_object_get(g, "items"));
    return n;
}

static long plan_groups(json_t *plan, const char *op)
{
    json_t *g;
    size_t i;
    long n = 0;

    json_array_foreach(json_object_get(plan, "groups"), i, g) n +=
        !strcmp(es_str(g, "op"), op);
    return n;
}

static json_t *plan_json(const struct sim_proc *sim, const char *config)
{
    struct e2e_run t;
    json_t *plan;

    assert_int_equal(
        e2e_tool(sim, E2E_ARGV("plan", "--json", "-c", config), &t), 0);
    plan = es_parse(t.out.buf, t.out.len);
    e2e_run_release(&t);
    return plan;
}

/*
 * Every tag's and album's net change from st0 to st1 is what the plan
 * said: adds minus removes, new albums exactly the created ones.
 */
static void assert_net_change_is_plan(json_t *plan, json_t *st0, json_t *st1)
{
    json_t *x;
    size_t i;
    long created = 0;

    json_array_foreach(json_object_get(st1, "tags"), i, x)
    {
        const char *v = es_str(x, "value");

        if (es_tag_count(st1, v) - es_tag_count(st0, v) !=
            plan_items(plan, "tag_add", v) - plan_items(plan, "tag_remove", v))
            fail_msg("tag %s: %ld before, %ld after, plan +%ld -%ld", v,
                     es_tag_count(st0, v), es_tag_count(st1, v),
                     plan_items(plan, "tag_add", v),
                     plan_items(plan, "tag_remove", v));
    }
    json_array_foreach(json_object_get(st1, "albums"), i, x)
    {
        const char *n = es_str(x, "albumName");
        long before = es_album_size(st0, n);
        bool planned = false;
        json_t *g;
        size_t j;

        json_array_foreach(json_object_get(plan, "groups"), j, g) planned |=
            !strcmp(es_str(g, "op"), "album_create") &&
            !strcmp(es_str(g, "name"), n);
        assert_int_equal(before < 0, planned);
        created += planned;
        if (es_album_size(st1, n) - (before < 0 ? 0 : before) !=
            plan_items(plan, "album_add", n) -
                plan_items(plan, "album_remove", n))
            fail_msg("album %s: %ld before, %ld after", n, before,
                     es_album_size(st1, n));
    }
    assert_int_equal(created, plan_groups(plan, "album_create"));
}

/* ---- the simulator's request log --------------------------------------- */

/* One request of the log, in the order the simulator answered them. */
struct logged {
    char method[8];
    char path[160]; /* "/api/albums/<id>/assets" */
};

/* The requests of the log at path (the simulator's --request-log). */
static struct logged *log_read(const char *path, size_t *nr)
{
    struct buf text = BUF_INIT;
    struct logged *v = NULL;
    size_t alloc = 0, at = 0;

    *nr = 0;
    e2e_slurp(path, &text);
    while (at < text.len) {
        const char *nl = memchr(text.buf + at, '\n', text.len - at);
        size_t len = nl ? (size_t)(nl - text.buf) - at : text.len - at;
        json_t *o = es_parse(text.buf + at, len);

        ALLOC_GROW(v, *nr + 1, alloc);
        snprintf(v[*nr].method, sizeof(v[*nr].method), "%s",
                 es_str(o, "method"));
        snprintf(v[*nr].path, sizeof(v[*nr].path), "%s", es_str(o, "path"));
        (*nr)++;
        json_decref(o);
        at += len + 1;
    }
    buf_release(&text);
    return v;
}

static bool logged_is(const struct logged *l, const char *method,
                      const char *path)
{
    return !strcmp(l->method, method) && !strcmp(l->path, path);
}

/* Index of the first (last: from the end) request to method path, or
 * nr when there is none. */
static size_t log_find(const struct logged *v, size_t nr, const char *method,
                       const char *path, bool last)
{
    for (size_t i = 0; i < nr; i++) {
        size_t k = last ? nr - 1 - i : i;

        if (logged_is(&v[k], method, path))
            return k;
    }
    return nr;
}

/*
 * The album listings between the read and the first album create: the
 * GET /albums after the last search that comes before the first POST
 * /albums (the run's first write of the template).
 */
static long listings_before_creates(const char *log)
{
    size_t nr, first, i;
    struct logged *v = log_read(log, &nr);
    long n = 0;

    first = log_find(v, nr, "POST", "/api/albums", false);
    assert_true(first < nr);
    for (i = first;
         i > 0 && !logged_is(&v[i - 1], "POST", "/api/search/metadata"); i--)
        n += !strcmp(v[i - 1].method, "GET") &&
             !strncmp(v[i - 1].path, "/api/albums", 11) &&
             (!v[i - 1].path[11] || v[i - 1].path[11] == '?');
    assert_true(i > 0);
    free(v);
    return n;
}

/* ---- tests ------------------------------------------------------------ */

/* A dialect's read requests for the template on the small library. */
struct reads {
    long statistics, album_lists, searches, requests;
    long searches_again, requests_again; /* the second run */
};

/*
 * The template on the small library in one dialect: the plan, one run,
 * what the simulator holds after it, the second run.
 */
static void template_end_state(const char *dialect, const struct reads *reads)
{
    struct sim_proc sim;
    struct e2e_run t;
    struct buf dir = BUF_INIT, users = BUF_INIT;
    json_t *st0, *st1, *plan, *a;
    const char *root = e2e_path(dialect[0] == '2' ? "tpl2" : "tpl3");
    const char *log = e2e_path(dialect[0] == '2' ? "tpl2.jsonl" : "tpl3.jsonl");
    long unclassified = 0, conflicts = 0, converted = 0, mismatched = 0;
    size_t i;

    e2e_boot(&sim, E2E_ARGV("--dialect", dialect, "--request-log", log));
    st0 = es_state(&sim);
    assert_int_equal(sim_reset_stats(&sim), 0);
    plan = plan_json(&sim, TEMPLATE);
    assert_int_equal(sim_stat_writes(&sim), 0);

    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(
        e2e_tool(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root), &t),
        0);
    run_dir(&t, root, &dir);
    assert_reports(dir.buf);
    e2e_run_release(&t);
    st1 = es_state(&sim);

    /*
     * Writes, from the plan of the small preset: one POST /albums per
     * temporary album (28 = expected.unclassified_assets, each asset on
     * its own day, carrying its asset), one PUT per existing album that
     * gains assets (the two conversion albums), one PUT/DELETE per tag
     * (adds: mismatch, conflict; removes: meme, adult_meme, unknown,
     * conflict, mismatch), one role change (mother, editor -> viewer).
     */
    assert_int_equal(sim_stat_endpoint(&sim, "POST /albums"),
                     plan_groups(plan, "album_create"));
    assert_int_equal(sim_stat_endpoint(&sim, "POST /albums"), 28);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /albums/{id}/assets"), 2);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /tags/{id}/assets"),
                     plan_groups(plan, "tag_add"));
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /tags/{id}/assets"), 2);
    assert_int_equal(sim_stat_endpoint(&sim, "DELETE /tags/{id}/assets"),
                     plan_groups(plan, "tag_remove"));
    assert_int_equal(sim_stat_endpoint(&sim, "DELETE /tags/{id}/assets"), 5);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /albums/{id}/user/{userId}"),
                     1);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /tags"), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /assets"), 0);
    assert_int_equal(sim_stat_writes(&sim), 38);
    /* reads, as e2e.read counts them: users/me, users, tags, version */
    assert_int_equal(sim_stat_endpoint(&sim, "GET /tags"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /users"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/statistics"),
                     reads->statistics);
    /* + the lists before the first write (albums changed during the
     * read make it read again: one per listing, as the read), which also
     * name the albums made since for the creates to reuse: between the
     * read and the creates, that one listing */
    assert_int_equal(sim_stat_endpoint(&sim, "GET /albums"),
                     2 * reads->album_lists);
    assert_int_equal(listings_before_creates(log), reads->album_lists);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     reads->searches);
    assert_int_equal(sim_stat_long(&sim, "requests"), reads->requests);

    /* the plan printed before is what happened */
    assert_net_change_is_plan(plan, st0, st1);
    assert_int_equal(plan_items(plan, "asset_date", NULL), 0);

    /* each feature, from the library before the run */
    json_array_foreach(json_object_get(st0, "assets"), i, a)
    {
        json_t *after = es_find(st1, "assets", "id", es_str(a, "id"));
        int cats;

        if (!is_admins_live(st0, a))
            continue;
        assert_non_null(after);
        cats = categories(st0, a);
        if (cats == 0) {
            /* unknown, or in the temporary album of its day */
            char temp[64];

            snprintf(temp, sizeof(temp), "%.10s-autotag-temp-unclassified",
                     es_str(a, "localDateTime"));
            if (!es_has_tag(st1, after, "autotag_output_unknown") &&
                !es_in_album(st1, after, temp))
                fail_msg("unclassified %s: no unknown tag, not in %s",
                         es_str(a, "id"), temp);
            unclassified++;
        }
        assert_int_equal(es_has_tag(st1, after, "autotag_output_conflict"),
                         cats >= 2);
        conflicts += cats >= 2;
        if (cats == 1)
            assert_false(es_has_tag(st1, after, "autotag_output_unknown"));
        if (es_has_tag(st0, a, "meme") || es_has_tag(st0, a, "adult_meme")) {
            const char *dest = es_has_tag(st0, a, "meme")
                                   ? "autotag_input_meme"
                                   : "autotag_input_adult_meme";

            assert_true(es_in_album(st1, after, dest));
            assert_false(es_has_tag(st1, after, "meme"));
            assert_false(es_has_tag(st1, after, "adult_meme"));
            converted++;
        }
        assert_int_equal(
            es_has_tag(st1, after, "autotag_output_album_date_mismatch"),
            date_mismatch(st1, after, 180));
        mismatched += date_mismatch(st1, after, 180);
        /* no date moved: names agree with dates in this library */
        assert_string_equal(es_str(after, "fileCreatedAt"),
                            es_str(a, "fileCreatedAt"));
    }
    assert_int_equal(unclassified, expected(st0, "unclassified_assets"));
    assert_int_equal(conflicts, expected(st0, "conflict_assets"));
    assert_int_equal(converted, expected(st0, "conversion_album_additions"));
    assert_int_equal(mismatched,
                     json_integer_value(json_object_get(
                         json_object_get(plan, "stats"), "date_mismatches")));
    assert_true(mismatched > 0);

    /* sharing as the template's album_permissions say: view for the
     * family and the friends (their emails are the sim's users) */
    es_album_users(st1, "Family Christmas 2005", &users);
    assert_string_equal(users.buf, "{\"grandma@example.com\":\"viewer\","
                                   "\"grandpa@example.com\":\"viewer\","
                                   "\"mother@example.com\":\"viewer\"}");
    es_album_users(st1, "Friends weekend 2005", &users);
    assert_string_equal(users.buf, "{\"jane@example.com\":\"viewer\","
                                   "\"john@example.com\":\"viewer\"}");

    /* a second run right after: nothing to write */
    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(
        e2e_tool(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root), &t),
        0);
    run_dir(&t, root, &dir);
    e2e_run_release(&t);
    assert_int_equal(sim_stat_writes(&sim), 0);
    /* and it reads no album it remembers unchanged (the 28 it created
     * were remembered from their creation) */
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     reads->searches_again);
    assert_int_equal(sim_stat_long(&sim, "requests"), reads->requests_again);

    json_decref(st0);
    json_decref(st1);
    json_decref(plan);
    buf_release(&dir);
    buf_release(&users);
    e2e_halt(&sim);
}

/*
 * 3.x: 2 asset pages (with EXIF, then without since some of the 269
 * assets have no EXIF row), one search per
 * non-empty album (34) and one per tag the configuration names that
 * exists (7: meme, adult_meme, pending_review, ignore and the three
 * output tags): 43; 43 + 6 other reads + GET /api-keys/me (the
 * permissions, checked before writing) + 38 writes + the album list
 * before the first write = 89.  The second run
 * (nothing to write, nothing to check) reads incrementally: the assets
 * updated since, with EXIF and without (2) + 7 + the two conversion
 * albums that gained assets = 11; 11 + 6 = 17.
 */
static void test_template_end_state_3(void **state)
{
    static const struct reads d3 = {1, 1, 43, 89, 11, 17};

    (void)state;
    template_end_state("3", &d3);
}

/*
 * 2.x searches show the timeline only, so the snapshot asks per
 * visibility (request log): 3 statistics, 3 EXIF asset pages and the
 * timeline's again without EXIF (some of its assets have no EXIF row; the
 * archived and hidden ones all have one), the 34 album searches on the
 * timeline, then on the archive for the 8 albums whose timeline answer
 * fell short of their assetCount (6 of them hold archived assets), and
 * the 7 tag searches twice each: 4 + 34 + 8 + 14 = 60 searches, and
 * after the writes, once GET /jobs says the server's sidecar jobs are
 * done, the 5 tags the run changed read back per visibility (15: 2.x's
 * jobs can undo tag changes) = 75 searches; albums listed owned and
 * shared=true (2); 75 + 3 + 2 + 4 + 1 + 38 + the album lists before the
 * first write (2) + GET /jobs = 126.  The second
 * run reads incrementally (docs/user-guide.md "Full and incremental
 * reads"): per visibility the assets updated since the first read, with
 * EXIF and without (6), the 14 tag searches and 2 albums (their timeline
 * answer is complete) = 22 searches, 22 + 9 = 31.
 */
static void test_template_end_state_2(void **state)
{
    static const struct reads d2 = {3, 2, 75, 126, 22, 31};

    (void)state;
    template_end_state("2", &d2);
}

/* Is the request a write to one of the tags of st whose value is one of
 * values, or (values NULL) to any tag: "DELETE /api/tags/<id>/assets"? */
static bool removal_of(const struct logged *l, json_t *st,
                       const char *const *values)
{
    json_t *t;
    size_t i;

    if (strcmp(l->method, "DELETE") || strncmp(l->path, "/api/tags/", 10))
        return false;
    json_array_foreach(json_object_get(st, "tags"), i, t)
    {
        size_t n = strlen(es_str(t, "id"));

        if (strncmp(l->path + 10, es_str(t, "id"), n) ||
            strcmp(l->path + 10 + n, "/assets"))
            continue;
        for (size_t k = 0; values && values[k]; k++)
            if (!strcmp(es_str(t, "value"), values[k]))
                return true;
        return !values;
    }
    return false;
}

/*
 * The writes that need nothing from another go out with the album
 * creates (request log, 3.x template on the small library).  The server
 * holds the first create up 1 s: the tag removals that are no move
 * (unknown, conflict, mismatch) and the role change on an album that
 * exists are answered before that create is; before, they waited for
 * the last create.  The server holds up the adds into the two conversion
 * albums 1 s too: the removals of the moves' sources (meme, adult_meme)
 * are still answered after them, as a source goes only once its add is
 * made.
 */
static void test_independent_writes_overlap(void **state)
{
    static const char *const moved[] = {"meme", "adult_meme", NULL};
    const char *log = e2e_path("overlap.jsonl");
    struct sim_proc sim;
    struct logged *v;
    size_t nr, i, last_create, last_add = 0, role;
    long removals = 0, moves = 0;
    json_t *st;

    (void)state;
    e2e_boot(&sim, E2E_ARGV("--request-log", log, "--faults",
                            "spike:first=1:ms=1000@POST /albums,"
                            "spike:first=2:ms=1000@PUT /albums/{id}/assets"));
    st = es_state(&sim);
    assert_int_equal(
        e2e_tool_code(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir",
                                     e2e_path("overlap"))),
        0);
    v = log_read(log, &nr);
    last_create = log_find(v, nr, "POST", "/api/albums", true);
    assert_true(last_create < nr);
    for (i = 0; i < nr; i++)
        if (!strcmp(v[i].method, "PUT") &&
            !strncmp(v[i].path, "/api/albums/", 12) && strlen(v[i].path) > 7 &&
            !strcmp(v[i].path + strlen(v[i].path) - 7, "/assets"))
            last_add = i;
    assert_true(last_add > 0);
    for (i = 0; i < nr; i++) {
        if (removal_of(&v[i], st, moved)) {
            assert_true(i > last_add);
            moves++;
        } else if (removal_of(&v[i], st, NULL)) {
            assert_true(i < last_create);
            removals++;
        }
    }
    assert_int_equal(moves, 2);
    assert_int_equal(removals, 3);
    for (role = 0; role < nr; role++)
        if (!strcmp(v[role].method, "PUT") && strstr(v[role].path, "/user/"))
            break;
    assert_true(role < last_create);
    free(v);
    json_decref(st);
    e2e_halt(&sim);
}

/*
 * One feature switched on: the run changes only what that feature owns,
 * and the second run writes nothing.  Returns the state after the run.
 */
static json_t *run_alone(struct sim_proc *sim, const char *config, long writes,
                         json_t **before)
{
    struct e2e_run t;

    *before = es_state(sim);
    assert_int_equal(sim_reset_stats(sim), 0);
    assert_int_equal(
        e2e_tool(sim,
                 E2E_ARGV("run", "-c", config, "--log-dir", e2e_path("alone")),
                 &t),
        0);
    e2e_run_release(&t);
    assert_int_equal(sim_stat_writes(sim), writes);
    assert_int_equal(sim_reset_stats(sim), 0);
    assert_int_equal(
        e2e_tool_code(
            sim, E2E_ARGV("run", "-c", config, "--log-dir", e2e_path("alone"))),
        0);
    assert_int_equal(sim_stat_writes(sim), 0);
    return es_state(sim);
}

/* The tags added to or removed from some asset, as a sorted JSON set. */
static void changed_tags(json_t *st0, json_t *st1, struct buf *out)
{
    json_t *a, *x, *set = json_object();
    size_t i, j;
    char *s;

    buf_reset(out);
    json_array_foreach(json_object_get(st1, "assets"), i, a)
    {
        json_t *was = es_find(st0, "assets", "id", es_str(a, "id"));

        json_array_foreach(json_object_get(st1, "tags"), j,
                           x) if (es_has_tag(st0, was, es_str(x, "value")) !=
                                  es_has_tag(st1, a, es_str(x, "value")))
            json_object_set_new(set, es_str(x, "value"), json_true());
    }
    s = json_dumps(set, JSON_SORT_KEYS | JSON_COMPACT);
    buf_addstr(out, s);
    free(s);
    json_decref(set);
}

static void test_features_one_at_a_time(void **state)
{
    struct sim_proc sim;
    struct buf tags = BUF_INIT;
    json_t *st0, *st1, *a;
    size_t i;
    long n = 0;

    (void)state;
    /* conversions: 2 album adds + 2 tag removes, nothing else */
    e2e_boot(&sim, NULL);
    st1 = run_alone(&sim, FIXTURE("conversions-only"), 4, &st0);
    changed_tags(st0, st1, &tags);
    assert_string_equal(tags.buf, "{\"adult_meme\":true,\"meme\":true}");
    assert_int_equal(
        es_tag_count(st1, "meme") + es_tag_count(st1, "adult_meme"), 0);
    assert_int_equal(es_album_size(st1, "autotag_input_meme") +
                         es_album_size(st1, "autotag_input_adult_meme"),
                     expected(st0, "conversion_album_additions"));
    assert_int_equal(json_array_size(json_object_get(st1, "albums")),
                     json_array_size(json_object_get(st0, "albums")));
    json_decref(st0);
    json_decref(st1);
    e2e_halt(&sim);

    /* classification without temporary albums: every unclassified asset
     * tagged unknown (23 added + 5 already), conflicts tagged; one PUT
     * and one DELETE per output tag */
    e2e_boot(&sim, E2E_ARGV("--dialect", "2"));
    st1 = run_alone(&sim, FIXTURE("classification-only"), 4, &st0);
    changed_tags(st0, st1, &tags);
    assert_string_equal(tags.buf, "{\"autotag_output_conflict\":true,"
                                  "\"autotag_output_unknown\":true}");
    json_array_foreach(json_object_get(st1, "assets"), i, a)
    {
        if (!is_admins_live(st1, a))
            continue;
        assert_int_equal(es_has_tag(st1, a, "autotag_output_unknown"),
                         categories(st1, a) == 0);
        assert_int_equal(es_has_tag(st1, a, "autotag_output_conflict"),
                         categories(st1, a) >= 2);
    }
    assert_int_equal(es_tag_count(st1, "autotag_output_unknown"),
                     expected(st0, "unclassified_assets"));
    assert_int_equal(es_tag_count(st1, "autotag_output_conflict"),
                     expected(st0, "conflict_assets"));
    json_decref(st0);
    json_decref(st1);
    e2e_halt(&sim);

    /* the album date check: 3 added, 1 stale removed (expected.*) */
    e2e_boot(&sim, NULL);
    st1 = run_alone(&sim, FIXTURE("date-mismatch-only"), 2, &st0);
    changed_tags(st0, st1, &tags);
    assert_string_equal(tags.buf,
                        "{\"autotag_output_album_date_mismatch\":true}");
    json_array_foreach(json_object_get(st1, "assets"), i,
                       a) if (is_admins_live(st1, a))
    {
        assert_int_equal(
            es_has_tag(st1, a, "autotag_output_album_date_mismatch"),
            date_mismatch(st1, a, 180));
        n += date_mismatch(st1, a, 180);
    }
    assert_int_equal(n,
                     es_tag_count(st0, "autotag_output_album_date_mismatch") +
                         expected(st0, "mismatch_additions") -
                         expected(st0, "mismatch_removals"));
    json_decref(st0);
    json_decref(st1);
    e2e_halt(&sim);

    buf_release(&tags);
}

/* ISO time of t seconds UTC, with milliseconds, as the sim writes it. */
static void iso_format(double t, char out[32])
{
    time_t s = (time_t)t;
    struct tm tm;

    gmtime_r(&s, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

static void shift_date(json_t *o, const char *key, double by)
{
    char iso[32];

    iso_format(iso_seconds(es_str(o, key)) + by, iso);
    json_object_set_new(o, key, json_string(iso));
}

/*
 * Date correction: a library where one camera file's dates were all
 * moved three days later than its name says; the run sets it back to the
 * name's time (Madrid), one PUT /assets, and touches no other date.
 */
static size_t plan_in_state(json_t *plan, json_t *st, json_t *reasons,
                            json_t *ops);

static void test_date_correction(void **state)
{
    struct sim_proc sim;
    struct buf path = BUF_INIT, err = BUF_INIT, text = BUF_INIT;
    json_t *lib, *a, *st0, *st1, *moved = NULL, *x, *plan;
    json_t *reasons = json_object(), *ops = json_object();
    const char *id = NULL;
    char want[32];
    size_t i;

    (void)state;
    buf_addf(&path, "%s/library.json", e2e_tmpdir());
    e2e_boot(&sim, NULL);
    st0 = es_state(&sim);
    e2e_halt(&sim);
    lib = json_deep_copy(st0);
    json_array_foreach(json_object_get(lib, "assets"), i, a)
    {
        if (!is_admins_live(lib, a) ||
            strncmp(es_str(a, "originalFileName"), "PXL_", 4) ||
            !json_is_object(json_object_get(a, "exifInfo")))
            continue;
        moved = a;
        break;
    }
    assert_non_null(moved);
    id = es_str(moved, "id");
    /* PXL_YYYYMMDD_HHMMSS...: Madrid local time, the asset's date now */
    iso_format(iso_seconds(es_str(moved, "fileCreatedAt")), want);
    shift_date(moved, "fileCreatedAt", 3 * DAY_S);
    shift_date(moved, "fileModifiedAt", 3 * DAY_S);
    shift_date(moved, "localDateTime", 3 * DAY_S);
    shift_date(moved, "createdAt", 3 * DAY_S);
    shift_date(json_object_get(moved, "exifInfo"), "dateTimeOriginal",
               3 * DAY_S);
    json_array_foreach(json_object_get(lib, "assets"), i, x)
        json_object_del(x, "albumIds");
    {
        char *s = json_dumps(lib, JSON_COMPACT);

        buf_addstr(&text, s);
        free(s);
    }
    assert_int_equal(fs_write_atomic(path.buf, text.buf, text.len, &err), 0);

    e2e_boot(&sim, E2E_ARGV("--library", path.buf));
    json_decref(st0);
    plan = plan_json(&sim, FIXTURE("date-correction"));
    st1 = run_alone(&sim, FIXTURE("date-correction"), 1, &st0);
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /assets"), 0);
    /* the plan's date change, item by item, is what the server shows */
    assert_int_equal(plan_in_state(plan, st1, reasons, ops), 1);
    assert_non_null(json_object_get(ops, "asset_date"));
    json_array_foreach(json_object_get(st1, "assets"), i, a)
    {
        x = es_find(st0, "assets", "id", es_str(a, "id"));
        if (!strcmp(es_str(a, "id"), id))
            assert_string_equal(es_str(a, "fileCreatedAt"), want);
        else
            assert_string_equal(es_str(a, "fileCreatedAt"),
                                es_str(x, "fileCreatedAt"));
    }
    assert_string_not_equal(
        es_str(es_find(st0, "assets", "id", id), "fileCreatedAt"), want);
    json_decref(lib);
    json_decref(st0);
    json_decref(st1);
    json_decref(plan);
    json_decref(reasons);
    json_decref(ops);
    buf_release(&path);
    buf_release(&err);
    buf_release(&text);
    e2e_halt(&sim);
}

/*
 * SIGTERM after the first write, dialect 2, modeled latency, one request
 * at a time: exit 1 with the reports (abrupt_exit_at set, changes still
 * pending), then a re-run ends where one clean run ends, and a third run
 * writes nothing.
 */
static void test_sigterm_then_rerun_converges(void **state)
{
    struct sim_proc clean, cut;
    struct e2e_run t;
    struct buf dir = BUF_INIT, stats = BUF_INIT;
    const char *root = e2e_path("cut");
    char *want, *got;
    unsigned n;
    pid_t pid;
    int polls = 0;

    (void)state;
    e2e_boot(&clean, E2E_ARGV("--dialect", "2"));
    assert_int_equal(
        e2e_tool_code(&clean, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir",
                                       e2e_path("clean"))),
        0);
    want = es_end_state(&clean);
    e2e_halt(&clean);

    e2e_boot(&cut, E2E_ARGV("--dialect", "2", "--latency", "seed",
                            "--latency-scale", "0.5"));
    pid = e2e_launch(&cut, NULL,
                     E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root,
                              "--concurrency", "1"),
                     &n);
    while (sim_stat_writes(&cut) < 1 && polls++ < 6000)
        usleep(5000);
    assert_true(sim_stat_writes(&cut) >= 1);
    assert_int_equal(kill(pid, SIGTERM), 0);
    e2e_reap(pid, n, &t);
    assert_int_equal(t.code, 1);
    run_dir(&t, root, &dir);
    assert_reports(dir.buf);
    read_report(dir.buf, "run_statistics.yaml", &stats);
    assert_null(strstr(stats.buf, "abrupt_exit_at: null"));
    assert_non_null(strstr(stats.buf, "abrupt_exit_at: "));
    assert_null(strstr(stats.buf, "changes_pending: 0\n"));
    e2e_run_release(&t);
    /* it stopped part way: fewer writes than the 38 of a whole run */
    assert_true(sim_stat_writes(&cut) < 38);
    got = es_end_state(&cut);
    assert_string_not_equal(got, want);
    free(got);

    assert_int_equal(
        e2e_tool_code(&cut, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root)),
        0);
    got = es_end_state(&cut);
    assert_string_equal(got, want);
    free(got);
    assert_int_equal(sim_reset_stats(&cut), 0);
    assert_int_equal(
        e2e_tool_code(&cut, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root)),
        0);
    assert_int_equal(sim_stat_writes(&cut), 0);
    free(want);
    buf_release(&dir);
    buf_release(&stats);
    e2e_halt(&cut);
}

/*
 * A write endpoint refusing (403 on every tag add): exit 1, each refused
 * item in both reports with endpoint and status, every other change made.
 */
static void test_refused_tag_writes(void **state)
{
    struct sim_proc sim;
    struct e2e_run t;
    struct buf dir = BUF_INIT, jsonl = BUF_INIT, txt = BUF_INIT;
    const char *root = e2e_path("refused");
    json_t *plan, *st0, *st1;

    (void)state;
    e2e_boot(&sim, E2E_ARGV("--faults", "403@PUT /tags/{id}/assets"));
    st0 = es_state(&sim);
    plan = plan_json(&sim, TEMPLATE);
    assert_int_equal(
        e2e_tool(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root), &t),
        1);
    assert_non_null(strstr(t.err.buf, "write requests failed"));
    run_dir(&t, root, &dir);
    assert_reports(dir.buf);
    read_report(dir.buf, "modifications.jsonl", &jsonl);
    read_report(dir.buf, "modification_report.txt", &txt);
    /* one failed event per planned tag addition (4: 3 mismatch + 1
     * conflict), naming the endpoint and the status */
    assert_int_equal(count_of(jsonl.buf, "\"status\":\"failed\""),
                     plan_items(plan, "tag_add", NULL));
    assert_int_equal(count_of(jsonl.buf, "PUT /tags/{id}/assets: 403"),
                     plan_items(plan, "tag_add", NULL));
    assert_int_equal(count_of(txt.buf, "PUT /tags/{id}/assets: 403"),
                     plan_items(plan, "tag_add", NULL));
    assert_int_equal(sim_stat_endpoint(&sim, "PUT /tags/{id}/assets"), 2);
    assert_int_equal(sim_stat_long(&sim, "errors"), 2);
    e2e_run_release(&t);
    /* the rest happened: no tag added, everything else as planned */
    st1 = es_state(&sim);
    assert_int_equal(es_tag_count(st1, "autotag_output_album_date_mismatch"),
                     es_tag_count(st0, "autotag_output_album_date_mismatch") -
                         plan_items(plan, "tag_remove",
                                    "autotag_output_album_date_mismatch"));
    assert_int_equal(es_tag_count(st1, "meme"), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /albums"),
                     plan_groups(plan, "album_create"));
    json_decref(plan);
    json_decref(st0);
    json_decref(st1);
    buf_release(&dir);
    buf_release(&jsonl);
    buf_release(&txt);
    e2e_halt(&sim);
}

/*
 * A key of another user: grandpa's key runs on his library and what it
 * creates is his.  (The read-only key is tests/scenarios/readonly-key.)
 */
static void test_keys_with_less_power(void **state)
{
    struct sim_proc sim;
    struct e2e_run t;
    json_t *st, *al;
    const char *grandpa;
    size_t i;
    long created = 0;

    (void)state;
    e2e_boot(&sim, NULL);
    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(e2e_tool_key(&sim, "immich-sim-key-Grandpa",
                                  E2E_ARGV("run", "-c", TEMPLATE, "--log-dir",
                                           e2e_path("grandpa")),
                                  &t),
                     0);
    e2e_run_release(&t);
    st = es_state(&sim);
    grandpa = es_user_id(st, "grandpa@example.com");
    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        json_t *id;
        size_t j;

        if (!strstr(es_str(al, "albumName"), "-autotag-temp-unclassified"))
            continue;
        assert_string_equal(es_str(al, "ownerId"), grandpa);
        json_array_foreach(json_object_get(al, "assetIds"), j, id)
        {
            json_t *a = es_find(st, "assets", "id", json_string_value(id));
            const char *owner = es_str(a, "ownerId");

            assert_true(!strcmp(owner, grandpa) ||
                        !strcmp(owner, es_user_id(st, "grandma@example.com")));
        }
        created++;
    }
    assert_true(created > 0);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /albums"), created);
    json_decref(st);
    e2e_halt(&sim);
}

/* Writes j to path as compact JSON. */
static void write_json(const char *path, const json_t *j)
{
    struct buf err = BUF_INIT;
    char *text = json_dumps(j, JSON_COMPACT);

    assert_non_null(text);
    assert_int_equal(fs_write_atomic(path, text, strlen(text), &err), 0);
    free(text);
    buf_release(&err);
}

/* `apply FILE -c TEMPLATE --log-dir root` against sim: its exit code, the
 * run in t. */
static int apply_file(struct sim_proc *sim, const char *file, const char *root,
                      struct e2e_run *t)
{
    return e2e_tool(
        sim, E2E_ARGV("apply", file, "-c", TEMPLATE, "--log-dir", root), t);
}

/*
 * plan and run --dry-run write nothing; plan --json + apply writes what a
 * direct run writes, request for request (2.x); stale plans are refused
 * with nothing written.
 */
static void test_plan_apply_and_stale_plans(void **state)
{
    static const char *const writes[] = {
        "POST /albums",
        "PUT /albums/{id}/assets",
        "PUT /tags/{id}/assets",
        "DELETE /tags/{id}/assets",
        "PUT /albums/{id}/user/{userId}",
    };
    struct sim_proc direct, saved;
    struct e2e_run t;
    struct buf p = BUF_INIT, p2 = BUF_INIT, err = BUF_INIT, dir = BUF_INIT,
               events = BUF_INIT, body = BUF_INIT, path = BUF_INIT;
    const char *root = e2e_path("apply");
    json_t *plan, *st, *g;
    char *want, *got;
    size_t i;

    (void)state;
    e2e_boot(&direct, E2E_ARGV("--dialect", "2"));
    e2e_boot(&saved, E2E_ARGV("--dialect", "2"));
    assert_int_equal(sim_reset_stats(&direct), 0);
    assert_int_equal(e2e_tool_code(&direct, E2E_ARGV("run", "-c", TEMPLATE,
                                                     "--log-dir", root)),
                     0);
    want = es_end_state(&direct);

    assert_int_equal(sim_reset_stats(&saved), 0);
    assert_int_equal(e2e_tool(&saved, E2E_ARGV("plan", "-c", TEMPLATE), &t), 0);
    assert_true(t.out.len > 0);
    e2e_run_release(&t);
    assert_int_equal(
        e2e_tool(&saved, E2E_ARGV("plan", "--json", "-c", TEMPLATE), &t), 0);
    buf_addf(&p, "%s/plan.json", e2e_tmpdir());
    assert_int_equal(fs_write_atomic(p.buf, t.out.buf, t.out.len, &err), 0);
    e2e_run_release(&t);
    assert_int_equal(e2e_tool(&saved,
                              E2E_ARGV("run", "--dry-run", "-c", TEMPLATE,
                                       "--log-dir", root),
                              &t),
                     0);
    run_dir(&t, root, &dir);
    read_report(dir.buf, "modifications.jsonl", &events);
    assert_non_null(strstr(events.buf, "dry_run"));
    e2e_run_release(&t);
    assert_int_equal(sim_stat_writes(&saved), 0);

    assert_int_equal(apply_file(&saved, p.buf, root, &t), 0);
    run_dir(&t, root, &dir);
    e2e_run_release(&t);
    for (i = 0; i < ARRAY_SIZE(writes); i++)
        assert_int_equal(sim_stat_endpoint(&saved, writes[i]),
                         sim_stat_endpoint(&direct, writes[i]));
    assert_int_equal(sim_stat_writes(&saved), sim_stat_writes(&direct));
    got = es_end_state(&saved);
    assert_string_equal(got, want);
    free(got);
    free(want);
    e2e_halt(&direct);
    e2e_halt(&saved);

    /* a fresh library, a fresh plan; then a hand-edited copy naming an
     * asset the server does not have, then the original after a tag it
     * names was deleted: both refused, no write */
    e2e_boot(&saved, E2E_ARGV("--dialect", "2"));
    plan = plan_json(&saved, TEMPLATE);
    write_json(p.buf, plan);
    json_array_foreach(json_object_get(plan, "groups"), i,
                       g) if (!strcmp(es_str(g, "op"), "tag_add"))
        json_array_append_new(json_object_get(g, "items"),
                              json_pack("[s,s,i]",
                                        "0f0e0d0c-0b0a-4909-8807-"
                                        "060504030201",
                                        "classify_conflict", 6));
    buf_addf(&p2, "%s/plan-edited.json", e2e_tmpdir());
    write_json(p2.buf, plan);
    assert_int_equal(sim_reset_stats(&saved), 0);
    assert_int_equal(apply_file(&saved, p2.buf, root, &t), 1);
    assert_non_null(strstr(t.err.buf, "stale"));
    assert_non_null(strstr(t.err.buf, "0f0e0d0c-0b0a-4909-8807-060504030201"));
    e2e_run_release(&t);
    assert_int_equal(sim_stat_writes(&saved), 0);

    st = es_state(&saved);
    buf_addf(
        &path, "/api/tags/%s",
        es_str(es_find(st, "tags", "value", "autotag_output_conflict"), "id"));
    assert_int_equal(sim_request(&saved, "DELETE", path.buf, NULL, &body), 204);
    assert_int_equal(sim_reset_stats(&saved), 0);
    assert_int_equal(apply_file(&saved, p.buf, root, &t), 1);
    assert_non_null(strstr(t.err.buf, "stale"));
    e2e_run_release(&t);
    assert_int_equal(sim_stat_writes(&saved), 0);
    json_decref(plan);
    json_decref(st);
    buf_release(&p);
    buf_release(&p2);
    buf_release(&err);
    buf_release(&dir);
    buf_release(&events);
    buf_release(&body);
    buf_release(&path);
    e2e_halt(&saved);
}

/* ---- the key is never written ------------------------------------------ */

static void test_key_never_written(void **state)
{
    static const char *const wrong = "run-e2e-WRONG-key-77c1d0e5a9b3f248";
    struct sim_proc sim, faulty;
    struct e2e_run t;
    struct buf where = BUF_INIT, planfile = BUF_INIT, err = BUF_INIT,
               dump = BUF_INIT, dir = BUF_INIT;
    const char *root = e2e_path("key");
    const char *const *modes[] = {
        E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root, "-v", "-v"),
        E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root, "--log-format",
                 "json", "-v"),
        E2E_ARGV("run", "--dry-run", "-c", TEMPLATE, "--log-dir", root, "-v"),
        E2E_ARGV("plan", "-c", TEMPLATE, "--log-dir", root, "-v", "-v"),
        E2E_ARGV("check", "-c", TEMPLATE, "-v", "-v"),
        E2E_ARGV("config", "-c", TEMPLATE),
    };
    size_t i, files;

    (void)state;
    /* the simulator's own output: the key is there, so the search works */
    e2e_boot(&sim, E2E_ARGV("--api-key", SECRET));
    e2e_boot(&faulty,
             E2E_ARGV("--api-key", SECRET, "--faults", "500@GET /albums"));
    assert_string_equal(sim.api_key, SECRET);
    for (i = 0; i < ARRAY_SIZE(modes); i++) {
        assert_int_equal(e2e_tool(&sim, modes[i], &t), 0);
        assert_int_equal(e2e_count(t.out.buf, t.out.len, SECRET), 0);
        assert_int_equal(e2e_count(t.err.buf, t.err.len, SECRET), 0);
        if (i == 0) {
            run_dir(&t, root, &dir);
            read_report(dir.buf, "user_config_dump.yaml", &dump);
            assert_non_null(strstr(dump.buf, "***"));
        }
        e2e_run_release(&t);
    }
    /* plan --json, apply it (it is stale by now: refused) */
    assert_int_equal(
        e2e_tool(&sim, E2E_ARGV("plan", "--json", "-c", TEMPLATE), &t), 0);
    assert_int_equal(e2e_count(t.out.buf, t.out.len, SECRET), 0);
    buf_addf(&planfile, "%s/key-plan.json", e2e_tmpdir());
    assert_int_equal(fs_write_atomic(planfile.buf, t.out.buf, t.out.len, &err),
                     0);
    e2e_run_release(&t);
    assert_int_equal(e2e_tool(&sim,
                              E2E_ARGV("apply", planfile.buf, "-c", TEMPLATE,
                                       "--log-dir", root, "-v"),
                              &t),
                     0);
    assert_int_equal(e2e_count(t.out.buf, t.out.len, SECRET), 0);
    assert_int_equal(e2e_count(t.err.buf, t.err.len, SECRET), 0);
    e2e_run_release(&t);
    /* a run that fails on a read, and a key the server refuses */
    assert_int_equal(
        e2e_tool(&faulty,
                 E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root, "-v", "-v"),
                 &t),
        1);
    assert_int_equal(e2e_count(t.out.buf, t.out.len, SECRET), 0);
    assert_int_equal(e2e_count(t.err.buf, t.err.len, SECRET), 0);
    e2e_run_release(&t);
    assert_int_equal(e2e_tool_key(&sim, wrong,
                                  E2E_ARGV("run", "-c", TEMPLATE, "--log-dir",
                                           root, "-v", "-v"),
                                  &t),
                     3);
    assert_int_equal(e2e_count(t.out.buf, t.out.len, wrong), 0);
    assert_int_equal(e2e_count(t.err.buf, t.err.len, wrong), 0);
    e2e_run_release(&t);

    /* the search finds what is there */
    buf_addf(&planfile, ".control");
    assert_int_equal(
        fs_write_atomic(planfile.buf, "x" SECRET "x", strlen(SECRET) + 2, &err),
        0);
    (void)e2e_scan_tree(e2e_tmpdir(), SECRET, &where);
    assert_non_null(strstr(where.buf, planfile.buf));
    assert_int_equal(unlink(planfile.buf), 0);
    buf_reset(&where);

    files = e2e_scan_tree(root, SECRET, &where);
    assert_string_equal(where.buf, "");
    /* the database and every run's eight reports were read */
    assert_true(files > 8 * 3);
    buf_reset(&where);
    (void)e2e_scan_tree(root, wrong, &where);
    assert_string_equal(where.buf, "");
    buf_release(&where);
    buf_release(&planfile);
    buf_release(&err);
    buf_release(&dump);
    buf_release(&dir);
    e2e_halt(&sim);
    e2e_halt(&faulty);
}

/* ---- every planned change, and --loop ---------------------------------- */

/* Is plan group g's item `id` (an asset, or a user for the album_user
 * ops) in the end state st?  Tags and albums by name. */
static bool in_state(json_t *st, json_t *g, const char *id)
{
    const char *op = es_str(g, "op"), *name = es_str(g, "name");
    bool user_op = !strncmp(op, "album_user_", 11);
    bool tag = !strncmp(op, "tag_", 4);
    json_t *a, *x;
    size_t i, j;

    if (user_op) {
        json_array_foreach(json_object_get(st, "albums"), i, a)
        {
            if (strcmp(es_str(a, "albumName"), name))
                continue;
            json_array_foreach(
                json_object_get(a, "albumUsers"), j,
                x) if (!strcmp(es_str(x, "userId"),
                               id)) return strcmp(op, "album_user_remove") &&
                json_equal(json_object_get(x, "role"),
                           json_object_get(g, "role"));
        }
        return !strcmp(op, "album_user_remove");
    }
    a = es_find(st, "assets", "id", id);
    if (!a)
        return false;
    if (!strcmp(op, "asset_date")) {
        const char *want = es_str(g, "date");
        const char *got = es_str(a, "fileCreatedAt");
        int64_t w, t;

        return !time_parse_iso(want, strlen(want), &w, NULL) &&
               !time_parse_iso(got, strlen(got), &t, NULL) && w == t;
    }
    if (tag)
        return strstr(op, "_remove") ? !es_has_tag(st, a, name)
                                     : es_has_tag(st, a, name);
    return strstr(op, "_remove") ? !es_in_album(st, a, name)
                                 : es_in_album(st, a, name);
}

/*
 * Checks every item of the plan against the end state st (fails the test
 * on the first one missing); records the reasons and ops seen (as keys of
 * the objects given).  Returns the items checked.
 */
static size_t plan_in_state(json_t *plan, json_t *st, json_t *reasons,
                            json_t *ops)
{
    json_t *g, *it;
    size_t i, j, checked = 0;

    json_array_foreach(json_object_get(plan, "groups"), i, g)
    {
        json_object_set_new(ops, es_str(g, "op"), json_true());
        json_array_foreach(json_object_get(g, "items"), j, it)
        {
            const char *id = json_string_value(json_array_get(it, 0));

            json_object_set_new(
                reasons, json_string_value(json_array_get(it, 1)), json_true());
            if (!id || !in_state(st, g, id))
                fail_msg("%s %s %s: not in the end state", es_str(g, "op"),
                         es_str(g, "name"), id ? id : "(no id)");
            checked++;
        }
    }
    return checked;
}

/*
 * Every change the plan announced, item by item, is in the simulator's
 * end state after the run; the library exercises most features of the
 * rules (the reasons counted), date correction among them.
 */
static void test_every_planned_change_is_in_the_end_state(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    json_t *plan, *st, *reasons = json_object(), *ops = json_object();

    (void)state;
    e2e_boot(&sim, NULL);
    assert_int_equal(
        e2e_tool(&sim, E2E_ARGV("plan", "--json", "-c", TEMPLATE), &r), 0);
    plan = es_parse(r.out.buf, r.out.len);
    e2e_run_release(&r);
    assert_int_equal(
        e2e_tool_code(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir",
                                     e2e_path("every"))),
        0);
    st = es_state(&sim);
    assert_true(plan_in_state(plan, st, reasons, ops) > 50);
    assert_non_null(json_object_get(reasons, "conversion"));
    assert_non_null(json_object_get(reasons, "album_from_date"));
    assert_non_null(json_object_get(reasons, "permissions"));
    assert_non_null(json_object_get(reasons, "album_date_mismatch"));
    assert_non_null(json_object_get(ops, "tag_add"));
    assert_non_null(json_object_get(ops, "tag_remove"));
    assert_non_null(json_object_get(ops, "album_add"));
    json_decref(reasons);
    json_decref(ops);
    json_decref(plan);
    json_decref(st);
    e2e_halt(&sim);
}

/*
 * --loop: a run every interval until a signal.  The second iteration finds
 * nothing to write; SIGTERM during the sleep that follows stops the loop
 * at once with exit 0 (what a service manager expects), and the lock is
 * free again.  (A signal during a run: test_sigterm_then_rerun_converges.)
 */
static void test_loop_runs_until_a_signal(void **state)
{
    struct sim_proc sim;
    struct e2e_run r;
    const char *root = e2e_path("loop");
    unsigned n;
    pid_t pid;

    (void)state;
    e2e_boot(&sim, NULL);
    pid = e2e_launch(
        &sim, NULL,
        E2E_ARGV("run", "--loop", "3s", "-c", TEMPLATE, "--log-dir", root), &n);
    /* the sleep after the first run: everything after it is iteration 2 */
    assert_true(e2e_wait_for(e2e_err_path(n), "loop: next run in 3 s", 1));
    assert_true(sim_stat_writes(&sim) > 0);
    assert_int_equal(sim_reset_stats(&sim), 0);
    /* the sleep after the second: 3 s to stop it there */
    assert_true(e2e_wait_for(e2e_err_path(n), "loop: next run in 3 s", 2));
    assert_int_equal(kill(pid, SIGTERM), 0);
    e2e_reap(pid, n, &r);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err.buf, "loop: iteration 2"));
    assert_null(strstr(r.err.buf, "loop: iteration 3"));
    assert_non_null(strstr(r.err.buf, "loop: stopped by signal 15"));
    e2e_run_release(&r);
    /* iteration 2 read the library and wrote nothing */
    assert_int_equal(sim_stat_endpoint(&sim, "GET /server/version"), 1);
    assert_int_equal(sim_stat_writes(&sim), 0);
    /* the lock is free */
    assert_int_equal(
        e2e_tool_code(&sim, E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", root)),
        0);
    e2e_halt(&sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_end_state_3),
        cmocka_unit_test(test_template_end_state_2),
        cmocka_unit_test(test_independent_writes_overlap),
        cmocka_unit_test(test_features_one_at_a_time),
        cmocka_unit_test(test_date_correction),
        cmocka_unit_test(test_sigterm_then_rerun_converges),
        cmocka_unit_test(test_refused_tag_writes),
        cmocka_unit_test(test_keys_with_less_power),
        cmocka_unit_test(test_plan_apply_and_stale_plans),
        cmocka_unit_test(test_key_never_written),
        cmocka_unit_test(test_every_planned_change_is_in_the_end_state),
        cmocka_unit_test(test_loop_runs_until_a_signal),
    };

    return e2e_run_group("e2e-run", IA_BIN, tests);
}
