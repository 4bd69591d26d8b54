/*
 * cli_config.c: finding the configuration file and loading it for a
 * subcommand.  The search follows upstream's YAML places
 * (docs/upstream-behavior.md §2.1) with two documented deviations:
 * --config and IMMICH_AUTOTAG_CONFIG come first, and config.yml is
 * accepted next to config.yaml.  Python configurations cannot be read:
 * the user is told to convert them.
 */
#include "cli/cli.h"

#include <sys/stat.h>

#include "core/fsutil.h"
#include "core/log.h"

static bool exists(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0;
}

static bool is_python(const char *path)
{
    size_t n = strlen(path);

    return n >= 3 && !strcmp(path + n - 3, ".py");
}

static int python_refusal(const char *path, struct buf *err)
{
    buf_addf(err,
             "%s is a Python configuration, which this tool cannot "
             "read: convert it to YAML (same keys; `immich-autotag "
             "config template` prints a starting file) and save it as "
             "config.yaml",
             path);
    return -1;
}

static int named(const char *what, const char *path, struct buf *out,
                 struct buf *err)
{
    if (is_python(path))
        return python_refusal(path, err);
    if (!exists(path)) {
        buf_addf(err, "%s '%s': no such file", what, path);
        return -1;
    }
    buf_addstr(out, path);
    return 0;
}

int cli_find_config(const char *opt_path, const char *env_config,
                    const char *xdg_config_home, const char *home,
                    struct buf *path, struct buf *err)
{
    static const char *const names[] = {"config.yaml", "config.yml"};
    struct buf dirs[2] = {BUF_INIT, BUF_INIT}, cand = BUF_INIT;
    struct buf searched = BUF_INIT, py = BUF_INIT;
    size_t d, n, ndirs = 0;
    int ret = -1;

    if (opt_path)
        return named("--config", opt_path, path, err);
    if (env_config && *env_config)
        return named("IMMICH_AUTOTAG_CONFIG", env_config, path, err);
    if (xdg_config_home && *xdg_config_home)
        buf_addf(&dirs[ndirs++], "%s/immich_autotag", xdg_config_home);
    else if (home && *home)
        buf_addf(&dirs[ndirs++], "%s/.config/immich_autotag", home);
    if (home && *home)
        buf_addf(&dirs[ndirs++], "%s/.immich_autotag", home);
    for (d = 0; d < ndirs; d++) {
        for (n = 0; n < ARRAY_SIZE(names); n++) {
            buf_reset(&cand);
            buf_addf(&cand, "%s/%s", dirs[d].buf, names[n]);
            buf_addf(&searched, "%s%s", searched.len ? ", " : "", cand.buf);
            if (exists(cand.buf)) {
                buf_addstr(path, cand.buf);
                ret = 0;
                goto out;
            }
        }
        buf_reset(&cand);
        buf_addf(&cand, "%s/config.py", dirs[d].buf);
        if (!py.len && exists(cand.buf))
            buf_addstr(&py, cand.buf);
    }
    if (py.len) {
        python_refusal(py.buf, err);
        goto out;
    }
    buf_addf(err,
             "no configuration file found; looked for %s; use --config "
             "PATH or IMMICH_AUTOTAG_CONFIG, or start from `immich-"
             "autotag config template`",
             searched.len ? searched.buf : "nothing (HOME is not set)");
out:
    buf_release(&dirs[0]);
    buf_release(&dirs[1]);
    buf_release(&cand);
    buf_release(&searched);
    buf_release(&py);
    return ret;
}

int cli_read_key_file(const char *path, struct buf *key, bool *others_read,
                      struct buf *err)
{
    struct buf why = BUF_INIT;
    struct stat st;
    size_t i;

    if (fs_read_file(path, 4096, key, &why) < 0) {
        buf_addf(err, "API key file: %s", why.buf);
        buf_release(&why);
        return -1;
    }
    *others_read = !stat(path, &st) && (st.st_mode & S_IROTH);
    /* echo and editors end the file with a newline: drop one */
    if (key->len && key->buf[key->len - 1] == '\n')
        key->buf[--key->len] = '\0';
    if (key->len && key->buf[key->len - 1] == '\r')
        key->buf[--key->len] = '\0';
    for (i = 0; i < key->len; i++) {
        if ((unsigned char)key->buf[i] < 0x20 || key->buf[i] == 0x7f) {
            buf_addf(err,
                     "API key file '%s': the key holds a control "
                     "character or a second line at byte %zu",
                     path, i + 1);
            return -1;
        }
    }
    if (!key->len) {
        buf_addf(err, "API key file '%s' is empty", path);
        return -1;
    }
    return 0;
}

enum cli_status cli_stdout(const struct buf *out, const char *cmd)
{
    fputs(out->buf, stdout);
    if (fflush(stdout) != 0) {
        error_log("%s: cannot write to stdout", cmd);
        return CLI_FAILED;
    }
    return CLI_OK;
}

void cli_print_lines(enum log_level level, const char *msg)
{
    const char *p = msg;

    while (*p) {
        size_t n = strcspn(p, "\n");

        LOG_AT(level, "%.*s", (int)n, p);
        p += n;
        if (*p)
            p++;
    }
}

void cli_print_errors(const char *msg)
{
    cli_print_lines(LOG_ERROR, msg);
}

void cli_print_warnings(const char *msg)
{
    cli_print_lines(LOG_WARN, msg);
}

enum cli_status cli_load_config(struct cli_ctx *ctx)
{
    struct buf err = BUF_INIT, warn = BUF_INIT, file_key = BUF_INIT;
    enum cli_status st = CLI_USAGE;
    bool env_path = cli_opts_from_env(&ctx->opts, "config");
    const char *key = getenv("IMMICH_API_KEY");

    if (ctx->cfg)
        return CLI_OK;
    buf_reset(&ctx->config_path);
    if (ctx->opts.api_key_file) {
        bool others_read = false;

        if (cli_read_key_file(ctx->opts.api_key_file, &file_key, &others_read,
                              &err) < 0)
            goto out;
        log_add_secret(file_key.buf);
        key = file_key.buf;
        if (others_read)
            warn_log("API key file '%s' can be read by other users: chmod "
                     "o-r it",
                     ctx->opts.api_key_file);
    }
    if (cli_find_config(env_path ? NULL : ctx->opts.config_path,
                        env_path ? ctx->opts.config_path : NULL,
                        getenv("XDG_CONFIG_HOME"), getenv("HOME"),
                        &ctx->config_path, &err) < 0)
        goto out;
    if (config_load_file(ctx->config_path.buf, &ctx->cfg, &err, &warn) < 0)
        goto out;
    if (ctx->cfg->server.api_key)
        log_add_secret(ctx->cfg->server.api_key);
    if (key)
        log_add_secret(key);
    cli_print_warnings(warn.buf);
    if (config_apply_env_values(ctx->cfg, ctx->opts.url, key, &err) < 0 ||
        config_require_server(ctx->cfg, &err) < 0) {
        config_free(ctx->cfg);
        ctx->cfg = NULL;
        goto out;
    }
    st = CLI_OK;
out:
    cli_print_errors(err.buf);
    buf_release(&err);
    buf_release(&warn);
    buf_release(&file_key);
    return st;
}

enum cli_status cli_load_server_config(struct cli_ctx *ctx)
{
    enum cli_status st = cli_load_config(ctx);

    if (st != CLI_OK)
        return st;
    if (config_server_is_placeholder(ctx->cfg)) {
        error_log("%s: the server still holds the template placeholders: "
                  "fill in your server (server.host, server.port and "
                  "server.api_key, or IMMICH_URL and IMMICH_API_KEY)",
                  ctx->cfg->path);
        return CLI_USAGE;
    }
    return CLI_OK;
}
