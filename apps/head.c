/* head [-n N] [-qv] [FILE]...: print the first N (default 10) lines of each
 * file; "-" or no operand is stdin. Headers "==> FILE <==" separate several
 * files (-q: never, -v: always). */
#include <fcntl.h>

#include "common/lines.h"

/* Copy up to `n` lines from fd to stdout. */
static int head_fd(int fd, long n) {
    static char buf[65536];
    while (n > 0) {
        ssize_t got = read(fd, buf, sizeof buf), end = 0;
        if (got == 0)
            return 0;
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        while (end < got && n > 0)
            if (buf[end++] == '\n')
                n--;
        fwrite(buf, 1, (size_t)end, stdout);
    }
    return 0;
}

int main(int argc, char **argv) {
    struct line_opts o;
    int status = 0, first = 1, i, nfiles, headers;
    prog_name = "head";
    i = parse_line_opts(argc, argv, 0, "[-n N] [-qv] [FILE]...", &o);
    nfiles = argc - i;
    headers = o.verbose || (nfiles > 1 && !o.quiet);
    if (nfiles == 0) {
        if (head_fd(STDIN_FILENO, o.count) < 0) {
            warn_path("standard input");
            status = 1;
        }
        return status;
    }
    for (; i < argc; i++) {
        int stdin_op = strcmp(argv[i], "-") == 0;
        int fd = stdin_op ? STDIN_FILENO : open(argv[i], O_RDONLY);
        const char *name = stdin_op ? "standard input" : argv[i];
        if (fd < 0) {
            warn_path(argv[i]);
            status = 1;
            continue;
        }
        if (headers)
            print_header(name, first);
        first = 0;
        if (head_fd(fd, o.count) < 0) {
            warn_path(name);
            status = 1;
        }
        if (!stdin_op)
            close(fd);
    }
    return status;
}
