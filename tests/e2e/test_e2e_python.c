/*
 * test_e2e_python.c: a library planted with the cases where a file means
 * something else to the Python tool than to a naive port (issue #17), run
 * against immich-sim in both dialects; the end state is what
 * docs/migrating.md promises:
 *
 *   - an album named " 2031-02-03 Trip" (leading space) does not start
 *     with a date: its asset stays unclassified and gets no date-mismatch
 *     tag (upstream never trims album names);
 *   - an archived unclassified asset is tagged unknown, an archived
 *     classified asset loses its stale unknown tag (on 2.x too);
 *   - the permission keyword "été" shares "Été à Paris 2012";
 *   - each Python-only regex construct classifies the album it matches in
 *     Python and leaves alone the one it does not: {,4}, \Z, [[:digit:]],
 *     \uXXXX, \N{NAME}, (?a), (?u), (?P<name>) with (?P=name).
 *
 * Which albums match was checked with python3's re.match when the table
 * below was written; tests/pyre/pyre_diff.py checks the constructs
 * themselves.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/common.h"
#include "core/fsutil.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define UNKNOWN  "autotag_output_unknown"
#define MISMATCH "autotag_output_album_date_mismatch"

static const char config_text[] =
    "enable_album_name_strip: true\n" /* the template's value: no effect */
    "skip: {}\n"
    "conversions: {}\n"
    "create_album_from_date_if_missing: false\n"
    "classification:\n"
    "  rules:\n"
    "  - tag_names: [meme]\n"
    "  - album_name_patterns: ['^\\d{4}-(\\d{2}(-\\d{2})?)?']\n"
    "  - album_name_patterns: ['x{,4}y']\n"
    "  - album_name_patterns: ['^Z2024\\Z']\n"
    "  - album_name_patterns: ['^[[:digit:]]']\n"
    "  - album_name_patterns: ['^\\u00c9t\\u00e9']\n"
    "  - album_name_patterns: ['^\\N{GREEK SMALL LETTER ALPHA}lbum']\n"
    "  - album_name_patterns: ['(?a)^\\d+ days']\n"
    "  - album_name_patterns: ['(?u)^\\w+ forest']\n"
    "  - album_name_patterns: ['^(?P<w>\\w+)-(?P=w)$']\n"
    "album_detection_from_folders: {enabled: false, excluded_paths: []}\n"
    "album_date_consistency: {enabled: true, threshold_days: 180}\n"
    "album_permissions:\n"
    "  enabled: true\n"
    "  user_groups: [{name: family, members: [grandpa@example.com]}]\n"
    "  selection_rules:\n"
    "  - {name: summer, keyword: \"\xc3\xa9t\xc3\xa9\", groups: [family], "
    "access: view}\n";

/* One planted asset: its album (NULL: none), visibility, tags, and what
 * the run must leave: tagged unknown or not. */
static const struct planted {
    const char *album;
    const char *visibility;
    const char *tags[2];
    bool unknown;
} planted[] = {
    {" 2031-02-03 Trip", "timeline", {NULL}, true}, /* never trimmed */
    {NULL, "archive", {NULL}, true},                /* archived */
    {NULL, "archive", {"meme", UNKNOWN}, false},    /* stale unknown */
    {"xxy", "timeline", {NULL}, false},             /* {,4} */
    {"x{,4}y", "timeline", {NULL}, true},
    {"Z2024\n", "timeline", {NULL}, true}, /* \Z: no \n */
    {"d]", "timeline", {NULL}, false},     /* [[:digit:]]: [[:dgit] + ] */
    {"77", "timeline", {NULL}, true},
    {"\xc3\x89t\xc3\xa9 \xc3\xa0 Paris 2012", "timeline", {NULL}, false},
    {"\xce\xb1lbum", "timeline", {NULL}, false}, /* \N{} */
    {"\xd9\xa3 days", "timeline", {NULL}, true}, /* (?a): ASCII \d */
    {"3 days", "timeline", {NULL}, false},
    {"\xc3\x89"
     "b\xc3\xa8ne forest",
     "timeline",
     {NULL},
     false},                                /* (?u) */
    {"dup-dup", "timeline", {NULL}, false}, /* (?P=) */
    {"dup-dip", "timeline", {NULL}, true},
};

static char *id_of(char kind, size_t i)
{
    char *s = xmalloc(37);

    snprintf(s, 37, "00000000-0000-4000-8000-%c%011zu", kind, i);
    return s;
}

static void fail_unless_written(const char *path, const char *text)
{
    struct buf err = BUF_INIT;

    if (fs_write_atomic(path, text, strlen(text), &err) < 0)
        fail_msg("%s", err.buf);
    buf_release(&err);
}

/* The small preset's users, with only the planted tags, albums, assets. */
static void write_library(const struct sim_proc *sim, const char *path)
{
    json_t *st = es_state(sim), *lib, *tags, *albums, *assets;
    const char *admin = NULL;
    json_t *u;
    char *text;
    size_t i, k;

    json_array_foreach(json_object_get(st, "users"), i,
                       u) if (json_is_true(json_object_get(u, "isAdmin")))
        admin = json_string_value(json_object_get(u, "id"));
    assert_non_null(admin);
    tags = json_array();
    albums = json_array();
    assets = json_array();
    for (i = 0; i < 2; i++) {
        char *tid = id_of('7', i);

        json_array_append_new(
            tags,
            json_pack("{s:s,s:s,s:s,s:n,s:n,s:s,s:s}", "id", tid, "ownerId",
                      admin, "value", i ? UNKNOWN : "meme", "parentId", "color",
                      "createdAt", "2022-01-01T00:00:00.000Z", "updatedAt",
                      "2022-01-01T00:00:00.000Z"));
        free(tid);
    }
    for (i = 0; i < ARRAY_SIZE(planted); i++) {
        const struct planted *p = &planted[i];
        char *aid = id_of('1', i), file[32];
        json_t *tag_ids = json_array();

        for (k = 0; k < 2 && p->tags[k]; k++) {
            char *tid = id_of('7', strcmp(p->tags[k], "meme") ? 1 : 0);

            json_array_append_new(tag_ids, json_string(tid));
            free(tid);
        }
        snprintf(file, sizeof(file), "IMG_%04zu.jpg", i);
        json_array_append_new(
            assets,
            json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:s,"
                      "s:b,s:n,s:o,s:n}",
                      "id", aid, "ownerId", admin, "type", "IMAGE",
                      "originalPath", "/photos/planted/x.jpg",
                      "originalFileName", file, "fileCreatedAt",
                      "2020-05-05T10:00:00.000Z", "fileModifiedAt",
                      "2020-05-05T10:00:00.000Z", "localDateTime",
                      "2020-05-05T10:00:00.000Z", "createdAt",
                      "2020-05-06T10:00:00.000Z", "updatedAt",
                      "2020-05-06T10:00:00.000Z", "deletedAt", "visibility",
                      p->visibility, "isFavorite", 0, "duplicateId", "tagIds",
                      tag_ids, "exifInfo"));
        if (p->album) {
            char *alid = id_of('5', i);

            json_array_append_new(
                albums,
                json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:n,s:[],s:[s]}", "id",
                          alid, "ownerId", admin, "albumName", p->album,
                          "description", "", "createdAt",
                          "2020-05-06T10:00:00.000Z", "updatedAt",
                          "2020-05-06T10:00:00.000Z", "albumThumbnailAssetId",
                          "albumUsers", "assetIds", aid));
            free(alid);
        }
        free(aid);
    }
    lib =
        json_pack("{s:s,s:O,s:o,s:o,s:o,s:{}}", "format",
                  "immich-sim-library/1", "users", json_object_get(st, "users"),
                  "tags", tags, "albums", albums, "assets", assets, "expected");
    text = json_dumps(lib, JSON_COMPACT);
    fail_unless_written(path, text);
    free(text);
    json_decref(lib);
    json_decref(st);
}

static void run_planted(const char *dialect)
{
    struct sim_proc sim;
    struct buf lib = BUF_INIT, logs = BUF_INIT;
    struct e2e_run r;
    json_t *st, *al, *au;
    size_t i;
    bool shared = false;

    buf_addf(&lib, "library-%s.json", dialect);
    buf_addf(&logs, "logs-%s", dialect);
    e2e_boot(&sim, NULL);
    write_library(&sim, e2e_path(lib.buf));
    e2e_halt(&sim);
    fail_unless_written(e2e_path("config.yaml"), config_text);
    e2e_boot(&sim,
             E2E_ARGV("--dialect", dialect, "--library", e2e_path(lib.buf)));
    if (e2e_tool(&sim,
                 E2E_ARGV("run", "-c", e2e_path("config.yaml"), "--log-dir",
                          e2e_path(logs.buf)),
                 &r) != 0)
        fail_msg("dialect %s: exit %d: %s", dialect, r.code, r.err.buf);
    e2e_run_release(&r);
    st = es_state(&sim);
    for (i = 0; i < ARRAY_SIZE(planted); i++) {
        char *aid = id_of('1', i);
        json_t *a = es_find(st, "assets", "id", aid);

        assert_non_null(a);
        if (es_has_tag(st, a, UNKNOWN) != planted[i].unknown)
            fail_msg("dialect %s: asset %zu (album '%s'): expected %s", dialect,
                     i, planted[i].album ? planted[i].album : "-",
                     planted[i].unknown ? "unknown" : "not unknown");
        assert_false(es_has_tag(st, a, MISMATCH));
        free(aid);
    }
    /* "été" shares "Été à Paris 2012" with grandpa */
    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        size_t k;

        if (strcmp(json_string_value(json_object_get(al, "albumName")),
                   planted[8].album))
            continue;
        json_array_foreach(json_object_get(al, "albumUsers"), k, au) shared |=
            !strcmp(json_string_value(json_object_get(au, "role")), "viewer");
    }
    assert_true(shared);
    json_decref(st);
    e2e_halt(&sim);
    buf_release(&lib);
    buf_release(&logs);
}

static void test_planted_library_3(void **state)
{
    (void)state;
    run_planted("3");
}

static void test_planted_library_2(void **state)
{
    (void)state;
    run_planted("2");
}

static int setup(void **state)
{
    (void)state;
    return e2e_setup("e2e-python", IA_BIN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted_library_3),
        cmocka_unit_test(test_planted_library_2),
    };

    return cmocka_run_group_tests(tests, setup, NULL);
}
