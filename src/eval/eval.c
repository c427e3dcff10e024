/* eval.c — sampled leave-one-out evaluation (NCF paper protocol): HR@K and
 * NDCG@K with the tie rule "a negative scoring >= the held-out item ranks
 * above it", after dropping listed negatives equal to the held-out item and
 * repeated negatives. Per-case results are summed in case order, so the
 * figures do not depend on the thread count. For NeuMF and MLP the first
 * layer is split: each item's half is computed once, each user's once.
 * Also full-ranking evaluation: every item the user has no training
 * interaction with is a candidate; the held-out items' ranks come from the
 * top-K engine (model/topk.h), which counts the candidates scoring above
 * each one and stops at kmax. ncf_full_ranks_ is that rank over a score
 * array (the tests' reference). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "eval/eval.h"
#include "model/model_impl.h"
#include "model/topk.h"
#include "ncf/train.h"

int ncf_negatives_clean_(int32_t item, int32_t *negs, int n)
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

int ncf_rank_of_(float item_score, const float *neg_scores, int n)
{
    int r = 0;
    for (int k = 0; k < n; k++) r += neg_scores[k] >= item_score;
    return r;
}

void ncf_metrics_add_rank_(int rank, int k, double *hr_sum, double *ndcg_sum)
{
    /* one held-out item at one cutoff: the general rule's HR and NDCG */
    ncf_eval_config ec;
    ncf_eval_config_default(&ec);
    ec.k[0] = k;
    double sums[NCF_MAX_TOPK][NCF_METRICS] = {{0}};
    ncf_metrics_add_ranks_(&rank, 1, &ec, sums);
    *hr_sum += sums[0][NCF_METRIC_HR];
    *ndcg_sum += sums[0][NCF_METRIC_NDCG];
}

const char *ncf_metric_name(ncf_metric metric)
{
    switch (metric) {
    case NCF_METRIC_HR: return "hr";
    case NCF_METRIC_RECALL: return "recall";
    case NCF_METRIC_PRECISION: return "precision";
    case NCF_METRIC_NDCG: return "ndcg";
    case NCF_METRIC_MRR: return "mrr";
    case NCF_METRICS: break;
    }
    return "?";
}

void ncf_eval_config_default(ncf_eval_config *ec)
{
    memset(ec, 0, sizeof *ec);
    ec->mode = NCF_EVAL_SAMPLED;
    ec->n_k = 1;
    ec->k[0] = 10;
}

ncf_status ncf_eval_config_check(const ncf_eval_config *ec, ncf_err *err)
{
    if (ec->mode != NCF_EVAL_SAMPLED && ec->mode != NCF_EVAL_FULL)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown evaluation mode %d", (int)ec->mode);
    if (ec->n_k < 1 || ec->n_k > NCF_MAX_TOPK)
        return ncf_fail_(err, NCF_ERR_ARG, "1 to %d cutoffs K, got %d", NCF_MAX_TOPK, ec->n_k);
    for (int j = 0; j < ec->n_k; j++)
        if (ec->k[j] < 1 || ec->k[j] > 100000)
            return ncf_fail_(err, NCF_ERR_ARG, "a cutoff K must be in 1..100000, got %d", ec->k[j]);
    return NCF_OK;
}

static int kmax_of(const ncf_eval_config *ec)
{
    int kmax = 0;
    for (int j = 0; j < ec->n_k; j++)
        if (ec->k[j] > kmax) kmax = ec->k[j];
    return kmax;
}

void ncf_metrics_add_ranks_(const int *ranks, int n_test, const ncf_eval_config *ec, double sums[][NCF_METRICS])
{
    if (n_test <= 0) return;
    for (int j = 0; j < ec->n_k; j++) {
        const int K = ec->k[j];
        int hits = 0, best = -1;
        double dcg = 0.0, idcg = 0.0;
        for (int t = 0; t < n_test; t++)
            if (ranks[t] < K) {
                hits++;
                dcg += 1.0 / log2((double)ranks[t] + 2.0);
                if (best < 0 || ranks[t] < best) best = ranks[t];
            }
        for (int q = 0; q < (n_test < K ? n_test : K); q++) idcg += 1.0 / log2((double)q + 2.0);
        sums[j][NCF_METRIC_HR] += hits > 0;
        sums[j][NCF_METRIC_RECALL] += (double)hits / n_test;
        sums[j][NCF_METRIC_PRECISION] += (double)hits / K;
        sums[j][NCF_METRIC_NDCG] += dcg / idcg;
        sums[j][NCF_METRIC_MRR] += best >= 0 ? 1.0 / (best + 1.0) : 0.0;
    }
}

/* min-heap of floats: the root is the smallest kept score */
static void heap_sift_down(float *h, int n, int q)
{
    for (;;) {
        int l = 2 * q + 1, r = l + 1, w = q;
        if (l < n && h[l] < h[w]) w = l;
        if (r < n && h[r] < h[w]) w = r;
        if (w == q) return;
        float t = h[q];
        h[q] = h[w];
        h[w] = t;
        q = w;
    }
}

/* Walking items i = 0, 1, ... in order with cursor *e into the sorted
 * exclusion list: 1 when i is excluded (the user's training items). */
static inline int excluded_at(const int32_t *excl, int64_t n_excl, int64_t *e, int32_t i)
{
    while (*e < n_excl && excl[*e] < i) ++*e;
    return *e < n_excl && excl[*e] == i;
}

void ncf_full_ranks_(const float *scores, int32_t n_items, const int32_t *excl, int64_t n_excl, const int32_t *test,
                     int n_test, int kmax, float *heap, int *ranks)
{
    /* the kmax largest candidate scores (NaN never enters) */
    int n = 0;
    int64_t e = 0;
    for (int32_t i = 0; i < n_items; i++) {
        if (excluded_at(excl, n_excl, &e, i)) continue;
        const float v = scores[i];
        if (n < kmax) {
            if (v != v) continue;
            int q = n++;
            heap[q] = v;
            while (q > 0 && heap[(q - 1) / 2] > heap[q]) { /* sift up */
                float t = heap[q];
                heap[q] = heap[(q - 1) / 2];
                heap[(q - 1) / 2] = t;
                q = (q - 1) / 2;
            }
        } else if (v > heap[0]) {
            heap[0] = v;
            heap_sift_down(heap, n, 0);
        }
    }
    const int full = n == kmax;
    const float th = full ? heap[0] : 0.0f;
    int64_t n_ge_th = -1; /* candidates scoring >= th, counted when needed */
    for (int t = 0; t < n_test; t++) {
        const float st = scores[test[t]];
        ranks[t] = kmax;
        if (ncf_sorted_has_(excl, n_excl, test[t]) || st != st) continue;
        if (!full || st > th) { /* every candidate scoring >= st is in the heap, test[t] too */
            int r = -1;
            for (int q = 0; q < n; q++) r += heap[q] >= st;
            ranks[t] = r < kmax ? r : kmax;
        } else if (st == th) {
            if (n_ge_th < 0) {
                n_ge_th = 0;
                e = 0;
                for (int32_t i = 0; i < n_items; i++)
                    if (!excluded_at(excl, n_excl, &e, i)) n_ge_th += scores[i] >= th;
            }
            ranks[t] = n_ge_th - 1 < kmax ? (int)(n_ge_th - 1) : kmax;
        }
    }
}

/* Each case's rank among its own negatives (sampled protocol). */
static ncf_status ranks_sampled(const ncf_model *m, const ncf_cases *cs, int T, const uint8_t *own, int *rank)
{
    const int32_t n = cs->n;
    int64_t max_neg = 0;
    for (int32_t c = 0; c < n; c++) {
        int64_t k = cs->neg_offsets[c + 1] - cs->neg_offsets[c];
        if (k > max_neg) max_neg = k;
    }
    int failed = 0;
    /* split first layer: every item's half once (NULL: the model has none) */
    float *ih = ncf_model_item_halves_(m, T);
    const int split = ih != NULL;
    if (m->n_layers > 0 && m->E > 0 && !ih) return NCF_ERR_NOMEM;
    const size_t h = split ? (size_t)m->out[0] : 0;
#pragma omp parallel num_threads(T)
    {
        float *act = ncf_alloc_aligned_(m->act_size * sizeof(float));
        float *scores = malloc(((size_t)max_neg + 1) * sizeof *scores);
        int32_t *negs = malloc(((size_t)max_neg + 1) * sizeof *negs);
        int32_t *stamp = calloc((size_t)m->cfg.n_items, sizeof *stamp);
        float *uh = ncf_alloc_aligned_((h + 1) * sizeof(float));
        if (!act || !scores || !negs || !stamp || !uh) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t c = 0; c < n; c++) {
            if (!act || !scores || !negs || !stamp || !uh) continue;
            const int32_t u = cs->users[c], i = cs->items[c];
            if (own && !own[u]) { /* another process ranks it */
                rank[c] = 0;
                continue;
            }
            /* drop the held-out item and repeats, O(n) with a stamp per item */
            int kept = 0;
            stamp[i] = c + 1;
            for (int64_t k = cs->neg_offsets[c]; k < cs->neg_offsets[c + 1]; k++) {
                int32_t j = cs->negs[k];
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
            rank[c] = ncf_rank_of_(s, scores, kept);
        }
        ncf_free_aligned_(act);
        free(scores);
        free(negs);
        free(stamp);
        ncf_free_aligned_(uh);
    }
    ncf_free_aligned_(ih);
    return failed ? NCF_ERR_NOMEM : NCF_OK;
}

/* Full ranking: cases grouped by user (group g = order[goff[g] .. goff[g+1])),
 * ranks per case, by the top-K engine (model/topk.h): candidates are the
 * items not in the user's training items of ds. own (NULL: every user)
 * marks the users this process ranks; the other groups' ranks are 0
 * (another process ranks them). */
static ncf_status ranks_full(const ncf_model *m, const ncf_dataset *ds, const ncf_cases *cs, const int32_t *order,
                             const int32_t *goff, int32_t n_groups, int kmax, int T, const uint8_t *own, int *rank)
{
    ncf_topk *e = NULL;
    if (ncf_topk_create_(m, T, &e) != NCF_OK) return NCF_ERR_NOMEM;
    const int32_t n = goff[n_groups];
    int32_t *users = malloc(((size_t)n_groups + 1) * sizeof *users);
    int32_t *off = malloc(((size_t)n_groups + 1) * sizeof *off);
    int32_t *test = malloc(((size_t)n + 1) * sizeof *test);
    int32_t *at = malloc(((size_t)n + 1) * sizeof *at); /* the case of each test slot */
    int *r = malloc(((size_t)n + 1) * sizeof *r);
    ncf_status st = NCF_ERR_NOMEM;
    if (users && off && test && at && r) {
        int32_t ng = 0, nc = 0; /* the groups (and cases) this process ranks */
        off[0] = 0;
        for (int32_t g = 0; g < n_groups; g++) {
            const int32_t u = cs->users[order[goff[g]]];
            for (int32_t c = goff[g]; c < goff[g + 1]; c++) rank[order[c]] = 0;
            if (own && !own[u]) continue;
            users[ng] = u;
            for (int32_t c = goff[g]; c < goff[g + 1]; c++, nc++) test[nc] = cs->items[order[c]], at[nc] = order[c];
            off[++ng] = nc;
        }
        const ncf_topk_filter f = {.seen_off = ds->train_offsets, .seen = ds->train_items};
        st = ncf_topk_ranks_(e, users, ng, off, test, &f, kmax, T, r);
        if (st == NCF_OK)
            for (int32_t c = 0; c < nc; c++) rank[at[c]] = r[c];
    }
    free(users);
    free(off);
    free(test);
    free(at);
    free(r);
    ncf_topk_free_(e);
    return st;
}

ncf_status ncf_evaluate_cases(const ncf_model *m, const ncf_dataset *ds, const ncf_cases *cs,
                              const ncf_eval_config *ec, int threads, ncf_metrics *out, ncf_err *err)
{
    return ncf_evaluate_cases_own_(m, ds, cs, ec, threads, NULL, NULL, NULL, out, err);
}

ncf_status ncf_evaluate_cases_own_(const ncf_model *m, const ncf_dataset *ds, const ncf_cases *cs,
                                   const ncf_eval_config *ec, int threads, const uint8_t *own,
                                   int (*combine)(int *rank, int32_t n, void *arg), void *arg, ncf_metrics *out,
                                   ncf_err *err)
{
    memset(out, 0, sizeof *out);
    ncf_status st = ncf_eval_config_check(ec, err);
    if (st != NCF_OK) return st;
    out->n_k = ec->n_k;
    memcpy(out->k, ec->k, sizeof out->k);
    out->topk = ec->k[0];
    if (ds->n_users != m->cfg.n_users || ds->n_items != m->cfg.n_items)
        return ncf_fail_(err, NCF_ERR_ARG, "dataset has %d users and %d items, the model %d and %d", ds->n_users,
                         ds->n_items, m->cfg.n_users, m->cfg.n_items);
    const int32_t n = cs->n;
    if (n == 0) return ncf_fail_(err, NCF_ERR_EMPTY, "no held-out cases to evaluate");
    const int T = ncf_threads_resolve(threads);
    int *rank = malloc((size_t)n * sizeof *rank);
    /* groups: one per case (sampled) or per user (full), users in increasing order */
    int32_t *order = malloc((size_t)n * sizeof *order), *goff = malloc(((size_t)n + 1) * sizeof *goff);
    /* full ranking groups the cases by user through a count per user */
    int32_t *count = ec->mode == NCF_EVAL_FULL ? calloc((size_t)ds->n_users + 1, sizeof *count) : NULL;
    int32_t n_groups = 0;
    if (!rank || !order || !goff || (ec->mode == NCF_EVAL_FULL && !count)) goto nomem;
    if (ec->mode == NCF_EVAL_SAMPLED) {
        for (int32_t c = 0; c < n; c++) order[c] = goff[c] = c;
        n_groups = n;
        goff[n] = n;
        st = ranks_sampled(m, cs, T, own, rank);
    } else {
        for (int32_t c = 0; c < n; c++) count[cs->users[c] + 1]++;
        for (int32_t u = 0; u < ds->n_users; u++) count[u + 1] += count[u];
        for (int32_t u = 0; u < ds->n_users; u++)
            if (count[u + 1] > count[u]) goff[n_groups++] = count[u];
        goff[n_groups] = n;
        for (int32_t c = 0; c < n; c++) order[count[cs->users[c]]++] = c; /* stable: case order within a user */
        st = ranks_full(m, ds, cs, order, goff, n_groups, kmax_of(ec), T, own, rank);
    }
    if (st != NCF_OK) goto nomem;
    if (combine && combine(rank, n, arg) != 0) goto nomem;
    double sums[NCF_MAX_TOPK][NCF_METRICS] = {{0}};
    int *r = malloc((size_t)n * sizeof *r);
    if (!r) goto nomem;
    for (int32_t g = 0; g < n_groups; g++) {
        int nt = goff[g + 1] - goff[g];
        for (int t = 0; t < nt; t++) r[t] = rank[order[goff[g] + t]];
        ncf_metrics_add_ranks_(r, nt, ec, sums);
    }
    free(r);
    for (int j = 0; j < ec->n_k; j++)
        for (int q = 0; q < NCF_METRICS; q++) out->at[j][q] = sums[j][q] / n_groups;
    out->hr = out->at[0][NCF_METRIC_HR];
    out->ndcg = out->at[0][NCF_METRIC_NDCG];
    out->n_cases = n_groups;
    free(rank);
    free(order);
    free(goff);
    free(count);
    return NCF_OK;
nomem:
    free(rank);
    free(order);
    free(goff);
    free(count);
    return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
}

ncf_status ncf_evaluate_(const ncf_model *m, const ncf_dataset *ds, int topk, int threads, ncf_metrics *out,
                         ncf_err *err)
{
    ncf_eval_config ec;
    ncf_eval_config_default(&ec);
    ec.k[0] = topk;
    return ncf_evaluate_cases(m, ds, &ds->test, &ec, threads, out, err);
}
