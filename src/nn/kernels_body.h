/* kernels_body.h — the bodies of the linear-layer kernels, included once per
 * instruction-set path (kernels_generic.c, kernels_avx2.c, kernels_avx512.c)
 * with KNAME(x) naming the functions and V8_MADD(c, a, b) / S_MADD(c, a, b)
 * computing c + a * b: separately rounded in the portable path, fused (FMA)
 * in the AVX2 and AVX-512 paths. Each loop keeps at least four independent
 * accumulator chains: 32 outputs as four 8-float vectors; 16 outputs as two
 * vectors times two halves of the input; 8 outputs as one vector times four
 * quarters (partial sums added in a fixed order). Not compiled on its own. */
#include "nn/kernels.h"
#include "nn/nn.h"
#include "nn/simd.h"

/* y[o0 .. o0+8*V) = bias + sum_i x[i] * rows[i], with `split` interleaved
 * partial sums over i. rows advance by `stride` floats per i. */
static inline __attribute__((always_inline)) void KNAME(dot_block)(float *restrict y, const float *restrict x, const float *restrict rows, size_t stride,
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
            for (int v = 0; v < V; v++) a[s][v] = V8_MADD(a[s][v], xi, v8_load(r + 8 * v));
        }
    for (; i < n; i++) {
        const v8f xi = v8_set1(x[i]);
        for (int v = 0; v < V; v++) a[0][v] = V8_MADD(a[0][v], xi, v8_load(rows + (size_t)i * stride + 8 * v));
    }
    for (int v = 0; v < V; v++) {
        v8f t = a[0][v];
        if (split == 2) t = a[0][v] + a[1][v];
        if (split == 4) t = (a[0][v] + a[1][v]) + (a[2][v] + a[3][v]);
        v8_store(y + 8 * v, t);
    }
}

void KNAME(linear_forward)(float *restrict y, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int in, int out)
{
    const size_t so = (size_t)out;
    int o = 0;
    for (; o + 32 <= out; o += 32) KNAME(dot_block)(y + o, x, wt + o, so, b + o, in, 4, 1);
    for (; o + 16 <= out; o += 16) KNAME(dot_block)(y + o, x, wt + o, so, b + o, in, 2, 2);
    for (; o + 8 <= out; o += 8) KNAME(dot_block)(y + o, x, wt + o, so, b + o, in, 1, 4);
    for (; o < out; o++) {
        float acc = b[o];
        for (int i = 0; i < in; i++) acc = S_MADD(acc, x[i], wt[(size_t)i * so + (size_t)o]);
        y[o] = acc;
    }
}

void KNAME(linear_backward_x)(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out)
{
    const size_t si = (size_t)in;
    int i = 0;
    for (; i + 32 <= in; i += 32) KNAME(dot_block)(dx + i, dy, w + i, si, NULL, out, 4, 1);
    for (; i + 16 <= in; i += 16) KNAME(dot_block)(dx + i, dy, w + i, si, NULL, out, 2, 2);
    for (; i + 8 <= in; i += 8) KNAME(dot_block)(dx + i, dy, w + i, si, NULL, out, 1, 4);
    for (; i < in; i++) {
        float acc = 0.0f;
        for (int o = 0; o < out; o++) acc = S_MADD(acc, dy[o], w[(size_t)o * si + (size_t)i]);
        dx[i] = acc;
    }
}

/* dw rows o0 .. o0+G, columns i0 .. i0+8V: += sum over rows r of dy[r][o] x[r][i]. */
static inline __attribute__((always_inline)) void KNAME(outer_block)(float *restrict dw, size_t in, const float *restrict dy, size_t dy_stride,
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
            for (int v = 0; v < V; v++) a[gi][v] = V8_MADD(a[gi][v], g, xv[v]);
        }
    }
    for (int gi = 0; gi < G; gi++)
        for (int v = 0; v < V; v++) v8_store(dw + (size_t)(o0 + gi) * in + (size_t)i0 + 8 * (size_t)v, a[gi][v]);
}

void KNAME(linear_backward_w)(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
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
        for (int o = 0; o < out; o++) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 4);
    for (; i + 16 <= in; i += 16) {
        int o = 0;
        for (; o + 2 <= out; o += 2) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 2, 2);
        for (; o < out; o++) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 2);
    }
    for (; i + 8 <= in; i += 8) {
        int o = 0;
        for (; o + 4 <= out; o += 4) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 4, 1);
        for (; o < out; o++) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 1);
    }
    for (; i < in; i++)
        for (int o = 0; o < out; o++) {
            float acc = dw[(size_t)o * sin + (size_t)i];
            for (int r = 0; r < rows; r++) acc = S_MADD(acc, dy[(size_t)r * dy_stride + (size_t)o], x[(size_t)r * x_stride + (size_t)i]);
            dw[(size_t)o * sin + (size_t)i] = acc;
        }
}

