/* eval.c — sampled leave-one-out evaluation (NCF paper protocol): HR@K and
 * NDCG@K with the tie rule "a negative scoring >= the held-out item ranks
 * above it", after dropping listed negatives equal to the held-out item and
 * repeated negatives. Per-case results are summed in case order, so the
 * figures do not depend on the thread count. For NeuMF and MLP the first
 * layer is split: each item's half is computed once, each user's once.
 * Full-ranking evaluation is not here (yet). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
#include "ncf/train.h"

int ncf_negatives_clean(int32_t item, int32_t *negs, int n)
{
    int kept = 0;
    for (int k = 0; k < n; k++) {
        int32_t j = negs[k];
        if (j == item) continue;
        int dup = 0;
        for (int q = 0; q < kept && !dup; q++) dup = negs[q] == j;
        if (!dup) negs[kept++] = j;
    }
    return kept;
}

int ncf_rank_of(float item_score, const float *neg_scores, int n)
{
    int r = 0;
    for (int k = 0; k < n; k++) r += neg_scores[k] >= item_score;
    return r;
}

void ncf_metrics_add_rank(int rank, int k, double *hr_sum, double *ndcg_sum)
{
    if (rank < k) {
        *hr_sum += 1.0;
        *ndcg_sum += 1.0 / log2((double)rank + 2.0);
    }
}

ncf_status ncf_evaluate(const ncf_model *m, const ncf_dataset *ds, int topk, int threads, ncf_metrics *out,
                        ncf_err *err)
{
    memset(out, 0, sizeof *out);
    out->topk = topk;
    if (topk < 1) return ncf_fail_(err, NCF_ERR_ARG, "topk must be >= 1");
    if (ds->n_users != m->cfg.n_users || ds->n_items != m->cfg.n_items)
        return ncf_fail_(err, NCF_ERR_ARG, "dataset has %d users and %d items, the model %d and %d", ds->n_users,
                         ds->n_items, m->cfg.n_users, m->cfg.n_items);
    const int32_t n = ds->n_test;
    if (n == 0) return ncf_fail_(err, NCF_ERR_EMPTY, "no test cases to evaluate");
    int64_t max_neg = 0;
    for (int32_t c = 0; c < n; c++) {
        int64_t k = ds->test_neg_offsets[c + 1] - ds->test_neg_offsets[c];
        if (k > max_neg) max_neg = k;
    }
    int *rank = malloc((size_t)n * sizeof *rank);
    if (!rank) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    const int T = ncf_threads_resolve(threads);
    (void)T; /* unused when built without OpenMP */
    int failed = 0;
    /* split first layer: every item's half once (NULL: the model has none) */
    float *ih = ncf_model_item_halves_(m, T);
    const int split = ih != NULL;
    if (m->n_layers > 0 && m->E > 0 && !ih) {
        free(rank);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    const size_t h = split ? (size_t)m->out[0] : 0;
#pragma omp parallel num_threads(T)
    {
        float *act = ncf_alloc_aligned_(m->act_size * sizeof(float));
        float *scores = malloc(((size_t)max_neg + 1) * sizeof *scores);
        int32_t *negs = malloc(((size_t)max_neg + 1) * sizeof *negs);
        int32_t *stamp = calloc((size_t)ds->n_items, sizeof *stamp);
        float *uh = ncf_alloc_aligned_((h + 1) * sizeof(float));
        if (!act || !scores || !negs || !stamp || !uh) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t c = 0; c < n; c++) {
            if (!act || !scores || !negs || !stamp || !uh) continue;
            const int32_t u = ds->test_users[c], i = ds->test_items[c];
            /* drop the held-out item and repeats, O(n) with a stamp per item */
            int kept = 0;
            stamp[i] = c + 1;
            for (int64_t k = ds->test_neg_offsets[c]; k < ds->test_neg_offsets[c + 1]; k++) {
                int32_t j = ds->test_negs[k];
                if (stamp[j] == c + 1) continue;
                stamp[j] = c + 1;
                negs[kept++] = j;
            }
            float s;
            if (split) {
                ncf_model_user_half_(m, u, uh);
                s = ncf_model_forward_split_(m, u, i, uh, ih + (size_t)i * h, act);
                for (int k = 0; k < kept; k++)
                    scores[k] = ncf_model_forward_split_(m, u, negs[k], uh, ih + (size_t)negs[k] * h, act);
            } else {
                s = ncf_model_forward_(m, u, i, act, NULL);
                for (int k = 0; k < kept; k++) scores[k] = ncf_model_forward_(m, u, negs[k], act, NULL);
            }
            rank[c] = ncf_rank_of(s, scores, kept);
        }
        ncf_free_aligned_(act);
        free(scores);
        free(negs);
        free(stamp);
        ncf_free_aligned_(uh);
    }
    ncf_free_aligned_(ih);
    if (failed) {
        free(rank);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    double hr = 0.0, ndcg = 0.0;
    for (int32_t c = 0; c < n; c++) ncf_metrics_add_rank(rank[c], topk, &hr, &ndcg);
    free(rank);
    out->hr = hr / n;
    out->ndcg = ndcg / n;
    out->n_cases = n;
    return NCF_OK;
}
