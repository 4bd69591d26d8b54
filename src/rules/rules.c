/*
 * rules.c: rules_evaluate(): which assets are processed, the album-level
 * passes, and upstream's per-asset steps in order
 * (docs/upstream-behavior.md §4.3; a bare § below cites that page too):
 *
 *   1 conversions, 2 date correction, 3 duplicate classification
 *   consistency, 4 album assignment (4a duplicate album options, 4b folder
 *   album, 4c by classification status), 5 unknown/conflict output tags,
 *   6 album date consistency.
 *
 * Each step reads and writes the working state (rules_ws.c), so later
 * steps see earlier ones.  Tags whose value depends on the final album
 * set of the asset (4a's album-conflict tags, 4b's detection tag) are
 * decided right after 4c, on the state 4c left, so one run converges.
 */
#include "rules/rules_int.h"

#include <ctype.h>

#define DAY_MS 86400000LL

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* The asset's name, id and web link, the fields of every note about one
 * asset. */
static void add_asset_fields(struct ws *w, struct plan_fields *f, uint32_t a)
{
    char id[UUID_STR_LEN + 1];
    struct buf link = BUF_INIT;

    uuid_format(&w->m->assets[a].id, id);
    buf_addf(&link, "%s/photos/%s", w->url, id);
    plan_fields_str(f, "asset_name",
                    model_str(w->m, w->m->assets[a].file_name));
    plan_fields_uuid(f, "asset_id", &w->m->assets[a].id);
    plan_fields_str(f, "asset_link", link.buf);
    buf_release(&link);
}

/* ---- selection: window and filters ---- */

/* One asset's place in the search order, sorted by value (qsort takes no
 * context, and the rules keep no global state). */
struct order_key {
    uint64_t pos;
    uint32_t asset;
};

static int cmp_search_order(const void *x, const void *y)
{
    const struct order_key *a = x, *b = y;

    if (a->pos != b->pos)
        return a->pos < b->pos ? -1 : 1;
    return (a->asset > b->asset) - (a->asset < b->asset);
}

/* w->order: every asset (incremental: every asset in scope) in the
 * server's search order as the read met it
 * (model_asset.search_pass/search_index; the model's own order is that of
 * the pages' arrival, which varies from run to run). */
static void build_order(struct ws *w)
{
    size_t n = 0;
    struct order_key *k = xmalloc(st_mult(w->m->assets_nr + 1, sizeof(*k)));

    for (size_t i = 0; i < w->m->assets_nr; i++) {
        const struct model_asset *a = &w->m->assets[i];

        if (w->incremental && !(w->flags[i] & WSF_SCOPE))
            continue;
        k[n].pos = (uint64_t)a->search_pass << 32 | a->search_index;
        k[n++].asset = (uint32_t)i;
    }
    if (n)
        qsort(k, n, sizeof(*k), cmp_search_order);
    w->order = xmalloc(st_mult(n ? n : 1, sizeof(*w->order)));
    for (size_t i = 0; i < n; i++)
        w->order[i] = k[i].asset;
    w->order_nr = n;
    free(k);
}

static bool eligible(const struct ws *w, uint32_t a)
{
    const struct model_asset *x = &w->m->assets[a];

    return (w->flags[a] & WSF_WRITABLE) &&
           (x->visibility == MODEL_VIS_TIMELINE ||
            x->visibility == MODEL_VIS_ARCHIVE);
}

static bool any_rule(struct ws *w, size_t first, size_t nr, uint32_t a)
{
    size_t i;

    if (!nr)
        return false;
    ws_tags_of(w, a, &w->t_step);
    ws_albums_of(w, a, &w->a_step);
    for (i = 0; i < nr; i++)
        if (ws_rule_match(w, first + i, a, &w->t_step, &w->a_step, NULL))
            return true;
    return false;
}

/* The skip_n / max_items window (rules_opts over the configuration) and
 * focused mode (a filter_in rule with asset links: no window). */
struct window {
    long skip, max;
    bool focused;
};

static void window_of(const struct ws *w, const struct rules_opts *o,
                      struct window *win)
{
    const struct config *cfg = w->cfg;

    win->skip = o->skip_n >= 0 ? o->skip_n : cfg->skip.skip_n;
    win->max =
        o->max_items == RULES_FROM_CONFIG ? cfg->skip.max_items : o->max_items;
    win->focused = false;
    for (size_t i = 0; i < cfg->filters.filter_in_nr; i++)
        if (cfg->filters.filter_in[i].link_assets_nr ||
            cfg->filters.filter_in[i].asset_links.nr)
            win->focused = true;
}

/* Does the window leave assets out?  Then which assets it holds depends
 * on every asset ahead of them in the search order.  A cap at least the
 * library's size (the template's max_items: 1000000) leaves none out. */
static bool window_limits(const struct window *win, size_t assets_nr)
{
    return !win->focused &&
           (win->skip > 0 || (win->max >= 0 && (size_t)win->max < assets_nr));
}

static void select_assets(struct ws *w, const struct window *win)
{
    size_t seen = 0, taken = 0;

    for (size_t i = 0; i < w->order_nr; i++) {
        uint32_t a = w->order[i];

        w->walked++;
        if (!eligible(w, a))
            continue;
        if (!win->focused) {
            if (win->skip > 0 && seen++ < (size_t)win->skip) {
                w->plan->stats.assets_skipped++;
                continue;
            }
            if (win->max >= 0 && taken >= (size_t)win->max) {
                w->plan->stats.assets_skipped++;
                continue;
            }
        }
        taken++;
        w->plan->stats.last_in_window = w->m->assets[a].id;
        w->plan->stats.has_last_in_window = true;
        if ((w->r.in_nr && !any_rule(w, w->r.in_first, w->r.in_nr, a)) ||
            any_rule(w, w->r.out_first, w->r.out_nr, a)) {
            w->plan->stats.assets_skipped++;
            continue;
        }
        w->flags[a] |= WSF_PROCESS;
    }
}

/* ---- album-level passes ---- */

static void note_duplicate_names(struct ws *w)
{
    size_t al;

    for (al = 0; al < w->albums_nr; al++) {
        const struct ws_album *x = &w->albums[al];
        struct plan_fields f = PLAN_FIELDS_INIT;
        uint32_t n, count = 0;

        if (x->next_same == MODEL_NONE)
            continue;
        /* only from the first album of the chain */
        n = u64map_get(&w->album_by_key,
                       strpool_find(&w->names, x->key, strlen(x->key)));
        if (n != al)
            continue;
        for (n = (uint32_t)al; n != MODEL_NONE; n = w->albums[n].next_same)
            count++;
        plan_fields_str(&f, "album_name", x->key);
        plan_fields_int(&f, "count", count);
        ws_note(w, PLAN_NOTE_ALBUM_NAME_DUPLICATE, MODEL_NONE, (uint32_t)al,
                &f);
    }
}

/* lo..hi widened to take d (TIME_NONE: no date, nothing to take). */
static void span_take(int64_t *lo, int64_t *hi, int64_t d)
{
    if (d == TIME_NONE)
        return;
    if (*lo == TIME_NONE || d < *lo)
        *lo = d;
    if (*hi == TIME_NONE || d > *hi)
        *hi = d;
}

static bool span_too_long(int64_t lo, int64_t hi)
{
    return lo != TIME_NONE && hi != TIME_NONE &&
           floor_div(hi - lo, DAY_MS) > RULES_TEMP_ALBUM_MAX_SPAN_DAYS;
}

/*
 * Would asset a fit in the temporary album named for day name_date, the
 * user's album al of that name (working id) or, when al is MODEL_NONE,
 * one made for it: a's date at most 30 days from name_date (else
 * leave_temp_albums() takes it out again next run), and the span of the
 * album's working members' dates with a's within the 30-day health rule
 * (else the album is deleted next run, made again, and a joins it again:
 * every run).  Members this run added count by their dates when added
 * (join_lo/join_hi), so one that left again still counts: the album is
 * never made to span more.
 */
static bool temp_album_fits(struct ws *w, uint32_t al, int64_t name_date,
                            uint32_t a)
{
    int64_t lo = TIME_NONE, hi = TIME_NONE;

    if (w->best[a] == TIME_NONE)
        return true;
    if (name_date != TIME_NONE &&
        llabs(time_days(w->best[a]) - time_days(name_date)) >
            RULES_TEMP_ALBUM_MAX_SPAN_DAYS)
        return false;
    if (al == MODEL_NONE)
        return true;
    lo = w->albums[al].join_lo;
    hi = w->albums[al].join_hi;
    span_take(&lo, &hi, w->best[a]);
    if (al < w->m->albums_nr && w->m->albums[al].members_known) {
        size_t nr, i;
        const uint32_t *mem = model_album_assets(w->m, al, &nr);

        for (i = 0; i < nr; i++)
            if (ws_has(w, mem[i], WS_ALBUM, al))
                span_take(&lo, &hi, w->best[mem[i]]);
    }
    return !span_too_long(lo, hi);
}

/* Upstream's 30-day rule; on the members' dates when membership is
 * known, else on the album's startDate/endDate. */
static bool temp_unhealthy(struct ws *w, uint32_t al)
{
    const struct model_album *ma = &w->m->albums[al];
    int64_t lo = TIME_NONE, hi = TIME_NONE;

    if (ma->members_known) {
        size_t nr, i;
        const uint32_t *mem = model_album_assets(w->m, al, &nr);

        if (nr < 2)
            return false;
        for (i = 0; i < nr; i++)
            span_take(&lo, &hi, w->best[mem[i]]);
    } else {
        lo = ma->start_date;
        hi = ma->end_date;
    }
    return span_too_long(lo, hi);
}

bool rules_temp_deleted_at_start(struct ws *w, uint32_t al)
{
    const struct ws_album *x = &w->albums[al];

    return x->is_temp && x->mine && !x->deleted && temp_unhealthy(w, al);
}

static void temp_albums_at_start(struct ws *w)
{
    for (size_t al = 0; al < w->m->albums_nr; al++)
        if (rules_temp_deleted_at_start(w, (uint32_t)al))
            ws_album_delete(w, (uint32_t)al, PLAN_R_TEMP_ALBUM_UNHEALTHY);
}

static void temp_albums_at_end(struct ws *w)
{
    size_t al;

    for (al = 0; al < w->m->albums_nr; al++) {
        struct ws_album *x = &w->albums[al];

        if (x->is_temp && x->mine && !x->deleted && x->count <= 0)
            ws_album_delete(w, (uint32_t)al, PLAN_R_TEMP_ALBUM_EMPTY);
    }
}

/* ---- step 1: conversions ---- */

static bool is_dest_tag(const struct config_conversion *cv, const char *leaf)
{
    size_t i;

    for (i = 0; i < cv->dest_tags.nr; i++)
        if (!strcmp(cv->dest_tags.items[i], leaf))
            return true;
    return false;
}

static void note_missing_album(struct ws *w, const char *name, size_t ci)
{
    struct plan_fields f = PLAN_FIELDS_INIT;

    if (!ws_first_time(w, hash_bytes(name, strlen(name)) ^ 0xa1b0ULL))
        return;
    plan_fields_str(&f, "album_name", name);
    plan_fields_int(&f, "conversion", (int64_t)ci + 1);
    ws_note(w, PLAN_NOTE_MISSING_DEST_ALBUM, MODEL_NONE, MODEL_NONE, &f);
}

/*
 * Step 1 for one asset: each conversion whose source matches (every source
 * tag or album name present) adds the destination tags and albums; a move
 * also drops the source tags that matched (never albums, as upstream).
 */
static void step_conversions(struct ws *w, uint32_t a)
{
    const struct config *cfg = w->cfg;
    size_t ci, i;

    if (!cfg->conversions.enabled)
        return;
    for (ci = 0; ci < cfg->conversions.nr; ci++) {
        const struct config_conversion *cv = &cfg->conversions.items[ci];
        size_t r = w->r.conv_first + ci;
        const uint8_t *names = w->r.has_name + r * w->r.names_nr;
        bool all_in = true;

        ws_tags_of(w, a, &w->t_step);
        ws_albums_of(w, a, &w->a_step);
        if (!ws_rule_match(w, r, a, &w->t_step, &w->a_step, NULL))
            continue;
        for (i = 0; i < cv->dest_tags.nr; i++)
            ws_ensure_tag(w, a, cv->dest_tags.items[i], true, PLAN_R_CONVERSION,
                          (unsigned)ci + 1);
        for (i = 0; i < cv->dest_albums.nr; i++) {
            uint32_t al = ws_album_by_name(w, cv->dest_albums.items[i]);

            if (al == MODEL_NONE) {
                note_missing_album(w, cv->dest_albums.items[i], ci);
                all_in = false;
                continue;
            }
            ws_set(w, a, WS_ALBUM, al, true, PLAN_R_CONVERSION,
                   (unsigned)ci + 1);
            if (!ws_has(w, a, WS_ALBUM, al))
                all_in = false;
        }
        if (cv->mode != CONFIG_CONV_MOVE || !all_in)
            continue;
        /* move: drop the source tags that matched (never albums) */
        ws_tags_of(w, a, &w->t_step);
        for (i = 0; i < w->t_step.nr; i++) {
            uint32_t t = w->t_step.items[i];
            int32_t rn = w->tags[t].rname;

            if (rn >= 0 && names[rn] && !is_dest_tag(cv, ws_tag_leaf(w, t)))
                ws_set(w, a, WS_TAG, t, false, PLAN_R_CONVERSION,
                       (unsigned)ci + 1);
        }
    }
}

/* ---- step 3: duplicate classification consistency ---- */

static bool vec_eq(const struct idvec *x, const struct idvec *y)
{
    return x->nr == y->nr &&
           (!x->nr || !memcmp(x->items, y->items, x->nr * sizeof(uint32_t)));
}

/* The asset's tag carrying rule-name rn (for the autofix copy). */
static uint32_t tag_with_rname(struct ws *w, uint32_t a, uint32_t rn)
{
    size_t i;

    ws_tags_of(w, a, &w->v_tmp);
    for (i = 0; i < w->v_tmp.nr; i++)
        if (w->tags[w->v_tmp.items[i]].rname == (int32_t)rn)
            return w->v_tmp.items[i];
    return MODEL_NONE;
}

/* Removes tags named prefix + <uuid> other than keep (NULL = all). */
static void drop_group_tags(struct ws *w, uint32_t a, const char *prefix,
                            const char *keep, enum plan_reason reason)
{
    size_t pl = strlen(prefix), i;
    struct uuid u;

    ws_tags_of(w, a, &w->v_tmp);
    for (i = 0; i < w->v_tmp.nr; i++) {
        uint32_t t = w->v_tmp.items[i];
        const char *leaf = ws_tag_leaf(w, t);

        if (strncmp(leaf, prefix, pl) || strlen(leaf) != pl + UUID_STR_LEN ||
            uuid_parse(leaf + pl, UUID_STR_LEN, &u) < 0)
            continue;
        if (keep && !strcmp(leaf, keep))
            continue;
        ws_set(w, a, WS_TAG, t, false, reason, 0);
        ws_tags_of(w, a, &w->v_tmp); /* the set changed */
        i = (size_t)-1;
    }
}

/*
 * Step 3: the asset's classification compared with its duplicates'. One
 * classification tag on one side and none on the other is copied over;
 * any other disagreement tags every member with the conflict tags. The
 * tags are never removed by the tool (§8 item 13).
 */
static void step_dup_classification(struct ws *w, uint32_t a)
{
    const struct config *cfg = w->cfg;
    const char *generic = cfg->duplicate_processing.classification_conflict;
    const char *prefix =
        cfg->duplicate_processing.classification_conflict_prefix;
    uint32_t dup = w->m->assets[a].duplicate;
    const uint32_t *mem;
    size_t mn, i;
    bool conflict = false;
    char id[UUID_STR_LEN + 1];
    struct buf per = BUF_INIT;

    if (dup == MODEL_NONE) {
        /* no group: nothing can disagree (self-healing, §8 item 13) */
        ws_ensure_tag(w, a, generic, false, PLAN_R_DUP_CLASS_CONFLICT, 0);
        if (prefix && *prefix)
            drop_group_tags(w, a, prefix, NULL, PLAN_R_DUP_CLASS_CONFLICT);
        return;
    }
    mem = model_dup_assets(w->m, dup, &mn);
    ws_class_names(w, a, &w->t_mem);
    for (i = 0; i < mn && !conflict; i++) {
        uint32_t x = mem[i];

        if (x == a)
            continue;
        ws_class_names(w, x, &w->a_mem);
        if (vec_eq(&w->t_mem, &w->a_mem))
            continue;
        if (w->t_mem.nr == 1 && !w->a_mem.nr && (w->flags[x] & WSF_WRITABLE)) {
            uint32_t t = tag_with_rname(w, a, w->t_mem.items[0]);

            ws_set(w, x, WS_TAG, t, true, PLAN_R_DUP_CLASS_AUTOFIX, 0);
        } else if (!w->t_mem.nr && w->a_mem.nr == 1) {
            uint32_t t = tag_with_rname(w, x, w->a_mem.items[0]);

            ws_set(w, a, WS_TAG, t, true, PLAN_R_DUP_CLASS_AUTOFIX, 0);
            ws_class_names(w, a, &w->t_mem);
            /* step 1 ran before this tag existed: run the asset again */
            if (!(w->flags[a] & WSF_DIRTY)) {
                w->flags[a] |= WSF_DIRTY;
                w->dirty++;
            }
        } else {
            conflict = true;
        }
    }
    uuid_format(&w->m->dups[dup].id, id);
    if (prefix && *prefix)
        buf_addf(&per, "%s%s", prefix, id);
    for (i = 0; i < mn; i++) {
        uint32_t x = mem[i];

        ws_ensure_tag(w, x, generic, conflict, PLAN_R_DUP_CLASS_CONFLICT, 0);
        if (per.len) {
            ws_ensure_tag(w, x, per.buf, conflict, PLAN_R_DUP_CLASS_CONFLICT,
                          0);
            drop_group_tags(w, x, prefix, per.buf, PLAN_R_DUP_CLASS_CONFLICT);
        }
    }
    if (conflict && ws_first_time(w, ((uint64_t)dup << 8) | 0xd1))
        w->plan->stats.duplicates_flagged++;
    buf_release(&per);
}

/* ---- step 4: album assignment ---- */

static bool is_date_folder(const char *s, size_t len)
{
    static const char shape[] = "dddd-dd-dd";
    size_t i;

    if (len < 10)
        return false;
    for (i = 0; i < 10; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != '-')
            return false;
    return true;
}

struct folder_info {
    unsigned date_folders;
    bool excluded;
    bool has_name; /* w->fb_name holds the album name */
};

/*
 * Upstream 4b as pure string work on originalPath (§8 item 15): split at
 * '/' and '\', drop empty parts and the file name, find date folders.
 */
static void folder_analysis(struct ws *w, uint32_t a, struct folder_info *fi)
{
    const struct config *cfg = w->cfg;
    const char *path = model_str(w->m, w->m->assets[a].path);
    const char *comp[64];
    size_t clen[64], n = 0, i, date_at = 0;
    const char *p = path;

    memset(fi, 0, sizeof(*fi));
    while (*p && n < ARRAY_SIZE(comp)) {
        const char *s;

        while (*p == '/' || *p == '\\')
            p++;
        s = p;
        while (*p && *p != '/' && *p != '\\')
            p++;
        if (p > s) {
            comp[n] = s;
            clen[n++] = (size_t)(p - s);
        }
    }
    if (n)
        n--; /* the file name */
    buf_reset(&w->fb_path);
    for (i = 0; i < n; i++) {
        if (i)
            buf_addch(&w->fb_path, '/');
        ws_lower(comp[i], clen[i], &w->fb_path); /* Python's str.lower() */
        if (is_date_folder(comp[i], clen[i])) {
            if (!fi->date_folders)
                date_at = i;
            fi->date_folders++;
        }
    }
    for (i = 0; i < cfg->album_detection_from_folders.excluded_paths_nr; i++)
        if (config_regex_match(
                &cfg->album_detection_from_folders.excluded_paths[i],
                w->fb_path.buf, w->fb_path.len))
            fi->excluded = true;
    if (fi->excluded || fi->date_folders != 1)
        return;
    if (date_at == n - 1 && clen[date_at] == 10)
        return; /* a bare date folder names no event */
    buf_reset(&w->fb_name);
    for (i = date_at; i < n && i <= date_at + 3; i++) {
        if (i > date_at)
            buf_addch(&w->fb_name, '/');
        buf_add(&w->fb_name, comp[i], clen[i]);
    }
    fi->has_name = true;
}

static bool name_matches_class(struct ws *w, const char *name)
{
    size_t i, j, len = strlen(name);

    for (i = 0; i < w->r.class_nr; i++) {
        const struct config_rule *r = w->r.rule[w->r.class_first + i];

        for (j = 0; j < r->album_patterns_nr; j++)
            if (config_regex_match(&r->album_patterns[j], name, len))
                return true;
    }
    return false;
}

/*
 * 4a options: names of the pattern-matching albums of every group member
 * (the asset's own included, §8 item 12) plus the folder album name.
 * Returns the number of distinct names; *one is the names id of the only
 * one when there is exactly one, *from_folder whether it is the folder's.
 */
static size_t album_options(struct ws *w, uint32_t a, const char *folder,
                            uint32_t *one, bool *from_folder)
{
    uint32_t dup = w->m->assets[a].duplicate;
    const uint32_t *mem = &a;
    size_t mn = 1, i, j;
    struct idvec *opt = &w->a_mem;
    uint32_t folder_id = STRPOOL_NONE;

    opt->nr = 0;
    if (dup != MODEL_NONE)
        mem = model_dup_assets(w->m, dup, &mn);
    for (i = 0; i < mn; i++) {
        /* mem is &a only with mn == 1: index 0 (cppcheck cannot tell) */
        /* cppcheck-suppress objectIndex */
        ws_albums_of(w, mem[i], &w->a_step);
        for (j = 0; j < w->a_step.nr; j++) {
            const struct ws_album *al = &w->albums[w->a_step.items[j]];
            uint32_t k;
            size_t q;

            if (!ws_album_matches_class(w, w->a_step.items[j]))
                continue;
            k = strpool_find(&w->names, al->key, strlen(al->key));
            for (q = 0; q < opt->nr && opt->items[q] != k; q++)
                ;
            if (q == opt->nr)
                idvec_push(opt, k);
        }
    }
    if (folder && name_matches_class(w, folder)) {
        size_t q;

        folder_id = ws_intern(w, folder, strlen(folder));
        for (q = 0; q < opt->nr && opt->items[q] != folder_id; q++)
            ;
        if (q == opt->nr)
            idvec_push(opt, folder_id);
    }
    if (opt->nr == 1) {
        *one = opt->items[0];
        *from_folder = opt->items[0] == folder_id;
    }
    return opt->nr;
}

static bool has_class_album(struct ws *w, uint32_t a)
{
    size_t i;

    ws_albums_of(w, a, &w->a_step);
    for (i = 0; i < w->a_step.nr; i++)
        if (ws_album_matches_class(w, w->a_step.items[i]))
            return true;
    return false;
}

/*
 * A server shared by several users: an editor's photo may sit in another
 * user's temporary album.  Each user's run sorts its own assets into its
 * own temporary albums and takes them out of others' (where it may), so
 * that what ends where does not depend on whose run came first; another
 * user's temporary album does not classify (ws_classify()).
 */
static void leave_others_temp_albums(struct ws *w, uint32_t a)
{
    ws_albums_of(w, a, &w->a_step);
    for (size_t i = 0; i < w->a_step.nr; i++) {
        uint32_t al = w->a_step.items[i];
        const struct ws_album *x = &w->albums[al];

        if (x->is_temp && !x->mine && x->editable)
            ws_set(w, a, WS_ALBUM, al, false, PLAN_R_TEMP_ALBUM_CLEANUP, 0);
    }
}

/* Leaves temporary albums: all of them, or only stale ones (a temp album
 * named for a date more than 30 days from the asset's date). */
static void leave_temp_albums(struct ws *w, uint32_t a, bool only_stale)
{
    size_t i;

    ws_albums_of(w, a, &w->a_step);
    for (i = 0; i < w->a_step.nr; i++) {
        uint32_t al = w->a_step.items[i];
        const struct ws_album *x = &w->albums[al];

        if (!x->is_temp)
            continue;
        if (only_stale &&
            (x->name_date == TIME_NONE || w->best[a] == TIME_NONE ||
             llabs(time_days(w->best[a]) - time_days(x->name_date)) <=
                 RULES_TEMP_ALBUM_MAX_SPAN_DAYS))
            continue;
        ws_set(w, a, WS_ALBUM, al, false, PLAN_R_TEMP_ALBUM_CLEANUP, 0);
    }
}

static void put_in_album(struct ws *w, uint32_t a, const char *name,
                         enum plan_reason reason)
{
    uint32_t al = ws_album_by_name(w, name);

    /* A temporary album is the user's own: another user's of the same
     * name is theirs to sort (see leave_others_temp_albums()). */
    if (al == MODEL_NONE || !w->albums[al].editable ||
        (w->albums[al].is_temp && !w->albums[al].mine))
        al = ws_album_create(w, name, reason);
    ws_set(w, a, WS_ALBUM, al, true, reason, 0);
}

/*
 * The one album of 4a, when it is a temporary album, must fit a
 * (temp_album_fits()): the user's album of that name put_in_album() adds
 * a to, or the one it makes.  Upstream adds a anyway; the album then
 * fails the health check, is deleted and made again on every run
 * (docs/rules.md).
 */
static bool option_fits(struct ws *w, uint32_t a, const char *name)
{
    uint32_t al = ws_album_by_name(w, name);

    if (!strstr(name, RULES_TEMP_ALBUM_MARK))
        return true;
    if (al != MODEL_NONE && (!w->albums[al].mine || !w->albums[al].editable))
        al = MODEL_NONE;
    return temp_album_fits(w, al, rules_album_name_date(name), a);
}

/*
 * Step 4 for one asset: leaves temporary albums it no longer belongs in;
 * then, if it is still unclassified, puts it in the one album its folder
 * or its duplicates point to, else (create_album_from_date_if_missing) in
 * the temporary album of its date.
 */
static void step_album_assignment(struct ws *w, uint32_t a,
                                  const struct folder_info *fi)
{
    const struct config *cfg = w->cfg;
    struct cls c, c2;
    uint32_t one = STRPOOL_NONE;
    bool from_folder = false;
    size_t nopt;
    bool folder_ok;

    leave_others_temp_albums(w, a);
    leave_temp_albums(w, a, true);
    ws_classify(w, a, false, &c);
    if (c.status != CLS_UNCLASSIFIED) {
        size_t nalb;

        ws_albums_of(w, a, &w->a_step);
        nalb = w->a_step.nr;
        ws_classify(w, a, true, &c2);
        /*
         * Upstream: a conflicting asset, or a classified one in two or
         * more albums, leaves its temporary albums.  Not when the temporary
         * album is what classifies it (it would come back next run).
         */
        if (c.status == CLS_CONFLICT ||
            (nalb >= 2 && c2.status != CLS_UNCLASSIFIED))
            leave_temp_albums(w, a, false);
        ws_classify(w, a, false, &c);
        if (c.status != CLS_UNCLASSIFIED)
            return;
    }
    /* 4b runs for unclassified assets without a pattern album */
    folder_ok = cfg->album_detection_from_folders.enabled && fi->has_name &&
                !has_class_album(w, a);
    nopt = album_options(w, a, folder_ok ? w->fb_name.buf : NULL, &one,
                         &from_folder);
    if (nopt == 1 && !option_fits(w, a, strpool_str(&w->names, one)))
        nopt = 0; /* its own date's temporary album instead */
    if (nopt == 1) {
        const char *name = strpool_str(&w->names, one);

        /* copy: the pool may move when the album is created */
        buf_reset(&w->fb_path);
        buf_addstr(&w->fb_path, name);
        put_in_album(w, a, w->fb_path.buf,
                     from_folder ? PLAN_R_ALBUM_FROM_FOLDER
                                 : PLAN_R_ALBUM_FROM_DUPLICATES);
    } else if (cfg->create_album_from_date_if_missing &&
               w->best[a] != TIME_NONE) {
        char name[64];

        rules_temp_name(w->best[a], name);
        put_in_album(w, a, name, PLAN_R_ALBUM_FROM_DATE);
    }
}

/* 4a's tags, on the album sets 4c left (§8 item 12). */
static void step_dup_album_tags(struct ws *w, uint32_t a,
                                const struct folder_info *fi)
{
    const char *tag = w->cfg->duplicate_processing.album_conflict;
    uint32_t dup = w->m->assets[a].duplicate;
    const uint32_t *mem;
    size_t mn, i;
    uint32_t one;
    bool from_folder, conflict, folder_ok;
    struct buf per = BUF_INIT, prefix = BUF_INIT;
    char id[UUID_STR_LEN + 1];
    struct cls c;

    if (!tag || !*tag)
        return;
    buf_addf(&prefix, "%s_", tag);
    if (dup == MODEL_NONE) {
        ws_ensure_tag(w, a, tag, false, PLAN_R_DUP_ALBUM_CONFLICT, 0);
        drop_group_tags(w, a, prefix.buf, NULL, PLAN_R_DUP_ALBUM_CONFLICT);
        buf_release(&prefix);
        return;
    }
    ws_classify(w, a, false, &c);
    folder_ok = w->cfg->album_detection_from_folders.enabled &&
                c.status == CLS_UNCLASSIFIED && fi->has_name &&
                !has_class_album(w, a);
    conflict = album_options(w, a, folder_ok ? w->fb_name.buf : NULL, &one,
                             &from_folder) > 1;
    uuid_format(&w->m->dups[dup].id, id);
    buf_addf(&per, "%s%s", prefix.buf, id);
    mem = model_dup_assets(w->m, dup, &mn);
    for (i = 0; i < mn; i++) {
        ws_ensure_tag(w, mem[i], tag, conflict, PLAN_R_DUP_ALBUM_CONFLICT, 0);
        ws_ensure_tag(w, mem[i], per.buf, conflict, PLAN_R_DUP_ALBUM_CONFLICT,
                      0);
        drop_group_tags(w, mem[i], prefix.buf, per.buf,
                        PLAN_R_DUP_ALBUM_CONFLICT);
    }
    if (conflict && ws_first_time(w, ((uint64_t)dup << 8) | 0xd2))
        w->plan->stats.duplicates_flagged++;
    buf_release(&per);
    buf_release(&prefix);
}

/* 4b's tag (§8 item 14): only while 4b applies, never for excluded
 * paths; removed as soon as the asset is classified. */
static void step_detection_tag(struct ws *w, uint32_t a,
                               const struct folder_info *fi)
{
    const char *tag = w->cfg->duplicate_processing.album_detection_conflict;
    struct cls c;
    bool want;

    if (!w->cfg->album_detection_from_folders.enabled || !tag || !*tag)
        return;
    ws_classify(w, a, false, &c);
    want = c.status == CLS_UNCLASSIFIED && !has_class_album(w, a) &&
           fi->date_folders > 1 && !fi->excluded;
    ws_ensure_tag(w, a, tag, want, PLAN_R_ALBUM_DETECTION_CONFLICT, 0);
    if (want) {
        struct plan_fields f = PLAN_FIELDS_INIT;

        add_asset_fields(w, &f, a);
        plan_fields_str(&f, "path", w->fb_path.buf);
        plan_fields_int(&f, "date_folders", fi->date_folders);
        ws_note(w, PLAN_NOTE_ALBUM_DETECTION_CONFLICT, a, MODEL_NONE, &f);
    }
}

/* ---- step 5: unknown / conflict output tags ---- */

static void step_classification_tags(struct ws *w, uint32_t a)
{
    const struct config *cfg = w->cfg;
    struct cls c;
    unsigned rule;

    ws_classify(w, a, false, &c);
    rule = c.first_rule == MODEL_NONE ? 0 : c.first_rule + 1;
    ws_ensure_tag(w, a, cfg->classification.autotag_unknown,
                  c.status == CLS_UNCLASSIFIED,
                  c.status == CLS_UNCLASSIFIED ? PLAN_R_CLASSIFY_UNKNOWN
                                               : PLAN_R_CLASSIFIED,
                  rule);
    ws_ensure_tag(
        w, a, cfg->classification.autotag_conflict, c.status == CLS_CONFLICT,
        c.status == CLS_CONFLICT ? PLAN_R_CLASSIFY_CONFLICT : PLAN_R_CLASSIFIED,
        rule);
    if (c.status == CLS_CONFLICT) {
        struct plan_fields f = PLAN_FIELDS_INIT;

        plan_fields_str(&f, "reason", "multiple_rules_matched");
        plan_fields_int(&f, "num_rules", c.rules_matched);
        plan_fields_int(&f, "album_hits", c.album_hits);
        add_asset_fields(w, &f, a);
        ws_note(w, PLAN_NOTE_CLASSIFICATION_CONFLICT, a, MODEL_NONE, &f);
    }
}

/* ---- step 6: album date consistency ---- */

/*
 * Step 6: an asset whose date is more than threshold_days from the date
 * in the name of one of its albums is tagged with the mismatch tag (with
 * both dates in the note); one that no longer is loses the tag.
 */
static void step_album_dates(struct ws *w, uint32_t a)
{
    const struct config *cfg = w->cfg;
    const char *tag = cfg->album_date_consistency.tag;
    int64_t best = w->best[a];
    bool any = false;
    size_t i;

    if (!cfg->album_date_consistency.present ||
        !cfg->album_date_consistency.enabled || best == TIME_NONE)
        return;
    if (!tag || !*tag)
        tag = "autotag_album_date_mismatch";
    ws_albums_of(w, a, &w->a_step);
    for (i = 0; i < w->a_step.nr; i++) {
        const struct ws_album *al = &w->albums[w->a_step.items[i]];
        int64_t diff;
        struct plan_fields f = PLAN_FIELDS_INIT;

        if (al->name_date == TIME_NONE)
            continue;
        diff = llabs(floor_div(best - al->name_date, DAY_MS));
        if (diff <= cfg->album_date_consistency.threshold_days)
            continue;
        any = true;
        plan_fields_str(&f, "album_name", al->name);
        plan_fields_date(&f, "album_date", al->name_date);
        plan_fields_date(&f, "asset_date", best);
        plan_fields_int(&f, "diff_days", diff);
        plan_fields_str(&f, "autotag", tag);
        add_asset_fields(w, &f, a);
        ws_note(w, PLAN_NOTE_ALBUM_DATE_MISMATCH, a,
                w->a_step.items[i] < w->m->albums_nr ? w->a_step.items[i]
                                                     : MODEL_NONE,
                &f);
    }
    if (any && !(w->flags[a] & WSF_MISMATCH)) {
        w->flags[a] |= WSF_MISMATCH;
        w->plan->stats.date_mismatches++;
    }
    ws_ensure_tag(w, a, tag, any, PLAN_R_ALBUM_DATE_MISMATCH, 0);
}

static void process_asset(struct ws *w, uint32_t a)
{
    const struct config *cfg = w->cfg;
    struct folder_info fi;

    w->cur = a;
    if (!(w->flags[a] & WSF_DONE)) {
        struct cls c;

        w->evaluated++;

        /* found unclassified (the summary's "unclassified" is what is
         * left after temporary albums, folders and duplicates) */
        ws_classify(w, a, false, &c);
        if (c.status == CLS_UNCLASSIFIED)
            w->plan->stats.unclassified_found++;
    }
    step_conversions(w, a);
    if (cfg->duplicate_processing.present &&
        cfg->duplicate_processing.date_correction.enabled)
        rules_date_correction(w, a);
    if (cfg->duplicate_processing.present)
        step_dup_classification(w, a);
    folder_analysis(w, a, &fi);
    step_album_assignment(w, a, &fi);
    if (cfg->duplicate_processing.present) {
        step_dup_album_tags(w, a, &fi);
        step_detection_tag(w, a, &fi);
    }
    step_classification_tags(w, a);
    step_album_dates(w, a);
    w->flags[a] |= WSF_DONE;
    w->cur = MODEL_NONE;
}

/*
 * Duplicate steps write to other members of the group (autofix, conflict
 * tags).  A member processed earlier in the run is processed again so that
 * its own steps see that change in this run, not the next (§8 item 1).
 * Each pass only revisits assets changed after their turn; the passes are
 * bounded (steps are idempotent, so a second visit changes at most the
 * dup-group tags again).
 */
static void reprocess_dirty(struct ws *w)
{
    size_t pass, a;

    for (pass = 0; pass < 4 && w->dirty; pass++) {
        w->dirty = 0;
        for (size_t i = 0; i < w->order_nr; i++) {
            a = w->order[i];
            if (!(w->flags[a] & WSF_DIRTY))
                continue;
            w->flags[a] &= (uint8_t)~WSF_DIRTY;
            if (w->flags[a] & WSF_PROCESS)
                process_asset(w, (uint32_t)a);
        }
    }
}

/* Classification counters, on the final state. */
static void final_stats(struct ws *w)
{
    struct plan_stats *st = &w->plan->stats;
    struct cls c;

    for (size_t i = 0; i < w->order_nr; i++) {
        uint32_t a = w->order[i];

        if (!(w->flags[a] & WSF_PROCESS))
            continue;
        st->assets_seen++;
        ws_classify(w, a, false, &c);
        if (c.status == CLS_UNCLASSIFIED) {
            st->unclassified++;
        } else if (c.status == CLS_CLASSIFIED) {
            st->classified++;
            if (c.first_rule < st->rules_nr)
                st->per_rule[c.first_rule]++;
        } else {
            st->conflict++;
        }
    }
}

int rules_evaluate(const struct config *cfg, const struct model *m,
                   const struct rules_opts *opts, struct plan *out,
                   struct buf *err)
{
    struct rules_opts def = RULES_OPTS_INIT;
    const char *url;
    struct ws w;
    struct window win;

    if (!opts)
        opts = &def;
    if (!m->indexed) {
        buf_addstr(err, "cannot evaluate rules: the model is not indexed");
        return -1;
    }
    if (cfg->album_permissions.enabled && m->me == MODEL_NONE) {
        buf_addstr(err, "cannot evaluate album permissions: the api user "
                        "is not in the model");
        return -1;
    }
    url = opts->server_url ? opts->server_url : cfg->server.url;
    ws_init(&w, cfg, m, out, url);
    ws_rules_build(&w);
    rules_dates_init(&w);
    free(out->server_url);
    out->server_url = url ? xstrdup(url) : NULL;
    out->created_at = opts->now;
    {
        char digest[MODEL_DIGEST_LEN + 1];

        model_digest(m, digest);
        free(out->snapshot_digest);
        out->snapshot_digest = xstrdup(digest);
    }
    out->stats.rules_nr = cfg->classification.rules_nr;
    free(out->stats.per_rule);
    out->stats.per_rule =
        xcalloc(out->stats.rules_nr ? out->stats.rules_nr : 1, sizeof(size_t));

    note_duplicate_names(&w);
    window_of(&w, opts, &win);
    /* A window's content depends on every asset ahead: evaluate all. */
    w.incremental = m->changes_only && !window_limits(&win, m->assets_nr);
    if (w.incremental)
        rules_scope(&w);
    build_order(&w);
    select_assets(&w, &win);
    temp_albums_at_start(&w);
    for (size_t i = 0; i < w.order_nr; i++) {
        uint32_t a = w.order[i];

        if (w.flags[a] & WSF_PROCESS)
            process_asset(&w, a);
    }
    reprocess_dirty(&w);
    final_stats(&w);
    temp_albums_at_end(&w);
    rules_permissions(&w);
    ws_emit_plan(&w);
    plan_finish(out);
    if (opts->result) {
        opts->result->incremental = w.incremental;
        opts->result->assets_walked = w.walked;
        opts->result->assets_evaluated = w.evaluated;
    }
    rules_dates_release(&w);
    ws_release(&w);
    return 0;
}
