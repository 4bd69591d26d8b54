/*
 * tzif.h: one IANA time zone as data, read once from the system's tz
 * database (/usr/share/zoneinfo, the TZif format of tzfile(5)), then asked
 * questions without touching the process: no TZ, no tzset(), no file.
 *
 *     struct tzif z = TZIF_INIT;
 *
 *     if (tzif_load(&z, "Europe/Madrid", &err) < 0)
 *         return -1;
 *     off = tzif_offset_at(&z, t);          seconds east of UTC at t
 *     t = tzif_local_to_utc(&z, &civil);    wall-clock time -> UTC
 *     tzif_release(&z);
 *
 * The C library answers only for the zone in TZ (and reads the zone file
 * again whenever TZ changes); the only Debian C library that takes a zone
 * argument is ICU, which carries its own copy of the tz data (not the
 * system's that users name) and keeps process-wide caches.  A zone here is
 * a table of transitions plus the file's footer rule (a POSIX TZ string,
 * for instants after the last transition).
 */
#ifndef IA_TZIF_H
#define IA_TZIF_H

#include "core/buf.h"
#include "core/timeutil.h"

/* A POSIX TZ "M/J/n" rule date and its time of day (s, may exceed 24 h). */
struct tzif_when {
    char kind; /* 'M' month.week.day, 'J' Julian 1..365, 'n' 0..365 */
    int month, week, wday, yday;
    int32_t secs;
};

struct tzif {
    char *name;
    int64_t *at;  /* transition instants, s UTC, ascending */
    int32_t *off; /* the offset (s east of UTC) from at[i] on */
    size_t nr;
    int32_t off0; /* before the first transition */
    /* after the last transition: std_off, or the DST rule when has_dst */
    bool has_rule, has_dst;
    int32_t std_off, dst_off;
    struct tzif_when start, end;
};

#define TZIF_INIT                                                              \
    {                                                                          \
        0                                                                      \
    }

/*
 * Reads zone `name` from /usr/share/zoneinfo ("UTC" and "Etc/UTC" need no
 * file).  Names with "..", a leading '/' or naming a directory are
 * refused.  0, or -1 with err.
 */
int tzif_load(struct tzif *z, const char *name, struct buf *err);
/* Decodes the TZif bytes data[0..len) of zone name.  0, or -1 with err. */
int tzif_parse(struct tzif *z, const char *name, const unsigned char *data,
               size_t len, struct buf *err);
void tzif_release(struct tzif *z);

/* Offset in seconds east of UTC in force at instant ms (ms UTC). */
int tzif_offset_at(const struct tzif *z, int64_t ms);
/*
 * The UTC instant (ms) of wall-clock time c: a time in a spring-forward
 * gap is read with the offset before the gap (it moves forward), an
 * ambiguous autumn time takes the first, daylight, occurrence.
 */
int64_t tzif_local_to_utc(const struct tzif *z, const struct civil *c);

#endif
