/* echo_stdin: copies stdin to stdout with reads of 1000, 70000 and 1 bytes in turn (so
 * that reads start and end anywhere in the host's chunks), then reports the byte count on
 * stderr, for the test that large stdin reaches the program exactly. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    static char buf[70000];
    static const size_t sizes[] = {1000, 70000, 1};
    long total = 0;
    for (unsigned k = 0;; k++) {
        ssize_t n = read(0, buf, sizes[k % 3]);
        if (n < 0) {
            perror("read");
            return 1;
        }
        if (n == 0)
            break;
        for (ssize_t at = 0; at < n;) {
            ssize_t w = write(1, buf + at, (size_t)(n - at));
            if (w <= 0) {
                perror("write");
                return 1;
            }
            at += w;
        }
        total += n;
    }
    fprintf(stderr, "%ld bytes\n", total);
    return 0;
}
