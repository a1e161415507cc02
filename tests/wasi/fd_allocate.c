/* fd_allocate: witx "Force the allocation of space in a file" (posix_fallocate): success,
 * and the file grows to offset+len when that is past its end (never shrinks), the new bytes
 * zeros. EINVAL for a zero length or an offset/length negative as an off_t, EFBIG when
 * offset+len is past the largest file; EBADF on a read-only fd (POSIX: "not open for
 * writing"), on a closed fd, and on a directory (EBADF or EISDIR). */
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
    SHOW("fd_allocate(0, 0)", __wasi_fd_allocate(fd, 0, 0));
    SHOW("fd_allocate(0, 2^63)", __wasi_fd_allocate(fd, 0, (uint64_t)1 << 63));
    SHOW("fd_allocate(2^63, 1)", __wasi_fd_allocate(fd, (uint64_t)1 << 63, 1));
    SHOW("fd_allocate(INT64_MAX, 1)", __wasi_fd_allocate(fd, INT64_MAX, 1));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("size after the refused calls: %llu\n", (unsigned long long)st.size);
    __wasi_fd_close(fd);
    SHOW("fd_allocate(closed fd)", __wasi_fd_allocate(fd, 0, 1));
    MUST(__wasi_path_open(SANDBOX, 0, "alloc.bin", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_ALLOCATE |
                                                     __WASI_RIGHTS_FD_FILESTAT_GET, 0, 0, &fd));
    SHOW("fd_allocate(read-only fd, 0, 200)", __wasi_fd_allocate(fd, 0, 200));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("size after read-only allocate: %llu\n", (unsigned long long)st.size);
    __wasi_fd_close(fd);
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "dir", &dfd));
    SHOW2("fd_allocate(dir)", __wasi_fd_allocate(dfd, 0, 1), __WASI_ERRNO_BADF, __WASI_ERRNO_ISDIR);
    SHOW("fd_allocate(stdout)", __wasi_fd_allocate(1, 0, 1));
    return 0;
}
