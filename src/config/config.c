/*
 * config.c: the configuration's life outside the YAML walk: reading the
 * file (with the permission check for the API key), the server URL, the
 * environment overrides, asset-link parsing, regex matching and freeing.
 */
#include "config/config_yaml.h"

#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>

#include "core/fsutil.h"
#include "core/numparse.h"
#include "core/secure.h"

int config_load_file(const char *path, struct config **out, struct buf *err,
                     struct buf *warnings)
{
    struct buf data = BUF_INIT, why = BUF_INIT;
    struct config *c = NULL;
    struct stat st;
    int ret = -1;

    if (stat(path, &st) < 0) {
        buf_addf(err, "%s: cannot read the configuration: %s", path,
                 strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        buf_addf(err, "%s: is a directory, not a configuration file", path);
        goto out;
    }
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > CONFIG_MAX_BYTES) {
        buf_addf(err,
                 "%s: the file is %ju bytes, more than the %u MB a "
                 "configuration may have; refusing to read it",
                 path, (uintmax_t)st.st_size, CONFIG_MAX_BYTES / (1024 * 1024));
        goto out;
    }
    /* one byte over the cap lets config_load_mem() say "too big" */
    if (fs_read_file(path, CONFIG_MAX_BYTES + 1, &data, &why) < 0) {
        buf_addf(err, "%s: cannot read the configuration: %s", path, why.buf);
        goto out;
    }
    if (config_load_mem(path, data.buf, data.len, &c, err, warnings) < 0)
        goto out;
    if (warnings && c->server.api_key && *c->server.api_key &&
        !config_server_is_placeholder(c) && S_ISREG(st.st_mode) &&
        (st.st_mode & (S_IRGRP | S_IROTH))) {
        if (warnings->len)
            buf_addch(warnings, '\n');
        buf_addf(warnings,
                 "%s: holds an API key but other users can read "
                 "it; run: chmod 600 %s",
                 path, path);
    }
    *out = c;
    ret = 0;
out:
    buf_release(&data);
    buf_release(&why);
    return ret;
}

static bool has_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++)
        if (tolower((unsigned char)*s) != *prefix)
            return false;
    return true;
}

/*
 * "http://h:1/x/" -> scheme "http", authority "h:1", path "/x".  Trailing
 * slashes and a final "/api" (the API base users often paste) go.
 */
int config_build_url(const char *host, long port, char **url, struct buf *why)
{
    const char *scheme = "http", *rest = host, *slash, *colon;
    struct buf auth = BUF_INIT, path = BUF_INIT, u = BUF_INIT;
    int ret = -1;

    if (!*host) {
        buf_addstr(why, "is empty");
        goto out;
    }
    if (strpbrk(host, " \t\r\n\f\v")) {
        buf_addstr(why, "may not contain blanks");
        goto out;
    }
    if (has_prefix_ci(host, "https://")) {
        scheme = "https";
        rest = host + 8;
    } else if (has_prefix_ci(host, "http://")) {
        rest = host + 7;
    } else if (strstr(host, "://")) {
        buf_addf(why, "'%.80s' has a scheme other than http:// or https://",
                 host);
        goto out;
    } else if (strchr(host, '/')) {
        buf_addf(why, "'%.80s' is neither a host name nor an http(s):// URL",
                 host);
        goto out;
    }
    slash = strchr(rest, '/');
    buf_add(&auth, rest, slash ? (size_t)(slash - rest) : strlen(rest));
    if (slash)
        buf_addstr(&path, slash);
    while (path.len && path.buf[path.len - 1] == '/')
        buf_setlen(&path, path.len - 1);
    if (path.len >= 4 && !strcmp(path.buf + path.len - 4, "/api"))
        buf_setlen(&path, path.len - 4);
    /* a bare IPv6 address gets its brackets */
    if (rest == host && strchr(auth.buf, ':') &&
        strchr(auth.buf, ':') != strrchr(auth.buf, ':') && auth.buf[0] != '[') {
        struct buf b = BUF_INIT;

        buf_addf(&b, "[%s]", auth.buf);
        buf_release(&auth);
        auth = b;
    }
    if (!auth.len || auth.buf[0] == ':') {
        buf_addf(why, "'%.80s' names no host", host);
        goto out;
    }
    colon = strrchr(auth.buf, ':');
    if (colon && strchr(colon, ']'))
        colon = NULL;
    if (colon) {
        int64_t p;

        if (num_parse_i64(colon + 1, strlen(colon + 1), 1, 65535, &p) < 0) {
            buf_addf(why, "'%.80s' has an invalid port", host);
            goto out;
        }
        if (port && p != port) {
            buf_addf(why, "'%.80s' names port %ld but server.port is %ld", host,
                     (long)p, port);
            goto out;
        }
    } else if (port) {
        buf_addf(&auth, ":%ld", port);
    } else if (rest == host) {
        buf_addstr(why, "a bare host needs server.port (or write the host as "
                        "a URL: http://host:2283)");
        goto out;
    }
    buf_addf(&u, "%s://%s%s", scheme, auth.buf, path.buf);
    *url = buf_detach(&u, NULL);
    ret = 0;
out:
    buf_release(&auth);
    buf_release(&path);
    buf_release(&u);
    return ret;
}

int config_apply_env_values(struct config *cfg, const char *url,
                            const char *api_key, struct buf *err)
{
    struct buf why = BUF_INIT;
    char *u = NULL;

    if (url && *url) {
        if (!has_prefix_ci(url, "http://") && !has_prefix_ci(url, "https://")) {
            buf_addf(err,
                     "IMMICH_URL: '%.80s' must start with http:// or "
                     "https://",
                     url);
            return -1;
        }
        if (config_build_url(url, 0, &u, &why) < 0) {
            buf_addf(err, "IMMICH_URL: %s", why.buf);
            buf_release(&why);
            return -1;
        }
        free(cfg->server.url);
        cfg->server.url = u;
        cfg->server.url_from_env = true;
    }
    if (api_key && *api_key) {
        secure_free_str(cfg->server.api_key);
        cfg->server.api_key = xstrdup(api_key);
        cfg->server.key_from_env = true;
    }
    return 0;
}

int config_apply_env(struct config *cfg, struct buf *err)
{
    return config_apply_env_values(cfg, getenv("IMMICH_URL"),
                                   getenv("IMMICH_API_KEY"), err);
}

int config_require_server(const struct config *cfg, struct buf *err)
{
    int ret = 0;

    if (!cfg->server.url) {
        buf_addf(err,
                 "%s: no server: set server.host and server.port in "
                 "this file, or the IMMICH_URL environment variable "
                 "(e.g. http://photos.lan:2283)",
                 cfg->path);
        ret = -1;
    }
    if (!cfg->server.api_key || !*cfg->server.api_key) {
        if (ret)
            buf_addch(err, '\n');
        buf_addf(err,
                 "%s: no API key: set server.api_key in this file, or "
                 "the IMMICH_API_KEY environment variable",
                 cfg->path);
        ret = -1;
    }
    return ret;
}

bool config_server_is_placeholder(const struct config *cfg)
{
    return (cfg->server.url && strchr(cfg->server.url, '<')) ||
           (cfg->server.api_key && strchr(cfg->server.api_key, '<'));
}

/* Python's uuid.UUID(): "urn:", "uuid:", braces and hyphens are dropped. */
static int parse_lenient_uuid(const char *s, size_t len, struct uuid *out)
{
    char hex[33], canon[UUID_STR_LEN + 1];
    size_t i = 0, n = 0;

    if (len >= 4 && !memcmp(s, "urn:", 4)) {
        s += 4;
        len -= 4;
    }
    if (len >= 5 && !memcmp(s, "uuid:", 5)) {
        s += 5;
        len -= 5;
    }
    while (len && (*s == '{' || *s == '}')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == '{' || s[len - 1] == '}'))
        len--;
    for (i = 0; i < len; i++) {
        if (s[i] == '-')
            continue;
        if (!isxdigit((unsigned char)s[i]) || n == 32)
            return -1;
        hex[n++] = s[i];
    }
    if (n != 32)
        return -1;
    snprintf(canon, sizeof(canon), "%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8,
             hex + 12, hex + 16, hex + 20);
    return uuid_parse(canon, UUID_STR_LEN, out);
}

/* "/<seg>/" followed by 36 hex-or-dash characters; returns them or NULL. */
static const char *find_id(const char *s, size_t len, const char *seg)
{
    size_t sl = strlen(seg), i, k;

    for (i = 0; i + sl + 36 <= len; i++) {
        if (memcmp(s + i, seg, sl))
            continue;
        for (k = 0; k < 36; k++)
            if (!isxdigit((unsigned char)s[i + sl + k]) && s[i + sl + k] != '-')
                break;
        if (k == 36)
            return s + i + sl;
    }
    return NULL;
}

int config_parse_asset_link(const char *s, size_t len, struct uuid *out,
                            bool *names_album)
{
    const char *id;

    if (names_album)
        *names_album = false;
    if (parse_lenient_uuid(s, len, out) == 0)
        return 0;
    id = find_id(s, len, "/photos/");
    if (id && parse_lenient_uuid(id, 36, out) == 0)
        return 0;
    if (names_album)
        *names_album = find_id(s, len, "/albums/") != NULL;
    return -1;
}

bool config_regex_match(const struct config_regex *re, const char *subject,
                        size_t len)
{
    pcre2_match_data *md;
    int rc;

    if (!re || !re->code)
        return false;
    md = pcre2_match_data_create(1, NULL);
    if (!md)
        return false;
    rc = pcre2_match(re->code, (PCRE2_SPTR)subject, len, 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0; /* no match, bad UTF-8 subject or limits: no */
}

static void strlist_free(struct config_strlist *l)
{
    size_t i;

    for (i = 0; i < l->nr; i++)
        free(l->items[i]);
    free(l->items);
}

static void regexes_free(struct config_regex *r, size_t nr)
{
    size_t i;

    for (i = 0; i < nr; i++) {
        free(r[i].pattern);
        pcre2_code_free(r[i].code);
    }
    free(r);
}

static void rule_release(struct config_rule *r)
{
    free(r->description);
    strlist_free(&r->tag_names);
    regexes_free(r->album_patterns, r->album_patterns_nr);
    strlist_free(&r->asset_links);
    free(r->link_assets);
}

static void rules_free(struct config_rule *r, size_t nr)
{
    size_t i;

    for (i = 0; i < nr; i++)
        rule_release(&r[i]);
    free(r);
}

void config_free(struct config *c)
{
    size_t i;

    if (!c)
        return;
    free(c->path);
    free(c->description);
    free(c->server.url);
    free(c->server.host);
    secure_free_str(c->server.api_key);
    free(c->server.description);
    free(c->skip.description);
    rules_free(c->filters.filter_in, c->filters.filter_in_nr);
    rules_free(c->filters.filter_out, c->filters.filter_out_nr);
    free(c->filters.description);
    for (i = 0; i < c->conversions.nr; i++) {
        struct config_conversion *cv = &c->conversions.items[i];

        rule_release(&cv->source);
        strlist_free(&cv->dest_tags);
        strlist_free(&cv->dest_albums);
        free(cv->description);
    }
    free(c->conversions.items);
    free(c->conversions.description);
    rules_free(c->classification.rules, c->classification.rules_nr);
    free(c->classification.autotag_unknown);
    free(c->classification.autotag_conflict);
    free(c->classification.description);
    free(c->duplicate_processing.album_conflict);
    free(c->duplicate_processing.classification_conflict);
    free(c->duplicate_processing.classification_conflict_prefix);
    free(c->duplicate_processing.album_detection_conflict);
    free(c->duplicate_processing.date_correction.extraction_timezone);
    tzif_release(&c->duplicate_processing.date_correction.extraction_zone);
    free(c->duplicate_processing.date_correction.description);
    free(c->duplicate_processing.description);
    free(c->album_date_consistency.tag);
    free(c->album_date_consistency.description);
    regexes_free(c->album_detection_from_folders.excluded_paths,
                 c->album_detection_from_folders.excluded_paths_nr);
    free(c->album_detection_from_folders.description);
    free(c->performance.description);
    for (i = 0; i < c->album_permissions.groups_nr; i++) {
        free(c->album_permissions.groups[i].name);
        free(c->album_permissions.groups[i].description);
        strlist_free(&c->album_permissions.groups[i].members);
    }
    free(c->album_permissions.groups);
    for (i = 0; i < c->album_permissions.rules_nr; i++) {
        struct config_selection_rule *r = &c->album_permissions.rules[i];

        free(r->name);
        free(r->description);
        free(r->keyword);
        strlist_free(&r->groups);
    }
    free(c->album_permissions.rules);
    free(c->album_permissions.description);
    free(c);
}
