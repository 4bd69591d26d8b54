/*
 * http_metrics.c: per-endpoint counters of the engine and their two
 * printed forms, a table for people and JSON for the run directory and
 * the benchmark.  Latencies are kept per attempt (8 bytes each: a run
 * makes thousands, not millions) so p50/p95 are exact.
 */
#include "http/http_internal.h"

#include <sys/resource.h>

struct http_ep *http_metrics_ep(struct http_metrics *m, const char *endpoint)
{
    for (size_t i = 0; i < m->nr; i++)
        if (!strcmp(m->eps[i].endpoint, endpoint))
            return &m->eps[i];
    ALLOC_GROW(m->eps, m->nr + 1, m->alloc);
    memset(&m->eps[m->nr], 0, sizeof(m->eps[m->nr]));
    m->eps[m->nr].endpoint = xstrdup(endpoint);
    return &m->eps[m->nr++];
}

void http_metrics_release(struct http_metrics *m)
{
    for (size_t i = 0; i < m->nr; i++) {
        free(m->eps[i].endpoint);
        free(m->eps[i].lat);
    }
    free(m->eps);
    memset(m, 0, sizeof(*m));
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Nearest-rank percentile of sorted v[0..n). */
static double pct(const double *v, size_t n, double p)
{
    size_t rank;

    if (!n)
        return 0;
    rank = (size_t)(p * (double)n + 0.999999);
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

static void fill(const struct http_ep *ep, struct http_endpoint_stats *out)
{
    double *v = NULL;

    out->endpoint = ep->endpoint;
    out->calls = ep->calls;
    out->errors = ep->errors;
    out->retries = ep->retries;
    out->bytes_in = ep->bytes_in;
    out->bytes_out = ep->bytes_out;
    out->latency_sum_s = ep->latency_sum;
    out->max_s = ep->latency_max;
    out->p50_s = out->p95_s = 0;
    if (ep->lat_nr) {
        v = xmemdup(ep->lat, ep->lat_nr * sizeof(*v));
        qsort(v, ep->lat_nr, sizeof(*v), cmp_double);
        out->p50_s = pct(v, ep->lat_nr, 0.50);
        out->p95_s = pct(v, ep->lat_nr, 0.95);
        free(v);
    }
}

static int cmp_ep(const void *a, const void *b)
{
    const struct http_ep *const *x = a, *const *y = b;

    return strcmp((*x)->endpoint, (*y)->endpoint);
}

/* Endpoints sorted by name (a fresh array of pointers). */
static const struct http_ep **sorted(const struct http_metrics *m)
{
    const struct http_ep **v = xcalloc(m->nr + 1, sizeof(*v));

    for (size_t i = 0; i < m->nr; i++)
        v[i] = &m->eps[i];
    qsort(v, m->nr, sizeof(*v), cmp_ep);
    return v;
}

size_t http_metrics_count(const struct http_engine *e)
{
    return http_engine_metrics(e)->nr;
}

int http_metrics_get(const struct http_engine *e, size_t i,
                     struct http_endpoint_stats *out)
{
    const struct http_metrics *m = http_engine_metrics(e);
    const struct http_ep **v;

    if (i >= m->nr)
        return -1;
    v = sorted(m);
    fill(v[i], out);
    free(v);
    return 0;
}

int http_metrics_find(const struct http_engine *e, const char *endpoint,
                      struct http_endpoint_stats *out)
{
    const struct http_metrics *m = http_engine_metrics(e);

    for (size_t i = 0; i < m->nr; i++) {
        if (!strcmp(m->eps[i].endpoint, endpoint)) {
            fill(&m->eps[i], out);
            return 0;
        }
    }
    return -1;
}

void http_metrics_totals(const struct http_engine *e, struct http_totals *out)
{
    const struct http_metrics *m = http_engine_metrics(e);
    struct rusage ru;

    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < m->nr; i++) {
        out->calls += m->eps[i].calls;
        out->errors += m->eps[i].errors;
        out->retries += m->eps[i].retries;
        out->bytes_in += m->eps[i].bytes_in;
        out->bytes_out += m->eps[i].bytes_out;
    }
    out->requests = m->requests;
    out->connections = m->connections;
    out->wall_s = m->wall_s;
    out->cpu_s = m->cpu_s;
    out->wait_s = m->wall_s > m->cpu_s ? m->wall_s - m->cpu_s : 0;
    if (getrusage(RUSAGE_SELF, &ru) == 0)
        out->peak_rss_kb = ru.ru_maxrss;
}

void http_metrics_table(const struct http_engine *e, struct buf *out)
{
    const struct http_metrics *m = http_engine_metrics(e);
    const struct http_ep **v = sorted(m);
    struct http_totals t;

    buf_addf(out, "%-34s %7s %6s %7s %10s %9s %8s %8s %8s %8s\n", "endpoint",
             "calls", "errors", "retries", "bytes_in", "bytes_out", "sum_s",
             "p50_ms", "p95_ms", "max_ms");
    for (size_t i = 0; i < m->nr; i++) {
        struct http_endpoint_stats s;

        fill(v[i], &s);
        buf_addf(out,
                 "%-34s %7llu %6llu %7llu %10llu %9llu %8.3f %8.1f %8.1f "
                 "%8.1f\n",
                 s.endpoint, (unsigned long long)s.calls,
                 (unsigned long long)s.errors, (unsigned long long)s.retries,
                 (unsigned long long)s.bytes_in,
                 (unsigned long long)s.bytes_out, s.latency_sum_s,
                 s.p50_s * 1e3, s.p95_s * 1e3, s.max_s * 1e3);
    }
    free(v);
    http_metrics_totals(e, &t);
    buf_addf(out,
             "total: %llu calls, %llu errors, %llu retries, %llu bytes in, "
             "%llu bytes out, %llu connections opened\n",
             (unsigned long long)t.calls, (unsigned long long)t.errors,
             (unsigned long long)t.retries, (unsigned long long)t.bytes_in,
             (unsigned long long)t.bytes_out,
             (unsigned long long)t.connections);
    buf_addf(out,
             "time: %.3f s wall, %.3f s cpu, %.3f s waiting on the network; "
             "peak rss %ld KiB\n",
             t.wall_s, t.cpu_s, t.wait_s, t.peak_rss_kb);
}

/* The counters an endpoint and the totals share, as JSON members. */
static void counters_json(struct buf *out, uint64_t calls, uint64_t errors,
                          uint64_t retries, uint64_t bytes_in,
                          uint64_t bytes_out)
{
    buf_addf(out,
             "\"calls\":%llu,\"errors\":%llu,\"retries\":%llu,"
             "\"bytes_in\":%llu,\"bytes_out\":%llu",
             (unsigned long long)calls, (unsigned long long)errors,
             (unsigned long long)retries, (unsigned long long)bytes_in,
             (unsigned long long)bytes_out);
}

void http_metrics_json(const struct http_engine *e, struct buf *out)
{
    const struct http_metrics *m = http_engine_metrics(e);
    const struct http_ep **v = sorted(m);
    struct http_totals t;

    buf_addstr(out, "{\"endpoints\":[");
    for (size_t i = 0; i < m->nr; i++) {
        struct http_endpoint_stats s;

        fill(v[i], &s);
        buf_addstr(out, i ? ",{\"endpoint\":" : "{\"endpoint\":");
        buf_add_json_str(out, s.endpoint, strlen(s.endpoint));
        buf_addch(out, ',');
        counters_json(out, s.calls, s.errors, s.retries, s.bytes_in,
                      s.bytes_out);
        buf_addf(out,
                 ",\"latency_sum_s\":%.6f,\"p50_s\":%.6f,\"p95_s\":%.6f,"
                 "\"max_s\":%.6f}",
                 s.latency_sum_s, s.p50_s, s.p95_s, s.max_s);
    }
    free(v);
    http_metrics_totals(e, &t);
    buf_addf(out, "],\"requests\":%llu,", (unsigned long long)t.requests);
    counters_json(out, t.calls, t.errors, t.retries, t.bytes_in, t.bytes_out);
    buf_addf(out,
             ",\"connections\":%llu,\"concurrency\":%ld,\"wall_s\":%.6f,"
             "\"cpu_s\":%.6f,\"wait_s\":%.6f,\"peak_rss_kb\":%ld}",
             (unsigned long long)t.connections, http_engine_concurrency(e),
             t.wall_s, t.cpu_s, t.wait_s, t.peak_rss_kb);
}
