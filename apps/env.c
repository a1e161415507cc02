/* env: print the environment, one NAME=VALUE per line.
 * (Running a command with a modified environment is not supported: WASI
 * programs cannot spawn processes.) -0 ends lines with NUL instead. */
#include "common/util.h"

extern char **environ;

int main(int argc, char **argv) {
    char end = '\n';
    prog_name = "env";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-0") == 0 || strcmp(argv[i], "--null") == 0) {
            end = '\0';
        } else {
            warn_msg("running a command is not supported: '%s'", argv[i]);
            usage_exit("[-0]", 125);
        }
    }
    for (char **e = environ; e != NULL && *e != NULL; e++) {
        fputs(*e, stdout);
        putchar(end);
    }
    if (fflush(stdout) != 0) {
        warn_msg("write error: %s", strerror(errno));
        return 1;
    }
    return 0;
}
