/* sampler.h — the per-epoch training examples: every training positive with
 * `neg` uniformly drawn negatives (items the user has no training
 * interaction with; a draw that hits one is redrawn, so each positive gets
 * exactly `neg`), then a shuffle. Membership is a bitset when users x items
 * fits in 128 MiB, else a bitmap of the current user's items per thread
 * (positives come user by user), else a binary search in the user's sorted
 * items.
 * Deterministic: blocks of positives draw from streams (seed, epoch, block),
 * so the result does not depend on the number of threads. */
#ifndef NCF_SAMPLER_H
#define NCF_SAMPLER_H

#include "model/model_impl.h"
#include "ncf/data.h"

typedef struct ncf_sampler {
    const ncf_dataset *ds;
    uint64_t *bits; /* n_users * n_items bits, or NULL */
    int64_t n_pos;
    int32_t *pos_user; /* positives in CSR order */
} ncf_sampler;

ncf_status ncf_sampler_init_(ncf_sampler *s, const ncf_dataset *ds);
void ncf_sampler_free_(ncf_sampler *s);

/* 1 when (u, i) is a training positive. */
int ncf_sampler_has_(const ncf_sampler *s, int32_t u, int32_t i);

/* Number of ncf_sample entries one epoch produces. */
int64_t ncf_sampler_count_(const ncf_sampler *s, ncf_loss loss, int neg);

/* Fills out (ncf_sampler_count_ entries) for one epoch and shuffles it. */
void ncf_sampler_epoch_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int threads,
                        ncf_sample *out);

#endif
