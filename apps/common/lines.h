/* Option parsing shared by head and tail: `-n N`, `-nN`, the historical
 * `-N`, and (for tail) `-n +N` meaning "starting with line N". */
#ifndef CLEW_APPS_LINES_H
#define CLEW_APPS_LINES_H

#include "util.h"

struct line_opts {
    long count;    /* N */
    int from_start; /* tail -n +N */
    int quiet;      /* -q: never print headers */
    int verbose;    /* -v: always print headers */
};

/* Parses options; returns the index of the first operand, or exits. */
static inline int parse_line_opts(int argc, char **argv, int allow_plus, const char *usage,
                                  struct line_opts *o) {
    int opt;
    o->count = 10;
    o->from_start = o->quiet = o->verbose = 0;
    /* Historical form: head -5 */
    if (argc > 1 && argv[1][0] == '-' && argv[1][1] >= '0' && argv[1][1] <= '9') {
        o->count = parse_count(argv[1] + 1);
        if (o->count < 0) {
            warn_msg("invalid number of lines: '%s'", argv[1] + 1);
            exit(1);
        }
        argv[1] = argv[0];
        optind = 2;
    }
    while ((opt = next_opt(argc, argv, "n:qv")) != -1) {
        switch (opt) {
        case 'n': {
            const char *s = optarg;
            if (allow_plus && *s == '+') {
                o->from_start = 1;
                s++;
            }
            o->count = parse_count(s);
            if (o->count < 0) {
                warn_msg("invalid number of lines: '%s'", optarg);
                exit(1);
            }
            break;
        }
        case 'q': o->quiet = 1; o->verbose = 0; break;
        case 'v': o->verbose = 1; o->quiet = 0; break;
        default: usage_exit(usage, 1);
        }
    }
    return optind;
}

/* "==> name <==" between files, as coreutils. */
static inline void print_header(const char *name, int first) {
    printf("%s==> %s <==\n", first ? "" : "\n", name);
}

#endif
