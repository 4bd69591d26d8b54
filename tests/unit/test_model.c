/*
 * test_model.c: records, name chains and CSR membership indexes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "model/model.h"

static struct uuid mkid(uint64_t *seed)
{
    struct uuid u;

    uuid_v4_from_state(seed, &u);
    return u;
}

static uint32_t add_asset(struct model *m, uint64_t *seed)
{
    struct model_asset a;

    memset(&a, 0, sizeof(a));
    a.id = mkid(seed);
    a.duplicate = MODEL_NONE;
    a.file_created_at = a.file_modified_at = a.local_date_time = TIME_NONE;
    a.created_at = a.updated_at = a.date_time_original = TIME_NONE;
    return model_add_asset(m, &a);
}

/* A new model of n assets, their indexes into a (may be NULL). */
static void model_of_assets(struct model *m, uint64_t *seed, uint32_t *a,
                            size_t n)
{
    model_init(m);
    for (size_t i = 0; i < n; i++) {
        uint32_t x = add_asset(m, seed);

        if (a)
            a[i] = x;
    }
}

static uint32_t add_album(struct model *m, uint64_t *seed, const char *name)
{
    struct model_album al;

    memset(&al, 0, sizeof(al));
    al.id = mkid(seed);
    al.name = model_intern(m, name);
    al.start_date = al.end_date = TIME_NONE;
    return model_add_album(m, &al, NULL, 0);
}

static void test_model_indexes_both_ways_sorted_and_unique(void **state)
{
    struct model m;
    uint64_t seed = 7;
    uint32_t a[5], b0, b1, b2;
    const uint32_t *row;
    size_t nr, i;

    (void)state;
    model_of_assets(&m, &seed, a, 5);
    b0 = add_album(&m, &seed, "2019-07-14 Beach");
    b1 = add_album(&m, &seed, "family");
    b2 = add_album(&m, &seed, "empty");
    model_link_album_asset(&m, b1, a[3]);
    model_link_album_asset(&m, b0, a[3]);
    model_link_album_asset(&m, b0, a[1]);
    model_link_album_asset(&m, b0, a[3]); /* repeat */
    model_build_indexes(&m);

    row = model_asset_albums(&m, a[3], &nr);
    assert_int_equal(nr, 2);
    assert_int_equal(row[0], b0);
    assert_int_equal(row[1], b1);
    row = model_album_assets(&m, b0, &nr);
    assert_int_equal(nr, 2);
    assert_int_equal(row[0], a[1]);
    assert_int_equal(row[1], a[3]);
    (void)model_album_assets(&m, b2, &nr);
    assert_int_equal(nr, 0);
    (void)model_asset_albums(&m, a[0], &nr);
    assert_int_equal(nr, 0);
    for (i = 0; i < 5; i++)
        assert_int_equal(model_find_asset(&m, &m.assets[a[i]].id), a[i]);
    model_release(&m);
}

static void test_model_same_name_albums_chain(void **state)
{
    struct model m;
    uint64_t seed = 9;
    uint32_t x, y, z;

    (void)state;
    model_init(&m);
    x = add_album(&m, &seed, "2020");
    y = add_album(&m, &seed, "2021");
    z = add_album(&m, &seed, "2020");
    assert_int_equal(model_find_album_by_name(&m, "2020"), x);
    assert_int_equal(m.albums[x].next_same_name, z);
    assert_int_equal(m.albums[z].next_same_name, MODEL_NONE);
    assert_int_equal(model_find_album_by_name(&m, "2021"), y);
    assert_int_equal(model_find_album_by_name(&m, "1999"), MODEL_NONE);
    model_release(&m);
}

static void test_model_tag_by_value_resolves_hierarchy(void **state)
{
    struct model m;
    uint64_t seed = 11;
    struct model_tag t;
    uint32_t root, child;

    (void)state;
    model_init(&m);
    memset(&t, 0, sizeof(t));
    t.id = mkid(&seed);
    t.name = model_intern(&m, "meme");
    t.value = model_intern(&m, "meme");
    t.parent = MODEL_NONE;
    root = model_add_tag(&m, &t);
    t.id = mkid(&seed);
    t.value = model_intern(&m, "legacy/meme");
    t.parent = root;
    child = model_add_tag(&m, &t);
    assert_int_equal(model_find_tag_by_value(&m, "meme"), root);
    assert_int_equal(model_find_tag_by_value(&m, "legacy/meme"), child);
    assert_int_equal(model_find_tag_by_value(&m, "other/meme"), MODEL_NONE);
    assert_int_equal(model_find_tag_by_name(&m, "meme"), root);
    assert_int_equal(m.tags[root].next_same_name, child);
    model_release(&m);
}

static void test_model_duplicate_groups_and_best_date(void **state)
{
    struct model m;
    uint64_t seed = 13;
    struct uuid gid = mkid(&seed);
    uint32_t g, a0, a1, a2;
    const uint32_t *row;
    size_t nr;

    (void)state;
    model_init(&m);
    a0 = add_asset(&m, &seed);
    a1 = add_asset(&m, &seed);
    a2 = add_asset(&m, &seed);
    g = model_add_dup(&m, &gid);
    m.assets[a0].duplicate = g;
    m.assets[a2].duplicate = g;
    m.assets[a1].created_at = 5000;
    m.assets[a1].local_date_time = 3000;
    model_build_indexes(&m);
    row = model_dup_assets(&m, g, &nr);
    assert_int_equal(nr, 2);
    assert_int_equal(row[0], a0);
    assert_int_equal(row[1], a2);
    assert_int_equal(model_asset_best_date(&m.assets[a1]), 3000);
    assert_int_equal(model_asset_best_date(&m.assets[a0]), TIME_NONE);
    model_release(&m);
}

/* Albums may list a member before GET /users answers: the later details
 * complete the user, so permission rules can find it by email. */
static void test_model_user_known_by_id_first_gets_details(void **state)
{
    struct model m;
    uint64_t seed = 29;
    struct uuid id = mkid(&seed);
    uint32_t u;

    (void)state;
    model_init(&m);
    u = model_add_user(&m, &id, "", "");
    assert_int_equal(model_add_user(&m, &id, "jane@example.com", "Jane"), u);
    assert_string_equal(model_str(&m, m.users[u].name), "Jane");
    model_build_indexes(&m);
    assert_int_equal(model_find_user_by_email(&m, "jane@example.com"), u);
    model_release(&m);
}

/*
 * Builds a library of 3 assets and 2 albums (asset 1 in both, asset 2 in
 * album 0), adding records in the given order: same seed = same ids.
 */
static void digest_library(struct model *m, bool reverse, bool extra_link,
                           char out[MODEL_DIGEST_LEN + 1])
{
    uint64_t seed = 31;
    struct uuid ids[5];
    uint32_t a[3], al[2];

    for (int i = 0; i < 5; i++)
        ids[i] = mkid(&seed);
    model_init(m);
    for (int k = 0; k < 3; k++) {
        int i = reverse ? 2 - k : k;
        struct model_asset x;

        memset(&x, 0, sizeof(x));
        x.id = ids[i];
        x.duplicate = MODEL_NONE;
        x.file_created_at = 1000 * i;
        x.created_at = x.updated_at = x.local_date_time = TIME_NONE;
        x.file_modified_at = x.date_time_original = TIME_NONE;
        a[i] = model_add_asset(m, &x);
    }
    for (int k = 0; k < 2; k++) {
        int i = reverse ? 1 - k : k;
        struct model_album y;

        memset(&y, 0, sizeof(y));
        y.id = ids[3 + i];
        y.name = model_intern(m, i ? "2024-01 Trip" : "Family");
        y.start_date = y.end_date = TIME_NONE;
        al[i] = model_add_album(m, &y, NULL, 0);
    }
    model_link_album_asset(m, al[1], a[1]);
    model_link_album_asset(m, al[0], a[1]);
    model_link_album_asset(m, al[0], a[2]);
    if (extra_link)
        model_link_album_asset(m, al[1], a[0]);
    model_build_indexes(m);
    model_digest(m, out);
}

/* The digest says whether the library changed, not how it was read. */
static void test_model_digest_ignores_order_sees_changes(void **state)
{
    struct model m1, m2, m3;
    char d1[MODEL_DIGEST_LEN + 1], d2[MODEL_DIGEST_LEN + 1],
        d3[MODEL_DIGEST_LEN + 1];

    (void)state;
    digest_library(&m1, false, false, d1);
    digest_library(&m2, true, false, d2);
    digest_library(&m3, false, true, d3);
    assert_int_equal(strlen(d1), MODEL_DIGEST_LEN);
    assert_string_equal(d1, d2);
    assert_string_not_equal(d1, d3);
    model_release(&m1);
    model_release(&m2);
    model_release(&m3);
}

/* Groups whose members interleave in asset order (a0 b0 a1 b1) keep
 * their own members: the rows are built per group, not in asset order. */
static void test_model_interleaved_duplicate_groups(void **state)
{
    struct model m;
    uint64_t seed = 23;
    struct uuid ga = mkid(&seed), gb = mkid(&seed);
    uint32_t g[2], a[4];
    const uint32_t *row;
    size_t nr;

    (void)state;
    model_of_assets(&m, &seed, a, 4);
    g[0] = model_add_dup(&m, &ga);
    g[1] = model_add_dup(&m, &gb);
    /* Group b is listed first in the assets, group a second. */
    m.assets[a[0]].duplicate = g[1];
    m.assets[a[1]].duplicate = g[0];
    m.assets[a[2]].duplicate = g[1];
    m.assets[a[3]].duplicate = g[0];
    model_build_indexes(&m);
    row = model_dup_assets(&m, g[0], &nr);
    assert_int_equal(nr, 2);
    assert_int_equal(row[0], a[1]);
    assert_int_equal(row[1], a[3]);
    row = model_dup_assets(&m, g[1], &nr);
    assert_int_equal(nr, 2);
    assert_int_equal(row[0], a[0]);
    assert_int_equal(row[1], a[2]);
    model_release(&m);
}

static void test_model_large_random_links_match_brute_force(void **state)
{
    struct model m;
    uint64_t seed = 17;
    enum { NA = 3000, NB = 200, NL = 20000 };
    static unsigned char truth[NB][NA];
    size_t i, nr;

    (void)state;
    memset(truth, 0, sizeof(truth));
    model_of_assets(&m, &seed, NULL, NA);
    for (i = 0; i < NB; i++) {
        char name[32];

        snprintf(name, sizeof(name), "album %zu", i);
        add_album(&m, &seed, name);
    }
    for (i = 0; i < NL; i++) {
        uint32_t b = (uint32_t)(splitmix64(&seed) % NB);
        uint32_t a = (uint32_t)(splitmix64(&seed) % NA);

        model_link_album_asset(&m, b, a);
        truth[b][a] = 1;
    }
    model_build_indexes(&m);
    for (i = 0; i < NA; i++) {
        const uint32_t *row = model_asset_albums(&m, (uint32_t)i, &nr);
        size_t j, expect = 0, k;

        for (j = 0; j < NB; j++)
            expect += truth[j][i];
        assert_int_equal(nr, expect);
        for (k = 0; k < nr; k++) {
            assert_true(truth[row[k]][i]);
            if (k)
                assert_true(row[k - 1] < row[k]);
        }
    }
    assert_true(model_memory_bytes(&m) > 0);
    model_release(&m);
}

/*
 * An asset record's bytes, field by field: id 16, owner/file_name/path/
 * duplicate 4 x 4, six int64 dates 48, visibility/flags/search_pass 3
 * (+1 padding), search_index 4.  A field more is a decision: raise it
 * here, with the million-asset cost (1 MB per byte) in mind.
 */
_Static_assert(sizeof(struct model_asset) <= 88,
               "struct model_asset grew past 88 bytes");

#define MEM_ASSETS 50000

/*
 * What a million-asset model costs besides its records (issue #13): the
 * UUID index holds 4-byte record numbers (at most half full: at most 16
 * bytes an asset, where a 20-byte uuidmap slot cost 40-80), file names and
 * paths take no hash slot and a name that ends its path is not stored
 * twice.  Lookups still find every asset, and every string reads back.
 */
static void test_model_asset_bytes_within_budget(void **state)
{
    struct model m;
    uint64_t seed = 7, seed2 = 7;
    size_t path_bytes = 0;
    char name[32], path[96];

    (void)state;
    model_init(&m);
    for (size_t i = 0; i < MEM_ASSETS; i++) {
        struct model_asset a;

        memset(&a, 0, sizeof(a));
        a.id = mkid(&seed);
        a.duplicate = MODEL_NONE;
        snprintf(name, sizeof(name), "IMG_%06zu.JPG", i);
        /* every tenth name is not its path's tail (an upload library) */
        snprintf(path, sizeof(path), "/photos/library/Admin/2024/%s%s",
                 i % 10 ? "" : "u/", i % 10 ? name : "0a1b2c3d.jpg");
        path_bytes += strlen(path) + 1 + (i % 10 ? 0 : strlen(name) + 1);
        model_asset_strings(&m, &a, name, strlen(name), path, strlen(path));
        assert_int_equal(model_add_asset(&m, &a), i);
    }
    model_build_indexes(&m);
    assert_true(m.asset_by_id.slots_nr * sizeof(*m.asset_by_id.slots) <=
                (size_t)16 * MEM_ASSETS);
    assert_true(m.strings.len <= path_bytes + 1);
    assert_true(m.strings.slots_nr <= 1024);
    for (size_t i = 0; i < MEM_ASSETS; i++) {
        struct uuid id = mkid(&seed2);
        uint32_t k = model_find_asset(&m, &id);

        assert_int_equal(k, i);
        snprintf(name, sizeof(name), "IMG_%06zu.JPG", i);
        snprintf(path, sizeof(path), "/photos/library/Admin/2024/%s%s",
                 i % 10 ? "" : "u/", i % 10 ? name : "0a1b2c3d.jpg");
        assert_string_equal(model_str(&m, m.assets[k].file_name), name);
        assert_string_equal(model_str(&m, m.assets[k].path), path);
    }
    {
        struct uuid other = mkid(&seed2);

        assert_int_equal(model_find_asset(&m, &other), MODEL_NONE);
    }
    model_release(&m);
}

/* A name that is the path's tail only in part, or empty, or cut at a
 * NUL, reads back as given (C strings: up to the NUL). */
static void test_model_asset_strings_edge_cases(void **state)
{
    struct model m;
    struct model_asset a;

    (void)state;
    model_init(&m);
    memset(&a, 0, sizeof(a));
    model_asset_strings(&m, &a, "G.JPG", 5, "/x/IMG.JPG", 10);
    assert_string_equal(model_str(&m, a.file_name), "G.JPG");
    assert_string_equal(model_str(&m, a.path), "/x/IMG.JPG");
    model_asset_strings(&m, &a, "IMG.JPG", 7, "IMG.JPG", 7);
    assert_string_equal(model_str(&m, a.file_name), "IMG.JPG");
    assert_string_equal(model_str(&m, a.path), "IMG.JPG");
    model_asset_strings(&m, &a, "", 0, "/x/", 3);
    assert_string_equal(model_str(&m, a.file_name), "");
    model_asset_strings(&m, &a, "a\0b", 3, "/x/a\0b", 6);
    assert_string_equal(model_str(&m, a.file_name), "a");
    assert_string_equal(model_str(&m, a.path), "/x/a");
    model_release(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_model_indexes_both_ways_sorted_and_unique),
        cmocka_unit_test(test_model_same_name_albums_chain),
        cmocka_unit_test(test_model_tag_by_value_resolves_hierarchy),
        cmocka_unit_test(test_model_duplicate_groups_and_best_date),
        cmocka_unit_test(test_model_interleaved_duplicate_groups),
        cmocka_unit_test(test_model_user_known_by_id_first_gets_details),
        cmocka_unit_test(test_model_digest_ignores_order_sees_changes),
        cmocka_unit_test(test_model_large_random_links_match_brute_force),
        cmocka_unit_test(test_model_asset_bytes_within_budget),
        cmocka_unit_test(test_model_asset_strings_edge_cases),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
