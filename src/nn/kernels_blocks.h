/* kernels_blocks.h — the two register blocks the linear kernels are made
 * of, written once for a vector of BLK_W floats: kernels_body.h includes
 * this file for 8-float vectors on every path and, on the AVX-512 path, a
 * second time for 16-float vectors. The includer defines BLK_V (the vector
 * type), BLK_W, BLK_LOAD / BLK_STORE / BLK_SET1 / BLK_RELU / BLK_KEEP (the
 * simd.h helpers for that type), BLK_MADD (c + a * b) and BLK_NAME(x) (the
 * function's name); they are undefined at the end. An element's operations
 * do not depend on BLK_W, so both widths give the same bits. Not compiled
 * on its own. */

/* For NR rows at once: y_r[0 .. W*V) = init + sum_i x_r[i] * rows[i], with
 * `split` interleaved partial sums over i (added in a fixed order at the
 * end). Row r's x is at x + r * xs, its y at y + r * ys; rows advance by
 * `stride` floats per i. Each weight vector loaded serves all NR rows, and
 * every row's arithmetic is the same whatever NR is, so a row gives the
 * same bits alone or with others. ReLU (relu != 0) and the gate (kept only
 * where gate > 0) are applied as the results are stored. */
static inline __attribute__((always_inline)) void BLK_NAME(dot_block)(float *restrict y, size_t ys,
                                                                      const float *restrict x, size_t xs, int NR,
                                                                      const float *restrict rows, size_t stride,
                                                                      const float *restrict init, int n, int V,
                                                                      int split, int relu,
                                                                      const float *restrict gate, size_t gs)
{
    BLK_V a[NCF_NR_MAX][4][4];
    for (int r = 0; r < NR; r++)
        for (int s = 0; s < split; s++)
            for (int v = 0; v < V; v++) a[r][s][v] = s == 0 && init ? BLK_LOAD(init + BLK_W * v) : BLK_SET1(0.0f);
    int i = 0;
    for (; i + split <= n; i += split)
        for (int s = 0; s < split; s++) {
            const float *w = rows + (size_t)(i + s) * stride;
            BLK_V wv[4];
            for (int v = 0; v < V; v++) wv[v] = BLK_LOAD(w + BLK_W * v);
            for (int r = 0; r < NR; r++) {
                const BLK_V xi = BLK_SET1(x[(size_t)r * xs + (size_t)(i + s)]);
                for (int v = 0; v < V; v++) a[r][s][v] = BLK_MADD(a[r][s][v], xi, wv[v]);
            }
        }
    for (; i < n; i++) {
        const float *w = rows + (size_t)i * stride;
        for (int r = 0; r < NR; r++) {
            const BLK_V xi = BLK_SET1(x[(size_t)r * xs + (size_t)i]);
            for (int v = 0; v < V; v++) a[r][0][v] = BLK_MADD(a[r][0][v], xi, BLK_LOAD(w + BLK_W * v));
        }
    }
    for (int r = 0; r < NR; r++)
        for (int v = 0; v < V; v++) {
            BLK_V t = a[r][0][v];
            if (split == 2) t = a[r][0][v] + a[r][1][v];
            if (split == 4) t = (a[r][0][v] + a[r][1][v]) + (a[r][2][v] + a[r][3][v]);
            if (relu) t = BLK_RELU(t);
            if (gate) t = BLK_KEEP(t, BLK_LOAD(gate + (size_t)r * gs + BLK_W * v));
            BLK_STORE(y + (size_t)r * ys + BLK_W * v, t);
        }
}

/* dw rows o0 .. o0+G, columns i0 .. i0+W*V: += sum over rows r of
 * dy[r][o] x[r][i], each element's sum in row order. */
static inline __attribute__((always_inline)) void BLK_NAME(outer_block)(float *restrict dw, size_t in,
                                                                        const float *restrict dy, size_t dy_stride,
                                                                        const float *restrict x, size_t x_stride,
                                                                        int rows, int o0, int i0, int G, int V)
{
    BLK_V a[8][4];
    for (int gi = 0; gi < G; gi++)
        for (int v = 0; v < V; v++) a[gi][v] = BLK_LOAD(dw + (size_t)(o0 + gi) * in + (size_t)i0 + BLK_W * (size_t)v);
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * x_stride + i0;
        BLK_V xv[4];
        for (int v = 0; v < V; v++) xv[v] = BLK_LOAD(xr + BLK_W * v);
        for (int gi = 0; gi < G; gi++) {
            const BLK_V g = BLK_SET1(dy[(size_t)r * dy_stride + (size_t)(o0 + gi)]);
            for (int v = 0; v < V; v++) a[gi][v] = BLK_MADD(a[gi][v], g, xv[v]);
        }
    }
    for (int gi = 0; gi < G; gi++)
        for (int v = 0; v < V; v++) BLK_STORE(dw + (size_t)(o0 + gi) * in + (size_t)i0 + BLK_W * (size_t)v, a[gi][v]);
}

#undef BLK_V
#undef BLK_W
#undef BLK_LOAD
#undef BLK_STORE
#undef BLK_SET1
#undef BLK_RELU
#undef BLK_KEEP
#undef BLK_MADD
#undef BLK_NAME
