/* `--invoke` (wasmtime run): a reactor (compiled with -mexec-model=reactor, because its name
 * starts with reactor_) whose `_initialize` runs the constructors before the export is
 * called; the runner parses the arguments by the export's parameter types (decimal, or
 * 0x hex for integers) and prints each result on its own line. */
#include "common.h"

static int base;

__attribute__((constructor)) static void init(void) {
    base = 100;
    printf("_initialize: constructors ran\n");
}

__attribute__((export_name("add"))) int add(int a, int b) {
    printf("add(%d, %d) called, base %d\n", a, b, base);
    return base + a + b;
}

__attribute__((export_name("mul64"))) long long mul64(long long a, long long b) { return a * b; }

__attribute__((export_name("half"))) double half(double x) { return x / 2; }

__attribute__((export_name("hello"))) void hello(void) {
    printf("hello from an export, base %d\n", base);
}
