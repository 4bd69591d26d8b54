/*
 * http_engine.h: every request of the program goes through one engine,
 * one libcurl multi handle driven by one loop on the calling thread.
 *
 * The engine keeps at most `concurrency` requests in flight on reused
 * keep-alive connections (HTTP/2 multiplexed when the server offers it
 * over TLS), retries what is safe to retry, and keeps per-endpoint
 * metrics.  Callers submit requests with a completion callback, then run
 * the loop until nothing is left:
 *
 *     struct http_engine_opts o = HTTP_ENGINE_OPTS_INIT;
 *     o.base_url = "http://photos.lan:2283";
 *     o.api_key = key;
 *     struct http_engine *e = http_engine_new(&o, &err);
 *     struct http_call c = HTTP_CALL_INIT;
 *     c.method = "GET"; c.path = "/api/albums";
 *     c.endpoint = "GET /albums"; c.retry_safe = true;
 *     c.done = on_albums; c.ctx = &state;
 *     http_engine_submit(e, &c);
 *     http_engine_run(e, &err);       // returns when all are done
 *     http_engine_free(e);
 *
 * Every submitted request gets exactly one call of its `done` callback:
 * with the response, with the transport error after its retries, or with
 * HTTP_RESULT_CANCELLED when wrap-up began before it was started.  A
 * callback may submit more requests (the next page); they run in the same
 * http_engine_run().
 *
 * Retries: only requests with retry_safe (reads, the POST search calls,
 * idempotent bulk writes) are retried, on connection errors (refused,
 * reset, timeout, truncated body) and on 429, 502, 503 and 504.  The
 * delay is exponential (retry_base_ms * 2^n, capped at retry_max_ms) with
 * jitter, or the server's Retry-After when it sent one (capped at
 * retry_after_max_ms).  A retried request is re-queued with a not-before
 * time; the loop never sleeps on it.  Each request has at most
 * max_retries retries and the engine as a whole at most retry_budget.
 * A create (POST /albums, POST /tags) is submitted with retry_safe false
 * and is never retried.
 *
 * Time limits: a connection must be made within connect_timeout_ms; an
 * attempt that receives no byte for stall_timeout_ms fails (a stalled
 * attempt is retried once, a server that stalls twice is hung); a
 * request, retries included, ends after timeout_ms.  The error then says
 * which limit was hit.  While a request waits, the engine logs "waiting
 * for GET /albums (12 s)" every 5 s at verbose level and passes the
 * longest wait to the progress callback.
 *
 * Wrap-up: when *opts.stop becomes non-zero (the signal flag the caller
 * owns) or http_engine_wrap_up() is called (a fatal error seen by a
 * callback), no queued request is started any more (each is completed as
 * CANCELLED) and the loop waits for the requests in flight to finish.
 * After a stop request the wait is bounded: requests still in flight
 * after HTTP_STOP_GRACE_MS are abandoned and completed as NETWORK
 * ("interrupted"); the loop looks at the flag at least every 250 ms, so
 * http_engine_run() returns within about 1.3 s of a signal.
 *
 * Descriptors: the engine sizes its pool to the descriptor limit
 * (RLIMIT_NOFILE) minus the descriptors already open and a reserve for
 * the files a run writes; http_engine_new() fails with "out of file
 * descriptors (limit N)" when not even one connection fits, and a
 * request whose socket cannot be created for lack of descriptors fails
 * at once with that message instead of being retried.
 *
 * Messages: https:// against a plain HTTP server fails with "the server
 * speaks plain HTTP: use http://...", a 3xx answer whose Location is the
 * same path elsewhere (http:// upgraded to https://) with "the server
 * redirects to URL: use that URL".  Redirects are never followed (the API
 * key would go along); other 3xx answers (a proxy's sign-in page) come
 * back as HTTP_RESULT_OK with resp.location for the caller to report.
 *
 * The API key is sent as the x-api-key header; it appears in no log line,
 * error message or metric of the engine.
 *
 * Errors: http_engine_new() and http_engine_run() fail with -1 and one
 * line in err only for problems of the engine itself (libcurl refused an
 * option, the multi handle failed); failed requests are reported to
 * their callbacks.
 */
#ifndef IA_HTTP_ENGINE_H
#define IA_HTTP_ENGINE_H

#include <signal.h>

#include "core/buf.h"

/*
 * Default number of requests in flight, chosen by measurement against
 * immich-sim's capacity model (K = 10 concurrent requests served at full
 * speed): see docs/http-and-snapshot.md.
 */
#define HTTP_CONCURRENCY_DEFAULT 10
#define HTTP_CONCURRENCY_MAX     64
/* Response bodies larger than this fail as HTTP_RESULT_TOO_BIG. */
#define HTTP_BODY_MAX_DEFAULT ((size_t)512 * 1024 * 1024)

struct http_engine;

/*
 * The request in flight that has waited longest for its answer, for
 * "waiting for GET /albums (12 s)" lines.  endpoint is NULL when nothing
 * is in flight; borrowed until the next loop turn.
 */
struct http_wait {
    const char *endpoint; /* metrics key, e.g. "GET /albums" */
    long waited_s;        /* since its current attempt started */
};

/* Progress, called once per loop turn (before it polls). */
typedef void http_progress_fn(void *ctx, size_t done, size_t total,
                              size_t in_flight, const struct http_wait *w);

/* Defaults of the three time limits (see struct http_engine_opts). */
#define HTTP_CONNECT_TIMEOUT_DEFAULT_MS 10000L
#define HTTP_STALL_TIMEOUT_DEFAULT_MS   30000L
#define HTTP_TIMEOUT_DEFAULT_MS         300000L
/* After a stop request, requests in flight get this long to finish
 * before they are abandoned. */
#define HTTP_STOP_GRACE_MS 1000L

struct http_engine_opts {
    const char *base_url;        /* "http://host:port", no final '/' */
    const char *api_key;         /* sent as x-api-key; NULL = none */
    long concurrency;            /* in flight; 0 = HTTP_CONCURRENCY_DEFAULT;
                                    lowered to what the descriptor limit
                                    allows */
    const char *ca_file;         /* PEM bundle to trust; NULL = system */
    bool insecure;               /* skip TLS verification (logs a warning) */
    long connect_timeout_ms;     /* one connection attempt; 0 = default */
    long timeout_ms;             /* a request's whole life, retries
                                    included; 0 = default */
    long stall_timeout_ms;       /* an attempt that receives nothing that
                                    long fails (and is retried once);
                                    0 = default */
    int max_retries;             /* per request; -1 = 5 */
    long retry_budget;           /* retries in all; -1 = 1000 */
    long retry_base_ms;          /* first backoff; 0 = 500 ms */
    long retry_max_ms;           /* backoff cap; 0 = 30 s */
    long retry_after_max_ms;     /* Retry-After cap; 0 = 120 s */
    size_t body_max;             /* response cap; 0 = HTTP_BODY_MAX_DEFAULT */
    uint64_t jitter_seed;        /* 0 = from the clock */
    volatile sig_atomic_t *stop; /* wrap-up when *stop != 0; may be NULL */
    http_progress_fn *progress;  /* may be NULL */
    void *progress_ctx;
};

#define HTTP_ENGINE_OPTS_INIT                                                  \
    {                                                                          \
        NULL, NULL, 0, NULL, false, 0, 0, 0, -1, -1, 0, 0, 0, 0, 0, NULL,      \
            NULL, NULL                                                         \
    }

/* How a request ended. */
enum http_result {
    HTTP_RESULT_OK,        /* a response arrived (any status: see status) */
    HTTP_RESULT_NETWORK,   /* transport failure after the retries */
    HTTP_RESULT_TOO_BIG,   /* response body passed body_max */
    HTTP_RESULT_CANCELLED, /* wrap-up began before the request started */
};

/* What the done callback gets; borrowed for the duration of the call. */
struct http_response {
    enum http_result result;
    long status;              /* HTTP status; 0 when no response */
    struct buf *body;         /* response body (buf_detach() to keep it) */
    const char *error;        /* transport error text, "" when none */
    const char *method;       /* as submitted */
    const char *endpoint;     /* metrics key, e.g. "GET /albums/{id}" */
    int attempts;             /* 1 + retries */
    long waited_ms;           /* retry delays scheduled in all (backoff or
                                 Retry-After), not measured */
    const char *location;     /* a 3xx answer's target, NULL otherwise */
    const char *content_type; /* the answer's Content-Type, or NULL */
    int64_t date_ms;          /* the answer's Date header (the server's
                                 clock, whole seconds) in ms since the
                                 epoch; -1 when none */
};

typedef void http_done_fn(const struct http_response *resp, void *ctx);

/* One request to submit.  Strings and body are copied at submit. */
struct http_call {
    const char *method;   /* "GET", "POST", "PUT", "DELETE", "PATCH" */
    const char *path;     /* appended to base_url: "/api/albums?x=1" */
    const char *endpoint; /* metrics key (method + path template) */
    const char *body;     /* JSON body or NULL */
    size_t body_len;
    bool retry_safe;    /* may be sent again after a failure */
    http_done_fn *done; /* may be NULL */
    void *ctx;
};

#define HTTP_CALL_INIT                                                         \
    {                                                                          \
        NULL, NULL, NULL, NULL, 0, false, NULL, NULL                           \
    }

/*
 * Creates an engine (and initialises libcurl globally the first time).
 * Returns NULL with a message in err when libcurl refuses the setup.
 * Logs a warning when opts->insecure is set.
 */
struct http_engine *http_engine_new(const struct http_engine_opts *opts,
                                    struct buf *err);
/*
 * Frees the engine.  Queued or in-flight requests (only possible when
 * run() was never called or failed) are dropped without their callback.
 * Accepts NULL.
 */
void http_engine_free(struct http_engine *e);
/*
 * Releases libcurl's global state; call once at exit, after the last
 * engine was freed (leak checkers ask for it).
 */
void http_global_cleanup(void);

/*
 * Queues a request.  Returns 0, or -1 when the engine is wrapping up (the
 * callback is then NOT called: the caller knows the request never went).
 */
int http_engine_submit(struct http_engine *e, const struct http_call *c);
/*
 * Runs the loop until no request is queued or in flight.  0 when the
 * loop ended normally (requests may have failed: see their callbacks), -1
 * with err when the multi handle failed.
 */
int http_engine_run(struct http_engine *e, struct buf *err);
/* Starts wrap-up (see above); may be called from a done callback. */
void http_engine_wrap_up(struct http_engine *e);
bool http_engine_is_wrapping_up(const struct http_engine *e);
/* The concurrency limit in use. */
long http_engine_concurrency(const struct http_engine *e);

/* Metrics of one endpoint (method + path template). */
struct http_endpoint_stats {
    const char *endpoint;
    uint64_t calls;       /* attempts sent (retries included) */
    uint64_t errors;      /* requests that ended in failure (transport
                             error or status >= 400) */
    uint64_t retries;     /* attempts re-queued */
    uint64_t bytes_in;    /* response bodies as received */
    uint64_t bytes_out;   /* request bodies */
    double latency_sum_s; /* over all attempts */
    double p50_s, p95_s, max_s;
};

/* Engine-wide totals. */
struct http_totals {
    uint64_t calls, errors, retries, bytes_in, bytes_out;
    uint64_t requests;    /* submitted requests (not attempts) */
    uint64_t connections; /* connections opened (CURLINFO_NUM_CONNECTS) */
    double wall_s;        /* time inside http_engine_run() */
    double cpu_s;         /* process user + system CPU in that time */
    double wait_s;        /* wall_s - cpu_s: waiting on the network */
    long peak_rss_kb;     /* getrusage ru_maxrss */
};

/* Number of endpoints seen; stats of the i-th (sorted by name). */
size_t http_metrics_count(const struct http_engine *e);
int http_metrics_get(const struct http_engine *e, size_t i,
                     struct http_endpoint_stats *out);
/* Stats of one endpoint by name; -1 if never used. */
int http_metrics_find(const struct http_engine *e, const char *endpoint,
                      struct http_endpoint_stats *out);
void http_metrics_totals(const struct http_engine *e, struct http_totals *out);
/* Appends a human table (one line per endpoint, then totals) to out. */
void http_metrics_table(const struct http_engine *e, struct buf *out);
/* Appends the metrics as one JSON object to out. */
void http_metrics_json(const struct http_engine *e, struct buf *out);

/*
 * Whether requests to base url ask for gzip: not to a server on this host
 * (localhost, 127.0.0.0/8, [::1]), where the bytes cost nothing to carry
 * and inflating them was the largest CPU cost of reading a library (the
 * 1m library: 448 MB of gzip, 3 GB of JSON, ~8 s to inflate); yes to any
 * other, where the network is the cost.
 */
bool http_url_compresses(const char *url);

#endif
