/*
 * test_e2e_perms.c: what the API key must hold, and saved plans after a
 * rename (issue 11, items 4 and 5), against immich-sim.
 *
 *   - a library whose plan makes every kind of write: a key holding
 *     exactly the permissions docs/user-guide.md lists runs it; a key
 *     missing any one write permission makes `run`, `apply FILE` and
 *     `check` exit 3 naming it, and nothing is written;
 *   - a saved plan whose album (or tag) was renamed, its old name given
 *     to a new one, is refused as stale: exit 1, nothing written;
 *   - a server that does not list the key's permissions (404) is written
 *     to with a warning, a failed answer writes nothing: data, in
 *     tests/scenarios/key-permissions-not-listed and -unknown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE IA_TEST_DATA "/config/upstream-template.yaml"
#define KEY      "perms-e2e-admin-key-0c5e9a7f31b4"

/* docs/user-guide.md, "What the API key needs": reads, then writes. */
static const char *const reads[] = {
    "user.read", "asset.read", "asset.statistics", "tag.read", "album.read",
};
static const char *const writes[] = {
    "tag.create",        "tag.asset",         "album.create",
    "albumAsset.create", "albumAsset.delete", "album.delete",
    "albumUser.create",  "albumUser.update",  "albumUser.delete",
    "asset.update",
};

/* `run` of the template with key (NULL: the simulator's): its exit code,
 * output in r. */
static int run_template(const struct sim_proc *sim, const char *key,
                        struct e2e_run *r)
{
    return e2e_tool_key(
        sim, key,
        E2E_ARGV("run", "-c", TEMPLATE, "--log-dir", e2e_path("logs")), r);
}

/* immich-sim on the small library, or on `library`. */
static void boot(struct sim_proc *sim, const char *library)
{
    e2e_boot_opt(sim, E2E_ARGV("--api-key", KEY), "--library", library);
}

/* The first album of st whose name starts with prefix. */
static json_t *album_named_like(json_t *st, const char *prefix)
{
    json_t *x;
    size_t i;

    for (i = 0; (x = json_array_get(json_object_get(st, "albums"), i)); i++)
        if (!strncmp(es_str(x, "albumName"), prefix, strlen(prefix)))
            return x;
    return NULL;
}

/* ---- a library whose plan makes every kind of write ------------------ */

/* The index of x in array a (fails the test when it is not there). */
static size_t index_of(json_t *a, json_t *x)
{
    size_t i;

    for (i = 0; i < json_array_size(a); i++)
        if (json_array_get(a, i) == x)
            return i;
    fail_msg("not in the array");
    return 0;
}

static void del_tag(json_t *st, const char *value)
{
    json_t *tags = json_object_get(st, "tags"), *a, *ids, *t;
    const char *id;
    size_t i, j;

    t = es_find(st, "tags", "value", value);
    assert_non_null(t);
    id = es_str(t, "id");
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        ids = json_object_get(a, "tagIds");
        for (j = json_array_size(ids); j-- > 0;)
            if (!strcmp(json_string_value(json_array_get(ids, j)), id))
                json_array_remove(ids, j);
    }
    json_array_remove(tags, index_of(tags, t));
}

static void set_role(json_t *album, const char *user, const char *role)
{
    json_t *u = json_object();

    json_object_set_new(u, "userId", json_string(user));
    json_object_set_new(u, "role", json_string(role));
    json_array_append_new(json_object_get(album, "albumUsers"), u);
}

/* Day of month of a date "YYYY-MM-DDT...". */
static int day_of(const char *iso)
{
    assert_true(strlen(iso) >= 10);
    return (iso[8] - '0') * 10 + iso[9] - '0';
}

/* The same date three days later (a day of 25 or less). */
static void move_day(json_t *o, const char *key)
{
    char s[64];
    int day;

    snprintf(s, sizeof(s), "%s", es_str(o, key));
    day = day_of(s) + 3;
    assert_true(day <= 28);
    s[8] = (char)('0' + day / 10);
    s[9] = (char)('0' + day % 10);
    json_object_set_new(o, key, json_string(s));
}

static json_t *key_with(const char *key, const char *without)
{
    json_t *k = json_object(), *p = json_array();
    size_t i;

    json_object_set_new(k, "key", json_string(key));
    json_object_set_new(k, "name", json_string(key));
    for (i = 0; i < ARRAY_SIZE(reads); i++)
        json_array_append_new(p, json_string(reads[i]));
    for (i = 0; i < ARRAY_SIZE(writes); i++)
        if (!without || strcmp(writes[i], without))
            json_array_append_new(p, json_string(writes[i]));
    json_object_set_new(k, "permissions", p);
    return k;
}

/*
 * The small library after one template run (temporary albums exist, the
 * shares are right), then: the conflict tag deleted (upsert), one
 * temporary album deleted (create), a copy of another's asset in it,
 * tagged meme (moved to the meme album: add; leaves the temporary album:
 * remove), an empty temporary album (delete), a family album's shares
 * changed three ways (add, role, remove), a camera file's dates moved
 * (date).  The admin gets a key with exactly the documented permissions
 * ("exact") and one without each write permission ("without-<perm>").
 */
static void write_every_write_library(const struct sim_proc *sim,
                                      const char *path)
{
    json_t *st = es_state(sim), *albums = json_object_get(st, "albums");
    json_t *temp, *gone, *copy, *empty, *family, *admin, *keys, *a, *u;
    const char *admin_id;
    struct buf err = BUF_INIT;
    size_t i, temps = 0;
    char *text;

    admin = es_find(st, "users", "email", "admin@example.com");
    admin_id = es_str(admin, "id");
    del_tag(st, "autotag_output_conflict");

    /* two temporary albums of the admin: one goes, one gets a meme */
    temp = gone = NULL;
    json_array_foreach(albums, i, a)
    {
        if (!strstr(es_str(a, "albumName"), "-autotag-temp-unclassified") ||
            strcmp(es_str(a, "ownerId"), admin_id) ||
            json_array_size(json_object_get(a, "assetIds")) != 1)
            continue;
        temps++;
        if (!gone)
            gone = a;
        else if (!temp)
            temp = a;
    }
    assert_true(temps >= 2);
    copy = json_deep_copy(es_find(st, "assets", "id",
                                  json_string_value(json_array_get(
                                      json_object_get(temp, "assetIds"), 0))));
    json_object_set_new(copy, "id",
                        json_string("0f0f0f0f-1111-4222-8333-444455556666"));
    json_object_set_new(copy, "originalPath",
                        json_string("/photos/library/Admin/meme-copy.jpg"));
    json_object_set_new(copy, "originalFileName", json_string("meme-copy.jpg"));
    json_object_set_new(copy, "duplicateId", json_null());
    json_array_append_new(
        json_object_get(copy, "tagIds"),
        json_string(es_str(es_find(st, "tags", "value", "meme"), "id")));
    json_array_append_new(json_object_get(temp, "assetIds"),
                          json_string(es_str(copy, "id")));
    json_array_append_new(json_object_get(st, "assets"), copy);
    empty = json_deep_copy(temp);
    json_object_set_new(empty, "id",
                        json_string("0f0f0f0f-2222-4333-8444-555566667777"));
    json_object_set_new(empty, "albumName",
                        json_string("2001-01-01-autotag-temp-unclassified"));
    json_object_set_new(empty, "assetIds", json_array());
    json_object_set_new(empty, "albumThumbnailAssetId", json_null());
    json_array_append_new(albums, empty);
    json_array_remove(albums, index_of(albums, gone));

    /* Family Christmas: grandpa out, grandma editor, john in */
    family = album_named_like(st, "Family Christmas");
    assert_non_null(family);
    json_object_set_new(family, "albumUsers", json_array());
    set_role(family, es_user_id(st, "grandma@example.com"), "editor");
    set_role(family, es_user_id(st, "mother@example.com"), "viewer");
    set_role(family, es_user_id(st, "john@example.com"), "viewer");

    /* a camera file three days later than its name says */
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        json_t *exif = json_object_get(a, "exifInfo");

        if (strcmp(es_str(a, "ownerId"), admin_id) ||
            strncmp(es_str(a, "originalFileName"), "PXL_", 4) ||
            !json_is_null(json_object_get(a, "deletedAt")) ||
            !json_is_object(exif) || day_of(es_str(a, "localDateTime")) > 25 ||
            day_of(es_str(a, "fileCreatedAt")) > 25 ||
            day_of(es_str(a, "createdAt")) > 25 ||
            day_of(es_str(a, "fileModifiedAt")) > 25 ||
            day_of(es_str(exif, "dateTimeOriginal")) > 25)
            continue;
        move_day(a, "fileCreatedAt");
        move_day(a, "fileModifiedAt");
        move_day(a, "localDateTime");
        move_day(a, "createdAt");
        move_day(exif, "dateTimeOriginal");
        break;
    }
    assert_true(i < json_array_size(json_object_get(st, "assets")));

    keys = json_object_get(admin, "apiKeys");
    json_array_append_new(keys, key_with("exact", NULL));
    for (i = 0; i < ARRAY_SIZE(writes); i++) {
        char name[64];

        snprintf(name, sizeof(name), "without-%s", writes[i]);
        json_array_append_new(keys, key_with(name, writes[i]));
    }
    json_array_foreach(json_object_get(st, "assets"), i, u)
        json_object_del(u, "albumIds");
    text = json_dumps(st, JSON_COMPACT);
    assert_int_equal(fs_write_atomic(path, text, strlen(text), &err), 0);
    free(text);
    json_decref(st);
    buf_release(&err);
}

/* Does the plan have a group of op (named name unless NULL; with a
 * target, without, or either: 1, 0, -1)? */
static bool plan_has(json_t *plan, const char *op, const char *name,
                     int with_target)
{
    json_t *g;
    size_t i;

    json_array_foreach(json_object_get(plan, "groups"), i, g)
    {
        bool t = json_is_string(json_object_get(g, "target"));

        if (!strcmp(es_str(g, "op"), op) &&
            (!name || !strcmp(es_str(g, "name"), name)) &&
            (with_target < 0 || (int)t == with_target))
            return true;
    }
    return false;
}

static void test_key_needs_exactly_the_documented_permissions(void **state)
{
    static const char *const ops[] = {
        "tag_add",        "tag_remove",      "album_create",
        "album_add",      "album_remove",    "album_delete",
        "album_user_add", "album_user_role", "album_user_remove",
        "asset_date",
    };
    char lib[128], saved[128];
    struct sim_proc sim;
    struct buf ignored = BUF_INIT;
    struct e2e_run r;
    json_error_t jerr;
    json_t *plan;
    size_t i;

    (void)state;
    snprintf(lib, sizeof(lib), "%s", e2e_path("every-write.json"));
    snprintf(saved, sizeof(saved), "%s", e2e_path("every-write-plan.json"));
    boot(&sim, NULL);
    assert_int_equal(run_template(&sim, NULL, &r), 0);
    e2e_run_release(&r);
    write_every_write_library(&sim, lib);
    assert_int_equal(sim_stop(&sim), 0);
    boot(&sim, lib);

    /* the plan writes in every way there is, a missing tag first */
    assert_int_equal(e2e_tool_key(&sim, NULL,
                                  E2E_ARGV("plan", "--json", "-c", TEMPLATE),
                                  &r),
                     0);
    plan = json_loadb(r.out.buf, r.out.len, 0, &jerr);
    assert_non_null(plan);
    assert_int_equal(fs_write_atomic(saved, r.out.buf, r.out.len, &ignored), 0);
    e2e_run_release(&r);
    for (i = 0; i < ARRAY_SIZE(ops); i++)
        if (!plan_has(plan, ops[i], NULL, -1))
            fail_msg("the plan has no %s", ops[i]);
    /* a tag to create, an existing album to add to */
    assert_true(plan_has(plan, "tag_add", NULL, 0));
    assert_true(plan_has(plan, "album_add", NULL, 1));
    json_decref(plan);

    /* one write permission missing: refused before the first write */
    assert_int_equal(sim_reset_stats(&sim), 0);
    for (i = 0; i < ARRAY_SIZE(writes); i++) {
        char key[64], want[96];

        snprintf(key, sizeof(key), "without-%s", writes[i]);
        snprintf(want, sizeof(want),
                 "missing permissions: %s: nothing "
                 "written",
                 writes[i]);
        assert_int_equal(run_template(&sim, key, &r), 3);
        if (!strstr(r.err.buf, want))
            fail_msg("%s: run said: %s", key, r.err.buf);
        e2e_run_release(&r);
        snprintf(want, sizeof(want), "missing permissions: %s\n", writes[i]);
        assert_int_equal(
            e2e_tool_key(&sim, key, E2E_ARGV("check", "-c", TEMPLATE), &r), 3);
        if (!strstr(r.err.buf, want))
            fail_msg("%s: check said: %s", key, r.err.buf);
        e2e_run_release(&r);
        assert_int_equal(sim_stat_writes(&sim), 0);
    }
    /* a saved plan too */
    if (e2e_tool_key(&sim, "without-album.delete",
                     E2E_ARGV("apply", saved, "-c", TEMPLATE, "--log-dir",
                              e2e_path("logs")),
                     &r) != 3)
        fail_msg("apply without album.delete: exit %d: %s", r.code, r.err.buf);
    assert_non_null(strstr(r.err.buf, "missing permissions: album.delete"));
    e2e_run_release(&r);
    assert_int_equal(sim_stat_writes(&sim), 0);

    /* exactly the documented list: check agrees, the run does it all,
     * the next run has nothing left to do */
    assert_int_equal(
        e2e_tool_key(&sim, "exact", E2E_ARGV("check", "-c", TEMPLATE), &r), 0);
    e2e_run_release(&r);
    assert_int_equal(run_template(&sim, "exact", &r), 0);
    e2e_run_release(&r);
    assert_true(sim_stat_writes(&sim) > 0);
    assert_int_equal(sim_stat_long(&sim, "errors"), 0);
    assert_int_equal(sim_reset_stats(&sim), 0);
    assert_int_equal(run_template(&sim, "exact", &r), 0);
    e2e_run_release(&r);
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&ignored);
}

/* ---- a saved plan after a rename ------------------------------------- */

/* Renames the album or tag named `name` and makes a new one so named. */
static void rename_and_recreate(const struct sim_proc *sim, bool tag,
                                const char *name, const char *new_name)
{
    json_t *st = es_state(sim), *x;
    struct buf path = BUF_INIT, body = BUF_INIT, resp = BUF_INIT;

    x = es_find(st, tag ? "tags" : "albums", tag ? "value" : "albumName", name);
    assert_non_null(x);
    buf_addf(&path, "/api/%s/%s", tag ? "tags" : "albums", es_str(x, "id"));
    buf_addf(&body, "{\"%s\":\"%s\"}", tag ? "name" : "albumName", new_name);
    assert_int_equal(
        sim_request(sim, tag ? "PUT" : "PATCH", path.buf, body.buf, &resp),
        200);
    buf_reset(&body);
    buf_addf(&body, "{\"%s\":\"%s\"}", tag ? "name" : "albumName", name);
    assert_int_equal(sim_request(sim, "POST", tag ? "/api/tags" : "/api/albums",
                                 body.buf, &resp),
                     201);
    json_decref(st);
    buf_release(&path);
    buf_release(&body);
    buf_release(&resp);
}

static void test_saved_plan_stale_after_rename(void **state)
{
    static const struct {
        bool tag;
        const char *name, *renamed, *op;
    } cases[] = {
        {false, "autotag_input_meme", "memes 2019", "album_add"},
        {true, "meme", "meme (old)", "tag_remove"},
    };
    char saved[128];
    struct buf ignored = BUF_INIT, want = BUF_INIT;
    struct sim_proc sim;
    struct e2e_run r;
    size_t i;

    (void)state;
    snprintf(saved, sizeof(saved), "%s", e2e_path("rename-plan.json"));
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        json_error_t jerr;
        json_t *plan;

        boot(&sim, NULL);
        assert_int_equal(
            e2e_tool_key(&sim, NULL, E2E_ARGV("plan", "--json", "-c", TEMPLATE),
                         &r),
            0);
        plan = json_loadb(r.out.buf, r.out.len, 0, &jerr);
        assert_non_null(plan);
        assert_true(plan_has(plan, cases[i].op, cases[i].name, -1));
        json_decref(plan);
        assert_int_equal(fs_write_atomic(saved, r.out.buf, r.out.len, &ignored),
                         0);
        e2e_run_release(&r);

        rename_and_recreate(&sim, cases[i].tag, cases[i].name,
                            cases[i].renamed);
        assert_int_equal(sim_reset_stats(&sim), 0);
        assert_int_equal(e2e_tool_key(&sim, NULL,
                                      E2E_ARGV("apply", saved, "-c", TEMPLATE,
                                               "--log-dir", e2e_path("logs")),
                                      &r),
                         1);
        buf_reset(&want);
        buf_addf(&want, "saved plan is stale: %s '%s' is now named '%s'",
                 cases[i].tag ? "tag" : "album", cases[i].name,
                 cases[i].renamed);
        if (!strstr(r.err.buf, want.buf))
            fail_msg("apply said: %s", r.err.buf);
        e2e_run_release(&r);
        assert_int_equal(sim_stat_writes(&sim), 0);
        assert_int_equal(sim_stop(&sim), 0);
    }
    buf_release(&ignored);
    buf_release(&want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_needs_exactly_the_documented_permissions),
        cmocka_unit_test(test_saved_plan_stale_after_rename),
    };

    return e2e_run_group("e2e-perms", IA_BIN, tests);
}
