/*
 * plan_json.c: the plan as JSON and back.
 *
 * Writing is done by hand into a struct buf (one group per line, items as
 * compact [id, reason, rule] triples) so that a plan of a million items
 * costs no tree of a million jansson values; reading uses jansson.  Note
 * details are typed fields (fields.h), written as a JSON object in the
 * order they were added and read back member by member (strings, integers,
 * booleans, lists of strings), which makes
 * plan_to_json(plan_from_json(text)) == text.
 */
#include "plan/plan.h"

#include <jansson.h>

#include "core/timeutil.h"

#define PLAN_JSON_VERSION 1

static const char *const role_names[] = {"viewer", "editor", "owner"};

static void add_str_or_null(struct buf *out, const char *s)
{
    if (s)
        buf_add_json_str(out, s, strlen(s));
    else
        buf_addstr(out, "null");
}

static void add_stats(struct buf *out, const struct plan_stats *st)
{
    size_t i;

    buf_addf(out,
             "{\"assets_seen\":%zu,\"assets_skipped\":%zu,"
             "\"classified\":%zu,\"unclassified\":%zu,"
             "\"unclassified_found\":%zu,\"conflict\":%zu,"
             "\"duplicates_flagged\":%zu,\"date_mismatches\":%zu,"
             "\"dates_corrected\":%zu,\"albums_created\":%zu,"
             "\"shares_changed\":%zu,\"per_rule\":[",
             st->assets_seen, st->assets_skipped, st->classified,
             st->unclassified, st->unclassified_found, st->conflict,
             st->duplicates_flagged, st->date_mismatches, st->dates_corrected,
             st->albums_created, st->shares_changed);
    for (i = 0; i < st->rules_nr; i++)
        buf_addf(out, "%s%zu", i ? "," : "", st->per_rule[i]);
    buf_addstr(out, "]}");
}

static bool op_has_role(enum plan_op op)
{
    return op == PLAN_ALBUM_USER_ADD || op == PLAN_ALBUM_USER_ROLE;
}

static bool op_has_reason(enum plan_op op)
{
    return op == PLAN_ALBUM_CREATE || op == PLAN_ALBUM_DELETE;
}

static void add_group(struct buf *out, const struct plan_group *g)
{
    char iso[32];
    size_t i;

    buf_addf(out, "{\"op\":\"%s\",\"name\":", plan_op_name(g->op));
    buf_add_json_str(out, g->name, strlen(g->name));
    buf_addstr(out, ",\"target\":");
    if (g->target_exists)
        buf_add_json_uuid(out, &g->target);
    else
        buf_addstr(out, "null");
    if (op_has_role(g->op))
        buf_addf(out, ",\"role\":\"%s\"",
                 (unsigned)g->role < ARRAY_SIZE(role_names)
                     ? role_names[g->role]
                     : "viewer");
    if (g->op == PLAN_ASSET_DATE) {
        time_format_iso(g->date, iso);
        buf_addf(out, ",\"date\":\"%s\",\"offset_min\":%d", iso, g->offset_min);
    }
    if (op_has_reason(g->op))
        buf_addf(out, ",\"reason\":\"%s\"",
                 plan_reason_name((enum plan_reason)g->reason));
    buf_addstr(out, ",\"items\":[");
    for (i = 0; i < g->nr; i++) {
        const struct plan_item *it = &g->items[i];

        buf_addstr(out, i ? ",[" : "[");
        buf_add_json_uuid(out, &it->id);
        buf_addf(out, ",\"%s\",%u]",
                 plan_reason_name((enum plan_reason)it->reason),
                 (unsigned)it->rule);
    }
    buf_addstr(out, "]}");
}

static void add_note(struct buf *out, const struct plan_note *n)
{
    buf_addf(out, "{\"kind\":\"%s\",\"asset\":", plan_note_name(n->kind));
    if (uuid_is_zero(&n->asset))
        buf_addstr(out, "null");
    else
        buf_add_json_uuid(out, &n->asset);
    buf_addstr(out, ",\"album\":");
    if (uuid_is_zero(&n->album))
        buf_addstr(out, "null");
    else
        buf_add_json_uuid(out, &n->album);
    buf_addstr(out, ",\"detail\":");
    if (n->detail.nr) {
        buf_addch(out, '{');
        plan_fields_json(&n->detail, out);
        buf_addstr(out, "}}");
    } else {
        buf_addstr(out, "null}");
    }
}

void plan_to_json(const struct plan *p, struct buf *out)
{
    char iso[32];
    size_t i;

    buf_addf(out, "{\"version\":%d,\"server_url\":", PLAN_JSON_VERSION);
    add_str_or_null(out, p->server_url);
    time_format_iso(p->created_at, iso);
    buf_addf(out, ",\"created_at\":\"%s\",\"snapshot_digest\":", iso);
    add_str_or_null(out, p->snapshot_digest);
    buf_addf(out, ",\"changes\":%zu,\n\"stats\":", plan_changes(p));
    add_stats(out, &p->stats);
    buf_addstr(out, ",\n\"groups\":[");
    for (i = 0; i < p->nr; i++) {
        buf_addstr(out, i ? ",\n" : "\n");
        add_group(out, &p->groups[i]);
    }
    buf_addstr(out, "],\n\"notes\":[");
    for (i = 0; i < p->notes_nr; i++) {
        buf_addstr(out, i ? ",\n" : "\n");
        add_note(out, &p->notes[i]);
    }
    buf_addstr(out, "]}\n");
}

/* ---- reading ---- */

static int bad(struct buf *err, const char *what)
{
    buf_addf(err, "plan json: %s", what);
    return -1;
}

static int lookup(const char *s, const char *(*name_of)(int), int count)
{
    int i;

    for (i = 0; i < count; i++)
        if (!strcmp(name_of(i), s))
            return i;
    return -1;
}

static const char *op_name_i(int i)
{
    return plan_op_name((enum plan_op)i);
}

static const char *reason_name_i(int i)
{
    return plan_reason_name((enum plan_reason)i);
}

static const char *note_name_i(int i)
{
    return plan_note_name((enum plan_note_kind)i);
}

static const char *role_name_i(int i)
{
    return role_names[i];
}

static int get_uuid(json_t *v, struct uuid *out, bool *present)
{
    const char *s;

    if (json_is_null(v) || !v) {
        memset(out, 0, sizeof(*out));
        if (present)
            *present = false;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    s = json_string_value(v);
    if (uuid_parse(s, json_string_length(v), out) < 0)
        return -1;
    if (present)
        *present = true;
    return 0;
}

static int get_opt_str(json_t *v, char **out)
{
    if (!v || json_is_null(v)) {
        *out = NULL;
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    *out = xstrdup(json_string_value(v));
    return 0;
}

static int read_size(json_t *o, const char *key, size_t *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (size_t)json_integer_value(v);
    return 0;
}

static int read_stats(json_t *o, struct plan_stats *st, struct buf *err)
{
    json_t *pr = json_object_get(o, "per_rule");
    size_t i;

    if (!json_is_object(o) || read_size(o, "assets_seen", &st->assets_seen) ||
        read_size(o, "assets_skipped", &st->assets_skipped) ||
        read_size(o, "classified", &st->classified) ||
        read_size(o, "unclassified", &st->unclassified) ||
        /* absent from plans saved before it existed */
        (json_object_get(o, "unclassified_found") &&
         read_size(o, "unclassified_found", &st->unclassified_found)) ||
        read_size(o, "conflict", &st->conflict) ||
        read_size(o, "duplicates_flagged", &st->duplicates_flagged) ||
        read_size(o, "date_mismatches", &st->date_mismatches) ||
        read_size(o, "dates_corrected", &st->dates_corrected) ||
        read_size(o, "albums_created", &st->albums_created) ||
        read_size(o, "shares_changed", &st->shares_changed) ||
        !json_is_array(pr))
        return bad(err, "'stats' is missing a counter");
    st->rules_nr = json_array_size(pr);
    st->per_rule = xcalloc(st->rules_nr ? st->rules_nr : 1, sizeof(size_t));
    for (i = 0; i < st->rules_nr; i++) {
        json_t *v = json_array_get(pr, i);

        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return bad(err, "'stats.per_rule' holds a non-count");
        st->per_rule[i] = (size_t)json_integer_value(v);
    }
    return 0;
}

/*
 * One group of a saved plan (plan --json) back into p: op, name, target,
 * role, reason, date and items, each checked, so that `apply FILE` never
 * acts on a plan it only half understood.
 */
static int read_group(struct plan *p, json_t *o, size_t idx, struct buf *err)
{
    json_t *items = json_object_get(o, "items");
    json_t *jname = json_object_get(o, "name");
    const char *ops;
    struct plan_group *g;
    struct uuid target;
    bool has_target;
    int op, role = 0, reason = -1;
    int64_t date = 0;
    int offset = 0;
    size_t i;

    if (!json_is_object(o) || !json_is_string(json_object_get(o, "op")) ||
        !json_is_string(jname) || !json_is_array(items)) {
        buf_addf(err, "plan json: group %zu lacks op, name or items", idx);
        return -1;
    }
    ops = json_string_value(json_object_get(o, "op"));
    op = lookup(ops, op_name_i, PLAN_OP_COUNT);
    if (op < 0) {
        buf_addf(err, "plan json: group %zu has unknown op '%s'", idx, ops);
        return -1;
    }
    if (get_uuid(json_object_get(o, "target"), &target, &has_target) < 0) {
        buf_addf(err, "plan json: group %zu has a bad target id", idx);
        return -1;
    }
    if (op_has_role((enum plan_op)op)) {
        json_t *r = json_object_get(o, "role");

        role = json_is_string(r) ? lookup(json_string_value(r), role_name_i,
                                          (int)ARRAY_SIZE(role_names))
                                 : -1;
        if (role < 0) {
            buf_addf(err, "plan json: group %zu has a bad role", idx);
            return -1;
        }
    }
    if (op == PLAN_ASSET_DATE) {
        json_t *d = json_object_get(o, "date");
        json_t *off = json_object_get(o, "offset_min");

        if (!json_is_string(d) || !json_is_integer(off) ||
            time_parse_iso(json_string_value(d), json_string_length(d), &date,
                           NULL) < 0 ||
            json_integer_value(off) < -24 * 60 ||
            json_integer_value(off) > 24 * 60) {
            buf_addf(err, "plan json: group %zu has a bad date", idx);
            return -1;
        }
        offset = (int)json_integer_value(off);
    }
    if (op_has_reason((enum plan_op)op)) {
        json_t *r = json_object_get(o, "reason");

        reason = json_is_string(r) ? lookup(json_string_value(r), reason_name_i,
                                            PLAN_REASON_COUNT)
                                   : -1;
        if (reason < 0) {
            buf_addf(err, "plan json: group %zu has a bad reason", idx);
            return -1;
        }
    }
    if (op == PLAN_ASSET_DATE)
        g = plan_group_date(p, date, offset);
    else if (op_has_reason((enum plan_op)op))
        g = plan_group_album(p, (enum plan_op)op, json_string_value(jname),
                             has_target ? &target : NULL,
                             (enum plan_reason)reason);
    else
        g = plan_group_role(p, (enum plan_op)op, json_string_value(jname),
                            has_target ? &target : NULL, role);
    for (i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        json_t *r = json_array_get(it, 1), *rule = json_array_get(it, 2);
        struct uuid id;
        int rs;

        if (!json_is_array(it) || json_array_size(it) != 3 ||
            get_uuid(json_array_get(it, 0), &id, NULL) < 0 ||
            !json_is_string(r) || !json_is_integer(rule) ||
            json_integer_value(rule) < 0 ||
            json_integer_value(rule) > UINT16_MAX) {
            buf_addf(err, "plan json: group %zu item %zu is malformed", idx, i);
            return -1;
        }
        rs = lookup(json_string_value(r), reason_name_i, PLAN_REASON_COUNT);
        if (rs < 0) {
            buf_addf(err, "plan json: group %zu item %zu has unknown reason",
                     idx, i);
            return -1;
        }
        plan_add(g, &id, (enum plan_reason)rs,
                 (unsigned)json_integer_value(rule));
    }
    return 0;
}

/* A note's detail object into fields; -1 on a value fields cannot hold. */
static int read_fields(json_t *d, struct plan_fields *fs)
{
    const char *key;
    json_t *v, *s;
    size_t i;

    if (!json_is_object(d))
        return -1;
    json_object_foreach(d, key, v)
    {
        if (json_is_string(v)) {
            plan_fields_str(fs, key, json_string_value(v));
        } else if (json_is_integer(v)) {
            plan_fields_int(fs, key, json_integer_value(v));
        } else if (json_is_boolean(v)) {
            plan_fields_bool(fs, key, json_is_true(v));
        } else if (json_is_array(v)) {
            plan_fields_list(fs, key, NULL);
            json_array_foreach(v, i, s)
            {
                if (!json_is_string(s))
                    return -1;
                plan_fields_list(fs, key, json_string_value(s));
            }
        } else {
            return -1;
        }
    }
    return 0;
}

static int read_note(struct plan *p, json_t *o, size_t idx, struct buf *err)
{
    json_t *k = json_object_get(o, "kind"), *d;
    struct uuid asset, album;
    struct plan_fields detail = PLAN_FIELDS_INIT;
    int kind;

    kind = json_is_string(k)
               ? lookup(json_string_value(k), note_name_i, PLAN_NOTE_COUNT)
               : -1;
    if (kind < 0 || get_uuid(json_object_get(o, "asset"), &asset, NULL) < 0 ||
        get_uuid(json_object_get(o, "album"), &album, NULL) < 0) {
        buf_addf(err, "plan json: note %zu is malformed", idx);
        return -1;
    }
    d = json_object_get(o, "detail");
    if (d && !json_is_null(d) && read_fields(d, &detail) < 0) {
        plan_fields_release(&detail);
        buf_addf(err,
                 "plan json: note %zu: detail is not an object of "
                 "strings, integers, booleans and lists of strings",
                 idx);
        return -1;
    }
    plan_note(p, (enum plan_note_kind)kind, &asset, &album, &detail);
    return 0;
}

int plan_from_json(const char *data, size_t len, struct plan *p,
                   struct buf *err)
{
    json_error_t jerr;
    json_t *root, *v, *groups, *notes;
    size_t i;
    int ret = -1;

    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        buf_addf(err, "plan json: line %d column %d: %s", jerr.line,
                 jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        bad(err, "top level is not an object");
        goto out;
    }
    v = json_object_get(root, "version");
    if (!json_is_integer(v) || json_integer_value(v) != PLAN_JSON_VERSION) {
        buf_addf(err, "plan json: unsupported version (want %d)",
                 PLAN_JSON_VERSION);
        goto out;
    }
    if (get_opt_str(json_object_get(root, "server_url"), &p->server_url) < 0 ||
        get_opt_str(json_object_get(root, "snapshot_digest"),
                    &p->snapshot_digest) < 0) {
        bad(err, "'server_url' or 'snapshot_digest' is not a string");
        goto out;
    }
    v = json_object_get(root, "created_at");
    if (!json_is_string(v) ||
        time_parse_iso(json_string_value(v), json_string_length(v),
                       &p->created_at, NULL) < 0) {
        bad(err, "'created_at' is not an ISO-8601 time");
        goto out;
    }
    if (read_stats(json_object_get(root, "stats"), &p->stats, err) < 0)
        goto out;
    groups = json_object_get(root, "groups");
    notes = json_object_get(root, "notes");
    if (!json_is_array(groups) || !json_is_array(notes)) {
        bad(err, "'groups' or 'notes' is not an array");
        goto out;
    }
    for (i = 0; i < json_array_size(groups); i++)
        if (read_group(p, json_array_get(groups, i), i, err) < 0)
            goto out;
    for (i = 0; i < json_array_size(notes); i++) {
        json_t *n = json_array_get(notes, i);

        if (!json_is_object(n)) {
            buf_addf(err, "plan json: note %zu is not an object", i);
            goto out;
        }
        if (read_note(p, n, i, err) < 0)
            goto out;
    }
    plan_finish(p);
    ret = 0;
out:
    json_decref(root);
    if (ret < 0) {
        plan_release(p);
        plan_init(p);
    }
    return ret;
}
