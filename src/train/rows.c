/* rows.c — the embedding rows' state during training (rows.h), the parts
 * called once a step or less: the rows' updates under every optimizer and
 * rows mode, and the dense modes' catch-up of listed rows and of every row
 * at the end of an epoch. The per-sample parts are inline in rows.h. */
#include <string.h>

#include "train/rows.h"
#include "train/shard.h"

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

void rows_update_listed(engine *t, int side, int tid, int64_t gstep, const ncf_adam_step *as)
{
    const int64_t mark = gstep + 1; /* this step's number */
    int32_t lo, hi;
    engine_owned_rows(t, side, tid, &lo, &hi);
    for (int tb = 0; tb < NCF_TABLES; tb++)
        if (t->m->tab[tb].w && ncf_table_is_item_(tb) == side) update_rows(t, tb, tid, lo, hi, as);
    if (t->deferred) { /* the listed rows are current through this step */
        const int32_t *touched = t->w[tid].touched[side];
        for (int q = 0; q < t->w[tid].n_touched[side]; q++) t->synced[side][touched[q]] = mark;
    }
}

/* After the gradients are in: sums the item gradients of the samples
 * list_items gave (items, n_items) into the item rows this thread owns (the
 * user rows were summed as their groups were computed) and updates every
 * row it listed. */
void rows_update(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid, int64_t gstep,
                 const ncf_adam_step *as)
{
    for (int side = 0; side < 2; side++) {
        if (side) {
            int32_t lo, hi;
            engine_owned_rows(t, side, tid, &lo, &hi);
            rows_sum(t, side, tid, s, items, n_items, lo, hi);
            rows_clear_places(t, side, tid, 0, t->w[tid].n_touched[side], lo);
        }
        rows_update_listed(t, side, tid, gstep, as);
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
