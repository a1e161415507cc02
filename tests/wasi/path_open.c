/* path_open: oflags CREAT, EXCL, TRUNC, DIRECTORY; fdflags APPEND; lookupflags; the error
 * paths ENOENT, EEXIST, ENOTDIR, EISDIR, ELOOP, EBADF; plus libc fopen on top. */
#include "common.h"

static void content(const char *path) {
    char buf[128];
    long n = slurp(SANDBOX, path, buf, sizeof buf);
    if (n < 0) printf("  %s: cannot read\n", path);
    else printf("  %s: %ld bytes [%s]\n", path, n, buf);
}

static __wasi_errno_t op(const char *path, __wasi_oflags_t o, __wasi_fdflags_t f) {
    __wasi_fd_t fd;
    __wasi_errno_t e = open_at(SANDBOX, path, o, f, &fd);
    if (e == 0) __wasi_fd_close(fd);
    return e;
}

int main(void) {
    __wasi_fd_t fd;
    size_t n;
    SHOW("open existing file", op("hello.txt", 0, 0));
    SHOW("open missing file", op("missing.txt", 0, 0));
    SHOW("open in missing dir", op("nodir/x.txt", 0, 0));
    SHOW("open file/ (trailing slash on a file)", op("hello.txt/", 0, 0));
    SHOW("open through a file", op("hello.txt/x", 0, 0));
    SHOW("open empty path", op("", 0, 0));
    SHOW("CREAT new file", op("created.txt", __WASI_OFLAGS_CREAT, 0));
    SHOW("CREAT existing file", op("created.txt", __WASI_OFLAGS_CREAT, 0));
    SHOW("CREAT|EXCL existing file", op("created.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0));
    SHOW("CREAT|EXCL existing dir", op("dir", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0));
    SHOW("CREAT|EXCL dangling symlink", op("dangling", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_EXCL, 0));
    SHOW("CREAT in missing dir", op("nodir/x.txt", __WASI_OFLAGS_CREAT, 0));
    SHOW("DIRECTORY on a dir", op("dir", __WASI_OFLAGS_DIRECTORY, 0) == __WASI_ERRNO_ISDIR
                                   ? 0 : __wasi_path_open(SANDBOX, 0, "dir", __WASI_OFLAGS_DIRECTORY,
                                                          DIR_RIGHTS, ALL_RIGHTS, 0, &fd));
    SHOW("DIRECTORY on a file", op("hello.txt", __WASI_OFLAGS_DIRECTORY, 0));
    SHOW("DIRECTORY on a missing path", op("missing", __WASI_OFLAGS_DIRECTORY, 0));
    SHOW("dir with write rights", __wasi_path_open(SANDBOX, 0, "dir", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
    SHOW("dir with TRUNC", __wasi_path_open(SANDBOX, 0, "dir", __WASI_OFLAGS_TRUNC,
                                           __WASI_RIGHTS_FD_WRITE, 0, 0, &fd));
    SHOW("dir read-only without DIRECTORY",
         __wasi_path_open(SANDBOX, 0, "dir", 0, __WASI_RIGHTS_FD_READDIR, 0, 0, &fd));
    __wasi_fd_close(fd);
    SHOW("open fd 99", __wasi_path_open(99, 0, "x", 0, 0, 0, 0, &fd));
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    SHOW2("open relative to a file fd", open_at(fd, "x", 0, 0, &(__wasi_fd_t){0}),
          __WASI_ERRNO_NOTDIR, __WASI_ERRNO_BADF);
    __wasi_fd_close(fd);

    /* TRUNC empties an existing file; APPEND appends. */
    MUST(open_at(SANDBOX, "trunc.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    MUST(write_str(fd, "long content here", &n));
    __wasi_fd_close(fd);
    MUST(open_at(SANDBOX, "trunc.txt", __WASI_OFLAGS_TRUNC, 0, &fd));
    MUST(write_str(fd, "short", &n));
    __wasi_fd_close(fd);
    content("trunc.txt");
    MUST(open_at(SANDBOX, "trunc.txt", 0, __WASI_FDFLAGS_APPEND, &fd));
    MUST(write_str(fd, "+appended", &n));
    __wasi_fd_close(fd);
    content("trunc.txt");
    MUST(open_at(SANDBOX, "trunc.txt", 0, 0, &fd));
    MUST(write_str(fd, "S", &n));
    __wasi_fd_close(fd);
    content("trunc.txt");

    /* Symlinks: followed with SYMLINK_FOLLOW, ELOOP without it or in a loop. */
    SHOW("open symlink, follow", op("link_to_hello", 0, 0));
    SHOW("open symlink, no follow", __wasi_path_open(SANDBOX, 0, "link_to_hello", 0, ALL_RIGHTS, 0, 0, &fd));
    SHOW("open dangling symlink", op("dangling", 0, 0));
    SHOW("open symlink loop", op("loop_a", 0, 0));
    SHOW("open through a dir symlink", op("dir/sub_link/c.txt", 0, 0));
    SHOW("open with dot segments", op("./dir/./sub/../a.txt", 0, 0));
    SHOW("CREAT through a dangling symlink", op("dangling", __WASI_OFLAGS_CREAT, 0));
    content("nowhere");

    /* Opening through a directory fd other than the preopen. */
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "dir/sub", &dfd));
    char buf[64] = {0};
    MUST(open_at(dfd, "c.txt", 0, 0, &fd));
    __wasi_iovec_t iov = {(uint8_t *)buf, 63};
    MUST(__wasi_fd_read(fd, &iov, 1, &n));
    printf("read via dir fd: [%.*s]\n", (int)(n && buf[n - 1] == '\n' ? n - 1 : n), buf);
    __wasi_fd_close(fd);
    __wasi_fd_close(dfd);

    /* libc */
    FILE *f = fopen("/sandbox/libc.txt", "w");
    fprintf(f, "line %d\n", 1);
    fclose(f);
    f = fopen("/sandbox/libc.txt", "a");
    fputs("line 2\n", f);
    fclose(f);
    content("libc.txt");
    f = fopen("/sandbox/missing.txt", "r");
    printf("fopen missing: %s\n", f ? "opened" : "NULL");
    return 0;
}
