/* engine.h — the step machinery of training (engine.c): one epoch's
 * samples, the user groups and item ranges that make every sum's order
 * independent of the thread count, the per-thread buffers, and the
 * optimizer state (moments, the dense rows' synced counters). The epoch
 * loop, evaluation and model selection are trainer.c's. */
#ifndef NCF_TRAIN_ENGINE_H
#define NCF_TRAIN_ENGINE_H

#include <stdatomic.h>

#include "model/grad.h"
#include "model/model_impl.h"
#include "optim/optim.h"
#include "sampler/sampler.h"
#include "train/worker.h"

#include "train/config.h" /* NCF_ADAM_DENSE_SWEEP, a value of mode */

/* Samples per user group, on average: a batch of B samples is split into
 * ceil(B / GROUP) groups by user. */
#define GROUP 32

/* Values per cache line: what one thread writes every step sits on a line
 * of its own, so that the other threads' lines do not travel with it. */
#define PAD_DOUBLES 8

/* Elements [b, e) of the dense arena. */
typedef struct dense_chunk {
    size_t b, e;
} dense_chunk;

/* A thread's counter of claimed groups, alone on its cache line. */
typedef struct group_claim {
    _Alignas(64) atomic_int next;
} group_claim;

/* A thread's rows of a step, shared out in chunks (rows.c): the step they
 * are for once listed (ready, released after the lists), how many chunks
 * of users then of items, the next unclaimed one and how many are done;
 * alone on its cache line. */
typedef struct rows_claim {
    _Alignas(64) atomic_llong ready;
    int chunks[2];
    atomic_int next, done;
} rows_claim;

/* The step's two barriers: sense-reversing, spinning, then yielding.
 * libgomp's barrier costs a futex call per barrier even when nobody sleeps
 * (in this VM a system call is a hypervisor exit); this one costs the two
 * cache-line transfers it must. It spins, so it serves only teams no
 * larger than the processors (spin_barrier); past SPIN_LIMIT polls a
 * waiter yields its core, for when other programs take them. */
typedef struct team_barrier {
    _Alignas(64) atomic_int arrived;
    _Alignas(64) atomic_int sense;
} team_barrier;

struct shard_state; /* sharded training (shard.h); NULL in the one-process order */

/* The step machinery of one training run: everything it allocates. */
typedef struct engine {
    ncf_model *m;
    const ncf_train_config *c;
    ncf_adam_mode mode; /* c->adam_mode resolved for the model */
    int T;
    worker *w;              /* T, each on lines of its own: what each thread owns */
    ncf_sampler sampler;
    ncf_sample *samples;
    int64_t n_samples;
    size_t slot;
    float *emb_grad;        /* batch slots, in the order of the group lists (at), not of batch positions */
    int n_groups;           /* G user groups, fixed by the batch size (not the thread count) */
    int32_t *group_start;   /* G + 1: group g has users [group_start[g], group_start[g + 1]) */
    int32_t *group_hi;      /* sharded: G, group g (an owned shard) has users [group_start[g],
                               group_hi[g]); NULL: group_start[g + 1] */
    int max_batch;          /* most samples a step gives this process: batch (sharded: batch + shards) */
    int32_t *user_group;    /* n_users: each user's group */
    int32_t *item_start;    /* T + 1: thread t owns items [item_start[t], item_start[t + 1]) */
    size_t group_stride;    /* n_dense rounded up to a cache line */
    float *group_grad;      /* G x group_stride: each group's dense gradient */
    double *group_loss;     /* G x PAD_DOUBLES: each group's loss, on its own cache line */
    group_claim *claim;     /* per thread: the next of its groups to compute, by it or another thread */
    rows_claim *rclaim;     /* per thread: its listed rows, updated by it or another thread */
    team_barrier *barrier;  /* the step's barriers */
    int spin_barrier;       /* use it (T <= processors), else OpenMP's */
    int steal;              /* threads may compute each other's groups */
    dense_chunk *dense_chunks; /* the dense update's chunks, thread by thread */
    int *dense_first;          /* T + 1: thread t updates chunks [dense_first[t], dense_first[t + 1]) */
    float *dense_grad, *dense_m, *dense_v;
    float *tab_m[NCF_TABLES], *tab_v[NCF_TABLES];
    int prefetch_user_state;     /* the user tables' optimizer state is far larger than the caches: the groups
                                    ask for their users' rows of it (rows_prefetch_user_state) */
    float *tab_grad[NCF_TABLES]; /* the reference sweep only: whole gradient tables */
    size_t row_stride;           /* floats between a worker's row gradient sums: a side's width, whole lines */
    int64_t *synced[2];          /* dense modes: step each row is current through, per side */
    ncf_adam_window win;         /* this epoch's Adam step constants */
    ncf_opt1 opt1;               /* the other optimizers: kind and this epoch's constants */
    int deferred;                /* dense mode with zero-gradient steps: untouched rows caught up later
                                    (when read, or by the look-ahead) */
    int look_ahead;              /* dense Adam, one process: the look-ahead catch-up (rows.h) */
    uint16_t *ahead[3];          /* its values with a pairwise loss, per sample of the epoch: user, item,
                                    item2 (BCE keeps them in the samples: ahead_value, rows.h) */
    uint8_t *ahead_steps[2];     /* its steps with a sample marked AHEAD_READ, per side (1: some; 0: the
                                    step's reads need no catch-up) */
    long long step;              /* steps done since training began (the Adam step count) */
    struct shard_state *sh;      /* sharded training (c->shards > 0), else NULL */
} engine;

/* The users of group g: [*lo, *hi). */
static inline void engine_group_users(const engine *t, int g, int32_t *lo, int32_t *hi)
{
    *lo = t->group_start[g];
    *hi = t->group_hi ? t->group_hi[g] : t->group_start[g + 1];
}

/* Thread tid's user groups: [*g0, *g1). */
static inline void engine_thread_groups(const engine *t, int tid, int *g0, int *g1)
{
    *g0 = (int)((int64_t)t->n_groups * tid / t->T);
    *g1 = (int)((int64_t)t->n_groups * (tid + 1) / t->T);
}

/* Rows [*lo, *hi) of a side (0 users, 1 items) that thread tid sums,
 * updates and catches up: the users of its groups; its range of items. */
static inline void engine_owned_rows(const engine *t, int side, int tid, int32_t *lo, int32_t *hi)
{
    if (side) {
        *lo = t->item_start[tid];
        *hi = t->item_start[tid + 1];
    } else {
        int g0, g1;
        engine_thread_groups(t, tid, &g0, &g1);
        *lo = t->group_start[g0];
        *hi = t->group_start[g1];
    }
}

/* Allocates everything a run of c on m and ds needs (moments zero, every
 * row synced at step 0). NCF_ERR_NOMEM on failure, NCF_ERR_ARG when the
 * processes of sharded training disagree on the data or the configuration
 * (engine_free cleans up a partial engine). Collective when c->shards > 0. */
ncf_status engine_init(engine *t, ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c);
void engine_free(engine *t);

/* Steps in one epoch. */
int64_t engine_steps(const engine *t);

/* Allocates the epoch's sample array when it is not there yet: engine_init
 * leaves it to the first epoch, so that a trainer that runs none (ncf train
 * --epochs 0) never holds it. Called before an epoch's clock starts (its
 * pages are touched then, in parallel). NCF_ERR_NOMEM on failure; nothing
 * to do for sharded training (shard.c holds its own). */
ncf_status engine_samples_ready(engine *t);

/* Fills t->samples with epoch's samples and sets the epoch's learning rate
 * and Adam window (steps t->step - done + 1 on: the epoch's first step is
 * the one after the `done` steps already run of it). */
ncf_status engine_begin_epoch(engine *t, int epoch, int64_t done);

/* Runs the epoch's steps from `from` on (t->step must be the epoch's first
 * step + from), adding each batch's loss to *loss_sum in step order. Stops
 * early after a step during which *halt was found set (checked once a
 * step, after the step's first barrier, so the whole team agrees).
 * Returns the epoch's steps done (engine_steps when it ran to the end), or
 * -1 when a batch's loss was not finite. */
int64_t engine_run(engine *t, int epoch, int64_t from, const atomic_int *halt, double *loss_sum);

/* Dense modes: brings every row up to date through t->step (before
 * evaluation or saving, at the end of an epoch). */
void engine_catch_up_all(engine *t);

/* Adds the layer L2 to elements [b, e) of t->dense_grad (which holds the
 * step's reduced dense gradient), updates them, and refreshes the
 * transposed forward weights of that slice (step.c). */
void engine_apply_dense_(engine *t, size_t b, size_t e, const ncf_adam_step *as);

#endif
