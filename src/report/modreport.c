/*
 * modreport.c: modification_report.txt (docs/upstream-behavior.md §5.3:
 * fields joined with
 * " | ", each only when present, `extra` as a Python dict repr) and its
 * JSON-lines twin, built from the plan items, their outcomes and the
 * plan's notes.
 */
#include "report/report.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "core/escape.h"
#include "core/fsutil.h"
#include "core/log.h"

static const char *const kind_names[REPORT_K_COUNT] = {
    [REPORT_K_CREATE_TAG] = "CREATE_TAG",
    [REPORT_K_ADD_TAG_TO_ASSET] = "ADD_TAG_TO_ASSET",
    [REPORT_K_REMOVE_TAG_FROM_ASSET] = "REMOVE_TAG_FROM_ASSET",
    [REPORT_K_CREATE_ALBUM] = "CREATE_ALBUM",
    [REPORT_K_ASSIGN_ASSET_TO_ALBUM] = "ASSIGN_ASSET_TO_ALBUM",
    [REPORT_K_REMOVE_ASSET_FROM_ALBUM] = "REMOVE_ASSET_FROM_ALBUM",
    [REPORT_K_DELETE_ALBUM] = "DELETE_ALBUM",
    [REPORT_K_UPDATE_ASSET_DATE] = "UPDATE_ASSET_DATE",
    [REPORT_K_ALBUM_PERMISSION_SHARED] = "ALBUM_PERMISSION_SHARED",
    [REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED] = "ALBUM_PERMISSION_ROLE_CHANGED",
    [REPORT_K_ALBUM_PERMISSION_REMOVED] = "ALBUM_PERMISSION_REMOVED",
    [REPORT_K_ALBUM_PERMISSION_RULE_MATCHED] = "ALBUM_PERMISSION_RULE_MATCHED",
    [REPORT_K_ALBUM_PERMISSION_NO_MATCH] = "ALBUM_PERMISSION_NO_MATCH",
    [REPORT_K_CLASSIFICATION_CONFLICT] = "CLASSIFICATION_CONFLICT",
    [REPORT_K_ALBUM_DATE_MISMATCH] = "ALBUM_DATE_MISMATCH",
    [REPORT_K_ALBUM_DETECTION_CONFLICT] = "ALBUM_DETECTION_CONFLICT",
    [REPORT_K_WARNING_MISSING_DESTINATION_ALBUM] =
        "WARNING_MISSING_DESTINATION_ALBUM",
    [REPORT_K_WARNING_DATE_CORRECTION_UNHANDLED] =
        "WARNING_DATE_CORRECTION_UNHANDLED",
    [REPORT_K_WARNING_UNKNOWN_EMAIL] = "WARNING_UNKNOWN_EMAIL",
    [REPORT_K_WARNING_ALBUM_NAME_DUPLICATE] = "WARNING_ALBUM_NAME_DUPLICATE",
    [REPORT_K_WARNING_ASSET_ALREADY_IN_ALBUM] =
        "WARNING_ASSET_ALREADY_IN_ALBUM",
    [REPORT_K_WARNING_ASSET_NOT_IN_ALBUM] = "WARNING_ASSET_NOT_IN_ALBUM",
    [REPORT_K_WARNING_TAG_ADDITION_TO_ASSET_FAILED] =
        "WARNING_TAG_ADDITION_TO_ASSET_FAILED",
    [REPORT_K_WARNING_TAG_REMOVAL_FROM_ASSET_FAILED] =
        "WARNING_TAG_REMOVAL_FROM_ASSET_FAILED",
    [REPORT_K_ERROR_PERMISSION_DENIED] = "ERROR_PERMISSION_DENIED",
    [REPORT_K_ERROR_ALBUM_NOT_FOUND] = "ERROR_ALBUM_NOT_FOUND",
    [REPORT_K_ERROR_ASSET_SKIPPED_RECOVERABLE] =
        "ERROR_ASSET_SKIPPED_RECOVERABLE",
    [REPORT_K_ALBUM_PERMISSION_SHARE_FAILED] = "ALBUM_PERMISSION_SHARE_FAILED",
};

const char *report_kind_name(enum report_kind k)
{
    return (unsigned)k < REPORT_K_COUNT ? kind_names[k] : "UNKNOWN";
}

bool report_kind_undoable(enum report_kind k)
{
    switch (k) {
    case REPORT_K_ADD_TAG_TO_ASSET:
    case REPORT_K_REMOVE_TAG_FROM_ASSET:
    case REPORT_K_CREATE_ALBUM:
    case REPORT_K_ASSIGN_ASSET_TO_ALBUM:
    case REPORT_K_REMOVE_ASSET_FROM_ALBUM:
    case REPORT_K_DELETE_ALBUM:
    case REPORT_K_UPDATE_ASSET_DATE:
    case REPORT_K_ALBUM_PERMISSION_SHARED:
    case REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED:
    case REPORT_K_ALBUM_PERMISSION_REMOVED:
        return true;
    default:
        return false;
    }
}

/* One event under construction: every field optional. */
struct event {
    enum report_kind kind;
    const char *status; /* outcome word for the JSON line */
    const struct uuid *asset;
    const char *tag;
    const struct uuid *album;
    const char *album_name;
    const char *old_value;
    const char *new_value;
    struct plan_fields extra; /* `extra`: both formats render it */
    uint64_t journal_only;    /* extra's fields (bit i: field i) that only
                                 modifications.jsonl shows */
};

/* Python's repr() of a str: single quotes unless the text holds ' but
 * no ", backslash escapes for the quote, backslash and control bytes
 * (escape_text writes them as Python does, C1 controls aside). */
static void py_str(struct buf *b, const char *s, size_t len)
{
    bool dq = memchr(s, '\'', len) && !memchr(s, '"', len);

    buf_addch(b, dq ? '"' : '\'');
    escape_text(b, s, len, dq ? "\"\\" : "'\\");
    buf_addch(b, dq ? '"' : '\'');
}

/* The fields as the body of a Python dict repr, as upstream prints
 * `extra`: 'key': 'text', 'n': 3, 'flag': True, 'list': ['a', 'b']. */
static const struct plan_fields_style py_dict = {", ", ": ", "True", "False",
                                                 py_str};

/* Whether extra has a field the text report shows. */
static bool has_text_extra(const struct event *e)
{
    size_t i;

    for (i = 0; i < e->extra.nr; i++)
        if (i >= 64 || !(e->journal_only >> i & 1))
            return true;
    return false;
}

static void extra_str(struct event *e, const char *key, const char *val)
{
    plan_fields_str(&e->extra, key, val);
}

static void extra_int(struct event *e, const char *key, long long v)
{
    plan_fields_int(&e->extra, key, v);
}

static void extra_true(struct event *e, const char *key)
{
    plan_fields_bool(&e->extra, key, true);
}

/* Journal-only members (modifications.jsonl, not upstream's text): the
 * prior values `undo` restores. */
static void prior_str(struct event *e, const char *key, const char *val)
{
    if (e->extra.nr < 64)
        e->journal_only |= (uint64_t)1 << e->extra.nr;
    plan_fields_str(&e->extra, key, val);
}

/* The role user has now on album in the model, -1 when not a member. */
static int prior_role(const struct model *m, const struct uuid *album,
                      const struct uuid *user)
{
    uint32_t al, u;

    if (!m || !album || (al = model_find_album(m, album)) == MODEL_NONE ||
        (u = model_find_user(m, user)) == MODEL_NONE)
        return -1;
    return model_album_role(m, al, u);
}

/* The asset's dates before the run changed them, for `undo`. */
static void prior_dates(struct event *e, const struct model_asset *ma)
{
    char iso[32], off[16];

    if (ma->date_time_original != TIME_NONE) {
        time_format_iso(ma->date_time_original, iso);
        prior_str(e, "old_date_time_original", iso);
    }
    if (ma->file_created_at != TIME_NONE) {
        time_format_iso(ma->file_created_at, iso);
        prior_str(e, "old_file_created_at", iso);
        if (ma->local_date_time != TIME_NONE) {
            snprintf(off, sizeof(off), "%lld",
                     (long long)((ma->local_date_time - ma->file_created_at) /
                                 60000));
            prior_str(e, "old_offset_min", off);
        }
    }
}

static void event_init(struct event *e, enum report_kind kind,
                       const char *status)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->status = status;
    buf_init(&e->extra.text, 0);
}

/* " | key=value": the value (a name from the server) escaped, so that
 * it cannot start a line of its own. */
static void field(struct buf *b, const char *key, const char *val)
{
    buf_addf(b, " | %s=", key);
    escape_text(b, val, strlen(val), NULL);
}

/*
 * Writes one event as a report line (txt) and a JSON line (jsonl), each
 * when not NULL, and counts it: the common fields in upstream's order,
 * then `extra`, which each format renders from the same record.
 */
static void write_event(const struct report_ctx *c, const struct event *e,
                        const char *stamp, struct buf *txt, struct buf *jsonl,
                        struct report_kinds *kinds)
{
    char id[UUID_STR_LEN + 1], aid[UUID_STR_LEN + 1];
    const char *name = NULL;
    const char *url = c->server_url ? c->server_url : "";

    if (kinds)
        kinds->n[e->kind]++;
    if (e->asset) {
        uuid_format(e->asset, aid);
        if (c->model) {
            uint32_t a = model_find_asset(c->model, e->asset);

            if (a != MODEL_NONE)
                name = model_str(c->model, c->model->assets[a].file_name);
        }
    }
    if (e->album)
        uuid_format(e->album, id);
    if (txt) {
        buf_addstr(txt, stamp);
        field(txt, "kind", report_kind_name(e->kind));
        if (e->asset) {
            buf_addf(txt, " | asset_link=%s/photos/%s", url, aid);
            if (name && *name)
                field(txt, "name", name);
        }
        if (e->tag)
            field(txt, "tag", e->tag);
        if (e->album)
            buf_addf(txt, " | album_link=%s/albums/%s", url, id);
        if (e->album_name)
            field(txt, "album_name", e->album_name);
        if (e->old_value)
            field(txt, "old_value", e->old_value);
        if (e->new_value)
            field(txt, "new_value", e->new_value);
        if (c->user_name && *c->user_name)
            field(txt, "user", c->user_name);
        if (has_text_extra(e)) {
            buf_addstr(txt, " | extra={");
            plan_fields_write(&e->extra, &py_dict, e->journal_only, txt);
            buf_addch(txt, '}');
        }
        buf_addch(txt, '\n');
    }
    if (jsonl) {
        buf_addstr(jsonl, "{\"time\":");
        buf_add_json_str(jsonl, stamp, strlen(stamp));
        buf_addstr(jsonl, ",\"kind\":");
        buf_add_json_str(jsonl, report_kind_name(e->kind),
                         strlen(report_kind_name(e->kind)));
        buf_addstr(jsonl, ",\"status\":");
        buf_add_json_str(jsonl, e->status, strlen(e->status));
        if (e->asset) {
            buf_addf(jsonl, ",\"asset_id\":\"%s\"", aid);
            if (name) {
                buf_addstr(jsonl, ",\"asset_name\":");
                buf_add_json_str(jsonl, name, strlen(name));
            }
        }
        if (e->tag) {
            buf_addstr(jsonl, ",\"tag\":");
            buf_add_json_str(jsonl, e->tag, strlen(e->tag));
        }
        if (e->album)
            buf_addf(jsonl, ",\"album_id\":\"%s\"", id);
        if (e->album_name) {
            buf_addstr(jsonl, ",\"album_name\":");
            buf_add_json_str(jsonl, e->album_name, strlen(e->album_name));
        }
        if (e->old_value) {
            buf_addstr(jsonl, ",\"old_value\":");
            buf_add_json_str(jsonl, e->old_value, strlen(e->old_value));
        }
        if (e->new_value) {
            buf_addstr(jsonl, ",\"new_value\":");
            buf_add_json_str(jsonl, e->new_value, strlen(e->new_value));
        }
        buf_addstr(jsonl, ",\"extra\":{");
        plan_fields_json(&e->extra, jsonl);
        buf_addstr(jsonl, "}}\n");
    }
}

/*
 * Where events go: the text report and the JSON lines (either may be
 * NULL), counted into kinds (may be NULL).  With a file (rf) or a journal
 * (j), the text is written there once it holds a piece, so that no report
 * is ever whole in memory, and always on whole lines.
 */
struct sink {
    const struct report_ctx *c;
    const char *stamp;
    struct buf *txt, *jsonl;
    struct report_kinds *kinds;
    struct report_file *rf;   /* txt's file, or NULL: txt is kept */
    struct report_journal *j; /* jsonl's journal, or NULL: kept */
    struct buf *err;
    int ret; /* -1 once a write failed */
};

static int append(struct report_journal *j, const struct buf *b,
                  struct buf *err);

/* Writes what the sink holds once it is a piece (anything when all). */
static void drain(struct sink *s, bool all)
{
    size_t min = all ? 1 : REPORT_FILE_PIECE;

    if (s->ret < 0)
        return;
    if (s->txt && report_file_spill(s->rf, s->txt, all, s->err) < 0)
        s->ret = -1;
    if (s->j && s->jsonl->len >= min) {
        if (append(s->j, s->jsonl, s->err) < 0)
            s->ret = -1;
        buf_reset(s->jsonl);
    }
}

/* write_event() into the sink, then frees the event's fields. */
static void emit(struct sink *s, struct event *e)
{
    write_event(s->c, e, s->stamp, s->txt, s->jsonl, s->kinds);
    plan_fields_release(&e->extra);
    drain(s, false);
}

/* The kind of an item event, from the op and the outcome; -1: no event. */
static int item_kind(enum plan_op op, enum outcome_status st,
                     enum outcome_error er)
{
    if (st == OUTCOME_DONE || st == OUTCOME_PENDING) {
        static const int done_kind[PLAN_OP_COUNT] = {
            [PLAN_TAG_ADD] = REPORT_K_ADD_TAG_TO_ASSET,
            [PLAN_TAG_REMOVE] = REPORT_K_REMOVE_TAG_FROM_ASSET,
            [PLAN_ALBUM_CREATE] = -1,
            [PLAN_ALBUM_ADD] = REPORT_K_ASSIGN_ASSET_TO_ALBUM,
            [PLAN_ALBUM_REMOVE] = REPORT_K_REMOVE_ASSET_FROM_ALBUM,
            [PLAN_ALBUM_DELETE] = -1,
            [PLAN_ALBUM_USER_ADD] = REPORT_K_ALBUM_PERMISSION_SHARED,
            [PLAN_ALBUM_USER_ROLE] = REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED,
            [PLAN_ALBUM_USER_REMOVE] = REPORT_K_ALBUM_PERMISSION_REMOVED,
            [PLAN_ASSET_DATE] = REPORT_K_UPDATE_ASSET_DATE,
        };
        return done_kind[op];
    }
    if (st == OUTCOME_UNCHANGED) {
        if (op == PLAN_ALBUM_ADD)
            return REPORT_K_WARNING_ASSET_ALREADY_IN_ALBUM;
        if (op == PLAN_ALBUM_REMOVE)
            return REPORT_K_WARNING_ASSET_NOT_IN_ALBUM;
        return -1; /* a tag already there / already gone: nothing to say */
    }
    /* FAILED */
    switch (op) {
    case PLAN_TAG_ADD:
        return REPORT_K_WARNING_TAG_ADDITION_TO_ASSET_FAILED;
    case PLAN_TAG_REMOVE:
        return REPORT_K_WARNING_TAG_REMOVAL_FROM_ASSET_FAILED;
    case PLAN_ALBUM_USER_ADD:
    case PLAN_ALBUM_USER_ROLE:
    case PLAN_ALBUM_USER_REMOVE:
        return REPORT_K_ALBUM_PERMISSION_SHARE_FAILED;
    default:
        break;
    }
    if (er == OUTCOME_E_NO_PERMISSION)
        return REPORT_K_ERROR_PERMISSION_DENIED;
    if (er == OUTCOME_E_TARGET)
        return REPORT_K_ERROR_ALBUM_NOT_FOUND;
    return REPORT_K_ERROR_ASSET_SKIPPED_RECOVERABLE;
}

static const char *role_name(int role)
{
    return role == 1 ? "editor" : "viewer";
}

static void add_error_extra(struct event *e, const struct outcome_group *og,
                            enum outcome_error er)
{
    extra_str(e, "error_category", outcome_error_name(er));
    if (og && og->message)
        extra_str(e, "error_message", og->message);
}

static const char *album_name_of(const struct report_ctx *c,
                                 const struct plan_group *g,
                                 const struct uuid *id)
{
    if (g && g->name && *g->name)
        return g->name;
    if (c->model && id) {
        uint32_t a = model_find_album(c->model, id);

        if (a != MODEL_NONE)
            return model_str(c->model, c->model->albums[a].name);
    }
    return NULL;
}

/* One plan group being reported, and where its events go. */
struct group_view {
    const struct report_ctx *c;
    const struct plan_group *g;
    const struct outcome_group *og; /* NULL: no outcome, all pending */
    const struct uuid *target;      /* the tag or album id, NULL unknown */
    bool dry;                       /* nothing was or will be sent */
    uint8_t action;                 /* the group's own action's outcome */
    struct sink *out;
};

/* The group's own action, or the item, happened, or would in a dry run. */
static bool happened(const struct group_view *v, uint8_t st)
{
    return st == OUTCOME_DONE || (v->dry && st == OUTCOME_PENDING);
}

/* CREATE_TAG before a tag group whose tag did not exist, once per name
 * even if several groups needed it (seen_tags: "\nname\n" each). */
static void tag_create_event(const struct group_view *v, struct buf *seen_tags)
{
    const struct plan_group *g = v->g;
    struct buf key = BUF_INIT;
    struct event e;

    buf_addf(&key, "\n%s\n", g->name);
    if (!strstr(seen_tags->buf, key.buf)) {
        buf_addstr(seen_tags, key.buf);
        event_init(&e, REPORT_K_CREATE_TAG,
                   v->action == OUTCOME_DONE ? "done" : "planned");
        e.tag = g->name;
        if (v->target && v->action == OUTCOME_DONE) {
            char tid[UUID_STR_LEN + 1];

            uuid_format(v->target, tid);
            extra_str(&e, "tag_id", tid);
        }
        extra_true(&e, "created");
        if (v->action != OUTCOME_DONE)
            extra_true(&e, "dry_run");
        emit(v->out, &e);
    }
    buf_release(&key);
}

/* CREATE_ALBUM / DELETE_ALBUM (upstream's reason "<why> (SUCCESS)"), or
 * the error when the server refused it. */
static void album_action_event(const struct group_view *v)
{
    const struct plan_group *g = v->g;
    bool create = g->op == PLAN_ALBUM_CREATE;
    struct event e;

    if (happened(v, v->action)) {
        event_init(&e, create ? REPORT_K_CREATE_ALBUM : REPORT_K_DELETE_ALBUM,
                   v->action == OUTCOME_DONE ? "done" : "planned");
        e.album = v->target;
        e.album_name = create ? g->name : NULL;
        e.old_value = create ? NULL : g->name;
        if (create) {
            extra_true(&e, "created");
        } else {
            struct buf why = BUF_INIT;

            buf_addf(&why, "%s (%s)",
                     plan_reason_name((enum plan_reason)g->reason),
                     v->action == OUTCOME_DONE ? "SUCCESS" : "PLANNED");
            extra_str(&e, "reason", why.buf);
            buf_release(&why);
        }
        if (v->action != OUTCOME_DONE)
            extra_true(&e, "dry_run");
        emit(v->out, &e);
    } else if (v->action == OUTCOME_FAILED) {
        event_init(&e, REPORT_K_ERROR_ALBUM_NOT_FOUND, "failed");
        e.album = v->target;
        e.album_name = g->name;
        extra_str(&e, "operation", create ? "create_album" : "delete_album");
        add_error_extra(&e, v->og, v->og->action_error);
        emit(v->out, &e);
    }
}

/* A sharing item: the album, the member and the roles (the prior one
 * for `undo`, journal only). */
static void sharing_fields(const struct group_view *v,
                           const struct plan_item *it, struct event *e)
{
    const struct plan_group *g = v->g;
    char uid[UUID_STR_LEN + 1];
    int prior;

    e->album = v->target;
    e->album_name = album_name_of(v->c, g, v->target);
    uuid_format(&it->id, uid);
    plan_fields_list(&e->extra, "members", uid);
    if (g->op != PLAN_ALBUM_USER_REMOVE)
        extra_str(e, "access_level", role_name(g->role));
    prior = g->op != PLAN_ALBUM_USER_ADD
                ? prior_role(v->c->model, v->target, &it->id)
                : -1;
    if (prior >= 0)
        prior_str(e, "old_access_level", role_name(prior));
}

/* A date correction: the old and new dates (the asset's prior dates for
 * `undo`, journal only).  oldv and newv hold the texts e points to. */
static void date_fields(const struct group_view *v, const struct plan_item *it,
                        struct event *e, char oldv[32], char newv[32])
{
    const struct model *m = v->c->model;
    uint32_t a = m ? model_find_asset(m, &it->id) : MODEL_NONE;

    if (a != MODEL_NONE) {
        const struct model_asset *ma = &m->assets[a];
        int64_t old = ma->date_time_original != TIME_NONE
                          ? ma->date_time_original
                          : model_asset_best_date(ma);

        prior_dates(e, ma);
        if (old != TIME_NONE) {
            time_format_iso(old, oldv);
            e->old_value = oldv;
        }
    }
    time_format_iso(v->g->date, newv);
    e->new_value = newv;
    extra_true(e, "pre_update");
}

/* The event of item i, if its outcome is one (a tag already there says
 * nothing; an item never attempted outside a dry run neither). */
static void item_event(const struct group_view *v, size_t i)
{
    const struct plan_group *g = v->g;
    const struct plan_item *it = &g->items[i];
    enum outcome_status st = v->og ? v->og->status[i] : OUTCOME_PENDING;
    enum outcome_error er = v->og ? v->og->error[i] : OUTCOME_E_NONE;
    char oldv[32], newv[32];
    struct event e;
    int kind;

    if (st == OUTCOME_PENDING && !v->dry)
        return;
    kind = item_kind(g->op, st, er);
    if (kind < 0)
        return;
    event_init(&e, (enum report_kind)kind,
               st == OUTCOME_PENDING ? "planned" : outcome_status_name(st));
    switch (g->op) {
    case PLAN_ALBUM_USER_ADD:
    case PLAN_ALBUM_USER_ROLE:
    case PLAN_ALBUM_USER_REMOVE:
        sharing_fields(v, it, &e);
        break;
    case PLAN_TAG_ADD:
    case PLAN_TAG_REMOVE:
        e.asset = &it->id;
        e.tag = g->name;
        break;
    case PLAN_ASSET_DATE:
        e.asset = &it->id;
        date_fields(v, it, &e, oldv, newv);
        break;
    default:
        e.asset = &it->id;
        e.album = v->target;
        e.album_name = album_name_of(v->c, g, v->target);
        break;
    }
    extra_str(&e, "reason", plan_reason_name((enum plan_reason)it->reason));
    if (it->rule)
        extra_int(&e, "rule", it->rule);
    if (st == OUTCOME_FAILED || st == OUTCOME_UNCHANGED)
        add_error_extra(&e, st == OUTCOME_FAILED ? v->og : NULL, er);
    if (st == OUTCOME_PENDING)
        extra_true(&e, "dry_run");
    emit(v->out, &e);
}

/* The events of plan group gi: its own action first (it happened before
 * its items), then one per item. */
static void group_events(struct sink *out, size_t gi, struct buf *seen_tags)
{
    const struct report_ctx *c = out->c;
    const struct plan_group *g = &c->plan->groups[gi];
    const struct outcome_group *og =
        c->outcome && gi < c->outcome->nr ? &c->outcome->groups[gi] : NULL;
    struct group_view v = {c,
                           g,
                           og,
                           NULL,
                           !c->outcome || c->outcome->dry_run,
                           og ? og->action : OUTCOME_PENDING,
                           out};
    size_t i;

    v.target = og && og->has_target ? &og->target
               : g->target_exists   ? &g->target
                                    : NULL;
    if (g->op == PLAN_TAG_ADD && !g->target_exists && happened(&v, v.action))
        tag_create_event(&v, seen_tags);
    if (g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE) {
        album_action_event(&v);
        return;
    }
    for (i = 0; i < g->nr; i++)
        item_event(&v, i);
}

static enum report_kind note_kind(enum plan_note_kind k)
{
    switch (k) {
    case PLAN_NOTE_CLASSIFICATION_CONFLICT:
        return REPORT_K_CLASSIFICATION_CONFLICT;
    case PLAN_NOTE_ALBUM_DATE_MISMATCH:
        return REPORT_K_ALBUM_DATE_MISMATCH;
    case PLAN_NOTE_ALBUM_DETECTION_CONFLICT:
        return REPORT_K_ALBUM_DETECTION_CONFLICT;
    case PLAN_NOTE_ALBUM_PERMISSION_RULE_MATCHED:
        return REPORT_K_ALBUM_PERMISSION_RULE_MATCHED;
    case PLAN_NOTE_ALBUM_PERMISSION_NO_MATCH:
        return REPORT_K_ALBUM_PERMISSION_NO_MATCH;
    case PLAN_NOTE_MISSING_DEST_ALBUM:
        return REPORT_K_WARNING_MISSING_DESTINATION_ALBUM;
    case PLAN_NOTE_DATE_CORRECTION_UNHANDLED:
        return REPORT_K_WARNING_DATE_CORRECTION_UNHANDLED;
    case PLAN_NOTE_UNKNOWN_EMAIL:
        return REPORT_K_WARNING_UNKNOWN_EMAIL;
    case PLAN_NOTE_ALBUM_NAME_DUPLICATE:
    default:
        return REPORT_K_WARNING_ALBUM_NAME_DUPLICATE;
    }
}

/* One note of the plan, an event of its own kind. */
static void note_event(struct sink *out, const struct plan_note *n)
{
    const struct report_ctx *c = out->c;
    struct event e;

    event_init(&e, note_kind(n->kind), "noted");
    if (!uuid_is_zero(&n->asset))
        e.asset = &n->asset;
    if (!uuid_is_zero(&n->album)) {
        e.album = &n->album;
        e.album_name = album_name_of(c, NULL, &n->album);
    }
    plan_fields_release(&e.extra);
    e.extra = n->detail; /* the note's own fields: rendered, not freed */
    write_event(c, &e, out->stamp, out->txt, out->jsonl, out->kinds);
    drain(out, false);
}

/* Every event of the plan, groups then notes, into out. */
static int all_events(struct sink *out)
{
    struct buf seen_tags = BUF_INIT;
    size_t i;

    if (out->kinds)
        memset(out->kinds, 0, sizeof(*out->kinds));
    buf_addch(&seen_tags, '\n');
    for (i = 0; i < out->c->plan->nr && out->ret == 0; i++)
        group_events(out, i, &seen_tags);
    for (i = 0; i < out->c->plan->notes_nr && out->ret == 0; i++)
        note_event(out, &out->c->plan->notes[i]);
    drain(out, true);
    buf_release(&seen_tags);
    return out->ret;
}

void report_modifications(const struct report_ctx *c, struct buf *txt,
                          struct buf *jsonl, struct report_kinds *kinds)
{
    char stamp[40];
    struct sink out = {c, stamp, txt, jsonl, kinds, NULL, NULL, NULL, 0};

    report_iso_local(c->now_ms, stamp);
    (void)all_events(&out);
}

int report_modifications_write(const struct report_ctx *c,
                               struct report_file *rf,
                               struct report_kinds *kinds, struct buf *err)
{
    char stamp[40];
    struct buf txt = BUF_INIT;
    struct sink out = {c, stamp, &txt, NULL, kinds, rf, NULL, err, 0};
    int ret;

    report_iso_local(c->now_ms, stamp);
    ret = all_events(&out);
    buf_release(&txt);
    return ret;
}

/* ---- the journal ------------------------------------------------------- */

int report_journal_open(struct report_journal *j, const struct report_run *run,
                        struct buf *err)
{
    struct buf path = BUF_INIT;

    j->fd = -1;
    buf_addf(&path, "%s/%s", run->dir, REPORT_FILE_MODIFICATIONS_JSONL);
    j->fd = fs_open_private(path.buf, O_WRONLY | O_CREAT | O_APPEND, err);
    if (j->fd < 0) {
        buf_release(&path);
        return -1;
    }
    j->path = buf_detach(&path, NULL);
    buf_init(&j->seen_tags, 0);
    buf_addch(&j->seen_tags, '\n');
    return 0;
}

/* Whether group gi has nothing left to happen: its action and all of its
 * items attempted (or the plan is a dry run: nothing will happen). */
static bool is_settled(const struct report_ctx *c, size_t gi)
{
    const struct plan_group *g = &c->plan->groups[gi];
    const struct outcome_group *og;
    size_t i;

    if (!c->outcome || c->outcome->dry_run || gi >= c->outcome->nr)
        return false;
    og = &c->outcome->groups[gi];
    if (outcome_group_has_action(g) && og->action == OUTCOME_PENDING)
        return false;
    for (i = 0; i < g->nr; i++)
        if (og->status[i] == OUTCOME_PENDING)
            return false;
    return true;
}

static int append(struct report_journal *j, const struct buf *b,
                  struct buf *err)
{
    struct buf clean = BUF_INIT;
    const char *p;
    size_t left;
    int ret = -1;

    log_redact(&clean, b->buf);
    for (p = clean.buf, left = clean.len; left > 0;) {
        ssize_t n = write(j->fd, p, left);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            buf_addf(err, "cannot write '%s': %s", j->path, strerror(errno));
            goto out;
        }
        p += n;
        left -= (size_t)n;
    }
    ret = 0;
out:
    buf_release(&clean);
    return ret;
}

int report_journal_flush(struct report_journal *j, const struct report_ctx *c,
                         bool final, struct buf *err)
{
    struct buf lines = BUF_INIT;
    char stamp[40];
    struct sink out = {c, stamp, NULL, &lines, NULL, NULL, j, err, 0};
    size_t i;

    if (j->fd < 0)
        return 0;
    if (j->nr < c->plan->nr) {
        j->written = xrealloc(j->written, c->plan->nr);
        memset(j->written + j->nr, 0, c->plan->nr - j->nr);
        j->nr = c->plan->nr;
    }
    report_iso_local(c->now_ms, stamp);
    /* Appended a piece at a time (whole lines): a big group is never
     * whole in memory. */
    for (i = 0; i < c->plan->nr && !out.ret; i++) {
        if (j->written[i] || !(final || is_settled(c, i)))
            continue;
        group_events(&out, i, &j->seen_tags);
        j->written[i] = 1;
    }
    for (i = 0; final && i < c->plan->notes_nr && !out.ret; i++)
        note_event(&out, &c->plan->notes[i]);
    drain(&out, true);
    buf_release(&lines);
    return out.ret;
}

void report_journal_close(struct report_journal *j)
{
    if (!j)
        return;
    if (j->fd >= 0)
        (void)close(j->fd);
    free(j->path);
    free(j->written);
    buf_release(&j->seen_tags);
    j->fd = -1;
    j->path = NULL;
    j->written = NULL;
    j->nr = 0;
}
