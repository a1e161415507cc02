/* closed_stdout: writes 8 MiB to stdout in 4 KiB writes and reports on stderr how many
 * failed or came up short, for the test that a reader going away (`| head`) fails the
 * program's later writes (EIO, as under `wasmtime run`) without stopping the run. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    static char buf[4096];
    memset(buf, 'y', sizeof buf);
    int failed = 0;
    for (int i = 0; i < 2048; i++)
        if (write(1, buf, sizeof buf) != (ssize_t)sizeof buf)
            failed++;
    fprintf(stderr, "failed writes: %d\n", failed);
    return 0;
}
