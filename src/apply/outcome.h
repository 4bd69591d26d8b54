/*
 * outcome.h: what happened to each change of a plan.
 *
 * The applier (src/apply) fills it while it writes; the report writers
 * (report.h) read it next to the plan to say, for every item, whether it
 * was done, already so, failed, or never attempted (dry run, interrupted
 * run, fail-fast stop).  It is a plain value indexed like the plan:
 * groups[g] belongs to plan->groups[g], and groups[g].status[i] to
 * plan->groups[g].items[i].
 *
 *     struct outcome o;
 *     outcome_init(&o, &plan);          // every item PENDING
 *     apply_run(..., &plan, &o, &err);  // sets DONE / UNCHANGED / FAILED
 *     outcome_tally(&o);                // done/unchanged/failed/pending
 *     report_...(&ctx);                 // reads plan + outcome
 *     outcome_release(&o);
 *
 * The plan must not change (no plan_group()/plan_add()) while an outcome
 * refers to it.
 */
#ifndef IA_OUTCOME_H
#define IA_OUTCOME_H

#include "plan/plan.h"

enum outcome_status {
    OUTCOME_PENDING = 0, /* not attempted: dry run, stopped, skipped */
    OUTCOME_DONE,        /* changed on the server by this run */
    OUTCOME_UNCHANGED,   /* server already had it (duplicate / not_found) */
    OUTCOME_FAILED,      /* refused or the request failed */
};

/* Why an item failed (or was UNCHANGED): the server's BulkIdResponseDto
 * reason, or the request as a whole. */
enum outcome_error {
    OUTCOME_E_NONE = 0,
    OUTCOME_E_DUPLICATE,     /* add: already linked */
    OUTCOME_E_NO_PERMISSION, /* no access to the asset */
    OUTCOME_E_NOT_FOUND,     /* remove: not linked, or unknown id */
    OUTCOME_E_VALIDATION,
    OUTCOME_E_UNKNOWN,
    OUTCOME_E_REQUEST,  /* the whole request failed: see message */
    OUTCOME_E_TARGET,   /* the tag/album could not be created */
    OUTCOME_E_MOVE_ADD, /* a move's source kept: its add was not
                           confirmed by the server */
    OUTCOME_E_COUNT
};

struct outcome_group {
    uint8_t action; /* status of the group's own action: album
                       create/delete, creation of a missing tag */
    uint8_t action_error;
    uint8_t *status;    /* per item: enum outcome_status */
    uint8_t *error;     /* per item: enum outcome_error */
    char *message;      /* first request failure, "PUT /tags/{id}/assets:
                           403 ..." (owned, NULL if none) */
    struct uuid target; /* tag/album id: existing, or created by the run */
    bool has_target;    /* target is meaningful */
    bool created;       /* the target was created by this run */
    /* A created album as the server described it after the create (its
     * assets rode along): what the next run's read would see. */
    bool album_state;
    int64_t album_updated_at, album_last_modified;
    long album_asset_count;
};

struct outcome {
    struct outcome_group *groups; /* parallel to plan->groups */
    size_t nr;
    /* Filled by outcome_tally() (items and group actions together). */
    size_t done, unchanged, failed, pending;
    size_t requests;        /* write requests sent */
    size_t requests_failed; /* write requests that failed as a whole */
    bool dry_run;           /* nothing was meant to be written */
    bool interrupted;       /* stopped by a signal */
    bool aborted;           /* stopped by fail_fast_on_asset_errors */
};

/* Sizes the outcome after p (every status PENDING); targets that exist
 * already are copied from the plan. */
void outcome_init(struct outcome *o, const struct plan *p);
void outcome_release(struct outcome *o);
/* Records the first request-level failure of group g (copied). */
void outcome_set_message(struct outcome *o, size_t g, const char *msg);
/* Recounts done/unchanged/failed/pending. */
void outcome_tally(struct outcome *o, const struct plan *p);
/* "duplicate", "no_permission", ... (the server's words). */
const char *outcome_error_name(enum outcome_error e);
const char *outcome_status_name(enum outcome_status s);
/* True when the group's op has a group action (create/delete/new tag). */
bool outcome_group_has_action(const struct plan_group *g);

#endif
