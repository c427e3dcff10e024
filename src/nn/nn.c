/* nn.c — kernels for linear and ReLU layers (see nn.h), written with 8-float
 * vectors (simd.h). Each loop keeps at least four independent accumulator
 * chains in registers so that the add latency is hidden: 32 outputs as four
 * vectors; 16 outputs as two vectors times two halves of the input; 8
 * outputs as one vector times four quarters of the input (the partial sums
 * are then added in a fixed order, the same on every instruction set). */
#include "nn/nn.h"

#include "nn/simd.h"

/* y[o0 .. o0+8*V) = bias + sum_i x[i] * rows[i], with `split` interleaved
 * partial sums over i. rows advance by `stride` floats per i. */
static inline __attribute__((always_inline)) void dot_block(float *restrict y, const float *restrict x, const float *restrict rows, size_t stride,
                             const float *restrict init, int n, int V, int split)
{
    v8f a[4][4];
    for (int s = 0; s < split; s++)
        for (int v = 0; v < V; v++) a[s][v] = s == 0 && init ? v8_load(init + 8 * v) : v8_set1(0.0f);
    int i = 0;
    for (; i + split <= n; i += split)
        for (int s = 0; s < split; s++) {
            const v8f xi = v8_set1(x[i + s]);
            const float *r = rows + (size_t)(i + s) * stride;
            for (int v = 0; v < V; v++) a[s][v] += xi * v8_load(r + 8 * v);
        }
    for (; i < n; i++) {
        const v8f xi = v8_set1(x[i]);
        for (int v = 0; v < V; v++) a[0][v] += xi * v8_load(rows + (size_t)i * stride + 8 * v);
    }
    for (int v = 0; v < V; v++) {
        v8f t = a[0][v];
        if (split == 2) t = a[0][v] + a[1][v];
        if (split == 4) t = (a[0][v] + a[1][v]) + (a[2][v] + a[3][v]);
        v8_store(y + 8 * v, t);
    }
}

NCF_MULTIVERSION
void ncf_linear_forward_(float *restrict y, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int in, int out)
{
    const size_t so = (size_t)out;
    int o = 0;
    for (; o + 32 <= out; o += 32) dot_block(y + o, x, wt + o, so, b + o, in, 4, 1);
    for (; o + 16 <= out; o += 16) dot_block(y + o, x, wt + o, so, b + o, in, 2, 2);
    for (; o + 8 <= out; o += 8) dot_block(y + o, x, wt + o, so, b + o, in, 1, 4);
    for (; o < out; o++) {
        float acc = b[o];
        for (int i = 0; i < in; i++) acc += x[i] * wt[(size_t)i * so + (size_t)o];
        y[o] = acc;
    }
}

NCF_MULTIVERSION
void ncf_linear_backward_x_(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out)
{
    const size_t si = (size_t)in;
    int i = 0;
    for (; i + 32 <= in; i += 32) dot_block(dx + i, dy, w + i, si, NULL, out, 4, 1);
    for (; i + 16 <= in; i += 16) dot_block(dx + i, dy, w + i, si, NULL, out, 2, 2);
    for (; i + 8 <= in; i += 8) dot_block(dx + i, dy, w + i, si, NULL, out, 1, 4);
    for (; i < in; i++) {
        float acc = 0.0f;
        for (int o = 0; o < out; o++) acc += dy[o] * w[(size_t)o * si + (size_t)i];
        dx[i] = acc;
    }
}

/* dw rows o0 .. o0+G, columns i0 .. i0+8V: += sum over rows r of dy[r][o] x[r][i]. */
static inline __attribute__((always_inline)) void outer_block(float *restrict dw, size_t in, const float *restrict dy, size_t dy_stride,
                               const float *restrict x, size_t x_stride, int rows, int o0, int i0, int G, int V)
{
    v8f a[4][4];
    for (int gi = 0; gi < G; gi++)
        for (int v = 0; v < V; v++) a[gi][v] = v8_load(dw + (size_t)(o0 + gi) * in + (size_t)i0 + 8 * (size_t)v);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * x_stride + i0;
        v8f xv[4];
        for (int v = 0; v < V; v++) xv[v] = v8_load(xr + 8 * v);
        for (int gi = 0; gi < G; gi++) {
            const v8f g = v8_set1(dy[(size_t)r * dy_stride + (size_t)(o0 + gi)]);
            for (int v = 0; v < V; v++) a[gi][v] += g * xv[v];
        }
    }
    for (int gi = 0; gi < G; gi++)
        for (int v = 0; v < V; v++) v8_store(dw + (size_t)(o0 + gi) * in + (size_t)i0 + 8 * (size_t)v, a[gi][v]);
}

NCF_MULTIVERSION
void ncf_linear_backward_w_(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                            const float *restrict x, size_t x_stride, int rows, int in, int out)
{
    for (int o = 0; o < out; o++) {
        float bsum = db[o];
        for (int r = 0; r < rows; r++) bsum += dy[(size_t)r * dy_stride + (size_t)o];
        db[o] = bsum;
    }
    const size_t sin = (size_t)in;
    int i = 0;
    for (; i + 32 <= in; i += 32)
        for (int o = 0; o < out; o++) outer_block(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 4);
    for (; i + 16 <= in; i += 16) {
        int o = 0;
        for (; o + 2 <= out; o += 2) outer_block(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 2, 2);
        for (; o < out; o++) outer_block(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 2);
    }
    for (; i + 8 <= in; i += 8) {
        int o = 0;
        for (; o + 4 <= out; o += 4) outer_block(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 4, 1);
        for (; o < out; o++) outer_block(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 1);
    }
    for (; i < in; i++)
        for (int o = 0; o < out; o++) {
            float acc = dw[(size_t)o * sin + (size_t)i];
            for (int r = 0; r < rows; r++) acc += dy[(size_t)r * dy_stride + (size_t)o] * x[(size_t)r * x_stride + (size_t)i];
            dw[(size_t)o * sin + (size_t)i] = acc;
        }
}

void ncf_relu_forward_(float *x, int n)
{
    for (int k = 0; k < n; k++) x[k] = x[k] > 0.0f ? x[k] : 0.0f;
}

void ncf_relu_backward_(float *restrict dy, const float *restrict y, int n)
{
    for (int k = 0; k < n; k++) dy[k] = y[k] > 0.0f ? dy[k] : 0.0f;
}
