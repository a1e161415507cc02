/* path_link: a hard link shares content and raises nlink; EEXIST, ENOENT, and linking a
 * directory (EPERM as POSIX link(2), or NOTCAPABLE/ACCES). */
#include "common.h"

static void nlink(const char *path) {
    __wasi_filestat_t s;
    __wasi_errno_t e = __wasi_path_filestat_get(SANDBOX, 0, path, &s);
    if (e) printf("%s: %s\n", path, errname(e));
    else printf("%s: nlink=%llu size=%llu\n", path, (unsigned long long)s.nlink, (unsigned long long)s.size);
}

int main(void) {
    __wasi_fd_t fd;
    size_t n;
    MUST(open_at(SANDBOX, "orig.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    MUST(write_str(fd, "shared", &n));
    __wasi_fd_close(fd);
    SHOW("link orig.txt -> hard.txt", __wasi_path_link(SANDBOX, 0, "orig.txt", SANDBOX, "hard.txt"));
    nlink("orig.txt");
    nlink("hard.txt");
    __wasi_filestat_t a, b;
    MUST(__wasi_path_filestat_get(SANDBOX, 0, "orig.txt", &a));
    MUST(__wasi_path_filestat_get(SANDBOX, 0, "hard.txt", &b));
    printf("same inode: %s\n", yesno(a.ino == b.ino));
    MUST(open_at(SANDBOX, "hard.txt", 0, __WASI_FDFLAGS_APPEND, &fd));
    MUST(write_str(fd, "+more", &n));
    __wasi_fd_close(fd);
    char buf[64];
    slurp(SANDBOX, "orig.txt", buf, sizeof buf);
    printf("write via the link seen via the original: [%s]\n", buf);
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "dir", &dfd));
    SHOW("link into another dir fd", __wasi_path_link(SANDBOX, 0, "orig.txt", dfd, "in_dir.txt"));
    nlink("orig.txt");
    SHOW("unlink orig.txt", __wasi_path_unlink_file(SANDBOX, "orig.txt"));
    nlink("hard.txt");
    SHOW("link onto existing", __wasi_path_link(SANDBOX, 0, "hard.txt", SANDBOX, "alpha.txt"));
    SHOW("link missing source", __wasi_path_link(SANDBOX, 0, "missing", SANDBOX, "x"));
    SHOW("link into missing dir", __wasi_path_link(SANDBOX, 0, "hard.txt", SANDBOX, "nodir/x"));
    SHOW2("link a directory", __wasi_path_link(SANDBOX, 0, "dir", SANDBOX, "dir2"),
          __WASI_ERRNO_PERM, __WASI_ERRNO_NOTCAPABLE);
    SHOW("link fd 99", __wasi_path_link(99, 0, "hard.txt", SANDBOX, "x"));
    SHOW("link to fd 99", __wasi_path_link(SANDBOX, 0, "hard.txt", 99, "x"));
    /* Without SYMLINK_FOLLOW the link is made to the symlink itself. */
    SHOW("link a symlink (nofollow)", __wasi_path_link(SANDBOX, 0, "link_to_hello", SANDBOX, "link2"));
    __wasi_filestat_t s;
    MUST(__wasi_path_filestat_get(SANDBOX, 0, "link2", &s));
    printf("link2 is a symlink: %s\n", yesno(s.filetype == __WASI_FILETYPE_SYMBOLIC_LINK));
    return 0;
}
