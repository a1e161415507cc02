/* Memory-bound: random-walk pointer chasing and strided sums over 8 MiB. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    size_t n = 2 * 1024 * 1024; /* uint32 entries: 8 MiB */
    uint32_t *a = malloc(n * sizeof(uint32_t));
    if (!a) return 1;
    /* a random cyclic permutation (Sattolo) */
    for (size_t i = 0; i < n; i++) a[i] = (uint32_t)i;
    uint32_t r = 1;
    for (size_t i = n - 1; i > 0; i--) {
        r = r * 1664525u + 1013904223u;
        size_t j = r % i;
        uint32_t t = a[i]; a[i] = a[j]; a[j] = t;
    }
    uint32_t p = 0, acc = 0;
    for (size_t k = 0; k < 1000000; k++) { p = a[p]; acc += p; }
    uint64_t sum = 0;
    for (size_t s = 1; s <= 16; s *= 2)
        for (size_t i = 0; i < n; i += s) sum += a[i];
    printf("memory %u %llu\n", acc, (unsigned long long)sum);
    return 0;
}
