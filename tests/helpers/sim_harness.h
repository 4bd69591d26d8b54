/*
 * sim_harness.h: starts immich-sim for a test and talks to it.
 *
 *     const char *const args[] = {"--preset", "small", "--seed", "1",
 *                                 "--latency", "off", NULL};
 *     struct sim_proc s;
 *     struct buf err = BUF_INIT, body = BUF_INIT;
 *
 *     if (sim_start(&s, args, &err) < 0)
 *         fail_msg("%s", err.buf);
 *     assert_int_equal(sim_request(&s, "GET", "/api/users/me", NULL, &body),
 *                      200);
 *     assert_int_equal(sim_stat_endpoint(&s, "GET /users/me"), 1);
 *     assert_int_equal(sim_stop(&s), 0);
 *
 * sim_start() passes "--profile test" first (latency model, background
 * jobs, OFFSET cost and the one-thread model off); a test that wants the
 * realistic profile adds "--profile real" (or single options such as
 * "--jobs", "delay=2s") to its args, which come after and win.
 *
 * The simulator binds 127.0.0.1 on a free port and prints
 * "listening on http://127.0.0.1:PORT api-key=KEY" first; sim_start()
 * waits for that line (up to 30 s) and parses it.  Link ia_test_sim.
 */
#ifndef IA_SIM_HARNESS_H
#define IA_SIM_HARNESS_H

#include <sys/types.h>

#include "core/buf.h"

struct sim_proc {
    pid_t pid;
    int port;
    char url[64]; /* "http://127.0.0.1:PORT" */
    char api_key[128];
    FILE *out; /* the simulator's stdout, after its first line */
};

/*
 * Starts immich-sim with extra args (NULL-terminated, e.g. {"--preset",
 * "small","--seed","1","--latency","off",NULL}) on 127.0.0.1 port 0, waits
 * for its first line, parses port and key.  0, or -1 with err.
 */
int sim_start(struct sim_proc *s, const char *const *args, struct buf *err);

/* sim_start() with the small preset, seed 1, latency off, the API key
 * key (NULL: the simulator's default) and --faults faults (NULL: none). */
int sim_start_small(struct sim_proc *s, const char *key, const char *faults,
                    struct buf *err);

/* SIGTERM, waitpid; returns the exit status (0 for a clean stop). */
int sim_stop(struct sim_proc *s);

/*
 * Sends a request (path like "/__sim/stats" or "/api/users/me"; the API key
 * header is added; json_body may be NULL) and stores the response body in
 * body (reset first).  Returns the HTTP status or -1.
 */
int sim_request(const struct sim_proc *s, const char *method, const char *path,
                const char *json_body, struct buf *body);

/*
 * The count of "METHOD /path/template" in /__sim/stats by_endpoint (0 if
 * absent), -1 on error; and the total of writes.
 */
long sim_stat_endpoint(const struct sim_proc *s, const char *endpoint);
long sim_stat_writes(const struct sim_proc *s);

/* Any integer field of /__sim/stats by dotted path ("faults.503"), -1. */
long sim_stat_long(const struct sim_proc *s, const char *path);

/*
 * Like sim_request() with an explicit API key (NULL: no key header) and,
 * if not NULL, a response header captured into header_value (e.g.
 * "Retry-After"; empty if absent).
 */
int sim_request_key(const struct sim_proc *s, const char *key,
                    const char *method, const char *path, const char *json_body,
                    struct buf *body, const char *header_name,
                    struct buf *header_value);

/* POST /__sim/reset-stats; 0 or -1. */
int sim_reset_stats(const struct sim_proc *s);

/*
 * Starts the program bin (args after its name, NULL-terminated) against
 * the simulator: IMMICH_URL and IMMICH_API_KEY set, PATH minimal,
 * ASAN_OPTIONS and XDG_RUNTIME_DIR passed on; stdout and stderr to the files
 * named (NULL: /dev/null).  Returns the pid (-1 if fork failed);
 * sim_wait_tool() reaps it and returns its exit code (-1 if it did not exit).
 */
pid_t sim_spawn_tool(const struct sim_proc *s, const char *bin,
                     const char *const *args, const char *out_path,
                     const char *err_path);
/*
 * The same, calling child(arg) in the new process after its outputs are
 * redirected and before the exec (limits, another user); child _exit()s
 * when that fails.
 */
pid_t sim_spawn_tool_with(const struct sim_proc *s, const char *bin,
                          const char *const *args, const char *out_path,
                          const char *err_path, void (*child)(void *),
                          void *arg);
int sim_wait_tool(pid_t pid);

/*
 * A server that accepts connections and never answers: a socket on
 * 127.0.0.1 that listens (the kernel completes the handshakes) and is
 * never read.  Returns the socket (close() it to stop) and its
 * "http://127.0.0.1:PORT" in url, or -1.
 */
int sim_listen_silent(char *url, size_t size);

#endif
