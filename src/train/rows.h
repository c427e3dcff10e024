/* rows.h — the embedding rows' state during training (rows.c): per-thread
 * gradient sums of the rows a step touches, their updates, and the dense
 * modes' catch-up of untouched rows through the synced counters. Called
 * from the step (step.c): sums and catch-ups on the thread that owns the
 * rows, updates on whichever thread takes their chunk (rows_update). */
#ifndef NCF_TRAIN_ROWS_H
#define NCF_TRAIN_ROWS_H

#include <string.h>

#include "core/core.h"
#include "train/engine.h"

/* Brings rows[i] of every table of a side from step from[i] to step
 * `through` with the optimizer's zero-gradient steps (dense modes; plan:
 * room for n, Adam's per-row constants, computed once for all the side's
 * tables). */
void rows_catch_up_list(engine *t, int side, const int32_t *rows, const int64_t *from, int n, int64_t through,
                        ncf_adam_plan *plan);

/* After the gradients are in: sums the item gradients of the samples at
 * items[0 .. n_items) into thread tid's item rows and updates every row it
 * listed (step gstep + 1; as: Adam's constants, NULL for the others).
 * With Adam (not the reference sweep) and more than one thread, the
 * threads share the rows out in chunks, each its own first (rows.c); a
 * thread returns once all of its rows are done. Called by every thread of
 * the team at each step.
 *
 * The look-ahead (dense Adam in one process: t->look_ahead): each updated row
 * is then caught up at once, while its lines are in cache, through the
 * step before the next one that reads it, or through step `cap` (the
 * epoch's last) when no later step of the epoch reads it. Caught up when
 * read instead (rows_catch_up), as without the look-ahead: at a sample
 * marked AHEAD_READ (a row's first read in the epoch, a read ahead_far or
 * more steps after the last, a row's first read after a run goes on from
 * mid-epoch: rows_ahead_resume). Every idle stretch of a row is caught up
 * in one piece, from the same state to the same step, wherever it is done:
 * the same bits either way, so a stopped and resumed run gives the bytes
 * of an uninterrupted one. A run stopped mid-epoch and finished there
 * (ncf_trainer_finish) keeps the rows the look-ahead has already moved
 * past the stop: their idle steps up to their next read in the epoch are
 * applied, as an uninterrupted run would, a little early. */
void rows_update(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid, int64_t gstep,
                 int64_t cap, const ncf_adam_step *as);

/* The look-ahead's values, per sample and row it reads (ahead_value): the
 * low 15 bits say when the next step that reads the row comes:
 * AHEAD_NONE: none in this epoch; d (1 .. AHEAD_FAR - 1): d steps later;
 * AHEAD_FAR: later, or not known (no look-ahead). AHEAD_READ is set on one
 * sample of each step that must catch the row up when it reads it: the
 * row's first step in the epoch, and a step AHEAD_FAR or more after the
 * row's last. With BCE a sample keeps them in its third word (sampler.h),
 * its item's in 14 bits (ahead_far: gaps from 16,383 steps are far);
 * pairwise losses in t->ahead. */
#define AHEAD_NONE 0
#define AHEAD_FAR 0x7fff
#define AHEAD_READ 0x8000

/* Tests only: when nonzero, gaps from this many steps on count as far
 * (which must not change a model's bytes). */
extern unsigned ncf_rows_far_for_tests_;

/* The gap from which side's values say AHEAD_FAR. */
static inline unsigned ahead_far(const engine *t, int side)
{
    const unsigned far = side && !t->ahead[0] ? 0x3fff : AHEAD_FAR;
    return ncf_rows_far_for_tests_ && ncf_rows_far_for_tests_ < far ? ncf_rows_far_for_tests_ : far;
}

/* Where the look-ahead's values live: the samples (BCE) or t->ahead
 * (pairwise losses: arr, else NULL). The one place that knows their bits;
 * a copy of the engine's pointers, so that a loop storing values (which
 * may alias anything to the compiler) need not reload them. */
typedef struct ahead_store {
    ncf_sample *s;
    uint16_t *arr[3];
    uint8_t *steps[2]; /* t->ahead_steps */
    int64_t batch;
} ahead_store;

static inline ahead_store ahead_store_of(const engine *t)
{
    return (ahead_store){t->samples,
                         {t->ahead[0], t->ahead[1], t->ahead[2]},
                         {t->ahead_steps[0], t->ahead_steps[1]},
                         t->c->batch};
}

/* Sample k's row q on a side (q 1: item2): its gap as stored (up to the
 * side's limit, not yet AHEAD_FAR) and AHEAD_READ bit. */
static inline unsigned ahead_stored(ahead_store o, int side, int q, int64_t k)
{
    if (o.arr[0]) return (q ? o.arr[2] : o.arr[side])[k];
    const ncf_sample *x = &o.s[k];
    return side ? ((x->label >> 1) & 0x3fff) | (x->label & AHEAD_READ) : x->user_ahead;
}

/* Stores that gap (at most ahead_far) with no AHEAD_READ bit. */
static inline void ahead_store_gap(ahead_store o, int side, int q, int64_t k, unsigned d)
{
    if (o.arr[0]) (q ? o.arr[2] : o.arr[side])[k] = (uint16_t)d;
    else if (!side) o.s[k].user_ahead = (uint16_t)d;
    else o.s[k].label = (uint16_t)((o.s[k].label & 1) | (d << 1));
}

/* Sets its AHEAD_READ bit, and its step's mark on that side. */
static inline void ahead_store_read(ahead_store o, int side, int q, int64_t k)
{
    o.steps[side][k / o.batch] = 1;
    if (o.arr[0]) (q ? o.arr[2] : o.arr[side])[k] |= AHEAD_READ;
    else if (!side) o.s[k].user_ahead |= AHEAD_READ;
    else o.s[k].label |= AHEAD_READ;
}

/* The look-ahead of sample k's row q on a side: its gap (AHEAD_FAR from
 * the side's limit `far` on: ahead_far) and AHEAD_READ bit. */
static inline unsigned ahead_value_in(ahead_store o, unsigned far, int side, int q, int64_t k)
{
    const unsigned v = ahead_stored(o, side, q, k);
    return (v & AHEAD_FAR) >= far ? AHEAD_FAR | (v & AHEAD_READ) : v;
}

static inline unsigned ahead_value(const engine *t, int side, int q, int64_t k)
{
    return ahead_value_in(ahead_store_of(t), ahead_far(t, side), side, q, k);
}

/* Whether sample k's row q on a side is caught up when read (its
 * AHEAD_READ bit; the only part the read needs). */
static inline int ahead_read(const engine *t, int side, int q, int64_t k)
{
    return (ahead_stored(ahead_store_of(t), side, q, k) & AHEAD_READ) != 0;
}

/* Sets that gap (at most ahead_far) with no AHEAD_READ bit. */
static inline void ahead_set(engine *t, int side, int q, int64_t k, unsigned d)
{
    ahead_store_gap(ahead_store_of(t), side, q, k, d);
}

/* Sets its AHEAD_READ bit. */
static inline void ahead_mark_read(engine *t, int side, int q, int64_t k)
{
    ahead_store_read(ahead_store_of(t), side, q, k);
}

/* Updates the rows of a side that thread tid listed this step (touched,
 * with their sums in row_grad) and, in dense modes, marks them current
 * through step gstep + 1 (no look-ahead: the sharded order calls it). */
void rows_update_listed(engine *t, int side, int tid, int64_t gstep, const ncf_adam_step *as);

/* A row's place in the backward pass of the look-ahead: the earliest step
 * seen so far that reads it (-1: none), the one before it was seen, and
 * one of its samples at `seen` (2 k + q: sample k's candidate q). */
typedef struct ahead_row {
    int32_t seen, after;
    int64_t at;
} ahead_row;

/* The look-ahead of the epoch's samples (t->samples, batch samples a
 * step), from a backward pass that the sampler runs as it places them
 * (ncf_sampler_epoch_visit_): rows_ahead_begin, then rows_ahead_range on
 * every sample once, in ranges from the last to the first (one thread:
 * each shuffle bucket while it is in cache; more: all the samples at the
 * end, a side per thread), then rows_ahead_end. Without memory for the
 * pass the ranges do nothing, and end marks every sample to be caught up
 * when read (the same bits, slower). */
typedef struct rows_ahead_pass {
    engine *t;
    ahead_row *a[2]; /* NULL: no memory for the pass */
} rows_ahead_pass;
void rows_ahead_begin(engine *t, rows_ahead_pass *p);
void rows_ahead_range(void *pass, int64_t from, int64_t to); /* an ncf_sampler_visit */
void rows_ahead_end(rows_ahead_pass *p);

/* A run that goes on from step `from` > 0 of the epoch (after a stop, or
 * from a checkpoint, which may come from a build without the look-ahead):
 * each row's first read from there on catches it up when read, from
 * whatever step it is current through (one piece, as ever). */
void rows_ahead_resume(engine *t, int64_t from);

/* The per-sample parts, inline: they run for every sample of a step, with
 * a constant side where the step calls them. */

/* Adds the embedding gradients of one side (0 users, 1 items) of the batch
 * samples at positions at[0 .. n) (all n when at is NULL), in that order,
 * into thread tid's sums for the rows in [lo, hi) it owns. A row's first sample (no place in row_pos) lists it in touched
 * and starts its sum in row_grad from zero, later ones add to that sum:
 * the sums are those a zeroed gradient table would hold, bit for bit, kept
 * in a per-thread buffer instead (docs/performance.md says why). The
 * caller clears row_pos when the range is done (rows_clear_places).
 * Position k's gradients are in slot slot_of[k]. With the look-ahead (s
 * then the batch within t->samples), a listed row's gap to its next read,
 * as its first sample here stores it, goes in touched_next. */
static inline void rows_sum(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo,
                            int32_t hi)
{
    const int pair = ncf_loss_pairwise(t->c->loss);
    const size_t width = ncf_side_width_(t->m), item_at = ncf_slot_item_(t->m), rs = t->row_stride;
    int32_t *place = t->w[tid].row_pos[side];
    const int32_t *slot_of = t->w[tid].slot_of;
    int32_t *touched = t->w[tid].touched[side];
    uint16_t *touched_next = t->w[tid].touched_next[side];
    const int ahead = t->look_ahead;
    const ahead_store o = ahead_store_of(t);
    const unsigned far = ahead_far(t, side);
    const int64_t batch0 = ahead ? s - t->samples : 0; /* the batch's first sample in the epoch */
    float *sums = t->w[tid].row_grad[side];
    int n_touched = t->w[tid].n_touched[side];
    for (int j = 0; j < n; j++) {
        const int k = at ? at[j] : j;
        const int32_t rows[2] = {side ? s[k].item : s[k].user, side && pair ? s[k].item2 : -1};
        if (side && j + 16 < n) { /* item slots further ahead: half were written on the other core */
            const float *sl = t->emb_grad + (size_t)slot_of[at ? at[j + 16] : j + 16] * t->slot + item_at;
            for (size_t f = 0; f < width; f += 16) __builtin_prefetch(sl + f);
            __builtin_prefetch(sl + width - 1);
        }
        for (int q = 0; q < 1 + (side && pair); q++) {
            const int32_t r = rows[q];
            if (r < lo || r >= hi) continue;
            /* no branch on first: which sample comes first is a coin toss */
            const int first = place[r - lo] < 0;
            const int32_t pos = first ? n_touched : place[r - lo];
            touched[n_touched] = r; /* kept only the first time */
            if (ahead) /* read here, where the sample's line is at hand */
                touched_next[n_touched] = (uint16_t)(ahead_value_in(o, far, side, q, batch0 + k) & AHEAD_FAR);
            n_touched += first;
            place[r - lo] = pos;
            const float *restrict src =
                t->emb_grad + (size_t)slot_of[k] * t->slot + (side ? item_at + (size_t)q * width : 0);
            float *restrict dst = sums + (size_t)pos * rs;
            ncf_add_row_(dst, src, width, first); /* AVX-512 where there is: engine.c is baseline x86-64 */
        }
    }
    t->w[tid].n_touched[side] = n_touched;
}

/* Asks for the optimizer state (m, v) of the users of the batch samples
 * at positions at[0 .. n), for writing: the rows phase updates them, and
 * where that state is far larger than the caches (t->prefetch_user_state)
 * fetching it then, all at once, leaves that phase waiting on memory; the
 * groups' arithmetic hides it. */
static inline void rows_prefetch_user_state(const engine *t, const ncf_sample *s, const int32_t *at, int n)
{
    for (int tb = 0; tb < NCF_TABLES; tb++) {
        const ncf_table *tab = &t->m->tab[tb];
        if (!tab->w || ncf_table_is_item_(tb) || !t->tab_m[tb]) continue;
        const size_t bytes = (size_t)tab->dim * sizeof(float);
        for (int j = 0; j < n; j++) {
            const size_t o = (size_t)s[at[j]].user * (size_t)tab->stride;
            ncf_prefetch_lines_(t->tab_m[tb] + o, bytes, 1);
            if (t->tab_v[tb]) ncf_prefetch_lines_(t->tab_v[tb] + o, bytes, 1);
        }
    }
}

/* Clears the places rows_sum gave the rows touched[from .. to) of a side,
 * summed with range start lo. */
static inline void rows_clear_places(engine *t, int side, int tid, int from, int to, int32_t lo)
{
    const int32_t *touched = t->w[tid].touched[side];
    int32_t *place = t->w[tid].row_pos[side];
    for (int q = from; q < to; q++) place[touched[q] - lo] = -1;
}

/* Before step t's forward pass: brings the rows of one side that samples
 * at[0 .. n) (0 .. n-1 when at is NULL) read, within [lo, hi), up to date
 * through step t - 1 (with the look-ahead, only those of samples marked
 * AHEAD_READ, in the steps ahead_steps marks: the look-ahead has caught
 * the others up). */
static inline void rows_catch_up(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n,
                                 int32_t lo, int32_t hi, int64_t gstep)
{
    const int64_t through = gstep; /* steps done so far */
    const int pair = side && ncf_loss_pairwise(t->c->loss);
    int64_t *synced = t->synced[side];
    int32_t *rows = t->w[tid].catch_rows;
    int64_t *from = t->w[tid].from;
    const int ahead = t->look_ahead;
    const int64_t first = ahead ? s - t->samples : 0; /* the batch's first sample in the epoch */
    if (ahead && !t->ahead_steps[side][first / t->c->batch]) return; /* no sample of the step is marked */
    int c = 0;
    for (int j = 0; j < n; j++) {
        const ncf_sample *x = &s[at ? at[j] : j];
        const int32_t cand[2] = {side ? x->item : x->user, pair ? x->item2 : -1};
        for (int q = 0; q < 1 + pair; q++) {
            const int32_t r = cand[q];
            if (r < lo || r >= hi) continue;
            if (ahead) { /* only where the look-ahead left it to the read */
                if (!ahead_read(t, side, q, first + (at ? at[j] : j))) continue;
                const int64_t behind = synced[r];
                if (behind < through) {
                    rows[c] = r;
                    from[c++] = behind;
                    synced[r] = through;
                }
                continue;
            }
            const int64_t behind = synced[r];
            /* listed only if behind: a user's later samples in the group
             * find it current, at random, so no branch on that */
            rows[c] = r;
            from[c] = behind;
            c += behind < through;
            synced[r] = through; /* never ahead of through */
        }
    }
    rows_catch_up_list(t, side, rows, from, c, through, t->w[tid].plan);
}

#endif
