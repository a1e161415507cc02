/* No path escapes its directory fd: `..` above it, absolute paths, and symlinks (relative
 * `..`, absolute, chains, created at run time) are refused with ENOTCAPABLE for every path_*
 * function, while `..` that stays inside is fine. A directory fd opened below the preopen is
 * itself the root for paths relative to it. */
#include "common.h"

#define NC(label, expr) SHOW(label, expr)

static __wasi_errno_t op(__wasi_fd_t dir, const char *path, __wasi_oflags_t o) {
    __wasi_fd_t fd;
    __wasi_errno_t e = open_at(dir, path, o, 0, &fd);
    if (e == 0) __wasi_fd_close(fd);
    return e;
}

int main(void) {
    const __wasi_lookupflags_t F = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    __wasi_filestat_t st;
    char buf[64];
    size_t n;
    NC("open ..", __wasi_path_open(SANDBOX, 0, "..", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS, 0, 0,
                                   &(__wasi_fd_t){0}));
    NC("open ../other/o.txt", op(SANDBOX, "../other/o.txt", 0));
    NC("open dir/../../other/o.txt", op(SANDBOX, "dir/../../other/o.txt", 0));
    NC("open dir/sub/../../../other/o.txt", op(SANDBOX, "dir/sub/../../../other/o.txt", 0));
    NC("open /etc/passwd", op(SANDBOX, "/etc/passwd", 0));
    NC("open /sandbox/hello.txt (absolute, even to itself)", op(SANDBOX, "/sandbox/hello.txt", 0));
    NC("CREAT ../escaped.txt", op(SANDBOX, "../escaped.txt", __WASI_OFLAGS_CREAT));
    NC("open up_link/other/o.txt (symlink to ..)", op(SANDBOX, "up_link/other/o.txt", 0));
    NC("open abs_link/passwd (symlink to /etc)", op(SANDBOX, "abs_link/passwd", 0));
    NC("open chain1/other/o.txt (chain escaping)", op(SANDBOX, "chain1/other/o.txt", 0));
    NC("open up_link", __wasi_path_open(SANDBOX, F, "up_link", __WASI_OFLAGS_DIRECTORY, DIR_RIGHTS,
                                        0, 0, &(__wasi_fd_t){0}));
    NC("filestat ..", __wasi_path_filestat_get(SANDBOX, F, "..", &st));
    NC("filestat ../other", __wasi_path_filestat_get(SANDBOX, F, "../other", &st));
    NC("filestat /", __wasi_path_filestat_get(SANDBOX, F, "/", &st));
    NC("filestat up_link (follow)", __wasi_path_filestat_get(SANDBOX, F, "up_link", &st));
    NC("filestat abs_link (follow)", __wasi_path_filestat_get(SANDBOX, F, "abs_link", &st));
    SHOW("filestat up_link (nofollow) is fine", __wasi_path_filestat_get(SANDBOX, 0, "up_link", &st));
    NC("set_times ../other/o.txt", __wasi_path_filestat_set_times(SANDBOX, F, "../other/o.txt", 0, 0,
                                   __WASI_FSTFLAGS_MTIM_NOW));
    NC("mkdir ../newdir", __wasi_path_create_directory(SANDBOX, "../newdir"));
    NC("mkdir up_link/newdir", __wasi_path_create_directory(SANDBOX, "up_link/newdir"));
    NC("rmdir ../other", __wasi_path_remove_directory(SANDBOX, "../other"));
    NC("unlink ../other/o.txt", __wasi_path_unlink_file(SANDBOX, "../other/o.txt"));
    NC("unlink up_link/other/o.txt", __wasi_path_unlink_file(SANDBOX, "up_link/other/o.txt"));
    NC("rename out: hello.txt -> ../h.txt", __wasi_path_rename(SANDBOX, "hello.txt", SANDBOX, "../h.txt"));
    NC("rename in: ../other/o.txt -> o.txt", __wasi_path_rename(SANDBOX, "../other/o.txt", SANDBOX, "o.txt"));
    NC("link out: hello.txt -> ../h.txt", __wasi_path_link(SANDBOX, 0, "hello.txt", SANDBOX, "../h.txt"));
    NC("link in: ../other/o.txt -> o.txt", __wasi_path_link(SANDBOX, 0, "../other/o.txt", SANDBOX, "o.txt"));
    NC("symlink at ../s", __wasi_path_symlink("hello.txt", SANDBOX, "../s"));
    NC("readlink ../x", __wasi_path_readlink(SANDBOX, "../x", (uint8_t *)buf, sizeof buf, &n));
    NC("readlink abs_link (absolute target, not shown)",
       __wasi_path_readlink(SANDBOX, "abs_link", (uint8_t *)buf, sizeof buf, &n));

    /* A symlink whose target leaves the sandbox can be created (it is only text) but not
     * followed; one with an absolute target is refused or made but never followed. */
    __wasi_errno_t e = __wasi_path_symlink("../other", SANDBOX, "made_up");
    printf("symlink made_up -> ../other: %s\n", errname(e));
    NC("open made_up/o.txt", op(SANDBOX, "made_up/o.txt", 0));
    e = __wasi_path_symlink("/etc/passwd", SANDBOX, "made_abs");
    printf("symlink made_abs -> /etc/passwd refused or made: %s\n",
           yesno(e == 0 || e == __WASI_ERRNO_PERM || e == __WASI_ERRNO_NOTCAPABLE));
    if (e == 0) {
        NC("open made_abs", op(SANDBOX, "made_abs", 0));
        MUST(__wasi_path_unlink_file(SANDBOX, "made_abs"));
    } else {
        printf("open made_abs: NOTCAPABLE\n");
    }

    /* .. that stays inside is fine. */
    SHOW("open dir/../hello.txt", op(SANDBOX, "dir/../hello.txt", 0));
    SHOW("open dir/sub/../../dir/a.txt", op(SANDBOX, "dir/sub/../../dir/a.txt", 0));
    SHOW("open dir/sub_link/../a.txt (.. after a symlink)", op(SANDBOX, "dir/sub_link/../a.txt", 0));

    /* A directory fd is a root of its own. */
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "dir", &dfd));
    SHOW("via dir fd: open a.txt", op(dfd, "a.txt", 0));
    NC("via dir fd: open ../hello.txt", op(dfd, "../hello.txt", 0));
    NC("via dir fd: open sub/../../hello.txt", op(dfd, "sub/../../hello.txt", 0));
    NC("via dir fd: filestat ..", __wasi_path_filestat_get(dfd, F, "..", &st));
    __wasi_fd_close(dfd);

    /* libc: absolute paths are resolved by libc against the preopen names. */
    printf("libc fopen /sandbox/../other/o.txt fails: %s\n", yesno(fopen("/sandbox/../other/o.txt", "r") == NULL));
    printf("libc fopen /sandbox/up_link/other/o.txt fails: %s\n", yesno(fopen("/sandbox/up_link/other/o.txt", "r") == NULL));
    printf("libc fopen /etc/passwd fails: %s\n", yesno(fopen("/etc/passwd", "r") == NULL));
    return 0;
}
