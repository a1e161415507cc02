/* Allocates argv[1] MiB in one malloc and touches every page, for the test that a program
 * gets the linear memory it would get under `wasmtime run` (more than the guest's old
 * 1 GiB of RAM), and no more than `--memory` allows. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    size_t mib = argc > 1 ? (size_t)atoi(argv[1]) : 1;
    volatile char *p = malloc(mib << 20);
    if (!p) {
        printf("malloc of %zu MiB failed\n", mib);
        return 1;
    }
    unsigned long sum = 0;
    for (size_t i = 0; i < (mib << 20); i += 4096)
        p[i] = (char)(i >> 12);
    for (size_t i = 0; i < (mib << 20); i += 4096)
        sum += (unsigned char)p[i];
    printf("%zu MiB touched, checksum %lu\n", mib, sum);
    return 0;
}
