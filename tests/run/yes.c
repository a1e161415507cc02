/* yes: writes lines to stdout until a write fails, then says so on stderr and exits 3.
 * Piped into `head`, it must end (its writes fail with EIO once the reader has gone, as
 * under `wasmtime run`) instead of running forever. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    static char line[8192];
    for (size_t k = 0; k < sizeof line; k += 2) {
        line[k] = 'y';
        line[k + 1] = '\n';
    }
    unsigned long long total = 0;
    ssize_t n;
    while ((n = write(1, line, sizeof line)) > 0)
        total += (unsigned long long)n;
    fprintf(stderr, "write failed after %llu bytes: %s\n", total, strerror(errno));
    return 3;
}
