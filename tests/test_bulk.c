/* test_bulk.c — the data module's bulk operations (src/data/bulk.c) and
 * the training CSR built with them (dataset.c): the parallel grouping by
 * key against a plain stable counting sort, the int32 sorts against qsort
 * (short, long, repeated, sorted, reversed, adversarial inputs), and the
 * leave-one-out dataset of a file in user order and of the same lines
 * shuffled against a CSR built by brute force, on 1, 2 and 3 threads. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "data/data_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

static void set_threads(int t)
{
#ifdef _OPENMP
    omp_set_num_threads(t);
#else
    (void)t;
#endif
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* ---- grouping by key ------------------------------------------------------------ */
static void check_grouping(int64_t n, int32_t n_keys, uint64_t seed)
{
    ncf_rng rng;
    ncf_rng_seed_(&rng, seed, 1, 2);
    int32_t *key = malloc(((size_t)n + 1) * sizeof *key), *also = malloc(((size_t)n + 1) * sizeof *also);
    int32_t *val = malloc(((size_t)n + 1) * sizeof *val);
    assert_non_null(key);
    assert_non_null(also);
    assert_non_null(val);
    for (int64_t k = 0; k < n; k++) {
        key[k] = ncf_rng_below_(&rng, 16) == 0 ? -1 : (int32_t)ncf_rng_below_(&rng, (uint32_t)n_keys);
        also[k] = ncf_rng_below_(&rng, 16) == 0 ? -1 : 0;
        val[k] = (int32_t)ncf_rng_below_(&rng, 1000000);
    }
    /* the reference: one stable pass */
    int64_t *roff = calloc((size_t)n_keys + 1, sizeof *roff), *rpos = malloc(((size_t)n + 1) * sizeof *rpos);
    assert_non_null(roff);
    assert_non_null(rpos);
    int64_t kept = 0;
    for (int64_t k = 0; k < n; k++)
        if (key[k] >= 0 && also[k] >= 0) roff[key[k] + 1]++, kept++;
    for (int32_t v = 0; v < n_keys; v++) roff[v + 1] += roff[v];
    int64_t *fill = malloc(((size_t)n_keys + 1) * sizeof *fill);
    assert_non_null(fill);
    memcpy(fill, roff, ((size_t)n_keys + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++)
        if (key[k] >= 0 && also[k] >= 0) rpos[fill[key[k]]++] = k;
    for (int t = 1; t <= 3; t++) {
        set_threads(t);
        int64_t *off = malloc(((size_t)n_keys + 1) * sizeof *off), *pos = malloc(((size_t)n + 1) * sizeof *pos);
        int32_t *out = malloc(((size_t)n + 1) * sizeof *out);
        assert_non_null(off);
        assert_non_null(pos);
        assert_non_null(out);
        assert_int_equal(ncf_group_by_key_(key, also, n, n_keys, val, out, pos, off), 0);
        assert_memory_equal(off, roff, ((size_t)n_keys + 1) * sizeof *off);
        for (int64_t j = 0; j < kept; j++) {
            assert_int_equal(pos[j], rpos[j]);
            assert_int_equal(out[j], val[rpos[j]]);
        }
        /* without the second filter, positions only */
        assert_int_equal(ncf_group_by_key_(key, NULL, n, n_keys, NULL, NULL, pos, off), 0);
        int64_t prev = -1;
        for (int32_t v = 0; v < n_keys; v++)
            for (int64_t j = off[v]; j < off[v + 1]; j++) {
                assert_int_equal(key[pos[j]], v);
                if (j > off[v]) assert_true(pos[j] > prev); /* record order within a key */
                prev = pos[j];
            }
        free(off);
        free(pos);
        free(out);
    }
    set_threads(1);
    free(key), free(also), free(val), free(roff), free(rpos), free(fill);
}

static void test_group_by_key(void **state)
{
    (void)state;
    check_grouping(0, 5, 1);
    check_grouping(1, 1, 2);
    check_grouping(1000, 7, 3);
    check_grouping(300000, 50, 4);     /* several chunks */
    check_grouping(300000, 200000, 5); /* keys nearly as many as the records: fewer chunks */
}

/* ---- sorting ---------------------------------------------------------------------- */
static void check_sorts(const int32_t *a, int64_t n, int32_t bound, uint64_t *bits)
{
    int32_t *want = malloc(((size_t)n + 1) * sizeof *want), *got = malloc(((size_t)n + 1) * sizeof *got);
    assert_non_null(want);
    assert_non_null(got);
    memcpy(want, a, (size_t)n * sizeof *a);
    qsort(want, (size_t)n, sizeof *want, cmp_i32);
    memcpy(got, a, (size_t)n * sizeof *a);
    ncf_sort_i32_(got, n);
    assert_memory_equal(got, want, (size_t)n * sizeof *got);
    memcpy(got, a, (size_t)n * sizeof *a);
    ncf_sort_ids_(got, n, bound, bits);
    assert_memory_equal(got, want, (size_t)n * sizeof *got);
    for (int32_t w = 0; bits && w <= bound / 64; w++) assert_int_equal(bits[w], 0); /* left clear */
    free(want);
    free(got);
}

static void test_sorts(void **state)
{
    (void)state;
    ncf_rng rng;
    ncf_rng_seed_(&rng, 9, 3, 4);
    const int32_t bound = 5000;
    uint64_t *bits = calloc((size_t)bound / 64 + 1, sizeof *bits);
    int32_t *a = malloc(200000 * sizeof *a);
    assert_non_null(bits);
    assert_non_null(a);
    const int64_t sizes[] = {0, 1, 2, 15, 16, 17, 24, 25, 100, 1000, 4999, 5000, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const int64_t n = sizes[s];
        for (int kind = 0; kind < 6; kind++) {
            for (int64_t k = 0; k < n; k++) {
                switch (kind) {
                case 0: a[k] = (int32_t)ncf_rng_below_(&rng, bound); break;      /* repeats likely */
                case 1: a[k] = (int32_t)(k * 7919 % bound); break;              /* distinct while n <= bound */
                case 2: a[k] = (int32_t)(k % bound); break;                      /* sorted runs */
                case 3: a[k] = (int32_t)((n - k) % bound); break;                /* reversed */
                case 4: a[k] = 42; break;                                        /* all equal */
                default: a[k] = (int32_t)(k % 2 ? k % bound : (bound - 1 - k % bound)); break; /* organ pipes */
                }
            }
            check_sorts(a, n, bound, bits);
            check_sorts(a, n, bound, NULL);
        }
    }
    free(bits);
    free(a);
}

/* ---- the training CSR of a split ---------------------------------------------------- */
/* Brute force: user u's training items are the items of u's lines other
 * than the held-out case's, sorted. */
static void check_csr(const ncf_dataset *ds, const ncf_interactions *x)
{
    assert_int_equal(ds->n_users, ncf_idmap_size(x->users));
    int32_t *items = malloc(((size_t)x->n + 1) * sizeof *items);
    assert_non_null(items);
    int64_t total = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        const char *raw = ncf_idmap_raw(ds->user_ids, u);
        const int32_t xu = ncf_idmap_find(x->users, raw, strlen(raw));
        int32_t held = -1;
        for (int32_t c = 0; c < ds->test.n; c++)
            if (ds->test.users[c] == u) held = ds->test.items[c];
        int64_t n = 0;
        for (int64_t k = 0; k < x->n; k++)
            if (x->user[k] == xu) {
                const char *ri = ncf_idmap_raw(x->items, x->item[k]);
                const int32_t i = ncf_idmap_find(ds->item_ids, ri, strlen(ri));
                if (i == held) held = -2; /* once */
                else items[n++] = i;
            }
        qsort(items, (size_t)n, sizeof *items, cmp_i32);
        assert_int_equal(ds->train_offsets[u + 1] - ds->train_offsets[u], n);
        assert_memory_equal(ds->train_items + ds->train_offsets[u], items, (size_t)n * sizeof *items);
        total += n;
    }
    assert_int_equal(ds->n_train, total);
    free(items);
}

static void test_split_csr(void **state)
{
    (void)state;
    /* 300 users, 40 items: user by user (grouped), then the same lines shuffled */
    const int U = 300, I = 40;
    size_t cap = 1 << 20, len = 0;
    char *grouped = malloc(cap), *shuffled = malloc(cap);
    char (*lines)[48] = malloc(20000 * sizeof *lines);
    assert_non_null(grouped);
    assert_non_null(shuffled);
    assert_non_null(lines);
    ncf_rng rng;
    ncf_rng_seed_(&rng, 5, 6, 7);
    int n = 0;
    for (int u = 0; u < U; u++) {
        const int m = 1 + (int)ncf_rng_below_(&rng, u % 10 == 0 ? 39 : 12);
        for (int k = 0; k < m; k++)
            snprintf(lines[n++], sizeof lines[0], "u%d\ti%u\t1\t%u\n", u, ncf_rng_below_(&rng, I),
                     ncf_rng_below_(&rng, 100));
    }
    for (int k = 0; k < n; k++) len += (size_t)snprintf(grouped + len, cap - len, "%s", lines[k]);
    for (int k = n - 1; k > 0; k--) {
        const int j = (int)ncf_rng_below_(&rng, (uint32_t)k + 1);
        char t[48];
        memcpy(t, lines[k], sizeof t);
        memcpy(lines[k], lines[j], sizeof t);
        memcpy(lines[j], t, sizeof t);
    }
    len = 0;
    for (int k = 0; k < n; k++) len += (size_t)snprintf(shuffled + len, cap - len, "%s", lines[k]);
    const char *files[2] = {tu_write("grouped.tsv", grouped), NULL};
    char *keep = strdup(files[0]);
    files[0] = keep;
    files[1] = tu_write("shuffled.tsv", shuffled);
    for (int f = 0; f < 2; f++)
        for (int t = 1; t <= 3; t++) {
            set_threads(t);
            ncf_err err = {{0}};
            ncf_interactions *x = NULL;
            ncf_dataset *ds = NULL;
            assert_int_equal(ncf_interactions_read(files[f], NULL, &x, &err), NCF_OK);
            assert_int_equal(ncf_dataset_from_interactions(x, 5, 0, 1, &ds, &err), NCF_OK);
            check_csr(ds, x);
            ncf_dataset_free(ds);
            ncf_interactions_free(x);
        }
    set_threads(1);
    free(keep);
    free(grouped);
    free(shuffled);
    free(lines);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_group_by_key),
        cmocka_unit_test(test_sorts),
        cmocka_unit_test(test_split_csr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
