/* args_sizes_get, args_get: the raw API, checked against libc's argv.
 * argv[0] is the module path as given (differs per run), so only its basename is shown. */
#include "common.h"

int main(int argc, char **argv) {
    __wasi_size_t count, size;
    MUST(__wasi_args_sizes_get(&count, &size));
    printf("args_sizes_get: count=%u (libc argc=%d)\n", (unsigned)count, argc);
    char **ptrs = calloc(count + 1, sizeof(char *));
    char *buf = malloc(size + 1);
    memset(buf, 0x7f, size + 1);
    MUST(__wasi_args_get((uint8_t **)ptrs, (uint8_t *)buf));
    size_t sum = 0;
    int inside = 1;
    for (unsigned i = 0; i < count; i++) {
        if (ptrs[i] < buf || ptrs[i] >= buf + size) inside = 0;
        else sum += strlen(ptrs[i]) + 1;
    }
    printf("pointers inside argv_buf: %s\n", yesno(inside));
    printf("buffer size = sum of NUL-terminated args: %s\n", yesno(sum == size));
    printf("byte after buffer untouched: %s\n", yesno(buf[size] == 0x7f));
    if (count > 0) {
        const char *a0 = ptrs[0], *slash = strrchr(a0, '/');
        printf("argv[0] basename: %s\n", slash ? slash + 1 : a0);
    }
    for (unsigned i = 1; i < count; i++) {
        printf("argv[%u] (%zu bytes): [%s] libc agrees: %s\n", i, strlen(ptrs[i]), ptrs[i],
               yesno((int)i < argc && strcmp(argv[i], ptrs[i]) == 0));
    }
    return 0;
}
