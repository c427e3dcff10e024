/* eval.h — the pieces of evaluation (eval.c) below ncf_evaluate_cases:
 * cleaning a case's negatives, one case's rank, full ranking of one user,
 * the metric sums, and a one-cutoff sampled evaluation. Internal: eval.c
 * uses some of them, the tests check all of them against hand-computed
 * cases; the public evaluation is ncf_evaluate_cases (ncf/train.h). Not
 * part of the public API. */
#ifndef NCF_EVAL_EVAL_H
#define NCF_EVAL_EVAL_H

#include <stdint.h>

#include "ncf/train.h"

/* Removes from negs (in place) entries equal to item and repeats; returns
 * the new count. Order of the kept entries is preserved. The reference of
 * what ncf_evaluate_cases does to a case's listed negatives (there with a
 * stamp per item, in O(n)). */
int ncf_negatives_clean_(int32_t item, int32_t *negs, int n);

/* 0-based rank of the held-out score among negative scores: the number of
 * negatives scoring >= it. */
int ncf_rank_of_(float item_score, const float *neg_scores, int n);

/* Adds one case of rank r to HR/NDCG sums for cutoff k (ncf_metrics_add_ranks_
 * with one rank and one cutoff). */
void ncf_metrics_add_rank_(int rank, int k, double *hr_sum, double *ndcg_sum);

/* Full ranking of one user: ranks[t] = #{candidates j != test[t] :
 * scores[j] >= scores[test[t]]} (ties count against the held-out item),
 * where the candidates are the items 0..n_items-1 not in the sorted list
 * excl; a rank >= kmax is reported as kmax (only ranks < kmax matter).
 * A held-out item that is itself excluded gets kmax. heap needs kmax floats.
 * O(n_items log kmax). */
void ncf_full_ranks_(const float *scores, int32_t n_items, const int32_t *excl, int64_t n_excl, const int32_t *test,
                     int n_test, int kmax, float *heap, int *ranks);

/* Adds one user's metrics (ranks of its n_test held-out items, from
 * ncf_full_ranks_ or one sampled case) at every cutoff of ec to sums. */
void ncf_metrics_add_ranks_(const int *ranks, int n_test, const ncf_eval_config *ec, double sums[][NCF_METRICS]);

/* ncf_evaluate_cases, where only the cases of the users own marks
 * (own[u] != 0; NULL: every user) are ranked here and the others get rank
 * 0; then combine(rank, n, arg) (NULL: none; non-zero return: failure,
 * reported as out of memory) completes the ranks of all n cases before
 * the metrics are summed (sharded training adds them up across
 * processes: src/train/shard.c). */
ncf_status ncf_evaluate_cases_own_(const ncf_model *m, const ncf_dataset *ds, const ncf_cases *cs,
                                   const ncf_eval_config *ec, int threads, const uint8_t *own,
                                   int (*combine)(int *rank, int32_t n, void *arg), void *arg, ncf_metrics *out,
                                   ncf_err *err);

/* Sampled evaluation of ds->test at one cutoff (HR@topk, NDCG@topk):
 * ncf_evaluate_cases with the sampled protocol at K = topk. */
ncf_status ncf_evaluate_(const ncf_model *m, const ncf_dataset *ds, int topk, int threads, ncf_metrics *out,
                         ncf_err *err);

#endif
