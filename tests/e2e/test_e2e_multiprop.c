/*
 * test_e2e_multiprop.c: a property test over generated multi-user
 * libraries (issue #11).
 *
 * For each seed a library is generated: four users (one with two keys),
 * partners, dated albums shared with editors (who add assets of their
 * own) and viewers, keyword albums the sharing rules act on, temporary
 * albums that hold other users' assets, memes to move, tags the
 * configuration does not manage.  Then, on a simulator whose write
 * endpoints fail a random number of times (500s, cut answers, answers
 * without some ids, a dropped connection after a create), runs of random
 * users with random keys and log directories follow one another in a
 * random order, and after each run:
 *
 *   - no asset lost a tag the configuration does not manage;
 *   - no asset left an album that is not a temporary album;
 *   - no album was deleted that held, before the run, an asset of another
 *     user than the run's (the server would not have reported it empty).
 *
 * Once the faults are spent, the users run in turn until a round writes
 * nothing, and the library must be the one that rounds of clean runs
 * give the same library on a simulator without faults.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/common.h"
#include "e2e_state.h"
#include "e2e_tool.h"
#include "sim_harness.h"

#define TEMPLATE   IA_TEST_DATA "/config/upstream-template.yaml"
#define TEMP_MARK  "-autotag-temp-unclassified"
#define USERS      4
#define SEEDS      8
#define CHAOS_RUNS 10
#define MAX_ROUNDS 4

static const char *const emails[USERS] = {
    "admin@example.com",
    "john@example.com",
    "jane@example.com",
    "grandpa@example.com",
};
static const char *const names[USERS] = {"Admin", "John", "Jane", "Grandpa"};
/* Keys: each user's, and the admin's second one. */
static const char *const keys[USERS + 1] = {
    "prop-admin", "prop-john", "prop-jane", "prop-grandpa", "prop-admin-2",
};

/* splitmix64: the library and the run order follow the seed. */
static uint64_t next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static unsigned below(uint64_t *s, unsigned n)
{
    return (unsigned)(next(s) % n);
}

static void uuid_of(uint64_t *s, char out[37])
{
    uint64_t a = next(s), b = next(s);

    snprintf(out, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             0x8000 | ((unsigned)(b >> 48) & 0x3fff),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static json_t *new_id(uint64_t *s)
{
    char id[37];

    uuid_of(s, id);
    return json_string(id);
}

/* Day d (0..335) of 2020 in months of 28 days: every date exists. */
#define DAYS     336
#define MONTH(d) ((d) / 28 + 1)
#define MDAY(d)  ((d) % 28 + 1)

/* "2020-MM-DDT10:MM:00.000Z" for day d and minute m. */
static void date_of(unsigned d, unsigned m, char out[32])
{
    snprintf(out, 32, "2020-%02u-%02uT10:%02u:00.000Z", MONTH(d), MDAY(d),
             m % 60);
}

static json_t *tag(json_t *tags, uint64_t *s, const char *owner,
                   const char *value)
{
    json_t *t = json_pack(
        "{s:o, s:s, s:s, s:n, s:n, s:s, s:s}", "id", new_id(s), "ownerId",
        owner, "value", value, "parentId", "color", "createdAt",
        "2020-01-01T00:00:00.000Z", "updatedAt", "2020-01-01T00:00:00.000Z");

    json_array_append_new(tags, t);
    return t;
}

/* The library of one seed, as immich-sim's library file. */
static json_t *generate(uint64_t seed)
{
    uint64_t s = seed;
    json_t *users = json_array(), *tags = json_array(), *albums = json_array(),
           *assets = json_array();
    json_t *mine[USERS], *keep[USERS], *meme, *uid[USERS];
    char when[32], name[96];

    for (int u = 0; u < USERS; u++) {
        json_t *k = json_array();

        uid[u] = new_id(&s);
        json_array_append_new(k, json_pack("{s:s, s:s, s:[s]}", "key", keys[u],
                                           "name", "k", "permissions", "all"));
        if (u == 0)
            json_array_append_new(k, json_pack("{s:s, s:s, s:[s]}", "key",
                                               keys[USERS], "name", "k2",
                                               "permissions", "all"));
        json_array_append_new(
            users, json_pack("{s:O, s:s, s:s, s:b, s:[], s:o}", "id", uid[u],
                             "email", emails[u], "name", names[u], "isAdmin",
                             u == 0, "partners", "apiKeys", k));
        mine[u] = json_array();
        snprintf(name, sizeof(name), "keep/%s", names[u]);
        keep[u] = tag(tags, &s, json_string_value(uid[u]), name);
    }
    /* partners: admin and grandpa, one way or both */
    json_array_append(json_object_get(json_array_get(users, 0), "partners"),
                      uid[3]);
    if (below(&s, 2))
        json_array_append(json_object_get(json_array_get(users, 3), "partners"),
                          uid[0]);
    meme = tag(tags, &s, json_string_value(uid[0]), "meme");

    for (int u = 0; u < USERS; u++) {
        unsigned n = 8 + below(&s, 8);

        for (unsigned i = 0; i < n; i++) {
            json_t *a, *t = json_array();
            unsigned day = below(&s, DAYS);

            date_of(day, i, when);
            snprintf(name, sizeof(name), "IMG_%u%03u.JPG", u, i);
            if (below(&s, 3) == 0)
                json_array_append(t, json_object_get(keep[u], "id"));
            if (u == 0 && below(&s, 8) == 0)
                json_array_append(t, json_object_get(meme, "id"));
            a = json_pack(
                "{s:o, s:O, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
                " s:s, s:n, s:s, s:b, s:n, s:o, s:{s:s, s:s}}",
                "id", new_id(&s), "ownerId", uid[u], "type", "IMAGE",
                "originalPath", "/photos/x", "originalFileName", name,
                "fileCreatedAt", when, "fileModifiedAt", when, "localDateTime",
                when, "createdAt", "2021-01-01T00:00:00.000Z", "updatedAt",
                "2021-01-01T00:00:00.000Z", "deletedAt", "visibility",
                "timeline", "isFavorite", 0, "duplicateId", "tagIds", t,
                "exifInfo", "dateTimeOriginal", when, "timeZone", "UTC");
            json_object_set_new(a, "day", json_integer(day));
            json_array_append_new(assets, a);
            json_array_append(mine[u], a);
        }
    }

    /* albums: dated ones (some with a sharing keyword), temporary ones */
    for (int u = 0; u < USERS; u++) {
        unsigned n = 2 + below(&s, 3);

        for (unsigned i = 0; i < n; i++) {
            bool temp = below(&s, 3) == 0;
            json_t *al, *members = json_array(), *au = json_array();
            json_t *first =
                json_array_get(mine[u], below(&s, json_array_size(mine[u])));
            unsigned day =
                (unsigned)json_integer_value(json_object_get(first, "day"));
            static const char *const words[] = {"Beach", "Family trip",
                                                "Friends party", "Walk"};

            if (temp)
                snprintf(name, sizeof(name), "2020-%02u-%02u%s", MONTH(day),
                         MDAY(day), TEMP_MARK);
            else
                snprintf(name, sizeof(name), "2020-%02u-%02u %s %u", MONTH(day),
                         MDAY(day), words[below(&s, ARRAY_SIZE(words))], i);
            for (size_t k = 0; k < json_array_size(mine[u]); k++)
                if (below(&s, 4) == 0)
                    json_array_append(
                        members,
                        json_object_get(json_array_get(mine[u], k), "id"));
            for (int v = 0; v < USERS; v++) {
                unsigned r = below(&s, 5);

                if (v == u || r > 1)
                    continue;
                json_array_append_new(au, json_pack("{s:O, s:s}", "userId",
                                                    uid[v], "role",
                                                    r ? "viewer" : "editor"));
                /* an editor adds a few photos of their own */
                for (unsigned k = 0; !r && k < 1 + below(&s, 3); k++)
                    json_array_append(
                        members,
                        json_object_get(
                            json_array_get(mine[v],
                                           below(&s, json_array_size(mine[v]))),
                            "id"));
            }
            al = json_pack("{s:o, s:O, s:s, s:s, s:s, s:s, s:n, s:o, s:o}",
                           "id", new_id(&s), "ownerId", uid[u], "albumName",
                           name, "description", "", "createdAt",
                           "2021-01-01T00:00:00.000Z", "updatedAt",
                           "2021-01-01T00:00:00.000Z", "albumThumbnailAssetId",
                           "albumUsers", au, "assetIds", members);
            json_array_append_new(albums, al);
        }
    }
    json_array_append_new(
        albums, json_pack("{s:o, s:O, s:s, s:s, s:s, s:s, s:n, s:[], s:[]}",
                          "id", new_id(&s), "ownerId", uid[0], "albumName",
                          "autotag_input_meme", "description", "", "createdAt",
                          "2021-01-01T00:00:00.000Z", "updatedAt",
                          "2021-01-01T00:00:00.000Z", "albumThumbnailAssetId",
                          "albumUsers", "assetIds"));
    /* an album lists each asset once */
    {
        json_t *al;
        size_t i;

        json_array_foreach(albums, i, al)
        {
            json_t *ids = json_object_get(al, "assetIds"), *uniq = json_array();

            for (size_t k = 0; k < json_array_size(ids); k++) {
                bool seen = false;

                for (size_t j = 0; j < json_array_size(uniq) && !seen; j++)
                    seen = json_equal(json_array_get(uniq, j),
                                      json_array_get(ids, k));
                if (!seen)
                    json_array_append(uniq, json_array_get(ids, k));
            }
            json_object_set_new(al, "assetIds", uniq);
        }
    }
    {
        json_t *a;
        size_t i;

        json_array_foreach(assets, i, a) json_object_del(a, "day");
    }
    for (int u = 0; u < USERS; u++) {
        json_decref(mine[u]);
        json_decref(uid[u]);
    }
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:{}}", "format",
                     "immich-sim-library/1", "users", users, "tags", tags,
                     "albums", albums, "assets", assets, "expected");
}

/* Writes the library of seed to a file; its path in out. */
static void library_file(uint64_t seed, struct buf *out)
{
    json_t *lib = generate(seed);

    buf_reset(out);
    buf_addf(out, "%s/lib-%llu.json", e2e_tmpdir(), (unsigned long long)seed);
    assert_int_equal(json_dump_file(lib, out->buf, JSON_COMPACT), 0);
    json_decref(lib);
}

static void boot(struct sim_proc *sim, const char *library, const char *dialect,
                 const char *faults)
{
    e2e_boot_opt(sim, E2E_ARGV("--library", library, "--dialect", dialect),
                 "--faults", faults);
}

/* One run with key k and log directory logdir; its exit code. */
static int run(const struct sim_proc *sim, unsigned k, const char *logdir)
{
    struct e2e_run r;
    int code = e2e_tool_key(sim, keys[k],
                            E2E_ARGV("run", "--quiet", "--config", TEMPLATE,
                                     "--log-dir", e2e_path(logdir)),
                            &r);

    e2e_run_release(&r);
    return code;
}

static bool is_temp(const char *name)
{
    return strstr(name, TEMP_MARK) != NULL;
}

/* Does user `who` see `owner`'s assets as a partner? */
static bool is_partner_of(json_t *st, const char *who, const char *owner)
{
    json_t *u = es_find(st, "users", "id", who), *p;
    size_t i;

    json_array_foreach(json_object_get(u, "partners"), i,
                       p) if (!strcmp(json_string_value(p), owner)) return true;
    return false;
}

/* The checks after one run of user u: st0 before, st1 after. */
static void check_run(json_t *st0, json_t *st1, json_t *orig, unsigned u,
                      const char *what)
{
    json_t *a, *al;
    size_t i;
    const char *me = es_user_id(st1, emails[u]);

    /* tags not managed by the configuration stay */
    json_array_foreach(json_object_get(orig, "assets"), i, a)
    {
        json_t *now = es_find(st1, "assets", "id", es_str(a, "id")), *t;
        size_t j;

        assert_non_null(now);
        json_array_foreach(json_object_get(a, "tagIds"), j, t)
        {
            json_t *tg = es_find(orig, "tags", "id", json_string_value(t));
            const char *v = es_str(tg, "value");

            if (strncmp(v, "keep/", 5))
                continue;
            if (!es_has_tag(st1, now, v))
                fail_msg("%s: asset %s lost tag %s", what, es_str(a, "id"), v);
        }
    }
    /* no asset leaves an album that is not temporary */
    json_array_foreach(json_object_get(st0, "assets"), i, a)
    {
        json_t *now = es_find(st1, "assets", "id", es_str(a, "id"));
        const char *n;

        for (size_t j = 0; (n = es_album_of(st0, a, j)); j++)
            if (!is_temp(n) && !es_in_album(st1, now, n))
                fail_msg("%s: asset %s left album %s", what, es_str(a, "id"),
                         n);
    }
    /* a deleted album held, before the run, only assets the run could
     * take out (its user's and its partners'): anything else would have
     * kept the server from reporting it empty */
    json_array_foreach(json_object_get(st0, "albums"), i, al)
    {
        json_t *id;
        size_t j;

        if (es_find(st1, "albums", "id", es_str(al, "id")))
            continue;
        if (!is_temp(es_str(al, "albumName")))
            fail_msg("%s: album %s deleted", what, es_str(al, "albumName"));
        json_array_foreach(json_object_get(al, "assetIds"), j, id)
        {
            json_t *x = es_find(st0, "assets", "id", json_string_value(id));

            if (x && strcmp(es_str(x, "ownerId"), me) &&
                !is_partner_of(st0, me, es_str(x, "ownerId")))
                fail_msg("%s: album %s deleted while it held %s's asset %s",
                         what, es_str(al, "albumName"), es_str(x, "ownerId"),
                         json_string_value(id));
        }
    }
}

/*
 * The end state to compare: es_end_state_text()'s assets, and the albums
 * keyed by owner and name (users sort their own temporary albums, so two
 * users may each have one of the same name) without the users of
 * temporary albums: a temporary album the generator shared may survive in
 * one order of runs and be deleted and made again (unshared) in another,
 * with the same assets in the end; its sharing is nothing the
 * configuration manages.
 */
static char *comparable_state(const struct sim_proc *sim)
{
    json_t *st = es_state(sim), *albums = json_object(), *al, *v;
    char *text = es_end_state_text(st), *out;
    struct buf key = BUF_INIT, users = BUF_INIT;
    size_t i;

    v = es_parse(text, strlen(text));
    json_array_foreach(json_object_get(st, "albums"), i, al)
    {
        json_t *owner = es_find(st, "users", "id", es_str(al, "ownerId"));
        const char *name = es_str(al, "albumName");

        buf_reset(&key);
        buf_addf(&key, "%s|%s", es_str(owner, "email"), name);
        if (json_object_get(albums, key.buf))
            fail_msg("two albums %s", key.buf);
        if (is_temp(name)) {
            json_object_set_new(albums, key.buf, json_true());
            continue;
        }
        es_album_users(st, name, &users);
        json_object_set_new(albums, key.buf, json_string(users.buf));
    }
    json_object_set_new(v, "albums", albums);
    out = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(v);
    json_decref(st);
    free(text);
    buf_release(&key);
    buf_release(&users);
    return out;
}

/* Users in turn (own log directories) until a round writes nothing. */
static void settle(const struct sim_proc *sim, const char *tag)
{
    char dir[64];

    for (int round = 0; round < MAX_ROUNDS; round++) {
        long before = sim_stat_writes(sim);

        for (unsigned u = 0; u < USERS; u++) {
            snprintf(dir, sizeof(dir), "%s-u%u", tag, u);
            (void)run(sim, u, dir);
        }
        if (sim_stat_writes(sim) == before)
            return;
    }
    fail_msg("%s: still writing after %d rounds", tag, MAX_ROUNDS);
}

/* The faults a chaos simulator may have, each at most `most` times. */
static const struct {
    const char *kind, *endpoint;
    unsigned most;
} fault_rules[] = {
    {"500", "PUT /albums/{id}/assets", 3},
    {"partial", "PUT /tags/{id}/assets", 2},
    {"reset", "POST /albums", 1},
    {"500", "DELETE /tags/{id}/assets", 2},
    {"truncate", "DELETE /albums/{id}/assets", 1},
    {"500", "PUT /albums/{id}/user/{userId}", 1},
    {"partial", "PUT /albums/{id}/assets", 1},
};

static void one_seed(uint64_t seed, const char *dialect)
{
    struct sim_proc chaos, clean;
    struct buf lib = BUF_INIT, faults = BUF_INIT;
    uint64_t s = seed * 7919 + 1;
    char tagbuf[48], what[96], *a, *b;
    json_t *orig, *st0;

    library_file(seed, &lib);
    /* Each write endpoint fails its first n times (n may be 0: no rule,
     * since a rule without first= fires on every request). */
    for (size_t i = 0; i < ARRAY_SIZE(fault_rules); i++) {
        unsigned n = below(&s, fault_rules[i].most + 1);

        if (n)
            buf_addf(&faults, "%s%s:first=%u@%s", faults.len ? "," : "",
                     fault_rules[i].kind, n, fault_rules[i].endpoint);
    }
    boot(&chaos, lib.buf, dialect, faults.len ? faults.buf : NULL);
    orig = es_state(&chaos);
    for (int i = 0; i < CHAOS_RUNS; i++) {
        unsigned k = below(&s, USERS + 1), u = k == USERS ? 0 : k;
        static const char *const dirs[] = {"shared", "own-a", "own-b"};
        json_t *st1;

        snprintf(tagbuf, sizeof(tagbuf), "%llu-%s", (unsigned long long)seed,
                 dirs[below(&s, 3)]);
        st0 = es_state(&chaos);
        (void)run(&chaos, k, tagbuf);
        st1 = es_state(&chaos);
        snprintf(what, sizeof(what), "seed %llu dialect %s run %d (%s)",
                 (unsigned long long)seed, dialect, i, keys[k]);
        check_run(st0, st1, orig, u, what);
        json_decref(st0);
        json_decref(st1);
    }
    snprintf(tagbuf, sizeof(tagbuf), "%llu-chaos", (unsigned long long)seed);
    settle(&chaos, tagbuf);

    boot(&clean, lib.buf, dialect, NULL);
    snprintf(tagbuf, sizeof(tagbuf), "%llu-clean", (unsigned long long)seed);
    settle(&clean, tagbuf);
    a = comparable_state(&chaos);
    b = comparable_state(&clean);
    if (strcmp(a, b)) {
        struct buf pa = BUF_INIT, pb = BUF_INIT;
        FILE *f;

        buf_addf(&pa, "%s.chaos.json", lib.buf);
        buf_addf(&pb, "%s.clean.json", lib.buf);
        if ((f = fopen(pa.buf, "w"))) {
            fputs(a, f);
            fclose(f);
        }
        if ((f = fopen(pb.buf, "w"))) {
            fputs(b, f);
            fclose(f);
        }
        buf_addstr(&pa, ".state");
        {
            json_t *raw = es_state(&chaos);

            (void)json_dump_file(raw, pa.buf, JSON_INDENT(1));
            json_decref(raw);
        }
        fail_msg("seed %llu dialect %s: the library after the faulty runs "
                 "differs from the clean runs' (%s vs %s)",
                 (unsigned long long)seed, dialect, pa.buf, pb.buf);
    }
    free(a);
    free(b);
    json_decref(orig);
    assert_int_equal(sim_stop(&chaos), 0);
    assert_int_equal(sim_stop(&clean), 0);
    buf_release(&lib);
    buf_release(&faults);
}

static void test_generated_multi_user_libraries(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= SEEDS; seed++)
        one_seed(seed, seed % 2 ? "3" : "2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generated_multi_user_libraries),
    };

    return e2e_run_group("mprop", IA_BIN, tests);
}
