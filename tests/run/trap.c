/* Divides by zero after printing a line: `clew run` must deliver the line, report the
 * trap on stderr and exit with wasmtime's trap status (134). */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    (void)argv;
    printf("before the trap\n");
    fflush(stdout);
    volatile int zero = argc - 1;
    return 10 / zero;
}
