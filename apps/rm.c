/* rm [-rRfd] FILE...: remove files; with -r, directories and their contents;
 * with -d, empty directories. -f ignores missing operands and never fails
 * for them. */
#include <sys/stat.h>

#include "common/fs.h"

int main(int argc, char **argv) {
    int recursive = 0, force = 0, dirs = 0, status = 0, opt;
    prog_name = "rm";
    while ((opt = next_opt(argc, argv, "rRfdi")) != -1) {
        switch (opt) {
        case 'r': case 'R': recursive = 1; break;
        case 'f': force = 1; break;
        case 'd': dirs = 1; break;
        case 'i': break; /* no prompting: stdin is the program's input */
        default: usage_exit("[-rRfd] FILE...", 1);
        }
    }
    if (optind == argc) {
        if (force)
            return 0;
        warn_msg("missing operand");
        usage_exit("[-rRfd] FILE...", 1);
    }
    for (int i = optind; i < argc; i++) {
        const char *path = argv[i];
        struct stat st;
        const char *base = base_name(path);
        if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0) {
            warn_msg("refusing to remove '.' or '..' or '/': skipping '%s'", path);
            status = 1;
            continue;
        }
        if (lstat(path, &st) < 0) {
            if (!(force && errno == ENOENT)) {
                warn_path(path);
                status = 1;
            }
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            if (recursive) {
                if (remove_tree(path, force) > 0)
                    status = 1;
            } else if (dirs) {
                if (rmdir(path) < 0) {
                    warn_path(path);
                    status = 1;
                }
            } else {
                warn_path_err(path, EISDIR);
                status = 1;
            }
        } else if (unlink(path) < 0) {
            warn_path(path);
            status = 1;
        }
    }
    return status;
}
