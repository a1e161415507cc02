/* Filesystem helpers shared by ls, cp, mv, rm and grep -r.
 *
 * list_dir() reads a whole directory into a sorted array before the caller
 * touches it, so callers that create or delete entries while walking (cp -r
 * into a subdirectory of itself, rm -r) never depend on readdir's behaviour
 * under concurrent modification.
 */
#ifndef CLEW_APPS_FS_H
#define CLEW_APPS_FS_H

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "util.h"

struct name_list {
    char **names;
    size_t len;
};

static inline int cmp_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted entries of `path`, without "." and ".." unless `with_dots`.
 * Returns 0, or -1 with errno set. */
static inline int list_dir(const char *path, int with_dots, struct name_list *out) {
    DIR *d = opendir(path);
    struct dirent *e;
    size_t cap = 16;
    out->len = 0;
    out->names = NULL;
    if (d == NULL)
        return -1;
    out->names = xmalloc(cap * sizeof *out->names);
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        int dot = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
        if (dot && !with_dots)
            continue;
        if (out->len == cap) {
            cap *= 2;
            out->names = xrealloc(out->names, cap * sizeof *out->names);
        }
        out->names[out->len++] = xstrdup(e->d_name);
    }
    if (errno != 0) {
        int saved = errno;
        closedir(d);
        errno = saved;
        return -1;
    }
    closedir(d);
    qsort(out->names, out->len, sizeof *out->names, cmp_names);
    return 0;
}

static inline void free_names(struct name_list *l) {
    for (size_t i = 0; i < l->len; i++)
        free(l->names[i]);
    free(l->names);
    l->names = NULL;
    l->len = 0;
}

/* Copy regular file `src` to `dst` (created or truncated). 0, or -1 after
 * reporting the failing path. */
static inline int copy_file(const char *src, const char *dst) {
    char which = 0;
    int in, out, rc = 0;
    in = open(src, O_RDONLY);
    if (in < 0) {
        warn_path(src);
        return -1;
    }
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (out < 0) {
        warn_path(dst);
        close(in);
        return -1;
    }
    if (copy_fd(in, out, &which) < 0) {
        warn_path(which == 'r' ? src : dst);
        rc = -1;
    }
    close(in);
    if (close(out) < 0 && rc == 0) {
        warn_path(dst);
        rc = -1;
    }
    return rc;
}

/* Copy `src` (file, or directory when `recursive`) to `dst`. Errors are
 * reported; returns the number of failures. */
static inline int copy_tree(const char *src, const char *dst, int recursive) {
    struct stat st;
    struct name_list l;
    int failures = 0;
    if (lstat(src, &st) < 0) {
        warn_path(src);
        return 1;
    }
    if (!S_ISDIR(st.st_mode))
        return copy_file(src, dst) < 0;
    if (!recursive) {
        warn_msg("%s: -r not specified; omitting directory", src);
        return 1;
    }
    /* List first, then create: copying a directory into itself terminates. */
    if (list_dir(src, 0, &l) < 0) {
        warn_path(src);
        return 1;
    }
    if (mkdir(dst, 0777) < 0 && errno != EEXIST) {
        warn_path(dst);
        free_names(&l);
        return 1;
    }
    for (size_t i = 0; i < l.len; i++) {
        char *s = path_join(src, l.names[i]);
        char *d = path_join(dst, l.names[i]);
        failures += copy_tree(s, d, recursive);
        free(s);
        free(d);
    }
    free_names(&l);
    return failures;
}

/* Remove `path` and, when it is a directory, everything below it.
 * Errors are reported unless `quiet_missing` and the path does not exist.
 * Returns the number of failures. */
static inline int remove_tree(const char *path, int quiet_missing) {
    struct stat st;
    struct name_list l;
    int failures = 0;
    if (lstat(path, &st) < 0) {
        if (quiet_missing && errno == ENOENT)
            return 0;
        warn_path(path);
        return 1;
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0) {
            warn_path(path);
            return 1;
        }
        return 0;
    }
    if (list_dir(path, 0, &l) < 0) {
        warn_path(path);
        return 1;
    }
    for (size_t i = 0; i < l.len; i++) {
        char *p = path_join(path, l.names[i]);
        failures += remove_tree(p, 0);
        free(p);
    }
    free_names(&l);
    if (rmdir(path) < 0) {
        warn_path(path);
        failures++;
    }
    return failures;
}

#endif
