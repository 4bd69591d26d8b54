/*
 * log.c: leveled, redacting, escaping diagnostics on stderr.
 */
#include "core/log.h"

#include <time.h>

#include "core/escape.h"
#include "core/secure.h"

enum log_level log_level_current = LOG_INFO;
unsigned log_trace_current;
static enum log_format log_format_current = LOG_FORMAT_TEXT;
static FILE *log_tee;
static char **secrets;
static size_t secrets_nr, secrets_alloc;

static const char *const level_names[] = {"quiet", "error",   "warning",
                                          "info",  "verbose", "debug"};

void log_set_level(enum log_level level)
{
    log_level_current = level;
}

void log_set_trace(unsigned areas)
{
    log_trace_current = areas;
}

void log_set_format(enum log_format fmt)
{
    log_format_current = fmt;
}

void log_set_tee(FILE *f)
{
    log_tee = f;
}

void log_add_secret(const char *s)
{
    if (!s || strlen(s) < 4)
        return; /* masking tiny strings would shred ordinary text */
    /* Once each: --loop registers the key again at every iteration. */
    for (size_t i = 0; i < secrets_nr; i++)
        if (!strcmp(secrets[i], s))
            return;
    ALLOC_GROW(secrets, secrets_nr + 1, secrets_alloc);
    secrets[secrets_nr++] = xstrdup(s);
}

void log_release(void)
{
    size_t i;

    for (i = 0; i < secrets_nr; i++)
        secure_free_str(secrets[i]);
    free(secrets);
    secrets = NULL;
    secrets_nr = secrets_alloc = 0;
}

/*
 * The earliest place at or after p where a secret starts, NULL when
 * none does; *len is that secret's length.  At one place the secret
 * registered first wins.  A search per secret (strstr) rather than a
 * comparison per byte: reports of hundreds of megabytes pass here.
 */
static const char *next_secret(const char *p, size_t *len)
{
    const char *best = NULL;
    size_t i;

    for (i = 0; i < secrets_nr; i++) {
        const char *q = strstr(p, secrets[i]);

        if (q && (!best || q < best)) {
            best = q;
            *len = strlen(secrets[i]);
        }
    }
    return best;
}

void log_redact(struct buf *dst, const char *src)
{
    const char *p = src, *hit;
    size_t n = 0;

    while ((hit = next_secret(p, &n))) {
        buf_add(dst, p, (size_t)(hit - p));
        buf_addstr(dst, "***");
        p = hit + n;
    }
    buf_addstr(dst, p);
}

void log_vmsg(enum log_level level, const char *fmt, va_list ap)
{
    struct buf raw = BUF_INIT, line = BUF_INIT;
    const char *name = level_names[level < LOG_DEBUG ? level : LOG_DEBUG];

    buf_vaddf(&raw, fmt, ap);
    if (log_format_current == LOG_FORMAT_JSON) {
        struct buf red = BUF_INIT;
        struct timespec ts;

        log_redact(&red, raw.buf);
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        buf_addf(&line, "{\"ts\":%lld.%03ld,\"level\":\"%s\",\"msg\":",
                 (long long)ts.tv_sec, ts.tv_nsec / 1000000, name);
        buf_add_json_str(&line, red.buf, red.len);
        buf_addstr(&line, "}\n");
        buf_release(&red);
    } else {
        if (level == LOG_ERROR)
            buf_addstr(&line, "error: ");
        else if (level == LOG_WARN)
            buf_addstr(&line, "warning: ");
        struct buf red = BUF_INIT;

        /* One message, one line: a name from the server cannot start a
         * line of its own nor drive the terminal. */
        log_redact(&red, raw.buf);
        escape_text(&line, red.buf, red.len, NULL);
        buf_addch(&line, '\n');
        buf_release(&red);
    }
    fputs(line.buf, stderr);
    if (log_tee)
        fputs(line.buf, log_tee);
    buf_release(&raw);
    buf_release(&line);
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    log_vmsg(level, fmt, ap);
    va_end(ap);
}
