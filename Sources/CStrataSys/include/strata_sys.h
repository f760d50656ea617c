#pragma once
#include <sys/types.h>
#include <stdint.h>

/// copy_file_range(2) and syncfs(2) need _GNU_SOURCE, which Swift's Glibc module does not define.
long strata_copy_file_range(int fd_in, int fd_out, size_t len);
int strata_syncfs(int fd);


/// malloc_trim(0) where glibc has it (returns freed heap to the system); 0 elsewhere.
int strata_malloc_trim(void);
