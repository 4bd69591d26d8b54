/*
 * config_testlib.h: a configuration from YAML text, for the unit tests
 * that need one (the rules', the snapshot's).  Header-only, like
 * rules_testlib.h; include <cmocka.h> first.
 */
#ifndef IA_CONFIG_TESTLIB_H
#define IA_CONFIG_TESTLIB_H

#include <string.h>

#include "config/config.h"
#include "core/buf.h"

/* Loads a configuration from text; fails the test with the message. */
static inline struct config *cfg_load(const char *text)
{
    struct config *cfg = NULL;
    struct buf err = BUF_INIT;

    if (config_load_mem("test.yaml", text, strlen(text), &cfg, &err, NULL) < 0)
        fail_msg("test config does not load: %s", err.buf);
    buf_release(&err);
    return cfg;
}

#endif
