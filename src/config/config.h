/*
 * config.h: the configuration, loaded once and immutable afterwards.
 *
 * Reads the upstream immich-autotag YAML file unchanged (every key of
 * docs/configuration.md, model defaults for absent keys, YAML 1.1
 * booleans, the legacy `!!python/object/apply:...ConversionMode` tag).
 * Regexes are compiled (and JIT-compiled) at load; strings are plain
 * NUL-terminated copies owned by the struct.  Nothing evaluates a rule by
 * re-parsing text later.
 *
 *     struct config *cfg = NULL;
 *     struct buf err = BUF_INIT;
 *     if (config_load_file(path, &cfg, &err) < 0)
 *         report(err.buf);         // "file:line:col: message" lines
 *     ...
 *     config_free(cfg);
 *
 * Lists: `items`/`nr`.  A list key that is absent or null has nr == 0 and
 * `*_present` false where the difference matters.
 */
#ifndef IA_CONFIG_H
#define IA_CONFIG_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "core/buf.h"
#include "core/uuid.h"
#include "core/tzif.h"

struct config_strlist {
    char **items;
    size_t nr;
};

/* A compiled regular expression and the text it came from. */
struct config_regex {
    char *pattern;    /* as written by the user */
    pcre2_code *code; /* compiled (JIT where available) */
};

/*
 * A rule: classification rule, filter rule, or conversion source.  Matches
 * an asset when ANY criterion matches (upstream's OR semantics).
 */
struct config_rule {
    char *description;                   /* NULL when absent */
    struct config_strlist tag_names;     /* exact leaf tag names */
    struct config_regex *album_patterns; /* start-anchored (re.match) */
    size_t album_patterns_nr;
    struct config_strlist asset_links; /* as written */
    struct uuid *link_assets;          /* asset UUIDs parsed from links */
    size_t link_assets_nr;
    unsigned line; /* line of the rule in the file */
};

enum config_conv_mode { CONFIG_CONV_MOVE, CONFIG_CONV_COPY };

struct config_conversion {
    struct config_rule source;
    struct config_strlist dest_tags;   /* destination.tag_names */
    struct config_strlist dest_albums; /* destination.album_names */
    enum config_conv_mode mode;        /* default move */
    char *description;
    unsigned line;
};

enum config_access {
    CONFIG_ACCESS_VIEW,
    CONFIG_ACCESS_EDIT,
    CONFIG_ACCESS_ADMIN
};

struct config_user_group {
    char *name;
    char *description;
    struct config_strlist members; /* emails */
};

struct config_selection_rule {
    char *name;
    char *description;
    char *keyword;
    struct config_strlist groups;
    enum config_access access; /* default view; admin maps to viewer */
};

struct config {
    char *path; /* file it was loaded from ("<memory>" otherwise) */
    char *description;

    struct {
        char *url;     /* effective base URL without "/api" and no final
                          '/', e.g. "http://photos.lan:2283"; built from
                          host/port or IMMICH_URL */
        char *host;    /* as written (may be NULL when IMMICH_URL set) */
        long port;     /* as written, 0 when absent */
        char *api_key; /* secret: never print it */
        char *description;
        bool url_from_env, key_from_env;
    } server;

    bool enable_album_name_strip;

    struct {
        long skip_n;          /* default 0 */
        bool resume_previous; /* default true */
        long max_items;       /* default -1 = unlimited (null/negative) */
        char *description;
    } skip;

    struct {
        bool present;
        struct config_rule *filter_in;
        size_t filter_in_nr;
        struct config_rule *filter_out;
        size_t filter_out_nr;
        char *description;
    } filters;

    struct {
        bool enabled; /* default true */
        struct config_conversion *items;
        size_t nr;
        char *description;
    } conversions;

    struct {
        struct config_rule *rules;
        size_t rules_nr;
        char *autotag_unknown;  /* NULL = feature off (explicit null) */
        char *autotag_conflict; /* NULL = feature off (explicit null) */
        char *description;
    } classification;

    struct {
        bool present;                         /* block in the file */
        char *album_conflict;                 /* NULL = off */
        char *classification_conflict;        /* NULL = off */
        char *classification_conflict_prefix; /* NULL = no per-group tag */
        char *album_detection_conflict;       /* NULL = off */
        struct {
            bool enabled;
            char *extraction_timezone; /* validated IANA name */
            /* that zone read once at load (core/tzif.h): the rules ask
             * it questions, nothing reads the tz database later */
            struct tzif extraction_zone;
            char *description;
        } date_correction;
        char *description;
    } duplicate_processing;

    struct {
        bool present;
        bool enabled;        /* default true */
        char *tag;           /* autotag_album_date_mismatch */
        long threshold_days; /* default 180 */
        char *description;
    } album_date_consistency;

    struct {
        bool enabled;
        struct config_regex *excluded_paths; /* re.search, caseless */
        size_t excluded_paths_nr;
        char *description;
    } album_detection_from_folders;

    struct {
        bool enable_type_checking; /* accepted, ignored */
        bool fail_fast_on_asset_errors;
        char *description;
    } performance;

    struct {
        bool enabled;
        struct config_user_group *groups;
        size_t groups_nr;
        struct config_selection_rule *rules;
        size_t rules_nr;
        bool log_unmatched;
        char *description;
        bool present; /* block in the file (and not null) */
    } album_permissions;

    bool create_album_from_date_if_missing;
};

/* Files larger than this are refused before parsing. */
#define CONFIG_MAX_BYTES (10u * 1024 * 1024)
/* At most this many problems are reported for one file. */
#define CONFIG_MAX_ERRORS 20

/*
 * Loads and validates a YAML configuration file.  On success *out owns a
 * new config and 0 is returned.  On failure -1 is returned and err holds
 * one message per problem, each "file:line:col: message" (several lines if
 * several problems were found), and *out is untouched.  Warnings (e.g. a
 * key file others can read) go to `warnings` when it is not NULL.
 */
int config_load_file(const char *path, struct config **out, struct buf *err,
                     struct buf *warnings);
/* Same from memory; `name` is used in messages. */
int config_load_mem(const char *name, const char *data, size_t len,
                    struct config **out, struct buf *err, struct buf *warnings);
/*
 * Applies IMMICH_URL / IMMICH_API_KEY from the environment (they win over
 * the file).  Returns -1 with a message if IMMICH_URL is not a valid
 * http(s) URL.
 */
int config_apply_env(struct config *cfg, struct buf *err);
/*
 * Same with explicit values (NULL = variable unset); config_apply_env()
 * calls it with getenv().  Tests use it to avoid touching the environment.
 */
int config_apply_env_values(struct config *cfg, const char *url,
                            const char *api_key, struct buf *err);
/*
 * Succeeds when the configuration names a server (server.url) and an API
 * key, after the environment was applied.  Otherwise err says what to set
 * and where ("set server.api_key in <file> or IMMICH_API_KEY"), one line
 * per missing item.  The loader itself does not require them, because the
 * environment may still supply them.
 */
int config_require_server(const struct config *cfg, struct buf *err);
/*
 * True while host or API key still hold a template placeholder such as
 * "<YOUR_HOST_OR_IP_HERE>" (anything with '<' in it): the file loads, but
 * `check` and `run` must say "fill in your server" instead of connecting.
 */
bool config_server_is_placeholder(const struct config *cfg);
/* Frees cfg and everything it owns.  Accepts NULL. */
void config_free(struct config *cfg);

/*
 * Appends the effective configuration (defaults filled in, environment
 * applied) to out as YAML that config_load_mem() reads back to the same
 * values.  With mask_secret the API key is written as "***".
 */
void config_write_yaml(const struct config *cfg, bool mask_secret,
                       struct buf *out);

/*
 * Extracts the asset UUID from one `asset_links` entry the way upstream
 * does: a bare UUID (braces, "urn:uuid:" and missing hyphens tolerated),
 * or "/photos/<uuid>" anywhere in a URL (including
 * "/albums/<id>/photos/<id>").  Returns 0 and sets *out, or -1 when the
 * string names no asset (*names_album then tells whether it named an
 * album only; may be NULL).
 */
int config_parse_asset_link(const char *s, size_t len, struct uuid *out,
                            bool *names_album);

/* Does the rule match?  Compiled regex against a NUL-free subject. */
bool config_regex_match(const struct config_regex *re, const char *subject,
                        size_t len);

#endif
