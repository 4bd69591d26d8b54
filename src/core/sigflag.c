/*
 * sigflag.c: SIGINT/SIGTERM set a flag that the long-running loops read.
 * The handler does nothing else (async-signal-safe by construction).
 */
#include "core/sigflag.h"

volatile sig_atomic_t sig_stop_requested;

static struct sigaction old_int, old_term;
static bool installed;

static void on_signal(int signo)
{
    if (sig_stop_requested) {
        /* Second signal: give the default action back so it kills. */
        signal(signo, SIG_DFL);
        return;
    }
    sig_stop_requested = signo;
}

void sig_install(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: sleeps and polls wake up */
    sig_stop_requested = 0;
    if (sigaction(SIGINT, &sa, &old_int) < 0 ||
        sigaction(SIGTERM, &sa, &old_term) < 0)
        BUG("sigaction failed");
    installed = true;
}

void sig_restore(void)
{
    if (!installed)
        return;
    (void)sigaction(SIGINT, &old_int, NULL);
    (void)sigaction(SIGTERM, &old_term, NULL);
    installed = false;
}

void sig_clear(void)
{
    sig_stop_requested = 0;
}

void sig_request_stop(int signo)
{
    sig_stop_requested = signo ? signo : SIGTERM;
}
