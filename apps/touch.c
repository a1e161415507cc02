/* touch [-c] FILE...: create each missing FILE (unless -c) and set the
 * access and modification times of each FILE to now. */
#include <fcntl.h>
#include <sys/stat.h>

#include "common/util.h"

int main(int argc, char **argv) {
    int no_create = 0, status = 0, opt;
    prog_name = "touch";
    while ((opt = next_opt(argc, argv, "c")) != -1) {
        if (opt == 'c')
            no_create = 1;
        else
            usage_exit("[-c] FILE...", 1);
    }
    if (optind == argc) {
        warn_msg("missing file operand");
        usage_exit("[-c] FILE...", 1);
    }
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        if (utimensat(AT_FDCWD, path, NULL, 0) == 0)
            continue;
        if (errno != ENOENT) {
            warn_path(path);
            status = 1;
            continue;
        }
        if (no_create)
            continue;
        int fd = open(path, O_WRONLY | O_CREAT, 0666);
        if (fd < 0) {
            warn_path(path);
            status = 1;
            continue;
        }
        close(fd);
    }
    return status;
}
