/*
 * timeutil.h: instants as int64_t milliseconds since the Unix epoch (UTC),
 * ISO-8601 parsing and formatting, and civil-date arithmetic.
 *
 * The civil conversions are pure arithmetic (Howard Hinnant's algorithms)
 * and work for any proleptic Gregorian date, so nothing here touches the
 * process's TZ.  Time-zone conversions (IANA names) are in core/tzif.h:
 * a zone read once into a table, then asked without touching the process.
 */
#ifndef IA_TIMEUTIL_H
#define IA_TIMEUTIL_H

#include "core/common.h"

#define TIME_NONE INT64_MIN /* "no date" */

struct civil {
    int year, month, day;     /* month 1..12, day 1..31 */
    int hour, minute, second; /* 0..23, 0..59, 0..60 */
    int ms;                   /* 0..999 */
};

/* Days since 1970-01-01 of a civil date (may be negative). */
int64_t days_from_civil(int y, int m, int d);
void civil_from_days(int64_t days, int *y, int *m, int *d);
/* Floor division of ms into days and the civil fields of an instant. */
int64_t time_days(int64_t ms);
void time_to_civil(int64_t ms, struct civil *c);
int64_t civil_to_time(const struct civil *c);
bool civil_is_valid(int y, int m, int d);

/*
 * Parses "YYYY-MM-DD[THH:MM[:SS[.fff...]]][Z|+HH:MM|-HH:MM|+HHMM]" into ms
 * UTC.  A string without a zone is read as UTC and *had_zone (if not NULL)
 * is set to false.  Returns 0 or -1.
 */
int time_parse_iso(const char *s, size_t len, int64_t *out, bool *had_zone);
/* "2024-06-15T13:14:02.251Z" (24 characters + NUL). */
void time_format_iso(int64_t ms, char out[32]);
/* "2024-06-15" */
void time_format_date(int64_t ms, char out[16]);

/*
 * A one-off question: the offset in seconds east of UTC of IANA zone
 * `zone` at instant ms.  It reads the zone file on every call
 * (core/tzif.c) and touches no process state; code that asks often loads
 * a struct tzif once instead.  0, or -1 when the zone is unknown.
 */
int tz_offset_at(const char *zone, int64_t ms, int *offset_s);

#endif
