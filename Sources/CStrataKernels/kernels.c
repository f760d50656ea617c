#include "strata_kernels.h"

// target_clones builds one copy of the function per instruction set and an ifunc resolver that picks one at
// load time (GNU/Linux on x86-64 only; elsewhere the plain loop, which compilers vectorize for their baseline).
#if defined(__x86_64__) && defined(__linux__) && defined(__clang__)
#define STRATA_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#else
#define STRATA_CLONES
#endif

STRATA_CLONES
void strata_minhash(const uint64_t *a, const uint64_t *b, size_t k, const uint64_t *shingles, size_t n, uint32_t *sig) {
    for (size_t i = 0; i < k; i++) sig[i] = UINT32_MAX;
    for (size_t s = 0; s < n; s++) {
        const uint64_t x64 = shingles[s];
        // Folded to 32 bits: the 64-bit multiply then vectorizes well; 32-bit collisions between the shingles of
        // two documents are negligible (about 300^2 / 2^32 for two 300-word texts).
        const uint64_t x = (uint32_t)(x64 ^ (x64 >> 32));
        for (size_t i = 0; i < k; i++) {
            const uint32_t h = (uint32_t)((a[i] * x + b[i]) >> 32);
            sig[i] = h < sig[i] ? h : sig[i];
        }
    }
}

STRATA_CLONES
size_t strata_equal_count(const uint32_t *x, const uint32_t *y, size_t k) {
    size_t equal = 0;
    for (size_t i = 0; i < k; i++) equal += x[i] == y[i];
    return equal;
}
