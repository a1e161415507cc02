/* fd_fdstat_get, fd_fdstat_set_flags, fd_filestat_get,
 * fd_filestat_set_size, fd_filestat_set_times. Timestamps set explicitly are read back
 * exactly (and checked on the host by the harness: mtimes before 2001 appear in the tree).
 * fd_fdstat_set_rights: fd_rights.c. */
#include "common.h"

static const char *ftype(__wasi_filetype_t t) {
    static const char *names[] = {"UNKNOWN", "BLOCK_DEVICE", "CHARACTER_DEVICE", "DIRECTORY",
                                  "REGULAR_FILE", "SOCKET_DGRAM", "SOCKET_STREAM", "SYMBOLIC_LINK"};
    return t < 8 ? names[t] : "?";
}

static void filestat(__wasi_fd_t fd, const char *label) {
    __wasi_filestat_t st;
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("%s: filetype=%s size=%llu nlink=%llu\n", label, ftype(st.filetype),
           (unsigned long long)st.size, (unsigned long long)st.nlink);
}

int main(void) {
    __wasi_fdstat_t fs;
    __wasi_fd_t fd, dfd;
    MUST(__wasi_fd_fdstat_get(SANDBOX, &fs));
    printf("preopen fdstat: filetype=%s flags=%u\n", ftype(fs.fs_filetype), fs.fs_flags);
    printf("preopen has PATH_OPEN right: %s\n",
           yesno(fs.fs_rights_base & __WASI_RIGHTS_PATH_OPEN));
    __wasi_filestat_t st;
    MUST(__wasi_fd_filestat_get(SANDBOX, &st));
    printf("preopen filestat: filetype=%s\n", ftype(st.filetype));

    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    MUST(__wasi_fd_fdstat_get(fd, &fs));
    printf("file fdstat: filetype=%s flags=%u\n", ftype(fs.fs_filetype), fs.fs_flags);
    printf("file has FD_READ, FD_WRITE, FD_SEEK: %s %s %s\n",
           yesno(fs.fs_rights_base & __WASI_RIGHTS_FD_READ),
           yesno(fs.fs_rights_base & __WASI_RIGHTS_FD_WRITE),
           yesno(fs.fs_rights_base & __WASI_RIGHTS_FD_SEEK));
    filestat(fd, "hello.txt filestat");
    __wasi_fd_close(fd);

    MUST(open_dir(SANDBOX, "dir", &dfd));
    MUST(__wasi_fd_fdstat_get(dfd, &fs));
    printf("dir fdstat: filetype=%s\n", ftype(fs.fs_filetype));
    MUST(__wasi_fd_filestat_get(dfd, &st));
    printf("dir filestat: filetype=%s\n", ftype(st.filetype));
    __wasi_fd_close(dfd);

    /* fd_fdstat_set_flags: APPEND makes every write go to the end. */
    MUST(open_at(SANDBOX, "flags.txt", __WASI_OFLAGS_CREAT | __WASI_OFLAGS_TRUNC, 0, &fd));
    size_t n;
    MUST(write_str(fd, "0123456789", &n));
    SHOW("set_flags(APPEND)", __wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND));
    MUST(__wasi_fd_fdstat_get(fd, &fs));
    printf("flags now has APPEND: %s\n", yesno(fs.fs_flags & __WASI_FDFLAGS_APPEND));
    __wasi_filesize_t pos;
    MUST(__wasi_fd_seek(fd, 2, __WASI_WHENCE_SET, &pos));
    MUST(write_str(fd, "A", &n));
    MUST(__wasi_fd_tell(fd, &pos));
    printf("append write after seek 2 lands at end, tell=%llu\n", (unsigned long long)pos);
    SHOW("set_flags(0)", __wasi_fd_fdstat_set_flags(fd, 0));
    MUST(__wasi_fd_fdstat_get(fd, &fs));
    printf("flags now has APPEND: %s\n", yesno(fs.fs_flags & __WASI_FDFLAGS_APPEND));
    MUST(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &pos));
    MUST(write_str(fd, "B", &n));
    SHOW("set_flags(fd 99)", __wasi_fd_fdstat_set_flags(99, 0));

    /* fd_filestat_set_size: grow with zeros, shrink. */
    MUST(__wasi_fd_filestat_set_size(fd, 20));
    filestat(fd, "after set_size(20)");
    MUST(__wasi_fd_filestat_set_size(fd, 4));
    filestat(fd, "after set_size(4)");
    SHOW("set_size(fd 99)", __wasi_fd_filestat_set_size(99, 1));

    /* fd_filestat_set_times: explicit values are stored exactly. */
    const __wasi_timestamp_t A = 100000000123456789ull, M = 200000000987654321ull;
    SHOW("set_times(atim, mtim)",
         __wasi_fd_filestat_set_times(fd, A, M, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("atim=%llu mtim=%llu\n", (unsigned long long)st.atim, (unsigned long long)st.mtim);
    SHOW("set_times(mtim only)", __wasi_fd_filestat_set_times(fd, 0, 300000000000000000ull,
                                                              __WASI_FSTFLAGS_MTIM));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("atim kept: %s, mtim=%llu\n", yesno(st.atim == A), (unsigned long long)st.mtim);
    __wasi_timestamp_t now;
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &now));
    SHOW("set_times(ATIM_NOW)", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM_NOW));
    MUST(__wasi_fd_filestat_get(fd, &st));
    printf("atim now within 10s of realtime: %s, mtim kept: %s\n",
           yesno(st.atim + 10000000000ull > now && st.atim < now + 10000000000ull),
           yesno(st.mtim == 300000000000000000ull));
    SHOW("set_times(ATIM|ATIM_NOW)", __wasi_fd_filestat_set_times(
                                         fd, 1, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW));
    SHOW("set_times(MTIM|MTIM_NOW)", __wasi_fd_filestat_set_times(
                                         fd, 0, 1, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    SHOW("set_times(fd 99)", __wasi_fd_filestat_set_times(99, 0, 0, 0));
    SHOW("filestat_get(fd 99)", __wasi_fd_filestat_get(99, &st));
    SHOW("fdstat_get(fd 99)", __wasi_fd_fdstat_get(99, &fs));
    /* Leave the file at a known time for the host check. */
    MUST(__wasi_fd_filestat_set_times(fd, M, M, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM));
    __wasi_fd_close(fd);

    return 0;
}
