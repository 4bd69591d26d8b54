/*
 * numparse.c: strict decimal parsing.
 */
#include "core/numparse.h"

#include <errno.h>
#include <math.h>

int num_parse_i64(const char *s, size_t len, int64_t min, int64_t max,
                  int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    uint64_t v = 0, lim;

    if (!len)
        return -1;
    if (s[0] == '+' || s[0] == '-') {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len)
        return -1;
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < len; i++) {
        unsigned d;

        if (s[i] < '0' || s[i] > '9')
            return -1;
        d = (unsigned)(s[i] - '0');
        if (v > (lim - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    {
        int64_t r =
            neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v)
                : (int64_t)v;

        if (r < min || r > max)
            return -1;
        *out = r;
    }
    return 0;
}

int num_parse_double(const char *s, size_t len, double *out)
{
    char tmp[64], *end;
    double d;

    if (!len || len >= sizeof(tmp))
        return -1;
    memcpy(tmp, s, len);
    tmp[len] = '\0';
    errno = 0;
    d = strtod(tmp, &end);
    if (errno || *end || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}
