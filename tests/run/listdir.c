/* Prints the entries of each directory named on the command line in readdir order (no
 * sorting), one line per directory: what a program that does not sort its listing shows. */
#include <dirent.h>
#include <stdio.h>

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        DIR *d = opendir(argv[i]);
        if (!d) {
            perror(argv[i]);
            return 1;
        }
        struct dirent *e;
        while ((e = readdir(d))) {
            printf("%s ", e->d_name);
        }
        printf("\n");
        closedir(d);
    }
    return 0;
}
