/*
 * tzif.c: IANA zones read from TZif files (tzfile(5), RFC 8536) into a
 * transition table; offsets and local-time conversions computed from it.
 */
#include "core/tzif.h"

#include "core/fsutil.h"
#include "core/xalloc.h"

#define TZIF_DIR      "/usr/share/zoneinfo"
#define TZIF_MAX_FILE (1 << 20)
#define DAY_S         86400

/* ---- reading the file ---------------------------------------------------- */

struct rd {
    const unsigned char *p, *end;
};

static bool need(const struct rd *r, size_t n)
{
    return (size_t)(r->end - r->p) >= n;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct counts {
    uint32_t isut, isstd, leap, time, type, chars;
};

static bool header(struct rd *r, char *version, struct counts *c)
{
    if (!need(r, 44) || memcmp(r->p, "TZif", 4))
        return false;
    *version = (char)r->p[4];
    c->isut = be32(r->p + 20);
    c->isstd = be32(r->p + 24);
    c->leap = be32(r->p + 28);
    c->time = be32(r->p + 32);
    c->type = be32(r->p + 36);
    c->chars = be32(r->p + 40);
    r->p += 44;
    /* RFC 8536: at least one type; a file this large is not a zone */
    return c->type >= 1 && c->type <= 256 && c->time <= TZIF_MAX_FILE &&
           c->leap <= TZIF_MAX_FILE && c->chars <= TZIF_MAX_FILE &&
           c->isut <= c->type && c->isstd <= c->type;
}

static size_t block_size(const struct counts *c, size_t tsize)
{
    return c->time * tsize + c->time + c->type * 6 + c->chars +
           c->leap * (tsize + 4) + c->isstd + c->isut;
}

/* The data block after a header: transitions and their offsets. */
static bool block(struct tzif *z, struct rd *r, const struct counts *c,
                  size_t tsize)
{
    const unsigned char *times = r->p, *idx = times + c->time * tsize;
    const unsigned char *types = idx + c->time;
    size_t i;

    if (!need(r, block_size(c, tsize)))
        return false;
    z->nr = c->time;
    z->at = xcalloc(z->nr ? z->nr : 1, sizeof(*z->at));
    z->off = xcalloc(z->nr ? z->nr : 1, sizeof(*z->off));
    for (i = 0; i < c->time; i++) {
        z->at[i] =
            tsize == 8 ? be64(times + 8 * i) : (int32_t)be32(times + 4 * i);
        if (idx[i] >= c->type || (i && z->at[i] <= z->at[i - 1]))
            return false;
        z->off[i] = (int32_t)be32(types + 6 * idx[i]);
    }
    /* RFC 8536 3.2: type 0 holds before the first transition */
    z->off0 = (int32_t)be32(types);
    r->p += block_size(c, tsize);
    return true;
}

/* ---- the footer: a POSIX TZ string (tzfile(5), RFC 8536 3.3) ---------- */

static bool tz_name(const char **s)
{
    const char *p = *s;

    if (*p == '<') {
        while (*p && *p != '>')
            p++;
        if (*p != '>')
            return false;
        *s = p + 1;
        return true;
    }
    while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z'))
        p++;
    if (p - *s < 3)
        return false;
    *s = p;
    return true;
}

static bool tz_num(const char **s, int max, int *out)
{
    int v = 0;

    if (**s < '0' || **s > '9')
        return false;
    while (**s >= '0' && **s <= '9') {
        v = v * 10 + (*(*s)++ - '0');
        if (v > max)
            return false;
    }
    *out = v;
    return true;
}

/* [+-]hh[:mm[:ss]] in seconds (hours up to 167, tzfile(5)'s extension). */
static bool tz_secs(const char **s, int32_t *out)
{
    int sign = 1, h, m = 0, sec = 0;

    if (**s == '+' || **s == '-')
        sign = *(*s)++ == '-' ? -1 : 1;
    if (!tz_num(s, 167, &h))
        return false;
    if (**s == ':') {
        (*s)++;
        if (!tz_num(s, 59, &m))
            return false;
        if (**s == ':') {
            (*s)++;
            if (!tz_num(s, 59, &sec))
                return false;
        }
    }
    *out = sign * (h * 3600 + m * 60 + sec);
    return true;
}

static bool tz_when(const char **s, struct tzif_when *w)
{
    w->secs = 2 * 3600;
    if (**s == 'M') {
        (*s)++;
        w->kind = 'M';
        if (!tz_num(s, 12, &w->month) || w->month < 1 || *(*s)++ != '.' ||
            !tz_num(s, 5, &w->week) || w->week < 1 || *(*s)++ != '.' ||
            !tz_num(s, 6, &w->wday))
            return false;
    } else if (**s == 'J') {
        (*s)++;
        w->kind = 'J';
        if (!tz_num(s, 365, &w->yday) || w->yday < 1)
            return false;
    } else {
        w->kind = 'n';
        if (!tz_num(s, 365, &w->yday))
            return false;
    }
    if (**s == '/') {
        (*s)++;
        return tz_secs(s, &w->secs);
    }
    return true;
}

/*
 * "CET-1CEST,M3.5.0,M10.5.0/3": offsets are west of UTC in the string.
 * A footer without a rule after its DST name (POSIX's implementation-
 * defined default) is not used: the last transition's offset holds.
 */
static void footer(struct tzif *z, const char *s)
{
    int32_t v;

    if (!tz_name(&s) || !tz_secs(&s, &v))
        return;
    z->std_off = -v;
    z->dst_off = z->std_off + 3600;
    if (!*s) {
        z->has_rule = true;
        return;
    }
    if (!tz_name(&s))
        return;
    if (*s != ',') {
        if (!tz_secs(&s, &v))
            return;
        z->dst_off = -v;
    }
    if (*s++ != ',' || !tz_when(&s, &z->start) || *s++ != ',' ||
        !tz_when(&s, &z->end) || *s)
        return;
    z->has_rule = z->has_dst = true;
}

int tzif_parse(struct tzif *z, const char *name, const unsigned char *data,
               size_t len, struct buf *err)
{
    struct rd r = {data, data + len};
    struct counts c;
    char version;

    memset(z, 0, sizeof(*z));
    z->name = xstrdup(name);
    if (!header(&r, &version, &c))
        goto bad;
    if (version == '\0') {
        if (!block(z, &r, &c, 4))
            goto bad;
        return 0;
    }
    /* version 2+: skip the 32-bit block, read the 64-bit one and the
     * footer */
    if (!need(&r, block_size(&c, 4)))
        goto bad;
    r.p += block_size(&c, 4);
    if (!header(&r, &version, &c) || !block(z, &r, &c, 8))
        goto bad;
    if (need(&r, 2) && r.p[0] == '\n') {
        const unsigned char *nl =
            memchr(r.p + 1, '\n', (size_t)(r.end - r.p - 1));
        char tz[128];

        if (nl && (size_t)(nl - r.p - 1) < sizeof(tz)) {
            memcpy(tz, r.p + 1, (size_t)(nl - r.p - 1));
            tz[nl - r.p - 1] = '\0';
            footer(z, tz);
        }
    }
    return 0;
bad:
    buf_addf(err, "time zone '%s': not a valid TZif file", name);
    tzif_release(z);
    return -1;
}

int tzif_load(struct tzif *z, const char *name, struct buf *err)
{
    struct buf path = BUF_INIT, data = BUF_INIT, ignored = BUF_INIT;
    int ret = -1;

    memset(z, 0, sizeof(*z));
    if (!name || !*name || name[0] == '/' || strstr(name, "..")) {
        buf_addf(err, "unknown time zone '%s'", name ? name : "");
        goto out;
    }
    if (!strcmp(name, "UTC") || !strcmp(name, "Etc/UTC")) {
        z->name = xstrdup(name);
        z->has_rule = true;
        ret = 0;
        goto out;
    }
    buf_addf(&path, "%s/%s", TZIF_DIR, name);
    if (fs_is_dir(path.buf) ||
        fs_read_file(path.buf, TZIF_MAX_FILE, &data, &ignored) < 0) {
        buf_addf(err, "unknown time zone '%s'", name);
        goto out;
    }
    ret = tzif_parse(z, name, (const unsigned char *)data.buf, data.len, err);
out:
    buf_release(&path);
    buf_release(&data);
    buf_release(&ignored);
    return ret;
}

void tzif_release(struct tzif *z)
{
    if (!z)
        return;
    free(z->name);
    free(z->at);
    free(z->off);
    memset(z, 0, sizeof(*z));
}

/* ---- questions ----------------------------------------------------------- */

static bool is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* The local instant (s) a rule date names in year y. */
static int64_t when_local(const struct tzif_when *w, int y)
{
    int64_t jan1 = days_from_civil(y, 1, 1), day;

    if (w->kind == 'J') {
        day = jan1 + w->yday - 1 + (is_leap(y) && w->yday >= 60);
    } else if (w->kind == 'n') {
        day = jan1 + w->yday;
    } else {
        static const int mdays[] = {31, 28, 31, 30, 31, 30,
                                    31, 31, 30, 31, 30, 31};
        int64_t first = days_from_civil(y, w->month, 1);
        int dow = (int)(((first + 4) % 7 + 7) % 7); /* 1970-01-01: Thu */
        int last = mdays[w->month - 1] + (w->month == 2 && is_leap(y));
        int d = 1 + (w->wday - dow + 7) % 7 + (w->week - 1) * 7;

        while (d > last)
            d -= 7;
        day = first + d - 1;
    }
    return day * DAY_S + w->secs;
}

static int32_t rule_offset(const struct tzif *z, int64_t t)
{
    int y, m, d;
    int64_t s, e;

    if (!z->has_dst)
        return z->std_off;
    civil_from_days((t + z->std_off) / DAY_S - ((t + z->std_off) % DAY_S < 0),
                    &y, &m, &d);
    s = when_local(&z->start, y) - z->std_off;
    e = when_local(&z->end, y) - z->dst_off;
    if (s < e)
        return t >= s && t < e ? z->dst_off : z->std_off;
    return t >= e && t < s ? z->std_off : z->dst_off;
}

int tzif_offset_at(const struct tzif *z, int64_t ms)
{
    int64_t t = ms / 1000 - (ms % 1000 < 0);
    size_t lo = 0, hi = z->nr;

    if (!z->nr || t >= z->at[z->nr - 1]) {
        if (z->has_rule)
            return rule_offset(z, t);
        return z->nr ? z->off[z->nr - 1] : z->off0;
    }
    if (t < z->at[0])
        return z->off0;
    /* the last transition at or before t */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;

        if (z->at[mid] <= t)
            lo = mid;
        else
            hi = mid;
    }
    return z->off[lo];
}

int64_t tzif_local_to_utc(const struct tzif *z, const struct civil *c)
{
    int64_t local = civil_to_time(c), t;
    int before = tzif_offset_at(z, local - (int64_t)DAY_S * 1000);
    int after = tzif_offset_at(z, local + (int64_t)DAY_S * 1000);

    t = local - (int64_t)before * 1000;
    if (tzif_offset_at(z, t) == before)
        return t;
    t = local - (int64_t)after * 1000;
    if (tzif_offset_at(z, t) == after)
        return t;
    /* in a spring-forward gap: read with the offset in force before it */
    return local - (int64_t)before * 1000;
}

int tz_offset_at(const char *zone, int64_t ms, int *offset_s)
{
    struct tzif z;
    struct buf ignored = BUF_INIT;
    int ret = tzif_load(&z, zone, &ignored);

    if (!ret)
        *offset_s = tzif_offset_at(&z, ms);
    tzif_release(&z);
    buf_release(&ignored);
    return ret;
}
