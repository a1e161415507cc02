/* Prints the wall clock (CLOCK_REALTIME) in nanoseconds since the Unix epoch. */
#include <stdio.h>
#include <time.h>

int main(void) {
    struct timespec t;
    if (clock_gettime(CLOCK_REALTIME, &t) != 0) return 1;
    printf("%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
    return 0;
}
