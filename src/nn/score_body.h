/* score_body.h — the bodies of the scoring kernels (score.h), included once
 * per instruction-set path (score_generic.c, score_avx2.c, score_avx512.c)
 * after the path defines:
 *   SKPATH           its name (generic, avx2, avx512)
 *   SVEC, SVW        the vector type and its width in floats (8 or 16)
 *   SV_LOAD, SV_STORE, SV_SET1   its load, store and broadcast
 *   SV_MADD(c, a, b) c + a * b as the path's linear kernels compute it
 *                    (kernels_body.h): fused on AVX2 / AVX-512, apart on
 *                    the portable path
 *   SRB              users per register block of the dot kernel
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
    __typeof__(x > x) keep = x > SV_SET1(0.0f), bits;
    memcpy(&bits, &x, sizeof bits);
    bits &= keep;
    memcpy(&x, &bits, sizeof x);
    return x;
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

/* R users x SVW items (vector v of the panel at P): the output layer of
 * GMF / MF. ONES: the weights are 1 and skipped. */
SK_AI void SKNAME(dot_block)(float *restrict S, size_t lds, const float *const *pu, const float *bu, const int R,
                             const float *restrict P, int v, const ncf_score_shape *sh, const int ONES)
{
    const int F = sh->F;
    const float *restrict qt = P + sh->qt_off + (size_t)v * SVW;
    const float *restrict wo = sh->wo;
    SVEC acc[SRB][8];
    for (int r = 0; r < R; r++)
        for (int j = 0; j < 8; j++) acc[r][j] = SV_SET1(0.0f);
    int k = 0;
    for (; k + 8 <= F; k += 8)
        for (int j = 0; j < 8; j++) {
            const SVEC q = SV_LOAD(qt + (size_t)(k + j) * NCF_PANEL);
            for (int r = 0; r < R; r++) {
                SVEC t = SV_SET1(pu[r][k + j]) * q;
                if (!ONES) t = SV_SET1(wo[k + j]) * t;
                acc[r][j] = acc[r][j] + t;
            }
        }
    for (int j = 0; j < 8; j++)
        if (k + j < F) {
            const SVEC q = SV_LOAD(qt + (size_t)(k + j) * NCF_PANEL);
            for (int r = 0; r < R; r++) {
                SVEC t = SV_SET1(pu[r][k + j]) * q;
                if (!ONES) t = SV_SET1(wo[k + j]) * t;
                acc[r][j] = acc[r][j] + t;
            }
        }
    for (int r = 0; r < R; r++) {
        SVEC b = SV_SET1(sh->b0);
        if (sh->has_bias) b = b + (SV_SET1(bu[r]) + SV_LOAD(P + sh->bi_off + (size_t)v * SVW));
        SV_STORE(S + (size_t)r * lds + (size_t)v * SVW, b + SKNAME(tree)(acc[r]));
    }
}

SK_AI void SKNAME(dot_panel)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *P,
                             const ncf_score_shape *sh, const int ONES)
{
    for (int v = 0; v < NCF_PANEL / SVW; v++) {
        int r = 0;
        for (; r + SRB <= nu; r += SRB)
            SKNAME(dot_block)(S + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, SRB, P, v, sh, ONES);
#if SRB > 2
        for (; r + 2 <= nu; r += 2)
            SKNAME(dot_block)(S + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, 2, P, v, sh, ONES);
#endif
        for (; r < nu; r++) SKNAME(dot_block)(S + (size_t)r * lds, lds, pu + r, bu ? bu + r : NULL, 1, P, v, sh, ONES);
    }
}

static void SKNAME(dot)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *panels,
                        int np, const ncf_score_shape *sh)
{
    for (int p = 0; p < np; p++) {
        const float *P = panels + (size_t)p * sh->pstride;
        float *Sp = S + (size_t)p * NCF_PANEL;
        if (sh->wo_ones) SKNAME(dot_panel)(Sp, lds, pu, bu, nu, P, sh, 1);
        else SKNAME(dot_panel)(Sp, lds, pu, bu, nu, P, sh, 0);
    }
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
    const int F = sh->F, h = sh->h, L = sh->n_layers;
    const float *restrict wo = sh->wo;
    float *X = work, *Y = work + (size_t)sh->max_width * SK_ITEMS;
    for (int p = 0; p < np; p += SK_ITEMS / NCF_PANEL) {
        /* the panel and lane offset of vector c of a row */
#define SK_AT(c, off, k)                                                                                            \
    (panels + (size_t)(p + (c) * SVW / NCF_PANEL) * sh->pstride + (off) + (size_t)(k) * NCF_PANEL +                  \
     (size_t)((c) * SVW % NCF_PANEL))
        for (int k = 0; k < h; k++) {
            const SVEC u = SV_SET1(uh[k]);
            for (int c = 0; c < SNC; c++)
                SV_STORE(X + (size_t)k * SK_ITEMS + (size_t)c * SVW, SKNAME(relu_pos)(u + SV_LOAD(SK_AT(c, sh->ih_off, k))));
        }
        for (int l = 1; l < L; l++) {
            SKNAME(layer)(Y, X, sh->wt[l], sh->b[l], sh->in[l], sh->out[l]);
            float *t = X;
            X = Y;
            Y = t;
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
                    for (int c = 0; c < SNC; c++) acc[j][c] = acc[j][c] + wk * (pk * SV_LOAD(SK_AT(c, sh->qt_off, k)));
                }
#undef SK_AT
        const int n = sh->out[L - 1];
        for (int k0 = 0; k0 < n; k0 += 8)
            for (int j = 0; j < 8; j++)
                if (k0 + j < n) {
                    const int k = k0 + j;
                    const SVEC wk = SV_SET1(wo[F + k]);
                    for (int c = 0; c < SNC; c++)
                        acc[j][c] = acc[j][c] + wk * SV_LOAD(X + (size_t)k * SK_ITEMS + (size_t)c * SVW);
                }
        for (int c = 0; c < SNC; c++) {
            SVEC a[8];
            for (int j = 0; j < 8; j++) a[j] = acc[j][c];
            SV_STORE(S + (size_t)p * NCF_PANEL + (size_t)c * SVW, SV_SET1(sh->b0) + SKNAME(tree)(a));
        }
    }
}

const ncf_score_kernels SKTABLE = {
    .name = SK_STR(SKPATH),
    .dot = SKNAME(dot),
    .tower = SKNAME(tower),
};

#undef SK_ITEMS
#undef SK_AI
