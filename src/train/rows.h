/* rows.h — the embedding rows' state during training (rows.c): per-thread
 * gradient sums of the rows a step touches, their updates, and the dense
 * modes' catch-up of untouched rows through the synced counters. Called
 * from the step (step.c) on the thread that owns the rows. */
#ifndef NCF_TRAIN_ROWS_H
#define NCF_TRAIN_ROWS_H

#include "train/engine.h"

/* Adds the embedding gradients of one side (0 users, 1 items) of the batch
 * samples at positions at[0 .. n) (all n when at is NULL), in that order,
 * into thread tid's sums for the rows in [lo, hi); lists each row the
 * first time (w.touched). */
void rows_sum(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo, int32_t hi);

/* Clears the places rows_sum gave rows touched[from .. to) of a side
 * (range start lo). */
void rows_clear_places(engine *t, int side, int tid, int from, int to, int32_t lo);

/* After the gradients are in: sums the item gradients of the samples at
 * items[0 .. n_items) into thread tid's item rows and updates every row it
 * listed (step gstep + 1; as: Adam's constants, NULL for the others). */
void rows_update(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid, int64_t gstep,
                 const ncf_adam_step *as);

/* Dense modes, before step gstep + 1's forward pass: brings the rows of one
 * side that samples at[0 .. n) read, within [lo, hi), up to date through
 * step gstep. */
void rows_catch_up(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo,
                   int32_t hi, int64_t gstep);

#endif
