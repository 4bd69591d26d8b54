/*
 * snapshot_check.c: `immich-autotag check`, read-only.  One round of
 * requests (version, users/me, api-keys/me, tags, albums, asset
 * statistics) run concurrently; the answers become the report lines and
 * a class the CLI maps to its exit code.
 */
#include "snapshot/snapshot.h"

#include "api/api.h"

struct check {
    struct api api;
    struct buf first_err; /* first failure, one line */
    enum snapshot_check_class cls;
    struct api_version v;
    bool have_version;
    struct buf user;   /* "Name <email>" */
    struct buf perms;  /* missing permissions, comma separated */
    bool perms_listed; /* GET /api-keys/me answered */
    bool perms_all;
    const struct config *cfg;
    long tags, albums;
    struct api_asset_stats stats;
    bool have_stats;
};

static bool note(struct check *c, const struct api_status *st)
{
    if (st->ok)
        return true;
    if (!c->first_err.len) {
        bool server = st->kind == API_FAIL_NETWORK ||
                      st->kind == API_FAIL_AUTH ||
                      st->kind == API_FAIL_CANCELLED;

        buf_addf(&c->first_err, "server: %s", st->error);
        c->cls = server ? SNAPSHOT_CHECK_SERVER : SNAPSHOT_CHECK_FAILED;
    }
    return false;
}

static void on_version(void *ctx, const struct api_status *st,
                       const struct api_version *v)
{
    struct check *c = ctx;

    if (note(c, st)) {
        c->v = *v;
        c->have_version = true;
    }
}

static void on_me(void *ctx, const struct api_status *st,
                  const struct api_user *u)
{
    struct check *c = ctx;

    if (note(c, st))
        buf_addf(&c->user, "%s <%s>", u->name, u->email);
}

static void on_key(void *ctx, const struct api_status *st,
                   const struct api_key_info *k)
{
    struct check *c = ctx;
    const char *need[32];
    size_t nr;

    /* An old server without the route: permissions cannot be listed,
     * the reads below still probe them. */
    if (!st->ok && st->kind == API_FAIL_HTTP && st->http == 404)
        return;
    if (!note(c, st))
        return;
    c->perms_listed = true;
    for (size_t i = 0; i < k->permissions_nr; i++)
        if (!strcmp(k->permissions[i], "all"))
            c->perms_all = true;
    if (c->perms_all)
        return;
    nr = snapshot_needed_permissions(c->cfg, need, ARRAY_SIZE(need));
    for (size_t i = 0; i < nr && i < ARRAY_SIZE(need); i++) {
        bool have = false;

        for (size_t j = 0; j < k->permissions_nr && !have; j++)
            have = !strcmp(k->permissions[j], need[i]);
        if (!have)
            buf_addf(&c->perms, "%s%s", c->perms.len ? ", " : "", need[i]);
    }
}

static void on_tags(void *ctx, const struct api_status *st,
                    const struct api_tag *tags, size_t nr)
{
    struct check *c = ctx;

    (void)tags;
    if (note(c, st))
        c->tags = (long)nr;
}

static void on_albums(void *ctx, const struct api_status *st,
                      const struct api_album *albums, size_t nr)
{
    struct check *c = ctx;

    (void)albums;
    if (note(c, st))
        c->albums = (long)nr;
}

static void on_stats(void *ctx, const struct api_status *st,
                     const struct api_asset_stats *s)
{
    struct check *c = ctx;

    if (note(c, st)) {
        c->stats = *s;
        c->have_stats = true;
    }
}

enum snapshot_check_class snapshot_check(const struct config *cfg,
                                         struct http_engine *eng,
                                         struct buf *report, struct buf *err)
{
    struct check c;
    struct buf e = BUF_INIT;
    const char *need[32];
    size_t nr;

    memset(&c, 0, sizeof(c));
    buf_init(&c.first_err, 0);
    buf_init(&c.user, 0);
    buf_init(&c.perms, 0);
    c.cfg = cfg;
    api_init(&c.api, eng);
    api_server_version(&c.api, on_version, &c);
    api_users_me(&c.api, on_me, &c);
    api_keys_me(&c.api, on_key, &c);
    api_tags(&c.api, on_tags, &c);
    api_albums(&c.api, -1, on_albums, &c);
    api_asset_statistics(&c.api, on_stats, &c);
    if (http_engine_run(eng, &e) < 0) {
        buf_addf(err, "server: %s", e.buf);
        c.cls = SNAPSHOT_CHECK_FAILED;
        goto out;
    }
    if (c.have_version)
        buf_addf(report, "server: %s reachable, Immich %d.%d.%d (dialect %d)\n",
                 cfg && cfg->server.url ? cfg->server.url : "server", c.v.major,
                 c.v.minor, c.v.patch, api_dialect_of(c.v.major));
    if (c.user.len)
        buf_addf(report, "user: %s\n", c.user.buf);
    /* The whole list of what the key lacks says more than the first
     * read it broke. */
    if (c.perms.len) {
        buf_addf(err, "missing permissions: %s", c.perms.buf);
        if (c.first_err.len)
            buf_addf(err, "\n%s", c.first_err.buf);
        c.cls = SNAPSHOT_CHECK_SERVER;
        goto out;
    }
    if (c.first_err.len) {
        buf_addstr(err, c.first_err.buf);
        goto out;
    }
    nr = snapshot_needed_permissions(cfg, need, ARRAY_SIZE(need));
    buf_addstr(report, "permissions: ");
    if (c.perms_all)
        buf_addstr(report, "the key has all permissions");
    else if (c.perms_listed)
        buf_addf(report, "all %zu needed permissions granted", nr);
    else
        buf_addstr(report, "not listed by this server; reads succeeded");
    buf_addch(report, '\n');
    buf_addf(report,
             "library: %ld assets (%ld images, %ld videos), %ld albums, "
             "%ld tags\n",
             c.stats.total, c.stats.images, c.stats.videos, c.albums, c.tags);
    c.cls = SNAPSHOT_CHECK_OK;
out:
    buf_release(&e);
    buf_release(&c.first_err);
    buf_release(&c.user);
    buf_release(&c.perms);
    return c.cls;
}
