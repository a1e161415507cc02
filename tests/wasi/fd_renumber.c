/* fd_renumber and fd_close: renumbering moves the open file to the target number (closing
 * what was there) and frees the source; closing twice, or a never-opened fd, is EBADF. */
#include "common.h"

static void show_first_line(__wasi_fd_t fd, const char *label) {
    char buf[32] = {0};
    __wasi_iovec_t iov = {(uint8_t *)buf, 31};
    size_t n;
    __wasi_filesize_t pos;
    __wasi_errno_t e = __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos);
    if (e == 0) e = __wasi_fd_read(fd, &iov, 1, &n);
    if (e != 0) { printf("%s: %s\n", label, errname(e)); return; }
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    printf("%s: [%s]\n", label, buf);
}

int main(void) {
    __wasi_fd_t a, b, c;
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &a));
    MUST(open_at(SANDBOX, "dir/a.txt", 0, 0, &b));
    printf("distinct new fds above the preopen: %s\n", yesno(a != b && a > SANDBOX && b > SANDBOX));
    show_first_line(a, "fd a");
    show_first_line(b, "fd b");
    SHOW("fd_renumber(a, b)", __wasi_fd_renumber(a, b));
    show_first_line(b, "fd b after renumber");
    show_first_line(a, "fd a after renumber");
    SHOW("fd_close(a)", __wasi_fd_close(a));
    SHOW("fd_renumber(a, b) from the freed fd", __wasi_fd_renumber(a, b));
    SHOW("fd_renumber(b, b)", __wasi_fd_renumber(b, b));
    show_first_line(b, "fd b after renumber to itself");
    SHOW("fd_renumber(99, b)", __wasi_fd_renumber(99, b));
    show_first_line(b, "fd b still open");
    MUST(open_at(SANDBOX, "dir/b.txt", 0, 0, &c));
    printf("lowest free fd reused: %s\n", yesno(c == a));
    SHOW("fd_close(b)", __wasi_fd_close(b));
    SHOW("fd_close(b) again", __wasi_fd_close(b));
    SHOW("fd_close(99)", __wasi_fd_close(99));
    SHOW("fd_close(c)", __wasi_fd_close(c));

    /* Renumbering onto stdout redirects it. */
    MUST(open_at(SANDBOX, "out.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &a));
    fflush(stdout);
    __wasi_errno_t e = __wasi_fd_renumber(a, 1);
    size_t n;
    write_str(1, "written to fd 1 after renumber\n", &n);
    write_str(2, "", &n);
    fprintf(stderr, "fd_renumber(file, 1): %s\n", errname(e));
    return 0;
}
