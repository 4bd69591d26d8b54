/*
 * e2e_tool.h: running immich-autotag in end-to-end tests: a scratch
 * directory per test program, the tool started against an immich-sim
 * (sim_harness.h) with its stdout and stderr captured, the simulator
 * booted with the usual arguments, and the search for a secret in every
 * file a run left.  Every helper fails the current cmocka test on an
 * unexpected error (a file that cannot be read, a tool that did not exit).
 *
 *     static int setup(void **state)
 *     {
 *         (void)state;
 *         return e2e_setup("run", IA_BIN);
 *     }
 *     ...
 *     struct e2e_run r;
 *
 *     e2e_boot(&sim, E2E_ARGV("--dialect", "2"));
 *     assert_int_equal(e2e_tool(&sim, E2E_ARGV("run", "-c", CONFIG), &r), 0);
 *     e2e_run_release(&r);
 */
#ifndef IA_E2E_TOOL_H
#define IA_E2E_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "sim_harness.h"

/* A NULL-terminated argument list in place. */
#define E2E_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* One finished tool run: exit code, stdout, stderr. */
struct e2e_run {
    int code;
    struct buf out, err;
};

void e2e_run_release(struct e2e_run *r);

/*
 * Makes the scratch directory /tmp/ia-<name>-XXXXXX and remembers the
 * tool's path (IA_BIN).  For the cmocka group setup: 0 or -1.
 */
int e2e_setup(const char *name, const char *bin);
const char *e2e_tmpdir(void);
/* "<tmpdir>/<name>", in one of 8 buffers used in turn. */
const char *e2e_path(const char *name);

/* The whole file at path into `into` (reset first). */
void e2e_slurp(const char *path, struct buf *into);

/*
 * Starts the tool with args (after the program name) against sim, as the
 * user of `key` (NULL: the simulator's own); its output goes to numbered
 * files in the scratch directory (*n).  e2e_reap() waits for it and reads
 * them.
 */
pid_t e2e_launch(const struct sim_proc *sim, const char *key,
                 const char *const *args, unsigned *n);
void e2e_reap(pid_t pid, unsigned n, struct e2e_run *r);
/* The path of launch n's stderr, to watch while it runs. */
const char *e2e_err_path(unsigned n);

/* launch + reap: the exit code (also in r). */
int e2e_tool_key(const struct sim_proc *sim, const char *key,
                 const char *const *args, struct e2e_run *r);
int e2e_tool(const struct sim_proc *sim, const char *const *args,
             struct e2e_run *r);
/* A run whose output does not matter beyond its exit code. */
int e2e_tool_code(const struct sim_proc *sim, const char *const *args);

/*
 * Starts immich-sim on 127.0.0.1: latency off, seed 1, the small preset
 * unless `extra` names --library or --preset, then `extra`
 * (NULL-terminated, may be NULL).
 */
void e2e_boot(struct sim_proc *sim, const char *const *extra);
/* Stops it and checks it exited cleanly. */
void e2e_halt(struct sim_proc *sim);

/*
 * Lines of the file at path (a simulator's --request-log) after the first
 * *seen for which match() is true; *seen becomes the file's line count.
 */
long e2e_log_count(const char *path, long *seen,
                   bool (*match)(const char *line));
/* Occurrences of needle in data[0..len). */
size_t e2e_count(const char *data, size_t len, const char *needle);
/*
 * Reads every regular file below dir (which must exist) and appends
 * " <path>" to `where` for each that contains `needle`; returns how many
 * files were read.
 */
size_t e2e_scan_tree(const char *dir, const char *needle, struct buf *where);

#endif
