/* grad.h — what the model's gradient code (model.c, ncf_model_chunk_grad_)
 * and the trainer (src/train) share: the arguments of one gradient call,
 * the layout of a sample's embedding-gradient slot, the tile size and the
 * workspace size. The samples themselves are the sampler's (ncf_sample,
 * sampler/sampler.h). Does not hold optimizer state or threads: how slots
 * are summed and rows updated is the trainer's. Not part of the public API. */
#ifndef NCF_MODEL_GRAD_H
#define NCF_MODEL_GRAD_H

#include <stddef.h>
#include <stdint.h>

#include "model/model_impl.h"
#include "ncf/train.h"
#include "sampler/sampler.h"

typedef struct ncf_grad_args {
    ncf_loss loss;
    float scale;          /* 1 / batch size */
    float reg;            /* L2 on the embedding rows a sample looks up */
    int dropout;          /* apply cfg.dropout */
    uint64_t drop_seed;   /* the epoch's dropout seed (ncf_stream_dropout_seed_, core/streams.h) */
    uint64_t sample_base; /* place in the epoch of the batch's first sample: a row's mask is
                             stream NCF_STREAM_DROPOUT, index 2 (sample_base + at(k)) + (1 for
                             a pairwise sample's negative row) */
    const int32_t *at;    /* sample k's place: at[k], or k when NULL (its entry in s and its mask) */
} ncf_grad_args;

/* Per-sample embedding gradient slot: user (F, then E, then B), item, and
 * for the pairwise loss item2; ncf_side_width_ floats each. */
static inline size_t ncf_side_width_(const ncf_model *m) { return (size_t)(m->F + m->E + m->B); }

/* Column of table t's gradient within a side of the slot. */
static inline size_t ncf_table_col_(const ncf_model *m, int t)
{
    return t == NCF_TABLE_MLP_USER || t == NCF_TABLE_MLP_ITEM ? (size_t)m->F
           : t >= NCF_TABLE_USER_BIAS                         ? (size_t)(m->F + m->E)
                                                              : 0;
}

/* Where a slot's item part starts: the user part is rounded up to whole
 * cache lines (emb_grad is 64-byte aligned), so that the thread which sums
 * a sample's items, often not the one that computed it, reads no line of
 * the user part. */
static inline size_t ncf_slot_item_(const ncf_model *m) { return (ncf_side_width_(m) + 15) & ~(size_t)15; }

/* A sample's slot: user part, item part (and item2's for the pairwise
 * losses), rounded up to whole cache lines: neighbouring slots are often
 * written by different threads. */
static inline size_t ncf_slot_width_(const ncf_model *m, ncf_loss loss)
{
    return (ncf_slot_item_(m) + (ncf_loss_pairwise(loss) ? 2 : 1) * ncf_side_width_(m) + 15) & ~(size_t)15;
}

/* Most rows one ncf_model_chunk_grad_ call handles: n samples make n rows
 * (BCE) or 2n rows (pairwise). */
#define NCF_TILE_ROWS 64

/* Floats of workspace one thread needs for ncf_model_chunk_grad_. */
size_t ncf_model_ws_floats_(const ncf_model *m);

/* Forward and backward over n samples (at most NCF_TILE_ROWS rows), sample
 * k being s[a->at[k]] (or s[k]): returns the summed loss (times scale,
 * regularisation included); adds dense gradients into dense_grad (n_dense
 * floats) and writes sample k's embedding gradients into slot k of
 * emb_grad (slots of ncf_slot_width_(m, a->loss) floats, overwritten). */
double ncf_model_chunk_grad_(const ncf_model *m, const ncf_sample *s, int n, const ncf_grad_args *a,
                             float *ws, float *dense_grad, float *emb_grad);

#endif
