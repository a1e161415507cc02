/* WASI calls whose arguments are valid but name a great deal of memory, made directly
 * (libc would split them): the kernel must answer each without allocating in proportion.
 *   heapbomb write N   fd_write to stdout of N iovecs that all name one 1 MiB buffer
 *                      (N MiB in all); prints "wrote BYTES" or "write errno E" on stderr
 *   heapbomb poll N    poll_oneoff with N clock subscriptions; prints "poll errno E" or
 *                      "poll events K" on stderr
 *   heapbomb open      opens one file until the descriptor table is full; prints the
 *                      count and errno, then closes one and opens again
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <wasi/api.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (strcmp(argv[1], "write") == 0 && argc == 3) {
        size_t n = strtoul(argv[2], 0, 10);
        char *buf = malloc(1 << 20);
        __wasi_ciovec_t *iov = malloc(n * sizeof *iov);
        if (!buf || !iov) return 3;
        memset(buf, 'x', 1 << 20);
        for (size_t i = 0; i < n; i++) {
            iov[i].buf = (const uint8_t *)buf;
            iov[i].buf_len = 1 << 20;
        }
        __wasi_size_t wrote = 0;
        __wasi_errno_t e = __wasi_fd_write(1, iov, n, &wrote);
        if (e) fprintf(stderr, "write errno %d\n", e);
        else fprintf(stderr, "wrote %lu\n", (unsigned long)wrote);
        return 0;
    }
    if (strcmp(argv[1], "poll") == 0 && argc == 3) {
        size_t n = strtoul(argv[2], 0, 10);
        __wasi_subscription_t *subs = calloc(n, sizeof *subs);
        __wasi_event_t *ev = calloc(n, sizeof *ev);
        if (!subs || !ev) return 3;
        for (size_t i = 0; i < n; i++) {
            subs[i].userdata = i;
            subs[i].u.tag = __WASI_EVENTTYPE_CLOCK;
            subs[i].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
            subs[i].u.u.clock.timeout = 1000;
        }
        __wasi_size_t got = 0;
        __wasi_errno_t e = __wasi_poll_oneoff(subs, ev, n, &got);
        if (e) fprintf(stderr, "poll errno %d\n", e);
        else fprintf(stderr, "poll events %lu\n", (unsigned long)got);
        return 0;
    }
    if (strcmp(argv[1], "open") == 0 && argc == 3) {
        long n = 0;
        int fd = -1, last = -1;
        while ((fd = open(argv[2], O_RDONLY)) >= 0) {
            last = fd;
            n++;
        }
        int err = errno;
        int closed = close(last);
        int again = open(argv[2], O_RDONLY);
        printf("opened %ld, then %s; close %d; reopen %s\n", n, strerror(err), closed,
               again == last ? "same fd" : "other fd");
        return 0;
    }
    return 2;
}
