/*
 * test_e2e_seed.c: the upstream template configuration, unchanged, on the
 * simulator's seed library (26,562 assets, built so that upstream's run
 * makes 2,479 tag additions and 1,418 removals: docs/simulator.md).
 *
 * Our engine makes the same decisions without upstream's one-run lag
 * (docs/upstream-behavior.md §8 item 1): an unclassified asset put in its
 * temporary album "YYYY-MM-DD-autotag-temp-unclassified" is classified by
 * the template's date rule in the same run, so
 *   - autotag_output_unknown is added to none of the 2,150 untagged
 *     unclassified assets (upstream adds it, then removes it next run),
 *   - and removed from the 500 that carried it already, on top of the 900
 *     stale ones;
 * every other figure is the generator's.  The expected values are read
 * from the simulator's `expected`, so the test states the relation, not
 * copies of numbers.  The plan applied in memory (apply_mem.h) and
 * evaluated again plans nothing: the next night's run deletes and makes
 * again no album.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <jansson.h>

#include "config/config.h"
#include "core/common.h"
#include "apply_mem.h"
#include "rules/rules.h"
#include "sim_harness.h"
#include "snapshot/snapshot.h"

static long expected(json_t *e, const char *key)
{
    json_t *v = json_object_get(e, key);

    if (!json_is_integer(v))
        fail_msg("simulator has no expected.%s", key);
    return (long)json_integer_value(v);
}

static size_t items(const struct plan *p, enum plan_op op, const char *name)
{
    const struct plan_group *g = plan_find(p, op, name);

    return g ? g->nr : 0;
}

/* Assets added to albums named like the temporary ones, and the others. */
static void album_adds(const struct plan *p, size_t *temp, size_t *other)
{
    *temp = *other = 0;
    for (size_t i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        if (g->op != PLAN_ALBUM_ADD)
            continue;
        if (strstr(g->name, "-autotag-temp-unclassified"))
            *temp += g->nr;
        else
            *other += g->nr;
    }
}

/* The model after plan p, evaluated again: nothing to do. */
static void second_plan_is_empty(const struct config *cfg,
                                 const struct model *m, const struct plan *p,
                                 const struct rules_opts *ro)
{
    struct model next;
    struct plan p2;
    struct buf err = BUF_INIT;

    model_init(&next);
    if (apply_mem_to_model(m, p, &next, &err) < 0)
        fail_msg("apply: %s", err.buf);
    plan_init(&p2);
    if (rules_evaluate(cfg, &next, ro, &p2, &err) < 0)
        fail_msg("%s", err.buf);
    if (!plan_is_empty(&p2)) {
        plan_print_summary(&p2, &err, 4);
        fail_msg("second plan:\n%s", err.buf);
    }
    plan_release(&p2);
    model_release(&next);
    buf_release(&err);
}

static void test_template_on_seed_library(void **state)
{
    const char *const args[] = {"--preset",  "seed", "--seed", "1",
                                "--latency", "off",  NULL};
    struct sim_proc sim;
    struct buf err = BUF_INIT, body = BUF_INIT;
    struct config *cfg = NULL;
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct http_engine *e;
    struct snapshot_info info;
    struct rules_opts ro = RULES_OPTS_INIT;
    struct model m;
    struct plan p;
    json_t *stats, *ex;
    json_error_t jerr;
    size_t temp, other;
    long unclassified, unknown_add;

    (void)state;
    if (sim_start(&sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    assert_int_equal(sim_request(&sim, "GET", "/__sim/stats", NULL, &body),
                     200);
    stats = json_loadb(body.buf, body.len, 0, &jerr);
    ex = json_object_get(stats, "expected");
    assert_non_null(ex);

    if (config_load_file(IA_TEST_DATA "/config/upstream-template.yaml", &cfg,
                         &err, NULL) < 0)
        fail_msg("%s", err.buf);
    o.base_url = sim.url;
    o.api_key = sim.api_key;
    e = http_engine_new(&o, &err);
    assert_non_null(e);
    model_init(&m);
    if (snapshot_load(cfg, e, NULL, &m, &info, &err) < 0)
        fail_msg("%s", err.buf);
    plan_init(&p);
    ro.server_url = sim.url;
    if (rules_evaluate(cfg, &m, &ro, &p, &err) < 0)
        fail_msg("%s", err.buf);

    unclassified = expected(ex, "unclassified_assets");
    unknown_add = expected(ex, "unknown_additions");
    /* additions: the conflict and mismatch tags as built; no unknown */
    assert_int_equal(items(&p, PLAN_TAG_ADD, "autotag_output_conflict"),
                     expected(ex, "conflict_additions"));
    assert_int_equal(
        items(&p, PLAN_TAG_ADD, "autotag_output_album_date_mismatch"),
        expected(ex, "mismatch_additions"));
    assert_int_equal(items(&p, PLAN_TAG_ADD, "autotag_output_unknown"), 0);
    /* removals: as built, plus the unknown tag of the unclassified assets
     * that carried it and are classified by their temporary album now */
    assert_int_equal(items(&p, PLAN_TAG_REMOVE, "autotag_output_unknown"),
                     expected(ex, "unknown_removals") +
                         (unclassified - unknown_add));
    assert_int_equal(items(&p, PLAN_TAG_REMOVE, "autotag_output_conflict"),
                     expected(ex, "conflict_removals"));
    assert_int_equal(
        items(&p, PLAN_TAG_REMOVE, "autotag_output_album_date_mismatch"),
        expected(ex, "mismatch_removals"));
    assert_int_equal(items(&p, PLAN_TAG_REMOVE, "meme") +
                         items(&p, PLAN_TAG_REMOVE, "adult_meme"),
                     expected(ex, "conversion_removals"));
    /* albums: the converted memes, and every unclassified asset in the
     * temporary album of its date */
    album_adds(&p, &temp, &other);
    assert_int_equal(other, expected(ex, "conversion_album_additions"));
    assert_int_equal(temp, unclassified);
    assert_int_equal(p.stats.unclassified, 0);
    assert_int_equal(p.stats.conflict, expected(ex, "conflict_assets"));
    assert_int_equal(info.dups, expected(ex, "duplicate_groups"));
    assert_int_equal(sim_stat_writes(&sim), 0);
    second_plan_is_empty(cfg, &m, &p, &ro);

    plan_release(&p);
    model_release(&m);
    http_engine_free(e);
    config_free(cfg);
    json_decref(stats);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&err);
    buf_release(&body);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_template_on_seed_library),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
