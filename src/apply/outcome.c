/*
 * outcome.c: the per-item result table the applier fills and the reports
 * read.
 */
#include "apply/outcome.h"

static const char *const error_names[OUTCOME_E_COUNT] = {
    [OUTCOME_E_NONE] = "",
    [OUTCOME_E_DUPLICATE] = "duplicate",
    [OUTCOME_E_NO_PERMISSION] = "no_permission",
    [OUTCOME_E_NOT_FOUND] = "not_found",
    [OUTCOME_E_VALIDATION] = "validation",
    [OUTCOME_E_UNKNOWN] = "unknown",
    [OUTCOME_E_REQUEST] = "request_failed",
    [OUTCOME_E_TARGET] = "target_not_created",
    [OUTCOME_E_MOVE_ADD] = "move_add_not_confirmed",
};

const char *outcome_error_name(enum outcome_error e)
{
    return (unsigned)e < OUTCOME_E_COUNT ? error_names[e] : "unknown";
}

const char *outcome_status_name(enum outcome_status s)
{
    switch (s) {
    case OUTCOME_PENDING:
        return "pending";
    case OUTCOME_DONE:
        return "done";
    case OUTCOME_UNCHANGED:
        return "unchanged";
    case OUTCOME_FAILED:
        return "failed";
    }
    return "unknown";
}

bool outcome_group_has_action(const struct plan_group *g)
{
    if (g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE)
        return true;
    /* A tag that does not exist yet is created before it is used. */
    return g->op == PLAN_TAG_ADD && !g->target_exists;
}

void outcome_init(struct outcome *o, const struct plan *p)
{
    size_t g;

    memset(o, 0, sizeof(*o));
    o->nr = p->nr;
    o->groups = xcalloc(p->nr ? p->nr : 1, sizeof(*o->groups));
    for (g = 0; g < p->nr; g++) {
        struct outcome_group *og = &o->groups[g];
        size_t n = p->groups[g].nr ? p->groups[g].nr : 1;

        og->status = xcalloc(n, 1);
        og->error = xcalloc(n, 1);
        if (p->groups[g].target_exists) {
            og->target = p->groups[g].target;
            og->has_target = true;
        }
    }
}

void outcome_release(struct outcome *o)
{
    size_t g;

    if (!o)
        return;
    for (g = 0; g < o->nr; g++) {
        free(o->groups[g].status);
        free(o->groups[g].error);
        free(o->groups[g].message);
    }
    free(o->groups);
    memset(o, 0, sizeof(*o));
}

void outcome_set_message(struct outcome *o, size_t g, const char *msg)
{
    if (g >= o->nr || o->groups[g].message)
        return;
    o->groups[g].message = xstrdup(msg);
}

static void count(struct outcome *o, uint8_t s)
{
    switch (s) {
    case OUTCOME_DONE:
        o->done++;
        break;
    case OUTCOME_UNCHANGED:
        o->unchanged++;
        break;
    case OUTCOME_FAILED:
        o->failed++;
        break;
    default:
        o->pending++;
        break;
    }
}

void outcome_tally(struct outcome *o, const struct plan *p)
{
    size_t g, i;

    o->done = o->unchanged = o->failed = o->pending = 0;
    for (g = 0; g < o->nr && g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];

        if (outcome_group_has_action(pg))
            count(o, o->groups[g].action);
        for (i = 0; i < pg->nr; i++)
            count(o, o->groups[g].status[i]);
    }
}
