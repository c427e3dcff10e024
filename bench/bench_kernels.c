/* bench_kernels.c — time of the hot kernels in isolation (NeuMF factors 8,
 * layers 64,32,16,8 shapes): each kernel is first checked against a naive
 * double-precision reference, then timed; the figure is the best of 30
 * repetitions (robust to a noisy machine), in nanoseconds per call. The
 * linear kernels are timed on every path the CPU supports; the default path
 * is marked. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ncf/ncf.h"
#include "nn/nn.h"
#include "optim/optim.h"

static volatile float sink;

#define TIME(label, calls, body)                                                              \
    do {                                                                                      \
        double best = 1e30;                                                                   \
        for (int rep = 0; rep < 30; rep++) {                                                  \
            double t0 = ncf_now_seconds_();                                                   \
            for (int c = 0; c < (calls); c++) { body; }                                       \
            double dt = ncf_now_seconds_() - t0;                                              \
            if (dt < best) best = dt;                                                         \
        }                                                                                     \
        printf("%-8s %-34s %10.1f ns\n", ncf_kernels(), label, 1e9 * best / (calls));           \
        printf("{\"bench\": \"kernel\", \"path\": \"%s\", \"kernel\": \"%s\", \"ns_per_call\": %.2f}\n", \
               ncf_kernels(), label, 1e9 * best / (calls));                                   \
    } while (0)

static int check_forward(int in, int out, const float *x, const float *w, const float *wt, const float *b)
{
    float y[64];
    ncf_linear_forward_(y, x, wt, b, in, out);
    for (int o = 0; o < out; o++) {
        double ref = b[o];
        for (int i = 0; i < in; i++) ref += (double)w[o * in + i] * x[i];
        if (fabs(ref - y[o]) > 1e-4 * (1 + fabs(ref))) return -1;
    }
    return 0;
}

int main(void)
{
    ncf_rng r;
    ncf_rng_seed_(&r, 1, 2, 3);
    enum { TILE = 32 };
    static float x[TILE * 64], w[64 * 64], wt[64 * 64], b[64], y[64], dy[TILE * 64], dx[64], dw[64 * 64], db[64];
    for (size_t k = 0; k < sizeof x / sizeof *x; k++) x[k] = (float)ncf_rng_uniform_(&r);
    for (size_t k = 0; k < sizeof dy / sizeof *dy; k++) dy[k] = (float)ncf_rng_uniform_(&r) - 0.5f;
    for (int k = 0; k < 64; k++) b[k] = (float)ncf_rng_uniform_(&r);
    const int shapes[3][2] = {{64, 32}, {32, 16}, {16, 8}};
    const char *initial = ncf_kernels(), *paths[] = {"generic", "avx2", "avx512"};
    printf("# linear kernels on each supported path (default: %s)\n", initial);
    for (int pk = 0; pk < 3; pk++) {
    if (ncf_set_kernels(paths[pk]) != NCF_OK) continue;
        for (int s = 0; s < 3; s++) {
            int in = shapes[s][0], out = shapes[s][1];
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) w[o * in + i] = wt[i * out + o] = (float)ncf_rng_uniform_(&r) - 0.5f;
            if (check_forward(in, out, x, w, wt, b) != 0) {
                fprintf(stderr, "bench_kernels: forward %dx%d disagrees with the naive reference\n", in, out);
                return 1;
            }
            char label[64];
            snprintf(label, sizeof label, "linear_forward %dx%d", in, out);
            TIME(label, 20000, ncf_linear_forward_(y, x + (c & 31) * 64, wt, b, in, out); sink += y[0]);
            snprintf(label, sizeof label, "linear_backward_x %dx%d", in, out);
            TIME(label, 20000, ncf_linear_backward_x_(dx, dy + (c & 31) * 64, w, in, out); sink += dx[0]);
            /* the training forms: a tile of 32 rows, several per pass (per call = per tile) */
            static float yt[TILE * 64], dxt[TILE * 64];
            snprintf(label, sizeof label, "linear_forward_tile %dx%d tile %d", in, out, TILE);
            TIME(label, 2000, ncf_linear_forward_tile_(yt, 64, x, 64, TILE, wt, b, in, out, 1); sink += yt[0]);
            snprintf(label, sizeof label, "linear_backward_x_tile %dx%d tile %d", in, out, TILE);
            TIME(label, 2000, ncf_linear_backward_x_tile_(dxt, 64, dy, 64, TILE, w, in, out, x, 64); sink += dxt[0]);
            snprintf(label, sizeof label, "linear_backward_w %dx%d tile %d", in, out, TILE);
            TIME(label, 2000, ncf_linear_backward_w_(dw, db, dy, 64, x, 64, TILE, in, out); sink += dw[0]);
        }
    }
    ncf_set_kernels(initial);
    /* dense Adam: replay 12 zero-gradient steps on a 32-float row; one step with gradient */
    static float p[32], m[32], v[32], g[32];
    for (int k = 0; k < 32; k++) {
        p[k] = (float)ncf_rng_uniform_(&r);
        m[k] = 1e-4f;
        v[k] = 1e-8f;
        g[k] = 1e-4f;
    }
    ncf_adam_step steps[16];
    for (int j = 0; j < 16; j++) ncf_adam_step_init_(&steps[j], 1e-3f, 0.9f, 0.999f, 1e-8f, 100 + j);
    TIME("adam_catchup dim 32, 12 steps", 20000, ncf_adam_catchup_(p, m, v, 32, steps, 12); sink += p[0]);
    int32_t row = 0;
    TIME("adam_rows dim 32, 1 row", 20000, ncf_adam_rows_(p, g, 32, m, v, 32, 32, &row, 1, &steps[0]); sink += p[0]);
    return 0;
}
