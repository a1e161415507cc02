/* The smallest useful WASI program: what `clew run hello.wasm` costs end to end. */
#include <stdio.h>

int main(void) {
    printf("hello from clew\n");
    return 0;
}
