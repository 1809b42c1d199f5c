#ifndef MLP_ENGINE_H
#define MLP_ENGINE_H

#include <stdint.h>

// Matrix products through oneDNN's matmul primitive, each shape's primitive created once and
// reused. The toolchain runs each product on the calling thread alone (threads = 1) and splits
// large products over its own cores, so that oneDNN's OpenMP threads never compete with its
// own; the benchmark also runs them on oneDNN's threads, to measure oneDNN's own rate.

typedef struct mlp_product mlp_product;

// Creates the product c (m, n) = op(a) (m, k) · op(b) (k, n) [+ bias (n)], row-major:
// a is stored (m, k) with row stride lda, or (k, m) when transpose_a; b is (k, n) with row
// stride ldb, or (n, k) when transpose_b; c has row stride ldc. With bf16, a and b hold
// bfloat16 values and the products accumulate in float32; c and the bias are float32.
// Returns NULL and writes the reason into `error` when oneDNN cannot make it.
mlp_product *mlp_product_create(int transpose_a, int transpose_b, long m, long n, long k, long lda, long ldb, long ldc,
                                int with_bias, int bf16, int threads, char *error, long error_size);

// Runs the product on `threads` OpenMP threads (1: the calling thread alone), as many as it was
// created for. `bias` is read only when the product was created with one. Returns 0, or
// oneDNN's status code.
int mlp_product_run(const mlp_product *product, const void *a, const void *b, float *c, const float *bias, int threads);

// dnnl_gemm_u8s8s32 on the calling thread alone, row-major: c = (a - a_zero) · b + column_offsets,
// a uint8 (m, k), b int8 (k, n), c int32 (m, n), column_offsets one int32 per column of c; exact
// integer sums (alpha 1, beta 0). Returns 0, or oneDNN's status code.
int mlp_gemm_u8s8s32(long m, long n, long k, const uint8_t *a, long lda, uint8_t a_zero, const int8_t *b, long ldb,
                     int32_t *c, long ldc, const int32_t *column_offsets);

// The same sums by plain integer loops on the calling thread: exact on every CPU. oneDNN's
// product is exact only with VNNI; without it its kernels pair products in 16 bits, which
// saturate (a uint8 of 255 by an int8 of 127, twice, passes 32,767).
void mlp_gemm_u8s8s32_exact(long m, long n, long k, const uint8_t *a, long lda, uint8_t a_zero, const int8_t *b, long ldb,
                            int32_t *c, long ldc, const int32_t *column_offsets);

// The implementation oneDNN chose, e.g. "brg:avx512_core" or "gemm:jit".
const char *mlp_product_implementation(const mlp_product *product);

void mlp_product_destroy(mlp_product *product);

// dnnl_sgemm on the calling thread alone, row-major: c = op(a) · op(b), for shapes that change
// from call to call, where making a primitive for each would cost more than it gains.
int mlp_sgemm(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
              float *c, long ldc);

// The instruction set oneDNN's kernels use on this CPU: "avx2", "avx512_core_bf16", ...
const char *mlp_engine_isa(void);

// Whether oneDNN runs bfloat16 products on this CPU (it needs AVX-512 at least).
int mlp_engine_has_bf16(void);

// oneDNN's version, e.g. "2.6.3".
const char *mlp_engine_version(void);

// float32 to bfloat16, rounding to nearest even as TensorFlow's cast does; every NaN becomes 0x7fc0, as there.
void mlp_f32_to_bf16(const float *src, uint16_t *dst, long n);

// The same without AVX2, as run on CPUs that lack it (for tests on CPUs that have it).
void mlp_f32_to_bf16_portable(const float *src, uint16_t *dst, long n);

// bfloat16 to float32 (exact).
void mlp_bf16_to_f32(const uint16_t *src, float *dst, long n);

#endif
