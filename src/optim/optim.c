/* optim.c — Adam and SGD update kernels (see optim.h). */
#include "optim/optim.h"

#include <math.h>

#include "nn/nn.h" /* NCF_MULTIVERSION */

void ncf_adam_step_init_(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, long long t)
{
    s->lr = lr;
    s->beta1 = beta1;
    s->beta2 = beta2;
    s->eps = eps;
    s->bias1 = (float)(1.0 - pow((double)beta1, (double)t));
    s->bias2_sqrt = (float)sqrt(1.0 - pow((double)beta2, (double)t));
}

NCF_MULTIVERSION
void ncf_adam_update_(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      const ncf_adam_step *s)
{
    const float b1 = s->beta1, b2 = s->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;
    const float step = s->lr / s->bias1, inv_b2 = 1.0f / s->bias2_sqrt, eps = s->eps;
    for (size_t k = 0; k < n; k++) {
        const float gk = g[k];
        const float mk = b1 * m[k] + c1 * gk;
        const float vk = b2 * v[k] + c2 * gk * gk;
        m[k] = mk;
        v[k] = vk;
        p[k] -= step * mk / (sqrtf(vk) * inv_b2 + eps);
    }
}

NCF_MULTIVERSION
void ncf_sgd_update_(float *restrict p, const float *restrict g, size_t n, float lr)
{
    for (size_t k = 0; k < n; k++) p[k] -= lr * g[k];
}
