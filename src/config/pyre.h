/*
 * pyre.h: Python `re` patterns, compiled by PCRE2 with Python's meaning.
 *
 * Users write the regexes of an immich-autotag configuration for Python's
 * `re` module (3.11, the version Debian's python3 ships).  PCRE2 reads
 * much of that syntax but gives some of it another meaning: `{,4}` is
 * literal text to PCRE2 10.42, `\Z` allows a final newline, `[[:digit:]]`
 * is a POSIX class, `\uXXXX`, `\N{NAME}`, `(?a)` and `(?P=name)` differ or
 * are refused, `\s` and `\b` are other sets.  pyre parses the pattern with
 * Python's grammar (sre_parse) and writes an equivalent PCRE2 pattern in
 * which every construct is explicit: classes spelled out, anchors as
 * lookarounds, flags applied by the translator, so no PCRE2 option or
 * version default changes what it matches.
 *
 * What Python refuses is refused with Python's message and position
 * ("bad escape \q at position 3").  What Python accepts but PCRE2 cannot
 * express is refused with the reason (a repeat count above 65,535).
 *
 *     struct buf err = BUF_INIT;
 *     pcre2_code *re = pyre_compile("(?i)été{,2}", PYRE_SEARCH, &err);
 *     if (!re)
 *         puts(err.buf);
 *
 * Capture groups keep Python's numbers (the translator adds only
 * non-capturing groups), so group spans can be compared one to one.
 */
#ifndef IA_PYRE_H
#define IA_PYRE_H

#include "core/common.h"

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "core/buf.h"

enum pyre_flags {
    PYRE_IGNORECASE = 1u << 0, /* re.IGNORECASE passed by the caller */
    PYRE_MATCH = 1u << 1,      /* re.match: anchored at the start */
};

/*
 * Translates the Python pattern (UTF-8, len bytes) into PCRE2 syntax,
 * appended to out.  Returns 0, or -1 with one line in err (Python's
 * message and the position in code points, or why PCRE2 cannot do it).
 */
int pyre_translate(const char *pattern, size_t len, unsigned flags,
                   struct buf *out, struct buf *err);

/*
 * Translates and compiles (UTF and Unicode properties on, JIT where the
 * system allows it).  Returns the code, to free with pcre2_code_free(),
 * or NULL with the reason in err.
 */
pcre2_code *pyre_compile(const char *pattern, unsigned flags, struct buf *err);

#endif
