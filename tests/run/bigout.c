/* bigout MIB: writes MIB MiB of a known pattern to /data/out.bin (a `--dir`), for the
 * test that large results come back to the host through shared guest RAM. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    int mib = argc > 1 ? atoi(argv[1]) : 1;
    FILE *f = fopen("/data/out.bin", "wb");
    if (!f) {
        perror("/data/out.bin");
        return 1;
    }
    static unsigned char buf[1 << 20];
    for (int m = 0; m < mib; m++) {
        for (int i = 0; i < (int)sizeof buf; i++)
            buf[i] = (unsigned char)(i * 7 + m);
        if (fwrite(buf, 1, sizeof buf, f) != sizeof buf) {
            perror("write");
            return 1;
        }
    }
    if (fclose(f) != 0) {
        perror("close");
        return 1;
    }
    printf("wrote %d MiB\n", mib);
    return 0;
}
