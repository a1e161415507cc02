/* A program of the size real ones have: 250 MiB of linear memory, touched page by page,
 * and a large input file read from a --dir, with a small result written next to it. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t n = (size_t)250 << 20;
    unsigned char *p = malloc(n);
    if (!p) {
        printf("malloc of 250 MiB failed\n");
        return 1;
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < n; i += 4096)
        p[i] = (unsigned char)(i >> 12);
    for (size_t i = 0; i < n; i += 4096)
        sum += p[i];
    printf("250 MiB touched, checksum %lu\n", sum);

    FILE *f = fopen("/data/input.bin", "rb");
    if (!f) {
        printf("cannot open /data/input.bin\n");
        return 1;
    }
    static unsigned char buf[1 << 16];
    unsigned long total = 0, hash = 0;
    size_t r;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0) {
        total += r;
        hash = hash * 31 + buf[r - 1];
    }
    fclose(f);
    printf("read %lu bytes, hash %lu\n", total, hash);
    f = fopen("/data/result.txt", "w");
    if (!f || fprintf(f, "%lu\n", total) < 0 || fclose(f) != 0)
        return 1;
    return 0;
}
