#ifndef MLP_KERNELS_H
#define MLP_KERNELS_H

#include <stdint.h>

// Element-wise passes of the training loop, in C so that they can use AVX2 or AVX-512 where
// the CPU has it (checked at run time) and SSE2 otherwise. Both give the same floats: every
// operation is IEEE single precision, in the same order, with no fused multiply-add.

// dst[i] = src[i] / 255 (correctly rounded), for n bytes.
void mlp_bytes_to_unit(const uint8_t *src, float *dst, long n);

// Keras's RMSprop step without momentum or centering, on n values:
//     v = rho * v + (1 - rho) * g * g;   w -= lr * g / sqrt(v + epsilon)
// Where g is zero this is exactly v = rho * v with w unchanged, and the root is skipped.
void mlp_rmsprop_step(float *w, float *v, const float *g, long n, float lr, float rho, float epsilon);

// Keras's Adam (AdamW with a nonzero decay) on n values, alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t):
//     w -= w * decay;  m += (g - m) * (1 - beta1);  v += (g * g - v) * (1 - beta2);  w -= m * alpha / (sqrt(v) + epsilon)
void mlp_adam_step(float *w, float *m, float *v, const float *g, long n, float alpha, float beta1, float beta2, float epsilon,
                   float decay);

// Inverted dropout over values [begin, end) of a batch (begin even): pair p = i / 2 takes
// 64 bits = splitmix64's finaliser of key + p * 0x9E3779B97F4A7C15; value 2p keeps if its low
// 32 bits are below threshold, value 2p + 1 if its high 32 bits are. m[i] = kept ? scale : 0,
// y[i] = x[i] * m[i]. A value's draw depends on its position alone, not on how the range is split.
void mlp_dropout(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold, float scale);

// Makes standard output line-buffered, so that progress shows line by line in a file or a
// pipe too (Swift cannot touch C's `stdout` under strict concurrency checking).
void mlp_line_buffer_stdout(void);

// y (rows, n) = bias + x (rows, k) · w (k, n), float32, summed in the order ONNX Runtime's CPU
// Gemm sums (MLAS's SGEMM): y starts at the bias, and each block of `stride_k` inputs is summed
// from zero by fused multiply-adds in input order, then added to y. Used to calibrate int8
// models on the values ONNX Runtime computes, to the last bit.
void mlp_gemm_blocked_fma(const float *x, long rows, long k, const float *w, long n, const float *bias, long stride_k, float *y);

// The same passes without AVX2, as run on CPUs that lack it (for tests on CPUs that have it).
void mlp_bytes_to_unit_portable(const uint8_t *src, float *dst, long n);
void mlp_rmsprop_step_portable(float *w, float *v, const float *g, long n, float lr, float rho, float epsilon);
void mlp_adam_step_portable(float *w, float *m, float *v, const float *g, long n, float alpha, float beta1, float beta2,
                            float epsilon, float decay);
void mlp_dropout_portable(const float *x, float *y, float *m, long begin, long end, uint64_t key, uint64_t threshold,
                          float scale);
// The AVX2 pass alone (4 pairs a step, 64-bit products from 32-bit ones), for tests on CPUs
// where mlp_dropout takes the AVX-512 pass; the portable one where the CPU has no AVX2.
void mlp_dropout_avx2_or_portable(const float *x, float *y, float *m, long begin, long end, uint64_t key,
                                  uint64_t threshold, float scale);

#endif
