/*
 * test_remember.c: the remembered library (src/remember, the encoding in
 * src/snapshot/snapshot_incr.c, the row in src/state).  What a read
 * remembers decodes to the same assets; damaged bytes, a damaged row,
 * a full read older than the limit and --full-read all give no
 * remembered library (a full read), and a damaged row is forgotten.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <unistd.h>

#include "remember/remember.h"
#include "snapshot/snapshot_incr.h"
#include "state/state.h"

#define DAY_MS (24LL * 3600 * 1000)

/* snapshot_prev_encode()'s pieces, one after the other, into a buf. */
static void to_buf(void *ctx, const void *data, size_t len)
{
    buf_add(ctx, data, len);
}
#define NOW 1800000000000LL

struct fixture {
    char dir[64];
    char db[96];
    struct model m;
    struct snapshot_needs needs;
    struct uuid ids[3];
};

/* A model of three assets of one user, indexed. */
static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    struct uuid me;

    snprintf(f->dir, sizeof(f->dir), "/tmp/ia-remember-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->db, sizeof(f->db), "%s/state.sqlite", f->dir);
    model_init(&f->m);
    memset(&me, 0x11, sizeof(me));
    f->m.me = model_add_user(&f->m, &me, "me@example.com", "Me");
    for (int i = 0; i < 3; i++) {
        struct model_asset a;

        memset(&a, 0, sizeof(a));
        memset(&f->ids[i], 0x20 + i, sizeof(f->ids[i]));
        a.id = f->ids[i];
        a.owner = f->m.me;
        a.file_name = model_intern(&f->m, "IMG.jpg");
        a.path = model_intern(&f->m, "/p/IMG.jpg");
        a.duplicate = MODEL_NONE;
        a.file_created_at = a.local_date_time = 1000 * (i + 1);
        a.updated_at = 5000 + i;
        a.date_time_original = TIME_NONE;
        (void)model_add_asset(&f->m, &a);
    }
    model_build_indexes(&f->m);
    snapshot_needs_from_config(NULL, &f->needs);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
    assert_int_equal(system(cmd), 0);
    model_release(&f->m);
    snapshot_needs_release(&f->needs);
    free(f);
    return 0;
}

static void test_encoding_and_damage(void **state)
{
    struct fixture *f = *state;
    struct buf bytes = BUF_INIT, err = BUF_INIT;
    struct snapshot_prev *p = NULL;
    struct snapshot_info info;
    struct uuid other;

    memset(&info, 0, sizeof(info));
    info.dialect = 3;
    snapshot_prev_encode(&f->m, &info, &f->needs, to_buf, &bytes);
    assert_int_equal(bytes.len, snapshot_prev_size(&f->m));
    assert_int_equal(snapshot_prev_decode(bytes.buf, bytes.len, &p, &err), 0);
    for (int i = 0; i < 3; i++)
        assert_true(snapshot_prev_has(p, &f->ids[i]));
    memset(&other, 0x77, sizeof(other));
    assert_false(snapshot_prev_has(p, &other));
    snapshot_prev_free(p);

    /* one byte changed anywhere: damaged */
    for (size_t at = 0; at < bytes.len; at += 7) {
        bytes.buf[at] ^= 0x40;
        buf_reset(&err);
        assert_int_equal(snapshot_prev_decode(bytes.buf, bytes.len, &p, &err),
                         -1);
        assert_null(p);
        assert_non_null(strstr(err.buf, "damaged"));
        bytes.buf[at] ^= 0x40;
    }
    /* cut short, or nothing */
    assert_int_equal(snapshot_prev_decode(bytes.buf, bytes.len - 9, &p, &err),
                     -1);
    assert_int_equal(snapshot_prev_decode(bytes.buf, 0, &p, &err), -1);
    buf_release(&bytes);
    buf_release(&err);
}

/* The fixture's database, the scope of its user, and the description
 * of a complete 3.x read. */
static void open_db(const struct fixture *f, struct state **st,
                    struct buf *scope, struct snapshot_info *info)
{
    struct buf err = BUF_INIT;

    assert_int_equal(state_open(st, f->db, &err), 0);
    remember_scope("http://photos", &f->m.users[f->m.me].id, scope);
    memset(info, 0, sizeof(*info));
    info->complete = true;
    info->dialect = 3;
    buf_release(&err);
}

/* The next run's memory, with the remembered library asked for (as the
 * loader asks once users/me answered); it must have one. */
static struct remember *
next_run(struct state *st, const struct remember_opts *o, struct fixture *f)
{
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct remember *r = remember_open(st, "http://photos", o);

    remember_wire(r, &so);
    assert_non_null(so.prev->get(so.prev->ctx, &f->m));
    return r;
}

static void test_row_and_when_it_is_trusted(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct state_library lib, bad;
    struct snapshot_info info;
    struct remember_opts o = {NOW, false, -1, false};
    struct snapshot_opts so = SNAPSHOT_OPTS_INIT;
    struct remember *r;
    struct buf err = BUF_INIT, scope = BUF_INIT;

    open_db(f, &st, &scope, &info);

    /* a complete full read is remembered, at its time */
    r = remember_open(st, "http://photos", &o);
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);
    assert_int_equal(state_library_get(st, scope.buf, &lib, &err), 1);
    assert_int_equal(lib.full_at, NOW);
    state_library_release(&lib);

    /* the next run gets it, within the limit (7 days by default) */
    o.now = NOW + 6 * DAY_MS;
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_non_null(so.prev->get(so.prev->ctx, &f->m));
    remember_close(r);

    /* not past the limit, not with --full-read, not with a limit of 0 */
    o.now = NOW + 7 * DAY_MS;
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_null(so.prev->get(so.prev->ctx, &f->m));
    remember_close(r);
    o.now = NOW + DAY_MS;
    o.full_read = true;
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_null(so.prev->get(so.prev->ctx, &f->m));
    remember_close(r);
    o.full_read = false;
    o.full_days = 0;
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_null(so.prev->get(so.prev->ctx, &f->m));
    remember_close(r);
    o.full_days = -1;

    /* an incremental read keeps the time of the last full one */
    info.incremental = true;
    o.now = NOW + 2 * DAY_MS;
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_non_null(so.prev->get(so.prev->ctx, &f->m));
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);
    assert_int_equal(state_library_get(st, scope.buf, &lib, &err), 1);
    assert_int_equal(lib.full_at, NOW);

    /* a damaged row: no library, and the row is forgotten */
    bad = lib;
    ((char *)bad.records)[bad.records_len / 2] ^= 1;
    assert_int_equal(state_library_put(st, scope.buf, &bad, &err), 0);
    state_library_release(&lib);
    r = remember_open(st, "http://photos", &o);
    remember_wire(r, &so);
    assert_null(so.prev->get(so.prev->ctx, &f->m));
    remember_close(r);
    assert_int_equal(state_library_get(st, scope.buf, &lib, &err), 0);

    /* a read that did not complete remembers nothing */
    info.complete = false;
    r = remember_open(st, "http://photos", &o);
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);
    assert_int_equal(state_library_get(st, scope.buf, &lib, &err), 0);
    assert_string_equal(err.buf, "");

    state_close(st);
    buf_release(&err);
    buf_release(&scope);
}

/* A library of the fixture's three assets with album X holding
 * asset x_member, tag T holding asset t_member (MODEL_NONE: none), and,
 * with y, album Y holding asset 0; indexed when `index`. */
static void library(struct model *m, const struct uuid ids[3],
                    uint32_t x_member, uint32_t extra_x, uint32_t t_member,
                    bool y, bool index)
{
    struct model_album al;
    struct model_tag t;
    struct uuid me, id;
    uint32_t a[3], x, tg;

    model_init(m);
    memset(&me, 0x11, sizeof(me));
    m->me = model_add_user(m, &me, "me@example.com", "Me");
    for (int i = 0; i < 3; i++) {
        struct model_asset r;

        memset(&r, 0, sizeof(r));
        r.id = ids[i];
        r.owner = m->me;
        r.duplicate = MODEL_NONE;
        r.updated_at = 5000;
        a[i] = model_add_asset(m, &r);
    }
    memset(&al, 0, sizeof(al));
    memset(&id, 0x41, sizeof(id));
    al.id = id;
    al.name = model_intern(m, "X");
    al.owner = m->me;
    al.members_known = true;
    x = model_add_album(m, &al, NULL, 0);
    model_link_album_asset(m, x, a[x_member]);
    if (extra_x != MODEL_NONE)
        model_link_album_asset(m, x, a[extra_x]);
    if (y) {
        memset(&al.id, 0x42, sizeof(al.id));
        al.name = model_intern(m, "Y");
        model_link_album_asset(m, model_add_album(m, &al, NULL, 0), a[0]);
    }
    memset(&t, 0, sizeof(t));
    memset(&t.id, 0x51, sizeof(t.id));
    t.name = t.value = model_intern(m, "T");
    t.parent = t.next_same_name = MODEL_NONE;
    t.members_known = true;
    tg = model_add_tag(m, &t);
    if (t_member != MODEL_NONE)
        model_link_tag_asset(m, tg, a[t_member]);
    if (index)
        model_build_indexes(m);
}

/*
 * The contract with the rules (model.h): after an incremental read, the
 * assets whose albums or tags changed carry MODEL_ASSET_CHANGED and the
 * albums that are new or whose members changed carry `changed`; nothing
 * else does.
 */
static void test_changes_flagged(void **state)
{
    struct fixture *f = *state;
    struct model before, now;
    struct snapshot_info info;
    struct buf bytes = BUF_INIT, err = BUF_INIT;
    struct snapshot_prev *p = NULL;

    memset(&info, 0, sizeof(info));
    info.dialect = 3;
    library(&before, f->ids, 0, MODEL_NONE, 1, false, true);
    snapshot_prev_encode(&before, &info, &f->needs, to_buf, &bytes);
    assert_int_equal(snapshot_prev_decode(bytes.buf, bytes.len, &p, &err), 0);

    /* the same library: nothing flagged */
    library(&now, f->ids, 0, MODEL_NONE, 1, false, false);
    now.changes_only = true;
    snapshot_incr_flag(p, &now);
    for (int i = 0; i < 3; i++)
        assert_false(now.assets[i].flags & MODEL_ASSET_CHANGED);
    assert_false(now.albums[0].changed);
    model_release(&now);

    /* asset 2 joins X, asset 1 leaves T, asset 0 is in a new album Y */
    library(&now, f->ids, 0, 2, MODEL_NONE, true, false);
    now.changes_only = true;
    snapshot_incr_flag(p, &now);
    for (int i = 0; i < 3; i++)
        assert_true(now.assets[i].flags & MODEL_ASSET_CHANGED);
    assert_true(now.albums[0].changed);
    assert_true(now.albums[1].changed);
    model_release(&now);

    /* only asset 1 leaves T: X unchanged, assets 0 and 2 unflagged */
    library(&now, f->ids, 0, MODEL_NONE, MODEL_NONE, false, false);
    now.changes_only = true;
    snapshot_incr_flag(p, &now);
    assert_false(now.assets[0].flags & MODEL_ASSET_CHANGED);
    assert_true(now.assets[1].flags & MODEL_ASSET_CHANGED);
    assert_false(now.assets[2].flags & MODEL_ASSET_CHANGED);
    assert_false(now.albums[0].changed);
    model_release(&now);

    snapshot_prev_free(p);
    model_release(&before);
    buf_release(&bytes);
    buf_release(&err);
}

/* The next run, which trusts the stored read for changes or not
 * (trusted), then makes every change it planned (settles it). */
static void next_run_settles(struct state *st, const struct remember_opts *o,
                             struct fixture *f, bool trusted)
{
    struct remember *r = next_run(st, o, f);

    assert_int_equal(remember_trusts_changes(r), trusted);
    remember_settled(r, &f->m);
    remember_close(r);
}

/*
 * A change-only evaluation is trusted only after the run that read the
 * library made every change it planned: a stored read starts unsettled,
 * remember_settled() settles it, and the next read stored unsettles it
 * again; forgetting the library forgets the mark.
 */
static void test_changes_trusted_only_when_settled(void **state)
{
    struct fixture *f = *state;
    struct state *st = NULL;
    struct snapshot_info info;
    struct remember_opts o = {NOW, false, -1, false};
    struct remember *r;
    struct buf err = BUF_INIT, scope = BUF_INIT;

    open_db(f, &st, &scope, &info);
    r = remember_open(st, "http://photos", &o);
    assert_false(remember_trusts_changes(r)); /* nothing remembered */
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);

    /* stored, not settled: the library is read, not trusted for changes */
    next_run_settles(st, &o, f, false);

    r = next_run(st, &o, f);
    assert_true(remember_trusts_changes(r));
    /* this run's read replaces the row: unsettled until it settles */
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);
    next_run_settles(st, &o, f, false);

    /* forgotten (a run that changed dates): no mark left behind */
    assert_int_equal(state_library_forget(st, scope.buf, &err), 0);
    r = remember_open(st, "http://photos", &o);
    remember_store(r, &f->m, &info, &f->needs);
    remember_close(r);
    r = next_run(st, &o, f);
    assert_false(remember_trusts_changes(r));
    remember_close(r);
    state_close(st);
    buf_release(&err);
    buf_release(&scope);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_encoding_and_damage, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_row_and_when_it_is_trusted, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_changes_flagged, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes_trusted_only_when_settled,
                                        setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
