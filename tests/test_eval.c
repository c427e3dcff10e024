/* test_eval.c — the sampled leave-one-out metrics on hand-computed cases:
 * the tie rule (ties count against the held-out item), dropping listed
 * negatives equal to the held-out item and repeats, HR/NDCG values, and a
 * constant model scoring HR = 0 through ncf_evaluate_. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "eval/eval.h"
#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

static void test_rank_and_ties(void **state)
{
    float neg[5] = {0.1f, 0.5f, 0.9f, 0.5f, 0.2f};
    assert_int_equal(ncf_rank_of_(0.5f, neg, 5), 3); /* 0.5, 0.9, 0.5: ties count against */
    assert_int_equal(ncf_rank_of_(1.0f, neg, 5), 0);
    assert_int_equal(ncf_rank_of_(0.0f, neg, 5), 5);
    float same[3] = {2.0f, 2.0f, 2.0f};
    assert_int_equal(ncf_rank_of_(2.0f, same, 3), 3); /* a constant model never hits at K <= n */
}

static void test_clean_negatives(void **state)
{
    int32_t negs[8] = {5, 7, 3, 7, 9, 3, 3, 1};
    int n = ncf_negatives_clean_(3, negs, 8); /* drop the held-out item 3 and repeats */
    assert_int_equal(n, 4);
    int32_t want[4] = {5, 7, 9, 1};
    assert_memory_equal(negs, want, sizeof want);
}

static void test_hr_ndcg_values(void **state)
{
    double hr = 0, nd = 0;
    ncf_metrics_add_rank_(0, 10, &hr, &nd); /* 1 / log2(2) = 1 */
    ncf_metrics_add_rank_(2, 10, &hr, &nd); /* 1 / log2(4) = 0.5 */
    ncf_metrics_add_rank_(10, 10, &hr, &nd); /* rank 10 misses @10 */
    ncf_metrics_add_rank_(6, 10, &hr, &nd); /* 1 / log2(8) = 1/3 */
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
    ds->test.n = 2;
    ds->test.users = malloc(2 * sizeof(int32_t));
    ds->test.items = malloc(2 * sizeof(int32_t));
    ds->test.neg_offsets = malloc(3 * sizeof(int64_t));
    ds->test.negs = malloc(11 * sizeof(int32_t));
    int32_t negs[11] = {0, 1, 3, 4, 2, 3, 0, 1, 2, 3, 4};
    memcpy(ds->test.negs, negs, sizeof negs);
    ds->test.users[0] = 0, ds->test.items[0] = 2;
    ds->test.users[1] = 1, ds->test.items[1] = 5;
    ds->test.neg_offsets[0] = 0, ds->test.neg_offsets[1] = 6, ds->test.neg_offsets[2] = 11;
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
    assert_int_equal(ncf_evaluate_(m, ds, 3, 2, &mt, &err), NCF_OK);
    assert_int_equal(mt.n_cases, 2);
    assert_true(fabs(mt.hr - 0.5) < 1e-12);            /* rank 2 < 3, rank 3 not */
    assert_true(fabs(mt.ndcg - 0.5 * 0.5) < 1e-12);    /* (1/log2(4) + 0) / 2 */
    assert_int_equal(ncf_evaluate_(m, ds, 10, 1, &mt, &err), NCF_OK);
    assert_true(fabs(mt.hr - 1.0) < 1e-12);
    assert_true(fabs(mt.ndcg - (0.5 + 1.0 / log2(5.0)) / 2) < 1e-12);
    ncf_model_free(m);
    /* a constant model: every negative ties with the held-out item */
    const float flat[6] = {0.4f, 0.4f, 0.4f, 0.4f, 0.4f, 0.4f};
    m = hand_model(flat);
    assert_int_equal(ncf_evaluate_(m, ds, 4, 1, &mt, &err), NCF_OK);
    assert_true(mt.hr == 0.0 && mt.ndcg == 0.0);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

static void test_full_ranks_hand(void **state)
{
    /* candidates (item 6 is a training item): 0:.9 4:.7 2:.5 3:.5 7:.3 5:.2 1:.1 */
    const float sc[8] = {0.9f, 0.1f, 0.5f, 0.5f, 0.7f, 0.2f, 0.95f, 0.3f};
    const int32_t excl[1] = {6}, test[3] = {2, 5, 6};
    float heap[16];
    int r[3];
    ncf_full_ranks_(sc, 8, excl, 1, test, 3, 10, heap, r);
    assert_int_equal(r[0], 3); /* 0, 4 and the tied 3 score >= .5 */
    assert_int_equal(r[1], 5);
    assert_int_equal(r[2], 10); /* a training item is no candidate */
    ncf_full_ranks_(sc, 8, excl, 1, test, 2, 4, heap, r); /* .5 is the 4th score: the tie path */
    assert_int_equal(r[0], 3);
    assert_int_equal(r[1], 4);
    ncf_full_ranks_(sc, 8, excl, 1, test, 2, 3, heap, r);
    assert_int_equal(r[0], 3);
    assert_int_equal(r[1], 3);
    ncf_full_ranks_(sc, 8, NULL, 0, test + 2, 1, 3, heap, r); /* 6 (.95) first when not excluded */
    assert_int_equal(r[0], 0);

    /* metrics of one user with held-out ranks 3 and 5 */
    ncf_eval_config ec = {NCF_EVAL_FULL, 2, {4, 10}};
    double sums[NCF_MAX_TOPK][NCF_METRICS] = {{0}};
    int ranks[2] = {3, 5};
    ncf_metrics_add_ranks_(ranks, 2, &ec, sums);
    double idcg = 1.0 + 1.0 / log2(3.0);
    assert_true(sums[0][NCF_METRIC_HR] == 1.0 && sums[0][NCF_METRIC_RECALL] == 0.5);
    assert_true(sums[0][NCF_METRIC_PRECISION] == 0.25 && sums[0][NCF_METRIC_MRR] == 0.25);
    assert_true(fabs(sums[0][NCF_METRIC_NDCG] - (1.0 / log2(5.0)) / idcg) < 1e-12);
    assert_true(sums[1][NCF_METRIC_RECALL] == 1.0 && fabs(sums[1][NCF_METRIC_PRECISION] - 0.2) < 1e-12);
    assert_true(fabs(sums[1][NCF_METRIC_NDCG] - (1.0 / log2(5.0) + 1.0 / log2(7.0)) / idcg) < 1e-12);
    /* IDCG over min(|test|, K): one held-out item at rank 0 is a perfect 1 */
    double one[NCF_MAX_TOPK][NCF_METRICS] = {{0}};
    int r0 = 0;
    ncf_metrics_add_ranks_(&r0, 1, &ec, one);
    assert_true(one[0][NCF_METRIC_NDCG] == 1.0 && one[0][NCF_METRIC_MRR] == 1.0);
}

static void test_evaluate_full_hand_case(void **state)
{
    /* scores 0:.1 1:.5 2:.5 3:.9 4:.2 5:.3; user 0 trained on 3, holds out 2 and 5;
     * user 1 trained on nothing, holds out 0 */
    const float sc[6] = {0.1f, 0.5f, 0.5f, 0.9f, 0.2f, 0.3f};
    ncf_model *m = hand_model(sc);
    ncf_dataset *ds = calloc(1, sizeof *ds);
    ds->n_users = 2;
    ds->n_items = 6;
    ds->train_offsets = calloc(3, sizeof(int64_t));
    ds->train_items = malloc(sizeof(int32_t));
    ds->train_items[0] = 3;
    ds->train_offsets[1] = ds->train_offsets[2] = 1;
    ds->n_train = 1;
    ds->test.n = 3;
    ds->test.users = malloc(3 * sizeof(int32_t));
    ds->test.items = malloc(3 * sizeof(int32_t));
    ds->test.neg_offsets = calloc(4, sizeof(int64_t));
    ds->test.negs = NULL;
    /* cases out of user order: evaluation groups them */
    ds->test.users[0] = 0, ds->test.items[0] = 2;
    ds->test.users[1] = 1, ds->test.items[1] = 0;
    ds->test.users[2] = 0, ds->test.items[2] = 5;
    ncf_eval_config ec = {NCF_EVAL_FULL, 1, {3}};
    ncf_metrics mt;
    ncf_err err;
    for (int threads = 1; threads <= 2; threads++) {
        assert_int_equal(ncf_evaluate_cases(m, ds, &ds->test, &ec, threads, &mt, &err), NCF_OK);
        assert_int_equal(mt.n_cases, 2); /* users */
        /* user 0: ranks 1 (behind the tied 1) and 2; user 1: rank 5 */
        double nd0 = (1.0 / log2(3.0) + 1.0 / log2(4.0)) / (1.0 + 1.0 / log2(3.0));
        assert_true(fabs(mt.at[0][NCF_METRIC_RECALL] - 0.5) < 1e-12);
        assert_true(fabs(mt.at[0][NCF_METRIC_HR] - 0.5) < 1e-12);
        assert_true(fabs(mt.at[0][NCF_METRIC_PRECISION] - 1.0 / 3.0) < 1e-12);
        assert_true(fabs(mt.at[0][NCF_METRIC_MRR] - 0.25) < 1e-12);
        assert_true(fabs(mt.at[0][NCF_METRIC_NDCG] - nd0 / 2) < 1e-12);
    }
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
        cmocka_unit_test(test_full_ranks_hand),
        cmocka_unit_test(test_evaluate_full_hand_case),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
