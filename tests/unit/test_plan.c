/*
 * test_plan.c: the plan value: grouping, canonical order, JSON round trip,
 * loader errors, summary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <string.h>

#include "plan/plan.h"

#include "test_ids.h"

static struct uuid id_n(unsigned n)
{
    return test_id(0x10, n);
}

/* The steps of build() that add step's asset to one group (op, name,
 * target: none, the tag 900 or the album 901) for reason and rule. */
static const struct add {
    unsigned step;
    enum plan_op op;
    const char *name;
    unsigned target;
    enum plan_reason reason;
    unsigned rule;
} adds[] = {
    {0, PLAN_TAG_ADD, "autotag_output_unknown", 0, PLAN_R_CLASSIFY_UNKNOWN, 0},
    {0, PLAN_TAG_ADD, "autotag_output_unknown", 0, PLAN_R_CLASSIFY_UNKNOWN,
     0}, /* repeat */
    {1, PLAN_TAG_REMOVE, "autotag_input_meme", 900, PLAN_R_CONVERSION, 1},
    {2, PLAN_ALBUM_ADD, "2024-06-15-autotag-temp-unclassified", 0,
     PLAN_R_ALBUM_FROM_DATE, 0},
    {3, PLAN_ALBUM_ADD, "Été 2023 — Señora ☀", 901, PLAN_R_CONVERSION, 2},
};

/* Builds the same plan with the calls in forward or reverse order. */
static void build(struct plan *p, bool reverse)
{
    static const unsigned order[] = {0, 1, 2, 3, 4, 5, 6, 7};
    size_t k;

    plan_init(p);
    p->server_url = xstrdup("http://photos.lan:2283");
    p->created_at = 1718457242251;
    p->stats.assets_seen = 10;
    p->stats.classified = 7;
    p->stats.rules_nr = 2;
    p->stats.per_rule = xcalloc(2, sizeof(size_t));
    p->stats.per_rule[1] = 7;
    for (k = 0; k < ARRAY_SIZE(order); k++) {
        unsigned i = reverse ? order[ARRAY_SIZE(order) - 1 - k] : order[k];
        struct uuid al = id_n(901), a = id_n(i + 1);
        struct plan_group *g;

        switch (i) {
        case 2: /* the album its asset goes into (adds[]) */
            plan_group_album(p, PLAN_ALBUM_CREATE,
                             "2024-06-15-autotag-temp-unclassified", NULL,
                             PLAN_R_ALBUM_FROM_DATE);
            break;
        case 4:
            g = plan_group_role(p, PLAN_ALBUM_USER_ADD, "Family trip", &al, 1);
            plan_add(g, &a, PLAN_R_PERMISSIONS, 3);
            break;
        case 5:
            g = plan_group_date(p, 1700000000000, 60);
            plan_add(g, &a, PLAN_R_DATE_CORRECTION, 0);
            break;
        case 6: {
            struct plan_fields f = PLAN_FIELDS_INIT;

            plan_fields_int(&f, "num_rules", 2);
            plan_fields_str(&f, "reason", "multiple");
            plan_fields_time(&f, "exif_date", 1700000000000);
            plan_note(p, PLAN_NOTE_CLASSIFICATION_CONFLICT, &a, NULL, &f);
            break;
        }
        case 7:
            plan_group_album(p, PLAN_ALBUM_DELETE,
                             "2020-01-01-autotag-temp-unclassified", &al,
                             PLAN_R_TEMP_ALBUM_UNHEALTHY);
            {
                struct plan_fields f = PLAN_FIELDS_INIT;

                plan_fields_str(&f, "album_name", "say \"cheese\"\n");
                plan_fields_list(&f, "rules", "a");
                plan_fields_list(&f, "rules", "b");
                plan_fields_bool(&f, "ok", false);
                plan_note(p, PLAN_NOTE_ALBUM_NAME_DUPLICATE, NULL, &al, &f);
            }
            break;
        }
        for (size_t j = 0; j < ARRAY_SIZE(adds); j++) {
            const struct add *d = &adds[j];
            struct uuid target = id_n(d->target);

            if (d->step == i)
                plan_add(
                    plan_group(p, d->op, d->name, d->target ? &target : NULL),
                    &a, d->reason, d->rule);
        }
    }
    /* An empty group disappears at plan_finish(). */
    (void)plan_group(p, PLAN_TAG_REMOVE, "never_used", NULL);
    plan_finish(p);
}

static void test_plan_groups_merge_same_key_and_drop_empty(void **state)
{
    struct plan p;
    const struct plan_group *g;

    (void)state;
    build(&p, false);
    assert_int_equal(p.nr, 8);
    g = plan_find(&p, PLAN_TAG_ADD, "autotag_output_unknown");
    assert_non_null(g);
    assert_int_equal(g->nr, 1); /* repeated id merged */
    assert_false(g->target_exists);
    assert_null(plan_find(&p, PLAN_TAG_REMOVE, "never_used"));
    /* 6 items + create + delete */
    assert_int_equal(plan_changes(&p), 8);
    assert_int_equal(plan_count_op(&p, PLAN_ALBUM_ADD), 2);
    assert_false(plan_is_empty(&p));
    plan_release(&p);
    plan_init(&p);
    plan_finish(&p);
    assert_true(plan_is_empty(&p));
    plan_release(&p);
}

static void test_plan_json_is_independent_of_build_order(void **state)
{
    struct plan a, b;
    struct buf ja = BUF_INIT, jb = BUF_INIT;

    (void)state;
    build(&a, false);
    build(&b, true);
    plan_to_json(&a, &ja);
    plan_to_json(&b, &jb);
    assert_string_equal(ja.buf, jb.buf);
    /* groups come in op order: tag_add first */
    assert_int_equal(a.groups[0].op, PLAN_TAG_ADD);
    assert_int_equal(a.groups[a.nr - 1].op, PLAN_ASSET_DATE);
    plan_release(&a);
    plan_release(&b);
    buf_release(&ja);
    buf_release(&jb);
}

/*
 * plan_to_json(plan_from_json(text)) == text, and what is read back is
 * the plan: groups, stats, and note fields as typed values (their JSON
 * written by hand below); the plan keeps each note's fields without room
 * to spare.
 */
static void test_plan_json_round_trips_byte_identical(void **state)
{
    struct plan a, b;
    struct buf ja = BUF_INIT, jb = BUF_INIT, err = BUF_INIT;
    const struct plan_group *g;

    (void)state;
    build(&a, false);
    plan_to_json(&a, &ja);
    plan_init(&b);
    assert_int_equal(plan_from_json(ja.buf, ja.len, &b, &err), 0);
    assert_int_equal(err.len, 0);
    plan_to_json(&b, &jb);
    assert_string_equal(ja.buf, jb.buf);
    assert_int_equal(b.nr, a.nr);
    assert_int_equal(b.notes_nr, 2);
    assert_string_equal(b.server_url, "http://photos.lan:2283");
    assert_int_equal(b.created_at, 1718457242251);
    assert_int_equal(b.stats.rules_nr, 2);
    assert_int_equal(b.stats.per_rule[1], 7);
    g = plan_find(&b, PLAN_ALBUM_ADD, "Été 2023 — Señora ☀");
    assert_non_null(g);
    assert_true(g->target_exists);
    assert_int_equal(g->items[0].rule, 2);
    assert_int_equal(g->items[0].reason, PLAN_R_CONVERSION);
    g = plan_find(&b, PLAN_ALBUM_USER_ADD, "Family trip");
    assert_non_null(g);
    assert_int_equal(g->role, 1);
    g = plan_find(&b, PLAN_ALBUM_DELETE,
                  "2020-01-01-autotag-temp-unclassified");
    assert_non_null(g);
    assert_int_equal(g->reason, PLAN_R_TEMP_ALBUM_UNHEALTHY);
    g = plan_find(&b, PLAN_ASSET_DATE, "2023-11-14T23:13:20.000+01:00");
    assert_non_null(g);
    assert_int_equal(g->date, 1700000000000);
    assert_int_equal(g->offset_min, 60);
    /* the note details: an object in the order the fields were added,
     * the time written in ISO 8601, read back member by member */
    assert_non_null(strstr(ja.buf, "\"detail\":{\"num_rules\":2,\"reason\":"
                                   "\"multiple\",\"exif_date\":"
                                   "\"2023-11-14T22:13:20.000Z\"}}"));
    assert_non_null(strstr(ja.buf,
                           "\"detail\":{\"album_name\":\"say "
                           "\\\"cheese\\\"\\n\",\"rules\":[\"a\",\"b\"],"
                           "\"ok\":false}}"));
    assert_int_equal(b.notes[0].detail.nr, 3);
    assert_int_equal(b.notes[0].detail.f[0].type, PLAN_F_INT);
    assert_int_equal(b.notes[0].detail.f[0].i, 2);
    assert_int_equal(b.notes[1].detail.f[1].type, PLAN_F_LIST);
    assert_int_equal(b.notes[1].detail.f[1].n, 2);
    for (size_t i = 0; i < b.notes_nr; i++) {
        assert_int_equal(b.notes[i].detail.alloc, b.notes[i].detail.nr);
        assert_int_equal(b.notes[i].detail.text.alloc,
                         b.notes[i].detail.text.len + 1);
        assert_int_equal(a.notes[i].detail.alloc, a.notes[i].detail.nr);
    }
    plan_release(&a);
    plan_release(&b);
    buf_release(&ja);
    buf_release(&jb);
    buf_release(&err);
}

/* A plan's JSON text up to its groups, every field good. */
#define GOOD_HEAD                                                              \
    "{\"version\":1,\"created_at\":\"2024-01-01T00:00:00Z\","                  \
    "\"stats\":{\"assets_seen\":0,\"assets_skipped\":0,"                       \
    "\"classified\":0,\"unclassified\":0,\"conflict\":0,"                      \
    "\"duplicates_flagged\":0,\"date_mismatches\":0,"                          \
    "\"dates_corrected\":0,\"albums_created\":0,"                              \
    "\"shares_changed\":0,\"per_rule\":[]},"

static void test_plan_from_json_reports_bad_input(void **state)
{
    static const struct {
        const char *text;
        const char *msg;
    } cases[] = {
        {"[1]", "plan json: top level is not an object"},
        {"{\"version\":2}", "plan json: unsupported version (want 1)"},
        {"{\"version\":1,\"server_url\":3}",
         "plan json: 'server_url' or 'snapshot_digest' is not a string"},
        {"{\"version\":1,\"created_at\":\"yesterday\"}",
         "plan json: 'created_at' is not an ISO-8601 time"},
        {"{\"version\":1,\"created_at\":\"2024-01-01T00:00:00Z\","
         "\"stats\":{}}",
         "plan json: 'stats' is missing a counter"},
        {GOOD_HEAD
         "\"groups\":[{\"op\":\"tag_zap\",\"name\":\"x\",\"items\":[]}],"
         "\"notes\":[]}",
         "plan json: group 0 has unknown op 'tag_zap'"},
        {GOOD_HEAD
         "\"groups\":[{\"op\":\"tag_add\",\"name\":\"x\",\"target\":null,"
         "\"items\":[[\"not-a-uuid\",\"conversion\",0]]}],"
         "\"notes\":[]}",
         "plan json: group 0 item 0 is malformed"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct plan p;
        struct buf err = BUF_INIT;

        plan_init(&p);
        assert_int_equal(
            plan_from_json(cases[i].text, strlen(cases[i].text), &p, &err), -1);
        assert_string_equal(err.buf, cases[i].msg);
        assert_true(plan_is_empty(&p));
        plan_release(&p);
        buf_release(&err);
    }
    {
        struct plan p;
        struct buf err = BUF_INIT;

        plan_init(&p);
        assert_int_equal(plan_from_json("{", 1, &p, &err), -1);
        assert_true(!strncmp(err.buf, "plan json: line 1", 17));
        plan_release(&p);
        buf_release(&err);
    }
}

static void test_plan_summary_counts_per_op_and_group(void **state)
{
    static const char *const lines[] = {
        "Plan: 8 changes for http://photos.lan",
        "  tag_add            1\n",
        "  album_add          2\n",
        "autotag_output_unknown: 1 asset",
        "CLASSIFICATION_CONFLICT        1",
        "(temp_album_unhealthy)",
    };
    struct plan p;
    struct buf out = BUF_INIT;

    (void)state;
    build(&p, false);
    plan_print_summary(&p, &out, 2);
    for (size_t i = 0; i < ARRAY_SIZE(lines); i++)
        assert_non_null(strstr(out.buf, lines[i]));
    plan_release(&p);
    buf_release(&out);
}

/* Names as a server gives them: asset 1 a file, asset 2 one with a
 * newline in it, users by email, the rest unknown. */
static const char *fake_name(void *ctx, const struct uuid *id, bool user)
{
    struct uuid one = id_n(1), two = id_n(2);

    (void)ctx;
    if (user)
        return "jane@example.com";
    if (uuid_eq(id, &one))
        return "IMG_0001.JPG";
    if (uuid_eq(id, &two))
        return "evil\nkind=DELETE_ALBUM";
    return NULL;
}

/* The printed plan names assets by file name and users by email, beside
 * the id, names escaped (issue #15). */
static void test_plan_summary_names_files_and_people(void **state)
{
    struct plan p;
    struct buf out = BUF_INIT;
    struct plan_names names = {fake_name, NULL};
    struct plan_group *g;
    struct uuid one = id_n(1), two = id_n(2), user = id_n(9);
    char s[UUID_STR_LEN + 1];
    char want[128];

    (void)state;
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_ADD, "autotag_output_unknown", NULL);
    plan_add(g, &one, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(g, &two, PLAN_R_CLASSIFY_UNKNOWN, 0);
    g = plan_group_role(&p, PLAN_ALBUM_USER_ADD, "Family 2020", NULL, 0);
    plan_add(g, &user, PLAN_R_PERMISSIONS, 1);
    plan_finish(&p);
    plan_print_summary_named(&p, &out, 5, &names);
    uuid_format(&one, s);
    snprintf(want, sizeof(want), "IMG_0001.JPG [%s]", s);
    assert_non_null(strstr(out.buf, want));
    assert_non_null(strstr(out.buf, "evil\\nkind=DELETE_ALBUM"));
    assert_null(strstr(out.buf, "\nkind=DELETE_ALBUM"));
    assert_non_null(strstr(out.buf, "jane@example.com ["));
    plan_release(&p);
    buf_release(&out);
}

static void test_plan_many_date_groups_stay_distinct(void **state)
{
    struct plan p;
    unsigned i;

    (void)state;
    plan_init(&p);
    for (i = 0; i < 5000; i++) {
        struct uuid a = id_n(i);

        plan_add(plan_group_date(&p, (int64_t)(i % 1000) * 60000, 0), &a,
                 PLAN_R_DATE_CORRECTION, 0);
    }
    plan_finish(&p);
    assert_int_equal(p.nr, 1000);
    assert_int_equal(plan_count_op(&p, PLAN_ASSET_DATE), 5000);
    plan_release(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plan_groups_merge_same_key_and_drop_empty),
        cmocka_unit_test(test_plan_json_is_independent_of_build_order),
        cmocka_unit_test(test_plan_json_round_trips_byte_identical),
        cmocka_unit_test(test_plan_from_json_reports_bad_input),
        cmocka_unit_test(test_plan_summary_counts_per_op_and_group),
        cmocka_unit_test(test_plan_many_date_groups_stay_distinct),
        cmocka_unit_test(test_plan_summary_names_files_and_people),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
