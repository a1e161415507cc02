/* fd_allocate: witx "Force the allocation of space in a file": success, and the file grows
 * to offset+len when that is past its end (never shrinks). EBADF on a closed fd, and on a
 * directory (EBADF or EISDIR). */
#include "common.h"

int main(void) {
    __wasi_fd_t fd;
    __wasi_filestat_t st;
    MUST(open_at(SANDBOX, "alloc.bin", __WASI_OFLAGS_CREAT, 0, &fd));
    size_t n;
    MUST(write_str(fd, "abc", &n));
    SHOW("fd_allocate(0, 100)", __wasi_fd_allocate(fd, 0, 100));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("size after allocate(0,100): %llu\n", (unsigned long long)st.size);
    SHOW("fd_allocate(10, 5)", __wasi_fd_allocate(fd, 10, 5));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("size after allocate(10,5): %llu\n", (unsigned long long)st.size);
    __wasi_fd_close(fd);
    SHOW("fd_allocate(closed fd)", __wasi_fd_allocate(fd, 0, 1));
    return 0;
}
