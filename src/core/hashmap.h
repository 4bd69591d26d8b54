/*
 * hashmap.h: maps from UUIDs and from 64-bit keys to uint32_t indexes.
 *
 * The model refers to records by uint32_t index; these maps find the index
 * of a record from its UUID (or any other 64-bit key) in one probe on
 * average.  Open addressing, linear probing, at most half full.  Keys can be
 * inserted and looked up, not removed.
 */
#ifndef IA_HASHMAP_H
#define IA_HASHMAP_H

#include "core/uuid.h"

#define HASHMAP_NONE UINT32_MAX

struct uuidmap {
    struct uuidmap_slot {
        struct uuid key;
        uint32_t value; /* HASHMAP_NONE = empty slot */
    } * slots;
    size_t slots_nr; /* power of two or 0 */
    size_t count;
};

#define UUIDMAP_INIT                                                           \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

/* Sets key -> value; returns the previous value or HASHMAP_NONE. */
uint32_t uuidmap_put(struct uuidmap *m, const struct uuid *key, uint32_t value);
/* The value of key or HASHMAP_NONE. */
uint32_t uuidmap_get(const struct uuidmap *m, const struct uuid *key);
void uuidmap_release(struct uuidmap *m);

/*
 * A UUID index that stores only the value: the key of a slot is read back
 * from the record it names through key_of(ctx, value), so a slot costs 4
 * bytes instead of the 20 of a uuidmap slot (the model's asset index:
 * 8 MiB instead of 42 MiB for a million assets).  For tables whose
 * records already hold their UUID.  Each call passes the ctx key_of reads.
 */
typedef const struct uuid *uuidix_key_fn(const void *ctx, uint32_t value);

struct uuidix {
    uint32_t *slots; /* values, HASHMAP_NONE = empty */
    size_t slots_nr; /* power of two or 0 */
    size_t count;
    uuidix_key_fn *key_of;
};

#define UUIDIX_INIT(key_of)                                                    \
    {                                                                          \
        NULL, 0, 0, key_of                                                     \
    }

/* Sets key -> value (key_of(ctx, value) must be key); returns the
 * previous value or HASHMAP_NONE. */
uint32_t uuidix_put(struct uuidix *m, const struct uuid *key, uint32_t value,
                    const void *ctx);
uint32_t uuidix_get(const struct uuidix *m, const struct uuid *key,
                    const void *ctx);
void uuidix_release(struct uuidix *m);

struct u64map {
    struct u64map_slot {
        uint64_t key;
        uint32_t value; /* HASHMAP_NONE = empty slot */
    } * slots;
    size_t slots_nr;
    size_t count;
};

#define U64MAP_INIT                                                            \
    {                                                                          \
        NULL, 0, 0                                                             \
    }

uint32_t u64map_put(struct u64map *m, uint64_t key, uint32_t value);
uint32_t u64map_get(const struct u64map *m, uint64_t key);
void u64map_release(struct u64map *m);

#endif
