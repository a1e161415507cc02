/* fd_write, fd_read, fd_seek, fd_tell, fd_pread, fd_pwrite, fd_sync, fd_datasync, fd_advise
 * on a regular file created under the sandbox (invalid enum values: badargs.c); the resulting file is checked on the host. */
#include "common.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static void show_read(__wasi_fd_t fd, size_t len, const char *label) {
    char buf[64] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, len};
    size_t n;
    MUST(__wasi_fd_read(fd, &iov, 1, &n));
    printf("%s: %zu bytes [%.*s]\n", label, n, (int)n, buf);
}

static void show_tell(__wasi_fd_t fd, const char *label) {
    __wasi_filesize_t pos;
    MUST(__wasi_fd_tell(fd, &pos));
    printf("%s: tell=%llu\n", label, (unsigned long long)pos);
}

int main(void) {
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "rw.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0, &fd));
    size_t n;
    __wasi_ciovec_t iov[2] = {{(const uint8_t *)"hello ", 6}, {(const uint8_t *)"world", 5}};
    MUST(write_all(fd, iov, 2, &n));
    printf("fd_write: %zu bytes\n", n);
    show_tell(fd, "after write");
    __wasi_filesize_t pos;
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    printf("seek SET 0 -> %llu\n", (unsigned long long)pos);
    show_read(fd, 5, "read 5");
    MUST(__wasi_fd_seek(fd, 1, __WASI_WHENCE_CUR, &pos));
    printf("seek CUR +1 -> %llu\n", (unsigned long long)pos);
    show_read(fd, 64, "read rest");
    show_read(fd, 64, "read at EOF");
    MUST(__wasi_fd_seek(fd, -3, __WASI_WHENCE_END, &pos));
    printf("seek END -3 -> %llu\n", (unsigned long long)pos);
    MUST(__wasi_fd_seek(fd, -2, __WASI_WHENCE_CUR, &pos));
    printf("seek CUR -2 -> %llu\n", (unsigned long long)pos);
    SHOW("seek SET -1", __wasi_fd_seek(fd, -1, __WASI_WHENCE_SET, &pos));
    SHOW("seek CUR -100", __wasi_fd_seek(fd, -100, __WASI_WHENCE_CUR, &pos));
    show_tell(fd, "after failed seeks");

    /* pread/pwrite use their own offset and leave the file position alone. */
    char pbuf[16] = {0};
    __wasi_iovec_t piov[1] = {{(uint8_t *)pbuf, 5}};
    MUST(__wasi_fd_pread(fd, piov, 1, 6, &n));
    printf("pread 5 at 6: %zu bytes [%s]\n", n, pbuf);
    show_tell(fd, "after pread");
    MUST(__wasi_fd_pread(fd, piov, 1, 100, &n));
    printf("pread past EOF: %zu bytes\n", n);
    __wasi_ciovec_t wiov = {(const uint8_t *)"WORLD", 5};
    MUST(__wasi_fd_pwrite(fd, &wiov, 1, 6, &n));
    printf("pwrite 5 at 6: %zu bytes\n", n);
    show_tell(fd, "after pwrite");
    MUST(__wasi_fd_pwrite(fd, &wiov, 1, 16, &n));
    printf("pwrite at 16 (past EOF, leaves a hole): %zu bytes\n", n);
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    char all[64] = {0};
    __wasi_iovec_t aiov = {(uint8_t *)all, sizeof all};
    MUST(__wasi_fd_read(fd, &aiov, 1, &n));
    printf("whole file %zu bytes:", n);
    for (size_t i = 0; i < n; i++) printf(all[i] ? "%c" : "\\0", all[i]);
    printf("\n");

    /* Seeking past the end and writing also leaves a zero-filled hole. */
    MUST(__wasi_fd_seek(fd, 2, __WASI_WHENCE_END, &pos));
    printf("seek END +2 -> %llu\n", (unsigned long long)pos);
    MUST(write_str(fd, "!", &n));
    show_tell(fd, "after write past end");

    /* Offsets are signed 64-bit for Linux's pread/pwrite: a range past INT64_MAX is EINVAL. */
    SHOW("fd_pread(offset 2^63)", __wasi_fd_pread(fd, piov, 1, 1ull << 63, &n));
    SHOW("fd_pread(INT64_MAX + 5 bytes)", __wasi_fd_pread(fd, piov, 1, INT64_MAX, &n));
    SHOW("fd_pwrite(offset 2^63)", __wasi_fd_pwrite(fd, &wiov, 1, 1ull << 63, &n));
    SHOW("fd_pwrite(INT64_MAX + 5 bytes)", __wasi_fd_pwrite(fd, &wiov, 1, INT64_MAX, &n));

    SHOW("fd_sync", __wasi_fd_sync(fd));
    SHOW("fd_datasync", __wasi_fd_datasync(fd));
    for (__wasi_advice_t adv = 0; adv <= 5; adv++) {
        printf("fd_advise(advice %u): %s\n", adv, errname(__wasi_fd_advise(fd, 0, 10, adv)));
    }
    SHOW("fd_close", __wasi_fd_close(fd));

    SHOW("fd_seek(closed fd)", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    SHOW("fd_tell(closed fd)", __wasi_fd_tell(fd, &pos));
    SHOW("fd_pread(closed fd)", __wasi_fd_pread(fd, piov, 1, 0, &n));
    SHOW("fd_pwrite(closed fd)", __wasi_fd_pwrite(fd, &wiov, 1, 0, &n));
    SHOW("fd_sync(closed fd)", __wasi_fd_sync(fd));
    SHOW("fd_datasync(closed fd)", __wasi_fd_datasync(fd));
    SHOW("fd_advise(closed fd)", __wasi_fd_advise(fd, 0, 1, 0));
    SHOW("fd_read(closed fd)", __wasi_fd_read(fd, &aiov, 1, &n));
    SHOW("fd_write(closed fd)", __wasi_fd_write(fd, &wiov, 1, &n));

    /* A read-only descriptor cannot be written, a write-only one cannot be read. */
    MUST(__wasi_path_open(SANDBOX, 0, "hello.txt", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK,
                          0, 0, &fd));
    SHOW2("fd_write(read-only fd)", __wasi_fd_write(fd, &wiov, 1, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_NOTCAPABLE);
    SHOW2("fd_pwrite(read-only fd)", __wasi_fd_pwrite(fd, &wiov, 1, 0, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_close(fd);
    /* wasi-libc opens O_RDONLY with the fd_sync right but not fd_datasync's; Linux lets
     * fdatasync succeed on such a descriptor, and so does wasmtime. */
    int ro = open("/sandbox/hello.txt", O_RDONLY);
    printf("fsync(O_RDONLY): %s\n", fsync(ro) == 0 ? "ok" : strerror(errno));
    printf("fdatasync(O_RDONLY): %s\n", fdatasync(ro) == 0 ? "ok" : strerror(errno));
    close(ro);
    MUST(__wasi_path_open(SANDBOX, 0, "hello.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
    SHOW2("fd_read(write-only fd)", __wasi_fd_read(fd, &aiov, 1, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_NOTCAPABLE);
    __wasi_fd_close(fd);

    /* Directories are not files. */
    MUST(open_dir(SANDBOX, "dir", &fd));
    SHOW2("fd_read(directory)", __wasi_fd_read(fd, &aiov, 1, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_ISDIR);
    SHOW2("fd_write(directory)", __wasi_fd_write(fd, &wiov, 1, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_ISDIR);
    SHOW2("fd_pread(directory)", __wasi_fd_pread(fd, piov, 1, 0, &n), __WASI_ERRNO_BADF,
          __WASI_ERRNO_ISDIR);
    __wasi_fd_close(fd);
    return 0;
}
