/* kernels_body.h — the bodies of the linear-layer kernels, included once per
 * instruction-set path (kernels_generic.c, kernels_avx2.c, kernels_avx512.c)
 * with NCF_KPATH naming the path (KNAME(x) below names its functions; the
 * path's ncf_kernel_table, kernels.h, closes the file) and V8_MADD(c, a, b)
 * / S_MADD(c, a, b) computing c + a * b: separately rounded in the portable
 * path, fused (FMA) in the AVX2 and AVX-512 paths. Each loop keeps at least
 * four independent accumulator chains per row: 32 outputs as four 8-float
 * vectors; 16 outputs as two vectors times two halves of the input; 8
 * outputs as one vector times four quarters (partial sums added in a fixed
 * order). The tile forms take NCF_NR_MAX rows per pass (three; six on the
 * AVX-512 path, whose blocks of 16 and 32 use 16-float vectors: twelve
 * chains either way, each weight loaded once for all the rows) and give
 * each row the bits the one-row form gives. The register blocks are in
 * kernels_blocks.h. Not compiled on its own. */
#include "nn/kernels.h"
#include "nn/nn.h"
#include "nn/simd.h"

#ifndef NCF_KPATH
#error "define NCF_KPATH (generic, avx2 or avx512) before including kernels_body.h"
#endif
/* KNAME(dot_rows) is ncf_k_dot_rows_avx2 on the avx2 path; KTABLE is
 * ncf_kernels_avx2_, KPATH_NAME "avx2" (kernels.h lists every name). */
#define NCF_KPASTE_(a, b, c) a##b##c
#define NCF_KPASTE(a, b, c) NCF_KPASTE_(a, b, c)
#define NCF_KSTR_(a) #a
#define NCF_KSTR(a) NCF_KSTR_(a)
#define KNAME(x) NCF_KPASTE(ncf_k_, x##_, NCF_KPATH)
#define KTABLE NCF_KPASTE(ncf_kernels_, NCF_KPATH, _)
#define KPATH_NAME NCF_KSTR(NCF_KPATH)

/* Rows per pass of the tile kernels (a path may raise it) */
#ifndef NCF_NR_MAX
#define NCF_NR_MAX 3
#endif

/* dot_block (the tower's forward pass and input gradient) and outer_block
 * (the weight gradient) on 8-float vectors; the AVX-512 path also gets
 * them on 16-float vectors (dot_block16, outer_block16). */
#define BLK_V v8f
#define BLK_W 8
#define BLK_LOAD v8_load
#define BLK_STORE v8_store
#define BLK_SET1 v8_set1
#define BLK_RELU v8_relu
#define BLK_KEEP v8_keep_where_pos
#define BLK_MADD V8_MADD
#define BLK_NAME(x) KNAME(x)
#include "nn/kernels_blocks.h"
#ifdef NCF_WIDE
#define BLK_V v16f
#define BLK_W 16
#define BLK_LOAD v16_load
#define BLK_STORE v16_store
#define BLK_SET1 v16_set1
#define BLK_RELU v16_relu
#define BLK_KEEP v16_keep_where_pos
#define BLK_MADD V16_MADD
#define BLK_NAME(x) KNAME(x##16)
#include "nn/kernels_blocks.h"
#endif


/* The blocks of out (32, 16 or 8 at a time, then one by one) for NR rows;
 * each result then goes through ReLU when relu != 0, and is kept only where
 * gate (row r at gate + r * gs) is positive when gate != NULL: the same
 * operations as a separate ncf_relu_forward_ / ncf_relu_backward_ pass. */
static inline __attribute__((always_inline)) void KNAME(dot_rows)(float *restrict y, size_t ys, const float *restrict x,
                                                                  size_t xs, int NR, const float *restrict w,
                                                                  const float *restrict init, int n, int out, int relu,
                                                                  const float *restrict gate, size_t gs)
{
    const size_t so = (size_t)out;
    int o = 0;
#define NCF_GATE_AT(o_) (gate ? gate + (o_) : NULL)
#ifdef NCF_WIDE
    for (; o + 32 <= out; o += 32)
        KNAME(dot_block16)(y + o, ys, x, xs, NR, w + o, so, init ? init + o : NULL, n, 2, 1, relu, NCF_GATE_AT(o), gs);
    for (; o + 16 <= out; o += 16)
        KNAME(dot_block16)(y + o, ys, x, xs, NR, w + o, so, init ? init + o : NULL, n, 1, 2, relu, NCF_GATE_AT(o), gs);
#else
    for (; o + 32 <= out; o += 32)
        KNAME(dot_block)(y + o, ys, x, xs, NR, w + o, so, init ? init + o : NULL, n, 4, 1, relu, NCF_GATE_AT(o), gs);
    for (; o + 16 <= out; o += 16)
        KNAME(dot_block)(y + o, ys, x, xs, NR, w + o, so, init ? init + o : NULL, n, 2, 2, relu, NCF_GATE_AT(o), gs);
#endif
    for (; o + 8 <= out; o += 8)
        KNAME(dot_block)(y + o, ys, x, xs, NR, w + o, so, init ? init + o : NULL, n, 1, 4, relu, NCF_GATE_AT(o), gs);
#undef NCF_GATE_AT
    for (; o < out; o++)
        for (int r = 0; r < NR; r++) {
            const float *xr = x + (size_t)r * xs;
            float acc = init ? init[o] : 0.0f;
            for (int i = 0; i < n; i++) acc = S_MADD(acc, xr[i], w[(size_t)i * so + (size_t)o]);
            if (relu) acc = acc > 0.0f ? acc : 0.0f;
            if (gate) acc = gate[(size_t)r * gs + (size_t)o] > 0.0f ? acc : 0.0f;
            y[(size_t)r * ys + (size_t)o] = acc;
        }
}

static void KNAME(linear_forward)(float *restrict y, const float *restrict x, const float *restrict wt,
                                  const float *restrict b, int in, int out)
{
    KNAME(dot_rows)(y, 0, x, 0, 1, wt, b, in, out, 0, NULL, 0);
}

static void KNAME(linear_backward_x)(float *restrict dx, const float *restrict dy, const float *restrict w, int in,
                                     int out)
{
    KNAME(dot_rows)(dx, 0, dy, 0, 1, w, NULL, out, in, 0, NULL, 0);
}

static void KNAME(linear_forward_tile)(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                                       const float *restrict wt, const float *restrict b, int in, int out, int relu)
{
    int r = 0;
    for (; r + NCF_NR_MAX <= rows; r += NCF_NR_MAX)
        KNAME(dot_rows)(Y + (size_t)r * ys, ys, X + (size_t)r * xs, xs, NCF_NR_MAX, wt, b, in, out, relu, NULL, 0);
#if NCF_NR_MAX > 3
    for (; r + 3 <= rows; r += 3)
        KNAME(dot_rows)(Y + (size_t)r * ys, ys, X + (size_t)r * xs, xs, 3, wt, b, in, out, relu, NULL, 0);
#endif
    for (; r + 2 <= rows; r += 2)
        KNAME(dot_rows)(Y + (size_t)r * ys, ys, X + (size_t)r * xs, xs, 2, wt, b, in, out, relu, NULL, 0);
    if (r < rows) KNAME(dot_rows)(Y + (size_t)r * ys, ys, X + (size_t)r * xs, xs, 1, wt, b, in, out, relu, NULL, 0);
}

static void KNAME(linear_backward_x_tile)(float *restrict DX, size_t dxs, const float *restrict DY, size_t dys,
                                          int rows, const float *restrict w, int in, int out,
                                          const float *restrict gate, size_t gs)
{
    int r = 0;
    for (; r + NCF_NR_MAX <= rows; r += NCF_NR_MAX)
        KNAME(dot_rows)(DX + (size_t)r * dxs, dxs, DY + (size_t)r * dys, dys, NCF_NR_MAX, w, NULL, out, in, 0,
                        gate ? gate + (size_t)r * gs : NULL, gs);
#if NCF_NR_MAX > 3
    for (; r + 3 <= rows; r += 3)
        KNAME(dot_rows)(DX + (size_t)r * dxs, dxs, DY + (size_t)r * dys, dys, 3, w, NULL, out, in, 0,
                        gate ? gate + (size_t)r * gs : NULL, gs);
#endif
    for (; r + 2 <= rows; r += 2)
        KNAME(dot_rows)(DX + (size_t)r * dxs, dxs, DY + (size_t)r * dys, dys, 2, w, NULL, out, in, 0,
                        gate ? gate + (size_t)r * gs : NULL, gs);
    if (r < rows)
        KNAME(dot_rows)(DX + (size_t)r * dxs, dxs, DY + (size_t)r * dys, dys, 1, w, NULL, out, in, 0,
                        gate ? gate + (size_t)r * gs : NULL, gs);
}

static void KNAME(linear_backward_w)(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                                     const float *restrict x, size_t x_stride, int rows, int in, int out)
{
    int ob = 0;
    for (; ob + 8 <= out; ob += 8) { /* eight outputs' sums side by side, each in row order */
        v8f bsum = v8_load(db + ob);
        for (int r = 0; r < rows; r++) bsum = bsum + v8_load(dy + (size_t)r * dy_stride + (size_t)ob);
        v8_store(db + ob, bsum);
    }
    for (int o = ob; o < out; o++) {
        float bsum = db[o];
        for (int r = 0; r < rows; r++) bsum += dy[(size_t)r * dy_stride + (size_t)o];
        db[o] = bsum;
    }
    const size_t sin = (size_t)in;
    int i = 0;
    /* G output rows times V vectors of inputs per block: eight to twelve
     * accumulator chains where the widths allow (each element's sum over
     * rows runs in row order whatever the blocking) */
#ifdef NCF_WIDE
    for (; i + 32 <= in; i += 32) {
        int o = 0;
        for (; o + 4 <= out; o += 4) KNAME(outer_block16)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 4, 2);
        for (; o < out; o++) KNAME(outer_block16)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 2);
    }
    for (; i + 16 <= in; i += 16) {
        int o = 0;
        for (; o + 8 <= out; o += 8) KNAME(outer_block16)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 8, 1);
        for (; o + 4 <= out; o += 4) KNAME(outer_block16)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 4, 1);
        for (; o < out; o++) KNAME(outer_block16)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 1);
    }
#endif
    for (; i + 32 <= in; i += 32) {
        int o = 0;
        for (; o + 3 <= out; o += 3) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 3, 4);
        for (; o + 2 <= out; o += 2) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 2, 4);
        for (; o < out; o++) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 4);
    }
    for (; i + 16 <= in; i += 16) {
        int o = 0;
        for (; o + 4 <= out; o += 4) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 4, 2);
        for (; o < out; o++) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 1, 2);
    }
    for (; i + 8 <= in; i += 8) {
        int o = 0;
        for (; o + 8 <= out; o += 8) KNAME(outer_block)(dw, sin, dy, dy_stride, x, x_stride, rows, o, i, 8, 1);
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


/* Y[r] = b + W X[r] (then ReLU when relu != 0) for `rows` rows at once,
 * four rows per pass so each weight vector loaded serves four rows: the
 * inference path that scores many items for one user. */
static void KNAME(linear_forward_rows)(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                                       const float *restrict wt, const float *restrict b, int in, int out, int relu)
{
    const size_t so = (size_t)out;
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *x0 = X + (size_t)r * xs, *x1 = x0 + xs, *x2 = x1 + xs, *x3 = x2 + xs;
        float *y0 = Y + (size_t)r * ys, *y1 = y0 + ys, *y2 = y1 + ys, *y3 = y2 + ys;
        int o = 0;
        for (; o + 16 <= out; o += 16) {
            const v8f bl = v8_load(b + o), bh = v8_load(b + o + 8);
            v8f a0l = bl, a0h = bh, a1l = bl, a1h = bh, a2l = bl, a2h = bh, a3l = bl, a3h = bh;
            const float *row = wt + o;
            for (int i = 0; i < in; i++, row += so) {
                const v8f wl = v8_load(row), wh = v8_load(row + 8);
                v8f x = v8_set1(x0[i]);
                a0l = V8_MADD(a0l, x, wl), a0h = V8_MADD(a0h, x, wh);
                x = v8_set1(x1[i]);
                a1l = V8_MADD(a1l, x, wl), a1h = V8_MADD(a1h, x, wh);
                x = v8_set1(x2[i]);
                a2l = V8_MADD(a2l, x, wl), a2h = V8_MADD(a2h, x, wh);
                x = v8_set1(x3[i]);
                a3l = V8_MADD(a3l, x, wl), a3h = V8_MADD(a3h, x, wh);
            }
            if (relu) {
                a0l = v8_relu(a0l), a0h = v8_relu(a0h);
                a1l = v8_relu(a1l), a1h = v8_relu(a1h);
                a2l = v8_relu(a2l), a2h = v8_relu(a2h);
                a3l = v8_relu(a3l), a3h = v8_relu(a3h);
            }
            v8_store(y0 + o, a0l), v8_store(y0 + o + 8, a0h);
            v8_store(y1 + o, a1l), v8_store(y1 + o + 8, a1h);
            v8_store(y2 + o, a2l), v8_store(y2 + o + 8, a2h);
            v8_store(y3 + o, a3l), v8_store(y3 + o + 8, a3h);
        }
        for (; o + 8 <= out; o += 8) {
            const v8f bv = v8_load(b + o);
            v8f a0 = bv, a1 = bv, a2 = bv, a3 = bv;
            const float *row = wt + o;
            for (int i = 0; i < in; i++, row += so) {
                const v8f w = v8_load(row);
                a0 = V8_MADD(a0, v8_set1(x0[i]), w);
                a1 = V8_MADD(a1, v8_set1(x1[i]), w);
                a2 = V8_MADD(a2, v8_set1(x2[i]), w);
                a3 = V8_MADD(a3, v8_set1(x3[i]), w);
            }
            if (relu) {
                a0 = v8_relu(a0), a1 = v8_relu(a1);
                a2 = v8_relu(a2), a3 = v8_relu(a3);
            }
            v8_store(y0 + o, a0), v8_store(y1 + o, a1), v8_store(y2 + o, a2), v8_store(y3 + o, a3);
        }
        for (; o < out; o++)
            for (int t = 0; t < 4; t++) {
                const float *x = X + (size_t)(r + t) * xs;
                float acc = b[o];
                for (int i = 0; i < in; i++) acc = S_MADD(acc, x[i], wt[(size_t)i * so + (size_t)o]);
                Y[(size_t)(r + t) * ys + (size_t)o] = relu && acc < 0.0f ? 0.0f : acc;
            }
    }
    for (; r < rows; r++) {
        float *y = Y + (size_t)r * ys;
        KNAME(linear_forward)(y, X + (size_t)r * xs, wt, b, in, out);
        if (relu)
            for (int o = 0; o < out; o++) y[o] = y[o] > 0.0f ? y[o] : 0.0f;
    }
}

const ncf_kernel_table KTABLE = {
    .name = KPATH_NAME,
    .linear_forward = KNAME(linear_forward),
    .linear_backward_x = KNAME(linear_backward_x),
    .linear_backward_w = KNAME(linear_backward_w),
    .linear_forward_rows = KNAME(linear_forward_rows),
    .linear_forward_tile = KNAME(linear_forward_tile),
    .linear_backward_x_tile = KNAME(linear_backward_x_tile),
};
