/* `--memory MiB` caps the guest's linear memory (wasmtime run -W max-memory-size): a
 * 64 MiB malloc fails under a 16 MiB cap (memory.grow answers -1, malloc NULL) and the
 * program goes on; small allocations still succeed. Without a cap it succeeds. */
#include "common.h"

/* Through a volatile pointer: clang may otherwise drop a malloc/free pair it can see. */
static char *volatile keep;

int main(void) {
    keep = malloc(64 << 20);
    char *big = keep;
    printf("malloc(64 MiB): %s\n", big ? "ok" : "NULL");
    if (big) {
        memset(big, 1, 64 << 20);
        printf("touched every byte: %s\n", yesno(big[(64 << 20) - 1] == 1));
        free(big);
    }
    keep = malloc(1 << 20);
    printf("malloc(1 MiB): %s\n", keep ? "ok" : "NULL");
    printf("memory.grow(2048 pages): %s\n",
           __builtin_wasm_memory_grow(0, 2048) == (size_t)-1 ? "-1" : "grew");
    return 0;
}
