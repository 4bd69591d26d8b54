/*
 * apply_mem.c: the model after a plan, computed in memory (apply_mem.h).
 *
 * This is what the next snapshot would read once the applier has done its
 * work: the idempotence tests evaluate the rules on it again and expect an
 * empty plan, and the applier's tests use it as the expected end state.
 * Records keep their order (assets and tags keep their indexes; deleted
 * albums drop out); created tags and albums get ids derived from their
 * names so that two runs give the same model.
 */
#include "apply_mem.h"

static struct uuid id_from_name(const char *name, uint64_t salt)
{
    uint64_t st = hash_bytes(name, strlen(name)) ^ salt;
    struct uuid u;

    uuid_v4_from_state(&st, &u);
    return u;
}

static uint64_t pair_key(uint32_t a, uint32_t b)
{
    return ((uint64_t)a << 32) | b;
}

struct apply_ctx {
    const struct model *in;
    struct model *out;
    uint32_t *album_map;            /* in album -> out album or MODEL_NONE */
    struct u64map tag_rm, album_rm; /* (in target, asset) removed */
    struct u64map user_rm;          /* (in album, user) removed */
    struct u64map user_role;        /* (in album, user) -> new role */
    struct buf *err;
};

static uint32_t find_asset(struct apply_ctx *c, const struct uuid *id)
{
    uint32_t a = model_find_asset(c->in, id);

    if (a == MODEL_NONE) {
        char s[UUID_STR_LEN + 1];

        uuid_format(id, s);
        buf_addf(c->err, "cannot apply plan: unknown asset %s", s);
    }
    return a;
}

static uint32_t in_album(struct apply_ctx *c, const struct plan_group *g)
{
    uint32_t al = model_find_album(c->in, &g->target);

    if (al == MODEL_NONE)
        buf_addf(c->err, "cannot apply plan: unknown album '%s'", g->name);
    return al;
}

/* The out album of a group: existing (mapped) or created by name. */
static uint32_t out_album(struct apply_ctx *c, const struct plan_group *g)
{
    uint32_t al;

    if (g->target_exists) {
        al = in_album(c, g);
        if (al == MODEL_NONE)
            return MODEL_NONE;
        if (c->album_map[al] == MODEL_NONE) {
            buf_addf(c->err, "cannot apply plan: album '%s' is deleted",
                     g->name);
            return MODEL_NONE;
        }
        return c->album_map[al];
    }
    {
        struct uuid id = id_from_name(g->name, 0xa1b);

        al = model_find_album(c->out, &id);
    }
    if (al == MODEL_NONE)
        buf_addf(c->err, "cannot apply plan: album '%s' is not created",
                 g->name);
    return al;
}

static int first_pass(struct apply_ctx *c, const struct plan *p)
{
    size_t i, j;

    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];
        uint32_t t = MODEL_NONE;

        if (g->op == PLAN_TAG_REMOVE) {
            t = model_find_tag(c->in, &g->target);
            if (!g->target_exists || t == MODEL_NONE) {
                buf_addf(c->err, "cannot apply plan: unknown tag '%s'",
                         g->name);
                return -1;
            }
        } else if (g->op == PLAN_ALBUM_REMOVE || g->op == PLAN_ALBUM_DELETE ||
                   ((g->op == PLAN_ALBUM_USER_ROLE ||
                     g->op == PLAN_ALBUM_USER_REMOVE) &&
                    g->target_exists)) {
            if ((t = in_album(c, g)) == MODEL_NONE)
                return -1;
        } else {
            continue;
        }
        if (g->op == PLAN_ALBUM_DELETE) {
            c->album_map[t] = MODEL_NONE;
            continue;
        }
        for (j = 0; j < g->nr; j++) {
            uint32_t x;

            if (g->op == PLAN_ALBUM_USER_ROLE ||
                g->op == PLAN_ALBUM_USER_REMOVE) {
                x = model_find_user(c->in, &g->items[j].id);
                if (x == MODEL_NONE) {
                    buf_addf(c->err,
                             "cannot apply plan: unknown user in "
                             "album '%s'",
                             g->name);
                    return -1;
                }
                if (g->op == PLAN_ALBUM_USER_REMOVE)
                    u64map_put(&c->user_rm, pair_key(t, x), 1);
                else
                    u64map_put(&c->user_role, pair_key(t, x),
                               (uint32_t)g->role);
                continue;
            }
            if ((x = find_asset(c, &g->items[j].id)) == MODEL_NONE)
                return -1;
            u64map_put(g->op == PLAN_TAG_REMOVE ? &c->tag_rm : &c->album_rm,
                       pair_key(t, x), 1);
        }
    }
    return 0;
}

void apply_mem_copy_users_tags(const struct model *in, struct model *out)
{
    size_t i;

    for (i = 0; i < in->users_nr; i++)
        model_add_user(out, &in->users[i].id, model_str(in, in->users[i].email),
                       model_str(in, in->users[i].name));
    out->me = in->me;
    out->server_major = in->server_major;
    out->server_minor = in->server_minor;
    out->server_patch = in->server_patch;
    for (i = 0; i < in->tags_nr; i++) {
        struct model_tag t = in->tags[i];

        t.name = model_intern(out, model_str(in, in->tags[i].name));
        t.value = model_intern(out, model_str(in, in->tags[i].value));
        model_add_tag(out, &t);
    }
}

static void copy_records(struct apply_ctx *c, const struct plan *p)
{
    const struct model *in = c->in;
    struct model *out = c->out;
    size_t i, j;

    apply_mem_copy_users_tags(in, out);
    for (i = 0; i < in->dups_nr; i++)
        model_add_dup(out, &in->dups[i].id);
    for (i = 0; i < in->assets_nr; i++) {
        struct model_asset a = in->assets[i];

        /* string ids are offsets into the model's own pool */
        a.file_name = model_intern(out, model_str(in, a.file_name));
        a.path = model_intern(out, model_str(in, a.path));
        model_add_asset(out, &a);
    }
    /* dates */
    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        if (g->op != PLAN_ASSET_DATE)
            continue;
        for (j = 0; j < g->nr; j++) {
            uint32_t a = model_find_asset(in, &g->items[j].id);
            struct model_asset *x;

            if (a == MODEL_NONE)
                continue; /* reported by the link pass */
            x = &out->assets[a];
            x->date_time_original = g->date;
            x->file_created_at = g->date;
            x->local_date_time = g->date + (int64_t)g->offset_min * 60000;
            x->flags |= MODEL_ASSET_EXIF;
        }
    }
    /* tags to create */
    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];
        struct model_tag t;
        const char *slash;

        if (g->op != PLAN_TAG_ADD || g->target_exists ||
            model_find_tag_by_value(out, g->name) != MODEL_NONE)
            continue;
        memset(&t, 0, sizeof(t));
        t.id = id_from_name(g->name, 0x7a9);
        slash = strrchr(g->name, '/');
        t.name = model_intern(out, slash ? slash + 1 : g->name);
        t.value = model_intern(out, g->name);
        t.parent = MODEL_NONE;
        t.members_known = true;
        model_add_tag(out, &t);
    }
}

/* An album's users as copy_albums() builds them. */
struct user_list {
    struct model_album_user *v;
    size_t nr, alloc;
};

/* Appends the users group g adds (those the model knows), with g's role. */
static void add_group_users(struct user_list *l, const struct model *in,
                            const struct plan_group *g)
{
    for (size_t j = 0; j < g->nr; j++) {
        uint32_t u = model_find_user(in, &g->items[j].id);

        if (u == MODEL_NONE)
            continue;
        ALLOC_GROW(l->v, l->nr + 1, l->alloc);
        l->v[l->nr].user = u;
        l->v[l->nr++].role = (uint8_t)g->role;
    }
}

/*
 * The albums after the plan: each kept album with its users (those the
 * plan removes left out, re-roled ones with their new role, added ones
 * appended), then each album the plan creates, with the users the plan
 * adds to it by name.
 */
static void copy_albums(struct apply_ctx *c, const struct plan *p)
{
    const struct model *in = c->in;
    struct model *out = c->out;
    struct user_list ul = {NULL, 0, 0};
    size_t i, j, k;

    for (i = 0; i < in->albums_nr; i++) {
        const struct model_album *ma = &in->albums[i];
        struct model_album na = *ma;

        if (c->album_map[i] == MODEL_NONE)
            continue;
        ul.nr = 0;
        for (j = 0; j < ma->users_nr; j++) {
            struct model_album_user u = in->album_users[ma->users_first + j];
            uint32_t r;

            if (u64map_get(&c->user_rm, pair_key((uint32_t)i, u.user)) !=
                HASHMAP_NONE)
                continue;
            r = u64map_get(&c->user_role, pair_key((uint32_t)i, u.user));
            if (r != HASHMAP_NONE)
                u.role = (uint8_t)r;
            ALLOC_GROW(ul.v, ul.nr + 1, ul.alloc);
            ul.v[ul.nr++] = u;
        }
        /* users added by the plan */
        for (k = 0; k < p->nr; k++) {
            const struct plan_group *g = &p->groups[k];

            if (g->op == PLAN_ALBUM_USER_ADD && g->target_exists &&
                uuid_eq(&g->target, &ma->id))
                add_group_users(&ul, in, g);
        }
        na.name = model_intern(out, model_str(in, ma->name));
        c->album_map[i] = model_add_album(out, &na, ul.v, ul.nr);
    }
    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];
        struct model_album na;

        if (g->op != PLAN_ALBUM_CREATE)
            continue;
        ul.nr = 0;
        for (k = 0; k < p->nr; k++) {
            const struct plan_group *ug = &p->groups[k];

            if (ug->op == PLAN_ALBUM_USER_ADD && !ug->target_exists &&
                !strcmp(ug->name, g->name))
                add_group_users(&ul, in, ug);
        }
        memset(&na, 0, sizeof(na));
        na.id = id_from_name(g->name, 0xa1b);
        na.name = model_intern(out, g->name);
        na.owner = in->me;
        na.start_date = na.end_date = TIME_NONE;
        na.created_at = na.updated_at = TIME_NONE;
        na.members_known = true;
        model_add_album(out, &na, ul.v, ul.nr);
    }
    free(ul.v);
}

static int link_all(struct apply_ctx *c, const struct plan *p)
{
    const struct model *in = c->in;
    struct model *out = c->out;
    size_t i, j, nr;

    for (i = 0; i < in->tags_nr; i++) {
        const uint32_t *row = model_tag_assets(in, (uint32_t)i, &nr);

        for (j = 0; j < nr; j++)
            if (u64map_get(&c->tag_rm, pair_key((uint32_t)i, row[j])) ==
                HASHMAP_NONE)
                model_link_tag_asset(out, (uint32_t)i, row[j]);
    }
    for (i = 0; i < in->albums_nr; i++) {
        const uint32_t *row = model_album_assets(in, (uint32_t)i, &nr);

        if (c->album_map[i] == MODEL_NONE)
            continue;
        for (j = 0; j < nr; j++)
            if (u64map_get(&c->album_rm, pair_key((uint32_t)i, row[j])) ==
                HASHMAP_NONE)
                model_link_album_asset(out, c->album_map[i], row[j]);
    }
    for (i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];
        uint32_t t;

        if (g->op == PLAN_TAG_ADD) {
            t = g->target_exists ? model_find_tag(in, &g->target)
                                 : model_find_tag_by_value(out, g->name);
            if (t == MODEL_NONE) {
                buf_addf(c->err, "cannot apply plan: unknown tag '%s'",
                         g->name);
                return -1;
            }
        } else if (g->op == PLAN_ALBUM_ADD) {
            if ((t = out_album(c, g)) == MODEL_NONE)
                return -1;
        } else {
            continue;
        }
        for (j = 0; j < g->nr; j++) {
            uint32_t a = find_asset(c, &g->items[j].id);

            if (a == MODEL_NONE)
                return -1;
            if (g->op == PLAN_TAG_ADD)
                model_link_tag_asset(out, t, a);
            else
                model_link_album_asset(out, t, a);
        }
    }
    return 0;
}

void apply_mem_album_stats(struct model *out)
{
    size_t al, i, nr;

    for (al = 0; al < out->albums_nr; al++) {
        struct model_album *x = &out->albums[al];
        const uint32_t *row;

        if (!x->members_known)
            continue;
        row = model_album_assets(out, (uint32_t)al, &nr);
        x->asset_count = 0;
        x->start_date = x->end_date = TIME_NONE;
        for (i = 0; i < nr; i++) {
            const struct model_asset *a = &out->assets[row[i]];

            if ((a->flags & MODEL_ASSET_TRASHED) ||
                (a->visibility != MODEL_VIS_TIMELINE &&
                 a->visibility != MODEL_VIS_ARCHIVE))
                continue;
            x->asset_count++;
            if (a->local_date_time == TIME_NONE)
                continue;
            if (x->start_date == TIME_NONE ||
                a->local_date_time < x->start_date)
                x->start_date = a->local_date_time;
            if (x->end_date == TIME_NONE || a->local_date_time > x->end_date)
                x->end_date = a->local_date_time;
        }
    }
}

int apply_mem_to_model(const struct model *in, const struct plan *p,
                       struct model *out, struct buf *err)
{
    struct apply_ctx c;
    size_t i;
    int ret = -1;

    if (!in->indexed) {
        buf_addstr(err, "cannot apply plan: the model is not indexed");
        return -1;
    }
    memset(&c, 0, sizeof(c));
    c.in = in;
    c.out = out;
    c.err = err;
    c.album_map = xmalloc(st_mult(in->albums_nr + 1, sizeof(uint32_t)));
    for (i = 0; i < in->albums_nr; i++)
        c.album_map[i] = 0; /* kept unless deleted */
    if (first_pass(&c, p) < 0)
        goto out;
    copy_records(&c, p);
    copy_albums(&c, p);
    if (link_all(&c, p) < 0)
        goto out;
    model_build_indexes(out);
    apply_mem_album_stats(out);
    ret = 0;
out:
    if (ret < 0) {
        model_release(out);
        model_init(out);
    }
    free(c.album_map);
    u64map_release(&c.tag_rm);
    u64map_release(&c.album_rm);
    u64map_release(&c.user_rm);
    u64map_release(&c.user_role);
    return ret;
}
