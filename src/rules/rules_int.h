/*
 * rules_int.h: the rules engine's working state, shared by its files.
 *
 * Working ids: tags are model tag indexes, then tags this run creates
 * (tags_nr + k); albums likewise (albums_nr + k).  The working membership
 * of an asset is the model's CSR row overridden by a short per-asset list
 * of changes (one entry per (kind, target) at most) taken from one flat
 * pool, so nothing is allocated per asset.
 */
#ifndef IA_RULES_INT_H
#define IA_RULES_INT_H

#include "rules/rules.h"

struct idvec {
    uint32_t *items;
    size_t nr, alloc;
};

enum ws_kind { WS_TAG = 0, WS_ALBUM = 1 };

struct ws_change {
    uint32_t next;   /* next change of the asset, MODEL_NONE ends */
    uint32_t target; /* working tag / album id */
    uint8_t kind;    /* enum ws_kind */
    uint8_t present; /* working state: member or not */
    uint16_t reason; /* enum plan_reason of the last change */
    uint16_t rule;
};

struct ws_tag {
    uint32_t leaf;  /* names id of the leaf name */
    uint32_t lower; /* names id of the ASCII-lowercased leaf */
    int32_t rname;  /* index in the rule tag-name table or -1 */
    bool trusted;   /* membership known (new tags: always) */
    char *value;    /* new tags: the name to create (owned) */
};

struct ws_album {
    char *key;          /* name as compared (trimmed if strip), owned */
    const char *name;   /* name as on the server / to create */
    char *name_own;     /* new albums: owned name */
    uint32_t next_same; /* next working album with this key */
    int64_t count;      /* working member count */
    int64_t name_date;  /* date in the name (step 6) or TIME_NONE */
    int64_t join_lo;    /* earliest and latest best date of the assets */
    int64_t join_hi;    /* this run added (TIME_NONE: none) */
    bool is_temp, mine, deleted, known, editable;
    int reason;        /* enum plan_reason: why created (new) or deleted */
    uint8_t *rule_hit; /* rules_total bytes: pattern of rule r matches */
};

struct ws_date {
    uint32_t asset;
    int offset_min;
    int64_t date;
};

/* The rule table: classification rules, conversion sources, filters. */
struct ws_rules {
    const struct config_rule **rule; /* all rules, see the *_first below */
    size_t nr;
    size_t class_first, class_nr;
    size_t conv_first, conv_nr;
    size_t in_first, in_nr;
    size_t out_first, out_nr;
    size_t names_nr;     /* distinct tag names across rules */
    uint8_t *has_name;   /* nr x names_nr: rule r lists name k */
    uint8_t *class_name; /* names_nr: name k is in a classification rule */
};

struct ws {
    const struct config *cfg;
    const struct model *m;
    struct plan *plan;
    const char *url;

    struct strpool names;        /* leaf names, album keys, rule tag names */
    struct u64map rname_by_name; /* names id -> rule-name index */
    struct u64map album_by_key;  /* names id -> first working album */
    struct u64map tag_by_value;  /* names id of a written tag -> tag */

    struct ws_tag *tags;
    size_t tags_nr, tags_alloc;
    struct ws_album *albums;
    size_t albums_nr, albums_alloc;

    uint32_t *head; /* per asset: first change, MODEL_NONE */
    struct ws_change *chg;
    size_t chg_nr, chg_alloc;
    int64_t *best;         /* per asset: working best date */
    struct ws_date *dates; /* date updates */
    size_t dates_nr, dates_alloc;
    uint8_t *flags;           /* per asset: WSF_* */
    uint32_t *order;          /* asset indexes in the server's search order
                                 (fileCreatedAt newest first, then id): the
                                 order of the window and of the walk, not the
                                 order pages happened to arrive in */
    size_t order_nr;          /* every asset, or (incremental) the scope */
    bool incremental;         /* walk only the scope (rules_scope.c) */
    size_t walked, evaluated; /* rules_result counters */

    struct ws_rules r;

    /* Scratch vectors (each used by one function at a time). */
    struct idvec t_cls, a_cls, t_step, a_step, t_mem, a_mem, v_tmp;

    /* Run-level notes already written (once per run). */
    struct u64map noted;
    uint32_t cur; /* asset whose steps are running */
    size_t dirty; /* assets flagged WSF_DIRTY */

    /* Date correction: file-name patterns compiled once per run. */
    pcre2_code *re_date[4];
    pcre2_match_data *md;
    struct buf fb_path, fb_name; /* folder analysis, reused per asset */
    struct buf low_a, low_b;     /* ws_lower() scratch for comparisons */
    const struct tzif *zone;     /* the configuration's extraction zone,
                                    NULL when it names none */
    const char *fixed[8];        /* configured output tag names ... */
    uint32_t fixed_lower[8];     /* ... and their lowercased names ids */
    size_t fixed_nr;
    uint32_t *rname_str; /* rule-name index -> names id */
};

enum ws_asset_flags {
    WSF_PROCESS = 1u << 0,  /* in the window and passes the filters */
    WSF_WRITABLE = 1u << 1, /* own, not trashed */
    WSF_DONE = 1u << 2,     /* its steps ran */
    WSF_DIRTY = 1u << 3,    /* changed by another asset's steps after */
    WSF_MISMATCH = 1u << 4, /* counted in stats.date_mismatches */
    WSF_SCOPE = 1u << 5,    /* incremental: a change can affect it */
};

enum cls_status { CLS_UNCLASSIFIED, CLS_CLASSIFIED, CLS_CONFLICT };

struct cls {
    enum cls_status status;
    unsigned rules_matched;
    unsigned album_hits;
    uint32_t first_rule; /* classification rule index of the first match */
};

/* rules_ws.c */
void idvec_push(struct idvec *v, uint32_t x);
void ws_init(struct ws *w, const struct config *cfg, const struct model *m,
             struct plan *plan, const char *url);
void ws_release(struct ws *w);
uint32_t ws_intern(struct ws *w, const char *s, size_t len);
/* Appends Python's s.lower() (Unicode, final sigma) of len bytes to out. */
void ws_lower(const char *s, size_t len, struct buf *out);
const char *ws_tag_leaf(const struct ws *w, uint32_t t);
void ws_tags_of(struct ws *w, uint32_t a, struct idvec *out);
void ws_albums_of(struct ws *w, uint32_t a, struct idvec *out);
bool ws_has(const struct ws *w, uint32_t a, enum ws_kind kind, uint32_t target);
void ws_set(struct ws *w, uint32_t a, enum ws_kind kind, uint32_t target,
            bool present, enum plan_reason reason, unsigned rule);
/* Output tags by name: resolve (root tag with that value, else new). */
uint32_t ws_tag_for_write(struct ws *w, const char *name);
bool ws_has_tag_ci(struct ws *w, uint32_t a, const char *name);
void ws_ensure_tag(struct ws *w, uint32_t a, const char *name, bool want,
                   enum plan_reason reason, unsigned rule);
/* Albums by (compared) name: preferred one or MODEL_NONE. */
uint32_t ws_album_by_name(struct ws *w, const char *name);
uint32_t ws_album_create(struct ws *w, const char *name,
                         enum plan_reason reason);
/* True when every member of album al is an asset of the model (none of
 * another user's that the key cannot see or take out). */
bool ws_album_all_visible(const struct ws *w, size_t al);
void ws_album_delete(struct ws *w, uint32_t al, enum plan_reason reason);
void ws_album_key(const struct ws *w, const char *name, size_t *off,
                  size_t *len);
/* Notes: the plan takes detail's fields (plan/fields.h). */
void ws_note(struct ws *w, enum plan_note_kind kind, uint32_t asset,
             uint32_t album, struct plan_fields *detail);
/* True the first time key (any 64-bit value) is seen. */
bool ws_first_time(struct ws *w, uint64_t key);
void ws_emit_plan(struct ws *w);

/* rules_match.c */
void ws_rules_build(struct ws *w);
void ws_album_rules(struct ws *w, uint32_t al);
bool ws_rule_match(struct ws *w, size_t r, uint32_t a, const struct idvec *tags,
                   const struct idvec *albums, unsigned *album_hits);
void ws_classify(struct ws *w, uint32_t a, bool skip_temp, struct cls *out);
bool ws_album_matches_class(const struct ws *w, uint32_t al);
/* Classification tag names of an asset (rule-name indexes, sorted). */
void ws_class_names(struct ws *w, uint32_t a, struct idvec *out);

/* rules_dates.c */
int64_t rules_album_name_date(const char *name);
void rules_dates_init(struct ws *w);
void rules_dates_release(struct ws *w);
void rules_date_correction(struct ws *w, uint32_t a);
void rules_temp_name(int64_t best, char out[64]);

/* rules_perm.c */
void rules_permissions(struct ws *w);

/* rules.c: will temp_albums_at_start() delete album al (model index)? */
bool rules_temp_deleted_at_start(struct ws *w, uint32_t al);

/* rules_scope.c: flags WSF_SCOPE on every asset whose plan a change
 * (model.changes_only) can affect (docs/rules.md). */
void rules_scope(struct ws *w);

#endif
