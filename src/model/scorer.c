/* scorer.c — top-K over all items for one user or many, as serving and
 * `ncf recommend --all` need: index checks, business rules (ncf_rules,
 * prepared by rules.c, handed to the engine as item bitmaps) and a
 * popularity list for unknown users, around the top-K engine (model/topk.h:
 * blocked scores, a bounded heap per user, the user's training items
 * skipped unless the rules include them, NaN scores last, ties to the lower
 * index). Read-only after creation: safe to share between threads. */
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
    ncf_topk *topk;      /* the scores and the selection (model/topk.h) */
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
    if (ncf_topk_create_(m, threads, &s->topk) != NCF_OK) goto nomem;
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
    ncf_topk_free_(s->topk);
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
    return ncf_topk_score_(s->topk, user, items, n, scores);
}

/* The engine's filter for prepared rules: the lists as item bitmaps
 * (allowed NULL without an allow-list, denied NULL without a deny-list),
 * in *maps (one allocation, free()). NCF_ERR_NOMEM. */
static ncf_status engine_filter(const ncf_filter_ *f, int32_t n_items, ncf_topk_filter *out, uint64_t **maps)
{
    memset(out, 0, sizeof *out);
    *maps = NULL;
    out->include_seen = f->include_seen;
    if (!f->only && !f->n_exclude) return NCF_OK;
    const size_t words = ((size_t)n_items + 63) / 64;
    uint64_t *m = calloc(2 * words, sizeof *m);
    if (!m) return NCF_ERR_NOMEM;
    if (f->only) {
        for (int32_t q = 0; q < f->n_only; q++) m[f->only[q] >> 6] |= (uint64_t)1 << (f->only[q] & 63);
        out->allowed = m;
    }
    if (f->n_exclude) {
        uint64_t *d = m + words;
        for (int32_t q = 0; q < f->n_exclude; q++) d[f->exclude[q] >> 6] |= (uint64_t)1 << (f->exclude[q] & 63);
        out->denied = d;
    }
    *maps = m;
    return NCF_OK;
}

/* n users' top k under rules (NULL: the default), on the engine e (the
 * scorer's, or a copy reading another model view's user rows). */
static ncf_status recommend_rules(const ncf_topk *e, int32_t n_items, const int32_t *users, int n,
                                  const ncf_rules *rules, int k, int threads, int32_t *items, float *scores,
                                  int *counts)
{
    if (!rules) return ncf_topk_recommend_(e, users, n, k, NULL, threads, items, scores, counts);
    ncf_filter_ f; /* prepared once, read by every thread */
    ncf_status st = ncf_filter_init_(&f, rules, n_items);
    if (st != NCF_OK) return st;
    ncf_topk_filter tf;
    uint64_t *maps;
    st = engine_filter(&f, n_items, &tf, &maps);
    if (st == NCF_OK) st = ncf_topk_recommend_(e, users, n, k, &tf, threads, items, scores, counts);
    free(maps);
    ncf_filter_free_(&f);
    return st;
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
    return recommend_rules(s->topk, s->m->cfg.n_items, &user, 1, rules, k, 1, items, scores, n_out);
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
    return recommend_rules(s->topk, s->m->cfg.n_items, users, n, rules, k, threads, items, scores, counts);
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
ncf_status ncf_scorer_recommend_view_(const ncf_scorer *s, const ncf_model *view, int32_t user,
                                      const ncf_rules *rules, int k, int32_t *items, float *scores, int *n_out)
{
    *n_out = 0;
    if (user < 0 || user >= view->cfg.n_users) return NCF_ERR_NOT_FOUND;
    ncf_topk *e = ncf_topk_view_(s->topk, view);
    if (!e) return NCF_ERR_NOMEM;
    ncf_status st = recommend_rules(e, view->cfg.n_items, &user, 1, rules, k, 1, items, scores, n_out);
    free(e);
    return st;
}
