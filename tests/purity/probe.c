/*
 * probe.c: one #include, compiled with a library's include flags by
 * tests/purity/purity.cmake: PROBE_HEADER must resolve for the library's
 * own header and must not for a module of a layer it may not use.
 */
#include "core/common.h"

#include PROBE_HEADER

int purity_probe(void);

int purity_probe(void)
{
    return 0;
}
