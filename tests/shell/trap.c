/* trap KIND: ends in a WebAssembly trap of the given kind, for the shell's end-to-end
 * tests (crates/clew/tests/shell.rs): the process dies, the shell stays.
 * KIND: div (integer divide by zero), unreachable, oob (out-of-bounds memory access),
 * stack (call stack exhausted), indirect (indirect call to a missing table entry). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static volatile int zero;
static volatile int depth;
static volatile uintptr_t bad_function = 0x7fff;

/* Called through a volatile pointer so that clang cannot turn the recursion into a loop. */
static int recurse(int n);
static int (*volatile next)(int) = recurse;

static int recurse(int n) {
    depth++;
    if (n < 0)
        return 0;
    return next(n + 1) + n;
}

int main(int argc, char **argv) {
    const char *kind = argc > 1 ? argv[1] : "div";
    printf("trap: %s\n", kind);
    fflush(stdout);
    if (strcmp(kind, "div") == 0)
        return 10 / zero;
    if (strcmp(kind, "unreachable") == 0)
        __builtin_trap();
    if (strcmp(kind, "oob") == 0)
        return *(volatile int *)(uintptr_t)0xfffffff0u;
    if (strcmp(kind, "stack") == 0)
        return recurse(1);
    if (strcmp(kind, "indirect") == 0)
        return ((int (*)(void))bad_function)();
    fprintf(stderr, "trap: unknown kind %s\n", kind);
    return 2;
}
