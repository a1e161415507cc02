/* fd_prestat_get, fd_prestat_dir_name: every preopen from fd 3 up to the first EBADF, with
 * its name; non-preopened fds (stdio, a file, a directory opened later) are EBADF. */
#include "common.h"

int main(void) {
    __wasi_fd_t fd = 3;
    for (;; fd++) {
        __wasi_prestat_t ps;
        __wasi_errno_t e = __wasi_fd_prestat_get(fd, &ps);
        if (e != 0) {
            printf("fd_prestat_get(fd %u): %s\n", fd, errname(e));
            break;
        }
        char name[256];
        memset(name, '#', sizeof name);
        size_t len = ps.u.dir.pr_name_len;
        printf("fd %u: tag=%s name_len=%zu\n", fd, ps.tag == __WASI_PREOPENTYPE_DIR ? "DIR" : "?", len);
        MUST(__wasi_fd_prestat_dir_name(fd, (uint8_t *)name, len));
        printf("fd %u: name=[%.*s] byte after untouched: %s\n", fd, (int)len, name,
               yesno(name[len] == '#'));
    }
    __wasi_prestat_t ps;
    char name[64];
    SHOW("fd_prestat_get(stdin)", __wasi_fd_prestat_get(0, &ps));
    SHOW("fd_prestat_get(fd 99)", __wasi_fd_prestat_get(99, &ps));
    SHOW2("fd_prestat_dir_name(stdout)", __wasi_fd_prestat_dir_name(1, (uint8_t *)name, sizeof name),
          __WASI_ERRNO_BADF, __WASI_ERRNO_NOTDIR);
    SHOW("fd_prestat_dir_name(fd 99)", __wasi_fd_prestat_dir_name(99, (uint8_t *)name, sizeof name));
    __wasi_fd_t dfd;
    if (fd > SANDBOX) {
        MUST(open_dir(SANDBOX, "dir", &dfd));
        SHOW("fd_prestat_get(opened dir)", __wasi_fd_prestat_get(dfd, &ps));
    }
    return 0;
}
