/* rows.c — the embedding rows' state during training (rows.h), the parts
 * called once a step or less: the rows' updates under every optimizer and
 * rows mode, the dense modes' catch-up of listed rows and of every row at
 * the end of an epoch, and dense Adam's look-ahead (each epoch's backward
 * pass, the catch-up right after the update, the resume after a stop).
 * The per-sample parts are inline in rows.h. */
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "train/rows.h"
#include "train/shard.h"

unsigned ncf_rows_far_for_tests_ = 0;

/* Updates the rows [i0, i1) of table tb that thread `owner` listed this
 * step with their gradient sums (the reference sweep: the whole list, and
 * the owned range [lo, hi) with it). */
static void update_rows(engine *t, int tb, int owner, int i0, int i1, int32_t lo, int32_t hi, const ncf_adam_step *as)
{
    ncf_table *tab = &t->m->tab[tb];
    const int dim = tab->dim;
    const size_t stride = (size_t)tab->stride, rs = t->row_stride;
    const int side = ncf_table_is_item_(tb);
    const int32_t *touched = t->w[owner].touched[side] + i0;
    const int n_touched = i1 - i0;
    const float *sums = t->w[owner].row_grad[side] + (size_t)i0 * rs + ncf_table_col_(t->m, tb);
    if (t->c->optimizer != NCF_OPT_ADAM) {
        ncf_opt1_rows_(&t->opt1, tab->w, sums, rs, t->tab_m[tb], stride, dim, touched, n_touched);
    } else if (t->mode != NCF_ADAM_DENSE_SWEEP) {
        /* lazy, or dense whose untouched rows were caught up before the forward pass */
        ncf_adam_rows_(tab->w, sums, rs, t->tab_m[tb], t->tab_v[tb], stride, dim, touched, n_touched, as);
    } else { /* reference dense sweep: the sums into a zeroed gradient table,
              * the whole owned range as one flat loop (padding stays 0), zeroed again */
        float *grad = t->tab_grad[tb];
        for (int q = 0; q < n_touched; q++)
            memcpy(grad + (size_t)touched[q] * stride, sums + (size_t)q * rs, (size_t)dim * sizeof(float));
        size_t o = (size_t)lo * stride, len = (size_t)(hi - lo) * stride;
        ncf_adam_update_(tab->w + o, grad + o, t->tab_m[tb] + o, t->tab_v[tb] + o, len, as);
        for (int q = 0; q < n_touched; q++) memset(grad + (size_t)touched[q] * stride, 0, (size_t)dim * sizeof(float));
    }
}

/* update_rows on every table of a side; in dense modes the rows are then
 * current through this step (gstep + 1). */
static void update_listed(engine *t, int side, int owner, int i0, int i1, int32_t lo, int32_t hi, int64_t gstep,
                          const ncf_adam_step *as)
{
    for (int tb = 0; tb < NCF_TABLES; tb++)
        if (t->m->tab[tb].w && ncf_table_is_item_(tb) == side) update_rows(t, tb, owner, i0, i1, lo, hi, as);
    if (t->deferred) {
        const int32_t *touched = t->w[owner].touched[side];
        for (int q = i0; q < i1; q++) t->synced[side][touched[q]] = gstep + 1;
    }
}

void rows_update_listed(engine *t, int side, int tid, int64_t gstep, const ncf_adam_step *as)
{
    int32_t lo, hi;
    engine_owned_rows(t, side, tid, &lo, &hi);
    update_listed(t, side, tid, 0, t->w[tid].n_touched[side], lo, hi, gstep, as);
}

/* Where a side's rows start in a worker's gap and plan arrays (3
 * max_batch: a step lists at most max_batch users, twice that many items
 * with a pairwise loss): the two sides' chunks may be updated at once. */
static inline size_t ahead_side_at(const engine *t, int side) { return side ? (size_t)t->max_batch : 0; }

/* The look-ahead (rows.h) of the rows [i0, i1) of a side that thread
 * `owner` listed this step: gap[q] (and plan[q]) bring touched[q] from
 * this step (gstep + 1) to the step before the next that reads it (gap 0:
 * not now), and synced says so. gap, plan: the side's part of the owner's
 * arrays; tab: the calling thread's table. */
static void plan_ahead(engine *t, int side, int owner, int i0, int i1, int32_t *gap, ncf_adam_plan *plan,
                       ncf_adam_ahead *tab, int64_t gstep, int64_t cap)
{
    const worker *w = &t->w[owner];
    const int64_t mark = gstep + 1;
    const int32_t *touched = w->touched[side];
    const uint16_t *next = w->touched_next[side];
    int64_t *synced = t->synced[side];
    ncf_adam_ahead_at_(&t->win, mark, tab);
    const ncf_adam_ahead_bound bound = ncf_adam_ahead_bound_(tab);
    int untabled = 0;
    for (int q = i0; q < i1; q++) { /* selects, not branches: gaps come in any order */
        const int64_t d = next[q];
        int64_t to = gstep + d; /* the steps done before that read */
        to = d == AHEAD_NONE ? cap : to;
        to = d == AHEAD_FAR ? mark : to;
        to = to < cap ? to : cap;
        to = to > mark ? to : mark;
        synced[touched[q]] = to;
        gap[q] = ncf_adam_ahead_gap_(bound, to);
        untabled |= gap[q] < 0;
    }
    if (untabled) /* the gaps the table does not have, planned row by row */
        for (int q = i0; q < i1; q++)
            if (gap[q] < 0) ncf_adam_plan_rows_(&t->win, &tab->from, 1, synced[touched[q]], &plan[q]);
}

/* Rows [i0, i1) of a side that thread `owner` listed, on thread tid (Adam,
 * not the reference sweep): the step on every table of the side, with the
 * look-ahead's catch-up in the same pass where there is one, else as
 * update_listed. */
static void update_listed_range(engine *t, int side, int owner, int i0, int i1, int tid, int64_t gstep, int64_t cap,
                                const ncf_adam_step *as)
{
    if (!t->look_ahead) {
        update_listed(t, side, owner, i0, i1, 0, 0, gstep, as); /* no sweep here: no owned range needed */
        return;
    }
    worker *w = &t->w[owner];
    int32_t *gap = w->gap + ahead_side_at(t, side);
    ncf_adam_plan *plan = w->plan + ahead_side_at(t, side);
    ncf_adam_ahead *ahead = t->w[tid].ahead;
    plan_ahead(t, side, owner, i0, i1, gap, plan, ahead, gstep, cap);
    const float *sums = w->row_grad[side] + (size_t)i0 * t->row_stride;
    for (int tb = 0; tb < NCF_TABLES; tb++) {
        ncf_table *tab = &t->m->tab[tb];
        if (tab->w && ncf_table_is_item_(tb) == side)
            ncf_adam_rows_ahead_(tab->w, sums + ncf_table_col_(t->m, tb), t->row_stride, t->tab_m[tb], t->tab_v[tb],
                                 (size_t)tab->stride, tab->dim, w->touched[side] + i0, i1 - i0, as, ahead, gap + i0,
                                 plan + i0, &t->win);
    }
}

/* Listed rows a chunk: the rows phase's work shared out (a thread that
 * finishes its own takes the others' chunks, so that a vCPU slowed by
 * the host does not hold up the step; which thread updates a row changes
 * no result). */
#define ROWS_CHUNK 32

/* Thread owner's chunk c: users first, then items. */
static void update_chunk(engine *t, int owner, int c, int tid, int64_t gstep, int64_t cap, const ncf_adam_step *as)
{
    const int side = c >= t->rclaim[owner].chunks[0];
    const int i0 = (c - (side ? t->rclaim[owner].chunks[0] : 0)) * ROWS_CHUNK, n = t->w[owner].n_touched[side];
    update_listed_range(t, side, owner, i0, i0 + ROWS_CHUNK < n ? i0 + ROWS_CHUNK : n, tid, gstep, cap, as);
}

/* The rows phase shared out: publishes thread tid's lists, updates the
 * chunks it can claim (its own, then the others' that are listed), and
 * returns once every chunk of its own is done (its rows are read before
 * the next barrier). */
static void update_shared(engine *t, int tid, int64_t gstep, int64_t cap, const ncf_adam_step *as)
{
    const long long mark = gstep + 1;
    rows_claim *mine = &t->rclaim[tid];
    int total = 0;
    for (int side = 0; side < 2; side++)
        total += mine->chunks[side] = (t->w[tid].n_touched[side] + ROWS_CHUNK - 1) / ROWS_CHUNK;
    atomic_store_explicit(&mine->next, 0, memory_order_relaxed);
    atomic_store_explicit(&mine->done, 0, memory_order_relaxed);
    atomic_store_explicit(&mine->ready, mark, memory_order_release); /* publishes the lists and the counts */
    for (int k = 0; k < t->T; k++) {
        const int owner = (tid + k) % t->T;
        rows_claim *r = &t->rclaim[owner];
        if (k > 0 && atomic_load_explicit(&r->ready, memory_order_acquire) != mark) continue; /* not listed yet */
        const int chunks = r->chunks[0] + r->chunks[1];
        for (;;) {
            const int c = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
            if (c >= chunks) break;
            update_chunk(t, owner, c, tid, gstep, cap, as);
            atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
        }
    }
    for (long polls = 0; atomic_load_explicit(&mine->done, memory_order_acquire) < total; polls++) {
        if (polls >= 20000) sched_yield(); /* the thread on a chunk of ours was descheduled (more threads than CPUs) */
#if defined(__x86_64__) || defined(__i386__)
        else __builtin_ia32_pause();
#endif
    }
}

/* After the gradients are in: sums the item gradients of the samples
 * list_items gave (items, n_items) into the item rows this thread owns (the
 * user rows were summed as their groups were computed) and updates every
 * row it listed, with the look-ahead in one pass where there is one: with
 * Adam on more than one thread, shared out in chunks (update_shared). */
void rows_update(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid, int64_t gstep,
                 int64_t cap, const ncf_adam_step *as)
{
    int32_t lo, hi;
    engine_owned_rows(t, 1, tid, &lo, &hi);
    rows_sum(t, 1, tid, s, items, n_items, lo, hi);
    rows_clear_places(t, 1, tid, 0, t->w[tid].n_touched[1], lo);
    if (t->c->optimizer == NCF_OPT_ADAM && t->mode != NCF_ADAM_DENSE_SWEEP) {
        if (t->T > 1) {
            update_shared(t, tid, gstep, cap, as);
        } else {
            for (int side = 0; side < 2; side++)
                update_listed_range(t, side, tid, 0, t->w[tid].n_touched[side], tid, gstep, cap, as);
        }
        return;
    }
    for (int side = 0; side < 2; side++) rows_update_listed(t, side, tid, gstep, as);
}

/* The look-ahead of candidate q of sample k (0: its user or item, 1: its
 * item2) on side `side`, at step `step`, which reads row r. */
static inline void ahead_of(ahead_store o, ahead_row *a, int side, int32_t r, int32_t step, int64_t k, int q,
                            unsigned far)
{
    if (a[r].seen != step) { /* the first of its samples at this step (the pass goes backwards) */
        if (a[r].seen >= 0 && (unsigned)(a[r].seen - step) >= far) /* that later step catches it up when it reads it */
            ahead_store_read(o, side, (int)(a[r].at & 1), a[r].at >> 1);
        a[r].after = a[r].seen;
        a[r].seen = step;
        a[r].at = 2 * k + q;
    }
    const int32_t after = a[r].after;
    const unsigned d = after < 0 ? AHEAD_NONE : (unsigned)(after - step);
    ahead_store_gap(o, side, q, k, d < far ? d : far);
}

/* The backward pass's loop over the samples [from, to) for sides s0 ..
 * s1, from the last to the first, inlined with the sides and the values'
 * place (packed: in the samples, BCE) as constants where they are: the
 * common cases' loops then have no tests of them per sample. */
static inline __attribute__((always_inline)) void ahead_samples(engine *t, int users, int items, int pair, int packed,
                                                                ahead_row *const *a, int64_t from, int64_t to)
{
    ahead_store o = ahead_store_of(t);
    if (packed) o.arr[0] = o.arr[1] = o.arr[2] = NULL;
    const ncf_sample *s = t->samples;
    const int64_t B = t->c->batch;
    const unsigned far[2] = {ahead_far(t, 0), ahead_far(t, 1)};
    int64_t step = (to - 1) / B, first = step * B; /* sample k's step, and that step's first sample */
    for (int64_t k = to - 1; k >= from; k--) {
        if (k < first) step--, first -= B;
        if (users) ahead_of(o, a[0], 0, s[k].user, (int32_t)step, k, 0, far[0]);
        if (!items) continue;
        if (pair) ahead_of(o, a[1], 1, s[k].item2, (int32_t)step, k, 1, far[1]);
        ahead_of(o, a[1], 1, s[k].item, (int32_t)step, k, 0, far[1]);
    }
}

/* The pass over the samples [from, to) for sides s0 .. s1 (0 users, 1 items). */
static void ahead_sides(rows_ahead_pass *p, int s0, int s1, int64_t from, int64_t to)
{
    engine *t = p->t;
    const int pair = ncf_loss_pairwise(t->c->loss), users = s0 == 0, items = s1 == 1;
    if (from >= to) return;
    if (t->ahead[0] || pair) ahead_samples(t, users, items, pair, 0, p->a, from, to);
    else if (users && items) ahead_samples(t, 1, 1, 0, 1, p->a, from, to);
    else if (users) ahead_samples(t, 1, 0, 0, 1, p->a, from, to);
    else ahead_samples(t, 0, 1, 0, 1, p->a, from, to);
}

void rows_ahead_begin(engine *t, rows_ahead_pass *p)
{
    p->t = t;
    for (int side = 0; side < 2; side++) memset(t->ahead_steps[side], 0, (size_t)engine_steps(t) + 1);
    const int32_t rows[2] = {t->m->cfg.n_users, t->m->cfg.n_items};
    for (int side = 0; side < 2; side++) p->a[side] = malloc(((size_t)rows[side] + 1) * sizeof(ahead_row));
    if (!p->a[0] || !p->a[1]) {
        free(p->a[0]), free(p->a[1]);
        p->a[0] = p->a[1] = NULL;
        return;
    }
    for (int side = 0; side < 2; side++)
        for (int32_t r = 0; r < rows[side]; r++) p->a[side][r] = (ahead_row){-1, -1, 0};
}

void rows_ahead_range(void *pass, int64_t from, int64_t to)
{
    rows_ahead_pass *p = pass;
    if (!p->a[0]) return;
    if (p->t->T > 1) { /* a side per thread */
#pragma omp parallel for schedule(static, 1) num_threads(2)
        for (int side = 0; side < 2; side++) ahead_sides(p, side, side, from, to);
    } else { /* both in one pass: the samples are read once */
        ahead_sides(p, 0, 1, from, to);
    }
}

void rows_ahead_end(rows_ahead_pass *p)
{
    engine *t = p->t;
    if (!p->a[0]) { /* no memory for the pass: every row is caught up when read, as without the look-ahead */
        for (int64_t k = 0; k < t->n_samples; k++)
            for (int side = 0; side < 2; side++)
                for (int q = 0; q < (side && ncf_loss_pairwise(t->c->loss) ? 2 : 1); q++) {
                    ahead_set(t, side, q, k, ahead_far(t, side));
                    ahead_mark_read(t, side, q, k);
                }
        return;
    }
    const ahead_store o = ahead_store_of(t);
    const int32_t rows[2] = {t->m->cfg.n_users, t->m->cfg.n_items};
    for (int side = 0; side < 2; side++) { /* each row's first step in the epoch catches it up when it reads it */
        for (int32_t r = 0; r < rows[side]; r++)
            if (p->a[side][r].seen >= 0)
                ahead_store_read(o, side, (int)(p->a[side][r].at & 1), p->a[side][r].at >> 1);
        free(p->a[side]);
        p->a[side] = NULL;
    }
}

void rows_ahead_resume(engine *t, int64_t from)
{
    const int64_t k0 = from * (int64_t)t->c->batch;
    const int nq = ncf_loss_pairwise(t->c->loss) ? 2 : 1;
    for (int side = 0; side < 2; side++) {
        const int32_t rows = side ? t->m->cfg.n_items : t->m->cfg.n_users;
        uint8_t *seen = calloc((size_t)rows + 1, 1);
        for (int64_t k = k0; k < t->n_samples; k++)
            for (int q = 0; q < (side ? nq : 1); q++) {
                const int32_t r = side ? (q ? t->samples[k].item2 : t->samples[k].item) : t->samples[k].user;
                if (seen && seen[r]) continue;
                if (seen) seen[r] = 1;
                ahead_mark_read(t, side, q, k); /* no memory for the row marks: every sample (slower, same bits) */
            }
        free(seen);
    }
}

/* Brings rows[i] of every table of a side from step from[i] to step
 * `through` with the optimizer's zero-gradient steps (dense modes). */
void rows_catch_up_list(engine *t, int side, const int32_t *rows, const int64_t *from, int n, int64_t through,
                        ncf_adam_plan *plan)
{
    const int adam = t->c->optimizer == NCF_OPT_ADAM;
    if (adam) ncf_adam_plan_rows_(&t->win, from, n, through, plan); /* once for all of the side's tables */
    for (int tb = 0; tb < NCF_TABLES; tb++) {
        ncf_table *tab = &t->m->tab[tb];
        if (!tab->w || ncf_table_is_item_(tb) != side) continue;
        if (adam)
            ncf_adam_catchup_rows_(tab->w, t->tab_m[tb], t->tab_v[tb], (size_t)tab->stride, tab->dim, rows, plan, n,
                                   &t->win);
        else
            ncf_opt1_catchup_rows_(&t->opt1, tab->w, t->tab_m[tb], (size_t)tab->stride, tab->dim, rows, from, n,
                                   through);
    }
}

/* Dense modes: brings every row up to date (before evaluation or saving). */
void engine_catch_up_all(engine *t)
{
    const int64_t through = t->step;
    for (int side = 0; side < 2; side++) {
        int64_t *synced = t->synced[side];
        const int32_t rows = side ? t->m->cfg.n_items : t->m->cfg.n_users;
        const uint8_t *own = side == 0 && t->sh ? t->sh->own_user : NULL; /* sharded: another process's users are its */
#pragma omp parallel for schedule(static) num_threads(t->T)
        for (int32_t r = 0; r < rows; r++) {
            if ((own && !own[r]) || synced[r] >= through) continue;
            int64_t from = synced[r];
            ncf_adam_plan plan;
            rows_catch_up_list(t, side, &r, &from, 1, through, &plan);
            synced[r] = through;
        }
    }
}
