/* environ_sizes_get, environ_get: every variable in the order given, and getenv. */
#include "common.h"

int main(void) {
    __wasi_size_t count, size;
    MUST(__wasi_environ_sizes_get(&count, &size));
    printf("environ_sizes_get: count=%u size=%u\n", (unsigned)count, (unsigned)size);
    char **ptrs = calloc(count + 1, sizeof(char *));
    char *buf = malloc(size + 1);
    memset(buf, 0x7f, size + 1);
    MUST(__wasi_environ_get((uint8_t **)ptrs, (uint8_t *)buf));
    size_t sum = 0;
    for (unsigned i = 0; i < count; i++) {
        printf("environ[%u]: [%s]\n", i, ptrs[i]);
        sum += strlen(ptrs[i]) + 1;
    }
    printf("buffer size = sum of NUL-terminated entries: %s\n", yesno(sum == size));
    printf("byte after buffer untouched: %s\n", yesno(buf[size] == 0x7f));
    const char *names[] = {"GREETING", "EMPTY", "EQUALS", "MISSING"};
    for (int i = 0; i < 4; i++) {
        const char *v = getenv(names[i]);
        printf("getenv(%s): %s%s%s\n", names[i], v ? "[" : "", v ? v : "(null)", v ? "]" : "");
    }
    return 0;
}
