/* path_rename: files and directories, replacing an existing file or empty directory, across
 * directory fds; ENOENT, EEXIST/ENOTEMPTY (non-empty target dir), EISDIR (file onto dir),
 * ENOTDIR (dir onto file), EINVAL (dir into itself). Also libc rename. */
#include "common.h"
#include <stdio.h>

static void mk(const char *path, const char *text) {
    __wasi_fd_t fd;
    size_t n;
    MUST(open_at(SANDBOX, path, __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd));
    MUST(write_str(fd, text, &n));
    __wasi_fd_close(fd);
}

static void show(const char *path) {
    char buf[64];
    long n = slurp(SANDBOX, path, buf, sizeof buf);
    if (n < 0) {
        __wasi_filestat_t s;
        __wasi_errno_t e = __wasi_path_filestat_get(SANDBOX, 0, path, &s);
        printf("  %s: %s\n", path, e ? errname(e) : (s.filetype == __WASI_FILETYPE_DIRECTORY ? "a directory" : "exists"));
    } else {
        printf("  %s: [%s]\n", path, buf);
    }
}

int main(void) {
    mk("r1.txt", "one");
    SHOW("rename r1.txt -> r2.txt", __wasi_path_rename(SANDBOX, "r1.txt", SANDBOX, "r2.txt"));
    show("r1.txt");
    show("r2.txt");
    mk("r3.txt", "three");
    SHOW("rename r3.txt over r2.txt", __wasi_path_rename(SANDBOX, "r3.txt", SANDBOX, "r2.txt"));
    show("r2.txt");
    show("r3.txt");
    SHOW("rename r2.txt to itself", __wasi_path_rename(SANDBOX, "r2.txt", SANDBOX, "r2.txt"));
    show("r2.txt");
    SHOW("rename missing", __wasi_path_rename(SANDBOX, "missing", SANDBOX, "x"));
    SHOW("rename into missing dir", __wasi_path_rename(SANDBOX, "r2.txt", SANDBOX, "nodir/x"));

    MUST(__wasi_path_create_directory(SANDBOX, "d1"));
    mk("d1/f.txt", "in d1");
    SHOW("rename dir d1 -> d2", __wasi_path_rename(SANDBOX, "d1", SANDBOX, "d2"));
    show("d1");
    show("d2/f.txt");
    MUST(__wasi_path_create_directory(SANDBOX, "empty"));
    SHOW("rename d2 over empty dir", __wasi_path_rename(SANDBOX, "d2", SANDBOX, "empty"));
    show("empty/f.txt");
    SHOW2("rename dir over non-empty dir", __wasi_path_rename(SANDBOX, "dir/sub", SANDBOX, "empty"),
          __WASI_ERRNO_NOTEMPTY, __WASI_ERRNO_EXIST);
    SHOW("rename file over dir", __wasi_path_rename(SANDBOX, "r2.txt", SANDBOX, "empty"));
    SHOW("rename dir over file", __wasi_path_rename(SANDBOX, "empty", SANDBOX, "r2.txt"));
    SHOW("rename dir into itself", __wasi_path_rename(SANDBOX, "empty", SANDBOX, "empty/inner"));
    SHOW("rename fd 99", __wasi_path_rename(99, "r2.txt", SANDBOX, "x"));
    SHOW("rename to fd 99", __wasi_path_rename(SANDBOX, "r2.txt", 99, "x"));

    /* Across directory fds. */
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "dir/sub", &dfd));
    SHOW("rename r2.txt into dir/sub via its fd", __wasi_path_rename(SANDBOX, "r2.txt", dfd, "moved.txt"));
    show("dir/sub/moved.txt");
    __wasi_fd_close(dfd);

    /* A symlink is renamed, not its target. */
    SHOW("rename symlink", __wasi_path_rename(SANDBOX, "link_to_hello", SANDBOX, "renamed_link"));
    __wasi_filestat_t s;
    MUST(__wasi_path_filestat_get(SANDBOX, 0, "renamed_link", &s));
    printf("renamed_link is a symlink: %s\n", yesno(s.filetype == __WASI_FILETYPE_SYMBOLIC_LINK));
    show("renamed_link");

    /* An open file survives being renamed. */
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "alpha.txt", 0, 0, &fd));
    MUST(__wasi_path_rename(SANDBOX, "alpha.txt", SANDBOX, "beta.txt"));
    char buf[8] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, 4};
    size_t n;
    MUST(__wasi_fd_read(fd, &iov, 1, &n));
    printf("read from the renamed open file: [%s]\n", buf);
    __wasi_fd_close(fd);

    printf("libc rename: %d\n", rename("/sandbox/beta.txt", "/sandbox/gamma.txt"));
    show("gamma.txt");
    return 0;
}
