/*
 * secure.c: no core dumps, and wiping secrets before their memory goes
 * back to the allocator (see secure.h).
 */
#include "core/secure.h"

#include <errno.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

int secure_process(struct buf *err)
{
    struct rlimit none = {0, 0};

    if (setrlimit(RLIMIT_CORE, &none) < 0) {
        buf_addf(err, "cannot disable core dumps: %s", strerror(errno));
        return -1;
    }
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) {
        buf_addf(err, "cannot make the process non-dumpable: %s",
                 strerror(errno));
        return -1;
    }
    return 0;
}

void secure_wipe(void *p, size_t n)
{
    if (p && n)
        explicit_bzero(p, n);
}

void secure_free_str(char *s)
{
    if (!s)
        return;
    secure_wipe(s, strlen(s));
    free(s);
}
