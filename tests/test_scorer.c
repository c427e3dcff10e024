/* test_scorer.c — the scorer's ranking when a model gives scores that are
 * not numbers: finite weights large enough that a product overflows make a
 * NaN logit (inf - inf); such items rank after every number, among
 * themselves by index, so the top K is the best K numbers whenever there
 * are K of them, and a NaN never hides a better item. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

/* GMF, two factors, output weights (1, -1), bias 0: score(u, i) =
 * p_u0 q_i0 - p_u1 q_i1. User 0 is (1e20, 1e20); item i is (s_i 1e-20, 0)
 * for a finite score s_i, or (1e20, 1e20) for inf - inf = NaN. */
static ncf_model *nan_model(const float *want, int n_items)
{
    int32_t layers[1] = {0};
    ncf_model_config c;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_GMF, 2, layers, 0, &c, &err), NCF_OK);
    c.n_users = 1;
    c.n_items = n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, 1, &m, &err), NCF_OK);
    float *pu = m->tab[NCF_TABLE_GMF_USER].w;
    pu[0] = pu[1] = 1e20f;
    for (int i = 0; i < n_items; i++) {
        float *qi = m->tab[NCF_TABLE_GMF_ITEM].w + (size_t)i * (size_t)m->tab[NCF_TABLE_GMF_ITEM].stride;
        if (isnan(want[i])) qi[0] = qi[1] = 1e20f;
        else qi[0] = want[i] * 1e-20f, qi[1] = 0.0f;
    }
    float *wo = m->dense + m->wo_off;
    wo[0] = 1.0f, wo[1] = -1.0f;
    m->dense[m->bo_off] = 0.0f;
    return m;
}

static void test_nan_scores_rank_last(void **state)
{
    const float want[7] = {NAN, 1.0f, NAN, 3.0f, 2.0f, NAN, 1.0f};
    ncf_model *m = nan_model(want, 7);
    ncf_scorer *s = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_scorer_create(m, 1, &s, &err), NCF_OK);
    /* the model does make those scores */
    int32_t all[7] = {0, 1, 2, 3, 4, 5, 6};
    float got[7];
    assert_int_equal(ncf_scorer_score(s, 0, all, 7, got), NCF_OK);
    for (int i = 0; i < 7; i++) {
        if (isnan(want[i])) assert_true(isnan(got[i]));
        else assert_true(fabsf(got[i] - want[i]) < 1e-4f);
    }
    /* every k: the numbers first (best first, ties to the lower index), then
     * the NaNs by index */
    const int32_t order[7] = {3, 4, 1, 6, 0, 2, 5};
    for (int k = 1; k <= 8; k++) {
        int32_t items[8];
        float scores[8];
        int n = -1;
        assert_int_equal(ncf_scorer_recommend(s, 0, k, items, scores, &n), NCF_OK);
        assert_int_equal(n, k < 7 ? k : 7);
        for (int q = 0; q < n; q++) {
            if (items[q] != order[q]) fprintf(stderr, "k %d: rank %d is item %d, want %d\n", k, q, items[q], order[q]);
            assert_int_equal(items[q], order[q]);
        }
    }
    ncf_scorer_free(s);
    ncf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nan_scores_rank_last),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
