/* devices: the memory devices of a `--dir /dev::/dev` (or any tree holding them), as a
 * program uses them under `wasmtime run`: random bytes from /dev/urandom, writes into
 * /dev/null, zeros from /dev/zero, ENOSPC from /dev/full; fstat says character device.
 * Given `unlink`, it also removes /dev/null and /dev/full from its tree (the host's
 * must stay). Prints what it saw. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
    unsigned char buf[64];
    int fd = open("/dev/urandom", O_RDONLY);
    ssize_t n = read(fd, buf, sizeof buf);
    int nonzero = 0;
    for (int i = 0; i < n; i++)
        nonzero += buf[i] != 0;
    struct stat st;
    fstat(fd, &st);
    printf("urandom: read %zd, %s, chr %d\n", n, nonzero > 8 ? "random" : "zeros",
           S_ISCHR(st.st_mode));
    close(fd);

    fd = open("/dev/null", O_WRONLY | O_TRUNC);
    printf("null: write %zd, ", write(fd, "hello", 5));
    close(fd);
    fd = open("/dev/null", O_RDONLY);
    printf("read %zd\n", read(fd, buf, sizeof buf));
    close(fd);

    fd = open("/dev/zero", O_RDWR);
    memset(buf, 0xee, sizeof buf);
    n = read(fd, buf, sizeof buf);
    printf("zero: read %zd, %s, lseek %lld\n", n, buf[0] == 0 && buf[63] == 0 ? "zeros" : "bytes",
           (long long)lseek(fd, 100, SEEK_SET));
    close(fd);

    FILE *f = fopen("/dev/full", "w");
    int r = fputs("x", f);
    int e = fflush(f) == 0 ? 0 : errno;
    printf("full: flush %s\n", e == ENOSPC ? "ENOSPC" : strerror(e));
    fclose(f);

    if (argc > 1 && strcmp(argv[1], "unlink") == 0)
        printf("unlink: %d %d\n", unlink("/dev/null"), unlink("/dev/full"));
    (void)r;
    return 0;
}
