/* kernels_avx512.c — the AVX-512 kernel path (x86-64 only): the same 8-float
 * blocks encoded with AVX-512VL (32 vector registers, EVEX), multiply-add
 * fused. On Zen 4, whose 512-bit units are two 256-bit halves, wider vectors
 * would not add throughput; the extra registers let gcc keep more
 * accumulators live. Selected at run time when the CPU has AVX-512F/VL. */
#if defined(__x86_64__) && defined(__GNUC__)
#pragma GCC target("avx512f,avx512vl,avx2,fma")
#include <immintrin.h>
#define KNAME(x) ncf_k_##x##_avx512
#define V8_MADD(c, a, b) ((v8f)_mm256_fmadd_ps((__m256)(a), (__m256)(b), (__m256)(c)))
#define S_MADD(c, a, b) __builtin_fmaf((a), (b), (c))
#include "nn/kernels_body.h"
#else
typedef int ncf_no_avx512_path;
#endif
