/*
 * test_cli.c: the command line.  The option parser and config discovery
 * in-process; usage errors, exit codes, masking and the template by
 * running the built immich-autotag binary (IA_BIN) with a controlled
 * environment.
 */
#include "cli/cli.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/run_loop.h"
#include "core/fsutil.h"
#include "sim_harness.h"

#define KEY "sekrit-api-key-0123456789"
#define GOOD_CONFIG                                                            \
    "server: {host: photos.lan, port: 2283, api_key: " KEY "}\n"               \
    "enable_album_name_strip: false\nskip: {}\nconversions: {}\n"              \
    "classification: {}\n"                                                     \
    "album_detection_from_folders: {enabled: false, excluded_paths: []}\n"

static char tmpdir[64];

static void write_file(const char *name, const char *text, mode_t mode)
{
    struct buf path = BUF_INIT, err = BUF_INIT;

    buf_addf(&path, "%s/%s", tmpdir, name);
    assert_int_equal(fs_write_atomic(path.buf, text, strlen(text), &err), 0);
    assert_int_equal(chmod(path.buf, mode), 0);
    buf_release(&path);
    buf_release(&err);
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/ia-test-cli-XXXXXX");
    if (!mkdtemp(tmpdir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    struct buf cmd = BUF_INIT;
    int rc;

    (void)state;
    buf_addf(&cmd, "rm -rf '%s'", tmpdir);
    rc = system(cmd.buf);
    buf_release(&cmd);
    return rc == 0 ? 0 : -1;
}

struct run {
    int code;
    struct buf out, err;
};

/*
 * Runs the binary with argv (NULL-terminated) and an environment holding
 * only HOME=<tmpdir>/home plus `env` entries; captures stdout and stderr.
 */
static void run_argv(struct run *r, const char *const *env,
                     const char *const *args)
{
    const char *argv[16], *envp[16];
    struct buf home = BUF_INIT, outp = BUF_INIT, errp = BUF_INIT, e = BUF_INIT;
    size_t n = 0, m = 0;
    pid_t pid;
    int status;

    argv[n++] = IA_BIN;
    for (; *args && n < 15; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    buf_addf(&home, "HOME=%s/home", tmpdir);
    envp[m++] = home.buf;
    envp[m++] = "PATH=/usr/bin:/bin";
    if (getenv("ASAN_OPTIONS"))
        envp[m++] = "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1";
    for (; env && *env && m < 15; env++)
        envp[m++] = *env;
    envp[m] = NULL;
    buf_addf(&outp, "%s/stdout", tmpdir);
    buf_addf(&errp, "%s/stderr", tmpdir);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(outp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        int x = open(errp.buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);

        if (o < 0 || x < 0 || dup2(o, 1) < 0 || dup2(x, 2) < 0)
            _exit(127);
        execve(IA_BIN, (char *const *)argv, (char *const *)envp);
        _exit(127);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    r->code = WEXITSTATUS(status);
    buf_init(&r->out, 0);
    buf_init(&r->err, 0);
    assert_int_equal(fs_read_file(outp.buf, 1 << 20, &r->out, &e), 0);
    assert_int_equal(fs_read_file(errp.buf, 1 << 20, &r->err, &e), 0);
    buf_release(&home);
    buf_release(&outp);
    buf_release(&errp);
    buf_release(&e);
}

/* run_argv() with the arguments after env, up to a NULL. */
static void run(struct run *r, const char *const *env, ...)
{
    const char *args[16];
    size_t n = 0;
    va_list ap;

    va_start(ap, env);
    while (n < 15 && (args[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    args[n] = NULL;
    run_argv(r, env, args);
}

static void run_release(struct run *r)
{
    buf_release(&r->out);
    buf_release(&r->err);
}

static void test_options_parse_anywhere_with_both_forms(void **state)
{
    static char a[][20] = {"ia",          "--concurrency=8",
                           "plan",        "--config",
                           "c.yaml",      "-v",
                           "-v",          "--loop",
                           "5m",          "--dialect",
                           "3",           "--log-format=json",
                           "--max-items", "10",
                           "--",          "--not-an-option"};
    char *argv[17];
    size_t i;

    for (i = 0; i < 16; i++)
        argv[i] = a[i];
    argv[16] = NULL;
    struct cli_opts o;
    struct buf err = BUF_INIT;

    (void)state;
    assert_int_equal(cli_opts_parse(16, argv, &o, &err), 0);
    assert_string_equal(o.command, "plan");
    assert_int_equal(o.concurrency, 8);
    assert_string_equal(o.config_path, "c.yaml");
    assert_int_equal(o.verbose, 2);
    assert_int_equal(o.loop_seconds, 300);
    assert_int_equal(o.dialect, CLI_DIALECT_V3);
    assert_int_equal(o.log_format, LOG_FORMAT_JSON);
    assert_int_equal(o.max_items, 10);
    assert_int_equal(o.args_nr, 1);
    assert_string_equal(o.args[0], "--not-an-option");
    assert_false(o.dry_run);
    cli_opts_release(&o);
    buf_release(&err);
}

static void test_option_errors_name_the_option(void **state)
{
    static const struct {
        const char *arg1, *arg2, *msg;
    } cases[] = {
        {"--frobnicate", NULL, "unknown option '--frobnicate'"},
        {"--frob=1", NULL, "unknown option '--frob'"},
        {"-x", NULL, "unknown option '-x'"},
        {"--config", NULL, "option '--config' needs a value"},
        {"--concurrency", "0",
         "option '--concurrency' needs a number from 1 to 64, not '0'"},
        {"--loop", "5x",
         "option '--loop' needs an interval such as 300, "
         "45s, 5m or 1h (at most a year), not '5x'"},
        {"--dialect", "4",
         "option '--dialect' takes auto, 2 or 3, not "
         "'4'"},
        {"--log-format", "xml",
         "option '--log-format' takes text or json, "
         "not 'xml'"},
        {"--dry-run=yes", NULL, "option '--dry-run' takes no value"},
    };
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        char a0[] = "ia", a1[32], a2[32];
        char *argv[] = {a0, a1, a2, NULL};
        struct cli_opts o;
        struct buf err = BUF_INIT;

        snprintf(a1, sizeof(a1), "%s", cases[i].arg1);
        snprintf(a2, sizeof(a2), "%s", cases[i].arg2 ? cases[i].arg2 : "");
        assert_int_equal(cli_opts_parse(cases[i].arg2 ? 3 : 2, argv, &o, &err),
                         -1);
        assert_string_equal(err.buf, cases[i].msg);
        cli_opts_release(&o);
        buf_release(&err);
    }
    assert_int_equal(cli_parse_interval("300"), 300);
    assert_int_equal(cli_parse_interval("45s"), 45);
    assert_int_equal(cli_parse_interval("1h"), 3600);
    assert_int_equal(cli_parse_interval("2d"), 172800);
    assert_int_equal(cli_parse_interval("0"), -1);
    assert_int_equal(cli_parse_interval("m"), -1);
}

/* The search (xdg and home as the test made them) finds dir/rest, which
 * is left in want. */
static void search_finds(const struct buf *xdg, const struct buf *home,
                         const char *dir, const char *rest, struct buf *want)
{
    struct buf path = BUF_INIT, err = BUF_INIT;

    assert_int_equal(
        cli_find_config(NULL, NULL, xdg->buf, home->buf, &path, &err), 0);
    buf_reset(want);
    buf_addf(want, "%s/%s", dir, rest);
    assert_string_equal(path.buf, want->buf);
    buf_release(&path);
    buf_release(&err);
}

static void test_config_discovery_order(void **state)
{
    struct buf path = BUF_INIT, err = BUF_INIT, want = BUF_INIT;
    struct buf xdg = BUF_INIT, home = BUF_INIT, d = BUF_INIT;

    (void)state;
    buf_addf(&home, "%s/dhome", tmpdir);
    buf_addf(&xdg, "%s/dxdg", tmpdir);
    /* nothing anywhere: every searched path is listed */
    assert_int_equal(
        cli_find_config(NULL, NULL, xdg.buf, home.buf, &path, &err), -1);
    buf_addf(&want,
             "no configuration file found; looked for "
             "%s/immich_autotag/config.yaml, "
             "%s/immich_autotag/config.yml, "
             "%s/.immich_autotag/config.yaml, "
             "%s/.immich_autotag/config.yml; use --config PATH or "
             "IMMICH_AUTOTAG_CONFIG, or start from `immich-autotag "
             "config template`",
             xdg.buf, xdg.buf, home.buf, home.buf);
    assert_string_equal(err.buf, want.buf);
    /* only a config.py: convert it */
    buf_addf(&d, "%s/.immich_autotag", home.buf);
    assert_int_equal(fs_mkdir_p(d.buf, &err), 0);
    write_file("dhome/.immich_autotag/config.py", "user_config = {}\n", 0600);
    buf_reset(&err);
    assert_int_equal(cli_find_config(NULL, NULL, NULL, home.buf, &path, &err),
                     -1);
    assert_non_null(strstr(err.buf, "/.immich_autotag/config.py is a Python "
                                    "configuration, which this tool cannot "
                                    "read: convert it to YAML"));
    /* ~/.immich_autotag/config.yml found; the XDG one wins once present */
    write_file("dhome/.immich_autotag/config.yml", GOOD_CONFIG, 0600);
    buf_reset(&err);
    search_finds(&xdg, &home, home.buf, ".immich_autotag/config.yml", &want);
    buf_reset(&d);
    buf_addf(&d, "%s/immich_autotag", xdg.buf);
    assert_int_equal(fs_mkdir_p(d.buf, &err), 0);
    write_file("dxdg/immich_autotag/config.yaml", GOOD_CONFIG, 0600);
    search_finds(&xdg, &home, xdg.buf, "immich_autotag/config.yaml", &want);
    /* IMMICH_AUTOTAG_CONFIG beats the search, --config beats both */
    buf_reset(&path);
    assert_int_equal(cli_find_config(NULL, want.buf, NULL, NULL, &path, &err),
                     0);
    assert_string_equal(path.buf, want.buf);
    buf_reset(&err);
    assert_int_equal(cli_find_config("/nonexistent/c.yaml", want.buf, NULL,
                                     NULL, &path, &err),
                     -1);
    assert_string_equal(err.buf, "--config '/nonexistent/c.yaml': no such "
                                 "file");
    buf_reset(&err);
    assert_int_equal(
        cli_find_config(NULL, "/x/config.py", NULL, NULL, &path, &err), -1);
    assert_non_null(strstr(err.buf, "/x/config.py is a Python"));
    buf_release(&path);
    buf_release(&err);
    buf_release(&want);
    buf_release(&xdg);
    buf_release(&home);
    buf_release(&d);
}

/* Dump without description lines, for comparing templates. */
static void dump_values(const struct config *c, struct buf *out)
{
    struct buf all = BUF_INIT;
    const char *p;

    config_write_yaml(c, false, &all);
    for (p = all.buf; *p;) {
        size_t n = strcspn(p, "\n");
        struct buf line = BUF_INIT;

        buf_add(&line, p, n);
        if (!strstr(line.buf, "description:") && *p != '#') {
            buf_add(out, p, n);
            buf_addch(out, '\n');
        }
        buf_release(&line);
        p += n + (p[n] == '\n');
    }
    buf_release(&all);
}

static void test_template_equals_upstream_but_sharing_off(void **state)
{
    struct config *ours = NULL, *up = NULL;
    struct buf text = BUF_INIT, err = BUF_INIT, warn = BUF_INIT;
    struct buf a = BUF_INIT, b = BUF_INIT;
    size_t i;

    (void)state;
    for (i = 0; cli_config_template[i]; i++)
        buf_addstr(&text, cli_config_template[i]);
    assert_int_equal(
        config_load_mem("template", text.buf, text.len, &ours, &err, &warn), 0);
    assert_string_equal(warn.buf, "");
    assert_int_equal(config_load_file(IA_TEST_DATA
                                      "/config/upstream-template.yaml",
                                      &up, &err, NULL),
                     0);
    assert_false(ours->album_permissions.enabled);
    assert_true(up->album_permissions.enabled);
    up->album_permissions.enabled = false;
    free(up->path);
    up->path = xstrdup("template");
    dump_values(ours, &a);
    dump_values(up, &b);
    assert_string_equal(a.buf, b.buf);
    config_free(ours);
    config_free(up);
    buf_release(&text);
    buf_release(&err);
    buf_release(&warn);
    buf_release(&a);
    buf_release(&b);
}

static void test_binary_exit_codes_and_usage_errors(void **state)
{
    /* runs that exit with code, saying needle on stdout (out) or stderr */
    static const struct {
        const char *args[4];
        int code;
        bool out;
        const char *needle;
    } says[] = {
        {{"plan", "--help"}, 0, true, "usage: immich-autotag plan"},
        {{"frobnicate"}, 2, false, "unknown command 'frobnicate'"},
        {{"check", "--concurrency"},
         2,
         false,
         "option '--concurrency' needs a value"},
        {{"plan", "extra"}, 2, false, "unexpected argument 'extra'"},
        /* no configuration anywhere (HOME is an empty directory) */
        {{NULL}, 2, false, "error: no configuration file found"},
        /* the upstream template loads, but check wants a real server */
        {{"check", "-c", IA_TEST_DATA "/config/upstream-template.yaml"},
         2,
         false,
         "fill in your server"},
        {{"config", "template"}, 0, true, "  enabled: false\n"},
    };
    struct run r;
    struct buf cfg = BUF_INIT, env_cfg = BUF_INIT, bad = BUF_INIT,
               logs = BUF_INIT;
    const char *env[3] = {NULL, NULL, NULL};

    (void)state;
    run(&r, NULL, "--version", NULL);
    assert_int_equal(r.code, 0);
    assert_true(!strncmp(r.out.buf,
                         "immich-autotag " IA_VERSION "\n"
                         "Immich API: 2.x and 3.x",
                         strlen("immich-autotag " IA_VERSION "\nImmich API: "
                                "2.x and 3.x")));
    /* the runtime version of every library, not just its name */
    {
        static const char *const libs[] = {"\nlibcurl 7.", "\njansson 2.",
                                           "\nyajl 2.",    "\nlibyaml 0.",
                                           "\npcre2 10.",  "\nsqlite 3."};
        size_t i;

        for (i = 0; i < ARRAY_SIZE(libs); i++)
            if (!strstr(r.out.buf, libs[i]))
                fail_msg("--version lacks '%s':\n%s", libs[i] + 1, r.out.buf);
    }
    run_release(&r);
    run(&r, NULL, "--help", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out.buf,
                           "  3  server unreachable, API key refused "
                           "or lacking a permission"));
    assert_non_null(strstr(r.out.buf, "--metrics-json FILE"));
    run_release(&r);
    for (size_t i = 0; i < ARRAY_SIZE(says); i++) {
        run_argv(&r, NULL, says[i].args);
        assert_int_equal(r.code, says[i].code);
        if (!strstr(says[i].out ? r.out.buf : r.err.buf, says[i].needle))
            fail_msg("case %zu: no '%s' in:\n%s%s", i, says[i].needle,
                     r.out.buf, r.err.buf);
        run_release(&r);
    }
    run(&r, NULL, "--bogus", NULL);
    assert_int_equal(r.code, 2);
    assert_string_equal(r.err.buf, "immich-autotag: unknown option "
                                   "'--bogus'\nTry 'immich-autotag "
                                   "--help'.\n");
    run_release(&r);
    /* a broken configuration: exit 2 with the message */
    write_file("bad.yaml", GOOD_CONFIG "clasification: {}\n", 0600);
    buf_addf(&bad, "%s/bad.yaml", tmpdir);
    run(&r, NULL, "check", "--config", bad.buf, NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err.buf, "bad.yaml:7:1: unknown key "
                                      "'clasification' (did you mean "
                                      "'classification'?)"));
    run_release(&r);
    /* a good configuration and a server that is not there (a closed
     * loopback port): check and run exit 3 naming what failed, and run
     * still leaves its reports, path on the last line */
    write_file("good.yaml", GOOD_CONFIG, 0644);
    buf_addf(&cfg, "%s/good.yaml", tmpdir);
    buf_addf(&env_cfg, "IMMICH_AUTOTAG_CONFIG=%s", cfg.buf);
    env[0] = env_cfg.buf;
    env[1] = "IMMICH_URL=http://127.0.0.1:1";
    run(&r, env, "check", NULL);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err.buf, "error: server: GET /"));
    assert_non_null(strstr(r.err.buf, "Couldn't connect to server"));
    assert_non_null(strstr(r.err.buf, "warning: "));
    assert_non_null(strstr(r.err.buf, "chmod 600"));
    assert_null(strstr(r.err.buf, KEY));
    run_release(&r);
    buf_addf(&logs, "%s/logs", tmpdir);
    run(&r, env, "--log-dir", logs.buf, NULL);
    assert_int_equal(r.code, 3);
    assert_non_null(strstr(r.err.buf, "snapshot incomplete: "));
    assert_non_null(strstr(r.err.buf, "nothing was written"));
    assert_non_null(strstr(r.out.buf, logs.buf));
    assert_null(strstr(r.out.buf, KEY));
    assert_null(strstr(r.err.buf, KEY));
    run_release(&r);
    env[1] = NULL;
    run(&r, env, "apply", NULL);
    assert_int_equal(r.code, 2);
    run_release(&r);
    /* config: effective values, key masked, environment applied */
    env[1] = "IMMICH_URL=https://env.example:8443/api";
    run(&r, env, "config", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out.buf, "api_key: \"***\""));
    assert_non_null(strstr(r.out.buf, "host: \"https://env.example:8443\""));
    assert_non_null(strstr(r.out.buf, "autotag_unknown: "
                                      "\"autotag_output_unknown\""));
    assert_null(strstr(r.out.buf, KEY));
    assert_null(strstr(r.err.buf, KEY));
    run_release(&r);
    env[1] = "IMMICH_URL=photos.lan";
    run(&r, env, "config", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err.buf, "IMMICH_URL: 'photos.lan' must start "
                                      "with http:// or https://"));
    run_release(&r);
    buf_release(&cfg);
    buf_release(&env_cfg);
    buf_release(&logs);
    buf_release(&bad);
}

static void parse_words(const char *const *words, struct cli_opts *o,
                        struct buf *err, int want)
{
    char *argv[16];
    int n = 0;

    argv[n++] = (char *)"ia";
    while (*words && n < 15)
        argv[n++] = (char *)*words++;
    argv[n] = NULL;
    assert_int_equal(cli_opts_parse(n, argv, o, err), want);
}

/* A poll's items count unless the poll before the last pass returned
 * the same asset with the same updatedAt. */
static void test_watch_counts_only_news(void **state)
{
    struct api_changed seen[2], items[3];

    (void)state;
    memset(seen, 0, sizeof(seen));
    memset(items, 0, sizeof(items));
    seen[0].id.b[0] = 1;
    seen[0].updated_at = 1000;
    seen[1].id.b[0] = 2;
    seen[1].updated_at = 2000;
    items[0] = seen[0]; /* as the last pass saw it */
    items[1] = seen[1]; /* changed again since */
    items[1].updated_at = 2500;
    items[2].id.b[0] = 3; /* new */
    items[2].updated_at = 2600;
    assert_int_equal(watch_count_changed(items, 3, seen, 2), 2);
    assert_int_equal(watch_count_changed(items, 3, NULL, 0), 3);
    assert_int_equal(watch_count_changed(items, 1, seen, 2), 0);
    assert_int_equal(watch_count_changed(NULL, 0, seen, 2), 0);
}

/* --watch takes its interval only when the next word is one; else it
 * keeps the default and the word is the command (or the next option). */
static void test_watch_value_is_optional(void **state)
{
    static const char *const bare[] = {"--watch", NULL};
    static const char *const then_cmd[] = {"--watch", "run", NULL};
    static const char *const valued[] = {"run", "--watch", "5m", NULL};
    static const char *const eq[] = {"--watch=90", "--full-every", "2h", NULL};
    static const char *const then_opt[] = {"--watch", "--loop", "1h", NULL};
    static const char *const bad[] = {"--watch=soon", NULL};
    /* the variable: a flag word or an interval */
    static const struct {
        const char *var;
        long seconds;
    } vars[] = {
        {"IMMICH_AUTOTAG_WATCH=on", 60},
        {"IMMICH_AUTOTAG_WATCH=off", 0},
        {"IMMICH_AUTOTAG_WATCH=10m", 600},
    };
    struct cli_opts o;
    struct buf err = BUF_INIT;

    (void)state;
    parse_words(bare, &o, &err, 0);
    assert_int_equal(o.watch_seconds, 60);
    assert_null(o.command);
    cli_opts_release(&o);
    parse_words(then_cmd, &o, &err, 0);
    assert_int_equal(o.watch_seconds, 60);
    assert_string_equal(o.command, "run");
    cli_opts_release(&o);
    parse_words(valued, &o, &err, 0);
    assert_int_equal(o.watch_seconds, 300);
    assert_int_equal(o.args_nr, 0);
    cli_opts_release(&o);
    parse_words(eq, &o, &err, 0);
    assert_int_equal(o.watch_seconds, 90);
    assert_int_equal(o.full_every_seconds, 7200);
    cli_opts_release(&o);
    parse_words(then_opt, &o, &err, 0);
    assert_int_equal(o.watch_seconds, 60);
    assert_int_equal(o.loop_seconds, 3600);
    cli_opts_release(&o);
    parse_words(bad, &o, &err, -1);
    assert_string_equal(err.buf, "option '--watch' takes an interval such as "
                                 "30s, 5m or 1h (at most a year), not 'soon'");
    cli_opts_release(&o);
    for (size_t i = 0; i < ARRAY_SIZE(vars); i++) {
        const char *env[] = {vars[i].var, NULL};

        parse_words(bare + 1, &o, &err, 0);
        assert_int_equal(cli_opts_apply_env(&o, env, &err), 0);
        assert_int_equal(o.watch_seconds, vars[i].seconds);
        cli_opts_release(&o);
    }
    buf_release(&err);
}

static void test_short_options_cluster_like_getopt(void **state)
{
    static const char *const vv[] = {"-vv", NULL};
    static const char *const vvv[] = {"plan", "-vvv", NULL};
    static const char *const nq[] = {"-nq", "-j8", NULL};
    static const char *const vj[] = {"-vj", "4", "-cx.yaml", NULL};
    static const char *const bad[] = {"-vx", NULL};
    static const char *const novalue[] = {"-vj", NULL};
    struct cli_opts o;
    struct buf err = BUF_INIT;

    (void)state;
    parse_words(vv, &o, &err, 0);
    assert_int_equal(o.verbose, 2);
    cli_opts_release(&o);
    parse_words(vvv, &o, &err, 0);
    assert_int_equal(o.verbose, 3);
    assert_string_equal(o.command, "plan");
    cli_opts_release(&o);
    parse_words(nq, &o, &err, 0);
    assert_true(o.dry_run);
    assert_true(o.quiet);
    assert_int_equal(o.concurrency, 8);
    cli_opts_release(&o);
    parse_words(vj, &o, &err, 0);
    assert_int_equal(o.verbose, 1);
    assert_int_equal(o.concurrency, 4);
    assert_string_equal(o.config_path, "x.yaml");
    cli_opts_release(&o);
    parse_words(bad, &o, &err, -1);
    assert_string_equal(err.buf, "unknown option '-x'");
    cli_opts_release(&o);
    buf_reset(&err);
    parse_words(novalue, &o, &err, -1);
    assert_string_equal(err.buf, "option '--concurrency' needs a value");
    cli_opts_release(&o);
    buf_release(&err);
}

/* The parsed options without the record of where each came from. */
static void forget_origin(struct cli_opts *o)
{
    o->seen = 0;
    o->from_env = 0;
}

/*
 * Walks the option table: every option but --help and --version has a
 * variable, and the variable set to the option's example value gives the
 * same options as the command line does (the value string is shared, so
 * the structs compare byte for byte), different from the defaults.
 */
static void test_every_option_has_a_working_env_var(void **state)
{
    struct cli_opts none, by_arg, by_env;
    struct buf err = BUF_INIT, var = BUF_INIT, flag = BUF_INIT;
    size_t i, with_env = 0;
    char a0[] = "ia";
    char *argv0[] = {a0, NULL};

    (void)state;
    assert_int_equal(cli_opts_parse(1, argv0, &none, &err), 0);
    for (i = 0; i < cli_opt_count(); i++) {
        struct cli_opt_info d;
        const char *envp[2] = {NULL, NULL};
        char *argv[4] = {a0, NULL, NULL, NULL};
        int argc = 2;

        cli_opt_get(i, &d);
        if (!strcmp(d.name, "help") || !strcmp(d.name, "version")) {
            assert_string_equal(d.env, "");
            continue;
        }
        if (!*d.env)
            fail_msg("option '--%s' has no environment variable", d.name);
        if (strcmp(d.name, "url") && strcmp(d.name, "api-key-file") &&
            strncmp(d.env, "IMMICH_AUTOTAG_", 15))
            fail_msg("'%s' is not IMMICH_AUTOTAG_...", d.env);
        if (!*d.help)
            fail_msg("option '--%s' has no help", d.name);
        if (d.arg && !d.example)
            fail_msg("option '--%s' has no example value", d.name);
        buf_reset(&var);
        buf_reset(&flag);
        buf_addf(&var, "%s=%s", d.env, d.arg ? d.example : "1");
        buf_addf(&flag, "--%s", d.name);
        argv[1] = flag.buf;
        if (d.arg)
            argv[argc++] = var.buf + strlen(d.env) + 1;
        envp[0] = var.buf;
        assert_int_equal(cli_opts_parse(argc, argv, &by_arg, &err), 0);
        assert_int_equal(cli_opts_parse(1, argv0, &by_env, &err), 0);
        if (cli_opts_apply_env(&by_env, envp, &err) < 0)
            fail_msg("%s: %s", var.buf, err.buf);
        assert_true(cli_opts_from_env(&by_env, d.name));
        assert_false(cli_opts_seen(&by_env, d.name));
        assert_true(cli_opts_seen(&by_arg, d.name));
        forget_origin(&by_arg);
        forget_origin(&by_env);
        if (!memcmp(&by_arg, &none, sizeof(none)))
            fail_msg("'--%s %s' changes nothing", d.name,
                     d.arg ? d.example : "");
        if (memcmp(&by_arg, &by_env, sizeof(by_env)))
            fail_msg("%s does not act as '--%s'", var.buf, d.name);
        cli_opts_release(&by_arg);
        cli_opts_release(&by_env);
        with_env++;
    }
    assert_true(with_env >= 18);
    cli_opts_release(&none);
    buf_release(&err);
    buf_release(&var);
    buf_release(&flag);
}

static void test_env_values_precedence_and_errors(void **state)
{
    static const char *const conc3[] = {"--concurrency", "3", NULL};
    static const char *const nothing[] = {NULL};
    static const char *const key1[] = {"--api-key", "s3cret", NULL};
    static const char *const key2[] = {"run", "--api-key=s3cret", NULL};
    static const struct {
        const char *var, *msg;
    } bad[] = {
        {"IMMICH_AUTOTAG_CONCURRENCY=0",
         "IMMICH_AUTOTAG_CONCURRENCY: option '--concurrency' needs a number "
         "from 1 to 64, not '0'"},
        {"IMMICH_AUTOTAG_DRY_RUN=maybe",
         "IMMICH_AUTOTAG_DRY_RUN: takes 1 or 0 (true/false, yes/no, "
         "on/off), not 'maybe'"},
        {"IMMICH_AUTOTAG_LOOP=soon",
         "IMMICH_AUTOTAG_LOOP: option '--loop' needs an interval such as "
         "300, 45s, 5m or 1h (at most a year), not 'soon'"},
    };
    const char *envp[4] = {"IMMICH_AUTOTAG_CONCURRENCY=9",
                           "IMMICH_AUTOTAG_DRY_RUN=off",
                           "IMMICH_AUTOTAG_VERBOSE=2", NULL};
    struct cli_opts o;
    struct buf err = BUF_INIT;
    size_t i;

    (void)state;
    /* the command line wins; "off" is false; a count for verbose */
    parse_words(conc3, &o, &err, 0);
    assert_int_equal(cli_opts_apply_env(&o, envp, &err), 0);
    assert_int_equal(o.concurrency, 3);
    assert_false(cli_opts_from_env(&o, "concurrency"));
    assert_false(o.dry_run);
    assert_int_equal(o.verbose, 2);
    cli_opts_release(&o);
    /* an empty variable is unset; NAME without '=' is not NAME= */
    envp[0] = "IMMICH_AUTOTAG_CONCURRENCY=";
    envp[1] = "IMMICH_AUTOTAG_DRY_RUNX=1";
    envp[2] = NULL;
    parse_words(nothing, &o, &err, 0);
    assert_int_equal(cli_opts_apply_env(&o, envp, &err), 0);
    assert_int_equal(o.concurrency, 0);
    assert_false(o.dry_run);
    cli_opts_release(&o);
    for (i = 0; i < ARRAY_SIZE(bad); i++) {
        envp[0] = bad[i].var;
        envp[1] = NULL;
        buf_reset(&err);
        parse_words(nothing, &o, &err, 0);
        assert_int_equal(cli_opts_apply_env(&o, envp, &err), -1);
        assert_string_equal(err.buf, bad[i].msg);
        cli_opts_release(&o);
    }
    /* never the key itself on the command line */
    buf_reset(&err);
    parse_words(key1, &o, &err, -1);
    assert_non_null(strstr(err.buf, "the API key is not accepted on the "
                                    "command line"));
    assert_null(strstr(err.buf, "s3cret"));
    cli_opts_release(&o);
    buf_reset(&err);
    parse_words(key2, &o, &err, -1);
    assert_non_null(strstr(err.buf, "use --api-key-file PATH"));
    assert_null(strstr(err.buf, "s3cret"));
    cli_opts_release(&o);
    buf_release(&err);
}

static void test_json_only_where_it_means_something(void **state)
{
    static const char *const cmds[] = {"run", "check", "config", "apply"};
    struct buf want = BUF_INIT, cfg = BUF_INIT;
    const char *env[2] = {NULL, NULL};
    struct run r;
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cmds); i++) {
        run(&r, NULL, cmds[i], "--json", NULL);
        buf_reset(&want);
        buf_addf(&want,
                 "immich-autotag %s: --json has no meaning here "
                 "(only plan, undo and explain print JSON)\n",
                 cmds[i]);
        assert_int_equal(r.code, 2);
        assert_true(!strncmp(r.err.buf, want.buf, want.len));
        assert_string_equal(r.out.buf, "");
        run_release(&r);
    }
    /* the default command too */
    run(&r, NULL, "--json", NULL);
    assert_int_equal(r.code, 2);
    assert_non_null(strstr(r.err.buf, "immich-autotag run: --json has no "
                                      "meaning here"));
    run_release(&r);
    /* from the environment it only applies where it means something */
    write_file("json.yaml", GOOD_CONFIG, 0600);
    buf_addf(&cfg, "--config=%s/json.yaml", tmpdir);
    env[0] = "IMMICH_AUTOTAG_JSON=1";
    run(&r, env, "config", cfg.buf, NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.out.buf, "api_key: \"***\""));
    run_release(&r);
    buf_release(&want);
    buf_release(&cfg);
}

static void test_read_key_file(void **state)
{
    static const struct {
        const char *text, *key, *msg;
    } cases[] = {
        {"abc-123\n", "abc-123", NULL},
        {"abc-123\r\n", "abc-123", NULL},
        {"abc-123", "abc-123", NULL},
        {"abc-123\n\n", NULL, "second line at byte 8"},
        {"abc\n123\n", NULL, "second line at byte 4"},
        {"\n", NULL, "is empty"},
    };
    struct buf path = BUF_INIT, key = BUF_INIT, err = BUF_INIT;
    bool others;
    size_t i;

    (void)state;
    buf_addf(&path, "%s/keyfile", tmpdir);
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        write_file("keyfile", cases[i].text, 0600);
        buf_reset(&key);
        buf_reset(&err);
        others = true;
        if (cases[i].key) {
            assert_int_equal(cli_read_key_file(path.buf, &key, &others, &err),
                             0);
            assert_string_equal(key.buf, cases[i].key);
            assert_false(others);
        } else {
            assert_int_equal(cli_read_key_file(path.buf, &key, &others, &err),
                             -1);
            assert_non_null(strstr(err.buf, cases[i].msg));
            assert_null(strstr(err.buf, "abc"));
        }
    }
    write_file("keyfile", "abc-123\n", 0644);
    buf_reset(&key);
    assert_int_equal(cli_read_key_file(path.buf, &key, &others, &err), 0);
    assert_true(others);
    buf_reset(&err);
    assert_int_equal(cli_read_key_file("/nonexistent/key", &key, &others, &err),
                     -1);
    assert_non_null(strstr(err.buf, "/nonexistent/key"));
    buf_release(&path);
    buf_release(&key);
    buf_release(&err);
}

/*
 * Against immich-sim: the key read from IMMICH_API_KEY_FILE (with its
 * newline) replaces the file's wrong one, a readable key file is warned
 * about, and --api-trace logs each request without the key.
 */
static void test_key_file_and_api_trace_against_sim(void **state)
{
    static const char *const args[] = {"--preset",  "small", "--seed", "1",
                                       "--latency", "off",   NULL};
    struct sim_proc s;
    struct buf err = BUF_INIT, url = BUF_INIT, cfg = BUF_INIT, keyf = BUF_INIT,
               text = BUF_INIT, keyvar = BUF_INIT;
    const char *env[4];
    struct run r;

    (void)state;
    if (sim_start(&s, args, &err) < 0)
        fail_msg("%s", err.buf);
    write_file("wrongkey.yaml",
               "server: {host: photos.lan, port: 2283, api_key: not-the-"
               "key}\nenable_album_name_strip: false\nskip: {}\n"
               "conversions: {}\nclassification: {}\n"
               "album_detection_from_folders: {enabled: false, "
               "excluded_paths: []}\n",
               0600);
    buf_addf(&url, "IMMICH_URL=%s", s.url);
    buf_addf(&cfg, "IMMICH_AUTOTAG_CONFIG=%s/wrongkey.yaml", tmpdir);
    buf_addf(&keyf, "%s/sim.key", tmpdir);
    buf_addf(&keyvar, "IMMICH_API_KEY_FILE=%s", keyf.buf);
    buf_addf(&text, "%s\n", s.api_key);
    write_file("sim.key", text.buf, 0644);
    env[0] = url.buf;
    env[1] = cfg.buf;
    env[2] = NULL;
    /* without the file: the configuration's wrong key is refused */
    run(&r, env, "check", NULL);
    assert_int_equal(r.code, 3);
    run_release(&r);
    env[2] = keyvar.buf;
    env[3] = NULL;
    run(&r, env, "check", NULL);
    assert_int_equal(r.code, 0);
    assert_non_null(strstr(r.err.buf, "sim.key' can be read by other "
                                      "users"));
    assert_null(strstr(r.err.buf, s.api_key));
    assert_null(strstr(r.out.buf, s.api_key));
    run_release(&r);
    /* private file, given as an option, traced */
    write_file("sim.key", text.buf, 0600);
    env[2] = NULL;
    run(&r, env, "check", "--api-trace", "--api-key-file", keyf.buf, NULL);
    assert_int_equal(r.code, 0);
    assert_null(strstr(r.err.buf, "can be read by other users"));
    assert_non_null(strstr(r.err.buf, "api: GET /api/server/version 200 "));
    assert_non_null(strstr(r.err.buf, " ms "));
    assert_non_null(strstr(r.err.buf, " bytes in 0 out retry 0\n"));
    assert_null(strstr(r.err.buf, s.api_key));
    run_release(&r);
    /* no trace without the option */
    run(&r, env, "check", "--api-key-file", keyf.buf, NULL);
    assert_int_equal(r.code, 0);
    assert_null(strstr(r.err.buf, "api: GET"));
    run_release(&r);
    assert_int_equal(sim_stop(&s), 0);
    buf_release(&err);
    buf_release(&url);
    buf_release(&cfg);
    buf_release(&keyf);
    buf_release(&keyvar);
    buf_release(&text);
}

/* Upstream's older schemas (docs/migrating.md): each key says where it went. */
static void test_old_upstream_keys_say_where_they_went(void **state)
{
    static const struct {
        const char *yaml, *msg;
    } cases[] = {
        {"classification_rules:\n  - tag_names: [meme]\n",
         "old.yaml:6:1: unknown key 'classification_rules' (upstream's "
         "older schema: renamed to classification.rules, the same list "
         "inside the classification block; see docs/migrating.md)"},
        {"auto_tags: {enabled: true}\n",
         "old.yaml:6:1: unknown key 'auto_tags' (upstream's older schema: "
         "split into classification.autotag_unknown and autotag_conflict"},
        {"features: {enable_checkpoint_resume: false}\n",
         "old.yaml:6:1: unknown key 'features' (upstream's older schema: "
         "dissolved: enable_album_name_strip and "
         "album_detection_from_folders are top-level keys, date_correction "
         "is duplicate_processing.date_correction, enable_checkpoint_resume "
         "is skip.resume_previous; see docs/migrating.md)"},
        {"enable_checkpoint_resume: false\n",
         "old.yaml:6:1: unknown key 'enable_checkpoint_resume' (upstream's "
         "older schema: renamed to skip.resume_previous; see "
         "docs/migrating.md)"},
        {"filter_out_asset_links: []\n",
         "unknown key 'filter_out_asset_links' (upstream's older schema: "
         "replaced by filters.filter_out: [{asset_links: [...]}]"},
    };
    static const char base[] =
        "server: {host: photos.lan, port: 2283, api_key: k}\n"
        "enable_album_name_strip: false\nskip: {}\nclassification: {}\n"
        "album_detection_from_folders: {enabled: false, excluded_paths: []}\n";
    struct buf text = BUF_INIT, err = BUF_INIT, warn = BUF_INIT;
    struct config *c = NULL;
    size_t i;

    (void)state;
    for (i = 0; i < ARRAY_SIZE(cases); i++) {
        buf_reset(&text);
        buf_reset(&err);
        buf_addf(&text, "%s%sconversions: {}\n", base, cases[i].yaml);
        assert_int_equal(
            config_load_mem("old.yaml", text.buf, text.len, &c, &err, &warn),
            -1);
        if (!strstr(err.buf, cases[i].msg))
            fail_msg("got: %s\nwanted: %s", err.buf, cases[i].msg);
    }
    /* conversions as a list, the shape before the block */
    buf_reset(&text);
    buf_reset(&err);
    buf_addf(&text,
             "%sconversions:\n  - source: {tag_names: [a]}\n"
             "    destination: {tag_names: [b]}\n",
             base);
    assert_int_equal(
        config_load_mem("old.yaml", text.buf, text.len, &c, &err, &warn), -1);
    assert_non_null(strstr(err.buf, "old.yaml:7:3: conversions: expected a "
                                    "mapping, got a list (upstream's older "
                                    "schema: conversions is now a block: "
                                    "conversions: {enabled: true, "
                                    "conversions: [the list]}; see "
                                    "docs/migrating.md)"));
    /* a plain typo still gets the spelling hint */
    buf_reset(&text);
    buf_reset(&err);
    buf_addf(&text, "%sconversions: {}\nclasification: {}\n", base);
    assert_int_equal(
        config_load_mem("old.yaml", text.buf, text.len, &c, &err, &warn), -1);
    assert_non_null(strstr(err.buf, "(did you mean 'classification'?)"));
    buf_release(&text);
    buf_release(&err);
    buf_release(&warn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_options_parse_anywhere_with_both_forms),
        cmocka_unit_test(test_option_errors_name_the_option),
        cmocka_unit_test(test_config_discovery_order),
        cmocka_unit_test(test_template_equals_upstream_but_sharing_off),
        cmocka_unit_test(test_binary_exit_codes_and_usage_errors),
        cmocka_unit_test(test_short_options_cluster_like_getopt),
        cmocka_unit_test(test_watch_value_is_optional),
        cmocka_unit_test(test_watch_counts_only_news),
        cmocka_unit_test(test_every_option_has_a_working_env_var),
        cmocka_unit_test(test_env_values_precedence_and_errors),
        cmocka_unit_test(test_json_only_where_it_means_something),
        cmocka_unit_test(test_read_key_file),
        cmocka_unit_test(test_key_file_and_api_trace_against_sim),
        cmocka_unit_test(test_old_upstream_keys_say_where_they_went),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
