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


/* ---- the dot kernel on pair-packed panels (score.h, ncf_score_pair_slot_):
 * per block of 8 features, R users' 8 features broadcast to both halves of
 * a vector, times the 8 vectors of item pairs; at the end the 8 partial
 * sums of each item added in the tree of score.h by shuffles, which leave
 * the 16 items of the panel in order. */
#include "nn/score.h"

static inline __attribute__((always_inline)) __m512 bcast8(const float *p)
{
    return _mm512_castpd_ps(_mm512_broadcast_f64x4(_mm256_castps_pd(_mm256_loadu_ps(p))));
}

/* v[0..8): vector c = (item pair c) x 8 partial sums -> the 16 items' trees */
static inline __attribute__((always_inline)) __m512 tree16(const __m512 *v)
{
    __m512 s[4], t[2];
    for (int q = 0; q < 4; q++)
        s[q] = _mm512_add_ps(_mm512_shuffle_ps(v[2 * q], v[2 * q + 1], 0x88), _mm512_shuffle_ps(v[2 * q], v[2 * q + 1], 0xDD));
    for (int q = 0; q < 2; q++)
        t[q] = _mm512_add_ps(_mm512_shuffle_ps(s[2 * q], s[2 * q + 1], 0x88), _mm512_shuffle_ps(s[2 * q], s[2 * q + 1], 0xDD));
    return _mm512_add_ps(_mm512_shuffle_f32x4(t[0], t[1], 0x88), _mm512_shuffle_f32x4(t[0], t[1], 0xDD));
}

static inline __attribute__((always_inline)) void dot8_block(float *restrict S, size_t lds, const float *const *pu,
                                                              const float *bu, const int R, const float *restrict P,
                                                              const ncf_score_shape *sh, const int ONES)
{
    const float *restrict q = P + sh->qt_off;
    __m512 acc[3][8];
    for (int r = 0; r < R; r++)
        for (int c = 0; c < 8; c++) acc[r][c] = _mm512_setzero_ps();
    for (int kb = 0; kb < sh->F / 8; kb++, q += 128) {
        __m512 pb[3];
        for (int r = 0; r < R; r++) pb[r] = bcast8(pu[r] + 8 * kb);
        const __m512 wb = ONES ? _mm512_setzero_ps() : bcast8(sh->wo + 8 * kb);
        for (int c = 0; c < 8; c++) {
            const __m512 qc = _mm512_loadu_ps(q + 16 * c);
            for (int r = 0; r < R; r++) {
                __m512 t = _mm512_mul_ps(pb[r], qc);
                if (!ONES) t = _mm512_mul_ps(wb, t);
                acc[r][c] = _mm512_add_ps(acc[r][c], t);
            }
        }
    }
    for (int r = 0; r < R; r++) {
        __m512 b = _mm512_set1_ps(sh->b0);
        if (sh->has_bias) b = _mm512_add_ps(b, _mm512_add_ps(_mm512_set1_ps(bu[r]), _mm512_loadu_ps(P + sh->bi_off)));
        _mm512_storeu_ps(S + (size_t)r * lds, _mm512_add_ps(b, tree16(acc[r])));
    }
}

static inline __attribute__((always_inline)) void dot8_all(float *S, size_t lds, const float *const *pu,
                                                            const float *bu, int nu, const float *panels, int np,
                                                            const ncf_score_shape *sh, const int ONES)
{
    for (int p = 0; p < np; p++) {
        const float *P = panels + (size_t)p * sh->pstride;
        float *Sp = S + (size_t)p * NCF_PANEL;
        int r = 0;
        for (; r + 3 <= nu; r += 3) dot8_block(Sp + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, 3, P, sh, ONES);
        for (; r + 2 <= nu; r += 2) dot8_block(Sp + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, 2, P, sh, ONES);
        for (; r < nu; r++) dot8_block(Sp + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, 1, P, sh, ONES);
    }
}

static void ncf_s_dot8_avx512(float *S, size_t lds, const float *const *pu, const float *bu, int nu,
                              const float *panels, int np, const ncf_score_shape *sh)
{
    if (sh->wo_ones) dot8_all(S, lds, pu, bu, nu, panels, np, sh, 1);
    else dot8_all(S, lds, pu, bu, nu, panels, np, sh, 0);
}
#define SK_DOT8 ncf_s_dot8_avx512

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
