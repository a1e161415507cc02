/* forever: says it has started, then computes forever without a WASI call (or, given the
 * argument `sleep`, sleeps forever in `poll_oneoff`), for the tests that a `clew run`
 * killed from outside (a timeout's SIGTERM, SIGKILL) takes its QEMU with it and that
 * `-W timeout` stops a program whatever it is doing. Given `write FILE`, it first writes
 * "written\n" to FILE (what a `clew run` stopped by a signal must bring back). */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "write") == 0) {
        FILE *f = fopen(argv[2], "w");
        if (!f || fputs("written\n", f) < 0 || fclose(f) != 0)
            return 1;
    }
    puts("started");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "sleep") == 0)
        for (;;)
            sleep(1000);
    volatile unsigned counter = 0;
    for (;;)
        counter++;
}
