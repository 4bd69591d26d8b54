/*
 * cli.h: what every subcommand gets, and the helpers they share.
 *
 * main.c parses the options, picks the subcommand from its table and calls
 * `int cmd_<name>(struct cli_ctx *ctx)`.  A subcommand that needs the
 * configuration calls cli_load_config() first; it finds, loads, validates
 * and applies the environment, prints every problem, registers the API key
 * as a log secret, and leaves ctx->cfg set.
 *
 * Subcommands return an enum cli_status; main.c turns it into the exit
 * code (0 done, 1 failed, 2 usage/config, 3 server/auth).  Only src/cli
 * prints errors, on stderr through core/log.h; stdout carries what the
 * user asked for.
 */
#ifndef IA_CLI_H
#define IA_CLI_H

#include "cli/cli_opts.h"
#include "config/config.h"

struct snapshot_needs;

enum cli_status {
    CLI_OK,     /* done */
    CLI_FAILED, /* the run failed */
    CLI_USAGE,  /* bad usage or configuration */
    CLI_SERVER, /* server unreachable or authentication refused */
};

struct cli_ctx {
    struct cli_opts opts;   /* parsed options; opts.args = operands */
    const char *argv0;      /* program name for messages */
    struct config *cfg;     /* set by cli_load_config(), else NULL */
    struct buf config_path; /* the file cli_load_config() used */
    const struct snapshot_needs *needs; /* what the library read fetches;
                                           NULL: what the configuration
                                           reads (undo adds its journal's) */
};

/* Finds, loads and validates the configuration into ctx->cfg (see above).
 * Returns CLI_OK or CLI_USAGE (messages printed). */
enum cli_status cli_load_config(struct cli_ctx *ctx);

/*
 * cli_load_config(), then refuses (CLI_USAGE) a configuration whose server
 * still holds the template placeholders, with the "fill in your server"
 * message.  For subcommands that talk to the server.
 */
enum cli_status cli_load_server_config(struct cli_ctx *ctx);

/*
 * Config discovery, with the environment passed in (NULL = unset):
 * --config PATH, then IMMICH_AUTOTAG_CONFIG, then
 * $XDG_CONFIG_HOME/immich_autotag/config.yaml and .yml (XDG_CONFIG_HOME
 * defaulting to $HOME/.config), then $HOME/.immich_autotag/config.yaml
 * and .yml.  Sets path (appended) and returns 0; -1 with a message in err
 * when the named file is missing, when only a config.py exists ("convert
 * it to YAML"), or when nothing was found (listing every searched path).
 */
int cli_find_config(const char *opt_path, const char *env_config,
                    const char *xdg_config_home, const char *home,
                    struct buf *path, struct buf *err);

/* Appends what --version prints: this program's version, the Immich API
 * lines it speaks, and the runtime version of each library. */
void cli_version(struct buf *out);

/*
 * Reads the API key from a file (Docker secrets, systemd credentials):
 * at most 4 KiB, one trailing newline ("\n" or "\r\n") dropped.  Sets
 * *others_read when the file's mode lets other users read it.  Returns -1
 * with a message (not holding the key) when the file cannot be read, is
 * empty, or the key holds a control character (a second line).
 */
int cli_read_key_file(const char *path, struct buf *key, bool *others_read,
                      struct buf *err);

/* Prints a multi-line message, one log line per line. */
void cli_print_lines(enum log_level level, const char *msg);
/* Writes out to stdout and flushes: CLI_OK, or CLI_FAILED with "<cmd>:
 * cannot write to stdout" logged (a full disk, a closed pipe). */
enum cli_status cli_stdout(const struct buf *out, const char *cmd);
void cli_print_errors(const char *msg);
void cli_print_warnings(const char *msg);

/* The subcommands, one file each; *_help is its --help text. */
enum cli_status cmd_run(struct cli_ctx *ctx);
enum cli_status cmd_plan(struct cli_ctx *ctx);
enum cli_status cmd_check(struct cli_ctx *ctx);
enum cli_status cmd_config(struct cli_ctx *ctx);
enum cli_status cmd_apply(struct cli_ctx *ctx);
enum cli_status cmd_undo(struct cli_ctx *ctx);
enum cli_status cmd_explain(struct cli_ctx *ctx);
enum cli_status cmd_report(struct cli_ctx *ctx);
enum cli_status cmd_history(struct cli_ctx *ctx);
extern const char cmd_run_help[];
extern const char cmd_plan_help[];
extern const char cmd_check_help[];
extern const char cmd_config_help[];
extern const char cmd_apply_help[];
extern const char cmd_undo_help[];
extern const char cmd_explain_help[];
extern const char cmd_report_help[];
extern const char cmd_history_help[];

/* The commented starting file printed by `config template`, as lines
 * (each ending in '\n'), NULL-terminated. */
extern const char *const cli_config_template[];

#endif
