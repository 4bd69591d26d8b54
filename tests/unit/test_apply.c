/*
 * test_apply.c: the applier's phase order (what goes with the album
 * creates, what waits), chunking, id hand-over from creates to adds,
 * per-id outcome mapping, request failures, the all-or-nothing split,
 * fail-fast, signals, dry run, and the staleness check of saved plans.
 * The writer is a recorder that plays the server's part from a per-test
 * script; the API writer's album creates (reuse of the albums the listing
 * before the writes found) run against a canned server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "apply/apply.h"
#include "apply/apply_api.h"
#include "apply/apply_perms.h"
#include "core/sigflag.h"
#include "snapshot/snapshot.h"

#include "canned_server.h"
#include "test_ids.h"

static struct uuid uid(unsigned n)
{
    return test_id(0x10, n);
}

/* ---- the recording writer ---- */

#define MAX_CALLS 64

struct rec {
    size_t batches;
    size_t batch_size[MAX_CALLS];
    enum apply_kind kinds[MAX_CALLS][16];
    size_t requests;
    struct uuid targets[MAX_CALLS];
    size_t ids_total;
    /* script */
    int fail_kind;       /* kind failing as a whole (-1: none) */
    int fail_status;     /* its HTTP status */
    unsigned bad_id;     /* this id is no_permission / 400 alone */
    unsigned dup_id;     /* this id is already there */
    int stop_at_batch;   /* return -1 at this batch (1-based), 0: never */
    int signal_at_batch; /* raise the stop flag during this batch */
    bool create_keeps;   /* a create puts its assetIds in the album
                            (else: an album of 0 assets) */
    long create_drop;    /* ids a create leaves out even so */
    unsigned creates;    /* albums created: the n-th gets uid(800 + n) */
};

static bool is_id(const struct uuid *u, unsigned n)
{
    struct uuid x = uid(n);

    return n && uuid_eq(u, &x);
}

static int rec_execute(void *ctx, struct apply_req *reqs, size_t nr,
                       struct buf *err)
{
    struct rec *r = ctx;
    size_t i, k;

    r->batches++;
    if (r->stop_at_batch && (int)r->batches == r->stop_at_batch) {
        buf_addstr(err, "server unreachable");
        return -1;
    }
    if (r->signal_at_batch && (int)r->batches == r->signal_at_batch)
        sig_request_stop(2);
    r->batch_size[r->batches - 1] = nr;
    for (i = 0; i < nr; i++) {
        struct apply_req *q = &reqs[i];
        bool bad = false;

        if (i < 16)
            r->kinds[r->batches - 1][i] = q->kind;
        r->targets[r->requests < MAX_CALLS ? r->requests : 0] = q->target;
        r->requests++;
        r->ids_total += q->ids_nr;
        if ((int)q->kind == r->fail_kind) {
            q->result = APPLY_REQ_FAILED;
            q->http_status = r->fail_status;
            q->message = xstrdup("PUT /tags/{id}/assets: 403 Missing "
                                 "required permission: tag.asset");
            continue;
        }
        for (k = 0; k < q->ids_nr; k++)
            bad |= is_id(&q->ids[k], r->bad_id);
        q->result = APPLY_REQ_OK;
        q->http_status = 200;
        switch (q->kind) {
        case APPLY_TAGS_UPSERT:
            for (k = 0; k < q->names_nr; k++) {
                q->created[k] = uid(900 + (unsigned)k);
                q->created_ok[k] = true;
            }
            break;
        case APPLY_ALBUM_CREATE:
            q->created[0] = uid(800 + r->creates++);
            q->created_ok[0] = true;
            q->created_assets =
                r->create_keeps ? (long)q->ids_nr - r->create_drop : 0;
            break;
        case APPLY_ASSETS_DATE:
        case APPLY_ALBUM_USERS_ADD:
            if (bad) { /* all or nothing */
                q->result = APPLY_REQ_FAILED;
                q->http_status = 400;
                q->message = xstrdup("PUT /assets: 400 Not found or no "
                                     "asset.update access");
            }
            break;
        default:
            for (k = 0; k < q->ids_nr; k++) {
                if (is_id(&q->ids[k], r->bad_id)) {
                    q->id_status[k] = OUTCOME_FAILED;
                    q->id_error[k] = OUTCOME_E_NO_PERMISSION;
                } else if (is_id(&q->ids[k], r->dup_id)) {
                    q->id_status[k] = OUTCOME_UNCHANGED;
                    q->id_error[k] = OUTCOME_E_DUPLICATE;
                } else {
                    q->id_status[k] = OUTCOME_DONE;
                }
            }
            break;
        }
    }
    return 0;
}

static void rec_init(struct rec *r, struct apply_writer *w)
{
    memset(r, 0, sizeof(*r));
    r->fail_kind = -1;
    memset(w, 0, sizeof(*w));
    w->ctx = r;
    w->execute = rec_execute;
}

static const struct plan_group *find(const struct plan *p, enum plan_op op,
                                     size_t *index)
{
    size_t i;

    for (i = 0; i < p->nr; i++) {
        if (p->groups[i].op == op) {
            *index = i;
            return &p->groups[i];
        }
    }
    fail_msg("no group of op %d", (int)op);
    return NULL;
}

/* A plan touching every phase: new tag for 3 assets, new album with 12
 * assets, existing-tag removal, temp album delete, sharing, one date. */
static void full_plan(struct plan *p)
{
    struct plan_group *g;
    struct uuid t = uid(700), al = uid(701), u1 = uid(600), u2 = uid(601);
    unsigned i;

    plan_init(p);
    g = plan_group(p, PLAN_TAG_ADD, "autotag_output_unknown", NULL);
    for (i = 1; i <= 3; i++) {
        struct uuid a = uid(i);

        plan_add(g, &a, PLAN_R_CLASSIFY_UNKNOWN, 0);
    }
    plan_group(p, PLAN_ALBUM_CREATE, "2024-01-01-autotag-temp-unclassified",
               NULL);
    g = plan_group(p, PLAN_ALBUM_ADD, "2024-01-01-autotag-temp-unclassified",
                   NULL);
    for (i = 1; i <= 12; i++) {
        struct uuid a = uid(100 + i);

        plan_add(g, &a, PLAN_R_ALBUM_FROM_DATE, 0);
    }
    g = plan_group(p, PLAN_TAG_REMOVE, "autotag_output_conflict", &t);
    {
        struct uuid a = uid(4);

        plan_add(g, &a, PLAN_R_CLASSIFIED, 0);
    }
    plan_group(p, PLAN_ALBUM_DELETE, "2020-01-01-autotag-temp-unclassified",
               &al);
    g = plan_group_role(p, PLAN_ALBUM_USER_ADD, "Family", &al, 0);
    plan_add(g, &u1, PLAN_R_PERMISSIONS, 1);
    plan_add(g, &u2, PLAN_R_PERMISSIONS, 1);
    g = plan_group_role(p, PLAN_ALBUM_USER_REMOVE, "Family", &al, 0);
    {
        struct uuid u3 = uid(602);

        plan_add(g, &u3, PLAN_R_PERMISSIONS, 1);
    }
    g = plan_group_date(p, 1700000000000LL, 60);
    for (i = 1; i <= 3; i++) {
        struct uuid a = uid(200 + i);

        plan_add(g, &a, PLAN_R_DATE_CORRECTION, 0);
    }
    plan_finish(p);
}

/* What most tests apply: full_plan(), its outcome and the recording
 * writer, with no stop asked. */
struct fx {
    struct plan p;
    struct outcome o;
    struct rec r;
    struct apply_writer w;
    struct apply_opts opts;
    struct buf err;
};

/* The fixture with ids per request chunk (0: the default) and the other
 * options off. */
static void fx_open(struct fx *f, size_t chunk)
{
    struct apply_opts opts = {0, false, false, NULL, NULL, 0};

    f->opts = opts;
    f->opts.chunk = chunk;
    sig_clear();
    full_plan(&f->p);
    outcome_init(&f->o, &f->p);
    rec_init(&f->r, &f->w);
    f->err = (struct buf)BUF_INIT;
}

/* apply_run() of the fixture's plan with its options. */
static enum apply_result fx_run(struct fx *f)
{
    return apply_run(&f->p, &f->w, &f->opts, &f->o, &f->err);
}

static void fx_close(struct fx *f)
{
    outcome_release(&f->o);
    plan_release(&f->p);
    buf_release(&f->err);
}

/* The full plan goes out phase by phase in the fixed order (the tag add,
 * the tag removal and the dates ride with the album create: they need
 * nothing it makes), album adds chunked, adds sent to the ids the upsert
 * and the creates returned, every item done. */
static void test_apply_phases_run_in_order_with_chunks(void **state)
{
    struct fx f;
    size_t gi = 0, gadd = 0;
    struct uuid created = uid(800), tag = uid(900);

    (void)state;
    fx_open(&f, 5);
    assert_int_equal(fx_run(&f), APPLY_OK);
    /* upsert; the tag add (its tag exists once upserted), the tag
     * remove, the dates, then the create in one batch; album adds to the
     * new album (12 ids / 5 = 3); album delete; sharing (users add + one
     * remove, of the album the plan deletes: after the delete) */
    assert_int_equal(f.r.batches, 5);
    assert_int_equal(f.r.batch_size[0], 1);
    assert_int_equal(f.r.kinds[0][0], APPLY_TAGS_UPSERT);
    assert_int_equal(f.r.batch_size[1], 4);
    assert_int_equal(f.r.kinds[1][0], APPLY_TAG_ASSETS_ADD);
    assert_int_equal(f.r.kinds[1][1], APPLY_TAG_ASSETS_REMOVE);
    assert_int_equal(f.r.kinds[1][2], APPLY_ASSETS_DATE);
    assert_int_equal(f.r.kinds[1][3], APPLY_ALBUM_CREATE);
    assert_int_equal(f.r.batch_size[2], 3);
    assert_int_equal(f.r.kinds[2][0], APPLY_ALBUM_ASSETS_ADD);
    assert_int_equal(f.r.kinds[3][0], APPLY_ALBUM_DELETE);
    assert_int_equal(f.r.batch_size[4], 2);
    assert_int_equal(f.r.kinds[4][0], APPLY_ALBUM_USERS_ADD);
    assert_int_equal(f.r.requests, 11);
    assert_int_equal(f.o.requests, 11);
    assert_int_equal(f.o.requests_failed, 0);
    /* The adds went to the ids the upsert and the creates returned. */
    assert_true(uuid_eq(&f.r.targets[1], &tag));
    assert_true(uuid_eq(&f.r.targets[5], &created));
    find(&f.p, PLAN_ALBUM_ADD, &gadd);
    assert_true(f.o.groups[gadd].has_target);
    find(&f.p, PLAN_TAG_ADD, &gi);
    assert_true(f.o.groups[gi].created);
    assert_int_equal(f.o.groups[gi].action, OUTCOME_DONE);
    /* 3 tag + 12 album + 1 untag + 2 share + 1 unshare + 3 dates = 22
     * items, plus tag creation, album creation, album deletion. */
    assert_int_equal(f.o.done, 25);
    assert_int_equal(f.o.failed + f.o.pending + f.o.unchanged, 0);
    fx_close(&f);
}

/*
 * A bulk phase's ids are spread over the writer's slots: 3,000 removals
 * of one tag and 100 of another over 10 slots go as 310-id requests (the
 * phase's 3,100 ids / 10), not as one request that runs alone after the
 * others; 600 ids stop at APPLY_SPREAD_MIN (250) per request; without
 * slots, the chunk alone.
 */
static void spread(size_t big, size_t small, size_t slots, size_t want_reqs)
{
    struct plan p;
    struct outcome o;
    struct rec r;
    struct apply_writer w;
    struct apply_opts opts = {0, false, false, NULL, NULL, slots};
    struct buf err = BUF_INIT;
    struct plan_group *g;
    struct uuid t1 = uid(900), t2 = uid(901);
    size_t i;

    sig_clear();
    plan_init(&p);
    g = plan_group(&p, PLAN_TAG_REMOVE, "big", &t1);
    for (i = 0; i < big; i++) {
        struct uuid a = uid(1000 + (unsigned)i);

        plan_add(g, &a, PLAN_R_CLASSIFIED, 0);
    }
    g = plan_group(&p, PLAN_TAG_REMOVE, "small", &t2);
    for (i = 0; i < small; i++) {
        struct uuid a = uid(9000 + (unsigned)i);

        plan_add(g, &a, PLAN_R_CLASSIFIED, 0);
    }
    plan_finish(&p);
    outcome_init(&o, &p);
    rec_init(&r, &w);
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.requests, want_reqs);
    assert_int_equal(r.ids_total, big + small);
    assert_int_equal(o.done, big + small);
    outcome_release(&o);
    plan_release(&p);
    buf_release(&err);
}

static void test_apply_bulk_phase_spread_over_slots(void **state)
{
    (void)state;
    /* 3000 / 310 = 10 requests (9 of 310, one of 210), 100 in one */
    spread(3000, 100, 10, 11);
    /* 600 ids: 250 a request at least -> 3 */
    spread(600, 0, 10, 3);
    /* no slots: one request per group (chunk 5000) */
    spread(3000, 100, 0, 2);
}

/*
 * With chunks larger than the new album's adds, the create carries them:
 * one request per new album.  When the server's assetCount says some were
 * dropped, the add phase sends them all again for per-id answers.
 */
static void test_apply_album_create_carries_its_assets(void **state)
{
    struct plan p;
    struct outcome o;
    struct rec r;
    struct apply_writer w;
    struct apply_opts opts = {100, false, false, NULL, NULL, 0};
    struct buf err = BUF_INIT;
    size_t ga = 0;

    (void)state;
    sig_clear();
    full_plan(&p);
    find(&p, PLAN_ALBUM_ADD, &ga);
    outcome_init(&o, &p);
    rec_init(&r, &w);
    r.create_keeps = true;
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.kinds[1][3], APPLY_ALBUM_CREATE);
    /* the create carried the 12 ids, the tag add went first; no
     * album-add batch follows */
    assert_int_equal(r.kinds[1][0], APPLY_TAG_ASSETS_ADD);
    assert_int_equal(r.kinds[2][0], APPLY_ALBUM_DELETE);
    assert_int_equal(r.batches, 4);
    assert_int_equal(o.groups[ga].status[0], OUTCOME_DONE);
    assert_int_equal(o.groups[ga].status[11], OUTCOME_DONE);
    assert_int_equal(o.done, 25);
    outcome_release(&o);

    outcome_init(&o, &p);
    rec_init(&r, &w);
    r.create_keeps = true;
    r.create_drop = 1;
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.kinds[2][0], APPLY_ALBUM_ASSETS_ADD);
    assert_int_equal(r.batch_size[2], 1);
    assert_int_equal(r.batches, 5);
    assert_int_equal(o.done, 25);
    outcome_release(&o);
    plan_release(&p);
    buf_release(&err);
}

/*
 * What needs nothing from another write goes out with the album creates,
 * in one batch; what depends on one waits for it.  The plan: a new album
 * "N" shared with a user, an existing album "A" shared and losing a
 * member, tag "T" gaining asset 1 and losing asset 2, tag "T2" gaining and
 * losing asset 5 (an undo's plan can hold both: the add goes first), and
 * a move of asset 6 from tag "M" into album "C".
 */
static void dependent_plan(struct plan *p)
{
    struct uuid A = uid(710), C = uid(730), T = uid(720), T2 = uid(721),
                M = uid(740), u1 = uid(600), u2 = uid(601);
    struct uuid a1 = uid(1), a2 = uid(2), a5 = uid(5), a6 = uid(6), a7 = uid(7);

    plan_init(p);
    plan_group(p, PLAN_ALBUM_CREATE, "N", NULL);
    plan_add(plan_group_role(p, PLAN_ALBUM_USER_ADD, "N", NULL, 0), &u1,
             PLAN_R_PERMISSIONS, 1);
    plan_add(plan_group_role(p, PLAN_ALBUM_USER_ADD, "A", &A, 0), &u2,
             PLAN_R_PERMISSIONS, 1);
    plan_add(plan_group(p, PLAN_ALBUM_REMOVE, "A", &A), &a7, PLAN_R_CLASSIFIED,
             0);
    plan_add(plan_group(p, PLAN_TAG_ADD, "T", &T), &a1, PLAN_R_CLASSIFY_UNKNOWN,
             0);
    plan_add(plan_group(p, PLAN_TAG_REMOVE, "T", &T), &a2, PLAN_R_CLASSIFIED,
             0);
    plan_add(plan_group(p, PLAN_TAG_ADD, "T2", &T2), &a5,
             PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(plan_group(p, PLAN_TAG_REMOVE, "T2", &T2), &a5, PLAN_R_CLASSIFIED,
             0);
    plan_add(plan_group(p, PLAN_ALBUM_ADD, "C", &C), &a6, PLAN_R_CONVERSION, 1);
    plan_add(plan_group(p, PLAN_TAG_REMOVE, "M", &M), &a6, PLAN_R_CONVERSION,
             1);
    plan_finish(p);
}

/* Is there a request of kind to target in batch k? */
static bool batch_has(const struct rec *r, size_t k, enum apply_kind kind,
                      const struct uuid *target)
{
    size_t first = 0, i;

    for (i = 0; i < k; i++)
        first += r->batch_size[i];
    for (i = 0; i < r->batch_size[k]; i++)
        if (r->kinds[k][i] == kind && uuid_eq(&r->targets[first + i], target))
            return true;
    return false;
}

static void test_apply_independent_writes_go_with_the_creates(void **state)
{
    struct plan p;
    struct outcome o;
    struct rec r;
    struct apply_writer w;
    struct apply_opts opts = {0, false, false, NULL, NULL, 0};
    struct buf err = BUF_INIT;
    struct uuid A = uid(710), C = uid(730), T = uid(720), T2 = uid(721),
                M = uid(740), N = uid(800);
    size_t gm = 0;

    (void)state;
    sig_clear();
    dependent_plan(&p);
    outcome_init(&o, &p);
    rec_init(&r, &w);
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.batches, 3);
    /* one batch: the adds, the independent removals, the sharing of the
     * album that exists, the create last */
    assert_int_equal(r.batch_size[0], 7);
    assert_true(batch_has(&r, 0, APPLY_ALBUM_ASSETS_ADD, &C));
    assert_true(batch_has(&r, 0, APPLY_TAG_ASSETS_ADD, &T));
    assert_true(batch_has(&r, 0, APPLY_TAG_ASSETS_ADD, &T2));
    assert_true(batch_has(&r, 0, APPLY_TAG_ASSETS_REMOVE, &T));
    assert_true(batch_has(&r, 0, APPLY_ALBUM_ASSETS_REMOVE, &A));
    assert_true(batch_has(&r, 0, APPLY_ALBUM_USERS_ADD, &A));
    assert_int_equal(r.kinds[0][6], APPLY_ALBUM_CREATE);
    /* then the removals that wait for an add: the pair added in the same
     * run, the move's source */
    assert_int_equal(r.batch_size[1], 2);
    assert_true(batch_has(&r, 1, APPLY_TAG_ASSETS_REMOVE, &T2));
    assert_true(batch_has(&r, 1, APPLY_TAG_ASSETS_REMOVE, &M));
    /* then the new album's sharing, to the id its create returned */
    assert_int_equal(r.batch_size[2], 1);
    assert_true(batch_has(&r, 2, APPLY_ALBUM_USERS_ADD, &N));
    assert_int_equal(o.done, 10);
    assert_int_equal(o.failed + o.pending, 0);
    outcome_release(&o);

    /* the move's add refused: its source stays */
    outcome_init(&o, &p);
    rec_init(&r, &w);
    r.bad_id = 6;
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.batch_size[1], 1);
    assert_true(batch_has(&r, 1, APPLY_TAG_ASSETS_REMOVE, &T2));
    for (gm = 0; gm < p.nr; gm++)
        if (p.groups[gm].op == PLAN_TAG_REMOVE &&
            !strcmp(p.groups[gm].name, "M"))
            break;
    assert_true(gm < p.nr);
    assert_int_equal(o.groups[gm].error[0], OUTCOME_E_MOVE_ADD);
    outcome_release(&o);

    /* fail_fast: phase after phase, as before */
    outcome_init(&o, &p);
    rec_init(&r, &w);
    opts.fail_fast = true;
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.batch_size[0], 1);
    assert_int_equal(r.kinds[0][0], APPLY_ALBUM_CREATE);
    outcome_release(&o);
    plan_release(&p);
    buf_release(&err);
}

/* ---- the API writer's album creates ---- */

static int writes_seen; /* requests the refusing server answered */

/* Refuses every request (400: a plain failure, nothing to read back). */
static enum MHD_Result refuse(const struct canned_req *req, void *ctx)
{
    (void)ctx;
    __atomic_add_fetch(&writes_seen, 1, __ATOMIC_SEQ_CST);
    return canned_reply(req->conn, 400, "{\"message\":\"refused\"}", NULL,
                        NULL);
}

/* Applies the creates of p through the API writer, the listing before
 * the writes being l; returns the requests the server saw. */
static int apply_creates(const struct plan *p, const struct apply_listed *l,
                         const struct uuid *me, struct outcome *o)
{
    struct canned_server srv;
    struct http_engine_opts eo = HTTP_ENGINE_OPTS_INIT;
    struct apply_opts opts = {0, false, false, NULL, NULL, 0};
    struct buf err = BUF_INIT;
    struct http_engine *eng;
    struct apply_api aa;
    struct api api;

    assert_int_equal(canned_start(&srv, refuse, NULL), 0);
    eo.base_url = srv.url;
    eo.api_key = "k3y";
    eo.max_retries = 0;
    eng = http_engine_new(&eo, &err);
    assert_non_null(eng);
    api_init(&api, eng);
    api.dialect = 3;
    apply_api_init(&aa, &api);
    aa.me = *me;
    aa.know_me = true;
    aa.listed = l;
    writes_seen = 0;
    outcome_init(o, p);
    assert_int_equal(apply_run(p, &aa.writer, &opts, o, &err), APPLY_OK);
    apply_api_release(&aa);
    http_engine_free(eng);
    canned_stop(&srv);
    buf_release(&err);
    return writes_seen;
}

/*
 * The creates take the albums made meanwhile from the torn-read check's
 * listing (apply_api_listed()), not from a listing of their own: "N",
 * which the key's user owns, is used and not made again; "O", another
 * user's, and "M", not listed, are sent (and refused here).  Without a
 * listing that answered, nothing is created, nor sent.
 */
static void test_apply_creates_reuse_what_the_listing_found(void **state)
{
    struct uuid me = uid(500), other = uid(501), n_id = uid(810);
    struct api_status ok = {true, API_OK, 200, "GET /albums", "", -1};
    struct api_status failed = {false,         API_FAIL_HTTP,      500,
                                "GET /albums", "GET /albums: 500", -1};
    struct api_album seen[2];
    struct apply_listed l;
    struct outcome o;
    struct plan p;
    size_t g;

    (void)state;
    sig_clear();
    plan_init(&p);
    plan_group(&p, PLAN_ALBUM_CREATE, "M", NULL);
    plan_group(&p, PLAN_ALBUM_CREATE, "N", NULL);
    plan_group(&p, PLAN_ALBUM_CREATE, "O", NULL);
    plan_finish(&p);
    memset(seen, 0, sizeof(seen));
    seen[0].id = n_id;
    seen[0].name = "N";
    seen[0].owner = me;
    seen[1].id = uid(811);
    seen[1].name = "O";
    seen[1].owner = other;
    memset(&l, 0, sizeof(l));
    apply_api_listed(&l, &ok, seen, 2);

    assert_int_equal(apply_creates(&p, &l, &me, &o), 2);
    for (g = 0; g < p.nr; g++) {
        const struct outcome_group *og = &o.groups[g];

        if (!strcmp(p.groups[g].name, "N")) {
            assert_int_equal(og->action, OUTCOME_DONE);
            assert_true(uuid_eq(&og->target, &n_id));
            assert_false(og->created);
        } else {
            assert_int_equal(og->action, OUTCOME_FAILED);
        }
    }
    outcome_release(&o);

    /* the listing failed: no create is sent */
    apply_listed_reset(&l);
    apply_api_listed(&l, &ok, seen, 2);
    apply_api_listed(&l, &failed, NULL, 0);
    assert_int_equal(apply_creates(&p, &l, &me, &o), 0);
    for (g = 0; g < p.nr; g++) {
        assert_int_equal(o.groups[g].action, OUTCOME_FAILED);
        assert_non_null(strstr(o.groups[g].message, "not sent"));
    }
    outcome_release(&o);
    apply_listed_reset(&l);
    plan_release(&p);
}

/* Several new albums: each create carries its own album's first small
 * add group, and every other group of that album (a second add, a
 * share) learns that album's id, not another's. */
static void test_apply_new_albums_each_learn_their_id(void **state)
{
    static const char *const names[] = {"C album", "A album", "B album"};
    struct plan p;
    struct outcome o;
    struct rec r;
    struct apply_writer w;
    struct apply_opts opts = {2, false, false, NULL, NULL, 0};
    struct buf err = BUF_INIT;
    struct uuid u = uid(600), ids[3] = {{{0}}};
    size_t i, g, n;

    (void)state;
    sig_clear();
    plan_init(&p);
    for (i = 0; i < 3; i++) {
        struct uuid a = uid(10 + (unsigned)i), b = uid(20 + (unsigned)i),
                    c = uid(30 + (unsigned)i);
        struct plan_group *ga;

        plan_group_album(&p, PLAN_ALBUM_CREATE, names[i], NULL,
                         PLAN_R_ALBUM_FROM_DATE);
        ga = plan_group(&p, PLAN_ALBUM_ADD, names[i], NULL);
        plan_add(ga, &a, PLAN_R_ALBUM_FROM_DATE, 0);
        if (i == 1) { /* three ids: more than a chunk, no ride */
            plan_add(ga, &b, PLAN_R_ALBUM_FROM_DATE, 0);
            plan_add(ga, &c, PLAN_R_ALBUM_FROM_DATE, 0);
        }
        plan_add(plan_group_role(&p, PLAN_ALBUM_USER_ADD, names[i], NULL, 0),
                 &u, PLAN_R_PERMISSIONS, 1);
    }
    plan_finish(&p);
    outcome_init(&o, &p);
    rec_init(&r, &w);
    r.create_keeps = true;
    assert_int_equal(apply_run(&p, &w, &opts, &o, &err), APPLY_OK);
    assert_int_equal(r.creates, 3);
    for (i = 0; i < 3; i++) {
        for (g = 0; g < p.nr; g++)
            if (p.groups[g].op == PLAN_ALBUM_CREATE &&
                !strcmp(p.groups[g].name, names[i]))
                ids[i] = o.groups[g].target;
        assert_false(uuid_is_zero(&ids[i]));
        for (g = 0, n = 0; g < p.nr; g++) {
            if (strcmp(p.groups[g].name, names[i]))
                continue;
            assert_true(o.groups[g].has_target);
            assert_true(uuid_eq(&o.groups[g].target, &ids[i]));
            n++;
        }
        assert_int_equal(n, 3);
    }
    assert_false(uuid_eq(&ids[0], &ids[1]) || uuid_eq(&ids[1], &ids[2]) ||
                 uuid_eq(&ids[0], &ids[2]));
    /* the two one-id add groups rode along, the three-id one was sent
     * (two chunks), then the three shares */
    assert_int_equal(r.ids_total, 2 + 3 + 3);
    assert_int_equal(o.done, 3 + 5 + 3); /* creates, adds, shares */
    outcome_release(&o);
    plan_release(&p);
    buf_release(&err);
}

static void test_apply_per_id_failures_are_counted_not_fatal(void **state)
{
    struct fx f;
    size_t gi = 0, i;

    (void)state;
    fx_open(&f, 0);
    f.r.bad_id = 2; /* tag add: no_permission */
    f.r.dup_id = 3; /* tag add: already tagged */
    assert_int_equal(fx_run(&f), APPLY_OK);
    /* every phase ran (the tag add in the creates' batch) */
    assert_int_equal(f.r.batches, 5);
    find(&f.p, PLAN_TAG_ADD, &gi);
    for (i = 0; i < 3; i++) {
        const struct uuid *id = &f.p.groups[gi].items[i].id;

        if (is_id(id, 2)) {
            assert_int_equal(f.o.groups[gi].status[i], OUTCOME_FAILED);
            assert_int_equal(f.o.groups[gi].error[i], OUTCOME_E_NO_PERMISSION);
        } else if (is_id(id, 3)) {
            assert_int_equal(f.o.groups[gi].status[i], OUTCOME_UNCHANGED);
        } else {
            assert_int_equal(f.o.groups[gi].status[i], OUTCOME_DONE);
        }
    }
    assert_int_equal(f.o.failed, 1);
    assert_int_equal(f.o.unchanged, 1);
    assert_false(f.o.aborted);
    fx_close(&f);
}

static void test_apply_fail_fast_stops_after_the_phase(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 0);
    f.opts.fail_fast = true;
    f.r.bad_id = 2;
    assert_int_equal(fx_run(&f), APPLY_STOPPED);
    assert_int_equal(f.r.batches, 4); /* up to and including tag adds */
    assert_true(f.o.aborted);
    assert_int_equal(f.o.failed, 1);
    assert_int_equal(f.o.pending, 1 + 1 + 2 + 1 + 3); /* untag, delete,
                                                        shares, dates */
    assert_string_equal(f.err.buf, "run stopped at the first asset error "
                                   "(fail_fast_on_asset_errors)");
    fx_close(&f);
}

static void test_apply_request_failure_names_endpoint(void **state)
{
    struct fx f;
    size_t gi = 0;

    (void)state;
    fx_open(&f, 0);
    f.r.fail_kind = APPLY_TAG_ASSETS_ADD;
    f.r.fail_status = 403;
    assert_int_equal(fx_run(&f), APPLY_OK);
    find(&f.p, PLAN_TAG_ADD, &gi);
    assert_int_equal(f.o.groups[gi].status[0], OUTCOME_FAILED);
    assert_int_equal(f.o.groups[gi].error[0], OUTCOME_E_REQUEST);
    assert_string_equal(f.o.groups[gi].message,
                        "PUT /tags/{id}/assets: 403 Missing required "
                        "permission: tag.asset");
    assert_int_equal(f.o.requests_failed, 1);
    assert_int_equal(f.o.failed, 3);
    /* later phases still ran (the tag add went with the creates) */
    assert_int_equal(f.r.batches, 5);
    fx_close(&f);
}

static void test_apply_all_or_nothing_request_is_split(void **state)
{
    struct fx f;
    size_t gd = 0, i;

    (void)state;
    fx_open(&f, 0);
    f.r.bad_id = 202; /* one of the three date ids */
    assert_int_equal(fx_run(&f), APPLY_OK);
    /* the dates went with the creates; again at once, one per id */
    assert_int_equal(f.r.batches, 6);
    assert_int_equal(f.r.kinds[2][0], APPLY_ASSETS_DATE);
    assert_int_equal(f.r.batch_size[2], 3);
    find(&f.p, PLAN_ASSET_DATE, &gd);
    for (i = 0; i < 3; i++) {
        bool bad = is_id(&f.p.groups[gd].items[i].id, 202);

        assert_int_equal(f.o.groups[gd].status[i],
                         bad ? OUTCOME_FAILED : OUTCOME_DONE);
    }
    assert_int_equal(f.o.failed, 1);
    fx_close(&f);
}

static void test_apply_failed_album_create_fails_its_adds(void **state)
{
    struct fx f;
    size_t gc = 0, ga = 0;

    (void)state;
    fx_open(&f, 5);
    f.r.fail_kind = APPLY_ALBUM_CREATE;
    f.r.fail_status = 500;
    assert_int_equal(fx_run(&f), APPLY_OK);
    find(&f.p, PLAN_ALBUM_CREATE, &gc);
    find(&f.p, PLAN_ALBUM_ADD, &ga);
    assert_int_equal(f.o.groups[gc].action, OUTCOME_FAILED);
    assert_int_equal(f.o.groups[ga].status[0], OUTCOME_FAILED);
    assert_int_equal(f.o.groups[ga].error[11], OUTCOME_E_TARGET);
    /* No album-add request was sent: the creates' batch held the tag add
     * too, the third batch is the album delete. */
    assert_int_equal(f.r.kinds[1][0], APPLY_TAG_ASSETS_ADD);
    assert_int_equal(f.r.kinds[2][0], APPLY_ALBUM_DELETE);
    assert_int_equal(f.o.failed, 13);
    fx_close(&f);
}

static void test_apply_signal_stops_before_next_phase(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 0);
    f.r.signal_at_batch = 2; /* during the album create */
    assert_int_equal(fx_run(&f), APPLY_STOPPED);
    assert_int_equal(f.r.batches, 2);
    assert_true(f.o.interrupted);
    /* tag created, album created, the 3 tag adds, the tag removal and
     * the 3 dates sent with it */
    assert_int_equal(f.o.done, 9);
    assert_int_equal(f.o.failed, 0);
    assert_string_equal(f.err.buf, "run interrupted by a signal");
    sig_clear();
    fx_close(&f);
}

static void test_apply_writer_stop_leaves_rest_pending(void **state)
{
    struct fx f;

    (void)state;
    fx_open(&f, 0);
    f.r.stop_at_batch = 3;
    assert_int_equal(fx_run(&f), APPLY_STOPPED);
    assert_string_equal(f.err.buf, "server unreachable");
    /* tag and album created, 3 tag adds, the tag removal and 3 dates
     * with the create; the album adds (the third batch) and the rest
     * never sent */
    assert_int_equal(f.o.done, 9);
    assert_int_equal(f.o.pending, 16);
    fx_close(&f);
}

static void test_apply_dry_run_and_empty_plan_send_nothing(void **state)
{
    struct plan p, empty;
    struct outcome o, oe;
    struct rec r;
    struct apply_writer w;
    struct apply_opts dry = {0, false, true, NULL, NULL, 0};
    struct apply_opts real = {0, false, false, NULL, NULL, 0};
    struct buf err = BUF_INIT;

    (void)state;
    sig_clear();
    full_plan(&p);
    outcome_init(&o, &p);
    rec_init(&r, &w);
    assert_int_equal(apply_run(&p, &w, &dry, &o, &err), APPLY_OK);
    assert_int_equal(r.batches, 0);
    assert_true(o.dry_run);
    assert_int_equal(o.pending, 25);
    plan_init(&empty);
    plan_finish(&empty);
    outcome_init(&oe, &empty);
    assert_int_equal(apply_run(&empty, &w, &real, &oe, &err), APPLY_OK);
    assert_int_equal(r.batches, 0);
    assert_int_equal(oe.requests, 0);
    outcome_release(&o);
    outcome_release(&oe);
    plan_release(&p);
    plan_release(&empty);
    buf_release(&err);
}

/* A model: assets 1..3, tag 700 on asset 1, album 701. */
static void stale_model(struct model *m)
{
    struct model_asset a;
    struct model_tag t;
    struct model_album al;
    unsigned i;

    model_init(m);
    memset(&a, 0, sizeof(a));
    a.duplicate = MODEL_NONE;
    for (i = 1; i <= 3; i++) {
        a.id = uid(i);
        model_add_asset(m, &a);
    }
    memset(&t, 0, sizeof(t));
    t.id = uid(700);
    t.name = t.value = model_intern(m, "autotag_output_unknown");
    t.parent = MODEL_NONE;
    model_add_tag(m, &t);
    memset(&al, 0, sizeof(al));
    al.id = uid(701);
    al.name = model_intern(m, "Trip");
    model_add_album(m, &al, NULL, 0);
    model_link_tag_asset(m, 0, 0);
    model_build_indexes(m);
}

static void test_apply_stale_check(void **state)
{
    struct model m;
    struct plan saved, fresh;
    struct plan_group *g;
    struct uuid t = uid(700), gone = uid(999), a1 = uid(1), a2 = uid(2),
                a3 = uid(3);
    struct buf err = BUF_INIT;

    (void)state;
    stale_model(&m);
    /* Saved: tag assets 1, 2, 3.  Fresh: only 2 still planned, 1 already
     * tagged (someone applied it), 3 no longer wanted. */
    plan_init(&saved);
    g = plan_group(&saved, PLAN_TAG_ADD, "autotag_output_unknown", &t);
    plan_add(g, &a1, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(g, &a2, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(&saved);
    plan_init(&fresh);
    g = plan_group(&fresh, PLAN_TAG_ADD, "autotag_output_unknown", &t);
    plan_add(g, &a2, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(&fresh);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), 0);
    plan_release(&saved);

    plan_init(&saved);
    g = plan_group(&saved, PLAN_TAG_ADD, "autotag_output_unknown", &t);
    plan_add(g, &a3, PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(&saved);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), -1);
    assert_non_null(strstr(err.buf, "saved plan is stale: "));
    assert_non_null(strstr(err.buf, "is no longer planned (1 item)"));
    plan_release(&saved);

    buf_reset(&err);
    plan_init(&saved);
    g = plan_group(&saved, PLAN_ALBUM_ADD, "Gone album", &gone);
    plan_add(g, &a2, PLAN_R_CONVERSION, 1);
    plan_group(&saved, PLAN_ALBUM_CREATE, "Trip", NULL);
    plan_finish(&saved);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), -1);
    assert_non_null(strstr(err.buf, "(2 items)"));
    plan_release(&saved);
    plan_release(&fresh);
    model_release(&m);
    buf_release(&err);
}

/* ---- issue 11: permissions before writing, renamed targets ---- */

/* Every write permission, in apply_perms.h's table order. */
static const char *const every_write[] = {
    "tag.create",        "tag.asset",         "album.create",
    "albumAsset.create", "albumAsset.delete", "album.delete",
    "albumUser.create",  "albumUser.update",  "albumUser.delete",
    "asset.update",
};

/* A plan with a group of every op (the first tag add to be created). */
static void every_op_plan(struct plan *p)
{
    struct uuid t = uid(700), al = uid(701), a = uid(1), u = uid(800);

    plan_init(p);
    plan_add(plan_group(p, PLAN_TAG_ADD, "new tag", NULL), &a,
             PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_add(plan_group(p, PLAN_TAG_REMOVE, "autotag_output_unknown", &t), &a,
             PLAN_R_CLASSIFIED, 0);
    plan_group_album(p, PLAN_ALBUM_CREATE, "New album", NULL,
                     PLAN_R_ALBUM_FROM_DATE);
    plan_add(plan_group(p, PLAN_ALBUM_ADD, "New album", NULL), &a,
             PLAN_R_ALBUM_FROM_DATE, 0);
    plan_add(plan_group(p, PLAN_ALBUM_REMOVE, "Trip", &al), &a,
             PLAN_R_TEMP_ALBUM_CLEANUP, 0);
    plan_group_album(p, PLAN_ALBUM_DELETE, "Trip", &al,
                     PLAN_R_TEMP_ALBUM_EMPTY);
    plan_add(plan_group_role(p, PLAN_ALBUM_USER_ADD, "Trip", &al, 1), &u,
             PLAN_R_PERMISSIONS, 1);
    plan_add(plan_group_role(p, PLAN_ALBUM_USER_ROLE, "Trip", &al, 2), &u,
             PLAN_R_PERMISSIONS, 1);
    plan_add(plan_group_role(p, PLAN_ALBUM_USER_REMOVE, "Trip", &al, 0), &u,
             PLAN_R_PERMISSIONS, 1);
    plan_add(plan_group_date(p, 1000, 60), &a, PLAN_R_DATE_CORRECTION, 0);
    plan_finish(p);
}

static void test_apply_plan_permissions_one_per_write_endpoint(void **state)
{
    const char *need[16];
    struct plan p;
    struct uuid t = uid(700), a = uid(1);
    size_t nr, i;

    (void)state;
    every_op_plan(&p);
    nr = apply_needed_permissions(&p, need, ARRAY_SIZE(need));
    assert_int_equal(nr, ARRAY_SIZE(every_write));
    for (i = 0; i < nr; i++)
        assert_string_equal(need[i], every_write[i]);
    /* max bounds what is stored, not the count */
    assert_int_equal(apply_needed_permissions(&p, need, 2), nr);
    plan_release(&p);

    /* adding an existing tag upserts nothing: tag.asset alone */
    plan_init(&p);
    plan_add(plan_group(&p, PLAN_TAG_ADD, "autotag_output_unknown", &t), &a,
             PLAN_R_CLASSIFY_UNKNOWN, 0);
    plan_finish(&p);
    assert_int_equal(apply_needed_permissions(&p, need, ARRAY_SIZE(need)), 1);
    assert_string_equal(need[0], "tag.asset");
    plan_release(&p);

    /* nothing to write, nothing needed */
    plan_init(&p);
    plan_finish(&p);
    assert_int_equal(apply_needed_permissions(&p, need, ARRAY_SIZE(need)), 0);
    plan_release(&p);
}

static void test_apply_missing_permissions_names_each(void **state)
{
    const char *have[ARRAY_SIZE(every_write)];
    const char *all[] = {"asset.read", "all"};
    struct buf missing = BUF_INIT;
    struct plan p;
    size_t i, j, n;

    (void)state;
    every_op_plan(&p);
    assert_int_equal(apply_missing_permissions(
                         &p, every_write, ARRAY_SIZE(every_write), &missing),
                     0);
    assert_int_equal(missing.len, 0);
    assert_int_equal(
        apply_missing_permissions(&p, all, ARRAY_SIZE(all), &missing), 0);
    /* each one left out in turn is the one named */
    for (i = 0; i < ARRAY_SIZE(every_write); i++) {
        for (j = n = 0; j < ARRAY_SIZE(every_write); j++)
            if (j != i)
                have[n++] = every_write[j];
        buf_reset(&missing);
        assert_int_equal(apply_missing_permissions(&p, have, n, &missing), 1);
        assert_string_equal(missing.buf, every_write[i]);
    }
    buf_reset(&missing);
    assert_int_equal(apply_missing_permissions(&p, NULL, 0, &missing),
                     ARRAY_SIZE(every_write));
    assert_non_null(strstr(missing.buf, "tag.create, tag.asset, "));
    plan_release(&p);
    buf_release(&missing);
}

/*
 * What `check` lists for a configuration enabling every feature (the
 * upstream template) is the reads plus exactly what a plan making every
 * write needs: the docs' list, the check's and the run's are one.
 */
static void test_apply_permissions_agree_with_check(void **state)
{
    static const char *const reads[] = {"user.read", "asset.read",
                                        "asset.statistics", "tag.read",
                                        "album.read"};
    const char *need[16], *listed[32];
    struct config *cfg = NULL;
    struct buf err = BUF_INIT;
    struct plan p;
    size_t nr, listed_nr, i;

    (void)state;
    if (config_load_file(IA_TEST_DATA "/config/upstream-template.yaml", &cfg,
                         &err, NULL) < 0)
        fail_msg("%s", err.buf);
    every_op_plan(&p);
    nr = apply_needed_permissions(&p, need, ARRAY_SIZE(need));
    for (int pass = 0; pass < 2; pass++) {
        listed_nr = snapshot_needed_permissions(pass ? NULL : cfg, listed,
                                                ARRAY_SIZE(listed));
        assert_int_equal(listed_nr, ARRAY_SIZE(reads) + nr);
        for (i = 0; i < ARRAY_SIZE(reads); i++)
            assert_string_equal(listed[i], reads[i]);
        for (i = 0; i < nr; i++)
            assert_string_equal(listed[ARRAY_SIZE(reads) + i], need[i]);
    }
    plan_release(&p);
    config_free(cfg);
    buf_release(&err);
}

/* One saved album add to album 701 ("Trip" when planned). */
static void saved_album_add(struct plan *p, const char *name)
{
    struct uuid al = uid(701), a2 = uid(2);

    plan_init(p);
    plan_add(plan_group(p, PLAN_ALBUM_ADD, name, &al), &a2, PLAN_R_CONVERSION,
             1);
    plan_finish(p);
}

/*
 * A target is its id and its name: album 701 renamed, and a new album
 * under its old name that the fresh plan fills instead, make the saved
 * plan stale; so does a renamed tag.
 */
static void test_apply_stale_when_target_renamed(void **state)
{
    struct model m;
    struct plan saved, fresh;
    struct uuid t = uid(700), other = uid(702), a2 = uid(2);
    struct buf err = BUF_INIT;

    (void)state;
    stale_model(&m); /* album 701 is "Trip" */
    /* the saved plan was made when 701 was called "Holidays"; a new
     * "Holidays" (702) is where the fresh plan puts asset 2 */
    saved_album_add(&saved, "Holidays");
    plan_init(&fresh);
    plan_add(plan_group(&fresh, PLAN_ALBUM_ADD, "Holidays", &other), &a2,
             PLAN_R_CONVERSION, 1);
    plan_finish(&fresh);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), -1);
    assert_string_equal(err.buf, "saved plan is stale: album 'Holidays' is "
                                 "now named 'Trip' (1 item)");
    plan_release(&saved);
    plan_release(&fresh);

    /* same name, but the name now means another album */
    buf_reset(&err);
    saved_album_add(&saved, "Trip");
    plan_init(&fresh);
    plan_add(plan_group(&fresh, PLAN_ALBUM_ADD, "Trip", &other), &a2,
             PLAN_R_CONVERSION, 1);
    plan_finish(&fresh);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), -1);
    assert_string_equal(err.buf, "saved plan is stale: album 'Trip' is now "
                                 "another album (1 item)");
    plan_release(&fresh);

    /* unchanged: still good */
    saved_album_add(&fresh, "Trip");
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), 0);
    plan_release(&saved);
    plan_release(&fresh);

    /* a tag renamed: 700 is "autotag_output_unknown" now */
    buf_reset(&err);
    plan_init(&saved);
    plan_add(plan_group(&saved, PLAN_TAG_REMOVE, "meme", &t), &a2,
             PLAN_R_CONVERSION, 1);
    plan_finish(&saved);
    plan_init(&fresh);
    plan_finish(&fresh);
    assert_int_equal(apply_check_stale(&saved, &fresh, &m, &err), -1);
    assert_string_equal(err.buf, "saved plan is stale: tag 'meme' is now "
                                 "named 'autotag_output_unknown' (1 item)");
    plan_release(&saved);
    plan_release(&fresh);
    model_release(&m);
    buf_release(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_apply_phases_run_in_order_with_chunks),
        cmocka_unit_test(test_apply_album_create_carries_its_assets),
        cmocka_unit_test(test_apply_new_albums_each_learn_their_id),
        cmocka_unit_test(test_apply_bulk_phase_spread_over_slots),
        cmocka_unit_test(test_apply_independent_writes_go_with_the_creates),
        cmocka_unit_test(test_apply_creates_reuse_what_the_listing_found),
        cmocka_unit_test(test_apply_per_id_failures_are_counted_not_fatal),
        cmocka_unit_test(test_apply_fail_fast_stops_after_the_phase),
        cmocka_unit_test(test_apply_request_failure_names_endpoint),
        cmocka_unit_test(test_apply_all_or_nothing_request_is_split),
        cmocka_unit_test(test_apply_failed_album_create_fails_its_adds),
        cmocka_unit_test(test_apply_signal_stops_before_next_phase),
        cmocka_unit_test(test_apply_writer_stop_leaves_rest_pending),
        cmocka_unit_test(test_apply_dry_run_and_empty_plan_send_nothing),
        cmocka_unit_test(test_apply_stale_check),
        cmocka_unit_test(test_apply_plan_permissions_one_per_write_endpoint),
        cmocka_unit_test(test_apply_missing_permissions_names_each),
        cmocka_unit_test(test_apply_permissions_agree_with_check),
        cmocka_unit_test(test_apply_stale_when_target_renamed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
