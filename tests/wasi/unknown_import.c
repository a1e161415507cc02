/* Unknown imports (wasmtime run): a module importing a function no one provides fails to
 * instantiate, unless --default-values-unknown-imports (the function returns zeros) or
 * --trap-unknown-imports (it traps when called; never called, the program runs). argv[1]
 * "call" calls it. */
#include "common.h"

__attribute__((import_module("env"), import_name("clew_missing"))) int clew_missing(int x);

int main(int argc, char **argv) {
    printf("main runs\n");
    if (argc > 1 && strcmp(argv[1], "call") == 0) {
        int r = clew_missing(7);
        printf("clew_missing(7) = %d\n", r);
    }
    return 0;
}
