/* score_avx512.c — the AVX-512 path of the scoring kernels (score.h; x86-64
 * only): 16-float vectors, a panel per vector, the tower's multiply-adds
 * fused as in kernels_avx512.c (the same bits as the AVX2 path). Defines
 * ncf_score_avx512_, which score.c selects when the AVX-512 linear kernels
 * are the active ones. */
#if defined(__x86_64__) && defined(__GNUC__)
#ifdef __clang__
/* as in kernels_avx512.c: clang takes the target through an attribute push */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>
#pragma clang attribute push(__attribute__((target("avx512f,avx512vl,avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx512f,avx512vl,avx2,fma")
#include <immintrin.h>
#endif
#include <string.h>

typedef float v16f __attribute__((vector_size(64)));

static inline __attribute__((always_inline)) v16f v16_load(const float *p)
{
    v16f x;
    memcpy(&x, p, sizeof x);
    return x;
}
static inline __attribute__((always_inline)) void v16_store(float *p, v16f x) { memcpy(p, &x, sizeof x); }
static inline __attribute__((always_inline)) v16f v16_set1(float x)
{
    return (v16f){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x};
}

#define SKPATH avx512
#define SVEC v16f
#define SVW 16
#define SV_LOAD v16_load
#define SV_STORE v16_store
#define SV_SET1 v16_set1
#define SV_MADD(c, a, b) ((v16f)_mm512_fmadd_ps((__m512)(a), (__m512)(b), (__m512)(c)))
#define SV_MAX0(x) ((v16f)_mm512_max_ps((__m512)(x), _mm512_setzero_ps()))
#define SRB 3
#define SOB 12
#define SNC 2
#include "nn/score_body.h"
#ifdef __clang__
#pragma clang attribute pop
#endif
#else
typedef int ncf_no_score_avx512_path;
#endif
