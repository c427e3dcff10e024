/* test_eval.c — the sampled leave-one-out metrics on hand-computed cases:
 * the tie rule (ties count against the held-out item), dropping listed
 * negatives equal to the held-out item and repeats, HR/NDCG values, and a
 * constant model scoring HR = 0 through ncf_evaluate. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

static void test_rank_and_ties(void **state)
{
    float neg[5] = {0.1f, 0.5f, 0.9f, 0.5f, 0.2f};
    assert_int_equal(ncf_rank_of(0.5f, neg, 5), 3); /* 0.5, 0.9, 0.5: ties count against */
    assert_int_equal(ncf_rank_of(1.0f, neg, 5), 0);
    assert_int_equal(ncf_rank_of(0.0f, neg, 5), 5);
    float same[3] = {2.0f, 2.0f, 2.0f};
    assert_int_equal(ncf_rank_of(2.0f, same, 3), 3); /* a constant model never hits at K <= n */
}

static void test_clean_negatives(void **state)
{
    int32_t negs[8] = {5, 7, 3, 7, 9, 3, 3, 1};
    int n = ncf_negatives_clean(3, negs, 8); /* drop the held-out item 3 and repeats */
    assert_int_equal(n, 4);
    int32_t want[4] = {5, 7, 9, 1};
    assert_memory_equal(negs, want, sizeof want);
}

static void test_hr_ndcg_values(void **state)
{
    double hr = 0, nd = 0;
    ncf_metrics_add_rank(0, 10, &hr, &nd); /* 1 / log2(2) = 1 */
    ncf_metrics_add_rank(2, 10, &hr, &nd); /* 1 / log2(4) = 0.5 */
    ncf_metrics_add_rank(10, 10, &hr, &nd); /* rank 10 misses @10 */
    ncf_metrics_add_rank(6, 10, &hr, &nd); /* 1 / log2(8) = 1/3 */
    assert_true(fabs(hr - 3.0) < 1e-12);
    assert_true(fabs(nd - (1.0 + 0.5 + 1.0 / 3.0)) < 1e-12);
}

/* A 2-user, 6-item GMF whose scores are set by hand: score(u, i) = q_i[0]
 * (user vectors are (1, 0), output weight 1, bias 0). */
static ncf_model *hand_model(const float *item_scores)
{
    ncf_model_config c;
    memset(&c, 0, sizeof c);
    c.type = NCF_MODEL_GMF;
    c.n_users = 2;
    c.n_items = 6;
    c.factors = 2;
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_create(&c, 1, &m, &err), NCF_OK);
    for (int u = 0; u < 2; u++) {
        m->tab[NCF_TABLE_GMF_USER].w[u * m->tab[NCF_TABLE_GMF_USER].stride] = 1.0f;
        m->tab[NCF_TABLE_GMF_USER].w[u * m->tab[NCF_TABLE_GMF_USER].stride + 1] = 0.0f;
    }
    for (int i = 0; i < 6; i++) {
        m->tab[NCF_TABLE_GMF_ITEM].w[i * m->tab[NCF_TABLE_GMF_ITEM].stride] = item_scores[i];
        m->tab[NCF_TABLE_GMF_ITEM].w[i * m->tab[NCF_TABLE_GMF_ITEM].stride + 1] = 0.0f;
    }
    m->dense[m->wo_off] = 1.0f;
    m->dense[m->wo_off + 1] = 0.0f;
    m->dense[m->bo_off] = 0.0f;
    return m;
}

static ncf_dataset *hand_dataset(void)
{
    /* user 0: held-out 2, negatives 0 1 3 4 2 3 (the item itself and a repeat)
     * user 1: held-out 5, negatives 0 1 2 3 4 */
    ncf_dataset *ds = calloc(1, sizeof *ds);
    ds->n_users = 2;
    ds->n_items = 6;
    ds->train_offsets = calloc(3, sizeof(int64_t));
    ds->n_test = 2;
    ds->test_users = malloc(2 * sizeof(int32_t));
    ds->test_items = malloc(2 * sizeof(int32_t));
    ds->test_neg_offsets = malloc(3 * sizeof(int64_t));
    ds->test_negs = malloc(11 * sizeof(int32_t));
    int32_t negs[11] = {0, 1, 3, 4, 2, 3, 0, 1, 2, 3, 4};
    memcpy(ds->test_negs, negs, sizeof negs);
    ds->test_users[0] = 0, ds->test_items[0] = 2;
    ds->test_users[1] = 1, ds->test_items[1] = 5;
    ds->test_neg_offsets[0] = 0, ds->test_neg_offsets[1] = 6, ds->test_neg_offsets[2] = 11;
    return ds;
}

static void test_evaluate_hand_case(void **state)
{
    /* item scores: 0:0.1 1:0.5 2:0.5 3:0.9 4:0.2 5:0.3
     * user 0: item 2 (0.5) vs {0.1, 0.5, 0.9, 0.2}: rank 2 (tie with item 1 counts against)
     * user 1: item 5 (0.3) vs {0.1, 0.5, 0.5, 0.9, 0.2}: rank 3 */
    const float sc[6] = {0.1f, 0.5f, 0.5f, 0.9f, 0.2f, 0.3f};
    ncf_model *m = hand_model(sc);
    ncf_dataset *ds = hand_dataset();
    ncf_metrics mt;
    ncf_err err;
    assert_int_equal(ncf_evaluate(m, ds, 3, 2, &mt, &err), NCF_OK);
    assert_int_equal(mt.n_cases, 2);
    assert_true(fabs(mt.hr - 0.5) < 1e-12);            /* rank 2 < 3, rank 3 not */
    assert_true(fabs(mt.ndcg - 0.5 * 0.5) < 1e-12);    /* (1/log2(4) + 0) / 2 */
    assert_int_equal(ncf_evaluate(m, ds, 10, 1, &mt, &err), NCF_OK);
    assert_true(fabs(mt.hr - 1.0) < 1e-12);
    assert_true(fabs(mt.ndcg - (0.5 + 1.0 / log2(5.0)) / 2) < 1e-12);
    ncf_model_free(m);
    /* a constant model: every negative ties with the held-out item */
    const float flat[6] = {0.4f, 0.4f, 0.4f, 0.4f, 0.4f, 0.4f};
    m = hand_model(flat);
    assert_int_equal(ncf_evaluate(m, ds, 4, 1, &mt, &err), NCF_OK);
    assert_true(mt.hr == 0.0 && mt.ndcg == 0.0);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rank_and_ties),
        cmocka_unit_test(test_clean_negatives),
        cmocka_unit_test(test_hr_ndcg_values),
        cmocka_unit_test(test_evaluate_hand_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
