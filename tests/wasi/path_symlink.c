/* path_symlink and path_readlink: relative and dangling targets, readlink of a too-small
 * buffer (truncated), EEXIST, ENOENT, EINVAL on a non-link. Also libc symlink/readlink. */
#include "common.h"
#include <unistd.h>

static void rl(const char *path, size_t cap) {
    char buf[64];
    memset(buf, '#', sizeof buf);
    size_t n;
    __wasi_errno_t e = __wasi_path_readlink(SANDBOX, path, (uint8_t *)buf, cap, &n);
    if (e) printf("readlink %s (buf %zu): %s\n", path, cap, errname(e));
    else printf("readlink %s (buf %zu): %zu bytes [%.*s]\n", path, cap, n, (int)n, buf);
}

int main(void) {
    SHOW("symlink hello.txt <- s1", __wasi_path_symlink("hello.txt", SANDBOX, "s1"));
    rl("s1", 64);
    SHOW("symlink dir/sub/c.txt <- dir/s2 (relative to dir)",
         __wasi_path_symlink("sub/c.txt", SANDBOX, "dir/s2"));
    rl("dir/s2", 64);
    char buf[64];
    printf("read through dir/s2: %ld bytes\n", slurp(SANDBOX, "dir/s2", buf, sizeof buf));
    SHOW("symlink dangling target", __wasi_path_symlink("does/not/exist", SANDBOX, "s3"));
    rl("s3", 64);
    SHOW("symlink onto existing file", __wasi_path_symlink("x", SANDBOX, "hello.txt"));
    SHOW("symlink onto existing link", __wasi_path_symlink("x", SANDBOX, "s1"));
    SHOW("symlink in missing dir", __wasi_path_symlink("x", SANDBOX, "nodir/s"));
    SHOW("symlink fd 99", __wasi_path_symlink("x", 99, "s"));
    SHOW("symlink to a directory", __wasi_path_symlink("dir/sub", SANDBOX, "s4"));
    printf("read through s4/c.txt: %ld bytes\n", slurp(SANDBOX, "s4/c.txt", buf, sizeof buf));

    rl("link_to_hello", 64);
    rl("link_to_hello", 4);
    rl("hello.txt", 64);
    rl("dir", 64);
    rl("missing", 64);
    SHOW("readlink fd 99", __wasi_path_readlink(99, "s1", (uint8_t *)buf, 64, &(size_t){0}));
    /* A symlink through a symlinked directory. */
    rl("dir/sub_link", 64);

    char lb[64];
    printf("libc symlink: %d\n", symlink("alpha.txt", "/sandbox/libc_link"));
    ssize_t k = readlink("/sandbox/libc_link", lb, sizeof lb);
    printf("libc readlink: [%.*s]\n", (int)(k < 0 ? 0 : k), lb);
    return 0;
}
