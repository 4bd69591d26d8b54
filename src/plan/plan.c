/*
 * plan.c: the plan value: groups keyed by (op, target, role, date), items,
 * notes, and the canonical order that makes equal plans byte-identical.
 *
 * Groups are found through a small open-addressing index (group index + 1
 * per slot) so that a plan with one group per corrected date (possibly
 * hundreds of thousands) is still built in linear time.
 */
#include "plan/plan.h"

#include "core/strpool.h"
#include "core/timeutil.h"

void plan_init(struct plan *p)
{
    memset(p, 0, sizeof(*p));
}

void plan_release(struct plan *p)
{
    size_t i;

    if (!p)
        return;
    for (i = 0; i < p->nr; i++) {
        free(p->groups[i].name);
        free(p->groups[i].items);
    }
    free(p->groups);
    for (i = 0; i < p->notes_nr; i++)
        plan_fields_release(&p->notes[i].detail);
    free(p->notes);
    free(p->stats.per_rule);
    free(p->server_url);
    free(p->snapshot_digest);
    free(p->hslots);
    plan_init(p);
}

struct gkey {
    enum plan_op op;
    const char *name;
    const struct uuid *target; /* NULL = to be created */
    int role;
    int64_t date;
    int offset_min;
};

static uint64_t key_hash(const struct gkey *k)
{
    uint64_t h = hash_bytes(k->name, strlen(k->name));

    h ^= (uint64_t)k->op * 0x9e3779b97f4a7c15ULL;
    if (k->target)
        h ^= uuid_hash(k->target) * 31;
    h ^= (uint64_t)(k->role + 1) * 0xbf58476d1ce4e5b9ULL;
    h ^= (uint64_t)k->date * 0x94d049bb133111ebULL;
    h ^= (uint64_t)(int64_t)k->offset_min << 7;
    return h;
}

static bool key_eq(const struct plan_group *g, const struct gkey *k)
{
    if (g->op != k->op || g->role != k->role || g->date != k->date ||
        g->offset_min != k->offset_min || strcmp(g->name, k->name))
        return false;
    if (g->target_exists != (k->target != NULL))
        return false;
    return !k->target || uuid_eq(&g->target, k->target);
}

static uint64_t group_hash(const struct plan_group *g)
{
    struct gkey k = {g->op,   g->name, g->target_exists ? &g->target : NULL,
                     g->role, g->date, g->offset_min};

    return key_hash(&k);
}

static void rehash(struct plan *p, size_t want)
{
    size_t n = 16, i;

    while (n < want * 2)
        n *= 2;
    free(p->hslots);
    p->hslots = xcalloc(n, sizeof(*p->hslots));
    p->hslots_nr = n;
    for (i = 0; i < p->nr; i++) {
        size_t s = group_hash(&p->groups[i]) & (n - 1);

        while (p->hslots[s])
            s = (s + 1) & (n - 1);
        p->hslots[s] = (uint32_t)(i + 1);
    }
}

static struct plan_group *group_get(struct plan *p, const struct gkey *k)
{
    struct plan_group *g;
    size_t s;

    if ((p->nr + 1) * 2 > p->hslots_nr)
        rehash(p, p->nr + 1);
    s = key_hash(k) & (p->hslots_nr - 1);
    while (p->hslots[s]) {
        g = &p->groups[p->hslots[s] - 1];
        if (key_eq(g, k))
            return g;
        s = (s + 1) & (p->hslots_nr - 1);
    }
    if (p->nr >= UINT32_MAX - 1)
        BUG("plan group count overflows");
    ALLOC_GROW(p->groups, p->nr + 1, p->alloc);
    g = &p->groups[p->nr];
    memset(g, 0, sizeof(*g));
    g->op = k->op;
    g->name = xstrdup(k->name);
    if (k->target) {
        g->target = *k->target;
        g->target_exists = true;
    }
    g->role = k->role;
    g->date = k->date;
    g->offset_min = k->offset_min;
    g->reason = -1;
    p->hslots[s] = (uint32_t)(++p->nr);
    return g;
}

struct plan_group *plan_group(struct plan *p, enum plan_op op, const char *name,
                              const struct uuid *target)
{
    struct gkey k = {op, name ? name : "", target, 0, 0, 0};

    return group_get(p, &k);
}

struct plan_group *plan_group_role(struct plan *p, enum plan_op op,
                                   const char *album, const struct uuid *id,
                                   int role)
{
    struct gkey k = {op, album ? album : "", id, role, 0, 0};

    return group_get(p, &k);
}

struct plan_group *plan_group_album(struct plan *p, enum plan_op op,
                                    const char *album, const struct uuid *id,
                                    enum plan_reason reason)
{
    struct gkey k = {op, album ? album : "", id, 0, 0, 0};
    struct plan_group *g = group_get(p, &k);

    if (g->reason < 0)
        g->reason = (int)reason;
    return g;
}

/* Date groups are named by the value they write, e.g.
 * "2024-03-10T08:00:00.000+01:00". */
static void date_name(int64_t date, int offset_min, char out[48])
{
    struct civil c;
    int off = offset_min < 0 ? -offset_min : offset_min;

    time_to_civil(date + (int64_t)offset_min * 60000, &c);
    snprintf(out, 48, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02d:%02d", c.year,
             c.month, c.day, c.hour, c.minute, c.second, c.ms,
             offset_min < 0 ? '-' : '+', off / 60, off % 60);
}

struct plan_group *plan_group_date(struct plan *p, int64_t date, int offset_min)
{
    char name[48];
    struct gkey k = {PLAN_ASSET_DATE, name, NULL, 0, date, offset_min};

    date_name(date, offset_min, name);
    return group_get(p, &k);
}

void plan_add(struct plan_group *g, const struct uuid *id,
              enum plan_reason reason, unsigned rule)
{
    struct plan_item *it;

    ALLOC_GROW(g->items, g->nr + 1, g->alloc);
    it = &g->items[g->nr++];
    it->id = *id;
    it->reason = (uint16_t)reason;
    it->rule = (uint16_t)(rule > UINT16_MAX ? UINT16_MAX : rule);
}

void plan_note(struct plan *p, enum plan_note_kind kind,
               const struct uuid *asset, const struct uuid *album,
               struct plan_fields *detail)
{
    struct plan_note *n;

    ALLOC_GROW(p->notes, p->notes_nr + 1, p->notes_alloc);
    n = &p->notes[p->notes_nr++];
    memset(n, 0, sizeof(*n));
    n->kind = kind;
    if (asset)
        n->asset = *asset;
    if (album)
        n->album = *album;
    buf_init(&n->detail.text, 0);
    if (detail) {
        plan_fields_move(&n->detail, detail);
        plan_fields_shrink(&n->detail); /* kept until the plan goes */
    }
}

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_group(const void *va, const void *vb)
{
    const struct plan_group *a = va, *b = vb;
    int c;

    if (a->op != b->op)
        return a->op < b->op ? -1 : 1;
    if ((c = strcmp(a->name, b->name)))
        return c;
    if (a->target_exists != b->target_exists)
        return a->target_exists ? 1 : -1;
    if ((c = uuid_cmp(&a->target, &b->target)))
        return c;
    if (a->role != b->role)
        return a->role < b->role ? -1 : 1;
    if ((c = cmp_i64(a->date, b->date)))
        return c;
    return a->offset_min < b->offset_min ? -1 : a->offset_min > b->offset_min;
}

static int cmp_item(const void *va, const void *vb)
{
    const struct plan_item *a = va, *b = vb;
    int c = uuid_cmp(&a->id, &b->id);

    if (c)
        return c;
    if (a->reason != b->reason)
        return a->reason < b->reason ? -1 : 1;
    return a->rule < b->rule ? -1 : a->rule > b->rule;
}

static int cmp_note(const void *va, const void *vb)
{
    const struct plan_note *a = va, *b = vb;
    int c;

    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if ((c = uuid_cmp(&a->asset, &b->asset)))
        return c;
    if ((c = uuid_cmp(&a->album, &b->album)))
        return c;
    return plan_fields_cmp(&a->detail, &b->detail);
}

static bool op_is_empty_kind(enum plan_op op)
{
    return op == PLAN_ALBUM_CREATE || op == PLAN_ALBUM_DELETE;
}

void plan_finish(struct plan *p)
{
    size_t i, j, out = 0;

    for (i = 0; i < p->nr; i++) {
        struct plan_group *g = &p->groups[i];

        if (!g->nr && !op_is_empty_kind(g->op)) {
            free(g->name);
            free(g->items);
            continue;
        }
        if (g->nr > 1)
            qsort(g->items, g->nr, sizeof(*g->items), cmp_item);
        /* Merge repeated ids: the smallest (reason, rule) stays. */
        if (g->nr > 1) {
            size_t w = 1;

            for (j = 1; j < g->nr; j++)
                if (!uuid_eq(&g->items[j].id, &g->items[w - 1].id))
                    g->items[w++] = g->items[j];
            g->nr = w;
        }
        if (g->reason < 0 && op_is_empty_kind(g->op))
            g->reason = 0;
        p->groups[out++] = *g;
    }
    p->nr = out;
    if (p->nr > 1)
        qsort(p->groups, p->nr, sizeof(*p->groups), cmp_group);
    if (p->notes_nr > 1) {
        qsort(p->notes, p->notes_nr, sizeof(*p->notes), cmp_note);
        /* identical notes say nothing new */
        for (i = 1, out = 1; i < p->notes_nr; i++) {
            if (!cmp_note(&p->notes[i], &p->notes[out - 1])) {
                plan_fields_release(&p->notes[i].detail);
                continue;
            }
            p->notes[out++] = p->notes[i];
        }
        p->notes_nr = out;
    }
    rehash(p, p->nr);
}

size_t plan_count_op(const struct plan *p, enum plan_op op)
{
    size_t i, n = 0;

    for (i = 0; i < p->nr; i++)
        if (p->groups[i].op == op)
            n += p->groups[i].nr;
    return n;
}

const struct plan_group *plan_find(const struct plan *p, enum plan_op op,
                                   const char *name)
{
    size_t i;

    for (i = 0; i < p->nr; i++)
        if (p->groups[i].op == op && !strcmp(p->groups[i].name, name))
            return &p->groups[i];
    return NULL;
}

size_t plan_changes(const struct plan *p)
{
    size_t i, n = 0;

    for (i = 0; i < p->nr; i++)
        n += op_is_empty_kind(p->groups[i].op) ? 1 : p->groups[i].nr;
    return n;
}

bool plan_is_empty(const struct plan *p)
{
    return plan_changes(p) == 0;
}

static const char *const op_names[PLAN_OP_COUNT] = {
    "tag_add",           "tag_remove",   "album_create",   "album_add",
    "album_remove",      "album_delete", "album_user_add", "album_user_role",
    "album_user_remove", "asset_date",
};

static const char *const reason_names[PLAN_REASON_COUNT] = {
    "conversion",
    "classify_unknown",
    "classify_conflict",
    "classified",
    "duplicate_album_conflict",
    "duplicate_classification_conflict",
    "duplicate_classification_autofix",
    "album_detection_conflict",
    "album_date_mismatch",
    "album_from_date",
    "album_from_folder",
    "album_from_duplicates",
    "temp_album_cleanup",
    "temp_album_empty",
    "temp_album_unhealthy",
    "date_correction",
    "permissions",
    "undo",
};

static const char *const note_names[PLAN_NOTE_COUNT] = {
    "CLASSIFICATION_CONFLICT",   "ALBUM_DATE_MISMATCH",
    "ALBUM_DETECTION_CONFLICT",  "ALBUM_PERMISSION_RULE_MATCHED",
    "ALBUM_PERMISSION_NO_MATCH", "MISSING_DESTINATION_ALBUM",
    "DATE_CORRECTION_UNHANDLED", "UNKNOWN_EMAIL",
    "ALBUM_NAME_DUPLICATE",
};

const char *plan_op_name(enum plan_op op)
{
    return (unsigned)op < PLAN_OP_COUNT ? op_names[op] : "unknown";
}

const char *plan_reason_name(enum plan_reason r)
{
    return (unsigned)r < PLAN_REASON_COUNT ? reason_names[r] : "unknown";
}

const char *plan_note_name(enum plan_note_kind k)
{
    return (unsigned)k < PLAN_NOTE_COUNT ? note_names[k] : "unknown";
}
