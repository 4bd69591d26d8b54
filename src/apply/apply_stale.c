/*
 * apply_stale.c: is a saved plan (`plan --json` earlier, `apply FILE` now)
 * still right for the server as it is?  The check compares the saved plan
 * with a fresh one computed from a new snapshot and with that snapshot's
 * memberships.  Cost: one sort of each fresh group's ids, then one binary
 * search per saved item.
 */
#include "apply/apply.h"

static int cmp_uuid(const void *a, const void *b)
{
    return uuid_cmp(a, b);
}

/* The fresh group with the same op and tag/album name (and role/date). */
static const struct plan_group *find_group(const struct plan *p,
                                           const struct plan_group *g)
{
    size_t i;

    for (i = 0; i < p->nr; i++) {
        const struct plan_group *f = &p->groups[i];

        if (f->op != g->op ||
            strcmp(f->name ? f->name : "", g->name ? g->name : ""))
            continue;
        if (g->op == PLAN_ASSET_DATE &&
            (f->date != g->date || f->offset_min != g->offset_min))
            continue;
        if ((g->op == PLAN_ALBUM_USER_ADD || g->op == PLAN_ALBUM_USER_ROLE) &&
            f->role != g->role)
            continue;
        return f;
    }
    return NULL;
}

/* The name the group's existing target has now, NULL when it is gone. */
static const char *target_name(const struct model *m,
                               const struct plan_group *g, bool is_tag)
{
    uint32_t x;

    if (is_tag) {
        x = model_find_tag(m, &g->target);
        return x == MODEL_NONE ? NULL : model_str(m, m->tags[x].value);
    }
    x = model_find_album(m, &g->target);
    return x == MODEL_NONE ? NULL : model_str(m, m->albums[x].name);
}

/* Is the item already true in the new snapshot? */
static bool already_true(const struct model *m, const struct plan_group *g,
                         const struct uuid *id)
{
    uint32_t a = model_find_asset(m, id), t;
    const uint32_t *list;
    size_t nr, i;

    if (a == MODEL_NONE)
        return false;
    switch (g->op) {
    case PLAN_TAG_ADD:
    case PLAN_TAG_REMOVE:
        t = g->target_exists ? model_find_tag(m, &g->target)
                             : model_find_tag_by_value(m, g->name);
        list = model_asset_tags(m, a, &nr);
        for (i = 0; i < nr; i++)
            if (list[i] == t)
                return g->op == PLAN_TAG_ADD;
        return g->op == PLAN_TAG_REMOVE;
    case PLAN_ALBUM_ADD:
    case PLAN_ALBUM_REMOVE:
        if (!g->target_exists)
            return false;
        t = model_find_album(m, &g->target);
        list = model_asset_albums(m, a, &nr);
        for (i = 0; i < nr; i++)
            if (list[i] == t)
                return g->op == PLAN_ALBUM_ADD;
        return g->op == PLAN_ALBUM_REMOVE;
    default:
        return false;
    }
}

int apply_check_stale(const struct plan *saved, const struct plan *fresh,
                      const struct model *m, struct buf *err)
{
    struct buf first = BUF_INIT;
    size_t g, i, bad = 0;
    char id[UUID_STR_LEN + 1];

    for (g = 0; g < saved->nr; g++) {
        const struct plan_group *sg = &saved->groups[g];
        const struct plan_group *fg = find_group(fresh, sg);
        struct uuid *ids = NULL;
        size_t nr = 0;
        bool is_tag = sg->op == PLAN_TAG_ADD || sg->op == PLAN_TAG_REMOVE;

        /* The tag/album it names must still be there, under the same
         * name: a target is its id and its name, and a renamed one is
         * not what the plan was made for (its old name may even belong
         * to a new album now). */
        if (sg->target_exists && sg->op != PLAN_ASSET_DATE) {
            const char *now = target_name(m, sg, is_tag);

            if (!now) {
                if (!bad++)
                    buf_addf(&first, "%s '%s' no longer exists",
                             is_tag ? "tag" : "album", sg->name);
                continue;
            }
            if (strcmp(now, sg->name ? sg->name : "")) {
                if (!bad++)
                    buf_addf(&first, "%s '%s' is now named '%s'",
                             is_tag ? "tag" : "album", sg->name, now);
                continue;
            }
            /* ...and the name must still mean that tag/album. */
            if (fg && fg->target_exists && !uuid_eq(&fg->target, &sg->target)) {
                if (!bad++)
                    buf_addf(&first, "%s '%s' is now another %s",
                             is_tag ? "tag" : "album", sg->name,
                             is_tag ? "tag" : "album");
                continue;
            }
        }
        /* ...and an album it creates must not exist yet. */
        if (sg->op == PLAN_ALBUM_CREATE) {
            if (model_find_album_by_name(m, sg->name) != MODEL_NONE && !fg) {
                if (!bad++)
                    buf_addf(&first, "album '%s' exists already", sg->name);
            }
            continue;
        }
        if (sg->op == PLAN_ALBUM_DELETE) {
            if (!fg && !bad++)
                buf_addf(&first, "album '%s' is no longer to be deleted",
                         sg->name);
            continue;
        }
        if (fg && fg->nr) {
            ids = xmalloc(st_mult(fg->nr, sizeof(*ids)));
            for (i = 0; i < fg->nr; i++)
                ids[i] = fg->items[i].id;
            nr = fg->nr;
            qsort(ids, nr, sizeof(*ids), cmp_uuid);
        }
        for (i = 0; i < sg->nr; i++) {
            const struct uuid *u = &sg->items[i].id;

            if (nr && bsearch(u, ids, nr, sizeof(*ids), cmp_uuid))
                continue;
            if (already_true(m, sg, u))
                continue;
            if (!bad++) {
                uuid_format(u, id);
                buf_addf(&first, "%s '%s' of %s is no longer planned",
                         plan_op_name(sg->op), sg->name ? sg->name : "", id);
            }
        }
        free(ids);
    }
    if (bad) {
        buf_addf(err, "saved plan is stale: %s (%zu item%s)", first.buf, bad,
                 bad == 1 ? "" : "s");
        buf_release(&first);
        return -1;
    }
    buf_release(&first);
    return 0;
}
