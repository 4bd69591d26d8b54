/*
 * test_progress.c: the live progress line says what it waits for.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "cli/progress.h"

static void test_progress_line_names_a_long_wait(void **state)
{
    struct progress p;
    struct buf line = BUF_INIT;

    (void)state;
    progress_init(&p, stderr, true, false);
    progress_phase(&p, "read", "library", 40, 1000);
    /* A short wait is not worth a word. */
    progress_update(&p, 3, 1, "GET /albums", PROGRESS_WAIT_SHOW_S - 1, 2000);
    progress_format(&p, 2000, &line);
    assert_string_equal(line.buf, "[read] library 3/40, 1 in flight, "
                                  "3.0/s, ETA 12s");
    buf_reset(&line);
    progress_update(&p, 3, 1, "GET /albums", 12, 14000);
    progress_format(&p, 14000, &line);
    assert_string_equal(line.buf, "[read] library 3/40, 1 in flight, "
                                  "0.2/s, ETA 160s, waiting for GET "
                                  "/albums (12 s)");
    /* A new phase starts without the old wait. */
    progress_phase(&p, "apply", "tag adds", 2, 15000);
    buf_reset(&line);
    progress_format(&p, 15000, &line);
    assert_string_equal(line.buf, "[apply] tag adds 0/2");
    progress_end(&p, 15000);
    progress_release(&p);
    buf_release(&line);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_progress_line_names_a_long_wait),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
