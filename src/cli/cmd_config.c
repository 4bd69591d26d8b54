/*
 * cmd_config.c: `immich-autotag config` prints the effective configuration
 * (defaults filled in, environment applied, API key masked);
 * `immich-autotag config template` prints a commented starting file.
 */
#include "cli/cli.h"

#include "core/log.h"

const char cmd_config_help[] =
    "usage: immich-autotag config [options]\n"
    "       immich-autotag config template\n"
    "\n"
    "Without an argument, prints the configuration a run would use, as\n"
    "YAML: the file's values, model defaults for absent keys, IMMICH_URL\n"
    "and IMMICH_API_KEY applied, the API key shown as \"***\".\n"
    "`config template` prints a commented starting file; save it as\n"
    "~/.config/immich_autotag/config.yaml, fill in the server, chmod 600.\n";

/*
 * The same keys and values as upstream's YAML template, except that album
 * sharing starts disabled; the prose (comments, descriptions) is ours.
 */
const char *const cli_config_template[] = {
    "# immich-autotag configuration.  Save as\n",
    "# ~/.config/immich_autotag/config.yaml and make it private:\n",
    "#   chmod 600 ~/.config/immich_autotag/config.yaml\n",
    "# Keys and meanings: docs/configuration.md.  The Python tool reads this\n",
    "# file unchanged.\n",
    "description: Starting configuration written by `immich-autotag config "
    "template`.\n",
    "\n",
    "server:\n",
    "  description: Where Immich runs and the API key the tool acts with.\n",
    "  # Host name or IP of the Immich server (or a URL: "
    "https://photos.lan).\n",
    "  host: \"<YOUR_HOST_OR_IP_HERE>\"\n",
    "  port: 2283\n",
    "  # Immich web UI: Account Settings > API Keys > New API Key.\n",
    "  # IMMICH_API_KEY in the environment overrides this value.\n",
    "  api_key: \"<YOUR_API_KEY_HERE>\"\n",
    "\n",
    "# Accepted for compatibility; album names are never renamed.\n",
    "enable_album_name_strip: true\n",
    "\n",
    "skip:\n",
    "  description: Which part of the library one run walks through.\n",
    "  # Assets to pass over before starting (when no resume point applies).\n",
    "  skip_n: 0\n",
    "  # Continue where a recent interrupted run stopped.\n",
    "  resume_previous: true\n",
    "  # Upper bound of assets per run; null means no bound.\n",
    "  max_items: 1000000\n",
    "\n",
    "filters:\n",
    "  description: Restrict a run to some assets; empty lists mean all.\n",
    "  # Rules an asset must match to be processed (asset_links here runs\n",
    "  # only the listed assets).\n",
    "  filter_in: []\n",
    "  # Rules that exclude an asset.\n",
    "  filter_out: []\n",
    "\n",
    "conversions:\n",
    "  enabled: true\n",
    "  description: Rewrites applied to every asset before classification.\n",
    "  # Each conversion: when the source rule matches, add the destination\n",
    "  # tags/albums; mode move then drops the matched source tags, copy\n",
    "  # keeps them.  Destination albums must already exist.\n",
    "  conversions:\n",
    "  - source:\n",
    "      tag_names:\n",
    "      - meme\n",
    "      - autotag_input_meme\n",
    "      album_name_patterns: null\n",
    "      asset_links: null\n",
    "      description: null\n",
    "    destination:\n",
    "      album_names:\n",
    "      - autotag_input_meme\n",
    "      tag_names: null\n",
    "    mode: move\n",
    "    description: Old meme tags become membership of the meme album.\n",
    "  - source:\n",
    "      tag_names:\n",
    "      - adult_meme\n",
    "      - autotag_input_adult_meme\n",
    "      album_name_patterns: null\n",
    "      asset_links: null\n",
    "      description: null\n",
    "    destination:\n",
    "      album_names:\n",
    "      - autotag_input_adult_meme\n",
    "      tag_names: null\n",
    "    mode: move\n",
    "    description: Old adult meme tags become membership of that album.\n",
    "\n",
    "classification:\n",
    "  description: The categories of the library.  An asset matching one\n",
    "    rule is classified; none gives the unknown tag, two or more the\n",
    "    conflict tag.\n",
    "  # A rule matches when any tag name, any album pattern (a regex tried\n",
    "  # at the start of the album name) or any asset link matches.\n",
    "  rules:\n",
    "  - tag_names:\n",
    "    - meme\n",
    "    - autotag_input_meme\n",
    "    album_name_patterns:\n",
    "    - ^autotag_input_meme$\n",
    "    asset_links: null\n",
    "    description: Jokes and memes.\n",
    "  - tag_names:\n",
    "    - adult_meme\n",
    "    - autotag_input_adult_meme\n",
    "    album_name_patterns:\n",
    "    - ^autotag_input_adult_meme$\n",
    "    asset_links: null\n",
    "    description: Memes kept apart from the family library.\n",
    "  - tag_names:\n",
    "    - autotag_input_pending_review\n",
    "    album_name_patterns:\n",
    "    - ^autotag_input_pending_review$\n",
    "    asset_links: null\n",
    "    description: Waiting for a decision.\n",
    "  - tag_names:\n",
    "    - autotag_input_ignore\n",
    "    album_name_patterns:\n",
    "    - ^autotag_input_ignore$\n",
    "    asset_links: null\n",
    "    description: Deliberately left out.\n",
    "  - tag_names:\n",
    "    - autotag_input_broken\n",
    "    album_name_patterns:\n",
    "    - ^autotag_input_broken$\n",
    "    asset_links: null\n",
    "    description: Damaged files, kept out of the other albums.\n",
    "  - tag_names: null\n",
    "    album_name_patterns:\n",
    "    - ^\\d{4}-(\\d{2}(-\\d{2})?)?\n",
    "    asset_links: null\n",
    "    description: Event albums whose name starts with a date.\n",
    "  # Tags written on unclassified and conflicting assets (null: off).\n",
    "  autotag_unknown: autotag_output_unknown\n",
    "  autotag_conflict: autotag_output_conflict\n",
    "\n",
    "duplicate_processing:\n",
    "  description: Compares assets Immich considers duplicates and tags\n",
    "    disagreements in albums, categories and dates.\n",
    "  autotag_album_conflict: autotag_output_duplicate_asset_album_conflict\n",
    "  autotag_classification_conflict: "
    "autotag_output_duplicate_asset_classification_conflict\n",
    "  # The duplicate group id is appended to this prefix.\n",
    "  autotag_classification_conflict_prefix: "
    "autotag_output_duplicate_asset_classification_conflict_\n",
    "  autotag_album_detection_conflict: "
    "autotag_output_album_detection_conflict\n",
    "  date_correction:\n",
    "    description: Recovers capture dates from file names and from\n",
    "      duplicates.\n",
    "    enabled: true\n",
    "    # Zone for dates read from file names (an IANA name).\n",
    "    extraction_timezone: Europe/Madrid\n",
    "\n",
    "album_date_consistency:\n",
    "  description: Tags assets taken far from the date in their album's\n",
    "    name.  Start wide and lower threshold_days as you clean up.\n",
    "  enabled: true\n",
    "  autotag_album_date_mismatch: autotag_output_album_date_mismatch\n",
    "  threshold_days: 180\n",
    "\n",
    "album_detection_from_folders:\n",
    "  description: Derives albums from dated folder names in file paths.\n",
    "  enabled: false\n",
    "  # Regexes searched anywhere in the path, ignoring case.\n",
    "  excluded_paths:\n",
    "  - whatsapp\n",
    "\n",
    "performance:\n",
    "  description: Error handling.  enable_type_checking only mattered to\n",
    "    the Python tool and is ignored here.\n",
    "  enable_type_checking: true\n",
    "  fail_fast_on_asset_errors: false\n",
    "\n",
    "album_permissions:\n",
    "  description: Shares albums with groups of users by keywords in the\n",
    "    album name.\n",
    "  # Off on purpose (the upstream template has it on): when enabled, the\n",
    "  # groups below become the exact sharing of every matching album, and\n",
    "  # these example addresses would remove the people your albums are\n",
    "  # shared with today.  Put in real addresses first, then enable.\n",
    "  enabled: false\n",
    "  user_groups:\n",
    "  - name: family\n",
    "    description: Relatives.\n",
    "    members:\n",
    "    - grandpa@example.com\n",
    "    - grandma@example.com\n",
    "    - mother@example.com\n",
    "  - name: friends\n",
    "    description: Friends.\n",
    "    members:\n",
    "    - john@example.com\n",
    "    - jane@example.com\n",
    "  selection_rules:\n",
    "  - name: Share Family albums\n",
    "    keyword: family\n",
    "    groups:\n",
    "    - family\n",
    "    access: view\n",
    "  - name: Share Friends albums\n",
    "    keyword: friends\n",
    "    groups:\n",
    "    - friends\n",
    "    access: view\n",
    "  log_unmatched: false\n",
    "\n",
    "# Put assets that are in no album into a dated temporary album.\n",
    "create_album_from_date_if_missing: true\n",
    NULL,
};

enum cli_status cmd_config(struct cli_ctx *ctx)
{
    struct buf out = BUF_INIT;
    enum cli_status st;

    if (ctx->opts.args_nr == 1 && !strcmp(ctx->opts.args[0], "template")) {
        for (size_t i = 0; cli_config_template[i]; i++)
            fputs(cli_config_template[i], stdout);
        return fflush(stdout) ? CLI_FAILED : CLI_OK;
    }
    if (ctx->opts.args_nr) {
        error_log("config: unknown argument '%s' (usage: immich-autotag "
                  "config [template])",
                  ctx->opts.args[0]);
        return CLI_USAGE;
    }
    st = cli_load_config(ctx);
    if (st != CLI_OK)
        return st;
    config_write_yaml(ctx->cfg, true, &out);
    fputs(out.buf, stdout);
    buf_release(&out);
    return fflush(stdout) ? CLI_FAILED : CLI_OK;
}
