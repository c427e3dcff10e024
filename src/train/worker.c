/* worker.c — allocation of a training thread's own buffers (worker.h). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "train/worker.h"

int worker_init(worker *w, const worker_sizes *z)
{
    const size_t B = (size_t)z->batch;
    w->at = malloc(B * sizeof *w->at);
    w->item_at = malloc(B * sizeof *w->item_at);
    w->group_end = malloc(((size_t)z->n_groups + 1) * sizeof *w->group_end);
    w->slot_of = malloc(B * sizeof *w->slot_of);
    w->from = malloc(B * 2 * sizeof *w->from);
    w->catch_rows = malloc(B * 2 * sizeof *w->catch_rows);
    w->plan = malloc(B * 3 * sizeof *w->plan); /* look-ahead: users at 0, items (two a sample, pairwise) at B */
    w->ahead = calloc(1, sizeof *w->ahead);
    w->gap = malloc(B * 3 * sizeof *w->gap);
    if (!w->at || !w->item_at || !w->group_end || !w->slot_of || !w->from || !w->catch_rows || !w->plan || !w->ahead ||
        !w->gap)
        return -1;
    for (int side = 0; side < 2; side++) {
        /* a step touches at most one row per sample, two for item pairs */
        const size_t rows = B * (side && z->pairwise ? 2 : 1);
        w->touched[side] = malloc(rows * sizeof(int32_t));
        w->touched_next[side] = malloc(rows * sizeof(uint16_t));
        w->row_grad[side] = ncf_alloc_aligned_(rows * z->row_stride * sizeof(float));
        w->row_pos[side] = malloc((size_t)z->widest[side] * sizeof(int32_t));
        if (!w->touched[side] || !w->touched_next[side] || !w->row_grad[side] || !w->row_pos[side]) return -1;
        memset(w->row_pos[side], 0xff, (size_t)z->widest[side] * sizeof(int32_t)); /* all -1 */
    }
    w->ws = ncf_alloc_aligned_(z->ws_floats * sizeof(float));
    return w->ws ? 0 : -1;
}

void worker_free(worker *w)
{
    free(w->at);
    free(w->item_at);
    free(w->group_end);
    free(w->slot_of);
    free(w->from);
    free(w->catch_rows);
    free(w->plan);
    free(w->ahead);
    free(w->gap);
    for (int side = 0; side < 2; side++) {
        free(w->touched[side]);
        free(w->touched_next[side]);
        ncf_free_aligned_(w->row_grad[side]);
        free(w->row_pos[side]);
    }
    ncf_free_aligned_(w->ws);
    memset(w, 0, sizeof *w);
}
