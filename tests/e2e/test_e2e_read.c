/*
 * test_e2e_read.c: the snapshot against immich-sim (issue #4's tests).
 *
 *   - the model equals the simulator's state (/__sim/state) for the small
 *     library, in both dialects: the admin's assets (trash excluded) with
 *     their dates and duplicate groups, the albums it owns or shares with
 *     their users, roles and members, its tags with their direct members;
 *   - the requests by endpoint are exactly what the library implies;
 *   - injected faults: transient ones are retried and the snapshot is the
 *     same; persistent ones stop the load with the endpoint named, and no
 *     write reaches the simulator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>

#include <stdlib.h>

#include "core/common.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"
#include "snapshot/snapshot.h"

struct load {
    struct model m;
    struct snapshot_info info;
    int rc;
    struct buf err;
};

static void load_key(const struct sim_proc *sim, const char *key,
                     struct load *l);

static void load(const struct sim_proc *sim, struct load *l)
{
    load_key(sim, sim->api_key, l);
}

static void load_with(const struct sim_proc *sim, const char *key,
                      const struct snapshot_opts *so, struct load *l);

static void load_key(const struct sim_proc *sim, const char *key,
                     struct load *l)
{
    load_with(sim, key, NULL, l);
}

/* so: NULL = everything the configuration-less read fetches */
static void load_with(const struct sim_proc *sim, const char *key,
                      const struct snapshot_opts *so, struct load *l)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;

    buf_init(&l->err, 0);
    o.base_url = sim->url;
    o.api_key = key;
    o.retry_base_ms = 1; /* fast retries: the test is about counts */
    o.retry_max_ms = 5;
    o.retry_after_max_ms = 5;
    o.max_retries = 3;
    e = http_engine_new(&o, &l->err);
    assert_non_null(e);
    model_init(&l->m);
    l->rc = snapshot_load(NULL, e, so, &l->m, &l->info, &l->err);
    http_engine_free(e);
}

static void load_release(struct load *l)
{
    model_release(&l->m);
    buf_release(&l->err);
}

/* A read writes nothing; then the load and the simulator are done with. */
static void read_done(struct sim_proc *sim, struct load *l)
{
    assert_int_equal(sim_stat_writes(sim), 0);
    load_release(l);
    e2e_halt(sim);
}

static struct uuid id_of(json_t *v)
{
    struct uuid u;

    assert_true(json_is_string(v));
    assert_int_equal(
        uuid_parse(json_string_value(v), json_string_length(v), &u), 0);
    return u;
}

static int64_t time_of(json_t *v)
{
    int64_t t = TIME_NONE;

    if (json_is_string(v))
        assert_int_equal(time_parse_iso(json_string_value(v),
                                        json_string_length(v), &t, NULL),
                         0);
    return t;
}

static bool str_eq(json_t *v, const char *s)
{
    return json_is_string(v) && !strcmp(json_string_value(v), s);
}

/* The user whose key the loader used, and the partners whose assets
 * show in its timeline. */
struct viewer {
    const char *id;
    json_t *partners;
};

/* Its own and its partners' non-trashed, non-locked assets. */
static bool visible_asset(json_t *a, const struct viewer *v)
{
    const char *owner = json_string_value(json_object_get(a, "ownerId"));
    bool mine = owner && !strcmp(owner, v->id), partner = false;
    size_t i;
    json_t *p;

    json_array_foreach(v->partners, i, p) partner |=
        str_eq(p, owner ? owner : "");
    return (mine || partner) && json_is_null(json_object_get(a, "deletedAt")) &&
           !str_eq(json_object_get(a, "visibility"), "locked");
}

static bool member_of(json_t *album, const char *user)
{
    size_t i;
    json_t *u;

    if (str_eq(json_object_get(album, "ownerId"), user))
        return true;
    json_array_foreach(
        json_object_get(album, "albumUsers"), i,
        u) if (str_eq(json_object_get(u, "userId"), user)) return true;
    return false;
}

/* A record of the state is in the model (index k) exactly when the
 * viewer sees it (visible); one seen is counted in *n.  Whether it is. */
static bool in_model_when_seen(uint32_t k, bool visible, size_t *n)
{
    if (!visible) {
        assert_int_equal(k, MODEL_NONE);
        return false;
    }
    (*n)++;
    assert_int_not_equal(k, MODEL_NONE);
    return true;
}

static size_t check_assets(const struct model *m, json_t *st,
                           const struct viewer *admin)
{
    size_t i, n = 0;
    json_t *a;

    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        struct uuid id = id_of(json_object_get(a, "id"));
        uint32_t k = model_find_asset(m, &id);
        json_t *exif = json_object_get(a, "exifInfo");

        if (!in_model_when_seen(k, visible_asset(a, admin), &n))
            continue;
        /* the key's user's own assets are not a partner's */
        assert_int_equal(!!(m->assets[k].flags & MODEL_ASSET_PARTNER),
                         !str_eq(json_object_get(a, "ownerId"), admin->id));
        assert_int_equal(m->assets[k].file_created_at,
                         time_of(json_object_get(a, "fileCreatedAt")));
        assert_int_equal(m->assets[k].date_time_original,
                         json_is_object(exif) ? time_of(json_object_get(
                                                    exif, "dateTimeOriginal"))
                                              : TIME_NONE);
        assert_string_equal(
            model_str(m, m->assets[k].file_name),
            json_string_value(json_object_get(a, "originalFileName")));
    }
    assert_int_equal(m->assets_nr, n);
    return n;
}

/* Members of album (or direct tag links) in the model == in the state. */
static void check_members(const struct model *m, json_t *st,
                          const struct viewer *admin, bool tags)
{
    size_t i, j;
    json_t *a, *x;
    const char *list = tags ? "tagIds" : "albumIds";

    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        struct uuid id = id_of(json_object_get(a, "id"));
        uint32_t k = model_find_asset(m, &id);
        const uint32_t *row;
        size_t nr, want = 0;

        if (!visible_asset(a, admin))
            continue;
        row =
            tags ? model_asset_tags(m, k, &nr) : model_asset_albums(m, k, &nr);
        json_array_foreach(json_object_get(a, list), j, x)
        {
            struct uuid r = id_of(x);
            uint32_t idx =
                tags ? model_find_tag(m, &r) : model_find_album(m, &r);
            bool found = false;

            if (idx == MODEL_NONE)
                continue; /* another user's album or tag */
            want++;
            for (size_t q = 0; q < nr && !found; q++)
                found = row[q] == idx;
            if (!found)
                fail_msg("asset %s: %s link missing",
                         json_string_value(json_object_get(a, "id")),
                         tags ? "tag" : "album");
        }
        assert_int_equal(nr, want);
    }
}

static void check_albums(const struct model *m, json_t *st,
                         const struct viewer *v)
{
    size_t i, j, n = 0;
    json_t *al, *u;

    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        struct uuid id = id_of(json_object_get(al, "id"));
        uint32_t k = model_find_album(m, &id);
        const struct model_album *ma;
        size_t users = 0;

        if (!in_model_when_seen(k, member_of(al, v->id), &n))
            continue;
        ma = &m->albums[k];
        assert_string_equal(
            model_str(m, ma->name),
            json_string_value(json_object_get(al, "albumName")));
        json_array_foreach(json_object_get(al, "albumUsers"), j, u)
        {
            struct uuid uid = id_of(json_object_get(u, "userId"));
            uint32_t mu = model_find_user(m, &uid);
            bool found = false;

            if (str_eq(json_object_get(u, "role"), "owner"))
                continue;
            users++;
            for (uint32_t q = 0; q < ma->users_nr && !found; q++) {
                const struct model_album_user *x =
                    &m->album_users[ma->users_first + q];

                found = x->user == mu &&
                        x->role == (str_eq(json_object_get(u, "role"), "editor")
                                        ? MODEL_ROLE_EDITOR
                                        : MODEL_ROLE_VIEWER);
            }
            assert_true(found);
        }
        assert_int_equal(ma->users_nr, users);
    }
    assert_int_equal(m->albums_nr, n);
}

static void check_tags(const struct model *m, json_t *st,
                       const struct viewer *v)
{
    size_t i, n = 0;
    json_t *t;

    json_array_foreach(json_object_get(st, "tags"), i, t)
    {
        struct uuid id = id_of(json_object_get(t, "id"));
        uint32_t k = model_find_tag(m, &id);

        if (!in_model_when_seen(k, str_eq(json_object_get(t, "ownerId"), v->id),
                                &n))
            continue;
        assert_string_equal(model_str(m, m->tags[k].value),
                            json_string_value(json_object_get(t, "value")));
    }
    assert_int_equal(m->tags_nr, n);
}

/* user: index in the state's users (0 = the admin). */
static void check_equal_as(const struct sim_proc *sim, const struct model *m,
                           size_t user)
{
    json_t *st = es_state(sim);
    json_t *u = json_array_get(json_object_get(st, "users"), user);
    struct viewer v = {json_string_value(json_object_get(u, "id")),
                       json_object_get(u, "partners")};

    check_assets(m, st, &v);
    check_albums(m, st, &v);
    check_tags(m, st, &v);
    check_members(m, st, &v, false);
    check_members(m, st, &v, true);
    json_decref(st);
}

static void check_equal(const struct sim_proc *sim, const struct model *m)
{
    check_equal_as(sim, m, 0);
}

/* Non-empty albums the admin sees: one membership search each. */
static long nonempty_albums(const struct sim_proc *sim)
{
    json_t *st = es_state(sim), *al;
    const char *admin = json_string_value(
        json_object_get(json_array_get(json_object_get(st, "users"), 0), "id"));
    size_t i;
    long n = 0;

    json_array_foreach(json_object_get(st, "albums"), i,
                       al) if (member_of(al, admin) &&
                               json_array_size(json_object_get(al, "assetIds")))
        n++;
    json_decref(st);
    return n;
}

static void start(struct sim_proc *sim, const char *dialect, const char *faults)
{
    e2e_boot_opt(sim, E2E_ARGV("--dialect", dialect), "--faults", faults);
}

/* The snapshot of the small library in the dialect *state equals the
 * simulator's state. */
static void test_snapshot_equals_state(void **state)
{
    const char *dialect = *state;
    struct sim_proc sim;
    struct load l;

    start(&sim, dialect, NULL);
    load(&sim, &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    assert_true(l.info.complete);
    check_equal(&sim, &l.m);
    read_done(&sim, &l);
}

/*
 * 3.x, everything needed (cfg NULL): version; users/me, users, tags,
 * albums, one statistics; the asset page with EXIF, and one isNotInAlbum
 * page (the small library has assets without an EXIF row; 269 assets =
 * one page each); one search per non-empty album and one per tag
 * (each tag's membership, children included, then subtracted).
 */
static void test_exact_request_counts(void **state)
{
    struct sim_proc sim;
    struct load l;
    long albums, tags;

    (void)state;
    start(&sim, "3", NULL);
    albums = nonempty_albums(&sim);
    load(&sim, &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    tags = (long)l.m.tags_nr;
    assert_int_equal(sim_stat_endpoint(&sim, "GET /server/version"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /users/me"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /users"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /tags"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /albums"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/statistics"), 1);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     2 + albums + tags);
    assert_int_equal(sim_stat_long(&sim, "requests"), (long)l.info.requests);
    assert_int_equal((long)l.info.requests, 6 + 2 + albums + tags);
    /* some small-library assets have no EXIF row: the pass is
     * completed from the memberships and one isNotInAlbum page (the
     * plain re-read it replaces was one page too) */
    assert_int_equal(l.info.exif_recovered_passes, 1);
    assert_int_equal(l.info.exif_fallback_passes, 0);
    assert_int_equal(sim_stat_endpoint(&sim, "GET /assets/{id}"), 0);
    read_done(&sim, &l);
}

/*
 * Another user's view: Grandpa (users[1]) has Grandma as a partner, so
 * her assets are in his model (flagged), his albums and tags only.
 */
static void test_partner_view_equals_state(void **state)
{
    struct sim_proc sim;
    struct load l;
    size_t partner = 0;

    (void)state;
    start(&sim, "3", NULL);
    load_key(&sim, "immich-sim-key-Grandpa", &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    check_equal_as(&sim, &l.m, 1);
    for (size_t i = 0; i < l.m.assets_nr; i++)
        partner += !!(l.m.assets[i].flags & MODEL_ASSET_PARTNER);
    assert_true(partner > 0);
    assert_int_equal(partner, l.info.partner_assets);
    read_done(&sim, &l);
}

/* Gives n timeline assets of the admin one and the same date (a bulk
 * PUT /assets), so that page boundaries fall inside the group. */
static void same_date(const struct sim_proc *sim, size_t n)
{
    json_t *st = es_state(sim), *a;
    const char *admin = json_string_value(
        json_object_get(json_array_get(json_object_get(st, "users"), 0), "id"));
    struct buf body = BUF_INIT, out = BUF_INIT;
    size_t i, k = 0;

    buf_addstr(&body, "{\"ids\":[");
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        if (k == n || !str_eq(json_object_get(a, "ownerId"), admin) ||
            !str_eq(json_object_get(a, "visibility"), "timeline") ||
            !json_is_null(json_object_get(a, "deletedAt")))
            continue;
        buf_addf(&body, "%s\"%s\"", k++ ? "," : "",
                 json_string_value(json_object_get(a, "id")));
    }
    buf_addstr(&body, "],\"dateTimeOriginal\":\"2020-01-01T00:00:00.000Z\"}");
    assert_int_equal(k, n);
    assert_int_equal(sim_request(sim, "PUT", "/api/assets", body.buf, &out),
                     204);
    json_decref(st);
    buf_release(&body);
    buf_release(&out);
}

/*
 * The seed library in 2.x, 2,500 of its assets given the same date: 2.x
 * orders pages without a tie-breaker, so the boundaries inside that group
 * repeat and skip members from one page to the next.  The loader re-reads
 * the group whole and de-duplicates by id: every asset is read.
 */
static void test_seed_library_reads_every_asset(void **state)
{
    const char *dialect = *state;
    struct sim_proc sim;
    struct load l;

    e2e_boot(&sim, E2E_ARGV("--preset", "seed", "--dialect", dialect));
    same_date(&sim, 2500);
    load(&sim, &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    assert_true(l.info.repair_requests > 0);
    assert_int_equal((int64_t)l.m.assets_nr, l.info.server_total);
    check_equal(&sim, &l.m);
    load_release(&l);
    e2e_halt(&sim);
}

/*
 * 1,200 assets share one date, more than a page: the loader cuts the
 * group by upload time, halving from [1970, 2100].  Half of them were
 * uploaded in the very millisecond of the first cut, 2035-01-01T00:00:00
 * (plus microseconds, which the server keeps and the API's milliseconds
 * do not show): halves that meet at that millisecond and the next both
 * miss them.  The halves overlap; every asset is read.
 */
static void test_upload_time_halves_overlap(void **state)
{
    const char *args[] = {"--library", NULL, "--dialect", "2",
                          "--micros",  "on", NULL};
    json_t *assets = json_array(), *lib;
    struct sim_proc sim;
    struct buf err = BUF_INIT, path = BUF_INIT;
    char id[40], created[32];
    struct load l;

    (void)state;
    for (int i = 0; i < 1200; i++) {
        snprintf(id, sizeof(id), "00000000-0000-4000-8000-%012d", i + 1);
        if (i % 2)
            snprintf(created, sizeof(created), "2021-03-%02dT10:00:00.000Z",
                     i % 28 + 1);
        else
            snprintf(created, sizeof(created), "2035-01-01T00:00:00.000Z");
        json_array_append_new(
            assets,
            json_pack(
                "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                " s:n, s:s, s:b, s:n, s:[], s:{s:s}}",
                "id", id, "ownerId", "00000000-0000-4000-8000-00000000a001",
                "type", "IMAGE", "originalPath", "/p/x.jpg", "originalFileName",
                "x.jpg", "fileCreatedAt", "2020-01-01T00:00:00.000Z",
                "fileModifiedAt", "2020-01-01T00:00:00.000Z", "localDateTime",
                "2020-01-01T00:00:00.000Z", "createdAt", created, "updatedAt",
                created, "deletedAt", "visibility", "timeline", "isFavorite", 0,
                "duplicateId", "tagIds", "exifInfo", "dateTimeOriginal",
                "2020-01-01T00:00:00.000Z"));
    }
    lib = json_pack("{s:s, s:[{s:s, s:s, s:s, s:b, s:[], s:[{s:s, s:s,"
                    " s:[s]}]}], s:[], s:[], s:o, s:{}}",
                    "format", "immich-sim-library/1", "users", "id",
                    "00000000-0000-4000-8000-00000000a001", "email",
                    "admin@example.com", "name", "Admin", "isAdmin", 1,
                    "partners", "apiKeys", "key", "halves-key", "name", "k",
                    "permissions", "all", "tags", "albums", "assets", assets,
                    "expected");
    buf_addstr(&path, e2e_path("halves.json"));
    assert_int_equal(json_dump_file(lib, path.buf, JSON_COMPACT), 0);
    json_decref(lib);
    args[1] = path.buf;
    if (sim_start(&sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    load(&sim, &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    assert_true(l.info.repair_requests > 0);
    assert_int_equal(l.m.assets_nr, 1200);
    assert_int_equal((int64_t)l.m.assets_nr, l.info.server_total);
    read_done(&sim, &l);
    buf_release(&err);
    buf_release(&path);
}

static const struct model *order_model;

static int cmp_search_order(const void *x, const void *y)
{
    const struct model_asset *a = &order_model->assets[*(const uint32_t *)x];
    const struct model_asset *b = &order_model->assets[*(const uint32_t *)y];
    uint64_t ka = (uint64_t)a->search_pass << 32 | a->search_index;
    uint64_t kb = (uint64_t)b->search_pass << 32 | b->search_index;

    return (ka > kb) - (ka < kb);
}

/* The asset ids of m in the order the rules walk (search_pass/index). */
static struct uuid *walk_order(const struct model *m)
{
    uint32_t *idx = xmalloc(st_mult(m->assets_nr + 1, sizeof(*idx)));
    struct uuid *ids = xmalloc(st_mult(m->assets_nr + 1, sizeof(*ids)));

    for (size_t i = 0; i < m->assets_nr; i++)
        idx[i] = (uint32_t)i;
    order_model = m;
    qsort(idx, m->assets_nr, sizeof(*idx), cmp_search_order);
    for (size_t i = 0; i < m->assets_nr; i++)
        ids[i] = m->assets[idx[i]].id;
    free(idx);
    return ids;
}

/* The same library read without EXIF (the plain pass alone, what date
 * rules did not need): the walk order is the same asset for asset. */
static void same_order_as_plain_read(const struct sim_proc *sim,
                                     const struct model *m)
{
    struct snapshot_needs needs;
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct load plain;
    struct uuid *a, *b;

    memset(&needs, 0, sizeof(needs));
    so.needs = &needs;
    load_with(sim, sim->api_key, &so, &plain);
    if (plain.rc < 0)
        fail_msg("%s", plain.err.buf);
    assert_int_equal(plain.m.assets_nr, m->assets_nr);
    a = walk_order(m);
    b = walk_order(&plain.m);
    for (size_t i = 0; i < m->assets_nr; i++)
        assert_true(uuid_eq(&a[i], &b[i]));
    free(a);
    free(b);
    load_release(&plain);
}

/*
 * Every asset has an EXIF row (what Immich writes at upload): the dates
 * and every asset come from one read with withExif, no second pass.  The
 * small library, with an EXIF row given to the assets that have none.
 */
static void test_one_exif_pass_when_every_asset_has_exif(void **state)
{
    const char *args[] = {"--library", NULL, "--dialect", "3", NULL};
    struct sim_proc sim;
    struct buf err = BUF_INIT, path = BUF_INIT;
    json_t *st, *a;
    size_t i, given = 0;
    long albums, tags;
    struct load l;

    (void)state;
    start(&sim, "3", NULL);
    st = es_state(&sim);
    assert_int_equal(sim_stop(&sim), 0);
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        if (json_is_object(json_object_get(a, "exifInfo")))
            continue;
        json_object_set_new(a, "exifInfo",
                            json_pack("{s:O}", "dateTimeOriginal",
                                      json_object_get(a, "fileCreatedAt")));
        given++;
    }
    assert_true(given > 0); /* else this test proves nothing */
    buf_addstr(&path, e2e_path("all-exif.json"));
    assert_int_equal(json_dump_file(st, path.buf, JSON_COMPACT), 0);
    json_decref(st);
    args[1] = path.buf;
    if (sim_start(&sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    albums = nonempty_albums(&sim);
    load(&sim, &l);
    if (l.rc < 0)
        fail_msg("%s", l.err.buf);
    tags = (long)l.m.tags_nr;
    check_equal(&sim, &l.m);
    for (i = 0; i < l.m.assets_nr; i++)
        assert_true(l.m.assets[i].flags & MODEL_ASSET_EXIF);
    assert_int_equal(l.info.exif_fallback_passes, 0);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     1 + albums + tags);
    same_order_as_plain_read(&sim, &l.m);
    read_done(&sim, &l);
    buf_release(&err);
    buf_release(&path);
}

/* ---- short EXIF passes completed from the memberships ------------------ */

#define PL_ADMIN    "00000000-0000-4000-8000-00000000a001"
#define PL_PARTNER  "00000000-0000-4000-8000-00000000a002"
#define PL_OTHER    "00000000-0000-4000-8000-00000000a003"
#define PL_PARTNER2 "00000000-0000-4000-8000-00000000a004"
#define PL_KEY      "plant-key"
#define PL_BASE     1577836800000LL /* 2020-01-01 */

static const char *pl_id(int n, char *buf)
{
    snprintf(buf, 40, "00000000-0000-4000-8000-%012d", n);
    return buf;
}

/* Asset n: its date is n minutes after PL_BASE unless at is given. */
static json_t *pl_asset(int n, const char *owner, bool exif, const char *vis,
                        bool trashed, int64_t at)
{
    char id[40], when[32];
    json_t *a;

    time_format_iso(at != TIME_NONE ? at : PL_BASE + (int64_t)n * 60000, when);
    a = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:b, s:n, s:[]}", "id",
                  pl_id(n, id), "ownerId", owner, "type", "IMAGE",
                  "originalPath", "/p/x.jpg", "originalFileName", "x.jpg",
                  "fileCreatedAt", when, "visibility", vis, "isFavorite", 0,
                  "duplicateId", "tagIds");
    json_object_set_new(a, "deletedAt",
                        trashed ? json_string(when) : json_null());
    if (exif)
        json_object_set_new(a, "exifInfo",
                            json_pack("{s:s}", "dateTimeOriginal", when));
    return a;
}

static json_t *pl_album(int n, const char *owner, const char *shared_with,
                        const int *assets, size_t nr)
{
    char id[40], name[16];
    json_t *ids = json_array();

    for (size_t i = 0; i < nr; i++)
        json_array_append_new(ids, json_string(pl_id(assets[i], id)));
    snprintf(name, sizeof(name), "Album %d", n);
    return json_pack("{s:s, s:s, s:s, s:o, s:o}", "id", pl_id(n, id), "ownerId",
                     owner, "albumName", name, "albumUsers",
                     shared_with ? json_pack("[{s:s, s:s}]", "userId",
                                             shared_with, "role", "viewer")
                                 : json_array(),
                     "assetIds", ids);
}

/*
 * The admin's 2,100 assets with an EXIF row (1,500 in album 9001, 600 in
 * none) and its partner's 5 (in none); then the assets without one: 3001
 * in the admin's album 9002, 3002 in the other user's album 9003 shared
 * with the admin, 3003 in none, 3004 trashed (in 9002), 3005 archived (in
 * 9002), 3006 archived in none, 3007 only in album 9004 (the cached one
 * of test_remembered_album_with_a_missing_member_is_read), 3008 the
 * partner's in 9002, 3009 in none with the date of 10 and 11 (a tie),
 * 3010 the other user's in 9003 (not the admin's to read); stranded:
 * 3011 only in an album of the other user not shared with the admin, and
 * 3012, in 9002, the only asset of a second partner (no asset of that
 * owner was seen, so 9002's answer cannot take it).
 */
static void pl_start(struct sim_proc *sim, const char *dialect, bool stranded)
{
    const char *args[] = {"--library", NULL, "--dialect", dialect, NULL};
    static const int al9002[] = {3001, 3004, 3005, 3008, 3012};
    static const int al9003[] = {3002, 3010};
    static const int al9004[] = {3007};
    static const int al9005[] = {3011};
    int big[1500];
    json_t *assets = json_array(), *albums, *lib;
    struct buf err = BUF_INIT, path = BUF_INIT;
    int64_t tie = PL_BASE + 10 * 60000;

    for (int n = 1; n <= 2100; n++)
        json_array_append_new(assets,
                              pl_asset(n, PL_ADMIN, true, "timeline", false,
                                       n == 11 ? tie : TIME_NONE));
    for (int n = 2101; n <= 2105; n++)
        json_array_append_new(assets, pl_asset(n, PL_PARTNER, true, "timeline",
                                               false, TIME_NONE));
    for (int n = 3001; n <= 3012; n++) {
        const char *owner = n == 3008   ? PL_PARTNER
                            : n == 3010 ? PL_OTHER
                            : n == 3012 ? PL_PARTNER2
                                        : PL_ADMIN;

        if (n >= 3011 && !stranded)
            continue;
        json_array_append_new(
            assets, pl_asset(n, owner, false,
                             n == 3005 || n == 3006 ? "archive" : "timeline",
                             n == 3004, n == 3009 ? tie : TIME_NONE));
    }
    for (int i = 0; i < 1500; i++)
        big[i] = i + 1;
    albums = json_pack(
        "[o, o, o, o]", pl_album(9001, PL_ADMIN, NULL, big, 1500),
        pl_album(9002, PL_ADMIN, NULL, al9002, ARRAY_SIZE(al9002) - !stranded),
        pl_album(9003, PL_OTHER, PL_ADMIN, al9003, ARRAY_SIZE(al9003)),
        pl_album(9004, PL_ADMIN, NULL, al9004, ARRAY_SIZE(al9004)));
    if (stranded)
        json_array_append_new(
            albums, pl_album(9005, PL_OTHER, NULL, al9005, ARRAY_SIZE(al9005)));
    lib = json_pack(
        "{s:s, s:[{s:s, s:s, s:s, s:b, s:[s, s], s:[{s:s, s:s, s:[s]}]},"
        " {s:s, s:s, s:s}, {s:s, s:s, s:s}, {s:s, s:s, s:s}], s:[], s:o,"
        " s:o, s:{}}",
        "format", "immich-sim-library/1", "users", "id", PL_ADMIN, "email",
        "admin@example.com", "name", "Admin", "isAdmin", 1, "partners",
        PL_PARTNER, PL_PARTNER2, "apiKeys", "key", PL_KEY, "name", "k",
        "permissions", "all", "id", PL_PARTNER, "email", "partner@example.com",
        "name", "Partner", "id", PL_OTHER, "email", "other@example.com", "name",
        "Other", "id", PL_PARTNER2, "email", "partner2@example.com", "name",
        "Partner 2", "tags", "albums", albums, "assets", assets, "expected");
    buf_addf(&path, "%s",
             e2e_path(stranded ? "planted-stranded.json" : "planted.json"));
    assert_int_equal(json_dump_file(lib, path.buf, JSON_COMPACT), 0);
    json_decref(lib);
    args[1] = path.buf;
    if (sim_start(sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
    buf_release(&path);
}

/* a and b hold the same assets with the same records; with order, at the
 * same place of the walk too (search_pass/search_index). */
static void same_assets(const struct model *a, const struct model *b,
                        bool order)
{
    assert_int_equal(a->assets_nr, b->assets_nr);
    for (size_t i = 0; i < a->assets_nr; i++) {
        const struct model_asset *x = &a->assets[i];
        uint32_t k = model_find_asset(b, &x->id);
        const struct model_asset *y;

        assert_int_not_equal(k, MODEL_NONE);
        y = &b->assets[k];
        assert_true(uuid_eq(&a->users[x->owner].id, &b->users[y->owner].id));
        assert_int_equal(x->file_created_at, y->file_created_at);
        assert_int_equal(x->created_at, y->created_at);
        assert_int_equal(x->date_time_original, y->date_time_original);
        assert_int_equal(x->visibility, y->visibility);
        assert_int_equal(x->flags, y->flags);
        if (order) {
            assert_int_equal(x->search_pass, y->search_pass);
            assert_int_equal(x->search_index, y->search_index);
        }
    }
}

/* The same library read with EXIF dates but no album (the configuration
 * that reads no membership): the short pass is read again whole. */
static void same_as_full_reread(const struct sim_proc *sim,
                                const struct model *m, bool order)
{
    struct snapshot_needs needs;
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct load full;

    memset(&needs, 0, sizeof(needs));
    needs.exif = true;
    so.needs = &needs;
    load_with(sim, PL_KEY, &so, &full);
    if (full.rc < 0)
        fail_msg("%s", full.err.buf);
    assert_true(full.info.exif_fallback_passes > 0);
    assert_int_equal(full.info.exif_recovered_passes, 0);
    same_assets(m, &full.m, order);
    load_release(&full);
}

/* The planted library read as the admin (so: NULL = everything): the
 * passes completed (recovered) or read again (fallback), and the model
 * equal to the simulator's state. */
static void pl_read(struct sim_proc *sim, const char *dialect, bool stranded,
                    const struct snapshot_opts *so, struct load *l,
                    size_t recovered, size_t fallback)
{
    pl_start(sim, dialect, stranded);
    load_with(sim, PL_KEY, so, l);
    if (l->rc < 0)
        fail_msg("%s", l->err.buf);
    assert_int_equal(l->info.exif_recovered_passes, recovered);
    assert_int_equal(l->info.exif_fallback_passes, fallback);
    check_equal(sim, &l->m);
}

/*
 * 3.x: the EXIF pass (2,113 assets: 3 pages) misses the 8 without an
 * EXIF row; the albums' searches return those in an album whole, one
 * isNotInAlbum page (608 assets) those in none.  Requests: 3 EXIF pages
 * + 1 isNotInAlbum page + the memberships (9001: 2 pages, 9002, 9003,
 * 9004: 1 each), where the plain re-read cost 3 pages.  The other user's
 * asset of the shared album and the trashed one are not taken; the
 * model is the re-read's, asset for asset and place for place.
 */
static void test_short_exif_pass_completed_v3(void **state)
{
    struct sim_proc sim;
    struct load l;

    (void)state;
    pl_read(&sim, "3", false, NULL, &l, 1, 0);
    assert_int_equal(l.info.server_total, 2113);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     3 + 1 + 5);
    same_as_full_reread(&sim, &l.m, true);
    same_order_as_plain_read(&sim, &l.m);
    load_release(&l);
    assert_int_equal(sim_stop(&sim), 0);
}

/*
 * 2.x reads the archive apart: the archive pass (3005 in an album, 3006
 * in none) has no asset with EXIF and is completed too; the album
 * searches read the archive of 9002 (its timeline answer is short of
 * its assetCount).
 */
static void test_short_exif_pass_completed_v2(void **state)
{
    struct sim_proc sim;
    struct load l;

    (void)state;
    pl_read(&sim, "2", false, NULL, &l, 2, 0);
    /* 2.x has no tie-break: the tie's order is the server's whim */
    same_as_full_reread(&sim, &l.m, false);
    load_release(&l);
    assert_int_equal(sim_stop(&sim), 0);
}

/*
 * 3011 is in no album the admin can read and not in none, 3012's owner
 * is not known to own assets of the pass: the pass stays short, so it is
 * read again whole (3 more pages), and the model has every asset and
 * every link (9002's to 3012 too, which the album's answer held before
 * the re-read brought the asset).
 */
static void test_unreachable_missing_asset_reads_pass_again(void **state)
{
    struct sim_proc sim;
    struct load l;

    (void)state;
    pl_read(&sim, "3", true, NULL, &l, 0, 1);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     3 + 1 + 5 + 3);
    same_as_full_reread(&sim, &l.m, true);
    load_release(&l);
    assert_int_equal(sim_stop(&sim), 0);
}

/* Remembers album 9001 (1,500 assets with EXIF) and 9004 (3007, without). */
static bool pl_lookup(void *ctx, const struct model *m, uint32_t album,
                      int dialect, struct uuid **ids, size_t *nr)
{
    char id[40];
    const char *name = model_str(m, m->albums[album].name);

    (void)ctx;
    (void)dialect;
    if (!strcmp(name, "Album 9001")) {
        *ids = xcalloc(1500, sizeof(**ids));
        for (int i = 0; i < 1500; i++)
            assert_int_equal(uuid_parse(pl_id(i + 1, id), 36, &(*ids)[i]), 0);
        *nr = 1500;
        return true;
    }
    if (!strcmp(name, "Album 9004")) {
        *ids = xcalloc(1, sizeof(**ids));
        assert_int_equal(uuid_parse(pl_id(3007, id), 36, *ids), 0);
        *nr = 1;
        return true;
    }
    return false;
}

/*
 * A remembered album whose member the EXIF pass missed is read again
 * (only a read gives the member's record); one whose members the pass
 * all returned is not: 3 + 1 + 3 requests (9002, 9003, 9004).
 */
static void test_remembered_album_with_a_missing_member_is_read(void **state)
{
    struct snapshot_album_cache cache = {NULL, pl_lookup};
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct sim_proc sim;
    struct load l;

    (void)state;
    so.albums = &cache;
    pl_read(&sim, "3", false, &so, &l, 1, 0);
    assert_int_equal(l.info.albums_cached, 1);
    assert_int_equal(l.info.albums_cache_bypassed, 1);
    assert_int_equal(sim_stat_endpoint(&sim, "POST /search/metadata"),
                     3 + 1 + 3);
    load_release(&l);
    assert_int_equal(sim_stop(&sim), 0);
}

/*
 * The pages may start before GET /users/me has answered (a pass starts
 * as soon as its statistics arrive): whose asset each one is must not
 * depend on that order.  Before, a slow users/me made every asset a
 * partner's, and the rules skipped them all.
 */
static void test_slow_users_me_keeps_owners(void **state)
{
    const char *dialects[] = {"2", "3"};

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(dialects); i++) {
        struct sim_proc sim;
        struct load l;

        start(&sim, dialects[i], "spike:ms=400@GET /users/me");
        load(&sim, &l);
        if (l.rc < 0)
            fail_msg("%s", l.err.buf);
        check_equal(&sim, &l.m);
        read_done(&sim, &l);
    }
}

/* Transient faults: retried, and the snapshot is the full one. */
static void test_transient_faults_are_retried(void **state)
{
    static const char *const specs[] = {
        "503:first=3@POST /search/metadata",
        "429:first=2:retry-after=0@GET /albums",
        "502:first=1@GET /tags,504:first=1@POST /search/statistics",
        "reset:first=2@POST /search/metadata",
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(specs); i++) {
        struct sim_proc sim;
        struct load l;

        start(&sim, "3", specs[i]);
        load(&sim, &l);
        if (l.rc < 0)
            fail_msg("%s: %s", specs[i], l.err.buf);
        check_equal(&sim, &l.m);
        assert_true(sim_stat_long(&sim, "errors") > 0 ||
                    strstr(specs[i], "reset"));
        read_done(&sim, &l);
    }
}

/* Persistent faults: the load stops, names the endpoint, writes nothing. */
static void test_persistent_faults_fail_closed(void **state)
{
    static const struct {
        const char *spec, *msg;
    } cases[] = {
        {"500:1@POST /search/metadata", "POST /search/metadata: 500"},
        {"503:1@GET /albums", "GET /albums: 503"},
        {"truncate:1@POST /search/metadata", "POST /search/metadata"},
        {"500:1@GET /users/me", "GET /users/me: 500"},
    };

    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct sim_proc sim;
        struct load l;

        start(&sim, i % 2 ? "2" : "3", cases[i].spec);
        load(&sim, &l);
        if (l.rc != -1)
            fail_msg("%s: the load succeeded", cases[i].spec);
        assert_false(l.info.complete);
        if (!strstr(l.err.buf, "snapshot incomplete: ") ||
            !strstr(l.err.buf, cases[i].msg))
            fail_msg("%s: got '%s'", cases[i].spec, l.err.buf);
        read_done(&sim, &l);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        E2E_CASE(test_snapshot_equals_state_v3, test_snapshot_equals_state,
                 "3"),
        E2E_CASE(test_snapshot_equals_state_v2, test_snapshot_equals_state,
                 "2"),
        cmocka_unit_test(test_exact_request_counts),
        cmocka_unit_test(test_partner_view_equals_state),
        E2E_CASE(test_seed_library_v2_reads_every_asset,
                 test_seed_library_reads_every_asset, "2"),
        /* Immich 3.0 and 3.1 order by date alone too: the repair must not
         * depend on the version's major number. */
        E2E_CASE(test_seed_library_v30_reads_every_asset,
                 test_seed_library_reads_every_asset, "3.0"),
        cmocka_unit_test(test_upload_time_halves_overlap),
        cmocka_unit_test(test_one_exif_pass_when_every_asset_has_exif),
        cmocka_unit_test(test_short_exif_pass_completed_v3),
        cmocka_unit_test(test_short_exif_pass_completed_v2),
        cmocka_unit_test(test_unreachable_missing_asset_reads_pass_again),
        cmocka_unit_test(test_remembered_album_with_a_missing_member_is_read),
        cmocka_unit_test(test_slow_users_me_keeps_owners),
        cmocka_unit_test(test_transient_faults_are_retried),
        cmocka_unit_test(test_persistent_faults_fail_closed),
    };

    return e2e_run_group("read", NULL, tests); /* the tool is not run here */
}
