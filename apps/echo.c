/* echo [-n] [STRING]...: print the arguments separated by spaces, then a
 * newline unless -n. Like coreutils, only leading "-n" arguments are options;
 * everything else (including "--") is printed verbatim. */
#include "common/util.h"

int main(int argc, char **argv) {
    int newline = 1, i = 1;
    prog_name = "echo";
    while (i < argc && strcmp(argv[i], "-n") == 0) {
        newline = 0;
        i++;
    }
    for (int first = 1; i < argc; i++, first = 0) {
        if (!first)
            putchar(' ');
        fputs(argv[i], stdout);
    }
    if (newline)
        putchar('\n');
    if (fflush(stdout) != 0) {
        warn_msg("write error: %s", strerror(errno));
        return 1;
    }
    return 0;
}
