/* A long run must not grow the host's native stack. Over 10^7 wasm instructions in one
 * call-free loop, then 64 random_get calls of 4 KiB with a byte loop between them (the
 * shape of sched_random.c's 16 x 4 KiB loop, which overflowed the 256 MiB engine thread of
 * `clew run --host --engine interp` in debug builds when wasmi dispatched by tail calls:
 * unoptimized, each executed instruction left a native frame behind). */
#include "common.h"

static volatile uint32_t sink;

int main(void) {
    uint32_t x = 1;
    for (int i = 0; i < 3000000; i++) x = x * 1664525u + 1013904223u;
    sink = x;
    static uint8_t buf[4096];
    uint32_t sum = 0;
    for (int r = 0; r < 64; r++) {
        MUST(__wasi_random_get(buf, sizeof buf));
        for (size_t i = 0; i < sizeof buf; i++) sum += buf[i];
    }
    sink = sum;
    printf("long loops done, stack intact\n");
    return 0;
}
