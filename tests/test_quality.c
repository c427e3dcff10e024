/* test_quality.c — the quality gate on real data, with the library's
 * defaults (factors 8, layers 64,32,16,8, batch 256, Adam 0.001, 4
 * negatives, seed 1, dense rows):
 *   - the NCF authors' split of MovieLens-1M (users 0..2998,
 *     ../shared/data/ncf-ml-1m-half), 20 epochs: the HR@10 / NDCG@10 floors
 *     the project promises for NeuMF, GMF and MLP, and NeuMF with lazy rows;
 *   - a sparse set, Gowalla's train.txt (29,858 users, 40,981 items, density
 *     0.07 %) split leave-one-out with 99 drawn negatives, 8 epochs: NeuMF's
 *     floor there sits above what lazy rows reach (0.827 HR@10 against
 *     dense's 0.866), so that no default can pass on dense MovieLens alone;
 *   - NeuMF in sharded order (--shards 24, docs/distributed.md) on the same
 *     MovieLens split against the same floors: the order of several
 *     processes (its bytes do not depend on their number) must train as
 *     well as the one-process order (docs/results.md, "Sharded training").
 * Skipped, saying so, when the data is absent or NCF_QUICK is set
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

/* Trains `type` on the data at path (NULL: skip, naming what is absent) for
 * `epochs` with the defaults, rows `rows` and `shards` (0: unsharded), and
 * checks the best test HR@10 / NDCG@10 against the floors. */
static void run_on(const char *path, const char *name, int epochs, ncf_model_type type, ncf_adam_mode rows,
                   int shards, double min_hr, double min_ndcg)
{
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set\n");
        skip();
    }
    if (!path) {
        fprintf(stderr, "skipped: ../shared/data/%s is absent\n", name);
        skip();
    }
    ncf_dataset *ds = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_dataset_load(path, NULL, &ds, &err), NCF_OK);
    int32_t layers[4] = {64, 32, 16, 8};
    ncf_model_config mc;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, type, 8, layers, 4, &mc, &err), NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    ncf_train_config tc;
    ncf_train_config_default(&tc); /* batch 256, lr 0.001, 4 negatives, Adam, dense rows, seed 1 */
    tc.adam_mode = rows;
    tc.epochs = epochs;
    tc.shards = shards;
    assert_int_equal(ncf_model_create(&mc, tc.seed, &m, &err), NCF_OK);
    ncf_train_result r;
    assert_int_equal(ncf_train(m, ds, &tc, &r, &err), NCF_OK);
    char order[32] = "";
    if (shards) snprintf(order, sizeof order, ", %d shards", shards);
    fprintf(stderr, "%s (%s rows%s) on %s: best HR@10 %.4f NDCG@10 %.4f (epoch %d), final %.4f / %.4f\n",
            ncf_model_type_name(type), ncf_train_rows_mode(&tc, type) == NCF_ADAM_LAZY ? "lazy" : "dense", order, name,
            r.best.hr, r.best.ndcg, r.best_epoch, r.final.hr, r.final.ndcg);
    assert_true(r.best.hr >= min_hr);
    assert_true(r.best.ndcg >= min_ndcg);
    ncf_model_free(m);
    ncf_dataset_free(ds);
}

static void run(ncf_model_type type, ncf_adam_mode rows, double min_hr, double min_ndcg)
{
    run_on(prefix(), "ncf-ml-1m-half", 20, type, rows, 0, min_hr, min_ndcg);
}

static void test_neumf(void **state) { run(NCF_MODEL_NEUMF, NCF_ADAM_DENSE, 0.680, 0.405); }
static void test_neumf_lazy(void **state) { run(NCF_MODEL_NEUMF, NCF_ADAM_LAZY, 0.680, 0.400); }
static void test_gmf(void **state) { run(NCF_MODEL_GMF, NCF_ADAM_DENSE, 0.650, 0.370); }
static void test_mlp(void **state) { run(NCF_MODEL_MLP, NCF_ADAM_DENSE, 0.665, 0.390); }
static void test_neumf_sharded(void **state)
{
    run_on(prefix(), "ncf-ml-1m-half", 20, NCF_MODEL_NEUMF, NCF_ADAM_DENSE, 24, 0.680, 0.405);
}

/* The library's default rows on sparse data (what the default is for). */
static void test_neumf_sparse(void **state)
{
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    run_on(tu_shared("gowalla/train.txt"), "gowalla/train.txt", 8, NCF_MODEL_NEUMF, tc.adam_mode, 0, 0.855, 0.600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_neumf),
        cmocka_unit_test(test_neumf_lazy),
        cmocka_unit_test(test_neumf_sparse),
        cmocka_unit_test(test_gmf),
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_neumf_sharded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
