/*
 * fuzz_page.c: the streaming search-page decoder (src/api/api_page.c)
 * under libFuzzer: any bytes either decode into assets whose strings are
 * NUL-terminated where the decoder says they end, or fail with a message;
 * never a crash, a leak or undefined behaviour.
 */
#include "api/api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_page(void *ctx, const struct api_status *st,
                    const struct api_asset *assets, size_t nr, long next_page)
{
    (void)ctx;
    (void)next_page;
    if (!st->ok && (!st->error || !*st->error))
        __builtin_trap(); /* a failure always says why */
    for (size_t i = 0; i < nr; i++)
        if (assets[i].file_name[assets[i].file_name_len] != '\0' ||
            assets[i].path[assets[i].path_len] != '\0')
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err = BUF_INIT;

    (void)api_decode_search_page((const char *)data, size, on_page, NULL, &err);
    buf_release(&err);
    return 0;
}
