/* scorer.c — top-K over all items for one user or many, as serving and
 * `ncf recommend --all` need: index checks and a popularity list for
 * unknown users around the top-K engine (model/topk.h: blocked scores,
 * a bounded heap per user, the user's training items skipped, NaN scores
 * last, ties to the lower index). Read-only after creation: safe to share
 * between threads. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
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

ncf_status ncf_scorer_recommend(const ncf_scorer *s, int32_t user, int k, int32_t *items, float *scores, int *n_out)
{
    *n_out = 0;
    if (user < 0 || user >= s->m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    return ncf_topk_recommend_(s->topk, &user, 1, k, NULL, 1, items, scores, n_out);
}

ncf_status ncf_scorer_recommend_many(const ncf_scorer *s, const int32_t *users, int n, int k, int threads,
                                     int32_t *items, float *scores, int *counts)
{
    for (int j = 0; j < n; j++)
        if (users[j] < 0 || users[j] >= s->m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    return ncf_topk_recommend_(s->topk, users, n, k, NULL, threads, items, scores, counts);
}
