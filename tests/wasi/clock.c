/* clock_res_get, clock_time_get for the realtime and monotonic clocks, the invalid-id path,
 * and the libc views of them (clock_gettime, time, nanosleep). */
#include "common.h"
#include <time.h>

int main(void) {
    __wasi_timestamp_t res, t1, t2;
    MUST(__wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res));
    printf("realtime res in (0, 1s]: %s\n", yesno(res > 0 && res <= 1000000000ull));
    MUST(__wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res));
    printf("monotonic res in (0, 1s]: %s\n", yesno(res > 0 && res <= 1000000000ull));

    MUST(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t1));
    printf("realtime after 2020-01-01: %s\n", yesno(t1 > 1577836800ull * 1000000000ull));
    printf("realtime before 2100-01-01: %s\n", yesno(t1 < 4102444800ull * 1000000000ull));
    time_t now = time(NULL);
    printf("libc time() within 10s of realtime: %s\n",
           yesno(llabs((long long)now - (long long)(t1 / 1000000000ull)) <= 10));

    MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1));
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
    MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 0, &t2));
    printf("monotonic increases across a 20ms sleep by >= 20ms: %s\n",
           yesno(t2 > t1 && t2 - t1 >= 20000000ull));
    printf("monotonic advances < 10s across it: %s\n", yesno(t2 - t1 < 10000000000ull));
    int nondecreasing = 1;
    for (int i = 0; i < 1000; i++) {
        MUST(__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1000, &t2));
        if (t2 < t1) nondecreasing = 0;
        t1 = t2;
    }
    printf("monotonic never decreases over 1000 reads: %s\n", yesno(nondecreasing));
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("libc CLOCK_MONOTONIC ordered: %s\n",
           yesno(b.tv_sec > a.tv_sec || (b.tv_sec == a.tv_sec && b.tv_nsec >= a.tv_nsec)));

    return 0;
}
