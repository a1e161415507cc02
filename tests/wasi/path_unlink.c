/* path_unlink_file: files, symlinks (not their targets, even dangling or to a directory);
 * ENOENT, EISDIR (or EPERM, per POSIX unlink(2)) on a directory, ENOTDIR on file/.
 * Also libc unlink and remove. */
#include "common.h"
#include <unistd.h>

int main(void) {
    SHOW("unlink hello.txt", __wasi_path_unlink_file(SANDBOX, "hello.txt"));
    SHOW("unlink hello.txt again", __wasi_path_unlink_file(SANDBOX, "hello.txt"));
    char buf[64];
    printf("link_to_hello now dangles: %s\n", yesno(slurp(SANDBOX, "link_to_hello", buf, sizeof buf) < 0));
    SHOW("unlink dangling symlink", __wasi_path_unlink_file(SANDBOX, "dangling"));
    SHOW("unlink symlink to a dir", __wasi_path_unlink_file(SANDBOX, "dir/sub_link"));
    __wasi_filestat_t s;
    printf("dir/sub still there: %s\n",
           yesno(__wasi_path_filestat_get(SANDBOX, 0, "dir/sub", &s) == 0 &&
                 s.filetype == __WASI_FILETYPE_DIRECTORY));
    SHOW2("unlink a directory", __wasi_path_unlink_file(SANDBOX, "dir/sub"), __WASI_ERRNO_ISDIR,
          __WASI_ERRNO_PERM);
    SHOW("unlink missing", __wasi_path_unlink_file(SANDBOX, "missing"));
    SHOW("unlink in missing dir", __wasi_path_unlink_file(SANDBOX, "nodir/x"));
    SHOW("unlink file/ (trailing slash)", __wasi_path_unlink_file(SANDBOX, "alpha.txt/"));
    SHOW("unlink fd 99", __wasi_path_unlink_file(99, "x"));

    /* An open file stays readable after its name is removed. */
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "dir/a.txt", 0, 0, &fd));
    SHOW("unlink open dir/a.txt", __wasi_path_unlink_file(SANDBOX, "dir/a.txt"));
    char b[8] = {0};
    __wasi_iovec_t iov = {(uint8_t *)b, 1};
    size_t n;
    SHOW("read from the unlinked open file", __wasi_fd_read(fd, &iov, 1, &n));
    printf("  got [%s]\n", b);
    __wasi_fd_close(fd);

    printf("libc unlink: %d\n", unlink("/sandbox/dir/b.txt"));
    printf("libc remove file: %d\n", remove("/sandbox/alpha.txt"));
    printf("libc remove missing fails: %s\n", yesno(remove("/sandbox/alpha.txt") != 0));
    return 0;
}
