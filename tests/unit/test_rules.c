/*
 * test_rules.c: each feature of the rules engine on hand-built libraries,
 * table-driven where the cases are data.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <time.h>

#include "rules_testlib.h"

#define UNKNOWN  "autotag_output_unknown"
#define CONFLICT "autotag_output_conflict"
#define T0       "2024-07-15T10:00:00Z"

/* The base configuration without conversions or folder albums, with the
 * classification rules. */
#define CFG_PLAIN CFG_BASE "conversions: {}\n" CFG_CLASS CFG_NOFOLDERS

/* The plan has group (op, name), made for reason. */
static void assert_reason(const struct plan *p, enum plan_op op,
                          const char *name, enum plan_reason reason)
{
    const struct plan_group *g = plan_find(p, op, name);

    assert_non_null(g);
    assert_int_equal(g->reason, reason);
}

static const char *const cfg_class_text = CFG_PLAIN;

/* ---- classification ---- */

static void test_rules_classification_status_table(void **state)
{
    static const struct {
        const char *tags[3];
        const char *albums[3];
        int expect; /* 0 unknown, 1 classified, 2 conflict */
    } cases[] = {
        {{NULL}, {NULL}, 0},                         /* nothing */
        {{"meme"}, {NULL}, 1},                       /* tag */
        {{"meme", "autotag_input_meme"}, {NULL}, 1}, /* 2 tags 1 rule */
        {{"Meme"}, {NULL}, 0},                       /* tags case-sensitive */
        {{"people/meme"}, {NULL}, 1},                /* hierarchical: leaf */
        {{"meme/other"}, {NULL}, 0},                 /* parent name only */
        {{NULL}, {"2024-07-15 Beach"}, 1},           /* date album */
        {{NULL}, {"2024-"}, 1},                      /* YT regex: YYYY- */
        {{NULL}, {"2024 Summer"}, 0},                /* needs YYYY- */
        {{NULL}, {"Summer 2024-07"}, 0},             /* start-anchored */
        {{NULL}, {"\xd9\xa2\xd9\xa0\xd9\xa2\xd9\xa4-07"}, 1}, /* \d UCP */
        {{NULL}, {"2024-07 A", "2023-01 B"}, 2}, /* 1 rule 2 albums */
        {{"meme"}, {"2024-07 A"}, 2},            /* 2 rules */
        {{NULL}, {"autotag_input_meme", "Été"}, 1},
        {{NULL}, {"autotag_input_meme "}, 0}, /* never trimmed */
        {{NULL}, {" 2024-07-15 Beach"}, 0},   /* never trimmed */
        {{NULL}, {"Été 2023", "Vacances"}, 0},
    };
    struct rt t;
    size_t i, j;

    (void)state;
    t.cfg = cfg_load(cfg_class_text);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t a;

        lib_init(&t.l, i + 1);
        a = lib_asset(&t.l, "a.jpg", "/lib/a.jpg", iso(T0));
        for (j = 0; j < 3 && cases[i].tags[j]; j++)
            lib_tagged(&t.l, cases[i].tags[j], a);
        for (j = 0; j < 3 && cases[i].albums[j]; j++)
            lib_in(&t.l, lib_album(&t.l, cases[i].albums[j]), a);
        rt_eval(&t);
        assert_int_equal(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, a),
                         cases[i].expect == 0);
        assert_int_equal(rt_has(&t, PLAN_TAG_ADD, CONFLICT, a),
                         cases[i].expect == 2);
        assert_int_equal(t.p.stats.classified, cases[i].expect == 1);
        assert_int_equal(plan_notes_of(&t.p, PLAN_NOTE_CLASSIFICATION_CONFLICT),
                         cases[i].expect == 2);
        assert_int_equal(t.p.stats.assets_seen, 1);
        rt_clear(&t);
    }
    config_free(t.cfg);
}

static void test_rules_output_tags_removed_and_case_insensitive(void **state)
{
    struct rt t;
    uint32_t classified, unknown_ci, stale_conflict;

    (void)state;
    rt_open(&t, cfg_class_text, 7);
    classified = lib_asset(&t.l, "a.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "meme", classified);
    lib_tagged(&t.l, UNKNOWN, classified);
    unknown_ci = lib_asset(&t.l, "b.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "AUTOTAG_OUTPUT_UNKNOWN", unknown_ci);
    stale_conflict = lib_asset(&t.l, "c.jpg", NULL, iso(T0));
    lib_tagged(&t.l, CONFLICT, stale_conflict);
    lib_tagged(&t.l, "autotag_input_meme", stale_conflict);
    rt_eval(&t);
    assert_true(rt_has(&t, PLAN_TAG_REMOVE, UNKNOWN, classified));
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, unknown_ci));
    assert_true(rt_has(&t, PLAN_TAG_REMOVE, CONFLICT, stale_conflict));
    assert_int_equal(plan_changes(&t.p), 2);
    assert_int_equal(t.p.stats.per_rule[0], 2);
    rt_close(&t);
}

static void test_rules_which_assets_are_processed(void **state)
{
    struct rt t;
    uint32_t tl, ar, tr, pa, hi, other;

    (void)state;
    rt_open(&t, cfg_class_text, 8);
    other = lib_user(&t.l, "partner@example.com");
    tl = lib_asset(&t.l, "tl.jpg", NULL, iso(T0));
    ar = lib_asset(&t.l, "ar.jpg", NULL, iso(T0));
    t.l.m.assets[ar].visibility = MODEL_VIS_ARCHIVE;
    tr = lib_asset(&t.l, "tr.jpg", NULL, iso(T0));
    t.l.m.assets[tr].flags |= MODEL_ASSET_TRASHED;
    pa = lib_asset(&t.l, "pa.jpg", NULL, iso(T0));
    t.l.m.assets[pa].flags |= MODEL_ASSET_PARTNER;
    t.l.m.assets[pa].owner = other;
    hi = lib_asset(&t.l, "hi.jpg", NULL, iso(T0));
    t.l.m.assets[hi].visibility = MODEL_VIS_HIDDEN;
    rt_eval(&t);
    assert_true(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, tl));
    assert_true(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, ar));
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, tr));
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, pa));
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, hi));
    assert_int_equal(t.p.stats.assets_seen, 2);
    rt_close(&t);
}

static void test_rules_empty_library_gives_empty_plan(void **state)
{
    struct rt t;

    (void)state;
    rt_open(&t, cfg_class_text, 9);
    rt_eval(&t);
    assert_true(plan_is_empty(&t.p));
    assert_int_equal(t.p.notes_nr, 0);
    assert_int_equal(t.p.stats.assets_seen, 0);
    rt_close(&t);
}

static void test_rules_skip_and_max_items_window(void **state)
{
    static const struct {
        long skip, max;
        unsigned first, count;
    } cases[] = {
        {0, -1, 0, 10}, {3, -1, 3, 7},  {3, 4, 3, 4},
        {0, 0, 0, 0},   {20, -1, 0, 0}, {9, 5, 9, 1},
    };
    struct config *cfg = cfg_load(cfg_class_text);
    size_t i, k;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct lib l;
        struct plan p;
        struct rules_opts o = RULES_OPTS_INIT;
        struct buf err = BUF_INIT;
        uint32_t a[10];

        lib_init(&l, 10);
        for (k = 0; k < 10; k++)
            a[k] = lib_asset(&l, "x.jpg", NULL, iso(T0));
        /* a trashed asset between them does not count */
        l.m.assets[lib_asset(&l, "t.jpg", NULL, iso(T0))].flags |=
            MODEL_ASSET_TRASHED;
        model_build_indexes(&l.m);
        o.skip_n = cases[i].skip;
        o.max_items = cases[i].max;
        plan_init(&p);
        assert_int_equal(rules_evaluate(cfg, &l.m, &o, &p, &err), 0);
        assert_int_equal(p.stats.assets_seen, cases[i].count);
        assert_int_equal(p.stats.assets_skipped, 10 - cases[i].count);
        for (k = 0; k < 10; k++)
            assert_int_equal(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, a[k]),
                             k >= cases[i].first &&
                                 k < cases[i].first + cases[i].count);
        plan_release(&p);
        model_release(&l.m);
    }
    config_free(cfg);
}

/* filter_out leaves the assets with its tags out, filter_in keeps only
 * those with its tags, and asset_links focus the run on the linked assets
 * whatever the window: seen in assets_seen and the unknown tag. */
static void test_rules_filters_in_out_and_links(void **state)
{
    struct lib l;
    struct plan p;
    struct config *cfg;
    struct buf text = BUF_INIT;
    char id[UUID_STR_LEN + 1];
    uint32_t a, b, c;

    (void)state;
    lib_init(&l, 11);
    a = lib_asset(&l, "a.jpg", NULL, iso(T0));
    b = lib_asset(&l, "b.jpg", NULL, iso(T0));
    lib_tagged(&l, "private", b);
    c = lib_asset(&l, "c.jpg", NULL, iso(T0));
    lib_tagged(&l, "keep", c);
    lib_tagged(&l, "private", c);
    model_build_indexes(&l.m);

    cfg = cfg_load(CFG_PLAIN
                   "filters:\n  filter_out: [{tag_names: [private]}]\n");
    eval_plan(cfg, &l.m, &p);
    assert_true(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, a));
    assert_false(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, b));
    assert_false(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, c));
    plan_release(&p);
    config_free(cfg);

    cfg = cfg_load(CFG_PLAIN "filters:\n  filter_in: [{tag_names: [keep]}]\n");
    eval_plan(cfg, &l.m, &p);
    assert_int_equal(p.stats.assets_seen, 1);
    assert_true(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, c));
    plan_release(&p);
    config_free(cfg);

    /* focused mode: links only, the window does not apply */
    uuid_format(&l.m.assets[b].id, id);
    buf_addf(&text,
             CFG_PLAIN "filters:\n  filter_in:\n    - asset_links: "
                       "['http://photos.lan:2283/photos/%s']\n",
             id);
    cfg = cfg_load(text.buf);
    eval_plan(cfg, &l.m, &p);
    assert_int_equal(p.stats.assets_seen, 1);
    assert_true(plan_has(&p, PLAN_TAG_ADD, UNKNOWN, &l.m, b));
    plan_release(&p);
    config_free(cfg);
    buf_release(&text);
    model_release(&l.m);
}

/* ---- conversions ---- */

/* Conversions: a move adds the album and removes the matched source tags
 * (the asset stays classified), a copy keeps them, a chained conversion
 * sees the earlier one's result, and a move to an album that does not
 * exist keeps the tag, with one note for the run. */
static void test_rules_conversions_move_copy_and_missing_album(void **state)
{
    struct rt t;
    uint32_t m1, m2, o, g1, g2, meme_album;

    (void)state;
    rt_open(&t,
            CFG_BASE CFG_CONV_MEME_MOVE
            "    - source: {tag_names: [old]}\n"
            "      destination: {tag_names: [new]}\n"
            "      mode: copy\n"
            "    - source: {tag_names: [new]}\n"
            "      destination: {tag_names: [newer]}\n"
            "    - source: {tag_names: [gone]}\n"
            "      destination: {album_names: [No such album]}\n" CFG_CLASS
                CFG_NOFOLDERS,
            12);
    meme_album = lib_album(&t.l, "autotag_input_meme");
    m1 = lib_asset(&t.l, "m1.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "meme", m1);
    lib_tagged(&t.l, "holiday", m1);
    m2 = lib_asset(&t.l, "m2.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "autotag_input_meme", m2);
    lib_in(&t.l, meme_album, m2);
    o = lib_asset(&t.l, "o.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "old", o);
    g1 = lib_asset(&t.l, "g1.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "gone", g1);
    g2 = lib_asset(&t.l, "g2.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "gone", g2);
    rt_eval(&t);
    if (getenv("RULES_DEBUG")) {
        struct buf out = BUF_INIT;

        plan_print_summary(&t.p, &out, 3);
        fputs(out.buf, stderr);
        buf_release(&out);
    }
    /* move: album added, matched source tag removed, other tags kept */
    assert_true(rt_has(&t, PLAN_ALBUM_ADD, "autotag_input_meme", m1));
    assert_true(rt_has(&t, PLAN_TAG_REMOVE, "meme", m1));
    assert_false(rt_has(&t, PLAN_TAG_REMOVE, "holiday", m1));
    assert_true(rt_has(&t, PLAN_TAG_REMOVE, "autotag_input_meme", m2));
    /* the asset stays classified through the album: no unknown tag */
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, m1));
    /* copy keeps the source; the chained conversion sees "new" and moves
     * it on (default mode move): added then removed = no change */
    assert_false(rt_has(&t, PLAN_TAG_ADD, "new", o));
    assert_true(rt_has(&t, PLAN_TAG_ADD, "newer", o));
    assert_false(rt_has(&t, PLAN_TAG_REMOVE, "old", o));
    /* missing destination album: tag kept, one note for the run */
    assert_false(rt_has(&t, PLAN_TAG_REMOVE, "gone", g1));
    assert_false(rt_has(&t, PLAN_TAG_REMOVE, "gone", g2));
    assert_int_equal(plan_notes_of(&t.p, PLAN_NOTE_MISSING_DEST_ALBUM), 1);
    rt_close(&t);
}

/* ---- temporary albums ---- */

/* Temporary albums for unclassified assets: created per date, an existing
 * one reused, a classified member taken out, an unhealthy one deleted with
 * its members moved, an empty one deleted. */
static void test_rules_temp_albums_created_reused_left_deleted(void **state)
{
    struct rt t;
    uint32_t u1, u2, reuse, cls, unhealthy_al, e, f1, f2, existing, empty_al;

    (void)state;
    rt_open(&t, CFG_PLAIN "create_album_from_date_if_missing: true\n", 13);
    u1 = lib_asset(&t.l, "u1.jpg", NULL, iso("2024-07-15T10:00:00Z"));
    u2 = lib_asset(&t.l, "u2.jpg", NULL, iso("2024-07-15T23:00:00Z"));
    existing = lib_album(&t.l, "2023-01-02-autotag-temp-unclassified");
    reuse = lib_asset(&t.l, "r.jpg", NULL, iso("2023-01-02T08:00:00Z"));
    /* classified by tag, in a real album and a temp album: leaves temp */
    cls = lib_asset(&t.l, "c.jpg", NULL, iso("2023-01-02T08:00:00Z"));
    lib_tagged(&t.l, "meme", cls);
    lib_in(&t.l, existing, cls);
    lib_in(&t.l, lib_album(&t.l, "Favourites"), cls);
    /* an unhealthy temp album (60 days) is deleted, members re-sorted */
    unhealthy_al = lib_album(&t.l, "2022-03-01-autotag-temp-unclassified");
    f1 = lib_asset(&t.l, "f1.jpg", NULL, iso("2022-03-01T08:00:00Z"));
    f2 = lib_asset(&t.l, "f2.jpg", NULL, iso("2022-04-30T08:00:00Z"));
    lib_in(&t.l, unhealthy_al, f1);
    lib_in(&t.l, unhealthy_al, f2);
    /* an empty temp album is deleted */
    empty_al = lib_album(&t.l, "2021-05-05-autotag-temp-unclassified");
    e = lib_asset(&t.l, "e.jpg", NULL, iso("2020-01-01T00:00:00Z"));
    lib_tagged(&t.l, "meme", e);
    (void)empty_al;
    rt_eval(&t);

    assert_reason(&t.p, PLAN_ALBUM_CREATE,
                  "2024-07-15-autotag-temp-unclassified",
                  PLAN_R_ALBUM_FROM_DATE);
    assert_true(
        rt_has(&t, PLAN_ALBUM_ADD, "2024-07-15-autotag-temp-unclassified", u1));
    assert_true(
        rt_has(&t, PLAN_ALBUM_ADD, "2024-07-15-autotag-temp-unclassified", u2));
    /* the temp album classifies them (date rule) in the same run */
    assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, u1));
    /* the summary tells both: u1 u2 reuse, and f1 f2 once their
     * unhealthy temp album is gone, were found unclassified; none remains */
    assert_int_equal(t.p.stats.unclassified_found, 5);
    assert_int_equal(t.p.stats.unclassified, 0);
    /* existing temp album reused, not created */
    assert_null(plan_find(&t.p, PLAN_ALBUM_CREATE,
                          "2023-01-02-autotag-temp-unclassified"));
    assert_true(rt_has(&t, PLAN_ALBUM_ADD,
                       "2023-01-02-autotag-temp-unclassified", reuse));
    assert_true(rt_has(&t, PLAN_ALBUM_REMOVE,
                       "2023-01-02-autotag-temp-unclassified", cls));
    /* unhealthy: deleted; members go to their own date albums */
    assert_reason(&t.p, PLAN_ALBUM_DELETE,
                  "2022-03-01-autotag-temp-unclassified",
                  PLAN_R_TEMP_ALBUM_UNHEALTHY);
    assert_non_null(plan_find(&t.p, PLAN_ALBUM_CREATE,
                              "2022-03-01-autotag-temp-unclassified"));
    assert_true(
        rt_has(&t, PLAN_ALBUM_ADD, "2022-03-01-autotag-temp-unclassified", f1));
    assert_true(
        rt_has(&t, PLAN_ALBUM_ADD, "2022-04-30-autotag-temp-unclassified", f2));
    assert_reason(&t.p, PLAN_ALBUM_DELETE,
                  "2021-05-05-autotag-temp-unclassified",
                  PLAN_R_TEMP_ALBUM_EMPTY);
    /* a classified asset gets no temp album */
    assert_null(plan_find(&t.p, PLAN_ALBUM_CREATE,
                          "2020-01-01-autotag-temp-unclassified"));
    rt_close(&t);
}

/*
 * A server shared by several users (issue #11): an unhealthy temporary
 * album that also holds an asset the key's user cannot see (the server
 * counts it, the search did not show it) is emptied of the user's own
 * assets but not deleted; the user's asset in another user's temporary
 * album (the user is an editor there) leaves it for a temporary album of
 * the user's own, and that album does not classify it.
 */
static void test_rules_temp_albums_of_several_users(void **state)
{
    struct model_album_user editor;
    struct rt t;
    uint32_t other, kept, f1, f2, theirs, mine;

    (void)state;
    rt_open(&t, CFG_PLAIN "create_album_from_date_if_missing: true\n", 17);
    other = lib_user(&t.l, "other@example.com");
    kept = lib_album(&t.l, "2022-03-01-autotag-temp-unclassified");
    f1 = lib_asset(&t.l, "f1.jpg", NULL, iso("2022-03-01T08:00:00Z"));
    f2 = lib_asset(&t.l, "f2.jpg", NULL, iso("2022-04-30T08:00:00Z"));
    lib_in(&t.l, kept, f1);
    lib_in(&t.l, kept, f2);
    t.l.m.albums[kept].asset_count = 3; /* + one the search did not show */
    editor.user = t.l.me;
    editor.role = MODEL_ROLE_EDITOR;
    theirs = lib_album_users(&t.l, "2023-06-01-autotag-temp-unclassified",
                             other, &editor, 1);
    mine = lib_asset(&t.l, "m.jpg", NULL, iso("2023-06-01T09:00:00Z"));
    lib_in(&t.l, theirs, mine);
    t.l.m.albums[theirs].asset_count = 1;
    rt_eval(&t);

    /* the unhealthy album: own assets out, the album kept */
    assert_true(rt_has(&t, PLAN_ALBUM_REMOVE,
                       "2022-03-01-autotag-temp-unclassified", f1));
    assert_true(rt_has(&t, PLAN_ALBUM_REMOVE,
                       "2022-03-01-autotag-temp-unclassified", f2));
    assert_null(plan_find(&t.p, PLAN_ALBUM_DELETE,
                          "2022-03-01-autotag-temp-unclassified"));
    /* another user's temporary album: left, and an own one made */
    assert_true(rt_has(&t, PLAN_ALBUM_REMOVE,
                       "2023-06-01-autotag-temp-unclassified", mine));
    assert_non_null(plan_find(&t.p, PLAN_ALBUM_CREATE,
                              "2023-06-01-autotag-temp-unclassified"));
    assert_true(rt_has(&t, PLAN_ALBUM_ADD,
                       "2023-06-01-autotag-temp-unclassified", mine));
    assert_null(plan_find(&t.p, PLAN_ALBUM_DELETE,
                          "2023-06-01-autotag-temp-unclassified"));
    rt_close(&t);
}

/* ---- duplicates ---- */

/* Duplicate groups: members in different date albums get the album
 * conflict tag (a stale one removed), a classification one member lacks
 * is copied to it (autofix), and members classified under different
 * names of one rule get the classification conflict tag. */
static void
test_rules_duplicate_album_and_classification_conflicts(void **state)
{
    struct rt t;
    uint32_t a, b, c, d, e, f, dup1, dup2, dup3;
    char per[128], id[UUID_STR_LEN + 1];
    const char *stale = "autotag_output_duplicate_asset_album_conflict_"
                        "00000000-0000-4000-8000-000000000001";

    (void)state;
    rt_open(&t, CFG_PLAIN CFG_DUPS, 14);
    /* a and b: different date albums -> album conflict (own albums) */
    a = lib_asset(&t.l, "a.jpg", NULL, iso(T0));
    b = lib_asset(&t.l, "b.jpg", NULL, iso(T0));
    lib_in(&t.l, lib_album(&t.l, "2024-07-15 Beach"), a);
    lib_in(&t.l, lib_album(&t.l, "2024-07-16 Hike"), b);
    lib_tagged(&t.l, stale, a);
    dup1 = lib_dup(&t.l, a, b);
    /* c has meme, d nothing -> autofix copies meme to d */
    c = lib_asset(&t.l, "c.jpg", NULL, iso(T0));
    d = lib_asset(&t.l, "d.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "meme", c);
    dup2 = lib_dup(&t.l, c, d);
    /* e meme, f autotag_input_meme... same rule, different names:
     * the sets differ -> classification conflict */
    e = lib_asset(&t.l, "e.jpg", NULL, iso(T0));
    f = lib_asset(&t.l, "f.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "meme", e);
    lib_tagged(&t.l, "autotag_input_meme", f);
    dup3 = lib_dup(&t.l, e, f);
    (void)dup2;
    rt_eval(&t);

    uuid_format(&t.l.m.dups[dup1].id, id);
    snprintf(per, sizeof(per),
             "autotag_output_duplicate_asset_album_conflict_%s", id);
    assert_true(plan_has(&t.p, PLAN_TAG_ADD,
                         "autotag_output_duplicate_asset_album_conflict",
                         &t.l.m, a));
    assert_true(plan_has(&t.p, PLAN_TAG_ADD,
                         "autotag_output_duplicate_asset_album_conflict",
                         &t.l.m, b));
    assert_true(rt_has(&t, PLAN_TAG_ADD, per, a));
    assert_true(rt_has(&t, PLAN_TAG_ADD, per, b));
    assert_true(rt_has(&t, PLAN_TAG_REMOVE, stale, a));

    assert_true(rt_has(&t, PLAN_TAG_ADD, "meme", d));
    assert_false(plan_has(&t.p, PLAN_TAG_ADD,
                          "autotag_output_duplicate_asset_classification_"
                          "conflict",
                          &t.l.m, c));

    uuid_format(&t.l.m.dups[dup3].id, id);
    snprintf(per, sizeof(per),
             "autotag_output_duplicate_asset_classification_conflict_%s", id);
    assert_true(plan_has(&t.p, PLAN_TAG_ADD,
                         "autotag_output_duplicate_asset_classification_"
                         "conflict",
                         &t.l.m, e));
    assert_true(rt_has(&t, PLAN_TAG_ADD, per, f));
    rt_close(&t);
}

/* ---- date correction ---- */

/* Dates taken from file names (WhatsApp, camera, Android) in the
 * configured zone, across DST gaps and overlaps; a name later than the
 * asset's date, or within a minute of it, changes nothing. */
static void test_rules_date_correction_from_file_names(void **state)
{
    static const struct {
        const char *file;
        const char *immich; /* the asset's dates */
        const char *expect; /* new instant (UTC) or NULL = no change */
        int offset_min;
        bool unhandled;
    } cases[] = {
        /* WhatsApp, midnight Madrid (CET) */
        {"IMG-20200105-WA0001.jpg", "2021-03-01T10:00:00Z",
         "2020-01-04T23:00:00Z", 60, false},
        /* lower-case, VID_ */
        {"vid_20200705-wa0003.mp4", "2021-03-01T10:00:00Z",
         "2020-07-04T22:00:00Z", 120, false},
        {"WhatsApp Image 2019-08-01 at 14.30.05.jpeg", "2021-03-01T10:00:00Z",
         "2019-08-01T12:30:05Z", 120, false},
        /* Android name, spring-forward gap: 02:30 does not exist */
        {"20240331_023000.jpg", "2024-04-10T10:00:00Z", "2024-03-31T01:30:00Z",
         120, false},
        /* autumn ambiguity: first (daylight) occurrence */
        {"20241027_023000.jpg", "2024-11-10T10:00:00Z", "2024-10-27T00:30:00Z",
         120, false},
        {"2023-12-24_18-30-00.jpg", "2024-01-10T10:00:00Z",
         "2023-12-24T17:30:00Z", 60, false},
        /* file name later than Immich: nothing */
        {"20240101_120000.jpg", "2023-06-01T10:00:00Z", NULL, 0, false},
        /* a few seconds earlier: below a minute, ignored */
        {"20240601_120000.jpg", "2024-06-01T10:00:30Z", NULL, 0, false},
        /* 20 minutes earlier with a time of day: corrected */
        {"20240601_114000.jpg", "2024-06-01T10:00:00Z", "2024-06-01T09:40:00Z",
         120, false},
        /* invalid first pattern: nothing, second not tried */
        {"20241399_999999 2023-01-01_10-00-00.jpg", "2024-06-01T10:00:00Z",
         NULL, 0, false},
        /* WhatsApp midnight 27.5 h earlier: more than 1.1 days */
        {"IMG-20240601-WA0001.jpg", "2024-06-02T01:30:00Z",
         "2024-05-31T22:00:00Z", 120, false},
        /* 26 h 10 min earlier, midnight, another day: Stage B unhandled */
        {"IMG-20240601-WA0001.jpg", "2024-06-02T00:10:00Z", NULL, 0, true},
        /* midnight the same local day: explained by the zone */
        {"IMG-20240601-WA0001.jpg", "2024-06-01T15:00:00Z", NULL, 0, false},
    };
    struct rt t;
    size_t i;

    (void)state;
    t.cfg = cfg_load(CFG_PLAIN "duplicate_processing:\n"
                               "  date_correction: {enabled: true, "
                               "extraction_timezone: Europe/Madrid}\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t a;
        size_t k, found = 0;

        lib_init(&t.l, 100 + i);
        a = lib_asset(&t.l, cases[i].file, "/x/y.jpg", iso(cases[i].immich));
        rt_eval(&t);
        for (k = 0; k < t.p.nr; k++) {
            const struct plan_group *g = &t.p.groups[k];

            if (g->op != PLAN_ASSET_DATE)
                continue;
            found++;
            if (!cases[i].expect)
                fail_msg("case %zu (%s): unexpected date", i, cases[i].file);
            assert_int_equal(g->date, iso(cases[i].expect));
            assert_int_equal(g->offset_min, cases[i].offset_min);
            assert_true(uuid_eq(&g->items[0].id, &t.l.m.assets[a].id));
        }
        if (found != (cases[i].expect ? 1u : 0u))
            fail_msg("case %zu (%s): %zu date groups", i, cases[i].file, found);
        assert_int_equal(
            plan_notes_of(&t.p, PLAN_NOTE_DATE_CORRECTION_UNHANDLED),
            cases[i].unhandled);
        rt_clear(&t);
    }
    config_free(t.cfg);
}

static void test_rules_date_correction_from_duplicate(void **state)
{
    struct rt t;
    uint32_t a, b;

    (void)state;
    rt_open(&t,
            CFG_PLAIN "duplicate_processing:\n"
                      "  date_correction: {enabled: true, "
                      "extraction_timezone: UTC}\n",
            15);
    a = lib_asset(&t.l, "a.jpg", NULL, iso("2024-05-10T10:00:00Z"));
    b = lib_asset(&t.l, "b.jpg", NULL, iso("2019-05-10T10:00:00Z"));
    lib_dup(&t.l, a, b);
    rt_eval(&t);
    assert_int_equal(t.p.stats.dates_corrected, 1);
    assert_non_null(
        plan_find(&t.p, PLAN_ASSET_DATE, "2019-05-10T10:00:00.000+00:00"));
    assert_true(uuid_eq(
        &plan_find(&t.p, PLAN_ASSET_DATE, "2019-05-10T10:00:00.000+00:00")
             ->items[0]
             .id,
        &t.l.m.assets[a].id));
    rt_close(&t);
}

/*
 * Evaluation depends only on its inputs: the process's TZ (set here to
 * zones far from the configured one) changes no byte of the plan, and
 * evaluation leaves TZ as it found it.
 */
static void test_rules_plan_ignores_the_process_tz(void **state)
{
    static const char *const names[] = {
        "IMG-20200105-WA0001.jpg",
        "20240331_023000.jpg",
        "20241027_023000.jpg",
        "2023-12-24_18-30-00.jpg",
        "WhatsApp Image 2019-08-01 at 14.30.05.jpeg",
    };
    static const char *const odd[] = {"Pacific/Chatham", "<-0930>9:30",
                                      "America/St_Johns"};
    struct rt t;
    struct buf want = BUF_INIT, got = BUF_INIT;
    size_t i;

    (void)state;
    rt_open(&t,
            CFG_PLAIN "duplicate_processing:\n"
                      "  date_correction: {enabled: true, "
                      "extraction_timezone: Europe/Madrid}\n",
            31);
    for (i = 0; i < ARRAY_SIZE(names); i++)
        (void)lib_asset(&t.l, names[i], "/x/y.jpg",
                        iso("2025-03-01T10:00:00Z"));
    assert_int_equal(setenv("TZ", "UTC", 1), 0);
    tzset();
    rt_eval(&t);
    assert_int_equal(t.p.stats.dates_corrected, ARRAY_SIZE(names));
    plan_to_json(&t.p, &want);
    plan_release(&t.p);
    for (i = 0; i < ARRAY_SIZE(odd); i++) {
        assert_int_equal(setenv("TZ", odd[i], 1), 0);
        tzset();
        eval_plan(t.cfg, &t.l.m, &t.p);
        buf_reset(&got);
        plan_to_json(&t.p, &got);
        assert_string_equal(got.buf, want.buf);
        assert_string_equal(getenv("TZ"), odd[i]);
        plan_release(&t.p);
    }
    assert_int_equal(unsetenv("TZ"), 0);
    buf_release(&want);
    buf_release(&got);
    rt_close(&t);
}

/* ---- album date consistency ---- */

/* An asset more than threshold_days (whole days, rounded down) from the
 * date in its album's name (a year album: January 1) is tagged as a
 * mismatch; names without a valid date are never compared. */
static void test_rules_album_date_consistency(void **state)
{
    static const struct {
        const char *album;
        const char *asset;
        bool mismatch;
    } cases[] = {
        {"2024-07-15 Beach", "2024-07-20T10:00:00Z", false},
        {"2020-06 Trip", "2024-07-20T10:00:00Z", true},
        {"2024 Year", "2024-12-31T10:00:00Z", true},   /* Jan 1 + 364 */
        {"2024 Year", "2024-06-28T10:00:00Z", false},  /* 179 days */
        {"2024-01-01", "2023-07-05T00:00:00Z", false}, /* -180 days */
        {"2024-01-01", "2023-07-04T12:00:00Z", true},  /* -180.5: floor */
        {"2024-13 Bad month", "2010-01-01T00:00:00Z", false},
        {"Holidays", "2010-01-01T00:00:00Z", false},
    };
    struct rt t;
    size_t i;

    (void)state;
    t.cfg = cfg_load(CFG_PLAIN "album_date_consistency: {enabled: true, "
                               "threshold_days: 180}\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t a;

        lib_init(&t.l, 200 + i);
        a = lib_asset(&t.l, "a.jpg", NULL, iso(cases[i].asset));
        lib_in(&t.l, lib_album(&t.l, cases[i].album), a);
        rt_eval(&t);
        if (rt_has(&t, PLAN_TAG_ADD, "autotag_output_album_date_mismatch", a) !=
            cases[i].mismatch)
            fail_msg("case %zu: %s / %s", i, cases[i].album, cases[i].asset);
        assert_int_equal(plan_notes_of(&t.p, PLAN_NOTE_ALBUM_DATE_MISMATCH),
                         cases[i].mismatch);
        rt_clear(&t);
    }
    /* stale tag removed once the album fits */
    {
        uint32_t a;

        lib_init(&t.l, 300);
        a = lib_asset(&t.l, "a.jpg", NULL, iso("2024-07-20T10:00:00Z"));
        lib_in(&t.l, lib_album(&t.l, "2024-07 Summer"), a);
        lib_tagged(&t.l, "autotag_output_album_date_mismatch", a);
        rt_eval(&t);
        assert_true(rt_has(&t, PLAN_TAG_REMOVE,
                           "autotag_output_album_date_mismatch", a));
        rt_clear(&t);
    }
    config_free(t.cfg);
}

/* ---- album detection from folders ---- */

static void test_rules_album_detection_from_folders(void **state)
{
    static const struct {
        const char *path;
        const char *album; /* expected album or NULL */
        bool conflict_tag;
    } cases[] = {
        {"/lib/2024-07-15 Beach/IMG_1.jpg", "2024-07-15 Beach", false},
        {"/lib/2024-07-15/beach/day1/more/x.jpg", "2024-07-15/beach/day1/more",
         false},
        {"C:\\photos\\2024-07-15 Party\\x.jpg", "2024-07-15 Party", false},
        {"/lib/2024-07-15/x.jpg", NULL, false}, /* bare date folder */
        {"/lib/2024-07-15/2024-07-16 b/x.jpg", NULL, true},
        {"/lib/WhatsApp/2024-07-15 Chat/x.jpg", NULL, false}, /* excluded */
        {"/lib/WhatsApp/2024-07-15/2024-07-16/x.jpg", NULL, false},
        {"/lib/misc/x.jpg", NULL, false},
    };
    struct rt t;
    size_t i;

    (void)state;
    t.cfg = cfg_load(CFG_BASE "conversions: {}\n" CFG_CLASS CFG_DUPS
                              "album_detection_from_folders: {enabled: true, "
                              "excluded_paths: [whatsapp]}\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        uint32_t a;

        lib_init(&t.l, 400 + i);
        a = lib_asset(&t.l, "x.jpg", cases[i].path, iso(T0));
        rt_eval(&t);
        if (cases[i].album) {
            const struct plan_group *g =
                plan_find(&t.p, PLAN_ALBUM_CREATE, cases[i].album);

            if (!g)
                fail_msg("case %zu: no album '%s'", i, cases[i].album);
            assert_int_equal(g->reason, PLAN_R_ALBUM_FROM_FOLDER);
            assert_true(rt_has(&t, PLAN_ALBUM_ADD, cases[i].album, a));
            assert_false(rt_has(&t, PLAN_TAG_ADD, UNKNOWN, a));
        } else {
            assert_int_equal(plan_count_op(&t.p, PLAN_ALBUM_ADD), 0);
        }
        assert_int_equal(rt_has(&t, PLAN_TAG_ADD,
                                "autotag_output_album_detection_conflict", a),
                         cases[i].conflict_tag);
        rt_clear(&t);
    }
    config_free(t.cfg);
}

/* ---- album permissions ---- */

/* Evaluates t's configuration on a library of one user (email) and one
 * album: whether the plan shares the album with the user; the plan in
 * t->p. */
static bool shares_album(struct rt *t, uint64_t seed, const char *email,
                         const char *album)
{
    lib_init(&t->l, seed);
    lib_user(&t->l, email);
    lib_album(&t->l, album);
    rt_eval(t);
    return plan_count_op(&t->p, PLAN_ALBUM_USER_ADD) == 1;
}

/* Selection keywords match whole words of the album name cut at
 * [-_. ] and spaces, without case; the matched rule's access sets the
 * role and each album gets a matched or no-match note. */
static void test_rules_permission_keywords(void **state)
{
    static const struct {
        const char *album;
        bool match;
    } cases[] = {
        {"2024-Family-Trip", true},  {"Family.Reunion", true},
        {"our family", true},        {"FAMILY_pics", true},
        {"Families", false},         {"FamilyTrip", false},
        {"(family)", false},         {"family,", false},
        {"Été\tfamily  2024", true},
    };
    struct rt t;
    size_t i;

    (void)state;
    t.cfg = cfg_load(
        CFG_PLAIN "album_permissions:\n"
                  "  enabled: true\n"
                  "  log_unmatched: true\n"
                  "  user_groups: [{name: fam, members: [ann@example.com]}]\n"
                  "  selection_rules: [{name: r, keyword: family, "
                  "groups: [fam], access: edit}]\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        if (shares_album(&t, 500 + i, "ann@example.com", cases[i].album) !=
            cases[i].match)
            fail_msg("case %zu: '%s'", i, cases[i].album);
        assert_int_equal(
            plan_notes_of(&t.p, PLAN_NOTE_ALBUM_PERMISSION_RULE_MATCHED),
            cases[i].match);
        assert_int_equal(
            plan_notes_of(&t.p, PLAN_NOTE_ALBUM_PERMISSION_NO_MATCH),
            !cases[i].match);
        if (cases[i].match)
            assert_int_equal(t.p.groups[0].role, MODEL_ROLE_EDITOR);
        rt_clear(&t);
    }
    config_free(t.cfg);
}

/*
 * Upstream compares keyword.lower() with the lowercased tokens of the
 * name cut at [-_.\s]+ (Python's str.lower() and str.isspace()), not
 * ASCII folding: 'été' matches 'Été à Paris 2012'.
 */
static void test_rules_permission_keywords_fold_like_python(void **state)
{
    static const struct {
        const char *album;
        bool match;
    } cases[] = {
        {"\xc3\x89t\xc3\xa9 \xc3\xa0 Paris 2012", true},    /* Été */
        {"\xc3\x89T\xc3\x89-2012", true},                   /* ÉTÉ */
        {"f\xc3\xaate\xe3\x80\x80\xc3\xa9t\xc3\xa9", true}, /* U+3000 */
        {"x\x1c\xc3\xa9t\xc3\xa9", true}, /* U+001C is str.isspace() */
        {"\xc3\xa9t\xc3\xa9s", false},    /* étés */
        {"ete", false},
    };
    struct rt t;
    size_t i;

    (void)state;
    t.cfg = cfg_load(
        CFG_PLAIN
        "album_permissions:\n"
        "  enabled: true\n"
        "  user_groups: [{name: fam, members: [ann@example.com]}]\n"
        "  selection_rules: [{name: r, keyword: \"\xc3\xa9t\xc3\xa9\", "
        "groups: [fam], access: view}]\n");
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        /* emails compare without case */
        if (shares_album(&t, 600 + i, "ANN@example.com", cases[i].album) !=
            cases[i].match)
            fail_msg("case %zu: '%s'", i, cases[i].album);
        rt_clear(&t);
    }
    config_free(t.cfg);
}

/* "Does the asset already have the output tag" folds like str.lower() */
static void test_rules_output_tag_found_with_unicode_case(void **state)
{
    struct rt t;
    uint32_t a;

    (void)state;
    rt_open(&t,
            CFG_BASE
            "conversions: {}\n" CFG_CLASS
            "  autotag_unknown: \"sans_cat\xc3\xa9gorie\"\n" CFG_NOFOLDERS,
            9);
    a = lib_asset(&t.l, "a.jpg", NULL, iso(T0));
    lib_tagged(&t.l, "SANS_CAT\xc3\x89GORIE", a);
    rt_eval(&t);
    assert_false(rt_has(&t, PLAN_TAG_ADD, "sans_cat\xc3\xa9gorie", a));
    assert_int_equal(plan_changes(&t.p), 0);
    rt_close(&t);
}

/* Sharing follows the rules: the last matching rule's access wins (a
 * role changed, a user added), a user shared by hand is removed, an album
 * whose group resolves to nobody keeps its users, others' albums are not
 * touched. */
static void test_rules_permission_sync_and_safety(void **state)
{
    struct rt t;
    uint32_t ann, bob, eve, other;
    struct model_album_user cur[3];
    const struct plan_group *g;

    (void)state;
    rt_open(&t,
            CFG_PLAIN "album_permissions:\n"
                      "  enabled: true\n"
                      "  user_groups:\n"
                      "    - {name: fam, members: [ANN@example.com, "
                      "bob@example.com, nobody@example.com, me@example.com]}\n"
                      "    - {name: ghosts, members: [ghost@example.com]}\n"
                      "  selection_rules:\n"
                      "    - {name: r1, keyword: family, groups: [fam], "
                      "access: edit}\n"
                      "    - {name: r2, keyword: trip, groups: [fam], "
                      "access: view}\n"
                      "    - {name: r3, keyword: ghost, groups: [ghosts]}\n",
            600);
    ann = lib_user(&t.l, "ann@example.com");
    bob = lib_user(&t.l, "bob@example.com");
    eve = lib_user(&t.l, "eve@example.com");
    other = lib_user(&t.l, "owner@example.com");
    /* family trip: last rule (trip, view) wins; ann is editor -> viewer;
     * eve (manual share) removed; bob added; me never added */
    cur[0].user = ann;
    cur[0].role = MODEL_ROLE_EDITOR;
    cur[1].user = eve;
    cur[1].role = MODEL_ROLE_VIEWER;
    lib_album_users(&t.l, "Family trip", t.l.me, cur, 2);
    /* nobody resolvable: eve is not removed */
    cur[0].user = eve;
    cur[0].role = MODEL_ROLE_VIEWER;
    lib_album_users(&t.l, "ghost album", t.l.me, cur, 1);
    /* not ours: untouched */
    lib_album_users(&t.l, "family of others", other, NULL, 0);
    rt_eval(&t);

    g = plan_find(&t.p, PLAN_ALBUM_USER_ADD, "Family trip");
    assert_non_null(g);
    assert_int_equal(g->nr, 1);
    assert_true(uuid_eq(&g->items[0].id, &t.l.m.users[bob].id));
    assert_int_equal(g->role, MODEL_ROLE_VIEWER);
    g = plan_find(&t.p, PLAN_ALBUM_USER_ROLE, "Family trip");
    assert_non_null(g);
    assert_true(uuid_eq(&g->items[0].id, &t.l.m.users[ann].id));
    g = plan_find(&t.p, PLAN_ALBUM_USER_REMOVE, "Family trip");
    assert_non_null(g);
    assert_int_equal(g->nr, 1);
    assert_true(uuid_eq(&g->items[0].id, &t.l.m.users[eve].id));
    assert_null(plan_find(&t.p, PLAN_ALBUM_USER_REMOVE, "ghost album"));
    assert_null(plan_find(&t.p, PLAN_ALBUM_USER_ADD, "family of others"));
    assert_int_equal(plan_notes_of(&t.p, PLAN_NOTE_UNKNOWN_EMAIL), 2);
    assert_int_equal(t.p.stats.shares_changed, 3);
    rt_close(&t);
}

static void test_rules_duplicate_album_names_noted(void **state)
{
    struct rt t;

    (void)state;
    rt_open(&t, cfg_class_text, 700);
    lib_album(&t.l, "Trip");
    lib_album(&t.l, "Trip");
    lib_album(&t.l, " Trip "); /* another name: upstream never trims */
    lib_album(&t.l, "Other");
    rt_eval(&t);
    assert_int_equal(plan_notes_of(&t.p, PLAN_NOTE_ALBUM_NAME_DUPLICATE), 1);
    assert_int_equal(t.p.notes[0].detail.nr, 2);
    assert_string_equal(
        plan_field_key(&t.p.notes[0].detail, &t.p.notes[0].detail.f[1]),
        "count");
    assert_int_equal(t.p.notes[0].detail.f[1].i, 2);
    rt_close(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_classification_status_table),
        cmocka_unit_test(test_rules_output_tags_removed_and_case_insensitive),
        cmocka_unit_test(test_rules_which_assets_are_processed),
        cmocka_unit_test(test_rules_empty_library_gives_empty_plan),
        cmocka_unit_test(test_rules_skip_and_max_items_window),
        cmocka_unit_test(test_rules_filters_in_out_and_links),
        cmocka_unit_test(test_rules_conversions_move_copy_and_missing_album),
        cmocka_unit_test(test_rules_temp_albums_created_reused_left_deleted),
        cmocka_unit_test(test_rules_temp_albums_of_several_users),
        cmocka_unit_test(
            test_rules_duplicate_album_and_classification_conflicts),
        cmocka_unit_test(test_rules_date_correction_from_file_names),
        cmocka_unit_test(test_rules_date_correction_from_duplicate),
        cmocka_unit_test(test_rules_plan_ignores_the_process_tz),
        cmocka_unit_test(test_rules_album_date_consistency),
        cmocka_unit_test(test_rules_album_detection_from_folders),
        cmocka_unit_test(test_rules_permission_keywords),
        cmocka_unit_test(test_rules_permission_keywords_fold_like_python),
        cmocka_unit_test(test_rules_output_tag_found_with_unicode_case),
        cmocka_unit_test(test_rules_permission_sync_and_safety),
        cmocka_unit_test(test_rules_duplicate_album_names_noted),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
