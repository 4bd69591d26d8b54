/*
 * test_config.c: the configuration loader.  The upstream template, every
 * model default, each class of error with its exact message, YAML 1.1 and
 * pydantic coercions, the legacy python tag, asset links, server URLs,
 * environment overrides and the YAML dump round trip.
 */
#include "config/config_yaml.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>
#include <unistd.h>

#include "core/fsutil.h"

#define MINIMAL_SERVER                                                         \
    "server: {host: photos.lan, port: 2283, api_key: test-key-xyz}\n"
#define MINIMAL_REST                                                           \
    "enable_album_name_strip: false\n"                                         \
    "skip: {}\n"                                                               \
    "conversions: {}\n"                                                        \
    "classification: {}\n"                                                     \
    "album_detection_from_folders: {enabled: false, excluded_paths: []}\n"
#define MINIMAL MINIMAL_SERVER MINIMAL_REST

struct result {
    struct config *cfg;
    struct buf err, warn;
    int rc;
};

static void load(struct result *r, const char *yaml)
{
    r->cfg = NULL;
    buf_init(&r->err, 0);
    buf_init(&r->warn, 0);
    r->rc = config_load_mem("t.yaml", yaml, strlen(yaml), &r->cfg, &r->err,
                            &r->warn);
}

static void done(struct result *r)
{
    config_free(r->cfg);
    buf_release(&r->err);
    buf_release(&r->warn);
}

/* Loads yaml, expects failure with exactly the message `want`. */
static void expect_error(const char *yaml, const char *want)
{
    struct result r;

    load(&r, yaml);
    assert_int_equal(r.rc, -1);
    assert_null(r.cfg);
    assert_string_equal(r.err.buf, want);
    done(&r);
}

static void expect_ok(struct result *r, const char *yaml)
{
    load(r, yaml);
    if (r->rc != 0)
        fprintf(stderr, "unexpected errors:\n%s\n", r->err.buf);
    assert_int_equal(r->rc, 0);
    assert_non_null(r->cfg);
}

static void test_upstream_template_loads_without_errors(void **state)
{
    struct config *c = NULL;
    struct buf err = BUF_INIT, warn = BUF_INIT;
    struct config_rule *date;

    (void)state;
    assert_int_equal(config_load_file(IA_TEST_DATA
                                      "/config/upstream-template.yaml",
                                      &c, &err, &warn),
                     0);
    assert_string_equal(err.buf, "");
    assert_string_equal(warn.buf, "");
    assert_string_equal(c->server.url, "http://<YOUR_HOST_OR_IP_HERE>:2283");
    assert_true(config_server_is_placeholder(c));
    assert_true(c->enable_album_name_strip);
    assert_int_equal(c->skip.max_items, 1000000);
    assert_true(c->filters.present);
    assert_int_equal(c->filters.filter_in_nr, 0);
    assert_int_equal(c->conversions.nr, 2);
    assert_int_equal(c->conversions.items[0].mode, CONFIG_CONV_MOVE);
    assert_int_equal(c->conversions.items[0].source.tag_names.nr, 2);
    assert_int_equal(c->conversions.items[0].dest_albums.nr, 1);
    assert_int_equal(c->conversions.items[0].dest_tags.nr, 0);
    assert_int_equal(c->classification.rules_nr, 6);
    date = &c->classification.rules[5];
    assert_int_equal(date->album_patterns_nr, 1);
    assert_true(
        config_regex_match(&date->album_patterns[0], "2024-07 Beach", 13));
    assert_true(config_regex_match(&date->album_patterns[0], "2024-", 5));
    assert_false(
        config_regex_match(&date->album_patterns[0], "2024 Summer", 11));
    assert_false(config_regex_match(&date->album_patterns[0], "x2024-07", 8));
    assert_string_equal(
        c->duplicate_processing.date_correction.extraction_timezone,
        "Europe/Madrid");
    assert_true(c->album_date_consistency.enabled);
    assert_int_equal(c->album_date_consistency.threshold_days, 180);
    assert_int_equal(c->album_detection_from_folders.excluded_paths_nr, 1);
    assert_true(c->performance.enable_type_checking);
    assert_true(c->album_permissions.enabled);
    assert_int_equal(c->album_permissions.groups_nr, 2);
    assert_int_equal(c->album_permissions.groups[0].members.nr, 3);
    assert_int_equal(c->album_permissions.rules_nr, 2);
    assert_int_equal(c->album_permissions.rules[1].access, CONFIG_ACCESS_VIEW);
    assert_true(c->create_album_from_date_if_missing);
    config_free(c);
    buf_release(&err);
    buf_release(&warn);
}

static void test_minimal_file_takes_every_model_default(void **state)
{
    struct result r;
    struct config *c;

    (void)state;
    expect_ok(&r, MINIMAL);
    c = r.cfg;
#define OFF(field)                                                             \
    {                                                                          \
#field, c->field                                                       \
    }
    const struct {
        const char *name;
        bool on;
    } off[] = {
        OFF(album_detection_from_folders.enabled),
        OFF(performance.enable_type_checking),
        OFF(performance.fail_fast_on_asset_errors),
        OFF(album_permissions.present),
        OFF(album_permissions.enabled),
        OFF(album_permissions.log_unmatched),
        OFF(create_album_from_date_if_missing),
    };
#undef OFF

    assert_string_equal(r.warn.buf, "");
    assert_null(c->description);
    assert_string_equal(c->server.url, "http://photos.lan:2283");
    assert_false(config_server_is_placeholder(c));
    assert_int_equal(c->skip.skip_n, 0);
    assert_true(c->skip.resume_previous);
    assert_int_equal(c->skip.max_items, -1);
    assert_false(c->filters.present);
    assert_true(c->conversions.enabled);
    assert_int_equal(c->conversions.nr, 0);
    assert_int_equal(c->classification.rules_nr, 0);
    assert_string_equal(c->classification.autotag_unknown,
                        "autotag_output_unknown");
    assert_string_equal(c->classification.autotag_conflict,
                        "autotag_output_conflict");
    /* absent duplicate_processing: off, default tag names
     * (docs/upstream-behavior.md §8 item 5) */
    assert_false(c->duplicate_processing.present);
    assert_false(c->duplicate_processing.date_correction.enabled);
    assert_string_equal(c->duplicate_processing.album_conflict,
                        "autotag_output_duplicate_asset_album_conflict");
    assert_string_equal(
        c->duplicate_processing.classification_conflict,
        "autotag_output_duplicate_asset_classification_conflict");
    assert_string_equal(
        c->duplicate_processing.classification_conflict_prefix,
        "autotag_output_duplicate_asset_classification_conflict_");
    assert_string_equal(c->duplicate_processing.album_detection_conflict,
                        "autotag_output_album_detection_conflict");
    assert_false(c->album_date_consistency.present);
    assert_false(c->album_date_consistency.enabled);
    assert_string_equal(c->album_date_consistency.tag,
                        "autotag_output_album_date_mismatch");
    assert_int_equal(c->album_date_consistency.threshold_days, 180);
    for (size_t i = 0; i < ARRAY_SIZE(off); i++)
        if (off[i].on)
            fail_msg("%s is on", off[i].name);
    done(&r);
}

static void test_present_blocks_take_their_defaults(void **state)
{
    struct result r;

    (void)state;
    expect_ok(&r, MINIMAL "album_date_consistency: {}\n"
                          "album_permissions: {}\n"
                          "duplicate_processing:\n"
                          "  date_correction: {enabled: true, "
                          "extraction_timezone: UTC}\n");
    assert_true(r.cfg->album_date_consistency.enabled);
    assert_true(r.cfg->album_permissions.present);
    assert_false(r.cfg->album_permissions.enabled);
    assert_true(r.cfg->duplicate_processing.present);
    assert_true(r.cfg->duplicate_processing.date_correction.enabled);
    done(&r);
}

static void test_empty_date_mismatch_tag_falls_back_like_upstream(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, MINIMAL "album_date_consistency:\n"
                          "  autotag_album_date_mismatch: ''\n");
    assert_string_equal(r.cfg->album_date_consistency.tag,
                        "autotag_album_date_mismatch");
    done(&r);
}

static void test_unknown_key_names_path_position_and_suggestion(void **st)
{
    (void)st;
    expect_error(MINIMAL "clasification: {}\n",
                 "t.yaml:7:1: unknown key 'clasification' (did you mean "
                 "'classification'?)");
    expect_error(MINIMAL_SERVER "enable_album_name_strip: false\n"
                                "skip: {skipn: 3}\n"
                                "conversions: {}\n"
                                "classification: {}\n"
                                "album_detection_from_folders: {enabled: "
                                "false, excluded_paths: []}\n",
                 "t.yaml:3:8: unknown key 'skip.skipn' (did you mean "
                 "'skip_n'?)");
    expect_error(MINIMAL "filters:\n  filter_in:\n  - tag_name: [a]\n",
                 "t.yaml:9:5: unknown key 'filters.filter_in[0].tag_name' "
                 "(did you mean 'tag_names'?)");
    expect_error(MINIMAL "filters:\n  filter_in:\n  - {tag_names: []}\n",
                 "t.yaml:9:5: filters.filter_in[0]: a rule needs at least "
                 "one of tag_names, album_name_patterns or asset_links");
    expect_error(MINIMAL "zzz: 1\n", "t.yaml:7:1: unknown key 'zzz'");
}

static void test_unknown_key_in_lenient_block_is_a_warning(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, MINIMAL "performance: {enable_type_checkin: true}\n");
    assert_string_equal(r.warn.buf,
                        "t.yaml:7:15: key 'performance.enable_type_checkin' "
                        "is not used (did you mean 'enable_type_checking'?)");
    done(&r);
}

static void test_wrong_types_name_path_line_and_expectation(void **st)
{
    (void)st;
    expect_error(MINIMAL_SERVER "enable_album_name_strip: maybe\n"
                                "skip: {skip_n: abc}\n"
                                "conversions: {enabled: [1]}\n"
                                "classification: {rules: {}}\n"
                                "album_detection_from_folders: {enabled: "
                                "false, excluded_paths: []}\n",
                 "t.yaml:2:26: enable_album_name_strip: expected a boolean "
                 "(true or false), got 'maybe'\n"
                 "t.yaml:3:16: skip.skip_n: expected an integer, got 'abc'\n"
                 "t.yaml:4:24: conversions.enabled: expected a boolean (true "
                 "or false), got a list\n"
                 "t.yaml:5:25: classification.rules: expected a list, got a "
                 "mapping");
    expect_error(MINIMAL "album_permissions:\n"
                         "  selection_rules:\n"
                         "  - {name: a, keyword: b, groups: [], access: "
                         "owner}\n",
                 "t.yaml:9:47: album_permissions.selection_rules[0].access: "
                 "expected view, edit or admin, got 'owner'");
    expect_error(MINIMAL "conversions:\n  conversions:\n"
                         "  - source: {tag_names: [a]}\n"
                         "    destination: {tag_names: [b]}\n"
                         "    mode: Move\n",
                 "t.yaml:11:11: conversions.conversions[0].mode: expected "
                 "'move' or 'copy', got 'Move'");
    expect_error(MINIMAL "classification: {rules: [{tag_names: [yes]}]}\n",
                 "t.yaml:7:39: classification.rules[0].tag_names[0]: "
                 "expected a string (quote it: \"yes\"), got 'yes'");
    expect_error(MINIMAL "skip: {skip_n: 1.5}\n",
                 "t.yaml:7:16: skip.skip_n: expected an integer, got '1.5'");
}

static void test_missing_required_keys_are_named(void **st)
{
    (void)st;
    expect_error(MINIMAL_SERVER "enable_album_name_strip: true\n",
                 "t.yaml:1:1: missing required key 'skip' (an empty block "
                 "{} takes the defaults)\n"
                 "t.yaml:1:1: missing required key 'conversions' (an empty "
                 "block {} takes the defaults)\n"
                 "t.yaml:1:1: missing required key 'classification' (an "
                 "empty block {} takes the defaults)\n"
                 "t.yaml:1:1: missing required key "
                 "'album_detection_from_folders' (an empty block {} takes "
                 "the defaults)");
}

static void test_invalid_regex_names_rule_pattern_message_offset(void **st)
{
    (void)st;
    expect_error(MINIMAL "classification:\n  rules:\n"
                         "  - tag_names: [a]\n"
                         "  - album_name_patterns: ['ok', '^(\\d{4}']\n",
                 "t.yaml:10:33: classification.rules[1].album_name_patterns"
                 "[1]: invalid regex '^(\\d{4}': missing ), unterminated "
                 "subpattern at position 1");
}

/* One album pattern, loaded from a configuration as a user writes it. */
static void load_pattern(struct result *r, const char *yaml_pattern)
{
    struct buf y = BUF_INIT;

    buf_addf(&y,
             MINIMAL_SERVER "enable_album_name_strip: false\n"
                            "skip: {}\nconversions: {}\n"
                            "classification:\n  rules:\n"
                            "  - album_name_patterns: [%s]\n"
                            "album_detection_from_folders: "
                            "{enabled: false, excluded_paths: []}\n",
             yaml_pattern);
    expect_ok(r, y.buf);
    buf_release(&y);
}

static bool album_matches(const struct result *r, const char *name)
{
    return config_regex_match(
        &r->cfg->classification.rules[0].album_patterns[0], name, strlen(name));
}

/*
 * Python-only constructs mean in a configuration what they mean to the
 * Python tool (re.match on the album name).  Before pyre, PCRE2 read
 * {,4} as text, \Z as "before a final newline", [[:digit:]] as a POSIX
 * class, and refused \u, \N{...}, (?a) and (?P=name).
 */
static void test_album_patterns_have_python_meaning(void **st)
{
    static const struct {
        const char *pattern; /* YAML single-quoted */
        const char *name;
        bool match;
    } cases[] = {
        {"'x{,4}y'", "xxy", true},
        {"'x{,4}y'", "x{,4}y", false},
        {"'2024\\Z'", "2024\n", false},
        {"'2024\\Z'", "2024", true},
        {"'[[:digit:]]'", "7", false},
        {"'[[:digit:]]'", "d]", true},
        {"'\\u00c9t\\u00e9'", "\xc3\x89t\xc3\xa9 \xc3\xa0 Paris", true},
        {"'\\N{LATIN CAPITAL LETTER E WITH ACUTE}t'", "\xc3\x89t\xc3\xa9",
         true},
        {"'(?a)\\d+ '", "\xd9\xa3 trip", false}, /* Arabic-Indic 3 */
        {"'\\d+ '", "\xd9\xa3 trip", true},
        {"'(?u)\\w'", "\xc3\xa9", true},
        {"'(?P<y>\\d{2})-(?P=y)'", "12-12", true},
        {"'(?P<y>\\d{2})-(?P=y)'", "12-13", false},
        {"'\\s'", "\x1c", true}, /* str.isspace() */
    };
    size_t i;

    (void)st;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct result r;

        load_pattern(&r, cases[i].pattern);
        if (album_matches(&r, cases[i].name) != cases[i].match)
            fail_msg("%s on '%s': expected %s", cases[i].pattern, cases[i].name,
                     cases[i].match ? "a match" : "none");
        done(&r);
    }
}

static void test_python_regex_errors_are_pythons(void **st)
{
    (void)st;
    expect_error(MINIMAL "classification:\n  rules:\n"
                         "  - album_name_patterns: ['\\q']\n",
                 "t.yaml:9:27: classification.rules[0].album_name_patterns"
                 "[0]: invalid regex '\\q': bad escape \\q at position 0");
    expect_error(MINIMAL "classification:\n  rules:\n"
                         "  - album_name_patterns: ['a{99999}']\n",
                 "t.yaml:9:27: classification.rules[0].album_name_patterns"
                 "[0]: invalid regex 'a{99999}': a repeat count above 65535 "
                 "cannot be compiled by PCRE2 at position 1");
}

static void test_utf8_bom_is_accepted(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, "\xef\xbb\xbf" MINIMAL);
    assert_string_equal(r.cfg->server.api_key, "test-key-xyz");
    done(&r);
}

static void test_tab_indentation_says_so(void **st)
{
    (void)st;
    expect_error(MINIMAL_SERVER "skip:\n\tskip_n: 3\n",
                 "t.yaml:3:1: invalid YAML: tabs are not allowed for "
                 "indentation in YAML (line 3); indent with spaces");
}

static void test_utf16_file_names_its_encoding(void **st)
{
    static const char le[] = "\xff\xfes\0e\0r\0";
    static const char be_nobom[] = "\0s\0e\0r";
    struct result r;

    (void)st;
    r.cfg = NULL;
    buf_init(&r.err, 0);
    buf_init(&r.warn, 0);
    assert_int_equal(
        config_load_mem("t.yaml", le, sizeof(le) - 1, &r.cfg, &r.err, &r.warn),
        -1);
    assert_string_equal(r.err.buf, "t.yaml: the file is UTF-16 "
                                   "(little-endian) text; a configuration "
                                   "must be UTF-8: save it as UTF-8");
    buf_reset(&r.err);
    assert_int_equal(config_load_mem("t.yaml", be_nobom, sizeof(be_nobom) - 1,
                                     &r.cfg, &r.err, &r.warn),
                     -1);
    assert_string_equal(r.err.buf, "t.yaml: the file is UTF-16 (big-endian) "
                                   "text; a configuration must be UTF-8: "
                                   "save it as UTF-8");
    done(&r);
}

/* PyYAML reads "!!float 180" as 180.0 and pydantic takes it as 180; a
 * fraction is refused, and the message shows the tag that made it one. */
static void test_float_tag_where_an_integer_is_expected(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r,
              MINIMAL_SERVER "enable_album_name_strip: false\n"
                             "skip: {skip_n: !!float 180}\nconversions: {}\n"
                             "classification: {}\n"
                             "album_detection_from_folders: {enabled: false, "
                             "excluded_paths: []}\n");
    assert_int_equal(r.cfg->skip.skip_n, 180);
    done(&r);
    expect_error(MINIMAL_SERVER "enable_album_name_strip: false\n"
                                "skip: {skip_n: !!float 180.5}\n"
                                "conversions: {}\nclassification: {}\n"
                                "album_detection_from_folders: "
                                "{enabled: false, excluded_paths: []}\n",
                 "t.yaml:3:16: skip.skip_n: expected an integer, got "
                 "'180.5' (tagged !!float)");
}

static void test_all_problems_of_a_file_are_reported(void **st)
{
    struct result r;
    size_t lines = 0;
    const char *p;

    (void)st;
    load(&r, "server: {host: h, port: 99999, api_key: k}\n"
             "enable_album_name_strip: x\nskip: {skip_n: -1}\n"
             "conversions: {enabled: 5}\nclassification: {rules: [{}]}\n"
             "album_detection_from_folders: {enabled: false, "
             "excluded_paths: ['(']}\n");
    assert_int_equal(r.rc, -1);
    for (p = r.err.buf; *p; p++)
        lines += *p == '\n';
    assert_int_equal(lines + 1, 6);
    assert_non_null(strstr(r.err.buf, "server.port: 99999 is out of range"));
    assert_non_null(strstr(r.err.buf, "excluded_paths[0]: invalid regex"));
    done(&r);
}

static void test_error_count_is_capped(void **st)
{
    struct buf y = BUF_INIT;
    struct result r;
    int i;

    (void)st;
    buf_addstr(&y, MINIMAL);
    for (i = 0; i < 40; i++)
        buf_addf(&y, "bad%d: 1\n", i);
    load(&r, y.buf);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.buf, "too many problems, stopping after "
                                      "20"));
    assert_null(strstr(r.err.buf, "bad20"));
    done(&r);
    buf_release(&y);
}

static void test_missing_server_says_what_to_set_and_where(void **st)
{
    struct result r;
    struct buf err = BUF_INIT;

    (void)st;
    expect_ok(&r, MINIMAL_REST);
    assert_int_equal(config_require_server(r.cfg, &err), -1);
    assert_string_equal(err.buf,
                        "t.yaml: no server: set server.host and server.port "
                        "in this file, or the IMMICH_URL environment "
                        "variable (e.g. http://photos.lan:2283)\n"
                        "t.yaml: no API key: set server.api_key in this "
                        "file, or the IMMICH_API_KEY environment variable");
    buf_reset(&err);
    assert_int_equal(config_apply_env_values(r.cfg, "https://im.example/api/",
                                             "env-key-1234", &err),
                     0);
    assert_int_equal(config_require_server(r.cfg, &err), 0);
    assert_string_equal(r.cfg->server.url, "https://im.example");
    assert_string_equal(r.cfg->server.api_key, "env-key-1234");
    assert_true(r.cfg->server.url_from_env && r.cfg->server.key_from_env);
    assert_int_equal(config_apply_env_values(r.cfg, "ftp://x", NULL, &err), -1);
    assert_string_equal(err.buf, "IMMICH_URL: 'ftp://x' must start with "
                                 "http:// or https://");
    buf_release(&err);
    done(&r);
}

static void test_env_overrides_the_file(void **st)
{
    struct result r;
    struct buf err = BUF_INIT;

    (void)st;
    expect_ok(&r, MINIMAL);
    assert_int_equal(
        config_apply_env_values(r.cfg, "http://other:1234", NULL, &err), 0);
    assert_string_equal(r.cfg->server.url, "http://other:1234");
    assert_string_equal(r.cfg->server.api_key, "test-key-xyz");
    buf_release(&err);
    done(&r);
}

static void test_server_host_forms(void **st)
{
    static const struct {
        const char *host;
        long port;
        const char *url; /* NULL: error */
    } cases[] = {
        {"photos.lan", 2283, "http://photos.lan:2283"},
        {"http://photos.lan", 2283, "http://photos.lan:2283"},
        {"HTTPS://photos.lan/", 0, "https://photos.lan"},
        {"https://photos.lan:8443/immich/api/", 0,
         "https://photos.lan:8443/immich"},
        {"https://photos.lan:8443", 8443, "https://photos.lan:8443"},
        {"https://photos.lan:8443", 443, NULL},
        {"::1", 2283, "http://[::1]:2283"},
        {"photos.lan", 0, NULL},
        {"photos.lan/x", 2283, NULL},
        {"ftp://photos.lan", 21, NULL},
        {"http://", 0, NULL},
        {"", 1, NULL},
    };
    size_t i;

    (void)st;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf why = BUF_INIT;
        char *url = NULL;
        int rc = config_build_url(cases[i].host, cases[i].port, &url, &why);

        if (cases[i].url) {
            if (rc)
                fprintf(stderr, "%s: %s\n", cases[i].host, why.buf);
            assert_int_equal(rc, 0);
            assert_string_equal(url, cases[i].url);
        } else {
            assert_int_equal(rc, -1);
            assert_true(why.len > 0);
        }
        free(url);
        buf_release(&why);
    }
    expect_error("server: {host: photos.lan, api_key: k}\n" MINIMAL_REST,
                 "t.yaml:1:16: server.host: a bare host needs server.port "
                 "(or write the host as a URL: http://host:2283)");
}

static void test_refuses_empty_binary_huge_and_non_utf8(void **st)
{
    struct config *c = NULL;
    struct buf err = BUF_INIT;
    char *huge;

    (void)st;
    assert_int_equal(config_load_mem("t.yaml", "", 0, &c, &err, NULL), -1);
    assert_string_equal(err.buf, "t.yaml: the file is empty");
    buf_reset(&err);
    assert_int_equal(
        config_load_mem("t.yaml", "  \n# only\n", 10, &c, &err, NULL), -1);
    assert_string_equal(err.buf, "t.yaml: the file is empty (only comments)");
    buf_reset(&err);
    assert_int_equal(
        config_load_mem("t.yaml", "a: 1\n\0\x01", 7, &c, &err, NULL), -1);
    assert_string_equal(err.buf, "t.yaml:2:1: the file contains NUL bytes: "
                                 "it is binary, not a YAML configuration");
    buf_reset(&err);
    assert_int_equal(
        config_load_mem("t.yaml", "a: caf\xe9\n", 8, &c, &err, NULL), -1);
    assert_string_equal(err.buf, "t.yaml:1:7: the file is not valid UTF-8 "
                                 "(byte 0xe9); save it as UTF-8");
    buf_reset(&err);
    huge = xmalloc(CONFIG_MAX_BYTES + 1);
    memset(huge, '#', CONFIG_MAX_BYTES + 1);
    assert_int_equal(
        config_load_mem("t.yaml", huge, CONFIG_MAX_BYTES + 1, &c, &err, NULL),
        -1);
    assert_string_equal(err.buf, "t.yaml: the file is 10485761 bytes, more "
                                 "than the 10 MB a configuration may have; "
                                 "refusing to read it");
    free(huge);
    buf_reset(&err);
    assert_int_equal(config_load_mem("t.yaml", "a: [1\n", 6, &c, &err, NULL),
                     -1);
    assert_non_null(strstr(err.buf, "t.yaml:2:1: invalid YAML: "));
    buf_reset(&err);
    assert_int_equal(config_load_mem("t.yaml", "- 1\n", 4, &c, &err, NULL), -1);
    assert_string_equal(err.buf, "t.yaml:1:1: expected a mapping of "
                                 "settings at the top level");
    buf_reset(&err);
    assert_int_equal(
        config_load_mem("t.yaml", "a: 1\n---\nb: 2\n", 14, &c, &err, NULL), -1);
    assert_non_null(strstr(err.buf, "more than one YAML document"));
    assert_null(c);
    buf_release(&err);
}

static void test_readable_key_file_warns_chmod_600(void **st)
{
    char path[] = "/tmp/ia-test-config-XXXXXX";
    struct config *c = NULL;
    struct buf err = BUF_INIT, warn = BUF_INIT, want = BUF_INIT;
    int fd;

    (void)st;
    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, MINIMAL, strlen(MINIMAL)),
                     (ssize_t)strlen(MINIMAL));
    close(fd);
    assert_int_equal(chmod(path, 0644), 0);
    assert_int_equal(config_load_file(path, &c, &err, &warn), 0);
    buf_addf(&want,
             "%s: holds an API key but other users can read it; run: "
             "chmod 600 %s",
             path, path);
    assert_string_equal(warn.buf, want.buf);
    config_free(c);
    c = NULL;
    buf_reset(&warn);
    assert_int_equal(chmod(path, 0600), 0);
    assert_int_equal(config_load_file(path, &c, &err, &warn), 0);
    assert_string_equal(warn.buf, "");
    config_free(c);
    unlink(path);
    buf_reset(&err);
    assert_int_equal(config_load_file(path, &c, &err, &warn), -1);
    assert_non_null(strstr(err.buf, "cannot read the configuration"));
    buf_release(&err);
    buf_release(&warn);
    buf_release(&want);
}

static void test_yaml11_booleans_and_lax_coercion(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, MINIMAL_SERVER
              "enable_album_name_strip: YES\n"
              "skip: {skip_n: '12', resume_previous: 'off', max_items: "
              "0x10}\n"
              "conversions: {enabled: 0}\n"
              "classification: {}\n"
              "performance: {enable_type_checking: 'y', "
              "fail_fast_on_asset_errors: On}\n"
              "create_album_from_date_if_missing: True\n"
              "album_detection_from_folders: {enabled: 'TRUE', "
              "excluded_paths: ~}\n"
              "album_date_consistency: {threshold_days: 90.0}\n");
    assert_true(r.cfg->enable_album_name_strip);
    assert_int_equal(r.cfg->skip.skip_n, 12);
    assert_false(r.cfg->skip.resume_previous);
    assert_int_equal(r.cfg->skip.max_items, 16);
    assert_false(r.cfg->conversions.enabled);
    assert_true(r.cfg->performance.enable_type_checking);
    assert_true(r.cfg->performance.fail_fast_on_asset_errors);
    assert_true(r.cfg->create_album_from_date_if_missing);
    assert_true(r.cfg->album_detection_from_folders.enabled);
    assert_int_equal(r.cfg->album_date_consistency.threshold_days, 90);
    done(&r);
}

static void test_legacy_python_tag_and_other_python_tags(void **st)
{
    struct config *c = NULL;
    struct buf err = BUF_INIT, warn = BUF_INIT;
    struct uuid want;

    (void)st;
    assert_int_equal(config_load_file(IA_TEST_DATA "/config/legacy-tags.yaml",
                                      &c, &err, &warn),
                     0);
    assert_int_equal(c->conversions.nr, 2);
    assert_int_equal(c->conversions.items[0].mode, CONFIG_CONV_COPY);
    assert_int_equal(c->conversions.items[1].mode, CONFIG_CONV_MOVE);
    assert_string_equal(c->conversions.items[1].dest_albums.items[0], "2024");
    assert_int_equal(c->conversions.items[1].source.link_assets_nr, 1);
    assert_int_equal(
        uuid_parse("0a0b0c0d-1111-2222-3333-444455556666", 36, &want), 0);
    assert_true(uuid_eq(&c->conversions.items[1].source.link_assets[0], &want));
    assert_string_equal(c->server.url, "https://photos.example.org/immich");
    assert_null(c->classification.autotag_unknown);
    assert_int_equal(c->skip.skip_n, 5);
    assert_int_equal(c->skip.max_items, -1);
    config_free(c);
    expect_error(MINIMAL "x: !!python/object/apply:os.system ['ls']\n",
                 "t.yaml:7:4: python tag 'python/object/apply:os.system' is "
                 "not allowed (only the legacy ConversionMode tag is "
                 "understood)\n"
                 "t.yaml:7:1: unknown key 'x'");
    expect_error(MINIMAL "description: !custom hi\n",
                 "t.yaml:7:14: unsupported tag '!custom'");
    buf_release(&err);
    buf_release(&warn);
}

static void test_validation_at_load(void **st)
{
    struct result r;

    (void)st;
    expect_error(MINIMAL "conversions:\n  conversions:\n"
                         "  - source: {tag_names: [a]}\n"
                         "    destination: {tag_names: [], album_names: "
                         "null}\n",
                 "t.yaml:10:18: conversions.conversions[0].destination: a "
                 "destination needs tag_names or album_names");
    expect_error(MINIMAL "album_permissions:\n  user_groups:\n"
                         "  - {name: g, members: [a@b.c, bob, x@y]}\n",
                 "t.yaml:9:32: album_permissions.user_groups[0].members[1]: "
                 "'bob' is not an email address\n"
                 "t.yaml:9:37: album_permissions.user_groups[0].members[2]: "
                 "'x@y' is not an email address");
    expect_error(MINIMAL "duplicate_processing:\n  date_correction: "
                         "{enabled: true, extraction_timezone: Mars/Base}\n",
                 "t.yaml:8:57: duplicate_processing.date_correction."
                 "extraction_timezone: unknown time zone 'Mars/Base' "
                 "(expected an IANA name such as Europe/Madrid or UTC)");
    expect_error(MINIMAL "duplicate_processing:\n  date_correction: "
                         "{enabled: true, extraction_timezone: Europe}\n",
                 "t.yaml:8:57: duplicate_processing.date_correction."
                 "extraction_timezone: unknown time zone 'Europe' "
                 "(expected an IANA name such as Europe/Madrid or UTC)");
    expect_error(MINIMAL "duplicate_processing: {}\n",
                 "t.yaml:7:23: missing required key "
                 "'duplicate_processing.date_correction'");
    expect_ok(&r, MINIMAL "album_permissions:\n"
                          "  user_groups: [{name: fam, members: [a@b.c]}]\n"
                          "  selection_rules:\n"
                          "  - {name: r, keyword: my-family, groups: [fam, "
                          "nobody], access: admin}\n");
    assert_string_equal(
        r.warn.buf,
        "t.yaml:10:24: album_permissions.selection_rules[0].keyword: "
        "'my-family' contains a separator (- _ . or a space); album names "
        "are split on those, so it never matches\n"
        "t.yaml:10:66: album_permissions.selection_rules[0].access: Immich "
        "has no admin album role; 'admin' shares as viewer, as upstream "
        "does\n"
        "t.yaml: album_permissions.selection_rules[0].groups[1]: no user "
        "group named 'nobody'");
    assert_int_equal(r.cfg->album_permissions.rules[0].access,
                     CONFIG_ACCESS_ADMIN);
    done(&r);
}

static void test_asset_links(void **st)
{
    static const struct {
        const char *s;
        int rc;
        bool album;
    } cases[] = {
        {"0a0b0c0d-1111-2222-3333-444455556666", 0, false},
        {"{0A0B0C0D-1111-2222-3333-444455556666}", 0, false},
        {"urn:uuid:0a0b0c0d-1111-2222-3333-444455556666", 0, false},
        {"0a0b0c0d111122223333444455556666", 0, false},
        {"http://h:2283/photos/0a0b0c0d-1111-2222-3333-444455556666", 0, false},
        {"https://h/albums/99999999-1111-2222-3333-444455556666/photos/"
         "0a0b0c0d-1111-2222-3333-444455556666?x=1",
         0, false},
        {"https://h/albums/99999999-1111-2222-3333-444455556666", -1, true},
        {"https://h/people/abc", -1, false},
        {"0a0b0c0d-1111-2222-3333-44445555666", -1, false},
    };
    struct uuid want, got;
    size_t i;

    (void)st;
    assert_int_equal(
        uuid_parse("0a0b0c0d-1111-2222-3333-444455556666", 36, &want), 0);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        bool album = true;

        assert_int_equal(config_parse_asset_link(cases[i].s, strlen(cases[i].s),
                                                 &got, &album),
                         cases[i].rc);
        if (!cases[i].rc)
            assert_true(uuid_eq(&got, &want));
        assert_int_equal(album, cases[i].album);
    }
}

static void test_excluded_paths_search_ignoring_case(void **st)
{
    struct result r;
    const struct config_regex *re;

    (void)st;
    expect_ok(&r, MINIMAL_SERVER MINIMAL_REST
              "album_detection_from_folders: {enabled: true, "
              "excluded_paths: [whatsapp, '^/private']}\n");
    /* the second album_detection_from_folders wins, as in PyYAML */
    assert_non_null(strstr(r.warn.buf, "is repeated; the last one wins"));
    re = r.cfg->album_detection_from_folders.excluded_paths;
    assert_true(config_regex_match(&re[0], "/media/WhatsApp Images/x", 24));
    assert_false(config_regex_match(&re[1], "/media/private", 14));
    assert_true(config_regex_match(&re[1], "/PRIVATE/x", 10));
    assert_false(config_regex_match(&re[0], "\xff", 1)); /* bad UTF-8 */
    done(&r);
}

/* found by fuzz_config: a dotted non-number leaked while being resolved */
static void test_dotted_words_are_strings(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, MINIMAL "description: 1.5x. file.\n");
    assert_string_equal(r.cfg->description, "1.5x. file.");
    done(&r);
}

/* found by fuzz_config: a bad merge key leaked the mapping being read */
static void test_bad_merge_key_is_an_error(void **st)
{
    (void)st;
    expect_error(MINIMAL "<<: text\n",
                 "t.yaml:7:5: top level: '<<' expects a mapping or a list of "
                 "mappings");
}

static void test_merge_keys_and_anchors(void **st)
{
    struct result r;

    (void)st;
    expect_ok(&r, MINIMAL "filters:\n"
                          "  filter_in:\n"
                          "  - &base {tag_names: [a], description: d}\n"
                          "  - {<<: *base, tag_names: [b, c]}\n");
    assert_int_equal(r.cfg->filters.filter_in_nr, 2);
    assert_int_equal(r.cfg->filters.filter_in[1].tag_names.nr, 2);
    assert_string_equal(r.cfg->filters.filter_in[1].description, "d");
    done(&r);
}

static void test_alias_bombs_are_bounded(void **st)
{
    struct buf y = BUF_INIT;
    struct result r;
    int i;

    (void)st;
    buf_addstr(&y, MINIMAL "filters:\n  filter_in:\n"
                           "  - &r {tag_names: &l [");
    for (i = 0; i < 1000; i++)
        buf_addf(&y, "%sx%d", i ? ", " : "", i);
    buf_addstr(&y, "]}\n");
    for (i = 0; i < 1000; i++)
        buf_addstr(&y, "  - *r\n");
    load(&r, y.buf);
    assert_int_equal(r.rc, -1);
    assert_non_null(strstr(r.err.buf, "too many values"));
    done(&r);
    buf_release(&y);
}

static void test_dump_reads_back_to_the_same_values(void **st)
{
    struct config *c = NULL, *again = NULL;
    struct buf err = BUF_INIT, a = BUF_INIT, b = BUF_INIT;

    (void)st;
    assert_int_equal(config_load_file(IA_TEST_DATA
                                      "/config/upstream-template.yaml",
                                      &c, &err, NULL),
                     0);
    config_write_yaml(c, false, &a);
    assert_int_equal(config_load_mem(c->path, a.buf, a.len, &again, &err, NULL),
                     0);
    config_write_yaml(again, false, &b);
    assert_string_equal(a.buf, b.buf);
    buf_reset(&a);
    config_write_yaml(c, true, &a);
    assert_non_null(strstr(a.buf, "api_key: \"***\""));
    assert_null(strstr(a.buf, "<YOUR_API_KEY_HERE>"));
    config_free(c);
    config_free(again);
    buf_release(&err);
    buf_release(&a);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_upstream_template_loads_without_errors),
        cmocka_unit_test(test_minimal_file_takes_every_model_default),
        cmocka_unit_test(test_present_blocks_take_their_defaults),
        cmocka_unit_test(test_empty_date_mismatch_tag_falls_back_like_upstream),
        cmocka_unit_test(test_unknown_key_names_path_position_and_suggestion),
        cmocka_unit_test(test_unknown_key_in_lenient_block_is_a_warning),
        cmocka_unit_test(test_wrong_types_name_path_line_and_expectation),
        cmocka_unit_test(test_missing_required_keys_are_named),
        cmocka_unit_test(test_invalid_regex_names_rule_pattern_message_offset),
        cmocka_unit_test(test_album_patterns_have_python_meaning),
        cmocka_unit_test(test_python_regex_errors_are_pythons),
        cmocka_unit_test(test_utf8_bom_is_accepted),
        cmocka_unit_test(test_tab_indentation_says_so),
        cmocka_unit_test(test_utf16_file_names_its_encoding),
        cmocka_unit_test(test_float_tag_where_an_integer_is_expected),
        cmocka_unit_test(test_all_problems_of_a_file_are_reported),
        cmocka_unit_test(test_error_count_is_capped),
        cmocka_unit_test(test_missing_server_says_what_to_set_and_where),
        cmocka_unit_test(test_env_overrides_the_file),
        cmocka_unit_test(test_server_host_forms),
        cmocka_unit_test(test_refuses_empty_binary_huge_and_non_utf8),
        cmocka_unit_test(test_readable_key_file_warns_chmod_600),
        cmocka_unit_test(test_yaml11_booleans_and_lax_coercion),
        cmocka_unit_test(test_legacy_python_tag_and_other_python_tags),
        cmocka_unit_test(test_validation_at_load),
        cmocka_unit_test(test_asset_links),
        cmocka_unit_test(test_excluded_paths_search_ignoring_case),
        cmocka_unit_test(test_dotted_words_are_strings),
        cmocka_unit_test(test_bad_merge_key_is_an_error),
        cmocka_unit_test(test_merge_keys_and_anchors),
        cmocka_unit_test(test_alias_bombs_are_bounded),
        cmocka_unit_test(test_dump_reads_back_to_the_same_values),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
