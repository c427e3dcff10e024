/* test_train.c — training: the Adam and SGD kernels against hand-computed
 * steps, the sampler (exact exclusion, counts, determinism), byte-identical
 * models for the same seed with 1 and 2 threads (dense and lazy Adam,
 * dropout, pairwise loss), and an end-to-end run on synthetic data that must
 * beat a popularity baseline. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "optim/optim.h"
#include "sampler/sampler.h"
#include "testutil.h"
#include "train/config.h" /* NCF_ADAM_DENSE_SWEEP */
#include "train/rows.h"   /* the look-ahead's values */

static void test_adam_and_sgd_steps(void **state)
{
    /* catch-up of k zero-gradient steps equals k single steps, bit for bit */
    float pa[19], ma[19], va[19], pb[19], mb[19], vb[19], zero[19] = {0};
    ncf_rng rr;
    ncf_rng_seed_(&rr, 3, 0, 0);
    for (int k = 0; k < 19; k++) {
        pa[k] = pb[k] = (float)ncf_rng_uniform_(&rr);
        ma[k] = mb[k] = (float)ncf_rng_uniform_(&rr) * 1e-3f;
        va[k] = vb[k] = (float)ncf_rng_uniform_(&rr) * 1e-6f;
    }
    ncf_adam_step hist[30];
    for (int j = 0; j < 30; j++) ncf_adam_step_init_(&hist[j], 0.001f, 0.9f, 0.999f, 1e-8f, 100 + j);
    for (int j = 0; j < 30; j++) ncf_adam_update_(pa, zero, ma, va, 19, &hist[j]);
    ncf_adam_catchup_(pb, mb, vb, 19, hist, 30);
    assert_memory_equal(pa, pb, sizeof pa);
    assert_memory_equal(ma, mb, sizeof ma);
    assert_memory_equal(va, vb, sizeof va);

    float p[2] = {1.0f, -2.0f}, g[2] = {0.5f, -0.25f}, m[2] = {0}, v[2] = {0};
    ncf_adam_step s;
    ncf_adam_step_init_(&s, 0.1f, 0.9f, 0.999f, 1e-8f, 1);
    ncf_adam_update_(p, g, m, v, 2, &s);
    /* step 1: m_hat = g, v_hat = g^2, update = lr * sign(g) (up to eps) */
    assert_true(fabsf(p[0] - 0.9f) < 1e-6f && fabsf(p[1] + 1.9f) < 1e-6f);
    ncf_adam_step_init_(&s, 0.1f, 0.9f, 0.999f, 1e-8f, 2);
    float g2[2] = {0.5f, 0.0f};
    ncf_adam_update_(p, g2, m, v, 2, &s);
    double m1 = 0.9 * 0.05 + 0.05, v1 = 0.999 * 0.00025 + 0.00025; /* coordinate 0 */
    double upd = 0.1 / (1 - 0.81) * m1 / (sqrt(v1) / sqrt(1 - 0.998001) + 1e-8);
    assert_true(fabs(s.step - 0.1 / (1 - 0.81)) < 1e-6 && fabs(s.inv_b2 - 1 / sqrt(1 - 0.998001)) < 1e-3);
    assert_true(fabs(p[0] - (0.9 - upd)) < 1e-6);
    float q[1] = {1.0f}, h[1] = {2.0f};
    ncf_sgd_update_(q, h, 1, 0.25f);
    assert_true(q[0] == 0.5f);
}

static void test_other_optimizers(void **state)
{
    /* one hand-computed step each (PyTorch's formulas) */
    float g[1] = {0.5f};
    ncf_opt1 mom = {NCF_OPTK_MOMENTUM, 0.1f, 0.9f, 0.99f, 1e-8f};
    float p[1] = {1.0f}, s[1] = {0.2f};
    ncf_opt1_update_(&mom, p, g, s, 1);
    assert_true(fabsf(s[0] - (0.9f * 0.2f + 0.5f)) < 1e-7f && fabsf(p[0] - (1.0f - 0.1f * 0.68f)) < 1e-7f);
    ncf_opt1 ada = {NCF_OPTK_ADAGRAD, 0.1f, 0.0f, 0.99f, 1e-8f};
    p[0] = 1.0f, s[0] = 0.75f;
    ncf_opt1_update_(&ada, p, g, s, 1);
    assert_true(fabsf(s[0] - 1.0f) < 1e-7f && fabsf(p[0] - (1.0f - 0.05f)) < 1e-6f);
    ncf_opt1 rms = {NCF_OPTK_RMSPROP, 0.1f, 0.0f, 0.9f, 1e-8f};
    p[0] = 1.0f, s[0] = 0.1f;
    ncf_opt1_update_(&rms, p, g, s, 1);
    double v = 0.9 * 0.1 + 0.1 * 0.25;
    assert_true(fabs(s[0] - v) < 1e-7 && fabs(p[0] - (1.0 - 0.1 * 0.5 / sqrt(v))) < 1e-6);
    /* closed-form catch-up of k zero-gradient steps equals k single steps */
    const ncf_opt1 *opts[2] = {&mom, &rms};
    for (int o = 0; o < 2; o++) {
        float w1[8], s1[8], w2[8], s2[8], zero[8] = {0};
        ncf_rng rr;
        ncf_rng_seed_(&rr, 4, 0, (uint64_t)o);
        for (int k = 0; k < 8; k++) {
            w1[k] = w2[k] = (float)ncf_rng_uniform_(&rr) - 0.5f;
            s1[k] = s2[k] = (float)ncf_rng_uniform_(&rr) * 0.1f;
        }
        for (int j = 0; j < 37; j++) ncf_opt1_update_(opts[o], w1, zero, s1, 8);
        int32_t row = 0;
        int64_t from = 5;
        ncf_opt1_catchup_rows_(opts[o], w2, s2, 8, 8, &row, &from, 1, 42);
        for (int k = 0; k < 8; k++) {
            assert_true(fabsf(w1[k] - w2[k]) <= 1e-6f * (1.0f + fabsf(w1[k])));
            assert_true(fabsf(s1[k] - s2[k]) <= 1e-6f * (1.0f + fabsf(s1[k])));
        }
    }
}

static ncf_dataset *synth_dataset(int users, int items, int64_t n, uint64_t seed)
{
    ncf_synth_options o;
    ncf_synth_options_default(&o);
    o.n_users = users;
    o.n_items = items;
    o.n_interactions = n;
    o.seed = seed;
    ncf_err err = {{0}};
    char name[64];
    snprintf(name, sizeof name, "synth-%d-%d-%lld.tsv", users, items, (long long)n);
    const char *p = tu_path(name);
    assert_int_equal(ncf_synth_write(&o, p, &err), NCF_OK);
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    ncf_dataset *ds = NULL;
    assert_int_equal(ncf_dataset_load(p, &lo, &ds, &err), NCF_OK);
    return ds;
}

static void test_sampler(void **state)
{
    ncf_dataset *ds = synth_dataset(200, 300, 6000, 4);
    ncf_sampler s;
    assert_int_equal(ncf_sampler_init_(&s, ds), NCF_OK);
    int64_t n = ncf_sampler_count_(&s, NCF_LOSS_BCE, 4);
    assert_int_equal(n, ds->n_train * 5);
    ncf_sample *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
    assert_int_equal(ncf_sampler_epoch_(&s, NCF_LOSS_BCE, 4, 9, 1, 1, a), NCF_OK);
    assert_int_equal(ncf_sampler_epoch_(&s, NCF_LOSS_BCE, 4, 9, 1, 2, b), NCF_OK);
    assert_memory_equal(a, b, (size_t)n * sizeof *a); /* independent of threads */
    int64_t pos = 0;
    for (int64_t k = 0; k < n; k++) {
        if (a[k].label == 1) {
            pos++;
            assert_true(ncf_dataset_has_train(ds, a[k].user, a[k].item));
        } else {
            assert_false(ncf_dataset_has_train(ds, a[k].user, a[k].item)); /* exact exclusion */
        }
    }
    assert_int_equal(pos, ds->n_train);
    assert_int_equal(ncf_sampler_epoch_(&s, NCF_LOSS_BCE, 4, 9, 2, 1, b), NCF_OK);
    assert_memory_not_equal(a, b, (size_t)n * sizeof *a); /* resampled each epoch */
    free(a);
    free(b);
    ncf_sampler_free_(&s);
    ncf_dataset_free(ds);
}

/* A visitor's record: the ranges must come from the last sample to the
 * first, tile the samples, and hold their final values when visited. */
typedef struct visit_log {
    const ncf_sample *out, *final;
    int64_t next_to; /* the range expected to end here next */
    int ranges, bad;
} visit_log;

static void log_visit(void *ctx, int64_t from, int64_t to)
{
    visit_log *v = ctx;
    v->bad |= to != v->next_to || from >= to;
    v->bad |= memcmp(v->out + from, v->final + from, (size_t)(to - from) * sizeof *v->out) != 0;
    v->next_to = from;
    v->ranges++;
}

static int cmp_pair(const void *x, const void *y)
{
    const int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

/* The shuffle through many buckets: the same order for 1, 2 and 3 threads,
 * every training positive exactly once and each with its negatives, and no
 * trace of the order the samples were made in (user by user, so the user id
 * rises with it): position and user uncorrelated, and neighbours of the
 * same user no more often than chance. */
static void test_sampler_shuffle(void **state)
{
    ncf_dataset *ds = synth_dataset(200, 300, 6000, 4);
    ncf_sampler s;
    assert_int_equal(ncf_sampler_init_(&s, ds), NCF_OK);
    s.bucket = 500; /* ~60 buckets instead of one */
    for (int pair = 0; pair < 2; pair++) {
        const ncf_loss loss = pair ? NCF_LOSS_BPR : NCF_LOSS_BCE;
        const int64_t n = ncf_sampler_count_(&s, loss, 4);
        ncf_sample *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        int64_t *pos = malloc((size_t)n * sizeof *pos), *want = malloc((size_t)ds->n_train * sizeof *want);
        assert_int_equal(ncf_sampler_epoch_(&s, loss, 4, 9, 3, 1, a), NCF_OK);
        for (int threads = 2; threads <= 3; threads++) {
            assert_int_equal(ncf_sampler_epoch_(&s, loss, 4, 9, 3, threads, b), NCF_OK);
            assert_memory_equal(a, b, (size_t)n * sizeof *a);
        }
        /* with a visitor: the same samples; one thread visits bucket by bucket */
        for (int threads = 1; threads <= 2; threads++) {
            visit_log v = {.out = b, .final = a, .next_to = n};
            memset(b, 0, (size_t)n * sizeof *b);
            assert_int_equal(ncf_sampler_epoch_visit_(&s, loss, 4, 9, 3, threads, b, log_visit, &v), NCF_OK);
            assert_memory_equal(a, b, (size_t)n * sizeof *a);
            assert_int_equal(v.bad, 0);
            assert_int_equal(v.next_to, 0);
            assert_true(threads == 1 ? v.ranges > 10 : v.ranges == 1);
        }
        /* the positives (with multiplicity: BPR repeats each with every negative) */
        int64_t np = 0;
        for (int64_t k = 0; k < n; k++)
            if (pair || a[k].label == 1) pos[np++] = (int64_t)a[k].user * ds->n_items + a[k].item;
        assert_int_equal(np, pair ? ds->n_train * 4 : ds->n_train);
        for (int32_t u = 0; u < ds->n_users; u++)
            for (int64_t k = ds->train_offsets[u]; k < ds->train_offsets[u + 1]; k++)
                want[k] = (int64_t)u * ds->n_items + ds->train_items[k];
        qsort(pos, (size_t)np, sizeof *pos, cmp_pair);
        qsort(want, (size_t)ds->n_train, sizeof *want, cmp_pair);
        for (int64_t k = 0; k < np; k++) assert_true(pos[k] == want[pair ? k / 4 : k]);
        /* correlation of position and user: ~N(0, 1/n), 1/sqrt(n) = 0.006 */
        double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        int64_t same = 0;
        for (int64_t k = 0; k < n; k++) {
            const double x = (double)k, y = (double)a[k].user;
            sx += x, sy += y, sxx += x * x, syy += y * y, sxy += x * y;
            same += k > 0 && a[k].user == a[k - 1].user;
        }
        const double r = (n * sxy - sx * sy) / sqrt((n * sxx - sx * sx) * (n * syy - sy * sy));
        assert_true(fabs(r) < 0.04);
        /* in the order made, 4 of every 5 neighbours share a user; at
         * random, about sum over users of (share of samples)^2 */
        double chance = 0;
        for (int32_t u = 0; u < ds->n_users; u++) {
            const double f = (double)(ds->train_offsets[u + 1] - ds->train_offsets[u]) / (double)ds->n_train;
            chance += f * f;
        }
        assert_true((double)same / (double)(n - 1) < 2.0 * chance);
        assert_true((double)same / (double)(n - 1) > 0.5 * chance);
        free(a);
        free(b);
        free(pos);
        free(want);
    }
    ncf_sampler_free_(&s);
    ncf_dataset_free(ds);
}

/* Extra settings for train_and_save: 0 none; 1 momentum SGD (dense rows)
 * with a step schedule and layer L2; 2 RMSprop; 3 Adagrad; 4 MF with BPR;
 * 5 Adam with betas where dense Adam replays; 6 Adam with betas where its
 * steps are stationary from the first epoch on. */
static int g_extra = 0;

static char *train_and_save(const ncf_dataset *ds, ncf_preset preset, int threads, ncf_adam_mode mode, const char *name,
                            size_t *len, ncf_train_result *res)
{
    int32_t layers[4] = {16, 8, 4};
    ncf_model_config mc;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_config_preset(preset, g_extra == 4 ? NCF_MODEL_MF : NCF_MODEL_NEUMF, 4, layers, 3, &mc, &err),
                     NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&mc, 5, &m, &err), NCF_OK);
    assert_int_equal(ncf_model_attach_data(m, ds, &err), NCF_OK);
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch = 100; /* not a multiple of the chunk size: exercises the tail */
    tc.threads = threads;
    tc.adam_mode = mode;
    tc.seed = 5;
    if (preset == NCF_PRESET_SEED) {
        tc.loss = NCF_LOSS_PAIR_BCE;
        tc.neg = 1;
        tc.reg = 1e-6f;
    }
    if (g_extra == 1) {
        tc.optimizer = NCF_OPT_SGD;
        tc.momentum = 0.9f;
        tc.lr = 0.05f;
        tc.schedule = NCF_LR_STEP;
        tc.lr_step = 1;
        tc.reg_layers = 1e-3f;
    } else if (g_extra == 2 || g_extra == 3) {
        tc.optimizer = g_extra == 2 ? NCF_OPT_RMSPROP : NCF_OPT_ADAGRAD;
        tc.lr = 0.01f;
    } else if (g_extra == 4) {
        tc.loss = NCF_LOSS_BPR;
        tc.reg = 1e-4f;
    } else if (g_extra == 5) { /* beta1 >= beta2^2: dense Adam has no closed form and replays */
        tc.beta1 = 0.95f;
        tc.beta2 = 0.9f;
    } else if (g_extra == 6) { /* steps stationary from step 152 on (optim.h): the plans of a gap computed once; the
                                  closed form holds up to gap 1, and many elements replay (exact_cap 40) */
        tc.beta1 = 0.5f;
        tc.beta2 = 0.9f;
    }
    assert_int_equal(ncf_train(m, ds, &tc, res, &err), NCF_OK);
    const char *p = tu_path(name);
    assert_int_equal(ncf_model_save(m, p, &err), NCF_OK);
    ncf_model_free(m);
    return tu_read(p, len);
}

static void test_deterministic_across_threads(void **state)
{
    ncf_dataset *ds = synth_dataset(150, 200, 4000, 2);
    const char *paths[] = {"generic", "avx2", "avx512"}, *initial = ncf_kernels();
    for (int variant = 0; variant < 11; variant++) {
        g_extra = variant >= 5 ? variant - 4 : 0; /* other optimizers, MF, betas where dense Adam replays or is
                                                     soon stationary */
        if (variant >= 3 && variant < 5) { /* the default variant again on the other kernel paths */
            if (!ncf_kernels_supported(paths[variant - 2])) continue;
            assert_int_equal(ncf_set_kernels(paths[variant - 2]), NCF_OK);
        } else {
            assert_int_equal(ncf_set_kernels("generic"), NCF_OK);
        }
        ncf_preset preset = variant == 2 ? NCF_PRESET_SEED : NCF_PRESET_PAPER;
        ncf_adam_mode lazy = variant == 1 ? NCF_ADAM_LAZY : NCF_ADAM_DENSE;
        fprintf(stderr, "determinism: variant %d (extra %d) on kernel path %s\n", variant, g_extra, ncf_kernels());
        size_t n1, n2, n3;
        ncf_train_result r1, r2, r3;
        char *a = train_and_save(ds, preset, 1, lazy, "d1.ncf", &n1, &r1);
        char *b = train_and_save(ds, preset, 2, lazy, "d2.ncf", &n2, &r2);
        char *c = train_and_save(ds, preset, 3, lazy, "d3.ncf", &n3, &r3);
        assert_int_equal(n1, n2);
        assert_int_equal(n1, n3);
        assert_memory_equal(a, b, n1);
        assert_memory_equal(a, c, n1);
        assert_true(r1.final_loss == r2.final_loss && r1.final.hr == r3.final.hr);
        free(a);
        free(b);
        free(c);
    }
    g_extra = 0;
    assert_int_equal(ncf_set_kernels(initial), NCF_OK);
    ncf_dataset_free(ds);
}

/* The default rows mode is dense (the exact optimizer) for every model and
 * optimizer; auto, kept from 0.1, resolves to dense too, and training under
 * it is byte for byte dense; lazy stays available. */
static void test_rows_auto(void **state)
{
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    assert_int_equal(tc.adam_mode, NCF_ADAM_DENSE);
    /* and the evaluation is the paper's, sampled at K = 10 */
    assert_true(tc.eval.mode == NCF_EVAL_SAMPLED && tc.eval.n_k == 1 && tc.eval.k[0] == 10);
    const ncf_model_type types[] = {NCF_MODEL_NEUMF, NCF_MODEL_GMF, NCF_MODEL_MLP, NCF_MODEL_MF};
    for (int k = 0; k < 4; k++) {
        tc.adam_mode = NCF_ADAM_DENSE;
        assert_int_equal(ncf_train_rows_mode(&tc, types[k]), NCF_ADAM_DENSE);
        tc.adam_mode = NCF_ADAM_AUTO;
        assert_int_equal(ncf_train_rows_mode(&tc, types[k]), NCF_ADAM_DENSE);
        tc.adam_mode = NCF_ADAM_LAZY;
        assert_int_equal(ncf_train_rows_mode(&tc, types[k]), NCF_ADAM_LAZY);
    }

    ncf_dataset *ds = synth_dataset(150, 200, 4000, 2);
    for (int mf = 0; mf < 2; mf++) {
        g_extra = mf ? 4 : 0;
        size_t n1, n2;
        ncf_train_result r1, r2;
        char *a = train_and_save(ds, NCF_PRESET_PAPER, 2, NCF_ADAM_AUTO, "auto1.ncf", &n1, &r1);
        char *b = train_and_save(ds, NCF_PRESET_PAPER, 2, NCF_ADAM_DENSE, "auto2.ncf", &n2, &r2);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1);
        free(a);
        free(b);
    }
    g_extra = 0;
    ncf_dataset_free(ds);
}

/* A window past the steps' bias corrections (optim.h): stat_from is the
 * first step whose constants are their limits; its plans (from the table
 * of gaps) match those from the future sums up to rounding, and k exact
 * steps, with elements that replay among them. A window that ends before
 * stat_from has no table. */
static void test_catchup_stationary(void **state)
{
    ncf_adam_window win;
    assert_int_equal(ncf_adam_window_build_(&win, 0.001f, 0.9f, 0.999f, 1e-8f, 20000, 3000), 0);
    ncf_adam_step s;
    ncf_adam_step_init_(&s, 0.001f, 0.9f, 0.999f, 1e-8f, win.stat_from);
    assert_true(s.step == 0.001f && s.inv_b2 == 1.0f);
    ncf_adam_step_init_(&s, 0.001f, 0.9f, 0.999f, 1e-8f, win.stat_from - 1);
    assert_true(s.step != 0.001f || s.inv_b2 != 1.0f);
    assert_true(win.stat_from > 15000 && win.stat_from < 17000 && win.stat_n == 3001);
    ncf_rng r;
    ncf_rng_seed_(&r, 9, 0, 0);
    const int ks[] = {1, 3, 40, 121, 122, 200, 999, 2500};
    for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
        const int64_t from = 20000 + (int64_t)ncf_rng_below_(&r, 3000u - (uint32_t)ks[q]), through = from + ks[q];
        ncf_adam_plan plan;
        ncf_adam_plan_rows_(&win, &from, 1, through, &plan);
        assert_memory_equal(&plan.c, &win.stat[ks[q]], sizeof plan.c);
        /* the future sums' plan, as for a step before stat_from */
        const double *ha = win.h + (size_t)(from - win.base) * NCF_ADAM_HROW,
                     *hb = win.h + (size_t)(through - win.base) * NCF_ADAM_HROW,
                     *pk = win.pw + (size_t)ks[q] * NCF_ADAM_PWROW;
        double A[4];
        for (int n = 0; n < 4; n++) A[n] = ha[n] - pk[n] * hb[n];
        const double B[4] = {A[0], A[1] - A[0], A[2] - 2.0 * A[1] + A[0], A[3] - 3.0 * A[2] + 3.0 * A[1] - A[0]};
        for (int n = 0; n < 4; n++) assert_true(fabs(plan.c.B[n] - B[n]) <= 1e-6 * A[0]);
        const int kk = ks[q] < win.exact_cap ? ks[q] : (int)win.exact_cap;
        const double u = win.pw[(size_t)kk * NCF_ADAM_PWROW + 6] - 1.0; /* c_0 / c_kk - 1 */
        assert_true(u > 1.0 / 16.0 ? fabs(plan.c.xmax - (1.0 / 16.0) / u) <= 1e-6 : plan.c.xmax == 2.0f);
        assert_true(plan.c.b1k == (float)pk[4] && plan.c.b2k == (float)pk[5] && plan.c.c0 == 1.0f);
        assert_true(plan.kk == kk && plan.k == ks[q] && plan.from == from);
        enum { D = 16 };
        float a1[D], am[D], av[D], a2[D], bm[D], bv[D], p0[D];
        for (int e = 0; e < D; e++) {
            p0[e] = a1[e] = a2[e] = (float)(ncf_rng_uniform_(&r) - 0.5);
            am[e] = bm[e] = (float)((ncf_rng_uniform_(&r) - 0.5) * 1e-4);
            av[e] = bv[e] = (float)(1e-8 * (0.5 + ncf_rng_uniform_(&r)) * (e < 4 ? 1e-12 : 1.0)); /* 4 near eps^2 */
        }
        ncf_adam_catchup_(a1, am, av, D, ncf_adam_window_step_(&win, from + 1), through - from);
        int32_t row = 0;
        ncf_adam_catchup_rows_(a2, bm, bv, D, D, &row, &plan, 1, &win);
        for (int e = 0; e < D; e++) {
            double d1 = (double)a1[e] - p0[e], d2 = (double)a2[e] - p0[e];
            assert_true(fabs(d1 - d2) <= 1e-4 * fabs(d1) + 6e-8 * ks[q] * fabs((double)p0[e]));
            assert_true(fabs((double)am[e] - (double)bm[e]) <= 1e-5 * fabs((double)am[e]) + 1e-37);
        }
    }
    /* the look-ahead's table against the per-row plans, in a window that
     * crosses stat_from: from a step before it (the table's own plans, to
     * the first gap that is not closed-only) and after (the stationary ones) */
    ncf_adam_window wx;
    assert_int_equal(ncf_adam_window_build_(&wx, 0.001f, 0.9f, 0.999f, 1e-8f, 15000, 2000), 0);
    assert_true(wx.stat_from > 15000 && wx.stat_from < 17000);
    static ncf_adam_ahead tab;
    memset(&tab, 0, sizeof tab);
    const int64_t steps[] = {wx.stat_from - 300, wx.stat_from - 1, wx.stat_from, wx.stat_from + 500};
    for (int j = 0; j < 4; j++) {
        ncf_adam_ahead_at_(&wx, steps[j], &tab);
        assert_true(tab.from == steps[j] && tab.closed > 100 && tab.closed < 130);
        for (int k = 0; k < NCF_ADAM_AHEAD && steps[j] + k <= 17000; k++) {
            ncf_adam_plan plan;
            ncf_adam_plan_rows_(&wx, &steps[j], 1, steps[j] + k, &plan);
            assert_int_equal(ncf_adam_ahead_gap_(ncf_adam_ahead_bound_(&tab), steps[j] + k), k < tab.closed ? k : -1);
            if (k == 0 || k >= tab.closed) {
                assert_true(k == 0 || plan.c.xmax < 2.0f);
                continue;
            }
            assert_true(plan.c.xmax == 2.0f && plan.c.b1k == tab.b1k[k] && plan.c.b2k == tab.b2k[k]);
            for (int n = 0; n < 4; n++) assert_true(plan.c.B[n] == tab.B[n][k]);
        }
    }
    ncf_adam_window_free_(&wx);
    /* a window that ends before stat_from */
    ncf_adam_window w0;
    assert_int_equal(ncf_adam_window_build_(&w0, 0.001f, 0.9f, 0.999f, 1e-8f, 0, 3000), 0);
    assert_true(w0.stat == NULL && w0.stat_n == 0 && w0.stat_from == INT64_MAX);
    ncf_adam_window_free_(&w0);
    ncf_adam_window_free_(&win);
}

/* The fused kernel (each row's step, then its catch-up, in one pass)
 * gives the bits of the step kernel followed by the catch-up kernel: rows
 * of 8 and 32 floats (lengths it inlines), 24 and 80 (run-time lengths,
 * the latter span by span), gaps from the table and planned per row (past
 * the closed-only bound), with elements near eps^2 that replay, from a
 * step before stat_from and one after. */
static void test_rows_ahead_same_bits(void **state)
{
    ncf_adam_window win;
    assert_int_equal(ncf_adam_window_build_(&win, 0.001f, 0.9f, 0.999f, 1e-8f, 15000, 2000), 0);
    static ncf_adam_ahead tab;
    memset(&tab, 0, sizeof tab);
    enum { N = 48, ROWS = 96, DMAX = 80 };
    const int dims[] = {8, 24, 32, 80};
    const int64_t marks[] = {15500, win.stat_from + 100};
    static float w1[ROWS * DMAX], m1[ROWS * DMAX], v1[ROWS * DMAX], w2[ROWS * DMAX], m2[ROWS * DMAX],
        v2[ROWS * DMAX], g[N * DMAX];
    int32_t rows[N], gap[N];
    int64_t through[N];
    ncf_adam_plan plan[N];
    ncf_rng r;
    ncf_rng_seed_(&r, 11, 0, 0);
    for (int mi = 0; mi < 2; mi++)
        for (int di = 0; di < 4; di++) {
            const int dim = dims[di];
            const int64_t mark = marks[mi];
            for (int e = 0; e < ROWS * dim; e++) {
                w1[e] = w2[e] = (float)(ncf_rng_uniform_(&r) - 0.5);
                m1[e] = m2[e] = e % 7 == 3 ? 0.0f : (float)((ncf_rng_uniform_(&r) - 0.5) * 1e-4);
                v1[e] = v2[e] = (float)(1e-8 * (0.5 + ncf_rng_uniform_(&r)) * (e % 11 == 5 ? 1e-12 : 1.0));
            }
            for (int e = 0; e < N * dim; e++) g[e] = e % 13 == 0 ? 0.0f : (float)((ncf_rng_uniform_(&r) - 0.5) * 1e-3);
            ncf_adam_ahead_at_(&win, mark, &tab);
            const ncf_adam_ahead_bound bound = ncf_adam_ahead_bound_(&tab);
            int planned = 0;
            for (int i = 0; i < N; i++) {
                rows[i] = 2 * i + (int32_t)ncf_rng_below_(&r, 2); /* distinct, in order */
                const int pick = (int)ncf_rng_below_(&r, 3);
                const int64_t k = pick == 0 ? ncf_rng_below_(&r, 6) : pick == 1 ? 100 + ncf_rng_below_(&r, 60)
                                                                               : 300 + ncf_rng_below_(&r, 1000);
                through[i] = mark + k;
                gap[i] = ncf_adam_ahead_gap_(bound, through[i]);
                if (gap[i] < 0) ncf_adam_plan_rows_(&win, &tab.from, 1, through[i], &plan[i]), planned++;
            }
            assert_true(planned > 0 && planned < N);
            const ncf_adam_step *st = ncf_adam_window_step_(&win, mark);
            ncf_adam_rows_ahead_(w1, g, (size_t)dim, m1, v1, (size_t)dim, dim, rows, N, st, &tab, gap, plan, &win);
            ncf_adam_rows_(w2, g, (size_t)dim, m2, v2, (size_t)dim, dim, rows, N, st);
            for (int i = 0; i < N; i++) {
                ncf_adam_plan P;
                ncf_adam_plan_rows_(&win, &mark, 1, through[i], &P);
                ncf_adam_catchup_rows_(w2, m2, v2, (size_t)dim, dim, &rows[i], &P, 1, &win);
            }
            assert_memory_equal(w1, w2, sizeof(float) * ROWS * dim);
            assert_memory_equal(m1, m2, sizeof(float) * ROWS * dim);
            assert_memory_equal(v1, v2, sizeof(float) * ROWS * dim);
        }
    ncf_adam_window_free_(&win);
}

/* The closed-form catch-up of k zero-gradient steps matches k exact steps:
 * typical and tiny second moments (the latter take the exact path where
 * the series would converge slowly: long gaps), zero momentum,
 * never-touched rows, k from 1 to 3000. */
static void test_catchup_closed_form(void **state)
{
    ncf_adam_window win;
    assert_int_equal(ncf_adam_window_build_(&win, 0.001f, 0.9f, 0.999f, 1e-8f, 500, 4000), 0);
    const int ks[] = {1, 2, 5, 17, 100, 399, 1000, 3000};
    ncf_rng r;
    ncf_rng_seed_(&r, 8, 0, 0);
    for (size_t q = 0; q < sizeof ks / sizeof *ks; q++) {
        int64_t from = 500 + (int64_t)ncf_rng_below_(&r, 900), through = from + ks[q];
        enum { D = 32 };
        float p1[D], m1[D], v1[D], p2[D], m2[D], v2[D], p0[D];
        for (int e = 0; e < D; e++) {
            double scale = e < 8 ? 1e-4 : e < 16 ? 1e-6 : e < 24 ? 1e-9 : 0.0; /* sqrt(v) ~ 1e-4, 1e-6, 1e-9, 0 */
            p0[e] = p1[e] = p2[e] = (float)(ncf_rng_uniform_(&r) - 0.5);
            m1[e] = m2[e] = e == 3 ? 0.0f : (float)((ncf_rng_uniform_(&r) - 0.5) * scale);
            v1[e] = v2[e] = (float)(scale * scale * (0.5 + ncf_rng_uniform_(&r)));
        }
        for (int rowset = 0; rowset < 2; rowset++) { /* with and without the tiny-v elements */
            int dim = rowset ? 16 : D;
            float a1[D], am[D], av[D], a2[D], bm[D], bv[D];
            memcpy(a1, p1, sizeof a1), memcpy(am, m1, sizeof am), memcpy(av, v1, sizeof av);
            memcpy(a2, p2, sizeof a2), memcpy(bm, m2, sizeof bm), memcpy(bv, v2, sizeof bv);
            ncf_adam_catchup_(a1, am, av, (size_t)dim, ncf_adam_window_step_(&win, from + 1), through - from);
            int32_t row = 0;
            ncf_adam_plan plan;
            ncf_adam_plan_rows_(&win, &from, 1, through, &plan);
            ncf_adam_catchup_rows_(a2, bm, bv, (size_t)dim, dim, &row, &plan, 1, &win);
            double moved = 0.0;
            for (int e = 0; e < dim; e++) {
                /* compare the movements: relative 1e-4, plus the float rounding
                 * of p that the step-by-step replay accumulates (k roundings) */
                double d1 = (double)a1[e] - p0[e], d2 = (double)a2[e] - p0[e];
                assert_true(isfinite(d2));
                assert_true(fabs(d1 - d2) <= 1e-4 * fabs(d1) + 6e-8 * ks[q] * fabs((double)p0[e]));
                assert_true(fabs((double)am[e] - (double)bm[e]) <= 1e-5 * fabs((double)am[e]) + 1e-37); /* floor: denormals */
                assert_true(fabs((double)av[e] - (double)bv[e]) <= 1e-5 * fabs((double)av[e]) + 1e-37);
                moved += fabs(d1);
            }
            assert_true(moved > 1e-4); /* the steps did move p */
        }
    }
    /* a row current through the window's first step (from == base, base >
     * 0: its last update's constants come from before the window), one step
     * and a long gap, against step-by-step replay; and a window starting at
     * step 0 with a never-updated row (m = v = 0): it must not move */
    for (int q = 0; q < 2; q++) {
        const int64_t from = 500, through = q ? 3500 : 501;
        float a1[16], am[16], av[16], a2[16], bm[16], bv[16], p0[16];
        for (int e = 0; e < 16; e++) {
            p0[e] = a1[e] = a2[e] = (float)(ncf_rng_uniform_(&r) - 0.5);
            am[e] = bm[e] = (float)((ncf_rng_uniform_(&r) - 0.5) * 1e-4);
            av[e] = bv[e] = (float)(1e-8 * (0.5 + ncf_rng_uniform_(&r)) * (e < 4 ? 1e-12 : 1.0)); /* 4 near eps^2 */
        }
        ncf_adam_catchup_(a1, am, av, 16, ncf_adam_window_step_(&win, from + 1), through - from);
        int32_t row = 0;
        ncf_adam_plan plan;
        ncf_adam_plan_rows_(&win, &from, 1, through, &plan);
        assert_true(plan.c.c0 > 0.0f && plan.c.c0 == win.inv_b2_base);
        /* one step: the row's closed form without checks; 3000: the elements near eps^2 replay */
        assert_true(q ? plan.c.xmax < 0.5f : plan.c.xmax >= 2.0f);
        ncf_adam_catchup_rows_(a2, bm, bv, 16, 16, &row, &plan, 1, &win);
        for (int e = 0; e < 16; e++) {
            double d1 = (double)a1[e] - p0[e], d2 = (double)a2[e] - p0[e];
            assert_true(fabs(d1 - d2) <= 1e-4 * fabs(d1) + 6e-8 * (double)(through - from) * fabs((double)p0[e]));
        }
    }
    {
        ncf_adam_window w0;
        assert_int_equal(ncf_adam_window_build_(&w0, 0.001f, 0.9f, 0.999f, 1e-8f, 0, 50), 0);
        assert_true(w0.inv_b2_base == 0.0f);
        float p[8] = {0.5f, -0.25f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, p0[8], mz[8] = {0}, vz[8] = {0};
        memcpy(p0, p, sizeof p);
        int32_t row = 0;
        int64_t from = 0;
        ncf_adam_plan plan;
        ncf_adam_plan_rows_(&w0, &from, 1, 50, &plan);
        ncf_adam_catchup_rows_(p, mz, vz, 8, 8, &row, &plan, 1, &w0);
        assert_memory_equal(p, p0, sizeof p);
        for (int e = 0; e < 8; e++) assert_true(mz[e] == 0.0f && vz[e] == 0.0f);
        ncf_adam_window_free_(&w0);
    }
    /* a row whose m has decayed to 0 while its v is tiny (a rarely seen item):
     * the closed form must leave p alone, not turn it into NaN (0 * inf) */
    float p[8] = {0.5f, -0.25f, 0.1f, 0.2f, 0.3f, 0.4f, 0.5f, 0.6f}, mz[8] = {0}, vz[8];
    for (int e = 0; e < 8; e++) vz[e] = e < 4 ? 1e-36f : 1e-40f;
    int32_t row = 0;
    int64_t from = 600;
    ncf_adam_plan plan;
    ncf_adam_plan_rows_(&win, &from, 1, 3000, &plan);
    ncf_adam_catchup_rows_(p, mz, vz, 8, 8, &row, &plan, 1, &win);
    assert_true(p[0] == 0.5f && p[1] == -0.25f && p[7] == 0.6f);
    ncf_adam_window_free_(&win);
}

/* Dense Adam by deferred catch-up trains like the step-by-step sweep over
 * every row (paper and seed presets, 1 and 2 threads, betas with no
 * closed form, beta1 >= beta2^2, where the catch-ups replay, and betas
 * whose steps are stationary early, so that most plans come from the
 * window's stationary table), unlike lazy Adam. */
static void test_dense_adam_catchup_matches_sweep(void **state)
{
    ncf_dataset *ds = synth_dataset(150, 200, 4000, 2);
    for (int variant = 0; variant < 4; variant++) {
        g_extra = variant == 2 ? 5 : variant == 3 ? 6 : 0;
        ncf_preset preset = variant == 1 ? NCF_PRESET_SEED : NCF_PRESET_PAPER;
        size_t n1, n2, n3;
        ncf_train_result r1, r2, r3;
        const int threads = variant == 1 ? 2 : 1; /* dense's; the sweep's the other */
        char *a = train_and_save(ds, preset, threads, NCF_ADAM_DENSE, "c1.ncf", &n1, &r1);
        char *b = train_and_save(ds, preset, 3 - threads, NCF_ADAM_DENSE_SWEEP, "c2.ncf", &n2, &r2);
        char *c = train_and_save(ds, preset, 1, NCF_ADAM_LAZY, "c3.ncf", &n3, &r3);
        fprintf(stderr, "final loss: dense %.7f, sweep %.7f, lazy %.7f\n", r1.final_loss, r2.final_loss, r3.final_loss);
        assert_true(fabs(r1.final_loss - r2.final_loss) < 2e-5 * r2.final_loss);
        assert_true(fabs(r1.final_loss - r3.final_loss) > 1e-4 * r3.final_loss);
        free(a);
        free(b);
        free(c);
    }
    g_extra = 0;
    ncf_dataset_free(ds);
}

/* The look-ahead's values round-trip, at and around the limits of their
 * bits: in the samples' spare bits (BCE: 15 bits for users, 14 for items,
 * the label kept in bit 0) and in arrays (pairwise losses). */
static void test_look_ahead_values(void **state)
{
    const unsigned gaps[] = {0, 1, 2, 100, 0x3ffe, 0x3fff, 0x4000, 0x7ffe, 0x7fff};
    uint16_t arr[3][2];
    uint8_t steps[2][2];
    ncf_train_config c;
    ncf_train_config_default(&c);
    c.batch = 1; /* a step per sample */
    for (int packed = 1; packed >= 0; packed--) {
        engine e;
        memset(&e, 0, sizeof e);
        ncf_sample s[2] = {{.user = 7, .item = 9, .label = 1}, {.user = 3, .item = 4, .label = 0}};
        e.samples = s;
        e.c = &c;
        e.ahead_steps[0] = steps[0], e.ahead_steps[1] = steps[1];
        if (!packed)
            for (int q = 0; q < 3; q++) e.ahead[q] = arr[q];
        for (int k = 0; k < 2; k++)
            for (int side = 0; side < 2; side++)
                for (int q = 0; q < (side && !packed ? 2 : 1); q++)
                    for (size_t g = 0; g < sizeof gaps / sizeof *gaps; g++) {
                        const unsigned far = ahead_far(&e, side), d = gaps[g] < far ? gaps[g] : far;
                        assert_int_equal(far, packed && side ? 0x3fff : AHEAD_FAR);
                        const unsigned other = side ? 0 : 1; /* the other side's value must not move */
                        ahead_set(&e, other, 0, k, 5);
                        ahead_set(&e, side, q, k, d);
                        assert_int_equal(ahead_value(&e, side, q, k), gaps[g] >= far ? AHEAD_FAR : gaps[g]);
                        assert_false(ahead_read(&e, side, q, k));
                        memset(steps, 0, sizeof steps);
                        ahead_mark_read(&e, side, q, k);
                        assert_true(ahead_read(&e, side, q, k));
                        assert_true(steps[side][k] && !steps[side][1 - k] && !steps[1 - side][k]); /* its step's mark */
                        assert_int_equal(ahead_value(&e, side, q, k),
                                         (gaps[g] >= far ? AHEAD_FAR : gaps[g]) | AHEAD_READ);
                        assert_int_equal(ahead_value(&e, other, 0, k), 5);
                        if (packed) assert_int_equal(s[k].label & 1, k == 0);
                        assert_int_equal(s[k].user, k ? 3 : 7);
                        assert_int_equal(s[k].item, k ? 4 : 9);
                    }
    }
}

extern unsigned ncf_rows_far_for_tests_; /* train/rows.h */

/* Dense Adam's look-ahead catches a row's idle steps up right after its
 * update, or when the row is next read where the gap is too long to say
 * (the "far" limit) and at its first read in an epoch: each idle stretch
 * in one piece either way, so the model's bytes must not depend on the
 * limit. 1 turns the look-ahead off (every row caught up when read); 2
 * and 5 mix both paths. NeuMF with BCE (the look-ahead in the samples)
 * and MF with BPR (in arrays), on 1 and 2 threads, and NeuMF with betas
 * where the catch-ups replay. */
static void test_look_ahead_same_bytes_any_limit(void **state)
{
    ncf_dataset *ds = synth_dataset(150, 200, 4000, 2);
    const char *names[] = {"neumf", "mf bpr", "neumf, replays", "neumf, stationary"};
    for (int variant = 0; variant < 4; variant++) {
        g_extra = variant == 3 ? 6 : variant == 2 ? 5 : variant ? 4 : 0;
        size_t n0;
        ncf_train_result r0;
        char *want = train_and_save(ds, NCF_PRESET_PAPER, 2, NCF_ADAM_DENSE, "f0.ncf", &n0, &r0);
        const unsigned limits[] = {1, 2, 5};
        for (size_t k = 0; k < 3; k++)
            for (int threads = 1; threads <= 2; threads++) {
                ncf_rows_far_for_tests_ = limits[k];
                size_t n;
                ncf_train_result r;
                char *got = train_and_save(ds, NCF_PRESET_PAPER, threads, NCF_ADAM_DENSE, "f1.ncf", &n, &r);
                ncf_rows_far_for_tests_ = 0;
                fprintf(stderr, "look-ahead limit %u, %s, %d thread(s): %s\n", limits[k], names[variant], threads,
                        n == n0 && memcmp(got, want, n) == 0 ? "same bytes" : "DIFFERENT");
                assert_int_equal(n, n0);
                assert_memory_equal(got, want, n);
                free(got);
            }
        free(want);
    }
    g_extra = 0;
    ncf_dataset_free(ds);
}

/* HR@10 of ranking by training popularity, with the same tie rule. */
static double popularity_hr(const ncf_dataset *ds)
{
    int64_t *count = calloc((size_t)ds->n_items, sizeof *count);
    for (int64_t k = 0; k < ds->n_train; k++) count[ds->train_items[k]]++;
    int hits = 0;
    for (int32_t c = 0; c < ds->test.n; c++) {
        int rank = 0;
        for (int64_t q = ds->test.neg_offsets[c]; q < ds->test.neg_offsets[c + 1]; q++)
            rank += count[ds->test.negs[q]] >= count[ds->test.items[c]];
        hits += rank < 10;
    }
    free(count);
    return (double)hits / ds->test.n;
}

static void test_end_to_end_beats_popularity(void **state)
{
    ncf_dataset *ds = synth_dataset(1000, 800, 50000, 7);
    double pop = popularity_hr(ds);
    int32_t layers[4] = {32, 16, 8};
    ncf_model_config mc;
    ncf_err err = {{0}};
    ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, layers, 3, &mc, &err);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&mc, 1, &m, &err), NCF_OK);
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 8;
    tc.adam_mode = NCF_ADAM_DENSE;
    ncf_train_result res;
    assert_int_equal(ncf_train(m, ds, &tc, &res, &err), NCF_OK);
    fprintf(stderr, "synthetic data: popularity HR@10 %.4f, NeuMF best HR@10 %.4f (epoch %d)\n", pop, res.best.hr,
            res.best_epoch);
    assert_true(res.best.hr > pop + 0.05);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

static void test_early_stopping_keeps_best(void **state)
{
    ncf_synth_options o;
    ncf_synth_options_default(&o);
    o.n_users = 150;
    o.n_items = 120;
    o.n_interactions = 4000;
    o.seed = 8;
    ncf_err err = {{0}};
    char path[512];
    snprintf(path, sizeof path, "%s", tu_path("es.tsv"));
    assert_int_equal(ncf_synth_write(&o, path, &err), NCF_OK);
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.validation = 1;
    ncf_dataset *ds = NULL;
    assert_int_equal(ncf_dataset_load(path, &lo, &ds, &err), NCF_OK);
    assert_true(ds->valid.n > 100);
    int32_t layers[3] = {16, 8, 4};
    ncf_model_config mc;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, layers, 3, &mc, &err), NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&mc, 3, &m, &err), NCF_OK);
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 40;
    tc.lr = 0.02f; /* overfits this small set quickly */
    tc.early_stop = 2;
    ncf_train_result r;
    assert_int_equal(ncf_train(m, ds, &tc, &r, &err), NCF_OK);
    fprintf(stderr, "early stopping: selected epoch %d of %d run (valid HR %.4f, test HR %.4f), stopped early %d\n",
            r.selected_epoch, r.epochs_run, r.selected_valid.hr, r.selected.hr, r.stopped_early);
    assert_true(r.selected_epoch >= 1);
    assert_true(r.stopped_early);
    assert_int_equal(r.epochs_run, r.selected_epoch + 2);
    /* the model is the selected epoch's: its metrics are the ones reported for it */
    ncf_metrics mv, mt;
    ncf_eval_config ec;
    ncf_eval_config_default(&ec);
    assert_int_equal(ncf_evaluate_cases(m, ds, &ds->valid, &ec, 1, &mv, &err), NCF_OK);
    assert_int_equal(ncf_evaluate_cases(m, ds, &ds->test, &ec, 1, &mt, &err), NCF_OK);
    assert_true(mv.hr == r.selected_valid.hr && mv.ndcg == r.selected_valid.ndcg);
    assert_true(mt.hr == r.selected.hr && mt.ndcg == r.selected.ndcg);
    /* without validation cases early stopping is refused */
    ncf_dataset *plain = NULL;
    lo.validation = 0;
    assert_int_equal(ncf_dataset_load(path, &lo, &plain, &err), NCF_OK);
    assert_int_equal(ncf_train(m, plain, &tc, &r, &err), NCF_ERR_ARG);
    assert_non_null(strstr(err.msg, "validation"));
    ncf_dataset_free(plain);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adam_and_sgd_steps),
        cmocka_unit_test(test_other_optimizers),
        cmocka_unit_test(test_sampler),
        cmocka_unit_test(test_sampler_shuffle),
        cmocka_unit_test(test_deterministic_across_threads),
        cmocka_unit_test(test_rows_auto),
        cmocka_unit_test(test_catchup_closed_form),
        cmocka_unit_test(test_catchup_stationary),
        cmocka_unit_test(test_rows_ahead_same_bits),
        cmocka_unit_test(test_dense_adam_catchup_matches_sweep),
        cmocka_unit_test(test_look_ahead_values),
        cmocka_unit_test(test_look_ahead_same_bytes_any_limit),
        cmocka_unit_test(test_end_to_end_beats_popularity),
        cmocka_unit_test(test_early_stopping_keeps_best),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
