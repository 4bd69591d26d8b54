/*
 * uuid.c: parse, format, compare and mint 16-byte UUIDs.
 */
#include "core/uuid.h"

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int uuid_parse(const char *s, size_t len, struct uuid *out)
{
    size_t i, j = 0;

    if (len != UUID_STR_LEN)
        return -1;
    for (i = 0; i < UUID_STR_LEN;) {
        int hi, lo;

        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        hi = hexval(s[i]);
        lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out->b[j++] = (uint8_t)(hi << 4 | lo);
        i += 2;
    }
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
