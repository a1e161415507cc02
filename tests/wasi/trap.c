/* A wasm trap (unreachable) ends the program like `wasmtime run` on Unix: output so far is
 * kept, and the exit status is 134 (128 + SIGABRT). */
#include "common.h"

int main(void) {
    printf("before the trap\n");
    __builtin_trap();
}
