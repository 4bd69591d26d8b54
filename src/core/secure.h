/*
 * secure.h: keeping the API key out of places it has no business in.
 *
 * The key lives in few places, each wiped when freed: the configuration
 * (struct config.server.api_key, the one owner), the log's list of
 * secrets to mask (log_add_secret) and the HTTP engine's header list
 * ("x-api-key: ..."), which libcurl reads while it builds each request.
 * The process environment keeps IMMICH_API_KEY when the key came from
 * there (a --loop re-reads it).  A core dump would hold all of them, and
 * whatever libcurl freed without wiping: secure_process() forbids core
 * dumps for the whole life of the process.
 */
#ifndef IA_SECURE_H
#define IA_SECURE_H

#include "core/buf.h"

/*
 * Forbids core dumps (RLIMIT_CORE 0, soft and hard, so that no child
 * may raise it again) and makes the process non-dumpable (no core, no
 * ptrace attach or /proc/PID/mem for other processes of the user).  Call
 * first thing in main().  -1 with err if the kernel refused.
 */
int secure_process(struct buf *err);
/* Zeroes n bytes at p in a way the compiler may not drop. */
void secure_wipe(void *p, size_t n);
/* Wipes the string s and frees it; accepts NULL. */
void secure_free_str(char *s);

#endif
