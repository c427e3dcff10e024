/* test_quality.c — the quality gate on real data: the NCF authors' split of
 * MovieLens-1M (users 0..2998, ../shared/data/ncf-ml-1m-half) with the
 * paper's defaults (factors 8, layers 64,32,16,8, 20 epochs, batch 256,
 * Adam 0.001, 4 negatives, seed 1; rows as --rows auto picks them) must
 * reach the HR@10 / NDCG@10 floors the project promises for NeuMF, GMF and
 * MLP; NeuMF also with dense rows (the PyTorch / Keras behaviour). Skipped, saying so, when the data is absent or NCF_QUICK is set
 * (sanitizer runs). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ncf/ncf.h"
#include "testutil.h"

static const char *prefix(void)
{
    static char p[512];
    const char *d = tu_shared("ncf-ml-1m-half/ml-1m-half.train.rating");
    if (!d) return NULL;
    snprintf(p, sizeof p, "%.*s", (int)(strlen(d) - strlen(".train.rating")), d);
    return p;
}

static void run(ncf_model_type type, ncf_adam_mode rows, double min_hr, double min_ndcg)
{
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set\n");
        skip();
    }
    const char *p = prefix();
    if (!p) {
        fprintf(stderr, "skipped: ../shared/data/ncf-ml-1m-half is absent\n");
        skip();
    }
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(p, NULL, &ds, &err), NCF_OK);
    int32_t layers[4] = {64, 32, 16, 8};
    ncf_model_config mc;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, type, 8, layers, 4, &mc, &err), NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    ncf_train_config tc;
    ncf_train_config_default(&tc); /* 20 epochs, batch 256, lr 0.001, 4 negatives, Adam, seed 1 */
    tc.adam_mode = rows;
    assert_int_equal(ncf_model_create(&mc, tc.seed, &m, &err), NCF_OK);
    ncf_train_result r;
    assert_int_equal(ncf_train(m, ds, &tc, &r, &err), NCF_OK);
    fprintf(stderr, "%s (%s rows) on ncf-ml-1m-half: best HR@10 %.4f NDCG@10 %.4f (epoch %d), final %.4f / %.4f\n",
            ncf_model_type_name(type), ncf_train_rows_mode(&tc, type) == NCF_ADAM_LAZY ? "lazy" : "dense", r.best_hr, r.best_ndcg, r.best_epoch, r.final_hr, r.final_ndcg);
    assert_true(r.best_hr >= min_hr);
    assert_true(r.best_ndcg >= min_ndcg);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

static void test_neumf(void **state) { run(NCF_MODEL_NEUMF, NCF_ADAM_AUTO, 0.680, 0.405); }
static void test_neumf_dense(void **state) { run(NCF_MODEL_NEUMF, NCF_ADAM_DENSE, 0.680, 0.405); }
static void test_gmf(void **state) { run(NCF_MODEL_GMF, NCF_ADAM_AUTO, 0.650, 0.370); }
static void test_mlp(void **state) { run(NCF_MODEL_MLP, NCF_ADAM_AUTO, 0.665, 0.390); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neumf),
        cmocka_unit_test(test_neumf_dense),
        cmocka_unit_test(test_gmf),
        cmocka_unit_test(test_mlp),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
