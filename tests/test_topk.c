/* test_topk.c — the top-K engine (src/model/topk.c, src/nn/score*.c)
 * against brute force, on every kernel path the CPU has: each score bit
 * for bit equal to a plain one-pair computation of the documented
 * operations (nn/score.h), which in turn equals today's kernels (the
 * output layer ncf_model_output_, the four-row tower kernel
 * ncf_linear_forward_rows_); each user's top K equal to a full sort of
 * all candidates (ties to the lower index), through the scorer one user at
 * a time and for all users on 1, 2 and 3 threads, with allow- and
 * deny-lists and seen items included; full-ranking ranks equal to
 * ncf_full_ranks_ over brute-force scores. Models: MF, GMF, MLP and NeuMF
 * with widths that are and are not multiples of 8, the seed preset
 * (sigmoid GMF: scored pair by pair), duplicated items (exact ties), a
 * user who has seen all items, one who has seen all but three. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "eval/eval.h"
#include "model/model_impl.h"
#include "model/topk.h"
#include "ncf/ncf.h"
#include "testutil.h"

#define N_USERS 61
#define N_ITEMS 203

static int fused; /* the active path fuses multiply-adds */

static float madd(float c, float a, float b) { return fused ? fmaf(a, b, c) : c + a * b; }

/* the operations of nn/score.h for one pair, written plainly */
static float ref_score(const ncf_model *m, const float *halves, int32_t u, int32_t i)
{
    const int sigmoid = m->F > 0 && m->cfg.gmf_activation == NCF_ACT_SIGMOID;
    float act[4096];
    assert_true(m->act_size <= 4096);
    if (m->E > 0 && m->n_layers == 0) return ncf_model_forward_(m, u, i, act, NULL);
    if (m->E == 0) return ncf_model_output_(m, u, i, NULL);
    float uh[256];
    ncf_model_user_half_(m, u, uh);
    const int h = m->out[0];
    if (sigmoid) return ncf_model_forward_split_(m, u, i, uh, halves + (size_t)i * (size_t)h, act);
    float x[256], y[256];
    for (int k = 0; k < h; k++) {
        const float v = uh[k] + halves[(size_t)i * (size_t)h + (size_t)k];
        x[k] = v > 0.0f ? v : 0.0f;
    }
    for (int l = 1; l < m->n_layers; l++) {
        const float *wt = m->wt + m->w_off[l], *b = m->dense + m->b_off[l];
        const int in = m->in[l], out = m->out[l];
        for (int o = 0; o < out; o++) {
            float acc = b[o];
            for (int q = 0; q < in; q++) acc = madd(acc, x[q], wt[(size_t)q * (size_t)out + (size_t)o]);
            y[o] = o < (out & ~7) ? (acc > 0.0f ? acc : 0.0f) : (acc < 0.0f ? 0.0f : acc);
        }
        memcpy(x, y, (size_t)out * sizeof *x);
    }
    return ncf_model_output_(m, u, i, x);
}

/* Today's tower kernel, four rows at a time, gives the reference's bits:
 * items i .. i + 3 for user u through ncf_linear_forward_rows_. */
static void check_rows_kernel(const ncf_model *m, const float *halves, int32_t u, int32_t i)
{
    if (m->E == 0 || m->n_layers == 0 || (m->F > 0 && m->cfg.gmf_activation == NCF_ACT_SIGMOID)) return;
    const size_t zs = 264;
    float X[4 * 264], Y[4 * 264], uh[256];
    ncf_model_user_half_(m, u, uh);
    const int h = m->out[0];
    for (int t = 0; t < 4; t++)
        for (int k = 0; k < h; k++) {
            const float v = uh[k] + halves[(size_t)(i + t) * (size_t)h + (size_t)k];
            X[(size_t)t * zs + (size_t)k] = v > 0.0f ? v : 0.0f;
        }
    float *x = X, *y = Y;
    for (int l = 1; l < m->n_layers; l++) {
        ncf_linear_forward_rows_(y, zs, x, zs, 4, m->wt + m->w_off[l], m->dense + m->b_off[l], m->in[l], m->out[l], 1);
        float *t = x;
        x = y;
        y = t;
    }
    for (int t = 0; t < 4; t++) {
        const float a = ncf_model_output_(m, u, i + t, x + (size_t)t * zs), b = ref_score(m, halves, u, i + t);
        assert_memory_equal(&a, &b, sizeof a);
    }
}

static int before(float sa, int32_t ia, float sb, int32_t ib)
{
    if (sa > sb) return 1;
    if (sa == sb) return ia < ib;
    if (sa < sb) return 0;
    if (sb != sb) return sa == sa || ia < ib;
    return 0;
}

static const float *sort_scores;
static int by_rank(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return before(sort_scores[x], x, sort_scores[y], y) ? -1 : 1;
}

static float frand(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(*s >> 40) / (double)(1ull << 24)) * 2.0f - 1.0f;
}

/* A model with every weight random (so ReLUs cut both ways), items 7..13
 * copies of items 0..6 (exact ties), and seen lists: user 0 all items but
 * three, user 1 every item, user 2 none, the rest about a third. */
static ncf_model *make_model(ncf_preset preset, ncf_model_type type, int factors, const int32_t *layers, int nl)
{
    ncf_model_config c;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_config_preset(preset, type, factors, layers, nl, &c, &err), NCF_OK);
    c.n_users = N_USERS;
    c.n_items = N_ITEMS;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, 7, &m, &err), NCF_OK);
    uint64_t s = 12345u + (uint64_t)type * 31u + (uint64_t)factors;
    for (int t = 0; t < NCF_TABLES; t++) {
        ncf_table *tb = &m->tab[t];
        for (int32_t r = 0; r < tb->rows; r++)
            for (int k = 0; k < tb->dim; k++) tb->w[(size_t)r * (size_t)tb->stride + (size_t)k] = frand(&s);
        if (ncf_table_is_item_(t) && tb->dim)
            for (int32_t r = 7; r < 14; r++)
                memcpy(tb->w + (size_t)r * (size_t)tb->stride, tb->w + (size_t)(r - 7) * (size_t)tb->stride,
                       (size_t)tb->stride * sizeof(float));
    }
    for (size_t k = 0; k < m->n_dense; k++) m->dense[k] = frand(&s) * 0.5f;
    if (m->B)
        for (int k = 0; k < m->F; k++) m->dense[m->wo_off + (size_t)k] = 1.0f;
    ncf_model_sync_(m);
    m->seen_off = malloc((N_USERS + 1) * sizeof *m->seen_off);
    m->seen = malloc((size_t)N_USERS * N_ITEMS * sizeof *m->seen);
    int64_t n = 0;
    for (int32_t u = 0; u < N_USERS; u++) {
        m->seen_off[u] = n;
        for (int32_t i = 0; i < N_ITEMS; i++) {
            int take = u == 0 ? (i != 5 && i != 100 && i != 202) : u == 1 ? 1 : u == 2 ? 0 : frand(&s) < -0.33f;
            if (take) m->seen[n++] = i;
        }
    }
    m->seen_off[N_USERS] = n;
    return m;
}

static int in_list(const int32_t *a, int64_t n, int32_t v)
{
    for (int64_t q = 0; q < n; q++)
        if (a[q] == v) return 1;
    return 0;
}

/* every user's top k by brute force under filter f, checked against the engine */
static void check_topk(const ncf_model *m, const ncf_topk *e, const float *ref, int k, const ncf_topk_filter *f,
                       int threads)
{
    int32_t users[N_USERS];
    for (int u = 0; u < N_USERS; u++) users[u] = (u * 17) % N_USERS; /* every user, out of order */
    int32_t *items = malloc((size_t)N_USERS * (size_t)k * sizeof *items);
    float *scores = malloc((size_t)N_USERS * (size_t)k * sizeof *scores);
    int counts[N_USERS];
    assert_int_equal(ncf_topk_recommend_(e, users, N_USERS, k, f, threads, items, scores, counts), NCF_OK);
    int32_t cand[N_ITEMS];
    for (int j = 0; j < N_USERS; j++) {
        const int32_t u = users[j];
        int n = 0;
        for (int32_t i = 0; i < N_ITEMS; i++) {
            if (f && f->allowed && !((f->allowed[i / 64] >> (i % 64)) & 1)) continue;
            if (f && f->denied && ((f->denied[i / 64] >> (i % 64)) & 1)) continue;
            if (!(f && f->include_seen) && in_list(m->seen + m->seen_off[u], m->seen_off[u + 1] - m->seen_off[u], i))
                continue;
            cand[n++] = i;
        }
        sort_scores = ref + (size_t)u * N_ITEMS;
        qsort(cand, (size_t)n, sizeof *cand, by_rank);
        const int want = n < k ? n : k;
        assert_int_equal(counts[j], want);
        for (int q = 0; q < want; q++) {
            if (items[(size_t)j * (size_t)k + (size_t)q] != cand[q])
                fprintf(stderr, "user %d rank %d: item %d, want %d\n", u, q, items[(size_t)j * (size_t)k + (size_t)q],
                        cand[q]);
            assert_int_equal(items[(size_t)j * (size_t)k + (size_t)q], cand[q]);
            assert_memory_equal(&scores[(size_t)j * (size_t)k + (size_t)q], &sort_scores[cand[q]], sizeof(float));
        }
    }
    free(items);
    free(scores);
}

static void check_model(ncf_model *m)
{
    float *halves = m->n_layers > 0 && m->E > 0 ? ncf_model_item_halves_(m, 1) : NULL;
    float *ref = malloc((size_t)N_USERS * N_ITEMS * sizeof *ref);
    for (int32_t u = 0; u < N_USERS; u++)
        for (int32_t i = 0; i < N_ITEMS; i++) ref[(size_t)u * N_ITEMS + (size_t)i] = ref_score(m, halves, u, i);
    for (int32_t u = 0; u < N_USERS; u += 5) check_rows_kernel(m, halves, u, (u * 13) % (N_ITEMS - 4));
    /* ties exist: items 7..13 copy 0..6 */
    assert_memory_equal(&ref[3 * N_ITEMS + 9], &ref[3 * N_ITEMS + 2], sizeof(float));

    ncf_scorer *sc = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_scorer_create(m, 2, &sc, &err), NCF_OK);
    /* scores of item lists in any order, bit for bit */
    int32_t list[N_ITEMS];
    float got[N_ITEMS];
    for (int32_t i = 0; i < N_ITEMS; i++) list[i] = (i * 37 + 11) % N_ITEMS;
    for (int32_t u = 0; u < N_USERS; u += 3) {
        for (int n = 1; n <= N_ITEMS; n += 67) {
            assert_int_equal(ncf_scorer_score(sc, u, list, n, got), NCF_OK);
            for (int q = 0; q < n; q++) assert_memory_equal(&got[q], &ref[(size_t)u * N_ITEMS + (size_t)list[q]], sizeof(float));
        }
    }
    /* the scorer one user at a time, as serving calls it */
    const int ks[3] = {1, 10, 250};
    for (int a = 0; a < 3; a++) {
        const int k = ks[a];
        int32_t *items = malloc((size_t)k * sizeof *items);
        float *scores = malloc((size_t)k * sizeof *scores);
        int32_t *all_items = malloc((size_t)N_USERS * (size_t)k * sizeof *all_items);
        float *all_scores = malloc((size_t)N_USERS * (size_t)k * sizeof *all_scores);
        int counts[N_USERS];
        int32_t users[N_USERS];
        for (int u = 0; u < N_USERS; u++) users[u] = u;
        assert_int_equal(ncf_scorer_recommend_many(sc, users, N_USERS, k, 2, all_items, all_scores, counts), NCF_OK);
        for (int32_t u = 0; u < N_USERS; u++) {
            int n = -1;
            assert_int_equal(ncf_scorer_recommend(sc, u, k, items, scores, &n), NCF_OK);
            assert_int_equal(n, counts[u]);
            assert_memory_equal(items, all_items + (size_t)u * (size_t)k, (size_t)n * sizeof *items);
            assert_memory_equal(scores, all_scores + (size_t)u * (size_t)k, (size_t)n * sizeof *scores);
        }
        free(items);
        free(scores);
        free(all_items);
        free(all_scores);
    }
    /* all users by brute force, threads 1..3, filters */
    ncf_topk *e = NULL;
    assert_int_equal(ncf_topk_create_(m, 3, &e), NCF_OK);
    uint64_t allowed[4] = {0}, denied[4] = {0};
    for (int32_t i = 0; i < N_ITEMS; i++) {
        if (i % 3 != 1) allowed[i / 64] |= 1ull << (i % 64);
        if (i % 5 == 0) denied[i / 64] |= 1ull << (i % 64);
    }
    const ncf_topk_filter fa = {.allowed = allowed}, fd = {.denied = denied}, fs = {.include_seen = 1},
                          fall = {.allowed = allowed, .denied = denied, .include_seen = 1};
    for (int a = 0; a < 3; a++)
        for (int t = 1; t <= 3; t++) check_topk(m, e, ref, ks[a], NULL, t);
    check_topk(m, e, ref, 10, &fa, 2);
    check_topk(m, e, ref, 10, &fd, 2);
    check_topk(m, e, ref, 10, &fs, 2);
    check_topk(m, e, ref, 250, &fall, 3);
    /* full-ranking ranks: every user, a few held-out items each (some seen) */
    int32_t users[N_USERS], test_off[N_USERS + 1], test[N_USERS * 4];
    int n_test = 0;
    for (int32_t u = 0; u < N_USERS; u++) {
        users[u] = u;
        test_off[u] = n_test;
        for (int q = 0; q < 1 + u % 4; q++) test[n_test++] = (u * 29 + q * 53) % N_ITEMS;
    }
    test_off[N_USERS] = n_test;
    const int kmaxes[4] = {1, 5, 20, 1000};
    for (int a = 0; a < 4; a++)
        for (int t = 1; t <= 2; t++) {
            int ranks[N_USERS * 4], want[4];
            float heap[1000];
            assert_int_equal(ncf_topk_ranks_(e, users, N_USERS, test_off, test, NULL, kmaxes[a], t, ranks), NCF_OK);
            for (int32_t u = 0; u < N_USERS; u++) {
                ncf_full_ranks_(ref + (size_t)u * N_ITEMS, N_ITEMS, m->seen + m->seen_off[u],
                                m->seen_off[u + 1] - m->seen_off[u], test + test_off[u], test_off[u + 1] - test_off[u],
                                kmaxes[a], heap, want);
                assert_memory_equal(ranks + test_off[u], want, (size_t)(test_off[u + 1] - test_off[u]) * sizeof(int));
            }
        }
    ncf_topk_free_(e);
    ncf_scorer_free(sc);
    free(ref);
    ncf_free_aligned_(halves);
}

static void each_path(ncf_preset preset, ncf_model_type type, int factors, const int32_t *layers, int nl)
{
    const char *paths[3] = {"generic", "avx2", "avx512"};
    const char *was = ncf_kernels();
    for (int p = 0; p < 3; p++) {
        if (!ncf_kernels_supported(paths[p])) {
            fprintf(stderr, "(kernel path %s: not on this CPU, skipped)\n", paths[p]);
            continue;
        }
        assert_int_equal(ncf_set_kernels(paths[p]), NCF_OK);
        fused = p > 0;
        ncf_model *m = make_model(preset, type, factors, layers, nl);
        check_model(m);
        ncf_model_free(m);
    }
    assert_int_equal(ncf_set_kernels(was), NCF_OK);
}

static void test_mf(void **state)
{
    (void)state;
    const int32_t none[1] = {0};
    each_path(NCF_PRESET_PAPER, NCF_MODEL_MF, 64, none, 0);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_MF, 13, none, 0);
}

static void test_gmf(void **state)
{
    (void)state;
    const int32_t none[1] = {0};
    each_path(NCF_PRESET_PAPER, NCF_MODEL_GMF, 8, none, 0);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_GMF, 21, none, 0);
}

static void test_neumf(void **state)
{
    (void)state;
    const int32_t paper[4] = {64, 32, 16, 8}, odd[4] = {20, 10, 6, 3}, one[2] = {16, 12};
    each_path(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, paper, 4);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 5, odd, 4);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, one, 2);
}

static void test_mlp(void **state)
{
    (void)state;
    const int32_t paper[4] = {64, 32, 16, 8}, wide[3] = {48, 40, 24}, bare[1] = {16};
    each_path(NCF_PRESET_PAPER, NCF_MODEL_MLP, 8, paper, 4);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_MLP, 8, wide, 3);
    each_path(NCF_PRESET_PAPER, NCF_MODEL_MLP, 8, bare, 1); /* no hidden layer: pair by pair */
}

static void test_seed_preset(void **state)
{
    (void)state; /* sigmoid on the GMF product: pair by pair */
    const int32_t layers[2] = {16, 8};
    each_path(NCF_PRESET_SEED, NCF_MODEL_NEUMF, 8, layers, 2);
    each_path(NCF_PRESET_SEED, NCF_MODEL_GMF, 8, layers, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mf),         cmocka_unit_test(test_gmf),         cmocka_unit_test(test_neumf),
        cmocka_unit_test(test_mlp),        cmocka_unit_test(test_seed_preset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
