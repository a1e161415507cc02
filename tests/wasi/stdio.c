/* fd_read on stdin (scattered into several iovecs, to EOF), fd_write on stdout and stderr
 * (gathered from several iovecs, including empty ones; short writes are
 * legal, as for writev, so they are retried), and libc stdio on top of them. */
#include "common.h"
#include <ctype.h>

int main(void) {
    static char a[5], b[7], c[4096];
    size_t total = 0, calls = 0;
    static char all[65536];
    for (;;) {
        __wasi_iovec_t iov[3] = {{(uint8_t *)a, sizeof a}, {(uint8_t *)b, 0}, {(uint8_t *)c, sizeof c}};
        iov[1].buf_len = sizeof b;
        size_t n;
        MUST(__wasi_fd_read(0, iov, 3, &n));
        calls++;
        if (n == 0) break;
        size_t left = n, k;
        k = left < sizeof a ? left : sizeof a; memcpy(all + total, a, k); total += k; left -= k;
        k = left < sizeof b ? left : sizeof b; memcpy(all + total, b, k); total += k; left -= k;
        memcpy(all + total, c, left); total += left;
    }
    printf("read %zu bytes from stdin, last read returned 0\n", total);
    fflush(stdout);
    for (size_t i = 0; i < total; i++) all[i] = (char)toupper((unsigned char)all[i]);
    const char *pre = "upper: ";
    __wasi_ciovec_t out[4] = {
        {(const uint8_t *)pre, strlen(pre)}, {(const uint8_t *)"", 0},
        {(const uint8_t *)all, total}, {(const uint8_t *)"<end>\n", 6}};
    size_t n;
    MUST(write_all(1, out, 4, &n));
    printf("fd_write gathered %zu bytes: %s\n", n, yesno(n == strlen(pre) + total + 6));
    __wasi_ciovec_t err[2] = {{(const uint8_t *)"to ", 3}, {(const uint8_t *)"stderr\n", 7}};
    MUST(write_all(2, err, 2, &n));
    printf("fd_write to stderr: %zu bytes\n", n);
    MUST(__wasi_fd_write(1, out, 0, &n));
    printf("fd_write with no iovecs: %zu bytes\n", n);
    fprintf(stderr, "libc stderr line %d\n", 2);
    SHOW("fd_read(fd 99)", __wasi_fd_read(99, (__wasi_iovec_t[]){{(uint8_t *)a, 1}}, 1, &n));
    SHOW("fd_write(fd 99)", __wasi_fd_write(99, out, 1, &n));
    return 0;
}
