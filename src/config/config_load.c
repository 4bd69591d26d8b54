/*
 * config_load.c: the schema.  Walks the YAML document of an upstream
 * immich-autotag configuration block by block, fills struct config with
 * upstream's model defaults for absent keys, compiles the regexes once and
 * validates what upstream only finds at run time (empty rules, empty
 * conversion destinations, bad emails, unknown time zones).
 *
 * All problems of a file are collected (up to CONFIG_MAX_ERRORS) so the
 * user fixes them in one pass; nothing is half-loaded: on any problem the
 * config is freed and the caller gets only the messages.
 */
#include "config/config_yaml.h"

#include <limits.h>
#include <unistr.h>

#include "config/pyre.h"

#define MAX_NODE_VISITS 200000
#define MAX_REGEXES     20000

#define DEF_UNKNOWN       "autotag_output_unknown"
#define DEF_CONFLICT      "autotag_output_conflict"
#define DEF_DUP_ALBUM     "autotag_output_duplicate_asset_album_conflict"
#define DEF_DUP_CLASS     "autotag_output_duplicate_asset_classification_conflict"
#define DEF_DUP_PREFIX    DEF_DUP_CLASS "_"
#define DEF_DETECTION     "autotag_output_album_detection_conflict"
#define DEF_DATE_MISMATCH "autotag_output_album_date_mismatch"
/* What upstream uses when autotag_album_date_mismatch is "" */
#define EMPTY_DATE_MISMATCH "autotag_album_date_mismatch"

/* Builds "parent.key" / "parent[i]" paths for messages. */
static char *sub(const char *parent, const char *key)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "%s%s%s", parent, *parent ? "." : "", key);
    return buf_detach(&b, NULL);
}

static char *idx(const char *parent, size_t i)
{
    struct buf b = BUF_INIT;

    buf_addf(&b, "%s[%zu]", parent, i);
    return buf_detach(&b, NULL);
}

/* Optional string field: absent keeps the default, null clears it. */
static void opt_str(struct yload *L, const struct ymap *m, const char *path,
                    const char *key, bool nullable, char **out)
{
    yaml_node_t *v = ymap_get(m, key);
    char *p;

    if (!v)
        return;
    p = sub(path, key);
    (void)yget_str(L, v, p, nullable, out);
    free(p);
}

static void opt_bool(struct yload *L, const struct ymap *m, const char *path,
                     const char *key, bool *out)
{
    yaml_node_t *v = ymap_get(m, key);
    char *p;

    if (!v)
        return;
    p = sub(path, key);
    (void)yget_bool(L, v, p, out);
    free(p);
}

static void opt_int(struct yload *L, const struct ymap *m, const char *path,
                    const char *key, long min, long max, long *out)
{
    yaml_node_t *v = ymap_get(m, key);
    char *p;

    if (!v)
        return;
    p = sub(path, key);
    (void)yget_int(L, v, p, min, max, out);
    free(p);
}

static void opt_strlist(struct yload *L, const struct ymap *m, const char *path,
                        const char *key, struct config_strlist *out)
{
    yaml_node_t *v = ymap_get(m, key);
    char *p;

    if (!v)
        return;
    p = sub(path, key);
    (void)yget_strlist(L, v, p, out);
    free(p);
}

/* Reports a required key that is missing from the mapping node n. */
static bool require(struct yload *L, const struct ymap *m, yaml_node_t *n,
                    const char *path, const char *key, const char *hint)
{
    char *p;

    if (ymap_get(m, key))
        return true;
    p = sub(path, key);
    yerr(L, n, "missing required key '%s'%s", p, hint ? hint : "");
    free(p);
    return false;
}

/* A Python pattern, translated and compiled once (config/pyre.h). */
static int compile(struct yload *L, yaml_node_t *n, const char *path,
                   char *pattern, unsigned flags, struct config_regex *out)
{
    struct buf why = BUF_INIT;

    out->pattern = pattern;
    out->code = NULL;
    if (!L->regex_budget) {
        yerr(L, n, "%s: too many regular expressions (limit %d)", path,
             MAX_REGEXES);
        return -1;
    }
    L->regex_budget--;
    out->code = pyre_compile(pattern, flags, &why);
    if (!out->code) {
        yerr(L, n, "%s: invalid regex '%.80s%s': %s", path, pattern,
             strlen(pattern) > 80 ? "..." : "", why.buf);
        buf_release(&why);
        return -1;
    }
    return 0;
}

/* A list of patterns: re.match (anchored) or re.search + IGNORECASE. */
static void load_patterns(struct yload *L, yaml_node_t *n, const char *path,
                          unsigned flags, struct config_regex **items,
                          size_t *nr)
{
    yaml_node_item_t *it;
    size_t count, i;

    if (!n || yget_seq(L, n, path, &it, &count) < 0 || !count)
        return;
    *items = xcalloc(count, sizeof(**items));
    for (i = 0; i < count && L->budget; i++) {
        yaml_node_t *e = yaml_document_get_node(L->doc, it[i]);
        char *p = idx(path, i), *s = NULL;

        if (e && yget_str(L, e, p, false, &s) == 0) {
            if (compile(L, e, p, s, flags, &(*items)[*nr]) == 0)
                (*nr)++;
            else
                free(s);
        }
        free(p);
    }
}

static void load_links(struct yload *L, yaml_node_t *n, const char *path,
                       struct config_rule *r)
{
    yaml_node_item_t *it;
    size_t count, i;

    if (!n || yget_seq(L, n, path, &it, &count) < 0 || !count)
        return;
    r->link_assets = xcalloc(count, sizeof(*r->link_assets));
    r->asset_links.items = xcalloc(count, sizeof(char *));
    for (i = 0; i < count && L->budget; i++) {
        yaml_node_t *e = yaml_document_get_node(L->doc, it[i]);
        char *p = idx(path, i), *s = NULL;
        bool album = false;

        if (e && yget_str(L, e, p, false, &s) == 0) {
            r->asset_links.items[r->asset_links.nr++] = s;
            if (config_parse_asset_link(s, strlen(s),
                                        &r->link_assets[r->link_assets_nr],
                                        &album) == 0)
                r->link_assets_nr++;
            else if (album)
                ywarn(L, e,
                      "%s: '%.80s' names an album, not an asset; it "
                      "matches nothing",
                      p, s);
            else
                ywarn(L, e,
                      "%s: no asset id found in '%.80s'; it matches "
                      "nothing",
                      p, s);
        }
        free(p);
    }
}

static const char *const rule_keys[] = {"tag_names", "album_name_patterns",
                                        "asset_links", "description", NULL};

/* One rule (struct config_rule *elem), as load_seq() hands it. */
static void load_rule(struct yload *L, yaml_node_t *n, const char *path,
                      void *elem)
{
    struct config_rule *r = elem;
    struct ymap m;
    size_t before = L->nerr;
    char *p;

    r->line = (unsigned)n->start_mark.line + 1;
    if (ymap_read(L, n, path, rule_keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, path, "description", true, &r->description);
    opt_strlist(L, &m, path, "tag_names", &r->tag_names);
    p = sub(path, "album_name_patterns");
    load_patterns(L, ymap_get(&m, "album_name_patterns"), p, PYRE_MATCH,
                  &r->album_patterns, &r->album_patterns_nr);
    free(p);
    p = sub(path, "asset_links");
    load_links(L, ymap_get(&m, "asset_links"), p, r);
    free(p);
    if (L->nerr == before && !r->tag_names.nr && !r->album_patterns_nr &&
        !r->asset_links.nr)
        yerr(L, n,
             "%s: a rule needs at least one of tag_names, "
             "album_name_patterns or asset_links",
             path);
    ymap_release(&m);
}

/* Loads one item of a sequence (the node e at path) into elem. */
typedef void load_elem_fn(struct yload *L, yaml_node_t *e, const char *path,
                          void *elem);

/*
 * The sequence n at path as a new array of elements of size bytes, each
 * item loaded by fn into the next element (*nr counts them); NULL, and *nr
 * untouched, when n is absent, not a sequence or empty.
 */
static void *load_seq(struct yload *L, yaml_node_t *n, const char *path,
                      size_t size, size_t *nr, load_elem_fn *fn)
{
    yaml_node_item_t *it;
    size_t count, i;
    char *arr;

    if (!n || yget_seq(L, n, path, &it, &count) < 0 || !count)
        return NULL;
    arr = xcalloc(count, size);
    for (i = 0; i < count && L->budget; i++) {
        yaml_node_t *e = yaml_document_get_node(L->doc, it[i]);
        char *p = idx(path, i);

        if (e)
            fn(L, e, p, arr + size * (*nr)++);
        free(p);
    }
    return arr;
}

static void load_rules(struct yload *L, yaml_node_t *n, const char *path,
                       struct config_rule **rules, size_t *nr)
{
    struct config_rule *a =
        load_seq(L, n, path, sizeof(**rules), nr, load_rule);

    if (a)
        *rules = a;
}

static void load_server(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"host", "port", "api_key", "description",
                                       NULL};
    struct ymap m;
    struct buf why = BUF_INIT;
    size_t before = L->nerr;

    if (ymap_read(L, n, "server", keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, "server", "description", true, &c->server.description);
    opt_str(L, &m, "server", "host", true, &c->server.host);
    opt_int(L, &m, "server", "port", 1, 65535, &c->server.port);
    opt_str(L, &m, "server", "api_key", true, &c->server.api_key);
    if (c->server.host && L->nerr == before &&
        config_build_url(c->server.host, c->server.port, &c->server.url, &why) <
            0)
        yerr(L, ymap_get(&m, "host"), "server.host: %s", why.buf);
    buf_release(&why);
    ymap_release(&m);
}

static void load_skip(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"skip_n", "resume_previous", "max_items",
                                       "description", NULL};
    struct ymap m;
    yaml_node_t *v;

    if (ymap_read(L, n, "skip", keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, "skip", "description", true, &c->skip.description);
    opt_int(L, &m, "skip", "skip_n", 0, 1000000000000L, &c->skip.skip_n);
    opt_bool(L, &m, "skip", "resume_previous", &c->skip.resume_previous);
    v = ymap_get(&m, "max_items");
    /* null or negative: unlimited */
    if (v && !(v->type == YAML_SCALAR_NODE && ykind(L, v) == YK_NULL)) {
        opt_int(L, &m, "skip", "max_items", LONG_MIN, LONG_MAX,
                &c->skip.max_items);
        if (c->skip.max_items < 0)
            c->skip.max_items = -1;
    }
    ymap_release(&m);
}

static void load_filters(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"filter_in", "filter_out", "description",
                                       NULL};
    struct ymap m;

    if (ymap_read(L, n, "filters", keys, YMAP_STRICT, &m) < 0)
        return;
    c->filters.present = n->type == YAML_MAPPING_NODE;
    opt_str(L, &m, "filters", "description", true, &c->filters.description);
    load_rules(L, ymap_get(&m, "filter_in"), "filters.filter_in",
               &c->filters.filter_in, &c->filters.filter_in_nr);
    load_rules(L, ymap_get(&m, "filter_out"), "filters.filter_out",
               &c->filters.filter_out, &c->filters.filter_out_nr);
    ymap_release(&m);
}

/* `mode`: move/copy, also behind the legacy python enum tag. */
static void load_mode(struct yload *L, yaml_node_t *n, const char *path,
                      enum config_conv_mode *out)
{
    enum ynode_kind k;
    yaml_node_t *s = n;
    struct buf v = BUF_INIT;
    size_t i;

    if (!yvisit(L, n))
        return;
    k = ykind(L, n);
    if (k == YK_CONVMODE && n->type == YAML_SEQUENCE_NODE) {
        s = n->data.sequence.items.top - n->data.sequence.items.start == 1
                ? yaml_document_get_node(L->doc, *n->data.sequence.items.start)
                : NULL;
        if (!s || s->type != YAML_SCALAR_NODE) {
            yerr(L, n,
                 "%s: the ConversionMode tag takes one value, move "
                 "or copy",
                 path);
            return;
        }
    }
    if (k == YK_BAD)
        return;
    if ((k == YK_STR || k == YK_CONVMODE) && s->type == YAML_SCALAR_NODE) {
        buf_add(&v, s->data.scalar.value, s->data.scalar.length);
        /* the python enum is converted to its lowercase value */
        for (i = 0; k == YK_CONVMODE && i < v.len; i++)
            if (v.buf[i] >= 'A' && v.buf[i] <= 'Z')
                v.buf[i] = (char)(v.buf[i] - 'A' + 'a');
        if (!strcmp(v.buf, "move") && v.len == 4) {
            *out = CONFIG_CONV_MOVE;
            goto out;
        }
        if (!strcmp(v.buf, "copy") && v.len == 4) {
            *out = CONFIG_CONV_COPY;
            goto out;
        }
    }
    yerr(L, n, "%s: expected 'move' or 'copy'%s%.40s%s", path,
         v.len ? ", got '" : "", v.buf, v.len ? "'" : "");
out:
    buf_release(&v);
}

/*
 * One item of conversions: its source (tag names, album name patterns)
 * and destination (tags, albums) and the mode, each key checked, patterns
 * compiled; the item's line is kept for later messages.
 */
static void load_conversion(struct yload *L, yaml_node_t *n, const char *path,
                            void *elem)
{
    struct config_conversion *cv = elem;
    static const char *const keys[] = {"source", "destination", "mode",
                                       "description", NULL};
    static const char *const dkeys[] = {"tag_names", "album_names", NULL};
    struct ymap m, d;
    yaml_node_t *v;
    char *p;

    cv->line = (unsigned)n->start_mark.line + 1;
    cv->mode = CONFIG_CONV_MOVE;
    if (ymap_read(L, n, path, keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, path, "description", true, &cv->description);
    if (require(L, &m, n, path, "source", NULL)) {
        p = sub(path, "source");
        load_rule(L, ymap_get(&m, "source"), p, &cv->source);
        free(p);
    }
    if ((v = ymap_get(&m, "mode")) != NULL) {
        p = sub(path, "mode");
        load_mode(L, v, p, &cv->mode);
        free(p);
    }
    if (require(L, &m, n, path, "destination", NULL)) {
        size_t before = L->nerr;

        v = ymap_get(&m, "destination");
        p = sub(path, "destination");
        if (ymap_read(L, v, p, dkeys, YMAP_STRICT, &d) == 0) {
            opt_strlist(L, &d, p, "tag_names", &cv->dest_tags);
            opt_strlist(L, &d, p, "album_names", &cv->dest_albums);
            if (L->nerr == before && !cv->dest_tags.nr && !cv->dest_albums.nr)
                yerr(L, v,
                     "%s: a destination needs tag_names or "
                     "album_names",
                     p);
            ymap_release(&d);
        }
        free(p);
    }
    ymap_release(&m);
}

static void load_conversions(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"enabled", "conversions", "description",
                                       NULL};
    struct ymap m;
    struct config_conversion *a;

    if (ymap_read(L, n, "conversions", keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, "conversions", "description", true,
            &c->conversions.description);
    opt_bool(L, &m, "conversions", "enabled", &c->conversions.enabled);
    a = load_seq(L, ymap_get(&m, "conversions"), "conversions.conversions",
                 sizeof(*a), &c->conversions.nr, load_conversion);
    if (a)
        c->conversions.items = a;
    ymap_release(&m);
}

static void load_classification(struct yload *L, yaml_node_t *n,
                                struct config *c)
{
    static const char *const keys[] = {"rules", "autotag_unknown",
                                       "autotag_conflict", "description", NULL};
    const char *P = "classification";
    struct ymap m;

    if (ymap_read(L, n, P, keys, YMAP_IGNORE, &m) < 0)
        return;
    opt_str(L, &m, P, "description", true, &c->classification.description);
    opt_str(L, &m, P, "autotag_unknown", true,
            &c->classification.autotag_unknown);
    opt_str(L, &m, P, "autotag_conflict", true,
            &c->classification.autotag_conflict);
    load_rules(L, ymap_get(&m, "rules"), "classification.rules",
               &c->classification.rules, &c->classification.rules_nr);
    ymap_release(&m);
}

static void load_date_correction(struct yload *L, yaml_node_t *n,
                                 struct config *c)
{
    static const char *const keys[] = {"enabled", "extraction_timezone",
                                       "description", NULL};
    const char *P = "duplicate_processing.date_correction";
    char **tz = &c->duplicate_processing.date_correction.extraction_timezone;
    struct ymap m;
    yaml_node_t *v;

    if (ymap_read(L, n, P, keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, P, "description", true,
            &c->duplicate_processing.date_correction.description);
    if (require(L, &m, n, P, "enabled", NULL))
        opt_bool(L, &m, P, "enabled",
                 &c->duplicate_processing.date_correction.enabled);
    if (require(L, &m, n, P, "extraction_timezone", NULL)) {
        size_t before = L->nerr;
        struct buf why = BUF_INIT;

        opt_str(L, &m, P, "extraction_timezone", false, tz);
        v = ymap_get(&m, "extraction_timezone");
        /* the zone is read here, once: evaluation only asks it */
        if (L->nerr == before &&
            (!*tz ||
             tzif_load(&c->duplicate_processing.date_correction.extraction_zone,
                       *tz, &why) < 0))
            yerr(L, v,
                 "%s.extraction_timezone: unknown time zone '%.60s' "
                 "(expected an IANA name such as Europe/Madrid or "
                 "UTC)",
                 P, *tz ? *tz : "");
        buf_release(&why);
    }
    ymap_release(&m);
}

static void load_duplicates(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"autotag_album_conflict",
                                       "autotag_classification_conflict",
                                       "autotag_classification_conflict_prefix",
                                       "autotag_album_detection_conflict",
                                       "date_correction",
                                       "description",
                                       NULL};
    const char *P = "duplicate_processing";
    struct ymap m;

    if (ymap_read(L, n, P, keys, YMAP_IGNORE, &m) < 0)
        return;
    c->duplicate_processing.present = n->type == YAML_MAPPING_NODE;
    opt_str(L, &m, P, "description", true,
            &c->duplicate_processing.description);
    opt_str(L, &m, P, "autotag_album_conflict", true,
            &c->duplicate_processing.album_conflict);
    opt_str(L, &m, P, "autotag_classification_conflict", true,
            &c->duplicate_processing.classification_conflict);
    opt_str(L, &m, P, "autotag_classification_conflict_prefix", true,
            &c->duplicate_processing.classification_conflict_prefix);
    opt_str(L, &m, P, "autotag_album_detection_conflict", true,
            &c->duplicate_processing.album_detection_conflict);
    if (c->duplicate_processing.present &&
        require(L, &m, n, P, "date_correction", NULL))
        load_date_correction(L, ymap_get(&m, "date_correction"), c);
    ymap_release(&m);
}

static void load_date_consistency(struct yload *L, yaml_node_t *n,
                                  struct config *c)
{
    static const char *const keys[] = {"enabled", "autotag_album_date_mismatch",
                                       "threshold_days", "description", NULL};
    const char *P = "album_date_consistency";
    struct ymap m;

    if (ymap_read(L, n, P, keys, YMAP_IGNORE, &m) < 0)
        return;
    c->album_date_consistency.present = n->type == YAML_MAPPING_NODE;
    c->album_date_consistency.enabled = c->album_date_consistency.present;
    opt_str(L, &m, P, "description", true,
            &c->album_date_consistency.description);
    opt_bool(L, &m, P, "enabled", &c->album_date_consistency.enabled);
    opt_str(L, &m, P, "autotag_album_date_mismatch", false,
            &c->album_date_consistency.tag);
    if (c->album_date_consistency.tag && !*c->album_date_consistency.tag) {
        free(c->album_date_consistency.tag);
        c->album_date_consistency.tag = xstrdup(EMPTY_DATE_MISMATCH);
    }
    opt_int(L, &m, P, "threshold_days", 0, 1000000,
            &c->album_date_consistency.threshold_days);
    ymap_release(&m);
}

static void load_folders(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"enabled", "excluded_paths",
                                       "description", NULL};
    const char *P = "album_detection_from_folders";
    struct ymap m;

    if (ymap_read(L, n, P, keys, YMAP_IGNORE, &m) < 0)
        return;
    opt_str(L, &m, P, "description", true,
            &c->album_detection_from_folders.description);
    if (require(L, &m, n, P, "enabled", NULL))
        opt_bool(L, &m, P, "enabled", &c->album_detection_from_folders.enabled);
    if (require(L, &m, n, P, "excluded_paths", " (use [] for none)"))
        load_patterns(L, ymap_get(&m, "excluded_paths"),
                      "album_detection_from_folders.excluded_paths",
                      PYRE_IGNORECASE,
                      &c->album_detection_from_folders.excluded_paths,
                      &c->album_detection_from_folders.excluded_paths_nr);
    ymap_release(&m);
}

static void load_performance(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"enable_type_checking",
                                       "fail_fast_on_asset_errors",
                                       "description", NULL};
    struct ymap m;

    if (ymap_read(L, n, "performance", keys, YMAP_IGNORE, &m) < 0)
        return;
    opt_str(L, &m, "performance", "description", true,
            &c->performance.description);
    opt_bool(L, &m, "performance", "enable_type_checking",
             &c->performance.enable_type_checking);
    opt_bool(L, &m, "performance", "fail_fast_on_asset_errors",
             &c->performance.fail_fast_on_asset_errors);
    ymap_release(&m);
}

/* upstream's ^[^@]+@[^@]+\.[^@]+$, and no blanks */
static bool is_email(const char *s)
{
    const char *at = strchr(s, '@'), *dot;

    if (!at || at == s || strchr(at + 1, '@') || strpbrk(s, " \t\r\n"))
        return false;
    dot = strrchr(at + 1, '.');
    return dot && dot > at + 1 && dot[1];
}

static void load_group(struct yload *L, yaml_node_t *n, const char *path,
                       void *elem)
{
    static const char *const keys[] = {"name", "description", "members", NULL};
    struct config_user_group *g = elem;
    struct ymap m;
    yaml_node_item_t *it;
    size_t count, i;

    if (ymap_read(L, n, path, keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, path, "description", true, &g->description);
    if (require(L, &m, n, path, "name", NULL))
        opt_str(L, &m, path, "name", false, &g->name);
    if (require(L, &m, n, path, "members", NULL)) {
        char *p = sub(path, "members");
        yaml_node_t *v = ymap_get(&m, "members");
        size_t before = g->members.nr;

        (void)yget_strlist(L, v, p, &g->members);
        if (yget_seq(L, v, p, &it, &count) == 0 && count == g->members.nr)
            for (i = before; i < g->members.nr; i++)
                if (!is_email(g->members.items[i]))
                    yerr(L, yaml_document_get_node(L->doc, it[i]),
                         "%s[%zu]: '%.80s' is not an email address", p, i,
                         g->members.items[i]);
        free(p);
    }
    ymap_release(&m);
}

/*
 * One selection rule of album_permissions: name, keyword, groups and
 * access (view or edit), with unknown keys and a bad access level reported
 * at their line.
 */
static void load_selection(struct yload *L, yaml_node_t *n, const char *path,
                           void *elem)
{
    static const char *const keys[] = {"name",   "description", "keyword",
                                       "groups", "access",      NULL};
    struct config_selection_rule *r = elem;
    struct ymap m;
    char *access = NULL;
    yaml_node_t *v;

    r->access = CONFIG_ACCESS_VIEW;
    if (ymap_read(L, n, path, keys, YMAP_STRICT, &m) < 0)
        return;
    opt_str(L, &m, path, "description", true, &r->description);
    if (require(L, &m, n, path, "name", NULL))
        opt_str(L, &m, path, "name", false, &r->name);
    if (require(L, &m, n, path, "keyword", NULL)) {
        opt_str(L, &m, path, "keyword", false, &r->keyword);
        if (r->keyword && r->keyword[strcspn(r->keyword, "-_. \t\r\n\f\v")])
            ywarn(L, ymap_get(&m, "keyword"),
                  "%s.keyword: '%.60s' contains a separator (- _ . or a "
                  "space); album names are split on those, so it never "
                  "matches",
                  path, r->keyword);
    }
    if (require(L, &m, n, path, "groups", NULL))
        opt_strlist(L, &m, path, "groups", &r->groups);
    if ((v = ymap_get(&m, "access")) != NULL) {
        char *p = sub(path, "access");

        if (yget_str(L, v, p, false, &access) == 0) {
            if (!strcmp(access, "view"))
                r->access = CONFIG_ACCESS_VIEW;
            else if (!strcmp(access, "edit"))
                r->access = CONFIG_ACCESS_EDIT;
            else if (!strcmp(access, "admin")) {
                r->access = CONFIG_ACCESS_ADMIN;
                ywarn(L, v,
                      "%s: Immich has no admin album role; 'admin' "
                      "shares as viewer, as upstream does",
                      p);
            } else
                yerr(L, v, "%s: expected view, edit or admin, got '%.40s'", p,
                     access);
        }
        free(access);
        free(p);
    }
    ymap_release(&m);
}

/*
 * album_permissions: the user groups (members by email), the selection
 * rules, and whether to log unmatched albums; a rule naming a group that
 * is not defined shares with nobody, which is a warning, as upstream.
 */
static void load_permissions(struct yload *L, yaml_node_t *n, struct config *c)
{
    static const char *const keys[] = {"enabled",         "user_groups",
                                       "selection_rules", "log_unmatched",
                                       "description",     NULL};
    const char *P = "album_permissions";
    struct ymap m;
    struct config_user_group *groups;
    struct config_selection_rule *rules;
    size_t i, j, k;

    if (ymap_read(L, n, P, keys, YMAP_IGNORE, &m) < 0)
        return;
    c->album_permissions.present = n->type == YAML_MAPPING_NODE;
    opt_str(L, &m, P, "description", true, &c->album_permissions.description);
    opt_bool(L, &m, P, "enabled", &c->album_permissions.enabled);
    opt_bool(L, &m, P, "log_unmatched", &c->album_permissions.log_unmatched);
    groups = load_seq(L, ymap_get(&m, "user_groups"),
                      "album_permissions.user_groups", sizeof(*groups),
                      &c->album_permissions.groups_nr, load_group);
    if (groups)
        c->album_permissions.groups = groups;
    rules = load_seq(L, ymap_get(&m, "selection_rules"),
                     "album_permissions.selection_rules", sizeof(*rules),
                     &c->album_permissions.rules_nr, load_selection);
    if (rules)
        c->album_permissions.rules = rules;
    /* a rule naming an undefined group shares with nobody: warn */
    for (i = 0; i < c->album_permissions.rules_nr; i++) {
        struct config_selection_rule *r = &c->album_permissions.rules[i];

        for (j = 0; j < r->groups.nr && c->album_permissions.groups_nr < 1000;
             j++) {
            bool found = false;

            for (k = 0; k < c->album_permissions.groups_nr && !found; k++)
                found = c->album_permissions.groups[k].name &&
                        !strcmp(c->album_permissions.groups[k].name,
                                r->groups.items[j]);
            if (!found)
                ywarn(L, NULL,
                      "album_permissions.selection_rules[%zu]."
                      "groups[%zu]: no user group named '%.60s'",
                      i, j, r->groups.items[j]);
        }
    }
    ymap_release(&m);
}

static void set_defaults(struct config *c)
{
    c->skip.resume_previous = true;
    c->skip.max_items = -1;
    c->conversions.enabled = true;
    c->classification.autotag_unknown = xstrdup(DEF_UNKNOWN);
    c->classification.autotag_conflict = xstrdup(DEF_CONFLICT);
    c->duplicate_processing.album_conflict = xstrdup(DEF_DUP_ALBUM);
    c->duplicate_processing.classification_conflict = xstrdup(DEF_DUP_CLASS);
    c->duplicate_processing.classification_conflict_prefix =
        xstrdup(DEF_DUP_PREFIX);
    c->duplicate_processing.album_detection_conflict = xstrdup(DEF_DETECTION);
    c->album_date_consistency.tag = xstrdup(DEF_DATE_MISMATCH);
    c->album_date_consistency.threshold_days = 180;
}

/*
 * The top level of the configuration file: each known section to its
 * loader, unknown keys reported with their line, and the defaults of
 * sections left out, so the rest of the program sees one complete
 * struct config.
 */
static void load_root(struct yload *L, yaml_node_t *root, struct config *c)
{
    static const char *const keys[] = {"description",
                                       "server",
                                       "enable_album_name_strip",
                                       "skip",
                                       "filters",
                                       "conversions",
                                       "classification",
                                       "duplicate_processing",
                                       "album_date_consistency",
                                       "album_detection_from_folders",
                                       "performance",
                                       "album_permissions",
                                       "create_album_from_date_if_missing",
                                       NULL};
    static const char *const required[] = {
        "enable_album_name_strip",      "skip", "conversions", "classification",
        "album_detection_from_folders", NULL};
    struct ymap m;
    yaml_node_t *v;
    size_t i;

    if (ymap_read(L, root, "", keys, YMAP_STRICT, &m) < 0)
        return;
    for (i = 0; required[i]; i++)
        (void)require(L, &m, root, "", required[i],
                      strcmp(required[i], "enable_album_name_strip")
                          ? " (an empty block {} takes the defaults)"
                          : NULL);
    opt_str(L, &m, "", "description", true, &c->description);
    if ((v = ymap_get(&m, "server")) != NULL)
        load_server(L, v, c);
    opt_bool(L, &m, "", "enable_album_name_strip", &c->enable_album_name_strip);
    if ((v = ymap_get(&m, "skip")) != NULL)
        load_skip(L, v, c);
    if ((v = ymap_get(&m, "filters")) != NULL)
        load_filters(L, v, c);
    if ((v = ymap_get(&m, "conversions")) != NULL)
        load_conversions(L, v, c);
    if ((v = ymap_get(&m, "classification")) != NULL)
        load_classification(L, v, c);
    if ((v = ymap_get(&m, "duplicate_processing")) != NULL)
        load_duplicates(L, v, c);
    if ((v = ymap_get(&m, "album_date_consistency")) != NULL)
        load_date_consistency(L, v, c);
    if ((v = ymap_get(&m, "album_detection_from_folders")) != NULL)
        load_folders(L, v, c);
    if ((v = ymap_get(&m, "performance")) != NULL)
        load_performance(L, v, c);
    if ((v = ymap_get(&m, "album_permissions")) != NULL)
        load_permissions(L, v, c);
    opt_bool(L, &m, "", "create_album_from_date_if_missing",
             &c->create_album_from_date_if_missing);
    ymap_release(&m);
}

/* Line and column (1-based) of byte offset off, for refusals. */
static void position(const char *data, size_t off, size_t *line, size_t *col)
{
    size_t i;

    *line = 1;
    *col = 1;
    for (i = 0; i < off; i++) {
        if (data[i] == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)data[i] & 0xc0) != 0x80) {
            (*col)++;
        }
    }
}

/*
 * UTF-16 or UTF-32 text, told by its byte order mark or, without one, by
 * the NUL bytes around the first ASCII character (how YAML 1.1 §5.2
 * detects encodings).  NULL for anything else.
 */
static const char *wide_encoding(const unsigned char *s, size_t len)
{
    if (len >= 4 && !memcmp(s, "\0\0\xfe\xff", 4))
        return "UTF-32 (big-endian)";
    if (len >= 4 && !memcmp(s, "\xff\xfe\0\0", 4))
        return "UTF-32 (little-endian)";
    if (len >= 2 && !memcmp(s, "\xfe\xff", 2))
        return "UTF-16 (big-endian)";
    if (len >= 2 && !memcmp(s, "\xff\xfe", 2))
        return "UTF-16 (little-endian)";
    if (len >= 4 && !s[0] && !s[1] && !s[2] && s[3])
        return "UTF-32 (big-endian)";
    if (len >= 4 && s[0] && !s[1] && !s[2] && !s[3])
        return "UTF-32 (little-endian)";
    if (len >= 2 && !s[0] && s[1])
        return "UTF-16 (big-endian)";
    if (len >= 2 && s[0] && !s[1])
        return "UTF-16 (little-endian)";
    return NULL;
}

/* Empty, binary, huge or non-UTF-8 input is refused before parsing. */
static int refuse(const char *name, const char *data, size_t len,
                  struct buf *err)
{
    const char *nul, *wide, *bad_at;
    size_t i, bad, line, col;

    if (len > CONFIG_MAX_BYTES) {
        buf_addf(err,
                 "%s: the file is %zu bytes, more than the %u MB a "
                 "configuration may have; refusing to read it",
                 name, len, CONFIG_MAX_BYTES / (1024 * 1024));
        return -1;
    }
    for (i = 0; i < len && strchr(" \t\r\n", data[i]) && data[i]; i++)
        ;
    if (i == len) {
        buf_addf(err, "%s: the file is empty", name);
        return -1;
    }
    if ((wide = wide_encoding((const unsigned char *)data, len)) != NULL) {
        buf_addf(err,
                 "%s: the file is %s text; a configuration must be "
                 "UTF-8: save it as UTF-8",
                 name, wide);
        return -1;
    }
    if ((nul = memchr(data, 0, len)) != NULL) {
        position(data, (size_t)(nul - data), &line, &col);
        buf_addf(err,
                 "%s:%zu:%zu: the file contains NUL bytes: it is "
                 "binary, not a YAML configuration",
                 name, line, col);
        return -1;
    }
    bad_at = (const char *)u8_check((const uint8_t *)data, len);
    if (bad_at) {
        bad = (size_t)(bad_at - data);
        position(data, bad, &line, &col);
        buf_addf(err,
                 "%s:%zu:%zu: the file is not valid UTF-8 (byte "
                 "0x%02x); save it as UTF-8",
                 name, line, col, (unsigned char)data[bad]);
        return -1;
    }
    return 0;
}

/* Is the byte at (line, column) of libyaml's mark a tab? */
static bool tab_at(const char *data, size_t len, const yaml_mark_t *m)
{
    size_t i = 0, line = 0;

    while (i < len && line < m->line)
        if (data[i++] == '\n')
            line++;
    /* only blanks precede an indentation tab: columns are bytes there */
    return i + m->column < len && data[i + m->column] == '\t';
}

static void yaml_problem(const char *name, const char *data, size_t len,
                         const yaml_parser_t *p, struct buf *err)
{
    if (p->problem && strstr(p->problem, "cannot start any token") &&
        tab_at(data, len, &p->problem_mark)) {
        buf_addf(err,
                 "%s:%lu:%lu: invalid YAML: tabs are not allowed for "
                 "indentation in YAML (line %lu); indent with spaces",
                 name, (unsigned long)p->problem_mark.line + 1,
                 (unsigned long)p->problem_mark.column + 1,
                 (unsigned long)p->problem_mark.line + 1);
        return;
    }
    buf_addf(err, "%s:%lu:%lu: invalid YAML: %s", name,
             (unsigned long)p->problem_mark.line + 1,
             (unsigned long)p->problem_mark.column + 1,
             p->problem ? p->problem : "parse error");
    if (p->context)
        buf_addf(err, " (%s at line %lu)", p->context,
                 (unsigned long)p->context_mark.line + 1);
}

int config_load_mem(const char *name, const char *data, size_t len,
                    struct config **out, struct buf *err, struct buf *warnings)
{
    yaml_parser_t parser;
    yaml_document_t doc, extra;
    struct yload L;
    struct config *c = NULL;
    struct buf warn = BUF_INIT;
    yaml_node_t *root;
    bool parser_ok = false, doc_ok = false;
    int ret = -1;

    /* A UTF-8 byte order mark (Windows editors) is accepted, as by PyYAML */
    if (len >= 3 && !memcmp(data, "\xef\xbb\xbf", 3)) {
        data += 3;
        len -= 3;
    }
    if (refuse(name, data, len, err) < 0)
        return -1;
    if (!yaml_parser_initialize(&parser)) {
        buf_addf(err, "%s: cannot start the YAML parser", name);
        return -1;
    }
    parser_ok = true;
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    yaml_parser_set_encoding(&parser, YAML_UTF8_ENCODING);
    if (!yaml_parser_load(&parser, &doc)) {
        yaml_problem(name, data, len, &parser, err);
        goto out;
    }
    doc_ok = true;
    root = yaml_document_get_root_node(&doc);
    if (!root) {
        buf_addf(err, "%s: the file is empty (only comments)", name);
        goto out;
    }
    if (!yaml_parser_load(&parser, &extra)) {
        yaml_problem(name, data, len, &parser, err);
        goto out;
    }
    if (yaml_document_get_root_node(&extra)) {
        buf_addf(err,
                 "%s:%lu:%lu: the file holds more than one YAML "
                 "document; a configuration is one document",
                 name, (unsigned long)extra.start_mark.line + 1,
                 (unsigned long)extra.start_mark.column + 1);
        yaml_document_delete(&extra);
        goto out;
    }
    yaml_document_delete(&extra);

    memset(&L, 0, sizeof(L));
    L.name = name;
    L.doc = &doc;
    L.err = err;
    L.warn = &warn;
    L.budget = MAX_NODE_VISITS;
    L.regex_budget = MAX_REGEXES;
    c = xcalloc(1, sizeof(*c));
    c->path = xstrdup(name);
    set_defaults(c);
    if (root->type != YAML_MAPPING_NODE) {
        yerr(&L, root, "expected a mapping of settings at the top level");
        goto out;
    }
    ycheck_tags(&L);
    load_root(&L, root, c);
    if (L.nerr)
        goto out;
    if (warnings && warn.len) {
        if (warnings->len)
            buf_addch(warnings, '\n');
        buf_add(warnings, warn.buf, warn.len);
    }
    *out = c;
    c = NULL;
    ret = 0;
out:
    config_free(c);
    buf_release(&warn);
    if (doc_ok)
        yaml_document_delete(&doc);
    if (parser_ok)
        yaml_parser_delete(&parser);
    return ret;
}
