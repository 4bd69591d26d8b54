/*
 * main.c: the subcommand table and the exit codes of immich-autotag.
 * Everything else lives in src/cli (options in cli_opts.c, one file per
 * subcommand).
 */
#include "cli/cli.h"

#include "core/log.h"
#include "core/secure.h"
#include "http/http_engine.h"

/* The exit codes, the one list of them (also in --help and docs/cli.md). */
enum exit_code {
    EXIT_DONE = 0,   /* the command did what was asked */
    EXIT_FAILED = 1, /* the run failed, or a write request failed */
    EXIT_USAGE = 2,  /* usage or configuration error */
    EXIT_SERVER = 3, /* server unreachable or authentication refused */
};

static const struct command {
    const char *name;
    enum cli_status (*fn)(struct cli_ctx *ctx);
    const char *help;
    size_t max_args; /* operands the command takes */
    bool json;       /* has a --json output */
    const char *summary;
} commands[] = {
    {"run", cmd_run, cmd_run_help, 0, false,
     "apply the rules to the library (the default)"},
    {"plan", cmd_plan, cmd_plan_help, 0, true,
     "print what a run would change; writes nothing"},
    {"check", cmd_check, cmd_check_help, 0, false,
     "check the configuration, the server and the API key"},
    {"config", cmd_config, cmd_config_help, 1, false,
     "print the effective configuration, or `config template`"},
    {"apply", cmd_apply, cmd_apply_help, 1, false,
     "apply a plan saved by `plan --json`"},
    {"undo", cmd_undo, cmd_undo_help, 1, true,
     "take back the changes a run made"},
    {"explain", cmd_explain, cmd_explain_help, SIZE_MAX, true,
     "why the rules decide what they do about assets"},
    {"report", cmd_report, cmd_report_help, 1, false,
     "write a run's report.html again"},
    {"history", cmd_history, cmd_history_help, 0, false,
     "list past runs with their headline figures"},
};

extern char **environ;

static const char exit_help[] =
    "Exit codes:\n"
    "  0  done\n"
    "  1  the run failed, or a write request failed (see the report)\n"
    "  2  usage or configuration error\n"
    "  3  server unreachable, API key refused or lacking a permission\n";

static void usage(FILE *f, const char *options)
{
    size_t i;

    fputs("usage: immich-autotag [command] [options]\n\n"
          "Keeps an Immich photo library organised by rules (tags, albums,\n"
          "sharing), reading the immich-autotag YAML configuration.\n\n"
          "Commands:\n",
          f);
    for (i = 0; i < ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n%s\n%s\n", options, exit_help);
    fputs("Environment: IMMICH_API_KEY (the key), the option variables above,\n"
          "XDG_CONFIG_HOME, HOME (see docs/cli.md).\n",
          f);
}

static int exit_for(enum cli_status st)
{
    switch (st) {
    case CLI_OK:
        return EXIT_DONE;
    case CLI_FAILED:
        return EXIT_FAILED;
    case CLI_USAGE:
        return EXIT_USAGE;
    case CLI_SERVER:
        return EXIT_SERVER;
    }
    return EXIT_FAILED;
}

int main(int argc, char **argv)
{
    struct cli_ctx ctx = {0};
    struct buf err = BUF_INIT, text = BUF_INIT;
    const struct command *cmd = &commands[0];
    int code = EXIT_USAGE;
    size_t i;

    /* Before the API key is read: no core dump may ever hold it. */
    if (secure_process(&err) < 0) {
        fprintf(stderr, "immich-autotag: %s\n", err.buf);
        code = EXIT_FAILED;
        goto out;
    }
    xalloc_tune();
    ctx.argv0 = "immich-autotag";
    buf_init(&ctx.config_path, 0);
    if (cli_opts_parse(argc, argv, &ctx.opts, &err) < 0 ||
        cli_opts_apply_env(&ctx.opts, (const char *const *)environ, &err) < 0) {
        fprintf(stderr,
                "immich-autotag: %s\n"
                "Try 'immich-autotag --help'.\n",
                err.buf);
        goto out;
    }
    if (ctx.opts.command) {
        for (i = 0; i < ARRAY_SIZE(commands); i++)
            if (!strcmp(commands[i].name, ctx.opts.command))
                break;
        if (i == ARRAY_SIZE(commands)) {
            fprintf(stderr,
                    "immich-autotag: unknown command '%s'\n"
                    "Try 'immich-autotag --help'.\n",
                    ctx.opts.command);
            goto out;
        }
        cmd = &commands[i];
    }
    if (ctx.opts.version) {
        cli_version(&text);
        fputs(text.buf, stdout);
        code = EXIT_DONE;
        goto out;
    }
    if (ctx.opts.help) {
        cli_opts_help(&text);
        if (ctx.opts.command)
            fprintf(stdout, "%s\n%s\n%s", cmd->help, text.buf, exit_help);
        else
            usage(stdout, text.buf);
        code = EXIT_DONE;
        goto out;
    }
    /* From the environment --json applies where it means something; on
     * the command line elsewhere it is a mistake worth saying. */
    if (ctx.opts.json && !cmd->json) {
        if (cli_opts_seen(&ctx.opts, "json")) {
            fprintf(stderr,
                    "immich-autotag %s: --json has no meaning here "
                    "(only plan, undo and explain print JSON)\n"
                    "Try 'immich-autotag %s --help'.\n",
                    cmd->name, cmd->name);
            goto out;
        }
        ctx.opts.json = false;
    }
    if (ctx.opts.args_nr > cmd->max_args) {
        fprintf(stderr,
                "immich-autotag %s: unexpected argument '%s'\n"
                "Try 'immich-autotag %s --help'.\n",
                cmd->name, ctx.opts.args[cmd->max_args], cmd->name);
        goto out;
    }
    log_set_format(ctx.opts.log_format);
    if (ctx.opts.api_trace)
        log_set_trace(LOG_TRACE_API);
    if (ctx.opts.quiet)
        log_set_level(LOG_ERROR);
    else if (ctx.opts.verbose)
        log_set_level(ctx.opts.verbose > 1 ? LOG_DEBUG : LOG_VERBOSE);
    code = exit_for(cmd->fn(&ctx));
out:
    config_free(ctx.cfg);
    buf_release(&ctx.config_path);
    cli_opts_release(&ctx.opts);
    buf_release(&err);
    buf_release(&text);
    http_global_cleanup();
    log_release();
    return code;
}
