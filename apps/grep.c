/* grep [-icvnlqhHsrFx] [-e PATTERN]... [PATTERN] [FILE]...
 *
 * Print lines matching a pattern. Patterns are POSIX basic regular
 * expressions restricted to what a small backtracking matcher handles:
 *   c       a literal character        \c   c literally (\. \* \[ \\ ...)
 *   .       any character              [..] a bracket expression: ranges a-z,
 *   X*      zero or more X                  negation [^..], a leading ']' is
 *   X\+     one or more X (GNU)             literal, classes [:alpha:] etc.
 *   X\?     zero or one X (GNU)
 *   ^       at the start: anchors      $    at the end: anchors
 * -F takes patterns as fixed strings. Options: -i ignore case, -v invert,
 * -c count, -n line numbers, -l names of matching files, -q quiet,
 * -h/-H never/always prefix file names, -s no messages about unreadable
 * files, -r recurse into directories, -x match whole lines.
 * Exit status: 0 if a line was selected, 1 if none, 2 on error (as GNU grep,
 * an error wins unless -q found a match).
 */
#include <ctype.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "common/fs.h"

struct token {
    unsigned char set[32]; /* bitmap of accepted bytes */
    unsigned min, max;     /* repetition bounds; max UINT_MAX = unbounded */
};

struct pattern {
    struct token *toks;
    size_t len;
    int anchor_start, anchor_end;
};

#define UNBOUNDED 0xffffffffu

static int opt_i, opt_v, opt_c, opt_n, opt_l, opt_q, opt_s, opt_r, opt_F, opt_x;
static int show_names = -1; /* -1: decide from the operands */
static struct pattern *pats;
static size_t npats;
static int had_error;

static void set_add(struct token *t, unsigned char c) {
    t->set[c >> 3] |= (unsigned char)(1u << (c & 7));
    if (opt_i) {
        unsigned char u = (unsigned char)toupper(c), l = (unsigned char)tolower(c);
        t->set[u >> 3] |= (unsigned char)(1u << (u & 7));
        t->set[l >> 3] |= (unsigned char)(1u << (l & 7));
    }
}

static int set_has(const struct token *t, unsigned char c) {
    return (t->set[c >> 3] >> (c & 7)) & 1;
}

static int class_match(const char *name, size_t len, int c) {
    static const struct { const char *name; int (*fn)(int); } classes[] = {
        {"alpha", isalpha}, {"digit", isdigit}, {"alnum", isalnum}, {"upper", isupper},
        {"lower", islower}, {"space", isspace}, {"punct", ispunct}, {"xdigit", isxdigit},
        {"print", isprint}, {"graph", isgraph}, {"cntrl", iscntrl}, {"blank", isblank},
    };
    for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
        if (strlen(classes[i].name) == len && memcmp(classes[i].name, name, len) == 0)
            return classes[i].fn(c) ? 1 : 0;
    return -1;
}

/* Parse a bracket expression starting after '['; returns the index after ']'
 * or 0 on a syntax error. */
static size_t parse_bracket(const char *p, size_t i, size_t n, struct token *t) {
    int negate = 0;
    size_t first;
    if (i < n && p[i] == '^') {
        negate = 1;
        i++;
    }
    first = i;
    while (i < n && (p[i] != ']' || i == first)) {
        if (p[i] == '[' && i + 1 < n && p[i + 1] == ':') {
            const char *end = strstr(p + i + 2, ":]");
            if (end == NULL)
                return 0;
            size_t len = (size_t)(end - (p + i + 2));
            if (class_match(p + i + 2, len, 'a') < 0)
                return 0;
            for (int c = 0; c < 256; c++)
                if (class_match(p + i + 2, len, c) == 1)
                    set_add(t, (unsigned char)c);
            i = (size_t)(end - p) + 2;
            continue;
        }
        unsigned char lo = (unsigned char)p[i], hi = lo;
        if (i + 2 < n && p[i + 1] == '-' && p[i + 2] != ']') {
            hi = (unsigned char)p[i + 2];
            i += 2;
        }
        for (unsigned c = lo; c <= hi; c++)
            set_add(t, (unsigned char)c);
        i++;
    }
    if (i >= n)
        return 0;
    if (negate)
        for (int k = 0; k < 32; k++)
            t->set[k] = (unsigned char)~t->set[k];
    return i + 1;
}

static int compile(const char *p, size_t n, struct pattern *out) {
    size_t i = 0;
    out->toks = xmalloc((n + 1) * sizeof *out->toks);
    out->len = 0;
    out->anchor_start = out->anchor_end = opt_x;
    if (!opt_F && n > 0 && p[0] == '^') {
        out->anchor_start = 1;
        i = 1;
    }
    while (i < n) {
        struct token *t = &out->toks[out->len];
        if (!opt_F && p[i] == '$' && i + 1 == n) {
            out->anchor_end = 1;
            break;
        }
        /* Repetition operators apply to the previous token; a '*' with
         * nothing before it is literal (POSIX BRE). */
        if (!opt_F && out->len > 0 && p[i] == '*') {
            out->toks[out->len - 1].min = 0;
            out->toks[out->len - 1].max = UNBOUNDED;
            i++;
            continue;
        }
        if (!opt_F && out->len > 0 && p[i] == '\\' && i + 1 < n && (p[i + 1] == '+' || p[i + 1] == '?')) {
            struct token *prev = &out->toks[out->len - 1];
            if (p[i + 1] == '+')
                prev->max = UNBOUNDED;
            else
                prev->min = 0;
            i += 2;
            continue;
        }
        memset(t, 0, sizeof *t);
        t->min = t->max = 1;
        if (opt_F) {
            set_add(t, (unsigned char)p[i++]);
        } else if (p[i] == '.') {
            memset(t->set, 0xff, sizeof t->set);
            i++;
        } else if (p[i] == '[') {
            i = parse_bracket(p, i + 1, n, t);
            if (i == 0) {
                warn_msg("Unmatched [, [^, [:, [., or [=");
                return -1;
            }
        } else if (p[i] == '\\') {
            if (i + 1 >= n) {
                warn_msg("Trailing backslash");
                return -1;
            }
            set_add(t, (unsigned char)p[i + 1]);
            i += 2;
        } else {
            set_add(t, (unsigned char)p[i++]);
        }
        out->len++;
    }
    return 0;
}

static int match_here(const struct pattern *pat, size_t ti, const unsigned char *s, size_t pos, size_t len) {
    if (ti == pat->len)
        return !pat->anchor_end || pos == len;
    const struct token *t = &pat->toks[ti];
    size_t count = 0;
    while (count < t->max && pos + count < len && set_has(t, s[pos + count]))
        count++;
    /* Greedy, then back off one character at a time. */
    for (;;) {
        if (count >= t->min && match_here(pat, ti + 1, s, pos + count, len))
            return 1;
        if (count == 0 || count <= t->min)
            return 0;
        count--;
    }
}

static int line_matches(const char *line, size_t len) {
    const unsigned char *s = (const unsigned char *)line;
    for (size_t k = 0; k < npats; k++) {
        const struct pattern *pat = &pats[k];
        for (size_t pos = 0; pos <= len; pos++) {
            if (match_here(pat, 0, s, pos, len))
                return 1;
            if (pat->anchor_start)
                break;
        }
    }
    return 0;
}

/* Search one open stream; returns the number of selected lines, or -1 for
 * -q's early exit. */
static long grep_stream(FILE *f, const char *name) {
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    long selected = 0, lineno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t len = (size_t)got;
        lineno++;
        if (len > 0 && line[len - 1] == '\n')
            len--;
        if (line_matches(line, len) == opt_v)
            continue;
        selected++;
        if (opt_q) {
            free(line);
            return -1;
        }
        if (opt_l)
            break;
        if (opt_c)
            continue;
        if (show_names)
            printf("%s:", name);
        if (opt_n)
            printf("%ld:", lineno);
        fwrite(line, 1, len, stdout);
        putchar('\n');
    }
    if (ferror(f)) {
        if (!opt_s)
            warn_path(name);
        had_error = 1;
    }
    free(line);
    if (opt_c) {
        if (show_names)
            printf("%s:", name);
        printf("%ld\n", selected);
    }
    if (opt_l && selected > 0)
        printf("%s\n", name);
    return selected;
}

/* Search a path (a file, "-", or with -r a directory tree). Returns the
 * number of selected lines, or -1 for -q's early exit. */
static long grep_path(const char *path, int top) {
    struct stat st;
    long total = 0;
    if (strcmp(path, "-") == 0 && top)
        return grep_stream(stdin, "(standard input)");
    /* Below the operands, symlinks are not followed (as GNU grep -r): a link
     * to an ancestor would otherwise recurse forever. */
    if (!top && lstat(path, &st) == 0 && S_ISLNK(st.st_mode))
        return 0;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        struct name_list l;
        if (!opt_r) {
            if (!opt_s)
                warn_path_err(path, EISDIR);
            had_error = 1;
            return 0;
        }
        if (list_dir(path, 0, &l) < 0) {
            if (!opt_s)
                warn_path(path);
            had_error = 1;
            return 0;
        }
        for (size_t i = 0; i < l.len; i++) {
            char *child = path_join(path, l.names[i]);
            long n = grep_path(child, 0);
            free(child);
            if (n < 0) {
                free_names(&l);
                return -1;
            }
            total += n;
        }
        free_names(&l);
        return total;
    }
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (!opt_s)
            warn_path(path);
        had_error = 1;
        return 0;
    }
    total = grep_stream(f, path);
    fclose(f);
    return total;
}

static void add_patterns(const char *text) {
    /* A pattern containing newlines is several patterns (POSIX). */
    for (;;) {
        const char *nl = strchr(text, '\n');
        size_t len = nl ? (size_t)(nl - text) : strlen(text);
        pats = xrealloc(pats, (npats + 1) * sizeof *pats);
        if (compile(text, len, &pats[npats]) < 0)
            exit(2);
        npats++;
        if (nl == NULL)
            break;
        text = nl + 1;
    }
}

int main(int argc, char **argv) {
    const char *usage = "[-icvnlqhHsrFx] [-e PATTERN]... [PATTERN] [FILE]...";
    const char **exprs = xmalloc((size_t)argc * sizeof *exprs);
    size_t nexprs = 0;
    long selected = 0;
    int opt, nfiles;
    prog_name = "grep";
    while ((opt = next_opt(argc, argv, "icvnlqhHsrRFxe:")) != -1) {
        switch (opt) {
        case 'i': opt_i = 1; break;
        case 'c': opt_c = 1; break;
        case 'v': opt_v = 1; break;
        case 'n': opt_n = 1; break;
        case 'l': opt_l = 1; break;
        case 'q': opt_q = 1; break;
        case 'h': show_names = 0; break;
        case 'H': show_names = 1; break;
        case 's': opt_s = 1; break;
        case 'r': case 'R': opt_r = 1; break;
        case 'F': opt_F = 1; break;
        case 'x': opt_x = 1; break;
        case 'e': exprs[nexprs++] = optarg; break;
        default: usage_exit(usage, 2);
        }
    }
    if (nexprs == 0) {
        if (optind == argc)
            usage_exit(usage, 2);
        exprs[nexprs++] = argv[optind++];
    }
    for (size_t k = 0; k < nexprs; k++)
        add_patterns(exprs[k]);
    nfiles = argc - optind;
    if (show_names < 0)
        show_names = nfiles > 1 || opt_r;
    if (nfiles == 0) {
        selected = opt_r ? grep_path(".", 1) : grep_path("-", 1);
    } else {
        for (int i = optind; i < argc; i++) {
            long n = grep_path(argv[i], 1);
            if (n < 0) {
                selected = -1;
                break;
            }
            selected += n;
        }
    }
    fflush(stdout);
    if (selected < 0)
        return 0; /* -q and a match */
    if (had_error)
        return 2;
    return selected > 0 ? 0 : 1;
}
