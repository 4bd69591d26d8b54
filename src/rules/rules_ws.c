/*
 * rules_ws.c: the working state the rules steps read and update, and the
 * final diff against the model that becomes the plan.
 *
 * An asset's working tags/albums = its model CSR row, overridden by its
 * change list (at most one entry per target).  Lists are short (a handful
 * of output tags), so walking them is cheaper than any hash.
 */
#include "rules/rules_int.h"

#include <ctype.h>
#include <unicase.h>

void idvec_push(struct idvec *v, uint32_t x)
{
    ALLOC_GROW(v->items, v->nr + 1, v->alloc);
    v->items[v->nr++] = x;
}

uint32_t ws_intern(struct ws *w, const char *s, size_t len)
{
    return strpool_intern(&w->names, s, len);
}

/*
 * Python's str.lower(): full Unicode lowercase mappings (one code point
 * may become two, 'İ' -> "i̇") with the final-sigma rule, through
 * libunistring.  Text that is not UTF-8 is appended unchanged.
 */
void ws_lower(const char *s, size_t len, struct buf *out)
{
    uint8_t small[256];
    size_t n = sizeof(small), i;
    uint8_t *t;

    /* ASCII has no special casing: A-Z only (every path component of
     * every asset passes here; libunistring's full mapping was a quarter
     * of the evaluation). */
    for (i = 0; i < len && !((unsigned char)s[i] & 0x80); i++)
        ;
    if (i == len) {
        buf_grow(out, len);
        for (i = 0; i < len; i++)
            out->buf[out->len + i] =
                (char)(s[i] >= 'A' && s[i] <= 'Z' ? s[i] - 'A' + 'a' : s[i]);
        buf_setlen(out, out->len + len);
        return;
    }
    t = u8_tolower((const uint8_t *)s, len, NULL, NULL, small, &n);

    if (!t) {
        buf_add(out, s, len);
        return;
    }
    buf_add(out, t, n);
    if (t != small)
        free(t);
}

static uint32_t intern_lower(struct ws *w, const char *s)
{
    struct buf b = BUF_INIT;
    uint32_t id;

    ws_lower(s, strlen(s), &b);
    id = ws_intern(w, b.buf, b.len);
    buf_release(&b);
    return id;
}

/*
 * The part of an album name that rules compare: all of it.  Upstream
 * never trims (its enable_album_name_strip has no effect), so neither do
 * we: ' 2031-02-03 Trip' does not start with a date (docs/migrating.md).
 */
void ws_album_key(const struct ws *w, const char *name, size_t *off,
                  size_t *len)
{
    (void)w;
    *off = 0;
    *len = strlen(name);
}

static void album_fill(struct ws *w, struct ws_album *al, const char *name)
{
    size_t off, len;
    uint32_t key, first;
    uint32_t idx = (uint32_t)(al - w->albums);

    ws_album_key(w, name, &off, &len);
    al->name = name;
    al->key = xstrndup(name + off, len);
    al->is_temp = strstr(al->key, RULES_TEMP_ALBUM_MARK) != NULL;
    al->name_date = rules_album_name_date(al->key);
    al->join_lo = al->join_hi = TIME_NONE;
    al->next_same = MODEL_NONE;
    key = ws_intern(w, al->key, len);
    first = u64map_get(&w->album_by_key, key);
    if (first == HASHMAP_NONE) {
        u64map_put(&w->album_by_key, key, idx);
    } else {
        while (w->albums[first].next_same != MODEL_NONE)
            first = w->albums[first].next_same;
        w->albums[first].next_same = idx;
    }
}

void ws_init(struct ws *w, const struct config *cfg, const struct model *m,
             struct plan *plan, const char *url)
{
    size_t i, j;

    memset(w, 0, sizeof(*w));
    w->cfg = cfg;
    w->m = m;
    w->plan = plan;
    w->url = url ? url : "";
    w->cur = MODEL_NONE;
    buf_init(&w->fb_path, 0);
    buf_init(&w->fb_name, 0);
    buf_init(&w->low_a, 0);
    buf_init(&w->low_b, 0);
    (void)strpool_intern(&w->names, "", 0);

    {
        const char *names[] = {
            cfg->classification.autotag_unknown,
            cfg->classification.autotag_conflict,
            cfg->duplicate_processing.album_conflict,
            cfg->duplicate_processing.classification_conflict,
            cfg->duplicate_processing.album_detection_conflict,
            cfg->album_date_consistency.tag,
        };

        for (i = 0; i < ARRAY_SIZE(names); i++)
            if (names[i]) {
                w->fixed[w->fixed_nr] = names[i];
                w->fixed_lower[w->fixed_nr++] = intern_lower(w, names[i]);
            }
    }
    w->tags_alloc = m->tags_nr + 8;
    w->tags = xcalloc(w->tags_alloc, sizeof(*w->tags));
    for (i = 0; i < m->tags_nr; i++) {
        struct ws_tag *t = &w->tags[w->tags_nr++];
        const char *leaf = model_str(m, m->tags[i].name);

        t->leaf = ws_intern(w, leaf, strlen(leaf));
        t->lower = intern_lower(w, leaf);
        t->rname = -1;
        t->trusted = m->tags[i].members_known;
    }

    w->albums_alloc = m->albums_nr + 8;
    w->albums = xcalloc(w->albums_alloc, sizeof(*w->albums));
    for (i = 0; i < m->albums_nr; i++) {
        const struct model_album *ma = &m->albums[i];
        struct ws_album *al = &w->albums[w->albums_nr++];
        size_t nr = 0;

        album_fill(w, al, model_str(m, ma->name));
        al->known = ma->members_known;
        if (ma->members_known)
            (void)model_album_assets(m, (uint32_t)i, &nr);
        /* What the server counts is a floor: members the key's user
         * cannot see (another user's assets in a shared album) are in
         * assetCount and nowhere else. */
        al->count = ma->members_known ? (int64_t)(nr + ma->foreign_nr) : 0;
        if (al->count < (int64_t)ma->asset_count)
            al->count = ma->asset_count;
        al->mine = m->me != MODEL_NONE && ma->owner == m->me;
        al->editable = al->mine;
        for (j = 0; j < ma->users_nr; j++) {
            const struct model_album_user *u =
                &m->album_users[ma->users_first + j];

            if (u->user == m->me && u->role == MODEL_ROLE_EDITOR)
                al->editable = true;
        }
        al->reason = -1;
    }

    w->head = xmalloc(st_mult(m->assets_nr + 1, sizeof(*w->head)));
    w->best = xmalloc(st_mult(m->assets_nr + 1, sizeof(*w->best)));
    w->flags = xcalloc(m->assets_nr + 1, 1);
    for (i = 0; i < m->assets_nr; i++) {
        const struct model_asset *a = &m->assets[i];

        w->head[i] = MODEL_NONE;
        w->best[i] = model_asset_best_date(a);
        if (!(a->flags & (MODEL_ASSET_TRASHED | MODEL_ASSET_PARTNER)))
            w->flags[i] |= WSF_WRITABLE;
    }
}

static void idvec_release(struct idvec *v)
{
    free(v->items);
    memset(v, 0, sizeof(*v));
}

void ws_release(struct ws *w)
{
    size_t i;

    strpool_release(&w->names);
    u64map_release(&w->rname_by_name);
    u64map_release(&w->album_by_key);
    u64map_release(&w->tag_by_value);
    u64map_release(&w->noted);
    for (i = 0; i < w->tags_nr; i++)
        free(w->tags[i].value);
    free(w->tags);
    for (i = 0; i < w->albums_nr; i++) {
        free(w->albums[i].key);
        free(w->albums[i].name_own);
        free(w->albums[i].rule_hit);
    }
    free(w->albums);
    free(w->head);
    free(w->chg);
    free(w->best);
    free(w->dates);
    free(w->flags);
    free(w->order);
    free(w->r.rule);
    free(w->r.has_name);
    free(w->r.class_name);
    free(w->rname_str);
    buf_release(&w->fb_path);
    buf_release(&w->fb_name);
    buf_release(&w->low_a);
    buf_release(&w->low_b);
    idvec_release(&w->t_cls);
    idvec_release(&w->a_cls);
    idvec_release(&w->t_step);
    idvec_release(&w->a_step);
    idvec_release(&w->t_mem);
    idvec_release(&w->a_mem);
    idvec_release(&w->v_tmp);
}

const char *ws_tag_leaf(const struct ws *w, uint32_t t)
{
    return strpool_str(&w->names, w->tags[t].leaf);
}

static bool row_has(const uint32_t *row, size_t nr, uint32_t x)
{
    size_t lo = 0, hi = nr;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (row[mid] == x)
            return true;
        if (row[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static bool model_has(const struct ws *w, uint32_t a, enum ws_kind kind,
                      uint32_t target)
{
    const uint32_t *row;
    size_t nr;

    if (kind == WS_TAG) {
        if (target >= w->m->tags_nr)
            return false;
        row = model_asset_tags(w->m, a, &nr);
    } else {
        if (target >= w->m->albums_nr)
            return false;
        row = model_asset_albums(w->m, a, &nr);
    }
    return row_has(row, nr, target);
}

static struct ws_change *find_change(const struct ws *w, uint32_t a,
                                     enum ws_kind kind, uint32_t target)
{
    uint32_t c;

    for (c = w->head[a]; c != MODEL_NONE; c = w->chg[c].next)
        if (w->chg[c].target == target && w->chg[c].kind == kind)
            return &w->chg[c];
    return NULL;
}

bool ws_has(const struct ws *w, uint32_t a, enum ws_kind kind, uint32_t target)
{
    const struct ws_change *c = find_change(w, a, kind, target);

    if (kind == WS_ALBUM && w->albums[target].deleted)
        return false;
    return c ? c->present : model_has(w, a, kind, target);
}

static void mark_dirty(struct ws *w, uint32_t a)
{
    if (a != w->cur && (w->flags[a] & (WSF_DONE | WSF_DIRTY)) == WSF_DONE) {
        w->flags[a] |= WSF_DIRTY;
        w->dirty++;
    }
}

/*
 * The duplicate steps of every member of a's group read a's albums and
 * tags: members processed before this change must run again to see it in
 * this run (a temporary album given to a later member would otherwise
 * raise the album conflict only on the next run).
 */
static void mark_dup_members_dirty(struct ws *w, uint32_t a)
{
    uint32_t dup = w->m->assets[a].duplicate;
    const uint32_t *mem;
    size_t n, i;

    if (dup == MODEL_NONE || !w->cfg->duplicate_processing.present)
        return;
    mem = model_dup_assets(w->m, dup, &n);
    for (i = 0; i < n; i++)
        if (mem[i] != a)
            mark_dirty(w, mem[i]);
}

void ws_set(struct ws *w, uint32_t a, enum ws_kind kind, uint32_t target,
            bool present, enum plan_reason reason, unsigned rule)
{
    struct ws_change *c;

    if (!(w->flags[a] & WSF_WRITABLE))
        return;
    if (kind == WS_ALBUM && w->albums[target].deleted)
        return;
    if (ws_has(w, a, kind, target) == present)
        return;
    c = find_change(w, a, kind, target);
    if (!c) {
        if (w->chg_nr >= MODEL_NONE)
            BUG("too many working changes");
        ALLOC_GROW(w->chg, w->chg_nr + 1, w->chg_alloc);
        c = &w->chg[w->chg_nr];
        c->next = w->head[a];
        c->target = target;
        c->kind = (uint8_t)kind;
        w->head[a] = (uint32_t)w->chg_nr++;
    }
    mark_dirty(w, a);
    mark_dup_members_dirty(w, a);
    c->present = present;
    c->reason = (uint16_t)reason;
    c->rule = (uint16_t)rule;
    if (kind == WS_ALBUM) {
        struct ws_album *al = &w->albums[target];
        int64_t d = w->best[a];

        al->count += present ? 1 : -1;
        if (present && d != TIME_NONE) {
            if (al->join_lo == TIME_NONE || d < al->join_lo)
                al->join_lo = d;
            if (al->join_hi == TIME_NONE || d > al->join_hi)
                al->join_hi = d;
        }
    }
}

static void members_of(struct ws *w, uint32_t a, enum ws_kind kind,
                       struct idvec *out)
{
    const uint32_t *row;
    size_t nr, i;
    uint32_t c;

    out->nr = 0;
    row = kind == WS_TAG ? model_asset_tags(w->m, a, &nr)
                         : model_asset_albums(w->m, a, &nr);
    for (i = 0; i < nr; i++) {
        if (kind == WS_ALBUM && w->albums[row[i]].deleted)
            continue;
        if (w->head[a] != MODEL_NONE && find_change(w, a, kind, row[i]))
            continue;
        idvec_push(out, row[i]);
    }
    for (c = w->head[a]; c != MODEL_NONE; c = w->chg[c].next)
        if (w->chg[c].kind == kind && w->chg[c].present &&
            !(kind == WS_ALBUM && w->albums[w->chg[c].target].deleted))
            idvec_push(out, w->chg[c].target);
}

void ws_tags_of(struct ws *w, uint32_t a, struct idvec *out)
{
    members_of(w, a, WS_TAG, out);
}

void ws_albums_of(struct ws *w, uint32_t a, struct idvec *out)
{
    members_of(w, a, WS_ALBUM, out);
}

uint32_t ws_tag_for_write(struct ws *w, const char *name)
{
    uint32_t key = ws_intern(w, name, strlen(name));
    uint32_t t = u64map_get(&w->tag_by_value, key);
    const char *slash;
    struct ws_tag *nt;

    if (t != HASHMAP_NONE)
        return t;
    t = model_find_tag_by_value(w->m, name);
    if (t == MODEL_NONE) {
        /* A root-level tag created by the applier. */
        ALLOC_GROW(w->tags, w->tags_nr + 1, w->tags_alloc);
        t = (uint32_t)w->tags_nr;
        nt = &w->tags[w->tags_nr++];
        memset(nt, 0, sizeof(*nt));
        slash = strrchr(name, '/');
        nt->value = xstrdup(name);
        nt->leaf = slash ? ws_intern(w, slash + 1, strlen(slash + 1))
                         : ws_intern(w, name, strlen(name));
        nt->lower = intern_lower(w, slash ? slash + 1 : name);
        nt->trusted = true;
        nt->rname = -1;
        {
            uint32_t rn = u64map_get(&w->rname_by_name, nt->leaf);

            if (rn != HASHMAP_NONE)
                nt->rname = (int32_t)rn;
        }
    }
    u64map_put(&w->tag_by_value, key, t);
    return t;
}

/* Lowercased names id; the configured tag names are looked up once. */
static uint32_t lower_id(struct ws *w, const char *name)
{
    size_t i;

    for (i = 0; i < w->fixed_nr; i++)
        if (w->fixed[i] == name)
            return w->fixed_lower[i];
    return intern_lower(w, name);
}

bool ws_has_tag_ci(struct ws *w, uint32_t a, const char *name)
{
    uint32_t lower = lower_id(w, name);
    size_t i;

    ws_tags_of(w, a, &w->v_tmp);
    for (i = 0; i < w->v_tmp.nr; i++)
        if (w->tags[w->v_tmp.items[i]].lower == lower)
            return true;
    return false;
}

void ws_ensure_tag(struct ws *w, uint32_t a, const char *name, bool want,
                   enum plan_reason reason, unsigned rule)
{
    uint32_t lower;
    size_t i;

    if (!name || !*name)
        return;
    if (want) {
        if (!ws_has_tag_ci(w, a, name))
            ws_set(w, a, WS_TAG, ws_tag_for_write(w, name), true, reason, rule);
        return;
    }
    /* Every tag the asset "has" under that name goes (case-insensitive). */
    lower = lower_id(w, name);
    ws_tags_of(w, a, &w->v_tmp);
    for (i = 0; i < w->v_tmp.nr; i++)
        if (w->tags[w->v_tmp.items[i]].lower == lower)
            ws_set(w, a, WS_TAG, w->v_tmp.items[i], false, reason, rule);
}

/*
 * Preferred album with that name: not deleted; owned by the API user
 * before others (a shared album we can edit next), then the oldest.
 */
uint32_t ws_album_by_name(struct ws *w, const char *name)
{
    size_t off, len;
    uint32_t key, al, best = MODEL_NONE;
    int best_rank = 3;

    ws_album_key(w, name, &off, &len);
    key = strpool_find(&w->names, name + off, len);
    if (key == STRPOOL_NONE)
        return MODEL_NONE;
    al = u64map_get(&w->album_by_key, key);
    for (; al != HASHMAP_NONE && al != MODEL_NONE;
         al = w->albums[al].next_same) {
        const struct ws_album *x = &w->albums[al];
        int rank = x->mine ? 0 : x->editable ? 1 : 2;
        int64_t cx, cb;

        if (x->deleted)
            continue;
        if (rank < best_rank) {
            best = al;
            best_rank = rank;
            continue;
        }
        if (rank > best_rank)
            continue;
        cx = al < w->m->albums_nr ? w->m->albums[al].created_at : INT64_MAX;
        cb = best < w->m->albums_nr ? w->m->albums[best].created_at : INT64_MAX;
        if (cx < cb)
            best = al;
    }
    return best;
}

uint32_t ws_album_create(struct ws *w, const char *name,
                         enum plan_reason reason)
{
    struct ws_album *al;
    uint32_t idx;

    ALLOC_GROW(w->albums, w->albums_nr + 1, w->albums_alloc);
    idx = (uint32_t)w->albums_nr;
    al = &w->albums[w->albums_nr++];
    memset(al, 0, sizeof(*al));
    al->name_own = xstrdup(name);
    album_fill(w, al, al->name_own);
    al->known = al->mine = al->editable = true;
    al->reason = (int)reason;
    ws_album_rules(w, idx);
    return idx;
}

bool ws_album_all_visible(const struct ws *w, size_t al)
{
    const struct model_album *ma;
    size_t nr = 0;

    if (al >= w->m->albums_nr)
        return true;
    ma = &w->m->albums[al];
    if (!ma->members_known)
        return false;
    (void)model_album_assets(w->m, (uint32_t)al, &nr);
    return !ma->foreign_nr && ma->asset_count <= nr;
}

void ws_album_delete(struct ws *w, uint32_t al, enum plan_reason reason)
{
    w->albums[al].deleted = true;
    w->albums[al].reason = (int)reason;
}

bool ws_first_time(struct ws *w, uint64_t key)
{
    return u64map_put(&w->noted, key, 1) == HASHMAP_NONE;
}

void ws_note(struct ws *w, enum plan_note_kind kind, uint32_t asset,
             uint32_t album, struct plan_fields *detail)
{
    const struct uuid *as = NULL, *al = NULL;

    if (asset != MODEL_NONE)
        as = &w->m->assets[asset].id;
    if (album != MODEL_NONE && album < w->m->albums_nr)
        al = &w->m->albums[album].id;
    plan_note(w->plan, kind, as, al, detail);
}

static const char *tag_name(const struct ws *w, uint32_t t)
{
    if (t < w->m->tags_nr)
        return model_str(w->m, w->m->tags[t].value);
    return w->tags[t].value;
}

/* The working state minus the model, as plan groups. */
void ws_emit_plan(struct ws *w)
{
    const struct model *m = w->m;
    size_t a, i;
    uint32_t c;

    for (a = 0; a < m->assets_nr; a++) {
        for (c = w->head[a]; c != MODEL_NONE; c = w->chg[c].next) {
            const struct ws_change *ch = &w->chg[c];
            struct plan_group *g;
            uint32_t t = ch->target;

            if (ch->present == model_has(w, (uint32_t)a, ch->kind, t))
                continue;
            if (ch->kind == WS_TAG) {
                g = plan_group(
                    w->plan, ch->present ? PLAN_TAG_ADD : PLAN_TAG_REMOVE,
                    tag_name(w, t), t < m->tags_nr ? &m->tags[t].id : NULL);
            } else {
                if (w->albums[t].deleted)
                    continue;
                g = plan_group(w->plan,
                               ch->present ? PLAN_ALBUM_ADD : PLAN_ALBUM_REMOVE,
                               w->albums[t].name,
                               t < m->albums_nr ? &m->albums[t].id : NULL);
            }
            plan_add(g, &m->assets[a].id, (enum plan_reason)ch->reason,
                     ch->rule);
        }
    }
    /* A deleted album is emptied first: Immich would drop its members
     * with it, but the applier deletes only what the server reports
     * empty.  One that holds assets the key's user cannot see (another
     * user's, added by an editor) is only emptied of this user's: it is
     * deleted by a later run, once those are gone. */
    for (i = 0; i < m->albums_nr; i++) {
        const struct ws_album *al = &w->albums[i];
        const uint32_t *row;
        size_t n;

        if (!al->deleted || !m->albums[i].members_known)
            continue;
        row = model_album_assets(m, (uint32_t)i, &n);
        for (size_t k = 0; k < n; k++)
            plan_add(plan_group(w->plan, PLAN_ALBUM_REMOVE, al->name,
                                &m->albums[i].id),
                     &m->assets[row[k]].id, (enum plan_reason)al->reason, 0);
    }
    for (i = 0; i < w->albums_nr; i++) {
        const struct ws_album *al = &w->albums[i];

        if (i >= m->albums_nr && !al->deleted && al->count > 0) {
            plan_group_album(w->plan, PLAN_ALBUM_CREATE, al->name, NULL,
                             (enum plan_reason)al->reason);
            w->plan->stats.albums_created++;
        } else if (i < m->albums_nr && al->deleted &&
                   ws_album_all_visible(w, i)) {
            plan_group_album(w->plan, PLAN_ALBUM_DELETE, al->name,
                             &m->albums[i].id, (enum plan_reason)al->reason);
        }
    }
    for (i = 0; i < w->dates_nr; i++) {
        const struct ws_date *d = &w->dates[i];

        plan_add(plan_group_date(w->plan, d->date, d->offset_min),
                 &m->assets[d->asset].id, PLAN_R_DATE_CORRECTION, 0);
    }
}
