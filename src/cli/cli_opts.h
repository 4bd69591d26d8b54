/*
 * cli_opts.h: the command line and the environment, parsed once into
 * struct cli_opts.
 *
 * Options may stand before or after the subcommand, git style, as
 * "--name value" or "--name=value"; short ones cluster as getopt's do
 * ("-vv", "-nq", "-j8").  "--" ends them.  The first word that is not an
 * option names the subcommand (run when there is none); later words are
 * the subcommand's arguments (e.g. the plan file of `apply`).
 *
 * One table in cli_opts.c describes every option: its names, its value,
 * its help line and its environment variable.  Parsing, --help, the
 * option table of docs/cli.md, the man page and the bash completion all
 * come from it (the last three through cli-gen, see packaging/).
 *
 * Every option but --help and --version can also be set by an environment
 * variable: IMMICH_AUTOTAG_ and the long name in capitals with '_' for '-'
 * (--dry-run: IMMICH_AUTOTAG_DRY_RUN), except --url (IMMICH_URL) and
 * --api-key-file (IMMICH_API_KEY_FILE).  The command line wins:
 *
 *     cli_opts_parse(argc, argv, &o, &err);      // the command line
 *     cli_opts_apply_env(&o, environ, &err);     // then what it left unset
 *
 * Other modules read the fields they care about (concurrency, CA file,
 * dialect, ...); nothing here has side effects besides filling the struct.
 */
#ifndef IA_CLI_OPTS_H
#define IA_CLI_OPTS_H

#include "core/buf.h"
#include "core/log.h"

/* --watch without a value: poll every minute; --full-every's default:
 * a full pass a day. */
#define CLI_WATCH_DEFAULT_S      60L
#define CLI_FULL_EVERY_DEFAULT_S 86400L

/* Which Immich API dialect to speak (see docs/cli.md). */
enum cli_dialect {
    CLI_DIALECT_AUTO, /* ask the server */
    CLI_DIALECT_V2,   /* force Immich 1.x/2.x request shapes */
    CLI_DIALECT_V3,   /* force the newer shapes */
};

struct cli_opts {
    const char *config_path;    /* --config PATH, NULL = discover */
    const char *url;            /* --url URL, NULL = from the file */
    const char *api_key_file;   /* --api-key-file PATH, NULL = none */
    bool dry_run;               /* --dry-run: plan only, write nothing */
    bool json;                  /* --json: machine-readable stdout */
    long concurrency;           /* --concurrency N, 0 = default */
    const char *ca_file;        /* --ca-file PATH (TLS trust) */
    bool insecure;              /* --insecure: skip TLS verification */
    long max_items;             /* --max-items N, -1 = from the config */
    const char *log_dir;        /* --log-dir DIR, NULL = default */
    long loop_seconds;          /* --loop INTERVAL in seconds, 0 = once */
    long watch_seconds;         /* --watch [INTERVAL]: poll interval in
                                   seconds, 0 = no watch */
    long full_every_seconds;    /* --full-every INTERVAL, 0 = default */
    bool quiet;                 /* --quiet: errors only */
    int verbose;                /* --verbose, repeatable */
    enum log_format log_format; /* --log-format text|json */
    enum cli_dialect dialect;   /* --dialect auto|2|3 */
    const char *metrics_json;   /* --metrics-json FILE, NULL = none */
    bool full_read;             /* --full-read: ignore remembered albums
                                   and the remembered library */
    long full_read_days;        /* --full-read-days N, -1 = default (7) */
    long connect_timeout_s;     /* --connect-timeout S, 0 = default */
    long stall_timeout_s;       /* --stall-timeout S, 0 = default */
    long timeout_s;             /* --timeout S (per request), 0 = default */
    long hold_jobs;             /* --hold-jobs N, -1 = default, 0 = never */
    long hold_jobs_max_s;       /* --hold-jobs-max S, 0 = default */
    bool api_trace;             /* --api-trace: one log line per request */
    bool help;                  /* --help / -h */
    bool version;               /* --version */

    const char *command; /* subcommand word, NULL = none given */
    const char **args;   /* words after the subcommand */
    size_t args_nr;

    uint64_t seen;     /* bit per table row: set on the command line */
    uint64_t from_env; /* bit per table row: set by its variable */
};

/*
 * Parses argv[1..argc) into o (initialised here; release with
 * cli_opts_release(), also after a failure).  Strings point into argv.
 * Returns -1 with a one-line message in err for an unknown option, a
 * missing or bad value ("option '--concurrency' needs a number from 1 to
 * 64"), or an attempt to give the API key on the command line.
 */
int cli_opts_parse(int argc, char **argv, struct cli_opts *o, struct buf *err);
/*
 * Applies the environment envp ("NAME=value" strings, NULL-terminated;
 * NULL = empty) to the options the command line did not set.  Empty
 * variables count as unset.  Flags take 1/0, true/false, yes/no, on/off;
 * IMMICH_AUTOTAG_VERBOSE also takes a count (2 = debug).  Strings point
 * into envp.  Returns -1 with a message naming the variable for a bad
 * value.
 */
int cli_opts_apply_env(struct cli_opts *o, const char *const *envp,
                       struct buf *err);
void cli_opts_release(struct cli_opts *o);

/* Whether the option of this long name was set by its variable (and not
 * on the command line). */
bool cli_opts_from_env(const struct cli_opts *o, const char *name);
/* Whether the option of this long name was given on the command line. */
bool cli_opts_seen(const struct cli_opts *o, const char *name);

/* "300", "45s", "5m", "2h", "1d" -> seconds; -1 when malformed. */
long cli_parse_interval(const char *s);

/* One row of the option table, for help, docs and tests. */
struct cli_opt_info {
    const char *name;    /* long name without the dashes */
    char short_name;     /* 0 = none */
    const char *arg;     /* value placeholder ("N", "PATH"); NULL = flag */
    const char *help;    /* one sentence; may hold '\n' */
    const char *example; /* a valid value (docs, tests); NULL for flags */
    char env[64];        /* its environment variable, "" = none */
};

/* Number of options; the i-th one (i < cli_opt_count()). */
size_t cli_opt_count(void);
void cli_opt_get(size_t i, struct cli_opt_info *out);

/* Appends the options paragraph of --help, shared by every subcommand. */
void cli_opts_help(struct buf *out);

#endif
