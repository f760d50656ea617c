#define _GNU_SOURCE
#include <unistd.h>
#include <fcntl.h>
#include "strata_sys.h"

long strata_copy_file_range(int fd_in, int fd_out, size_t len) {
    return (long)copy_file_range(fd_in, NULL, fd_out, NULL, len, 0);
}

int strata_syncfs(int fd) {
    return syncfs(fd);
}


#if defined(__GLIBC__)
#include <malloc.h>
int strata_malloc_trim(void) {
    return malloc_trim(0);
}
#else
int strata_malloc_trim(void) {
    return 0;
}
#endif
