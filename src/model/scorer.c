/* scorer.c — top-K over all items for many users, as serving and
 * `ncf recommend --all` need: item halves of the first MLP layer computed
 * once, the user half once per call, a bounded heap for the top K, the
 * user's training items skipped (and the items business rules leave out:
 * rules.c), and a popularity list for unknown users. Items whose score is
 * NaN rank last (topk.h). Read-only after creation: safe to share between
 * threads. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
#include "model/rules.h"
#include "model/topk.h"
#include "ncf/train.h"
#include "nn/nn.h"

struct ncf_scorer {
    const ncf_model *m;
    float *item_halves;  /* n_items x out[0], or NULL (no hidden layer) */
    int32_t *popular;    /* all items, most trained first */
    float *pop_count;    /* their training counts */
};

static const int64_t *count_for_sort; /* only during creation, under no concurrency */

static int by_popularity(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    int64_t cx = count_for_sort[x], cy = count_for_sort[y];
    if (cx != cy) return cx > cy ? -1 : 1;
    return (x > y) - (x < y);
}

ncf_status ncf_scorer_create(const ncf_model *m, int threads, ncf_scorer **out, ncf_err *err)
{
    ncf_scorer *s = calloc(1, sizeof *s);
    const int32_t n = m->cfg.n_items;
    int64_t *count = calloc((size_t)n, sizeof *count);
    if (!s || !count) goto nomem;
    s->m = m;
    if (m->n_layers > 0 && m->E > 0) {
        s->item_halves = ncf_model_item_halves_(m, threads);
        if (!s->item_halves) goto nomem;
    }
    s->popular = malloc((size_t)n * sizeof *s->popular);
    s->pop_count = malloc((size_t)n * sizeof *s->pop_count);
    if (!s->popular || !s->pop_count) goto nomem;
    if (m->seen)
        for (int64_t k = 0; k < m->seen_off[m->cfg.n_users]; k++) count[m->seen[k]]++;
    for (int32_t i = 0; i < n; i++) s->popular[i] = i;
    /* qsort has no context argument in C11: a static pointer, set and used
     * here only (creation is not meant to run concurrently with itself) */
    count_for_sort = count;
    qsort(s->popular, (size_t)n, sizeof *s->popular, by_popularity);
    count_for_sort = NULL;
    for (int32_t i = 0; i < n; i++) s->pop_count[i] = (float)count[s->popular[i]];
    free(count);
    *out = s;
    return NCF_OK;
nomem:
    free(count);
    ncf_scorer_free(s);
    return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory preparing the scorer");
}

void ncf_scorer_free(ncf_scorer *s)
{
    if (!s) return;
    ncf_free_aligned_(s->item_halves);
    free(s->popular);
    free(s->pop_count);
    free(s);
}

const ncf_model *ncf_scorer_model(const ncf_scorer *s) { return s->m; }

int ncf_scorer_popular(const ncf_scorer *s, int k, int32_t *items, float *counts)
{
    int n = k < s->m->cfg.n_items ? k : s->m->cfg.n_items;
    if (n < 0) n = 0;
    for (int q = 0; q < n; q++) {
        items[q] = s->popular[q];
        if (counts) counts[q] = s->pop_count[q];
    }
    return n;
}

/* Items are scored TILE at a time: the MLP layers after the first run over
 * the whole tile (ncf_linear_forward_rows_), so each weight loaded serves
 * several items. */
#define TILE 16

/* scratch for one call: activations, the user half, two tile buffers */
typedef struct scratch {
    float *act, *uh, *za, *zb;
    size_t zs; /* floats per tile row */
} scratch;

static int scratch_init(const ncf_model *m, scratch *sc)
{
    sc->zs = ((size_t)m->max_width + 7) & ~(size_t)7;
    sc->act = ncf_alloc_aligned_(m->act_size * sizeof(float));
    sc->uh = ncf_alloc_aligned_(((size_t)(m->n_layers ? m->out[0] : 0) + 1) * sizeof(float));
    sc->za = ncf_alloc_aligned_(TILE * sc->zs * sizeof(float));
    sc->zb = ncf_alloc_aligned_(TILE * sc->zs * sizeof(float));
    return sc->act && sc->uh && sc->za && sc->zb ? 0 : -1;
}

static void scratch_free(scratch *sc)
{
    ncf_free_aligned_(sc->act);
    ncf_free_aligned_(sc->uh);
    ncf_free_aligned_(sc->za);
    ncf_free_aligned_(sc->zb);
}

/* GMF and MF: the output layer is the whole model, one fused pass per item,
 * built for each SIMD level (the sums run in the same order on every one). */
NCF_MULTIVERSION
static void score_tile_output_only(const ncf_model *m, int32_t u, const int32_t *items, int nt, float *out)
{
    for (int t = 0; t < nt; t++) out[t] = ncf_model_output_(m, u, items[t], NULL);
}

/* Scores of nt <= TILE items for user u (whose half is in sc->uh). */
static void score_tile(const ncf_scorer *s, int32_t u, const int32_t *items, int nt, scratch *sc, float *out)
{
    const ncf_model *m = s->m;
    if (!s->item_halves) {
        if (m->E == 0) /* GMF, MF */
            score_tile_output_only(m, u, items, nt, out);
        else /* an MLP without hidden layers: the plain forward pass */
            for (int t = 0; t < nt; t++) out[t] = ncf_model_forward_(m, u, items[t], sc->act, NULL);
        return;
    }
    const int h = m->out[0];
    const size_t zs = sc->zs;
    float *x = sc->za, *y = sc->zb;
    const float *restrict uh = sc->uh;
    for (int t = 0; t < nt; t++) {
        const float *restrict ih = s->item_halves + (size_t)items[t] * (size_t)h;
        float *restrict z = x + (size_t)t * zs;
        for (int k = 0; k < h; k++) { /* branch-free: the signs are random */
            const float v = uh[k] + ih[k];
            z[k] = v > 0.0f ? v : 0.0f;
        }
    }
    for (int l = 1; l < m->n_layers; l++) {
        ncf_linear_forward_rows_(y, zs, x, zs, nt, m->wt + m->w_off[l], m->dense + m->b_off[l], m->in[l], m->out[l], 1);
        float *tmp = x;
        x = y;
        y = tmp;
    }
    for (int t = 0; t < nt; t++) out[t] = ncf_model_output_(m, u, items[t], x + (size_t)t * zs);
}

ncf_status ncf_scorer_score(const ncf_scorer *s, int32_t user, const int32_t *items, int n, float *scores)
{
    const ncf_model *m = s->m;
    if (user < 0 || user >= m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    for (int q = 0; q < n; q++)
        if (items[q] < 0 || items[q] >= m->cfg.n_items) return NCF_ERR_NOT_FOUND;
    return ncf_scorer_score_trusted_(s, user, items, n, scores);
}

ncf_status ncf_scorer_score_trusted_(const ncf_scorer *s, int32_t user, const int32_t *items, int n, float *scores)
{
    const ncf_model *m = s->m;
    scratch sc;
    if (scratch_init(m, &sc) != 0) {
        scratch_free(&sc);
        return NCF_ERR_NOMEM;
    }
    if (s->item_halves) ncf_model_user_half_(m, user, sc.uh);
    for (int q = 0; q < n; q += TILE) score_tile(s, user, items + q, n - q < TILE ? n - q : TILE, &sc, scores + q);
    scratch_free(&sc);
    return NCF_OK;
}

/* The top k of user u among the items the walk of f yields (the rules'
 * part: which items may be returned is rules.c's; scoring and ranking are
 * here). */
static ncf_status recommend_filtered(const ncf_scorer *s, int32_t user, const ncf_filter_ *f, int k, int32_t *items,
                                     float *scores, int *n_out)
{
    const ncf_model *m = s->m;
    *n_out = 0;
    if (k <= 0) return NCF_OK;
    scratch sc;
    if (scratch_init(m, &sc) != 0) {
        scratch_free(&sc);
        return NCF_ERR_NOMEM;
    }
    if (s->item_halves) ncf_model_user_half_(m, user, sc.uh);
    ncf_walk_ w;
    ncf_walk_start_(&w, f, m, user);
    int n = 0, nt;
    int32_t tile[TILE];
    float tile_scores[TILE];
    while ((nt = ncf_walk_next_(&w, tile, TILE)) > 0) { /* the next TILE items that may be returned */
        score_tile(s, user, tile, nt, &sc, tile_scores);
        for (int t = 0; t < nt; t++) ncf_heap_offer_(items, scores, &n, k, tile_scores[t], tile[t]);
    }
    ncf_heap_sort_(items, scores, n);
    scratch_free(&sc);
    *n_out = n;
    return NCF_OK;
}

ncf_status ncf_scorer_recommend(const ncf_scorer *s, int32_t user, int k, int32_t *items, float *scores, int *n_out)
{
    return ncf_scorer_recommend_ex(s, user, NULL, k, items, scores, n_out);
}

ncf_status ncf_scorer_recommend_ex(const ncf_scorer *s, int32_t user, const ncf_rules *rules, int k, int32_t *items,
                                   float *scores, int *n_out)
{
    *n_out = 0;
    if (user < 0 || user >= s->m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    ncf_filter_ f;
    ncf_status st = ncf_filter_init_(&f, rules, s->m->cfg.n_items);
    if (st != NCF_OK) return st;
    st = recommend_filtered(s, user, &f, k, items, scores, n_out);
    ncf_filter_free_(&f);
    return st;
}

ncf_status ncf_scorer_recommend_many(const ncf_scorer *s, const int32_t *users, int n, int k, int threads,
                                     int32_t *items, float *scores, int *counts)
{
    return ncf_scorer_recommend_many_ex(s, users, n, NULL, k, threads, items, scores, counts);
}

ncf_status ncf_scorer_recommend_many_ex(const ncf_scorer *s, const int32_t *users, int n, const ncf_rules *rules,
                                        int k, int threads, int32_t *items, float *scores, int *counts)
{
    for (int j = 0; j < n; j++)
        if (users[j] < 0 || users[j] >= s->m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    ncf_filter_ f; /* prepared once, read by every thread */
    ncf_status st = ncf_filter_init_(&f, rules, s->m->cfg.n_items);
    if (st != NCF_OK) return st;
    int failed = 0; /* a flag any thread may set: the status is then NCF_ERR_NOMEM */
    const int T = ncf_threads_resolve(threads);
    (void)T; /* one thread without OpenMP */
#pragma omp parallel for schedule(dynamic, 16) num_threads(T)
    for (int j = 0; j < n; j++) {
        if (failed) continue;
        if (recommend_filtered(s, users[j], &f, k, items + (size_t)j * (size_t)k, scores + (size_t)j * (size_t)k,
                               &counts[j]) != NCF_OK)
            failed = 1;
    }
    ncf_filter_free_(&f);
    return failed ? NCF_ERR_NOMEM : NCF_OK;
}

int ncf_scorer_popular_ex(const ncf_scorer *s, const ncf_rules *rules, int k, int32_t *items, float *counts)
{
    if (!rules) return ncf_scorer_popular(s, k, items, counts);
    ncf_filter_ f;
    ncf_status st = ncf_filter_init_(&f, rules, s->m->cfg.n_items);
    if (st != NCF_OK) return (int)st;
    int n = 0;
    for (int32_t q = 0; q < s->m->cfg.n_items && n < k; q++) {
        if (!ncf_filter_allows_item_(&f, s->popular[q])) continue;
        items[n] = s->popular[q];
        if (counts) counts[n] = s->pop_count[q];
        n++;
    }
    ncf_filter_free_(&f);
    return n;
}

/* ---- for fold-in (foldin.c) ----------------------------------------------- */
const float *ncf_scorer_item_halves_(const ncf_scorer *s) { return s->item_halves; }

ncf_status ncf_scorer_recommend_view_(const ncf_scorer *s, const ncf_model *view, int32_t user, int k,
                                      int32_t *items, float *scores, int *n_out)
{
    ncf_scorer t = *s; /* the same item halves and popularity, another model view */
    t.m = view;
    return ncf_scorer_recommend(&t, user, k, items, scores, n_out);
}
