/*
 * cli_version.c: what --version prints.  The library versions are asked
 * of the libraries at run time (the ones the program is running with, not
 * the headers it was built against), so a bug report names what was
 * really loaded.
 */
#include "cli/cli.h"

#include <curl/curl.h>
#include <jansson.h>
#include <sqlite3.h>
#include <yajl/yajl_version.h>
#include <yaml.h>

void cli_version(struct buf *out)
{
    const curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);
    char pcre[64] = "";
    int yajl = yajl_version();

    if (pcre2_config(PCRE2_CONFIG_VERSION, pcre) < 0)
        snprintf(pcre, sizeof(pcre), "unknown");
    buf_addf(out, "immich-autotag %s\n", IA_VERSION);
    buf_addstr(out, "Immich API: 2.x and 3.x (--dialect auto, 2 or 3)\n");
    buf_addf(out, "libcurl %s%s%s%s\n", curl->version,
             curl->ssl_version ? " (" : "",
             curl->ssl_version ? curl->ssl_version : "",
             curl->ssl_version ? ")" : "");
    buf_addf(out, "jansson %s\n", jansson_version_str());
    buf_addf(out, "yajl %d.%d.%d\n", yajl / 10000, yajl / 100 % 100,
             yajl % 100);
    buf_addf(out, "libyaml %s\n", yaml_get_version_string());
    buf_addf(out, "pcre2 %s\n", pcre);
    buf_addf(out, "sqlite %s\n", sqlite3_libversion());
}
