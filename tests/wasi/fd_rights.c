/* fd_fdstat_set_rights (witx: "can only be used to remove rights, and returns
 * errno::notcapable if called in a way that would attempt to add rights"), and rights given
 * to path_open: a right not held is refused (NOTCAPABLE, or BADF as POSIX would say). */
#include "common.h"

int main(void) {
    __wasi_fdstat_t fs;
    __wasi_fd_t fd;
    size_t n;
    MUST(open_at(SANDBOX, "rights.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    MUST(write_str(fd, "rights", &n));
    /* fd_fdstat_set_rights: rights can only be dropped; a dropped right is enforced. */
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &(__wasi_filesize_t){0}));
    __wasi_rights_t keep = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_SEEK | __WASI_RIGHTS_FD_TELL |
                           __WASI_RIGHTS_FD_FDSTAT_SET_FLAGS | __WASI_RIGHTS_FD_FILESTAT_GET;
    SHOW("set_rights(drop FD_WRITE)", __wasi_fd_fdstat_set_rights(fd, keep, 0));
    MUST(__wasi_fd_fdstat_get(fd, &fs));
    printf("rights now: FD_READ %s, FD_WRITE %s\n", yesno(fs.fs_rights_base & __WASI_RIGHTS_FD_READ),
           yesno(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE));
    SHOW2("fd_write without FD_WRITE", write_str(fd, "x", &n), __WASI_ERRNO_NOTCAPABLE,
          __WASI_ERRNO_BADF);
    char buf[8];
    __wasi_iovec_t iov = {(uint8_t *)buf, 5};
    SHOW("fd_read with FD_READ", __wasi_fd_read(fd, &iov, 1, &n));
    SHOW("set_rights(add FD_WRITE back)",
         __wasi_fd_fdstat_set_rights(fd, keep | __WASI_RIGHTS_FD_WRITE, 0));
    SHOW("set_rights(fd 99)", __wasi_fd_fdstat_set_rights(99, 0, 0));
    __wasi_fd_close(fd);

    /* Inheriting rights bound what path_open can grant through a directory fd. */
    __wasi_fd_t dfd, f2;
    MUST(open_dir(SANDBOX, "dir", &dfd));
    MUST(__wasi_fd_fdstat_get(dfd, &fs));
    SHOW("set_rights(dir: inheriting without FD_WRITE)",
         __wasi_fd_fdstat_set_rights(dfd, fs.fs_rights_base,
                                     fs.fs_rights_inheriting & ~(__wasi_rights_t)__WASI_RIGHTS_FD_WRITE));
    SHOW("path_open(a.txt) asking FD_WRITE",
         __wasi_path_open(dfd, 0, "a.txt", 0, __WASI_RIGHTS_FD_WRITE, 0, 0, &f2));
    SHOW("path_open(a.txt) asking FD_READ",
         __wasi_path_open(dfd, 0, "a.txt", 0, __WASI_RIGHTS_FD_READ, 0, 0, &f2));

    /* A new descriptor's base rights are those asked for (that apply): the same request
     * through two directories with different inheriting rights gives the same rights
     * (wasi-testsuite path_link compares them). */
    __wasi_rights_t want = __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_FILESTAT_GET |
                           __WASI_RIGHTS_PATH_LINK_SOURCE | __WASI_RIGHTS_PATH_OPEN;
    __wasi_fd_t narrow, via_root, via_narrow;
    __wasi_fdstat_t a, b;
    MUST(__wasi_path_open(SANDBOX, 0, "dir", __WASI_OFLAGS_DIRECTORY, want, want, 0, &narrow));
    MUST(__wasi_path_open(SANDBOX, 0, "dir/a.txt", 0, want, 0, 0, &via_root));
    MUST(__wasi_path_open(narrow, 0, "a.txt", 0, want, 0, 0, &via_narrow));
    MUST(__wasi_fd_fdstat_get(via_root, &a));
    MUST(__wasi_fd_fdstat_get(via_narrow, &b));
    printf("same base rights through either directory: %s\n",
           yesno(a.fs_rights_base == b.fs_rights_base));
    printf("base rights are those asked for that apply to a file: %s\n",
           yesno(a.fs_rights_base == (__WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_FILESTAT_GET)));
    return 0;
}
