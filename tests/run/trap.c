/* Divides by zero after printing a line (or, given the argument `oob`, loads from far
 * outside linear memory): `clew run` must deliver the line, report the trap on stderr and
 * exit with wasmtime's trap status (134). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    printf("before the trap\n");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "oob") == 0) {
        volatile int *far = (int *)0xfffffff0;
        return *far;
    }
    volatile int zero = argc - 1;
    return 10 / zero;
}
