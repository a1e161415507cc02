/* cat [FILE]...: concatenate files to stdout; "-" or no operand is stdin.
 * -u is accepted and ignored (output is never buffered). */
#include <fcntl.h>

#include "common/util.h"

static int cat_fd(int fd, const char *name) {
    char which = 0;
    if (copy_fd(fd, STDOUT_FILENO, &which) < 0) {
        warn_path(which == 'r' ? name : "write error");
        return 1;
    }
    return 0;
}

int main(int argc, char **argv) {
    int status = 0, i = 1;
    prog_name = "cat";
    while (i < argc && argv[i][0] == '-' && argv[i][1] != '\0') {
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        }
        if (strcmp(argv[i], "-u") != 0) {
            warn_msg("invalid option -- '%s'", argv[i] + 1);
            usage_exit("[-u] [FILE]...", 1);
        }
        i++;
    }
    if (i == argc)
        return cat_fd(STDIN_FILENO, "-");
    for (; i < argc; i++) {
        if (strcmp(argv[i], "-") == 0) {
            status |= cat_fd(STDIN_FILENO, "-");
            continue;
        }
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            warn_path(argv[i]);
            status = 1;
            continue;
        }
        status |= cat_fd(fd, argv[i]);
        close(fd);
    }
    return status;
}
