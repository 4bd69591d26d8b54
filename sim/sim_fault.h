/*
 * sim_fault.h: configured failures, deterministic by seed.
 *
 * Spec grammar (docs/simulator.md has examples):
 *
 *     SPEC  := RULE { "," RULE }
 *     RULE  := KIND { ":" PARAM } [ "@" METHOD " " TEMPLATE ]
 *     KIND  := 500 | 502 | 503 | 504 | 429 | reset | truncate | spike
 *            | login | loginpage | partial
 *     PARAM := RATE            probability per matching request, 0..1
 *            | first=N         the first N matching requests
 *            | every=N         every Nth matching request
 *            | retry-after=S   Retry-After seconds (429, 503)
 *            | ms=N            extra latency of a spike
 *
 * A rule without RATE, first or every never fires.  "@GET /tags" limits
 * a rule to one endpoint template as counted in /__sim/stats.  Whether the
 * nth matching request fails depends only on the seed, the rule's position
 * and n, so a sequential client sees the same failures on every run.
 */
#ifndef IA_SIM_FAULT_H
#define IA_SIM_FAULT_H

#include "core/buf.h"

enum sim_fault_kind {
    SIM_FAULT_STATUS,     /* 5xx answer with an error body */
    SIM_FAULT_429,        /* 429 + Retry-After */
    SIM_FAULT_RESET,      /* connection dropped mid-body */
    SIM_FAULT_TRUNCATE,   /* 200 with the body cut in half */
    SIM_FAULT_SPIKE,      /* extra latency */
    SIM_FAULT_LOGIN,      /* a proxy's 302 to its login page */
    SIM_FAULT_LOGIN_PAGE, /* a proxy's 200 HTML login page */
    SIM_FAULT_PARTIAL,    /* a JSON array answer without its second half */
};

struct sim_fault {
    enum sim_fault_kind kind;
    int status; /* for STATUS and 429 */
    double rate;
    bool rate_given; /* a RATE was written (0 included) */
    long first, every;
    int retry_after;   /* seconds, -1 = no header */
    int ms;            /* spike */
    char endpoint[96]; /* "" = every endpoint */
    long seen;         /* matching requests so far */
    long fired;
};

struct sim_faults {
    struct sim_fault *items;
    size_t nr, alloc;
    uint64_t seed;
};

/* Parses spec into f (initialised to zeros); 0 or -1 with err. */
int sim_faults_parse(struct sim_faults *f, const char *spec, uint64_t seed,
                     struct buf *err);
void sim_faults_release(struct sim_faults *f);

/* What to do to one request. */
struct sim_fault_hit {
    int status;      /* 0 = none, else 5xx/429 answer */
    int retry_after; /* -1 = none */
    bool reset, truncate, partial;
    int login; /* 0, or the status of a proxy's login answer:
                  302 (redirect) or 200 (HTML page) */
    int spike_ms;
    const char *kind; /* name for the stats of the answering fault */
};

/*
 * Counts one request to endpoint against every rule and says which fire.
 * Not thread safe: the server calls it under its stats mutex.
 */
void sim_faults_decide(struct sim_faults *f, const char *endpoint,
                       struct sim_fault_hit *hit);

#endif
