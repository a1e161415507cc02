/* Bad arguments a program can pass: out-of-bounds or misaligned pointers and lengths, and
 * out-of-range enum values. argv[1] names the one call to make.
 *
 * The witx documentation (legacy/tools/witx-docs.md, "Pointers") says a function given an
 * out-of-bounds or misaligned pointer it must dereference shall trap. The reference runtime
 * ends the program with a host error (not a wasm trap: `wasmtime run` prints it and exits
 * with 1), and does the same for enum values out of range. Returning EFAULT (pointers) or
 * EINVAL (enums) is just as safe, so both outcomes pass: on that errno the program says so
 * on stderr (not compared for these cases) and exits with 1. Anything else (success,
 * another errno) is a failure printed on stdout, exit 2. */
#include "common.h"

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
IMPORT(path_open) uint32_t raw_path_open(uint32_t fd, uint32_t dirflags, uint32_t path, uint32_t path_len,
                                         uint32_t oflags, uint64_t base, uint64_t inh, uint32_t fdflags,
                                         uint32_t ret);
IMPORT(path_create_directory) uint32_t raw_mkdir(uint32_t fd, uint32_t path, uint32_t path_len);
IMPORT(fd_write) uint32_t raw_fd_write(uint32_t fd, uint32_t iovs, uint32_t iovs_len, uint32_t ret);
IMPORT(clock_time_get) uint32_t raw_clock_time_get(uint32_t id, uint64_t precision, uint32_t ret);

#define BAD ((uint32_t)(uintptr_t)BAD_PTR)

static void outcome(const char *name, unsigned e, unsigned accepted) {
    if (e == accepted) {
        fprintf(stderr, "%s returned %s (accepted like the reference's error exit)\n", name, errname(e));
        exit(1);
    }
    printf("%s: UNEXPECTED %s\n", name, errname(e));
    exit(2);
}

int main(int argc, char **argv) {
    const char *c = argc > 1 ? argv[1] : "";
    printf("calling %s\n", c);
    static uint8_t buf[64];
    static __wasi_ciovec_t ciov;
    static __wasi_iovec_t iov;
    size_t n;
    unsigned F = __WASI_ERRNO_FAULT, I = __WASI_ERRNO_INVAL, e;
    uint32_t mem_end = (uint32_t)(__builtin_wasm_memory_size(0) * 65536);
    if (!strcmp(c, "fd_write_iovs")) e = __wasi_fd_write(1, (const __wasi_ciovec_t *)BAD_PTR, 1, &n);
    else if (!strcmp(c, "fd_write_buf")) {
        ciov.buf = BAD_PTR; ciov.buf_len = 16;
        e = __wasi_fd_write(1, &ciov, 1, &n);
    } else if (!strcmp(c, "fd_write_len")) {
        ciov.buf = buf; ciov.buf_len = 0xFFFFFF00u;
        e = __wasi_fd_write(1, &ciov, 1, &n);
    } else if (!strcmp(c, "fd_write_result")) {
        ciov.buf = (const uint8_t *)"x\n"; ciov.buf_len = 2;
        e = raw_fd_write(2, (uint32_t)(uintptr_t)&ciov, 1, BAD);
    } else if (!strcmp(c, "fd_read_buf")) {
        iov.buf = BAD_PTR; iov.buf_len = 16;
        e = __wasi_fd_read(0, &iov, 1, &n);
    } else if (!strcmp(c, "path_open_path")) {
        uint32_t fd;
        e = raw_path_open(SANDBOX, 0, BAD, 5, 0, ALL_RIGHTS, ALL_RIGHTS, 0, (uint32_t)(uintptr_t)&fd);
    } else if (!strcmp(c, "path_len_past_end")) {
        /* The path starts inside memory and runs past its end. */
        e = raw_mkdir(SANDBOX, mem_end - 4, 64);
    } else if (!strcmp(c, "path_open_result")) {
        e = raw_path_open(SANDBOX, 0, (uint32_t)(uintptr_t)"hello.txt", 9, 0, ALL_RIGHTS, ALL_RIGHTS, 0, BAD);
    } else if (!strcmp(c, "args_get")) e = __wasi_args_get((uint8_t **)BAD_PTR, (uint8_t *)BAD_PTR);
    else if (!strcmp(c, "environ_sizes_get")) e = __wasi_environ_sizes_get((size_t *)BAD_PTR, (size_t *)BAD_PTR);
    else if (!strcmp(c, "clock_time_get_result")) e = __wasi_clock_time_get(0, 1, (__wasi_timestamp_t *)BAD_PTR);
    else if (!strcmp(c, "clock_time_get_misaligned")) e = raw_clock_time_get(0, 1, (uint32_t)(uintptr_t)(buf + 1));
    else if (!strcmp(c, "random_get_buf")) e = __wasi_random_get(BAD_PTR, 16);
    else if (!strcmp(c, "random_get_len")) e = __wasi_random_get(buf, 0x7FFFFFFF);
    else if (!strcmp(c, "prestat_dir_name")) e = __wasi_fd_prestat_dir_name(SANDBOX, BAD_PTR, 8);
    else if (!strcmp(c, "fd_readdir_buf")) e = __wasi_fd_readdir(SANDBOX, BAD_PTR, 4096, 0, &n);
    else if (!strcmp(c, "poll_oneoff_in")) e = __wasi_poll_oneoff((const __wasi_subscription_t *)BAD_PTR, (__wasi_event_t *)buf, 1, &n);
    else if (!strcmp(c, "clock_id")) { e = __wasi_clock_time_get(4, 1, (__wasi_timestamp_t *)buf); F = I; }
    else if (!strcmp(c, "whence")) { e = __wasi_fd_seek(1, 0, 3, (__wasi_filesize_t *)buf); F = I; }
    else if (!strcmp(c, "advice")) {
        __wasi_fd_t fd;
        MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
        e = __wasi_fd_advise(fd, 0, 1, 6);
        F = I;
    } else if (!strcmp(c, "poll_tag")) {
        __wasi_subscription_t s;
        memset(&s, 0, sizeof s);
        s.u.tag = 3;
        e = __wasi_poll_oneoff(&s, (__wasi_event_t *)buf, 1, &n);
        F = I;
    } else {
        printf("unknown case\n");
        return 2;
    }
    outcome(c, e, F);
}
