/* forever: says it has started, then computes forever without a WASI call, for the test
 * that a `clew run` killed from outside (a timeout's SIGTERM, SIGKILL) takes its QEMU
 * with it. */
#include <stdio.h>

int main(void) {
    puts("started");
    fflush(stdout);
    volatile unsigned counter = 0;
    for (;;)
        counter++;
}
