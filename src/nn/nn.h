/* nn.h — the layer kernels of the NCF models. Forward and backward work on
 * one row (sample) at a time or on a tile of rows (several per pass, each
 * row with the one-row bits); the weight gradient sums over a tile of rows so
 * that each weight is loaded and stored once per tile.
 * Backward kernels accumulate (+=) into parameter gradients; the caller
 * zeroes. The linear kernels have three paths (portable, AVX2+FMA,
 * AVX-512), chosen once at run time (nn.c, ncf_set_kernels); the summation
 * order is fixed in the source. NCF_MULTIVERSION (gcc target_clones) builds
 * the optimizer kernels for the same instruction sets. Not thread-aware. */
#ifndef NCF_NN_H
#define NCF_NN_H

#include <math.h>
#include <stddef.h>

/* y (out) = b + W x, with wt = W^T stored (in, out) row-major. */
void ncf_linear_forward_(float *restrict y, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int in, int out);

/* dx (in) = W^T dy, with w = W stored (out, in) row-major. */
void ncf_linear_backward_x_(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out);

/* Over R rows: dw (out, in) += sum_r dy_r x_r^T and db (out) += sum_r dy_r,
 * dy_r at dy + r * dy_stride, x_r at x + r * x_stride. Rows are summed in
 * order r = 0, 1, ... */
void ncf_linear_backward_w_(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                            const float *restrict x, size_t x_stride, int rows, int in, int out);

/* Y[r] = b + W X[r], ReLU applied when relu != 0, for rows r < rows (row r
 * of X at X + r * xs, of Y at Y + r * ys); wt = W^T (in, out). */
void ncf_linear_forward_rows_(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                              const float *restrict wt, const float *restrict b, int in, int out, int relu);

/* The same as ncf_linear_forward_ / ncf_linear_backward_x_ on each of
 * `rows` rows (row r at Y + r * ys, X + r * xs, ...), bit for bit, with
 * rows taken several at a time (three, six on the AVX-512 path) so that
 * each weight load serves them all. The
 * forward then applies ncf_relu_forward_ when relu != 0; the backward
 * ncf_relu_backward_ with the ReLU outputs at gate + r * gs when gate is
 * not NULL (same bits as the separate passes). */
void ncf_linear_forward_tile_(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                              const float *restrict wt, const float *restrict b, int in, int out, int relu);
void ncf_linear_backward_x_tile_(float *restrict DX, size_t dxs, const float *restrict DY, size_t dys, int rows,
                                 const float *restrict w, int in, int out, const float *restrict gate, size_t gs);

/* x = max(x, 0) in place. */
void ncf_relu_forward_(float *x, int n);
/* dy *= (y > 0), y being the relu output. */
void ncf_relu_backward_(float *restrict dy, const float *restrict y, int n);

/* Numerically stable logistic helpers, without a branch on the sign (it
 * comes out either way at random): 1 / (1 + e^-x) for x >= 0 and
 * e^x / (1 + e^x) below, with the same operations as the two-branch form. */
static inline float ncf_sigmoid_(float x)
{
    const float e = expf(-fabsf(x));
    return (x >= 0 ? 1.0f : e) / (1.0f + e);
}

/* log(1 + exp(x)) without overflow: x + log1p(e^-x) above 0, log1p(e^x)
 * (plus an exact 0) at or below. */
static inline double ncf_softplus_(double x)
{
    return (x > 0 ? x : 0.0) + log1p(exp(-fabs(x)));
}

#if defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones) && !defined(NCF_NO_CLONES)
#define NCF_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef NCF_MULTIVERSION
#define NCF_MULTIVERSION
#endif

#endif
