/* path_create_directory and path_remove_directory, with their error paths: EEXIST,
 * ENOENT (missing parent), ENOTDIR (a file in the path, or removing a file), ENOTEMPTY. */
#include "common.h"

int main(void) {
    SHOW("create new", __wasi_path_create_directory(SANDBOX, "new"));
    SHOW("create nested new/inner", __wasi_path_create_directory(SANDBOX, "new/inner"));
    SHOW("create with trailing slash", __wasi_path_create_directory(SANDBOX, "slash/"));
    SHOW("create existing dir", __wasi_path_create_directory(SANDBOX, "dir"));
    SHOW("create over existing file", __wasi_path_create_directory(SANDBOX, "hello.txt"));
    SHOW("create over symlink", __wasi_path_create_directory(SANDBOX, "dangling"));
    SHOW("create under missing parent", __wasi_path_create_directory(SANDBOX, "nope/x"));
    SHOW("create under a file", __wasi_path_create_directory(SANDBOX, "hello.txt/x"));
    SHOW("create empty path", __wasi_path_create_directory(SANDBOX, ""));
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    SHOW2("create relative to a file fd", __wasi_path_create_directory(fd, "x"),
          __WASI_ERRNO_NOTDIR, __WASI_ERRNO_BADF);
    SHOW("create relative to fd 99", __wasi_path_create_directory(99, "x"));

    /* A directory made through a directory fd other than the preopen. */
    __wasi_fd_t dfd;
    MUST(open_dir(SANDBOX, "new", &dfd));
    SHOW("create via opened dir fd", __wasi_path_create_directory(dfd, "via_fd"));
    __wasi_fd_close(dfd);

    SHOW("remove non-empty new", __wasi_path_remove_directory(SANDBOX, "new"));
    SHOW("remove new/inner", __wasi_path_remove_directory(SANDBOX, "new/inner"));
    SHOW("remove new/inner again", __wasi_path_remove_directory(SANDBOX, "new/inner"));
    SHOW("remove a file", __wasi_path_remove_directory(SANDBOX, "hello.txt"));
    SHOW("remove a symlink to a dir", __wasi_path_remove_directory(SANDBOX, "dir/sub_link"));
    SHOW("remove missing", __wasi_path_remove_directory(SANDBOX, "missing"));
    SHOW("remove under a file", __wasi_path_remove_directory(SANDBOX, "hello.txt/x"));
    SHOW("remove slash", __wasi_path_remove_directory(SANDBOX, "slash"));
    SHOW("remove fixture dir/sub (not empty)", __wasi_path_remove_directory(SANDBOX, "dir/sub"));
    SHOW("remove fd 99", __wasi_path_remove_directory(99, "x"));
    SHOW("create new/inner again", __wasi_path_create_directory(SANDBOX, "new/inner"));
    return 0;
}
