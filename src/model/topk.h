/* topk.h — the top-K engine: scores of many users against every item as
 * blocked products (a block of users times a tile of items, the kernels of
 * nn/score.h), and for each user a selection kept across the tiles: the
 * top K (ncf_topk_recommend_) or the full-ranking ranks of held-out items
 * (ncf_topk_ranks_). The scorer (serving, `ncf recommend`, --all) and
 * full-ranking evaluation run on it.
 *
 * Scores: a score is a function of (user, item) alone, the same bits
 * whichever call, block or thread computed it (nn/score.h says which
 * operations, on the active kernel path). ncf_topk_score_ gives them for a
 * list of items.
 * Ranking: higher score first, ties to the lower item index, NaN after
 * every number (NaNs by index): a total order, so the top K is exact.
 * Threads: users are independent, so results do not depend on the thread
 * count. Memory: the items' panels (a feature-major copy of the item
 * tables, O(items)) and per thread a block of users times a tile of items;
 * never users x items.
 * Not here: raw ids, popularity fallbacks, metrics (scorer.c, eval.c).
 * Internal, not part of the public API. */
#ifndef NCF_MODEL_TOPK_H
#define NCF_MODEL_TOPK_H

#include <stdint.h>

#include "ncf/model.h"
#include "ncf/status.h"

/* Which items may be ranked for a user. Bitmaps over item indices: bit i
 * is (map[i / 64] >> (i % 64)) & 1. An item is a candidate when it is
 * allowed (or allowed is NULL), not denied (or denied is NULL), and, unless
 * include_seen, not in the user's excluded list: seen[seen_off[u] ..
 * seen_off[u + 1]) sorted ascending, or the model's training items when
 * seen_off is NULL. The same filter applies to every user of a call. A
 * zeroed struct means: every item but the user's training items. */
typedef struct ncf_topk_filter {
    const uint64_t *allowed;
    const uint64_t *denied;
    int include_seen;
    const int64_t *seen_off;
    const int32_t *seen;
} ncf_topk_filter;

typedef struct ncf_topk ncf_topk;

/* Packs the items of m (threads as ncf_threads_resolve; the result keeps
 * pointers into m, which must outlive it and not change). NCF_ERR_NOMEM on
 * allocation failure. Read-only afterwards: safe to share between threads. */
ncf_status ncf_topk_create_(const ncf_model *m, int threads, ncf_topk **out);
void ncf_topk_free_(ncf_topk *e);

/* For users[j], j < n (valid indices; the caller checks): the best
 * counts[j] <= k candidates, best first, in items/scores + j * k. f may be
 * NULL (the zeroed filter). k <= 0 gives counts of 0. NCF_ERR_NOMEM on
 * allocation failure (outputs then unspecified). */
ncf_status ncf_topk_recommend_(const ncf_topk *e, const int32_t *users, int n, int k, const ncf_topk_filter *f,
                               int threads, int32_t *items, float *scores, int *counts);

/* A shallow copy of e that reads its users' rows from view instead: a
 * model with the same items and layers as e's (fold-in's model with one
 * folded user), so the item panels still hold. Release it with free(), not
 * ncf_topk_free_ (it owns nothing); NULL when out of memory. */
ncf_topk *ncf_topk_view_(const ncf_topk *e, const ncf_model *view);

/* scores[q] = score of (user, items[q]), q < n; indices valid. */
ncf_status ncf_topk_score_(const ncf_topk *e, int32_t user, const int32_t *items, int n, float *scores);

/* Full ranking (src/eval/eval.h, ncf_full_ranks_): for user users[g] and
 * each held-out item t = test[q], q in [test_off[g], test_off[g + 1]):
 * ranks[q] = #{candidates j != t : score(j) >= score(t)} (ties count against
 * the held-out item), or kmax when that is >= kmax, when t is not a
 * candidate or when its score is NaN. Candidates as in f (may be NULL). */
ncf_status ncf_topk_ranks_(const ncf_topk *e, const int32_t *users, int n, const int32_t *test_off,
                           const int32_t *test, const ncf_topk_filter *f, int kmax, int threads, int *ranks);

#endif
