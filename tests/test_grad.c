/* test_grad.c — finite-difference checks of every backward pass: the linear
 * kernels against naive double-precision references (all block/tail paths),
 * ReLU, then the full GMF, MLP and NeuMF models (BCE and pairwise loss,
 * sigmoid GMF, dropout, L2) against central differences of the loss. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/grad.h"
#include "model/model_impl.h"
#include "nn/nn.h"
#include "ncf/ncf.h"
#include "testutil.h"

static float frand(ncf_rng *r) { return (float)(2.0 * ncf_rng_uniform_(r) - 1.0); }

static void fill(float *a, size_t n, ncf_rng *r)
{
    for (size_t k = 0; k < n; k++) a[k] = frand(r);
}

static const char *const PATHS[] = {"generic", "avx2", "avx512"};

static void linear_kernels_one_path(void);

/* Every kernel path the CPU has, against naive double-precision sums. */
static void test_linear_kernels(void **state)
{
    const char *initial = ncf_kernels();
    int ran = 0;
    for (size_t p = 0; p < sizeof PATHS / sizeof *PATHS; p++) {
        if (!ncf_kernels_supported(PATHS[p])) {
            fprintf(stderr, "kernel path %s: not supported by this CPU, skipped\n", PATHS[p]);
            continue;
        }
        assert_int_equal(ncf_set_kernels(PATHS[p]), NCF_OK);
        assert_string_equal(ncf_kernels(), PATHS[p]);
        linear_kernels_one_path();
        ran++;
    }
    assert_true(ran >= 1);
    assert_int_equal(ncf_set_kernels("no-such-path"), NCF_ERR_ARG);
    assert_int_equal(ncf_set_kernels(initial), NCF_OK);
}

static void linear_kernels_one_path(void)
{
    const int sizes[] = {1, 3, 8, 9, 16, 17, 32, 33, 64};
    ncf_rng r;
    ncf_rng_seed_(&r, 42, 0, 0);
    for (size_t a = 0; a < sizeof sizes / sizeof *sizes; a++)
        for (size_t b = 0; b < sizeof sizes / sizeof *sizes; b++) {
            int in = sizes[a], out = sizes[b], rows = 13;
            float *x = malloc(sizeof(float) * (size_t)(rows * in)), *w = malloc(sizeof(float) * (size_t)(in * out));
            float *wt = malloc(sizeof(float) * (size_t)(in * out)), *bias = malloc(sizeof(float) * (size_t)out);
            float *y = malloc(sizeof(float) * (size_t)out), *dy = malloc(sizeof(float) * (size_t)(rows * out));
            float *dx = malloc(sizeof(float) * (size_t)in), *dw = calloc((size_t)(in * out), sizeof(float));
            float *db = calloc((size_t)out, sizeof(float));
            fill(x, (size_t)(rows * in), &r);
            fill(w, (size_t)(in * out), &r);
            fill(bias, (size_t)out, &r);
            fill(dy, (size_t)(rows * out), &r);
            for (int o = 0; o < out; o++)
                for (int i = 0; i < in; i++) wt[i * out + o] = w[o * in + i];
            ncf_linear_forward_(y, x, wt, bias, in, out);
            for (int o = 0; o < out; o++) {
                double ref = bias[o];
                for (int i = 0; i < in; i++) ref += (double)w[o * in + i] * x[i];
                assert_true(fabs(ref - y[o]) <= 1e-5 * (1 + fabs(ref)));
            }
            /* the four-row inference kernel, with and without ReLU */
            for (int relu = 0; relu < 2; relu++) {
                float *ys = malloc(sizeof(float) * (size_t)(rows * out));
                ncf_linear_forward_rows_(ys, (size_t)out, x, (size_t)in, rows, wt, bias, in, out, relu);
                for (int q = 0; q < rows; q++)
                    for (int o = 0; o < out; o++) {
                        double ref = bias[o];
                        for (int i = 0; i < in; i++) ref += (double)w[o * in + i] * x[q * in + i];
                        if (relu && ref < 0) ref = 0;
                        assert_true(fabs(ref - ys[q * out + o]) <= 1e-5 * (1 + fabs(ref)));
                    }
                free(ys);
            }
            /* the tile kernels: every row (in triples, then a pair or one) gets
             * the one-row kernels' bits */
            {
                float *yt = malloc(sizeof(float) * (size_t)(rows * out)), *dxt = malloc(sizeof(float) * (size_t)(rows * in));
                float *y1 = malloc(sizeof(float) * (size_t)out), *dx1 = malloc(sizeof(float) * (size_t)in);
                /* a ReLU-output stand-in for the backward's gate: x shifted, so about half is <= 0 */
                float *gate = malloc(sizeof(float) * (size_t)(rows * in));
                for (size_t k = 0; k < (size_t)(rows * in); k++) gate[k] = x[k] - 0.5f;
                /* 4, 5, 10 and 13 rows (every mix of six-, three-, two- and one-row
                 * passes); plain, then with the ReLU passes fused */
                const int counts[4] = {4, 5, 10, 13};
                for (int t = 0; t < 8; t++) {
                    const int nr = counts[t / 2], fused = t % 2;
                    ncf_linear_forward_tile_(yt, (size_t)out, x, (size_t)in, nr, wt, bias, in, out, fused);
                    ncf_linear_backward_x_tile_(dxt, (size_t)in, dy, (size_t)out, nr, w, in, out, fused ? gate : NULL,
                                                (size_t)in);
                    for (int q = 0; q < nr; q++) {
                        ncf_linear_forward_(y1, x + (size_t)q * (size_t)in, wt, bias, in, out);
                        if (fused) ncf_relu_forward_(y1, out);
                        ncf_linear_backward_x_(dx1, dy + (size_t)q * (size_t)out, w, in, out);
                        if (fused) ncf_relu_backward_(dx1, gate + (size_t)q * (size_t)in, in);
                        assert_memory_equal(y1, yt + (size_t)q * (size_t)out, sizeof(float) * (size_t)out);
                        assert_memory_equal(dx1, dxt + (size_t)q * (size_t)in, sizeof(float) * (size_t)in);
                    }
                }
                free(gate);
                free(yt), free(dxt), free(y1), free(dx1);
            }
            ncf_linear_backward_x_(dx, dy, w, in, out);
            for (int i = 0; i < in; i++) {
                double ref = 0;
                for (int o = 0; o < out; o++) ref += (double)w[o * in + i] * dy[o];
                assert_true(fabs(ref - dx[i]) <= 1e-5 * (1 + fabs(ref)));
            }
            ncf_linear_backward_w_(dw, db, dy, (size_t)out, x, (size_t)in, rows, in, out);
            for (int o = 0; o < out; o++) {
                double rb = 0;
                for (int s = 0; s < rows; s++) rb += dy[s * out + o];
                assert_true(fabs(rb - db[o]) <= 1e-5 * (1 + fabs(rb)));
                for (int i = 0; i < in; i++) {
                    double ref = 0;
                    for (int s = 0; s < rows; s++) ref += (double)dy[s * out + o] * x[s * in + i];
                    assert_true(fabs(ref - dw[o * in + i]) <= 1e-5 * (1 + fabs(ref)));
                }
            }
            free(x), free(w), free(wt), free(bias), free(y), free(dy), free(dx), free(dw), free(db);
        }
}

static void test_relu(void **state)
{
    float x[5] = {-1.0f, 0.0f, 2.0f, -0.5f, 3.0f}, dy[5] = {1, 1, 1, 1, 1};
    ncf_relu_forward_(x, 5);
    assert_true(x[0] == 0.0f && x[1] == 0.0f && x[2] == 2.0f && x[3] == 0.0f && x[4] == 3.0f);
    ncf_relu_backward_(dy, x, 5);
    assert_true(dy[0] == 0.0f && dy[1] == 0.0f && dy[2] == 1.0f && dy[3] == 0.0f && dy[4] == 1.0f);
}

static void test_softplus_sigmoid_stable(void **state)
{
    assert_true(isfinite(ncf_softplus_(1000.0)) && fabs(ncf_softplus_(1000.0) - 1000.0) < 1e-9);
    assert_true(ncf_softplus_(-1000.0) >= 0.0 && ncf_softplus_(-1000.0) < 1e-300);
    assert_true(fabs(ncf_softplus_(0.0) - log(2.0)) < 1e-12);
    assert_true(ncf_sigmoid_(-200.0f) >= 0.0f && ncf_sigmoid_(200.0f) == 1.0f);
}

/* The polynomial softplus against libm's log1p(exp()) over +-800, and the
 * vectorised array form against the scalar one, bit for bit. */
static void test_softplus_matches_libm(void **state)
{
    enum { N = 4096 };
    static double x[N];
    double worst = 0.0;
    for (int k = 0; k < N; k++) x[k] = -800.0 + 1600.0 * k / (N - 1) + 1e-3 * (k % 7);
    x[0] = 0.0, x[1] = -1e-300, x[2] = 1e-8, x[3] = 36.7, x[4] = -36.7;
    static double y[N];
    memcpy(y, x, sizeof x);
    ncf_softplus_many_(y, N - 3); /* an odd count leaves a vector tail */
    for (int k = 0; k < N; k++) {
        const double ref = (x[k] > 0 ? x[k] : 0.0) + log1p(exp(-fabs(x[k])));
        const double got = ncf_softplus_(x[k]);
        if (k < N - 3) assert_memory_equal(&got, &y[k], sizeof got);
        if (ref > 1e-300) {
            const double rel = fabs(got - ref) / ref;
            worst = rel > worst ? rel : worst;
        } else {
            assert_true(got >= 0.0 && got < 1e-300);
        }
    }
    assert_true(worst < 2e-15);
    double odd[3] = {NAN, INFINITY, -INFINITY};
    ncf_softplus_many_(odd, 3);
    assert_true(isnan(odd[0]) && odd[1] == INFINITY && odd[2] >= 0.0 && odd[2] < 1e-300);
}

/* ---- whole-model checks ---------------------------------------------------- */
typedef struct gc_case {
    const char *name;
    ncf_model_type type;
    int factors, embed, n_hidden, hidden[3];
    ncf_activation act;
    float dropout, reg;
    ncf_loss loss;
} gc_case;

static double loss_of(const ncf_model *m, const ncf_sample *s, int n, const ncf_grad_args *a, float *ws, float *dg,
                      float *eg)
{
    memset(dg, 0, m->n_dense * sizeof *dg);
    return ncf_model_chunk_grad_(m, s, n, a, ws, dg, eg);
}

/* Central difference of the loss in one parameter. */
static double numeric_grad(ncf_model *m, float *p, float eps, const ncf_sample *s, int n, const ncf_grad_args *a,
                           float *ws, float *dg, float *eg)
{
    float saved = *p;
    *p = saved + eps;
    ncf_model_sync_(m);
    double lp = loss_of(m, s, n, a, ws, dg, eg);
    *p = saved - eps;
    ncf_model_sync_(m);
    double lm = loss_of(m, s, n, a, ws, dg, eg);
    *p = saved;
    ncf_model_sync_(m);
    return (lp - lm) / (2.0 * (double)eps);
}

/* ReLU has a kink at 0: a finite difference that crosses it measures the
 * average of two slopes. Move every hidden unit's bias until no sample's
 * pre-activation lies within 0.02 of 0 (a perturbation of 1e-3 moves a
 * pre-activation by far less), so every coordinate can be checked. */
static void keep_off_kinks(ncf_model *m, const ncf_sample *s, int n, int c_pair)
{
    float *act = ncf_alloc_aligned_(m->act_size * sizeof(float));
    for (int round = 0; round < 100; round++) {
        int moved = 0;
        ncf_model_sync_(m);
        for (int r = 0; r < 2 * n; r++) {
            if (r % 2 && c_pair == 0) continue; /* BCE: item2 holds the label */
            ncf_model_forward_(m, s[r / 2].user, r % 2 ? s[r / 2].item2 : s[r / 2].item, act, NULL);
            const float *x = act + m->act_x0;
            for (int l = 0; l < m->n_layers; l++) {
                for (int o = 0; o < m->out[l]; o++) {
                    double z = m->dense[m->b_off[l] + (size_t)o];
                    for (int i = 0; i < m->in[l]; i++)
                        z += (double)m->dense[m->w_off[l] + (size_t)o * (size_t)m->in[l] + (size_t)i] * x[i];
                    if (fabs(z) < 0.02) {
                        m->dense[m->b_off[l] + (size_t)o] += z >= 0 ? 0.05f : -0.05f;
                        moved = 1;
                    }
                }
                x = act + m->act_z[l];
            }
        }
        if (!moved) break;
    }
    ncf_model_sync_(m);
    ncf_free_aligned_(act);
}

/* Compares the analytic gradient of one parameter with a central
 * difference; returns 1 when they agree. */
static int check_param(ncf_model *m, float *p, double analytic, const ncf_sample *s, int n, const ncf_grad_args *a,
                       float *ws, float *dg, float *eg, double *worst)
{
    double num = numeric_grad(m, p, 1e-3f, s, n, a, ws, dg, eg);
    double err = fabs(num - analytic) / (fabs(num) + fabs(analytic) + 5e-3); /* floor: float noise of the loss */
    if (err > *worst) *worst = err;
    if (getenv("GC_DEBUG") && err >= 1e-2) fprintf(stderr, "  off: analytic %g numeric %g\n", analytic, num);
    return err < 1e-2;
}

static void run_case(const gc_case *c)
{
    ncf_model_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.type = c->type;
    cfg.n_users = 4;
    cfg.n_items = 6;
    cfg.factors = c->factors;
    cfg.mlp_embed = c->embed;
    cfg.n_hidden = c->n_hidden;
    for (int k = 0; k < c->n_hidden; k++) cfg.hidden[k] = c->hidden[k];
    cfg.gmf_activation = c->act;
    cfg.dropout = c->dropout;
    cfg.init_std = 0.6f;
    ncf_model *m = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_create(&cfg, 11, &m, &err), NCF_OK);
    ncf_rng r;
    ncf_rng_seed_(&r, 5, 0, 0);
    for (size_t k = 0; k < m->n_dense; k++) /* non-zero biases too; MF's output weights stay fixed ones */
        if (!m->B || k < m->wo_off || k >= m->wo_off + (size_t)m->out_in) m->dense[k] += 0.3f * frand(&r);
    for (int t = NCF_TABLE_USER_BIAS; t < NCF_TABLES; t++) /* MF biases away from 0 */
        for (int32_t row = 0; row < m->tab[t].rows && m->tab[t].w; row++) m->tab[t].w[(size_t)row * (size_t)m->tab[t].stride] = 0.5f * frand(&r);
    ncf_model_sync_(m);
    const int n = 7;
    ncf_sample s[7] = {{0}};
    for (int k = 0; k < n; k++) {
        s[k].user = (int32_t)ncf_rng_below_(&r, 4);
        s[k].item = (int32_t)ncf_rng_below_(&r, 6);
        if (ncf_loss_pairwise(c->loss)) s[k].item2 = (int32_t)ncf_rng_below_(&r, 6);
        else s[k].label = k % 2;
    }
    s[3].user = s[1].user; /* a row touched twice */
    keep_off_kinks(m, s, n, ncf_loss_pairwise(c->loss));
    ncf_grad_args a = {.loss = c->loss, .scale = 1.0f / n, .reg = c->reg, .dropout = 1, .drop_seed = 99};
    float *ws = ncf_alloc_aligned_(ncf_model_ws_floats_(m) * sizeof(float));
    float *dg = ncf_alloc_aligned_(m->n_dense * sizeof(float)), *dg2 = ncf_alloc_aligned_(m->n_dense * sizeof(float));
    size_t slot = ncf_slot_width_(m, c->loss), side = ncf_side_width_(m), item_at = ncf_slot_item_(m);
    float *eg = malloc((size_t)n * slot * sizeof(float)), *eg2 = malloc((size_t)n * slot * sizeof(float));
    loss_of(m, s, n, &a, ws, dg, eg);
    /* embedding gradients per table row: sum over samples */
    double worst = 0.0;
    int bad = 0, checked = 0;
    for (int t = 0; t < NCF_TABLES; t++) {
        ncf_table *tb = &m->tab[t];
        if (!tb->w) continue;
        int item_side = ncf_table_is_item_(t);
        size_t col = ncf_table_col_(m, t);
        for (int32_t row = 0; row < tb->rows; row++)
            for (int d = 0; d < tb->dim; d++) {
                double g = 0;
                for (int k = 0; k < n; k++) {
                    const float *e = eg + (size_t)k * slot;
                    if (!item_side && s[k].user == row) g += e[col + (size_t)d];
                    if (item_side && s[k].item == row) g += e[item_at + col + (size_t)d];
                    if (item_side && ncf_loss_pairwise(c->loss) && s[k].item2 == row)
                        g += e[item_at + side + col + (size_t)d];
                }
                bad += !check_param(m, tb->w + (size_t)row * (size_t)tb->stride + d, g, s, n, &a, ws, dg2, eg2, &worst);
                checked++;
            }
    }
    for (size_t k = 0; k < m->n_dense; k++) {
        if (m->B && k >= m->wo_off && k < m->wo_off + (size_t)m->out_in) { /* MF: not a parameter, no gradient */
            assert_true(dg[k] == 0.0f);
            continue;
        }
        bad += !check_param(m, m->dense + k, dg[k], s, n, &a, ws, dg2, eg2, &worst);
        checked++;
    }
    if (bad) fprintf(stderr, "%s: %d of %d coordinates off (worst relative error %.3g)\n", c->name, bad, checked, worst);
    assert_int_equal(bad, 0);
    ncf_free_aligned_(ws);
    ncf_free_aligned_(dg);
    ncf_free_aligned_(dg2);
    free(eg);
    free(eg2);
    ncf_model_free(m);
}

static void run_case_all_paths(const gc_case *c)
{
    const char *initial = ncf_kernels();
    for (size_t p = 0; p < sizeof PATHS / sizeof *PATHS; p++)
        if (ncf_kernels_supported(PATHS[p])) {
            assert_int_equal(ncf_set_kernels(PATHS[p]), NCF_OK);
            run_case(c);
        }
    assert_int_equal(ncf_set_kernels(initial), NCF_OK);
}

static void test_gmf(void **state)
{
    gc_case c = {"gmf", NCF_MODEL_GMF, 5, 0, 0, {0}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&c);
    gc_case c2 = {"gmf-sigmoid-pair", NCF_MODEL_GMF, 9, 0, 0, {0}, NCF_ACT_SIGMOID, 0, 0.01f, NCF_LOSS_PAIR_BCE};
    run_case_all_paths(&c2);
}

static void test_mf(void **state)
{
    gc_case c = {"mf", NCF_MODEL_MF, 6, 0, 0, {0}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&c);
    gc_case c2 = {"mf-bpr-reg", NCF_MODEL_MF, 9, 0, 0, {0}, NCF_ACT_IDENTITY, 0, 0.01f, NCF_LOSS_BPR};
    run_case_all_paths(&c2);
}

static void test_mlp(void **state)
{
    gc_case c = {"mlp", NCF_MODEL_MLP, 0, 8, 3, {16, 8, 4}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&c);
    c = (gc_case){"mlp-odd", NCF_MODEL_MLP, 0, 4, 3, {7, 5, 3}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&c);
    gc_case wide = {"mlp-wide", NCF_MODEL_MLP, 0, 17, 2, {33, 16}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&wide);
    gc_case flat = {"mlp-no-hidden", NCF_MODEL_MLP, 0, 3, 0, {0}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&flat);
}

static void test_neumf(void **state)
{
    gc_case c = {"neumf", NCF_MODEL_NEUMF, 4, 8, 3, {16, 8, 4}, NCF_ACT_IDENTITY, 0, 0, NCF_LOSS_BCE};
    run_case_all_paths(&c);
    gc_case seed = {"neumf-seed", NCF_MODEL_NEUMF, 6, 6, 2, {9, 5}, NCF_ACT_SIGMOID, 0.3f, 0.05f, NCF_LOSS_PAIR_BCE};
    run_case_all_paths(&seed);
    gc_case reg = {"neumf-reg-dropout-bce", NCF_MODEL_NEUMF, 3, 5, 1, {6}, NCF_ACT_IDENTITY, 0.5f, 0.1f, NCF_LOSS_BCE};
    run_case_all_paths(&reg);
    reg = (gc_case){"neumf-bpr", NCF_MODEL_NEUMF, 4, 6, 2, {8, 4}, NCF_ACT_IDENTITY, 0.0f, 0.02f, NCF_LOSS_BPR};
    run_case_all_paths(&reg);
}

/* The AVX-512 path (16-float vectors, six rows a pass) gives the AVX2
 * path's bits: every kernel, odd widths included. */
static void test_avx512_bits_equal_avx2(void **state)
{
    if (!ncf_kernels_supported("avx2") || !ncf_kernels_supported("avx512")) {
        fprintf(stderr, "avx512 vs avx2: not both supported by this CPU, skipped\n");
        return;
    }
    const char *initial = ncf_kernels();
    const int sizes[] = {1, 8, 15, 16, 24, 32, 40, 48, 64, 100};
    const int rows = 29;
    enum { N = sizeof sizes / sizeof *sizes };
    ncf_rng r;
    ncf_rng_seed_(&r, 7, 0, 0);
    for (int a = 0; a < N; a++)
        for (int b = 0; b < N; b++) {
            const int in = sizes[a], out = sizes[b];
            const size_t nx = (size_t)rows * (size_t)in, ny = (size_t)rows * (size_t)out, nw = (size_t)in * (size_t)out;
            float *x = malloc(nx * sizeof(float)), *dy = malloc(ny * sizeof(float)), *w = malloc(nw * sizeof(float));
            float *bias = malloc((size_t)out * sizeof(float)), *gate = malloc(nx * sizeof(float));
            float *dw0 = malloc(nw * sizeof(float)), *db0 = malloc((size_t)out * sizeof(float));
            fill(x, nx, &r), fill(dy, ny, &r), fill(w, nw, &r), fill(bias, (size_t)out, &r), fill(dw0, nw, &r);
            fill(db0, (size_t)out, &r);
            for (size_t k = 0; k < nx; k++) gate[k] = x[k] - 0.5f;
            float *res[2][5];
            for (int p = 0; p < 2; p++) {
                assert_int_equal(ncf_set_kernels(p ? "avx512" : "avx2"), NCF_OK);
                float *y = malloc(ny * sizeof(float)), *dx = malloc(nx * sizeof(float)), *yr = malloc(ny * sizeof(float));
                float *dw = malloc(nw * sizeof(float)), *db = malloc((size_t)out * sizeof(float));
                memcpy(dw, dw0, nw * sizeof(float));
                memcpy(db, db0, (size_t)out * sizeof(float));
                ncf_linear_forward_tile_(y, (size_t)out, x, (size_t)in, rows, w, bias, in, out, 1);
                ncf_linear_backward_x_tile_(dx, (size_t)in, dy, (size_t)out, rows, w, in, out, gate, (size_t)in);
                ncf_linear_forward_rows_(yr, (size_t)out, x, (size_t)in, rows, w, bias, in, out, 0);
                ncf_linear_backward_w_(dw, db, dy, (size_t)out, x, (size_t)in, rows, in, out);
                res[p][0] = y, res[p][1] = dx, res[p][2] = yr, res[p][3] = dw, res[p][4] = db;
            }
            const size_t len[5] = {ny, nx, ny, nw, (size_t)out};
            for (int k = 0; k < 5; k++) {
                if (memcmp(res[0][k], res[1][k], len[k] * sizeof(float)) != 0)
                    fail_msg("avx512 differs from avx2: kernel %d, in %d, out %d", k, in, out);
                free(res[0][k]), free(res[1][k]);
            }
            free(x), free(dy), free(w), free(bias), free(gate), free(dw0), free(db0);
        }
    assert_int_equal(ncf_set_kernels(initial), NCF_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_kernels), cmocka_unit_test(test_avx512_bits_equal_avx2), cmocka_unit_test(test_relu),
        cmocka_unit_test(test_softplus_sigmoid_stable), cmocka_unit_test(test_softplus_matches_libm), cmocka_unit_test(test_gmf), cmocka_unit_test(test_mf),
        cmocka_unit_test(test_mlp), cmocka_unit_test(test_neumf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
