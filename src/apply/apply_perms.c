/*
 * apply_perms.c: from a plan to the API-key permissions its writes need
 * (one table, see apply_perms.h), and the check against the key's own
 * list (GET /api-keys/me) that runs before the first write.
 */
#include "apply/apply_perms.h"

#include "http/http_engine.h"

enum perm {
    PERM_TAG_CREATE,
    PERM_TAG_ASSET,
    PERM_ALBUM_CREATE,
    PERM_ALBUM_ASSET_CREATE,
    PERM_ALBUM_ASSET_DELETE,
    PERM_ALBUM_DELETE,
    PERM_ALBUM_USER_CREATE,
    PERM_ALBUM_USER_UPDATE,
    PERM_ALBUM_USER_DELETE,
    PERM_ASSET_UPDATE,
    PERM_COUNT
};

/* Immich's names (server/src/enum.ts, Permission). */
static const char *const perm_names[PERM_COUNT] = {
    [PERM_TAG_CREATE] = "tag.create",
    [PERM_TAG_ASSET] = "tag.asset",
    [PERM_ALBUM_CREATE] = "album.create",
    [PERM_ALBUM_ASSET_CREATE] = "albumAsset.create",
    [PERM_ALBUM_ASSET_DELETE] = "albumAsset.delete",
    [PERM_ALBUM_DELETE] = "album.delete",
    [PERM_ALBUM_USER_CREATE] = "albumUser.create",
    [PERM_ALBUM_USER_UPDATE] = "albumUser.update",
    [PERM_ALBUM_USER_DELETE] = "albumUser.delete",
    [PERM_ASSET_UPDATE] = "asset.update",
};

/* The endpoint each group's writes go to, by its permission. */
static const enum perm op_perm[PLAN_OP_COUNT] = {
    [PLAN_TAG_ADD] = PERM_TAG_ASSET,
    [PLAN_TAG_REMOVE] = PERM_TAG_ASSET,
    [PLAN_ALBUM_CREATE] = PERM_ALBUM_CREATE,
    [PLAN_ALBUM_ADD] = PERM_ALBUM_ASSET_CREATE,
    [PLAN_ALBUM_REMOVE] = PERM_ALBUM_ASSET_DELETE,
    [PLAN_ALBUM_DELETE] = PERM_ALBUM_DELETE,
    [PLAN_ALBUM_USER_ADD] = PERM_ALBUM_USER_CREATE,
    [PLAN_ALBUM_USER_ROLE] = PERM_ALBUM_USER_UPDATE,
    [PLAN_ALBUM_USER_REMOVE] = PERM_ALBUM_USER_DELETE,
    [PLAN_ASSET_DATE] = PERM_ASSET_UPDATE,
};

static void plan_perms(const struct plan *p, bool need[PERM_COUNT])
{
    memset(need, 0, PERM_COUNT * sizeof(*need));
    for (size_t i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        /* Creates and deletes carry no items; the rest write nothing
         * without them. */
        if (!g->nr && g->op != PLAN_ALBUM_CREATE && g->op != PLAN_ALBUM_DELETE)
            continue;
        if ((unsigned)g->op >= PLAN_OP_COUNT)
            BUG("plan group with op %d", (int)g->op);
        need[op_perm[g->op]] = true;
        /* The applier upserts every tag an add names that is not there
         * yet (phase 1). */
        if (g->op == PLAN_TAG_ADD && !g->target_exists)
            need[PERM_TAG_CREATE] = true;
    }
}

size_t apply_needed_permissions(const struct plan *p, const char **out,
                                size_t max)
{
    bool need[PERM_COUNT];
    size_t nr = 0;

    plan_perms(p, need);
    for (size_t i = 0; i < PERM_COUNT; i++) {
        if (!need[i])
            continue;
        if (nr < max)
            out[nr] = perm_names[i];
        nr++;
    }
    return nr;
}

size_t apply_missing_permissions(const struct plan *p, const char *const *have,
                                 size_t have_nr, struct buf *missing)
{
    const char *need[PERM_COUNT];
    size_t nr, bad = 0;

    for (size_t j = 0; j < have_nr; j++)
        if (!strcmp(have[j], "all"))
            return 0;
    nr = apply_needed_permissions(p, need, ARRAY_SIZE(need));
    for (size_t i = 0; i < nr; i++) {
        bool held = false;

        for (size_t j = 0; j < have_nr && !held; j++)
            held = !strcmp(have[j], need[i]);
        if (held)
            continue;
        buf_addf(missing, "%s%s", missing->len ? ", " : "", need[i]);
        bad++;
    }
    return bad;
}

struct key_check {
    const struct plan *plan;
    enum apply_perms_result res;
    struct buf *err;
    bool answered; /* on_key() ran */
};

static void on_key(void *ctx, const struct api_status *st,
                   const struct api_key_info *k)
{
    struct key_check *c = ctx;
    struct buf missing = BUF_INIT;

    c->answered = true;
    if (!st->ok) {
        if (st->kind == API_FAIL_HTTP && st->http == 404) {
            c->res = APPLY_PERMS_UNLISTED;
            buf_addstr(c->err, "the server does not list the key's "
                               "permissions (GET /api-keys/me: 404): "
                               "not checked before writing");
        } else {
            c->res = st->kind == API_FAIL_AUTH || st->kind == API_FAIL_NETWORK
                         ? APPLY_PERMS_SERVER
                         : APPLY_PERMS_FAILED;
            buf_addf(c->err, "cannot check the key's permissions: %s",
                     st->error);
        }
        return;
    }
    if (apply_missing_permissions(c->plan, k->permissions, k->permissions_nr,
                                  &missing)) {
        c->res = APPLY_PERMS_MISSING;
        buf_addf(c->err, "missing permissions: %s", missing.buf);
    }
    buf_release(&missing);
}

enum apply_perms_result
apply_check_permissions(const struct plan *p, struct api *api, struct buf *err)
{
    struct key_check c = {p, APPLY_PERMS_OK, err, false};
    struct buf e = BUF_INIT;
    const char *need[PERM_COUNT];

    if (!apply_needed_permissions(p, need, ARRAY_SIZE(need)))
        return APPLY_PERMS_OK;
    api_keys_me(api, on_key, &c);
    /* Fail closed: a question without an answer writes nothing. */
    if (http_engine_run(api->eng, &e) < 0 && !c.answered) {
        c.res = APPLY_PERMS_SERVER;
        buf_addf(err, "cannot check the key's permissions: %s", e.buf);
    } else if (!c.answered) {
        c.res = APPLY_PERMS_FAILED;
        buf_addstr(err, "cannot check the key's permissions: GET "
                        "/api-keys/me was not sent (stopping)");
    }
    buf_release(&e);
    return c.res;
}
