/*
 * state.c: the SQLite run history.  One connection, migrations by
 * PRAGMA user_version, statements prepared once.
 */
#include "state/state.h"

#include <sqlite3.h>

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[STATE_SCHEMA_VERSION] = {
    /* 1: runs and their checkpoint */
    "CREATE TABLE runs ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  started_at INTEGER NOT NULL,"
    "  finished_at INTEGER NOT NULL DEFAULT 0,"
    "  status INTEGER NOT NULL DEFAULT 0,"
    "  skip_n INTEGER NOT NULL DEFAULT 0,"
    "  count INTEGER NOT NULL DEFAULT 0,"
    "  last_processed_id TEXT);"
    "CREATE INDEX runs_started ON runs(started_at);",
    /* 2: counters per category, for "change since the previous run" */
    "CREATE TABLE run_counters ("
    "  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    "  key TEXT NOT NULL,"
    "  value INTEGER NOT NULL,"
    "  PRIMARY KEY (run_id, key));",
    /* 3: album memberships remembered between runs */
    "CREATE TABLE album_members ("
    "  server TEXT NOT NULL,"
    "  album BLOB NOT NULL,"
    "  updated_at INTEGER NOT NULL,"
    "  last_modified INTEGER NOT NULL,"
    "  asset_count INTEGER NOT NULL,"
    "  dialect INTEGER NOT NULL,"
    "  fetched_at INTEGER NOT NULL,"
    "  members BLOB NOT NULL,"
    "  PRIMARY KEY (server, album));",
};

enum stmt {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_RUN_INSERT,
    S_RUN_FINISH,
    S_COUNTER_INSERT,
    S_PREVIOUS,
    S_RECENT,
    S_COUNTERS_OF,
    S_MAX_COUNT,
    S_ALBUM_GET,
    S_ALBUM_PUT,
    S_ALBUM_PRUNE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_RUN_INSERT] = "INSERT INTO runs(name, started_at) VALUES (?1, ?2)",
    [S_RUN_FINISH] = "UPDATE runs SET finished_at = ?2, status = ?3,"
                     " skip_n = ?4, count = ?5, last_processed_id = ?6"
                     " WHERE id = ?1",
    [S_COUNTER_INSERT] = "INSERT OR REPLACE INTO run_counters(run_id, key,"
                         " value) VALUES (?1, ?2, ?3)",
    [S_PREVIOUS] = "SELECT id, name, started_at, finished_at, status,"
                   " skip_n, count, last_processed_id FROM runs"
                   " WHERE id <> ?1 AND status IN (1, 2)"
                   " ORDER BY finished_at DESC, id DESC LIMIT 1",
    [S_RECENT] = "SELECT id, name, started_at, finished_at, status,"
                 " skip_n, count, last_processed_id FROM runs"
                 " ORDER BY id DESC LIMIT ?1",
    [S_COUNTERS_OF] = "SELECT key, value FROM run_counters WHERE run_id = ?1"
                      " ORDER BY rowid",
    [S_MAX_COUNT] = "SELECT max(count) FROM runs WHERE started_at >= ?1"
                    " AND id <> ?2 AND status IN (1, 2)",
    [S_ALBUM_GET] = "SELECT members FROM album_members WHERE server = ?1"
                    " AND album = ?2 AND updated_at = ?3"
                    " AND last_modified = ?4 AND asset_count = ?5"
                    " AND dialect = ?6 AND fetched_at >= ?7",
    [S_ALBUM_PUT] = "INSERT OR REPLACE INTO album_members(server, album,"
                    " updated_at, last_modified, asset_count, dialect,"
                    " fetched_at, members)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [S_ALBUM_PRUNE] = "DELETE FROM album_members WHERE server = ?1"
                      " AND fetched_at < ?2",
};

struct state {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
};

void state_counters_add(struct state_counters *c, const char *key,
                        int64_t value)
{
    ALLOC_GROW(c->items, c->nr + 1, c->alloc);
    c->items[c->nr].key = xstrdup(key);
    c->items[c->nr].value = value;
    c->nr++;
}

void state_counters_release(struct state_counters *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->nr; i++)
        free(c->items[i].key);
    free(c->items);
    c->items = NULL;
    c->nr = c->alloc = 0;
}

void state_run_release(struct state_run *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->last_processed_id);
    state_counters_release(&r->counters);
    memset(r, 0, sizeof(*r));
}

static int fail(struct state *st, struct buf *err, const char *what)
{
    buf_addf(err, "state database: %s: %s", what, sqlite3_errmsg(st->db));
    return -1;
}

/* Runs a statement that returns no rows and resets it. */
static int step_done(struct state *st, enum stmt s, struct buf *err,
                     const char *what)
{
    int rc = sqlite3_step(st->st[s]);

    if (rc != SQLITE_DONE) {
        (void)sqlite3_reset(st->st[s]);
        return fail(st, err, what);
    }
    (void)sqlite3_reset(st->st[s]);
    (void)sqlite3_clear_bindings(st->st[s]);
    return 0;
}

int state_schema_version(struct state *st, int *version, struct buf *err)
{
    sqlite3_stmt *q = NULL;
    int ret = -1;

    if (sqlite3_prepare_v2(st->db, "PRAGMA user_version", -1, &q, NULL) !=
            SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW) {
        fail(st, err, "cannot read the schema version");
        goto out;
    }
    *version = sqlite3_column_int(q, 0);
    ret = 0;
out:
    (void)sqlite3_finalize(q);
    return ret;
}

static int migrate(struct state *st, const char *path, struct buf *err)
{
    int version, v;

    if (state_schema_version(st, &version, err) < 0)
        return -1;
    if (version > STATE_SCHEMA_VERSION) {
        buf_addf(err, "state database '%s' has schema version %d, newer "
                      "than this program's %d", path, version,
                 STATE_SCHEMA_VERSION);
        return -1;
    }
    for (v = version; v < STATE_SCHEMA_VERSION; v++) {
        struct buf sql = BUF_INIT;
        char *msg = NULL;

        /* The DDL and the version bump commit together or not at all. */
        buf_addf(&sql, "BEGIN IMMEDIATE; %s PRAGMA user_version = %d; "
                       "COMMIT;", migrations[v], v + 1);
        if (sqlite3_exec(st->db, sql.buf, NULL, NULL, &msg) != SQLITE_OK) {
            buf_addf(err, "state database '%s': migration to version %d "
                          "failed: %s", path, v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            buf_release(&sql);
            return -1;
        }
        buf_release(&sql);
    }
    return 0;
}

static int open_db(struct state **out, const char *path, bool readonly,
                   struct buf *err)
{
    struct state *st = xcalloc(1, sizeof(*st));
    int version = 0;
    size_t i;

    if (sqlite3_open_v2(path, &st->db,
                        (readonly ? SQLITE_OPEN_READONLY
                                  : SQLITE_OPEN_READWRITE |
                                        SQLITE_OPEN_CREATE) |
                            SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        buf_addf(err, "cannot open state database '%s': %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    /* A concurrent reader (a second process refused by the lock) must
     * not make us fail at once. */
    (void)sqlite3_busy_timeout(st->db, 5000);
    if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL,
                     NULL) != SQLITE_OK) {
        fail(st, err, "cannot enable foreign keys");
        goto fail;
    }
    if (readonly) {
        /* Read as it is: a database of another version is not ours to
         * read (nor, read-only, to migrate). */
        if (state_schema_version(st, &version, err) < 0)
            goto fail;
        if (version != STATE_SCHEMA_VERSION) {
            buf_addf(err, "state database '%s' has schema version %d, not "
                          "%d", path, version, STATE_SCHEMA_VERSION);
            goto fail;
        }
    } else if (migrate(st, path, err) < 0) {
        goto fail;
    }
    for (i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->st[i],
                               NULL) != SQLITE_OK) {
            fail(st, err, "cannot prepare a statement");
            goto fail;
        }
    }
    *out = st;
    return 0;
fail:
    state_close(st);
    return -1;
}

int state_open(struct state **out, const char *path, struct buf *err)
{
    return open_db(out, path, false, err);
}

int state_open_readonly(struct state **out, const char *path,
                        struct buf *err)
{
    return open_db(out, path, true, err);
}

void state_close(struct state *st)
{
    size_t i;

    if (!st)
        return;
    for (i = 0; i < S_COUNT; i++)
        (void)sqlite3_finalize(st->st[i]);
    (void)sqlite3_close(st->db);
    free(st);
}

int state_run_begin(struct state *st, const char *name, int64_t started_at,
                    int64_t *run_id, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_RUN_INSERT];

    if (sqlite3_bind_text(q, 1, name, -1, SQLITE_TRANSIENT) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, started_at) != SQLITE_OK)
        return fail(st, err, "cannot record the run");
    if (step_done(st, S_RUN_INSERT, err, "cannot record the run") < 0)
        return -1;
    *run_id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int state_run_finish(struct state *st, int64_t run_id,
                     const struct state_run_end *end, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_RUN_FINISH];
    sqlite3_stmt *c = st->st[S_COUNTER_INSERT];
    size_t i;

    if (step_done(st, S_BEGIN, err, "cannot begin a transaction") < 0)
        return -1;
    if (sqlite3_bind_int64(q, 1, run_id) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, end->finished_at) != SQLITE_OK ||
        sqlite3_bind_int(q, 3, (int)end->status) != SQLITE_OK ||
        sqlite3_bind_int64(q, 4, end->skip_n) != SQLITE_OK ||
        sqlite3_bind_int64(q, 5, end->count) != SQLITE_OK ||
        (end->last_processed_id
             ? sqlite3_bind_text(q, 6, end->last_processed_id, -1,
                                 SQLITE_TRANSIENT)
             : sqlite3_bind_null(q, 6)) != SQLITE_OK) {
        fail(st, err, "cannot record the end of the run");
        goto rollback;
    }
    if (step_done(st, S_RUN_FINISH, err, "cannot record the end of the run"))
        goto rollback;
    for (i = 0; end->counters && i < end->counters->nr; i++) {
        const struct state_counter *k = &end->counters->items[i];

        if (sqlite3_bind_int64(c, 1, run_id) != SQLITE_OK ||
            sqlite3_bind_text(c, 2, k->key, -1, SQLITE_TRANSIENT) !=
                SQLITE_OK ||
            sqlite3_bind_int64(c, 3, k->value) != SQLITE_OK) {
            fail(st, err, "cannot record a counter");
            goto rollback;
        }
        if (step_done(st, S_COUNTER_INSERT, err, "cannot record a counter"))
            goto rollback;
    }
    if (step_done(st, S_COMMIT, err, "cannot commit the run") < 0)
        goto rollback;
    return 0;
rollback:
    {
        struct buf ignored = BUF_INIT;

        (void)step_done(st, S_ROLLBACK, &ignored, "rollback");
        buf_release(&ignored);
    }
    return -1;
}

static char *column_dup(sqlite3_stmt *q, int col)
{
    const unsigned char *t = sqlite3_column_text(q, col);

    return t ? xstrdup((const char *)t) : NULL;
}

/* The run of the current row of q (a runs SELECT), then its counters. */
static int read_run(struct state *st, sqlite3_stmt *q, struct state_run *out,
                    struct buf *err)
{
    sqlite3_stmt *c = st->st[S_COUNTERS_OF];
    int rc;

    memset(out, 0, sizeof(*out));
    out->id = sqlite3_column_int64(q, 0);
    out->name = column_dup(q, 1);
    out->started_at = sqlite3_column_int64(q, 2);
    out->finished_at = sqlite3_column_int64(q, 3);
    out->status = (enum state_run_status)sqlite3_column_int(q, 4);
    out->skip_n = sqlite3_column_int64(q, 5);
    out->count = sqlite3_column_int64(q, 6);
    out->last_processed_id = column_dup(q, 7);
    if (sqlite3_bind_int64(c, 1, out->id) != SQLITE_OK)
        goto fail;
    while ((rc = sqlite3_step(c)) == SQLITE_ROW) {
        const unsigned char *key = sqlite3_column_text(c, 0);

        state_counters_add(&out->counters, key ? (const char *)key : "",
                           sqlite3_column_int64(c, 1));
    }
    (void)sqlite3_reset(c);
    if (rc != SQLITE_DONE)
        goto fail;
    return 0;
fail:
    fail(st, err, "cannot read a run's counters");
    state_run_release(out);
    return -1;
}

int state_previous_run(struct state *st, int64_t exclude_id,
                       struct state_run *out, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_PREVIOUS];
    int rc, ret;

    memset(out, 0, sizeof(*out));
    if (sqlite3_bind_int64(q, 1, exclude_id) != SQLITE_OK)
        return fail(st, err, "cannot read the previous run");
    rc = sqlite3_step(q);
    if (rc == SQLITE_DONE) {
        (void)sqlite3_reset(q);
        return 0;
    }
    if (rc != SQLITE_ROW) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot read the previous run");
    }
    ret = read_run(st, q, out, err) < 0 ? -1 : 1;
    (void)sqlite3_reset(q);
    return ret;
}

int state_runs_recent(struct state *st, size_t limit, struct state_run **out,
                      size_t *nr, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_RECENT];
    size_t alloc = 0;
    int rc;

    *out = NULL;
    *nr = 0;
    if (sqlite3_bind_int64(q, 1, (sqlite3_int64)limit) != SQLITE_OK)
        return fail(st, err, "cannot list the runs");
    while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
        ALLOC_GROW(*out, *nr + 1, alloc);
        if (read_run(st, q, &(*out)[*nr], err) < 0)
            break;
        (*nr)++;
    }
    (void)sqlite3_reset(q);
    if (rc != SQLITE_DONE) {
        if (rc != SQLITE_ROW) /* else read_run() said why */
            fail(st, err, "cannot list the runs");
        state_runs_free(*out, *nr);
        *out = NULL;
        *nr = 0;
        return -1;
    }
    return 0;
}

void state_runs_free(struct state_run *runs, size_t nr)
{
    size_t i;

    for (i = 0; i < nr; i++)
        state_run_release(&runs[i]);
    free(runs);
}

int state_max_count(struct state *st, int64_t since_ms, int64_t exclude_id,
                    int64_t *count, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_MAX_COUNT];
    int rc;

    if (sqlite3_bind_int64(q, 1, since_ms) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, exclude_id) != SQLITE_OK)
        return fail(st, err, "cannot read the checkpoint");
    rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot read the checkpoint");
    }
    *count = sqlite3_column_type(q, 0) == SQLITE_NULL
                 ? -1
                 : sqlite3_column_int64(q, 0);
    (void)sqlite3_reset(q);
    return 0;
}

/* ---- album memberships ------------------------------------------------- */

static int bind_key(sqlite3_stmt *q, const char *server,
                    const struct uuid *album,
                    const struct state_album_key *key)
{
    return sqlite3_bind_text(q, 1, server, -1, SQLITE_STATIC) != SQLITE_OK ||
           sqlite3_bind_blob(q, 2, album->b, (int)sizeof(album->b),
                             SQLITE_STATIC) != SQLITE_OK ||
           sqlite3_bind_int64(q, 3, key->updated_at) != SQLITE_OK ||
           sqlite3_bind_int64(q, 4, key->last_modified) != SQLITE_OK ||
           sqlite3_bind_int64(q, 5, key->asset_count) != SQLITE_OK ||
           sqlite3_bind_int(q, 6, key->dialect) != SQLITE_OK
               ? -1 : 0;
}

int state_album_members_get(struct state *st, const char *server,
                            const struct uuid *album,
                            const struct state_album_key *key,
                            int64_t not_before, struct uuid **ids,
                            size_t *nr, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_ALBUM_GET];
    const void *blob;
    int rc, len, ret = 0;

    *ids = NULL;
    *nr = 0;
    if (bind_key(q, server, album, key) < 0 ||
        sqlite3_bind_int64(q, 7, not_before) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot read an album's members");
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        blob = sqlite3_column_blob(q, 0);
        len = sqlite3_column_bytes(q, 0);
        if (len % (int)sizeof(struct uuid) == 0) {
            *nr = (size_t)len / sizeof(struct uuid);
            *ids = xmalloc(st_mult(*nr + 1, sizeof(**ids)));
            if (len)
                memcpy(*ids, blob, (size_t)len);
            ret = 1;
        }
    } else if (rc != SQLITE_DONE) {
        ret = fail(st, err, "cannot read an album's members");
    }
    (void)sqlite3_reset(q);
    (void)sqlite3_clear_bindings(q);
    return ret;
}

int state_album_members_put(struct state *st, const char *server,
                            const struct uuid *album,
                            const struct state_album_key *key,
                            int64_t fetched_at, const struct uuid *ids,
                            size_t nr, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_ALBUM_PUT];
    size_t bytes = st_mult(nr, sizeof(*ids));

    if (bytes > INT32_MAX || bind_key(q, server, album, key) < 0 ||
        sqlite3_bind_int64(q, 7, fetched_at) != SQLITE_OK ||
        sqlite3_bind_blob(q, 8, nr ? (const void *)ids : "", (int)bytes,
                          SQLITE_STATIC) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot remember an album's members");
    }
    return step_done(st, S_ALBUM_PUT, err,
                     "cannot remember an album's members");
}

int state_album_members_prune(struct state *st, const char *server,
                              int64_t older_than, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_ALBUM_PRUNE];

    if (sqlite3_bind_text(q, 1, server, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, older_than) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot forget old album members");
    }
    return step_done(st, S_ALBUM_PRUNE, err,
                     "cannot forget old album members");
}

int state_begin(struct state *st, struct buf *err)
{
    return step_done(st, S_BEGIN, err, "cannot begin a transaction");
}

int state_commit(struct state *st, struct buf *err)
{
    return step_done(st, S_COMMIT, err, "cannot commit");
}

void state_rollback(struct state *st)
{
    struct buf ignored = BUF_INIT;

    (void)step_done(st, S_ROLLBACK, &ignored, "rollback");
    buf_release(&ignored);
}
