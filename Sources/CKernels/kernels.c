#include "mlp_kernels.h"

#include <math.h>
#include <stdio.h>

#pragma STDC FP_CONTRACT OFF

// __builtin_cpu_supports reads a table filled once at start-up: cheap enough per call.
static int has_avx2(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx2");
#else
    return 0;
#endif
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
static void bytes_to_unit_avx2(const uint8_t *src, float *dst, long n) {
    const __m256 d = _mm256_set1_ps(255.0f);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m128i bytes = _mm_loadl_epi64((const __m128i *)(src + i));
        __m256 x = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));
        _mm256_storeu_ps(dst + i, _mm256_div_ps(x, d));
    }
    mlp_bytes_to_unit_portable(src + i, dst + i, n - i);
}

__attribute__((target("avx2")))
static void rmsprop_step_avx2(float *w, float *v, const float *g, long n, float lr, float rho, float epsilon) {
    const __m256 vrho = _mm256_set1_ps(rho), vomr = _mm256_set1_ps(1.0f - rho);
    const __m256 vlr = _mm256_set1_ps(lr), veps = _mm256_set1_ps(epsilon), zero = _mm256_setzero_ps();
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 decayed = _mm256_mul_ps(vrho, _mm256_loadu_ps(v + i));
        if (_mm256_movemask_ps(_mm256_cmp_ps(gi, zero, _CMP_EQ_OQ)) == 0xFF) {
            _mm256_storeu_ps(v + i, decayed);
            continue;
        }
        __m256 vi = _mm256_add_ps(decayed, _mm256_mul_ps(_mm256_mul_ps(vomr, gi), gi));
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(vlr, gi), _mm256_sqrt_ps(_mm256_add_ps(vi, veps)));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
    }
    mlp_rmsprop_step_portable(w + i, v + i, g + i, n - i, lr, rho, epsilon);
}

__attribute__((target("avx2")))
static void adam_step_avx2(float *w, float *m, float *v, const float *g, long n, float alpha, float beta1, float beta2,
                           float epsilon, float decay) {
    const __m256 omb1 = _mm256_set1_ps(1.0f - beta1), omb2 = _mm256_set1_ps(1.0f - beta2);
    const __m256 valpha = _mm256_set1_ps(alpha), veps = _mm256_set1_ps(epsilon), vdecay = _mm256_set1_ps(decay);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 wi = _mm256_loadu_ps(w + i);
        if (decay != 0.0f) wi = _mm256_sub_ps(wi, _mm256_mul_ps(wi, vdecay));
        __m256 gi = _mm256_loadu_ps(g + i), mi = _mm256_loadu_ps(m + i), vi = _mm256_loadu_ps(v + i);
        mi = _mm256_add_ps(mi, _mm256_mul_ps(_mm256_sub_ps(gi, mi), omb1));
        vi = _mm256_add_ps(vi, _mm256_mul_ps(_mm256_sub_ps(_mm256_mul_ps(gi, gi), vi), omb2));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 step = _mm256_div_ps(_mm256_mul_ps(mi, valpha), _mm256_add_ps(_mm256_sqrt_ps(vi), veps));
        _mm256_storeu_ps(w + i, _mm256_sub_ps(wi, step));
    }
    mlp_adam_step_portable(w + i, m + i, v + i, g + i, n - i, alpha, beta1, beta2, epsilon, decay);
}
#endif

void mlp_adam_step_portable(float *w, float *m, float *v, const float *g, long n, float alpha, float beta1, float beta2,
                            float epsilon, float decay) {
    const float omb1 = 1.0f - beta1, omb2 = 1.0f - beta2;
    for (long i = 0; i < n; i++) {
        float wi = w[i];
        if (decay != 0.0f) wi -= wi * decay;
        float gi = g[i];
        float mi = m[i] + (gi - m[i]) * omb1;
        float vi = v[i] + (gi * gi - v[i]) * omb2;
        m[i] = mi;
        v[i] = vi;
        w[i] = wi - mi * alpha / (sqrtf(vi) + epsilon);
    }
}

void mlp_adam_step(float *w, float *m, float *v, const float *g, long n, float alpha, float beta1, float beta2, float epsilon,
                   float decay) {
#if defined(__x86_64__)
    if (has_avx2()) { adam_step_avx2(w, m, v, g, n, alpha, beta1, beta2, epsilon, decay); return; }
#endif
    mlp_adam_step_portable(w, m, v, g, n, alpha, beta1, beta2, epsilon, decay);
}

void mlp_bytes_to_unit_portable(const uint8_t *src, float *dst, long n) {
    for (long i = 0; i < n; i++) dst[i] = (float)src[i] / 255.0f;
}

void mlp_rmsprop_step_portable(float *w, float *v, const float *g, long n, float lr, float rho, float epsilon) {
    const float omr = 1.0f - rho;
    for (long i = 0; i < n; i++) {
        float gi = g[i];
        if (gi == 0.0f) {
            v[i] = rho * v[i];
            continue;
        }
        float vi = rho * v[i] + omr * gi * gi;
        v[i] = vi;
        w[i] -= lr * gi / sqrtf(vi + epsilon);
    }
}

void mlp_bytes_to_unit(const uint8_t *src, float *dst, long n) {
#if defined(__x86_64__)
    if (has_avx2()) { bytes_to_unit_avx2(src, dst, n); return; }
#endif
    mlp_bytes_to_unit_portable(src, dst, n);
}

void mlp_rmsprop_step(float *w, float *v, const float *g, long n, float lr, float rho, float epsilon) {
#if defined(__x86_64__)
    if (has_avx2()) { rmsprop_step_avx2(w, v, g, n, lr, rho, epsilon); return; }
#endif
    mlp_rmsprop_step_portable(w, v, g, n, lr, rho, epsilon);
}

void mlp_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}
