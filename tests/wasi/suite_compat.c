/* Behaviours wasi-testsuite checks that are easy to get wrong (each found by auditing
 * Clew against it): a directory opened with FD_READDIR but not FD_READ can be read
 * (fd_readdir); synchronous-I/O fdflags on path_open are ENOTSUP (path_filestat);
 * symlink to `file/` naming an existing regular file is ENOTDIR, to `dir/` EEXIST, to a
 * new `name/` ENOENT (path_symlink_trailing_slashes). */
#include "common.h"

int main(void) {
    __wasi_fd_t d, f;
    /* fd_readdir through a directory opened for listing only. */
    MUST(__wasi_path_create_directory(SANDBOX, "listing"));
    MUST(open_at(SANDBOX, "listing/entry", __WASI_OFLAGS_CREAT, 0, &f));
    __wasi_fd_close(f);
    SHOW("open listing (FD_READDIR only)",
         __wasi_path_open(SANDBOX, 0, "listing", __WASI_OFLAGS_DIRECTORY,
                          __WASI_RIGHTS_FD_READDIR, 0, 0, &d));
    uint8_t buf[256];
    __wasi_size_t used = 0;
    SHOW("fd_readdir", __wasi_fd_readdir(d, buf, sizeof buf, 0, &used));
    printf("entries: %s\n", used > 0 ? "some" : "none");
    __wasi_fd_close(d);

    /* DSYNC, RSYNC, SYNC: not supported, with or without APPEND. */
    __wasi_fdflags_t sync_flags[] = {__WASI_FDFLAGS_DSYNC, __WASI_FDFLAGS_RSYNC,
                                     __WASI_FDFLAGS_SYNC,
                                     __WASI_FDFLAGS_APPEND | __WASI_FDFLAGS_SYNC};
    for (unsigned i = 0; i < 4; i++) {
        printf("fdflags %u: ", (unsigned)sync_flags[i]);
        SHOW("path_open", __wasi_path_open(SANDBOX, 0, "synced", __WASI_OFLAGS_CREAT,
                                           __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE, 0,
                                           sync_flags[i], &f));
    }
    SHOW("path_open APPEND", __wasi_path_open(SANDBOX, 0, "synced", __WASI_OFLAGS_CREAT,
                                              __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_FD_WRITE,
                                              0, __WASI_FDFLAGS_APPEND, &f));
    __wasi_fdstat_t fs;
    MUST(__wasi_fd_fdstat_get(f, &fs));
    printf("flags: %u\n", (unsigned)fs.fs_flags);
    __wasi_fd_close(f);

    /* Symlink names with a trailing slash. */
    SHOW("symlink to new/", __wasi_path_symlink("source", SANDBOX, "new/"));
    SHOW("symlink to listing/", __wasi_path_symlink("source", SANDBOX, "listing/"));
    SHOW("symlink to synced/", __wasi_path_symlink("source", SANDBOX, "synced/"));
    SHOW("symlink to synced", __wasi_path_symlink("source", SANDBOX, "synced"));
    return 0;
}
