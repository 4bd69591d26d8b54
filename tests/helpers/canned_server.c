/*
 * canned_server.c: the unit tests' small HTTP server.  See canned_server.h.
 */
#include "core/common.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "canned_server.h"
#include "core/buf.h"
#include "core/xalloc.h"

/* Bodies arrive over several calls: collected per connection, answered
 * on the last call (libmicrohttpd's access handler protocol). */
static enum MHD_Result handler(void *cls, struct MHD_Connection *c,
                               const char *url, const char *method,
                               const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    struct canned_server *s = cls;
    struct buf *body = *con_cls;
    struct canned_req req;

    (void)version;
    if (!body) {
        body = xcalloc(1, sizeof(*body));
        buf_init(body, 0);
        *con_cls = body;
        return MHD_YES;
    }
    if (*upload_size) {
        buf_add(body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    req.conn = c;
    req.method = method;
    req.url = url;
    req.body = body->buf;
    req.body_len = body->len;
    return s->fn(&req, s->ctx);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct buf *body = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    if (body) {
        buf_release(body);
        free(body);
        *con_cls = NULL;
    }
}

int canned_start(struct canned_server *s, canned_fn *fn, void *ctx)
{
    const union MHD_DaemonInfo *info;

    s->fn = fn;
    s->ctx = ctx;
    s->daemon = MHD_start_daemon(
        MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, handler, s, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
    if (!s->daemon)
        return -1;
    info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(s->url, sizeof(s->url), "http://127.0.0.1:%u",
             (unsigned)info->port);
    return 0;
}

void canned_stop(struct canned_server *s)
{
    if (s->daemon)
        MHD_stop_daemon(s->daemon);
    s->daemon = NULL;
}

static struct canned_server group_server;
static canned_fn *group_fn;
static void *group_ctx;

static int group_up(void **state)
{
    (void)state;
    return canned_start(&group_server, group_fn, group_ctx) < 0 ? -1 : 0;
}

static int group_down(void **state)
{
    (void)state;
    canned_stop(&group_server);
    return 0;
}

int canned_run(const char *name, const struct CMUnitTest *tests, size_t n,
               canned_fn *fn, void *ctx, void (*after)(void))
{
    int rc;

    group_fn = fn;
    group_ctx = ctx;
    rc = _cmocka_run_group_tests(name, tests, n, group_up, group_down);
    if (after)
        after();
    return rc;
}

const char *canned_group_url(void)
{
    return group_server.url;
}

enum MHD_Result canned_reply(struct MHD_Connection *c, unsigned status,
                             const char *body, const char *header,
                             const char *value)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    if (header)
        (void)MHD_add_response_header(resp, header, value);
    (void)MHD_add_response_header(resp, "Content-Type", "application/json");
    ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}
