/*
 * cmd_undo.c: `immich-autotag undo [RUN]`: takes a run back.
 *
 * The run's journal (modifications.jsonl in its run directory) lists
 * every change the run made.  Undo reads the library as it is now and
 * builds the inverse plan: a tag added is removed, a tag removed is added
 * again, album additions and removals are reversed, an album the run
 * created is deleted when it holds nothing else, sharing and dates get
 * their prior values back.  A change the library no longer shows as the
 * run left it (someone changed it since) is left alone and listed: undo
 * never overwrites a later change.  The plan goes through the same pass
 * as `run` (run_pass_build()), so an undo has a run directory and a
 * journal of its own, and undoing it redoes the run.
 */
#include "cli/cli.h"

#include <unistd.h>

#include <jansson.h>

#include "cli/cli_server.h"
#include "cli/run_pass.h"
#include "cli/run_session.h"
#include "core/fsutil.h"
#include "core/escape.h"
#include "core/log.h"
#include "core/numparse.h"
#include "core/sigflag.h"
#include "report/report.h"
#include "state/state.h"

/* Journals larger than this are refused before parsing. */
#define JOURNAL_MAX ((size_t)1024 * 1024 * 1024)
/* Runs of the history searched for the last one that changed something. */
#define UNDO_RECENT_RUNS 100

const char cmd_undo_help[] =
    "usage: immich-autotag undo [RUN] [--dry-run | --json] [options]\n"
    "\n"
    "Takes back the changes a run made, as its run directory's journal\n"
    "(modifications.jsonl) records them: tags added are removed, tags\n"
    "removed are added, album additions and removals are reversed, albums\n"
    "the run created are deleted when they hold nothing else, sharing and\n"
    "dates get their prior values.  RUN is a run directory (a path, or a\n"
    "name under --log-dir); by default the last run that changed\n"
    "something.  What changed on the server since that run is left alone\n"
    "and listed.  --dry-run prints the inverse plan and writes nothing;\n"
    "--json prints it as JSON with what is left alone.  An undo is a run\n"
    "of its own: undoing it redoes the run.\n";

/* One recorded change the undo may reverse. */
struct jentry {
    enum report_kind kind;
    struct uuid asset, album, user;
    bool has_asset, has_album, has_user;
    char *tag;          /* tag events: the tag's name */
    char *album_name;   /* album_name, else old_value (DELETE_ALBUM) */
    int role, old_role; /* sharing: access_level, old_access_level
                           (-1 when absent) */
    int64_t new_date;   /* UPDATE_ASSET_DATE: the date written */
    int64_t old_date;   /* ...and the one before (TIME_NONE: unknown) */
    int old_offset;     /* minutes east of UTC of the old date */
};

/* A change left alone because the library changed since the run. */
struct left {
    enum report_kind kind;
    char *what;      /* "asset <id> (<name>): tag 'x'" */
    const char *why; /* static: "removed since" */
};

/* (album, asset) of a change, sorted for lookups. */
struct pair {
    struct uuid album, asset;
};

struct undo {
    char *run; /* the run directory undone */
    struct jentry *items;
    size_t nr, alloc;
    struct pair *assigned; /* ASSIGN_ASSET_TO_ALBUM changes, sorted */
    size_t assigned_nr;
    struct pair *deleted; /* DELETE_ALBUM changes (asset zero), sorted */
    size_t deleted_nr;
    struct left *left;
    size_t left_nr, left_alloc;
};

static void undo_release(struct undo *u)
{
    size_t i;

    for (i = 0; i < u->nr; i++) {
        free(u->items[i].tag);
        free(u->items[i].album_name);
    }
    for (i = 0; i < u->left_nr; i++)
        free(u->left[i].what);
    free(u->items);
    free(u->left);
    free(u->assigned);
    free(u->deleted);
    free(u->run);
    memset(u, 0, sizeof(*u));
}

static int role_of(const char *s)
{
    if (!s)
        return -1;
    if (!strcmp(s, "editor"))
        return MODEL_ROLE_EDITOR;
    if (!strcmp(s, "viewer"))
        return MODEL_ROLE_VIEWER;
    return -1;
}

static bool get_uuid(json_t *o, const char *key, struct uuid *out)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s && uuid_parse(s, strlen(s), out) == 0;
}

static int64_t get_date(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    int64_t t;

    if (!s || time_parse_iso(s, strlen(s), &t, NULL) < 0)
        return TIME_NONE;
    return t;
}

static char *get_dup(json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? xstrdup(s) : NULL;
}

/* The kinds undo reverses; -1 for the others (notes, warnings). */
static int undoable_kind(const char *name)
{
    for (int k = 0; name && k < REPORT_K_COUNT; k++)
        if (report_kind_undoable((enum report_kind)k) &&
            !strcmp(name, report_kind_name((enum report_kind)k)))
            return k;
    return -1;
}

/* One journal line into u when it records a change made ("done"). */
static int add_line(struct undo *u, const char *line, size_t len, size_t lineno,
                    struct buf *err)
{
    json_error_t jerr;
    json_t *o = json_loadb(line, len, 0, &jerr), *extra, *members;
    struct jentry *e;
    const char *status;
    int kind;

    if (!json_is_object(o)) {
        buf_addf(err, "line %zu: %s", lineno, o ? "not an object" : jerr.text);
        json_decref(o);
        return -1;
    }
    kind = undoable_kind(json_string_value(json_object_get(o, "kind")));
    status = json_string_value(json_object_get(o, "status"));
    if (kind < 0 || !status || strcmp(status, "done")) {
        json_decref(o);
        return 0;
    }
    ALLOC_GROW(u->items, u->nr + 1, u->alloc);
    e = &u->items[u->nr++];
    memset(e, 0, sizeof(*e));
    e->kind = (enum report_kind)kind;
    e->has_asset = get_uuid(o, "asset_id", &e->asset);
    e->has_album = get_uuid(o, "album_id", &e->album);
    e->tag = get_dup(o, "tag");
    e->album_name = get_dup(o, "album_name");
    if (!e->album_name)
        e->album_name = get_dup(o, "old_value");
    extra = json_object_get(o, "extra");
    members = json_object_get(extra, "members");
    if (json_is_array(members) && json_array_size(members) == 1) {
        const char *s = json_string_value(json_array_get(members, 0));

        e->has_user = s && uuid_parse(s, strlen(s), &e->user) == 0;
    }
    e->role =
        role_of(json_string_value(json_object_get(extra, "access_level")));
    e->old_role =
        role_of(json_string_value(json_object_get(extra, "old_access_level")));
    e->new_date = get_date(o, "new_value");
    /* The prior date: dateTimeOriginal if it had one, else the file date
     * the server shows; journals of older versions only have old_value. */
    e->old_date = get_date(extra, "old_date_time_original");
    if (e->old_date == TIME_NONE)
        e->old_date = get_date(extra, "old_file_created_at");
    if (e->old_date == TIME_NONE)
        e->old_date = get_date(o, "old_value");
    {
        const char *off =
            json_string_value(json_object_get(extra, "old_offset_min"));
        int64_t v;

        e->old_offset =
            off && num_parse_i64(off, strlen(off), -1440, 1440, &v) == 0
                ? (int)v
                : 0;
    }
    json_decref(o);
    return 0;
}

/* Reads dir's journal into u; -1 with err when it cannot be read. */
static int read_journal(struct undo *u, const char *dir, struct buf *err)
{
    struct buf path = BUF_INIT, data = BUF_INIT;
    size_t pos = 0, lineno = 0;
    int ret = -1;

    buf_addf(&path, "%s/%s", dir, REPORT_FILE_MODIFICATIONS_JSONL);
    if (fs_read_file(path.buf, JOURNAL_MAX, &data, err) < 0)
        goto out;
    while (pos < data.len) {
        const char *nl = memchr(data.buf + pos, '\n', data.len - pos);
        size_t len = nl ? (size_t)(nl - data.buf) - pos : data.len - pos;

        lineno++;
        if (len && add_line(u, data.buf + pos, len, lineno, err) < 0) {
            buf_addf(err, " (%s)", path.buf);
            goto out;
        }
        pos += len + 1;
    }
    ret = 0;
out:
    buf_release(&path);
    buf_release(&data);
    return ret;
}

/*
 * The run to undo: RUN as a directory path, else as a name under the log
 * root; without RUN the newest run of the history that finished (dry runs
 * excepted) and made a change.  Sets u->run and reads its journal.
 */
static int find_run(struct undo *u, const struct cli_ctx *ctx, struct buf *err)
{
    const char *root =
        ctx->opts.log_dir ? ctx->opts.log_dir : REPORT_DEFAULT_ROOT;
    struct buf path = BUF_INIT;
    struct state *st = NULL;
    struct state_run *runs = NULL;
    size_t nr = 0, i;
    int ret = -1;

    if (ctx->opts.args_nr) {
        const char *arg = ctx->opts.args[0];

        if (fs_is_dir(arg))
            buf_addstr(&path, arg);
        else
            buf_addf(&path, "%s/%s", root, arg);
        if (!fs_is_dir(path.buf)) {
            buf_addf(err, "no run directory '%s' (nor '%s')", arg, path.buf);
            goto out;
        }
        u->run = buf_detach(&path, NULL);
        ret = read_journal(u, u->run, err);
        goto out;
    }
    buf_addf(&path, "%s/%s", root, STATE_DB_NAME);
    if (access(path.buf, R_OK) || state_open_readonly(&st, path.buf, err) < 0 ||
        state_runs_recent(st, UNDO_RECENT_RUNS, &runs, &nr, err) < 0) {
        if (!err->len)
            buf_addf(err, "no run history in '%s'", root);
        goto out;
    }
    for (i = 0; i < nr; i++) {
        struct buf dir = BUF_INIT, ignored = BUF_INIT;

        if (runs[i].status == STATE_RUN_RUNNING ||
            runs[i].status == STATE_RUN_DRY)
            continue;
        buf_addf(&dir, "%s/%s", root, runs[i].name);
        if (read_journal(u, dir.buf, &ignored) == 0 && u->nr) {
            u->run = buf_detach(&dir, NULL);
            buf_release(&ignored);
            ret = 0;
            goto out;
        }
        undo_release(u);
        buf_release(&dir);
        buf_release(&ignored);
    }
    buf_addf(err, "no run in '%s' changed anything", root);
out:
    state_runs_free(runs, nr);
    state_close(st);
    buf_release(&path);
    return ret;
}

/* ---- the inverse plan ----------------------------------------------- */

/*
 * Records a journal entry undo cannot take back (the asset or album is
 * gone, something changed it since) with the reason and names the user
 * recognises, for the list undo prints instead of failing.
 */
static void leave(struct undo *u, const struct model *m, const struct jentry *e,
                  const char *why)
{
    struct buf what = BUF_INIT;
    char id[UUID_STR_LEN + 1];
    struct left *l;

    if (e->has_asset) {
        uint32_t a = model_find_asset(m, &e->asset);

        uuid_format(&e->asset, id);
        buf_addf(&what, "asset %s", id);
        if (a != MODEL_NONE) {
            const char *name = model_str(m, m->assets[a].file_name);

            buf_addstr(&what, " (");
            escape_text(&what, name, strlen(name), NULL);
            buf_addch(&what, ')');
        }
    }
    /* Names from the library: safe for the terminal the list goes to. */
    if (e->tag) {
        buf_addf(&what, "%stag '", what.len ? ": " : "");
        escape_text(&what, e->tag, strlen(e->tag), NULL);
        buf_addch(&what, '\'');
    }
    if (e->album_name) {
        buf_addf(&what, "%salbum '", what.len ? ": " : "");
        escape_text(&what, e->album_name, strlen(e->album_name), NULL);
        buf_addch(&what, '\'');
    }
    if (e->has_user) {
        uuid_format(&e->user, id);
        buf_addf(&what, " user %s", id);
    }
    ALLOC_GROW(u->left, u->left_nr + 1, u->left_alloc);
    l = &u->left[u->left_nr++];
    l->kind = e->kind;
    l->what = buf_detach(&what, NULL);
    l->why = why;
}

/* Whether x is one of the nr ids of l (a row of the model's indexes). */
static bool listed(const uint32_t *l, size_t nr, uint32_t x)
{
    for (size_t i = 0; i < nr; i++)
        if (l[i] == x)
            return true;
    return false;
}

static bool has_tag(const struct model *m, uint32_t a, uint32_t t)
{
    size_t nr;
    const uint32_t *l = model_asset_tags(m, a, &nr);

    return listed(l, nr, t);
}

static bool in_album(const struct model *m, uint32_t a, uint32_t al)
{
    size_t nr;
    const uint32_t *l = model_asset_albums(m, a, &nr);

    return listed(l, nr, al);
}

/* The inverse plan's group of op for the existing album al. */
static struct plan_group *album_group(struct plan *p, const struct model *m,
                                      uint32_t al, enum plan_op op)
{
    return plan_group(p, op, model_str(m, m->albums[al].name),
                      &m->albums[al].id);
}

static uint32_t find_tag(const struct model *m, const char *name)
{
    uint32_t t = model_find_tag_by_value(m, name);

    return t != MODEL_NONE ? t : model_find_tag_by_name(m, name);
}

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    int c = uuid_cmp(&x->album, &y->album);

    return c ? c : uuid_cmp(&x->asset, &y->asset);
}

/* The (album, asset) pairs of the changes of kind, sorted: lookups in
 * O(log n) however large the run. */
static struct pair *pairs_of(const struct undo *u, enum report_kind kind,
                             size_t *nr)
{
    struct pair *v = xcalloc(u->nr + 1, sizeof(*v));
    size_t i;

    *nr = 0;
    for (i = 0; i < u->nr; i++) {
        const struct jentry *e = &u->items[i];

        if (e->kind != kind || !e->has_album)
            continue;
        v[*nr].album = e->album;
        if (e->has_asset && kind != REPORT_K_DELETE_ALBUM)
            v[*nr].asset = e->asset;
        (*nr)++;
    }
    qsort(v, *nr, sizeof(*v), cmp_pair);
    return v;
}

/* Did the run add asset a to the album with id `album`? */
static bool run_assigned(const struct undo *u, const struct uuid *album,
                         const struct uuid *asset)
{
    struct pair key;

    key.album = *album;
    key.asset = *asset;
    return bsearch(&key, u->assigned, u->assigned_nr, sizeof(key), cmp_pair) !=
           NULL;
}

/*
 * Is the album the run created (index al) still holding only what the
 * run put in it?  Then undo deletes it.
 */
static bool only_the_runs(const struct undo *u, const struct model *m,
                          uint32_t al)
{
    const struct model_album *a = &m->albums[al];
    size_t nr, i;
    const uint32_t *l;

    if (!a->members_known || a->foreign_nr)
        return false;
    l = model_album_assets(m, al, &nr);
    for (i = 0; i < nr; i++)
        if (!run_assigned(u, &a->id, &m->assets[l[i]].id))
            return false;
    return true;
}

static bool run_deleted(const struct undo *u, const struct uuid *album)
{
    struct pair key;

    memset(&key, 0, sizeof(key));
    key.album = *album;
    return bsearch(&key, u->deleted, u->deleted_nr, sizeof(key), cmp_pair) !=
           NULL;
}

static void invert_tag(struct undo *u, const struct model *m,
                       const struct jentry *e, struct plan *p)
{
    bool added = e->kind == REPORT_K_ADD_TAG_TO_ASSET;
    uint32_t a = model_find_asset(m, &e->asset);
    uint32_t t = find_tag(m, e->tag);

    if (a == MODEL_NONE) {
        leave(u, m, e, "the asset is gone");
        return;
    }
    if (added) {
        if (t == MODEL_NONE || !has_tag(m, a, t))
            leave(u, m, e, "the tag was removed since");
        else
            plan_add(plan_group(p, PLAN_TAG_REMOVE, e->tag, &m->tags[t].id),
                     &e->asset, PLAN_R_UNDO, 0);
    } else {
        if (t != MODEL_NONE && has_tag(m, a, t))
            leave(u, m, e, "the tag was added again since");
        else
            plan_add(plan_group(p, PLAN_TAG_ADD, e->tag,
                                t == MODEL_NONE ? NULL : &m->tags[t].id),
                     &e->asset, PLAN_R_UNDO, 0);
    }
}

/*
 * The inverse of an album membership change: an asset added is removed,
 * one removed is added back (an album the run deleted is made again with
 * its assets); entries whose asset or album is gone are left with why.
 */
static void invert_album(struct undo *u, const struct model *m,
                         const struct jentry *e, struct plan *p)
{
    uint32_t a = model_find_asset(m, &e->asset);
    uint32_t al = model_find_album(m, &e->album);

    if (a == MODEL_NONE) {
        leave(u, m, e, "the asset is gone");
        return;
    }
    if (e->kind == REPORT_K_ASSIGN_ASSET_TO_ALBUM) {
        if (al == MODEL_NONE)
            leave(u, m, e, "the album was deleted since");
        else if (!m->albums[al].members_known || !in_album(m, a, al))
            leave(u, m, e, "the asset left the album since");
        else
            plan_add(album_group(p, m, al, PLAN_ALBUM_REMOVE), &e->asset,
                     PLAN_R_UNDO, 0);
        return;
    }
    /* REMOVE_ASSET_FROM_ALBUM */
    if (al != MODEL_NONE) {
        if (m->albums[al].members_known && in_album(m, a, al))
            leave(u, m, e, "the asset is in the album again");
        else
            plan_add(album_group(p, m, al, PLAN_ALBUM_ADD), &e->asset,
                     PLAN_R_UNDO, 0);
    } else if (run_deleted(u, &e->album) && e->album_name &&
               model_find_album_by_name(m, e->album_name) == MODEL_NONE) {
        /* The run deleted the album: it is made again with its assets. */
        plan_add(plan_group(p, PLAN_ALBUM_ADD, e->album_name, NULL), &e->asset,
                 PLAN_R_UNDO, 0);
    } else {
        leave(u, m, e, "the album is gone");
    }
}

static void invert_album_itself(struct undo *u, const struct model *m,
                                const struct jentry *e, struct plan *p)
{
    uint32_t al = model_find_album(m, &e->album);

    if (e->kind == REPORT_K_CREATE_ALBUM) {
        if (al == MODEL_NONE)
            leave(u, m, e, "the album was deleted since");
        else if (!only_the_runs(u, m, al))
            leave(u, m, e, "the album holds assets added since: kept");
        else
            plan_group_album(p, PLAN_ALBUM_DELETE,
                             model_str(m, m->albums[al].name),
                             &m->albums[al].id, PLAN_R_UNDO);
        return;
    }
    /* DELETE_ALBUM: made again (its assets come back through the
     * REMOVE_ASSET_FROM_ALBUM events of the same run). */
    if (!e->album_name || al != MODEL_NONE ||
        model_find_album_by_name(m, e->album_name) != MODEL_NONE)
        leave(u, m, e, "an album of that name exists again");
    else
        plan_group_album(p, PLAN_ALBUM_CREATE, e->album_name, NULL,
                         PLAN_R_UNDO);
}

static void invert_date(struct undo *u, const struct model *m,
                        const struct jentry *e, struct plan *p)
{
    uint32_t a = model_find_asset(m, &e->asset);
    const struct model_asset *ma;

    if (a == MODEL_NONE) {
        leave(u, m, e, "the asset is gone");
        return;
    }
    ma = &m->assets[a];
    if (e->old_date == TIME_NONE || e->new_date == TIME_NONE)
        leave(u, m, e, "the journal lacks the dates");
    else if (ma->date_time_original != e->new_date &&
             ma->file_created_at != e->new_date)
        leave(u, m, e, "the date was changed since");
    else
        plan_add(plan_group_date(p, e->old_date, e->old_offset), &e->asset,
                 PLAN_R_UNDO, 0);
}

static void invert_share(struct undo *u, const struct model *m,
                         const struct jentry *e, struct plan *p)
{
    uint32_t al = model_find_album(m, &e->album);
    uint32_t usr = model_find_user(m, &e->user);
    int now, want;
    enum plan_op op;

    if (al == MODEL_NONE || usr == MODEL_NONE) {
        leave(u, m, e, "the album or the user is gone");
        return;
    }
    now = model_album_role(m, al, usr);
    /* What the run left, and what undo puts back. */
    if (e->kind == REPORT_K_ALBUM_PERMISSION_SHARED) {
        op = PLAN_ALBUM_USER_REMOVE;
        want = e->role;
    } else if (e->kind == REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED) {
        op = PLAN_ALBUM_USER_ROLE;
        want = e->role;
    } else {
        op = PLAN_ALBUM_USER_ADD;
        want = -1;
    }
    if (now != want) {
        leave(u, m, e, "the sharing was changed since");
        return;
    }
    if (op != PLAN_ALBUM_USER_REMOVE && e->old_role < 0) {
        leave(u, m, e, "the journal lacks the prior role");
        return;
    }
    plan_add(plan_group_role(p, op, model_str(m, m->albums[al].name),
                             &m->albums[al].id,
                             op == PLAN_ALBUM_USER_REMOVE ? 0 : e->old_role),
             &e->user, PLAN_R_UNDO, 0);
}

/* run_plan_fn: the inverse of u's journal against the library m. */
static int build_inverse(void *ctx, const struct model *m, struct plan *p,
                         struct buf *err)
{
    struct undo *u = ctx;
    size_t i;

    (void)err;
    for (i = 0; i < u->left_nr; i++)
        free(u->left[i].what);
    u->left_nr = 0;
    if (!u->assigned) {
        u->assigned =
            pairs_of(u, REPORT_K_ASSIGN_ASSET_TO_ALBUM, &u->assigned_nr);
        u->deleted = pairs_of(u, REPORT_K_DELETE_ALBUM, &u->deleted_nr);
    }
    for (i = 0; i < u->nr; i++) {
        const struct jentry *e = &u->items[i];

        switch (e->kind) {
        case REPORT_K_ADD_TAG_TO_ASSET:
        case REPORT_K_REMOVE_TAG_FROM_ASSET:
            if (e->has_asset && e->tag)
                invert_tag(u, m, e, p);
            break;
        case REPORT_K_ASSIGN_ASSET_TO_ALBUM:
        case REPORT_K_REMOVE_ASSET_FROM_ALBUM:
            if (e->has_asset && e->has_album)
                invert_album(u, m, e, p);
            break;
        case REPORT_K_CREATE_ALBUM:
        case REPORT_K_DELETE_ALBUM:
            if (e->has_album)
                invert_album_itself(u, m, e, p);
            break;
        case REPORT_K_UPDATE_ASSET_DATE:
            if (e->has_asset)
                invert_date(u, m, e, p);
            break;
        case REPORT_K_ALBUM_PERMISSION_SHARED:
        case REPORT_K_ALBUM_PERMISSION_ROLE_CHANGED:
        case REPORT_K_ALBUM_PERMISSION_REMOVED:
            if (e->has_album && e->has_user)
                invert_share(u, m, e, p);
            break;
        default:
            break;
        }
    }
    info_log("undo: %zu changes of %s: %zu to take back, %zu left alone", u->nr,
             u->run, plan_changes(p), u->left_nr);
    if (u->left_nr)
        warn_log("undo: %zu changes were changed since the run and are "
                 "left alone:",
                 u->left_nr);
    for (i = 0; i < u->left_nr; i++)
        warn_log("  left alone: %s %s: %s", report_kind_name(u->left[i].kind),
                 u->left[i].what, u->left[i].why);
    return 0;
}

/* ---- --json: the inverse plan, read-only ----------------------------- */

static void left_json(const struct undo *u, struct buf *out)
{
    size_t i;

    buf_addch(out, '[');
    for (i = 0; i < u->left_nr; i++) {
        const char *k = report_kind_name(u->left[i].kind);

        buf_addstr(out, i ? ",{\"kind\":" : "{\"kind\":");
        buf_add_json_str(out, k, strlen(k));
        buf_addstr(out, ",\"what\":");
        buf_add_json_str(out, u->left[i].what, strlen(u->left[i].what));
        buf_addstr(out, ",\"why\":");
        buf_add_json_str(out, u->left[i].why, strlen(u->left[i].why));
        buf_addch(out, '}');
    }
    buf_addch(out, ']');
}

static enum cli_status print_json(struct cli_ctx *ctx, struct undo *u)
{
    struct snapshot_info info;
    struct cli_readonly r;
    enum cli_status st = CLI_FAILED;

    if (!cli_readonly_open(ctx, &r))
        goto out;
    st = cli_read_library(ctx, r.eng, &r.m, &info, NULL, NULL, false);
    if (st != CLI_OK)
        goto out;
    (void)build_inverse(u, &r.m, &r.p, &r.err);
    plan_finish(&r.p);
    buf_addstr(&r.out, "{\"run\":");
    buf_add_json_str(&r.out, u->run, strlen(u->run));
    buf_addstr(&r.out, ",\"left_alone\":");
    left_json(u, &r.out);
    buf_addstr(&r.out, ",\"plan\":");
    plan_to_json(&r.p, &r.out);
    buf_rtrim(&r.out);
    buf_addstr(&r.out, "}\n");
    st = cli_stdout(&r.out, "undo");
out:
    cli_readonly_close(&r);
    return st;
}

/* The configuration's needs, and the tags, albums, users and dates of the
 * journal's changes. */
static void needs_of(const struct undo *u, const struct config *cfg,
                     struct snapshot_needs *n)
{
    size_t i;

    snapshot_needs_from_config(cfg, n);
    for (i = 0; i < u->nr; i++) {
        const struct jentry *e = &u->items[i];

        if (e->tag)
            snapshot_needs_add_tag(n, e->tag);
        if (e->has_album)
            n->album_members = true;
        if (e->has_user)
            n->users = true;
        if (e->kind == REPORT_K_UPDATE_ASSET_DATE)
            n->exif = true;
    }
}

enum cli_status cmd_undo(struct cli_ctx *ctx)
{
    struct snapshot_needs needs;
    struct buf err = BUF_INIT;
    struct undo u;
    enum cli_status st;

    memset(&u, 0, sizeof(u));
    memset(&needs, 0, sizeof(needs));
    st = cli_load_server_config(ctx);
    if (st != CLI_OK)
        return st;
    if (find_run(&u, ctx, &err) < 0) {
        error_log("undo: %s", err.buf);
        st = CLI_USAGE;
        goto out;
    }
    info_log("undo: taking back %s", u.run);
    /* What the run changed is read whatever the configuration says now
     * (a rule fixed since no longer names the tag it added). */
    needs_of(&u, ctx->cfg, &needs);
    ctx->needs = &needs;
    if (ctx->opts.json) {
        st = print_json(ctx, &u);
        goto out;
    }
    sig_install();
    st = run_pass_build(ctx, build_inverse, &u);
    sig_restore();
out:
    ctx->needs = NULL;
    snapshot_needs_release(&needs);
    undo_release(&u);
    buf_release(&err);
    return st;
}
