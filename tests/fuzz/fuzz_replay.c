/*
 * fuzz_replay.c: runs every file of the corpus directories given on the
 * command line through LLVMFuzzerTestOneInput(), so each test run replays
 * the corpora without libFuzzer (gcc builds this too).
 */
#include "core/fsutil.h"

#include <dirent.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int main(int argc, char **argv)
{
    size_t files = 0;
    int i;

    for (i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        struct dirent *e;

        if (!d) {
            fprintf(stderr, "fuzz_replay: cannot open '%s'\n", argv[i]);
            return 1;
        }
        while ((e = readdir(d)) != NULL) {
            struct buf path = BUF_INIT, data = BUF_INIT, err = BUF_INIT;

            if (e->d_name[0] == '.')
                continue;
            buf_addf(&path, "%s/%s", argv[i], e->d_name);
            if (fs_read_file(path.buf, 64u << 20, &data, &err) < 0) {
                fprintf(stderr, "fuzz_replay: %s\n", err.buf);
                return 1;
            }
            (void)LLVMFuzzerTestOneInput((const uint8_t *)data.buf, data.len);
            files++;
            buf_release(&path);
            buf_release(&data);
            buf_release(&err);
        }
        closedir(d);
    }
    printf("fuzz_replay: %zu inputs replayed\n", files);
    return files ? 0 : 1;
}
