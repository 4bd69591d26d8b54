/*
 * log.h: diagnostics on stderr (and optionally a tee file).
 *
 * stdout is reserved for what the user asked for; everything else goes
 * through these macros.  The level is tested before the arguments are
 * evaluated.  Registered secrets (the API key) are replaced by "***" in
 * every line written, whatever module produced it.
 *
 * Log settings are the one mutable global of the program besides the
 * signal flag.
 */
#ifndef IA_LOG_H
#define IA_LOG_H

#include <stdarg.h>

#include "core/buf.h"

enum log_level {
    LOG_QUIET = 0, /* nothing but errors */
    LOG_ERROR = 1,
    LOG_WARN = 2,
    LOG_INFO = 3,
    LOG_VERBOSE = 4,
    LOG_DEBUG = 5,
};

enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Trace areas, switched on by options (--api-trace): their lines are
 * written whatever the level (redacted like every line). */
enum log_trace { LOG_TRACE_API = 1u << 0 };

extern enum log_level log_level_current;
extern unsigned log_trace_current;

void log_set_level(enum log_level level);
void log_set_format(enum log_format fmt);
void log_set_trace(unsigned areas);
/* Also write every line to f (borrowed; NULL to stop). */
void log_set_tee(FILE *f);
/* Never print s: it is replaced by "***" wherever it appears.  Copied. */
void log_add_secret(const char *s);
/* Frees the registered secrets. */
void log_release(void);
/* Copies src into dst with every registered secret masked. */
void log_redact(struct buf *dst, const char *src);

void log_msg(enum log_level level, const char *fmt, ...) IA_PRINTF(2, 3);
void log_vmsg(enum log_level level, const char *fmt, va_list ap);

#define LOG_AT(lvl, ...)                                                       \
    do {                                                                       \
        if ((lvl) <= log_level_current)                                        \
            log_msg((lvl), __VA_ARGS__);                                       \
    } while (0)
#define trace_log(area, ...)                                                   \
    do {                                                                       \
        if (log_trace_current & (area))                                        \
            log_msg(LOG_INFO, __VA_ARGS__);                                    \
    } while (0)
#define error_log(...)   LOG_AT(LOG_ERROR, __VA_ARGS__)
#define warn_log(...)    LOG_AT(LOG_WARN, __VA_ARGS__)
#define info_log(...)    LOG_AT(LOG_INFO, __VA_ARGS__)
#define verbose_log(...) LOG_AT(LOG_VERBOSE, __VA_ARGS__)
#define debug_log(...)   LOG_AT(LOG_DEBUG, __VA_ARGS__)

#endif
