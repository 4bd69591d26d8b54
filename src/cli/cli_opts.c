/*
 * cli_opts.c: the option parser.  One table names every option, whether
 * it takes a value, its help line and its environment variable; the loop
 * walks argv once, then the environment fills what argv left unset.
 */
#include "cli/cli_opts.h"

#include <ctype.h>
#include <strings.h>

#include "core/numparse.h"

enum opt_id {
    O_CONFIG,
    O_DRY_RUN,
    O_JSON,
    O_CONCURRENCY,
    O_CA_FILE,
    O_INSECURE,
    O_MAX_ITEMS,
    O_LOG_DIR,
    O_LOOP,
    O_WATCH,
    O_FULL_EVERY,
    O_QUIET,
    O_VERBOSE,
    O_LOG_FORMAT,
    O_DIALECT,
    O_METRICS_JSON,
    O_FULL_READ,
    O_FULL_READ_DAYS,
    O_HELP,
    O_VERSION,
    O_URL,
    O_API_KEY_FILE,
    O_API_TRACE,
    O_CONNECT_TIMEOUT,
    O_STALL_TIMEOUT,
    O_TIMEOUT,
    O_HOLD_JOBS,
    O_HOLD_JOBS_MAX,
};

/* env: NULL = IMMICH_AUTOTAG_<NAME>, NO_ENV = none (actions, not
 * settings).  example: a valid value, for docs and tests. */
#define NO_ENV ""
/* has_value: false, true, or this: "--name", "--name=V" or "--name V"
 * when V parses as an interval. */
#define OPTIONAL_VALUE 2

static const struct opt {
    const char *name; /* without the dashes */
    char short_name;  /* 0 = none */
    int has_value;    /* false, true or OPTIONAL_VALUE */
    enum opt_id id;
    const char *arg; /* value placeholder in help */
    const char *help;
    const char *example;
    const char *env;
} opts[] = {
    {"config", 'c', true, O_CONFIG, "PATH",
     "configuration file (else the standard places, see docs/cli.md)",
     "/etc/immich-autotag/config.yaml", NULL},
    {"url", 0, true, O_URL, "URL",
     "Immich server URL, overrides server.host/port\n"
     "(http:// or https://, optional port and path)",
     "http://photos.lan:2283", "IMMICH_URL"},
    {"api-key-file", 0, true, O_API_KEY_FILE, "PATH",
     "read the API key from PATH (one trailing newline\n"
     "is dropped); the key itself is never an option",
     "/run/credentials/immich-autotag.service/api-key", "IMMICH_API_KEY_FILE"},
    {"dry-run", 'n', false, O_DRY_RUN, NULL,
     "compute the changes but write nothing", NULL, NULL},
    {"json", 0, false, O_JSON, NULL,
     "plan, undo, explain: print JSON on stdout", NULL, NULL},
    {"concurrency", 'j', true, O_CONCURRENCY, "N",
     "parallel requests to the server (1-64)", "8", NULL},
    {"ca-file", 0, true, O_CA_FILE, "PATH",
     "trust the CA certificates in PATH (https)", "/etc/ssl/certs/my-ca.pem",
     NULL},
    {"insecure", 'k', false, O_INSECURE, NULL,
     "do not verify the server's TLS certificate", NULL, NULL},
    {"max-items", 0, true, O_MAX_ITEMS, "N",
     "process at most N assets (overrides the file)", "1000", NULL},
    {"log-dir", 0, true, O_LOG_DIR, "DIR", "where run directories are written",
     "/var/lib/immich-autotag/logs", NULL},
    {"loop", 0, true, O_LOOP, "INTERVAL",
     "run again every INTERVAL (300, 45s, 5m, 1h)", "1h", NULL},
    {"watch", 0, OPTIONAL_VALUE, O_WATCH, "[INTERVAL]",
     "stay running: every INTERVAL (default 60s) ask\n"
     "the server what changed, and run a pass when\n"
     "something did (not with --loop)",
     "5m", NULL},
    {"full-every", 0, true, O_FULL_EVERY, "INTERVAL",
     "with --watch: a full pass at start and every\n"
     "INTERVAL (default 24h)",
     "12h", NULL},
    {"quiet", 'q', false, O_QUIET, NULL, "errors only", NULL, NULL},
    {"verbose", 'v', false, O_VERBOSE, NULL, "more detail (-vv: debug)", NULL,
     NULL},
    {"log-format", 0, true, O_LOG_FORMAT, "FMT",
     "text or json (diagnostics on stderr)", "json", NULL},
    {"dialect", 0, true, O_DIALECT, "D", "Immich API dialect: auto, 2 or 3",
     "3", NULL},
    {"metrics-json", 0, true, O_METRICS_JSON, "FILE",
     "write request metrics to FILE", "metrics.json", NULL},
    {"full-read", 0, false, O_FULL_READ, NULL,
     "read every asset and album again, trusting\n"
     "nothing remembered by earlier runs",
     NULL, NULL},
    {"full-read-days", 0, true, O_FULL_READ_DAYS, "N",
     "read every asset again when the last full read\n"
     "is N days old (default 7; 0: every run)",
     "3", NULL},
    {"api-trace", 0, false, O_API_TRACE, NULL,
     "log each request: method, path, status, time,\n"
     "bytes, retries",
     NULL, NULL},
    {"connect-timeout", 0, true, O_CONNECT_TIMEOUT, "S",
     "give up a connection attempt after S seconds\n(default 10)", "5", NULL},
    {"stall-timeout", 0, true, O_STALL_TIMEOUT, "S",
     "give up an answer after S seconds without data\n"
     "(default 30; retried once)",
     "60", NULL},
    {"timeout", 0, true, O_TIMEOUT, "S",
     "give up a request, retries included, after S\nseconds (default 300)",
     "600", NULL},
    {"hold-jobs", 0, true, O_HOLD_JOBS, "N",
     "hold new tag and date writes while more than N\n"
     "jobs are ahead in the server's sidecar and\n"
     "metadata queues (needs job.read; default 5000,\n"
     "0 = never)",
     "2000", NULL},
    {"hold-jobs-max", 0, true, O_HOLD_JOBS_MAX, "S",
     "hold writes at most S seconds at a time\n(default 300)", "60", NULL},
    {"help", 'h', false, O_HELP, NULL, "this help (also after a command)", NULL,
     NO_ENV},
    {"version", 0, false, O_VERSION, NULL,
     "print the version, libraries and API lines", NULL, NO_ENV},
};

static void env_name(const struct opt *d, char *out, size_t size)
{
    size_t i, n;

    if (d->env) {
        snprintf(out, size, "%s", d->env);
        return;
    }
    n = (size_t)snprintf(out, size, "IMMICH_AUTOTAG_");
    for (i = 0; d->name[i] && n + 1 < size; i++, n++)
        out[n] = d->name[i] == '-' ? '_' : (char)toupper(d->name[i]);
    out[n] = '\0';
}

size_t cli_opt_count(void)
{
    return ARRAY_SIZE(opts);
}

void cli_opt_get(size_t i, struct cli_opt_info *out)
{
    const struct opt *d = &opts[i];

    out->name = d->name;
    out->short_name = d->short_name;
    out->arg = d->has_value ? (d->arg ? d->arg : "VALUE") : NULL;
    out->help = d->help ? d->help : "";
    out->example = d->example;
    env_name(d, out->env, sizeof(out->env));
}

void cli_opts_help(struct buf *out)
{
    size_t i;

    buf_addstr(out, "Options (before or after the command):\n");
    for (i = 0; i < ARRAY_SIZE(opts); i++) {
        struct cli_opt_info o;
        const char *h;
        size_t start = out->len, n;

        cli_opt_get(i, &o);
        if (o.short_name)
            buf_addf(out, "  -%c, --%s", o.short_name, o.name);
        else
            buf_addf(out, "      --%s", o.name);
        if (o.arg)
            buf_addf(out, " %s", o.arg);
        for (h = o.help; *h; h += n + (h[n] == '\n')) {
            n = strcspn(h, "\n");
            buf_addstr(out, "  ");
            while (out->len - start < 25)
                buf_addch(out, ' ');
            buf_add(out, h, n);
            buf_addch(out, '\n');
            start = out->len;
        }
    }
    buf_addstr(out, "Each option but --help and --version can be set in the "
                    "environment as\nIMMICH_AUTOTAG_<NAME> (--dry-run: "
                    "IMMICH_AUTOTAG_DRY_RUN=1), --url as\nIMMICH_URL, "
                    "--api-key-file as IMMICH_API_KEY_FILE; the command "
                    "line wins.\n");
}

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
        buf_addf(err,
                 "option '--%s' needs a number from %ld to %ld, not "
                 "'%s'",
                 name, min, max, v);
        return -1;
    }
    *out = (long)n;
    return 0;
}

static int env_flag(const char *v);

/* --watch, --watch=V, --watch V, IMMICH_AUTOTAG_WATCH=V: V an interval,
 * or a flag word (on: the default interval, off: no watch). */
static int set_watch(struct cli_opts *o, const char *v, struct buf *err)
{
    int flag = v ? env_flag(v) : 1;

    if (flag >= 0) {
        o->watch_seconds = flag ? CLI_WATCH_DEFAULT_S : 0;
        return 0;
    }
    o->watch_seconds = cli_parse_interval(v);
    if (o->watch_seconds < 0) {
        buf_addf(err,
                 "option '--watch' takes an interval such as 30s, 5m "
                 "or 1h (at most a year), not '%s'",
                 v);
        return -1;
    }
    return 0;
}

/*
 * Applies one option (from the command line or its environment variable)
 * to o: a case per row of the option table, numbers checked against
 * their range, so both sources are validated the same way.
 */
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
            buf_addf(err,
                     "option '--loop' needs an interval such as 300, "
                     "45s, 5m or 1h (at most a year), not '%s'",
                     v);
            return -1;
        }
        break;
    case O_WATCH:
        return set_watch(o, v, err);
    case O_FULL_EVERY:
        o->full_every_seconds = cli_parse_interval(v);
        if (o->full_every_seconds < 0) {
            buf_addf(err,
                     "option '--full-every' needs an interval such as "
                     "12h or 1d (at most a year), not '%s'",
                     v);
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
            buf_addf(err,
                     "option '--log-format' takes text or json, not "
                     "'%s'",
                     v);
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
            buf_addf(err, "option '--dialect' takes auto, 2 or 3, not '%s'", v);
            return -1;
        }
        break;
    case O_METRICS_JSON:
        o->metrics_json = v;
        break;
    case O_FULL_READ:
        o->full_read = true;
        break;
    case O_FULL_READ_DAYS:
        return number(d->name, v, 0, 3650, &o->full_read_days, err);
    case O_URL:
        o->url = v;
        break;
    case O_API_KEY_FILE:
        o->api_key_file = v;
        break;
    case O_API_TRACE:
        o->api_trace = true;
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
    case O_HOLD_JOBS:
        return number(d->name, v, 0, 100000000L, &o->hold_jobs, err);
    case O_HOLD_JOBS_MAX:
        return number(d->name, v, 1, 86400, &o->hold_jobs_max_s, err);
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

static uint64_t bit(const struct opt *d)
{
    return (uint64_t)1 << (d - opts);
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

/* The key on the command line would be in ps, /proc and shell history. */
static bool is_api_key_option(const char *name, size_t len)
{
    return (len == 7 && !memcmp(name, "api-key", 7)) ||
           (len == 3 && !memcmp(name, "key", 3));
}

/* "--name", "--name=value": the option and its inline value. */
static const struct opt *long_option(const char *a, const char **v,
                                     struct buf *err)
{
    const char *eq = strchr(a + 2, '=');
    size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
    const struct opt *d = find_long(a + 2, len);

    if (!d && is_api_key_option(a + 2, len)) {
        buf_addstr(err, "the API key is not accepted on the command line, "
                        "where other users can read it: use "
                        "--api-key-file PATH, IMMICH_API_KEY_FILE, "
                        "IMMICH_API_KEY or server.api_key in the "
                        "configuration file");
        return NULL;
    }
    if (!d) {
        buf_addf(err, "unknown option '%.*s'", (int)(len + 2), a);
        return NULL;
    }
    if (eq && !d->has_value) {
        buf_addf(err, "option '--%s' takes no value", d->name);
        return NULL;
    }
    *v = eq ? eq + 1 : NULL;
    return d;
}

int cli_opts_parse(int argc, char **argv, struct cli_opts *o, struct buf *err)
{
    size_t alloc = 0;
    bool only_words = false;
    int i;

    memset(o, 0, sizeof(*o));
    o->max_items = -1;
    o->hold_jobs = -1;
    o->full_read_days = -1;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
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
            d = long_option(a, &v, err);
            if (!d)
                return -1;
            if (d->has_value == OPTIONAL_VALUE && !v) {
                if (i + 1 < argc && cli_parse_interval(argv[i + 1]) >= 0)
                    v = argv[++i];
            } else if (d->has_value && !v) {
                if (i + 1 >= argc)
                    goto missing;
                v = argv[++i];
            }
            o->seen |= bit(d);
            if (set(o, d, v, err) < 0)
                return -1;
            continue;
        }
        /* A cluster of short options, getopt style: "-vv", "-nq", "-j8";
         * one taking a value takes the rest of the word or the next. */
        for (a++; *a; a++) {
            d = find_short(*a);
            if (!d) {
                buf_addf(err, "unknown option '-%c'", *a);
                return -1;
            }
            v = NULL;
            if (d->has_value) {
                if (a[1])
                    v = a + 1;
                else if (i + 1 < argc)
                    v = argv[++i];
                else
                    goto missing;
            }
            o->seen |= bit(d);
            if (set(o, d, v, err) < 0)
                return -1;
            if (v)
                break;
        }
        continue;
    missing:
        buf_addf(err, "option '--%s' needs a value", d->name);
        return -1;
    }
    return 0;
}

/* A flag's value from the environment: 1 true, 0 false, -1 malformed. */
static int env_flag(const char *v)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    size_t i;

    for (i = 0; i < ARRAY_SIZE(yes); i++) {
        if (!strcasecmp(v, yes[i]))
            return 1;
        if (!strcasecmp(v, no[i]))
            return 0;
    }
    return -1;
}

static const char *env_value(const char *const *envp, const char *name)
{
    size_t n = strlen(name);

    for (; envp && *envp; envp++)
        if (!strncmp(*envp, name, n) && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

static int env_set(struct cli_opts *o, const struct opt *d, const char *var,
                   const char *v, struct buf *err)
{
    struct buf why = BUF_INIT;
    int64_t count;
    int flag;

    if (d->has_value) {
        if (set(o, d, v, &why) < 0) {
            buf_addf(err, "%s: %s", var, why.buf);
            buf_release(&why);
            return -1;
        }
        return 0;
    }
    if (d->id == O_VERBOSE && !num_parse_i64(v, strlen(v), 0, 3, &count)) {
        o->verbose = (int)count;
        return 0;
    }
    flag = env_flag(v);
    if (flag < 0) {
        buf_addf(err,
                 "%s: takes 1 or 0 (true/false, yes/no, on/off), not "
                 "'%s'",
                 var, v);
        return -1;
    }
    if (flag)
        return set(o, d, NULL, err);
    return 0;
}

int cli_opts_apply_env(struct cli_opts *o, const char *const *envp,
                       struct buf *err)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(opts); i++) {
        const struct opt *d = &opts[i];
        char var[64];
        const char *v;

        env_name(d, var, sizeof(var));
        if (!*var || (o->seen & bit(d)))
            continue;
        v = env_value(envp, var);
        if (!v || !*v)
            continue;
        if (env_set(o, d, var, v, err) < 0)
            return -1;
        o->from_env |= bit(d);
    }
    return 0;
}

static uint64_t bit_of(const char *name)
{
    const struct opt *d = find_long(name, strlen(name));

    if (!d)
        BUG("no option '--%s'", name);
    return bit(d);
}

bool cli_opts_from_env(const struct cli_opts *o, const char *name)
{
    return (o->from_env & bit_of(name)) != 0;
}

bool cli_opts_seen(const struct cli_opts *o, const char *name)
{
    return (o->seen & bit_of(name)) != 0;
}

void cli_opts_release(struct cli_opts *o)
{
    free(o->args);
    o->args = NULL;
    o->args_nr = 0;
}
