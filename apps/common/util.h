/* Shared helpers for Clew's userland (the programs in apps/).
 *
 * Header-only on purpose: every program stays "one .c file, one clang command"
 * (see apps/README.md). All functions are `static inline` (or marked unused) so
 * that programs that do not call some of them still build with -Wall -Werror.
 *
 * Conventions kept by every program:
 *   - diagnostics go to stderr as `prog: path: strerror(errno)` (warn_path) or
 *     `prog: message` (warn_msg); a failing program exits nonzero;
 *   - `prog_name` is set once at the top of main().
 */
#ifndef CLEW_APPS_UTIL_H
#define CLEW_APPS_UTIL_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__attribute__((unused)) static const char *prog_name = "?";

/* `prog: path: strerror(errno)` on stderr. Reads errno before any other call. */
static inline void warn_path(const char *path) {
    int saved = errno;
    fflush(stdout);
    fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(saved));
}

/* `prog: path: strerror(err)` with an explicit error number. */
static inline void warn_path_err(const char *path, int err) {
    fflush(stdout);
    fprintf(stderr, "%s: %s: %s\n", prog_name, path, strerror(err));
}

/* `prog: <formatted message>` on stderr. */
__attribute__((format(printf, 1, 2))) static inline void warn_msg(const char *fmt, ...) {
    va_list ap;
    fflush(stdout);
    fprintf(stderr, "%s: ", prog_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Print `usage: ...` to stderr and exit with `code`. */
static inline void usage_exit(const char *usage, int code) {
    fprintf(stderr, "usage: %s %s\n", prog_name, usage);
    exit(code);
}

/* getopt(3) with diagnostics under our own name (argv[0] may be a path
 * such as "/bin/ls" or "ls.wasm"): `prog: invalid option -- 'x'`. Returns
 * '?' after printing for a bad option or a missing argument. */
static inline int next_opt(int argc, char **argv, const char *spec) {
    int c;
    opterr = 0;
    c = getopt(argc, argv, spec);
    if (c == '?') {
        if (optopt != 0 && strchr(spec, optopt) != NULL)
            warn_msg("option requires an argument -- '%c'", optopt);
        else
            warn_msg("invalid option -- '%c'", optopt);
    }
    return c;
}

/* write(2) until everything is written; 0 on success, -1 with errno set. */
static inline int write_all(int fd, const void *buf, size_t len) {
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Copy `in` to `out` until EOF. Returns 0, or -1 with errno set and *which
 * set to 'r' (read failed) or 'w' (write failed). */
static inline int copy_fd(int in, int out, char *which) {
    static char buf[65536];
    for (;;) {
        ssize_t n = read(in, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            *which = 'r';
            return -1;
        }
        if (write_all(out, buf, (size_t)n) < 0) {
            *which = 'w';
            return -1;
        }
    }
}

/* Parse a non-negative decimal count (for -n N); -1 when invalid. */
static inline long parse_count(const char *s) {
    char *end;
    long v;
    if (*s == '\0' || *s == '-')
        return -1;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0)
        return -1;
    return v;
}

/* Join a directory and a name with exactly one '/'. Caller frees. */
static inline char *path_join(const char *dir, const char *name) {
    size_t dl = strlen(dir), nl = strlen(name);
    char *p = malloc(dl + nl + 2);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog_name);
        exit(1);
    }
    memcpy(p, dir, dl);
    if (dl > 0 && dir[dl - 1] != '/')
        p[dl++] = '/';
    memcpy(p + dl, name, nl + 1);
    return p;
}

/* The last component of a path, ignoring trailing slashes ("a/b/" -> "b").
 * Returns a pointer into a static copy. */
static inline const char *base_name(const char *path) {
    static char buf[4096];
    size_t len = strlen(path);
    const char *slash;
    while (len > 1 && path[len - 1] == '/')
        len--;
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, path, len);
    buf[len] = '\0';
    slash = strrchr(buf, '/');
    return (slash != NULL && slash[1] != '\0') ? slash + 1 : buf;
}

/* malloc that exits on failure. */
static inline void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog_name);
        exit(1);
    }
    return p;
}

static inline void *xrealloc(void *old, size_t n) {
    void *p = realloc(old, n ? n : 1);
    if (p == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog_name);
        exit(1);
    }
    return p;
}

static inline char *xstrdup(const char *s) {
    size_t n = strlen(s) + 1;
    return memcpy(xmalloc(n), s, n);
}

#endif
