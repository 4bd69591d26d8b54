/*
 * config_dump.c: writes the effective configuration back as YAML, in
 * upstream's model order, defaults filled in.  Every string is written
 * double-quoted with escapes, so what comes out reads back unchanged
 * whatever characters it holds; the API key can be masked.
 */
#include "config/config_yaml.h"

static void q(struct buf *b, const char *s)
{
    const unsigned char *p;

    if (!s) {
        buf_addstr(b, "null");
        return;
    }
    buf_addch(b, '"');
    for (p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            buf_addf(b, "\\%c", *p);
        else if (*p == '\n')
            buf_addstr(b, "\\n");
        else if (*p == '\t')
            buf_addstr(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            buf_addf(b, "\\x%02x", *p);
        else
            buf_addch(b, *p);
    }
    buf_addch(b, '"');
}

static const char *tf(bool v)
{
    return v ? "true" : "false";
}

static void kv(struct buf *b, int ind, const char *key, const char *s)
{
    buf_addf(b, "%*s%s: ", ind, "", key);
    q(b, s);
    buf_addch(b, '\n');
}

static void list(struct buf *b, int ind, const char *key,
                 const struct config_strlist *l)
{
    size_t i;

    buf_addf(b, "%*s%s:%s\n", ind, "", key, l->nr ? "" : " []");
    for (i = 0; i < l->nr; i++) {
        buf_addf(b, "%*s- ", ind + 2, "");
        q(b, l->items[i]);
        buf_addch(b, '\n');
    }
}

static void patterns(struct buf *b, int ind, const char *key,
                     const struct config_regex *r, size_t nr)
{
    size_t i;

    buf_addf(b, "%*s%s:%s\n", ind, "", key, nr ? "" : " []");
    for (i = 0; i < nr; i++) {
        buf_addf(b, "%*s- ", ind + 2, "");
        q(b, r[i].pattern);
        buf_addch(b, '\n');
    }
}

/* A rule as the fields of a mapping at indent ind. */
static void rule(struct buf *b, int ind, const struct config_rule *r)
{
    list(b, ind, "tag_names", &r->tag_names);
    patterns(b, ind, "album_name_patterns", r->album_patterns,
             r->album_patterns_nr);
    list(b, ind, "asset_links", &r->asset_links);
    kv(b, ind, "description", r->description);
}

static void rules(struct buf *b, int ind, const char *key,
                  const struct config_rule *r, size_t nr)
{
    size_t i;

    buf_addf(b, "%*s%s:%s\n", ind, "", key, nr ? "" : " []");
    for (i = 0; i < nr; i++) {
        /* "- " then the first field on the same line */
        struct buf one = BUF_INIT;

        rule(&one, ind + 4, &r[i]);
        buf_addf(b, "%*s- %s", ind + 2, "", one.buf + ind + 4);
        buf_release(&one);
    }
}

void config_write_yaml(const struct config *c, bool mask_secret, struct buf *b)
{
    const char *access[] = {"view", "edit", "admin"};
    size_t i;

    buf_addf(b, "# effective configuration of %s\n", c->path);
    kv(b, 0, "description", c->description);
    buf_addstr(b, "server:\n");
    if (c->server.url_from_env)
        buf_addstr(b, "  # from IMMICH_URL\n");
    kv(b, 2, "host", c->server.url_from_env ? c->server.url : c->server.host);
    if (c->server.port && !c->server.url_from_env)
        buf_addf(b, "  port: %ld\n", c->server.port);
    if (c->server.key_from_env)
        buf_addstr(b, "  # from IMMICH_API_KEY\n");
    kv(b, 2, "api_key",
       mask_secret && c->server.api_key ? "***" : c->server.api_key);
    kv(b, 2, "description", c->server.description);
    buf_addf(b, "enable_album_name_strip: %s\n",
             tf(c->enable_album_name_strip));
    buf_addf(b, "skip:\n  skip_n: %ld\n  resume_previous: %s\n", c->skip.skip_n,
             tf(c->skip.resume_previous));
    if (c->skip.max_items < 0)
        buf_addstr(b, "  max_items: null\n");
    else
        buf_addf(b, "  max_items: %ld\n", c->skip.max_items);
    kv(b, 2, "description", c->skip.description);

    buf_addstr(b, "filters:\n");
    rules(b, 2, "filter_in", c->filters.filter_in, c->filters.filter_in_nr);
    rules(b, 2, "filter_out", c->filters.filter_out, c->filters.filter_out_nr);
    kv(b, 2, "description", c->filters.description);

    buf_addf(b, "conversions:\n  enabled: %s\n", tf(c->conversions.enabled));
    buf_addf(b, "  conversions:%s\n", c->conversions.nr ? "" : " []");
    for (i = 0; i < c->conversions.nr; i++) {
        const struct config_conversion *cv = &c->conversions.items[i];

        buf_addstr(b, "  - source:\n");
        rule(b, 6, &cv->source);
        buf_addstr(b, "    destination:\n");
        list(b, 6, "tag_names", &cv->dest_tags);
        list(b, 6, "album_names", &cv->dest_albums);
        buf_addf(b, "    mode: %s\n",
                 cv->mode == CONFIG_CONV_COPY ? "copy" : "move");
        kv(b, 4, "description", cv->description);
    }
    kv(b, 2, "description", c->conversions.description);

    buf_addstr(b, "classification:\n");
    rules(b, 2, "rules", c->classification.rules, c->classification.rules_nr);
    kv(b, 2, "autotag_unknown", c->classification.autotag_unknown);
    kv(b, 2, "autotag_conflict", c->classification.autotag_conflict);
    kv(b, 2, "description", c->classification.description);

    if (!c->duplicate_processing.present)
        buf_addstr(b, "# duplicate_processing absent: date correction "
                      "off, default tag names\n");
    else {
        buf_addstr(b, "duplicate_processing:\n");
        kv(b, 2, "autotag_album_conflict",
           c->duplicate_processing.album_conflict);
        kv(b, 2, "autotag_classification_conflict",
           c->duplicate_processing.classification_conflict);
        kv(b, 2, "autotag_classification_conflict_prefix",
           c->duplicate_processing.classification_conflict_prefix);
        kv(b, 2, "autotag_album_detection_conflict",
           c->duplicate_processing.album_detection_conflict);
        buf_addf(b, "  date_correction:\n    enabled: %s\n",
                 tf(c->duplicate_processing.date_correction.enabled));
        kv(b, 4, "extraction_timezone",
           c->duplicate_processing.date_correction.extraction_timezone);
        kv(b, 4, "description",
           c->duplicate_processing.date_correction.description);
        kv(b, 2, "description", c->duplicate_processing.description);
    }

    if (!c->album_date_consistency.present)
        buf_addstr(b, "# album_date_consistency absent: check off\n");
    else {
        buf_addf(b, "album_date_consistency:\n  enabled: %s\n",
                 tf(c->album_date_consistency.enabled));
        kv(b, 2, "autotag_album_date_mismatch", c->album_date_consistency.tag);
        buf_addf(b, "  threshold_days: %ld\n",
                 c->album_date_consistency.threshold_days);
        kv(b, 2, "description", c->album_date_consistency.description);
    }

    buf_addf(b, "album_detection_from_folders:\n  enabled: %s\n",
             tf(c->album_detection_from_folders.enabled));
    patterns(b, 2, "excluded_paths",
             c->album_detection_from_folders.excluded_paths,
             c->album_detection_from_folders.excluded_paths_nr);
    kv(b, 2, "description", c->album_detection_from_folders.description);

    buf_addf(b,
             "performance:\n  enable_type_checking: %s\n"
             "  fail_fast_on_asset_errors: %s\n",
             tf(c->performance.enable_type_checking),
             tf(c->performance.fail_fast_on_asset_errors));
    kv(b, 2, "description", c->performance.description);

    if (!c->album_permissions.present)
        buf_addstr(b, "# album_permissions absent: sharing sync off\n");
    else {
        buf_addf(b, "album_permissions:\n  enabled: %s\n",
                 tf(c->album_permissions.enabled));
        buf_addf(b, "  user_groups:%s\n",
                 c->album_permissions.groups_nr ? "" : " []");
        for (i = 0; i < c->album_permissions.groups_nr; i++) {
            const struct config_user_group *g = &c->album_permissions.groups[i];

            buf_addstr(b, "  - name: ");
            q(b, g->name);
            buf_addch(b, '\n');
            kv(b, 4, "description", g->description);
            list(b, 4, "members", &g->members);
        }
        buf_addf(b, "  selection_rules:%s\n",
                 c->album_permissions.rules_nr ? "" : " []");
        for (i = 0; i < c->album_permissions.rules_nr; i++) {
            const struct config_selection_rule *r =
                &c->album_permissions.rules[i];

            buf_addstr(b, "  - name: ");
            q(b, r->name);
            buf_addch(b, '\n');
            kv(b, 4, "description", r->description);
            kv(b, 4, "keyword", r->keyword);
            list(b, 4, "groups", &r->groups);
            buf_addf(b, "    access: %s\n", access[r->access]);
        }
        buf_addf(b, "  log_unmatched: %s\n",
                 tf(c->album_permissions.log_unmatched));
        kv(b, 2, "description", c->album_permissions.description);
    }
    buf_addf(b, "create_album_from_date_if_missing: %s\n",
             tf(c->create_album_from_date_if_missing));
}
