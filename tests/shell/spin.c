/* spin: a compute loop that makes no WASI calls after its first line, for the shell's
 * end-to-end tests (crates/clew/tests/shell.rs): `kill` must stop it from outside. */
#include <stdio.h>

static volatile unsigned long counter;

int main(void) {
    printf("spinning\n");
    fflush(stdout);
    for (;;)
        counter++;
}
