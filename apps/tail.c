/* tail [-n [+]N] [-qv] [FILE]...: print the last N (default 10) lines of
 * each file, or with +N everything from line N on; "-" or no operand is
 * stdin. Headers as for head. Works on pipes: it keeps the last N lines in a
 * ring instead of seeking. */
#include "common/lines.h"

static int tail_stream(FILE *f, const struct line_opts *o) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long lineno = 0;
    if (o->from_start) {
        while ((got = getline(&line, &cap, f)) >= 0)
            if (++lineno >= o->count)
                fwrite(line, 1, (size_t)got, stdout);
        free(line);
        return ferror(f) ? -1 : 0;
    }
    if (o->count == 0) {
        while (getline(&line, &cap, f) >= 0)
            ;
        free(line);
        return ferror(f) ? -1 : 0;
    }
    /* A ring of the last `count` lines (with their lengths: lines may hold NULs). */
    size_t n = (size_t)o->count, head = 0, used = 0;
    char **ring = xmalloc(n * sizeof *ring);
    size_t *lens = xmalloc(n * sizeof *lens);
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t slot = (head + used) % n;
        if (used == n) {
            free(ring[head]);
            head = (head + 1) % n;
            slot = (head + n - 1) % n;
        } else {
            used++;
        }
        ring[slot] = xmalloc((size_t)got);
        memcpy(ring[slot], line, (size_t)got);
        lens[slot] = (size_t)got;
    }
    for (size_t k = 0; k < used; k++) {
        size_t slot = (head + k) % n;
        fwrite(ring[slot], 1, lens[slot], stdout);
        free(ring[slot]);
    }
    free(ring);
    free(lens);
    free(line);
    return ferror(f) ? -1 : 0;
}

int main(int argc, char **argv) {
    struct line_opts o;
    int status = 0, first = 1, i, nfiles, headers;
    prog_name = "tail";
    i = parse_line_opts(argc, argv, 1, "[-n [+]N] [-qv] [FILE]...", &o);
    nfiles = argc - i;
    headers = o.verbose || (nfiles > 1 && !o.quiet);
    if (nfiles == 0) {
        if (tail_stream(stdin, &o) < 0) {
            warn_path("standard input");
            status = 1;
        }
        return status;
    }
    for (; i < argc; i++) {
        int stdin_op = strcmp(argv[i], "-") == 0;
        FILE *f = stdin_op ? stdin : fopen(argv[i], "r");
        const char *name = stdin_op ? "standard input" : argv[i];
        if (f == NULL) {
            warn_path(argv[i]);
            status = 1;
            continue;
        }
        if (headers)
            print_header(name, first);
        first = 0;
        if (tail_stream(f, &o) < 0) {
            warn_path(name);
            status = 1;
        }
        if (!stdin_op)
            fclose(f);
    }
    return status;
}
