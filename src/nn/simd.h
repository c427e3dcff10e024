/* simd.h — 8-float vectors through gcc/clang vector extensions: one source
 * that compiles to SSE pairs, AVX2 or AVX-512 registers depending on the
 * clone (NCF_MULTIVERSION). Elementwise operations only, no reassociation
 * and (under -std=c11) no FMA contraction, so every path gives the same
 * bits. Loads and stores go through memcpy: any alignment, no aliasing
 * questions, and compilers emit single unaligned vector moves for them.
 *
 * Every helper taking or returning a v8f is always inlined: a 32-byte
 * vector crosses a call in registers only when AVX is enabled, so an
 * out-of-line baseline helper called from an AVX clone would disagree on
 * the calling convention (gcc's -Wpsabi note, silenced in the Makefile for
 * that reason). */
#ifndef NCF_SIMD_H
#define NCF_SIMD_H

#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
typedef int v8i __attribute__((vector_size(32)));

static inline __attribute__((always_inline)) v8f v8_load(const float *p)
{
    v8f x;
    memcpy(&x, p, sizeof x);
    return x;
}
static inline __attribute__((always_inline)) void v8_store(float *p, v8f x) { memcpy(p, &x, sizeof x); }
static inline __attribute__((always_inline)) v8f v8_set1(float x) { return (v8f){x, x, x, x, x, x, x, x}; }
/* max(x, 0) lane by lane, as the scalar x > 0 ? x : 0 (NaN and -0 give +0) */
static inline __attribute__((always_inline)) v8f v8_relu(v8f x)
{
    v8i keep = x > v8_set1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= keep;
    memcpy(&x, &bits, sizeof x);
    return x;
}

/* x where y > 0, else +0, lane by lane, as the scalar y > 0 ? x : 0 (the
 * ReLU backward: y the layer's output) */
static inline __attribute__((always_inline)) v8f v8_keep_where_pos(v8f x, v8f y)
{
    v8i keep = y > v8_set1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= keep;
    memcpy(&x, &bits, sizeof x);
    return x;
}

#endif
