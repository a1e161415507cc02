/* ls [-aAdlF1] [FILE]...: list directory contents, sorted by name (bytewise).
 *   -a  include names starting with '.', and . and ..   -A  like -a without . and ..
 *   -l  long format: type and mode, links, size, mtime (UTC), name [-> target]
 *   -1  one name per line (the default when stdout is not a terminal)
 *   -F  append / to directories, @ to symlinks      -d  list directories themselves
 * Operands: files first, then each directory with a "DIR:" header when more
 * than one operand is given. On a terminal, names are laid out in columns
 * (width from $COLUMNS, else 80). WASI has no owners and, in preview1, no
 * permission bits: -l prints what stat reports (the type, and permission
 * bits only if the runtime provides any), and no owner/group/total columns.
 * Exit status: 0, 1 if a directory could not be read, 2 if an operand could
 * not be accessed (as coreutils). */
#include <sys/stat.h>
#include <time.h>

#include "common/fs.h"

static int opt_a, opt_A, opt_l, opt_1, opt_F, opt_d;
static int status;

static char type_char(mode_t m) {
    if (S_ISDIR(m)) return 'd';
    if (S_ISLNK(m)) return 'l';
    if (S_ISCHR(m)) return 'c';
    if (S_ISBLK(m)) return 'b';
    if (S_ISFIFO(m)) return 'p';
    if (S_ISSOCK(m)) return 's';
    return '-';
}

static const char *suffix(mode_t m) {
    if (!opt_F) return "";
    if (S_ISDIR(m)) return "/";
    if (S_ISLNK(m)) return "@";
    if (S_ISSOCK(m)) return "=";
    if (S_ISFIFO(m)) return "|";
    return "";
}

struct entry {
    char *name;  /* as displayed */
    char *path;  /* for lstat/readlink */
    struct stat st;
};

static void print_long(const struct entry *e, int nlink_w, int size_w) {
    char mode[11], when[32];
    static const char bits[] = "rwxrwxrwx";
    struct tm *tm;
    time_t now = time(NULL), t = e->st.st_mtim.tv_sec;
    mode[0] = type_char(e->st.st_mode);
    for (int i = 0; i < 9; i++)
        mode[i + 1] = (e->st.st_mode & (0400 >> i)) ? bits[i] : '-';
    mode[10] = '\0';
    tm = gmtime(&t);
    /* Like coreutils: the year instead of the time for files older than
     * six months or in the future. */
    if (tm == NULL)
        strcpy(when, "?");
    else if (t > now || now - t > 182L * 24 * 3600)
        strftime(when, sizeof when, "%b %e  %Y", tm);
    else
        strftime(when, sizeof when, "%b %e %H:%M", tm);
    printf("%s %*llu %*lld %s %s%s", mode, nlink_w, (unsigned long long)e->st.st_nlink, size_w,
           (long long)e->st.st_size, when, e->name, suffix(e->st.st_mode));
    if (S_ISLNK(e->st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(e->path, target, sizeof target - 1);
        if (n >= 0) {
            target[n] = '\0';
            printf(" -> %s", target);
        }
    }
    putchar('\n');
}

static int width_of(unsigned long long v) {
    int w = 1;
    while (v >= 10) {
        v /= 10;
        w++;
    }
    return w;
}

static void print_entries(struct entry *ents, size_t n) {
    if (opt_l) {
        int nlink_w = 1, size_w = 1;
        for (size_t i = 0; i < n; i++) {
            int w = width_of((unsigned long long)ents[i].st.st_nlink);
            if (w > nlink_w) nlink_w = w;
            w = width_of((unsigned long long)ents[i].st.st_size);
            if (w > size_w) size_w = w;
        }
        for (size_t i = 0; i < n; i++)
            print_long(&ents[i], nlink_w, size_w);
        return;
    }
    if (opt_1 || !isatty(STDOUT_FILENO)) {
        for (size_t i = 0; i < n; i++)
            printf("%s%s\n", ents[i].name, suffix(ents[i].st.st_mode));
        return;
    }
    /* Columns, filled top to bottom like coreutils. */
    size_t maxw = 1, cols, rows, term = 80;
    const char *c = getenv("COLUMNS");
    if (c != NULL && atoi(c) > 0)
        term = (size_t)atoi(c);
    for (size_t i = 0; i < n; i++) {
        size_t w = strlen(ents[i].name) + strlen(suffix(ents[i].st.st_mode));
        if (w > maxw) maxw = w;
    }
    cols = term / (maxw + 2);
    if (cols == 0) cols = 1;
    rows = (n + cols - 1) / cols;
    for (size_t r = 0; r < rows; r++) {
        for (size_t col = 0; col < cols; col++) {
            size_t i = col * rows + r;
            if (i >= n)
                break;
            int last = (col + 1) * rows + r >= n;
            int w = printf("%s%s", ents[i].name, suffix(ents[i].st.st_mode));
            if (!last)
                printf("%*s", (int)(maxw + 2) - w, "");
        }
        putchar('\n');
    }
}

static void free_entries(struct entry *ents, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(ents[i].name);
        free(ents[i].path);
    }
    free(ents);
}

static void list_directory(const char *dir) {
    struct name_list l;
    struct entry *ents;
    size_t n = 0;
    if (list_dir(dir, opt_a, &l) < 0) {
        warn_path(dir);
        status = status > 1 ? status : 1;
        return;
    }
    ents = xmalloc(l.len * sizeof *ents);
    for (size_t i = 0; i < l.len; i++) {
        if (l.names[i][0] == '.' && !opt_a && !opt_A)
            continue;
        ents[n].name = xstrdup(l.names[i]);
        ents[n].path = path_join(dir, l.names[i]);
        if ((opt_l || opt_F) && lstat(ents[n].path, &ents[n].st) < 0) {
            warn_path(ents[n].path);
            status = status > 1 ? status : 1;
            free(ents[n].name);
            free(ents[n].path);
            continue;
        }
        if (!opt_l && !opt_F)
            memset(&ents[n].st, 0, sizeof ents[n].st);
        n++;
    }
    free_names(&l);
    print_entries(ents, n);
    free_entries(ents, n);
}

static int cmp_entry(const void *a, const void *b) {
    return strcmp(((const struct entry *)a)->name, ((const struct entry *)b)->name);
}

int main(int argc, char **argv) {
    struct entry *files, *dirs;
    size_t nf = 0, nd = 0;
    int opt, nops;
    char *dot[] = {"."};
    char **ops;
    prog_name = "ls";
    while ((opt = next_opt(argc, argv, "aAdlF1")) != -1) {
        switch (opt) {
        case 'a': opt_a = 1; opt_A = 0; break;
        case 'A': opt_A = 1; opt_a = 0; break;
        case 'd': opt_d = 1; break;
        case 'l': opt_l = 1; break;
        case 'F': opt_F = 1; break;
        case '1': opt_1 = 1; break;
        default: usage_exit("[-aAdlF1] [FILE]...", 2);
        }
    }
    nops = argc - optind;
    ops = nops ? argv + optind : dot;
    if (nops == 0)
        nops = 1;
    files = xmalloc((size_t)nops * sizeof *files);
    dirs = xmalloc((size_t)nops * sizeof *dirs);
    for (int i = 0; i < nops; i++) {
        struct entry e;
        /* Operands follow symlinks to directories (as coreutils without -l). */
        if (stat(ops[i], &e.st) < 0 && lstat(ops[i], &e.st) < 0) {
            warn_path(ops[i]);
            status = 2;
            continue;
        }
        e.name = xstrdup(ops[i]);
        e.path = xstrdup(ops[i]);
        if (S_ISDIR(e.st.st_mode) && !opt_d) {
            dirs[nd++] = e;
        } else {
            if (opt_l)
                lstat(ops[i], &e.st);
            files[nf++] = e;
        }
    }
    qsort(files, nf, sizeof *files, cmp_entry);
    qsort(dirs, nd, sizeof *dirs, cmp_entry);
    print_entries(files, nf);
    for (size_t i = 0; i < nd; i++) {
        if (nf > 0 || i > 0)
            putchar('\n');
        if (nops > 1)
            printf("%s:\n", dirs[i].name);
        list_directory(dirs[i].path);
    }
    free_entries(files, nf);
    free_entries(dirs, nd);
    return status;
}
