#ifndef STRATA_CSNAPPY_SHIM_H
#define STRATA_CSNAPPY_SHIM_H

/* Snappy from Debian's libsnappy-dev, through its C API (the same compressor Arrow links). */
#include <snappy-c.h>

#endif
