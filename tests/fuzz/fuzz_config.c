/*
 * fuzz_config.c: libFuzzer target for the configuration loader.  The bytes
 * go to config_load_mem() as they are; success or failure both end with
 * everything freed, so ASan/UBSan/LSan see any slip.
 */
#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *cfg = NULL;
    struct buf err = BUF_INIT, warn = BUF_INIT, dump = BUF_INIT;

    if (config_load_mem("fuzz.yaml", (const char *)data, size, &cfg, &err,
                        &warn) == 0) {
        /* what loads must also dump and load again */
        struct config *again = NULL;

        config_write_yaml(cfg, true, &dump);
        if (config_load_mem("dump.yaml", dump.buf, dump.len, &again, &err,
                            NULL) < 0)
            BUG("dump of a loaded config does not load: %s", err.buf);
        config_free(again);
        config_free(cfg);
    }
    buf_release(&err);
    buf_release(&warn);
    buf_release(&dump);
    return 0;
}
