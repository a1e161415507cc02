/* proc_raise (removed from wasi-libc's headers, so imported by hand): witx "Send a signal
 * to the process of the calling thread". A runtime without signals may return ENOSYS/ENOTSUP;
 * one that delivers SIGABRT's default action terminates the process abnormally (like a trap).
 * argv[1] selects the signal number (default 6, SIGABRT). */
#include "common.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
uint32_t raw_proc_raise(uint32_t sig);

int main(int argc, char **argv) {
    uint32_t sig = argc > 1 ? (uint32_t)atoi(argv[1]) : 6;
    printf("raising signal %u\n", sig);
    uint32_t e = raw_proc_raise(sig);
    SHOW2("proc_raise returned", e, __WASI_ERRNO_NOTSUP, __WASI_ERRNO_NOSYS);
    return 3;
}
