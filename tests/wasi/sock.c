/* sock_accept, sock_recv, sock_send, sock_shutdown as a runtime without socket preopens
 * answers them: EBADF for a closed fd, ENOTSOCK for an fd that is not a socket (stdio, a
 * file, a directory). EBADF is also accepted where witx leaves the choice open. */
#include "common.h"

static void try_fd(__wasi_fd_t fd, const char *what) {
    char label[96], buf[8];
    __wasi_fd_t nfd;
    size_t n;
    __wasi_roflags_t ro;
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    __wasi_ciovec_t ciov = {(const uint8_t *)"x", 1};
    snprintf(label, sizeof label, "sock_accept(%s)", what);
    SHOW2(label, __wasi_sock_accept(fd, 0, &nfd), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_BADF);
    snprintf(label, sizeof label, "sock_recv(%s)", what);
    SHOW2(label, __wasi_sock_recv(fd, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_BADF);
    snprintf(label, sizeof label, "sock_send(%s)", what);
    SHOW2(label, __wasi_sock_send(fd, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK, __WASI_ERRNO_BADF);
    snprintf(label, sizeof label, "sock_shutdown(%s)", what);
    SHOW2(label, __wasi_sock_shutdown(fd, __WASI_SDFLAGS_RD | __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK,
          __WASI_ERRNO_BADF);
}

int main(void) {
    try_fd(0, "stdin");
    try_fd(1, "stdout");
    try_fd(SANDBOX, "preopened dir");
    __wasi_fd_t fd;
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    try_fd(fd, "file");
    __wasi_fd_close(fd);
    __wasi_fd_t nfd;
    SHOW("sock_accept(fd 99)", __wasi_sock_accept(99, 0, &nfd));
    char buf[8];
    size_t n;
    __wasi_roflags_t ro;
    __wasi_iovec_t iov = {(uint8_t *)buf, sizeof buf};
    SHOW("sock_recv(fd 99)", __wasi_sock_recv(99, &iov, 1, 0, &n, &ro));
    SHOW("sock_send(fd 99)", __wasi_sock_send(99, (const __wasi_ciovec_t *)&iov, 1, 0, &n));
    SHOW("sock_shutdown(fd 99)", __wasi_sock_shutdown(99, __WASI_SDFLAGS_WR));
    printf("stdout still works after all that: yes\n");
    return 0;
}
