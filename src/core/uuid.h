/*
 * uuid.h: UUIDs held as 16 bytes.
 */
#ifndef IA_UUID_H
#define IA_UUID_H

#include "core/common.h"

struct uuid {
    uint8_t b[16];
};

#define UUID_STR_LEN 36

/* Parses the canonical 8-4-4-4-12 hex form (either case); 0 or -1. */
int uuid_parse(const char *s, size_t len, struct uuid *out);
/* Writes 36 lowercase characters and a NUL into out. */
void uuid_format(const struct uuid *u, char out[UUID_STR_LEN + 1]);
bool uuid_eq(const struct uuid *a, const struct uuid *b);
bool uuid_is_zero(const struct uuid *u);
int uuid_cmp(const struct uuid *a, const struct uuid *b);
uint64_t uuid_hash(const struct uuid *u);
/* A version-4 UUID from a splitmix64 state (deterministic for tests). */
void uuid_v4_from_state(uint64_t *state, struct uuid *out);
uint64_t splitmix64(uint64_t *state);

#endif
