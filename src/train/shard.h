/* shard.h — sharded training (shard.c; docs/distributed.md): the users
 * split into S shards, each with its own samples and random streams; a
 * step takes a slice of every shard; this process (rank r of N) owns
 * shards r, r + N, ... and computes them as the engine's user groups; the
 * dense and item gradients are reduced across processes in 64-bit fixed
 * point, whose integer sums do not depend on who added what, so the model
 * bytes depend on S and the seed, not on N or the thread count. User rows
 * live on the owning process; item rows and the dense layers are replicas
 * kept equal by the reduction. Called by the engine (engine.c, step.c)
 * and the trainer; every function that communicates is collective. */
#ifndef NCF_TRAIN_SHARD_H
#define NCF_TRAIN_SHARD_H

#include <stdatomic.h>

#include "train/engine.h"

typedef struct shard_state {
    int S, N, rank, L;       /* shards, processes, this one's rank, shards it owns */
    int *local;              /* L: the shards it owns, ascending (rank, rank + N, ...) */
    int32_t *user_start;     /* S + 1: shard s has users [user_start[s], user_start[s + 1]) */
    int64_t *count;          /* S: samples of shard s in an epoch */
    int64_t *first;          /* S + 1: the epoch's shard-major index of shard s's first sample */
    ncf_sampler *sampler;    /* L */
    ncf_sample **samples;    /* L: this epoch's samples of each owned shard */
    uint8_t *own_user;       /* n_users: 1 for the users of owned shards */
    int pair;                /* pairwise loss: a sample has two item rows */
    size_t W;                /* floats of one item row's gradient (ncf_side_width_) */
    double scale, inv_scale; /* 2^E and 2^-E: the fixed point */
    double limit;            /* |x 2^E| must stay below it */
    int64_t epoch_base;      /* global steps before the epoch under way */
    /* per step, by the parity of the global step: the step being computed
     * and the next one, prepared during the step */
    ncf_sample *batch[2];    /* this process's samples: its shards' slices, shard by shard */
    int n_local[2];
    int *group_off[2];       /* L + 1: where each owned shard's slice starts in batch */
    uint64_t *group_base[2]; /* L: epoch index of a slice's first sample minus its offset in batch */
    int64_t *group_pos[2];   /* L: a slice's first place in the global batch */
    ncf_sample *global[2];   /* the global batch's items (item, item2), on every process */
    int n_global[2];
    int32_t *touched[2];     /* its distinct item rows, in order of first appearance */
    int n_touched[2];
    int32_t *item_pos;       /* n_items: an item's place in touched of the step being reduced, or -1 */
    uint64_t *wire;          /* the step's reduction buffer */
    size_t wire_cap;
    atomic_int out_of_range; /* a value left the fixed-point range this step */
    int overflow;            /* the run stopped for that */
    int mismatch;            /* the processes disagreed (an item id out of range came in) */
    int seen_partial;        /* the model's training items are its own users' only (ncf_dataset_load_shards) */
    /* what the reductions cost (thread 0 of every process) */
    double comm_seconds;
    uint64_t comm_bytes;
    int64_t exchanges;
} shard_state;

/* Sets up t->sh and the engine's fields that sharding defines (n_samples,
 * n_groups, group_start/group_hi, user_group, max_batch), checking with the
 * other processes that they have the same data and configuration. -1 out
 * of memory, -2 when the processes disagree or are more than the shards
 * (the engine's creator says so). */
int shard_init(engine *t, const ncf_dataset *ds);
void shard_free(engine *t);

/* With several processes: gives back to the system the pages of the rows
 * of other processes' users (wholly inside them) in every user array — the
 * model's user tables, their optimizer state and synced counters, best_tab
 * (table-shaped, NULL entries skipped; may be NULL) and the model's
 * training items — and asks for no huge pages there, so that they take no
 * memory: nothing reads or writes those rows afterwards but the gathering
 * on rank 0. Called once the trainer's state is allocated, and by rank 0
 * after writing a checkpoint. */
void shard_release_users(engine *t, float *const *best_tab);

/* Draws the owned shards' samples of epoch. */
ncf_status shard_begin_epoch(engine *t, int epoch);

/* Before the team starts at step `from` of the epoch (global step gfrom):
 * prepares its local batch and exchanges its items. -1 on failure. */
int shard_run_begin(engine *t, int64_t from, int64_t gfrom);

/* The step's parts (gstep: global steps before it). */
static inline int shard_local_count(const engine *t, int64_t gstep) { return t->sh->n_local[gstep & 1]; }
static inline const ncf_sample *shard_local_batch(const engine *t, int64_t gstep) { return t->sh->batch[gstep & 1]; }
static inline int shard_global_count(const engine *t, int64_t gstep) { return t->sh->n_global[gstep & 1]; }
static inline const ncf_sample *shard_global_batch(const engine *t, int64_t gstep) { return t->sh->global[gstep & 1]; }
/* ncf_grad_args.sample_base for group g: its samples' places are the epoch's shard-major indices. */
static inline uint64_t shard_group_base(const engine *t, int g, int64_t gstep) { return t->sh->group_base[gstep & 1][g]; }

/* After the groups: thread tid writes its share of the reduction buffer
 * (its dense chunks over the owned shards, the item rows it owns over the
 * samples at items[0 .. n_items) of s); thread 0 also the losses, the halt
 * request and, when there is a next step, that step's items. */
void shard_pack(engine *t, int tid, const ncf_sample *s, const int32_t *items, int n_items, int64_t gstep, int next,
                int halt);
/* Thread 0, after every thread packed: the reduction across processes;
 * *loss the batch's loss (shards summed in shard order), *halted 1 when
 * any process asked to stop. -1 when a value left the fixed-point range
 * or the processes disagree (the run stops). */
int shard_exchange(engine *t, int64_t gstep, int next, double *loss, int *halted);
/* After the exchange: thread tid updates its dense chunks, the item rows
 * it owns and the user rows it listed. */
void shard_update(engine *t, int tid, int64_t gstep, const ncf_adam_step *as);

/* Evaluates cs: each process ranks its users' cases, the ranks are summed
 * as integers across processes, the metrics computed from them as
 * ncf_evaluate_cases does. Collective. */
ncf_status shard_evaluate(engine *t, const ncf_dataset *ds, const ncf_cases *cs, const ncf_eval_config *ec,
                          ncf_metrics *out, ncf_err *err);

/* Copies every user row (every user table) to rank 0 from its owner.
 * Collective. -1 on failure (on every process). */
int shard_collect_users(engine *t);
/* The same for a checkpoint: the rows, their optimizer state and synced
 * counters, and the rows of best_tab (table-shaped buffers indexed by
 * table, NULL entries skipped: the selected epoch's weights). */
int shard_collect_state(engine *t, float *const *best_tab);

#endif
