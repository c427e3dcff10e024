/* streams.h — the registry of random streams: every ncf_rng_seed_(&rng,
 * seed, TAG, index) in libncf takes its TAG from here, so that no two uses
 * share a stream by accident and every stream is listed with what it seeds
 * and what its index is. Not part of the public API; it holds no state and
 * does not seed anything itself (core.h's ncf_rng_seed_ does).
 *
 * The values define results: a stream's draws are a function of (seed,
 * tag, index) alone, so changing a tag (or a per-epoch base, or how an
 * index is formed) changes every model, split and synthetic file made with
 * it, and a checkpoint resumed across the change would no longer give the
 * bytes of an uninterrupted run. Add new streams with new values; never
 * renumber. The values are historical, not meaningful. */
#ifndef NCF_STREAMS_H
#define NCF_STREAMS_H

#include <stdint.h>

enum ncf_stream {
    /* Model initialisation (model.c, ncf_model_create), from the model's
     * seed: index t (NCF_TABLE_*) draws the normal weights of embedding
     * table t; index NCF_STREAM_INIT_DENSE draws the hidden layers (Glorot)
     * and then the output layer (LeCun), in arena order. */
    NCF_STREAM_INIT = 0x1417,
    /* Dropout masks (model.c): seed is the epoch's dropout seed
     * (ncf_stream_dropout_seed_), index 2 * (the sample's place in the
     * epoch) + (1 for a pairwise sample's negative row, else 0). */
    NCF_STREAM_DROPOUT = 0xd50f,
    /* Evaluation negatives drawn when the data lists none (dataset.c), from
     * the load seed: index is the user, so a user's negatives depend on
     * nothing else in the file. One stream for the test cases, one for the
     * validation cases. */
    NCF_STREAM_TEST_NEGATIVES = 0x7e57,
    NCF_STREAM_VALID_NEGATIVES = 0x7a11d,
    /* Synthetic data (synth.c), from the options' seed: index 0 draws the
     * item popularity order and the item clusters; the per-user stream
     * (index the user) draws that user's interactions. */
    NCF_STREAM_SYNTH = 0x5717,
    NCF_STREAM_SYNTH_USER = 0x5718,
    /* Per-epoch streams of the sampler (sampler.c), from the training seed;
     * the tag is the base plus the 1-based epoch (ncf_stream_*_ below).
     * Sharded training (--shards, src/train/shard.c) has a sampler per
     * shard s whose indices are these plus (s + 1) << 40 (the sampler's
     * key; block, chunk and bucket indices stay below 2^40). */
    NCF_STREAM_NEGATIVES_BASE = 0x5a3e0000, /* training negatives: index the block of positives */
    NCF_STREAM_BUCKETS_BASE = 0x5b0c0000,   /* shuffle bucket of each sample: index the chunk of blocks */
    NCF_STREAM_SHUFFLE_BASE = 0x50ff0000,   /* Fisher-Yates within a bucket: index the bucket */
    /* Fold-in negatives (foldin.c), from the request's seed
     * (ncf_foldin_config.seed): index a hash of the sorted, deduplicated
     * known history, so the same request draws the same negatives. */
    NCF_STREAM_FOLDIN = 0xf01d
};

/* The index of NCF_STREAM_INIT that draws the dense arena (above every table). */
#define NCF_STREAM_INIT_DENSE 100

static inline uint64_t ncf_stream_negatives_(int epoch) { return (uint64_t)NCF_STREAM_NEGATIVES_BASE + (uint64_t)epoch; }
static inline uint64_t ncf_stream_buckets_(int epoch) { return (uint64_t)NCF_STREAM_BUCKETS_BASE + (uint64_t)epoch; }
static inline uint64_t ncf_stream_shuffle_(int epoch) { return (uint64_t)NCF_STREAM_SHUFFLE_BASE + (uint64_t)epoch; }

/* The seed NCF_STREAM_DROPOUT is drawn from in epoch (1-based) of a run
 * with seed: the trainer derives it this way (src/train/engine.c builds
 * ncf_grad_args.drop_seed with the same expression). */
static inline uint64_t ncf_stream_dropout_seed_(uint64_t seed, int epoch) { return seed ^ ((uint64_t)epoch << 40); }

#endif
