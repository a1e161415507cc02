/* A realistic program through libc only: builds a small tree (mkdir, fopen/fprintf), walks
 * it recursively (opendir/readdir/stat, sorted), appends, renames, removes, and leaves a
 * known tree on the host for the harness to check. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void walk(const char *path, int depth) {
    DIR *d = opendir(path);
    if (!d) { printf("opendir %s: %s\n", path, strerror(errno)); return; }
    char *names[64];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 64)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof names[0], cmp);
    for (int i = 0; i < n; i++) {
        char full[512];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat st;
        if (lstat(full, &st) != 0) { printf("lstat %s failed\n", full); continue; }
        printf("%*s%s%s", depth * 2, "", names[i], S_ISDIR(st.st_mode) ? "/" : S_ISLNK(st.st_mode) ? "@" : "");
        if (S_ISREG(st.st_mode)) printf(" (%lld bytes)", (long long)st.st_size);
        printf("\n");
        if (S_ISDIR(st.st_mode)) walk(full, depth + 1);
        free(names[i]);
    }
}

int main(void) {
    printf("mkdir proj: %d\n", mkdir("/sandbox/proj", 0755));
    printf("mkdir proj/src: %d\n", mkdir("/sandbox/proj/src", 0755));
    printf("mkdir proj again fails with EEXIST: %s\n",
           mkdir("/sandbox/proj", 0755) != 0 && errno == EEXIST ? "yes" : "no");
    for (int i = 0; i < 3; i++) {
        char p[64];
        snprintf(p, sizeof p, "/sandbox/proj/src/file%d.txt", i);
        FILE *f = fopen(p, "w");
        for (int j = 0; j <= i; j++) fprintf(f, "line %d of file %d\n", j, i);
        fclose(f);
    }
    FILE *f = fopen("/sandbox/proj/README", "w");
    fputs("A small project.\n", f);
    fclose(f);
    f = fopen("/sandbox/proj/README", "a");
    fputs("Appended.\n", f);
    fclose(f);
    printf("rename: %d\n", rename("/sandbox/proj/src/file0.txt", "/sandbox/proj/first.txt"));
    printf("unlink: %d\n", unlink("/sandbox/proj/src/file1.txt"));
    printf("rmdir non-empty fails with ENOTEMPTY: %s\n",
           rmdir("/sandbox/proj/src") != 0 && errno == ENOTEMPTY ? "yes" : "no");
    printf("open missing fails with ENOENT: %s\n",
           fopen("/sandbox/proj/nope", "r") == NULL && errno == ENOENT ? "yes" : "no");
    printf("chdir: %d\n", chdir("/sandbox/proj"));
    f = fopen("relative.txt", "w");
    printf("fopen relative after chdir: %s\n", f ? "ok" : strerror(errno));
    if (f) { fputs("relative\n", f); fclose(f); }
    walk("/sandbox/proj", 0);
    char line[128];
    f = fopen("/sandbox/proj/README", "r");
    while (fgets(line, sizeof line, f)) printf("README: %s", line);
    fclose(f);
    return 0;
}
