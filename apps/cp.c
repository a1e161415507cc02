/* cp [-rR] SOURCE DEST | cp [-rR] SOURCE... DIRECTORY: copy files; with -r,
 * directories recursively. When DEST is an existing directory, each SOURCE
 * is copied into it under its own name. Contents only: WASI has no
 * permission bits or owners to preserve. */
#include <sys/stat.h>

#include "common/fs.h"

int main(int argc, char **argv) {
    int recursive = 0, status = 0, opt, nsrc;
    const char *dest;
    struct stat st;
    int dest_is_dir;
    prog_name = "cp";
    while ((opt = next_opt(argc, argv, "rRfpa")) != -1) {
        switch (opt) {
        case 'r': case 'R': case 'a': recursive = 1; break;
        case 'f': case 'p': break; /* accepted: overwriting is the default, nothing to preserve */
        default: usage_exit("[-rR] SOURCE... DEST", 1);
        }
    }
    nsrc = argc - optind - 1;
    if (nsrc < 1) {
        warn_msg(nsrc < 0 ? "missing file operand" : "missing destination file operand after '%s'",
                 argv[argc - 1]);
        usage_exit("[-rR] SOURCE... DEST", 1);
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
        struct stat s, t;
        if (stat(src, &s) == 0 && stat(target, &t) == 0 && s.st_dev == t.st_dev && s.st_ino == t.st_ino) {
            warn_msg("'%s' and '%s' are the same file", src, target);
            status = 1;
        } else if (copy_tree(src, target, recursive) > 0) {
            status = 1;
        }
        free(target);
    }
    return status;
}
