/* spray MIB: writes about MIB MiB of numbered, patterned output to stdout and stderr in
 * turn, with write(2) calls of every size around the run-mode limits (inline frames up to
 * 32 bytes, output slots of 64 KiB: 1, 31, 32, 33, 1000, 65535, 65536, 65537 and 200000
 * bytes), for the test that output through shared RAM stays byte-exact, apart and in
 * order. Exits 5. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static unsigned char buf[200000];

static void put(int fd, const unsigned char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) {
            perror("write");
            exit(1);
        }
        p += w;
        n -= (size_t)w;
    }
}

int main(int argc, char **argv) {
    long total = (argc > 1 ? atol(argv[1]) : 1) << 20;
    static const size_t sizes[] = {1, 31, 32, 33, 1000, 65535, 65536, 65537, 200000};
    long written = 0;
    for (unsigned k = 0; written < total; k++) {
        size_t n = sizes[k % (sizeof sizes / sizeof sizes[0])];
        int fd = (k % 3 == 2) ? 2 : 1;
        int head = snprintf((char *)buf, sizeof buf, "[%u:%d:%zu]", k, fd, n);
        for (size_t i = (size_t)head; i < n; i++)
            buf[i] = (unsigned char)(' ' + (i * 13 + k) % 90);
        if (n < (size_t)head)
            buf[n - 1] = (unsigned char)('a' + k % 26);
        put(fd, buf, n);
        written += (long)n;
    }
    put(2, (const unsigned char *)"\nend\n", 5);
    return 5;
}
