/*
 * test_rules_incr.c: an incremental evaluation (model.changes_only) plans
 * exactly the writes of a full one (docs/rules.md "What a change can
 * affect").
 *
 * Each case: a generated library (rules_gen.h) and a random configuration
 * are brought to a fixpoint of full evaluations (the plan applied in
 * memory until it plans nothing; a library that does not settle within
 * six runs fails), as after a good run; then random
 * changes of every kind are made to it, as other users and the server
 * would, and flagged the way the incremental loader flags them
 * (model.h): MODEL_ASSET_CHANGED on assets new, edited, restored or whose
 * tags, albums or duplicate group changed, `changed` on albums new or
 * renamed, shared or whose members changed; removed assets are absent
 * and their albums and duplicate partners flagged.  This file flags what
 * each change touched; it never asks the rules what a change reaches.
 * The writes of both evaluations of the changed model must be equal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apply_mem.h"
#include "rules_gen.h"

/* ---- random configurations ---- */

/* A configuration from the bits of seed; links name assets of m. */
static struct config *gen_config(uint64_t seed, const struct model *m)
{
    uint64_t s = seed;
    unsigned bits = (unsigned)splitmix64(&s);
    struct buf y = BUF_INIT;
    char id[UUID_STR_LEN + 1];
    struct config *cfg;

    uuid_format(&m->assets[pick(&s, (unsigned)m->assets_nr)].id, id);
    buf_addstr(&y, CFG_BASE);
    if (bits & 1) {
        buf_addstr(&y, "conversions:\n"
                       "  conversions:\n"
                       "    - source: {tag_names: [meme, autotag_input_meme]}\n"
                       "      destination: {album_names: "
                       "[autotag_input_meme]}\n"
                       "      mode: move\n"
                       "    - source: {tag_names: [old]}\n"
                       "      destination: {tag_names: [renamed]}\n"
                       "      mode: copy\n"
                       "    - source: {tag_names: [lost]}\n"
                       "      destination: {album_names: [missing album]}\n");
        buf_addf(&y,
                 "    - source: {asset_links: [%s], album_name_patterns: "
                 "['^Fav']}\n"
                 "      destination: {album_names: [Trip], tag_names: "
                 "[holiday]}\n"
                 "      mode: copy\n",
                 id);
    } else {
        buf_addstr(&y, "conversions: {}\n");
    }
    buf_addstr(&y, "classification:\n"
                   "  rules:\n"
                   "    - tag_names: [meme, autotag_input_meme]\n"
                   "      album_name_patterns: ['^autotag_input_meme$']\n");
    if (bits & 2)
        buf_addstr(&y, "    - tag_names: [adult_meme]\n");
    if (bits & 4)
        buf_addstr(&y, "    - tag_names: [renamed, autotag_input_ignore]\n");
    if (bits & 8)
        buf_addstr(
            &y, "    - album_name_patterns: ['^\\d{4}-(\\d{2}(-\\d{2})?)?']\n");
    else
        buf_addstr(&y, "    - album_name_patterns: ['^Trip', '^family']\n");
    if (bits & 16) {
        buf_addf(&y,
                 "duplicate_processing:\n"
                 "  date_correction: {enabled: %s, extraction_timezone: "
                 "Europe/Madrid}\n",
                 bits & 32 ? "true" : "false");
        if (bits & 64)
            buf_addstr(&y, "  autotag_classification_conflict_prefix: null\n");
    }
    if (bits & 128)
        buf_addf(&y,
                 "album_date_consistency: {enabled: true, threshold_days: "
                 "%d}\n",
                 bits & 256 ? 180 : 20);
    buf_addf(&y,
             "album_detection_from_folders: {enabled: %s, excluded_paths: "
             "[whatsapp]}\n",
             bits & 512 ? "true" : "false");
    buf_addf(&y, "create_album_from_date_if_missing: %s\n",
             bits & 1024 ? "false" : "true");
    if (bits & 2048)
        buf_addstr(&y,
                   "album_permissions:\n"
                   "  enabled: true\n"
                   "  log_unmatched: true\n"
                   "  user_groups:\n"
                   "    - {name: fam, members: [ann@example.com, "
                   "bob@example.com]}\n"
                   "    - {name: friends, members: [cid@example.com]}\n"
                   "  selection_rules:\n"
                   "    - {name: family, keyword: family, groups: [fam], "
                   "access: edit}\n"
                   "    - {name: trip, keyword: trip, groups: [friends]}\n");
    switch ((bits >> 12) & 7) {
    case 0:
        buf_addstr(&y, "filters: {filter_out: [{tag_names: [holiday]}]}\n");
        break;
    case 1:
        buf_addstr(&y, "filters: {filter_in: [{album_name_patterns: ['^2', "
                       "'^Trip'], tag_names: [meme]}]}\n");
        break;
    case 2:
        buf_addf(&y, "filters: {filter_in: [{asset_links: [%s]}]}\n", id);
        break;
    default:
        break;
    }
    cfg = cfg_load(y.buf);
    buf_release(&y);
    return cfg;
}

/* ---- the changes ---- */

struct ed_link {
    uint32_t target, asset; /* album / tag, asset (edit indexes) */
    bool dead;              /* removed again */
};

struct ed_album {
    char *name;
    uint32_t owner;
    struct model_album_user users[4];
    size_t users_nr;
    int64_t created_at;
    bool drop, changed;
};

/*
 * The changed library, before it becomes a model: the fixpoint's records
 * (same indexes) edited, then new ones.  Links are the model's minus
 * `rm_*` plus `add_*`.
 */
struct edit {
    const struct model *in;
    struct lib *l; /* uuids for new records */
    uint64_t rnd;
    struct model_asset *assets;
    const char **fname, **fpath;
    uint8_t *drop, *changed;
    size_t assets_nr, assets_alloc;
    struct ed_album *albums;
    size_t albums_nr, albums_alloc;
    char **new_tags;
    size_t new_tags_nr, new_tags_alloc;
    size_t dups_nr; /* in->dups_nr plus new groups */
    struct u64map rm_album, rm_tag;
    struct ed_link *add_album, *add_tag;
    size_t add_album_nr, add_album_alloc, add_tag_nr, add_tag_alloc;
    struct buf log; /* what was changed, for a failure message */
};

struct ids {
    uint32_t *items;
    size_t nr, alloc;
};

static void ids_push(struct ids *v, uint32_t x)
{
    ALLOC_GROW(v->items, v->nr + 1, v->alloc);
    v->items[v->nr++] = x;
}

static uint64_t pair(uint32_t t, uint32_t a)
{
    return (uint64_t)t << 32 | a;
}

static uint32_t push_asset(struct edit *e, const struct model_asset *a,
                           const char *fname, const char *fpath)
{
    size_t n = e->assets_nr + 1;

    if (n > e->assets_alloc) {
        e->assets_alloc = n * 2;
        e->assets = xrealloc(e->assets, e->assets_alloc * sizeof(*e->assets));
        e->fname = xrealloc(e->fname, e->assets_alloc * sizeof(*e->fname));
        e->fpath = xrealloc(e->fpath, e->assets_alloc * sizeof(*e->fpath));
        e->drop = xrealloc(e->drop, e->assets_alloc);
        e->changed = xrealloc(e->changed, e->assets_alloc);
    }
    e->assets[e->assets_nr] = *a;
    e->fname[e->assets_nr] = fname;
    e->fpath[e->assets_nr] = fpath;
    e->drop[e->assets_nr] = 0;
    e->changed[e->assets_nr] = 0;
    return (uint32_t)e->assets_nr++;
}

static void edit_init(struct edit *e, const struct model *in, struct lib *l,
                      uint64_t seed)
{
    memset(e, 0, sizeof(*e));
    e->in = in;
    e->l = l;
    e->rnd = seed;
    e->dups_nr = in->dups_nr;
    buf_init(&e->log, 0);
    for (size_t i = 0; i < in->assets_nr; i++)
        push_asset(e, &in->assets[i], model_str(in, in->assets[i].file_name),
                   model_str(in, in->assets[i].path));
    for (size_t i = 0; i < in->albums_nr; i++) {
        const struct model_album *ma = &in->albums[i];
        struct ed_album *x;

        ALLOC_GROW(e->albums, e->albums_nr + 1, e->albums_alloc);
        x = &e->albums[e->albums_nr++];
        memset(x, 0, sizeof(*x));
        x->name = xstrdup(model_str(in, ma->name));
        x->owner = ma->owner;
        x->created_at = ma->created_at;
        for (size_t k = 0; k < ma->users_nr && k < 4; k++)
            x->users[x->users_nr++] = in->album_users[ma->users_first + k];
    }
}

static void edit_release(struct edit *e)
{
    for (size_t i = 0; i < e->albums_nr; i++)
        free(e->albums[i].name);
    for (size_t i = 0; i < e->new_tags_nr; i++)
        free(e->new_tags[i]);
    free(e->albums);
    free(e->new_tags);
    free(e->assets);
    free(e->fname);
    free(e->fpath);
    free(e->drop);
    free(e->changed);
    free(e->add_album);
    free(e->add_tag);
    u64map_release(&e->rm_album);
    u64map_release(&e->rm_tag);
    buf_release(&e->log);
}

static unsigned rnd(struct edit *e, unsigned n)
{
    return pick(&e->rnd, n);
}

/* A random asset still there (own or not), or MODEL_NONE. */
static uint32_t some_asset(struct edit *e)
{
    for (int tries = 0; tries < 20; tries++) {
        uint32_t a = rnd(e, (unsigned)e->assets_nr);

        if (!e->drop[a])
            return a;
    }
    return MODEL_NONE;
}

static uint32_t some_album(struct edit *e)
{
    for (int tries = 0; tries < 20; tries++) {
        uint32_t al = rnd(e, (unsigned)e->albums_nr);

        if (!e->albums[al].drop)
            return al;
    }
    return MODEL_NONE;
}

/* Edit indexes of asset a's albums (kind album) or tags, now. */
static void current(struct edit *e, bool album, uint32_t a, struct ids *out)
{
    const struct ed_link *add = album ? e->add_album : e->add_tag;
    size_t add_nr = album ? e->add_album_nr : e->add_tag_nr, nr;

    out->nr = 0;
    if (a < e->in->assets_nr) {
        const uint32_t *row = album ? model_asset_albums(e->in, a, &nr)
                                    : model_asset_tags(e->in, a, &nr);

        for (size_t i = 0; i < nr; i++)
            if (u64map_get(album ? &e->rm_album : &e->rm_tag,
                           pair(row[i], a)) == HASHMAP_NONE)
                ids_push(out, row[i]);
    }
    for (size_t i = 0; i < add_nr; i++)
        if (!add[i].dead && add[i].asset == a)
            ids_push(out, add[i].target);
}

/* The members of album al now (edit indexes). */
static void members(struct edit *e, uint32_t al, struct ids *out)
{
    size_t nr;

    out->nr = 0;
    if (al < e->in->albums_nr) {
        const uint32_t *row = model_album_assets(e->in, al, &nr);

        for (size_t i = 0; i < nr; i++)
            if (u64map_get(&e->rm_album, pair(al, row[i])) == HASHMAP_NONE)
                ids_push(out, row[i]);
    }
    for (size_t i = 0; i < e->add_album_nr; i++)
        if (!e->add_album[i].dead && e->add_album[i].target == al)
            ids_push(out, e->add_album[i].asset);
}

static bool vec_has(const struct ids *v, uint32_t x)
{
    for (size_t i = 0; i < v->nr; i++)
        if (v->items[i] == x)
            return true;
    return false;
}

/* Links or unlinks (album or tag, asset); flags what changed. */
static void set_link(struct edit *e, bool album, uint32_t target, uint32_t a,
                     bool present)
{
    struct ids cur = {NULL, 0, 0};
    struct ed_link **add = album ? &e->add_album : &e->add_tag;
    size_t *nr = album ? &e->add_album_nr : &e->add_tag_nr;
    size_t *alloc = album ? &e->add_album_alloc : &e->add_tag_alloc;

    current(e, album, a, &cur);
    if (vec_has(&cur, target) != present) {
        e->changed[a] = 1;
        if (album)
            e->albums[target].changed = true;
        if (present) {
            ALLOC_GROW(*add, *nr + 1, *alloc);
            (*add)[*nr].target = target;
            (*add)[*nr].asset = a;
            (*add)[(*nr)++].dead = false;
        } else {
            for (size_t i = 0; i < *nr; i++)
                if ((*add)[i].target == target && (*add)[i].asset == a)
                    (*add)[i].dead = true;
            u64map_put(album ? &e->rm_album : &e->rm_tag, pair(target, a), 1);
        }
    }
    free(cur.items);
}

/* The tag (edit index) with that value, a new root tag if none. */
static uint32_t tag_of(struct edit *e, const char *value)
{
    uint32_t t = model_find_tag_by_value(e->in, value);

    if (t != MODEL_NONE)
        return t;
    for (size_t i = 0; i < e->new_tags_nr; i++)
        if (!strcmp(e->new_tags[i], value))
            return (uint32_t)(e->in->tags_nr + i);
    ALLOC_GROW(e->new_tags, e->new_tags_nr + 1, e->new_tags_alloc);
    e->new_tags[e->new_tags_nr++] = xstrdup(value);
    return (uint32_t)(e->in->tags_nr + e->new_tags_nr - 1);
}

/* Asset a's duplicate group becomes dup; its old partners are flagged
 * (the group they are in lost a member: the loader knows the old one). */
static void set_dup(struct edit *e, uint32_t a, uint32_t dup)
{
    uint32_t old = e->assets[a].duplicate;

    if (old == dup)
        return;
    if (old != MODEL_NONE)
        for (size_t x = 0; x < e->assets_nr; x++)
            if (!e->drop[x] && e->assets[x].duplicate == old)
                e->changed[x] = 1;
    e->assets[a].duplicate = dup;
    e->changed[a] = 1;
}

static int64_t random_when(struct edit *e)
{
    return iso("2019-01-01T00:00:00Z") + (int64_t)rnd(e, 6 * 365) * 86400000 +
           (int64_t)rnd(e, 86400) * 1000;
}

/* An album name: the generator's, a conversion's destination, a folder
 * album, another asset's temporary album, or a new one. */
static char *album_name(struct edit *e)
{
    static const char *const more[] = {
        "missing album",        "autotag_input_meme", "2024-07-15 Beach",
        "2020-08-09 Party/sub", "Trip to family",     "Favourites 2"};
    unsigned k = rnd(e, 4);
    char buf[64];

    if (k == 0)
        return xstrdup(more[rnd(e, ARRAY_SIZE(more))]);
    if (k == 1) {
        uint32_t a = some_asset(e);
        int64_t best =
            a == MODEL_NONE ? TIME_NONE : model_asset_best_date(&e->assets[a]);

        if (best != TIME_NONE) {
            char day[16];

            time_format_date(best, day);
            snprintf(buf, sizeof(buf), "%s%s", day, RULES_TEMP_ALBUM_MARK);
            return xstrdup(buf);
        }
    }
    return xstrdup(album_names[rnd(e, ARRAY_SIZE(album_names))]);
}

/* A new asset (the API user's, or a partner's): in random albums, with
 * random tags, and half the time a duplicate of an existing asset. */
static void op_upload(struct edit *e)
{
    struct model_asset a;
    int64_t when = random_when(e);
    uint32_t x, y;

    memset(&a, 0, sizeof(a));
    a.id = lib_id(e->l);
    a.owner = e->in->me;
    a.duplicate = MODEL_NONE;
    a.file_created_at = a.file_modified_at = a.local_date_time = when;
    a.date_time_original = when;
    a.created_at = a.updated_at = when + 86400000LL * rnd(e, 400);
    a.visibility = rnd(e, 8) ? MODEL_VIS_TIMELINE : MODEL_VIS_ARCHIVE;
    if (!rnd(e, 6)) {
        a.flags |= MODEL_ASSET_PARTNER;
        a.owner = (uint32_t)(1 + rnd(e, (unsigned)e->in->users_nr - 1));
    }
    x = push_asset(e, &a, file_names[rnd(e, ARRAY_SIZE(file_names))],
                   paths[rnd(e, ARRAY_SIZE(paths))]);
    e->changed[x] = 1;
    for (unsigned k = rnd(e, 3); k > 0; k--) {
        uint32_t al = some_album(e);

        if (al != MODEL_NONE)
            set_link(e, true, al, x, true);
    }
    for (unsigned k = rnd(e, 3); k > 0; k--)
        set_link(e, false, tag_of(e, tag_names[rnd(e, ARRAY_SIZE(tag_names))]),
                 x, true);
    y = some_asset(e);
    if (y != MODEL_NONE && y != x && !rnd(e, 2)) {
        /* a duplicate of an existing asset: its group, or a new one */
        if (e->assets[y].duplicate == MODEL_NONE)
            set_dup(e, y, (uint32_t)e->dups_nr++);
        set_dup(e, x, e->assets[y].duplicate);
    }
    buf_addf(&e->log, " upload#%u", x);
}

static void op_tags(struct edit *e, uint32_t a)
{
    struct ids cur = {NULL, 0, 0};

    current(e, false, a, &cur);
    if (cur.nr && rnd(e, 2)) {
        set_link(e, false, cur.items[rnd(e, (unsigned)cur.nr)], a, false);
        buf_addf(&e->log, " untag#%u", a);
    } else {
        const char *v = tag_names[rnd(e, ARRAY_SIZE(tag_names))];

        set_link(e, false, tag_of(e, v), a, true);
        buf_addf(&e->log, " tag#%u:%s", a, v);
    }
    free(cur.items);
}

static void op_albums(struct edit *e, uint32_t a)
{
    struct ids cur = {NULL, 0, 0};

    current(e, true, a, &cur);
    if (cur.nr && rnd(e, 2)) {
        uint32_t al = cur.items[rnd(e, (unsigned)cur.nr)];

        if (!e->albums[al].drop)
            set_link(e, true, al, a, false);
        buf_addf(&e->log, " unalbum#%u:%u", a, al);
    } else {
        uint32_t al = some_album(e);

        if (al != MODEL_NONE)
            set_link(e, true, al, a, true);
        buf_addf(&e->log, " album#%u:%u", a, al);
    }
    free(cur.items);
}

static void op_date(struct edit *e, uint32_t a)
{
    struct model_asset *x = &e->assets[a];
    int64_t when = random_when(e);

    x->date_time_original = when;
    if (rnd(e, 4)) { /* applied by the server's jobs; else pending */
        x->file_created_at = when;
        x->local_date_time = when + 3600000LL * rnd(e, 3);
    }
    e->changed[a] = 1;
    buf_addf(&e->log, " date#%u", a);
}

/* Trashed or deleted: absent; its albums and partners flagged. */
static void op_trash(struct edit *e, uint32_t a)
{
    struct ids cur = {NULL, 0, 0};

    current(e, true, a, &cur);
    for (size_t i = 0; i < cur.nr; i++)
        e->albums[cur.items[i]].changed = true;
    set_dup(e, a, MODEL_NONE);
    e->drop[a] = 1;
    free(cur.items);
    buf_addf(&e->log, " trash#%u", a);
}

static void op_restore_or_hide(struct edit *e, uint32_t a)
{
    struct model_asset *x = &e->assets[a];

    if (x->flags & MODEL_ASSET_TRASHED) {
        x->flags &= (uint8_t)~MODEL_ASSET_TRASHED;
        buf_addf(&e->log, " restore#%u", a);
    } else {
        x->visibility = (uint8_t)rnd(e, 4);
        buf_addf(&e->log, " visibility#%u:%u", a, x->visibility);
    }
    e->changed[a] = 1;
}

static void op_dup(struct edit *e, uint32_t a)
{
    uint32_t b = some_asset(e);
    unsigned k = rnd(e, 3);

    if (k == 0 || b == MODEL_NONE || b == a) {
        set_dup(e, a, MODEL_NONE); /* leaves its group */
    } else if (k == 1) {
        /* joins b's group (a new one when b has none) */
        if (e->assets[b].duplicate == MODEL_NONE)
            set_dup(e, b, (uint32_t)e->dups_nr++);
        set_dup(e, a, e->assets[b].duplicate);
    } else if (e->assets[a].duplicate != MODEL_NONE &&
               e->assets[b].duplicate != MODEL_NONE) {
        /* b's group merges into a's: every member moves */
        uint32_t from = e->assets[b].duplicate, to = e->assets[a].duplicate;

        for (size_t x = 0; x < e->assets_nr; x++)
            if (!e->drop[x] && e->assets[x].duplicate == from)
                set_dup(e, (uint32_t)x, to);
    }
    buf_addf(&e->log, " dup#%u:%u", a, b);
}

/* An album renamed (to a name that may collide with others, name a
 * conversion's destination or a temporary album), deleted by its owner,
 * unshared or re-roled, or shared (with the API user too). */
static void op_album_edit(struct edit *e)
{
    uint32_t al = some_album(e);
    struct ed_album *x;
    unsigned k = rnd(e, 4);

    if (al == MODEL_NONE)
        return;
    x = &e->albums[al];
    x->changed = true;
    if (k == 0) {
        free(x->name);
        x->name = album_name(e);
        buf_addf(&e->log, " rename#%u:%s", al, x->name);
    } else if (k == 1) {
        /* deleted by its owner: its members' albums changed */
        struct ids mem = {NULL, 0, 0};

        members(e, al, &mem);
        for (size_t i = 0; i < mem.nr; i++)
            e->changed[mem.items[i]] = 1;
        x->drop = true;
        free(mem.items);
        buf_addf(&e->log, " delete#%u", al);
    } else if (x->users_nr && rnd(e, 2)) {
        size_t i = rnd(e, (unsigned)x->users_nr);

        if (rnd(e, 2))
            x->users[i] = x->users[--x->users_nr];
        else
            x->users[i].role ^= 1;
        buf_addf(&e->log, " unshare#%u", al);
    } else if (x->users_nr < 4) {
        /* the API user too: another user's album becomes editable */
        uint32_t u = rnd(e, (unsigned)e->in->users_nr);
        bool dup = u == x->owner;

        for (size_t i = 0; i < x->users_nr; i++)
            dup = dup || x->users[i].user == u;
        if (!dup) {
            x->users[x->users_nr].user = u;
            x->users[x->users_nr++].role = (uint8_t)rnd(e, 2);
        }
        buf_addf(&e->log, " share#%u", al);
    }
}

static void op_album_new(struct edit *e)
{
    struct ed_album *x;
    uint32_t al;

    ALLOC_GROW(e->albums, e->albums_nr + 1, e->albums_alloc);
    al = (uint32_t)e->albums_nr++;
    x = &e->albums[al];
    memset(x, 0, sizeof(*x));
    x->name = album_name(e);
    x->owner = rnd(e, 4)
                   ? e->in->me
                   : (uint32_t)(1 + rnd(e, (unsigned)e->in->users_nr - 1));
    x->created_at = rnd(e, 2) ? 5 : -5; /* before or after the others */
    x->changed = true;
    if (x->owner != e->in->me && rnd(e, 2)) {
        x->users[0].user = e->in->me;
        x->users[x->users_nr++].role = MODEL_ROLE_EDITOR;
    }
    for (unsigned k = rnd(e, 4); k > 0; k--) {
        uint32_t a = some_asset(e);

        if (a != MODEL_NONE)
            set_link(e, true, al, a, true);
    }
    buf_addf(&e->log, " new_album#%u:%s", al, x->name);
}

/* One random change of any kind. */
static void random_change(struct edit *e)
{
    /* k = 1 to 6: a change to one asset */
    static void (*const on_asset[])(struct edit *, uint32_t) = {
        op_tags, op_albums, op_date, op_trash, op_restore_or_hide, op_dup,
    };
    unsigned k = rnd(e, 10);
    uint32_t a = some_asset(e);

    if (k == 0 || a == MODEL_NONE)
        op_upload(e);
    else if (k <= ARRAY_SIZE(on_asset))
        on_asset[k - 1](e, a);
    else if (k == 7 || k == 8)
        op_album_edit(e);
    else
        op_album_new(e);
}

/* Search order of the changed library, as the server sorts it
 * (fileCreatedAt newest first, then id). */
struct search_key {
    int64_t when;
    struct uuid id;
    uint32_t asset;
};

static int cmp_search(const void *x, const void *y)
{
    const struct search_key *a = x, *b = y;

    if (a->when != b->when)
        return a->when > b->when ? -1 : 1;
    return memcmp(&a->id, &b->id, sizeof(a->id));
}

/* The order a read meets the assets in: the server's search order. */
static void set_search_order(struct model *m)
{
    struct search_key *order = xmalloc((m->assets_nr + 1) * sizeof(*order));
    size_t i;

    for (i = 0; i < m->assets_nr; i++) {
        order[i].when = m->assets[i].file_created_at;
        order[i].id = m->assets[i].id;
        order[i].asset = (uint32_t)i;
    }
    qsort(order, m->assets_nr, sizeof(*order), cmp_search);
    for (i = 0; i < m->assets_nr; i++) {
        m->assets[order[i].asset].search_pass = 0;
        m->assets[order[i].asset].search_index = (uint32_t)i;
    }
    free(order);
}

/* The changed library as a model, flagged as the incremental loader
 * flags it (changes_only set). */
static void edit_build(struct edit *e, struct model *out)
{
    const struct model *in = e->in;
    uint32_t *amap = xmalloc((e->assets_nr + 1) * sizeof(*amap));
    uint32_t *almap = xmalloc((e->albums_nr + 1) * sizeof(*almap));
    size_t i, j, nr;

    model_init(out);
    apply_mem_copy_users_tags(in, out);
    for (i = 0; i < e->dups_nr; i++) {
        struct uuid u = i < in->dups_nr ? in->dups[i].id : lib_id(e->l);

        model_add_dup(out, &u);
    }
    for (i = 0; i < e->new_tags_nr; i++) {
        struct model_tag t;

        memset(&t, 0, sizeof(t));
        t.id = lib_id(e->l);
        t.name = t.value = model_intern(out, e->new_tags[i]);
        t.parent = MODEL_NONE;
        t.members_known = true;
        model_add_tag(out, &t);
    }
    for (i = 0; i < e->assets_nr; i++) {
        struct model_asset a = e->assets[i];

        amap[i] = MODEL_NONE;
        if (e->drop[i])
            continue;
        a.file_name = model_intern(out, e->fname[i]);
        a.path = model_intern(out, e->fpath[i]);
        if (e->changed[i])
            a.flags |= MODEL_ASSET_CHANGED;
        amap[i] = model_add_asset(out, &a);
    }
    for (i = 0; i < e->albums_nr; i++) {
        const struct ed_album *x = &e->albums[i];
        struct model_album na;

        almap[i] = MODEL_NONE;
        if (x->drop)
            continue;
        if (i < in->albums_nr) {
            na = in->albums[i];
        } else {
            memset(&na, 0, sizeof(na));
            na.id = lib_id(e->l);
            na.start_date = na.end_date = na.last_modified = TIME_NONE;
            na.members_known = true;
        }
        na.name = model_intern(out, x->name);
        na.owner = x->owner;
        na.created_at = x->created_at;
        na.changed = x->changed;
        almap[i] = model_add_album(out, &na, x->users, x->users_nr);
    }
    for (i = 0; i < in->tags_nr; i++) {
        const uint32_t *row = model_tag_assets(in, (uint32_t)i, &nr);

        for (j = 0; j < nr; j++)
            if (amap[row[j]] != MODEL_NONE &&
                u64map_get(&e->rm_tag, pair((uint32_t)i, row[j])) ==
                    HASHMAP_NONE)
                model_link_tag_asset(out, (uint32_t)i, amap[row[j]]);
    }
    for (i = 0; i < e->add_tag_nr; i++)
        if (!e->add_tag[i].dead && amap[e->add_tag[i].asset] != MODEL_NONE)
            model_link_tag_asset(out, e->add_tag[i].target,
                                 amap[e->add_tag[i].asset]);
    for (i = 0; i < e->albums_nr; i++) {
        struct ids mem = {NULL, 0, 0};

        if (almap[i] == MODEL_NONE)
            continue;
        members(e, (uint32_t)i, &mem);
        for (j = 0; j < mem.nr; j++)
            if (amap[mem.items[j]] != MODEL_NONE)
                model_link_album_asset(out, almap[i], amap[mem.items[j]]);
        free(mem.items);
    }
    free(amap);
    free(almap);
    model_build_indexes(out);
    apply_mem_album_stats(out);
    set_search_order(out);
    out->changes_only = true;
}

/* ---- evaluation ---- */

static void eval(const struct config *cfg, const struct model *m, long max,
                 struct plan *p, struct rules_result *res)
{
    struct rules_opts o = RULES_OPTS_INIT;
    struct buf err = BUF_INIT;

    o.now = 1700000000000;
    o.max_items = max;
    o.result = res;
    plan_init(p);
    if (rules_evaluate(cfg, m, &o, p, &err) < 0)
        fail_msg("rules_evaluate: %s", err.buf);
    buf_release(&err);
}

/* The plan's writes (groups and items, reasons included), as text. */
static void writes_text(const struct plan *p, struct buf *out)
{
    char id[UUID_STR_LEN + 1];

    for (size_t i = 0; i < p->nr; i++) {
        const struct plan_group *g = &p->groups[i];

        uuid_format(&g->target, id);
        buf_addf(out, "%s '%s' %s%s role=%d date=%lld/%d reason=%d:",
                 plan_op_name(g->op), g->name, g->target_exists ? "" : "new ",
                 g->target_exists ? id : "", g->role, (long long)g->date,
                 g->offset_min, g->reason);
        for (size_t k = 0; k < g->nr; k++) {
            uuid_format(&g->items[k].id, id);
            buf_addf(out, " %s/%s/%u", id,
                     plan_reason_name((enum plan_reason)g->items[k].reason),
                     g->items[k].rule);
        }
        buf_addch(out, '\n');
    }
}

static bool has_note(const struct plan *p, const struct plan_note *n)
{
    for (size_t i = 0; i < p->notes_nr; i++)
        if (p->notes[i].kind == n->kind &&
            uuid_eq(&p->notes[i].asset, &n->asset) &&
            uuid_eq(&p->notes[i].album, &n->album) &&
            !plan_fields_cmp(&p->notes[i].detail, &n->detail))
            return true;
    return false;
}

/*
 * Notes: the incremental plan says nothing the full one does not, and
 * keeps every note about the albums (album-level passes cover them all:
 * duplicate names, permissions, unknown emails).
 */
static bool notes_ok(const struct plan *full, const struct plan *incr)
{
    for (size_t i = 0; i < incr->notes_nr; i++)
        if (!has_note(full, &incr->notes[i]))
            return false;
    for (size_t i = 0; i < full->notes_nr; i++) {
        enum plan_note_kind k = full->notes[i].kind;

        if ((k == PLAN_NOTE_ALBUM_NAME_DUPLICATE ||
             k == PLAN_NOTE_ALBUM_PERMISSION_RULE_MATCHED ||
             k == PLAN_NOTE_ALBUM_PERMISSION_NO_MATCH ||
             k == PLAN_NOTE_UNKNOWN_EMAIL) &&
            !has_note(incr, &full->notes[i]))
            return false;
    }
    return true;
}

/* Full evaluations applied in memory until one plans nothing: the
 * library after good runs.  Returns the rounds, -1 when none converged. */
static int to_fixpoint(const struct config *cfg, struct model *m, long max)
{
    for (int round = 0; round < 6; round++) {
        struct plan p;

        eval(cfg, m, max, &p, NULL);
        if (plan_is_empty(&p)) {
            plan_release(&p);
            return round;
        }
        gen_apply(m, &p);
        set_search_order(m); /* the next read's: dates may have moved */
    }
    return -1;
}

struct totals {
    size_t cases, changed_cases, full_walked, incr_walked, incr_evaluated,
        writes;
};

/* One case: returns false (after saying why) when the plans differ. */
static bool run_case(uint64_t seed, struct totals *t)
{
    struct lib l;
    struct config *cfg;
    struct edit e;
    struct model m1;
    struct plan full, incr;
    struct rules_result rf, ri;
    struct buf wf = BUF_INIT, wi = BUF_INIT;
    uint64_t s = seed * 0xd1b54a32d192ed03ULL + 7;
    long max = pick(&s, 32) ? -1 : 25;
    unsigned changes = pick(&s, 20) ? 1 + pick(&s, 4) : 0;
    bool ok;

    generate(&l, seed, 20 + pick(&s, 80));
    set_search_order(&l.m);
    cfg = gen_config(splitmix64(&s), &l.m);
    /* every generated library settles: a full evaluation that plans
     * writes on every run (an album deleted and made again) is a bug */
    if (to_fixpoint(cfg, &l.m, max) < 0) {
        fprintf(stderr, "seed %llu: no fixpoint\n", (unsigned long long)seed);
        model_release(&l.m);
        config_free(cfg);
        return false;
    }
    edit_init(&e, &l.m, &l, splitmix64(&s));
    for (unsigned k = 0; k < changes; k++)
        random_change(&e);
    edit_build(&e, &m1);
    m1.changes_only = false;
    eval(cfg, &m1, max, &full, &rf);
    m1.changes_only = true;
    eval(cfg, &m1, max, &incr, &ri);
    writes_text(&full, &wf);
    writes_text(&incr, &wi);
    ok = !strcmp(wf.buf, wi.buf) && notes_ok(&full, &incr);
    if (!ok)
        fprintf(stderr,
                "seed %llu: changes%s\n--- full plan:\n%s--- incremental "
                "plan:\n%s",
                (unsigned long long)seed, e.log.buf, wf.buf, wi.buf);
    assert_true(ri.incremental || max >= 0);
    assert_false(rf.incremental);
    t->cases++;
    t->changed_cases += full.nr > 0;
    t->writes += plan_changes(&full);
    t->full_walked += rf.assets_walked;
    t->incr_walked += ri.assets_walked;
    t->incr_evaluated += ri.assets_evaluated;
    plan_release(&full);
    plan_release(&incr);
    buf_release(&wf);
    buf_release(&wi);
    model_release(&m1);
    edit_release(&e);
    model_release(&l.m);
    config_free(cfg);
    return ok;
}

static void test_incremental_plans_what_a_full_evaluation_plans(void **state)
{
    struct totals t;
    size_t failed = 0;

    (void)state;
    memset(&t, 0, sizeof(t));
    for (uint64_t seed = 1; seed <= 3000; seed++)
        if (!run_case(seed, &t) && ++failed >= 3)
            break;
    fprintf(stderr,
            "%zu cases, %zu with writes after the "
            "changes (%zu writes); assets walked: full %zu, incremental %zu "
            "(%zu evaluated)\n",
            t.cases, t.changed_cases, t.writes, t.full_walked, t.incr_walked,
            t.incr_evaluated);
    assert_int_equal(failed, 0);
    /* the changes made work for the rules, and the scope is not all */
    assert_true(t.changed_cases > t.cases / 2);
    assert_true(t.incr_walked * 2 < t.full_walked);
}

/* One changed asset of a large library after a good run: the
 * incremental walk looks at it and its duplicate group, the full one at
 * every asset. */
static void test_incremental_walks_only_the_change(void **state)
{
    /* no date pattern: a temporary album is no album option of a
     * duplicate (that never converges, see docs/rules.md) */
    struct config *cfg = cfg_load(
        CFG_BASE "conversions:\n"
                 "  conversions:\n"
                 "    - source: {tag_names: [old]}\n"
                 "      destination: {tag_names: [renamed]}\n"
                 "classification:\n"
                 "  rules:\n"
                 "    - tag_names: [meme, autotag_input_meme]\n"
                 "    - album_name_patterns: ['^Trip', '^family']\n" CFG_DUPS
                 "album_date_consistency: {enabled: true}\n"
                 "album_detection_from_folders: {enabled: true, "
                 "excluded_paths: [whatsapp]}\n"
                 "create_album_from_date_if_missing: true\n");
    struct lib l;
    struct plan p;
    struct rules_result r;
    uint32_t a;

    (void)state;
    generate(&l, 11, 5000);
    set_search_order(&l.m);
    assert_true(to_fixpoint(cfg, &l.m, -1) >= 0); /* after a good run */
    eval(cfg, &l.m, -1, &p, &r);
    plan_release(&p);
    assert_false(r.incremental);
    assert_int_equal(r.assets_walked, l.m.assets_nr);
    assert_true(r.assets_evaluated > 4000);

    l.m.changes_only = true;
    eval(cfg, &l.m, -1, &p, &r);
    plan_release(&p);
    assert_true(r.incremental);
    assert_int_equal(r.assets_walked, 0); /* nothing changed */

    for (a = 0;
         l.m.assets[a].duplicate == MODEL_NONE || l.m.assets[a].flags != 0 ||
         l.m.assets[a].visibility != MODEL_VIS_TIMELINE;
         a++)
        ;
    l.m.assets[a].flags |= MODEL_ASSET_CHANGED;
    eval(cfg, &l.m, -1, &p, &r);
    plan_release(&p);
    assert_true(r.incremental);
    assert_in_range(r.assets_walked, 2, 3); /* it and its group */
    assert_in_range(r.assets_evaluated, 1, 3);

    /* a window holds what is ahead of it: a full walk */
    eval(cfg, &l.m, 100, &p, &r);
    plan_release(&p);
    assert_false(r.incremental);
    assert_int_equal(r.assets_walked, l.m.assets_nr);
    /* a cap the library fits in (the template's max_items: 1000000)
     * leaves nothing out: no window */
    eval(cfg, &l.m, 1000000, &p, &r);
    plan_release(&p);
    assert_true(r.incremental);
    assert_in_range(r.assets_walked, 2, 3);
    eval(cfg, &l.m, (long)l.m.assets_nr, &p, &r);
    plan_release(&p);
    assert_true(r.incremental);
    model_release(&l.m);
    config_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_incremental_walks_only_the_change),
        cmocka_unit_test(test_incremental_plans_what_a_full_evaluation_plans),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
