/* worker.h — what one thread of the training team owns (worker.c; in the
 * rows phase another thread may fill gap and plan for a chunk of its rows
 * it takes, rows.c): its
 * copies of the step's group list, its lists of touched rows and their
 * gradient sums, its catch-up lists and its forward/backward workspace.
 * Nothing here is read by another thread but, in the rows phase, the
 * touched lists (with touched_next), their sums, gap and plan of a chunk
 * another thread takes. */
#ifndef NCF_TRAIN_WORKER_H
#define NCF_TRAIN_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "optim/optim.h"

/* Each worker starts on a cache line of its own: n_touched is written every
 * step, and the other threads' lines must not travel with it. Per side
 * (0 users, 1 items): a side's tables share their rows, so one list serves
 * them all. */
typedef struct worker {
    _Alignas(64) int n_touched[2]; /* rows listed this step, per side */
    int32_t *touched[2];    /* the rows listed, in first-touch order */
    uint16_t *touched_next[2]; /* look-ahead only: for each, when the next step that reads it comes (the
                                  gap part of its sample's ahead_value, rows.h) */
    float *row_grad[2];     /* their gradient sums, in that order, row_stride floats apart */
    int32_t *row_pos[2];    /* row lo + j's place in touched at [j] (-1: none), over the range
                             * being summed (a group's users, the thread's items) */
    int32_t *at;            /* its own copy of the step's list: the batch positions group by group */
    int *group_end;         /* where each group ends in at */
    int32_t *slot_of;       /* the slot of each batch position (its place in at) */
    int32_t *item_at;       /* batch positions of the samples whose items it owns (T > 1) */
    int32_t *catch_rows;    /* rows to catch up */
    int64_t *from;          /* their catch-up start steps */
    ncf_adam_plan *plan;    /* their Adam catch-up constants (look-ahead: users' at 0, items' at batch) */
    ncf_adam_ahead *ahead;  /* look-ahead: the step's plans of small gaps (ncf_adam_ahead_at_) */
    int32_t *gap;           /* look-ahead: each touched row's gap in it, or -1 (its plan in plan); users' at 0,
                               items' (up to 2 batch, pairwise) at batch */
    float *ws;              /* the model's forward/backward workspace */
} worker;

/* The sizes a worker's buffers need. */
typedef struct worker_sizes {
    int batch;              /* samples per step */
    int pairwise;           /* a sample touches two item rows */
    int n_groups;
    size_t row_stride;      /* floats per row gradient sum */
    int32_t widest[2];      /* the widest range one sum covers, per side (at least 1) */
    size_t ws_floats;
} worker_sizes;

/* Allocates w's buffers (row_pos all -1); -1 when memory runs out
 * (worker_free cleans up a partial worker). */
int worker_init(worker *w, const worker_sizes *z);
void worker_free(worker *w);

#endif
