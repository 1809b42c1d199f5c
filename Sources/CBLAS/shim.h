#include <cblas.h>

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
