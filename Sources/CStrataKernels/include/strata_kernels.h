#ifndef STRATA_KERNELS_H
#define STRATA_KERNELS_H
#include <stddef.h>
#include <stdint.h>

/// MinHash signature of `n` shingle hashes under `k` multiply-shift permutations:
/// sig[i] = min over shingles x of (uint32)((a[i] * x32 + b[i]) >> 32), with x32 = (uint32)(x ^ (x >> 32)).
/// No shingles: every sig[i] is UINT32_MAX. Same values on every CPU; on x86-64 Linux the loop is compiled
/// for AVX-512, AVX2 and the baseline, and the best one the CPU supports is picked when the program loads.
void strata_minhash(const uint64_t *a, const uint64_t *b, size_t k, const uint64_t *shingles, size_t n, uint32_t *sig);

/// Number of equal positions of two `k`-value signatures.
size_t strata_equal_count(const uint32_t *x, const uint32_t *y, size_t k);

#endif
