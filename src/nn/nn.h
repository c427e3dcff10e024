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
#include <stdint.h>
#include <string.h>

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

/* log(1 + exp(x)) without overflow: max(x, 0) + log1p(e^-|x|), to within
 * a few units in the last place of double, NaN for NaN. Polynomials
 * instead of libm's exp and log1p, so that a loop over many values
 * vectorises (ncf_softplus_many_): the training loss takes one per sample.
 *   e^-a = 2^-n e^-r with n = round(a / ln 2), |r| <= ln 2 / 2 (degree-13
 *   Taylor series); a is capped at 700 (e^-700 ~ 1e-304, below any sum's
 *   last place);
 *   log1p(t) = 2 atanh(s), s = t / (2 + t) <= 1/3 for t = e^-a in (0, 1]
 *   (16 terms of the atanh series: (1/9)^16 / 33 < 1e-16). */
static inline double ncf_softplus_(double x)
{
    const double ln2_hi = 0x1.62e42fefa3800p-1, ln2_lo = 0x1.ef35793c76730p-45, shift = 0x1.8p52;
    const double ax = fabs(x);
    const double a = ax > 700.0 ? 700.0 : ax; /* a NaN stays NaN */
    const double nb = a * 0x1.71547652b82fep0 + shift; /* round(a / ln 2) in the low bits */
    const double n = nb - shift;
    uint64_t bits;
    memcpy(&bits, &nb, sizeof bits);
    const uint64_t scale_bits = (uint64_t)(1023 - (int64_t)(bits & 0xfff)) << 52; /* 2^-n, n <= 1010 */
    double scale;
    memcpy(&scale, &scale_bits, sizeof scale);
    const double r = (a - n * ln2_hi) - n * ln2_lo;
    double p = 1.0 / 6227020800.0; /* e^-r = sum (-r)^k / k!, k <= 13 */
    static const double inv_fact[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                        1.0 / 40320.0,     1.0 / 5040.0,      1.0 / 720.0,     1.0 / 120.0,
                                        1.0 / 24.0,        1.0 / 6.0,         1.0 / 2.0,       1.0,
                                        1.0};
    for (int k = 0; k < 13; k++) p = inv_fact[k] - r * p;
    const double t = p * scale;
    const double s = t / (2.0 + t), w = s * s;
    double q = 1.0 / 33.0; /* q = sum_(k<=16) w^k / (2k + 1), by Horner from k = 16 */
    for (int k = 15; k >= 0; k--) q = 1.0 / (2 * k + 1) + w * q;
    return (x > 0 ? x : 0.0) + 2.0 * s * q;
}

/* x[k] = ncf_softplus_(x[k]) for k < n, bit for bit. */
void ncf_softplus_many_(double *x, int n);

/* dst[k] = (first ? 0 : dst[k]) + src[k] for k < n: a gradient sum started
 * (the same bits as adding to a zeroed row) or continued. Built for three
 * instruction sets, as the callers' files are for baseline x86-64. */
void ncf_add_row_(float *restrict dst, const float *restrict src, size_t n, int first);

/* Not with clang: clang 14 names the dispatcher of a target_clones function
 * NAME.ifunc, which calls from other files (declared without the
 * attribute) do not reach, so the link fails; clang builds use the baseline
 * version of these kernels. */
#if defined(__x86_64__) && defined(__has_attribute) && !defined(__clang__)
#if __has_attribute(target_clones) && !defined(NCF_NO_CLONES)
#define NCF_MULTIVERSION __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#endif
#endif
#ifndef NCF_MULTIVERSION
#define NCF_MULTIVERSION
#endif

#endif
