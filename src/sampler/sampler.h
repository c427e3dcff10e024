/* sampler.h — the per-epoch training examples: every training positive with
 * `neg` uniformly drawn negatives (items the user has no training
 * interaction with; a draw that hits one is redrawn, so each positive gets
 * exactly `neg`), in a uniformly random order. Membership is a bitset when
 * users x items fits in 128 MiB, else a bitmap of the current user's items
 * per thread (positives come user by user), else a binary search in the
 * user's sorted items. The order comes from random buckets, each shuffled
 * in cache (sampler.c), all in parallel.
 * Deterministic: blocks of positives, chunks of blocks and buckets draw
 * from streams of their own (seed, epoch, index; core/streams.h), so the
 * result does not depend on the number of threads. */
#ifndef NCF_SAMPLER_H
#define NCF_SAMPLER_H

#include <stdint.h>

#include "ncf/data.h"
#include "ncf/train.h"

/* One training example, 12 bytes (an epoch holds one per scored pair: 80M
 * of them for 16M interactions): BCE uses (user, item, label 1 or 0); the
 * pairwise loss uses (user, item = positive, item2 = negative). With BCE
 * the trainer keeps its look-ahead (train/rows.h) in the rest of the
 * third word: bits 1-15 of `label` (read the label as label & 1) and
 * user_ahead; the sampler writes them zero. */
typedef struct ncf_sample {
    int32_t user, item;
    union {
        int32_t item2; /* pairwise loss */
        struct {
            uint16_t label;      /* BCE: bit 0 */
            uint16_t user_ahead; /* BCE: the trainer's */
        };
    };
} ncf_sample;
_Static_assert(sizeof(ncf_sample) == 12, "ncf_sample is three int32");

typedef struct ncf_sampler {
    const ncf_dataset *ds;
    uint64_t *bits; /* (users of the range) * n_items bits, or NULL */
    int64_t n_pos;
    int32_t *pos_user; /* the range's positives in CSR order */
    int64_t bucket;    /* samples per shuffle bucket on average (tests set it small) */
    int32_t u0;        /* the range's first user */
    int64_t pos0;      /* its first positive in ds->train_items */
    uint64_t key;      /* added to every stream index: 0 for all users, else
                          (shard + 1) << 40 (block, chunk and bucket indices stay below 2^40) */
} ncf_sampler;

/* A sampler of every user's positives (the one-process order). */
ncf_status ncf_sampler_init_(ncf_sampler *s, const ncf_dataset *ds);
/* A sampler of the positives of users [u0, u1) alone, its streams keyed
 * by shard (sharded training: the samples of shard `shard`). */
ncf_status ncf_sampler_init_range_(ncf_sampler *s, const ncf_dataset *ds, int32_t u0, int32_t u1, int shard);
void ncf_sampler_free_(ncf_sampler *s);

/* Number of ncf_sample entries one epoch produces. */
int64_t ncf_sampler_count_(const ncf_sampler *s, ncf_loss loss, int neg);

/* Fills out (ncf_sampler_count_ entries) with one epoch's samples in their
 * shuffled order. NCF_ERR_NOMEM when its working memory (a few MB at 16M
 * interactions) cannot be had. */
ncf_status ncf_sampler_epoch_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int threads,
                              ncf_sample *out);

/* The same, calling visit(ctx, from, to) on every sample once it is in
 * its final place, in ranges from the last to the first: with one thread
 * on each shuffle bucket right after its shuffle, while it is in cache
 * (the trainer's backward pass of the look-ahead runs there); with more,
 * once on all the samples at the end. The samples do not depend on it. */
typedef void (*ncf_sampler_visit)(void *ctx, int64_t from, int64_t to);
ncf_status ncf_sampler_epoch_visit_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch,
                                    int threads, ncf_sample *out, ncf_sampler_visit visit, void *ctx);

#endif
