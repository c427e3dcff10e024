/* kernels_avx2.c — the AVX2 + FMA kernel path (x86-64 only): 256-bit
 * vectors, multiply-add fused. Defines ncf_kernels_avx2_ (kernels.h), which
 * nn.c selects at run time when the CPU has them. */
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
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC target("avx2,fma")
#include <immintrin.h>
#endif
#define NCF_KPATH avx2
#define V8_MADD(c, a, b) ((v8f)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define S_MADD(c, a, b) __builtin_fmaf((a), (b), (c))
#include "nn/kernels_body.h"
#ifdef __clang__
#pragma clang attribute pop
#endif
#else
typedef int ncf_no_avx2_path; /* keeps the translation unit non-empty */
#endif
