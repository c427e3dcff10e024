/* test_warm.c — warm starts: ncf_dataset_add_ids makes the id maps the union
 * (added users without interactions or cases), and ncf_model_init_warm
 * carries the rows of every known raw id and the layers, leaves new rows as
 * created, and refuses a model of another shape. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

static ncf_dataset *load(const char *name, const char *text)
{
    ncf_err err = {{0}};
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.n_negatives = 5;
    ncf_dataset *ds = NULL;
    assert_int_equal(ncf_dataset_load(tu_write(name, text), &lo, &ds, &err), NCF_OK);
    return ds;
}

static ncf_model *model_for(const ncf_dataset *ds, int factors, uint64_t seed)
{
    int32_t layers[3] = {16, 8, 4};
    ncf_model_config mc;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, factors, layers, 3, &mc, &err),
                     NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&mc, seed, &m, &err), NCF_OK);
    assert_int_equal(ncf_model_attach_data(m, ds, &err), NCF_OK);
    return m;
}

static const float *row(const ncf_model *m, int t, int32_t r)
{
    return m->tab[t].w + (size_t)r * (size_t)m->tab[t].stride;
}

static void test_warm_start(void **state)
{
    /* day 1: users a, b, z; items x, y, w. day 2: a, b, c (new); items x, y, v (new); z and w only day 1 */
    ncf_dataset *d1 = load("day1.tsv", "a\tx\na\ty\na\tw\nb\tx\nb\ty\nb\tw\nz\tx\nz\ty\nz\tw\n");
    ncf_dataset *d2 = load("day2.tsv", "a\tx\na\ty\na\tv\nb\tx\nb\tv\nb\ty\nc\tx\nc\tv\nc\ty\n");
    ncf_err err = {{0}};
    ncf_model *old = model_for(d1, 4, 1);
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 2;
    ncf_train_result r;
    assert_int_equal(ncf_train(old, d1, &tc, &r, &err), NCF_OK);

    int32_t au = -1, ai = -1;
    const int32_t users_before = d2->n_users, train_before = (int32_t)d2->n_train;
    assert_int_equal(ncf_dataset_add_ids(d2, ncf_model_users(old), ncf_model_items(old), &au, &ai, &err), NCF_OK);
    assert_int_equal(au, 1); /* z */
    assert_int_equal(ai, 1); /* w */
    assert_int_equal(d2->n_users, users_before + 1);
    assert_int_equal(d2->n_train, train_before);
    const int32_t z = ncf_idmap_find(d2->user_ids, "z", 1);
    assert_true(z >= 0);
    assert_int_equal(d2->train_offsets[z + 1] - d2->train_offsets[z], 0);

    ncf_model *fresh = model_for(d2, 4, 7), *m = model_for(d2, 4, 7);
    int32_t cu = 0, ci = 0;
    assert_int_equal(ncf_model_init_warm(m, old, &cu, &ci, &err), NCF_OK);
    assert_int_equal(cu, 3); /* a, b, z */
    assert_int_equal(ci, 3); /* x, y, w */
    for (int t = 0; t < NCF_TABLES; t++) {
        if (!m->tab[t].w) continue;
        const int side = ncf_table_is_item_(t);
        const ncf_idmap *ids = side ? ncf_model_items(m) : ncf_model_users(m);
        const ncf_idmap *old_ids = side ? ncf_model_items(old) : ncf_model_users(old);
        for (int32_t k = 0; k < ncf_idmap_size(ids); k++) {
            const char *raw = ncf_idmap_raw(ids, k);
            const int32_t o = ncf_idmap_find(old_ids, raw, strlen(raw));
            const float *want = o >= 0 ? row(old, t, o) : row(fresh, t, k);
            assert_memory_equal(row(m, t, k), want, (size_t)m->tab[t].dim * sizeof(float));
        }
    }
    assert_memory_equal(m->dense, old->dense, m->n_dense * sizeof(float));
    /* it trains on */
    assert_int_equal(ncf_train(m, d2, &tc, &r, &err), NCF_OK);

    ncf_model *other = model_for(d2, 8, 1);
    assert_int_equal(ncf_model_init_warm(other, old, NULL, NULL, &err), NCF_ERR_ARG);
    assert_non_null(strstr(err.msg, "factors"));
    ncf_model_free(other);
    ncf_model_free(fresh);
    ncf_model_free(m);
    ncf_model_free(old);
    ncf_dataset_free(d1);
    ncf_dataset_free(d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_warm_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
