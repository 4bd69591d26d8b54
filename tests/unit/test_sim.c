/*
 * test_sim.c: immich-sim end to end through tests/helpers/sim_harness.h:
 * shapes and errors of both dialects, auth, validation, bulk outcomes,
 * search semantics, the generator, the capacity model, faults, the
 * request log and the library file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "core/buf.h"
#include "helpers/sim_harness.h"

#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <unistd.h>

#define SMALL(...)                                                             \
    (const char *const[])                                                      \
    {                                                                          \
        "--preset", "small", "--seed", "1", "--latency", "off", __VA_ARGS__    \
    }

static void start(struct sim_proc *s, const char *const *args)
{
    struct buf err = BUF_INIT;

    if (sim_start(s, args, &err) < 0)
        fail_msg("sim_start: %s", err.buf);
    buf_release(&err);
}

static json_t *req_json(struct sim_proc *s, const char *method,
                        const char *path, const char *body, int want)
{
    struct buf out = BUF_INIT;
    int st = sim_request(s, method, path, body, &out);
    json_t *j;

    if (st != want)
        fail_msg("%s %s: status %d, want %d: %s", method, path, st, want,
                 out.buf);
    j = json_loadb(out.buf, out.len, JSON_DECODE_ANY, NULL);
    buf_release(&out);
    return j;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* The id of the i-th asset of a search page into out. */
static void page_asset_id(json_t *page, size_t i, char out[40])
{
    (void)snprintf(
        out, 40, "%s",
        jstr(json_array_get(
                 json_object_get(json_object_get(page, "assets"), "items"), i),
             "id"));
}

/* The id of the admin's tag with this value. */
static void tag_id(struct sim_proc *s, const char *value, char out[40])
{
    json_t *tags = req_json(s, "GET", "/api/tags", NULL, 200), *t;
    size_t i;

    out[0] = '\0';
    json_array_foreach(tags, i, t)
    {
        if (!strcmp(jstr(t, "value"), value))
            (void)snprintf(out, 40, "%s", jstr(t, "id"));
    }
    json_decref(tags);
    assert_true(out[0] != '\0');
}

static long search_total(struct sim_proc *s, const char *body)
{
    json_t *j = req_json(s, "POST", "/api/search/statistics", body, 200);
    long v = (long)json_integer_value(json_object_get(j, "total"));

    json_decref(j);
    return v;
}

static void test_sim_first_line_and_version_per_dialect(void **state)
{
    struct sim_proc s;
    json_t *v;

    (void)state;
    start(&s, SMALL("--dialect", "2", NULL));
    assert_true(s.port > 0);
    assert_string_equal(s.api_key, "immich-sim-admin-key");
    v = req_json(&s, "GET", "/api/server/version", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(v, "major")), 2);
    assert_null(json_object_get(v, "prerelease"));
    json_decref(v);
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL("--api-key", "k3", NULL));
    assert_string_equal(s.api_key, "k3");
    v = req_json(&s, "GET", "/api/server/version", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(v, "major")), 3);
    assert_non_null(json_object_get(v, "prerelease"));
    json_decref(v);
    assert_int_equal(sim_stat_endpoint(&s, "GET /server/version"), 1);
    assert_int_equal(sim_stop(&s), 0);
}

/*
 * A missing or unknown key, a key short of a permission and an unknown
 * route answer as each dialect does; the stats count the errors, in all
 * and by endpoint.
 */
static void test_sim_auth_errors_in_both_dialects(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT, hdr = BUF_INIT;
    json_t *j;

    (void)state;
    start(&s, SMALL("--dialect", "2", NULL));
    assert_int_equal(sim_request_key(&s, NULL, "GET", "/api/users/me", NULL,
                                     &body, NULL, NULL),
                     401);
    assert_non_null(strstr(body.buf, "Authentication required"));
    assert_int_equal(sim_request_key(&s, "nope", "GET", "/api/users/me", NULL,
                                     &body, NULL, NULL),
                     401);
    j = json_loads(body.buf, 0, NULL);
    assert_string_equal(jstr(j, "message"), "Invalid API key");
    assert_string_equal(jstr(j, "error"), "Unauthorized");
    assert_int_equal(json_integer_value(json_object_get(j, "statusCode")), 401);
    assert_non_null(jstr(j, "correlationId"));
    json_decref(j);
    assert_int_equal(sim_request_key(&s, "immich-sim-readonly-key", "POST",
                                     "/api/tags", "{\"name\":\"x\"}", &body,
                                     NULL, NULL),
                     403);
    assert_non_null(
        strstr(body.buf, "Missing required permission: tag.create"));
    /* ping needs no key at all */
    assert_int_equal(sim_request_key(&s, NULL, "GET", "/api/server/ping", NULL,
                                     &body, NULL, NULL),
                     200);
    assert_int_equal(sim_request(&s, "GET", "/api/nothing/here", NULL, &body),
                     404);
    assert_non_null(strstr(body.buf, "Cannot GET /api/nothing/here"));
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL("--dialect", "3", NULL));
    assert_int_equal(sim_request_key(&s, "immich-sim-readonly-key", "GET",
                                     "/api/duplicates", NULL, &body,
                                     "X-Correlation-ID", &hdr),
                     403);
    j = json_loads(body.buf, 0, NULL);
    assert_string_equal(jstr(j, "message"),
                        "Missing required permission: duplicate.read");
    assert_null(json_object_get(j, "statusCode"));
    assert_int_equal(hdr.len, 8);
    json_decref(j);
    /* a non-admin key may not read server statistics */
    assert_int_equal(sim_request_key(&s, "immich-sim-key-John", "GET",
                                     "/api/server/statistics", NULL, &body,
                                     NULL, NULL),
                     403);
    assert_int_equal(sim_request(&s, "GET", "/api/server/ping", NULL, &body),
                     200);
    assert_int_equal(
        sim_request(&s, "GET", "/api/server/statistics", NULL, &body), 200);
    assert_int_equal(sim_stat_long(&s, "errors"), 2);
    /* by endpoint: the calls of each route, the errors of those that
     * answered one (a route with none is left out) */
    assert_int_equal(sim_stat_long(&s, "by_endpoint.GET /duplicates"), 1);
    assert_int_equal(sim_stat_long(&s, "errors_by_endpoint.GET /duplicates"),
                     1);
    assert_int_equal(sim_stat_long(&s, "by_endpoint.GET /server/statistics"),
                     2);
    assert_int_equal(
        sim_stat_long(&s, "errors_by_endpoint.GET /server/statistics"), 1);
    assert_int_equal(sim_stat_long(&s, "by_endpoint.GET /server/ping"), 1);
    assert_int_equal(sim_stat_long(&s, "errors_by_endpoint.GET /server/ping"),
                     -1);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&body);
    buf_release(&hdr);
}

/*
 * Request validation answers 400 naming the field, as each dialect words
 * it: unknown keys, integers out of range, ids that are no UUID (body,
 * path and query), null where a field is or is not nullable.
 */
static void test_sim_validation_names_the_field(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT;
    json_t *j;
    /* a valid UUID of version 1: 2.x accepts it, 3.x does not */
    const char *v1 = "/api/assets/0e4a9c3a-8f1e-11ee-b9d1-0242ac120002";
    /* a nullable field (tagIds, color) takes null, another refuses it */
    static const struct {
        const char *path, *body;
        int status;
    } nulls[] = {
        {"/api/search/metadata", "{\"tagIds\":null}", 200},
        {"/api/search/metadata", "{\"albumIds\":null}", 400},
        {"/api/tags", "{\"name\":\"n\",\"color\":null}", 201},
        {"/api/tags", "{\"name\":null}", 400},
    };
    static const struct {
        const char *body, *issue;
    } ranges[] = {
        {"{\"size\":1001}", "{\"code\":\"too_big\",\"maximum\":1000,\"path\":"
                            "[\"size\"],\"message\":\"Too big: expected number "
                            "to be <=1000\"}"},
        {"{\"size\":0}", "{\"code\":\"too_small\",\"minimum\":1,\"path\":"
                         "[\"size\"],\"message\":\"Too small: expected number "
                         "to be >=1\"}"},
    };
    static const struct {
        const char *path, *name;
    } query_ids[] = {
        {"/api/timeline/buckets?albumId=x", "albumId"},
        {"/api/timeline/buckets?tagId=x", "tagId"},
        {"/api/albums?assetId=x", "assetId"},
    };
    size_t i;

    (void)state;
    start(&s, SMALL("--dialect", "2", NULL));
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/metadata", "{\"bogus\":1}", &body),
        400);
    j = json_loads(body.buf, 0, NULL);
    assert_string_equal(
        json_string_value(json_array_get(json_object_get(j, "message"), 0)),
        "property bogus should not exist");
    json_decref(j);
    assert_int_equal(sim_request(&s, "POST", "/api/search/metadata",
                                 "{\"size\":1001}", &body),
                     400);
    assert_non_null(strstr(body.buf, "size must not be greater than 1000"));
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/metadata", "{\"size\":0}", &body),
        400);
    assert_non_null(strstr(body.buf, "size must not be less than 1"));
    assert_int_equal(
        sim_request(&s, "GET", "/api/assets/not-a-uuid", NULL, &body), 400);
    assert_non_null(strstr(body.buf, "id must be a UUID"));
    assert_int_equal(sim_request(&s, "GET", v1, NULL, &body), 400);
    assert_non_null(strstr(body.buf, "Not found or no asset.read access"));
    for (i = 0; i < ARRAY_SIZE(nulls); i++)
        assert_int_equal(
            sim_request(&s, "POST", nulls[i].path, nulls[i].body, &body),
            nulls[i].status);
    /* a query id that is no UUID is named in the 400 */
    for (i = 0; i < ARRAY_SIZE(query_ids); i++) {
        char msg[32];

        (void)snprintf(msg, sizeof(msg), "%s must be a UUID",
                       query_ids[i].name);
        assert_int_equal(sim_request(&s, "GET", query_ids[i].path, NULL, &body),
                         400);
        assert_non_null(strstr(body.buf, msg));
    }
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL(NULL));
    assert_int_equal(sim_request(&s, "GET", v1, NULL, &body), 400);
    j = json_loads(body.buf, 0, NULL);
    assert_string_equal(jstr(j, "message"), "Validation failed");
    assert_string_equal(
        jstr(json_array_get(json_object_get(j, "errors"), 0), "message"),
        "Invalid UUID");
    assert_string_equal(
        jstr(json_array_get(json_object_get(j, "errors"), 0), "format"),
        "uuid");
    json_decref(j);
    assert_int_equal(sim_request(&s, "PUT", "/api/tags/assets",
                                 "{\"tagIds\":[],\"assetIds\":[],\"x\":1}",
                                 &body),
                     400);
    assert_non_null(strstr(body.buf, "Unrecognized key: \\\"x\\\""));
    /* 3.x: a query id's issue names the key, not the format */
    assert_int_equal(sim_request(&s, "GET", "/api/albums?id=x", NULL, &body),
                     400);
    assert_non_null(strstr(body.buf, "{\"code\":\"invalid_format\","
                                     "\"path\":[\"id\"],\"message\":"
                                     "\"Invalid UUID\"}"));
    /* an integer out of range names the bound it passed (3.x: Zod's issue) */
    for (i = 0; i < ARRAY_SIZE(ranges); i++) {
        assert_int_equal(sim_request(&s, "POST", "/api/search/metadata",
                                     ranges[i].body, &body),
                         400);
        assert_non_null(strstr(body.buf, ranges[i].issue));
    }
    assert_int_equal(sim_request(&s, "POST", "/api/search/metadata",
                                 "{\"filter\":{},\"page\":2}", &body),
                     400);
    assert_int_equal(sim_request(&s, "POST", "/api/search/metadata",
                                 "{\"cursor\":\"!!\"}", &body),
                     400);
    assert_non_null(strstr(body.buf, "Invalid cursor"));
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&body);
}

/* Walks every page and returns the number of distinct assets seen. */
static long page_all(struct sim_proc *s, const char *extra, bool cursor)
{
    struct buf req = BUF_INIT;
    char next[256] = "";
    long seen = 0;
    int page = 1;

    for (;;) {
        json_t *j, *assets, *np;

        buf_reset(&req);
        if (cursor)
            buf_addf(&req, "{\"size\":7%s%s%s%s}", extra,
                     next[0] ? ",\"cursor\":\"" : "", next,
                     next[0] ? "\"" : "");
        else
            buf_addf(&req, "{\"size\":7,\"page\":%d%s}", page, extra);
        j = req_json(s, "POST", "/api/search/metadata", req.buf, 200);
        assets = json_object_get(j, "assets");
        assert_int_equal(json_integer_value(json_object_get(assets, "count")),
                         json_array_size(json_object_get(assets, "items")));
        seen += (long)json_array_size(json_object_get(assets, "items"));
        np = json_object_get(assets, cursor ? "nextCursor" : "nextPage");
        if (!json_is_string(np)) {
            json_decref(j);
            break;
        }
        (void)snprintf(next, sizeof(next), "%s", json_string_value(np));
        page++;
        json_decref(j);
    }
    buf_release(&req);
    return seen;
}

static void test_sim_search_paging_and_default_visibility(void **state)
{
    struct sim_proc s;
    long all3, all2, timeline;

    (void)state;
    start(&s, SMALL(NULL));
    all3 = search_total(&s, "{}");
    assert_int_equal(page_all(&s, "", false), all3);
    assert_int_equal(
        page_all(&s, ",\"filter\":{\"trashedAt\":{\"eq\":null}}", true), all3);
    timeline = search_total(&s, "{\"visibility\":\"timeline\"}");
    /* 3.x: archived assets are in the default result */
    assert_true(timeline < all3);
    assert_int_equal(sim_stat_endpoint(&s, "POST /search/statistics"), 2);
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL("--dialect", "2", NULL));
    all2 = search_total(&s, "{}");
    assert_int_equal(all2, timeline);
    assert_int_equal(search_total(&s, "{\"withDeleted\":true}"), all2 + 1);
    assert_int_equal(sim_stop(&s), 0);
}

static void test_sim_tags_create_upsert_and_bulk_outcomes(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT, req = BUF_INIT;
    json_t *j, *page;
    char t[40], a1[40], a2[40];

    (void)state;
    start(&s, SMALL(NULL));
    j = req_json(&s, "POST", "/api/tags", "{\"name\":\"fresh\"}", 201);
    assert_string_equal(jstr(j, "value"), "fresh");
    json_decref(j);
    assert_int_equal(
        sim_request(&s, "POST", "/api/tags", "{\"name\":\"fresh\"}", &body),
        400);
    assert_non_null(strstr(body.buf, "A tag with that name already exists"));
    j = req_json(&s, "PUT", "/api/tags", "{\"tags\":[\"x/y/z\",\"/x//y/z/\"]}",
                 200);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(jstr(json_array_get(j, 0), "name"), "z");
    assert_non_null(jstr(json_array_get(j, 0), "parentId"));
    (void)snprintf(t, sizeof(t), "%s", jstr(json_array_get(j, 0), "id"));
    json_decref(j);

    page = req_json(&s, "POST", "/api/search/metadata", "{\"size\":2}", 200);
    page_asset_id(page, 0, a1);
    page_asset_id(page, 1, a2);
    json_decref(page);
    buf_addf(&req, "/api/tags/%s/assets", t);
    {
        char ids[200];

        (void)snprintf(ids, sizeof(ids),
                       "{\"ids\":[\"%s\",\"%s\","
                       "\"4b1c8b2e-1111-4222-8333-444455556666\"]}",
                       a1, a1);
        j = req_json(&s, "PUT", req.buf, ids, 200);
        assert_true(
            json_is_true(json_object_get(json_array_get(j, 0), "success")));
        assert_string_equal(jstr(json_array_get(j, 1), "error"), "duplicate");
        assert_string_equal(jstr(json_array_get(j, 2), "error"),
                            "no_permission");
        json_decref(j);
        (void)snprintf(ids, sizeof(ids), "{\"ids\":[\"%s\",\"%s\"]}", a1, a2);
        j = req_json(&s, "DELETE", req.buf, ids, 200);
        assert_true(
            json_is_true(json_object_get(json_array_get(j, 0), "success")));
        assert_string_equal(jstr(json_array_get(j, 1), "error"), "not_found");
        json_decref(j);
        (void)snprintf(ids, sizeof(ids),
                       "{\"tagIds\":[\"%s\"],\"assetIds\":[\"%s\",\"%s\"]}", t,
                       a1, a2);
        j = req_json(&s, "PUT", "/api/tags/assets", ids, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "count")), 2);
        json_decref(j);
        j = req_json(&s, "PUT", "/api/tags/assets", ids, 200);
        assert_int_equal(json_integer_value(json_object_get(j, "count")), 0);
        json_decref(j);
    }
    /* the parent tag "x" finds the assets tagged x/y/z (closure) */
    tag_id(&s, "x", t);
    buf_reset(&req);
    buf_addf(&req, "{\"tagIds\":[\"%s\"]}", t);
    assert_int_equal(search_total(&s, req.buf), 2);
    /* GET /assets/{id} carries the tags, exif and owner */
    buf_reset(&req);
    buf_addf(&req, "/api/assets/%s", a1);
    j = req_json(&s, "GET", req.buf, NULL, 200);
    assert_true(json_array_size(json_object_get(j, "tags")) >= 1);
    assert_non_null(json_object_get(j, "owner"));
    json_decref(j);
    /* tag create, upsert, one add, one remove, one bulk add */
    assert_int_equal(sim_stat_writes(&s), 5);
    assert_int_equal(sim_stat_endpoint(&s, "PUT /tags/{id}/assets"), 1);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&body);
    buf_release(&req);
}

/* The first album of the admin that holds assets: id into out. */
static void full_album(struct sim_proc *s, char out[40], long *count)
{
    json_t *list = req_json(s, "GET", "/api/albums", NULL, 200), *al;
    size_t i;

    out[0] = '\0';
    json_array_foreach(list, i, al)
    {
        if (json_integer_value(json_object_get(al, "assetCount")) > 0) {
            (void)snprintf(out, 40, "%s", jstr(al, "id"));
            *count =
                (long)json_integer_value(json_object_get(al, "assetCount"));
            break;
        }
    }
    json_decref(list);
    assert_true(out[0] != '\0');
}

static void test_sim_albums_differ_between_dialects(void **state)
{
    struct sim_proc s;
    struct buf path = BUF_INIT;
    char id[40];
    long count = 0, own2, all3;
    json_t *j;

    (void)state;
    start(&s, SMALL("--dialect", "2", NULL));
    full_album(&s, id, &count);
    buf_addf(&path, "/api/albums/%s", id);
    j = req_json(&s, "GET", path.buf, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "assets")), count);
    assert_non_null(json_object_get(
        json_array_get(json_object_get(j, "assets"), 0), "ownerId"));
    json_decref(j);
    buf_addstr(&path, "?withoutAssets=true");
    j = req_json(&s, "GET", path.buf, NULL, 200);
    assert_int_equal(json_array_size(json_object_get(j, "assets")), 0);
    json_decref(j);
    j = req_json(&s, "GET", "/api/albums", NULL, 200);
    own2 = (long)json_array_size(j);
    json_decref(j);
    j = req_json(&s, "GET", "/api/albums?shared=true", NULL, 200);
    assert_true(json_array_size(j) > 0);
    json_decref(j);
    assert_int_equal(sim_stat_endpoint(&s, "GET /albums/{id}"), 2);
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL(NULL));
    j = req_json(&s, "GET", "/api/albums", NULL, 200);
    all3 = (long)json_array_size(j);
    json_decref(j);
    /* 3.x lists the albums shared with the caller too */
    assert_true(all3 > own2);
    buf_reset(&path);
    buf_addf(&path, "/api/albums/%s", id);
    j = req_json(&s, "GET", path.buf, NULL, 200);
    assert_null(json_object_get(j, "assets"));
    assert_string_equal(
        jstr(json_array_get(json_object_get(j, "albumUsers"), 0), "role"),
        "owner");
    json_decref(j);
    buf_reset(&path);
    buf_addf(&path, "{\"albumIds\":[\"%s\"]}", id);
    assert_int_equal(search_total(&s, path.buf), count);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&path);
}

/*
 * Album writes: per-id adds and removes with their outcomes, the
 * thumbnail they set and clear, the bulk add's summary (duplicate, then
 * success), delete; each write counted once.
 */
static void test_sim_album_writes_and_bulk_summary(void **state)
{
    struct sim_proc s;
    struct buf path = BUF_INIT, body = BUF_INIT, album = BUF_INIT,
               bulk = BUF_INIT;
    char id[40], asset[40];
    json_t *j;

    (void)state;
    start(&s, SMALL(NULL));
    j = req_json(&s, "POST", "/api/search/metadata",
                 "{\"size\":1,\"isNotInAlbum\":true}", 200);
    page_asset_id(j, 0, asset);
    json_decref(j);
    j = req_json(&s, "POST", "/api/albums",
                 "{\"albumName\":\"2024-01-01 New\"}", 201);
    (void)snprintf(id, sizeof(id), "%s", jstr(j, "id"));
    assert_int_equal(json_integer_value(json_object_get(j, "assetCount")), 0);
    json_decref(j);
    buf_addf(&path, "/api/albums/%s/assets", id);
    buf_addf(&body, "{\"ids\":[\"%s\",\"%s\"]}", asset, asset);
    j = req_json(&s, "PUT", path.buf, body.buf, 200);
    assert_true(json_is_true(json_object_get(json_array_get(j, 0), "success")));
    assert_string_equal(jstr(json_array_get(j, 1), "error"), "duplicate");
    json_decref(j);
    buf_addf(&album, "/api/albums/%s", id);
    /* the first asset added is the thumbnail */
    j = req_json(&s, "GET", album.buf, NULL, 200);
    assert_string_equal(jstr(j, "albumThumbnailAssetId"), asset);
    json_decref(j);
    buf_reset(&bulk);
    buf_addf(&bulk, "{\"albumIds\":[\"%s\"],\"assetIds\":[\"%s\"]}", id, asset);
    j = req_json(&s, "PUT", "/api/albums/assets", bulk.buf, 200);
    assert_false(json_is_true(json_object_get(j, "success")));
    assert_string_equal(jstr(j, "error"), "duplicate");
    json_decref(j);
    buf_reset(&body);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", asset);
    j = req_json(&s, "DELETE", path.buf, body.buf, 200);
    assert_true(json_is_true(json_object_get(json_array_get(j, 0), "success")));
    json_decref(j);
    j = req_json(&s, "DELETE", path.buf, body.buf, 200);
    assert_string_equal(jstr(json_array_get(j, 0), "error"), "not_found");
    json_decref(j);
    /* removing the thumbnail's asset leaves none (the album is empty) */
    j = req_json(&s, "GET", album.buf, NULL, 200);
    assert_true(json_is_null(json_object_get(j, "albumThumbnailAssetId")));
    json_decref(j);
    /* the bulk add of an asset not in the album adds it */
    j = req_json(&s, "PUT", "/api/albums/assets", bulk.buf, 200);
    assert_true(json_is_true(json_object_get(j, "success")));
    json_decref(j);
    j = req_json(&s, "GET", album.buf, NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "assetCount")), 1);
    json_decref(j);
    assert_int_equal(sim_request(&s, "DELETE", album.buf, NULL, &body), 204);
    assert_int_equal(sim_request(&s, "GET", album.buf, NULL, &body), 400);
    assert_non_null(strstr(body.buf, "Not found or no album.read access"));
    /* create, add, remove, bulk add, delete */
    assert_int_equal(sim_stat_writes(&s), 5);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&path);
    buf_release(&body);
    buf_release(&album);
    buf_release(&bulk);
}

static void state_of(const char *const *args, struct buf *out)
{
    struct sim_proc s;

    start(&s, args);
    assert_int_equal(sim_request(&s, "GET", "/__sim/state", NULL, out), 200);
    assert_int_equal(sim_stop(&s), 0);
}

static void test_sim_generator_is_deterministic(void **state)
{
    struct buf a = BUF_INIT, b = BUF_INIT, c = BUF_INIT;
    json_t *j;

    (void)state;
    state_of(SMALL(NULL), &a);
    state_of(SMALL(NULL), &b);
    state_of((const char *const[]){"--preset", "small", "--seed", "2",
                                   "--latency", "off", NULL},
             &c);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    assert_true(a.len != c.len || memcmp(a.buf, c.buf, a.len));
    j = json_loadb(a.buf, a.len, 0, NULL);
    assert_int_equal(json_array_size(json_object_get(j, "assets")), 300);
    assert_int_equal(json_array_size(json_object_get(j, "albums")), 40);
    assert_true(json_array_size(json_object_get(j, "users")) >= 6);
    json_decref(j);
    buf_release(&a);
    buf_release(&b);
    buf_release(&c);
}

static void test_sim_library_file_round_trip(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    struct buf a = BUF_INIT, b = BUF_INIT;
    struct sim_proc s;
    int fd = mkstemp(path);
    FILE *f;

    (void)state;
    assert_true(fd >= 0);
    state_of(SMALL(NULL), &a);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(a.buf, 1, a.len, f), a.len);
    assert_int_equal(fclose(f), 0);
    start(&s,
          (const char *const[]){"--library", path, "--latency", "off", NULL});
    assert_int_equal(sim_request(&s, "GET", "/__sim/state", NULL, &b), 200);
    assert_int_equal(sim_stop(&s), 0);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.buf, b.buf, a.len);
    (void)unlink(path);
    buf_release(&a);
    buf_release(&b);
}

/* Writes data to a new temporary file whose name goes in path. */
static void write_temp(char *path, const struct buf *data)
{
    int fd = mkstemp(path);
    FILE *f;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(data->buf, 1, data->len, f), data->len);
    assert_int_equal(fclose(f), 0);
}

/* A library file whose partner, tag or album member names no record of
 * the file is refused (immich-sim exits before its first line). */
static void test_sim_library_file_unknown_ids_refused(void **state)
{
    static const struct {
        const char *list, *key;
    } bad[] = {
        {"users", "partners"},
        {"assets", "tagIds"},
        {"albums", "assetIds"},
    };
    struct buf lib = BUF_INIT, text = BUF_INIT, err = BUF_INIT;
    size_t i;

    (void)state;
    state_of(SMALL(NULL), &lib);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        char path[] = "/tmp/test_sim_libXXXXXX";
        json_t *j = json_loads(lib.buf, 0, NULL);
        json_t *rec = json_array_get(json_object_get(j, bad[i].list), 0);
        char *dump;
        struct sim_proc s;

        assert_int_equal(
            json_array_append_new(
                json_object_get(rec, bad[i].key),
                json_string("00000000-0000-4000-8000-000000000000")),
            0);
        dump = json_dumps(j, 0);
        buf_reset(&text);
        buf_addstr(&text, dump);
        write_temp(path, &text);
        assert_int_equal(
            sim_start(&s, (const char *const[]){"--library", path, NULL}, &err),
            -1);
        (void)unlink(path);
        free(dump);
        json_decref(j);
    }
    buf_release(&lib);
    buf_release(&text);
    buf_release(&err);
}

/* A library reloaded with the seed that generated it: new albums get ids
 * that no record of the file has (the seeded sequence replays them). */
static void test_sim_reloaded_library_mints_fresh_ids(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    struct buf lib = BUF_INIT;
    struct sim_proc s;
    int i, fresh = 0;

    (void)state;
    state_of(SMALL(NULL), &lib);
    write_temp(path, &lib);
    start(&s, (const char *const[]){"--library", path, "--seed", "1",
                                    "--latency", "off", NULL});
    for (i = 0; i < 50; i++) {
        char body[64];
        json_t *a;

        (void)snprintf(body, sizeof(body), "{\"albumName\":\"new %d\"}", i);
        a = req_json(&s, "POST", "/api/albums", body, 201);
        fresh += strstr(lib.buf, jstr(a, "id")) == NULL;
        json_decref(a);
    }
    assert_int_equal(fresh, 50);
    assert_int_equal(sim_stop(&s), 0);
    (void)unlink(path);
    buf_release(&lib);
}

/* ---- background jobs, answers as Immich gives them ---- */

static json_t *sim_state(struct sim_proc *s)
{
    return req_json(s, "GET", "/__sim/state", NULL, 200);
}

/* The id of the user with this email in a state. */
static const char *user_id(json_t *st, const char *email)
{
    json_t *u;
    size_t i;

    json_array_foreach(json_object_get(st, "users"), i, u)
    {
        if (!strcmp(jstr(u, "email"), email))
            return jstr(u, "id");
    }
    fail_msg("no user %s", email);
    return NULL;
}

/* The nth live asset of owner with (exif) or without an exif row. */
static json_t *asset_of(json_t *st, const char *owner, bool exif, int nth)
{
    json_t *a;
    size_t i;

    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        if (strcmp(jstr(a, "ownerId"), owner) ||
            !json_is_null(json_object_get(a, "deletedAt")) ||
            strcmp(jstr(a, "visibility"), "timeline") ||
            json_is_null(json_object_get(a, "exifInfo")) == exif)
            continue;
        if (nth-- == 0)
            return a;
    }
    fail_msg("no such asset of %s", owner);
    return NULL;
}

/* GET /api/<path> of one asset's field ("fileCreatedAt", "exifInfo"...). */
static json_t *asset_get(struct sim_proc *s, const char *id)
{
    struct buf path = BUF_INIT;
    json_t *j;

    buf_addf(&path, "/api/assets/%s", id);
    j = req_json(s, "GET", path.buf, NULL, 200);
    buf_release(&path);
    return j;
}

static bool asset_has_tag(struct sim_proc *s, const char *asset,
                          const char *value)
{
    json_t *a = asset_get(s, asset), *t;
    bool found = false;
    size_t i;

    json_array_foreach(json_object_get(a, "tags"), i, t)
    {
        found |= !strcmp(jstr(t, "value"), value);
    }
    json_decref(a);
    return found;
}

/* A jobCounts field of one queue in GET /api/jobs. */
static long job_count(struct sim_proc *s, const char *queue, const char *field)
{
    json_t *j = req_json(s, "GET", "/api/jobs", NULL, 200);
    long v = (long)json_integer_value(json_object_get(
        json_object_get(json_object_get(j, queue), "jobCounts"), field));

    json_decref(j);
    return v;
}

static long jobs_run(struct sim_proc *s, const char *query)
{
    struct buf path = BUF_INIT;
    json_t *j;
    long ran;

    buf_addf(&path, "/__sim/jobs/run%s", query);
    j = req_json(s, "POST", path.buf, NULL, 200);
    ran = (long)json_integer_value(json_object_get(j, "ran"));
    json_decref(j);
    buf_release(&path);
    return ran;
}

/*
 * The race of 2.x: a tag removed through the API between the sidecar
 * write that listed it and the metadata re-read comes back; 3.x re-reads
 * the list the API keeps current and loses nothing.
 */
static void race(const char *dialect, bool reverted)
{
    struct sim_proc s;
    struct buf path = BUF_INIT, body = BUF_INIT;
    char asset[40], tag[40], before[40];
    json_t *st, *j;

    start(&s, SMALL("--dialect", dialect, "--jobs", "delay=1h,rate=0", NULL));
    st = sim_state(&s);
    (void)snprintf(
        asset, sizeof(asset), "%s",
        jstr(asset_of(st, user_id(st, "admin@example.com"), true, 0), "id"));
    json_decref(st);
    j = req_json(&s, "POST", "/api/tags", "{\"name\":\"race\"}", 201);
    (void)snprintf(tag, sizeof(tag), "%s", jstr(j, "id"));
    json_decref(j);
    j = asset_get(&s, asset);
    (void)snprintf(before, sizeof(before), "%s", jstr(j, "updatedAt"));
    json_decref(j);

    buf_addf(&path, "/api/tags/%s/assets", tag);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", asset);
    json_decref(req_json(&s, "PUT", path.buf, body.buf, 200));
    assert_int_equal(job_count(&s, "sidecar", "waiting"), 1);
    assert_int_equal(job_count(&s, "metadataExtraction", "waiting"), 0);
    assert_int_equal(jobs_run(&s, "?queue=sidecar&n=1"), 1);
    assert_int_equal(job_count(&s, "metadataExtraction", "waiting"), 1);
    json_decref(req_json(&s, "DELETE", path.buf, body.buf, 200));
    assert_false(asset_has_tag(&s, asset, "race"));
    assert_int_equal(jobs_run(&s, "?queue=metadataExtraction&n=1"), 1);
    assert_true(asset_has_tag(&s, asset, "race") == reverted);
    /* the re-read moved updatedAt */
    j = asset_get(&s, asset);
    assert_string_not_equal(jstr(j, "updatedAt"), before);
    json_decref(j);
    /* and the removal's own jobs do not bring it back either way */
    assert_int_equal(jobs_run(&s, ""), 2);
    assert_true(asset_has_tag(&s, asset, "race") == reverted);
    assert_int_equal(job_count(&s, "sidecar", "completed"), 2);
    assert_int_equal(job_count(&s, "metadataExtraction", "completed"), 2);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&path);
    buf_release(&body);
}

static void test_sim_jobs_revert_tags_in_2x_only(void **state)
{
    (void)state;
    race("2", true);
    race("3", false);
}

/* The small preset's state (the library file plus albumIds). */
static json_t *small_state(void)
{
    struct buf lib = BUF_INIT;
    json_t *st;

    state_of(SMALL(NULL), &lib);
    st = json_loadb(lib.buf, lib.len, 0, NULL);
    assert_non_null(st);
    buf_release(&lib);
    return st;
}

/* Writes st (consumed) as a library file; path gets its name. */
static void write_state(char *path, json_t *st)
{
    struct buf lib = BUF_INIT;
    char *text = json_dumps(st, JSON_COMPACT);

    assert_non_null(text);
    buf_addstr(&lib, text);
    free(text);
    json_decref(st);
    write_temp(path, &lib);
    buf_release(&lib);
}

/* Builds a library file from the small preset with asset index ro
 * read-only; path gets its name. */
static void library_with(char *path, const char *ro, bool public_users)
{
    json_t *st, *a;
    size_t i;

    st = small_state();
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        if (ro && !strcmp(jstr(a, "id"), ro))
            assert_int_equal(json_object_set_new(a, "readOnly", json_true()),
                             0);
    }
    if (!public_users)
        assert_int_equal(
            json_object_set_new(st, "server",
                                json_pack("{s:b}", "publicUsers", 0)),
            0);
    write_state(path, st);
}

/*
 * A date change: the EXIF row at once, fileCreatedAt/localDateTime when
 * the jobs finish, never for a read-only asset; the bulk update leaves an
 * asset without EXIF alone; a +05:30 offset names the zone UTC+5:30.
 */
static void test_sim_date_change_waits_for_the_jobs(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    char a[40], ro[40], bare[40], created[40];
    struct buf body = BUF_INIT, out = BUF_INIT;
    struct sim_proc s;
    json_t *st, *j;
    const char *admin;
    size_t i;

    (void)state;
    start(&s, SMALL(NULL));
    st = sim_state(&s);
    admin = user_id(st, "admin@example.com");
    (void)snprintf(a, sizeof(a), "%s",
                   jstr(asset_of(st, admin, true, 0), "id"));
    (void)snprintf(ro, sizeof(ro), "%s",
                   jstr(asset_of(st, admin, true, 1), "id"));
    (void)snprintf(bare, sizeof(bare), "%s",
                   jstr(asset_of(st, admin, false, 0), "id"));
    json_decref(st);
    assert_int_equal(sim_stop(&s), 0);

    library_with(path, ro, true);
    start(&s, (const char *const[]){"--library", path, "--jobs",
                                    "delay=1h,rate=0", NULL});
    j = asset_get(&s, a);
    (void)snprintf(created, sizeof(created), "%s", jstr(j, "fileCreatedAt"));
    json_decref(j);
    buf_addf(&body,
             "{\"ids\":[\"%s\",\"%s\",\"%s\"],\"dateTimeOriginal\":"
             "\"2001-02-03T04:05:06+05:30\"}",
             a, ro, bare);
    assert_int_equal(sim_request(&s, "PUT", "/api/assets", body.buf, &out),
                     204);
    j = asset_get(&s, a);
    assert_string_equal(
        jstr(json_object_get(j, "exifInfo"), "dateTimeOriginal"),
        "2001-02-02T22:35:06.000Z");
    assert_string_equal(jstr(json_object_get(j, "exifInfo"), "timeZone"),
                        "UTC+5:30");
    assert_string_equal(jstr(j, "fileCreatedAt"), created);
    json_decref(j);
    assert_int_equal(job_count(&s, "sidecar", "waiting"), 3);
    assert_int_equal(sim_stat_long(&s, "jobs.sidecar.pending"), 3);
    /* an hour before the writes are due, one delay more for the re-reads */
    assert_true(sim_stat_long(&s, "jobs.drain_ms") > 2 * 3600000L - 60000L);

    /* 3 writes (one fails: read-only; one skipped: no EXIF row), 1 re-read */
    assert_int_equal(jobs_run(&s, ""), 4);
    j = asset_get(&s, a);
    assert_string_equal(jstr(j, "fileCreatedAt"), "2001-02-02T22:35:06.000Z");
    assert_string_equal(jstr(j, "localDateTime"), "2001-02-03T04:05:06.000Z");
    json_decref(j);
    j = asset_get(&s, ro);
    assert_string_not_equal(jstr(j, "fileCreatedAt"),
                            "2001-02-02T22:35:06.000Z");
    json_decref(j);
    j = asset_get(&s, bare);
    assert_string_not_equal(jstr(j, "fileCreatedAt"),
                            "2001-02-02T22:35:06.000Z");
    json_decref(j);
    /* still no exif row (updateAllExif is a plain UPDATE) */
    st = sim_state(&s);
    json_array_foreach(json_object_get(st, "assets"), i, j)
    {
        if (!strcmp(jstr(j, "id"), bare))
            assert_true(json_is_null(json_object_get(j, "exifInfo")));
    }
    json_decref(st);
    assert_int_equal(job_count(&s, "sidecar", "failed"), 1);
    assert_int_equal(job_count(&s, "sidecar", "completed"), 2);
    assert_int_equal(sim_stat_long(&s, "jobs.sidecar.failed"), 1);
    assert_int_equal(sim_stat_long(&s, "jobs.metadataExtraction.completed"), 1);
    assert_int_equal(sim_stat_long(&s, "jobs.drain_ms"), 0);
    assert_int_equal(sim_stop(&s), 0);
    (void)unlink(path);
    buf_release(&body);
    buf_release(&out);
}

/* In real time: the jobs finish by themselves; GET /jobs needs an admin
 * key with job.read. */
static void test_sim_jobs_run_on_the_clock(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT, path = BUF_INIT;
    json_t *st, *j;
    char tag[40];
    int i;

    (void)state;
    start(&s, SMALL("--jobs", "delay=50ms,rate=1000/s", NULL));
    st = sim_state(&s);
    j = req_json(&s, "POST", "/api/tags", "{\"name\":\"clock\"}", 201);
    (void)snprintf(tag, sizeof(tag), "%s", jstr(j, "id"));
    json_decref(j);
    buf_addf(&path, "/api/tags/%s/assets", tag);
    buf_addf(
        &body, "{\"ids\":[\"%s\"]}",
        jstr(asset_of(st, user_id(st, "admin@example.com"), true, 0), "id"));
    json_decref(st);
    json_decref(req_json(&s, "PUT", path.buf, body.buf, 200));
    /* /__sim/stats catches up with the clock too (no /api request) */
    for (i = 0; i < 400; i++) {
        if (sim_stat_long(&s, "jobs.metadataExtraction.completed") == 1)
            break;
        (void)usleep(25000);
    }
    assert_int_equal(sim_stat_long(&s, "jobs.drain_ms"), 0);
    assert_int_equal(job_count(&s, "metadataExtraction", "completed"), 1);
    assert_int_equal(job_count(&s, "sidecar", "waiting") +
                         job_count(&s, "sidecar", "active"),
                     0);
    assert_int_equal(sim_request_key(&s, "immich-sim-readonly-key", "GET",
                                     "/api/jobs", NULL, &body, NULL, NULL),
                     403);
    assert_non_null(strstr(body.buf, "job.read"));
    assert_int_equal(sim_request_key(&s, "immich-sim-key-John", "GET",
                                     "/api/jobs", NULL, &body, NULL, NULL),
                     403);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&body);
    buf_release(&path);
}

static void test_sim_answers_as_immich_gives_them(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    struct buf body = BUF_INIT, url = BUF_INIT, out = BUF_INIT;
    struct sim_proc s;
    json_t *st, *j;
    char album[40], grandpa[40], grandma_asset[40], asset[40];

    (void)state;
    /* POST /albums answers without lastModifiedAssetTimestamp */
    start(&s, SMALL("--create-last-modified", "off", NULL));
    st = sim_state(&s);
    (void)snprintf(
        asset, sizeof(asset), "%s",
        jstr(asset_of(st, user_id(st, "admin@example.com"), true, 0), "id"));
    (void)snprintf(grandpa, sizeof(grandpa), "%s",
                   user_id(st, "grandpa@example.com"));
    (void)snprintf(
        grandma_asset, sizeof(grandma_asset), "%s",
        jstr(asset_of(st, user_id(st, "grandma@example.com"), true, 0), "id"));
    json_decref(st);
    buf_addf(&body, "{\"albumName\":\"new\",\"assetIds\":[\"%s\"]}", asset);
    j = req_json(&s, "POST", "/api/albums", body.buf, 201);
    assert_int_equal(json_integer_value(json_object_get(j, "assetCount")), 1);
    assert_null(json_object_get(j, "lastModifiedAssetTimestamp"));
    buf_addf(&url, "/api/albums/%s", jstr(j, "id"));
    json_decref(j);
    j = req_json(&s, "GET", url.buf, NULL, 200);
    assert_non_null(json_object_get(j, "lastModifiedAssetTimestamp"));
    json_decref(j);

    /* 3.x users carry a clusterGroupId (a NOT NULL uuid) */
    j = req_json(&s, "GET", "/api/users/me", NULL, 200);
    assert_true(json_is_string(json_object_get(j, "clusterGroupId")));
    json_decref(j);

    /* an editor removes what it may share: a partner's asset too */
    buf_reset(&body);
    buf_addf(&body,
             "{\"albumName\":\"jane's\",\"albumUsers\":[{\"userId\":"
             "\"%s\",\"role\":\"editor\"}]}",
             grandpa);
    assert_int_equal(sim_request_key(&s, "immich-sim-key-Jane", "POST",
                                     "/api/albums", body.buf, &out, NULL, NULL),
                     201);
    j = json_loadb(out.buf, out.len, 0, NULL);
    (void)snprintf(album, sizeof(album), "%s", jstr(j, "id"));
    json_decref(j);
    buf_reset(&url);
    buf_addf(&url, "/api/albums/%s/assets", album);
    buf_reset(&body);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", grandma_asset);
    assert_int_equal(sim_request_key(&s, "immich-sim-key-Grandpa", "PUT",
                                     url.buf, body.buf, &out, NULL, NULL),
                     200);
    assert_non_null(strstr(out.buf, "\"success\":true"));
    assert_int_equal(sim_request_key(&s, "immich-sim-key-Grandpa", "DELETE",
                                     url.buf, body.buf, &out, NULL, NULL),
                     200);
    assert_non_null(strstr(out.buf, "\"success\":true"));
    assert_int_equal(sim_stop(&s), 0);

    /* publicUsers off: a non-admin sees only itself */
    library_with(path, NULL, false);
    start(&s, (const char *const[]){"--library", path, NULL});
    assert_int_equal(sim_request_key(&s, "immich-sim-key-John", "GET",
                                     "/api/users", NULL, &body, NULL, NULL),
                     200);
    j = json_loadb(body.buf, body.len, 0, NULL);
    assert_int_equal(json_array_size(j), 1);
    assert_string_equal(jstr(json_array_get(j, 0), "email"),
                        "john@example.com");
    json_decref(j);
    j = req_json(&s, "GET", "/api/users", NULL, 200);
    assert_true(json_array_size(j) >= 6);
    json_decref(j);
    assert_int_equal(sim_stop(&s), 0);
    (void)unlink(path);
    buf_release(&body);
    buf_release(&url);
    buf_release(&out);
}

/* The small library with 20 admin assets taken at one instant, newest. */
static void library_with_tie(char *path)
{
    json_t *st, *a;
    const char *admin;
    size_t i;
    int n = 0;

    st = small_state();
    admin = user_id(st, "admin@example.com");
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        if (n < 20 && !strcmp(jstr(a, "ownerId"), admin) &&
            json_is_null(json_object_get(a, "deletedAt"))) {
            json_object_set_new(a, "fileCreatedAt",
                                json_string("2030-01-01T00:00:00.000Z"));
            n++;
        }
    }
    write_state(path, st);
}

/* Distinct ids on the first 20 pages of one asset each. */
static int distinct_first_pages(const char *path, const char *dialect)
{
    struct sim_proc s;
    char ids[20][40];
    int p, k, distinct = 0;

    start(&s,
          (const char *const[]){"--library", path, "--dialect", dialect, NULL});
    for (p = 0; p < 20; p++) {
        char body[96];
        json_t *j;

        (void)snprintf(body, sizeof(body),
                       "{\"size\":1,\"page\":%d,\"withDeleted\":false}", p + 1);
        j = req_json(&s, "POST", "/api/search/metadata", body, 200);
        page_asset_id(j, 0, ids[p]);
        json_decref(j);
        for (k = 0; k < p && strcmp(ids[k], ids[p]); k++)
            ;
        distinct += k == p;
    }
    assert_int_equal(sim_stop(&s), 0);
    return distinct;
}

/* 3.0 and 3.1 order by date alone (pages inside a group of equal dates
 * may overlap); 3.2 breaks ties by id. */
static void test_sim_3_0_orders_without_tie_break(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    struct sim_proc s;
    json_t *v;

    (void)state;
    library_with_tie(path);
    assert_int_equal(distinct_first_pages(path, "3.2"), 20);
    assert_true(distinct_first_pages(path, "3.0") < 20);
    assert_true(distinct_first_pages(path, "3.1") < 20);
    start(&s,
          (const char *const[]){"--library", path, "--dialect", "3.0", NULL});
    v = req_json(&s, "GET", "/api/server/version", NULL, 200);
    assert_int_equal(json_integer_value(json_object_get(v, "minor")), 0);
    json_decref(v);
    assert_int_equal(sim_stop(&s), 0);
    (void)unlink(path);
}

/* ---- album members that change behind the album's back ---- */

struct album_key {
    char updated[32], last[32];
    long count;
};

/* The three fields GET /albums gives for album id. */
static void album_key(struct sim_proc *s, const char *id, struct album_key *k)
{
    json_t *list = req_json(s, "GET", "/api/albums", NULL, 200), *al;
    size_t i;

    memset(k, 0, sizeof(*k));
    k->count = -1;
    json_array_foreach(list, i, al)
    {
        const char *last = jstr(al, "lastModifiedAssetTimestamp");

        if (strcmp(jstr(al, "id"), id))
            continue;
        (void)snprintf(k->updated, sizeof(k->updated), "%s",
                       jstr(al, "updatedAt"));
        (void)snprintf(k->last, sizeof(k->last), "%s", last ? last : "");
        k->count = (long)json_integer_value(json_object_get(al, "assetCount"));
    }
    json_decref(list);
    assert_true(k->count >= 0);
}

/*
 * Reads album's key into *k and checks it against base: assetCount moved
 * by dcount, updatedAt never, lastModifiedAssetTimestamp only if moved.
 */
static void check_key(struct sim_proc *s, const char *album,
                      const struct album_key *base, long dcount, bool moved,
                      struct album_key *k)
{
    album_key(s, album, k);
    assert_int_equal(k->count, base->count + dcount);
    assert_string_equal(k->updated, base->updated);
    assert_true(!strcmp(k->last, base->last) == !moved);
}

/* Does the album-membership search list asset? */
static bool in_album(struct sim_proc *s, const char *album, const char *asset)
{
    struct buf body = BUF_INIT;
    json_t *j, *it;
    bool found = false;
    size_t i;

    buf_addf(&body, "{\"albumIds\":[\"%s\"],\"size\":1000}", album);
    j = req_json(s, "POST", "/api/search/metadata", body.buf, 200);
    json_array_foreach(json_object_get(json_object_get(j, "assets"), "items"),
                       i, it)
    {
        found |= !strcmp(jstr(it, "id"), asset);
    }
    json_decref(j);
    buf_release(&body);
    return found;
}

struct members_case {
    char album[40], thumb[40], member[40], outsider[40], hidden[40];
};

/*
 * The small library with one admin album given a hidden member (a
 * live-photo video part); picks a member that is neither the thumbnail
 * nor the newest, and an admin asset outside the album, older than it.
 */
static void library_with_hidden_member(char *path, struct members_case *c)
{
    json_t *st, *al, *a, *best = NULL;
    const char *admin, *max = NULL;
    size_t i, k;

    st = small_state();
    admin = user_id(st, "admin@example.com");
    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        if (!strcmp(jstr(al, "ownerId"), admin) &&
            json_array_size(json_object_get(al, "assetIds")) >= 4 &&
            (!best || json_array_size(json_object_get(al, "assetIds")) >
                          json_array_size(json_object_get(best, "assetIds"))))
            best = al;
    }
    assert_non_null(best);
    (void)snprintf(c->album, sizeof(c->album), "%s", jstr(best, "id"));
    (void)snprintf(c->thumb, sizeof(c->thumb), "%s",
                   jstr(best, "albumThumbnailAssetId"));
    c->member[0] = c->outsider[0] = c->hidden[0] = '\0';
    /* every asset has updatedAt == createdAt here: the member with the
     * smallest is neither the newest nor (unless it is) the thumbnail */
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        bool member = false;
        json_t *id;

        json_array_foreach(json_object_get(best, "assetIds"), k, id)
        {
            member |= !strcmp(json_string_value(id), jstr(a, "id"));
        }
        if (member && (!max || strcmp(jstr(a, "updatedAt"), max) > 0))
            max = jstr(a, "updatedAt");
    }
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        bool member = false,
             live = json_is_null(json_object_get(a, "deletedAt")) &&
                    !strcmp(jstr(a, "visibility"), "timeline");
        json_t *id;

        json_array_foreach(json_object_get(best, "assetIds"), k, id)
        {
            member |= !strcmp(json_string_value(id), jstr(a, "id"));
        }
        if (!live || strcmp(jstr(a, "ownerId"), admin) ||
            strcmp(jstr(a, "updatedAt"), max) >= 0)
            continue;
        if (member && !c->member[0] && strcmp(jstr(a, "id"), c->thumb))
            (void)snprintf(c->member, sizeof(c->member), "%s", jstr(a, "id"));
        else if (!member && !c->outsider[0])
            (void)snprintf(c->outsider, sizeof(c->outsider), "%s",
                           jstr(a, "id"));
        else if (!member && !c->hidden[0]) {
            (void)snprintf(c->hidden, sizeof(c->hidden), "%s", jstr(a, "id"));
            json_object_set_new(a, "visibility", json_string("hidden"));
            json_array_append_new(json_object_get(best, "assetIds"),
                                  json_string(c->hidden));
        }
    }
    assert_true(c->member[0] && c->outsider[0] && c->hidden[0]);
    write_state(path, st);
}

/*
 * Membership changes that leave updatedAt, assetCount and
 * lastModifiedAssetTimestamp as they were: a shared-link upload of a photo
 * the owner has, the trash of a member, the removal of a hidden member;
 * and those that move them: a restore, a new upload.  A partner starting
 * to share widens the searches without touching any album.
 */
static void test_sim_members_change_behind_the_album(void **state)
{
    char path[] = "/tmp/test_sim_libXXXXXX";
    struct members_case c;
    struct album_key k0, k;
    struct buf body = BUF_INIT, out = BUF_INIT, url = BUF_INIT;
    struct sim_proc s;
    json_t *st, *j;
    char trashed_at[32];
    long before, john;

    (void)state;
    library_with_hidden_member(path, &c);
    start(&s, (const char *const[]){"--library", path, NULL});
    album_key(&s, c.album, &k0);
    assert_true(in_album(&s, c.album, c.hidden)); /* 3.x: not-locked */

    buf_addf(&body, "{\"albumId\":\"%s\",\"assetId\":\"%s\"}", c.album,
             c.outsider);
    assert_int_equal(
        sim_request(&s, "POST", "/__sim/shared-link-upload", body.buf, &out),
        200);
    check_key(&s, c.album, &k0, 1, false, &k);

    buf_reset(&body);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", c.member);
    assert_int_equal(sim_request(&s, "DELETE", "/api/assets", body.buf, &out),
                     204);
    check_key(&s, c.album, &k0, 0, false, &k);
    assert_true(in_album(&s, c.album, c.outsider));
    assert_false(in_album(&s, c.album, c.member));

    buf_addf(&url, "/api/albums/%s/assets", c.album);
    buf_reset(&body);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", c.hidden);
    assert_int_equal(sim_request(&s, "DELETE", url.buf, body.buf, &out), 200);
    assert_non_null(strstr(out.buf, "\"success\":true"));
    check_key(&s, c.album, &k0, 0, false, &k);

    j = asset_get(&s, c.member);
    (void)snprintf(trashed_at, sizeof(trashed_at), "%s", jstr(j, "updatedAt"));
    json_decref(j);
    (void)usleep(3000); /* a later millisecond than the trash */
    buf_reset(&body);
    buf_addf(&body, "{\"ids\":[\"%s\"]}", c.member);
    assert_int_equal(
        sim_request(&s, "POST", "/api/trash/restore/assets", body.buf, &out),
        200);
    assert_string_equal(out.buf, "{\"count\":1}");
    j = asset_get(&s, c.member);
    assert_string_not_equal(jstr(j, "updatedAt"), trashed_at);
    json_decref(j);
    check_key(&s, c.album, &k0, 1, true, &k);

    buf_reset(&body);
    buf_addf(&body, "{\"albumId\":\"%s\"}", c.album);
    assert_int_equal(
        sim_request(&s, "POST", "/__sim/shared-link-upload", body.buf, &out),
        200);
    check_key(&s, c.album, &k, 1, true, &k0);

    /* John shares with the admin; his assets join the admin's searches
     * once the admin shows them in the timeline */
    st = sim_state(&s);
    /* a user is read by id; a partner is another user */
    buf_reset(&url);
    buf_addf(&url, "/api/users/%s", user_id(st, "john@example.com"));
    j = req_json(&s, "GET", url.buf, NULL, 200);
    assert_string_equal(jstr(j, "email"), "john@example.com");
    json_decref(j);
    assert_int_equal(
        sim_request(&s, "GET",
                    "/api/users/00000000-0000-4000-8000-000000000000", NULL,
                    &out),
        400);
    assert_non_null(strstr(out.buf, "User not found"));
    buf_reset(&url);
    buf_addf(&url, "/api/partners/%s", user_id(st, "john@example.com"));
    assert_int_equal(sim_request_key(&s, "immich-sim-key-John", "POST", url.buf,
                                     NULL, &out, NULL, NULL),
                     400);
    assert_non_null(strstr(out.buf, "User not found"));
    before = search_total(&s, "{}");
    buf_reset(&url);
    buf_addf(&url, "/api/partners/%s", user_id(st, "admin@example.com"));
    assert_int_equal(sim_request_key(&s, "immich-sim-key-John", "POST", url.buf,
                                     NULL, &out, NULL, NULL),
                     201);
    assert_int_equal(search_total(&s, "{}"), before);
    john = search_total(&s, "{}");
    buf_reset(&url);
    buf_addf(&url, "/api/partners/%s", user_id(st, "john@example.com"));
    json_decref(st);
    json_decref(req_json(&s, "PUT", url.buf, "{\"inTimeline\":true}", 200));
    assert_true(search_total(&s, "{}") > john);
    check_key(&s, c.album, &k0, 0, false, &k);
    assert_int_equal(sim_stop(&s), 0);
    (void)unlink(path);
    buf_release(&body);
    buf_release(&out);
    buf_release(&url);
}

static void test_sim_seed_preset_sizes_and_expectations(void **state)
{
    struct sim_proc s;

    (void)state;
    start(&s,
          (const char *const[]){"--preset", "seed", "--latency", "off", NULL});
    assert_int_equal(sim_stat_long(&s, "library.assets"), 26562);
    assert_int_equal(sim_stat_long(&s, "library.albums"), 3377);
    assert_int_equal(sim_stat_long(&s, "expected.tag_additions"), 2479);
    assert_int_equal(sim_stat_long(&s, "expected.tag_removals"), 1418);
    assert_int_equal(sim_stop(&s), 0);
}

/* --coverage: work for folder-album detection and date correction, and
 * hidden album members, on top of an unchanged library. */
static void test_sim_coverage_categories(void **state)
{
    struct sim_proc s;
    json_t *st, *a, *al;
    size_t i, k;
    long folder = 0, named = 0, hidden = 0;

    (void)state;
    start(&s,
          (const char *const[]){"--preset", "seed", "--coverage", "on", NULL});
    assert_int_equal(sim_stat_long(&s, "library.assets"),
                     26562 + 400 + 200 + 300);
    assert_int_equal(sim_stat_long(&s, "expected.hidden_album_members"), 300);
    assert_int_equal(sim_stat_long(&s, "expected.folder_unfiled_assets"), 400);
    assert_int_equal(sim_stat_long(&s, "expected.folder_album_additions"), 400);
    assert_int_equal(sim_stat_long(&s, "expected.date_corrections"), 200);
    assert_int_equal(sim_stat_long(&s, "expected.tag_additions"), 2479 + 400);
    assert_int_equal(sim_stat_long(&s, "expected.unknown_additions"),
                     2150 + 400);
    assert_int_equal(sim_stat_long(&s, "expected.tag_removals"), 1418);
    assert_int_equal(sim_stop(&s), 0);

    /* by construction, on the small preset (4 and 2 of them): unfiled
     * assets under a folder named like an existing album; album members
     * whose file name is dated 30+ days before them */
    start(&s, SMALL("--coverage", "on", NULL));
    assert_int_equal(sim_stat_long(&s, "expected.folder_unfiled_assets"), 4);
    assert_int_equal(sim_stat_long(&s, "expected.date_corrections"), 2);
    st = sim_state(&s);
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        const char *path = jstr(a, "originalPath");
        const char *name = jstr(a, "originalFileName");
        const char *taken = jstr(a, "fileCreatedAt");

        const char *end = strrchr(path, '/'), *dir = end;

        while (dir > path && dir[-1] != '/')
            dir--;
        json_array_foreach(json_object_get(st, "albums"), k, al)
        {
            const char *an = jstr(al, "albumName");

            if (!json_array_size(json_object_get(a, "albumIds")) && end &&
                (size_t)(end - dir) == strlen(an) &&
                !memcmp(dir, an, strlen(an)))
                folder++;
        }
        /* "YYYYMMDD_HHMMSS.jpg" against fileCreatedAt's YYYY-MM-DD (the
         * generator's other names agree with it to the second) */
        if (strlen(name) == 19 && name[8] == '_' &&
            json_array_size(json_object_get(a, "albumIds")) &&
            (memcmp(name, taken, 4) || memcmp(name + 4, taken + 5, 2) ||
             memcmp(name + 6, taken + 8, 2)))
            named++;
        hidden += !strcmp(jstr(a, "visibility"), "hidden") &&
                  json_array_size(json_object_get(a, "albumIds"));
    }
    json_decref(st);
    assert_int_equal(folder, 4);
    assert_int_equal(named, 2);
    assert_int_equal(hidden, 3);
    assert_int_equal(sim_stop(&s), 0);
}

struct call {
    const struct sim_proc *s;
    int status;
};

static void *call_ping(void *arg)
{
    struct call *c = arg;
    struct buf body = BUF_INIT;

    c->status = sim_request(c->s, "GET", "/api/users/me", NULL, &body);
    buf_release(&body);
    return NULL;
}

/* Runs fn on n threads at once (n <= 4), each a call that must answer
 * 200. */
static void concurrently(const struct sim_proc *s, void *(*fn)(void *), int n)
{
    pthread_t th[4];
    struct call calls[4];
    int i;

    for (i = 0; i < n; i++) {
        calls[i].s = s;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &calls[i]), 0);
    }
    for (i = 0; i < n; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(calls[i].status, 200);
    }
}

static void test_sim_capacity_queues_the_extra_request(void **state)
{
    struct sim_proc s;

    (void)state;
    /* every /users/me call is slow: 3 concurrent calls, 2 slots */
    start(&s, SMALL("--capacity", "2", "--faults",
                    "spike:every=1:ms=1500@GET /users/me", NULL));
    concurrently(&s, call_ping, 3);
    assert_int_equal(sim_stat_long(&s, "max_in_flight"), 2);
    assert_int_equal(sim_stat_long(&s, "waited"), 1);
    assert_int_equal(sim_stat_long(&s, "capacity"), 2);
    assert_int_equal(sim_stat_long(&s, "faults.spike"), 3);
    assert_int_equal(sim_stop(&s), 0);
}

/*
 * Of the first 10 admin assets, how many does createdBefore (or
 * createdAfter) = their own createdAt (as JSON shows it, in ms) find?
 */
static void created_bounds(const char *micros, long *before, long *after)
{
    struct sim_proc s;
    json_t *st, *a;
    size_t i;
    int n = 0;

    start(&s, SMALL("--micros", micros, NULL));
    st = sim_state(&s);
    *before = *after = 0;
    json_array_foreach(json_object_get(st, "assets"), i, a)
    {
        char body[160];

        if (n++ == 10)
            break;
        (void)snprintf(body, sizeof(body),
                       "{\"id\":\"%s\",\"createdBefore\":\"%s\","
                       "\"withDeleted\":true}",
                       jstr(a, "id"), jstr(a, "createdAt"));
        *before += search_total(&s, body);
        (void)snprintf(body, sizeof(body),
                       "{\"id\":\"%s\",\"createdAfter\":\"%s\","
                       "\"withDeleted\":true}",
                       jstr(a, "id"), jstr(a, "createdAt"));
        *after += search_total(&s, body);
    }
    json_decref(st);
    assert_int_equal(sim_stop(&s), 0);
}

/* createdAt carries microseconds the JSON does not show: a bound equal
 * to the shown value leaves the asset out of "before" (and in "after") */
static void test_sim_timestamps_carry_microseconds(void **state)
{
    long before, after;

    (void)state;
    created_bounds("off", &before, &after);
    assert_int_equal(before, 10);
    assert_int_equal(after, 10);
    created_bounds("on", &before, &after);
    assert_true(before <= 1);
    assert_int_equal(after, 10);
}

/* A number of /__sim/stats (top level). */
static double stat_num(struct sim_proc *s, const char *name)
{
    json_t *j = req_json(s, "GET", "/__sim/stats", NULL, 200);
    double v = json_number_value(json_object_get(j, name));

    json_decref(j);
    return v;
}

/* The modeled time of one search page of 100 (page p). */
static double page_ms(struct sim_proc *s, int p)
{
    char body[64];

    assert_int_equal(sim_reset_stats(s), 0);
    (void)snprintf(body, sizeof(body), "{\"size\":100,\"page\":%d}", p);
    json_decref(req_json(s, "POST", "/api/search/metadata", body, 200));
    return stat_num(s, "service_ms");
}

/* A deep OFFSET page pays 0.5 us for every row before it. */
static void test_sim_deep_pages_cost_more(void **state)
{
    struct sim_proc s;

    (void)state;
    start(&s, SMALL("--offset-cost", "on", NULL));
    assert_true(fabs(page_ms(&s, 2) - page_ms(&s, 1) - 100 * 0.0005) < 1e-6);
    assert_int_equal(sim_stop(&s), 0);
    start(&s, SMALL("--offset-cost", "off", NULL));
    assert_true(fabs(page_ms(&s, 2) - page_ms(&s, 1)) < 1e-6);
    assert_int_equal(sim_stop(&s), 0);
}

static void *call_search(void *arg)
{
    struct call *c = arg;
    struct buf body = BUF_INIT;

    c->status = sim_request(c->s, "POST", "/api/search/metadata",
                            "{\"size\":1000}", &body);
    buf_release(&body);
    return NULL;
}

/* Slept and modeled time of two concurrent big pages. */
static void two_pages(const char *one_loop, double *slept, double *model)
{
    struct sim_proc s;

    start(&s, SMALL("--latency", "seed", "--latency-scale", "10", "--one-loop",
                    one_loop, NULL));
    concurrently(&s, call_search, 2);
    *slept = stat_num(&s, "slept_ms");
    *model = stat_num(&s, "service_ms");
    assert_int_equal(sim_stop(&s), 0);
}

/*
 * Serialising a response is JavaScript on Node's one thread: with
 * --one-loop two concurrent pages cannot serialise at once, so the second
 * waits for the first (more is slept than modeled); without, both run in
 * their slots side by side.
 */
static void test_sim_responses_serialise_on_one_thread(void **state)
{
    double slept, model;

    (void)state;
    two_pages("off", &slept, &model);
    assert_true(fabs(slept - model) < 1e-6);
    two_pages("on", &slept, &model);
    assert_true(slept > model + 100);
}

/*
 * A request holds its database slot for its database part only: the
 * pool connection goes back when the rows have arrived, and the mapping
 * and JSON.stringify run on Node's thread without one.  Two big pages
 * take both of 2 slots; once their database parts are over (20 x 17 ms)
 * and while they still wait for or use the thread (20 x 0.2 ms for each
 * of their hundreds of items), a statistics call finds a free slot.
 */
static void test_sim_serialising_gives_the_slot_back(void **state)
{
    struct sim_proc s;
    pthread_t th[2];
    struct call calls[2];
    struct buf body = BUF_INIT;
    int i;

    (void)state;
    start(&s, SMALL("--latency", "seed", "--latency-scale", "20", "--one-loop",
                    "on", "--capacity", "2", NULL));
    for (i = 0; i < 2; i++) {
        calls[i].s = &s;
        assert_int_equal(pthread_create(&th[i], NULL, call_search, &calls[i]),
                         0);
    }
    (void)usleep(800 * 1000);
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/statistics", "{}", &body), 200);
    for (i = 0; i < 2; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(calls[i].status, 200);
    }
    buf_release(&body);
    assert_int_equal(sim_stat_endpoint(&s, "POST /search/metadata"), 2);
    assert_int_equal(sim_stat_long(&s, "max_in_flight"), 2);
    assert_int_equal(sim_stat_long(&s, "waited"), 0);
    assert_int_equal(sim_stop(&s), 0);
}

static void test_sim_faults_fire_as_configured(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT, hdr = BUF_INIT;
    json_t *j;

    (void)state;
    start(&s, SMALL("--faults",
                    "503:first=2@GET /tags,429:first=1:retry-after=3@GET "
                    "/albums,reset:first=1@GET /users,truncate:first=1@POST "
                    "/search/metadata",
                    NULL));
    assert_int_equal(sim_request(&s, "GET", "/api/tags", NULL, &body), 503);
    assert_int_equal(sim_request(&s, "GET", "/api/tags", NULL, &body), 503);
    assert_int_equal(sim_request(&s, "GET", "/api/tags", NULL, &body), 200);
    assert_int_equal(sim_request_key(&s, s.api_key, "GET", "/api/albums", NULL,
                                     &body, "Retry-After", &hdr),
                     429);
    assert_string_equal(hdr.buf, "3");
    assert_int_equal(sim_request(&s, "GET", "/api/albums", NULL, &body), 200);
    /* reset: the connection drops mid-body, curl fails */
    assert_int_equal(sim_request(&s, "GET", "/api/users", NULL, &body), -1);
    assert_int_equal(sim_request(&s, "GET", "/api/users", NULL, &body), 200);
    /* truncate: a 200 whose JSON does not parse */
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/metadata", "{}", &body), 200);
    j = json_loadb(body.buf, body.len, 0, NULL);
    assert_null(j);
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/metadata", "{}", &body), 200);
    j = json_loadb(body.buf, body.len, 0, NULL);
    assert_non_null(j);
    json_decref(j);
    assert_int_equal(sim_stat_long(&s, "faults.503"), 2);
    assert_int_equal(sim_stat_long(&s, "faults.429"), 1);
    assert_int_equal(sim_stat_long(&s, "faults.reset"), 1);
    assert_int_equal(sim_stat_long(&s, "faults.truncate"), 1);
    assert_int_equal(sim_stat_endpoint(&s, "GET /tags"), 3);
    assert_int_equal(sim_stop(&s), 0);

    /* a rate is deterministic by seed: same seed, same failures */
    {
        int run, i, st[2][40];

        for (run = 0; run < 2; run++) {
            start(&s, SMALL("--faults", "500:0.3", NULL));
            for (i = 0; i < 40; i++)
                st[run][i] =
                    sim_request(&s, "GET", "/api/server/about", NULL, &body);
            assert_int_equal(sim_stop(&s), 0);
        }
        assert_memory_equal(st[0], st[1], sizeof(st[0]));
        for (run = 0, i = 0; i < 40; i++)
            run += st[0][i] == 500;
        assert_true(run > 2 && run < 30);
    }
    buf_release(&body);
    buf_release(&hdr);
}

static size_t sink(char *d, size_t s, size_t n, void *u)
{
    (void)d;
    (void)u;
    return s * n;
}

/* Bodies of 1 KiB and more go out gzipped to a client that accepts it,
 * small ones as they are; --compress off turns it off. */
static void test_sim_compresses_big_bodies(void **state)
{
    struct sim_proc s;
    struct buf body = BUF_INIT, hdr = BUF_INIT;
    json_t *v;
    json_error_t jerr;

    (void)state;
    start(&s, SMALL(NULL));
    assert_int_equal(sim_request_key(&s, s.api_key, "GET", "/api/albums", NULL,
                                     &body, "Content-Encoding", &hdr),
                     200);
    assert_string_equal(hdr.buf, "gzip");
    v = json_loadb(body.buf, body.len, 0, &jerr);
    assert_true(json_is_array(v));
    json_decref(v);
    /* the wire carried less than the JSON */
    assert_true(sim_stat_long(&s, "bytes_out") < (long)body.len);
    assert_int_equal(sim_request_key(&s, s.api_key, "GET",
                                     "/api/server/version", NULL, &body,
                                     "Content-Encoding", &hdr),
                     200);
    assert_string_equal(hdr.buf, "");
    assert_int_equal(sim_stop(&s), 0);

    start(&s, SMALL("--compress", "off", NULL));
    assert_int_equal(sim_request_key(&s, s.api_key, "GET", "/api/albums", NULL,
                                     &body, "Content-Encoding", &hdr),
                     200);
    assert_string_equal(hdr.buf, "");
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&body);
    buf_release(&hdr);
}

static void test_sim_keep_alive_reuses_one_connection(void **state)
{
    struct sim_proc s;
    struct buf url = BUF_INIT, key = BUF_INIT;
    struct curl_slist *h = NULL;
    CURL *c = curl_easy_init();
    int i;

    (void)state;
    start(&s, SMALL(NULL));
    buf_addf(&url, "%s/api/users/me", s.url);
    buf_addf(&key, "x-api-key: %s", s.api_key);
    h = curl_slist_append(h, key.buf);
    (void)curl_easy_setopt(c, CURLOPT_URL, url.buf);
    (void)curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    (void)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    for (i = 0; i < 5; i++)
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
    curl_easy_cleanup(c);
    curl_slist_free_all(h);
    /* the stats request itself opens the second connection */
    assert_int_equal(sim_stat_long(&s, "connections"), 2);
    assert_int_equal(sim_stat_endpoint(&s, "GET /users/me"), 5);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&url);
    buf_release(&key);
}

static void test_sim_request_log_has_one_line_per_request(void **state)
{
    char path[] = "/tmp/test_sim_logXXXXXX";
    struct sim_proc s;
    struct buf body = BUF_INIT;
    char line[4096];
    int fd = mkstemp(path), n = 0;
    FILE *f;
    json_t *j = NULL;

    (void)state;
    assert_true(fd >= 0);
    close(fd);
    start(&s, SMALL("--request-log", path, NULL));
    assert_int_equal(
        sim_request(&s, "GET", "/api/albums?shared=true", NULL, &body), 200);
    assert_int_equal(
        sim_request(&s, "POST", "/api/search/metadata", "{\"size\":1}", &body),
        200);
    assert_int_equal(sim_stop(&s), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_decref(j);
        j = json_loads(line, 0, NULL);
        assert_non_null(j);
        n++;
        if (n == 1)
            assert_string_equal(jstr(json_object_get(j, "query"), "shared"),
                                "true");
    }
    (void)fclose(f);
    assert_int_equal(n, 2);
    assert_string_equal(jstr(j, "path"), "/api/search/metadata");
    assert_int_equal(
        json_integer_value(json_object_get(json_object_get(j, "body"), "size")),
        1);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 200);
    assert_non_null(json_object_get(j, "latency_ms"));
    json_decref(j);
    (void)unlink(path);
    buf_release(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_first_line_and_version_per_dialect),
        cmocka_unit_test(test_sim_auth_errors_in_both_dialects),
        cmocka_unit_test(test_sim_validation_names_the_field),
        cmocka_unit_test(test_sim_search_paging_and_default_visibility),
        cmocka_unit_test(test_sim_tags_create_upsert_and_bulk_outcomes),
        cmocka_unit_test(test_sim_albums_differ_between_dialects),
        cmocka_unit_test(test_sim_album_writes_and_bulk_summary),
        cmocka_unit_test(test_sim_generator_is_deterministic),
        cmocka_unit_test(test_sim_library_file_round_trip),
        cmocka_unit_test(test_sim_library_file_unknown_ids_refused),
        cmocka_unit_test(test_sim_reloaded_library_mints_fresh_ids),
        cmocka_unit_test(test_sim_jobs_revert_tags_in_2x_only),
        cmocka_unit_test(test_sim_date_change_waits_for_the_jobs),
        cmocka_unit_test(test_sim_jobs_run_on_the_clock),
        cmocka_unit_test(test_sim_answers_as_immich_gives_them),
        cmocka_unit_test(test_sim_3_0_orders_without_tie_break),
        cmocka_unit_test(test_sim_members_change_behind_the_album),
        cmocka_unit_test(test_sim_deep_pages_cost_more),
        cmocka_unit_test(test_sim_timestamps_carry_microseconds),
        cmocka_unit_test(test_sim_responses_serialise_on_one_thread),
        cmocka_unit_test(test_sim_serialising_gives_the_slot_back),
        cmocka_unit_test(test_sim_seed_preset_sizes_and_expectations),
        cmocka_unit_test(test_sim_coverage_categories),
        cmocka_unit_test(test_sim_capacity_queues_the_extra_request),
        cmocka_unit_test(test_sim_faults_fire_as_configured),
        cmocka_unit_test(test_sim_keep_alive_reuses_one_connection),
        cmocka_unit_test(test_sim_compresses_big_bodies),
        cmocka_unit_test(test_sim_request_log_has_one_line_per_request),
    };
    int rc;

    (void)curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
