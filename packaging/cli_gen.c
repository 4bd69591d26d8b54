/*
 * cli_gen.c: writes what is derived from the option table of
 * src/cli/cli_opts.c, so that docs, man page and completion cannot drift
 * from the parser:
 *
 *     cli-gen markdown             the option table of docs/cli.md
 *     cli-gen scdoc TEMPLATE.scd   TEMPLATE with its "@OPTIONS@" line
 *                                  replaced by the options (man page)
 *     cli-gen bash                 the bash completion script
 *
 * A build-time tool: it is not installed.
 */
#include "cli/cli_opts.h"

/* The subcommands, as main.c's table lists them. */
static const char commands[] =
    "run plan check config apply undo explain report history";

static const char *md_escape(const char *s, struct buf *tmp)
{
    buf_reset(tmp);
    for (; *s; s++) {
        if (*s == '\n')
            buf_addch(tmp, ' ');
        else if (*s == '|')
            buf_addstr(tmp, "\\|");
        else
            buf_addch(tmp, *s);
    }
    return tmp->buf;
}

static void markdown(struct buf *out)
{
    struct buf tmp = BUF_INIT;
    size_t i;

    buf_addstr(out, "| option | environment | meaning |\n"
                    "|--------|-------------|---------|\n");
    for (i = 0; i < cli_opt_count(); i++) {
        struct cli_opt_info o;

        cli_opt_get(i, &o);
        buf_addstr(out, "| `");
        if (o.short_name)
            buf_addf(out, "-%c, ", o.short_name);
        buf_addf(out, "--%s%s%s` | ", o.name, o.arg ? " " : "",
                 o.arg ? o.arg : "");
        if (*o.env)
            buf_addf(out, "`%s=%s` | ", o.env, o.example ? o.example : "1");
        else
            buf_addstr(out, "— | ");
        buf_addf(out, "%s |\n", md_escape(o.help, &tmp));
    }
    buf_release(&tmp);
}

/* scdoc: a definition list, the option in bold, its variable after. */
static void scdoc_options(struct buf *out)
{
    size_t i;

    for (i = 0; i < cli_opt_count(); i++) {
        struct cli_opt_info o;
        const char *h;

        cli_opt_get(i, &o);
        if (o.short_name)
            buf_addf(out, "*-%c*, ", o.short_name);
        buf_addf(out, "*--%s*", o.name);
        if (o.arg)
            buf_addf(out, " _%s_", o.arg);
        buf_addstr(out, "\n\t");
        for (h = o.help; *h; h++)
            buf_addch(out, *h == '\n' ? ' ' : *h);
        buf_addstr(out, ".");
        if (*o.env)
            buf_addf(out, " Environment: *%s*.", o.env);
        buf_addstr(out, "\n\n");
    }
}

static int scdoc(const char *template_path, struct buf *out)
{
    FILE *f = fopen(template_path, "r");
    char line[4096];

    if (!f) {
        fprintf(stderr, "cli-gen: cannot open '%s'\n", template_path);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        if (!strcmp(line, "@OPTIONS@\n"))
            scdoc_options(out);
        else
            buf_addstr(out, line);
    }
    (void)fclose(f);
    return 0;
}

/* Completion of an option's value, from its placeholder. */
static const char *value_completion(const char *arg)
{
    if (!strcmp(arg, "PATH") || !strcmp(arg, "FILE"))
        return "_filedir";
    if (!strcmp(arg, "DIR"))
        return "_filedir -d";
    if (!strcmp(arg, "FMT"))
        return "COMPREPLY=($(compgen -W 'text json' -- \"$cur\"))";
    if (!strcmp(arg, "D"))
        return "COMPREPLY=($(compgen -W 'auto 2 3' -- \"$cur\"))";
    return ":"; /* a number, a URL, an interval: nothing to offer */
}

static void bash(struct buf *out)
{
    struct buf words = BUF_INIT;
    size_t i;

    buf_addf(out, "# bash completion for immich-autotag; generated from the "
                  "option table\n# (src/cli/cli_opts.c) by cli-gen.\n\n"
                  "_immich_autotag()\n{\n"
                  "    local cur prev words cword split\n"
                  "    _init_completion -s || return\n\n"
                  "    case $prev in\n");
    for (i = 0; i < cli_opt_count(); i++) {
        struct cli_opt_info o;

        cli_opt_get(i, &o);
        buf_addf(&words, "%s--%s", words.len ? " " : "", o.name);
        if (o.short_name)
            buf_addf(&words, " -%c", o.short_name);
        if (!o.arg)
            continue;
        buf_addf(out, "        --%s", o.name);
        if (o.short_name)
            buf_addf(out, " | -%c", o.short_name);
        buf_addf(out,
                 ")\n            %s\n            return\n"
                 "            ;;\n",
                 value_completion(o.arg));
    }
    buf_addf(out,
             "    esac\n    $split && return\n\n"
             "    if [[ $cur == -* ]]; then\n"
             "        COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n"
             "        [[ ${COMPREPLY-} == *= ]] && compopt -o nospace\n"
             "        return\n    fi\n"
             "    local i\n"
             "    for ((i = 1; i < cword; i++)); do\n"
             "        case ${words[i]} in\n"
             "            config)\n"
             "                [[ $i -eq $((cword - 1)) ]] &&\n"
             "                    COMPREPLY=($(compgen -W 'template' "
             "-- \"$cur\"))\n"
             "                return\n                ;;\n"
             "            apply)\n"
             "                _filedir json\n"
             "                return\n                ;;\n"
             "            %s)\n"
             "                return\n                ;;\n"
             "        esac\n    done\n"
             "    COMPREPLY=($(compgen -W '%s' -- \"$cur\"))\n"
             "} &&\n"
             "    complete -F _immich_autotag immich-autotag\n",
             words.buf, "run | plan | check", commands);
    buf_release(&words);
}

int main(int argc, char **argv)
{
    struct buf out = BUF_INIT;
    int ret = 2;

    if (argc == 2 && !strcmp(argv[1], "markdown")) {
        markdown(&out);
    } else if (argc == 2 && !strcmp(argv[1], "bash")) {
        bash(&out);
    } else if (argc == 3 && !strcmp(argv[1], "scdoc")) {
        if (scdoc(argv[2], &out) < 0)
            goto out;
    } else {
        fputs("usage: cli-gen markdown | bash | scdoc TEMPLATE\n", stderr);
        goto out;
    }
    fputs(out.buf, stdout);
    ret = fflush(stdout) ? 1 : 0;
out:
    buf_release(&out);
    return ret;
}
