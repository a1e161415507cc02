/* Exercises what `clew run` carries between the host and the guest: argv, environment,
 * stdout and stderr kept apart, stdin to its end (binary bytes included), changes under a
 * --dir, and the exit code (argv[1]). Its output under `clew run` must equal its output
 * under `clew run --host`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    const char *greeting = getenv("GREETING");
    printf("GREETING=%s\n", greeting ? greeting : "(unset)");
    fprintf(stderr, "a line on stderr\n");
    fflush(stdout);

    unsigned long count = 0, hash = 5381;
    int c;
    while ((c = getchar()) != EOF) {
        count++;
        hash = hash * 33 + (unsigned char)c;
    }
    printf("stdin: %lu bytes, hash %lu\n", count, hash);

    FILE *f = fopen("/data/new.txt", "w");
    if (!f || fputs("created in clew\n", f) < 0 || fclose(f) != 0)
        printf("new.txt: %s\n", strerror(errno));
    if (remove("/data/delete-me.txt") != 0)
        printf("remove: %s\n", strerror(errno));
    f = fopen("/data/append.txt", "a");
    if (!f || fputs("two\n", f) < 0 || fclose(f) != 0)
        printf("append.txt: %s\n", strerror(errno));
    if (mkdir("/data/newdir", 0755) != 0)
        printf("mkdir: %s\n", strerror(errno));
    if (rename("/data/old-name.txt", "/data/newdir/new-name.txt") != 0)
        printf("rename: %s\n", strerror(errno));
    if (fopen("/outside.txt", "w") != NULL)
        printf("escaped the preopen!\n");
    /* Binary output: every byte value, so nothing is translated on the way. */
    for (int b = 0; b < 256; b++)
        putchar(b);
    putchar('\n');
    return argc > 1 ? atoi(argv[1]) : 0;
}
