/*
 * plan.h: the plan, the minimal set of changes a run makes, as a value.
 *
 * The rules engine (src/rules) builds it from (config, model) without I/O;
 * the applier (src/apply) turns it into bulk requests; `immich-autotag
 * plan` prints it; `plan --json` saves it and `apply FILE` loads it again.
 *
 * Changes are grouped the way the bulk endpoints take them: one group per
 * (operation, tag or album, and role/date where relevant) holding the
 * asset (or user) ids.  Every item keeps why it is there (feature and rule)
 * for the report.  Notes are the findings that change nothing but go to
 * the report (conflicts, date mismatches, permission matches...).
 *
 *     struct plan p;
 *     plan_init(&p);
 *     struct plan_group *g = plan_group(&p, PLAN_TAG_ADD,
 * "autotag_output_unknown", &tag_id_or_NULL); plan_add(g, &asset_id,
 * PLAN_R_CLASSIFY_UNKNOWN, 0);
 *     ...
 *     plan_finish(&p);          // canonical order: byte-identical output
 *     plan_to_json(&p, &buf);
 *     plan_release(&p);
 *
 * Groups refer to tags and albums by name and, when they exist already, by
 * id: a group whose target does not exist yet (target_exists false) makes
 * the applier create it first (one tag upsert for all missing tags, one
 * POST /albums per album).
 */
#ifndef IA_PLAN_H
#define IA_PLAN_H

#include "core/buf.h"
#include "core/uuid.h"
#include "plan/fields.h"

enum plan_op {
    PLAN_TAG_ADD,           /* add tag `name` to items' assets */
    PLAN_TAG_REMOVE,        /* remove tag from items' assets */
    PLAN_ALBUM_CREATE,      /* create album `name` (items empty) */
    PLAN_ALBUM_ADD,         /* add items' assets to album */
    PLAN_ALBUM_REMOVE,      /* remove items' assets from a temporary album */
    PLAN_ALBUM_DELETE,      /* delete a temporary album (items empty) */
    PLAN_ALBUM_USER_ADD,    /* share album with items' users at `role` */
    PLAN_ALBUM_USER_ROLE,   /* change items' users to `role` */
    PLAN_ALBUM_USER_REMOVE, /* unshare album with items' users */
    PLAN_ASSET_DATE,        /* set dateTimeOriginal of items' assets */
    PLAN_OP_COUNT
};

/* Why an item is in the plan: the feature that decided it. */
enum plan_reason {
    PLAN_R_CONVERSION, /* rule = conversion index + 1 */
    PLAN_R_CLASSIFY_UNKNOWN,
    PLAN_R_CLASSIFY_CONFLICT,
    PLAN_R_CLASSIFIED, /* output tag removed: now classified */
    PLAN_R_DUP_ALBUM_CONFLICT,
    PLAN_R_DUP_CLASS_CONFLICT,
    PLAN_R_DUP_CLASS_AUTOFIX,
    PLAN_R_ALBUM_DETECTION_CONFLICT,
    PLAN_R_ALBUM_DATE_MISMATCH,
    PLAN_R_ALBUM_FROM_DATE, /* temporary album for unclassified */
    PLAN_R_ALBUM_FROM_FOLDER,
    PLAN_R_ALBUM_FROM_DUPLICATES,
    PLAN_R_TEMP_ALBUM_CLEANUP, /* classified/conflict asset leaves temp */
    PLAN_R_TEMP_ALBUM_EMPTY,
    PLAN_R_TEMP_ALBUM_UNHEALTHY,
    PLAN_R_DATE_CORRECTION,
    PLAN_R_PERMISSIONS, /* rule = selection rule index + 1 */
    PLAN_R_UNDO,        /* `undo`: reverses a recorded change */
    PLAN_REASON_COUNT
};

struct plan_item {
    struct uuid id;  /* asset (user for PLAN_ALBUM_USER_*) */
    uint16_t reason; /* enum plan_reason */
    uint16_t rule;   /* 1-based rule/conversion index, 0 = none */
};

struct plan_group {
    enum plan_op op;
    char *name;         /* tag name / album name (owned) */
    struct uuid target; /* tag or album id when target_exists */
    bool target_exists;
    int role;       /* PLAN_ALBUM_USER_ADD/ROLE: enum model_role */
    int64_t date;   /* PLAN_ASSET_DATE: new instant, ms UTC */
    int offset_min; /* PLAN_ASSET_DATE: zone offset to write */
    int reason;     /* ALBUM_CREATE/DELETE: enum plan_reason of the
                       first caller (items are empty there) */
    struct plan_item *items;
    size_t nr, alloc;
};

enum plan_note_kind {
    PLAN_NOTE_CLASSIFICATION_CONFLICT,
    PLAN_NOTE_ALBUM_DATE_MISMATCH,
    PLAN_NOTE_ALBUM_DETECTION_CONFLICT,
    PLAN_NOTE_ALBUM_PERMISSION_RULE_MATCHED,
    PLAN_NOTE_ALBUM_PERMISSION_NO_MATCH,
    PLAN_NOTE_MISSING_DEST_ALBUM, /* conversion destination absent */
    PLAN_NOTE_DATE_CORRECTION_UNHANDLED,
    PLAN_NOTE_UNKNOWN_EMAIL,        /* permission member not a user */
    PLAN_NOTE_ALBUM_NAME_DUPLICATE, /* several albums share a name */
    PLAN_NOTE_COUNT
};

struct plan_note {
    enum plan_note_kind kind;
    struct uuid asset;         /* zero when not about an asset */
    struct uuid album;         /* zero when not about an album */
    struct plan_fields detail; /* the specifics (fields.h) */
};

/* Counters for the statistics report (filled by the rules engine). */
struct plan_stats {
    size_t assets_seen;    /* assets evaluated */
    size_t assets_skipped; /* by skip_n / max_items / filters */
    size_t classified;
    size_t unclassified;       /* after this run's changes */
    size_t unclassified_found; /* when the asset's turn came */
    size_t conflict;
    size_t *per_rule; /* classified per classification rule */
    size_t rules_nr;
    size_t duplicates_flagged;
    size_t date_mismatches;
    size_t dates_corrected;
    size_t albums_created;
    size_t shares_changed;
    /* The last asset of the skip_n / max_items window, in the model's
     * order: where a sliced run stopped (run_statistics.yaml
     * last_processed_id).  Not saved with the plan. */
    struct uuid last_in_window;
    bool has_last_in_window;
};

struct plan {
    struct plan_group *groups;
    size_t nr, alloc;
    struct plan_note *notes;
    size_t notes_nr, notes_alloc;
    struct plan_stats stats;
    /* Where it came from, checked before a saved plan is applied. */
    char *server_url;      /* owned, may be NULL */
    int64_t created_at;    /* ms UTC */
    char *snapshot_digest; /* owned: model_digest() of the library
                              the plan was computed from */
    /* Private: open-addressing index of groups by key (group index + 1,
     * 0 = empty); rebuilt by plan_finish(). */
    uint32_t *hslots;
    size_t hslots_nr;
};

void plan_init(struct plan *p);
void plan_release(struct plan *p);
/*
 * The group for (op, name, role, date), created empty if absent.  `target`
 * is the existing tag/album id or NULL when it is to be created.  The
 * returned pointer is valid until the next plan_group() call.
 */
struct plan_group *plan_group(struct plan *p, enum plan_op op, const char *name,
                              const struct uuid *target);
struct plan_group *plan_group_role(struct plan *p, enum plan_op op,
                                   const char *album, const struct uuid *id,
                                   int role);
struct plan_group *plan_group_date(struct plan *p, int64_t date,
                                   int offset_min);
void plan_add(struct plan_group *g, const struct uuid *id,
              enum plan_reason reason, unsigned rule);
/* Takes detail's fields (detail is left empty; may be NULL: none). */
void plan_note(struct plan *p, enum plan_note_kind kind,
               const struct uuid *asset, const struct uuid *album,
               struct plan_fields *detail);
/*
 * Same as plan_group() for ALBUM_CREATE / ALBUM_DELETE, recording why the
 * album is created or deleted (kept in group->reason).
 */
struct plan_group *plan_group_album(struct plan *p, enum plan_op op,
                                    const char *album, const struct uuid *id,
                                    enum plan_reason reason);
/*
 * Drops empty groups (ALBUM_CREATE/DELETE excepted, they are empty by
 * nature), merges repeated items of a group (the first reason wins) and
 * sorts groups, items and notes into the canonical order: groups by op,
 * name, target, role, date; items by id; notes by kind, asset, album,
 * detail (identical notes are kept once).
 */
void plan_finish(struct plan *p);
/* Total items of groups with op (for summaries and tests). */
size_t plan_count_op(const struct plan *p, enum plan_op op);
/* The group (op, name) or NULL: first match in the current order. */
const struct plan_group *plan_find(const struct plan *p, enum plan_op op,
                                   const char *name);
/* Number of changes (items, plus one per create/delete). */
size_t plan_changes(const struct plan *p);
bool plan_is_empty(const struct plan *p);

const char *plan_op_name(enum plan_op op);
const char *plan_reason_name(enum plan_reason r);
const char *plan_note_name(enum plan_note_kind k);

/* Whole plan as JSON (stable, byte-identical for equal plans). */
void plan_to_json(const struct plan *p, struct buf *out);
/*
 * Loads a plan saved by plan_to_json() into p (plan_init()ed by the
 * caller; released and re-initialised on failure).  Returns 0, or -1 with
 * a message ("plan json: ...") on bad input.  plan_to_json() of the result
 * is byte-identical to the text read.
 */
int plan_from_json(const char *data, size_t len, struct plan *p,
                   struct buf *err);
/* Human summary: counts per feature and per tag/album, first examples. */
void plan_print_summary(const struct plan *p, struct buf *out, size_t examples);
/* How the summary names an asset (its file name) or a user (email):
 * NULL when unknown; the id is printed beside it. */
struct plan_names {
    const char *(*name)(void *ctx, const struct uuid *id, bool user);
    void *ctx;
};
/* The same, examples named through names (may be NULL). */
void plan_print_summary_named(const struct plan *p, struct buf *out,
                              size_t examples, const struct plan_names *names);

#endif
