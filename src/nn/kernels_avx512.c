/* kernels_avx512.c — the AVX-512 kernel path (x86-64 only). Output blocks
 * of 16 and 32 and input blocks of 16 and 32 use 16-float vectors, six
 * tile rows per pass (32 vector registers hold the twelve accumulator
 * chains); blocks of 8 use 8-float vectors as in the AVX2 path. Every
 * output element sees the operations of the AVX2 path in the same order,
 * so both paths give the same bits; on CPUs with full-width 512-bit units
 * (AMD Zen 5, Intel) each instruction does twice the work. Defines
 * ncf_kernels_avx512_ (kernels.h), which nn.c selects at run time when the
 * CPU has AVX-512F/VL. */
#if defined(__x86_64__) && defined(__GNUC__)
#ifdef __clang__
/* clang ignores #pragma GCC target: it puts the target attribute on every
 * function declared from the push to the pop instead (the system headers
 * first, so that their declarations stay as they are). gcc reads exactly
 * the lines it read before. */
#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx512vl,avx2,fma")
#include <immintrin.h>
#endif
#include <string.h>

typedef float v16f __attribute__((vector_size(64)));
typedef int v16i __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) v16f v16_load(const float *p)
{
    v16f x;
    memcpy(&x, p, sizeof x);
    return x;
}
static inline __attribute__((always_inline)) void v16_store(float *p, v16f x) { memcpy(p, &x, sizeof x); }
static inline __attribute__((always_inline)) v16f v16_set1(float x) { return (v16f){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
/* the 8-float helpers of simd.h, 16 lanes wide */
static inline __attribute__((always_inline)) v16f v16_keep_where_pos(v16f x, v16f y)
{
    v16i keep = y > v16_set1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= keep;
    memcpy(&x, &bits, sizeof x);
    return x;
}
static inline __attribute__((always_inline)) v16f v16_relu(v16f x) { return v16_keep_where_pos(x, x); }

#define NCF_WIDE 1
#define NCF_NR_MAX 6
#define NCF_KPATH avx512
#define V8_MADD(c, a, b) ((v8f)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define V16_MADD(c, a, b) ((v16f)_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(c)))
#define S_MADD(c, a, b) __builtin_fmaf((a), (b), (c))
#include "nn/kernels_body.h"
#ifdef __clang__
#pragma clang attribute pop
#endif
#else
typedef int ncf_no_avx512_path;
#endif
