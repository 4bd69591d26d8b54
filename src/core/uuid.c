/*
 * uuid.c: parse, format, compare and mint 16-byte UUIDs.
 */
#include "core/uuid.h"

/* A hex digit's value plus one; 0 for any other byte. */
static const uint8_t hexv[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,
    ['6'] = 7,  ['7'] = 8,  ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12,
    ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16, ['A'] = 11, ['B'] = 12,
    ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Where each byte's two digits start in the 36-character form. */
static const uint8_t digit_at[16] = {0,  2,  4,  6,  9,  11, 14, 16,
                                     19, 21, 24, 26, 28, 30, 32, 34};

/* By table, no branch per digit: every asset of every search page has two
 * or three UUIDs (a million-asset library reads ~3 million). */
int uuid_parse(const char *s, size_t len, struct uuid *out)
{
    const unsigned char *u = (const unsigned char *)s;
    struct uuid v;
    unsigned bad;

    if (len != UUID_STR_LEN || u[8] != '-' || u[13] != '-' || u[18] != '-' ||
        u[23] != '-')
        return -1;
    bad = 0;
    for (size_t j = 0; j < 16; j++) {
        unsigned hi = hexv[u[digit_at[j]]], lo = hexv[u[digit_at[j] + 1]];

        bad |= !hi | !lo;
        v.b[j] = (uint8_t)((hi - 1) << 4 | (lo - 1));
    }
    if (bad)
        return -1;
    *out = v;
    return 0;
}

void uuid_format(const struct uuid *u, char out[UUID_STR_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    size_t i, o = 0;

    for (i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[u->b[i] >> 4];
        out[o++] = hex[u->b[i] & 15];
    }
    out[o] = '\0';
}

bool uuid_eq(const struct uuid *a, const struct uuid *b)
{
    return !memcmp(a->b, b->b, 16);
}

bool uuid_is_zero(const struct uuid *u)
{
    static const struct uuid zero;

    return uuid_eq(u, &zero);
}

int uuid_cmp(const struct uuid *a, const struct uuid *b)
{
    return memcmp(a->b, b->b, 16);
}

uint64_t uuid_hash(const struct uuid *u)
{
    uint64_t a, b;

    memcpy(&a, u->b, 8);
    memcpy(&b, u->b + 8, 8);
    a ^= b * 0x9e3779b97f4a7c15ULL;
    a ^= a >> 31;
    a *= 0xbf58476d1ce4e5b9ULL;
    return a ^ (a >> 29);
}

uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void uuid_v4_from_state(uint64_t *state, struct uuid *out)
{
    uint64_t a = splitmix64(state), b = splitmix64(state);

    memcpy(out->b, &a, 8);
    memcpy(out->b + 8, &b, 8);
    out->b[6] = (uint8_t)((out->b[6] & 0x0f) | 0x40);
    out->b[8] = (uint8_t)((out->b[8] & 0x3f) | 0x80);
}
