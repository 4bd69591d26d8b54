/*
 * rules.h: every decision upstream immich-autotag makes, as a pure function
 * from (configuration, model) to a plan.
 *
 * rules_evaluate() walks the processed assets in model order (= the
 * server's search order) through upstream's per-asset steps:
 *
 *     1 conversions  2 date correction  3 duplicate classification
 *     4 album assignment (duplicate album conflict, folders, temporary
 *       albums)  5 unknown/conflict output tags  6 album date consistency
 *
 * plus the album-level work (unhealthy and empty temporary albums, album
 * permissions).  Every step reads and updates one in-memory working state
 * (tag set and album set per asset, albums created in this run by name, the
 * asset's date), so later steps and later assets see earlier effects of the
 * same run (upstream's one-run lag is a bug, docs/upstream-behavior.md
 * §8 item 1).  At the end the working state is compared with the model
 * and only the differences become the plan: a tag added then removed in
 * the same run produces nothing.  Deviations from upstream are listed in
 * docs/rules.md.
 *
 * Which assets are processed: the API user's own assets that are not in
 * the trash and whose visibility is timeline or archive, in model order,
 * then the skip_n / max_items window, then the filters (filter_in,
 * filter_out on the state at load).  Assets of other users (flag
 * MODEL_ASSET_PARTNER) are read (duplicate groups, album contents) but
 * never written.
 *
 * An incremental model (model.changes_only) is walked only where a change
 * can affect the plan (rules_scope.c, docs/rules.md "What a change can
 * affect"): the writes are those of a full evaluation, the notes those of
 * the assets walked plus every album-level one.
 *
 * Cost: linear in assets + memberships + albums x rules; no allocation per
 * asset (the working state lives in a few flat arrays).  No I/O, no clock:
 * the caller passes "now".
 *
 *     struct rules_opts o = RULES_OPTS_INIT;
 *     o.now = time_now_ms();
 *     struct plan p;
 *     plan_init(&p);
 *     if (rules_evaluate(cfg, &model, &o, &p, &err) < 0)
 *         fail(err.buf);
 *     // p is finished (canonical order)
 */
#ifndef IA_RULES_H
#define IA_RULES_H

#include "config/config.h"
#include "model/model.h"
#include "plan/plan.h"

/*
 * What one evaluation covered (optional, see rules_opts.result): whether
 * it was incremental (model.changes_only, docs/rules.md "What a change
 * can affect"), how many assets its walk looked at (eligibility, window,
 * filters) and how many it ran the steps of.  A full evaluation walks
 * every asset of the model.
 */
struct rules_result {
    bool incremental;
    size_t assets_walked;
    size_t assets_evaluated;
};

struct rules_opts {
    int64_t now;            /* ms UTC, becomes plan->created_at */
    long skip_n;            /* assets to skip; <0 = take cfg->skip.skip_n */
    long max_items;         /* at most this many; <0 = no limit;
                               RULES_FROM_CONFIG = take cfg->skip.max_items */
    const char *server_url; /* for links in notes; NULL = cfg->server.url */
    struct rules_result *result; /* NULL, or filled on success */
};

#define RULES_FROM_CONFIG (-2)
#define RULES_OPTS_INIT                                                        \
    {                                                                          \
        0, -1, RULES_FROM_CONFIG, NULL, NULL                                   \
    }

/* Temporary albums are recognised by this substring (upstream §9). */
#define RULES_TEMP_ALBUM_MARK "-autotag-temp-unclassified"
/* A temporary album spanning more days than this is unhealthy. */
#define RULES_TEMP_ALBUM_MAX_SPAN_DAYS 30

/*
 * Evaluates cfg against m (indexed) and fills out (plan_init()ed by the
 * caller, finished on return).  Returns 0, or -1 with err set when the
 * model is not indexed or the API user is unknown while a feature needs it
 * (album permissions).  On failure out is left released and re-inited.
 */
int rules_evaluate(const struct config *cfg, const struct model *m,
                   const struct rules_opts *opts, struct plan *out,
                   struct buf *err);

#endif
