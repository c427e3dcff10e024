/* test_similar.c — similar items and business rules in the library:
 *   - ncf_similar on MF: the order equals a brute-force cosine over the item
 *     embeddings computed here in double (ties to the lower index; items
 *     made identical tie exactly), K distinct items, never the query item;
 *     the vectors of GMF, MLP and NeuMF are what model.h documents; many
 *     queries at once give the same bytes as one at a time on 1, 2 and 3
 *     threads; only / exclude honoured.
 *   - ncf_rules in the scorer: no excluded item, only allowed items, the
 *     user's training items only with include_seen, each answer the
 *     brute-force top K of the items the rules allow; unsorted lists with
 *     repeats equal sorted ones; many users equal one at a time; an empty
 *     allow-list allows nothing; an index out of range is NCF_ERR_ARG; the
 *     popular fallback under rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

/* A model of the given type on synthetic data (300 users, 250 items), with
 * its ids and training items attached; weights as initialised from seed
 * (init_std raised so the vectors are far from each other). */
static ncf_model *make_model(ncf_model_type type, uint64_t seed)
{
    ncf_err err = {{0}};
    const char *tsv = tu_path("sim.tsv");
    if (!tu_exists(tsv)) {
        ncf_synth_options so;
        ncf_synth_options_default(&so);
        so.n_users = 300;
        so.n_items = 250;
        so.n_interactions = 6000;
        so.seed = 3;
        assert_int_equal(ncf_synth_write(&so, tsv, &err), NCF_OK);
    }
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.n_negatives = 5;
    ncf_dataset *ds = NULL;
    assert_int_equal(ncf_dataset_load(tsv, &lo, &ds, &err), NCF_OK);
    const int32_t layers[] = {16, 8, 4};
    ncf_model_config c;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, type, 6, layers, 3, &c, &err), NCF_OK);
    c.n_users = ds->n_users;
    c.n_items = ds->n_items;
    c.init_std = 0.5f;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, seed, &m, &err), NCF_OK);
    assert_int_equal(ncf_model_attach_data(m, ds, &err), NCF_OK);
    ncf_dataset_free(ds);
    return m;
}

static float *row(const ncf_model *m, int t, int32_t r)
{
    return m->tab[t].w + (size_t)r * (size_t)m->tab[t].stride;
}

/* ---- similar items ----------------------------------------------------------- */
typedef struct ranked {
    double cos;
    int32_t item;
} ranked;

static int by_cos(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->cos != y->cos) return x->cos > y->cos ? -1 : 1;
    return (x->item > y->item) - (x->item < y->item);
}

/* Brute force: every other item allowed by allow (NULL: all) ranked by the
 * cosine of vec (n x d, row-major, double) with the query, into out;
 * returns how many. */
static int brute_similar(const double *vec, int32_t n, int32_t d, int32_t q, const char *allow, ranked *out)
{
    int cnt = 0;
    double nq = 0;
    for (int32_t k = 0; k < d; k++) nq += vec[(size_t)q * d + k] * vec[(size_t)q * d + k];
    for (int32_t i = 0; i < n; i++) {
        if (i == q || (allow && !allow[i])) continue;
        double dot = 0, ni = 0;
        for (int32_t k = 0; k < d; k++) {
            dot += vec[(size_t)q * d + k] * vec[(size_t)i * d + k];
            ni += vec[(size_t)i * d + k] * vec[(size_t)i * d + k];
        }
        out[cnt].cos = nq > 0 && ni > 0 ? dot / sqrt(nq * ni) : 0.0;
        out[cnt].item = i;
        cnt++;
    }
    qsort(out, (size_t)cnt, sizeof *out, by_cos);
    return cnt;
}

/* The library's answer for q equals the brute force's: same count, and at
 * every rank the same item unless the two cosines are within float
 * rounding (then the cosine must match); distinct items, never q. */
static void check_against_brute(const int32_t *items, const float *scores, int n, const ranked *want, int n_want,
                                int k, int32_t q)
{
    assert_int_equal(n, n_want < k ? n_want : k);
    int swaps = 0;
    for (int r = 0; r < n; r++) {
        assert_int_not_equal(items[r], q);
        for (int r2 = 0; r2 < r; r2++) assert_int_not_equal(items[r], items[r2]);
        assert_true(fabs((double)scores[r] - want[r].cos) < 2e-6);
        if (items[r] != want[r].item) {
            /* a near tie: the brute force's cosines at this rank agree within rounding */
            swaps++;
            assert_true(fabs((double)scores[r] - want[r].cos) < 2e-6);
            int found = 0;
            for (int r2 = 0; r2 < n_want; r2++)
                if (want[r2].item == items[r]) {
                    assert_true(fabs(want[r2].cos - want[r].cos) < 2e-6);
                    found = 1;
                }
            assert_true(found);
        }
    }
    assert_true(swaps <= n / 20 + 1); /* near ties are rare with random vectors */
}

static void test_similar_mf_brute_force(void **state)
{
    ncf_model *m = make_model(NCF_MODEL_MF, 11);
    const int32_t n = m->cfg.n_items, F = m->F;
    /* items 17 and 200 get item 5's vector (an exact tie: the lower index
     * first), item 7 all zeros (cosine 0 with every item) */
    memcpy(row(m, NCF_TABLE_GMF_ITEM, 17), row(m, NCF_TABLE_GMF_ITEM, 5), (size_t)F * sizeof(float));
    memcpy(row(m, NCF_TABLE_GMF_ITEM, 200), row(m, NCF_TABLE_GMF_ITEM, 5), (size_t)F * sizeof(float));
    memset(row(m, NCF_TABLE_GMF_ITEM, 7), 0, (size_t)F * sizeof(float));
    /* the biases do not enter */
    for (int32_t i = 0; i < n; i++) row(m, NCF_TABLE_ITEM_BIAS, i)[0] = (float)i;
    double *vec = malloc((size_t)n * (size_t)F * sizeof *vec);
    for (int32_t i = 0; i < n; i++)
        for (int32_t k = 0; k < F; k++) vec[(size_t)i * F + k] = row(m, NCF_TABLE_GMF_ITEM, i)[k];
    ncf_similar *s = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_similar_create(m, 2, &s, &err), NCF_OK);
    assert_int_equal(ncf_similar_dim(s), F);
    ranked *want = malloc((size_t)n * sizeof *want);
    int32_t *items = malloc((size_t)n * sizeof *items);
    float *scores = malloc((size_t)n * sizeof *scores);
    const int ks[] = {1, 10, 249, 400};
    for (int kq = 0; kq < 4; kq++)
        for (int32_t q = 0; q < n; q++) {
            int got = -1;
            assert_int_equal(ncf_similar_items(s, q, NULL, ks[kq], items, scores, &got), NCF_OK);
            int nw = brute_similar(vec, n, F, q, NULL, want);
            assert_int_equal(nw, n - 1);
            check_against_brute(items, scores, got, want, nw, ks[kq], q);
        }
    /* the exact tie: 5's nearest are 17 then 200 (cosine 1), and 17's are 5 then 200 */
    int got = 0;
    assert_int_equal(ncf_similar_items(s, 5, NULL, 3, items, scores, &got), NCF_OK);
    assert_int_equal(items[0], 17);
    assert_int_equal(items[1], 200);
    assert_true(scores[0] == scores[1]);
    assert_int_equal(ncf_similar_items(s, 17, NULL, 2, items, scores, &got), NCF_OK);
    assert_int_equal(items[0], 5);
    assert_int_equal(items[1], 200);
    /* the zero vector: every cosine 0, so the lowest indices other than 7 */
    assert_int_equal(ncf_similar_items(s, 7, NULL, 3, items, scores, &got), NCF_OK);
    assert_int_equal(items[0], 0);
    assert_int_equal(items[1], 1);
    assert_int_equal(items[2], 2);
    assert_true(scores[0] == 0.0f);
    /* out of range */
    assert_int_equal(ncf_similar_items(s, n, NULL, 3, items, scores, &got), NCF_ERR_NOT_FOUND);
    assert_int_equal(ncf_similar_items(s, -1, NULL, 3, items, scores, &got), NCF_ERR_NOT_FOUND);
    free(want);
    free(items);
    free(scores);
    free(vec);
    ncf_similar_free(s);
    ncf_model_free(m);
}

/* Item vectors as model.h defines them, from the tables, in double. */
static double *expected_vectors(const ncf_model *m, int32_t *d_out)
{
    const int32_t n = m->cfg.n_items, F = m->F, E = m->E;
    const int32_t H = E ? (m->n_layers ? m->out[0] : E) : 0, d = F + H;
    const float *wo = m->dense + m->wo_off;
    double *v = calloc((size_t)n * (size_t)d, sizeof *v);
    for (int32_t i = 0; i < n; i++) {
        double *x = v + (size_t)i * d, n0 = 0, n1 = 0;
        for (int32_t k = 0; k < F; k++) {
            x[k] = (double)wo[k] * row(m, NCF_TABLE_GMF_ITEM, i)[k];
            n0 += x[k] * x[k];
        }
        for (int32_t o = 0; o < H; o++) {
            double acc = 0;
            if (m->n_layers)
                for (int32_t k = 0; k < E; k++)
                    acc += (double)m->dense[m->w_off[0] + (size_t)o * (size_t)(2 * E) + (size_t)(E + k)] *
                           row(m, NCF_TABLE_MLP_ITEM, i)[k];
            else
                acc = (double)wo[F + E + o] * row(m, NCF_TABLE_MLP_ITEM, i)[o];
            x[F + o] = acc;
            n1 += acc * acc;
        }
        /* each part to unit length, then the whole */
        const double w = F && H ? sqrt(0.5) : 1.0;
        for (int32_t k = 0; k < F; k++) x[k] *= w / sqrt(n0);
        for (int32_t k = 0; k < H; k++) x[F + k] *= w / sqrt(n1);
    }
    *d_out = d;
    return v;
}

static void check_type(ncf_model_type type)
{
    ncf_model *m = make_model(type, 21);
    const int32_t n = m->cfg.n_items;
    int32_t d = 0;
    double *vec = expected_vectors(m, &d);
    ncf_similar *s = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_similar_create(m, 1, &s, &err), NCF_OK);
    assert_int_equal(ncf_similar_dim(s), d);
    float *got_v = malloc((size_t)d * sizeof *got_v);
    for (int32_t i = 0; i < n; i++) {
        assert_int_equal(ncf_similar_vector(s, i, got_v), NCF_OK);
        for (int32_t k = 0; k < d; k++) assert_true(fabs((double)got_v[k] - vec[(size_t)i * d + k]) < 1e-6);
    }
    ranked *want = malloc((size_t)n * sizeof *want);
    int32_t items[20];
    float scores[20];
    for (int32_t q = 0; q < n; q += 7) {
        int got = 0;
        assert_int_equal(ncf_similar_items(s, q, NULL, 20, items, scores, &got), NCF_OK);
        check_against_brute(items, scores, got, want, brute_similar(vec, n, d, q, NULL, want), 20, q);
    }
    free(want);
    free(got_v);
    free(vec);
    ncf_similar_free(s);
    ncf_model_free(m);
}

static void test_similar_vectors_per_type(void **state)
{
    check_type(NCF_MODEL_GMF);
    check_type(NCF_MODEL_MLP);
    check_type(NCF_MODEL_NEUMF);
}

/* Many queries at once (blocked, threaded) equal one at a time, byte for
 * byte, on 1, 2 and 3 threads; with and without rules. */
static void test_similar_many_equals_single(void **state)
{
    ncf_model *m = make_model(NCF_MODEL_NEUMF, 5);
    const int32_t n = m->cfg.n_items;
    ncf_similar *s = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_similar_create(m, 3, &s, &err), NCF_OK);
    const int k = 13;
    int32_t *query = malloc((size_t)n * sizeof *query);
    for (int32_t j = 0; j < n; j++) query[j] = (j * 37) % n; /* every item, out of order */
    int32_t excl[] = {3, 1, 3, 99}, only[200];
    for (int j = 0; j < 200; j++) only[j] = (j * 7) % n;
    ncf_rules rules[2] = {{NULL, 0, excl, 4, 0}, {only, 200, excl, 4, 0}};
    for (int rr = -1; rr < 2; rr++) {
        const ncf_rules *r = rr < 0 ? NULL : &rules[rr];
        int32_t *it1 = malloc((size_t)n * k * sizeof *it1);
        float *sc1 = malloc((size_t)n * k * sizeof *sc1);
        int *c1 = malloc((size_t)n * sizeof *c1);
        for (int32_t j = 0; j < n; j++)
            assert_int_equal(ncf_similar_items(s, query[j], r, k, it1 + (size_t)j * k, sc1 + (size_t)j * k, &c1[j]),
                             NCF_OK);
        for (int T = 1; T <= 3; T++) {
            int32_t *it = malloc((size_t)n * k * sizeof *it);
            float *sc = malloc((size_t)n * k * sizeof *sc);
            int *c = malloc((size_t)n * sizeof *c);
            assert_int_equal(ncf_similar_items_many(s, query, n, r, k, T, it, sc, c), NCF_OK);
            assert_memory_equal(c, c1, (size_t)n * sizeof *c);
            for (int32_t j = 0; j < n; j++) {
                assert_memory_equal(it + (size_t)j * k, it1 + (size_t)j * k, (size_t)c[j] * sizeof *it);
                assert_memory_equal(sc + (size_t)j * k, sc1 + (size_t)j * k, (size_t)c[j] * sizeof *sc);
            }
            free(it);
            free(sc);
            free(c);
        }
        /* the rules hold */
        for (int32_t j = 0; j < n; j++)
            for (int q = 0; q < c1[j]; q++) {
                const int32_t i = it1[(size_t)j * k + q];
                assert_int_not_equal(i, query[j]);
                if (r) assert_true(i != 1 && i != 3 && i != 99);
                if (rr == 1) {
                    int in = 0;
                    for (int o = 0; o < 200; o++) in |= only[o] == i;
                    assert_true(in);
                }
            }
        free(it1);
        free(sc1);
        free(c1);
    }
    /* an empty allow-list allows nothing; an index out of range is an error */
    int32_t items[5];
    float scores[5];
    int got = -1;
    ncf_rules none = {only, 0, NULL, 0, 0};
    assert_int_equal(ncf_similar_items(s, 4, &none, 5, items, scores, &got), NCF_OK);
    assert_int_equal(got, 0);
    int32_t bad[] = {2, n};
    ncf_rules out_of_range = {NULL, 0, bad, 2, 0};
    assert_int_equal(ncf_similar_items(s, 4, &out_of_range, 5, items, scores, &got), NCF_ERR_ARG);
    free(query);
    ncf_similar_free(s);
    ncf_model_free(m);
}

/* ---- rules in the scorer ------------------------------------------------------- */
static float *sort_scores; /* for by_score, set just before each qsort */

static int by_score(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    if (sort_scores[x] != sort_scores[y]) return sort_scores[x] > sort_scores[y] ? -1 : 1;
    return (x > y) - (x < y);
}

static int seen_by(const ncf_model *m, int32_t u, int32_t i)
{
    for (int64_t q = m->seen_off[u]; q < m->seen_off[u + 1]; q++)
        if (m->seen[q] == i) return 1;
    return 0;
}

/* The scorer's answer for u under r is the brute-force top k of the items
 * r allows: every item scored, sorted (ties to the lower index), filtered. */
static void check_rules(const ncf_scorer *sc, const ncf_model *m, int32_t u, const ncf_rules *r, int k)
{
    const int32_t n = m->cfg.n_items;
    int32_t *all = malloc((size_t)n * sizeof *all);
    float *s = malloc((size_t)n * sizeof *s);
    assert_true(all && s);
    for (int32_t i = 0; i < n; i++) all[i] = i;
    assert_int_equal(ncf_scorer_score(sc, u, all, n, s), NCF_OK);
    sort_scores = s;
    qsort(all, (size_t)n, sizeof *all, by_score);
    int32_t *want = malloc((size_t)n * sizeof *want);
    int nw = 0;
    for (int32_t q = 0; q < n; q++) {
        const int32_t i = all[q];
        int ok = 1;
        if (r && r->only) {
            ok = 0;
            for (int o = 0; o < r->n_only; o++) ok |= r->only[o] == i;
        }
        if (r)
            for (int o = 0; o < r->n_exclude; o++) ok &= r->exclude[o] != i;
        if (!(r && r->include_seen) && seen_by(m, u, i)) ok = 0;
        if (ok && nw < k) want[nw++] = i;
    }
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    int got = -1;
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, r, k, items, scores, &got), NCF_OK);
    assert_int_equal(got, nw);
    for (int q = 0; q < got; q++) {
        /* the same item, or a tie within rounding of the tile's sums */
        if (items[q] != want[q]) assert_true(fabsf(s[items[q]] - s[want[q]]) < 1e-5f);
        assert_true(fabsf(scores[q] - s[items[q]]) < 1e-5f);
    }
    free(all);
    free(s);
    free(want);
    free(items);
    free(scores);
}

static void test_rules_in_scorer(void **state)
{
    ncf_model *m = make_model(NCF_MODEL_NEUMF, 9);
    const int32_t n = m->cfg.n_items, nu = m->cfg.n_users;
    ncf_scorer *sc = NULL;
    ncf_err err = {{0}};
    assert_int_equal(ncf_scorer_create(m, 1, &sc, &err), NCF_OK);
    /* user 0's own training items and a few more */
    const int32_t u = 0;
    assert_true(m->seen_off[u + 1] - m->seen_off[u] >= 2);
    int32_t seen0 = m->seen[m->seen_off[u]], seen1 = m->seen[m->seen_off[u] + 1];
    int32_t excl[] = {40, 2, 40, seen0, 7};
    int32_t only[] = {seen1, 30, 5, 6, 7, 8, 200, 30, 100, 101, 102};
    ncf_rules cases[] = {
        {NULL, 0, NULL, 0, 0},       {NULL, 0, excl, 5, 0},  {only, 11, NULL, 0, 0},
        {only, 11, excl, 5, 0},      {NULL, 0, NULL, 0, 1},  {only, 11, excl, 5, 1},
        {NULL, 0, excl, 5, 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int32_t uu = 0; uu < nu; uu += 37) {
            check_rules(sc, m, uu, &cases[c], 10);
            check_rules(sc, m, uu, &cases[c], n);
        }
    check_rules(sc, m, u, NULL, 10);
    /* include_seen: user 0's first training item can come back */
    int32_t top[300];
    float ts[300];
    int got = 0;
    ncf_rules inc = {NULL, 0, NULL, 0, 1};
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &inc, n, top, ts, &got), NCF_OK);
    assert_int_equal(got, n);
    int found = 0;
    for (int q = 0; q < got; q++) found |= top[q] == seen0;
    assert_true(found);
    /* the default leaves them out and equals the call without rules, exactly */
    int32_t a[20], b[20];
    float as[20], bs[20];
    int na = 0, nb = 0;
    assert_int_equal(ncf_scorer_recommend(sc, u, 20, a, as, &na), NCF_OK);
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, NULL, 20, b, bs, &nb), NCF_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof a[0] * (size_t)na);
    assert_memory_equal(as, bs, sizeof as[0] * (size_t)na);
    for (int q = 0; q < na; q++) assert_false(seen_by(m, u, a[q]));
    /* many users under rules equal one at a time, byte for byte */
    int32_t *users = malloc((size_t)nu * sizeof *users);
    for (int32_t j = 0; j < nu; j++) users[j] = nu - 1 - j;
    const int k = 7;
    int32_t *it = malloc((size_t)nu * k * sizeof *it);
    float *ss = malloc((size_t)nu * k * sizeof *ss);
    int *cnt = malloc((size_t)nu * sizeof *cnt);
    assert_int_equal(ncf_scorer_recommend_many_ex(sc, users, nu, &cases[3], k, 2, it, ss, cnt), NCF_OK);
    for (int32_t j = 0; j < nu; j++) {
        int32_t one[7];
        float os[7];
        int no = 0;
        assert_int_equal(ncf_scorer_recommend_ex(sc, users[j], &cases[3], k, one, os, &no), NCF_OK);
        assert_int_equal(cnt[j], no);
        assert_memory_equal(it + (size_t)j * k, one, (size_t)no * sizeof *one);
        assert_memory_equal(ss + (size_t)j * k, os, (size_t)no * sizeof *os);
    }
    /* unsorted lists with repeats equal sorted lists without, exactly */
    int32_t only_sorted[11], excl_sorted[5];
    int n_os = 0, n_es = 0;
    for (int32_t i = 0; i < n; i++) {
        int in_o = 0, in_e = 0;
        for (int o = 0; o < 11; o++) in_o |= only[o] == i;
        for (int o = 0; o < 5; o++) in_e |= excl[o] == i;
        if (in_o) only_sorted[n_os++] = i;
        if (in_e) excl_sorted[n_es++] = i;
    }
    ncf_rules sorted = {only_sorted, n_os, excl_sorted, n_es, 1}, unsorted = {only, 11, excl, 5, 1};
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &sorted, 20, a, as, &na), NCF_OK);
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &unsorted, 20, b, bs, &nb), NCF_OK);
    assert_int_equal(na, nb);
    assert_memory_equal(a, b, sizeof a[0] * (size_t)na);
    assert_memory_equal(as, bs, sizeof as[0] * (size_t)na);
    free(users);
    free(it);
    free(ss);
    free(cnt);
    /* an empty allow-list allows nothing; indices out of range are refused */
    ncf_rules empty = {only, 0, NULL, 0, 0};
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &empty, 10, a, as, &na), NCF_OK);
    assert_int_equal(na, 0);
    int32_t bad[] = {n};
    ncf_rules bad_only = {bad, 1, NULL, 0, 0}, bad_excl = {NULL, 0, bad, 1, 0};
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &bad_only, 10, a, as, &na), NCF_ERR_ARG);
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &bad_excl, 10, a, as, &na), NCF_ERR_ARG);
    int32_t one_user = 0;
    int c1 = 0;
    assert_int_equal(ncf_scorer_recommend_many_ex(sc, &one_user, 1, &bad_excl, 10, 1, a, as, &c1), NCF_ERR_ARG);
    /* the popular fallback under rules: the popular order, filtered */
    int32_t pop[300], popr[300];
    float pc[300], pcr[300];
    int np = ncf_scorer_popular(sc, n, pop, pc);
    assert_int_equal(np, n);
    int npr = ncf_scorer_popular_ex(sc, &cases[3], n, popr, pcr);
    int w = 0;
    for (int q = 0; q < np; q++) {
        int ok = 0;
        for (int o = 0; o < 11; o++) ok |= only[o] == pop[q];
        for (int o = 0; o < 5; o++) ok &= excl[o] != pop[q];
        if (!ok) continue;
        assert_true(w < npr);
        assert_int_equal(popr[w], pop[q]);
        assert_true(pcr[w] == pc[q]);
        w++;
    }
    assert_int_equal(w, npr);
    assert_int_equal(ncf_scorer_popular_ex(sc, &bad_excl, 10, popr, pcr), NCF_ERR_ARG);
    ncf_scorer_free(sc);
    ncf_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_similar_mf_brute_force),
        cmocka_unit_test(test_similar_vectors_per_type),
        cmocka_unit_test(test_similar_many_equals_single),
        cmocka_unit_test(test_rules_in_scorer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
