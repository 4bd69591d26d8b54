/*
 * escape.h: text from the library made safe for a terminal or a text
 * file.
 *
 * Album, tag, user and file names come from the server: anyone an album
 * is shared with can name it.  Written raw, a newline in a name forges a
 * line of the modification report ("... | kind=DELETE_ALBUM") and an
 * escape sequence rewrites the screen of whoever reads the log.  Every
 * text output (text reports, log lines, the printed plan) passes such
 * strings through escape_text(); JSON outputs escape through their own
 * encoder (buf_add_json_str, jansson).
 *
 * What is escaped: C0 controls and DEL ("\n", "\r", "\t", else "\xNN"),
 * C1 controls written in UTF-8 ("\u0080".."\u009f": U+009B is a CSI on
 * some terminals) and bytes that are not well-formed UTF-8 ("\xNN": a
 * lone 0x9b is a CSI on a Latin-1 terminal).  Everything else, including
 * a backslash, is copied: the result is for reading, not for decoding
 * back, unless the caller asks for the backslash to be escaped too.  The
 * escapes are valid in a YAML double-quoted scalar.
 */
#ifndef IA_ESCAPE_H
#define IA_ESCAPE_H

#include "core/buf.h"

/*
 * Appends s[0..len) to dst with the bytes above escaped; each character
 * of `also` (may be NULL), e.g. "\"\\" inside double quotes, gets a
 * backslash in front of it.
 */
void escape_text(struct buf *dst, const char *s, size_t len, const char *also);

#endif
