// A program working on the large files of a `--dir` tree (tests/run.rs,
// `large_dir_files_are_read_on_demand_and_changes_come_back`): reads the last bytes of
// a huge sparse file, checksums one file, and changes the others in every way a program
// can: append, rename, truncate, delete, overwrite in the middle, a new hard link.
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <unistd.h>

static int fail(const char *what) {
    perror(what);
    return 1;
}

int main(void) {
    char tail[5] = {0};
    int fd = open("/d/huge", O_RDONLY);
    if (fd < 0) return fail("open huge");
    off_t end = lseek(fd, 0, SEEK_END);
    if (pread(fd, tail, 4, end - 4) != 4) return fail("pread huge");
    close(fd);
    printf("huge: %lld bytes, ends with %s\n", (long long)end, tail);

    FILE *f = fopen("/d/keep", "rb");
    if (!f) return fail("keep");
    uint64_t h = 14695981039346656037ULL, n = 0;
    int c;
    while ((c = getc(f)) != EOF) {
        h = (h ^ (unsigned char)c) * 1099511628211ULL;
        n++;
    }
    fclose(f);
    printf("keep: %llu bytes, fnv %016llx\n", (unsigned long long)n, (unsigned long long)h);

    f = fopen("/d/append", "ab");
    if (!f) return fail("append");
    fputs("appended", f);
    fclose(f);
    if (rename("/d/move", "/d/moved")) return fail("rename");
    if (truncate("/d/cut", 10)) return fail("truncate");
    if (unlink("/d/gone")) return fail("unlink");
    fd = open("/d/patch", O_WRONLY);
    if (fd < 0) return fail("open patch");
    if (pwrite(fd, "PATCH", 5, 70000) != 5) return fail("pwrite");
    close(fd);
    if (link("/d/keep", "/d/keep-link")) return fail("link");
    return 0;
}
