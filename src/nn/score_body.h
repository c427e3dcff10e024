/* score_body.h — the bodies of the scoring kernels (score.h), included once
 * per instruction-set path (score_generic.c, score_avx2.c, score_avx512.c)
 * after the path defines:
 *   SKPATH           its name (generic, avx2, avx512)
 *   SVEC, SVW        the vector type and its width in floats (8 or 16)
 *   SV_LOAD, SV_STORE, SV_SET1   its load, store and broadcast
 *   SV_MADD(c, a, b) c + a * b as the path's linear kernels compute it
 *                    (kernels_body.h): fused on AVX2 / AVX-512, apart on
 *                    the portable path
 *   SRB              vectors of items per register block of the dot kernel
 *   SOB              outputs per register block of the tower's layers
 *   SNC              vectors per row of a tower pass (SNC * SVW items: one
 *                    or two panels)
 * Each score's operations are fixed by score.h whatever the blocking.
 * Not compiled on its own. */
#include "nn/score.h"

#ifndef SKPATH
#error "define SKPATH before including score_body.h"
#endif
#define SK_PASTE_(a, b, c) a##b##c
#define SK_PASTE(a, b, c) SK_PASTE_(a, b, c)
#define SK_STR_(a) #a
#define SK_STR(a) SK_STR_(a)
#define SKNAME(x) SK_PASTE(ncf_s_, x##_, SKPATH)
#define SKTABLE SK_PASTE(ncf_score_, SKPATH, _)
#define SK_AI static inline __attribute__((always_inline))

#define SK_ITEMS (SNC * SVW) /* items per tower pass */
_Static_assert(SK_ITEMS % NCF_PANEL == 0 && NCF_PANEL % SVW == 0, "a pass is whole panels");
_Static_assert(2 * NCF_PANEL % SK_ITEMS == 0, "a pair of panels is whole passes");

/* the relus of score.h: x > 0 ? x : +0, and x < 0 ? 0 : x */
SK_AI SVEC SKNAME(relu_pos)(SVEC x)
{
#ifdef SV_MAX0
    return SV_MAX0(x); /* the second operand (+0) for a NaN and for -0 */
#else
    __typeof__(x > x) keep = x > SV_SET1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= keep;
    memcpy(&x, &bits, sizeof x);
    return x;
#endif
}
SK_AI SVEC SKNAME(relu_tail)(SVEC x)
{
    __typeof__(x > x) neg = x < SV_SET1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= ~neg;
    memcpy(&x, &bits, sizeof x);
    return x;
}

SK_AI SVEC SKNAME(tree)(const SVEC *a)
{
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

/* One user times V vectors of SVW items (vectors c0 .. c0 + V of the
 * items of the panels at P, pstride apart): the output layer of GMF / MF.
 * Each vector of items shares the user's broadcast factor; ONES: the
 * weights are 1 and skipped. */
SK_AI void SKNAME(dot_block)(float *restrict S, const float *restrict pu, float bu, const float *restrict P, int c0,
                             const int V, const ncf_score_shape *sh, const int ONES)
{
    const int F = sh->F;
    const float *restrict wo = sh->wo;
    const float *qt[SRB];
    for (int c = 0; c < V; c++)
        qt[c] = P + (size_t)((c0 + c) * SVW / NCF_PANEL) * sh->pstride + sh->qt_off + (size_t)((c0 + c) * SVW % NCF_PANEL);
    SVEC acc[SRB][8];
    for (int c = 0; c < V; c++)
        for (int j = 0; j < 8; j++) acc[c][j] = SV_SET1(0.0f);
#define SK_DOT_STEP(k, j)                                                                                            \
    do {                                                                                                             \
        const SVEC p = SV_SET1(pu[k]);                                                                               \
        for (int c = 0; c < V; c++) {                                                                                \
            SVEC t = p * SV_LOAD(qt[c] + (size_t)(k) * NCF_PANEL);                                                   \
            if (!ONES) t = SV_SET1(wo[k]) * t;                                                                       \
            acc[c][j] = acc[c][j] + t;                                                                               \
        }                                                                                                            \
    } while (0)
    int k0 = 0;
    for (; k0 + 8 <= F; k0 += 8)
        for (int j = 0; j < 8; j++) SK_DOT_STEP(k0 + j, j);
    for (int j = 0; j < 8; j++)
        if (k0 + j < F) SK_DOT_STEP(k0 + j, j);
#undef SK_DOT_STEP
    for (int c = 0; c < V; c++) {
        SVEC b = SV_SET1(sh->b0);
        if (sh->has_bias) b = b + (SV_SET1(bu) + SV_LOAD(qt[c] - sh->qt_off + sh->bi_off));
        SV_STORE(S + (size_t)(c0 + c) * SVW, b + SKNAME(tree)(acc[c]));
    }
}

/* all nu users times the items of np panels: SRB vectors of items at a
 * time, each for every user (the panels stay in L1 across the users) */
SK_AI void SKNAME(dot_all)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *panels,
                           int np, const ncf_score_shape *sh, const int ONES)
{
    const int nc = np * (NCF_PANEL / SVW);
    int c = 0;
    for (; c + SRB <= nc; c += SRB)
        for (int r = 0; r < nu; r++)
            SKNAME(dot_block)(S + (size_t)r * lds, pu[r], bu ? bu[r] : 0.0f, panels, c, SRB, sh, ONES);
#if SRB > 2
    for (; c + 2 <= nc; c += 2)
        for (int r = 0; r < nu; r++)
            SKNAME(dot_block)(S + (size_t)r * lds, pu[r], bu ? bu[r] : 0.0f, panels, c, 2, sh, ONES);
#endif
    for (; c < nc; c++)
        for (int r = 0; r < nu; r++)
            SKNAME(dot_block)(S + (size_t)r * lds, pu[r], bu ? bu[r] : 0.0f, panels, c, 1, sh, ONES);
}

static void SKNAME(dot)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *panels,
                        int np, const ncf_score_shape *sh)
{
    if (sh->wo_ones) SKNAME(dot_all)(S, lds, pu, bu, nu, panels, np, sh, 1);
    else SKNAME(dot_all)(S, lds, pu, bu, nu, panels, np, sh, 0);
}

/* One hidden layer over a pass: Y[o][.] for outputs o0 .. o0 + OB, from
 * X[i][.] (rows of SK_ITEMS floats). */
SK_AI void SKNAME(layer_block)(float *restrict Y, const float *restrict X, const float *restrict w,
                               const float *restrict b, int in, int out, int o0, const int OB)
{
    SVEC acc[SOB][SNC];
    for (int o = 0; o < OB; o++)
        for (int c = 0; c < SNC; c++) acc[o][c] = SV_SET1(b[o0 + o]);
    for (int i = 0; i < in; i++) {
        SVEC x[SNC];
        for (int c = 0; c < SNC; c++) x[c] = SV_LOAD(X + (size_t)i * SK_ITEMS + (size_t)c * SVW);
        const float *wi = w + (size_t)i * (size_t)out + (size_t)o0;
        for (int o = 0; o < OB; o++) {
            const SVEC wv = SV_SET1(wi[o]);
            for (int c = 0; c < SNC; c++) acc[o][c] = SV_MADD(acc[o][c], x[c], wv);
        }
    }
    const int out8 = out & ~7;
    for (int o = 0; o < OB; o++)
        for (int c = 0; c < SNC; c++)
            SV_STORE(Y + (size_t)(o0 + o) * SK_ITEMS + (size_t)c * SVW,
                     o0 + o < out8 ? SKNAME(relu_pos)(acc[o][c]) : SKNAME(relu_tail)(acc[o][c]));
}

static void SKNAME(layer)(float *restrict Y, const float *restrict X, const float *restrict w, const float *restrict b,
                          int in, int out)
{
    int o = 0;
    for (; o + SOB <= out; o += SOB) SKNAME(layer_block)(Y, X, w, b, in, out, o, SOB);
#if SOB > 8
    for (; o + 8 <= out; o += 8) SKNAME(layer_block)(Y, X, w, b, in, out, o, 8);
#endif
#if SOB > 4
    for (; o + 4 <= out; o += 4) SKNAME(layer_block)(Y, X, w, b, in, out, o, 4);
#endif
    for (; o + 2 <= out; o += 2) SKNAME(layer_block)(Y, X, w, b, in, out, o, 2);
    for (; o < out; o++) SKNAME(layer_block)(Y, X, w, b, in, out, o, 1);
}

static void SKNAME(tower)(float *S, const float *uh, const float *pu, const float *panels, int np,
                          const ncf_score_shape *sh, float *work)
{
    const int F = sh->F, h = sh->h, L = sh->n_layers, n = sh->out[L - 1];
    const float *restrict wo = sh->wo;
    const float b0 = sh->b0;
    const size_t pstride = sh->pstride;
    float *restrict X = work, *restrict Y = work + (size_t)sh->max_width * SK_ITEMS;
    for (int p = 0; p < np; p += SK_ITEMS / NCF_PANEL) {
        /* vector c of a row: its panel and lane offset */
        const float *ih[SNC], *qt[SNC];
        for (int c = 0; c < SNC; c++) {
            const float *at = panels + (size_t)(p + c * SVW / NCF_PANEL) * pstride + (size_t)(c * SVW % NCF_PANEL);
            ih[c] = at + sh->ih_off;
            qt[c] = at + sh->qt_off;
        }
        for (int k = 0; k < h; k++) {
            const SVEC u = SV_SET1(uh[k]);
            for (int c = 0; c < SNC; c++)
                SV_STORE(X + (size_t)k * SK_ITEMS + (size_t)c * SVW,
                         SKNAME(relu_pos)(u + SV_LOAD(ih[c] + (size_t)k * NCF_PANEL)));
        }
        float *x = X, *y = Y;
        for (int l = 1; l < L; l++) {
            SKNAME(layer)(y, x, sh->wt[l], sh->b[l], sh->in[l], sh->out[l]);
            float *t = x;
            x = y;
            y = t;
        }
        SVEC acc[8][SNC];
        for (int j = 0; j < 8; j++)
            for (int c = 0; c < SNC; c++) acc[j][c] = SV_SET1(0.0f);
        /* acc[k & 7] in feature order: blocks of 8 with constant j */
        for (int k0 = 0; k0 < F; k0 += 8)
            for (int j = 0; j < 8; j++)
                if (k0 + j < F) {
                    const int k = k0 + j;
                    const SVEC pk = SV_SET1(pu[k]), wk = SV_SET1(wo[k]);
                    for (int c = 0; c < SNC; c++)
                        acc[j][c] = acc[j][c] + wk * (pk * SV_LOAD(qt[c] + (size_t)k * NCF_PANEL));
                }
        for (int k0 = 0; k0 < n; k0 += 8)
            for (int j = 0; j < 8; j++)
                if (k0 + j < n) {
                    const int k = k0 + j;
                    const SVEC wk = SV_SET1(wo[F + k]);
                    for (int c = 0; c < SNC; c++)
                        acc[j][c] = acc[j][c] + wk * SV_LOAD(x + (size_t)k * SK_ITEMS + (size_t)c * SVW);
                }
        for (int c = 0; c < SNC; c++) {
            SVEC a[8];
            for (int j = 0; j < 8; j++) a[j] = acc[j][c];
            SV_STORE(S + (size_t)p * NCF_PANEL + (size_t)c * SVW, SV_SET1(b0) + SKNAME(tree)(a));
        }
    }
}

const ncf_score_kernels SKTABLE = {
    .name = SK_STR(SKPATH),
    .dot = SKNAME(dot),
    .tower = SKNAME(tower),
#ifdef SK_DOT8
    .dot8 = SK_DOT8,
#endif
};

#undef SK_ITEMS
#undef SK_AI
