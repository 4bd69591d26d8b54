/*
 * procstat.c: the peak resident memory of this process (see procstat.h).
 */
#include "core/procstat.h"

#include <sys/resource.h>

#include "core/buf.h"
#include "core/fsutil.h"
#include "core/numparse.h"

long procstat_peak_rss_kb(void)
{
    struct buf text = BUF_INIT, ignored = BUF_INIT;
    struct rusage ru;
    const char *p, *end;
    int64_t kb = 0;

    if (fs_read_file("/proc/self/status", 1 << 16, &text, &ignored) == 0 &&
        (p = strstr(text.buf, "\nVmHWM:"))) {
        /* "VmHWM:\t   36140 kB" */
        for (p += strlen("\nVmHWM:"); *p == ' ' || *p == '\t'; p++)
            ;
        for (end = p; *end >= '0' && *end <= '9'; end++)
            ;
        if (num_parse_i64(p, (size_t)(end - p), 0, INT64_MAX, &kb) < 0)
            kb = 0;
    }
    if (!kb && getrusage(RUSAGE_SELF, &ru) == 0)
        kb = ru.ru_maxrss;
    buf_release(&text);
    buf_release(&ignored);
    return (long)kb;
}
