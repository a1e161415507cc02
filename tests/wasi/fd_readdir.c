/* fd_readdir: entries of a fixture directory with their types (sorted, as the order is the
 * implementation's), the same set when read again in small chunks resumed by cookie, a
 * cookie past the end, and libc opendir/readdir/rewinddir on top; EBADF/ENOTDIR paths. */
#include "common.h"
#include <dirent.h>

#define MAXE 64
static char names[MAXE][64];
static int nnames;

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

static const char *tname(uint8_t t) {
    static const char *n[] = {"unknown", "block", "char", "dir", "file", "dgram", "stream", "symlink"};
    return t < 8 ? n[t] : "?";
}

/* Reads the whole directory with buffers of buf_len bytes, resuming from the last entry that
 * fit entirely; returns the number of fd_readdir calls. */
static int read_all(__wasi_fd_t fd, size_t buf_len, int with_types) {
    static uint8_t buf[4096];
    __wasi_dircookie_t cookie = 0;
    int calls = 0;
    nnames = 0;
    for (;;) {
        size_t used;
        MUST(__wasi_fd_readdir(fd, buf, buf_len, cookie, &used));
        calls++;
        size_t off = 0;
        int progressed = 0;
        while (off + sizeof(__wasi_dirent_t) <= used) {
            __wasi_dirent_t d;
            memcpy(&d, buf + off, sizeof d);
            if (off + sizeof d + d.d_namlen > used) break;
            if (nnames < MAXE) {
                snprintf(names[nnames], sizeof names[0], "%.*s%s%s", (int)d.d_namlen,
                         (char *)buf + off + sizeof d, with_types ? " " : "",
                         with_types ? tname(d.d_type) : "");
                nnames++;
            }
            cookie = d.d_next;
            off += sizeof d + d.d_namlen;
            progressed = 1;
        }
        if (used < buf_len) break;
        if (!progressed) { printf("buffer of %zu too small for one entry\n", buf_len); break; }
        if (calls > 1000) { printf("no end after 1000 calls\n"); break; }
    }
    qsort(names, nnames, sizeof names[0], cmp);
    return calls;
}

int main(void) {
    __wasi_fd_t fd;
    MUST(open_dir(SANDBOX, "dir", &fd));
    read_all(fd, 4096, 1);
    printf("dir has %d entries:\n", nnames);
    for (int i = 0; i < nnames; i++) printf("  %s\n", names[i]);
    char first[MAXE][64];
    int nfirst = nnames;
    memcpy(first, names, sizeof first);
    int calls = read_all(fd, 40, 1);
    int same = nnames == nfirst;
    for (int i = 0; same && i < nnames; i++) same = strcmp(first[i], names[i]) == 0;
    printf("40-byte buffers: same entries: %s, more than one call: %s\n", yesno(same), yesno(calls > 1));

    /* A cookie taken from the middle gives the rest of the entries. */
    uint8_t buf[4096];
    size_t used;
    MUST(__wasi_fd_readdir(fd, buf, sizeof buf, 0, &used));
    __wasi_dirent_t d;
    memcpy(&d, buf, sizeof d);
    size_t used2;
    MUST(__wasi_fd_readdir(fd, buf, sizeof buf, d.d_next, &used2));
    printf("resuming after the first entry returns one entry fewer: %s\n",
           yesno(used2 == used - sizeof d - d.d_namlen));
    MUST(__wasi_fd_readdir(fd, buf, sizeof buf, 1000000, &used));
    printf("cookie past the end: %zu bytes\n", used);
    MUST(__wasi_fd_readdir(fd, buf, 0, 0, &used));
    printf("zero-length buffer: %zu bytes\n", used);
    __wasi_fd_close(fd);

    /* An empty directory holds only . and .. (if the implementation lists them). */
    MUST(__wasi_path_create_directory(SANDBOX, "empty"));
    MUST(open_dir(SANDBOX, "empty", &fd));
    read_all(fd, 4096, 0);
    int only_dots = 1;
    for (int i = 0; i < nnames; i++)
        if (strcmp(names[i], ".") && strcmp(names[i], "..")) only_dots = 0;
    printf("new empty directory lists nothing but . and ..: %s\n", yesno(only_dots));
    __wasi_fd_close(fd);

    SHOW("fd_readdir(fd 99)", __wasi_fd_readdir(99, buf, sizeof buf, 0, &used));
    MUST(open_at(SANDBOX, "hello.txt", 0, 0, &fd));
    SHOW2("fd_readdir(regular file)", __wasi_fd_readdir(fd, buf, sizeof buf, 0, &used),
          __WASI_ERRNO_NOTDIR, __WASI_ERRNO_BADF);
    __wasi_fd_close(fd);

    /* libc on top. */
    DIR *dir = opendir("/sandbox/dir/sub");
    if (!dir) { printf("opendir failed\n"); return 1; }
    int count = 0, files = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        count++;
        if (strcmp(e->d_name, "c.txt") == 0) files++;
    }
    rewinddir(dir);
    int again = 0;
    while (readdir(dir)) again++;
    closedir(dir);
    printf("libc readdir of dir/sub finds c.txt: %s, rewinddir gives the same count: %s\n",
           yesno(files == 1), yesno(again == count));
    return 0;
}
