/*
 * hashmap.c: open-addressing maps to uint32_t (see hashmap.h).
 */
#include "core/hashmap.h"

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

static size_t ix_slot(const struct uuidix *m, const struct uuid *key,
                      const void *ctx)
{
    size_t mask = m->slots_nr - 1, i = (size_t)uuid_hash(key) & mask;

    while (m->slots[i] != HASHMAP_NONE &&
           !uuid_eq(m->key_of(ctx, m->slots[i]), key))
        i = (i + 1) & mask;
    return i;
}

static void uuidix_grow(struct uuidix *m, const void *ctx)
{
    uint32_t *old = m->slots;
    size_t old_nr = m->slots_nr, i;

    m->slots_nr = old_nr ? old_nr * 2 : 64;
    m->slots = xmalloc(st_mult(m->slots_nr, sizeof(*m->slots)));
    memset(m->slots, 0xff, m->slots_nr * sizeof(*m->slots));
    for (i = 0; i < old_nr; i++)
        if (old[i] != HASHMAP_NONE)
            m->slots[ix_slot(m, m->key_of(ctx, old[i]), ctx)] = old[i];
    free(old);
}

uint32_t uuidix_put(struct uuidix *m, const struct uuid *key, uint32_t value,
                    const void *ctx)
{
    size_t i;
    uint32_t prev;

    if (value == HASHMAP_NONE)
        BUG("uuidix value HASHMAP_NONE is reserved");
    if ((m->count + 1) * 2 > m->slots_nr)
        uuidix_grow(m, ctx);
    i = ix_slot(m, key, ctx);
    prev = m->slots[i];
    if (prev == HASHMAP_NONE)
        m->count++;
    m->slots[i] = value;
    return prev;
}

uint32_t uuidix_get(const struct uuidix *m, const struct uuid *key,
                    const void *ctx)
{
    if (!m->slots_nr)
        return HASHMAP_NONE;
    return m->slots[ix_slot(m, key, ctx)];
}

void uuidix_release(struct uuidix *m)
{
    uuidix_key_fn *key_of = m->key_of;

    free(m->slots);
    memset(m, 0, sizeof(*m));
    m->key_of = key_of;
}

/*
 * The keyed maps (uuidmap, u64map) differ only in the key: its parameter
 * type, hash, equality against a stored key, how a parameter is stored, and
 * how a stored key is passed back as a parameter. One definition serves both
 * so the probe, growth and put logic exist once.
 */
#define DEFINE_KEYED_MAP(map, key_param, HASH, EQ, STORE, PASS)                \
    static size_t map##_slot(const struct map *m, key_param key)               \
    {                                                                          \
        size_t mask = m->slots_nr - 1, i = (size_t)HASH(key) & mask;           \
                                                                               \
        while (m->slots[i].value != HASHMAP_NONE && !EQ(m->slots[i].key, key)) \
            i = (i + 1) & mask;                                                \
        return i;                                                              \
    }                                                                          \
                                                                               \
    static void map##_grow(struct map *m)                                      \
    {                                                                          \
        struct map##_slot *old = m->slots;                                     \
        size_t old_nr = m->slots_nr, i;                                        \
                                                                               \
        m->slots_nr = old_nr ? old_nr * 2 : 64;                                \
        m->slots = xmalloc(st_mult(m->slots_nr, sizeof(*m->slots)));           \
        for (i = 0; i < m->slots_nr; i++)                                      \
            m->slots[i].value = HASHMAP_NONE;                                  \
        for (i = 0; i < old_nr; i++)                                           \
            if (old[i].value != HASHMAP_NONE)                                  \
                m->slots[map##_slot(m, PASS(old[i].key))] = old[i];            \
        free(old);                                                             \
    }                                                                          \
                                                                               \
    uint32_t map##_put(struct map *m, key_param key, uint32_t value)           \
    {                                                                          \
        size_t i;                                                              \
        uint32_t prev;                                                         \
                                                                               \
        if (value == HASHMAP_NONE)                                             \
            BUG(#map " value HASHMAP_NONE is reserved");                       \
        if ((m->count + 1) * 2 > m->slots_nr)                                  \
            map##_grow(m);                                                     \
        i = map##_slot(m, key);                                                \
        prev = m->slots[i].value;                                              \
        if (prev == HASHMAP_NONE)                                              \
            m->count++;                                                        \
        m->slots[i].key = STORE(key);                                          \
        m->slots[i].value = value;                                             \
        return prev;                                                           \
    }                                                                          \
                                                                               \
    uint32_t map##_get(const struct map *m, key_param key)                     \
    {                                                                          \
        if (!m->slots_nr)                                                      \
            return HASHMAP_NONE;                                               \
        return m->slots[map##_slot(m, key)].value;                             \
    }                                                                          \
                                                                               \
    void map##_release(struct map *m)                                          \
    {                                                                          \
        free(m->slots);                                                        \
        memset(m, 0, sizeof(*m));                                              \
    }

#define UUID_EQ(stored, key) uuid_eq(&(stored), (key))
#define UUID_STORE(key)      (*(key))
#define UUID_PASS(stored)    (&(stored))
#define U64_EQ(stored, key)  ((stored) == (key))
#define U64_KEY(key)         (key)

DEFINE_KEYED_MAP(uuidmap, const struct uuid *, uuid_hash, UUID_EQ, UUID_STORE,
                 UUID_PASS)
DEFINE_KEYED_MAP(u64map, uint64_t, mix64, U64_EQ, U64_KEY, U64_KEY)
