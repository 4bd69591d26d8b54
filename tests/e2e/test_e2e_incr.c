/*
 * test_e2e_incr.c: the incremental nightly read (docs/user-guide.md
 * "Full and incremental reads").
 *
 * Against the small library with the upstream template, on both server
 * lines: after the runs have converged, one kind of change is made
 * behind the tool's back (an upload, an edit that moves updatedAt, a tag
 * added or removed through the API, an album add or remove, a trash, a
 * restore, a date change, a partner who starts sharing, shared-link
 * uploads of a new photo and of one the owner has).  Then `plan` reading
 * incrementally must plan exactly what `plan --full-read` plans, with the
 * same snapshot_digest (a digest of the whole model: every asset, date,
 * album and tag membership), and that digest must differ from the one
 * before the change.  An unchanged run reads no asset page and no album.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/common.h"
#include "core/uuid.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define CONFIG IA_TEST_DATA "/config/upstream-template.yaml"

/* The tool's log root (run directories, state database) of this server. */
static char logdir[512];

static int tool(const struct sim_proc *sim, const char *a1)
{
    return e2e_tool_code(sim, E2E_ARGV("run", "--quiet", "--config", CONFIG,
                                       "--log-dir", logdir, a1));
}

/* Two runs: the first makes what the change calls for, the second
 * absorbs what the first changed (and remembers the library). */
static void converge(const struct sim_proc *sim)
{
    assert_int_equal(tool(sim, NULL), 0);
    assert_int_equal(tool(sim, NULL), 0);
}

/* The slice `plan` shows (--max-items): the whole library, or the
 * first assets in the server's order. */
static const char *max_items = "1000000";

/* `plan --json` (incremental unless full) into *plan, without the time
 * it was made; its stderr into err. */
static void plan(const struct sim_proc *sim, bool full, json_t **plan,
                 struct buf *err)
{
    struct e2e_run r;

    assert_int_equal(e2e_tool(sim,
                              E2E_ARGV("plan", "--json", "--config", CONFIG,
                                       "--log-dir", logdir, "--max-items",
                                       max_items, full ? "--full-read" : NULL),
                              &r),
                     0);
    *plan = es_parse(r.out.buf, r.out.len);
    json_object_del(*plan, "created_at");
    buf_reset(err);
    buf_addstr(err, r.err.buf);
    e2e_run_release(&r);
}

/* The model's digest (plan's snapshot_digest) before the change. */
static char baseline[64];

static void before(const struct sim_proc *sim)
{
    json_t *p;
    struct buf err = BUF_INIT;

    plan(sim, true, &p, &err);
    snprintf(baseline, sizeof(baseline), "%s", es_str(p, "snapshot_digest"));
    json_decref(p);
    buf_release(&err);
}

/* Every note of `part` is one of `whole`'s. */
static void notes_within(const char *what, json_t *part, json_t *whole)
{
    size_t i, j;
    json_t *n, *w;

    json_array_foreach(part, i, n)
    {
        bool found = false;

        json_array_foreach(whole, j, w) found |= json_equal(n, w) != 0;
        if (!found) {
            char *t = json_dumps(n, JSON_SORT_KEYS);

            fail_msg("%s: a note of the incremental plan is not in the "
                     "full one: %s",
                     what, t);
        }
    }
}

/*
 * The change has been made: the incremental read gives the full read's
 * model (the plans, their snapshot_digest included, are the same), which
 * differs from the one before the change.  `incremental`: the read must
 * not have fallen back to a full one.
 */
static void seen(const struct sim_proc *sim, const char *what, bool incremental)
{
    json_t *inc, *full;
    struct buf err = BUF_INIT, ferr = BUF_INIT;
    char *a, *b;

    plan(sim, false, &inc, &err);
    plan(sim, true, &full, &ferr);
    if (incremental && !strstr(err.buf, "read incrementally"))
        fail_msg("%s: the read was not incremental:\n%s", what, err.buf);
    /* An incremental evaluation walks only what the change can affect:
     * the same writes, and notes only about what it walked (a part of the
     * full plan's; docs/rules.md "What a change can affect"). */
    notes_within(what, json_object_get(inc, "notes"),
                 json_object_get(full, "notes"));
    json_object_del(inc, "notes");
    json_object_del(full, "notes");
    json_object_del(inc, "stats");
    json_object_del(full, "stats");
    a = json_dumps(inc, JSON_SORT_KEYS);
    b = json_dumps(full, JSON_SORT_KEYS);
    if (strcmp(a, b)) {
        size_t d = 0;

        while (a[d] && a[d] == b[d])
            d++;
        d = d > 120 ? d - 120 : 0;
        fail_msg("%s: the incremental plan differs from the full read's"
                 ":\n... %.400s\n... %.400s",
                 what, a + d, b + d);
    }
    /* the digest covers every asset and membership of the model */
    if (!strcmp(es_str(full, "snapshot_digest"), baseline))
        fail_msg("%s: the library did not change", what);
    free(a);
    free(b);
    json_decref(inc);
    json_decref(full);
    buf_release(&err);
    buf_release(&ferr);
}

static void api(const struct sim_proc *sim, const char *key, const char *method,
                const char *path, const char *body)
{
    struct buf out = BUF_INIT;
    int st = sim_request_key(sim, key ? key : sim->api_key, method, path, body,
                             &out, NULL, NULL);

    if (st < 200 || st > 299)
        fail_msg("%s %s: %d %s", method, path, st, out.buf);
    buf_release(&out);
}

/* "YYYY-MM-DD event" */
static bool day_album(const char *name)
{
    return strlen(name) > 11 && name[4] == '-' && name[7] == '-' &&
           name[10] == ' ';
}

/*
 * An admin asset on the timeline, untagged, with no duplicate, in exactly
 * one album, a day album, and not `not` (may be NULL): its id into id and
 * the album's into album.
 */
static void pick(const struct sim_proc *sim, const char * not, char id[64],
                 char album[64])
{
    json_t *st = es_state(sim), *a;
    const char *admin = es_admin_id(st);
    size_t i;

    id[0] = '\0';
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        json_t *al = json_object_get(a, "albumIds");
        const char *name = es_album_of(st, a, 0);

        if (strcmp(es_str(a, "ownerId"), admin) ||
            strcmp(es_str(a, "visibility"), "timeline") ||
            !json_is_null(json_object_get(a, "deletedAt")) ||
            !json_is_null(json_object_get(a, "duplicateId")) ||
            json_array_size(json_object_get(a, "tagIds")) ||
            json_array_size(al) != 1 || !name || !day_album(name) ||
            (not &&!strcmp(not, es_str(a, "id"))))
            continue;
        snprintf(id, 64, "%s", es_str(a, "id"));
        snprintf(album, 64, "%s", json_string_value(json_array_get(al, 0)));
        break;
    }
    assert_true(id[0] != '\0');
    json_decref(st);
}

/* The id of the admin's album or tag named name. */
static void id_of(const struct sim_proc *sim, const char *list, const char *key,
                  const char *name, char id[64])
{
    json_t *st = es_state(sim);
    json_t *o = es_find(st, list, key, name);

    assert_non_null(o);
    snprintf(id, 64, "%s", es_str(o, "id"));
    json_decref(st);
}

static void ids_body(struct buf *b, const char *a, const char *b2)
{
    buf_reset(b);
    if (b2)
        buf_addf(b, "{\"ids\":[\"%s\",\"%s\"]}", a, b2);
    else
        buf_addf(b, "{\"ids\":[\"%s\"]}", a);
}

/* The ids a change needs, and scratch buffers. */
struct ctx {
    struct sim_proc sim;
    struct buf path, body;
    char x[64], y[64], album[64], other[64];
    char review[64], meme_album[64], keyword[64];
};

/* POST /__sim/upload: a new asset, in no album, needs its temporary
 * album */
static void c_upload(struct ctx *c)
{
    api(&c->sim, NULL, "POST", "/__sim/upload", "{\"count\":1}");
}

/* a guest uploads a new photo through a keyword album's link */
static void c_link_new(struct ctx *c)
{
    buf_addf(&c->body, "{\"albumId\":\"%s\"}", c->keyword);
    api(&c->sim, NULL, "POST", "/__sim/shared-link-upload", c->body.buf);
}

/* ... and one the owner has, into the meme album: no updatedAt moves */
static void c_link_dup(struct ctx *c)
{
    buf_addf(&c->body, "{\"albumId\":\"%s\",\"assetId\":\"%s\"}", c->meme_album,
             c->x);
    api(&c->sim, NULL, "POST", "/__sim/shared-link-upload", c->body.buf);
}

/* x added through the API to the assets of /api/<what>/<id> (a tag's,
 * an album's); the request stays in c->path and c->body */
static void put_x(struct ctx *c, const char *what, const char *id)
{
    buf_reset(&c->path);
    buf_addf(&c->path, "/api/%s/%s/assets", what, id);
    ids_body(&c->body, c->x, NULL);
    api(&c->sim, NULL, "PUT", c->path.buf, c->body.buf);
}

/* add's change, converged, then the same request as a DELETE */
static void add_then_remove(struct ctx *c, void (*add)(struct ctx *))
{
    add(c);
    converge(&c->sim);
    before(&c->sim);
    api(&c->sim, NULL, "DELETE", c->path.buf, c->body.buf);
}

/* a tag added through the API (updatedAt does not move) */
static void c_tag_add(struct ctx *c)
{
    put_x(c, "tags", c->review);
}

/* ... and removed (the add converged first) */
static void c_tag_remove(struct ctx *c)
{
    add_then_remove(c, c_tag_add);
}

/* an album add through the API, by the album's owner */
static void c_album_add(struct ctx *c)
{
    put_x(c, "albums", c->meme_album);
}

/* ... and its removal (updatedAt moves for neither) */
static void c_album_remove(struct ctx *c)
{
    add_then_remove(c, c_album_add);
}

/* a date moved by years (out of its day album's 180 days) */
static void c_date(struct ctx *c)
{
    buf_addf(&c->path, "/api/assets/%s", c->x);
    api(&c->sim, NULL, "PUT", c->path.buf,
        "{\"dateTimeOriginal\":\"1999-06-15T12:00:00.000Z\"}");
}

/* an edit that moves updatedAt: two assets become duplicates */
static void c_edit(struct ctx *c)
{
    buf_addf(&c->body,
             "{\"ids\":[\"%s\",\"%s\"],\"duplicateId\":"
             "\"5a0c3b1e-7d2f-4c8a-9b6e-1f2a3b4c5d6e\"}",
             c->x, c->y);
    api(&c->sim, NULL, "PUT", "/api/assets", c->body.buf);
}

/* a trash: the asset leaves the library */
static void c_trash(struct ctx *c)
{
    ids_body(&c->body, c->x, NULL);
    api(&c->sim, NULL, "DELETE", "/api/assets", c->body.buf);
}

/* a restore of an asset that left its album while in the trash */
static void c_restore(struct ctx *c)
{
    c_trash(c);
    buf_addf(&c->path, "/api/albums/%s/assets", c->album);
    api(&c->sim, NULL, "DELETE", c->path.buf, c->body.buf);
    converge(&c->sim);
    before(&c->sim);
    api(&c->sim, NULL, "POST", "/api/trash/restore/assets", c->body.buf);
}

/* John starts sharing with the admin: his assets join the admin's
 * searches with their old updatedAt */
static void c_partner(struct ctx *c)
{
    json_t *st = es_state(&c->sim);

    buf_addf(&c->path, "/api/partners/%s", es_admin_id(st));
    api(&c->sim, "immich-sim-key-John", "POST", c->path.buf, NULL);
    buf_reset(&c->path);
    buf_addf(&c->path, "/api/partners/%s", es_user_id(st, "john@example.com"));
    api(&c->sim, NULL, "PUT", c->path.buf, "{\"inTimeline\":true}");
    json_decref(st);
}

/*
 * The cases where an album's members change and none of the three fields
 * the album cache trusts moves (docs/simulator.md "Members that change
 * behind the album"): into c->album (an admin day album of two or more
 * members), c->x becomes a member that is neither the thumbnail nor the
 * newest, c->y an admin asset outside it, older than its newest member.
 */
static void behind_album(struct ctx *c)
{
    json_t *st = es_state(&c->sim), *al, *a;
    const char *admin = es_admin_id(st);
    size_t i, j;

    c->x[0] = c->y[0] = '\0';
    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        json_t *ids = json_object_get(al, "assetIds"), *id;
        const char *thumb = es_str(al, "albumThumbnailAssetId");
        const char *newest = "", *pick_x = NULL;

        if (strcmp(es_str(al, "ownerId"), admin) ||
            !day_album(es_str(al, "albumName")) || json_array_size(ids) < 3)
            continue;
        json_array_foreach(ids, j, id)
        {
            a = es_find(st, "assets", "id", json_string_value(id));
            if (a && strcmp(es_str(a, "updatedAt"), newest) > 0)
                newest = es_str(a, "updatedAt");
        }
        json_array_foreach(ids, j, id)
        {
            a = es_find(st, "assets", "id", json_string_value(id));
            if (a && strcmp(json_string_value(id), thumb) &&
                strcmp(es_str(a, "updatedAt"), newest) < 0 &&
                json_is_null(json_object_get(a, "deletedAt"))) {
                pick_x = json_string_value(id);
                break;
            }
        }
        if (!pick_x)
            continue;
        json_array_foreach(json_object_get(st, "assets"), j, a)
        {
            if (!strcmp(es_str(a, "ownerId"), admin) &&
                json_is_null(json_object_get(a, "deletedAt")) &&
                !strcmp(es_str(a, "visibility"), "timeline") &&
                strcmp(es_str(a, "updatedAt"), newest) < 0 &&
                !es_in_album(st, a, es_str(al, "albumName"))) {
                snprintf(c->y, 64, "%s", es_str(a, "id"));
                break;
            }
        }
        if (!c->y[0])
            continue;
        snprintf(c->x, 64, "%s", pick_x);
        snprintf(c->album, 64, "%s", es_str(al, "id"));
        break;
    }
    assert_true(c->x[0] && c->y[0]);
    json_decref(st);
}

/* c->y joins c->album through its shared link (the owner has it) */
static void link_dup_into_album(struct ctx *c)
{
    buf_reset(&c->body);
    buf_addf(&c->body, "{\"albumId\":\"%s\",\"assetId\":\"%s\"}", c->album,
             c->y);
    api(&c->sim, NULL, "POST", "/__sim/shared-link-upload", c->body.buf);
}

/* A member trashed and a photo the owner has uploaded through the link
 * on the same day: assetCount -1 +1, nothing else moves. */
static void c_trash_and_link(struct ctx *c)
{
    behind_album(c);
    link_dup_into_album(c);
    ids_body(&c->body, c->x, NULL);
    api(&c->sim, NULL, "DELETE", "/api/assets", c->body.buf);
}

/* Makes the album's remembered members a day older than the others
 * (the state database, as a day passing would): the rotating re-check
 * takes the longest remembered first. */
static void age_album(const char *album)
{
    struct buf db = BUF_INIT, sql = BUF_INIT;
    struct uuid id;
    sqlite3 *h = NULL;

    assert_int_equal(uuid_parse(album, strlen(album), &id), 0);
    buf_addf(&db, "%s/state.sqlite", logdir);
    buf_addstr(&sql, "UPDATE album_members SET fetched_at = fetched_at - "
                     "86400000 WHERE album = x'");
    for (size_t i = 0; i < sizeof(id.b); i++)
        buf_addf(&sql, "%02x", id.b[i]);
    buf_addstr(&sql, "'");
    assert_int_equal(sqlite3_open(db.buf, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, sql.buf, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_changes(h), 1);
    assert_int_equal(sqlite3_close(h), SQLITE_OK);
    buf_release(&db);
    buf_release(&sql);
}

/* A member removed and a photo the owner has uploaded through the link
 * on the same day: nothing the server lists moves at all; a day later
 * the album is the longest remembered. */
static void c_remove_and_link(struct ctx *c)
{
    behind_album(c);
    link_dup_into_album(c);
    buf_addf(&c->path, "/api/albums/%s/assets", c->album);
    ids_body(&c->body, c->x, NULL);
    api(&c->sim, NULL, "DELETE", c->path.buf, c->body.buf);
    age_album(c->album);
}

/* A hidden member (a live photo's video part) removed: not counted, so
 * nothing moves; 3.x album searches return hidden members. */
static void c_hidden_removed(struct ctx *c)
{
    behind_album(c);
    buf_addf(&c->path, "/api/assets/%s", c->x);
    api(&c->sim, NULL, "PUT", c->path.buf, "{\"visibility\":\"hidden\"}");
    converge(&c->sim);
    before(&c->sim);
    buf_reset(&c->path);
    buf_addf(&c->path, "/api/albums/%s/assets", c->album);
    ids_body(&c->body, c->x, NULL);
    api(&c->sim, NULL, "DELETE", c->path.buf, c->body.buf);
    age_album(c->album);
}

/* an asset's date moved to the newest, and two uploads */
static void c_slice(struct ctx *c)
{
    buf_addf(&c->path, "/api/assets/%s", c->x);
    api(&c->sim, NULL, "PUT", c->path.buf,
        "{\"dateTimeOriginal\":\"2030-01-01T12:00:00.000Z\"}");
    api(&c->sim, NULL, "POST", "/__sim/upload", "{\"count\":2}");
}

struct kind {
    const char *name;
    void (*change)(struct ctx *c);
    bool incremental; /* false: the counts disagree, a full read */
    bool v3_only;     /* 2.x album searches do not show the change */
};

/* One kind of change on one server line, from converged runs, with a
 * log root of its own (a new server on a port an earlier one used must
 * not find that one's memory). */
static void one_change(const struct kind *k, const char *dialect)
{
    static unsigned n;
    char logs[32];
    struct ctx c;

    snprintf(logs, sizeof(logs), "logs-%u", ++n);
    snprintf(logdir, sizeof(logdir), "%s", e2e_path(logs));
    memset(&c, 0, sizeof(c));
    buf_init(&c.path, 0);
    buf_init(&c.body, 0);
    e2e_boot(&c.sim, E2E_ARGV("--dialect", dialect));
    converge(&c.sim);
    id_of(&c.sim, "tags", "value", "autotag_input_pending_review", c.review);
    id_of(&c.sim, "albums", "albumName", "autotag_input_meme", c.meme_album);
    id_of(&c.sim, "albums", "albumName", "Family Christmas 2005", c.keyword);
    pick(&c.sim, NULL, c.x, c.album);
    pick(&c.sim, c.x, c.y, c.other);
    before(&c.sim);
    k->change(&c);
    seen(&c.sim, k->name, k->incremental);
    if (!k->incremental) {
        struct e2e_run r;

        assert_int_equal(
            e2e_tool(&c.sim,
                     E2E_ARGV("plan", "--config", CONFIG, "--log-dir", logdir),
                     &r),
            0);
        assert_non_null(strstr(r.err.buf, "(6 of partners)"));
        assert_non_null(strstr(r.err.buf, "read in full"));
        e2e_run_release(&r);
    }
    assert_int_equal(sim_stop(&c.sim), 0);
    buf_release(&c.path);
    buf_release(&c.body);
}

static void test_change(void **state)
{
    const struct kind *k = *state;

    if (!k->v3_only)
        one_change(k, "2");
    one_change(k, "3");
}

static const struct kind kinds[] = {
    {"upload", c_upload, true, false},
    {"shared-link upload", c_link_new, true, false},
    {"shared-link upload of a photo the owner has", c_link_dup, true, false},
    {"tag added through the API", c_tag_add, true, false},
    {"tag removed through the API", c_tag_remove, true, false},
    {"album add", c_album_add, true, false},
    {"album remove", c_album_remove, true, false},
    {"date change", c_date, true, false},
    {"duplicateId edit", c_edit, true, false},
    {"trash", c_trash, true, false},
    {"restore", c_restore, true, false},
    {"partner starts sharing", c_partner, false, false},
    {"album: a member trashed, a known photo linked in", c_trash_and_link, true,
     false},
    {"album: a member removed, a known photo linked in", c_remove_and_link,
     true, false},
    {"album: a hidden member removed", c_hidden_removed, true, true},
};

/*
 * The rebuilt library keeps the server's order (newest fileCreatedAt
 * first), which decides a sliced run's assets: an asset whose date moved
 * and new uploads take their places, and the first 40 assets are the
 * full read's.
 */
static void slice(const char *dialect)
{
    const struct kind k = {"a slice after a date change and uploads", c_slice,
                           true, false};

    max_items = "40";
    one_change(&k, dialect);
    max_items = "1000000";
}

static void test_slice_in_server_order(void **state)
{
    (void)state;
    slice("2");
    slice("3");
}

/* What the request log holds: searches for changed assets, for an
 * album's members, and asset pages (searches by none of updatedAfter,
 * albumIds, tagIds). */
static bool delta_search(const char *line)
{
    return strstr(line, "updatedAfter") != NULL;
}

static bool album_search(const char *line)
{
    return strstr(line, "albumIds") != NULL;
}

static bool asset_page(const char *line)
{
    return strstr(line, "/search/metadata") && !strstr(line, "updatedAfter") &&
           !strstr(line, "albumIds") && !strstr(line, "tagIds");
}

static long log_seen;

/* Requests of kind match since the last call of logged() (with all
 * false: only). */
static long logged(const char *path, bool (*match)(const char *line),
                   bool advance)
{
    long seen = log_seen, n = e2e_log_count(path, &seen, match);

    if (advance)
        log_seen = seen;
    return n;
}

/*
 * An unchanged library: the run reads no asset page and no album's
 * members, and asks for the changed assets once per visibility pass
 * (2.x: timeline, archive, hidden; 3.x: one) and EXIF twin.
 */
static void unchanged(const char *dialect, long passes)
{
    struct buf log = BUF_INIT;
    struct sim_proc sim;

    log_seen = 0;
    snprintf(logdir, sizeof(logdir), "%s",
             e2e_path(dialect[0] == '2' ? "logs-u2" : "logs-u3"));
    buf_addf(&log, "%s/requests.jsonl", e2e_tmpdir());
    (void)unlink(log.buf);
    e2e_boot(&sim, E2E_ARGV("--dialect", dialect, "--request-log", log.buf));
    converge(&sim);
    assert_int_equal(tool(&sim, NULL), 0);
    (void)logged(log.buf, delta_search, true);
    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(tool(&sim, NULL), 0);
    assert_int_equal(logged(log.buf, asset_page, false), 0);
    assert_int_equal(logged(log.buf, album_search, false), 0);
    assert_int_equal(logged(log.buf, delta_search, true), 2 * passes);
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/statistics"),
                     passes);
    /* --full-read reads the pages again */
    assert_int_equal(tool(&sim, "--full-read"), 0);
    assert_int_equal(logged(log.buf, delta_search, false), 0);
    assert_true(logged(log.buf, asset_page, true) > 0);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&log);
}

static void test_unchanged_run_reads_no_page(void **state)
{
    (void)state;
    unchanged("2", 3);
    unchanged("3", 1);
}

/*
 * An incremental read evaluates only what changed since the last read,
 * which is right only when that run made every change it planned.  A
 * dry run (or failed writes) leaves them unmade: the next run must plan
 * them all again.  Before, the run after `run --dry-run` wrote nothing.
 */
static void unsettled(const char *dialect)
{
    struct sim_proc fresh, sim;
    char *want, *got;
    json_t *a, *b;

    snprintf(logdir, sizeof(logdir), "%s",
             e2e_path(dialect[0] == '2' ? "logs-d2" : "logs-d3"));
    e2e_boot(&sim, E2E_ARGV("--dialect", dialect));
    assert_int_equal(tool(&sim, "--dry-run"), 0);
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(tool(&sim, NULL), 0);
    assert_true(sim_stat_writes(&sim) > 0);

    /* the same as one run on a fresh server */
    snprintf(logdir, sizeof(logdir), "%s",
             e2e_path(dialect[0] == '2' ? "logs-f2" : "logs-f3"));
    e2e_boot(&fresh, E2E_ARGV("--dialect", dialect));
    assert_int_equal(tool(&fresh, NULL), 0);
    a = es_state(&fresh);
    b = es_state(&sim);
    want = es_end_state_text(a);
    got = es_end_state_text(b);
    assert_string_equal(got, want);
    json_decref(a);
    json_decref(b);
    free(want);
    free(got);
    assert_int_equal(sim_stop(&fresh), 0);
    assert_int_equal(sim_stop(&sim), 0);
}

static void test_run_after_dry_run_makes_every_change(void **state)
{
    (void)state;
    unsettled("2");
    unsettled("3");
}

int main(void)
{
    struct CMUnitTest tests[ARRAY_SIZE(kinds) + 3];

    for (size_t i = 0; i < ARRAY_SIZE(kinds); i++) {
        tests[i] = (struct CMUnitTest)cmocka_unit_test_prestate(
            test_change, (void *)&kinds[i]);
        tests[i].name = kinds[i].name;
    }
    tests[ARRAY_SIZE(kinds)] =
        (struct CMUnitTest)cmocka_unit_test(test_unchanged_run_reads_no_page);
    tests[ARRAY_SIZE(kinds) + 1] =
        (struct CMUnitTest)cmocka_unit_test(test_slice_in_server_order);
    tests[ARRAY_SIZE(kinds) + 2] = (struct CMUnitTest)cmocka_unit_test(
        test_run_after_dry_run_makes_every_change);
    return e2e_run_group("incr", IA_BIN, tests);
}
