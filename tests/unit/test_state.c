/*
 * test_state.c: the SQLite run history (migrations, runs, counters,
 * checkpoint) and the run lock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "state/state.h"

#include <dirent.h>

struct fixture {
    char dir[64];
    struct buf db;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/ia-state-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    buf_init(&f->db, 0);
    buf_addf(&f->db, "%s/%s", f->dir, STATE_DB_NAME);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct buf cmd = BUF_INIT;

    buf_addf(&cmd, "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd.buf), 0);
    buf_release(&cmd);
    buf_release(&f->db);
    free(f);
    return 0;
}

static void exec_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

static void test_state_open_creates_schema_at_current_version(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct buf err = BUF_INIT;
    int v = -1;

    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_schema_version(st, &v, &err), 0);
    assert_int_equal(v, STATE_SCHEMA_VERSION);
    state_close(st);
    /* Reopening migrates nothing and keeps the version. */
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_schema_version(st, &v, &err), 0);
    assert_int_equal(v, STATE_SCHEMA_VERSION);
    state_close(st);
    assert_string_equal(err.buf, "");
    buf_release(&err);
}

static void test_state_migrates_a_version_1_database_keeping_runs(void **s)
{
    struct fixture *f = *s;
    struct state *st = NULL;
    struct state_run prev;
    struct buf err = BUF_INIT;
    int v = -1;

    /* What version 1 of the program left behind. */
    exec_sql(f->db.buf,
             "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
             " started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL"
             " DEFAULT 0, status INTEGER NOT NULL DEFAULT 0, skip_n INTEGER"
             " NOT NULL DEFAULT 0, count INTEGER NOT NULL DEFAULT 0,"
             " last_processed_id TEXT);"
             "CREATE INDEX runs_started ON runs(started_at);"
             "INSERT INTO runs VALUES (7, '20240101_000000_PID1', 1000, 2000,"
             " 1, 0, 42, NULL);"
             "PRAGMA user_version = 1;");
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_schema_version(st, &v, &err), 0);
    assert_int_equal(v, STATE_SCHEMA_VERSION);
    assert_int_equal(state_previous_run(st, 0, &prev, &err), 1);
    assert_int_equal(prev.id, 7);
    assert_string_equal(prev.name, "20240101_000000_PID1");
    assert_int_equal(prev.count, 42);
    assert_int_equal(prev.counters.nr, 0);
    state_run_release(&prev);
    state_close(st);
    buf_release(&err);
}

static void test_state_refuses_a_newer_schema(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct buf err = BUF_INIT, want = BUF_INIT;

    exec_sql(f->db.buf, "PRAGMA user_version = 99;");
    assert_int_equal(state_open(&st, f->db.buf, &err), -1);
    assert_null(st);
    buf_addf(&want,
             "state database '%s' has schema version 99, newer than "
             "this program's %d",
             f->db.buf, STATE_SCHEMA_VERSION);
    assert_string_equal(err.buf, want.buf);
    buf_release(&err);
    buf_release(&want);
}

static void test_state_open_fails_on_unwritable_path(void **state)
{
    struct state *st = NULL;
    struct buf err = BUF_INIT;

    (void)state;
    assert_int_equal(state_open(&st, "/nonexistent-dir/x/state.sqlite", &err),
                     -1);
    assert_non_null(strstr(err.buf, "cannot open "
                                    "'/nonexistent-dir/x/state.sqlite'"));
    buf_release(&err);
}

static void finish(struct state *st, int64_t id, enum state_run_status s,
                   int64_t at, int64_t count, int64_t classified)
{
    struct state_counters c = STATE_COUNTERS_INIT;
    struct state_run_end end = {at, s, 0, count, NULL, &c};
    struct buf err = BUF_INIT;

    state_counters_add(&c, "classified", classified);
    state_counters_add(&c, "unclassified", 3);
    assert_int_equal(state_run_finish(st, id, &end, &err), 0);
    state_counters_release(&c);
    buf_release(&err);
}

static void test_state_previous_run_skips_dry_and_failed_runs(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct state_run prev;
    struct buf err = BUF_INIT;
    int64_t a, b, c, d;
    int64_t v = 0;

    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_previous_run(st, 0, &prev, &err), 0);
    assert_int_equal(state_run_begin(st, "run-a", 1000, &a, &err), 0);
    finish(st, a, STATE_RUN_DONE, 1100, 50, 10);
    assert_int_equal(state_run_begin(st, "run-b", 2000, &b, &err), 0);
    finish(st, b, STATE_RUN_DRY, 2100, 60, 99);
    assert_int_equal(state_run_begin(st, "run-c", 3000, &c, &err), 0);
    finish(st, c, STATE_RUN_FAILED, 3100, 70, 98);
    assert_int_equal(state_run_begin(st, "run-d", 4000, &d, &err), 0);

    /* From run d's point of view the previous run is a. */
    assert_int_equal(state_previous_run(st, d, &prev, &err), 1);
    assert_int_equal(prev.id, a);
    assert_string_equal(prev.name, "run-a");
    assert_int_equal(prev.status, STATE_RUN_DONE);
    assert_int_equal(prev.count, 50);
    assert_int_equal(prev.counters.nr, 2);
    assert_string_equal(prev.counters.items[0].key, "classified");
    assert_int_equal(prev.counters.items[0].value, 10);
    state_run_release(&prev);

    finish(st, d, STATE_RUN_PARTIAL, 4100, 80, 11);
    assert_int_equal(state_previous_run(st, 0, &prev, &err), 1);
    assert_int_equal(prev.id, d);
    assert_int_equal(prev.status, STATE_RUN_PARTIAL);
    assert_int_equal(prev.counters.items[0].value, 11);
    state_run_release(&prev);

    /* Checkpoint: max count of writing runs in the window. */
    assert_int_equal(state_max_count(st, 0, 0, &v, &err), 0);
    assert_int_equal(v, 80);
    assert_int_equal(state_max_count(st, 0, d, &v, &err), 0);
    assert_int_equal(v, 50);
    assert_int_equal(state_max_count(st, 1500, d, &v, &err), 0);
    assert_int_equal(v, -1);
    state_close(st);
    assert_string_equal(err.buf, "");
    buf_release(&err);
}

/* A membership is returned for exactly the key it was stored under, and
 * not once older than the caller accepts. */
static void test_state_album_members_by_key(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct buf err = BUF_INIT;
    struct state_album_key k = {1000, 900, 2, 3, 0}, other;
    struct uuid album, ids[2], *got = NULL;
    size_t nr = 0;

    memset(&album, 0x11, sizeof(album));
    memset(&ids[0], 0x22, sizeof(ids[0]));
    memset(&ids[1], 0x33, sizeof(ids[1]));
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(
        state_album_members_get(st, "http://a", &album, &k, 0, &got, &nr, &err),
        0);
    assert_int_equal(state_begin(st, &err), 0);
    assert_int_equal(
        state_album_members_put(st, "http://a", &album, &k, 5000, ids, 2, &err),
        0);
    assert_int_equal(state_commit(st, &err), 0);
    assert_int_equal(state_album_members_get(st, "http://a", &album, &k, 4000,
                                             &got, &nr, &err),
                     1);
    assert_int_equal(nr, 2);
    assert_memory_equal(got, ids, sizeof(ids));
    free(got);
    /* any part of the key, the server or the age makes it a miss */
    other = k;
    other.asset_count = 1;
    assert_int_equal(state_album_members_get(st, "http://a", &album, &other, 0,
                                             &got, &nr, &err),
                     0);
    other = k;
    other.updated_at = 1001;
    assert_int_equal(state_album_members_get(st, "http://a", &album, &other, 0,
                                             &got, &nr, &err),
                     0);
    other = k;
    other.dialect = 2;
    assert_int_equal(state_album_members_get(st, "http://a", &album, &other, 0,
                                             &got, &nr, &err),
                     0);
    assert_int_equal(
        state_album_members_get(st, "http://b", &album, &k, 0, &got, &nr, &err),
        0);
    assert_int_equal(state_album_members_get(st, "http://a", &album, &k, 5001,
                                             &got, &nr, &err),
                     0);
    /* pruning forgets what was fetched before the limit */
    assert_int_equal(state_album_members_prune(st, "http://a", 6000, &err), 0);
    assert_int_equal(
        state_album_members_get(st, "http://a", &album, &k, 0, &got, &nr, &err),
        0);
    assert_null(got);
    state_close(st);
    buf_release(&err);
}

static void test_state_lock_second_holder_is_refused(void **state)
{
    struct fixture *f = *state;
    struct state_lock a = STATE_LOCK_INIT, b = STATE_LOCK_INIT;
    struct buf err = BUF_INIT, want = BUF_INIT;

    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ACQUIRED);
    assert_true(a.fd >= 0);
    assert_int_equal(state_lock_acquire(&b, f->dir, &err), STATE_LOCK_BUSY);
    assert_int_equal(b.fd, -1);
    buf_addf(&want,
             "another run is in progress (pid %ld holds "
             "'%s/immich-autotag.lock')",
             (long)getpid(), f->dir);
    assert_string_equal(err.buf, want.buf);
    state_lock_release(&b); /* releasing an unheld lock is harmless */

    state_lock_release(&a);
    buf_reset(&err);
    assert_int_equal(state_lock_acquire(&b, f->dir, &err), STATE_LOCK_ACQUIRED);
    state_lock_release(&b);
    assert_string_equal(err.buf, "");
    buf_release(&err);
    buf_release(&want);
}

static void test_state_lock_in_missing_directory_is_an_error(void **state)
{
    struct state_lock a = STATE_LOCK_INIT;
    struct buf err = BUF_INIT;

    (void)state;
    assert_int_equal(state_lock_acquire(&a, "/nonexistent-dir/x", &err),
                     STATE_LOCK_ERROR);
    assert_string_equal(err.buf, "cannot use directory "
                                 "'/nonexistent-dir/x': "
                                 "No such file or directory");
    buf_release(&err);
}

/* Writes text into path (0644) for a link to point at. */
static void put_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void slurp(const char *path, struct buf *out)
{
    char chunk[256];
    size_t n;
    FILE *f = fopen(path, "r");

    assert_non_null(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(out, chunk, n);
    assert_int_equal(fclose(f), 0);
}

/*
 * A link planted where the lock file goes must not make a run write its
 * pid into the link's target (a root-owned file, in the report).
 */
static void test_state_lock_refuses_a_planted_symlink(void **state)
{
    struct fixture *f = *state;
    struct state_lock a = STATE_LOCK_INIT;
    struct buf victim = BUF_INIT, link = BUF_INIT, err = BUF_INIT,
               text = BUF_INIT;

    buf_addf(&victim, "%s/victim", f->dir);
    buf_addf(&link, "%s/%s", f->dir, STATE_LOCK_NAME);
    put_file(victim.buf, "precious\n");
    assert_int_equal(symlink(victim.buf, link.buf), 0);
    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ERROR);
    assert_non_null(strstr(err.buf, "it is a symbolic link"));
    slurp(victim.buf, &text);
    assert_string_equal(text.buf, "precious\n");
    state_lock_release(&a);
    buf_release(&victim);
    buf_release(&link);
    buf_release(&err);
    buf_release(&text);
}

/* Nor may a link make the state database appear at its target. */
static void test_state_open_refuses_a_planted_symlink(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct buf target = BUF_INIT, err = BUF_INIT;

    buf_addf(&target, "%s/elsewhere.sqlite", f->dir);
    assert_int_equal(symlink(target.buf, f->db.buf), 0);
    assert_int_equal(state_open(&st, f->db.buf, &err), -1);
    assert_null(st);
    assert_non_null(strstr(err.buf, "it is a symbolic link"));
    assert_int_equal(access(target.buf, F_OK), -1);
    buf_reset(&err);
    /* Read-only (plan) does not follow it either. */
    put_file(target.buf, "");
    assert_int_equal(state_open_readonly(&st, f->db.buf, &err), -1);
    assert_null(st);
    buf_release(&target);
    buf_release(&err);
}

/* Others must not be able to plant anything in the log root. */
static void test_state_lock_refuses_a_directory_others_can_write(void **s)
{
    struct fixture *f = *s;
    struct state_lock a = STATE_LOCK_INIT;
    struct buf err = BUF_INIT, lock = BUF_INIT;

    assert_int_equal(chmod(f->dir, 01777), 0);
    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ERROR);
    assert_non_null(strstr(err.buf, "others can write to it"));
    buf_addf(&lock, "%s/%s", f->dir, STATE_LOCK_NAME);
    assert_int_equal(access(lock.buf, F_OK), -1);
    buf_reset(&err);
    assert_int_equal(chmod(f->dir, 0770), 0);
    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ERROR);
    buf_reset(&err);
    assert_int_equal(chmod(f->dir, 0755), 0);
    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ACQUIRED);
    state_lock_release(&a);
    buf_release(&err);
    buf_release(&lock);
}

/* The database, its journal and the lock are 0600 whatever the umask. */
static void test_state_files_are_private_whatever_the_umask(void **state)
{
    struct fixture *f = *state;
    struct state_lock a = STATE_LOCK_INIT;
    struct state *st = NULL;
    struct buf err = BUF_INIT, lock = BUF_INIT;
    struct stat sb;
    int64_t id;
    mode_t old = umask(0);

    assert_int_equal(state_lock_acquire(&a, f->dir, &err), STATE_LOCK_ACQUIRED);
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_run_begin(st, "r", 1, &id, &err), 0);
    (void)umask(old);
    assert_int_equal(stat(f->db.buf, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    buf_addf(&lock, "%s/%s", f->dir, STATE_LOCK_NAME);
    assert_int_equal(stat(lock.buf, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    state_close(st);
    state_lock_release(&a);
    /* An older version's 0644 database is made private on open. */
    assert_int_equal(chmod(f->db.buf, 0644), 0);
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(stat(f->db.buf, &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    state_close(st);
    assert_string_equal(err.buf, "");
    buf_release(&err);
    buf_release(&lock);
}

/* Starts copying log lines into a temporary file. */
static FILE *capture_log(void)
{
    FILE *f = tmpfile();

    assert_non_null(f);
    log_set_tee(f);
    return f;
}

/* Stops the capture; the lines into out. */
static void captured(FILE *f, struct buf *out)
{
    char chunk[256];
    size_t n;

    log_set_tee(NULL);
    rewind(f);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        buf_add(out, chunk, n);
    assert_int_equal(fclose(f), 0);
}

/* The "state.sqlite.corrupt-*" files of dir: how many, the last name. */
static int asides(const char *dir, struct buf *name)
{
    struct dirent *de;
    DIR *d = opendir(dir);
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (!strncmp(de->d_name, STATE_DB_NAME ".corrupt-",
                     strlen(STATE_DB_NAME ".corrupt-"))) {
            buf_reset(name);
            buf_addf(name, "%s/%s", dir, de->d_name);
            n++;
        }
    assert_int_equal(closedir(d), 0);
    return n;
}

static const char garbage[] = "this is no database, whatever its name\n";

/*
 * A file that is not a database used to fail every run until deleted by
 * hand: it is moved aside, named in a warning, and a new one begins.
 */
static void test_state_moves_a_damaged_database_aside(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct buf err = BUF_INIT, log = BUF_INIT, aside = BUF_INIT,
               text = BUF_INIT, want = BUF_INIT;
    int64_t id;
    FILE *cap;

    put_file(f->db.buf, garbage);
    cap = capture_log();
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    captured(cap, &log);
    assert_string_equal(err.buf, "");
    assert_int_equal(state_run_begin(st, "r", 1, &id, &err), 0);
    state_close(st);
    assert_int_equal(asides(f->dir, &aside), 1);
    slurp(aside.buf, &text);
    assert_string_equal(text.buf, garbage);
    buf_addf(&want, "warning: state database '%s' is damaged (", f->db.buf);
    assert_non_null(strstr(log.buf, want.buf));
    buf_reset(&want);
    buf_addf(&want, "moved aside to '%s'", aside.buf);
    assert_non_null(strstr(log.buf, want.buf));
    buf_release(&err);
    buf_release(&log);
    buf_release(&aside);
    buf_release(&text);
    buf_release(&want);
}

/* plan reads without it, says so, and leaves the file where it is. */
static void test_state_readonly_open_of_a_damaged_database_warns(void **s)
{
    struct fixture *f = *s;
    struct state *st = NULL;
    struct buf err = BUF_INIT, log = BUF_INIT, aside = BUF_INIT,
               text = BUF_INIT;
    FILE *cap;

    put_file(f->db.buf, garbage);
    cap = capture_log();
    assert_int_equal(state_open_readonly(&st, f->db.buf, &err), -1);
    captured(cap, &log);
    assert_null(st);
    assert_non_null(strstr(err.buf, "is damaged"));
    assert_non_null(strstr(log.buf, "warning: state database"));
    assert_non_null(strstr(log.buf, "the next run moves it aside"));
    assert_int_equal(asides(f->dir, &aside), 0);
    slurp(f->db.buf, &text);
    assert_string_equal(text.buf, garbage);
    buf_release(&err);
    buf_release(&log);
    buf_release(&aside);
    buf_release(&text);
}

/* A corrupt page (quick_check) and a schema not ours are damage too. */
static void test_state_moves_aside_corrupt_pages_and_foreign_schemas(void **s)
{
    struct fixture *f = *s;
    struct state *st = NULL;
    struct state_run prev;
    struct buf err = BUF_INIT, aside = BUF_INIT, sql = BUF_INIT;
    char junk[4096];
    int64_t id;
    FILE *db;
    int i;

    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    for (i = 0; i < 300; i++) {
        assert_int_equal(state_run_begin(st,
                                         "a-rather-long-run-name-to-fill-"
                                         "several-pages",
                                         i, &id, &err),
                         0);
        finish(st, id, STATE_RUN_DONE, i + 1, i, 1);
    }
    state_close(st);
    memset(junk, 0xa5, sizeof(junk));
    db = fopen(f->db.buf, "r+");
    assert_non_null(db);
    assert_int_equal(fseek(db, 3 * 4096, SEEK_SET), 0);
    assert_int_equal(fwrite(junk, 1, sizeof(junk), db), sizeof(junk));
    assert_int_equal(fclose(db), 0);
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(asides(f->dir, &aside), 1);
    assert_int_equal(state_previous_run(st, 0, &prev, &err), 0);
    state_close(st);
    assert_string_equal(err.buf, "");

    /* Right version number, wrong tables. */
    assert_int_equal(unlink(aside.buf), 0);
    assert_int_equal(unlink(f->db.buf), 0);
    buf_reset(&sql);
    buf_addf(&sql, "CREATE TABLE other(x); PRAGMA user_version = %d;",
             STATE_SCHEMA_VERSION);
    exec_sql(f->db.buf, sql.buf);
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(asides(f->dir, &aside), 1);
    state_close(st);
    assert_string_equal(err.buf, "");
    buf_release(&err);
    buf_release(&aside);
    buf_release(&sql);
}

/*
 * Remembered rows are checked, not trusted: member lists that are not
 * whole ids or longer than the album's assetCount, and runs whose
 * last_processed_id is no UUID, are dropped at open; read-only, the
 * lookup refuses a list longer than the assetCount.
 */
static void test_state_drops_implausible_rows(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct state_run prev;
    struct state_album_key k = {1000, 900, 2, 3, 0}, one = k;
    struct uuid a, b, c, ids[2], *got = NULL;
    struct buf err = BUF_INIT, log = BUF_INIT;
    size_t nr = 0;
    int64_t good, bad;
    FILE *cap;

    one.asset_count = 1;
    memset(&a, 0x11, sizeof(a));
    memset(&b, 0x12, sizeof(b));
    memset(&c, 0x13, sizeof(c));
    memset(ids, 0x22, sizeof(ids));
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    assert_int_equal(state_album_members_put(st, "s", &a, &k, 5, ids, 2, &err),
                     0);
    assert_int_equal(state_album_members_put(st, "s", &b, &k, 5, ids, 2, &err),
                     0);
    assert_int_equal(state_album_members_put(st, "s", &c, &k, 5, ids, 2, &err),
                     0);
    assert_int_equal(state_run_begin(st, "good", 1, &good, &err), 0);
    {
        struct state_run_end end = {
            2,   STATE_RUN_DONE, 0, 10, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee",
            NULL};

        assert_int_equal(state_run_finish(st, good, &end, &err), 0);
    }
    assert_int_equal(state_run_begin(st, "bad", 3, &bad, &err), 0);
    {
        struct state_run_end end = {4,     STATE_RUN_DONE,     0,
                                    99999, "../../etc/passwd", NULL};

        assert_int_equal(state_run_finish(st, bad, &end, &err), 0);
    }
    state_close(st);
    /* Tampered: a's list is 17 bytes, b claims one asset for two ids. */
    exec_sql(f->db.buf, "UPDATE album_members SET members = zeroblob(17)"
                        " WHERE album = x'11111111111111111111111111111111';"
                        "UPDATE album_members SET asset_count = 1"
                        " WHERE album <> x'11111111111111111111111111111111'");

    /* Read-only: nothing is dropped, but c's list is not used. */
    assert_int_equal(state_open_readonly(&st, f->db.buf, &err), 0);
    assert_int_equal(
        state_album_members_get(st, "s", &c, &one, 0, &got, &nr, &err), 0);
    state_close(st);

    cap = capture_log();
    assert_int_equal(state_open(&st, f->db.buf, &err), 0);
    captured(cap, &log);
    assert_non_null(strstr(log.buf, "4 implausible remembered rows dropped"));
    assert_int_equal(
        state_album_members_get(st, "s", &a, &k, 0, &got, &nr, &err), 0);
    assert_int_equal(
        state_album_members_get(st, "s", &b, &one, 0, &got, &nr, &err), 0);
    assert_int_equal(state_previous_run(st, 0, &prev, &err), 1);
    assert_int_equal(prev.id, good);
    state_run_release(&prev);
    state_close(st);
    assert_string_equal(err.buf, "");
    buf_release(&err);
    buf_release(&log);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_state_open_creates_schema_at_current_version, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_migrates_a_version_1_database_keeping_runs, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_state_refuses_a_newer_schema,
                                        setup, teardown),
        cmocka_unit_test(test_state_open_fails_on_unwritable_path),
        cmocka_unit_test_setup_teardown(
            test_state_previous_run_skips_dry_and_failed_runs, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_lock_second_holder_is_refused, setup, teardown),
        cmocka_unit_test(test_state_lock_in_missing_directory_is_an_error),
        cmocka_unit_test_setup_teardown(
            test_state_lock_refuses_a_planted_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_open_refuses_a_planted_symlink, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_lock_refuses_a_directory_others_can_write, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_state_files_are_private_whatever_the_umask, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_moves_a_damaged_database_aside, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_state_readonly_open_of_a_damaged_database_warns, setup,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_state_moves_aside_corrupt_pages_and_foreign_schemas, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_state_drops_implausible_rows,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_state_album_members_by_key, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
