/*
 * sim_main.c: immich-sim's command line.  Builds or loads the library,
 * starts the server, prints "listening on http://ADDR:PORT api-key=KEY"
 * as its first stdout line, then waits for SIGTERM/SIGINT.
 */
#include "core/fsutil.h"
#include "core/numparse.h"
#include "sim/sim_gen.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

#include <pthread.h>
#include <signal.h>

static const char usage[] =
    "usage: immich-sim [--bind ADDR] [--port N] [--dialect 2|3|3.0|3.1|3.2]\n"
    "                  [--preset small|seed|1m | --library FILE.json]\n"
    "                  [--seed N] [--latency off|seed] [--latency-scale F]\n"
    "                  [--capacity K] [--faults SPEC] [--api-key KEY]\n"
    "                  [--request-log FILE.jsonl] [--allow-remote]\n"
    "                  [--save-library FILE.json] [--compress gzip|off]\n"
    "                  [--profile real|test] [--jobs off|delay=2s,rate=200/s]\n"
    "                  [--offset-cost on|off] [--one-loop on|off]\n"
    "                  [--public-users on|off] [--create-last-modified "
    "on|off]\n"
    "                  [--coverage on|off] [--micros on|off]\n";

/*
 * --profile: "real" (the default) behaves like Immich: latency model on,
 * background jobs with a delay, deep OFFSET pages cost more, responses
 * serialise on one thread, POST /albums answers without
 * lastModifiedAssetTimestamp, createdAt/updatedAt carry microseconds.  "test"
 * turns each of these off (the answer keeps the field, as the simulator always
 * did), for tests that need determinism; options after it still override.
 */
static void set_profile(struct sim_opts *o, bool real)
{
    struct sim_jobs_opts jobs = SIM_JOBS_OPTS_INIT;

    o->latency = real;
    o->jobs = jobs;
    o->jobs.on = real;
    o->deep_cost = real;
    o->one_loop = real;
    o->create_last = !real;
    o->micros = real;
}

/* "on" or "off" into *out; -1 if neither. */
static int parse_onoff(const char *s, bool *out)
{
    if (strcmp(s, "on") && strcmp(s, "off"))
        return -1;
    *out = !strcmp(s, "on");
    return 0;
}

/* "2", "3" (the latest 3.x), "3.0", "3.1" or "3.2". */
static int parse_dialect(const char *s, struct sim_opts *o)
{
    if (!strcmp(s, "2")) {
        o->dialect = 2;
        o->minor = 0;
    } else if (!strcmp(s, "3") || !strcmp(s, "3.2")) {
        o->dialect = 3;
        o->minor = 2;
    } else if (!strcmp(s, "3.0") || !strcmp(s, "3.1")) {
        o->dialect = 3;
        o->minor = s[2] - '0';
    } else {
        return -1;
    }
    return 0;
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
    return num_parse_i64(s, strlen(s), lo, hi, out);
}

static int load_library(struct sim_lib *lib, const char *path, struct buf *err)
{
    struct buf data = BUF_INIT;
    FILE *f = fopen(path, "rb");
    char chunk[65536];
    size_t n;
    int ret = -1;

    if (!f) {
        buf_addf(err, "cannot open '%s'", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(&data, chunk, n);
    (void)fclose(f);
    if (sim_lib_load(lib, data.buf, data.len, err) == 0)
        ret = 0;
    buf_release(&data);
    return ret;
}

static int save_library(const struct sim_lib *lib, const char *path,
                        struct buf *err)
{
    struct buf out = BUF_INIT;
    FILE *f = fopen(path, "wb");
    int ret = 0;

    if (!f) {
        buf_addf(err, "cannot write '%s'", path);
        return -1;
    }
    sim_lib_dump(&out, lib, false);
    if (fwrite(out.buf, 1, out.len, f) != out.len)
        ret = -1;
    if (fclose(f) != 0)
        ret = -1;
    if (ret < 0)
        buf_addf(err, "cannot write '%s'", path);
    buf_release(&out);
    return ret;
}

int main(int argc, char **argv)
{
    struct sim_opts o = {"127.0.0.1",
                         false,
                         0,
                         3,
                         2,
                         0,
                         1.0,
                         10,
                         NULL,
                         1,
                         NULL,
                         true,
                         SIM_JOBS_OPTS_INIT,
                         -1,
                         false,
                         false,
                         false,
                         false};
    const char *preset = NULL, *library = NULL, *save = NULL, *key = NULL;
    struct sim_lib lib;
    struct sim_server *srv = NULL;
    struct buf err = BUF_INIT;
    sigset_t set;
    int i, port = 0, sig, ret = 2;
    int64_t v;
    bool on, coverage = false;

    set_profile(&o, true);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;

        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        }
        if (!strcmp(a, "--allow-remote")) {
            o.allow_remote = true;
            continue;
        }
        if (!val) {
            fprintf(stderr, "immich-sim: option '%s' needs a value\n%s", a,
                    usage);
            return 2;
        }
        i++;
        if (!strcmp(a, "--bind")) {
            o.bind = val;
        } else if (!strcmp(a, "--port") && parse_int(val, 0, 65535, &v) == 0) {
            o.port = (int)v;
        } else if (!strcmp(a, "--dialect") && parse_dialect(val, &o) == 0) {
            continue;
        } else if (!strcmp(a, "--profile") &&
                   (!strcmp(val, "real") || !strcmp(val, "test"))) {
            set_profile(&o, !strcmp(val, "real"));
        } else if (!strcmp(a, "--jobs")) {
            if (sim_jobs_parse(val, &o.jobs, &err) < 0) {
                fprintf(stderr, "immich-sim: %s\n%s", err.buf, usage);
                buf_release(&err);
                return 2;
            }
        } else if (!strcmp(a, "--offset-cost") && parse_onoff(val, &on) == 0) {
            o.deep_cost = on;
        } else if (!strcmp(a, "--one-loop") && parse_onoff(val, &on) == 0) {
            o.one_loop = on;
        } else if (!strcmp(a, "--micros") && parse_onoff(val, &on) == 0) {
            o.micros = on;
        } else if (!strcmp(a, "--coverage") && parse_onoff(val, &on) == 0) {
            coverage = on;
        } else if (!strcmp(a, "--create-last-modified") &&
                   parse_onoff(val, &on) == 0) {
            o.create_last = on;
        } else if (!strcmp(a, "--public-users") && parse_onoff(val, &on) == 0) {
            o.public_users = on;
        } else if (!strcmp(a, "--preset")) {
            preset = val;
        } else if (!strcmp(a, "--library")) {
            library = val;
        } else if (!strcmp(a, "--save-library")) {
            save = val;
        } else if (!strcmp(a, "--seed") &&
                   parse_int(val, 0, INT64_MAX, &v) == 0) {
            o.seed = (uint64_t)v;
        } else if (!strcmp(a, "--latency") &&
                   (!strcmp(val, "off") || !strcmp(val, "seed"))) {
            o.latency = !strcmp(val, "seed");
        } else if (!strcmp(a, "--latency-scale") &&
                   num_parse_double(val, strlen(val), &o.latency_scale) == 0 &&
                   o.latency_scale >= 0) {
            continue;
        } else if (!strcmp(a, "--capacity") &&
                   parse_int(val, 1, 10000, &v) == 0) {
            o.capacity = (int)v;
        } else if (!strcmp(a, "--faults")) {
            o.faults = val;
        } else if (!strcmp(a, "--api-key")) {
            key = val;
        } else if (!strcmp(a, "--request-log")) {
            o.request_log = val;
        } else if (!strcmp(a, "--compress") &&
                   (!strcmp(val, "gzip") || !strcmp(val, "off"))) {
            o.gzip = !strcmp(val, "gzip");
        } else {
            fprintf(stderr, "immich-sim: bad option '%s %s'\n%s", a, val,
                    usage);
            return 2;
        }
    }
    if (preset && library) {
        fprintf(stderr, "immich-sim: --preset and --library exclude each "
                        "other\n");
        return 2;
    }
    if (!o.allow_remote && strcmp(o.bind, "127.0.0.1")) {
        fprintf(stderr,
                "immich-sim: refusing to bind %s without "
                "--allow-remote\n",
                o.bind);
        return 2;
    }
    sim_lib_init(&lib, o.seed);
    if (library) {
        if (load_library(&lib, library, &err) < 0)
            goto fail;
        if (key && lib.keys_nr)
            lib.keys[0].secret = sim_str(&lib, key);
    } else if (sim_gen_preset(&lib, preset ? preset : "small", o.seed, key,
                              coverage, &err) < 0) {
        goto fail;
    }
    if (save) {
        if (save_library(&lib, save, &err) < 0)
            goto fail;
        ret = 0;
        goto out;
    }
    if (!lib.keys_nr) {
        buf_addstr(&err, "library has no API key");
        goto fail;
    }
    /* block the stop signals before MHD's threads inherit the mask */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    (void)pthread_sigmask(SIG_BLOCK, &set, NULL);
    (void)signal(SIGPIPE, SIG_IGN);
    srv = sim_server_start(&o, &lib, &port, &err);
    if (!srv)
        goto fail;
    printf("listening on http://%s:%d api-key=%s\n", o.bind, port,
           sim_cstr(&lib, lib.keys[0].secret));
    (void)fflush(stdout);
    (void)sigwait(&set, &sig);
    sim_server_stop(srv);
    ret = 0;
    goto out;
fail:
    fprintf(stderr, "immich-sim: %s\n", err.buf);
    ret = 1;
out:
    sim_lib_release(&lib);
    buf_release(&err);
    return ret;
}
