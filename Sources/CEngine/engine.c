#include "mlp_engine.h"

#include <oneapi/dnnl/dnnl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

// OpenMP's `omp_set_num_threads`, from the libgomp that libdnnl loads: it sets the thread count
// for the calling thread only (libgomp keeps it per thread).
static void (*set_omp_threads)(int);

struct mlp_product {
    dnnl_primitive_t primitive;
    dnnl_memory_desc_t a, b, c, bias, scratchpad;
    size_t scratchpad_size;
    int with_bias;
    const char *implementation;
};

static dnnl_engine_t engine;
static dnnl_status_t engine_status = dnnl_success;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static _Thread_local dnnl_stream_t stream;

// Each thread's scratchpad, grown to the largest a product run on it has asked for. oneDNN's
// own (library) scratchpad is shared between primitives, and its AVX-512 brgemm kernels keep
// their packed blocks there: two products running at once on two threads, as the pieces of a
// split product do, would overwrite each other's blocks. Products are therefore made with a
// user scratchpad, which each run takes from its own thread.
static _Thread_local void *scratch;
static _Thread_local size_t scratch_size;

static void make_engine(void) {
    *(void **)&set_omp_threads = dlsym(RTLD_DEFAULT, "omp_set_num_threads");
    engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0);
}

static int start(int threads) {
    pthread_once(&engine_once, make_engine);
    if (set_omp_threads) set_omp_threads(threads);
    return engine_status == dnnl_success;
}

mlp_product *mlp_product_create(int transpose_a, int transpose_b, long m, long n, long k, long lda, long ldb, long ldc,
                                int with_bias, int bf16, int threads, char *error, long error_size) {
    if (!start(threads)) {
        snprintf(error, (size_t)error_size, "oneDNN has no CPU engine (status %d)", (int)engine_status);
        return NULL;
    }
    mlp_product *product = calloc(1, sizeof *product);
    if (!product) {
        snprintf(error, (size_t)error_size, "out of memory");
        return NULL;
    }
    dnnl_data_type_t input_type = bf16 ? dnnl_bf16 : dnnl_f32;
    dnnl_dims_t a_dims = {m, k}, b_dims = {k, n}, c_dims = {m, n}, bias_dims = {1, n};
    dnnl_dims_t a_strides = {transpose_a ? 1 : lda, transpose_a ? lda : 1};
    dnnl_dims_t b_strides = {transpose_b ? 1 : ldb, transpose_b ? ldb : 1};
    dnnl_dims_t c_strides = {ldc, 1}, bias_strides = {n, 1};
    dnnl_status_t status = dnnl_memory_desc_init_by_strides(&product->a, 2, a_dims, input_type, a_strides);
    if (!status) status = dnnl_memory_desc_init_by_strides(&product->b, 2, b_dims, input_type, b_strides);
    if (!status) status = dnnl_memory_desc_init_by_strides(&product->c, 2, c_dims, dnnl_f32, c_strides);
    if (!status) status = dnnl_memory_desc_init_by_strides(&product->bias, 2, bias_dims, dnnl_f32, bias_strides);
    dnnl_matmul_desc_t desc;
    if (!status) status = dnnl_matmul_desc_init(&desc, &product->a, &product->b, with_bias ? &product->bias : NULL, &product->c);
    dnnl_primitive_attr_t attributes = NULL;
    if (!status) status = dnnl_primitive_attr_create(&attributes);
    if (!status) status = dnnl_primitive_attr_set_scratchpad_mode(attributes, dnnl_scratchpad_mode_user);
    dnnl_primitive_desc_t primitive_desc = NULL;
    if (!status) status = dnnl_primitive_desc_create(&primitive_desc, &desc, attributes, engine, NULL);
    if (attributes) dnnl_primitive_attr_destroy(attributes);
    if (!status) {
        const dnnl_memory_desc_t *scratchpad = dnnl_primitive_desc_query_md(primitive_desc, dnnl_query_scratchpad_md, 0);
        if (scratchpad) product->scratchpad = *scratchpad;
        product->scratchpad_size = scratchpad ? dnnl_memory_desc_get_size(scratchpad) : 0;
    }
    if (!status) status = dnnl_primitive_create(&product->primitive, primitive_desc);
    if (!status) dnnl_primitive_desc_query(primitive_desc, dnnl_query_impl_info_str, 0, &product->implementation);
    // The name belongs to the descriptor, which is destroyed below: keep a copy.
    if (!status && product->implementation) product->implementation = strdup(product->implementation);
    if (primitive_desc) dnnl_primitive_desc_destroy(primitive_desc);
    if (status) {
        snprintf(error, (size_t)error_size, "oneDNN cannot make a %s %ldx%ldx%ld product on this CPU (status %d%s)",
                 bf16 ? "bfloat16" : "float32", m, n, k, (int)status,
                 status == dnnl_unimplemented ? ": unimplemented" : "");
        mlp_product_destroy(product);
        return NULL;
    }
    product->with_bias = with_bias;
    return product;
}

int mlp_product_run(const mlp_product *product, const void *a, const void *b, float *c, const float *bias, int threads) {
    start(threads);
    if (!stream) {
        dnnl_status_t status = dnnl_stream_create(&stream, engine, dnnl_stream_default_flags);
        if (status) return (int)status;
    }
    if (product->scratchpad_size > scratch_size) {
        free(scratch);
        scratch = NULL;
        scratch_size = 0;
        // oneDNN's kernels expect their buffers on a page boundary, as its own allocator gives them.
        if (posix_memalign(&scratch, 4096, product->scratchpad_size)) return (int)dnnl_out_of_memory;
        scratch_size = product->scratchpad_size;
    }
    dnnl_memory_t memory[5] = {NULL, NULL, NULL, NULL, NULL};
    dnnl_status_t status = dnnl_memory_create(&memory[0], &product->a, engine, (void *)a);
    if (!status) status = dnnl_memory_create(&memory[1], &product->b, engine, (void *)b);
    if (!status) status = dnnl_memory_create(&memory[2], &product->c, engine, c);
    if (!status && product->scratchpad_size) status = dnnl_memory_create(&memory[3], &product->scratchpad, engine, scratch);
    if (!status && product->with_bias) status = dnnl_memory_create(&memory[4], &product->bias, engine, (void *)bias);
    if (!status) {
        dnnl_exec_arg_t args[5] = {{DNNL_ARG_SRC, memory[0]}, {DNNL_ARG_WEIGHTS, memory[1]}, {DNNL_ARG_DST, memory[2]}};
        int count = 3;
        if (product->scratchpad_size) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_SCRATCHPAD, memory[3]};
        if (product->with_bias) args[count++] = (dnnl_exec_arg_t){DNNL_ARG_BIAS, memory[4]};
        status = dnnl_primitive_execute(product->primitive, stream, count, args);
    }
    for (int i = 0; i < 5; i++)
        if (memory[i]) dnnl_memory_destroy(memory[i]);
    return (int)status;
}

int mlp_sgemm(int transpose_a, int transpose_b, long m, long n, long k, const float *a, long lda, const float *b, long ldb,
              float *c, long ldc) {
    start(1);
    return (int)dnnl_sgemm(transpose_a ? 'T' : 'N', transpose_b ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
}

int mlp_gemm_u8s8s32(long m, long n, long k, const uint8_t *a, long lda, uint8_t a_zero, const int8_t *b, long ldb,
                     int32_t *c, long ldc, const int32_t *column_offsets) {
    start(1);
    // oneDNN's convention: C = alpha · (A − a_offset) · (B − b_offset) + beta · C + C_offset; 'R'
    // gives C_offset one value per column, added to every row.
    return (int)dnnl_gemm_u8s8s32('N', 'N', 'R', m, n, k, 1.0f, a, lda, a_zero, b, ldb, 0, 0.0f, c, ldc, column_offsets);
}

void mlp_gemm_u8s8s32_exact(long m, long n, long k, const uint8_t *a, long lda, uint8_t a_zero, const int8_t *b, long ldb,
                            int32_t *c, long ldc, const int32_t *column_offsets) {
    for (long r = 0; r < m; r++) {
        int32_t *row = c + r * ldc;
        for (long j = 0; j < n; j++) row[j] = column_offsets[j];
        for (long i = 0; i < k; i++) {
            const int32_t x = (int32_t)a[r * lda + i] - (int32_t)a_zero;
            const int8_t *w = b + i * ldb;
            for (long j = 0; j < n; j++) row[j] += x * (int32_t)w[j];
        }
    }
}

const char *mlp_product_implementation(const mlp_product *product) {
    return product->implementation ? product->implementation : "?";
}

void mlp_product_destroy(mlp_product *product) {
    if (!product) return;
    if (product->primitive) dnnl_primitive_destroy(product->primitive);
    free((void *)product->implementation);
    free(product);
}

const char *mlp_engine_isa(void) {
    switch (dnnl_get_effective_cpu_isa()) {
    case dnnl_cpu_isa_sse41: return "sse41";
    case dnnl_cpu_isa_avx: return "avx";
    case dnnl_cpu_isa_avx2: return "avx2";
    case dnnl_cpu_isa_avx2_vnni: return "avx2_vnni";
    case dnnl_cpu_isa_avx512_mic: return "avx512_mic";
    case dnnl_cpu_isa_avx512_mic_4ops: return "avx512_mic_4ops";
    case dnnl_cpu_isa_avx512_core: return "avx512_core";
    case dnnl_cpu_isa_avx512_core_vnni: return "avx512_core_vnni";
    case dnnl_cpu_isa_avx512_core_bf16: return "avx512_core_bf16";
    case dnnl_cpu_isa_avx512_core_amx: return "avx512_core_amx";
    default: return "generic";
    }
}

int mlp_engine_has_bf16(void) {
    char error[160];
    mlp_product *probe = mlp_product_create(0, 0, 16, 16, 16, 16, 16, 16, 0, 1, 1, error, sizeof error);
    if (!probe) return 0;
    mlp_product_destroy(probe);
    return 1;
}

static char version_text[32];

static void write_version(void) {
    const dnnl_version_t *version = dnnl_version();
    snprintf(version_text, sizeof version_text, "%d.%d.%d", version->major, version->minor, version->patch);
}

const char *mlp_engine_version(void) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, write_version);
    return version_text;
}

static void f32_to_bf16_portable(const float *src, uint16_t *dst, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, src + i, 4);
        if ((bits & 0x7fffffffu) > 0x7f800000u) {
            dst[i] = 0x7fc0;  // TensorFlow's NaN, whatever the sign and payload
        } else {
            dst[i] = (uint16_t)((bits + 0x7fffu + ((bits >> 16) & 1u)) >> 16);
        }
    }
}

#if defined(__x86_64__)
#include <immintrin.h>

// Sixteen at a time, the same integer steps as the portable loop.
__attribute__((target("avx2")))
static void f32_to_bf16_avx2(const float *src, uint16_t *dst, long n) {
    const __m256i one = _mm256_set1_epi32(1), bias = _mm256_set1_epi32(0x7fff), nan_value = _mm256_set1_epi32(0x7fc0);
    const __m256i magnitude = _mm256_set1_epi32(0x7fffffff), infinity = _mm256_set1_epi32(0x7f800000);
    long i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i halves[2];
        for (int h = 0; h < 2; h++) {
            __m256i bits = _mm256_loadu_si256((const __m256i *)(src + i + 8 * h));
            __m256i lsb = _mm256_and_si256(_mm256_srli_epi32(bits, 16), one);
            __m256i rounded = _mm256_srli_epi32(_mm256_add_epi32(_mm256_add_epi32(bits, bias), lsb), 16);
            __m256i nan = _mm256_cmpgt_epi32(_mm256_and_si256(bits, magnitude), infinity);
            halves[h] = _mm256_blendv_epi8(rounded, nan_value, nan);
        }
        // packus interleaves the 128-bit lanes: put them back in order.
        __m256i packed = _mm256_permute4x64_epi64(_mm256_packus_epi32(halves[0], halves[1]), 0xd8);
        _mm256_storeu_si256((__m256i *)(dst + i), packed);
    }
    f32_to_bf16_portable(src + i, dst + i, n - i);
}
#endif

void mlp_f32_to_bf16(const float *src, uint16_t *dst, long n) {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx2")) return f32_to_bf16_avx2(src, dst, n);
#endif
    f32_to_bf16_portable(src, dst, n);
}

void mlp_f32_to_bf16_portable(const float *src, uint16_t *dst, long n) { f32_to_bf16_portable(src, dst, n); }

void mlp_bf16_to_f32(const uint16_t *src, float *dst, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t bits = (uint32_t)src[i] << 16;
        memcpy(dst + i, &bits, 4);
    }
}
