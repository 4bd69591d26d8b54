/*
 * sigflag.h: the one signal flag of the program.
 *
 * SIGINT and SIGTERM only set sig_stop_requested (and remember which signal
 * it was); the HTTP engine's loop and the applier read it between
 * requests: nothing new is started, requests in flight finish (bounded
 * wait), the reports of what was done are written and the run exits
 * non-zero.  A second signal of the same kind while stopping restores the
 * default action, so an impatient second Ctrl-C ends the process at once.
 *
 *     sig_install();
 *     while (!sig_stop_requested) ... ;
 *     sig_restore();
 */
#ifndef IA_SIGFLAG_H
#define IA_SIGFLAG_H

#include <signal.h>

#include "core/common.h"

/* Non-zero once SIGINT or SIGTERM arrived (the signal number). */
extern volatile sig_atomic_t sig_stop_requested;

/* Installs the SIGINT/SIGTERM handlers and clears the flag. */
void sig_install(void);
/* Puts the previous handlers back (the flag keeps its value). */
void sig_restore(void);
/* Clears the flag (between iterations of --loop). */
void sig_clear(void);
/* Sets the flag as a signal would (tests, fatal errors). */
void sig_request_stop(int signo);

#endif
