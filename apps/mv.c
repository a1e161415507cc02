/* mv SOURCE DEST | mv SOURCE... DIRECTORY: rename files and directories.
 * When DEST is an existing directory, each SOURCE moves into it under its own
 * name. When rename is impossible across filesystems (EXDEV, e.g. between two
 * preopened directories), mv copies and then removes the source. -f is
 * accepted (there is no prompting). */
#include <sys/stat.h>

#include "common/fs.h"

int main(int argc, char **argv) {
    int status = 0, opt, nsrc, dest_is_dir;
    const char *dest;
    struct stat st;
    prog_name = "mv";
    while ((opt = next_opt(argc, argv, "fi")) != -1) {
        if (opt == '?')
            usage_exit("SOURCE... DEST", 1);
    }
    nsrc = argc - optind - 1;
    if (nsrc < 1) {
        warn_msg(nsrc < 0 ? "missing file operand" : "missing destination file operand after '%s'",
                 argv[argc - 1]);
        usage_exit("SOURCE... DEST", 1);
    }
    dest = argv[argc - 1];
    dest_is_dir = stat(dest, &st) == 0 && S_ISDIR(st.st_mode);
    if (nsrc > 1 && !dest_is_dir) {
        warn_path_err(dest, ENOTDIR);
        return 1;
    }
    for (int i = optind; i < argc - 1; i++) {
        const char *src = argv[i];
        char *target = dest_is_dir ? path_join(dest, base_name(src)) : xstrdup(dest);
        if (rename(src, target) < 0) {
            if (errno != EXDEV) {
                warn_path(src);
                status = 1;
            } else if (copy_tree(src, target, 1) > 0 || remove_tree(src, 0) > 0) {
                status = 1;
            }
        }
        free(target);
    }
    return status;
}
