/* rows.c — the embedding rows' state during training (rows.h): a step's
 * row gradients summed per thread in cache, the rows' updates under every
 * optimizer and rows mode, and the dense modes' catch-up (an untouched
 * row's zero-gradient steps applied in closed form when it is next read,
 * or at the end of the epoch) with the synced counters that drive it. */
#include <string.h>

#include "train/rows.h"

/* rows.h. A row's first sample (no place in row_pos) lists it in touched
 * and starts its sum in row_grad from zero, later ones add to that sum:
 * the sums are those a zeroed gradient table would hold, bit for bit, kept
 * in a per-thread buffer instead (docs/performance.md says why). The
 * caller clears row_pos when the range is done (rows_clear_places).
 * Position k's gradients are in slot slot_of[k]. */
void rows_sum(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo, int32_t hi)
{
    const int pair = ncf_loss_pairwise(t->c->loss);
    const size_t width = ncf_side_width_(t->m), item_at = ncf_slot_item_(t->m), rs = t->row_stride;
    int32_t *place = t->w[tid].row_pos[side];
    const int32_t *slot_of = t->w[tid].slot_of;
    int32_t *touched = t->w[tid].touched[side];
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

/* Clears the places sum_rows gave the rows touched[from .. to) of a side,
 * summed with range start lo. */
void rows_clear_places(engine *t, int side, int tid, int from, int to, int32_t lo)
{
    const int32_t *touched = t->w[tid].touched[side];
    int32_t *place = t->w[tid].row_pos[side];
    for (int q = from; q < to; q++) place[touched[q] - lo] = -1;
}

/* Updates the rows of table tb listed this step by thread tid with their
 * gradient sums. */
static void update_rows(engine *t, int tb, int tid, int32_t lo, int32_t hi, const ncf_adam_step *as)
{
    ncf_table *tab = &t->m->tab[tb];
    const int dim = tab->dim;
    const size_t stride = (size_t)tab->stride, rs = t->row_stride;
    const int side = ncf_table_is_item_(tb);
    const int32_t *touched = t->w[tid].touched[side];
    const int n_touched = t->w[tid].n_touched[side];
    const float *sums = t->w[tid].row_grad[side] + ncf_table_col_(t->m, tb);
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

/* After the gradients are in: sums the item gradients of the samples
 * list_items gave (items, n_items) into the item rows this thread owns (the
 * user rows were summed as their groups were computed) and updates every
 * row it listed. */
void rows_update(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid, int64_t gstep,
                 const ncf_adam_step *as)
{
    const int64_t mark = gstep + 1; /* this step's number */
    for (int side = 0; side < 2; side++) {
        int32_t lo, hi;
        engine_owned_rows(t, side, tid, &lo, &hi);
        if (side) {
            rows_sum(t, side, tid, s, items, n_items, lo, hi);
            rows_clear_places(t, side, tid, 0, t->w[tid].n_touched[side], lo);
        }
        for (int tb = 0; tb < NCF_TABLES; tb++)
            if (t->m->tab[tb].w && ncf_table_is_item_(tb) == side) update_rows(t, tb, tid, lo, hi, as);
        if (t->deferred) { /* the listed rows are current through this step */
            const int32_t *touched = t->w[tid].touched[side];
            for (int q = 0; q < t->w[tid].n_touched[side]; q++) t->synced[side][touched[q]] = mark;
        }
    }
}

/* Brings rows[i] of every table of a side from step from[i] to step
 * `through` with the optimizer's zero-gradient steps (dense modes). */
static void catch_up_rows(engine *t, int side, const int32_t *rows, const int64_t *from, int n, int64_t through)
{
    for (int tb = 0; tb < NCF_TABLES; tb++) {
        ncf_table *tab = &t->m->tab[tb];
        if (!tab->w || ncf_table_is_item_(tb) != side) continue;
        if (t->c->optimizer == NCF_OPT_ADAM)
            ncf_adam_catchup_rows_(tab->w, t->tab_m[tb], t->tab_v[tb], (size_t)tab->stride, tab->dim, rows, from, n,
                                   through, &t->win);
        else
            ncf_opt1_catchup_rows_(&t->opt1, tab->w, t->tab_m[tb], (size_t)tab->stride, tab->dim, rows, from, n,
                                   through);
    }
}

/* Before step t's forward pass: brings the rows of one side that samples
 * at[0 .. n) (0 .. n-1 when at is NULL) read, within [lo, hi), up to date
 * through step t - 1. */
void rows_catch_up(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo,
                   int32_t hi, int64_t gstep)
{
    const int64_t through = gstep; /* steps done so far */
    const int pair = side && ncf_loss_pairwise(t->c->loss);
    int64_t *synced = t->synced[side];
    int32_t *rows = t->w[tid].catch_rows;
    int64_t *from = t->w[tid].from;
    int c = 0;
    for (int j = 0; j < n; j++) {
        const ncf_sample *x = &s[at ? at[j] : j];
        const int32_t cand[2] = {side ? x->item : x->user, pair ? x->item2 : -1};
        for (int q = 0; q < 1 + pair; q++) {
            const int32_t r = cand[q];
            if (r < lo || r >= hi) continue;
            /* listed only if behind: a user's later samples in the group
             * find it current, at random, so no branch on that */
            const int64_t behind = synced[r];
            rows[c] = r;
            from[c] = behind;
            c += behind < through;
            synced[r] = through; /* never ahead of through */
        }
    }
    catch_up_rows(t, side, rows, from, c, through);
}

/* Dense Adam: brings every row up to date (before evaluation or saving). */
void engine_catch_up_all(engine *t)
{
    const int64_t through = t->step;
    for (int side = 0; side < 2; side++) {
        int64_t *synced = t->synced[side];
        const int32_t rows = side ? t->m->cfg.n_items : t->m->cfg.n_users;
#pragma omp parallel for schedule(static) num_threads(t->T)
        for (int32_t r = 0; r < rows; r++) {
            int64_t from = synced[r];
            catch_up_rows(t, side, &r, &from, 1, through);
            synced[r] = through;
        }
    }
}
