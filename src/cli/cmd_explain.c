/*
 * cmd_explain.c: `immich-autotag explain ASSET...`: why the rules decide
 * what they decide about a few assets, from a small read.
 *
 * Instead of the whole library, explain reads the server's version, the
 * key's user and the tag list, then for each asset GET /assets/{id} (its
 * tags and dates) and GET /albums?assetId= (its albums); the members of
 * its temporary albums (their health and emptiness depend on them) and
 * the other assets of its duplicate group are read as well.  Those
 * records make a small model the rules evaluate as a run would; the
 * plan's items and notes about the asset are its decisions, with their
 * reasons, and what the next run would change.
 */
#include "cli/cli.h"

#include "cli/cli_server.h"
#include "cli/run_session.h"
#include "core/escape.h"
#include "core/log.h"
#include "rules/rules.h"

const char cmd_explain_help[] =
    "usage: immich-autotag explain ASSET... [--json] [options]\n"
    "\n"
    "For each ASSET (an asset id, a file name or an Immich web link such\n"
    "as https://photos.example/photos/<id>) prints what the tool reads of\n"
    "it (tags, albums, dates, duplicate group), which rules match it and\n"
    "on what, each decision the rules take about it with its reason, and\n"
    "what the next run would change.  Reads only that asset, its albums\n"
    "and its duplicates, never the whole library; writes nothing.\n";

/* "album holds asset", linked once every asset is in the model. */
struct pending {
    uint32_t album;
    struct uuid asset;
};

struct ex {
    struct api api;
    struct model m;
    const struct config *cfg;
    bool failed;
    enum api_fail fail_kind;
    struct buf err; /* first failure */
    struct uuid me;
    struct uuid *want; /* assets to explain, in argument order */
    size_t want_nr, want_alloc;
    struct uuid *queue; /* assets still to read (info + albums) */
    size_t queue_nr, queue_alloc;
    struct uuid *temp; /* temporary albums whose members to read */
    size_t temp_nr, temp_alloc;
    struct pending *links; /* album memberships of read assets */
    size_t links_nr, links_alloc;
    const char *asking; /* the file name being searched */
    bool dups_needed;
    bool dups_read;
};

static bool ok(struct ex *x, const struct api_status *st)
{
    if (st->ok)
        return true;
    if (!x->failed) {
        x->failed = true;
        x->fail_kind = st->kind;
        buf_addf(&x->err, "%s", st->error);
    }
    return false;
}

static bool has_uuid(const struct uuid *v, size_t nr, const struct uuid *u)
{
    size_t i;

    for (i = 0; i < nr; i++)
        if (uuid_eq(&v[i], u))
            return true;
    return false;
}

static void push(struct uuid **v, size_t *nr, size_t *alloc,
                 const struct uuid *u)
{
    if (has_uuid(*v, *nr, u))
        return;
    ALLOC_GROW(*v, *nr + 1, *alloc);
    (*v)[(*nr)++] = *u;
}

/* ---- reading -------------------------------------------------------- */

static void on_version(void *ctx, const struct api_status *st,
                       const struct api_version *v)
{
    struct ex *x = ctx;

    if (!ok(x, st))
        return;
    x->m.server_major = v->major;
    x->m.server_minor = v->minor;
    x->m.server_patch = v->patch;
    if (!x->api.dialect)
        x->api.dialect = api_dialect_of(v->major);
}

static void on_me(void *ctx, const struct api_status *st,
                  const struct api_user *u)
{
    struct ex *x = ctx;

    if (!ok(x, st))
        return;
    x->me = u->id;
    x->m.me = model_add_user(&x->m, &u->id, u->email, u->name);
}

static void on_tags(void *ctx, const struct api_status *st,
                    const struct api_tag *tags, size_t nr)
{
    struct ex *x = ctx;

    if (!ok(x, st))
        return;
    /* Each asset read brings all its tags. */
    snapshot_model_tags(&x->m, tags, nr, true);
}

/* The asset as the model keeps it (once). */
static uint32_t add_asset(struct ex *x, const struct api_asset *a)
{
    struct model_asset r;
    uint32_t idx = model_find_asset(&x->m, &a->id);

    if (idx != MODEL_NONE)
        return idx;
    snapshot_model_asset(&x->m, a, &x->me, &r);
    if (a->has_duplicate) {
        uint32_t d = uuidmap_get(&x->m.dup_by_id, &a->duplicate);

        r.duplicate = d != MODEL_NONE ? d : model_add_dup(&x->m, &a->duplicate);
        x->dups_needed = true;
    }
    return model_add_asset(&x->m, &r);
}

static void on_asset(void *ctx, const struct api_status *st,
                     const struct api_asset *a, const struct api_tag *tags,
                     size_t nr)
{
    struct ex *x = ctx;
    uint32_t idx;
    size_t i;

    if (!ok(x, st))
        return;
    idx = add_asset(x, a);
    for (i = 0; i < nr; i++) {
        uint32_t t = model_find_tag(&x->m, &tags[i].id);

        if (t != MODEL_NONE)
            model_link_tag_asset(&x->m, t, idx);
    }
}

struct albums_of {
    struct ex *x;
    struct uuid asset;
};

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct albums_of *ao = ctx;
    struct ex *x = ao->x;
    size_t i;

    if (ok(x, st)) {
        for (i = 0; i < nr; i++) {
            const struct api_album *a = &albums[i];
            uint32_t al = model_find_album(&x->m, &a->id);

            if (al == MODEL_NONE) {
                al = snapshot_model_album(&x->m, a);
                /* Its members as far as the rules need them: the asset,
                 * and for a temporary album all of them (read next). */
                x->m.albums[al].members_known = true;
                if (strstr(a->name, RULES_TEMP_ALBUM_MARK))
                    push(&x->temp, &x->temp_nr, &x->temp_alloc, &a->id);
            }
            ALLOC_GROW(x->links, x->links_nr + 1, x->links_alloc);
            x->links[x->links_nr].album = al;
            x->links[x->links_nr++].asset = ao->asset;
        }
    }
    free(ao);
}

struct members {
    struct ex *x;
    struct uuid album;
    long page;
};

static void on_members(void *ctx, const struct api_status *st,
                       const struct api_asset *v, size_t nr, long next)
{
    struct members *mc = ctx;
    struct ex *x = mc->x;
    uint32_t al = model_find_album(&x->m, &mc->album);
    size_t i;

    if (ok(x, st)) {
        for (i = 0; i < nr; i++)
            model_link_album_asset(&x->m, al, add_asset(x, &v[i]));
        if (next > 0) {
            struct api_search q = API_SEARCH_INIT;

            mc->page = q.page = next;
            q.album = &mc->album;
            q.with_exif = true;
            api_search_metadata(&x->api, &q, on_members, mc);
            return;
        }
    }
    free(mc);
}

static void on_dups(void *ctx, const struct api_status *st,
                    const struct api_dup *groups, size_t nr)
{
    struct ex *x = ctx;
    size_t i, j;

    if (!ok(x, st))
        return;
    for (i = 0; i < nr; i++) {
        if (uuidmap_get(&x->m.dup_by_id, &groups[i].id) == MODEL_NONE)
            continue;
        for (j = 0; j < groups[i].assets_nr; j++)
            if (model_find_asset(&x->m, &groups[i].assets[j]) == MODEL_NONE)
                push(&x->queue, &x->queue_nr, &x->queue_alloc,
                     &groups[i].assets[j]);
    }
}

static void on_file_name(void *ctx, const struct api_status *st,
                         const struct api_asset *v, size_t nr, long next)
{
    struct ex *x = ctx;
    size_t i, found = 0;

    (void)next;
    if (!ok(x, st))
        return;
    for (i = 0; i < nr; i++) {
        /* The search matches parts of names: keep the exact ones. */
        if (v[i].file_name_len != strlen(x->asking) ||
            memcmp(v[i].file_name, x->asking, v[i].file_name_len))
            continue;
        push(&x->want, &x->want_nr, &x->want_alloc, &v[i].id);
        found++;
    }
    if (!found)
        warn_log("explain: no asset named '%s'", x->asking);
}

static int run_engine(struct ex *x, struct http_engine *eng)
{
    if (http_engine_run(eng, &x->err) < 0 && !x->failed) {
        x->failed = true;
        x->fail_kind = API_FAIL_NETWORK;
    }
    return x->failed ? -1 : 0;
}

/* Reads the queued assets and their albums, then the temporary albums'
 * members and the duplicate groups, until nothing new is queued. */
static int read_assets(struct ex *x, struct http_engine *eng)
{
    size_t done_temp = 0, i;

    while (x->queue_nr) {
        struct uuid *batch = x->queue;
        size_t nr = x->queue_nr;

        x->queue = NULL;
        x->queue_nr = x->queue_alloc = 0;
        for (i = 0; i < nr; i++) {
            struct albums_of *ao = xcalloc(1, sizeof(*ao));

            ao->x = x;
            ao->asset = batch[i];
            api_asset_info(&x->api, &batch[i], on_asset, x);
            api_albums_of_asset(&x->api, &batch[i], on_albums, ao);
        }
        free(batch);
        if (run_engine(x, eng) < 0)
            return -1;
        for (; done_temp < x->temp_nr; done_temp++) {
            struct members *mc = xcalloc(1, sizeof(*mc));
            struct api_search q = API_SEARCH_INIT;

            mc->x = x;
            mc->album = x->temp[done_temp];
            mc->page = 1;
            q.album = &mc->album;
            q.with_exif = true;
            api_search_metadata(&x->api, &q, on_members, mc);
        }
        if (x->dups_needed && !x->dups_read) {
            x->dups_read = true;
            api_duplicates(&x->api, on_dups, x);
        }
        if (run_engine(x, eng) < 0)
            return -1;
    }
    for (i = 0; i < x->links_nr; i++) {
        uint32_t a = model_find_asset(&x->m, &x->links[i].asset);

        if (a != MODEL_NONE)
            model_link_album_asset(&x->m, x->links[i].album, a);
    }
    return 0;
}

/* ---- explaining ----------------------------------------------------- */

/* A name from the library, quoted and safe for a terminal. */
static void add_name(struct buf *b, const char *pre, const char *s)
{
    buf_addf(b, "%s'", pre);
    escape_text(b, s, strlen(s), NULL);
    buf_addch(b, '\'');
}

/* One line of text and one JSON member list, built side by side. */
struct out {
    struct buf text;
    struct buf json;
};

static void jstr(struct buf *b, const char *s)
{
    buf_add_json_str(b, s, strlen(s));
}

static void date_or_none(struct buf *b, int64_t t, bool json)
{
    char iso[32];

    if (t == TIME_NONE) {
        buf_addstr(b, json ? "null" : "none");
        return;
    }
    time_format_iso(t, iso);
    if (json)
        buf_addf(b, "\"%s\"", iso);
    else
        buf_addstr(b, iso);
}

/* What was read of asset a. */
static void explain_read(const struct model *m, uint32_t a, struct out *o)
{
    const struct model_asset *ma = &m->assets[a];
    const uint32_t *l;
    size_t nr, i;

    buf_addstr(&o->text, "  read:      file date ");
    date_or_none(&o->text, ma->file_created_at, false);
    buf_addstr(&o->text, ", dateTimeOriginal ");
    date_or_none(&o->text, ma->date_time_original, false);
    buf_addstr(&o->json, "\"read\":{\"file_created_at\":");
    date_or_none(&o->json, ma->file_created_at, true);
    buf_addstr(&o->json, ",\"date_time_original\":");
    date_or_none(&o->json, ma->date_time_original, true);

    l = model_asset_tags(m, a, &nr);
    buf_addstr(&o->text, "\n  tags:     ");
    buf_addstr(&o->json, ",\"tags\":[");
    for (i = 0; i < nr; i++) {
        add_name(&o->text, " ", model_str(m, m->tags[l[i]].value));
        if (i)
            buf_addch(&o->json, ',');
        jstr(&o->json, model_str(m, m->tags[l[i]].value));
    }
    if (!nr)
        buf_addstr(&o->text, " none");
    l = model_asset_albums(m, a, &nr);
    buf_addstr(&o->text, "\n  albums:   ");
    buf_addstr(&o->json, "],\"albums\":[");
    for (i = 0; i < nr; i++) {
        const struct model_album *al = &m->albums[l[i]];

        add_name(&o->text, " ", model_str(m, al->name));
        if (al->start_date != TIME_NONE) {
            char d1[16], d2[16];

            time_format_date(al->start_date, d1);
            time_format_date(al->end_date, d2);
            buf_addf(&o->text, " (%s..%s)", d1, d2);
        }
        if (i)
            buf_addch(&o->json, ',');
        jstr(&o->json, model_str(m, al->name));
    }
    if (!nr)
        buf_addstr(&o->text, " none");
    buf_addstr(&o->json, "],\"duplicates\":[");
    buf_addstr(&o->text, "\n  duplicates:");
    if (ma->duplicate != MODEL_NONE) {
        const uint32_t *d = model_dup_assets(m, ma->duplicate, &nr);
        bool first = true;

        for (i = 0; i < nr; i++) {
            char id[UUID_STR_LEN + 1];

            if (d[i] == a)
                continue;
            uuid_format(&m->assets[d[i]].id, id);
            buf_addf(&o->text, " %s (", id);
            escape_text(&o->text, model_str(m, m->assets[d[i]].file_name),
                        strlen(model_str(m, m->assets[d[i]].file_name)), NULL);
            buf_addch(&o->text, ')');
            buf_addf(&o->json, "%s\"%s\"", first ? "" : ",", id);
            first = false;
        }
    } else {
        buf_addstr(&o->text, " none");
    }
    buf_addstr(&o->text, "\n");
    buf_addstr(&o->json, "]}");
}

/* Does rule match asset a?  Appends what it matched on. */
static bool rule_matches(const struct model *m, const struct config_rule *r,
                         uint32_t a, struct buf *text, struct buf *json)
{
    const uint32_t *l;
    size_t nr, i, k;
    bool any = false;

    l = model_asset_tags(m, a, &nr);
    for (i = 0; i < nr; i++)
        for (k = 0; k < r->tag_names.nr; k++)
            if (!strcmp(r->tag_names.items[k],
                        model_str(m, m->tags[l[i]].name))) {
                buf_addf(text, "%s tag '%s'", any ? "," : "",
                         r->tag_names.items[k]);
                buf_addstr(json, any ? ",{\"tag\":" : "{\"tag\":");
                jstr(json, r->tag_names.items[k]);
                buf_addch(json, '}');
                any = true;
            }
    l = model_asset_albums(m, a, &nr);
    for (i = 0; i < nr; i++) {
        const char *name = model_str(m, m->albums[l[i]].name);

        for (k = 0; k < r->album_patterns_nr; k++)
            if (config_regex_match(&r->album_patterns[k], name, strlen(name))) {
                add_name(text, any ? ", album " : " album ", name);
                buf_addf(text, " ~ '%s'", r->album_patterns[k].pattern);
                buf_addstr(json, any ? ",{\"album\":" : "{\"album\":");
                jstr(json, name);
                buf_addstr(json, ",\"pattern\":");
                jstr(json, r->album_patterns[k].pattern);
                buf_addch(json, '}');
                any = true;
                break;
            }
    }
    for (k = 0; k < r->link_assets_nr; k++)
        if (uuid_eq(&r->link_assets[k], &m->assets[a].id)) {
            buf_addf(text, "%s its link", any ? "," : "");
            buf_addstr(json, any ? ",{\"link\":true}" : "{\"link\":true}");
            any = true;
        }
    return any;
}

static void explain_matches(const struct config *cfg, const struct model *m,
                            uint32_t a, struct out *o)
{
    struct buf t = BUF_INIT, j = BUF_INIT;
    size_t i, n = 0;

    buf_addstr(&o->json, ",\"matches\":[");
    for (i = 0; i < cfg->classification.rules_nr + cfg->conversions.nr; i++) {
        bool conv = i >= cfg->classification.rules_nr;
        size_t k = conv ? i - cfg->classification.rules_nr : i;
        const struct config_rule *r = conv ? &cfg->conversions.items[k].source
                                           : &cfg->classification.rules[k];

        buf_reset(&t);
        buf_reset(&j);
        if (!rule_matches(m, r, a, &t, &j))
            continue;
        buf_addf(&o->text, "  matches:   %s %zu%s%s%s:%s\n",
                 conv ? "conversion" : "classification rule", k + 1,
                 r->description ? " (" : "",
                 r->description ? r->description : "",
                 r->description ? ")" : "", t.buf);
        buf_addf(&o->json, "%s{\"feature\":\"%s\",\"rule\":%zu,\"on\":[%s]}",
                 n++ ? "," : "", conv ? "conversion" : "classification", k + 1,
                 j.buf);
    }
    if (!n)
        buf_addstr(&o->text, "  matches:   no classification rule, no "
                             "conversion\n");
    buf_addch(&o->json, ']');
    buf_release(&t);
    buf_release(&j);
}

/* The plan's items and notes about asset a: its decisions. */
static void explain_decisions(const struct plan *p, const struct uuid *id,
                              struct out *o)
{
    size_t g, i, n = 0;

    buf_addstr(&o->json, ",\"decisions\":[");
    for (g = 0; g < p->nr; g++) {
        const struct plan_group *pg = &p->groups[g];

        for (i = 0; i < pg->nr; i++) {
            const struct plan_item *it = &pg->items[i];
            const char *why = plan_reason_name((enum plan_reason)it->reason);

            if (!uuid_eq(&it->id, id))
                continue;
            buf_addf(&o->text, "  decision:  %s", plan_op_name(pg->op));
            add_name(&o->text, " ", pg->name ? pg->name : "");
            if (pg->op == PLAN_ASSET_DATE) {
                buf_addstr(&o->text, " to ");
                date_or_none(&o->text, pg->date, false);
            }
            buf_addf(&o->text, ": %s", why);
            if (it->rule)
                buf_addf(&o->text, " (rule %u)", it->rule);
            buf_addch(&o->text, '\n');
            buf_addf(&o->json, "%s{\"op\":\"%s\",\"name\":", n++ ? "," : "",
                     plan_op_name(pg->op));
            jstr(&o->json, pg->name ? pg->name : "");
            buf_addf(&o->json, ",\"reason\":\"%s\",\"rule\":%u}", why,
                     it->rule);
        }
    }
    buf_addf(&o->json, "],\"changes\":%zu,\"notes\":[", n);
    buf_addf(&o->text, "  next run:  %zu change%s\n", n, n == 1 ? "" : "s");
    n = 0;
    for (i = 0; i < p->notes_nr; i++) {
        const struct plan_note *pn = &p->notes[i];

        if (!uuid_eq(&pn->asset, id))
            continue;
        buf_addf(&o->text, "  note:      %s ", plan_note_name(pn->kind));
        buf_addf(&o->json, "%s{\"kind\":\"%s\",\"detail\":", n++ ? "," : "",
                 plan_note_name(pn->kind));
        if (pn->detail.nr) {
            struct buf d = BUF_INIT;

            buf_addch(&d, '{');
            plan_fields_json(&pn->detail, &d);
            buf_addch(&d, '}');
            buf_addstr(&o->text, d.buf);
            buf_addstr(&o->json, d.buf);
            buf_release(&d);
        } else {
            buf_addstr(&o->json, "null");
        }
        buf_addstr(&o->text, "\n");
        buf_addch(&o->json, '}');
    }
    buf_addch(&o->json, ']');
}

/* Each wanted asset, explained into out (text or JSON). */
static void explain_all(struct ex *x, const struct plan *p, bool json,
                        struct buf *out)
{
    const char *url = x->cfg->server.url;
    size_t i;

    if (json)
        buf_addstr(out, "{\"assets\":[");
    for (i = 0; i < x->want_nr; i++) {
        uint32_t a = model_find_asset(&x->m, &x->want[i]);
        struct out o = {BUF_INIT, BUF_INIT};
        char id[UUID_STR_LEN + 1];
        const char *name;

        uuid_format(&x->want[i], id);
        if (a == MODEL_NONE)
            continue;
        name = model_str(&x->m, x->m.assets[a].file_name);
        escape_text(&o.text, name, strlen(name), NULL);
        buf_addf(&o.text, " (asset %s)\n  link:      %s/photos/%s\n", id, url,
                 id);
        buf_addf(&o.json, "{\"id\":\"%s\",\"file_name\":", id);
        jstr(&o.json, name);
        buf_addf(&o.json, ",\"link\":");
        {
            struct buf link = BUF_INIT;

            buf_addf(&link, "%s/photos/%s", url, id);
            jstr(&o.json, link.buf);
            buf_release(&link);
        }
        buf_addch(&o.json, ',');
        explain_read(&x->m, a, &o);
        explain_matches(x->cfg, &x->m, a, &o);
        explain_decisions(p, &x->want[i], &o);
        buf_addch(&o.json, '}');
        if (json) {
            if (i)
                buf_addch(out, ',');
            buf_add(out, o.json.buf, o.json.len);
        } else {
            buf_addf(out, "%s%s", i ? "\n" : "", o.text.buf);
        }
        buf_release(&o.text);
        buf_release(&o.json);
    }
    if (json)
        buf_addstr(out, "]}\n");
}

/* ---- the command ---------------------------------------------------- */

/* The assets the arguments name: ids and links at once, file names by a
 * search each. */
static int resolve(struct ex *x, const struct cli_ctx *ctx,
                   struct http_engine *eng)
{
    size_t i;

    for (i = 0; i < ctx->opts.args_nr; i++) {
        const char *arg = ctx->opts.args[i];
        struct uuid id;

        if (config_parse_asset_link(arg, strlen(arg), &id, NULL) == 0) {
            push(&x->want, &x->want_nr, &x->want_alloc, &id);
            continue;
        }
        x->asking = arg;
        api_search_file_name(&x->api, arg, on_file_name, x);
        if (run_engine(x, eng) < 0)
            return -1;
    }
    x->asking = NULL;
    return 0;
}

enum cli_status cmd_explain(struct cli_ctx *ctx)
{
    struct rules_opts ro = RULES_OPTS_INIT;
    struct buf out = BUF_INIT, err = BUF_INIT;
    enum cli_status st = cli_load_server_config(ctx);
    struct http_engine *eng = NULL;
    struct ex x;
    struct plan p;
    size_t i;

    if (st != CLI_OK)
        return st;
    if (!ctx->opts.args_nr) {
        error_log("explain: name at least one asset (an id, a file name or "
                  "a link)");
        return CLI_USAGE;
    }
    memset(&x, 0, sizeof(x));
    model_init(&x.m);
    plan_init(&p);
    buf_init(&x.err, 0);
    x.cfg = ctx->cfg;
    eng = cli_engine_open(ctx, NULL);
    if (!eng) {
        st = CLI_FAILED;
        goto out;
    }
    api_init(&x.api, eng);
    x.api.dialect = ctx->opts.dialect == CLI_DIALECT_V2   ? 2
                    : ctx->opts.dialect == CLI_DIALECT_V3 ? 3
                                                          : 0;
    api_server_version(&x.api, on_version, &x);
    api_users_me(&x.api, on_me, &x);
    api_tags(&x.api, on_tags, &x);
    if (run_engine(&x, eng) < 0 || resolve(&x, ctx, eng) < 0)
        goto failed;
    if (!x.want_nr) {
        error_log("explain: no asset found");
        st = CLI_FAILED;
        goto out;
    }
    for (i = 0; i < x.want_nr; i++)
        push(&x.queue, &x.queue_nr, &x.queue_alloc, &x.want[i]);
    if (read_assets(&x, eng) < 0)
        goto failed;
    model_build_indexes(&x.m);
    ro.now = run_now_ms();
    ro.skip_n = 0;
    ro.max_items = -1;
    if (rules_evaluate(ctx->cfg, &x.m, &ro, &p, &err) < 0) {
        error_log("explain: %s", err.buf);
        st = CLI_FAILED;
        goto out;
    }
    explain_all(&x, &p, ctx->opts.json, &out);
    st = cli_stdout(&out, "explain");
    goto out;
failed:
    error_log("explain: %s", x.err.buf);
    st = cli_status_of(x.fail_kind);
out:
    cli_metrics_out(ctx, eng, NULL);
    plan_release(&p);
    model_release(&x.m);
    http_engine_free(eng);
    free(x.want);
    free(x.queue);
    free(x.temp);
    free(x.links);
    buf_release(&x.err);
    buf_release(&out);
    buf_release(&err);
    return st;
}
