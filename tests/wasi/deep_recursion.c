/* Recursion as deep as `wasmtime run` allows a small function (its 512 KiB of stack
 * give about 30,000 frames of this size): both of Clew's tiers must run it, not trap (the
 * interpreter once stopped at 1,000 nested calls). With no argument, 10,000 levels; the
 * result shows every level ran. */
#include <stdio.h>
#include <stdlib.h>

/* Not a tail call, and not an accumulator clang could turn into a loop. */
__attribute__((noinline)) static unsigned level(unsigned n) {
    if (n == 0)
        return 1;
    unsigned below = level(n - 1);
    return below * 3u + (n ^ below);
}

int main(int argc, char **argv) {
    unsigned depth = argc > 1 ? (unsigned)atoi(argv[1]) : 10000;
    printf("depth %u: %u\n", depth, level(depth));
    return 0;
}
