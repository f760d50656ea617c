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

