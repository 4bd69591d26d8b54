/*
 * fields.h: a note's specifics as typed key/value pairs (like git's
 * json-writer, but a value, not text): the rules say what they found
 * (a name, a count, a date, an id) and each output format writes it its
 * own way: plan JSON and modifications.jsonl as JSON members, the
 * modification report as a Python dict repr (report/modreport.c), the
 * explain text as JSON.  No JSON is written by the rules and none is
 * parsed again by the reports.
 *
 *     struct plan_fields f = PLAN_FIELDS_INIT;
 *     plan_fields_str(&f, "album_name", name);
 *     plan_fields_int(&f, "count", 3);
 *     plan_fields_list(&f, "matched_rules", "family");  // a list of strings
 *     plan_note(plan, kind, asset, album, &f);          // takes the fields
 *
 * Keys keep the order they were added in.  Keys and strings are copied
 * into one text block, so a record is two allocations whatever its size.
 */
#ifndef IA_PLAN_FIELDS_H
#define IA_PLAN_FIELDS_H

#include "core/buf.h"
#include "core/uuid.h"

enum plan_field_type {
    PLAN_F_STR,  /* text */
    PLAN_F_INT,  /* int64_t */
    PLAN_F_BOOL, /* true / false */
    PLAN_F_TIME, /* ms UTC, written "2024-06-15T13:14:02.251Z" */
    PLAN_F_DATE, /* ms UTC, written as its day "2024-06-15" */
    PLAN_F_UUID, /* an id, written in its 36-character form */
    PLAN_F_LIST, /* strings, in the order added */
};

struct plan_field {
    uint8_t type; /* enum plan_field_type */
    uint32_t key; /* offset of the key in the record's text */
    uint32_t str; /* STR, LIST: offset of the (first) string in the text */
    uint32_t n;   /* LIST: how many strings, one after the other */
    union {
        int64_t i; /* INT, BOOL (0/1), TIME and DATE (ms UTC) */
        struct uuid id;
    };
};

struct plan_fields {
    struct plan_field *f;
    size_t nr, alloc;
    struct buf text; /* keys and strings, each NUL-terminated */
};

#define PLAN_FIELDS_INIT                                                       \
    {                                                                          \
        NULL, 0, 0, BUF_INIT                                                   \
    }

void plan_fields_str(struct plan_fields *fs, const char *key, const char *val);
void plan_fields_int(struct plan_fields *fs, const char *key, int64_t val);
void plan_fields_bool(struct plan_fields *fs, const char *key, bool val);
void plan_fields_time(struct plan_fields *fs, const char *key, int64_t ms);
void plan_fields_date(struct plan_fields *fs, const char *key, int64_t ms);
void plan_fields_uuid(struct plan_fields *fs, const char *key,
                      const struct uuid *id);
/* Appends val to the list key when it is the last field, else starts the
 * list (an empty list: plan_fields_list(fs, key, NULL)). */
void plan_fields_list(struct plan_fields *fs, const char *key, const char *val);
void plan_fields_release(struct plan_fields *fs);
/* Gives back the room kept for more fields (a record the plan keeps). */
void plan_fields_shrink(struct plan_fields *fs);
/* Moves from's fields to to (released first); from is left empty. */
void plan_fields_move(struct plan_fields *to, struct plan_fields *from);

const char *plan_field_key(const struct plan_fields *fs,
                           const struct plan_field *f);
/* A STR, TIME, DATE or UUID field's value as text (tmp holds the
 * formatted ones); the first string of a LIST; NULL for INT and BOOL. */
const char *plan_field_text(const struct plan_fields *fs,
                            const struct plan_field *f, char tmp[40]);
/* The string after s in a LIST. */
const char *plan_field_next(const char *s);

/*
 * How a format writes a record: the separators, the words for true and
 * false, and how it quotes a string (key or value).  Integers are
 * written in decimal, lists as [a<sep>b].
 */
struct plan_fields_style {
    const char *sep;      /* between members and list items: "," */
    const char *kv;       /* between key and value: ":" */
    const char *yes, *no; /* "true", "false" */
    void (*quote)(struct buf *out, const char *s, size_t len);
};
/* The members in style, without braces; fields whose bit is set in skip
 * (bit i: field i, i < 64) are left out. */
void plan_fields_write(const struct plan_fields *fs,
                       const struct plan_fields_style *style, uint64_t skip,
                       struct buf *out);
/* The members as JSON, without braces: "k":"v","n":3,"l":["a","b"]. */
void plan_fields_json(const struct plan_fields *fs, struct buf *out);
/* Orders records by their JSON text (the plan's canonical order). */
int plan_fields_cmp(const struct plan_fields *a, const struct plan_fields *b);

#endif
