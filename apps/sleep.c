/* sleep NUMBER[s|m|h|d]...: pause for the sum of the given durations.
 * Fractions are allowed ("0.5"). Blocks in nanosleep (WASI poll_oneoff on a
 * clock), never spins. */
#include <math.h>
#include <time.h>

#include "common/util.h"

static int parse_duration(const char *s, double *out) {
    char *end;
    double v, mul = 1;
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno != 0 || !(v >= 0) || isinf(v))
        return -1;
    if (*end != '\0') {
        switch (*end) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        default: return -1;
        }
        if (end[1] != '\0')
            return -1;
    }
    *out = v * mul;
    return 0;
}

int main(int argc, char **argv) {
    double total = 0;
    struct timespec req, rem;
    prog_name = "sleep";
    if (argc < 2) {
        warn_msg("missing operand");
        usage_exit("NUMBER[s|m|h|d]...", 1);
    }
    for (int i = 1; i < argc; i++) {
        double d;
        if (parse_duration(argv[i], &d) < 0) {
            warn_msg("invalid time interval '%s'", argv[i]);
            return 1;
        }
        total += d;
    }
    if (total > 1e9)
        total = 1e9;
    req.tv_sec = (time_t)total;
    req.tv_nsec = (long)((total - (double)req.tv_sec) * 1e9);
    if (req.tv_nsec > 999999999)
        req.tv_nsec = 999999999;
    while (nanosleep(&req, &rem) < 0) {
        if (errno != EINTR) {
            warn_msg("nanosleep: %s", strerror(errno));
            return 1;
        }
        req = rem;
    }
    return 0;
}
