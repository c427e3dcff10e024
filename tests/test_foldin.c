/* test_foldin.c — fold-in (ncf/model.h, src/model/foldin.c): the gradient
 * of the user-rows objective against central differences and, for MF, the
 * Gauss-Newton matrix against differences of the gradient (it is the exact
 * Hessian there); Newton's convergence on MF; the top K against a
 * brute-force ranking of the folded user; unknown and repeated history
 * items; the same request giving the same bytes (and another seed other
 * negatives); concurrent calls equal to sequential ones; ncf_foldin_user
 * writing rows that score as the folded user; bad arguments; and
 * `ncf eval --fold-in` on synthetic data split by user, `ncf recommend
 * --history / --history-file` and POST /v1/recommend {"history": ...}
 * (curl) with their errors (the tool from $NCF_BIN, else ./ncf). */
#define _XOPEN_SOURCE 700 /* realpath */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/foldin.h"
#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

enum { N_USERS = 30, N_ITEMS = 57 };

/* A model of the given kind with weights large enough to matter: embeddings
 * N(0, 0.5), the layers as initialised, MF biases and output bias random. */
static ncf_model *make_model(const char *kind)
{
    ncf_model_config c;
    ncf_err err = {{0}};
    int32_t layers[3] = {16, 8, 4};
    if (strcmp(kind, "neumf") == 0)
        assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 5, layers, 3, &c, &err), NCF_OK);
    else if (strcmp(kind, "mlp") == 0)
        assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_MLP, 0, layers, 3, &c, &err), NCF_OK);
    else if (strcmp(kind, "gmf") == 0)
        assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_GMF, 6, layers, 0, &c, &err), NCF_OK);
    else if (strcmp(kind, "gmf-sigmoid") == 0) /* the seed preset: sigmoid GMF */
        assert_int_equal(ncf_model_config_preset(NCF_PRESET_SEED, NCF_MODEL_GMF, 6, layers, 0, &c, &err), NCF_OK);
    else
        assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_MF, 7, layers, 0, &c, &err), NCF_OK);
    c.n_users = N_USERS;
    c.n_items = N_ITEMS;
    c.init_std = 0.5f;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, 7, &m, &err), NCF_OK);
    ncf_rng r;
    ncf_rng_seed_(&r, 3, 0, 0);
    if (m->B)
        for (int t = NCF_TABLE_USER_BIAS; t <= NCF_TABLE_ITEM_BIAS; t++)
            for (int32_t q = 0; q < m->tab[t].rows; q++)
                m->tab[t].w[(size_t)q * (size_t)m->tab[t].stride] = (float)ncf_rng_normal_(&r) * 0.3f;
    m->dense[m->bo_off] = 0.2f;
    return m;
}

static const char *const KINDS[] = {"mf", "gmf", "gmf-sigmoid", "mlp", "neumf"};
static const int32_t HISTORY[] = {3, 9, 14, 22, 30, 41, 50};

/* Central differences of the objective against its gradient, at theta =
 * the prior mean plus noise, for every model kind. */
static void test_gradient_matches_finite_differences(void **state)
{
    for (size_t kd = 0; kd < sizeof KINDS / sizeof *KINDS; kd++) {
        ncf_model *m = make_model(KINDS[kd]);
        ncf_scorer *s = NULL;
        ncf_foldin *f = NULL;
        ncf_foldin_work *w = NULL;
        ncf_err err = {{0}};
        ncf_foldin_config cfg;
        ncf_foldin_config_default(&cfg);
        cfg.negatives = 3;
        assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
        assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
        assert_int_equal(ncf_foldin_work_create_(f, HISTORY, 7, &w, NULL, &err), NCF_OK);
        const int d = ncf_foldin_dim_(f);
        assert_int_equal(d, m->F + m->E + m->B);
        assert_int_equal(ncf_foldin_rows_(w), 7 * 4);
        double *theta = malloc((size_t)d * sizeof *theta), *g = malloc((size_t)d * sizeof *g);
        double *h = malloc((size_t)d * (size_t)d * sizeof *h), *t = malloc((size_t)d * sizeof *t);
        ncf_rng r;
        ncf_rng_seed_(&r, 11, kd, 0);
        memcpy(theta, ncf_foldin_theta_(w), (size_t)d * sizeof *theta);
        for (int a = 0; a < d; a++) theta[a] += 0.5 * ncf_rng_normal_(&r);
        ncf_foldin_set_theta_(w, theta);
        ncf_foldin_objective_(w, g, h);
        double worst = 0.0, gmax = 0.0;
        for (int a = 0; a < d; a++) {
            const double eps = 1e-3;
            memcpy(t, theta, (size_t)d * sizeof *t);
            t[a] = theta[a] + eps;
            ncf_foldin_set_theta_(w, t);
            const double lp = ncf_foldin_objective_(w, NULL, NULL);
            t[a] = theta[a] - eps;
            ncf_foldin_set_theta_(w, t);
            const double lm = ncf_foldin_objective_(w, NULL, NULL);
            const double fd = (lp - lm) / (2 * eps);
            const double e = fabs(fd - g[a]);
            if (e > worst) worst = e;
            if (fabs(g[a]) > gmax) gmax = fabs(g[a]);
        }
        fprintf(stderr, "%-12s d %2d: gradient max |g| %.4f, max |fd - g| %.2e\n", KINDS[kd], d, gmax, worst);
        /* theta goes through float rows: differences carry ~1e-7 relative noise / eps */
        assert_true(gmax > 0.1);
        assert_true(worst < 2e-3 * (1.0 + gmax));
        if (m->B) { /* MF: scores are linear in theta, so Gauss-Newton is the Hessian */
            double hworst = 0.0, hmax = 0.0;
            double *gp = malloc((size_t)d * sizeof *gp), *gm = malloc((size_t)d * sizeof *gm);
            for (int a = 0; a < d; a++) {
                const double eps = 1e-3;
                memcpy(t, theta, (size_t)d * sizeof *t);
                t[a] = theta[a] + eps;
                ncf_foldin_set_theta_(w, t);
                ncf_foldin_objective_(w, gp, NULL);
                t[a] = theta[a] - eps;
                ncf_foldin_set_theta_(w, t);
                ncf_foldin_objective_(w, gm, NULL);
                for (int b = 0; b < d; b++) {
                    const double fd = (gp[b] - gm[b]) / (2 * eps);
                    const double e = fabs(fd - h[(size_t)b * d + a]);
                    if (e > hworst) hworst = e;
                    if (fabs(h[(size_t)b * d + a]) > hmax) hmax = fabs(h[(size_t)b * d + a]);
                }
            }
            fprintf(stderr, "%-12s Hessian max |H| %.4f, max |fd - H| %.2e\n", KINDS[kd], hmax, hworst);
            assert_true(hworst < 2e-3 * (1.0 + hmax));
            free(gp);
            free(gm);
        }
        free(theta);
        free(g);
        free(h);
        free(t);
        ncf_foldin_work_free_(w);
        ncf_foldin_free(f);
        ncf_scorer_free(s);
        ncf_model_free(m);
    }
}

/* MF's problem is convex: Newton reaches a point where the gradient
 * vanishes (to float rounding of the rows) in a few steps. */
static void test_newton_converges_on_mf(void **state)
{
    ncf_model *m = make_model("mf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_foldin_work *w = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    cfg.iters = 30;
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    assert_int_equal(ncf_foldin_work_create_(f, HISTORY, 7, &w, NULL, &err), NCF_OK);
    const int d = ncf_foldin_dim_(f);
    double *g = malloc((size_t)d * sizeof *g);
    const double l0 = ncf_foldin_objective_(w, g, NULL);
    double g0 = 0.0;
    for (int a = 0; a < d; a++) g0 = fmax(g0, fabs(g[a]));
    int iters = -1;
    assert_int_equal(ncf_foldin_solve_(w, &iters), NCF_OK);
    const double l1 = ncf_foldin_objective_(w, g, NULL);
    double g1 = 0.0;
    for (int a = 0; a < d; a++) g1 = fmax(g1, fabs(g[a]));
    fprintf(stderr, "mf: loss %.6f -> %.6f, max |grad| %.2e -> %.2e in %d steps\n", l0, l1, g0, g1, iters);
    assert_true(l1 < l0);
    assert_true(iters >= 1 && iters <= 12);
    assert_true(g1 < 1e-3 * g0);
    free(g);
    ncf_foldin_work_free_(w);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

/* The top K of every kind against scoring every item of the folded user
 * (the view) and sorting: unknown and repeated history entries ignored and
 * counted, no history item recommended. */
static void test_recommend_is_brute_force_top_k(void **state)
{
    const int32_t hist[] = {41, 3, -1, 9, 14, N_ITEMS, 22, 3, 30, 50, 9, 123456};
    const int n = (int)(sizeof hist / sizeof *hist);
    for (size_t kd = 0; kd < sizeof KINDS / sizeof *KINDS; kd++) {
        ncf_model *m = make_model(KINDS[kd]);
        ncf_scorer *s = NULL;
        ncf_foldin *f = NULL;
        ncf_foldin_work *w = NULL;
        ncf_err err = {{0}};
        ncf_foldin_config cfg;
        ncf_foldin_config_default(&cfg);
        assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
        assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
        int32_t items[N_ITEMS];
        float scores[N_ITEMS];
        int got = -1, unknown = -1;
        assert_int_equal(ncf_foldin_recommend(f, hist, n, 10, items, scores, &got, &unknown, &err), NCF_OK);
        assert_int_equal(got, 10);
        assert_int_equal(unknown, 3);
        /* brute force on the same request's rows */
        assert_int_equal(ncf_foldin_work_create_(f, hist, n, &w, NULL, &err), NCF_OK);
        assert_int_equal(ncf_foldin_solve_(w, NULL), NCF_OK);
        const ncf_model *v = ncf_foldin_view_(w);
        float all[N_ITEMS];
        int32_t order[N_ITEMS];
        int n_cand = 0;
        for (int32_t i = 0; i < N_ITEMS; i++) {
            int in_hist = 0;
            for (int q = 0; q < n; q++) in_hist |= hist[q] == i;
            assert_int_equal(ncf_model_score(v, 0, &i, 1, &all[i]), NCF_OK);
            if (!in_hist) order[n_cand++] = i;
        }
        for (int a = 0; a < n_cand; a++) /* selection sort: best first, ties to the lower index */
            for (int b = a + 1; b < n_cand; b++)
                if (all[order[b]] > all[order[a]] || (all[order[b]] == all[order[a]] && order[b] < order[a])) {
                    int32_t tmp = order[a];
                    order[a] = order[b];
                    order[b] = tmp;
                }
        for (int q = 0; q < got; q++) {
            for (int h = 0; h < n; h++) assert_int_not_equal(items[q], hist[h]);
            assert_true(fabsf(scores[q] - all[items[q]]) < 1e-4f);
            /* the same item, or one whose score ties it to float rounding */
            if (items[q] != order[q]) assert_true(fabsf(all[items[q]] - all[order[q]]) < 1e-4f);
        }
        ncf_foldin_work_free_(w);
        ncf_foldin_free(f);
        ncf_scorer_free(s);
        ncf_model_free(m);
    }
}

/* Business rules on a folded user: include_seen ranks every item (the
 * history's too) and the default is that order without the history; an
 * exclude list (unsorted) drops exactly its items; an allow-list keeps only
 * its items, a history item among them only with include_seen; an index
 * out of range is NCF_ERR_ARG. */
static void test_rules_on_fold_in(void **state)
{
    const int32_t hist[] = {41, 3, 9, 14, 22, 30, 50};
    const int n = (int)(sizeof hist / sizeof *hist);
    ncf_model *m = make_model("neumf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    int32_t every[N_ITEMS], dflt[N_ITEMS], items[N_ITEMS];
    float sc[N_ITEMS];
    int n_every = 0, n_dflt = 0, got = 0;
    const ncf_rules with_seen = {NULL, 0, NULL, 0, 1};
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, &with_seen, N_ITEMS, every, sc, &n_every, NULL, &err), NCF_OK);
    assert_int_equal(n_every, N_ITEMS);
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, NULL, N_ITEMS, dflt, sc, &n_dflt, NULL, &err), NCF_OK);
    assert_int_equal(n_dflt, N_ITEMS - n);
    int w = 0;
    for (int q = 0; q < n_every; q++) {
        int in_hist = 0;
        for (int h = 0; h < n; h++) in_hist |= every[q] == hist[h];
        if (!in_hist) assert_int_equal(every[q], dflt[w++]);
    }
    assert_int_equal(w, n_dflt);
    /* exclude: the default's first three, given out of order */
    const int32_t excl[3] = {dflt[2], dflt[0], dflt[1]};
    const ncf_rules no3 = {NULL, 0, excl, 3, 0};
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, &no3, 10, items, sc, &got, NULL, &err), NCF_OK);
    assert_int_equal(got, 10);
    for (int q = 0; q < got; q++) assert_int_equal(items[q], dflt[q + 3]);
    /* only: five ranked items and a history item */
    int32_t only[6] = {hist[0], dflt[7], dflt[3], dflt[20], dflt[11], dflt[5]};
    ncf_rules r = {only, 6, NULL, 0, 0};
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, &r, 10, items, sc, &got, NULL, &err), NCF_OK);
    assert_int_equal(got, 5);
    const int32_t want[5] = {dflt[3], dflt[5], dflt[7], dflt[11], dflt[20]};
    for (int q = 0; q < got; q++) assert_int_equal(items[q], want[q]);
    r.include_seen = 1;
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, &r, 10, items, sc, &got, NULL, &err), NCF_OK);
    assert_int_equal(got, 6);
    w = 0;
    for (int q = 0; q < n_every; q++)
        for (int o = 0; o < 6; o++)
            if (every[q] == only[o]) assert_int_equal(items[w++], every[q]);
    assert_int_equal(w, 6);
    const int32_t bad[1] = {N_ITEMS};
    const ncf_rules out_of_range = {NULL, 0, bad, 1, 0};
    assert_int_equal(ncf_foldin_recommend_ex(f, hist, n, &out_of_range, 10, items, sc, &got, NULL, &err), NCF_ERR_ARG);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

/* The same request (in any order, with repeats) gives the same bytes;
 * another seed draws other negatives and so other rows. */
static void test_same_request_same_answer(void **state)
{
    ncf_model *m = make_model("neumf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL, *f2 = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    cfg.seed = 2;
    assert_int_equal(ncf_foldin_create(s, &cfg, &f2, &err), NCF_OK);
    const int32_t a[] = {3, 9, 14, 22, 30, 41, 50}, b[] = {50, 41, 3, 30, 22, 9, 14, 3, 50};
    int32_t ia[20], ib[20], ic[20];
    float sa[20], sb[20], sc[20];
    int na, nb, nc;
    assert_int_equal(ncf_foldin_recommend(f, a, 7, 20, ia, sa, &na, NULL, &err), NCF_OK);
    assert_int_equal(ncf_foldin_recommend(f, b, 9, 20, ib, sb, &nb, NULL, &err), NCF_OK);
    assert_int_equal(ncf_foldin_recommend(f2, a, 7, 20, ic, sc, &nc, NULL, &err), NCF_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(ia, ib, sizeof(int32_t) * (size_t)na);
    assert_memory_equal(sa, sb, sizeof(float) * (size_t)na);
    assert_int_equal(nc, na);
    assert_true(memcmp(sc, sa, sizeof(float) * (size_t)na) != 0);
    ncf_foldin_free(f);
    ncf_foldin_free(f2);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

/* Many requests at once on threads give what they give one at a time. */
static void test_concurrent_calls_equal_sequential(void **state)
{
    ncf_model *m = make_model("neumf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    enum { R = 24, K = 5 };
    int32_t seq[R][K], par[R][K];
    float sseq[R][K], spar[R][K];
    int nseq[R], npar[R];
    int32_t hist[R][4];
    for (int q = 0; q < R; q++)
        for (int t = 0; t < 4; t++) hist[q][t] = (q * 7 + t * 13) % N_ITEMS;
    for (int q = 0; q < R; q++)
        assert_int_equal(ncf_foldin_recommend(f, hist[q], 4, K, seq[q], sseq[q], &nseq[q], NULL, &err), NCF_OK);
    int bad = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(4)
    for (int q = 0; q < R; q++)
        if (ncf_foldin_recommend(f, hist[q], 4, K, par[q], spar[q], &npar[q], NULL, NULL) != NCF_OK) {
#pragma omp atomic write
            bad = 1;
        }
    assert_int_equal(bad, 0);
    assert_memory_equal(nseq, npar, sizeof nseq);
    assert_memory_equal(seq, par, sizeof seq);
    assert_memory_equal(sseq, spar, sizeof sseq);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

/* ncf_foldin_user writes rows that score as the folded user does. */
static void test_foldin_user_writes_rows(void **state)
{
    for (size_t kd = 0; kd < sizeof KINDS / sizeof *KINDS; kd++) {
        ncf_model *m = make_model(KINDS[kd]), *dst = make_model(KINDS[kd]);
        ncf_scorer *s = NULL;
        ncf_foldin *f = NULL;
        ncf_err err = {{0}};
        ncf_foldin_config cfg;
        ncf_foldin_config_default(&cfg);
        assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
        assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
        int32_t items[5];
        float scores[5], direct[5];
        int got = 0, unknown = -1;
        assert_int_equal(ncf_foldin_recommend(f, HISTORY, 7, 5, items, scores, &got, NULL, &err), NCF_OK);
        assert_int_equal(ncf_foldin_user(f, HISTORY, 7, m, 12, &unknown, &err), NCF_OK); /* refresh user 12 */
        assert_int_equal(unknown, 0);
        assert_int_equal(ncf_model_score(m, 12, items, got, direct), NCF_OK);
        for (int q = 0; q < got; q++) assert_true(fabsf(direct[q] - scores[q]) < 1e-4f);
        /* bad destinations */
        assert_int_equal(ncf_foldin_user(f, HISTORY, 7, m, N_USERS, NULL, &err), NCF_ERR_ARG);
        assert_int_equal(ncf_foldin_user(f, HISTORY, 7, NULL, 0, NULL, &err), NCF_ERR_ARG);
        ncf_model *other = make_model(strcmp(KINDS[kd], "mf") == 0 ? "gmf" : "mf");
        assert_int_equal(ncf_foldin_user(f, HISTORY, 7, other, 0, NULL, &err), NCF_ERR_ARG);
        assert_non_null(strstr(err.msg, "differ"));
        ncf_model_free(other);
        ncf_foldin_free(f);
        ncf_scorer_free(s);
        ncf_model_free(m);
        ncf_model_free(dst);
    }
}

static void test_bad_requests(void **state)
{
    ncf_model *m = make_model("mf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    /* bad configurations */
    ncf_foldin_config bad = cfg;
    bad.iters = 0;
    assert_int_equal(ncf_foldin_create(s, &bad, &f, &err), NCF_ERR_ARG);
    assert_non_null(strstr(err.msg, "iters"));
    bad = cfg;
    bad.neg_weight = NAN;
    assert_int_equal(ncf_foldin_create(s, &bad, &f, &err), NCF_ERR_ARG);
    bad = cfg;
    bad.prior = -1.0f;
    assert_int_equal(ncf_foldin_create(s, &bad, &f, &err), NCF_ERR_ARG);
    bad = cfg;
    bad.negatives = 1001;
    assert_int_equal(ncf_foldin_create(s, &bad, &f, &err), NCF_ERR_ARG);
    assert_null(f);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    int32_t items[4];
    float scores[4];
    int got = -1, unknown = -1;
    const int32_t unknown_only[] = {-1, N_ITEMS, -7};
    assert_int_equal(ncf_foldin_recommend(f, unknown_only, 3, 4, items, scores, &got, &unknown, &err), NCF_ERR_EMPTY);
    assert_int_equal(unknown, 3);
    assert_int_equal(got, 0);
    assert_non_null(strstr(err.msg, "no history item"));
    assert_int_equal(ncf_foldin_recommend(f, NULL, 0, 4, items, scores, &got, &unknown, &err), NCF_ERR_EMPTY);
    assert_int_equal(ncf_foldin_recommend(f, HISTORY, -1, 4, items, scores, &got, &unknown, &err), NCF_ERR_ARG);
    assert_int_equal(ncf_foldin_recommend(f, HISTORY, 7, -1, items, scores, &got, &unknown, &err), NCF_ERR_ARG);
    assert_int_equal(ncf_foldin_recommend(f, HISTORY, 7, 0, items, scores, &got, &unknown, &err), NCF_OK);
    assert_int_equal(got, 0);
    /* a history of every item leaves nothing to recommend and no negatives */
    int32_t every[N_ITEMS];
    for (int i = 0; i < N_ITEMS; i++) every[i] = i;
    assert_int_equal(ncf_foldin_recommend(f, every, N_ITEMS, 4, items, scores, &got, &unknown, &err), NCF_OK);
    assert_int_equal(got, 0);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

/* negatives = 0: every item outside the history is a row, weighted. */
static void test_every_item_mode(void **state)
{
    ncf_model *m = make_model("gmf");
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_foldin_work *w = NULL;
    ncf_err err = {{0}};
    ncf_foldin_config cfg;
    ncf_foldin_config_default(&cfg);
    cfg.negatives = 0;
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_foldin_create(s, &cfg, &f, &err), NCF_OK);
    assert_int_equal(ncf_foldin_work_create_(f, HISTORY, 7, &w, NULL, &err), NCF_OK);
    assert_int_equal(ncf_foldin_rows_(w), N_ITEMS);
    assert_int_equal(ncf_foldin_solve_(w, NULL), NCF_OK);
    ncf_foldin_work_free_(w);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
}

static double json_num(const char *text, const char *key)
{
    const char *p = text ? strstr(text, key) : NULL;
    assert_non_null(p);
    return strtod(p + strlen(key), NULL);
}

/* A model trained on users u0..u299 of synthetic data folds in the other
 * 101 from their interactions: `ncf eval --fold-in` counts them, and they
 * are served about as well as the users it was trained on (HR@10 0.35
 * against 0.34 when written; a random ranking gives 0.10), where plain
 * `ncf eval` has nothing to evaluate. */
static void test_eval_fold_in_cli(void **state)
{
    const char *bin = getenv("NCF_BIN") ? getenv("NCF_BIN") : "./ncf";
    char *out = NULL;
    char dir[600];
    snprintf(dir, sizeof dir, "%s", tu_path(""));
    assert_int_equal(tu_run(NULL, "%s synth --out %s/all.tsv --users 400 --items 300 --interactions 20000 --seed 3",
                            bin, dir), 0);
    assert_int_equal(tu_run(NULL, "cd %s && awk -F'\\t' '{ print > (substr($1, 2) + 0 < 300 ? \"old.tsv\" : "
                                  "\"new.tsv\") }' all.tsv", dir), 0);
    assert_int_equal(tu_run(&out, "%s train --data %s/old.tsv --model mf --factors 16 --epochs 8 --quiet --out %s/m.ncf",
                            bin, dir, dir), 0);
    free(out);
    assert_int_equal(tu_run(&out, "%s eval --model %s/m.ncf --data %s/new.tsv --json", bin, dir, dir), 1);
    assert_non_null(strstr(out, "no held-out cases"));
    free(out);
    assert_int_equal(tu_run(&out, "%s eval --model %s/m.ncf --data %s/old.tsv --json 2>/dev/null", bin, dir, dir), 0);
    const double hr_known = json_num(out, "\"hr\": ");
    free(out);
    assert_int_equal(tu_run(&out, "%s eval --model %s/m.ncf --data %s/new.tsv --json --fold-in 2>/dev/null", bin, dir, dir),
                     0);
    const double hr_new = json_num(out, "\"hr\": ");
    assert_int_equal((int)json_num(out, "\"folded_in\": "), 101);
    assert_int_equal((int)json_num(out, "\"cases\": "), 101);
    free(out);
    fprintf(stderr, "synthetic: HR@10 %.4f for the trained users, %.4f for the folded-in ones\n", hr_known, hr_new);
    assert_true(hr_new > 0.25);
    assert_true(hr_new > 0.8 * hr_known);
    assert_int_equal(tu_run(&out, "%s eval --model %s/m.ncf --data %s/new.tsv --fold-in --eval full 2>/dev/null", bin,
                            dir, dir), 0);
    assert_non_null(strstr(out, "101 users folded in"));
    free(out);
}

/* The model of test_eval_fold_in_cli (users u0..u299 of synthetic data). */
static const char *tool_model(const char **bin)
{
    static char path[700], abs_bin[4096];
    /* absolute: the server test runs from the scratch directory */
    const char *b = getenv("NCF_BIN") ? getenv("NCF_BIN") : "./ncf";
    assert_non_null(realpath(b, abs_bin));
    *bin = abs_bin;
    snprintf(path, sizeof path, "%s", tu_path("m.ncf"));
    if (!tu_exists(path)) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s", tu_path(""));
        assert_int_equal(tu_run(NULL, "%s synth --out %s/all.tsv --users 400 --items 300 --interactions 20000 --seed 3",
                                *bin, dir), 0);
        assert_int_equal(tu_run(NULL, "cd %s && awk -F'\\t' '{ if (substr($1, 2) + 0 < 300) print > \"old.tsv\" }' all.tsv",
                                dir), 0);
        assert_int_equal(tu_run(NULL, "%s train --data %s/old.tsv --model mf --factors 16 --epochs 8 --quiet --out %s",
                                *bin, dir, path), 0);
    }
    return path;
}

static void test_recommend_history_cli(void **state)
{
    const char *bin, *model = tool_model(&bin);
    char *out = NULL;
    /* one user: TSV, and JSON counting the unknown item */
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4", bin, model), 0);
    int lines = 0;
    for (const char *p = out; (p = strchr(p, '\n')); p++) lines++;
    assert_int_equal(lines, 4);
    assert_null(strstr(out, "\ti1\t"));
    free(out);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,no-such --json -k 3", bin, model), 0);
    json_error_t je;
    json_t *j = json_loads(out, 0, &je);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown")), 1);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    free(out);
    /* rules: the first answer's best item excluded, or only the third allowed */
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4 --json", bin, model), 0);
    j = json_loads(out, 0, &je);
    free(out);
    assert_non_null(j);
    char best[64], third[64];
    snprintf(best, sizeof best, "%s", json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 0), "item")));
    snprintf(third, sizeof third, "%s", json_string_value(json_object_get(json_array_get(json_object_get(j, "items"), 2), "item")));
    json_decref(j);
    char lst[80];
    snprintf(lst, sizeof lst, "%s\n", best);
    const char *ex = tu_write("ex.txt", lst);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4 --exclude %s", bin, model, ex), 0);
    assert_null(strstr(out, best));
    free(out);
    snprintf(lst, sizeof lst, "%s\ni1\nnot-an-item\n", third);
    const char *on = tu_write("only.txt", lst);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4 --only %s", bin, model, on), 0);
    assert_non_null(strstr(out, third));
    assert_null(strstr(out, "\ti1\t"));
    free(out);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4 --only %s --include-seen", bin, model, on), 0);
    assert_non_null(strstr(out, "\ti1\t"));
    free(out);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,i3 -k 4 --only %s --exclude %s --json 2>/dev/null",
                            bin, model, on, ex), 0);
    assert_non_null(strstr(out, "\"unknown_only\": 1, \"unknown_exclude\": 0"));
    free(out);
    /* errors: no known item (1), an empty list or id (2), two kinds of user (2) */
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history x,y", bin, model), 1);
    assert_non_null(strstr(out, "no history item is known"));
    free(out);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,,i2", bin, model), 2);
    assert_non_null(strstr(out, "comma-separated"));
    free(out);
    assert_int_equal(tu_run(NULL, "%s recommend --model %s --history ''", bin, model), 2);
    assert_int_equal(tu_run(NULL, "%s recommend --model %s --history i1 --user u1", bin, model), 2);
    assert_int_equal(tu_run(NULL, "%s recommend --model %s --history-file x.tsv", bin, model), 2); /* no --out */
    /* many users: a skipped one counted, then a malformed line refused with no output */
    const char *in = tu_write("hist.tsv", "alice\ti1,i2,i3\nbob\tnope\n\ncarol\ti7\n");
    char res[700];
    snprintf(res, sizeof res, "%s", tu_path("hist.out"));
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history-file %s --out %s -k 2", bin, model, in, res), 0);
    assert_non_null(strstr(out, "2 users folded in, 1 skipped"));
    free(out);
    char *text = tu_read(res, NULL);
    assert_non_null(text);
    assert_true(strncmp(text, "alice\t", 6) == 0);
    assert_non_null(strstr(text, "\t2\ncarol\t"));
    free(text);
    const char *bad = tu_write("bad.tsv", "alice\ti1\nno tab here\n");
    remove(res);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history-file %s --out %s", bin, model, bad, res), 1);
    assert_non_null(strstr(out, "bad.tsv:2:"));
    assert_false(tu_exists(res));
    free(out);
}

/* POST /v1/recommend {"history": ...}: the CLI's answer, and each error. */
static void test_serve_history(void **state)
{
    const char *bin, *model = tool_model(&bin);
    char dir[600], *out = NULL;
    snprintf(dir, sizeof dir, "%s", tu_path(""));
    const int rc = tu_run(
        &out,
        "cd %s && { %s serve --model %s --port 0 >serve.out 2>&1 & pid=$!; port=; "
        "for i in $(seq 1 200); do port=$(sed -n 's/.* port \\([0-9]*\\).*/\\1/p' serve.out); "
        "[ -n \"$port\" ] && break; sleep 0.05; done; "
        "r() { curl -s -m 30 -o /dev/null -w '%%{http_code} ' -d \"$1\" http://127.0.0.1:$port/v1/recommend; }; "
        "curl -s -m 30 -d '{\"history\": [\"i1\", \"i2\", \"zz\"], \"k\": 3}' http://127.0.0.1:$port/v1/recommend "
        ">answer.json; "
        "r '{\"history\": []}'; r '{\"history\": [\"zz\", 7]}'; r '{\"history\": \"i1\"}'; "
        "r '{\"history\": [1.5]}'; r '{\"history\": [\"\"]}'; r '{\"history\": [\"i1\"], \"k\": 0}'; "
        "r '{\"history\": [\"i1\"], \"users\": [\"u1\"]}'; r '{\"history\": [\"i1\"'; "
        "r '{\"history\": [\"i1\"], \"exclude\": \"i2\"}'; "
        "curl -s -m 30 -d '{\"history\": [\"i1\", \"i2\", \"zz\"], \"k\": 3, \"exclude\": [\"zz2\"], "
        "\"only\": [\"i1\", \"i3\", \"i4\", \"i5\"], \"include_seen\": true}' "
        "http://127.0.0.1:$port/v1/recommend >ruled.json; "
        "kill $pid; wait $pid; }",
        dir, bin, model);
    fprintf(stderr, "codes: %s\n", out ? out : "");
    assert_int_equal(rc, 0);
    assert_string_equal(out, "400 404 400 400 400 400 400 400 400 ");
    free(out);
    char path[700];
    snprintf(path, sizeof path, "%s", tu_path("answer.json"));
    json_error_t je;
    json_t *srv = json_load_file(path, 0, &je);
    assert_non_null(srv);
    assert_int_equal(json_integer_value(json_object_get(srv, "history")), 3);
    assert_int_equal(json_integer_value(json_object_get(srv, "unknown")), 1);
    assert_int_equal(tu_run(&out, "%s recommend --model %s --history i1,i2,zz --json -k 3", bin, model), 0);
    json_t *cli = json_loads(out, 0, &je);
    free(out);
    assert_non_null(cli);
    json_t *a = json_object_get(srv, "items"), *b = json_object_get(cli, "items");
    assert_int_equal(json_array_size(a), 3);
    assert_int_equal(json_array_size(b), 3);
    for (size_t q = 0; q < 3; q++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(a, q), "item")),
                            json_string_value(json_object_get(json_array_get(b, q), "item")));
    json_decref(srv);
    json_decref(cli);
    /* the rules: only i1 (a history item, let back in), i3, i4, i5; zz2 unknown */
    snprintf(path, sizeof path, "%s", tu_path("ruled.json"));
    json_t *ruled = json_load_file(path, 0, &je);
    assert_non_null(ruled);
    assert_int_equal(json_integer_value(json_object_get(ruled, "unknown_exclude")), 1);
    assert_int_equal(json_integer_value(json_object_get(ruled, "unknown_only")), 0);
    json_t *it = json_object_get(ruled, "items");
    assert_int_equal(json_array_size(it), 3);
    for (size_t q = 0; q < 3; q++) {
        const char *id = json_string_value(json_object_get(json_array_get(it, q), "item"));
        assert_true(!strcmp(id, "i1") || !strcmp(id, "i3") || !strcmp(id, "i4") || !strcmp(id, "i5"));
    }
    json_decref(ruled);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient_matches_finite_differences),
        cmocka_unit_test(test_newton_converges_on_mf),
        cmocka_unit_test(test_recommend_is_brute_force_top_k),
        cmocka_unit_test(test_rules_on_fold_in),
        cmocka_unit_test(test_same_request_same_answer),
        cmocka_unit_test(test_concurrent_calls_equal_sequential),
        cmocka_unit_test(test_foldin_user_writes_rows),
        cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_every_item_mode),
        cmocka_unit_test(test_eval_fold_in_cli),
        cmocka_unit_test(test_recommend_history_cli),
        cmocka_unit_test(test_serve_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
