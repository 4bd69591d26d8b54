/*
 * rules_match.c: the rule table and upstream's matching semantics.
 *
 * A rule matches an asset when ANY criterion matches: one of its tag
 * names equals the leaf name of one of the asset's tags (exact), one of
 * its start-anchored patterns matches the name of one of the asset's
 * albums, or the asset's id is one of its links.  Album names are matched
 * against the patterns once per album (albums x rules bytes), tag names
 * are turned into small integers once per tag, so matching an asset costs
 * integer compares over its tags and albums.
 */
#include "rules/rules_int.h"

static size_t rname_of(struct ws *w, const char *s)
{
    uint32_t id = ws_intern(w, s, strlen(s));
    uint32_t rn = u64map_get(&w->rname_by_name, id);

    if (rn == HASHMAP_NONE) {
        rn = (uint32_t)w->r.names_nr++;
        u64map_put(&w->rname_by_name, id, rn);
        w->rname_str =
            xrealloc(w->rname_str, st_mult(w->r.names_nr, sizeof(uint32_t)));
        w->rname_str[rn] = id;
    }
    return rn;
}

/* Appends the nr rules of v to the rule list, as its range first, count. */
static void add_rules(struct ws_rules *r, const struct config_rule *v,
                      size_t nr, size_t *first, size_t *count)
{
    *first = r->nr;
    for (size_t i = 0; i < nr; i++)
        r->rule[r->nr++] = &v[i];
    *count = r->nr - *first;
}

void ws_rules_build(struct ws *w)
{
    const struct config *cfg = w->cfg;
    struct ws_rules *r = &w->r;
    size_t i, j, total;

    total = cfg->classification.rules_nr + cfg->conversions.nr +
            cfg->filters.filter_in_nr + cfg->filters.filter_out_nr;
    r->rule = xcalloc(total ? total : 1, sizeof(*r->rule));
    add_rules(r, cfg->classification.rules, cfg->classification.rules_nr,
              &r->class_first, &r->class_nr);
    r->conv_first = r->nr;
    for (i = 0; i < cfg->conversions.nr; i++)
        r->rule[r->nr++] = &cfg->conversions.items[i].source;
    r->conv_nr = r->nr - r->conv_first;
    add_rules(r, cfg->filters.filter_in, cfg->filters.filter_in_nr,
              &r->in_first, &r->in_nr);
    add_rules(r, cfg->filters.filter_out, cfg->filters.filter_out_nr,
              &r->out_first, &r->out_nr);

    for (i = 0; i < r->nr; i++)
        for (j = 0; j < r->rule[i]->tag_names.nr; j++)
            (void)rname_of(w, r->rule[i]->tag_names.items[j]);
    r->has_name =
        xcalloc(st_mult(r->nr ? r->nr : 1, r->names_nr ? r->names_nr : 1), 1);
    r->class_name = xcalloc(r->names_nr ? r->names_nr : 1, 1);
    for (i = 0; i < r->nr; i++)
        for (j = 0; j < r->rule[i]->tag_names.nr; j++) {
            size_t k = rname_of(w, r->rule[i]->tag_names.items[j]);

            r->has_name[i * r->names_nr + k] = 1;
            if (i >= r->class_first && i < r->class_first + r->class_nr)
                r->class_name[k] = 1;
        }
    for (i = 0; i < w->tags_nr; i++) {
        uint32_t rn = u64map_get(&w->rname_by_name, w->tags[i].leaf);

        w->tags[i].rname = rn == HASHMAP_NONE ? -1 : (int32_t)rn;
    }
    for (i = 0; i < w->albums_nr; i++)
        ws_album_rules(w, (uint32_t)i);
}

void ws_album_rules(struct ws *w, uint32_t al)
{
    struct ws_album *a = &w->albums[al];
    size_t i, j, len = strlen(a->key);

    free(a->rule_hit);
    a->rule_hit = xcalloc(w->r.nr ? w->r.nr : 1, 1);
    for (i = 0; i < w->r.nr; i++)
        for (j = 0; j < w->r.rule[i]->album_patterns_nr; j++)
            if (config_regex_match(&w->r.rule[i]->album_patterns[j], a->key,
                                   len)) {
                a->rule_hit[i] = 1;
                break;
            }
}

bool ws_rule_match(struct ws *w, size_t r, uint32_t a, const struct idvec *tags,
                   const struct idvec *albums, unsigned *album_hits)
{
    const struct config_rule *rule = w->r.rule[r];
    const uint8_t *names = w->r.has_name + r * w->r.names_nr;
    bool hit = false;
    unsigned hits = 0;
    size_t i;

    for (i = 0; i < tags->nr && !hit; i++) {
        int32_t rn = w->tags[tags->items[i]].rname;

        if (rn >= 0 && names[rn])
            hit = true;
    }
    for (i = 0; i < albums->nr; i++)
        if (w->albums[albums->items[i]].rule_hit[r])
            hits++;
    for (i = 0; i < rule->link_assets_nr && !hit; i++)
        if (uuid_eq(&rule->link_assets[i], &w->m->assets[a].id))
            hit = true;
    if (album_hits)
        *album_hits = hits;
    return hit || hits > 0;
}

/*
 * docs/upstream-behavior.md §3.2: R matched rules, A album hits summed
 * over them.  R = 0 unclassified; R = 1 and A <= 1 classified; otherwise
 * conflict.  With skip_temp the asset's temporary albums are left out
 * (what the status would be without them).
 */
void ws_classify(struct ws *w, uint32_t a, bool skip_temp, struct cls *out)
{
    size_t i;

    ws_tags_of(w, a, &w->t_cls);
    ws_albums_of(w, a, &w->a_cls);
    {
        size_t k = 0;

        /* Another user's temporary album never classifies. */
        for (i = 0; i < w->a_cls.nr; i++) {
            const struct ws_album *x = &w->albums[w->a_cls.items[i]];

            if (!x->is_temp || (!skip_temp && x->mine))
                w->a_cls.items[k++] = w->a_cls.items[i];
        }
        w->a_cls.nr = k;
    }
    memset(out, 0, sizeof(*out));
    out->first_rule = MODEL_NONE;
    for (i = 0; i < w->r.class_nr; i++) {
        unsigned hits = 0;

        if (!ws_rule_match(w, w->r.class_first + i, a, &w->t_cls, &w->a_cls,
                           &hits))
            continue;
        if (!out->rules_matched)
            out->first_rule = (uint32_t)i;
        out->rules_matched++;
        out->album_hits += hits;
    }
    if (!out->rules_matched)
        out->status = CLS_UNCLASSIFIED;
    else if (out->rules_matched == 1 && out->album_hits <= 1)
        out->status = CLS_CLASSIFIED;
    else
        out->status = CLS_CONFLICT;
}

bool ws_album_matches_class(const struct ws *w, uint32_t al)
{
    size_t i;

    for (i = 0; i < w->r.class_nr; i++)
        if (w->albums[al].rule_hit[w->r.class_first + i])
            return true;
    return false;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

    return x < y ? -1 : x > y;
}

void ws_class_names(struct ws *w, uint32_t a, struct idvec *out)
{
    size_t i, k = 0;

    ws_tags_of(w, a, &w->v_tmp);
    out->nr = 0;
    for (i = 0; i < w->v_tmp.nr; i++) {
        int32_t rn = w->tags[w->v_tmp.items[i]].rname;

        if (rn >= 0 && w->r.class_name[rn])
            idvec_push(out, (uint32_t)rn);
    }
    if (out->nr > 1)
        qsort(out->items, out->nr, sizeof(uint32_t), cmp_u32);
    for (i = 0; i < out->nr; i++)
        if (!k || out->items[k - 1] != out->items[i])
            out->items[k++] = out->items[i];
    out->nr = k;
}
