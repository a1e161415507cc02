/* clock_res_get, clock_time_get for the process and thread CPU-time clocks (witx clockid
 * process_cputime_id = 2, thread_cputime_id = 3): both must succeed and advance while the
 * program computes. */
#include "common.h"

static volatile uint64_t sink;

int main(void) {
    __wasi_timestamp_t res, t1, t2;
    for (__wasi_clockid_t id = 2; id <= 3; id++) {
        const char *name = id == 2 ? "process_cputime" : "thread_cputime";
        __wasi_errno_t e = __wasi_clock_res_get(id, &res);
        printf("%s clock_res_get: %s, res > 0: %s\n", name, errname(e), yesno(e == 0 && res > 0));
        e = __wasi_clock_time_get(id, 1, &t1);
        printf("%s clock_time_get: %s\n", name, errname(e));
        if (e != 0) continue;
        uint64_t x = 1;
        for (int i = 0; i < 30000000; i++) x = x * 6364136223846793005ull + 1442695040888963407ull;
        sink = x;
        MUST(__wasi_clock_time_get(id, 1, &t2));
        printf("%s advances while computing: %s\n", name, yesno(t2 > t1));
    }
    return 0;
}
