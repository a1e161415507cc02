/* sched_yield, and random_get: buffers of several sizes are filled (not left as they were),
 * two draws differ, a zero-length draw succeeds; libc getentropy and arc4random on top. */
#include "common.h"
#include <unistd.h>

int main(void) {
    SHOW("sched_yield", __wasi_sched_yield());
    for (int i = 0; i < 100; i++) MUST(__wasi_sched_yield());
    printf("sched_yield x100: ok\n");

    static uint8_t a[4096], b[4096];
    size_t sizes[] = {1, 16, 256, 4096};
    for (int k = 0; k < 4; k++) {
        size_t sz = sizes[k];
        int any_change = 0, diff = 0;
        for (int round = 0; round < 4 && !any_change; round++) {
            memset(a, 0xAA, sizeof a);
            MUST(__wasi_random_get(a, sz));
            for (size_t i = 0; i < sz; i++) if (a[i] != 0xAA) any_change = 1;
        }
        memset(b, 0xAA, sizeof b);
        for (int round = 0; round < 4 && !diff; round++) {
            MUST(__wasi_random_get(a, sz));
            MUST(__wasi_random_get(b, sz));
            diff = memcmp(a, b, sz) != 0;
        }
        printf("random_get(%zu): fills the buffer: %s, two draws differ: %s\n", sz, yesno(any_change), yesno(diff));
    }
    memset(a, 0xAA, 8);
    SHOW("random_get(0)", __wasi_random_get(a + 4, 0));
    printf("zero-length draw leaves memory: %s\n", yesno(a[4] == 0xAA));
    /* Rough uniformity over 64 KiB: every byte value appears. */
    static int seen[256];
    for (int r = 0; r < 16; r++) {
        MUST(__wasi_random_get(b, sizeof b));
        for (size_t i = 0; i < sizeof b; i++) seen[b[i]]++;
    }
    int all = 1;
    for (int i = 0; i < 256; i++) if (!seen[i]) all = 0;
    printf("every byte value appears in 64 KiB: %s\n", yesno(all));
    printf("libc getentropy(32): %d\n", getentropy(a, 32));
    uint32_t x = arc4random(), y = arc4random(), z = arc4random();
    printf("arc4random varies: %s\n", yesno(x != y || y != z));
    return 0;
}
