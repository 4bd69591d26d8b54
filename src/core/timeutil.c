/*
 * timeutil.c: civil dates and ISO-8601 (zones are core/tzif.c).
 */
#include "core/timeutil.h"

#define MS_PER_DAY 86400000LL

int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

    return era * 146097 + doe - 719468;
}

void civil_from_days(int64_t z, int *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp, yy;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    yy = yoe + era * 400;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yy + (*m <= 2));
}

int64_t time_days(int64_t ms)
{
    int64_t d = ms / MS_PER_DAY;

    if (ms % MS_PER_DAY < 0)
        d--;
    return d;
}

void time_to_civil(int64_t ms, struct civil *c)
{
    int64_t days = time_days(ms), rem = ms - days * MS_PER_DAY;

    civil_from_days(days, &c->year, &c->month, &c->day);
    c->hour = (int)(rem / 3600000);
    c->minute = (int)(rem / 60000 % 60);
    c->second = (int)(rem / 1000 % 60);
    c->ms = (int)(rem % 1000);
}

int64_t civil_to_time(const struct civil *c)
{
    return days_from_civil(c->year, c->month, c->day) * MS_PER_DAY +
           (int64_t)c->hour * 3600000 + (int64_t)c->minute * 60000 +
           (int64_t)c->second * 1000 + c->ms;
}

bool civil_is_valid(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int max;

    if (m < 1 || m > 12 || d < 1)
        return false;
    max = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        max = 29;
    return d <= max;
}

static int digits(const char *s, size_t len, size_t *pos, int n, int *out)
{
    int v = 0, i;

    if (*pos + (size_t)n > len)
        return -1;
    for (i = 0; i < n; i++) {
        char c = s[*pos + (size_t)i];

        if (c < '0' || c > '9')
            return -1;
        v = v * 10 + (c - '0');
    }
    *pos += (size_t)n;
    *out = v;
    return 0;
}

static bool at(const char *s, size_t len, size_t pos, char c)
{
    return pos < len && s[pos] == c;
}

int time_parse_iso(const char *s, size_t len, int64_t *out, bool *had_zone)
{
    struct civil c = {0};
    size_t pos = 0;
    int64_t offset_ms = 0;
    bool zone = false;

    if (digits(s, len, &pos, 4, &c.year) || !at(s, len, pos++, '-') ||
        digits(s, len, &pos, 2, &c.month) || !at(s, len, pos++, '-') ||
        digits(s, len, &pos, 2, &c.day) ||
        !civil_is_valid(c.year, c.month, c.day))
        return -1;
    if (pos < len && (s[pos] == 'T' || s[pos] == 't' || s[pos] == ' ')) {
        pos++;
        if (digits(s, len, &pos, 2, &c.hour) || !at(s, len, pos++, ':') ||
            digits(s, len, &pos, 2, &c.minute))
            return -1;
        if (at(s, len, pos, ':')) {
            pos++;
            if (digits(s, len, &pos, 2, &c.second))
                return -1;
            if (at(s, len, pos, '.') || at(s, len, pos, ',')) {
                int scale = 100;

                pos++;
                if (pos >= len || s[pos] < '0' || s[pos] > '9')
                    return -1;
                while (pos < len && s[pos] >= '0' && s[pos] <= '9') {
                    c.ms += (s[pos] - '0') * scale;
                    scale /= 10;
                    pos++;
                }
            }
        }
        if (c.hour > 23 || c.minute > 59 || c.second > 60)
            return -1;
    }
    if (pos < len && (s[pos] == 'Z' || s[pos] == 'z')) {
        zone = true;
        pos++;
    } else if (pos < len && (s[pos] == '+' || s[pos] == '-')) {
        int sign = s[pos] == '-' ? -1 : 1, oh, om = 0;

        pos++;
        if (digits(s, len, &pos, 2, &oh))
            return -1;
        if (at(s, len, pos, ':'))
            pos++;
        if (pos < len && digits(s, len, &pos, 2, &om))
            return -1;
        if (oh > 23 || om > 59)
            return -1;
        offset_ms = sign * ((int64_t)oh * 3600000 + (int64_t)om * 60000);
        zone = true;
    }
    if (pos != len)
        return -1;
    *out = civil_to_time(&c) - offset_ms;
    if (had_zone)
        *had_zone = zone;
    return 0;
}

void time_format_iso(int64_t ms, char out[32])
{
    struct civil c;

    time_to_civil(ms, &c);
    snprintf(out, 32, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month,
             c.day, c.hour, c.minute, c.second, c.ms);
}

void time_format_date(int64_t ms, char out[16])
{
    struct civil c;

    time_to_civil(ms, &c);
    snprintf(out, 16, "%04d-%02d-%02d", c.year, c.month, c.day);
}
