/*
 * state.c: the SQLite run history.  One connection, migrations by
 * PRAGMA user_version, statements prepared once.
 */
#include "state/state.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <time.h>
#include <unistd.h>

#include "core/fsutil.h"
#include "core/log.h"

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
    /* 4: the library as the last good read saw it (incremental reads) */
    "CREATE TABLE library_state ("
    "  scope TEXT PRIMARY KEY,"
    "  dialect INTEGER NOT NULL,"
    "  needs TEXT NOT NULL,"
    "  full_at INTEGER NOT NULL,"
    "  records BLOB NOT NULL);"
    /* a row here: the run that read the scope's library made every change
     * it planned (apart from library_state: an UPDATE of that row would
     * rewrite its whole blob, hundreds of MB for a large library) */
    "CREATE TABLE library_settled (scope TEXT PRIMARY KEY);"
    "ALTER TABLE album_members ADD COLUMN view INTEGER NOT NULL DEFAULT 0;",
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
    S_ALBUM_OLDEST,
    S_LIB_GET,
    S_LIB_PUT,
    S_LIB_FORGET,
    S_LIB_SETTLE,
    S_LIB_UNSETTLE,
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
                    " AND dialect = ?6 AND fetched_at >= ?7 AND view = ?9",
    [S_ALBUM_PUT] = "INSERT OR REPLACE INTO album_members(server, album,"
                    " updated_at, last_modified, asset_count, dialect,"
                    " fetched_at, members, view)"
                    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [S_ALBUM_PRUNE] = "DELETE FROM album_members WHERE server = ?1"
                      " AND fetched_at < ?2",
    [S_ALBUM_OLDEST] = "SELECT album FROM album_members WHERE server = ?1"
                       " AND fetched_at < ?3"
                       " ORDER BY fetched_at, album LIMIT ?2",
    [S_LIB_GET] = "SELECT dialect, needs, full_at, records,"
                  " EXISTS (SELECT 1 FROM library_settled"
                  " WHERE library_settled.scope = ?1) FROM library_state"
                  " WHERE scope = ?1",
    [S_LIB_PUT] = "INSERT OR REPLACE INTO library_state(scope, dialect, needs,"
                  " full_at, records) VALUES (?1, ?2, ?3, ?4, ?5)",
    [S_LIB_FORGET] = "DELETE FROM library_state WHERE scope = ?1",
    [S_LIB_SETTLE] = "INSERT OR IGNORE INTO library_settled(scope)"
                     " VALUES (?1)",
    [S_LIB_UNSETTLE] = "DELETE FROM library_settled WHERE scope = ?1",
};

struct state {
    sqlite3 *db;
    sqlite3_stmt *st[S_COUNT];
    sqlite3_int64 lib_row;  /* the row state_library_put() made */
    sqlite3_blob *lib_blob; /* its records, open for writing */
};

static void close_blob(struct state *st)
{
    if (st->lib_blob)
        (void)sqlite3_blob_close(st->lib_blob);
    st->lib_blob = NULL;
}

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
        buf_addf(err,
                 "state database '%s' has schema version %d, newer "
                 "than this program's %d",
                 path, version, STATE_SCHEMA_VERSION);
        return -1;
    }
    for (v = version; v < STATE_SCHEMA_VERSION; v++) {
        struct buf sql = BUF_INIT;
        char *msg = NULL;

        /* The DDL and the version bump commit together or not at all. */
        buf_addf(&sql,
                 "BEGIN IMMEDIATE; %s PRAGMA user_version = %d; "
                 "COMMIT;",
                 migrations[v], v + 1);
        if (sqlite3_exec(st->db, sql.buf, NULL, NULL, &msg) != SQLITE_OK) {
            buf_addf(err,
                     "state database '%s': migration to version %d "
                     "failed: %s",
                     path, v + 1, msg ? msg : "?");
            sqlite3_free(msg);
            (void)sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
            buf_release(&sql);
            return -1;
        }
        buf_release(&sql);
    }
    return 0;
}

/* An error that says the file is not a sound database of ours. */
static bool is_damage(int rc)
{
    rc &= 0xff;
    return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB;
}

/* PRAGMA quick_check: 0 when sound, 1 with why when damaged, -1 on an
 * error that says nothing about the file (busy, out of memory). */
static int quick_check(struct state *st, struct buf *why, struct buf *err)
{
    sqlite3_stmt *q = NULL;
    const unsigned char *res;
    int rc, ret = -1;

    rc = sqlite3_prepare_v2(st->db, "PRAGMA quick_check(1)", -1, &q, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(q);
    if (rc != SQLITE_ROW) {
        if (is_damage(sqlite3_extended_errcode(st->db))) {
            buf_addstr(why, sqlite3_errmsg(st->db));
            ret = 1;
        } else {
            fail(st, err, "cannot check the database");
        }
        goto out;
    }
    res = sqlite3_column_text(q, 0);
    if (res && !strcmp((const char *)res, "ok")) {
        ret = 0;
    } else {
        buf_addstr(why, res ? (const char *)res : "quick_check failed");
        ret = 1;
    }
out:
    (void)sqlite3_finalize(q);
    return ret;
}

/*
 * Rows no run of ours writes cannot be trusted: album ids that are not
 * 16 bytes, member lists that are not whole 16-byte ids or longer than
 * the album's assetCount (members are a subset of what assetCount counts,
 * and a row is used only while the server reports that same count),
 * checkpoints with a last_processed_id that is not a UUID.  They go; the
 * next run reads those albums again.
 */
static int drop_implausible_rows(struct state *st, const char *path,
                                 struct buf *err)
{
    static const char sql[] =
        "DELETE FROM album_members WHERE typeof(album) <> 'blob'"
        " OR length(album) <> 16 OR typeof(members) <> 'blob'"
        " OR length(members) % 16 <> 0"
        " OR length(members) / 16 > asset_count;"
        "DELETE FROM runs WHERE last_processed_id IS NOT NULL AND"
        " (typeof(last_processed_id) <> 'text'"
        " OR length(last_processed_id) <> 36 OR lower(last_processed_id)"
        " NOT GLOB '[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
        "[0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-[0-9a-f]"
        "[0-9a-f][0-9a-f][0-9a-f]-[0-9a-f][0-9a-f][0-9a-f][0-9a-f]-"
        "[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f]"
        "[0-9a-f][0-9a-f][0-9a-f][0-9a-f]'"
        " OR count < 0 OR skip_n < 0);";
    int before = sqlite3_total_changes(st->db), dropped;

    if (sqlite3_exec(st->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        return fail(st, err, "cannot check the remembered rows");
    dropped = sqlite3_total_changes(st->db) - before;
    if (dropped)
        warn_log("state database '%s': %d implausible remembered rows "
                 "dropped (album memberships are read again)",
                 path, dropped);
    return 0;
}

/*
 * Opens path once: 0, -1 with err, or 1 when the file is damaged (not a
 * database, corrupt, or not our schema), with why.
 */
static int open_once(struct state **out, const char *path, bool readonly,
                     struct buf *why, struct buf *err)
{
    struct state *st = xcalloc(1, sizeof(*st));
    int version = 0, rc;
    size_t i;

    if (!readonly) {
        /* We create the file, private and never through a link; SQLite
         * gives its journal the database file's mode. */
        int fd = fs_open_private(path, O_RDWR | O_CREAT, err);

        if (fd < 0)
            goto fail;
        (void)close(fd);
    }
    rc = sqlite3_open_v2(
        path, &st->db,
        (readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) |
            SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_NOMUTEX,
        NULL);
    if (rc != SQLITE_OK) {
        if (st->db && is_damage(sqlite3_extended_errcode(st->db)))
            goto damaged;
        buf_addf(err, "cannot open state database '%s': %s", path,
                 st->db ? sqlite3_errmsg(st->db) : "out of memory");
        goto fail;
    }
    /* A concurrent reader (a second process refused by the lock) must
     * not make us fail at once. */
    (void)sqlite3_busy_timeout(st->db, 5000);
    if (sqlite3_exec(st->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) !=
        SQLITE_OK) {
        fail(st, err, "cannot enable foreign keys");
        goto fail;
    }
    switch (quick_check(st, why, err)) {
    case 0:
        break;
    case 1:
        goto damaged_why;
    default:
        goto fail;
    }
    if (readonly) {
        /* Read as it is: a database of another version is not ours to
         * read (nor, read-only, to migrate). */
        if (state_schema_version(st, &version, err) < 0)
            goto check_damage;
        if (version != STATE_SCHEMA_VERSION) {
            buf_addf(err,
                     "state database '%s' has schema version %d, not "
                     "%d",
                     path, version, STATE_SCHEMA_VERSION);
            goto fail;
        }
    } else if (migrate(st, path, err) < 0) {
        goto check_damage;
    }
    for (i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(st->db, stmt_sql[i], -1,
                               SQLITE_PREPARE_PERSISTENT, &st->st[i],
                               NULL) != SQLITE_OK) {
            /* Our own statements only fail on a schema not ours. */
            buf_addf(why, "schema does not match: %s", sqlite3_errmsg(st->db));
            goto damaged_why;
        }
    }
    if (!readonly && drop_implausible_rows(st, path, err) < 0)
        goto check_damage;
    *out = st;
    return 0;
check_damage:
    if (!is_damage(sqlite3_extended_errcode(st->db)))
        goto fail;
    buf_reset(err);
damaged:
    buf_addstr(why, sqlite3_errmsg(st->db));
damaged_why:
    state_close(st);
    return 1;
fail:
    state_close(st);
    return -1;
}

/* Renames path (and a journal or WAL it left) to
 * "<path>.corrupt-YYYYmmdd_HHMMSS"; the new name goes into aside. */
static int move_aside(const char *path, struct buf *aside, struct buf *err)
{
    static const char *const sfx[] = {"-journal", "-wal", "-shm"};
    struct buf from = BUF_INIT, to = BUF_INIT;
    char stamp[32];
    time_t t = time(NULL);
    struct tm tm;
    size_t i;

    if (!localtime_r(&t, &tm) ||
        !strftime(stamp, sizeof(stamp), "%Y%m%d_%H%M%S", &tm))
        snprintf(stamp, sizeof(stamp), "%lld", (long long)t);
    buf_addf(aside, "%s.corrupt-%s", path, stamp);
    if (rename(path, aside->buf) < 0) {
        buf_addf(err,
                 "state database '%s' is damaged and cannot be moved "
                 "aside to '%s': %s",
                 path, aside->buf, strerror(errno));
        return -1;
    }
    for (i = 0; i < ARRAY_SIZE(sfx); i++) {
        buf_reset(&from);
        buf_reset(&to);
        buf_addf(&from, "%s%s", path, sfx[i]);
        buf_addf(&to, "%s%s", aside->buf, sfx[i]);
        (void)rename(from.buf, to.buf); /* usually absent */
    }
    buf_release(&from);
    buf_release(&to);
    return 0;
}

/*
 * The database is a cache and a history, never the truth: a damaged one
 * is moved aside with a warning naming both files and a new one begins,
 * instead of failing every run until someone deletes it by hand.  `plan`
 * (read-only) only warns and reads without it.
 */
static int open_db(struct state **out, const char *path, bool readonly,
                   struct buf *err)
{
    struct buf why = BUF_INIT, aside = BUF_INIT;
    int r, ret = -1;

    *out = NULL;
    r = open_once(out, path, readonly, &why, err);
    if (r <= 0) {
        ret = r;
        goto out;
    }
    if (readonly) {
        warn_log("state database '%s' is damaged (%s): not used; the next "
                 "run moves it aside and starts a new one",
                 path, why.buf);
        buf_addf(err, "state database '%s' is damaged", path);
        goto out;
    }
    if (move_aside(path, &aside, err) < 0)
        goto out;
    warn_log("state database '%s' is damaged (%s): moved aside to '%s'; "
             "starting a new one (it remembers runs and album members, the "
             "server keeps the library)",
             path, why.buf, aside.buf);
    buf_reset(&why);
    r = open_once(out, path, false, &why, err);
    if (r == 1)
        buf_addf(err,
                 "state database '%s': a new database is damaged "
                 "too: %s",
                 path, why.buf);
    ret = r ? -1 : 0;
out:
    buf_release(&why);
    buf_release(&aside);
    return ret;
}

int state_open(struct state **out, const char *path, struct buf *err)
{
    return open_db(out, path, false, err);
}

int state_open_readonly(struct state **out, const char *path, struct buf *err)
{
    return open_db(out, path, true, err);
}

void state_close(struct state *st)
{
    size_t i;

    if (!st)
        return;
    close_blob(st);
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
rollback : {
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
                    const struct uuid *album, const struct state_album_key *key)
{
    return sqlite3_bind_text(q, 1, server, -1, SQLITE_STATIC) != SQLITE_OK ||
                   sqlite3_bind_blob(q, 2, album->b, (int)sizeof(album->b),
                                     SQLITE_STATIC) != SQLITE_OK ||
                   sqlite3_bind_int64(q, 3, key->updated_at) != SQLITE_OK ||
                   sqlite3_bind_int64(q, 4, key->last_modified) != SQLITE_OK ||
                   sqlite3_bind_int64(q, 5, key->asset_count) != SQLITE_OK ||
                   sqlite3_bind_int(q, 6, key->dialect) != SQLITE_OK ||
                   sqlite3_bind_int64(q, 9, key->view) != SQLITE_OK
               ? -1
               : 0;
}

int state_album_members_get(struct state *st, const char *server,
                            const struct uuid *album,
                            const struct state_album_key *key,
                            int64_t not_before, struct uuid **ids, size_t *nr,
                            struct buf *err)
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
        /* Never more members than the assetCount the server reports. */
        if (len % (int)sizeof(struct uuid) == 0 &&
            len / (int)sizeof(struct uuid) <= key->asset_count) {
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
    return step_done(st, S_ALBUM_PRUNE, err, "cannot forget old album members");
}

long state_album_members_oldest(struct state *st, const char *server,
                                int64_t older_than, struct uuid *ids,
                                size_t max, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_ALBUM_OLDEST];
    long n = 0;
    int rc;

    if (sqlite3_bind_text(q, 1, server, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(q, 2, (sqlite3_int64)max) != SQLITE_OK ||
        sqlite3_bind_int64(q, 3, older_than) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot list remembered albums");
    }
    while ((rc = sqlite3_step(q)) == SQLITE_ROW && (size_t)n < max) {
        if (sqlite3_column_bytes(q, 0) != (int)sizeof(ids[n].b))
            continue;
        memcpy(ids[n].b, sqlite3_column_blob(q, 0), sizeof(ids[n].b));
        n++;
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        n = fail(st, err, "cannot list remembered albums");
    (void)sqlite3_reset(q);
    (void)sqlite3_clear_bindings(q);
    return n;
}

int state_library_get(struct state *st, const char *scope,
                      struct state_library *out, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_LIB_GET];
    int rc, ret = 0;

    memset(out, 0, sizeof(*out));
    if (sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot read the remembered library");
    }
    rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        const unsigned char *needs = sqlite3_column_text(q, 1);
        const void *blob = sqlite3_column_blob(q, 3);
        int len = sqlite3_column_bytes(q, 3);

        out->dialect = sqlite3_column_int(q, 0);
        out->needs = xstrdup(needs ? (const char *)needs : "");
        out->full_at = sqlite3_column_int64(q, 2);
        out->settled = sqlite3_column_int(q, 4) != 0;
        out->records_len = len > 0 ? (size_t)len : 0;
        out->records = xmalloc(out->records_len + 1);
        if (len > 0)
            memcpy(out->records, blob, (size_t)len);
        ret = 1;
    } else if (rc != SQLITE_DONE) {
        ret = fail(st, err, "cannot read the remembered library");
    }
    (void)sqlite3_reset(q);
    (void)sqlite3_clear_bindings(q);
    return ret;
}

/* Runs one of the statements that take the scope alone (?1). */
static int scope_step(struct state *st, enum stmt which, const char *scope,
                      struct buf *err, const char *what)
{
    sqlite3_stmt *q = st->st[which];

    if (sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC) != SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, what);
    }
    return step_done(st, which, err, what);
}

int state_library_put(struct state *st, const char *scope,
                      const struct state_library *in, struct buf *err)
{
    sqlite3_stmt *q = st->st[S_LIB_PUT];

    /* a new read: unsettled until its run has made its changes */
    if (scope_step(st, S_LIB_UNSETTLE, scope, err,
                   "cannot remember the library") < 0)
        return -1;
    if (in->records_len > INT32_MAX ||
        sqlite3_bind_text(q, 1, scope, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int(q, 2, in->dialect) != SQLITE_OK ||
        sqlite3_bind_text(q, 3, in->needs, -1, SQLITE_STATIC) != SQLITE_OK ||
        sqlite3_bind_int64(q, 4, in->full_at) != SQLITE_OK ||
        (in->records
             ? sqlite3_bind_blob(q, 5, in->records_len ? in->records : "",
                                 (int)in->records_len, SQLITE_STATIC)
             : sqlite3_bind_zeroblob(q, 5, (int)in->records_len)) !=
            SQLITE_OK) {
        (void)sqlite3_reset(q);
        return fail(st, err, "cannot remember the library");
    }
    close_blob(st);
    if (step_done(st, S_LIB_PUT, err, "cannot remember the library") < 0)
        return -1;
    st->lib_row = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int state_library_write(struct state *st, size_t offset, const void *data,
                        size_t len, struct buf *err)
{
    if (!st->lib_blob &&
        sqlite3_blob_open(st->db, "main", "library_state", "records",
                          st->lib_row, 1, &st->lib_blob) != SQLITE_OK) {
        st->lib_blob = NULL;
        return fail(st, err, "cannot write the remembered library");
    }
    if (offset > INT32_MAX || len > INT32_MAX - offset ||
        sqlite3_blob_write(st->lib_blob, data, (int)len, (int)offset) !=
            SQLITE_OK) {
        close_blob(st);
        return fail(st, err, "cannot write the remembered library");
    }
    return 0;
}

int state_library_settle(struct state *st, const char *scope, struct buf *err)
{
    return scope_step(st, S_LIB_SETTLE, scope, err,
                      "cannot mark the remembered library settled");
}

int state_library_forget(struct state *st, const char *scope, struct buf *err)
{
    const char *what = "cannot forget the remembered library";

    if (scope_step(st, S_LIB_UNSETTLE, scope, err, what) < 0)
        return -1;
    return scope_step(st, S_LIB_FORGET, scope, err, what);
}

void state_library_release(struct state_library *l)
{
    free(l->needs);
    free(l->records);
    memset(l, 0, sizeof(*l));
}

int state_begin(struct state *st, struct buf *err)
{
    return step_done(st, S_BEGIN, err, "cannot begin a transaction");
}

int state_commit(struct state *st, struct buf *err)
{
    close_blob(st);
    return step_done(st, S_COMMIT, err, "cannot commit");
}

void state_rollback(struct state *st)
{
    struct buf ignored = BUF_INIT;

    close_blob(st);
    (void)step_done(st, S_ROLLBACK, &ignored, "rollback");
    buf_release(&ignored);
}
