#include <cblas.h>

#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

// Sets flush-to-zero and denormals-are-zero for the calling thread, as TensorFlow does for its
// CPU kernels. Without it, optimizer state that decays towards zero (RMSprop's velocity of a
// dead unit) turns denormal and each operation on it costs a hundred cycles.
static inline void mlp_flush_denormals_to_zero(void) {
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() | 0x8040);
#endif
}
