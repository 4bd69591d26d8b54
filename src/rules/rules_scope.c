/*
 * rules_scope.c: which assets an incremental evaluation walks
 * (model.changes_only; docs/rules.md "What a change can affect").
 *
 * The model was at a fixpoint of a full evaluation after the last good
 * run, with the same configuration: a full evaluation then planned
 * nothing.  An asset can plan something now only when something it
 * reads differs.  What the steps read beyond the asset itself:
 *
 *   - its duplicate group (date candidates, classification consistency,
 *     album options, the group's conflict tags written to every member);
 *   - the albums it is in (name, owner, users; deleted at start when an
 *     unhealthy temporary album);
 *   - which album a name finds (ws_album_by_name(): conversion
 *     destinations, temporary, folder and duplicate album names), which
 *     depends on every album of that name.
 *
 * Everything else the steps read is the configuration.  Album-level
 * passes (duplicate names, temporary album health, empty temporary
 * albums, permissions) still cover every album: they cost albums, not
 * assets, and the deleted flags they set are read by every asset.
 */
#include "rules/rules_int.h"

struct scope {
    struct ws *w;
    struct idvec q;     /* assets flagged so far, in flagging order */
    struct u64map keys; /* album keys already expanded */
    uint8_t *conv_done; /* per conversion: its sources added */
};

static void add(struct scope *s, uint32_t a)
{
    if (s->w->flags[a] & WSF_SCOPE)
        return;
    s->w->flags[a] |= WSF_SCOPE;
    idvec_push(&s->q, a);
}

static void add_album_members(struct scope *s, uint32_t al)
{
    size_t nr;
    const uint32_t *row = model_album_assets(s->w->m, al, &nr);

    for (size_t i = 0; i < nr; i++)
        add(s, row[i]);
}

/* Every asset conversion ci's source can match in the model (the working
 * state of an asset out of scope is the model's). */
static void add_conversion_sources(struct scope *s, size_t ci)
{
    struct ws *w = s->w;
    size_t r = w->r.conv_first + ci;
    const struct config_rule *rule = w->r.rule[r];
    const uint8_t *names = w->r.has_name + r * w->r.names_nr;

    if (s->conv_done[ci])
        return;
    s->conv_done[ci] = 1;
    for (size_t t = 0; t < w->m->tags_nr; t++) {
        int32_t rn = w->tags[t].rname;
        const uint32_t *row;
        size_t nr;

        if (rn < 0 || !names[rn])
            continue;
        row = model_tag_assets(w->m, (uint32_t)t, &nr);
        for (size_t i = 0; i < nr; i++)
            add(s, row[i]);
    }
    for (size_t al = 0; al < w->m->albums_nr; al++)
        if (w->albums[al].rule_hit[r])
            add_album_members(s, (uint32_t)al);
    for (size_t i = 0; i < rule->link_assets_nr; i++) {
        uint32_t a = model_find_asset(w->m, &rule->link_assets[i]);

        if (a != MODEL_NONE)
            add(s, a);
    }
}

/*
 * Album al changed (name, users, membership) or is deleted at start.
 * Its members read it.  A name lookup may now find another album of its
 * name: the assets that looked the name up are in the album the lookup
 * found before, one of the albums of that name, or (a conversion whose
 * destination was missing) anywhere the conversion's source matches.
 */
static void touch_album(struct scope *s, uint32_t al)
{
    struct ws *w = s->w;
    const char *key = w->albums[al].key;
    uint32_t id = ws_intern(w, key, strlen(key));
    const struct config *cfg = w->cfg;

    if (u64map_put(&s->keys, id, 1) != HASHMAP_NONE)
        return;
    /* al and every album of its name */
    for (uint32_t x = u64map_get(&w->album_by_key, id);
         x != HASHMAP_NONE && x != MODEL_NONE; x = w->albums[x].next_same)
        if (x < w->m->albums_nr)
            add_album_members(s, x);
    if (!cfg->conversions.enabled)
        return;
    for (size_t ci = 0; ci < cfg->conversions.nr; ci++) {
        const struct config_conversion *cv = &cfg->conversions.items[ci];

        for (size_t i = 0; i < cv->dest_albums.nr; i++)
            if (!strcmp(cv->dest_albums.items[i], key))
                add_conversion_sources(s, ci);
    }
}

void rules_scope(struct ws *w)
{
    const struct model *m = w->m;
    struct scope s;
    uint8_t *dup_done = xcalloc(m->dups_nr + 1, 1);

    memset(&s, 0, sizeof(s));
    s.w = w;
    s.conv_done = xcalloc(w->cfg->conversions.nr + 1, 1);
    for (size_t a = 0; a < m->assets_nr; a++)
        if (m->assets[a].flags & MODEL_ASSET_CHANGED)
            add(&s, (uint32_t)a);
    for (size_t al = 0; al < m->albums_nr; al++)
        if (m->albums[al].changed ||
            rules_temp_deleted_at_start(w, (uint32_t)al))
            touch_album(&s, (uint32_t)al);
    /* Whole duplicate groups (s.q grows while it is walked). */
    for (size_t i = 0; i < s.q.nr; i++) {
        uint32_t dup = m->assets[s.q.items[i]].duplicate;
        const uint32_t *mem;
        size_t mn;

        if (dup == MODEL_NONE || dup_done[dup])
            continue;
        dup_done[dup] = 1;
        mem = model_dup_assets(m, dup, &mn);
        for (size_t k = 0; k < mn; k++)
            add(&s, mem[k]);
    }
    free(dup_done);
    free(s.conv_done);
    free(s.q.items);
    u64map_release(&s.keys);
}
