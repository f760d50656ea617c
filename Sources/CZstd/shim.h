#ifndef STRATA_CZSTD_SHIM_H
#define STRATA_CZSTD_SHIM_H

/* Zstandard from Debian's libzstd-dev: the one-shot and context-reusing compressors. */
#include <zstd.h>

#endif
