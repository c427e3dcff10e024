/* step.c — the steps of an epoch (engine_run, engine.h), one OpenMP team
 * per call; each step:
 *   1. the batch's samples are split by user into fixed user groups (every
 *      thread lists them all, in its own copy); each thread takes whole
 *      groups (its own share first, then any another thread has not
 *      started), writes each group's dense-gradient buffer and its samples'
 *      embedding gradients (in slots ordered by group, so each thread
 *      writes a range of its own), and sums the user gradients
 *      per user row, in a per-thread buffer that stays in cache (a user's
 *      rows are read and summed on one core; dense modes catch them up
 *      there first);
 *   2. each thread reduces its chunks of the dense gradient over groups in
 *      group order and updates them; item rows are owned by thread
 *      (contiguous ranges of rows) and summed in sample order, each thread
 *      walking a list of the batch's samples with its items; then the
 *      threads update the rows they listed, in chunks each thread may
 *      take from another once its own are done (rows.c)
 *      (dense Adam: rows the batch does not touch get their zero-gradient
 *      steps right after their last update, through the step before their
 *      next read (the look-ahead, rows.h), or when next read, which is
 *      exact; lazy Adam: touched rows only; momentum SGD and RMSprop get
 *      theirs when next read; Adagrad and SGD touched rows);
 *   3. each thread refreshes the transposed forward weights of its chunks
 *      (cut so that no cache line of them is written by two threads).
 * Every sum runs in an order fixed by the data, not by the thread count, so
 * a seed gives the same bytes with 1 or 64 threads. The learning rate is
 * set per epoch by the schedule. The rows' sums, updates and catch-up are
 * rows.c's; allocation, groups and ranges engine.c's. Does not print (except the per-phase timings of a
 * -DNCF_PHASE_TIMING build, phase.h). */
#include <math.h>
#include <sched.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/streams.h"
#include "train/engine.h"
#include "train/phase.h"
#include "train/rows.h"
#include "train/shard.h"

#define SPIN_LIMIT 20000

static void team_wait(team_barrier *b, int T, int *local_sense)
{
    const int mine = *local_sense = !*local_sense;
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == T - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&b->sense, mine, memory_order_release); /* publishes everything before */
        return;
    }
    for (long polls = 0; atomic_load_explicit(&b->sense, memory_order_acquire) != mine; polls++) {
        if (polls >= SPIN_LIMIT) sched_yield();
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
}

/* The batch positions of the samples with an item (or second item) in
 * thread tid's range, in batch order, without a branch per sample: the
 * range test is a coin toss with more than one thread, and its
 * mispredictions cost more than the sums. With one thread, NULL: all. */
static const int32_t *list_items(engine *t, const ncf_sample *s, int B, int tid, int *n)
{
    if (t->T == 1) {
        *n = B;
        return NULL;
    }
    int32_t lo, hi;
    engine_owned_rows(t, 1, tid, &lo, &hi);
    const uint32_t span = (uint32_t)(hi - lo);
    const int pair = ncf_loss_pairwise(t->c->loss);
    int32_t *at = t->w[tid].item_at;
    int c = 0;
    for (int k = 0; k < B; k++) {
        at[c] = k;
        c += ((uint32_t)(s[k].item - lo) < span) | (pair && (uint32_t)(s[k].item2 - lo) < span);
    }
    *n = c;
    return at;
}

/* L2 on the weight matrices: g += 2 reg_layers W over [b, e) of the arena
 * (the hidden layers' W and the output weights; biases and MF's fixed
 * output weights excluded). */
static void add_layer_penalty(engine *t, float *g, size_t b, size_t e)
{
    const ncf_model *m = t->m;
    const float c2 = 2.0f * t->c->reg_layers;
    for (int l = 0; l <= m->n_layers; l++) {
        size_t w0 = l < m->n_layers ? m->w_off[l] : m->wo_off;
        size_t w1 = w0 + (l < m->n_layers ? (size_t)m->in[l] * (size_t)m->out[l] : (m->B ? 0 : (size_t)m->out_in));
        size_t lo = b > w0 ? b : w0, hi = e < w1 ? e : w1;
        for (size_t k = lo; k < hi; k++) g[k] += c2 * m->dense[k];
    }
}

/* Reduces elements [b, e) of the dense gradient over the groups (in group
 * order) and updates them. */
static void update_dense_range(engine *t, size_t b, size_t e, const ncf_adam_step *as)
{
    ncf_sum_strided_(t->dense_grad + b, t->group_grad + b, t->group_stride, t->n_groups, e - b);
    engine_apply_dense_(t, b, e, as);
}

void engine_apply_dense_(engine *t, size_t b, size_t e, const ncf_adam_step *as)
{
    ncf_model *m = t->m;
    float *g = t->dense_grad;
    if (t->c->reg_layers > 0.0f) add_layer_penalty(t, g, b, e);
    if (t->c->optimizer == NCF_OPT_ADAM) ncf_adam_update_(m->dense + b, g + b, t->dense_m + b, t->dense_v + b, e - b, as);
    else ncf_opt1_update_(&t->opt1, m->dense + b, g + b, t->dense_m ? t->dense_m + b : NULL, e - b);
    /* refresh the transposed forward copy of the weights in this slice,
     * row by row of W^T: its stores run along a line and the loads step
     * through W (the other way round, every store hit another line). The
     * slices cut W between whole rows (dense_chunks_init); the test keeps
     * any other cut right. */
    for (int l = 0; l < m->n_layers; l++) {
        const size_t w0 = m->w_off[l], in = (size_t)m->in[l], out = (size_t)m->out[l];
        const size_t lo = b > w0 ? b : w0, hi = e < w0 + in * out ? e : w0 + in * out;
        if (lo >= hi) continue;
        const size_t o0 = (lo - w0) / in, o1 = (hi - w0 + in - 1) / in; /* rows of W the slice meets */
        const float *restrict src = m->dense + w0;
        float *restrict dst = m->wt + w0;
        for (size_t i = 0; i < in; i++)
            for (size_t o = o0; o < o1; o++) {
                const size_t k = o * in + i; /* element (o, i) of W */
                if (k - (lo - w0) < hi - lo) dst[i * out + o] = src[k];
            }
    }
}

/* Thread tid's chunks of the dense update. */
static void update_dense(engine *t, int tid, const ncf_adam_step *as)
{
    for (int k = t->dense_first[tid]; k < t->dense_first[tid + 1]; k++)
        update_dense_range(t, t->dense_chunks[k].b, t->dense_chunks[k].e, as);
}

/* Lists the batch positions group by group, in batch order within each
 * group (a counting sort), and opens thread tid's groups for claiming. Each
 * thread makes its own copy of the same list, so a thread that takes
 * another's group, or sums the items of another's samples, needs no list
 * the other thread wrote this step. Sample k's gradient slot is its place
 * in the list: a thread's groups are consecutive in it, so each thread
 * writes a range of slots of its own, whatever the batch positions, and a
 * slot line moves between cores only when its item part is summed by the
 * item's owner. Done before the step's first barrier. */
static void list_groups(engine *t, const ncf_sample *s, int B, int tid)
{
    const int G = t->n_groups;
    int32_t *at = t->w[tid].at, *slot_of = t->w[tid].slot_of;
    int *end = t->w[tid].group_end;
    memset(end, 0, ((size_t)G + 1) * sizeof *end);
    for (int k = 0; k < B; k++) end[t->user_group[s[k].user] + 1]++;
    for (int g = 0; g < G; g++) end[g + 1] += end[g]; /* end[g]: where group g starts */
    for (int k = 0; k < B; k++) {
        const int p = end[t->user_group[s[k].user]]++; /* end[g]: where it ends, once all are placed */
        at[p] = k;
        slot_of[k] = p;
    }
    int g0, g1;
    engine_thread_groups(t, tid, &g0, &g1);
    atomic_store_explicit(&t->claim[tid].next, g0, memory_order_relaxed);
}

/* Computes group g on thread tid: its dense gradient and loss go to its
 * own buffer and line; each sample's embedding gradients to its slot in
 * emb_grad (its place in the group list), and the user tables' on into the
 * group's user rows at once (no other group has those users). */
static void compute_group(engine *t, const ncf_sample *s, int g, int tid, int64_t gstep,
                          const ncf_grad_args *ga)
{
    ncf_model *m = t->m;
    const int32_t *at = t->w[tid].at;
    const int *end = t->w[tid].group_end;
    const int tile = ncf_loss_pairwise(t->c->loss) ? NCF_TILE_ROWS / 2 : NCF_TILE_ROWS; /* samples per call */
    const int begin = g > 0 ? end[g - 1] : 0, n = end[g] - begin, tiles = (n + tile - 1) / tile;
    float *dg = t->group_grad + (size_t)g * t->group_stride;
    memset(dg, 0, m->n_dense * sizeof *dg);
    double loss = 0.0;
    const int listed = t->w[tid].n_touched[0]; /* users listed by this thread's earlier groups */
    int32_t ulo, uhi;
    engine_group_users(t, g, &ulo, &uhi);
    if (t->deferred) rows_catch_up(t, 0, tid, s, at + begin, n, ulo, uhi, gstep);
    for (int p = 0; p < tiles; p++) { /* n split evenly into tiles */
        const int b = begin + (int)((int64_t)n * p / tiles), e = begin + (int)((int64_t)n * (p + 1) / tiles);
        ncf_grad_args a = *ga;
        a.at = at + b;
        if (t->sh) a.sample_base = shard_group_base(t, g, gstep); /* the epoch's numbering is shard-major */
        loss += ncf_model_chunk_grad_(m, s, e - b, &a, t->w[tid].ws, dg, t->emb_grad + (size_t)b * t->slot);
        rows_sum(t, 0, tid, s, at + b, e - b, ulo, uhi);
        if (t->prefetch_user_state) rows_prefetch_user_state(t, s, at + b, e - b);
    }
    rows_clear_places(t, 0, tid, listed, t->w[tid].n_touched[0], ulo);
    t->group_loss[(size_t)g * PAD_DOUBLES] = loss;
}

/* Thread tid's share of a step's gradients: its own groups in order, then,
 * when it runs out, the groups other threads have not yet claimed (so a
 * core that runs slow, on a shared machine, does not hold up the step).
 * Which thread computes a group changes no result. */
static void compute_groups(engine *t, const ncf_sample *s, int tid, int64_t gstep, const ncf_grad_args *ga)
{
    t->w[tid].n_touched[0] = t->w[tid].n_touched[1] = 0;
    for (int k = 0; k < (t->steal ? t->T : 1); k++) {
        const int owner = (tid + k) % t->T;
        int g0, g1;
        engine_thread_groups(t, owner, &g0, &g1);
        for (;;) {
            const int g = atomic_fetch_add_explicit(&t->claim[owner].next, 1, memory_order_relaxed);
            if (g >= g1) break;
            compute_group(t, s, g, tid, gstep, ga);
        }
    }
}

/* One of the step's barriers for the whole team. */
static void step_barrier(engine *t, int *sense)
{
    if (t->spin_barrier) {
        team_wait(t->barrier, t->T, sense);
        return;
    }
#pragma omp barrier
}

int64_t engine_steps(const engine *t) { return (t->n_samples + t->c->batch - 1) / t->c->batch; }

ncf_status engine_begin_epoch(engine *t, int epoch, int64_t done)
{
    const ncf_train_config *c = t->c;
    ncf_status sampled;
    if (t->sh) {
        sampled = shard_begin_epoch(t, epoch);
    } else if (t->look_ahead) { /* its backward pass as the sampler places the samples (rows.h) */
        rows_ahead_pass pass;
        rows_ahead_begin(t, &pass);
        sampled = ncf_sampler_epoch_visit_(&t->sampler, c->loss, c->neg, c->seed, epoch, t->T, t->samples,
                                           rows_ahead_range, &pass);
        rows_ahead_end(&pass);
    } else {
        sampled = ncf_sampler_epoch_(&t->sampler, c->loss, c->neg, c->seed, epoch, t->T, t->samples);
    }
    if (sampled != NCF_OK) return sampled;
    const float lr = ncf_train_lr_at(c, epoch);
    t->opt1.lr = lr;
    if (c->optimizer == NCF_OPT_ADAM) {
        if (ncf_adam_window_renew_(&t->win, lr, c->beta1, c->beta2, c->eps, t->step - done, engine_steps(t)) != 0)
            return NCF_ERR_NOMEM;
    }
    return NCF_OK;
}

/* engine.h. Two barriers a step: after the catch-up (every row and weight current)
 * and after the groups (every gradient in). Each thread updates the dense
 * slice it owns and the embedding rows it listed (sharing out their
 * chunks: rows_update waits for its own), and catches up its own item
 * rows for the next step, so nothing else needs to wait. */
int64_t engine_run(engine *t, int epoch, int64_t from, const atomic_int *halt, double *loss_sum)
{
    const ncf_train_config *c = t->c;
    const int64_t n_steps = engine_steps(t), base = t->step - from; /* steps before the epoch */
    int diverged = 0, halted = 0;
    int64_t done = n_steps;
    const int64_t report_every = n_steps / 1000 + 1; /* on_progress's rate (ncf/train.h) */
    const int deferred = t->deferred, T = t->T;
    shard_state *sh = t->sh;
    if (sh && from < n_steps && shard_run_begin(t, from, base + from) != 0) return -1;
    if (t->look_ahead && from > 0 && from < n_steps) rows_ahead_resume(t, from);
#pragma omp parallel num_threads(T)
    {
#ifdef _OPENMP
        const int tid = omp_get_thread_num();
#else
        const int tid = 0;
#endif
        double own_loss_sum = *loss_sum; /* thread 0's, published at the end: a shared sum
                                    * written every step would share a line with diverged */
        NCF_PHASE_DECL;
        int sense = atomic_load_explicit(&t->barrier->sense, memory_order_relaxed); /* no barrier is under way */
        for (int64_t step = from; step < n_steps; step++) {
            NCF_PHASE_STEP(step);
            const int64_t gstep = base + step; /* steps done before this one */
            const int64_t start = step * c->batch;
            /* sharded: this process's part of the step, and the global batch size */
            const int B = sh ? shard_local_count(t, gstep)
                             : (int)(start + c->batch <= t->n_samples ? c->batch : t->n_samples - start);
            const ncf_sample *s = sh ? shard_local_batch(t, gstep) : t->samples + start;
            const int scale_of = sh ? shard_global_count(t, gstep) : B;
            ncf_grad_args ga = {.loss = c->loss,
                                .scale = scale_of > 0 ? 1.0f / (float)scale_of : 0.0f,
                                .reg = c->reg,
                                .dropout = 1,
                                .drop_seed = ncf_stream_dropout_seed_(c->seed, epoch),
                                .sample_base = (uint64_t)start};
            int n_items;
            const int32_t *items = list_items(t, s, B, tid, &n_items);
            if (deferred) { /* the items this thread owns; users as their groups are computed */
                int32_t lo, hi;
                engine_owned_rows(t, 1, tid, &lo, &hi);
                if (sh) /* every process catches up the items of the whole batch: they stay replicas */
                    rows_catch_up(t, 1, tid, shard_global_batch(t, gstep), NULL, shard_global_count(t, gstep), lo, hi,
                                  gstep);
                else
                    rows_catch_up(t, 1, tid, s, items, n_items, lo, hi, gstep);
            }
            list_groups(t, s, B, tid);
            NCF_PHASE(0);
            if (T > 1) step_barrier(t, &sense); /* a team of one has nothing to wait for */
            NCF_PHASE(1);
            if (diverged || halted) { /* set by thread 0 before this barrier: all threads agree */
                if (tid == 0) done = step;
                break;
            }
            compute_groups(t, s, tid, gstep, &ga);
            NCF_PHASE(2);
            if (T > 1) step_barrier(t, &sense);
            NCF_PHASE(3);
            if (sh) { /* reduce across the processes (shard.c), then update as below */
                shard_pack(t, tid, s, items, n_items, gstep, step + 1 < n_steps,
                           tid == 0 && halt && atomic_load_explicit(halt, memory_order_relaxed));
                if (T > 1) step_barrier(t, &sense);
                if (tid == 0) {
                    double bl = 0.0;
                    if (shard_exchange(t, gstep, step + 1 < n_steps, &bl, &halted) != 0) diverged = 1;
                    own_loss_sum += bl;
                    if (!isfinite(bl)) diverged = 1;
                    if (c->on_progress && (step % report_every == 0 || step == n_steps - 1))
                        c->on_progress(epoch, (double)(step + 1) / (double)n_steps, c->user);
                }
                if (T > 1) step_barrier(t, &sense);
                const ncf_adam_step *as = c->optimizer == NCF_OPT_ADAM ? ncf_adam_window_step_(&t->win, gstep + 1) : NULL;
                shard_update(t, tid, gstep, as);
                NCF_PHASE(5);
                continue;
            }
            if (tid == 0) {
                double bl = 0.0;
                for (int g = 0; g < t->n_groups; g++) bl += t->group_loss[(size_t)g * PAD_DOUBLES];
                own_loss_sum += bl;
                if (!isfinite(bl)) diverged = 1;
                if (halt && atomic_load_explicit(halt, memory_order_relaxed)) halted = 1;
                if (c->on_progress && (step % report_every == 0 || step == n_steps - 1))
                    c->on_progress(epoch, (double)(step + 1) / (double)n_steps, c->user);
            }
            const ncf_adam_step *as = c->optimizer == NCF_OPT_ADAM ? ncf_adam_window_step_(&t->win, gstep + 1) : NULL;
            update_dense(t, tid, as);
            NCF_PHASE(4);
            rows_update(t, s, items, n_items, tid, gstep, base + n_steps, as);
            NCF_PHASE(5);
        }
        if (tid == 0) *loss_sum = own_loss_sum;
#ifdef NCF_PHASE_TIMING
#pragma omp critical
        NCF_PHASE_REPORT(tid, epoch, n_steps);
#endif
    }
    if (diverged) return -1;
    t->step = base + done;
    return done;
}
