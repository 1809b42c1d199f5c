#include "mlp_kernels.h"

#include <math.h>
#include <stdlib.h>
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

static int has_avx512dq(void) {
#if defined(__x86_64__)
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq");
#else
    return 0;
#endif
}

#define GOLDEN 0x9E3779B97F4A7C15ULL
#define MIX1 0xBF58476D1CE4E5B9ULL
#define MIX2 0x94D049BB133111EBULL

static inline uint64_t splitmix_finalise(uint64_t z) {
    z = (z ^ (z >> 30)) * MIX1;
    z = (z ^ (z >> 27)) * MIX2;
    return z ^ (z >> 31);
}

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx512f,avx512dq")))
static long dropout_avx512(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold,
                           float scale) {
    const __m512i step = _mm512_set1_epi64((long long)(8 * GOLDEN)), mix1 = _mm512_set1_epi64((long long)MIX1);
    const __m512i mix2 = _mm512_set1_epi64((long long)MIX2), low = _mm512_set1_epi64(0xFFFFFFFFLL);
    const __m512i limit = _mm512_set1_epi64((long long)threshold);
    const uint64_t bits = (uint64_t)*(const uint32_t *)&scale;
    const __m512i scaleLow = _mm512_set1_epi64((long long)bits), scaleHigh = _mm512_set1_epi64((long long)(bits << 32));
    uint64_t first = key + (uint64_t)(begin >> 1) * GOLDEN;
    __m512i z0 = _mm512_set_epi64((long long)(first + 7 * GOLDEN), (long long)(first + 6 * GOLDEN), (long long)(first + 5 * GOLDEN),
                                  (long long)(first + 4 * GOLDEN), (long long)(first + 3 * GOLDEN), (long long)(first + 2 * GOLDEN),
                                  (long long)(first + GOLDEN), (long long)first);
    long i = begin;
    for (; i + 16 <= end; i += 16, z0 = _mm512_add_epi64(z0, step)) {
        __m512i z = _mm512_mullo_epi64(_mm512_xor_si512(z0, _mm512_srli_epi64(z0, 30)), mix1);
        z = _mm512_mullo_epi64(_mm512_xor_si512(z, _mm512_srli_epi64(z, 27)), mix2);
        z = _mm512_xor_si512(z, _mm512_srli_epi64(z, 31));
        __mmask8 keepLow = _mm512_cmplt_epu64_mask(_mm512_and_si512(z, low), limit);
        __mmask8 keepHigh = _mm512_cmplt_epu64_mask(_mm512_srli_epi64(z, 32), limit);
        // Each 64-bit lane is the pair's two floats, the even value in its low half.
        __m512 factors = _mm512_castsi512_ps(_mm512_or_si512(_mm512_maskz_mov_epi64(keepLow, scaleLow),
                                                              _mm512_maskz_mov_epi64(keepHigh, scaleHigh)));
        _mm512_storeu_ps(m + i, factors);
        _mm512_storeu_ps(y + i, _mm512_mul_ps(_mm512_loadu_ps(x + i), factors));
    }
    return i;
}

// a * b mod 2^64 per lane, from AVX2's 32 × 32 → 64-bit products.
__attribute__((target("avx2")))
static inline __m256i multiply64_avx2(__m256i a, __m256i b) {
    __m256i cross = _mm256_add_epi64(_mm256_mul_epu32(_mm256_srli_epi64(a, 32), b), _mm256_mul_epu32(a, _mm256_srli_epi64(b, 32)));
    return _mm256_add_epi64(_mm256_mul_epu32(a, b), _mm256_slli_epi64(cross, 32));
}

__attribute__((target("avx2")))
static long dropout_avx2(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold,
                         float scale) {
    const __m256i step = _mm256_set1_epi64x((long long)(4 * GOLDEN)), mix1 = _mm256_set1_epi64x((long long)MIX1);
    const __m256i mix2 = _mm256_set1_epi64x((long long)MIX2), low = _mm256_set1_epi64x(0xFFFFFFFFLL);
    // Both sides below 2^33: a signed comparison orders them as unsigned ones.
    const __m256i limit = _mm256_set1_epi64x((long long)threshold);
    const uint64_t bits = (uint64_t)*(const uint32_t *)&scale;
    const __m256i scaleLow = _mm256_set1_epi64x((long long)bits), scaleHigh = _mm256_set1_epi64x((long long)(bits << 32));
    uint64_t first = key + (uint64_t)(begin >> 1) * GOLDEN;
    __m256i z0 = _mm256_set_epi64x((long long)(first + 3 * GOLDEN), (long long)(first + 2 * GOLDEN), (long long)(first + GOLDEN),
                                   (long long)first);
    long i = begin;
    for (; i + 8 <= end; i += 8, z0 = _mm256_add_epi64(z0, step)) {
        __m256i z = multiply64_avx2(_mm256_xor_si256(z0, _mm256_srli_epi64(z0, 30)), mix1);
        z = multiply64_avx2(_mm256_xor_si256(z, _mm256_srli_epi64(z, 27)), mix2);
        z = _mm256_xor_si256(z, _mm256_srli_epi64(z, 31));
        __m256i keepLow = _mm256_cmpgt_epi64(limit, _mm256_and_si256(z, low));
        __m256i keepHigh = _mm256_cmpgt_epi64(limit, _mm256_srli_epi64(z, 32));
        __m256 factors = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(keepLow, scaleLow), _mm256_and_si256(keepHigh, scaleHigh)));
        _mm256_storeu_ps(m + i, factors);
        _mm256_storeu_ps(y + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), factors));
    }
    return i;
}

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

void mlp_dropout_portable(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold,
                          float scale) {
    for (long i = begin; i < end; i += 2) {
        uint64_t z = splitmix_finalise(key + (uint64_t)(i >> 1) * GOLDEN);
        float first = (z & 0xFFFFFFFFULL) < threshold ? scale : 0.0f;
        m[i] = first;
        y[i] = x[i] * first;
        if (i + 1 < end) {
            float second = (z >> 32) < threshold ? scale : 0.0f;
            m[i + 1] = second;
            y[i + 1] = x[i + 1] * second;
        }
    }
}

void mlp_dropout_avx2_or_portable(const float *x, float *y, float *m, long begin, long end, uint64_t key,
                                  uint64_t threshold, float scale) {
    long i = begin;
#if defined(__x86_64__)
    if (has_avx2()) i = dropout_avx2(x, y, m, begin, end, key, threshold, scale);
#endif
    mlp_dropout_portable(x, y, m, i, end, key, threshold, scale);
}

void mlp_dropout(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold, float scale) {
#if defined(__x86_64__)
    if (has_avx512dq()) {
        mlp_dropout_portable(x, y, m, dropout_avx512(x, y, m, begin, end, key, threshold, scale), end, key, threshold, scale);
        return;
    }
#endif
    mlp_dropout_avx2_or_portable(x, y, m, begin, end, key, threshold, scale);
}

void mlp_line_buffer_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void gemm_blocked_fma_avx2(const float *x, long rows, long k, const float *w, long n, const float *bias, long stride_k,
                                  float *y, float *acc) {
    for (long r = 0; r < rows; r++) {
        float *out = y + r * n;
        for (long j = 0; j < n; j++) out[j] = bias ? bias[j] : 0.0f;
        for (long k0 = 0; k0 < k; k0 += stride_k) {
            long k1 = k0 + stride_k < k ? k0 + stride_k : k;
            for (long j = 0; j < n; j++) acc[j] = 0.0f;
            for (long i = k0; i < k1; i++) {
                const float a = x[r * k + i];
                const float *row = w + i * n;
                for (long j = 0; j < n; j++) acc[j] = __builtin_fmaf(a, row[j], acc[j]);
            }
            for (long j = 0; j < n; j++) out[j] = acc[j] + out[j];
        }
    }
}
#endif

static void gemm_blocked_fma_portable(const float *x, long rows, long k, const float *w, long n, const float *bias,
                                      long stride_k, float *y, float *acc) {
    for (long r = 0; r < rows; r++) {
        float *out = y + r * n;
        for (long j = 0; j < n; j++) out[j] = bias ? bias[j] : 0.0f;
        for (long k0 = 0; k0 < k; k0 += stride_k) {
            long k1 = k0 + stride_k < k ? k0 + stride_k : k;
            for (long j = 0; j < n; j++) acc[j] = 0.0f;
            for (long i = k0; i < k1; i++) {
                for (long j = 0; j < n; j++) acc[j] = fmaf(x[r * k + i], w[i * n + j], acc[j]);
            }
            for (long j = 0; j < n; j++) out[j] = acc[j] + out[j];
        }
    }
}

void mlp_gemm_blocked_fma(const float *x, long rows, long k, const float *w, long n, const float *bias, long stride_k, float *y) {
    float *acc = malloc((size_t)(n > 0 ? n : 1) * sizeof *acc);
    if (!acc) return;
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        gemm_blocked_fma_avx2(x, rows, k, w, n, bias, stride_k, y, acc);
        free(acc);
        return;
    }
#endif
    gemm_blocked_fma_portable(x, rows, k, w, n, bias, stride_k, y, acc);
    free(acc);
}
