/* Reports, on stderr, whether each of stdin, stdout and stderr is a terminal, as the
 * program sees it (wasi-libc's isatty: fd_fdstat_get's filetype is character_device) and
 * then writes "out" to stdout. */
#include <stdio.h>
#include <unistd.h>
#include <wasi/api.h>

int main(void) {
    for (int fd = 0; fd < 3; fd++) {
        __wasi_fdstat_t st;
        __wasi_filestat_t fs;
        if (__wasi_fd_fdstat_get(fd, &st) != 0 || __wasi_fd_filestat_get(fd, &fs) != 0) {
            fprintf(stderr, "fd %d: stat failed\n", fd);
            return 1;
        }
        fprintf(stderr, "fd %d: isatty %d fdstat filetype %d filestat filetype %d\n", fd,
                isatty(fd), st.fs_filetype, fs.filetype);
    }
    printf("out\n");
    return 0;
}
