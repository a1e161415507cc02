/* Helpers shared by the WASI test programs (tests/wasi/NAME.c).
 *
 * Programs print one deterministic line per check (no times, inode numbers or random
 * bytes: properties of them instead), so that their stdout can be compared byte for byte
 * with the reference runtime's. Errnos are printed by their witx names. */
#ifndef CLEW_WASI_TEST_COMMON_H
#define CLEW_WASI_TEST_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

#pragma clang diagnostic ignored "-Wunused-result"

/* Line-buffered stdout: each line is written when printed, so that output before a trap is
 * not lost and interleaves with stderr the same way under every runtime. */
__attribute__((constructor)) static void line_buffered_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

static const char *const ERRNO_NAMES[] = {
    "SUCCESS", "2BIG", "ACCES", "ADDRINUSE", "ADDRNOTAVAIL", "AFNOSUPPORT", "AGAIN",
    "ALREADY", "BADF", "BADMSG", "BUSY", "CANCELED", "CHILD", "CONNABORTED", "CONNREFUSED",
    "CONNRESET", "DEADLK", "DESTADDRREQ", "DOM", "DQUOT", "EXIST", "FAULT", "FBIG",
    "HOSTUNREACH", "IDRM", "ILSEQ", "INPROGRESS", "INTR", "INVAL", "IO", "ISCONN", "ISDIR",
    "LOOP", "MFILE", "MLINK", "MSGSIZE", "MULTIHOP", "NAMETOOLONG", "NETDOWN", "NETRESET",
    "NETUNREACH", "NFILE", "NOBUFS", "NODEV", "NOENT", "NOEXEC", "NOLCK", "NOLINK", "NOMEM",
    "NOMSG", "NOPROTOOPT", "NOSPC", "NOSYS", "NOTCONN", "NOTDIR", "NOTEMPTY",
    "NOTRECOVERABLE", "NOTSOCK", "NOTSUP", "NOTTY", "NXIO", "OVERFLOW", "OWNERDEAD", "PERM",
    "PIPE", "PROTO", "PROTONOSUPPORT", "PROTOTYPE", "RANGE", "ROFS", "SPIPE", "SRCH",
    "STALE", "TIMEDOUT", "TXTBSY", "XDEV", "NOTCAPABLE",
};

static inline const char *errname(unsigned e) {
    static char buf[24];
    if (e < sizeof ERRNO_NAMES / sizeof ERRNO_NAMES[0]) return ERRNO_NAMES[e];
    snprintf(buf, sizeof buf, "errno(%u)", e);
    return buf;
}

/* Prints "label: NAME" for the errno a raw call returned. */
#define SHOW(label, expr) printf("%s: %s\n", (label), errname((unsigned)(expr)))

/* Prints "label: A|B" when the errno is one of two both allowed by the witx (e.g. BADF|NOTCAPABLE
 * for a missing right), else the errno's own name. */
#define SHOW2(label, expr, a, b)                                                    \
    do {                                                                            \
        unsigned show2_e_ = (unsigned)(expr);                                       \
        if (show2_e_ == (a) || show2_e_ == (b))                                     \
            printf("%s: %s|%s\n", (label), errname(a), errname(b));                 \
        else                                                                        \
            printf("%s: %s\n", (label), errname(show2_e_));                         \
    } while (0)

/* Runs a raw call that must succeed; on failure prints it and exits 1. */
#define MUST(expr)                                                                  \
    do {                                                                            \
        __wasi_errno_t must_e_ = (expr);                                            \
        if (must_e_ != 0) {                                                         \
            printf("FAILED %s:%d: %s -> %s\n", __FILE__, __LINE__, #expr,           \
                   errname(must_e_));                                               \
            exit(1);                                                                \
        }                                                                           \
    } while (0)

static inline const char *yesno(int b) { return b ? "yes" : "no"; }

/* The preopened directory the harness passes as `--dir TMP::/sandbox` is fd 3. */
#define SANDBOX 3

/* All rights, for path_open's rights_base/rights_inheriting. */
#define ALL_RIGHTS ((__wasi_rights_t)0x1FFFFFFF)

/* Rights for opening a directory: all but those implying writing file data (requesting them
 * on a directory is EISDIR, as open(2) with O_WRONLY). */
#define DIR_RIGHTS                                                                  \
    (ALL_RIGHTS & ~(__wasi_rights_t)(__WASI_RIGHTS_FD_WRITE | __WASI_RIGHTS_FD_DATASYNC |  \
                                     __WASI_RIGHTS_FD_ALLOCATE |                    \
                                     __WASI_RIGHTS_FD_FILESTAT_SET_SIZE))

/* Opens directory `path` under dir. */
static inline __wasi_errno_t open_dir(__wasi_fd_t dir, const char *path, __wasi_fd_t *fd) {
    return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, __WASI_OFLAGS_DIRECTORY,
                            DIR_RIGHTS, ALL_RIGHTS, 0, fd);
}

/* Opens `path` under the sandbox with the given oflags and fdflags, all rights. */
static inline __wasi_errno_t open_at(__wasi_fd_t dir, const char *path, __wasi_oflags_t oflags,
                                     __wasi_fdflags_t fdflags, __wasi_fd_t *fd) {
    return __wasi_path_open(dir, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, path, oflags, ALL_RIGHTS,
                            ALL_RIGHTS, fdflags, fd);
}

/* Writes all of iovs, calling fd_write again after short writes (which fd_write may do,
 * like writev: the reference writes only the first non-empty iovec per call). *n is the
 * total written. */
static inline __wasi_errno_t write_all(__wasi_fd_t fd, const __wasi_ciovec_t *iovs, size_t cnt,
                                       size_t *n) {
    __wasi_ciovec_t v[16];
    if (cnt > 16) return __WASI_ERRNO_INVAL;
    memcpy(v, iovs, cnt * sizeof *v);
    size_t i = 0;
    *n = 0;
    while (i < cnt) {
        if (v[i].buf_len == 0) { i++; continue; }
        size_t k;
        __wasi_errno_t e = __wasi_fd_write(fd, v + i, cnt - i, &k);
        if (e != 0) return e;
        if (k == 0) return __WASI_ERRNO_IO;
        *n += k;
        while (k > 0 && i < cnt) {
            size_t take = k < v[i].buf_len ? k : v[i].buf_len;
            v[i].buf += take;
            v[i].buf_len -= take;
            k -= take;
            if (v[i].buf_len == 0) i++;
        }
    }
    return 0;
}

/* Writes a whole string to fd (see write_all). */
static inline __wasi_errno_t write_str(__wasi_fd_t fd, const char *s, size_t *n) {
    __wasi_ciovec_t iov = {(const uint8_t *)s, strlen(s)};
    return write_all(fd, &iov, 1, n);
}

/* Reads a whole (small) file under dir into buf (NUL-terminated); returns its length or -1. */
static inline long slurp(__wasi_fd_t dir, const char *path, char *buf, size_t cap) {
    __wasi_fd_t fd;
    if (open_at(dir, path, 0, 0, &fd) != 0) return -1;
    size_t total = 0;
    for (;;) {
        __wasi_iovec_t iov = {(uint8_t *)buf + total, cap - 1 - total};
        size_t n;
        if (__wasi_fd_read(fd, &iov, 1, &n) != 0) { __wasi_fd_close(fd); return -1; }
        if (n == 0 || total + n >= cap - 1) { total += n; break; }
        total += n;
    }
    buf[total] = 0;
    __wasi_fd_close(fd);
    return (long)total;
}

/* A pointer far outside any linear memory a test program has (4 GiB - 64 KiB). */
#define BAD_PTR ((void *)(uintptr_t)0xFFFF0000u)

#endif
