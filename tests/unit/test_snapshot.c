/*
 * test_snapshot.c: what the loader decides to fetch from a configuration,
 * the permissions a configuration needs, and fail-closed behaviour
 * against a libmicrohttpd server started by the test on 127.0.0.1 that
 * refuses every request or serves a library whose pages hold fewer assets
 * than its statistics count (the end-to-end tests against immich-sim are
 * tests/e2e/test_e2e_read.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "snapshot/snapshot.h"

#include <pthread.h>

#include "canned_server.h"
#include "config_testlib.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned canned_status = 503;
static const char *canned_body = "{\"message\":\"busy\"}";
static long writes; /* requests other than GET / POST /search */
/* Serve a library whose statistics count one asset more than its pages
 * hold, instead of the canned refusal. */
static bool short_library;

#define ASSET(id)                                                              \
    "{\"id\":\"" id "\",\"ownerId\":\"9a1c4d2e-3b5f-4e6a-8c7d-0f1e2d3c4b5a\"," \
    "\"originalFileName\":\"a.jpg\",\"originalPath\":\"/p/a.jpg\","            \
    "\"fileCreatedAt\":\"2024-01-01T00:00:00.000Z\","                          \
    "\"fileModifiedAt\":\"2024-01-01T00:00:00.000Z\","                         \
    "\"localDateTime\":\"2024-01-01T00:00:00.000Z\","                          \
    "\"createdAt\":\"2024-01-01T00:00:00.000Z\","                              \
    "\"updatedAt\":\"2024-01-01T00:00:00.000Z\",\"isFavorite\":false,"         \
    "\"isTrashed\":false,\"type\":\"IMAGE\",\"visibility\":\"timeline\"}"

static const char *short_body(const char *url)
{
    if (!strcmp(url, "/api/server/version"))
        return "{\"major\":3,\"minor\":2,\"patch\":2}";
    if (!strcmp(url, "/api/users/me"))
        return "{\"id\":\"9a1c4d2e-3b5f-4e6a-8c7d-0f1e2d3c4b5a\","
               "\"email\":\"a@example.com\",\"name\":\"A\"}";
    if (!strcmp(url, "/api/search/statistics"))
        return "{\"total\":3}";
    if (!strcmp(url, "/api/search/metadata"))
        return "{\"assets\":{\"total\":2,\"count\":2,\"nextPage\":null,"
               "\"items\":[" ASSET(
                   "1b2c3d4e-5f60-4a7b-8c9d-0e1f2a3b4c5d") "," ASSET("2b2c3d4e-"
                                                                     "5f60-"
                                                                     "4a7b-"
                                                                     "8c9d-"
                                                                     "0e1f2a3b4"
                                                                     "c5d") "]}"
                                                                            "}";
    return "[]"; /* tags, albums, users */
}

/* Counts writes; answers the canned refusal or the short library. */
static enum MHD_Result handler(const struct canned_req *req, void *ctx)
{
    enum MHD_Result ret;

    (void)ctx;
    pthread_mutex_lock(&lock);
    if (strcmp(req->method, "GET") && strncmp(req->url, "/api/search/", 12))
        writes++;
    if (short_library)
        ret = canned_reply(req->conn, 200, short_body(req->url), NULL, NULL);
    else
        ret = canned_reply(req->conn, canned_status, canned_body, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return ret;
}

static bool has(const struct config_strlist *l, const char *s)
{
    for (size_t i = 0; i < l->nr; i++)
        if (!strcmp(l->items[i], s))
            return true;
    return false;
}

static const char minimal[] =
    "server:\n  host: photos.lan\n  port: 2283\n  api_key: abcd-key\n"
    "enable_album_name_strip: false\nskip: {}\nconversions: {}\n"
    "classification: {}\nalbum_detection_from_folders:\n  enabled: false\n"
    "  excluded_paths: []\n";

static void test_minimal_config_needs_only_output_tags(void **state)
{
    struct config *cfg = cfg_load(minimal);
    struct snapshot_needs n;

    (void)state;
    snapshot_needs_from_config(cfg, &n);
    assert_false(n.album_members);
    assert_false(n.users);
    assert_false(n.exif);
    assert_false(n.duplicates);
    assert_false(n.all_tag_members);
    assert_int_equal(n.tag_names.nr, 2);
    assert_true(has(&n.tag_names, "autotag_output_unknown"));
    assert_true(has(&n.tag_names, "autotag_output_conflict"));
    assert_int_equal(n.tag_prefixes.nr, 0);
    assert_true(snapshot_needs_tag(&n, "autotag_output_unknown",
                                   "autotag_output_unknown"));
    assert_false(snapshot_needs_tag(&n, "Holiday", "Places/Holiday"));
    snapshot_needs_release(&n);
    config_free(cfg);
}

static void test_rules_duplicates_and_permissions_widen_the_needs(void **state)
{
    static const char yaml[] =
        "server:\n  host: photos.lan\n  port: 2283\n  api_key: abcd-key\n"
        "enable_album_name_strip: false\nskip: {}\n"
        "conversions:\n  conversions:\n    - source:\n        tag_names: "
        "[old]\n      destination:\n        tag_names: [new]\n"
        "classification:\n  rules:\n    - tag_names: [Cats, Dogs]\n"
        "    - album_name_patterns: ['^20']\n"
        "duplicate_processing:\n  date_correction:\n    enabled: true\n"
        "    extraction_timezone: Europe/Madrid\n"
        "album_detection_from_folders:\n  enabled: false\n"
        "  excluded_paths: []\n";
    struct config *cfg = cfg_load(yaml);
    struct snapshot_needs n;
    const char *perms[32];
    size_t nr;

    (void)state;
    snapshot_needs_from_config(cfg, &n);
    assert_true(n.album_members);
    assert_true(n.duplicates);
    assert_true(n.exif);
    assert_false(n.users);
    assert_true(has(&n.tag_names, "Cats"));
    assert_true(has(&n.tag_names, "Dogs"));
    assert_true(has(&n.tag_names, "old"));
    assert_true(has(&n.tag_names, "new"));
    assert_true(has(&n.tag_prefixes,
                    "autotag_output_duplicate_asset_classification_conflict_"));
    assert_true(snapshot_needs_tag(
        &n, "autotag_output_duplicate_asset_classification_conflict_abc",
        "autotag_output_duplicate_asset_classification_conflict_abc"));
    /* Matched by leaf name or by full path. */
    assert_true(snapshot_needs_tag(&n, "Cats", "Animals/Cats"));
    assert_true(snapshot_needs_tag(&n, "x", "new"));
    /* Tags written, albums made for duplicates of classified assets (no
     * temporary albums: nothing to remove or delete), dates fixed. */
    nr = snapshot_needed_permissions(cfg, perms, ARRAY_SIZE(perms));
    assert_int_equal(nr, 10);
    assert_string_equal(perms[0], "user.read");
    assert_string_equal(perms[5], "tag.create");
    assert_string_equal(perms[6], "tag.asset");
    assert_string_equal(perms[7], "album.create");
    assert_string_equal(perms[8], "albumAsset.create");
    assert_string_equal(perms[9], "asset.update");
    snapshot_needs_release(&n);
    config_free(cfg);
}

static struct http_engine *engine(void)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct buf err = BUF_INIT;
    struct http_engine *e;

    o.base_url = canned_group_url();
    o.api_key = "abcd-key";
    o.max_retries = 1;
    o.retry_base_ms = 1;
    o.retry_max_ms = 2;
    e = http_engine_new(&o, &err);
    assert_non_null(e);
    buf_release(&err);
    return e;
}

/*
 * Loads the minimal configuration's snapshot from the canned server, which
 * must fail closed: no model, an incomplete read, no write; the message in
 * err and what was read in info.
 */
static void load_fails_closed(struct snapshot_info *info, struct buf *err)
{
    struct config *cfg = cfg_load(minimal);
    struct http_engine *e = engine();
    struct model m;

    model_init(&m);
    assert_int_equal(snapshot_load(cfg, e, NULL, &m, info, err), -1);
    assert_false(info->complete);
    assert_false(m.indexed);
    assert_int_equal(writes, 0);
    model_release(&m);
    http_engine_free(e);
    config_free(cfg);
}

static void test_load_fails_closed_when_the_server_refuses(void **state)
{
    struct snapshot_info info;
    struct buf err = BUF_INIT;

    (void)state;
    canned_status = 503;
    load_fails_closed(&info, &err);
    assert_string_equal(err.buf,
                        "snapshot incomplete: GET /server/version: 503 busy");
    assert_int_equal(info.requests, 1);
    buf_release(&err);
}

/* Pages that hold fewer assets than the statistics count: the load fails
 * rather than plan from a partial library. */
static void test_load_fails_closed_on_fewer_assets_than_counted(void **state)
{
    struct snapshot_info info;
    struct buf err = BUF_INIT;

    (void)state;
    short_library = true;
    writes = 0;
    load_fails_closed(&info, &err);
    short_library = false;
    assert_string_equal(err.buf, "snapshot incomplete: read 2 of the 3 "
                                 "assets the server counts (assets deleted "
                                 "while reading? the next run reads again)");
    buf_release(&err);
}

static void test_check_classifies_auth_and_unreachable_as_server(void **state)
{
    struct config *cfg = cfg_load(minimal);
    struct http_engine *e = engine();
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct buf report = BUF_INIT, err = BUF_INIT;

    (void)state;
    canned_status = 401;
    canned_body = "{\"message\":\"Invalid API key\"}";
    assert_int_equal(snapshot_check(cfg, e, &report, &err),
                     SNAPSHOT_CHECK_SERVER);
    assert_non_null(strstr(err.buf, ": 401 Invalid API key"));
    assert_null(strstr(err.buf, "abcd-key"));
    http_engine_free(e);

    canned_status = 500;
    canned_body = "{\"message\":\"Internal server error\"}";
    e = engine();
    buf_reset(&err);
    assert_int_equal(snapshot_check(cfg, e, &report, &err),
                     SNAPSHOT_CHECK_FAILED);
    http_engine_free(e);

    o.base_url = "http://127.0.0.1:1";
    o.max_retries = 0;
    e = http_engine_new(&o, &err);
    buf_reset(&err);
    assert_int_equal(snapshot_check(cfg, e, &report, &err),
                     SNAPSHOT_CHECK_SERVER);
    assert_non_null(strstr(err.buf, "server: GET "));
    assert_int_equal(writes, 0);
    http_engine_free(e);
    config_free(cfg);
    buf_release(&report);
    buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_minimal_config_needs_only_output_tags),
        cmocka_unit_test(test_rules_duplicates_and_permissions_widen_the_needs),
        cmocka_unit_test(test_load_fails_closed_when_the_server_refuses),
        cmocka_unit_test(test_load_fails_closed_on_fewer_assets_than_counted),
        cmocka_unit_test(test_check_classifies_auth_and_unreachable_as_server),
    };

    return canned_main(tests, handler, NULL, http_global_cleanup);
}
