/*
 * sim_server.c: libmicrohttpd front of immich-sim: routing, auth, the
 * capacity/latency model, faults, statistics and the request log.
 *
 * Threads: MHD runs one thread per connection, so a request may block
 * (waiting for a capacity slot, sleeping its service time) without holding
 * up others.  Three locks, never nested except lib inside a slot:
 *   cap_mu  - the K-slot semaphore and its counters,
 *   lib_mu  - the library (handlers run under it, never sleeping),
 *   stat_mu - counters, faults, the request log.
 */
#include "core/numparse.h"
#include "core/timeutil.h"
#include "sim/sim_fault.h"
#include "sim/sim_json.h"
#include "sim/sim_server.h"

#include <zlib.h>

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>

#define BODY_MAX (10u * 1024 * 1024) /* body-parser's 10 MB */

struct route {
    const char *method;
    const char *tmpl; /* template as counted in stats, without /api */
    enum sim_class cls;
    const char *perm; /* NULL = no auth; "" = any valid key */
    sim_handler_fn *fn;
    bool admin; /* admin-only route */
};

/* Literal segments come before {params} that could match them. */
static const struct route routes[] = {
    {"GET", "/server/ping", SC_META, NULL, sim_api_server_ping, false},
    {"GET", "/server/version", SC_META, NULL, sim_api_server_version, false},
    {"GET", "/server/about", SC_META, "server.about", sim_api_server_about,
     false},
    {"GET", "/server/statistics", SC_STATISTICS, "server.statistics",
     sim_api_server_statistics, true},
    {"GET", "/users/me", SC_META, "user.read", sim_api_users_me, false},
    {"GET", "/users", SC_META, "user.read", sim_api_users, false},
    {"GET", "/users/{id}", SC_META, "user.read", sim_api_user_get, false},
    {"GET", "/api-keys/me", SC_META, "", sim_api_keys_me, false},
    {"GET", "/tags", SC_TAG_READ, "tag.read", sim_api_tags_list, false},
    {"POST", "/tags", SC_TAG_WRITE, "tag.create", sim_api_tag_create, false},
    {"PUT", "/tags", SC_TAG_WRITE, "tag.create", sim_api_tags_upsert, false},
    {"PUT", "/tags/assets", SC_TAG_ASSET_ADD, "tag.asset",
     sim_api_tags_bulk_assets, false},
    {"GET", "/tags/{id}", SC_TAG_READ, "tag.read", sim_api_tag_get, false},
    {"PUT", "/tags/{id}", SC_TAG_WRITE, "tag.update", sim_api_tag_update,
     false},
    {"DELETE", "/tags/{id}", SC_TAG_WRITE, "tag.delete", sim_api_tag_delete,
     false},
    {"PUT", "/tags/{id}/assets", SC_TAG_ASSET_ADD, "tag.asset",
     sim_api_tag_assets_add, false},
    {"DELETE", "/tags/{id}/assets", SC_TAG_ASSET_DEL, "tag.asset",
     sim_api_tag_assets_remove, false},
    {"POST", "/search/metadata", SC_SEARCH, "asset.read",
     sim_api_search_metadata, false},
    {"POST", "/search/statistics", SC_STATISTICS, "asset.statistics",
     sim_api_search_statistics, false},
    {"GET", "/assets/statistics", SC_STATISTICS, "asset.statistics",
     sim_api_assets_statistics, false},
    {"PUT", "/assets", SC_ASSET_WRITE, "asset.update", sim_api_assets_update,
     false},
    {"GET", "/assets/{id}", SC_ASSET_GET, "asset.read", sim_api_asset_get,
     false},
    {"PUT", "/assets/{id}", SC_ASSET_WRITE, "asset.update",
     sim_api_asset_update, false},
    {"GET", "/albums", SC_ALBUM_LIST, "album.read", sim_api_albums_list, false},
    {"GET", "/albums/statistics", SC_STATISTICS, "album.statistics",
     sim_api_albums_statistics, false},
    {"POST", "/albums", SC_ALBUM_WRITE, "album.create", sim_api_album_create,
     false},
    {"PUT", "/albums/assets", SC_ALBUM_ASSET_ADD, "albumAsset.create",
     sim_api_albums_assets_add, false},
    {"GET", "/albums/{id}", SC_ALBUM_GET, "album.read", sim_api_album_get,
     false},
    {"PATCH", "/albums/{id}", SC_ALBUM_WRITE, "album.update",
     sim_api_album_update, false},
    {"DELETE", "/albums/{id}", SC_ALBUM_WRITE, "album.delete",
     sim_api_album_delete, false},
    {"PUT", "/albums/{id}/assets", SC_ALBUM_ASSET_ADD, "albumAsset.create",
     sim_api_album_assets_add, false},
    {"DELETE", "/albums/{id}/assets", SC_ALBUM_ASSET_DEL, "albumAsset.delete",
     sim_api_album_assets_remove, false},
    {"PUT", "/albums/{id}/users", SC_ALBUM_WRITE, "albumUser.create",
     sim_api_album_users_add, false},
    {"PUT", "/albums/{id}/user/{userId}", SC_ALBUM_WRITE, "albumUser.update",
     sim_api_album_user_update, false},
    {"DELETE", "/albums/{id}/user/{userId}", SC_ALBUM_WRITE, "albumUser.delete",
     sim_api_album_user_remove, false},
    {"GET", "/duplicates", SC_DUPLICATES, "duplicate.read", sim_api_duplicates,
     false},
    {"GET", "/timeline/buckets", SC_TIMELINE, "asset.read",
     sim_api_timeline_buckets, false},
    {"GET", "/timeline/bucket", SC_TIMELINE, "asset.read",
     sim_api_timeline_bucket, false},
    {"DELETE", "/assets", SC_ASSET_WRITE, "asset.delete", sim_api_assets_delete,
     false},
    {"POST", "/trash/restore", SC_ASSET_WRITE, "asset.delete",
     sim_api_trash_restore, false},
    {"POST", "/trash/restore/assets", SC_ASSET_WRITE, "asset.delete",
     sim_api_trash_restore_assets, false},
    {"POST", "/partners/{id}", SC_META, "partner.create",
     sim_api_partner_create, false},
    {"PUT", "/partners/{id}", SC_META, "partner.update", sim_api_partner_update,
     false},
    /* job.controller.ts: Permission.JobRead, admin: true */
    {"GET", "/jobs", SC_META, "job.read", sim_api_jobs, true},
};
#define ROUTES_NR ARRAY_SIZE(routes)

/*
 * The latency model ("--latency seed"): base milliseconds per endpoint
 * class plus a price per item.  Calibrated in docs/simulator.md so that the
 * seed profile's per-call means hold: GET /assets/{id} = 36.4 + 1 EXIF item
 * = 36.7 ms; GET /albums/{id} (2.x, assets embedded) = 238.4 + 0.3 x mean
 * album size (8.69 in the seed preset) = 241 ms; a page of 250 = 17 + 250 x
 * 0.2 = 67 ms; one-asset tag = 147 + 2 = 149 ms; untag = 198 + 2 = 200 ms.
 */
static const double class_base_ms[SC__NR] = {
    [SC_META] = 5.0,
    [SC_ASSET_GET] = 36.4,
    [SC_ASSET_WRITE] = 60.0,
    [SC_SEARCH] = 17.0,
    [SC_STATISTICS] = 15.0,
    [SC_ALBUM_LIST] = 20.0,
    [SC_ALBUM_GET] = 238.4,
    [SC_ALBUM_WRITE] = 40.0,
    [SC_ALBUM_ASSET_ADD] = 60.0,
    [SC_ALBUM_ASSET_DEL] = 60.0,
    [SC_TAG_READ] = 10.0,
    [SC_TAG_WRITE] = 25.0,
    [SC_TAG_ASSET_ADD] = 147.0,
    [SC_TAG_ASSET_DEL] = 198.0,
    [SC_DUPLICATES] = 50.0,
    [SC_TIMELINE] = 15.0,
    [SC_SIM] = 0.0,
};
#define ITEM_PLAIN_MS 0.2  /* an asset or album returned without EXIF */
#define ITEM_EXIF_MS  0.3  /* an asset returned with EXIF */
#define ITEM_LIGHT_MS 0.02 /* one id in a timeline bucket */
#define ITEM_WRITE_MS 2.0  /* one link or asset row written */
/*
 * One row an OFFSET page walks past before its first item (--offset-cost):
 * LIMIT/OFFSET makes PostgreSQL produce and discard every earlier row of
 * the ordered scan.  0.5 us a row is an assumption of the order of a
 * per-tuple index-scan cost, documented in docs/simulator.md.
 */
#define ITEM_SKIP_MS 0.0005

struct endpoint_stat {
    long count, errors;
    double service_ms;
};

struct sim_server {
    struct MHD_Daemon *mhd;
    struct sim_lib *lib;
    struct sim_jobs *jobs;
    struct sim_opts opts;
    double loop_free_ms; /* when Node's one thread is next free
                            (monotonic ms, guarded by stat_mu) */
    pthread_mutex_t lib_mu, cap_mu, stat_mu;
    pthread_cond_t cap_cv;
    /* capacity */
    int in_flight, max_in_flight, waiting, max_waiting;
    long waited;
    /* stats */
    long requests, writes, errors, unmatched, connections;
    long long bytes_in, bytes_out;
    double service_ms, slept_ms, serialise_ms;
    struct endpoint_stat ep[ROUTES_NR];
    struct sim_faults faults;
    long fault_counts[10]; /* 500 502 503 5xx 429 reset truncate spike
                              login partial */
    unsigned long corr;
    FILE *log;
};

struct req_ctx {
    struct buf body;
    bool too_big;
};

static const char *const fault_names[10] = {
    "500",   "502",      "503",   "5xx",   "429",
    "reset", "truncate", "spike", "login", "partial"};

static int fault_index(const char *kind)
{
    int i;

    for (i = 0; i < (int)ARRAY_SIZE(fault_names); i++)
        if (!strcmp(fault_names[i], kind))
            return i;
    return 3;
}

/* Matches path against tmpl, filling up to two {params}. */
static bool match_tmpl(const char *tmpl, const char *path, char params[2][64])
{
    int np = 0;

    while (*tmpl && *path) {
        if (*tmpl != '/' || *path != '/')
            return false;
        tmpl++;
        path++;
        if (*tmpl == '{') {
            size_t n = strcspn(path, "/");

            if (!n || n >= 64 || np >= 2)
                return false;
            memcpy(params[np], path, n);
            params[np++][n] = '\0';
            path += n;
            tmpl = strchr(tmpl, '}') + 1;
        } else {
            size_t n = strcspn(tmpl, "/");

            if (strncmp(tmpl, path, n) || (path[n] && path[n] != '/'))
                return false;
            tmpl += n;
            path += n;
        }
    }
    return !*tmpl && (!*path || !strcmp(path, "/"));
}

static int find_route(const char *method, const char *path, char params[2][64])
{
    size_t i;

    for (i = 0; i < ROUTES_NR; i++)
        if (!strcmp(routes[i].method, method) &&
            match_tmpl(routes[i].tmpl, path, params))
            return (int)i;
    return -1;
}

static void sleep_ms(double ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000.0);
    ts.tv_nsec = (long)((ms - (double)ts.tv_sec * 1000.0) * 1e6);
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static void slot_take(struct sim_server *s)
{
    pthread_mutex_lock(&s->cap_mu);
    if (s->in_flight >= s->opts.capacity) {
        s->waited++;
        s->waiting++;
        if (s->waiting > s->max_waiting)
            s->max_waiting = s->waiting;
        while (s->in_flight >= s->opts.capacity)
            pthread_cond_wait(&s->cap_cv, &s->cap_mu);
        s->waiting--;
    }
    s->in_flight++;
    if (s->in_flight > s->max_in_flight)
        s->max_in_flight = s->in_flight;
    pthread_mutex_unlock(&s->cap_mu);
}

static void slot_give(struct sim_server *s)
{
    pthread_mutex_lock(&s->cap_mu);
    s->in_flight--;
    pthread_cond_signal(&s->cap_cv);
    pthread_mutex_unlock(&s->cap_mu);
}

static double mono_ms(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

/*
 * The modeled service time of r in two parts: the database's (base,
 * rows written, rows an OFFSET skipped), which runs in parallel in the
 * capacity slots, and the response's serialisation (items returned),
 * which is JavaScript on Node's one event-loop thread.  *model gets the
 * sum; the return value is what to sleep: with --one-loop each request's
 * serialisation waits for the loop to be free after its database part;
 * *serialise gets that part.  *held gets how much of the sleep holds the
 * capacity slot: with --one-loop the database part only (the pool
 * connection goes back when the rows have arrived; mapping and
 * JSON.stringify run without one), otherwise all of it.
 */
static double service_ms(struct sim_server *s, enum sim_class cls,
                         const struct sim_req *r, double spike, double *model,
                         double *serialise, double *held)
{
    double f = s->opts.latency_scale;
    double db =
        (class_base_ms[cls] + ITEM_WRITE_MS * (double)r->items_written +
         (s->opts.deep_cost ? ITEM_SKIP_MS * (double)r->items_skipped : 0)) *
        f;
    double cpu = (ITEM_PLAIN_MS * (double)r->items_plain +
                  ITEM_EXIF_MS * (double)r->items_exif +
                  ITEM_LIGHT_MS * (double)r->items_light) *
                 f;
    double now, start, end;

    *model = db + cpu + spike;
    *serialise = cpu;
    if (!s->opts.latency)
        return *held = spike;
    if (!s->opts.one_loop || cpu <= 0)
        return *held = *model;
    *held = db + spike;
    now = mono_ms();
    pthread_mutex_lock(&s->stat_mu);
    start = now + db + spike;
    if (s->loop_free_ms > start)
        start = s->loop_free_ms;
    end = start + cpu;
    s->loop_free_ms = end;
    pthread_mutex_unlock(&s->stat_mu);
    return end - now;
}

enum endpoint_column { EP_CALLS, EP_SERVICE_MS, EP_ERRORS };

/* The members of one by-endpoint map of the stats, "METHOD template":
 * value, for the routes called (EP_ERRORS: that answered an error). */
static void endpoint_map(const struct sim_server *s, struct buf *b,
                         enum endpoint_column col)
{
    bool first = true;

    for (size_t i = 0; i < ROUTES_NR; i++) {
        const struct endpoint_stat *e = &s->ep[i];

        if (!(col == EP_ERRORS ? e->errors : e->count))
            continue;
        buf_addf(b, "%s\"%s %s\":", first ? "" : ",", routes[i].method,
                 routes[i].tmpl);
        if (col == EP_SERVICE_MS)
            buf_addf(b, "%.3f", e->service_ms);
        else
            buf_addf(b, "%ld", col == EP_ERRORS ? e->errors : e->count);
        first = false;
    }
}

/*
 * GET /__sim/stats: the request, write, error and fault counters, the
 * capacity model's figures and the count by endpoint template, taken under
 * the locks so a test reads one consistent picture.
 */
static void stats_json(struct sim_server *s, struct buf *b)
{
    size_t i;

    pthread_mutex_lock(&s->cap_mu);
    pthread_mutex_lock(&s->stat_mu);
    buf_addf(b,
             "{\"requests\":%ld,\"writes\":%ld,\"errors\":%ld,"
             "\"unmatched\":%ld,\"bytes_in\":%lld,\"bytes_out\":%lld,"
             "\"connections\":%ld,\"capacity\":%d,\"in_flight\":%d,"
             "\"max_in_flight\":%d,\"waited\":%ld,\"max_waiting\":%d,"
             "\"service_ms\":%.3f,\"slept_ms\":%.3f,"
             "\"serialise_ms\":%.3f,\"one_loop\":%s,\"dialect\":%d,"
             "\"latency\":\"%s\",\"latency_scale\":%g,\"by_endpoint\":{",
             s->requests, s->writes, s->errors, s->unmatched, s->bytes_in,
             s->bytes_out, s->connections, s->opts.capacity, s->in_flight,
             s->max_in_flight, s->waited, s->max_waiting, s->service_ms,
             s->slept_ms, s->serialise_ms, s->opts.one_loop ? "true" : "false",
             s->opts.dialect, s->opts.latency ? "seed" : "off",
             s->opts.latency_scale);
    endpoint_map(s, b, EP_CALLS);
    buf_addstr(b, "},\"service_ms_by_endpoint\":{");
    endpoint_map(s, b, EP_SERVICE_MS);
    buf_addstr(b, "},\"errors_by_endpoint\":{");
    endpoint_map(s, b, EP_ERRORS);
    buf_addstr(b, "},\"faults\":{");
    for (i = 0; i < ARRAY_SIZE(fault_names); i++)
        buf_addf(b, "%s\"%s\":%ld", i ? "," : "", fault_names[i],
                 s->fault_counts[i]);
    buf_addstr(b, "}");
    pthread_mutex_unlock(&s->stat_mu);
    pthread_mutex_unlock(&s->cap_mu);
    pthread_mutex_lock(&s->lib_mu);
    buf_addf(b,
             ",\"library\":{\"users\":%zu,\"assets\":%zu,\"albums\":%zu,"
             "\"tags\":%zu},\"expected\":{",
             s->lib->users_nr, s->lib->assets_nr, s->lib->albums_nr,
             s->lib->tags_nr);
    for (i = 0; i < s->lib->expect_nr; i++)
        buf_addf(b, "%s\"%s\":%ld", i ? "," : "", s->lib->expect[i].name,
                 s->lib->expect[i].value);
    buf_addstr(b, "},");
    sim_jobs_run(s->jobs, sim_now()); /* the queues as of now */
    sim_jobs_stats_json(s->jobs, b, sim_now());
    pthread_mutex_unlock(&s->lib_mu);
    buf_addstr(b, "}\n");
}

static void stats_reset(struct sim_server *s)
{
    pthread_mutex_lock(&s->cap_mu);
    pthread_mutex_lock(&s->stat_mu);
    s->max_in_flight = s->in_flight;
    s->max_waiting = s->waiting;
    s->waited = 0;
    s->requests = s->writes = s->errors = s->unmatched = 0;
    s->connections = 0;
    s->bytes_in = s->bytes_out = 0;
    s->service_ms = s->slept_ms = s->serialise_ms = 0;
    memset(s->ep, 0, sizeof(s->ep));
    memset(s->fault_counts, 0, sizeof(s->fault_counts));
    pthread_mutex_unlock(&s->stat_mu);
    pthread_mutex_unlock(&s->cap_mu);
}

/* ---- responses ---- */

struct cut_body {
    char *data;
    size_t len, cut_at;
};

static ssize_t cut_reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct cut_body *c = cls;
    size_t n;

    if (pos >= c->cut_at)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    n = c->cut_at - (size_t)pos;
    if (n > max)
        n = max;
    memcpy(out, c->data + pos, n);
    return (ssize_t)n;
}

static void cut_free(void *cls)
{
    struct cut_body *c = cls;

    free(c->data);
    free(c);
}

/* Immich compresses responses of 1 KiB and more (Express compression's
 * threshold) when the client accepts gzip. */
#define GZIP_MIN 1024

static bool wants_gzip(struct MHD_Connection *conn, const struct sim_req *r,
                       bool enabled)
{
    const char *ae;

    if (!enabled || r->status == 204 || r->out.len < GZIP_MIN)
        return false;
    ae = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_ACCEPT_ENCODING);
    return ae && strstr(ae, "gzip");
}

/*
 * gzip of data[0..len) (replacing it), at zlib's level 1: the same bytes
 * on the wire a real server sends, give or take 15 %, for a fraction of
 * the simulator's CPU that level 6 would take.  False when zlib fails
 * (the body then goes out as it is).
 */
static bool gzip_body(char **data, size_t *len)
{
    z_stream z;
    uLong cap;
    unsigned char *out;
    bool ok;

    memset(&z, 0, sizeof(z));
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return false;
    cap = deflateBound(&z, (uLong)*len) + 32;
    out = xmalloc(cap);
    z.next_in = (unsigned char *)*data;
    z.avail_in = (uInt)*len;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    ok = deflate(&z, Z_FINISH) == Z_STREAM_END;
    if (ok) {
        free(*data);
        *data = (char *)out;
        *len = z.total_out;
    } else {
        free(out);
    }
    deflateEnd(&z);
    return ok;
}

/*
 * Fault `partial`: a JSON array answer loses its second half (a bulk
 * answer that does not mention some ids); other bodies are left alone.
 */
static void drop_second_half(char **data, size_t *len)
{
    json_t *v = json_loadb(*data, *len, 0, NULL);
    size_t n;
    char *out;

    if (!json_is_array(v) || json_array_size(v) < 2) {
        json_decref(v);
        return;
    }
    n = json_array_size(v);
    while (json_array_size(v) > n / 2)
        (void)json_array_remove(v, json_array_size(v) - 1);
    out = json_dumps(v, JSON_COMPACT);
    json_decref(v);
    if (!out)
        return;
    free(*data);
    *data = out;
    *len = strlen(out);
}

/*
 * Sends a handler's answer: applies the response faults (half a body, a
 * cut or reset connection), compresses large bodies when the client
 * accepts gzip (as Immich's compression middleware), adds the headers the
 * server sends (content type, Location, 3.x's correlation id,
 * Retry-After), and reports the bytes sent.
 */
static enum MHD_Result send_response(struct MHD_Connection *conn,
                                     struct sim_req *r,
                                     const struct sim_fault_hit *hit,
                                     int dialect, bool gzip, size_t *sent)
{
    struct MHD_Response *resp;
    enum MHD_Result ret;
    bool zipped = wants_gzip(conn, r, gzip);
    size_t len = r->out.len;
    char *data = buf_detach(&r->out, NULL);

    if (hit && hit->partial)
        drop_second_half(&data, &len);
    if (zipped)
        zipped = gzip_body(&data, &len);
    *sent = len;
    if (hit && hit->reset && len > 1) {
        struct cut_body *c = xmalloc(sizeof(*c));

        c->data = data;
        c->len = len;
        c->cut_at = len / 2;
        *sent = c->cut_at;
        resp = MHD_create_response_from_callback(len, 4096, cut_reader, c,
                                                 cut_free);
    } else {
        if (hit && hit->truncate && len > 1) {
            len /= 2;
            *sent = len;
        }
        resp =
            MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    }
    if (!resp) {
        free(data);
        return MHD_NO;
    }
    if (r->html)
        (void)MHD_add_response_header(resp, "Content-Type",
                                      "text/html; charset=utf-8");
    else if (r->status != 204)
        (void)MHD_add_response_header(resp, "Content-Type",
                                      "application/json; charset=utf-8");
    if (r->location)
        (void)MHD_add_response_header(resp, "Location", r->location);
    if (zipped)
        (void)MHD_add_response_header(resp, "Content-Encoding", "gzip");
    if (gzip)
        (void)MHD_add_response_header(resp, "Vary", "Accept-Encoding");
    if (dialect >= 3 && r->correlation[0])
        (void)MHD_add_response_header(resp, "X-Correlation-ID", r->correlation);
    if (hit && hit->status && hit->retry_after >= 0) {
        char ra[16];

        (void)snprintf(ra, sizeof(ra), "%d", hit->retry_after);
        (void)MHD_add_response_header(resp, "Retry-After", ra);
    }
    ret = MHD_queue_response(conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result add_query(void *cls, enum MHD_ValueKind kind,
                                 const char *key, const char *value)
{
    struct buf *b = cls;

    (void)kind;
    if (b->buf[b->len - 1] != '{')
        buf_addch(b, ',');
    buf_add_json_str(b, key, strlen(key));
    buf_addch(b, ':');
    if (value)
        buf_add_json_str(b, value, strlen(value));
    else
        buf_addstr(b, "null");
    return MHD_YES;
}

static void log_request(struct sim_server *s, struct MHD_Connection *conn,
                        const char *method, const char *url,
                        const struct sim_req *r, double ms)
{
    struct buf line = BUF_INIT;

    if (!s->log)
        return;
    buf_addstr(&line, "{\"method\":");
    buf_add_json_str(&line, method, strlen(method));
    buf_addstr(&line, ",\"path\":");
    buf_add_json_str(&line, url, strlen(url));
    buf_addstr(&line, ",\"query\":{");
    (void)MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_query,
                                    &line);
    buf_addstr(&line, "},\"body\":");
    if (r->body) {
        char *j = json_dumps(r->body, JSON_COMPACT | JSON_ENCODE_ANY);

        buf_addstr(&line, j ? j : "null");
        free(j);
    } else {
        buf_addstr(&line, "null");
    }
    buf_addf(&line, ",\"status\":%d,\"latency_ms\":%.3f}\n", r->status, ms);
    pthread_mutex_lock(&s->stat_mu);
    (void)fwrite(line.buf, 1, line.len, s->log);
    (void)fflush(s->log);
    pthread_mutex_unlock(&s->stat_mu);
    buf_release(&line);
}

/* Authenticates r; on failure writes the 401/403 and returns -1. */
static int authenticate(struct sim_server *s, struct MHD_Connection *conn,
                        struct sim_req *r, const struct route *rt)
{
    const char *key =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "x-api-key");
    const struct sim_key *k;
    int bit;

    if (!key)
        key =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "apiKey");
    if (!key) {
        sim_error(r, 401, "Authentication required");
        return -1;
    }
    r->key = sim_find_key(s->lib, key);
    if (r->key == SIM_NONE) {
        sim_error(r, 401, "Invalid API key");
        return -1;
    }
    k = &s->lib->keys[r->key];
    r->user = k->user;
    if (!rt->perm[0])
        return 0;
    bit = sim_perm_find(rt->perm);
    if (!k->all && (bit < 0 || !(k->perms >> bit & 1))) {
        sim_error(r, 403, "Missing required permission: %s", rt->perm);
        return -1;
    }
    if (rt->admin && !s->lib->users[r->user].is_admin) {
        sim_error(r, 403, "Forbidden");
        return -1;
    }
    return 0;
}

static void new_correlation(struct sim_server *s, char out[16])
{
    static const char al[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    uint64_t st;
    int i;

    pthread_mutex_lock(&s->stat_mu);
    st = ++s->corr ^ 0xc0ffee;
    pthread_mutex_unlock(&s->stat_mu);
    st = splitmix64(&st);
    for (i = 0; i < 8; i++) {
        out[i] = al[st % 36];
        st /= 36;
    }
    out[8] = '\0';
}

/*
 * The simulator's own endpoints under /__sim/: stats, state (after running
 * jobs that are due), running job queues, an upload through a shared
 * link, resetting the counters.  Test controls: no fault, latency or
 * counter applies to them.
 */
static enum MHD_Result serve_sim(struct sim_server *s,
                                 struct MHD_Connection *conn,
                                 const char *method, const char *url,
                                 const struct req_ctx *ctx)
{
    struct sim_req r;
    size_t sent;

    memset(&r, 0, sizeof(r));
    r.out = (struct buf)BUF_INIT;
    r.status = 200;
    r.dialect = s->opts.dialect;
    if (!strcmp(method, "GET") && !strcmp(url, "/__sim/stats")) {
        stats_json(s, &r.out);
    } else if (!strcmp(method, "GET") && !strcmp(url, "/__sim/state")) {
        pthread_mutex_lock(&s->lib_mu);
        sim_jobs_run(s->jobs, sim_now());
        sim_lib_dump(&r.out, s->lib, true);
        pthread_mutex_unlock(&s->lib_mu);
    } else if (!strcmp(method, "POST") && !strcmp(url, "/__sim/jobs/run")) {
        const char *q =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "queue");
        const char *ns =
            MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "n");
        int64_t n = -1;
        long ran;

        if (ns && num_parse_i64(ns, strlen(ns), 0, INT64_MAX, &n) < 0)
            n = 0;
        pthread_mutex_lock(&s->lib_mu);
        ran = sim_jobs_step(s->jobs, q, (long)n);
        if (ran)
            s->lib->gen++;
        pthread_mutex_unlock(&s->lib_mu);
        buf_addf(&r.out, "{\"ran\":%ld}\n", ran);
    } else if (!strcmp(method, "POST") &&
               (!strcmp(url, "/__sim/shared-link-upload") ||
                !strcmp(url, "/__sim/upload"))) {
        json_t *body = json_loadb(ctx->body.buf, ctx->body.len, 0, NULL);
        struct buf err = BUF_INIT;

        pthread_mutex_lock(&s->lib_mu);
        sim_jobs_run(s->jobs, sim_now());
        if ((!strcmp(url, "/__sim/upload")
                 ? sim_upload(s->lib, body, &r.out, &err)
                 : sim_shared_link_upload(s->lib, body, &r.out, &err)) < 0) {
            r.status = 400;
            buf_addstr(&r.out, "{\"message\":");
            buf_add_json_str(&r.out, err.buf, err.len);
            buf_addch(&r.out, '}');
        }
        pthread_mutex_unlock(&s->lib_mu);
        json_decref(body);
        buf_release(&err);
    } else if (!strcmp(method, "POST") && !strcmp(url, "/__sim/reset-stats")) {
        stats_reset(s);
        buf_addstr(&r.out, "{\"ok\":true}\n");
    } else {
        r.status = 404;
        buf_addf(&r.out, "{\"message\":\"Cannot %s %s\"}", method, url);
    }
    return send_response(conn, &r, NULL, s->opts.dialect, s->opts.gzip, &sent);
}

/*
 * One API request, in the order the server's pipeline has them: route
 * lookup, authentication and permission, the faults that answer instead
 * of the handler, the capacity model (a slot, the handler under the
 * library lock, the modelled latency: the slot is held for the database
 * part, given back before the --one-loop wait for Node's thread), then
 * the response faults and the counters.  Keeping it in one place keeps the
 * order of these steps visible.
 */
static enum MHD_Result serve(struct sim_server *s, struct MHD_Connection *conn,
                             const char *method, const char *url,
                             struct req_ctx *ctx)
{
    struct sim_req r;
    struct sim_fault_hit hit;
    const struct route *rt = NULL;
    enum MHD_Result ret;
    double ms = 0, slept = 0, cpu = 0, held = 0;
    size_t sent = 0;
    int ri = -1;

    memset(&r, 0, sizeof(r));
    memset(&hit, 0, sizeof(hit));
    hit.retry_after = -1;
    r.out = (struct buf)BUF_INIT;
    r.lib = s->lib;
    r.dialect = s->opts.dialect;
    r.minor = s->opts.minor;
    r.jobs = s->jobs;
    r.create_last = s->opts.create_last;
    r.method = method;
    r.conn = conn;
    r.user = r.key = SIM_NONE;
    r.status = 200;
    r.path = url + 4;
    new_correlation(s, r.correlation);

    if (ctx->too_big) {
        sim_error(&r, 413, "request entity too large");
        goto done;
    }
    if (ctx->body.len) {
        json_error_t jerr;

        r.body =
            json_loadb(ctx->body.buf, ctx->body.len, JSON_DECODE_ANY, &jerr);
        if (!r.body) {
            sim_error(&r, 400, "Unexpected token in JSON at position %d",
                      jerr.position);
            goto done;
        }
    }
    ri = find_route(method, r.path, r.params);
    if (ri < 0) {
        sim_error(&r, 404, "Cannot %s %s", method, url);
        goto done;
    }
    rt = &routes[ri];
    if (rt->perm) {
        int rc;

        pthread_mutex_lock(&s->lib_mu);
        rc = authenticate(s, conn, &r, rt);
        pthread_mutex_unlock(&s->lib_mu);
        if (rc < 0)
            goto done;
    }
    pthread_mutex_lock(&s->stat_mu);
    {
        char ep[128];

        (void)snprintf(ep, sizeof(ep), "%s %s", rt->method, rt->tmpl);
        sim_faults_decide(&s->faults, ep, &hit);
        if (hit.kind)
            s->fault_counts[fault_index(hit.kind)]++;
        if (hit.spike_ms)
            s->fault_counts[7]++;
    }
    pthread_mutex_unlock(&s->stat_mu);
    if (hit.login) {
        /* A reverse proxy whose session expired answers for the server:
         * the request never reaches Immich. */
        r.status = hit.login;
        r.html = true;
        r.location = hit.login == 302 ? "/oauth2/sign_in?rd=%2Fapi" : NULL;
        buf_reset(&r.out);
        buf_addstr(&r.out, "<!DOCTYPE html><html><head><title>Sign in"
                           "</title></head><body><form method=\"post\">"
                           "<input name=\"user\"><input type=\"password\">"
                           "</form></body></html>");
        goto done;
    }
    if (hit.status) {
        if (hit.status == 429)
            sim_error(&r, 429, "Too Many Requests");
        else
            sim_error(&r, hit.status, "%s",
                      hit.status == 500 ? "Internal server error"
                                        : "Service temporarily unavailable");
        goto done;
    }
    slot_take(s);
    pthread_mutex_lock(&s->lib_mu);
    sim_jobs_run(s->jobs, sim_now());
    rt->fn(&r);
    if (r.wrote)
        r.lib->gen++;
    pthread_mutex_unlock(&s->lib_mu);
    slept = service_ms(s, rt->cls, &r, (double)hit.spike_ms, &ms, &cpu, &held);
    sleep_ms(held);
    slot_give(s);
    sleep_ms(slept - held);

done:
    ret = send_response(conn, &r, &hit, s->opts.dialect, s->opts.gzip, &sent);
    pthread_mutex_lock(&s->stat_mu);
    s->requests++;
    s->bytes_in += (long long)ctx->body.len;
    s->bytes_out += (long long)sent;
    s->service_ms += ms;
    s->serialise_ms += cpu;
    s->slept_ms += slept;
    if (r.wrote)
        s->writes++;
    if (r.status >= 400)
        s->errors++;
    if (ri >= 0) {
        s->ep[ri].count++;
        s->ep[ri].service_ms += ms;
        if (r.status >= 400)
            s->ep[ri].errors++;
    } else {
        s->unmatched++;
    }
    pthread_mutex_unlock(&s->stat_mu);
    log_request(s, conn, method, url, &r, slept);
    json_decref(r.body);
    buf_release(&r.out);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct sim_server *s = cls;
    struct req_ctx *ctx = *con_cls;
    struct sim_req r;
    size_t sent;

    (void)version;
    if (!ctx) {
        ctx = xcalloc(1, sizeof(*ctx));
        ctx->body = (struct buf)BUF_INIT;
        *con_cls = ctx;
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (ctx->body.len + *upload_data_size > BODY_MAX)
            ctx->too_big = true;
        else
            buf_add(&ctx->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (!strncmp(url, "/__sim/", 7))
        return serve_sim(s, conn, method, url, ctx);
    if (!strncmp(url, "/api/", 5) || !strcmp(url, "/api"))
        return serve(s, conn, method, url, ctx);
    /* outside /api the real server serves its web app */
    memset(&r, 0, sizeof(r));
    r.out = (struct buf)BUF_INIT;
    r.status = 404;
    buf_addstr(&r.out, "{\"message\":\"not an API path\"}");
    return send_response(conn, &r, NULL, 3, false, &sent);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct req_ctx *ctx = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (!ctx)
        return;
    buf_release(&ctx->body);
    free(ctx);
    *con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn,
                          void **socket_context,
                          enum MHD_ConnectionNotificationCode toe)
{
    struct sim_server *s = cls;

    (void)conn;
    (void)socket_context;
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    pthread_mutex_lock(&s->stat_mu);
    s->connections++;
    pthread_mutex_unlock(&s->stat_mu);
}

struct sim_server *sim_server_start(const struct sim_opts *o,
                                    struct sim_lib *lib, int *port,
                                    struct buf *err)
{
    struct sim_server *s = xcalloc(1, sizeof(*s));
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    s->lib = lib;
    s->opts = *o;
    if (s->opts.capacity < 1)
        s->opts.capacity = 1;
    s->jobs = sim_jobs_new(&o->jobs, lib, o->dialect);
    if (o->public_users >= 0)
        lib->public_users = o->public_users == 1;
    lib->micros = o->micros;
    pthread_mutex_init(&s->lib_mu, NULL);
    pthread_mutex_init(&s->cap_mu, NULL);
    pthread_mutex_init(&s->stat_mu, NULL);
    pthread_cond_init(&s->cap_cv, NULL);
    if (o->faults && sim_faults_parse(&s->faults, o->faults, o->seed, err) < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)o->port);
    if (inet_pton(AF_INET, o->bind, &sa.sin_addr) != 1) {
        buf_addf(err, "bad bind address '%s'", o->bind);
        goto fail;
    }
    if (o->request_log) {
        s->log = fopen(o->request_log, "w");
        if (!s->log) {
            buf_addf(err, "cannot open '%s': %s", o->request_log,
                     strerror(errno));
            goto fail;
        }
    }
    s->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
            MHD_USE_POLL | MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, s, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, s,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256, MHD_OPTION_END);
    if (!s->mhd) {
        buf_addf(err, "cannot listen on %s:%d", o->bind, o->port);
        goto fail;
    }
    info = MHD_get_daemon_info(s->mhd, MHD_DAEMON_INFO_BIND_PORT);
    *port = info ? info->port : o->port;
    return s;
fail:
    sim_server_stop(s);
    return NULL;
}

void sim_server_stop(struct sim_server *s)
{
    if (!s)
        return;
    if (s->mhd)
        MHD_stop_daemon(s->mhd);
    if (s->log)
        (void)fclose(s->log);
    sim_faults_release(&s->faults);
    sim_jobs_free(s->jobs);
    pthread_mutex_destroy(&s->lib_mu);
    pthread_mutex_destroy(&s->cap_mu);
    pthread_mutex_destroy(&s->stat_mu);
    pthread_cond_destroy(&s->cap_cv);
    free(s);
}
