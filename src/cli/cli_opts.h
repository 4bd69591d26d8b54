/*
 * cli_opts.h: the command line, parsed once into struct cli_opts.
 *
 * Options may stand before or after the subcommand, git style, as
 * "--name value" or "--name=value"; "--" ends them.  The first word that
 * is not an option names the subcommand (run when there is none); later
 * words are the subcommand's arguments (e.g. the plan file of `apply`).
 *
 * Other modules read the fields they care about (concurrency, CA file,
 * dialect, ...); nothing here has side effects besides filling the struct.
 */
#ifndef IA_CLI_OPTS_H
#define IA_CLI_OPTS_H

#include "core/buf.h"
#include "core/log.h"

/* Which Immich API dialect to speak (see docs/cli.md). */
enum cli_dialect {
    CLI_DIALECT_AUTO, /* ask the server */
    CLI_DIALECT_V2,   /* force Immich 1.x/2.x request shapes */
    CLI_DIALECT_V3,   /* force the newer shapes */
};

struct cli_opts {
    const char *config_path;  /* --config PATH, NULL = discover */
    bool dry_run;             /* --dry-run: plan only, write nothing */
    bool json;                /* --json: machine-readable stdout */
    long concurrency;         /* --concurrency N, 0 = default */
    const char *ca_file;      /* --ca-file PATH (TLS trust) */
    bool insecure;            /* --insecure: skip TLS verification */
    long max_items;           /* --max-items N, -1 = from the config */
    const char *log_dir;      /* --log-dir DIR, NULL = default */
    long loop_seconds;        /* --loop INTERVAL in seconds, 0 = once */
    bool quiet;               /* --quiet: errors only */
    int verbose;              /* --verbose, repeatable */
    enum log_format log_format; /* --log-format text|json */
    enum cli_dialect dialect; /* --dialect auto|2|3 */
    const char *metrics_json; /* --metrics-json FILE, NULL = none */
    bool full_read;           /* --full-read: ignore remembered albums */
    long connect_timeout_s;   /* --connect-timeout S, 0 = default */
    long stall_timeout_s;     /* --stall-timeout S, 0 = default */
    long timeout_s;           /* --timeout S (per request), 0 = default */
    bool help;                /* --help / -h */
    bool version;             /* --version */

    const char *command;      /* subcommand word, NULL = none given */
    const char **args;        /* words after the subcommand */
    size_t args_nr;
};

/*
 * Parses argv[1..argc) into o (initialised here; release with
 * cli_opts_release(), also after a failure).  Strings point into argv.  Returns -1 with a
 * one-line message in err for an unknown option, a missing or bad value
 * ("option '--concurrency' needs a number from 1 to 64").
 */
int cli_opts_parse(int argc, char **argv, struct cli_opts *o,
                   struct buf *err);
void cli_opts_release(struct cli_opts *o);

/* "300", "45s", "5m", "2h", "1d" -> seconds; -1 when malformed. */
long cli_parse_interval(const char *s);

/* The options paragraph of --help, shared by every subcommand. */
extern const char cli_options_help[];

#endif
