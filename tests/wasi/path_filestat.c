/* path_filestat_get (with and without SYMLINK_FOLLOW) and path_filestat_set_times; the
 * times set are read back exactly and checked on the host (mtimes before 2001 appear in the
 * harness's tree). Also libc stat/lstat. */
#include "common.h"
#include <sys/stat.h>

static const char *ftype(__wasi_filetype_t t) {
    static const char *names[] = {"UNKNOWN", "BLOCK_DEVICE", "CHARACTER_DEVICE", "DIRECTORY",
                                  "REGULAR_FILE", "SOCKET_DGRAM", "SOCKET_STREAM", "SYMBOLIC_LINK"};
    return t < 8 ? names[t] : "?";
}

static void st(const char *path, __wasi_lookupflags_t fl) {
    __wasi_filestat_t s;
    __wasi_errno_t e = __wasi_path_filestat_get(SANDBOX, fl, path, &s);
    const char *how = fl ? "follow" : "nofollow";
    if (e) { printf("%s (%s): %s\n", path, how, errname(e)); return; }
    if (s.filetype == __WASI_FILETYPE_DIRECTORY)
        printf("%s (%s): %s\n", path, how, ftype(s.filetype));
    else
        printf("%s (%s): %s size=%llu nlink=%llu\n", path, how, ftype(s.filetype),
               (unsigned long long)s.size, (unsigned long long)s.nlink);
}

int main(void) {
    const __wasi_lookupflags_t F = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    st("hello.txt", F);
    st("alpha.txt", 0);
    st("dir", F);
    st("dir/sub/c.txt", 0);
    st("link_to_hello", F);
    st("link_to_hello", 0);
    st("dangling", F);
    st("dangling", 0);
    st("dir/sub_link", F);
    st("loop_a", F);
    st("missing", F);
    st("hello.txt/x", F);
    st(".", F);
    st("dir/..", F);

    __wasi_filestat_t a, b;
    MUST(__wasi_path_filestat_get(SANDBOX, F, "hello.txt", &a));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "link_to_hello", &b));
    printf("symlink followed is the same inode: %s\n", yesno(a.ino == b.ino && a.dev == b.dev));
    MUST(__wasi_path_filestat_get(SANDBOX, 0, "link_to_hello", &b));
    printf("symlink itself is another inode: %s\n", yesno(a.ino != b.ino));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "alpha.txt", &b));
    printf("two files have distinct inodes: %s, same device: %s\n", yesno(a.ino != b.ino),
           yesno(a.dev == b.dev));
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    MUST(__wasi_fd_filestat_get(fd, &b));
    printf("fd_filestat_get agrees with path_filestat_get: %s\n",
           yesno(a.ino == b.ino && a.size == b.size && a.mtim == b.mtim));
    __wasi_fd_close(fd);

    /* Writing a file moves its mtime forward to about now. */
    __wasi_timestamp_t now;
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now));
    MUST(open_at(SANDBOX, "times.txt", __WASI_OFLAGS_CREAT, 0, &fd));
    size_t n;
    MUST(write_str(fd, "times", &n));
    __wasi_fd_close(fd);
    MUST(__wasi_path_filestat_get(SANDBOX, F, "times.txt", &a));
    printf("new file mtime within 10s of realtime: %s\n",
           yesno(a.mtim + 10000000000ull > now && a.mtim < now + 10000000000ull));

    const __wasi_timestamp_t A = 111111111000000001ull, M = 222222222000000002ull;
    SHOW("set_times(atim, mtim)", __wasi_path_filestat_set_times(SANDBOX, F, "times.txt", A, M,
                                  __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "times.txt", &a));
    printf("atim=%llu mtim=%llu\n", (unsigned long long)a.atim, (unsigned long long)a.mtim);
    SHOW("set_times(MTIM_NOW)", __wasi_path_filestat_set_times(SANDBOX, F, "times.txt", 0, 0,
                                __WASI_FSTFLAGS_MTIM_NOW));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "times.txt", &a));
    printf("atim kept: %s, mtim now: %s\n", yesno(a.atim == A),
           yesno(a.mtim + 10000000000ull > now && a.mtim < now + 10000000000ull));
    SHOW("set_times(MTIM|MTIM_NOW)", __wasi_path_filestat_set_times(SANDBOX, F, "times.txt", 0, 1,
                                     __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    SHOW("set_times(missing)", __wasi_path_filestat_set_times(SANDBOX, F, "missing", 0, 0,
                               __WASI_FSTFLAGS_MTIM_NOW));
    SHOW("set_times(fd 99)", __wasi_path_filestat_set_times(99, F, "x", 0, 0, 0));
    /* Through a symlink (followed): the target changes. */
    SHOW("set_times(via link, follow)", __wasi_path_filestat_set_times(SANDBOX, F, "link_to_hello",
                                        M, M, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "hello.txt", &a));
    printf("hello.txt mtim=%llu\n", (unsigned long long)a.mtim);
    /* The directory too. */
    SHOW("set_times(dir)", __wasi_path_filestat_set_times(SANDBOX, F, "dir/sub", A, A,
                           __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    MUST(__wasi_path_filestat_get(SANDBOX, F, "dir/sub", &a));
    printf("dir/sub mtim=%llu\n", (unsigned long long)a.mtim);
    MUST(__wasi_path_filestat_set_times(SANDBOX, F, "times.txt", A, M,
                                        __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));

    struct stat s1, s2;
    printf("libc stat(link_to_hello) regular, size %lld: %s\n",
           stat("/sandbox/link_to_hello", &s1) == 0 ? (long long)s1.st_size : -1LL,
           yesno(S_ISREG(s1.st_mode)));
    printf("libc lstat(link_to_hello) is a link: %s\n",
           yesno(lstat("/sandbox/link_to_hello", &s2) == 0 && S_ISLNK(s2.st_mode)));
    printf("libc stat(missing) fails: %s\n", yesno(stat("/sandbox/missing", &s1) != 0));
    return 0;
}
