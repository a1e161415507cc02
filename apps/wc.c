/* wc [-lwc] [FILE]...: count newlines, words and bytes. Without options
 * prints all three (lines, words, bytes); "-" or no operand is stdin; with
 * several files a "total" line follows. Words are maximal runs of
 * non-whitespace bytes. Numbers are right-aligned to a common width like
 * coreutils (no padding for a single count of a single input; stdin is
 * padded to 7 columns as coreutils does for pipes, whatever stdin is, so the
 * output does not depend on how the runtime reports stdin's file type). */
#include <ctype.h>
#include <fcntl.h>

#include "common/util.h"

struct counts {
    unsigned long long lines, words, bytes;
};

static int count_fd(int fd, struct counts *c) {
    static unsigned char buf[65536];
    int in_word = 0;
    for (;;) {
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0)
            return 0;
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c->bytes += (unsigned long long)n;
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n')
                c->lines++;
            if (isspace(buf[i])) {
                in_word = 0;
            } else if (!in_word) {
                in_word = 1;
                c->words++;
            }
        }
    }
}

static int show_l, show_w, show_c, width;

static void print_counts(const struct counts *c, const char *name) {
    const char *sep = "";
    if (show_l) {
        printf("%*llu", width, c->lines);
        sep = " ";
    }
    if (show_w) {
        printf("%s%*llu", sep, width, c->words);
        sep = " ";
    }
    if (show_c)
        printf("%s%*llu", sep, width, c->bytes);
    if (name != NULL)
        printf(" %s", name);
    putchar('\n');
}

static int digits(unsigned long long v) {
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

int main(int argc, char **argv) {
    int opt, status = 0, nfiles, used_stdin = 0;
    struct counts total = {0, 0, 0}, *each;
    char *ok;
    prog_name = "wc";
    while ((opt = next_opt(argc, argv, "lwc")) != -1) {
        switch (opt) {
        case 'l': show_l = 1; break;
        case 'w': show_w = 1; break;
        case 'c': show_c = 1; break;
        default: usage_exit("[-lwc] [FILE]...", 1);
        }
    }
    if (!show_l && !show_w && !show_c)
        show_l = show_w = show_c = 1;
    nfiles = argc - optind;
    if (nfiles == 0) {
        struct counts c = {0, 0, 0};
        if (count_fd(STDIN_FILENO, &c) < 0) {
            warn_path("-");
            return 1;
        }
        width = (show_l + show_w + show_c == 1) ? 1 : 7;
        print_counts(&c, NULL);
        return 0;
    }
    /* Count everything first so that the column width can fit the total. */
    each = xmalloc((size_t)nfiles * sizeof *each);
    ok = xmalloc((size_t)nfiles);
    for (int i = 0; i < nfiles; i++) {
        const char *path = argv[optind + i];
        int fd = STDIN_FILENO;
        each[i] = (struct counts){0, 0, 0};
        ok[i] = 0;
        if (strcmp(path, "-") == 0) {
            used_stdin = 1;
        } else if ((fd = open(path, O_RDONLY)) < 0) {
            warn_path(path);
            status = 1;
            continue;
        }
        if (count_fd(fd, &each[i]) < 0) {
            warn_path(path);
            status = 1;
        } else {
            ok[i] = 1;
            total.lines += each[i].lines;
            total.words += each[i].words;
            total.bytes += each[i].bytes;
        }
        if (fd != STDIN_FILENO)
            close(fd);
    }
    if (show_l + show_w + show_c == 1 && nfiles == 1) {
        width = 1;
    } else {
        unsigned long long max = total.bytes;
        if (total.lines > max) max = total.lines;
        if (total.words > max) max = total.words;
        width = digits(max);
        if (used_stdin && width < 7)
            width = 7;
    }
    for (int i = 0; i < nfiles; i++)
        if (ok[i])
            print_counts(&each[i], argv[optind + i]);
    if (nfiles > 1)
        print_counts(&total, "total");
    free(each);
    free(ok);
    return status;
}
