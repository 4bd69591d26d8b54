/*
 * http_internal.h: what the engine's files share; not for other modules.
 */
#ifndef IA_HTTP_INTERNAL_H
#define IA_HTTP_INTERNAL_H

#include <curl/curl.h>

#include "http/http_engine.h"

/* Per-endpoint accumulator; latencies kept whole for the percentiles. */
struct http_ep {
    char *endpoint;
    uint64_t calls, errors, retries, bytes_in, bytes_out;
    double latency_sum, latency_max;
    double *lat; /* one per attempt, seconds */
    size_t lat_nr, lat_alloc;
};

struct http_metrics {
    struct http_ep *eps; /* unsorted; found by linear search (a run
                            uses a few dozen endpoints) */
    size_t nr, alloc;
    uint64_t requests, connections;
    double wall_s, cpu_s;
};

struct http_ep *http_metrics_ep(struct http_metrics *m, const char *endpoint);
void http_metrics_release(struct http_metrics *m);
const struct http_metrics *http_engine_metrics(const struct http_engine *e);

#endif
