/*
 * e2e_tool.h: running immich-autotag in end-to-end tests: a scratch
 * directory per test program, the tool started against an immich-sim
 * (sim_harness.h) with its stdout and stderr captured, the simulator
 * booted with the usual arguments, and the search for a secret in every
 * file a run left.  Every helper fails the current cmocka test on an
 * unexpected error (a file that cannot be read, a tool that did not exit).
 *
 *     in a test:
 *     struct e2e_run r;
 *
 *     e2e_boot(&sim, E2E_ARGV("--dialect", "2"));
 *     assert_int_equal(e2e_tool(&sim, E2E_ARGV("run", "-c", CONFIG), &r), 0);
 *     e2e_run_release(&r);
 *
 *     at the end of main(), after the array of tests:
 *     return e2e_run_group("run", IA_BIN, tests);
 */
#ifndef IA_E2E_TOOL_H
#define IA_E2E_TOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "core/buf.h"
#include "sim_harness.h"

/*
 * A row of main()'s array of tests: the test `name` runs fn with *state =
 * arg, for a test written once and run for several values (a dialect, a
 * case of a table).
 */
#define E2E_CASE(name, fn, arg)                                                \
    {                                                                          \
#name, fn, NULL, NULL, (void *)(arg)                                   \
    }

/* A NULL-terminated argument list in place. */
#define E2E_ARGV(...) ((const char *const[]){__VA_ARGS__, NULL})

/* One finished tool run: exit code (128 + N when killed by the signal N
 * a test sent), stdout, stderr, peak memory (wait4's ru_maxrss). */
struct e2e_run {
    int code;
    struct buf out, err;
    long maxrss_kb;
};

void e2e_run_release(struct e2e_run *r);
/*
 * r's stdout into out and its stderr into err (each reset first; either
 * may be NULL), then e2e_run_release(r): r's exit code.
 */
int e2e_run_output(struct e2e_run *r, struct buf *out, struct buf *err);

/*
 * Makes the scratch directory /tmp/ia-<name>-XXXXXX and remembers the
 * tool's path (IA_BIN): 0, or -1 (said on stderr).
 */
int e2e_setup(const char *name, const char *bin);
/*
 * main()'s last step: e2e_setup(name, bin), then cmocka's run of the
 * array `tests`; 1 (said on stderr) when the directory cannot be made.
 */
#define e2e_run_group(name, bin, tests)                                        \
    (e2e_setup((name), (bin)) < 0 ? 1                                          \
                                  : cmocka_run_group_tests(tests, NULL, NULL))
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
/* e2e_launch() calling child(arg) in the new process before the exec
 * (sim_spawn_tool_with()). */
pid_t e2e_launch_with(const struct sim_proc *sim, const char *key,
                      const char *const *args, void (*child)(void *), void *arg,
                      unsigned *n);
/*
 * Reaps it if it has exited (reading its output into r, true), else
 * false at once: for a test that works while the tool runs.
 */
bool e2e_try_reap(pid_t pid, unsigned n, struct e2e_run *r);
/* Sends it sig and reaps it: killed by sig is code 128 + sig. */
void e2e_kill(pid_t pid, unsigned n, int sig, struct e2e_run *r);
/*
 * Waits up to `seconds` for it to exit (then as e2e_reap()); if it has
 * not, kills it (SIGKILL, so no process is left behind) and fails the
 * test.
 */
void e2e_reap_within(pid_t pid, unsigned n, double seconds, struct e2e_run *r);
/* The paths of launch n's stdout and stderr, to watch while it runs. */
const char *e2e_out_path(unsigned n);
const char *e2e_err_path(unsigned n);
/*
 * Waits (up to 60 s) until the file at path holds needle `times` times;
 * false if it never does.
 */
bool e2e_wait_for(const char *path, const char *needle, size_t times);

/*
 * The run directory a run printed (the last line of its stdout) into dir;
 * fails the test when that is not a directory.
 */
void e2e_run_dir(const struct e2e_run *r, struct buf *dir);

/*
 * The newest run directory under the log root `root` (run directories
 * are named from their start time: the greatest name that starts with a
 * digit) into dir; false when there is none yet.  Fails the test when
 * root cannot be opened.
 */
bool e2e_newest_run_dir(const char *root, struct buf *dir);

/*
 * Waits until launch n's stderr holds needle at or after byte `from`;
 * false after max_s seconds (a liveness bound, not a timing).  *at (may
 * be NULL) gets the offset just after the match.
 */
bool e2e_wait_err(unsigned n, size_t from, const char *needle, int max_s,
                  size_t *at);
/* The current length of launch n's stderr. */
size_t e2e_err_len(unsigned n);
/*
 * SIGTERM to a running tool, then e2e_reap(); fails the test (after a
 * SIGKILL, leaving no process behind) when it is still running 5 s later:
 * a liveness bound well above the 2 s the tool promises, as in e2e.ops.
 */
void e2e_term(pid_t pid, unsigned n, struct e2e_run *r);

/* launch + reap: the exit code (also in r). */
int e2e_tool_key(const struct sim_proc *sim, const char *key,
                 const char *const *args, struct e2e_run *r);
int e2e_tool(const struct sim_proc *sim, const char *const *args,
             struct e2e_run *r);
/* A run whose output does not matter beyond its exit code. */
int e2e_tool_code(const struct sim_proc *sim, const char *const *args);
int e2e_tool_code_key(const struct sim_proc *sim, const char *key,
                      const char *const *args);

/*
 * Starts immich-sim on 127.0.0.1: latency off, seed 1, the small preset
 * unless `extra` names --library or --preset, then `extra`
 * (NULL-terminated, may be NULL).
 */
void e2e_boot(struct sim_proc *sim, const char *const *extra);
/* e2e_boot() with `opt value` after extra when value is not NULL (an
 * optional --faults or --library). */
void e2e_boot_opt(struct sim_proc *sim, const char *const *extra,
                  const char *opt, const char *value);
/* Stops it and checks it exited cleanly. */
void e2e_halt(struct sim_proc *sim);

/*
 * Runs another program (argv[0] a path; the environment is the test's)
 * with stdout and stderr into the files named, and waits: its exit code,
 * -1 when it could not start or did not exit.
 */
int e2e_exec(const char *const *argv, const char *out, const char *err);

/* A monotonic clock in seconds, for liveness bounds. */
double e2e_now(void);

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
