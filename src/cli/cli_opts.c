/*
 * cli_opts.c: the option parser.  A table names every option, whether it
 * takes a value, and how the value is checked; the loop walks argv once.
 */
#include "cli/cli_opts.h"

#include "core/numparse.h"

enum opt_id {
    O_CONFIG, O_DRY_RUN, O_JSON, O_CONCURRENCY, O_CA_FILE, O_INSECURE,
    O_MAX_ITEMS, O_LOG_DIR, O_LOOP, O_QUIET, O_VERBOSE, O_LOG_FORMAT,
    O_DIALECT, O_METRICS_JSON, O_FULL_READ, O_HELP, O_VERSION,
    O_CONNECT_TIMEOUT, O_STALL_TIMEOUT, O_TIMEOUT,
};

static const struct opt {
    const char *name; /* without the dashes */
    char short_name;  /* 0 = none */
    bool has_value;
    enum opt_id id;
} opts[] = {
    { "config", 'c', true, O_CONFIG },
    { "dry-run", 'n', false, O_DRY_RUN },
    { "json", 0, false, O_JSON },
    { "concurrency", 'j', true, O_CONCURRENCY },
    { "ca-file", 0, true, O_CA_FILE },
    { "insecure", 'k', false, O_INSECURE },
    { "max-items", 0, true, O_MAX_ITEMS },
    { "log-dir", 0, true, O_LOG_DIR },
    { "loop", 0, true, O_LOOP },
    { "quiet", 'q', false, O_QUIET },
    { "verbose", 'v', false, O_VERBOSE },
    { "log-format", 0, true, O_LOG_FORMAT },
    { "dialect", 0, true, O_DIALECT },
    { "metrics-json", 0, true, O_METRICS_JSON },
    { "full-read", 0, false, O_FULL_READ },
    { "help", 'h', false, O_HELP },
    { "version", 0, false, O_VERSION },
    { "connect-timeout", 0, true, O_CONNECT_TIMEOUT },
    { "stall-timeout", 0, true, O_STALL_TIMEOUT },
    { "timeout", 0, true, O_TIMEOUT },
};

const char cli_options_help[] =
    "Options (before or after the command):\n"
    "  -c, --config PATH      configuration file (else IMMICH_AUTOTAG_CONFIG,\n"
    "                         then the standard places, see docs/cli.md)\n"
    "  -n, --dry-run          compute the changes but write nothing\n"
    "      --json             machine-readable output on stdout\n"
    "  -j, --concurrency N    parallel requests to the server (1-64)\n"
    "      --ca-file PATH     trust the CA certificates in PATH (https)\n"
    "  -k, --insecure         do not verify the server's TLS certificate\n"
    "      --max-items N      process at most N assets (overrides the file)\n"
    "      --log-dir DIR      where run directories are written\n"
    "      --loop INTERVAL    run again every INTERVAL (300, 45s, 5m, 1h)\n"
    "  -q, --quiet            errors only\n"
    "  -v, --verbose          more detail (twice: debug)\n"
    "      --log-format FMT   text or json (diagnostics on stderr)\n"
    "      --dialect D        Immich API dialect: auto, 2 or 3\n"
    "      --metrics-json FILE  write request metrics to FILE\n"
    "      --full-read        read every album's members again, even those\n"
    "                         remembered unchanged from earlier runs\n"
    "      --connect-timeout S  give up a connection attempt after S seconds\n"
    "                         (default 10)\n"
    "      --stall-timeout S  give up an answer after S seconds without data\n"
    "                         (default 30; retried once)\n"
    "      --timeout S        give up a request, retries included, after S\n"
    "                         seconds (default 300)\n"
    "  -h, --help             this help (also after a command)\n"
    "      --version          print the version\n";

long cli_parse_interval(const char *s)
{
    size_t len = strlen(s);
    long mult = 1;
    int64_t v;

    if (!len)
        return -1;
    switch (s[len - 1]) {
    case 's':
        len--;
        break;
    case 'm':
        mult = 60;
        len--;
        break;
    case 'h':
        mult = 3600;
        len--;
        break;
    case 'd':
        mult = 86400;
        len--;
        break;
    default:
        break;
    }
    if (num_parse_i64(s, len, 1, 366L * 86400, &v) < 0 ||
        v * mult > 366L * 86400)
        return -1;
    return (long)v * mult;
}

static int number(const char *name, const char *v, long min, long max,
                  long *out, struct buf *err)
{
    int64_t n;

    if (num_parse_i64(v, strlen(v), min, max, &n) < 0) {
        buf_addf(err, "option '--%s' needs a number from %ld to %ld, not "
                      "'%s'", name, min, max, v);
        return -1;
    }
    *out = (long)n;
    return 0;
}

static int set(struct cli_opts *o, const struct opt *d, const char *v,
               struct buf *err)
{
    switch (d->id) {
    case O_CONFIG:
        o->config_path = v;
        break;
    case O_DRY_RUN:
        o->dry_run = true;
        break;
    case O_JSON:
        o->json = true;
        break;
    case O_CONCURRENCY:
        return number(d->name, v, 1, 64, &o->concurrency, err);
    case O_CA_FILE:
        o->ca_file = v;
        break;
    case O_INSECURE:
        o->insecure = true;
        break;
    case O_MAX_ITEMS:
        return number(d->name, v, 0, 1000000000L, &o->max_items, err);
    case O_LOG_DIR:
        o->log_dir = v;
        break;
    case O_LOOP:
        o->loop_seconds = cli_parse_interval(v);
        if (o->loop_seconds < 0) {
            buf_addf(err, "option '--loop' needs an interval such as 300, "
                          "45s, 5m or 1h (at most a year), not '%s'", v);
            return -1;
        }
        break;
    case O_QUIET:
        o->quiet = true;
        break;
    case O_VERBOSE:
        o->verbose++;
        break;
    case O_LOG_FORMAT:
        if (!strcmp(v, "text"))
            o->log_format = LOG_FORMAT_TEXT;
        else if (!strcmp(v, "json"))
            o->log_format = LOG_FORMAT_JSON;
        else {
            buf_addf(err, "option '--log-format' takes text or json, not "
                          "'%s'", v);
            return -1;
        }
        break;
    case O_DIALECT:
        if (!strcmp(v, "auto"))
            o->dialect = CLI_DIALECT_AUTO;
        else if (!strcmp(v, "2"))
            o->dialect = CLI_DIALECT_V2;
        else if (!strcmp(v, "3"))
            o->dialect = CLI_DIALECT_V3;
        else {
            buf_addf(err, "option '--dialect' takes auto, 2 or 3, not '%s'",
                     v);
            return -1;
        }
        break;
    case O_METRICS_JSON:
        o->metrics_json = v;
        break;
    case O_FULL_READ:
        o->full_read = true;
        break;
    case O_HELP:
        o->help = true;
        break;
    case O_VERSION:
        o->version = true;
        break;
    case O_CONNECT_TIMEOUT:
        return number(d->name, v, 1, 3600, &o->connect_timeout_s, err);
    case O_STALL_TIMEOUT:
        return number(d->name, v, 1, 3600, &o->stall_timeout_s, err);
    case O_TIMEOUT:
        return number(d->name, v, 1, 86400, &o->timeout_s, err);
    }
    return 0;
}

static const struct opt *find_long(const char *name, size_t len)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(opts); i++)
        if (strlen(opts[i].name) == len && !memcmp(opts[i].name, name, len))
            return &opts[i];
    return NULL;
}

static const struct opt *find_short(char c)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(opts); i++)
        if (opts[i].short_name == c)
            return &opts[i];
    return NULL;
}

static void positional(struct cli_opts *o, const char *word, size_t *alloc)
{
    if (!o->command) {
        o->command = word;
        return;
    }
    ALLOC_GROW(o->args, o->args_nr + 1, *alloc);
    o->args[o->args_nr++] = word;
}

int cli_opts_parse(int argc, char **argv, struct cli_opts *o,
                   struct buf *err)
{
    size_t alloc = 0;
    bool only_words = false;
    int i;

    memset(o, 0, sizeof(*o));
    o->max_items = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL, *eq;
        const struct opt *d;

        if (only_words || a[0] != '-' || !a[1]) {
            positional(o, a, &alloc);
            continue;
        }
        if (!strcmp(a, "--")) {
            only_words = true;
            continue;
        }
        if (a[1] == '-') {
            eq = strchr(a + 2, '=');
            d = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (!d) {
                buf_addf(err, "unknown option '%.*s'",
                         (int)(eq ? (size_t)(eq - a) : strlen(a)), a);
                return -1;
            }
            if (eq && !d->has_value) {
                buf_addf(err, "option '--%s' takes no value", d->name);
                return -1;
            }
            v = eq ? eq + 1 : NULL;
        } else {
            d = a[2] ? NULL : find_short(a[1]);
            if (!d) {
                buf_addf(err, "unknown option '%s'", a);
                return -1;
            }
        }
        if (d->has_value && !v) {
            if (i + 1 >= argc) {
                buf_addf(err, "option '--%s' needs a value", d->name);
                return -1;
            }
            v = argv[++i];
        }
        if (set(o, d, v, err) < 0)
            return -1;
    }
    return 0;
}

void cli_opts_release(struct cli_opts *o)
{
    free(o->args);
    o->args = NULL;
    o->args_nr = 0;
}
