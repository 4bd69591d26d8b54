/*
 * numparse.h: the one checked number parser (atoi and friends are banned).
 */
#ifndef IA_NUMPARSE_H
#define IA_NUMPARSE_H

#include "core/common.h"

/*
 * Parses the whole of s[0..len) as a decimal integer (optional sign) within
 * [min, max].  Returns 0, or -1 on empty input, junk, or out of range.
 */
int num_parse_i64(const char *s, size_t len, int64_t min, int64_t max,
                  int64_t *out);
/* Parses a finite decimal floating-point number (whole string). */
int num_parse_double(const char *s, size_t len, double *out);

#endif
