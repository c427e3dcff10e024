/* simd.h — 8-float vectors through gcc/clang vector extensions: one source
 * that compiles to SSE pairs, AVX2 or AVX-512 registers depending on the
 * clone (NCF_MULTIVERSION). Elementwise operations only, no reassociation
 * and (under -std=c11) no FMA contraction, so every path gives the same
 * bits. Loads and stores are unaligned-safe. */
#ifndef NCF_SIMD_H
#define NCF_SIMD_H

typedef float v8f __attribute__((vector_size(32)));
typedef float v8f_u __attribute__((vector_size(32), aligned(4), may_alias));

static inline v8f v8_load(const float *p) { return *(const v8f_u *)p; }
static inline void v8_store(float *p, v8f x) { *(v8f_u *)p = x; }
static inline v8f v8_set1(float x) { return (v8f){x, x, x, x, x, x, x, x}; }

#endif
