/* optim.h — optimizer kernels over flat float ranges: Adam (PyTorch's
 * formulation, bias-corrected) and plain SGD. Elementwise, so any partition
 * of a range across threads gives the same bytes. Which rows or ranges to
 * update (dense sweep or touched rows only) is the trainer's decision. */
#ifndef NCF_OPTIM_H
#define NCF_OPTIM_H

#include <stddef.h>

typedef struct ncf_adam_step {
    float lr, beta1, beta2, eps;
    float bias1;      /* 1 - beta1^t */
    float bias2_sqrt; /* sqrt(1 - beta2^t) */
} ncf_adam_step;

/* Fills the bias corrections for step t (1-based). */
void ncf_adam_step_init_(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, long long t);

/* m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= (lr / bias1) * m / (sqrt(v) / bias2_sqrt + eps). */
void ncf_adam_update_(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      const ncf_adam_step *s);

/* p -= lr g */
void ncf_sgd_update_(float *restrict p, const float *restrict g, size_t n, float lr);

#endif
