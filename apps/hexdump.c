/* hexdump [-Cv] [-n LENGTH] [-s OFFSET] [FILE]...: display file contents in
 * hexadecimal, like util-linux hexdump. Files are concatenated; no operand
 * is stdin.
 *   default  offset, then eight 16-bit little-endian words in hex
 *   -C       canonical: offset, 16 bytes in hex (two groups of 8), |ASCII|
 *   -v       show every line (otherwise a run of identical lines is "*")
 *   -n LEN   only LEN bytes;  -s OFF  skip OFF bytes first
 * After the data comes a line with the final offset. */
#include <ctype.h>
#include <fcntl.h>

#include "common/util.h"

static int canonical, verbose, status;
static long long limit = -1, skip = 0;

/* Input: the operands concatenated, as one stream. */
static char **files;
static int nfiles, cur = -1, cur_fd = -1, failed_files;

static ssize_t next_bytes(unsigned char *buf, size_t want) {
    size_t have = 0;
    while (have < want) {
        if (cur_fd < 0) {
            if (nfiles == 0 && cur < 0) {
                cur = 0;
                cur_fd = STDIN_FILENO;
            } else {
                if (++cur >= nfiles)
                    break;
                cur_fd = open(files[cur], O_RDONLY);
                if (cur_fd < 0) {
                    warn_path(files[cur]);
                    status = 1;
                    failed_files++;
                    continue;
                }
            }
        }
        ssize_t n = read(cur_fd, buf + have, want - have);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n < 0) {
                warn_path(nfiles ? files[cur] : "stdin");
                status = 1;
            }
            if (cur_fd != STDIN_FILENO)
                close(cur_fd);
            cur_fd = -1;
            if (nfiles == 0)
                break;
            continue;
        }
        have += (size_t)n;
    }
    return (ssize_t)have;
}

static void print_line(unsigned long long off, const unsigned char *b, size_t n) {
    if (canonical) {
        printf("%08llx ", off);
        for (size_t i = 0; i < 16; i++) {
            if (i == 8)
                putchar(' ');
            if (i < n)
                printf(" %02x", b[i]);
            else
                fputs("   ", stdout);
        }
        fputs("  |", stdout);
        for (size_t i = 0; i < n; i++)
            putchar(isprint(b[i]) ? b[i] : '.');
        puts("|");
    } else {
        printf("%07llx", off);
        for (size_t i = 0; i < 16; i += 2) {
            if (i < n)
                printf(" %04x", (unsigned)b[i] | (i + 1 < n ? (unsigned)b[i + 1] << 8 : 0u));
            else
                fputs("     ", stdout); /* util-linux pads short lines */
        }
        putchar('\n');
    }
}

int main(int argc, char **argv) {
    unsigned char line[16], prev[16];
    unsigned long long off;
    int opt, have_prev = 0, starred = 0;
    char *end;
    prog_name = "hexdump";
    while ((opt = next_opt(argc, argv, "Cvn:s:")) != -1) {
        switch (opt) {
        case 'C': canonical = 1; break;
        case 'v': verbose = 1; break;
        case 'n':
        case 's': {
            long long v = strtoll(optarg, &end, 0);
            if (*optarg == '\0' || *end != '\0' || v < 0) {
                warn_msg("invalid %s: '%s'", opt == 'n' ? "length" : "offset", optarg);
                return 1;
            }
            if (opt == 'n')
                limit = v;
            else
                skip = v;
            break;
        }
        default: usage_exit("[-Cv] [-n LENGTH] [-s OFFSET] [FILE]...", 1);
        }
    }
    files = argv + optind;
    nfiles = argc - optind;
    off = 0;
    for (long long left = skip; left > 0;) {
        size_t want = left > 16 ? 16 : (size_t)left;
        ssize_t n = next_bytes(line, want);
        if (n <= 0)
            break;
        left -= n;
        off += (unsigned long long)n;
    }
    skip = (long long)off; /* skipping stops at the end of the input */
    for (;;) {
        size_t want = 16;
        if (limit >= 0 && (unsigned long long)limit < off - (unsigned long long)skip + 16)
            want = (size_t)((unsigned long long)limit - (off - (unsigned long long)skip));
        if (want == 0)
            break;
        ssize_t n = next_bytes(line, want);
        if (n <= 0)
            break;
        if (!verbose && have_prev && n == 16 && memcmp(line, prev, 16) == 0) {
            if (!starred)
                puts("*");
            starred = 1;
        } else {
            print_line(off, line, (size_t)n);
            starred = 0;
        }
        memcpy(prev, line, 16);
        have_prev = n == 16;
        off += (unsigned long long)n;
        if ((size_t)n < want)
            break;
    }
    if (nfiles > 0 && failed_files == nfiles) {
        warn_msg("all input file arguments failed");
        return 1;
    }
    /* Like util-linux: an empty input prints nothing at all. */
    if (off > 0)
        printf(canonical ? "%08llx\n" : "%07llx\n", off);
    return status;
}
