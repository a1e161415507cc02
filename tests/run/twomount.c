/* twomount: run with `--dir D::/a --dir D::/b --dir D/sub::/s` (one host tree, mounted
 * three ways). Writes through one mount and reads through the others, unlinks through
 * one, and prints what each mount sees; the host directory afterwards must hold every
 * change, as under `wasmtime run`. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) { printf("%s: %s\n", path, strerror(errno)); return; }
    fputs(text, f);
    fclose(f);
}

static void get(const char *path) {
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    if (!f) { printf("%s: %s\n", path, strerror(errno)); return; }
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    printf("%s: %s\n", path, buf);
}

int main(void) {
    put("/a/new.txt", "via a");
    get("/b/new.txt");
    put("/s/inner.txt", "via s");
    get("/a/sub/inner.txt");
    put("/b/sub/outer.txt", "via b");
    get("/s/outer.txt");
    printf("unlink /a/old.txt: %d\n", unlink("/a/old.txt"));
    printf("/b/old.txt after: %s\n", access("/b/old.txt", F_OK) == 0 ? "still there" : "gone");
    return 0;
}
