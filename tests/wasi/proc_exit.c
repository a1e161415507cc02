/* proc_exit: the code given as argv[1] is the process's exit status, nothing after the call
 * runs, and stdout written before it is not lost. Without an argument, main returns 7. */
#include "common.h"

int main(int argc, char **argv) {
    printf("before exit\n");
    if (argc < 2) return 7;
    fflush(stdout);
    __wasi_proc_exit((__wasi_exitcode_t)atoi(argv[1]));
    printf("after exit (must not appear)\n");
    return 99;
}
