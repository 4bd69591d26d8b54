/*
 * apply_mem.h: the model after a plan, computed in memory (a test helper:
 * what the next snapshot would read once the applier has done its work).
 */
#ifndef IA_TEST_APPLY_MEM_H
#define IA_TEST_APPLY_MEM_H

#include "model/model.h"
#include "plan/plan.h"

/*
 * The model after the plan was applied, as the server would show it on the
 * next read: in = old model (indexed), out = new model (model_init()ed by
 * the caller; indexed on return).  Tags and albums the plan creates get
 * deterministic ids derived from their names; deleted albums disappear;
 * album members' start/end dates and asset counts are recomputed; a date
 * update sets dateTimeOriginal and fileCreatedAt to the new instant and
 * localDateTime to it in the written offset (what Immich's metadata
 * extraction does later).  Album users are added, re-roled and removed.
 * Returns -1 with err set when the plan names an unknown asset, album, tag
 * or user id.  Used by the idempotence tests (test_rules_prop.c).
 */
int apply_mem_to_model(const struct model *in, const struct plan *p,
                       struct model *out, struct buf *err);

/* Into out (model_init()ed): in's users (and the API user, the server
 * version) and tags, with the same indexes. */
void apply_mem_copy_users_tags(const struct model *in, struct model *out);

/* What the server computes on read, for every album whose members are
 * known: assetCount, startDate, endDate (m indexed). */
void apply_mem_album_stats(struct model *m);

#endif
