/* optim.c — Adam and SGD update kernels (see optim.h). Both Adam kernels
 * go through adam_elem, so a deferred zero-gradient step computes exactly
 * the operations of an immediate one. */
#include "optim/optim.h"

#include <math.h>
#include <stdlib.h>

#include "nn/nn.h" /* NCF_MULTIVERSION */

void ncf_adam_step_init_(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, long long t)
{
    s->beta1 = beta1;
    s->beta2 = beta2;
    s->eps = eps;
    s->step = (float)((double)lr / (1.0 - pow((double)beta1, (double)t)));
    s->inv_b2 = (float)(1.0 / sqrt(1.0 - pow((double)beta2, (double)t)));
}

/* One Adam step of one element; both kernels use exactly this. */
#define ADAM_ELEM(P, M, V, G)                                   \
    do {                                                        \
        const float mk_ = b1 * (M) + c1 * (G);                  \
        const float vk_ = b2 * (V) + c2 * (G) * (G);            \
        (M) = mk_;                                              \
        (V) = vk_;                                              \
        (P) -= step * mk_ / (sqrtf(vk_) * inv_b2 + eps);        \
    } while (0)

#define ADAM_CONSTANTS(S)                                                              \
    const float b1 = (S)->beta1, b2 = (S)->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;      \
    const float step = (S)->step, inv_b2 = (S)->inv_b2, eps = (S)->eps

NCF_MULTIVERSION
void ncf_adam_update_(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      const ncf_adam_step *s)
{
    ADAM_CONSTANTS(s);
    for (size_t k = 0; k < n; k++) ADAM_ELEM(p[k], m[k], v[k], g[k]);
}

/* k zero-gradient steps on a block of W elements kept in registers. */
#define CATCHUP_BLOCK(W)                                                  \
    for (; e + (W) <= n; e += (W)) {                                      \
        float pb[W], mb[W], vb[W];                                        \
        for (int q = 0; q < (W); q++) {                                   \
            pb[q] = p[e + q];                                             \
            mb[q] = m[e + q];                                             \
            vb[q] = v[e + q];                                             \
        }                                                                 \
        for (long long j = 0; j < k; j++) {                               \
            ADAM_CONSTANTS(&steps[j]);                                    \
            for (int q = 0; q < (W); q++) ADAM_ELEM(pb[q], mb[q], vb[q], zero); \
        }                                                                 \
        for (int q = 0; q < (W); q++) {                                   \
            p[e + q] = pb[q];                                             \
            m[e + q] = mb[q];                                             \
            v[e + q] = vb[q];                                             \
        }                                                                 \
    }

NCF_MULTIVERSION
void ncf_adam_catchup_(float *restrict p, float *restrict m, float *restrict v, size_t n, const ncf_adam_step *steps,
                       long long k)
{
    const float zero = 0.0f;
    size_t e = 0;
    CATCHUP_BLOCK(16)
    CATCHUP_BLOCK(8)
    CATCHUP_BLOCK(1)
}

/* One step with gradient on a block of W elements at offset e. */
#define ROW_BLOCK(W)                                                         \
    for (; e + (W) <= (size_t)dim; e += (W))                                 \
        for (int q = 0; q < (W); q++) {                                      \
            ADAM_ELEM(pw[e + q], pm[e + q], pv[e + q], pg[e + q]);           \
            pg[e + q] = 0.0f;                                                \
        }

NCF_MULTIVERSION
void ncf_adam_rows_(float *restrict w, float *restrict g, float *restrict m, float *restrict v, size_t stride, int dim,
                    const int32_t *rows, int n, const ncf_adam_step *s)
{
    ADAM_CONSTANTS(s);
    for (int i = 0; i < n; i++) {
        const size_t o = (size_t)rows[i] * stride;
        float *restrict pw = w + o, *restrict pg = g + o, *restrict pm = m + o, *restrict pv = v + o;
        size_t e = 0;
        ROW_BLOCK(16)
        ROW_BLOCK(8)
        ROW_BLOCK(1)
    }
}

int ncf_adam_window_build_(ncf_adam_window *w, float lr, float beta1, float beta2, float eps, int64_t base,
                           int64_t count)
{
    w->base = base;
    w->count = count;
    w->steps = malloc((size_t)(count + 1) * sizeof *w->steps);
    if (!w->steps) return -1;
    for (int64_t i = 0; i < count; i++) ncf_adam_step_init_(&w->steps[i], lr, beta1, beta2, eps, base + 1 + i);
    return 0;
}

void ncf_adam_window_free_(ncf_adam_window *w)
{
    free(w->steps);
    w->steps = NULL;
}

void ncf_adam_catchup_rows_(float *restrict w, float *restrict m, float *restrict v, size_t stride, int dim,
                            const int32_t *rows, const int64_t *from, int n, int64_t through,
                            const ncf_adam_window *win)
{
    for (int i = 0; i < n; i++) {
        const size_t o = (size_t)rows[i] * stride;
        if (through > from[i])
            ncf_adam_catchup_(w + o, m + o, v + o, (size_t)dim, ncf_adam_window_step_(win, from[i] + 1),
                              through - from[i]);
    }
}

NCF_MULTIVERSION
void ncf_sgd_rows_(float *restrict w, float *restrict g, size_t stride, int dim, const int32_t *rows, int n, float lr)
{
    for (int i = 0; i < n; i++) {
        const size_t o = (size_t)rows[i] * stride;
        for (int e = 0; e < dim; e++) {
            w[o + (size_t)e] -= lr * g[o + (size_t)e];
            g[o + (size_t)e] = 0.0f;
        }
    }
}

NCF_MULTIVERSION
void ncf_sgd_update_(float *restrict p, const float *restrict g, size_t n, float lr)
{
    for (size_t k = 0; k < n; k++) p[k] -= lr * g[k];
}
