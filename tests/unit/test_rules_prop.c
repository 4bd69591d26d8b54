/*
 * test_rules_prop.c: properties of the rules engine over generated
 * libraries: idempotence (apply the plan in memory, evaluate again: the
 * plan is empty), determinism (same input, byte-identical JSON) and the
 * plan's JSON round trip.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apply_mem.h"
#include "rules_gen.h"

static void dump_plan(const struct plan *p)
{
    struct buf out = BUF_INIT;

    plan_print_summary(p, &out, 4);
    fputs(out.buf, stderr);
    buf_release(&out);
}

static void test_rules_plan_applied_then_reevaluated_is_empty(void **state)
{
    struct config *cfg = cfg_load(full_cfg);
    uint64_t seed;
    size_t total_changes = 0;

    (void)state;
    for (seed = 1; seed <= 40; seed++) {
        struct lib l;
        struct model m1;
        struct plan p1, p2;
        struct buf err = BUF_INIT;

        generate(&l, seed, 150 + (unsigned)(seed % 7) * 20);
        eval_plan(cfg, &l.m, &p1);
        total_changes += plan_changes(&p1);
        model_init(&m1);
        if (apply_mem_to_model(&l.m, &p1, &m1, &err) < 0)
            fail_msg("seed %llu: %s", (unsigned long long)seed, err.buf);
        eval_plan(cfg, &m1, &p2);
        if (!plan_is_empty(&p2)) {
            fprintf(stderr, "seed %llu: second plan not empty\n",
                    (unsigned long long)seed);
            dump_plan(&p2);
            fail();
        }
        plan_release(&p1);
        plan_release(&p2);
        model_release(&m1);
        model_release(&l.m);
        buf_release(&err);
    }
    /* the generator exercises the rules: plenty to change */
    assert_true(total_changes > 1000);
    config_free(cfg);
}

static void test_rules_plan_is_deterministic_and_round_trips(void **state)
{
    struct config *cfg = cfg_load(full_cfg);
    uint64_t seed;

    (void)state;
    for (seed = 100; seed < 105; seed++) {
        struct lib l1, l2;
        struct plan a, b, c;
        struct buf ja = BUF_INIT, jb = BUF_INIT, jc = BUF_INIT;
        struct buf err = BUF_INIT;

        generate(&l1, seed, 300);
        generate(&l2, seed, 300);
        eval_plan(cfg, &l1.m, &a);
        eval_plan(cfg, &l2.m, &b);
        plan_to_json(&a, &ja);
        plan_to_json(&b, &jb);
        assert_string_equal(ja.buf, jb.buf);
        plan_init(&c);
        assert_int_equal(plan_from_json(ja.buf, ja.len, &c, &err), 0);
        plan_to_json(&c, &jc);
        assert_string_equal(ja.buf, jc.buf);
        assert_true(a.notes_nr > 0);
        plan_release(&a);
        plan_release(&b);
        plan_release(&c);
        model_release(&l1.m);
        model_release(&l2.m);
        buf_release(&ja);
        buf_release(&jb);
        buf_release(&jc);
        buf_release(&err);
    }
    config_free(cfg);
}

/* Plans until one is empty (at most 4 runs); each plan applied in
 * memory.  Returns the number of plans with writes, 4 when it churns. */
static int runs_to_settle(const struct config *cfg, struct model *m)
{
    for (int run = 0; run < 4; run++) {
        struct plan p;

        eval_plan(cfg, m, &p);
        if (plan_is_empty(&p)) {
            plan_release(&p);
            return run;
        }
        if (run > 0)
            dump_plan(&p); /* what comes back */
        gen_apply(m, &p);
    }
    return 4;
}

/*
 * A duplicate whose group's one album is a temporary album that its own
 * date does not fit (more than 30 days from its name, or from a
 * member's date; the classification pattern matches the date in the
 * name): joining it would make the album
 * unhealthy, deleted and made again on every run.  It goes to the
 * temporary album of its own date instead; one run settles.  A duplicate
 * that fits (20 days) still joins the group's album, as upstream.
 */
static void test_rules_duplicate_does_not_make_temp_album_churn(void **state)
{
    struct config *cfg =
        cfg_load(CFG_BASE "conversions: {}\n" CFG_CLASS CFG_NOFOLDERS CFG_DUPS
                          "create_album_from_date_if_missing: true\n");
    struct lib l;
    struct plan p;
    uint32_t a, b, c, d, e, f, g, h, k, ta, tc, tg;

    (void)state;
    lib_init(&l, 21);
    /* a in its temp album, b (75 days later) unsorted */
    ta = lib_album(&l, "2024-01-01-autotag-temp-unclassified");
    a = lib_asset(&l, "a.jpg", NULL, iso("2024-01-01T10:00:00Z"));
    b = lib_asset(&l, "b.jpg", NULL, iso("2024-03-16T10:00:00Z"));
    lib_in(&l, ta, a);
    lib_dup(&l, a, b);
    /* c and d (120 days apart) both in an unhealthy temp album */
    tc = lib_album(&l, "2023-01-01-autotag-temp-unclassified");
    c = lib_asset(&l, "c.jpg", NULL, iso("2023-01-01T10:00:00Z"));
    d = lib_asset(&l, "d.jpg", NULL, iso("2023-05-01T10:00:00Z"));
    lib_in(&l, tc, c);
    lib_in(&l, tc, d);
    lib_dup(&l, c, d);
    /* f, 20 days from e's temp album: joins it */
    e = lib_asset(&l, "e.jpg", NULL, iso("2022-06-01T10:00:00Z"));
    f = lib_asset(&l, "f.jpg", NULL, iso("2022-06-21T10:00:00Z"));
    lib_in(&l, lib_album(&l, "2022-06-01-autotag-temp-unclassified"), e);
    lib_dup(&l, e, f);
    /* k is 20 days from the name of g's album, but 45 from h in it */
    tg = lib_album(&l, "2021-06-01-autotag-temp-unclassified");
    g = lib_asset(&l, "g.jpg", NULL, iso("2021-06-01T10:00:00Z"));
    h = lib_asset(&l, "h.jpg", NULL, iso("2021-06-26T10:00:00Z"));
    k = lib_asset(&l, "k.jpg", NULL, iso("2021-05-12T10:00:00Z"));
    lib_in(&l, tg, g);
    lib_in(&l, tg, h);
    lib_dup(&l, g, k);
    model_build_indexes(&l.m);

    eval_plan(cfg, &l.m, &p);
    assert_true(plan_has(&p, PLAN_ALBUM_ADD,
                         "2021-05-12-autotag-temp-unclassified", &l.m, k));
    assert_null(plan_find(&p, PLAN_ALBUM_DELETE,
                          "2021-06-01-autotag-temp-unclassified"));
    assert_true(plan_has(&p, PLAN_ALBUM_ADD,
                         "2024-03-16-autotag-temp-unclassified", &l.m, b));
    assert_false(plan_has(&p, PLAN_ALBUM_ADD,
                          "2024-01-01-autotag-temp-unclassified", &l.m, b));
    assert_true(plan_has(&p, PLAN_ALBUM_ADD,
                         "2023-05-01-autotag-temp-unclassified", &l.m, d));
    assert_true(plan_has(&p, PLAN_ALBUM_ADD,
                         "2022-06-01-autotag-temp-unclassified", &l.m, f));
    plan_release(&p);
    /* the first plan has writes, the second none */
    assert_int_equal(runs_to_settle(cfg, &l.m), 1);
    model_release(&l.m);
    config_free(cfg);
}

/* The model after a plan keeps every asset's file name and path (the
 * date patterns and the folder albums read them on the next run). */
static void test_apply_mem_keeps_asset_names_and_paths(void **state)
{
    struct config *cfg = cfg_load(full_cfg);
    struct lib l;
    struct model m1;
    struct plan p;
    struct buf err = BUF_INIT;

    (void)state;
    generate(&l, 7, 120);
    eval_plan(cfg, &l.m, &p);
    assert_true(plan_changes(&p) > 0);
    model_init(&m1);
    assert_int_equal(apply_mem_to_model(&l.m, &p, &m1, &err), 0);
    assert_int_equal(m1.assets_nr, l.m.assets_nr);
    for (size_t i = 0; i < l.m.assets_nr; i++) {
        assert_string_equal(model_str(&m1, m1.assets[i].file_name),
                            model_str(&l.m, l.m.assets[i].file_name));
        assert_string_equal(model_str(&m1, m1.assets[i].path),
                            model_str(&l.m, l.m.assets[i].path));
    }
    plan_release(&p);
    model_release(&m1);
    model_release(&l.m);
    buf_release(&err);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_mem_keeps_asset_names_and_paths),
        cmocka_unit_test(test_rules_duplicate_does_not_make_temp_album_churn),
        cmocka_unit_test(test_rules_plan_applied_then_reevaluated_is_empty),
        cmocka_unit_test(test_rules_plan_is_deterministic_and_round_trips),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
