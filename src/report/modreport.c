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
    struct buf extra;  /* Python dict repr body, without braces */
    struct buf jextra; /* JSON object members, without braces */
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

static void add_utf8(struct buf *b, unsigned cp)
{
    if (cp < 0x80) {
        buf_addch(b, (int)cp);
    } else if (cp < 0x800) {
        buf_addch(b, (int)(0xc0 | (cp >> 6)));
        buf_addch(b, (int)(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
        buf_addch(b, (int)(0xe0 | (cp >> 12)));
        buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
        buf_addch(b, (int)(0x80 | (cp & 0x3f)));
    } else {
        buf_addch(b, (int)(0xf0 | (cp >> 18)));
        buf_addch(b, (int)(0x80 | ((cp >> 12) & 0x3f)));
        buf_addch(b, (int)(0x80 | ((cp >> 6) & 0x3f)));
        buf_addch(b, (int)(0x80 | (cp & 0x3f)));
    }
}

static unsigned hex4(const char *p)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        char c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0xfffd;
    }
    return v;
}

/*
 * Rewrites JSON text (a note's detail, produced by the rules engine) as
 * the Python repr upstream prints: 'strings', True/False/None, ": " and
 * ", " separators.  Tolerant: unexpected bytes are copied through.
 */
static void json_to_py(struct buf *b, const char *j)
{
    const char *p = j;

    while (*p) {
        if (*p == '"') {
            struct buf s = BUF_INIT;

            for (p++; *p && *p != '"'; p++) {
                if (*p != '\\') {
                    buf_addch(&s, *p);
                    continue;
                }
                p++;
                switch (*p) {
                case 'n':
                    buf_addch(&s, '\n');
                    break;
                case 't':
                    buf_addch(&s, '\t');
                    break;
                case 'r':
                    buf_addch(&s, '\r');
                    break;
                case 'b':
                    buf_addch(&s, '\b');
                    break;
                case 'f':
                    buf_addch(&s, '\f');
                    break;
                case 'u': {
                    unsigned cp;

                    if (strnlen(p + 1, 4) < 4) {
                        buf_addch(&s, '?');
                        break;
                    }
                    cp = hex4(p + 1);
                    p += 4;
                    if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' &&
                        p[2] == 'u' && strnlen(p + 3, 4) == 4) {
                        unsigned lo = hex4(p + 3);

                        if (lo >= 0xdc00 && lo < 0xe000) {
                            cp =
                                0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                            p += 6;
                        }
                    }
                    add_utf8(&s, cp);
                    break;
                }
                case '\0':
                    p--;
                    break;
                default:
                    buf_addch(&s, *p);
                    break;
                }
            }
            if (*p)
                p++;
            py_str(b, s.buf, s.len);
            buf_release(&s);
        } else if (!strncmp(p, "true", 4)) {
            buf_addstr(b, "True");
            p += 4;
        } else if (!strncmp(p, "false", 5)) {
            buf_addstr(b, "False");
            p += 5;
        } else if (!strncmp(p, "null", 4)) {
            buf_addstr(b, "None");
            p += 4;
        } else if (*p == ':' || *p == ',') {
            buf_addch(b, *p++);
            buf_addch(b, ' ');
        } else if (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') {
            p++;
        } else {
            buf_addch(b, *p++);
        }
    }
}

static void extra_sep(struct event *e)
{
    if (e->extra.len)
        buf_addstr(&e->extra, ", ");
    if (e->jextra.len)
        buf_addch(&e->jextra, ',');
}

static void extra_str(struct event *e, const char *key, const char *val)
{
    extra_sep(e);
    py_str(&e->extra, key, strlen(key));
    buf_addstr(&e->extra, ": ");
    py_str(&e->extra, val, strlen(val));
    buf_add_json_str(&e->jextra, key, strlen(key));
    buf_addch(&e->jextra, ':');
    buf_add_json_str(&e->jextra, val, strlen(val));
}

static void extra_int(struct event *e, const char *key, long long v)
{
    extra_sep(e);
    py_str(&e->extra, key, strlen(key));
    buf_addf(&e->extra, ": %lld", v);
    buf_add_json_str(&e->jextra, key, strlen(key));
    buf_addf(&e->jextra, ":%lld", v);
}

/* Journal-only members (modifications.jsonl, not upstream's text): the
 * prior values `undo` restores. */
static void prior_str(struct event *e, const char *key, const char *val)
{
    if (e->jextra.len)
        buf_addch(&e->jextra, ',');
    buf_add_json_str(&e->jextra, key, strlen(key));
    buf_addch(&e->jextra, ':');
    buf_add_json_str(&e->jextra, val, strlen(val));
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

static void extra_true(struct event *e, const char *key)
{
    extra_sep(e);
    py_str(&e->extra, key, strlen(key));
    buf_addstr(&e->extra, ": True");
    buf_add_json_str(&e->jextra, key, strlen(key));
    buf_addstr(&e->jextra, ":true");
}

/* A note's JSON detail: object members merged into extra. */
static void extra_json(struct event *e, const char *json)
{
    const char *open, *close;

    if (!json)
        return;
    open = strchr(json, '{');
    close = strrchr(json, '}');
    if (!open || !close || close <= open + 1)
        return;
    /* Only non-empty objects: copy the members between the braces. */
    {
        struct buf inner = BUF_INIT;
        size_t k;

        buf_add(&inner, open + 1, (size_t)(close - open - 1));
        for (k = 0;
             k < inner.len && (inner.buf[k] == ' ' || inner.buf[k] == '\n');
             k++)
            ;
        if (k < inner.len) {
            extra_sep(e);
            json_to_py(&e->extra, inner.buf);
            buf_add(&e->jextra, inner.buf, inner.len);
        }
        buf_release(&inner);
    }
}

static void event_init(struct event *e, enum report_kind kind,
                       const char *status)
{
    memset(e, 0, sizeof(*e));
    e->kind = kind;
    e->status = status;
    buf_init(&e->extra, 0);
    buf_init(&e->jextra, 0);
}

/* " | key=value": the value (a name from the server) escaped, so that
 * it cannot start a line of its own. */
static void field(struct buf *b, const char *key, const char *val)
{
    buf_addf(b, " | %s=", key);
    escape_text(b, val, strlen(val), NULL);
}

/* Writes one event as a report line and a JSON line, and counts it. */
static void emit(const struct report_ctx *c, struct event *e, const char *stamp,
                 struct buf *txt, struct buf *jsonl, struct report_kinds *kinds)
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
        if (e->extra.len)
            buf_addf(txt, " | extra={%s}", e->extra.buf);
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
        buf_addf(jsonl, ",\"extra\":{%s}}\n", e->jextra.buf);
    }
    buf_release(&e->extra);
    buf_release(&e->jextra);
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

/*
 * The events of one plan group in both report formats (text and JSON
 * lines): the group's own action first (a tag or album created), then one
 * event per item with its outcome (done, already so, failed, or noted on a
 * dry run), counted by kind for the statistics.
 */
static void group_events(const struct report_ctx *c, size_t gi,
                         const char *stamp, struct buf *txt, struct buf *jsonl,
                         struct report_kinds *kinds, struct buf *seen_tags)
{
    const struct plan_group *g = &c->plan->groups[gi];
    const struct outcome_group *og =
        c->outcome && gi < c->outcome->nr ? &c->outcome->groups[gi] : NULL;
    bool dry = !c->outcome || c->outcome->dry_run;
    const struct uuid *target = og && og->has_target ? &og->target
                                : g->target_exists   ? &g->target
                                                     : NULL;
    bool is_album = g->op != PLAN_TAG_ADD && g->op != PLAN_TAG_REMOVE &&
                    g->op != PLAN_ASSET_DATE;
    uint8_t action = og ? og->action : OUTCOME_PENDING;
    struct event e;
    size_t i;

    /* The group's own action first: it happened before its items. */
    if (g->op == PLAN_TAG_ADD && !g->target_exists &&
        (action == OUTCOME_DONE || (dry && action == OUTCOME_PENDING))) {
        /* One CREATE_TAG per name even if several groups needed it. */
        struct buf key = BUF_INIT;

        buf_addf(&key, "\n%s\n", g->name);
        if (!strstr(seen_tags->buf, key.buf)) {
            buf_addstr(seen_tags, key.buf);
            event_init(&e, REPORT_K_CREATE_TAG,
                       action == OUTCOME_DONE ? "done" : "planned");
            e.tag = g->name;
            if (target && action == OUTCOME_DONE) {
                char tid[UUID_STR_LEN + 1];

                uuid_format(target, tid);
                extra_str(&e, "tag_id", tid);
            }
            extra_true(&e, "created");
            if (action != OUTCOME_DONE)
                extra_true(&e, "dry_run");
            emit(c, &e, stamp, txt, jsonl, kinds);
        }
        buf_release(&key);
    }
    if (g->op == PLAN_ALBUM_CREATE || g->op == PLAN_ALBUM_DELETE) {
        bool create = g->op == PLAN_ALBUM_CREATE;

        if (action == OUTCOME_DONE || (dry && action == OUTCOME_PENDING)) {
            event_init(&e,
                       create ? REPORT_K_CREATE_ALBUM : REPORT_K_DELETE_ALBUM,
                       action == OUTCOME_DONE ? "done" : "planned");
            e.album = target;
            e.album_name = create ? g->name : NULL;
            e.old_value = create ? NULL : g->name;
            if (create)
                extra_true(&e, "created");
            else {
                /* Upstream: reason "<why> (SUCCESS)". */
                struct buf why = BUF_INIT;

                buf_addf(&why, "%s (%s)",
                         plan_reason_name((enum plan_reason)g->reason),
                         action == OUTCOME_DONE ? "SUCCESS" : "PLANNED");
                extra_str(&e, "reason", why.buf);
                buf_release(&why);
            }
            if (action != OUTCOME_DONE)
                extra_true(&e, "dry_run");
            emit(c, &e, stamp, txt, jsonl, kinds);
        } else if (action == OUTCOME_FAILED) {
            event_init(&e, REPORT_K_ERROR_ALBUM_NOT_FOUND, "failed");
            e.album = target;
            e.album_name = g->name;
            extra_str(&e, "operation",
                      create ? "create_album" : "delete_album");
            add_error_extra(&e, og, og->action_error);
            emit(c, &e, stamp, txt, jsonl, kinds);
        }
        return;
    }
    for (i = 0; i < g->nr; i++) {
        const struct plan_item *it = &g->items[i];
        enum outcome_status st = og ? og->status[i] : OUTCOME_PENDING;
        enum outcome_error er = og ? og->error[i] : OUTCOME_E_NONE;
        int kind;
        char oldv[32], newv[32];

        if (st == OUTCOME_PENDING && !dry)
            continue; /* never attempted: nothing happened */
        kind = item_kind(g->op, st, er);
        if (kind < 0)
            continue;
        event_init(&e, (enum report_kind)kind,
                   st == OUTCOME_PENDING ? "planned" : outcome_status_name(st));
        if (g->op == PLAN_ALBUM_USER_ADD || g->op == PLAN_ALBUM_USER_ROLE ||
            g->op == PLAN_ALBUM_USER_REMOVE) {
            char uid[UUID_STR_LEN + 1];

            e.album = target;
            e.album_name = album_name_of(c, g, target);
            uuid_format(&it->id, uid);
            extra_sep(&e);
            buf_addstr(&e.extra, "'members': [");
            py_str(&e.extra, uid, strlen(uid));
            buf_addch(&e.extra, ']');
            buf_addf(&e.jextra, "\"members\":[\"%s\"]", uid);
            if (g->op != PLAN_ALBUM_USER_REMOVE)
                extra_str(&e, "access_level", role_name(g->role));
            if (g->op != PLAN_ALBUM_USER_ADD &&
                prior_role(c->model, target, &it->id) >= 0)
                prior_str(&e, "old_access_level",
                          role_name(prior_role(c->model, target, &it->id)));
        } else {
            e.asset = &it->id;
            if (g->op == PLAN_TAG_ADD || g->op == PLAN_TAG_REMOVE) {
                e.tag = g->name;
            } else if (is_album) {
                e.album = target;
                e.album_name = album_name_of(c, g, target);
            }
        }
        if (g->op == PLAN_ASSET_DATE) {
            int64_t old = TIME_NONE;

            if (c->model) {
                uint32_t a = model_find_asset(c->model, &it->id);

                if (a != MODEL_NONE) {
                    const struct model_asset *ma = &c->model->assets[a];

                    old = ma->date_time_original != TIME_NONE
                              ? ma->date_time_original
                              : model_asset_best_date(ma);
                    prior_dates(&e, ma);
                }
            }
            if (old != TIME_NONE) {
                time_format_iso(old, oldv);
                e.old_value = oldv;
            }
            time_format_iso(g->date, newv);
            e.new_value = newv;
            extra_true(&e, "pre_update");
        }
        extra_str(&e, "reason", plan_reason_name((enum plan_reason)it->reason));
        if (it->rule)
            extra_int(&e, "rule", it->rule);
        if (st == OUTCOME_FAILED || st == OUTCOME_UNCHANGED)
            add_error_extra(&e, st == OUTCOME_FAILED ? og : NULL, er);
        if (st == OUTCOME_PENDING)
            extra_true(&e, "dry_run");
        emit(c, &e, stamp, txt, jsonl, kinds);
    }
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

/* The plan's notes, events of their own kinds. */
static void note_events(const struct report_ctx *c, const char *stamp,
                        struct buf *txt, struct buf *jsonl,
                        struct report_kinds *kinds)
{
    size_t i;

    for (i = 0; i < c->plan->notes_nr; i++) {
        const struct plan_note *n = &c->plan->notes[i];
        struct event e;

        event_init(&e, note_kind(n->kind), "noted");
        if (!uuid_is_zero(&n->asset))
            e.asset = &n->asset;
        if (!uuid_is_zero(&n->album)) {
            e.album = &n->album;
            e.album_name = album_name_of(c, NULL, &n->album);
        }
        extra_json(&e, n->detail);
        emit(c, &e, stamp, txt, jsonl, kinds);
    }
}

void report_modifications(const struct report_ctx *c, struct buf *txt,
                          struct buf *jsonl, struct report_kinds *kinds)
{
    struct buf seen_tags = BUF_INIT;
    char stamp[40];
    size_t i;

    if (kinds)
        memset(kinds, 0, sizeof(*kinds));
    report_iso_local(c->now_ms, stamp);
    buf_addch(&seen_tags, '\n');
    for (i = 0; i < c->plan->nr; i++)
        group_events(c, i, stamp, txt, jsonl, kinds, &seen_tags);
    note_events(c, stamp, txt, jsonl, kinds);
    buf_release(&seen_tags);
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
    size_t i;
    int ret;

    if (j->fd < 0)
        return 0;
    if (j->nr < c->plan->nr) {
        j->written = xrealloc(j->written, c->plan->nr);
        memset(j->written + j->nr, 0, c->plan->nr - j->nr);
        j->nr = c->plan->nr;
    }
    report_iso_local(c->now_ms, stamp);
    for (i = 0; i < c->plan->nr; i++) {
        if (j->written[i] || !(final || is_settled(c, i)))
            continue;
        group_events(c, i, stamp, NULL, &lines, NULL, &j->seen_tags);
        j->written[i] = 1;
    }
    if (final)
        note_events(c, stamp, NULL, &lines, NULL);
    ret = lines.len ? append(j, &lines, err) : 0;
    buf_release(&lines);
    return ret;
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
