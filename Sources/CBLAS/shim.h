#include <cblas.h>

#include <stddef.h>

// LAPACK's Cholesky factorisation and solve, which OpenBLAS bundles (Debian's build has no
// LAPACKE): the Gaussian process of mlp-tune's Bayesian optimization. Fortran's calling
// convention: every argument by address, column-major matrices, and the length of each
// character argument appended at the end.
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_length);
void dpotrs_(const char *uplo, const int *n, const int *nrhs, const double *a, const int *lda, double *b, const int *ldb,
             int *info, size_t uplo_length);

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

// Sets flush-to-zero and denormals-are-zero for the calling thread, as TensorFlow does for its
// CPU kernels, and returns the thread's previous floating-point control state. Without it,
// optimizer state that decays towards zero (RMSprop's velocity of a dead unit) turns denormal
// and each operation on it costs a hundred cycles.
static inline unsigned mlp_flush_denormals_to_zero(void) {
#if defined(__x86_64__)
    unsigned previous = _mm_getcsr();
    _mm_setcsr(previous | 0x8040);
    return previous;
#else
    return 0;
#endif
}

// Puts back a state that mlp_flush_denormals_to_zero returned.
static inline void mlp_restore_float_control(unsigned state) {
#if defined(__x86_64__)
    _mm_setcsr(state);
#else
    (void)state;
#endif
}
