/* score_avx2.c — the AVX2 + FMA path of the scoring kernels (score.h;
 * x86-64 only): 8-float vectors, the tower's multiply-adds fused as in
 * kernels_avx2.c. Defines ncf_score_avx2_, which score.c selects when the
 * AVX2 linear kernels are the active ones. */
#if defined(__x86_64__) && defined(__GNUC__)
#ifdef __clang__
/* as in kernels_avx2.c: clang takes the target through an attribute push */
#include <immintrin.h>
#include <stddef.h>
#include <string.h>
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#endif
#include <string.h>

#include "nn/simd.h"

#define SKPATH avx2
#define SVEC v8f
#define SVW 8
#define SV_LOAD v8_load
#define SV_STORE v8_store
#define SV_SET1 v8_set1
#define SV_MADD(c, a, b) ((v8f)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define SV_MAX0(x) ((v8f)_mm256_max_ps((__m256)(x), _mm256_setzero_ps()))
#define SRB 1
#define SOB 6
#define SNC 2
#include "nn/score_body.h"
#ifdef __clang__
#pragma clang attribute pop
#endif
#else
typedef int ncf_no_score_avx2_path; /* keeps the translation unit non-empty */
#endif
