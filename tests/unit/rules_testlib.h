/*
 * rules_testlib.h: small builders shared by the rules tests: a library
 * (model) built record by record, configurations from YAML snippets, and
 * plan lookups.  Header-only (static functions) for the two test programs.
 */
#ifndef IA_RULES_TESTLIB_H
#define IA_RULES_TESTLIB_H

#include "config_testlib.h"
#include "rules/rules.h"

struct lib {
    struct model m;
    uint64_t seed;
    uint32_t me;
};

static inline struct uuid lib_id(struct lib *l)
{
    struct uuid u;

    uuid_v4_from_state(&l->seed, &u);
    return u;
}

static inline void lib_init(struct lib *l, uint64_t seed)
{
    struct uuid u;

    model_init(&l->m);
    l->seed = seed;
    u = lib_id(l);
    l->me = model_add_user(&l->m, &u, "me@example.com", "Me");
    l->m.me = l->me;
}

static inline uint32_t lib_user(struct lib *l, const char *email)
{
    struct uuid u = lib_id(l);

    return model_add_user(&l->m, &u, email, email);
}

static inline int64_t iso(const char *s)
{
    int64_t t = 0;

    if (time_parse_iso(s, strlen(s), &t, NULL) < 0)
        BUG("bad test date %s", s);
    return t;
}

/* An own timeline asset; every date field = when, upload a year later. */
static inline uint32_t lib_asset(struct lib *l, const char *file,
                                 const char *path, int64_t when)
{
    struct model_asset a;

    memset(&a, 0, sizeof(a));
    a.id = lib_id(l);
    a.owner = l->me;
    a.file_name = model_intern(&l->m, file);
    a.path = model_intern(&l->m, path ? path : "");
    a.duplicate = MODEL_NONE;
    a.file_created_at = a.file_modified_at = a.local_date_time = when;
    a.created_at = a.updated_at = when + 365LL * 86400000;
    a.date_time_original = when;
    a.visibility = MODEL_VIS_TIMELINE;
    return model_add_asset(&l->m, &a);
}

static inline uint32_t lib_album_users(struct lib *l, const char *name,
                                       uint32_t owner,
                                       const struct model_album_user *u,
                                       size_t nr)
{
    struct model_album al;

    memset(&al, 0, sizeof(al));
    al.id = lib_id(l);
    al.name = model_intern(&l->m, name);
    al.owner = owner;
    al.start_date = al.end_date = TIME_NONE;
    al.created_at = al.updated_at = 0;
    al.members_known = true;
    return model_add_album(&l->m, &al, u, nr);
}

static inline uint32_t lib_album(struct lib *l, const char *name)
{
    return lib_album_users(l, name, l->me, NULL, 0);
}

/* A tag by full value; parents are created as needed. */
static inline uint32_t lib_tag(struct lib *l, const char *value)
{
    struct model_tag t;
    const char *slash = strrchr(value, '/');
    uint32_t found = model_find_tag_by_value(&l->m, value);

    if (found != MODEL_NONE)
        return found;
    memset(&t, 0, sizeof(t));
    t.parent = MODEL_NONE;
    if (slash) {
        char *parent = xstrndup(value, (size_t)(slash - value));

        t.parent = lib_tag(l, parent);
        free(parent);
    }
    t.id = lib_id(l);
    t.name = model_intern(&l->m, slash ? slash + 1 : value);
    t.value = model_intern(&l->m, value);
    t.members_known = true;
    return model_add_tag(&l->m, &t);
}

static inline void lib_in(struct lib *l, uint32_t album, uint32_t asset)
{
    model_link_album_asset(&l->m, album, asset);
}

static inline void lib_tagged(struct lib *l, const char *tag, uint32_t asset)
{
    model_link_tag_asset(&l->m, lib_tag(l, tag), asset);
}

static inline uint32_t lib_dup(struct lib *l, uint32_t a, uint32_t b)
{
    struct uuid u = lib_id(l);
    uint32_t d = model_add_dup(&l->m, &u);

    l->m.assets[a].duplicate = d;
    l->m.assets[b].duplicate = d;
    return d;
}

#define CFG_BASE                                                               \
    "server: {host: photos.lan, port: 2283, api_key: secret}\n"                \
    "enable_album_name_strip: true\n"                                          \
    "skip: {}\n"

#define CFG_CLASS                                                              \
    "classification:\n"                                                        \
    "  rules:\n"                                                               \
    "    - tag_names: [meme, autotag_input_meme]\n"                            \
    "      album_name_patterns: ['^autotag_input_meme$']\n"                    \
    "    - album_name_patterns: ['^\\d{4}-(\\d{2}(-\\d{2})?)?']\n"

#define CFG_NOFOLDERS                                                          \
    "album_detection_from_folders: {enabled: false, excluded_paths: []}\n"

/* The start of a conversions list: the meme tags moved to their album. */
#define CFG_CONV_MEME_MOVE                                                     \
    "conversions:\n"                                                           \
    "  conversions:\n"                                                         \
    "    - source: {tag_names: [meme, autotag_input_meme]}\n"                  \
    "      destination: {album_names: [autotag_input_meme]}\n"                 \
    "      mode: move\n"

#define CFG_DUPS                                                               \
    "duplicate_processing:\n"                                                  \
    "  date_correction: {enabled: false, extraction_timezone: UTC}\n"

static inline void eval_plan(const struct config *cfg, const struct model *m,
                             struct plan *p)
{
    struct rules_opts o = RULES_OPTS_INIT;
    struct buf err = BUF_INIT;

    o.now = 1700000000000;
    plan_init(p);
    if (rules_evaluate(cfg, m, &o, p, &err) < 0)
        BUG("rules_evaluate failed: %s", err.buf);
    buf_release(&err);
}

/* Is asset (by model index) in group (op, name)? */
static inline bool plan_has(const struct plan *p, enum plan_op op,
                            const char *name, const struct model *m,
                            uint32_t asset)
{
    const struct plan_group *g = plan_find(p, op, name);
    size_t i;

    if (!g)
        return false;
    for (i = 0; i < g->nr; i++)
        if (uuid_eq(&g->items[i].id, &m->assets[asset].id))
            return true;
    return false;
}

static inline size_t plan_notes_of(const struct plan *p, enum plan_note_kind k)
{
    size_t i, n = 0;

    for (i = 0; i < p->notes_nr; i++)
        n += p->notes[i].kind == k;
    return n;
}

/*
 * One evaluation as most rules tests make it: a configuration, the
 * library the test builds, and the plan rt_eval() makes of it.
 *
 *     rt_open(&t, CFG_TEXT, seed);
 *     a = lib_asset(&t.l, ...);
 *     rt_eval(&t);
 *     assert_true(rt_has(&t, PLAN_TAG_ADD, "x", a));
 *     rt_close(&t);
 */
struct rt {
    struct config *cfg;
    struct lib l;
    struct plan p;
};

/* cfg_load(cfg_text) and an empty library whose ids come from seed. */
static inline void rt_open(struct rt *t, const char *cfg_text, uint64_t seed)
{
    t->cfg = cfg_load(cfg_text);
    lib_init(&t->l, seed);
}

/* Indexes the library and evaluates it into t->p. */
static inline void rt_eval(struct rt *t)
{
    model_build_indexes(&t->l.m);
    eval_plan(t->cfg, &t->l.m, &t->p);
}

/* plan_has() on t's plan and library. */
static inline bool rt_has(const struct rt *t, enum plan_op op, const char *name,
                          uint32_t asset)
{
    return plan_has(&t->p, op, name, &t->l.m, asset);
}

/* Releases the plan and the library, keeping the configuration for the
 * next case of a table (lib_init(&t->l, ...) starts it). */
static inline void rt_clear(struct rt *t)
{
    plan_release(&t->p);
    model_release(&t->l.m);
}

/* Releases the plan, the library and the configuration. */
static inline void rt_close(struct rt *t)
{
    plan_release(&t->p);
    model_release(&t->l.m);
    config_free(t->cfg);
}

#endif
