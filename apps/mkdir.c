/* mkdir [-p] DIR...: create directories. With -p, create missing parents
 * and do not complain about directories that already exist. */
#include <sys/stat.h>

#include "common/util.h"

/* mkdir -p: create each prefix of `path` in turn. */
static int make_parents(const char *path) {
    char *p = xstrdup(path);
    struct stat st;
    int rc = 0;
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char saved = *s;
        *s = '\0';
        if (mkdir(p, 0777) < 0) {
            int err = errno;
            /* EEXIST (or a permission error on an existing prefix such as a
             * preopen root): fine if it is already a directory. */
            if (stat(p, &st) < 0 || !S_ISDIR(st.st_mode)) {
                warn_path_err(p, err == EEXIST ? ENOTDIR : err);
                rc = 1;
                *s = saved;
                break;
            }
        }
        *s = saved;
        if (saved == '\0')
            break;
        while (s[1] == '/')
            s++;
    }
    free(p);
    return rc;
}

int main(int argc, char **argv) {
    int parents = 0, status = 0, opt;
    prog_name = "mkdir";
    while ((opt = next_opt(argc, argv, "pm:")) != -1) {
        if (opt == 'p')
            parents = 1;
        else if (opt == 'm')
            ; /* WASI has no permission bits; accepted for compatibility */
        else
            usage_exit("[-p] DIR...", 1);
    }
    if (optind == argc) {
        warn_msg("missing operand");
        usage_exit("[-p] DIR...", 1);
    }
    for (int i = optind; i < argc; i++) {
        if (parents) {
            status |= make_parents(argv[i]);
        } else if (mkdir(argv[i], 0777) < 0) {
            warn_path(argv[i]);
            status = 1;
        }
    }
    return status;
}
