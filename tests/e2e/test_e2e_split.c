/*
 * test_e2e_split.c: a pass read in date ranges (snapshot_opts.split_min
 * below the library's size) gives the same model as the pass read by
 * offset, in both dialects, with the documented extra requests: two
 * one-item searches for the span and one statistics call per slice.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "core/common.h"
#include "sim_harness.h"
#include "snapshot/snapshot.h"

#define SLICES 32

struct loaded {
    struct model m;
    struct snapshot_info info;
    long searches, statistics;
};

static void load(const struct sim_proc *sim, int64_t split_min,
                 struct loaded *out)
{
    struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct buf err = BUF_INIT;
    struct http_engine *e;

    assert_int_equal(sim_request(sim, "POST", "/__sim/reset-stats", NULL, &err),
                     200);
    buf_reset(&err);
    o.base_url = sim->url;
    o.api_key = sim->api_key;
    e = http_engine_new(&o, &err);
    assert_non_null(e);
    so.split_min = split_min;
    model_init(&out->m);
    if (snapshot_load(NULL, e, &so, &out->m, &out->info, &err) < 0)
        fail_msg("snapshot: %s", err.buf);
    out->searches = sim_stat_endpoint(sim, "POST /search/metadata");
    out->statistics = sim_stat_endpoint(sim, "POST /search/statistics");
    http_engine_free(e);
    buf_release(&err);
}

/* Same assets with the same dates, same memberships. */
static void assert_same_model(const struct model *a, const struct model *b)
{
    assert_int_equal(a->assets_nr, b->assets_nr);
    for (size_t i = 0; i < a->assets_nr; i++) {
        const struct model_asset *x = &a->assets[i];
        uint32_t j = model_find_asset(b, &x->id);
        const uint32_t *ra, *rb;
        size_t na, nb;

        assert_int_not_equal(j, MODEL_NONE);
        assert_int_equal(x->file_created_at, b->assets[j].file_created_at);
        assert_int_equal(x->date_time_original,
                         b->assets[j].date_time_original);
        assert_int_equal(x->flags, b->assets[j].flags);
        ra = model_asset_albums(a, (uint32_t)i, &na);
        rb = model_asset_albums(b, j, &nb);
        assert_int_equal(na, nb);
        for (size_t k = 0; k < na; k++) {
            bool found = false;

            for (size_t q = 0; q < nb && !found; q++)
                found = uuid_eq(&a->albums[ra[k]].id, &b->albums[rb[q]].id);
            assert_true(found);
        }
    }
}

static void run_dialect(const char *dialect, long passes)
{
    const char *const args[] = {"--preset",  "small",     "--seed",
                                "1",         "--latency", "off",
                                "--dialect", dialect,     NULL};
    struct sim_proc sim;
    struct buf err = BUF_INIT;
    struct loaded plain, split;
    long split_passes = 0;

    if (sim_start(&sim, args, &err) < 0)
        fail_msg("%s", err.buf);
    load(&sim, INT64_MAX, &plain);
    load(&sim, 1, &split);
    assert_int_equal(plain.info.range_passes, 0);
    assert_true(split.info.range_passes > 0);
    assert_int_equal(split.info.range_passes % SLICES, 0);
    split_passes = (long)split.info.range_passes / SLICES;
    /* every pass with assets is split (split_min 1), at most `passes` */
    assert_true(split_passes >= 1 && split_passes <= passes);
    assert_int_equal(split.statistics,
                     plain.statistics + SLICES * split_passes);
    /* two one-item searches per split pass, then pages per range */
    assert_true(split.searches >= plain.searches + 2 * split_passes);
    assert_int_equal(split.info.server_total, plain.info.server_total);
    assert_int_equal((int64_t)split.m.assets_nr, split.info.server_total);
    assert_same_model(&plain.m, &split.m);
    assert_same_model(&split.m, &plain.m);
    model_release(&plain.m);
    model_release(&split.m);
    assert_int_equal(sim_stat_writes(&sim), 0);
    assert_int_equal(sim_stop(&sim), 0);
    buf_release(&err);
}

static void test_split_matches_offset_reading_v3(void **state)
{
    (void)state;
    run_dialect("3", 1);
}

static void test_split_matches_offset_reading_v2(void **state)
{
    (void)state;
    /* 2.x reads timeline, archive and hidden separately */
    run_dialect("2", 3);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_matches_offset_reading_v3),
        cmocka_unit_test(test_split_matches_offset_reading_v2),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
