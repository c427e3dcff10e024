/* engine.c — the training steps of an epoch (engine.h): its samples drawn
 * and shuffled, then mini-batch steps, one OpenMP team per call; each step:
 *   1. the batch's samples are split by user into fixed user groups (every
 *      thread lists them all, in its own copy); each thread takes whole
 *      groups (its own share first, then any another thread has not
 *      started), writes each group's dense-gradient buffer and its samples'
 *      embedding gradients (in slots ordered by group, so each thread
 *      writes a range of its own), and sums the user gradients
 *      per user row, in a per-thread buffer that stays in cache (a user's
 *      rows stay on one core for the step; dense modes catch them up there
 *      first);
 *   2. each thread reduces its chunks of the dense gradient over groups in
 *      group order and updates them; item rows are owned by thread
 *      (contiguous ranges of rows) and summed in sample order, each thread
 *      walking a list of the batch's samples with its items; then each
 *      thread updates the rows it owns
 *      (dense Adam: rows the batch does not touch get their zero-gradient
 *      steps when next read, which is exact; lazy Adam: touched rows only;
 *      momentum SGD and RMSprop the same way, Adagrad and SGD touched rows);
 *   3. each thread refreshes the transposed forward weights of its chunks
 *      (cut so that no cache line of them is written by two threads).
 * Every sum runs in an order fixed by the data, not by the thread count, so
 * a seed gives the same bytes with 1 or 64 threads. The learning rate is
 * set per epoch by the schedule. Evaluation, model selection and the epoch
 * loop are trainer.c's. Does not print (except the per-phase timings of a
 * -DNCF_PHASE_TIMING build, phase.h). */
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "train/engine.h"
#include "train/phase.h"

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
void engine_free(engine *t)
{
    ncf_sampler_free_(&t->sampler);
    ncf_free_aligned_(t->samples);
    ncf_free_aligned_(t->emb_grad);
    for (int k = 0; t->slot_of && k < t->T; k++) free(t->slot_of[k]);
    free(t->slot_of);
    free(t->group_start);
    free(t->user_group);
    free(t->item_start);
    ncf_free_aligned_(t->group_grad);
    ncf_free_aligned_(t->group_loss);
    ncf_free_aligned_(t->counts);
    free(t->dense_chunks);
    free(t->dense_first);
    for (int k = 0; t->item_at && k < t->T; k++) free(t->item_at[k]);
    free(t->item_at);
    ncf_free_aligned_(t->dense_grad);
    ncf_free_aligned_(t->dense_m);
    ncf_free_aligned_(t->dense_v);
    for (int k = 0; k < NCF_TABLES; k++) {
        ncf_free_aligned_(t->tab_grad[k]);
        ncf_free_aligned_(t->tab_m[k]);
        ncf_free_aligned_(t->tab_v[k]);
    }
    for (int k = 0; k < 2; k++) free(t->synced[k]);
    ncf_adam_window_free_(&t->win);
    if (t->touched)
        for (int k = 0; k < t->T * 2; k++) free(t->touched[k]);
    free(t->touched);
    if (t->row_grad)
        for (int k = 0; k < t->T * 2; k++) ncf_free_aligned_(t->row_grad[k]);
    free(t->row_grad);
    if (t->row_pos)
        for (int k = 0; k < t->T * 2; k++) free(t->row_pos[k]);
    free(t->row_pos);
    if (t->from)
        for (int k = 0; k < t->T; k++) free(t->from[k]);
    free(t->from);
    if (t->catch_rows)
        for (int k = 0; k < t->T; k++) free(t->catch_rows[k]);
    free(t->catch_rows);
    if (t->ws)
        for (int k = 0; k < t->T; k++) ncf_free_aligned_(t->ws[k]);
    free(t->ws);
    for (int k = 0; t->at && k < t->T; k++) free(t->at[k]);
    free(t->at);
    for (int k = 0; t->group_end && k < t->T; k++) free(t->group_end[k]);
    free(t->group_end);
    ncf_free_aligned_(t->claim);
    ncf_free_aligned_(t->barrier);
}

/* The epoch's samples (960 MB at 16M interactions), on huge pages. */
static ncf_sample *samples_alloc(size_t n)
{
    size_t bytes;
    return ncf_mul_size_(n, sizeof(ncf_sample), &bytes) == 0 ? ncf_alloc_aligned_(bytes) : NULL;
}

/* Splits the users into G groups of consecutive ids with about equal
 * numbers of training positives (so of samples). The groups depend on the
 * data and the batch size only: a thread takes whole groups, and every sum
 * over a group runs in the same order whoever takes it. */
static int user_groups_init(engine *t, const ncf_dataset *ds)
{
    const int G = t->n_groups;
    t->group_start = malloc(((size_t)G + 1) * sizeof *t->group_start);
    t->user_group = malloc(((size_t)ds->n_users + 1) * sizeof *t->user_group);
    if (!t->group_start || !t->user_group) return -1;
    int32_t u = 0;
    for (int g = 0; g < G; g++) {
        const int64_t want = ds->n_train * g / G; /* positives before group g */
        while (u < ds->n_users && ds->train_offsets[u] < want) u++;
        t->group_start[g] = u;
    }
    t->group_start[G] = ds->n_users;
    for (int g = 0; g < G; g++)
        for (int32_t v = t->group_start[g]; v < t->group_start[g + 1]; v++) t->user_group[v] = g;
    return 0;
}

/* Splits the items into T ranges of consecutive ids with about equal
 * expected numbers of samples (each item's positives plus its share of the
 * uniform negatives), so that no thread gets the popular items at once.
 * Which thread owns an item changes no result. */
static int item_ranges_init(engine *t, const ncf_dataset *ds, int neg)
{
    const int T = t->T;
    const int32_t n = ds->n_items;
    t->item_start = malloc(((size_t)T + 1) * sizeof *t->item_start);
    double *weight = calloc((size_t)n + 1, sizeof *weight);
    if (!t->item_start || !weight) {
        free(weight);
        return -1;
    }
    const double uniform = n > 0 ? (double)neg * (double)ds->n_train / (double)n : 0.0;
    double total = 0.0;
    for (int64_t k = 0; k < ds->n_train; k++) weight[ds->train_items[k]] += 1.0;
    for (int32_t i = 0; i < n; i++) total += weight[i] += uniform;
    int32_t i = 0;
    double before = 0.0; /* weight of items [0, i) */
    for (int k = 0; k < T; k++) {
        const double want = total * k / T;
        while (i < n && before + 0.5 * weight[i] < want) before += weight[i++];
        t->item_start[k] = i;
    }
    t->item_start[T] = n;
    free(weight);
    return 0;
}

/* Thread tid's user groups: [*g0, *g1). */
static void thread_groups(const engine *t, int tid, int *g0, int *g1)
{
    *g0 = (int)((int64_t)t->n_groups * tid / t->T);
    *g1 = (int)((int64_t)t->n_groups * (tid + 1) / t->T);
}

/* Rows [*lo, *hi) of a side (0 users, 1 items) that thread tid sums,
 * updates and catches up: the users of its groups; its range of items. */
static void owned_rows(const engine *t, int side, int tid, int32_t *lo, int32_t *hi)
{
    if (side) {
        *lo = t->item_start[tid];
        *hi = t->item_start[tid + 1];
    } else {
        int g0, g1;
        thread_groups(t, tid, &g0, &g1);
        *lo = t->group_start[g0];
        *hi = t->group_start[g1];
    }
}

static float *table_alloc(const ncf_table *tb)
{
    return ncf_alloc_aligned_((size_t)tb->rows * (size_t)tb->stride * sizeof(float));
}

static int dense_chunks_init(engine *t);

ncf_status engine_init(engine *t, ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->c = c;
    t->mode = ncf_train_rows_mode(c, m->cfg.type);
    t->T = ncf_threads_resolve(c->threads);
    if (ncf_sampler_init_(&t->sampler, ds) != NCF_OK) return NCF_ERR_NOMEM;
    t->n_samples = ncf_sampler_count_(&t->sampler, c->loss, c->neg);
    t->samples = samples_alloc((size_t)t->n_samples);
    t->slot = ncf_slot_width_(m, c->loss);
    t->n_groups = (c->batch + GROUP - 1) / GROUP;
    if (t->n_groups > ds->n_users) t->n_groups = ds->n_users > 0 ? ds->n_users : 1;
    t->emb_grad = ncf_alloc_aligned_((size_t)c->batch * t->slot * sizeof(float));
    t->group_stride = (m->n_dense + 15) & ~(size_t)15;
    t->group_grad = ncf_alloc_aligned_((size_t)t->n_groups * t->group_stride * sizeof(float));
    t->group_loss = ncf_alloc_aligned_((size_t)t->n_groups * PAD_DOUBLES * sizeof *t->group_loss);
    t->dense_grad = ncf_alloc_aligned_(m->n_dense * sizeof(float));
    if (!t->samples || !t->emb_grad || !t->group_grad || !t->group_loss || !t->dense_grad ||
        user_groups_init(t, ds) != 0 || item_ranges_init(t, ds, c->neg) != 0 || dense_chunks_init(t) != 0)
        return NCF_ERR_NOMEM;
    int adam = c->optimizer == NCF_OPT_ADAM;
    t->opt1.kind = c->optimizer == NCF_OPT_ADAGRAD   ? NCF_OPTK_ADAGRAD
                   : c->optimizer == NCF_OPT_RMSPROP ? NCF_OPTK_RMSPROP
                   : c->momentum > 0.0f             ? NCF_OPTK_MOMENTUM
                                                    : NCF_OPTK_SGD;
    t->opt1.lr = c->lr;
    t->opt1.mu = c->momentum;
    t->opt1.alpha = c->alpha;
    t->opt1.eps = c->eps;
    /* state: Adam m and v; the others one buffer (in the m slot), plain SGD none */
    int state = adam ? 2 : t->opt1.kind != NCF_OPTK_SGD;
    t->deferred = t->mode == NCF_ADAM_DENSE && (adam || ncf_opt1_has_zero_grad_steps_(&t->opt1));
    if (state >= 1 && !(t->dense_m = ncf_alloc_aligned_(m->n_dense * sizeof(float)))) return NCF_ERR_NOMEM;
    if (state == 2 && !(t->dense_v = ncf_alloc_aligned_(m->n_dense * sizeof(float)))) return NCF_ERR_NOMEM;
    for (int k = 0; k < NCF_TABLES; k++) {
        const ncf_table *tb = &m->tab[k];
        if (!tb->w) continue;
        if (t->mode == NCF_ADAM_DENSE_SWEEP && !(t->tab_grad[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
        if (state >= 1 && !(t->tab_m[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
        if (state == 2 && !(t->tab_v[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
    }
    for (int side = 0; side < 2; side++) {
        const size_t rows = (size_t)(side ? ds->n_items : ds->n_users) + 1;
        if (state >= 1 && !(t->synced[side] = calloc(rows, sizeof *t->synced[side]))) return NCF_ERR_NOMEM;
    }
    t->touched = calloc((size_t)t->T * 2, sizeof *t->touched);
    t->row_grad = calloc((size_t)t->T * 2, sizeof *t->row_grad);
    t->row_pos = calloc((size_t)t->T * 2, sizeof *t->row_pos);
    t->row_stride = ncf_slot_item_(m);
    t->counts = ncf_alloc_aligned_((size_t)t->T * sizeof *t->counts);
    t->item_at = calloc((size_t)t->T, sizeof *t->item_at);
    t->ws = calloc((size_t)t->T, sizeof *t->ws);
    t->from = calloc((size_t)t->T, sizeof *t->from);
    t->catch_rows = calloc((size_t)t->T, sizeof *t->catch_rows);
    t->at = calloc((size_t)t->T, sizeof *t->at);
    t->group_end = calloc((size_t)t->T, sizeof *t->group_end);
    t->claim = ncf_alloc_aligned_((size_t)t->T * sizeof *t->claim);
    t->barrier = ncf_alloc_aligned_(sizeof *t->barrier);
    t->slot_of = calloc((size_t)t->T, sizeof *t->slot_of);
    if (!t->touched || !t->row_grad || !t->row_pos || !t->counts || !t->item_at || !t->ws || !t->from ||
        !t->catch_rows || !t->at || !t->group_end || !t->claim || !t->barrier || !t->slot_of)
        return NCF_ERR_NOMEM;
    for (int k = 0; k < t->T; k++) atomic_init(&t->claim[k].next, 0);
    atomic_init(&t->barrier->arrived, 0);
    atomic_init(&t->barrier->sense, 0);
#ifdef _OPENMP
    t->spin_barrier = t->T <= omp_get_num_procs();
#endif
    /* the reference sweep updates whole static ranges of user rows, so
     * their gradients must come from the owner's groups alone */
    t->steal = t->T > 1 && t->mode != NCF_ADAM_DENSE_SWEEP;
    for (int k = 0; k < t->T; k++) {
        t->at[k] = malloc((size_t)c->batch * sizeof *t->at[k]);
        t->item_at[k] = malloc((size_t)c->batch * sizeof *t->item_at[k]);
        t->group_end[k] = malloc(((size_t)t->n_groups + 1) * sizeof *t->group_end[k]);
        t->slot_of[k] = malloc((size_t)c->batch * sizeof *t->slot_of[k]);
        if (!t->at[k] || !t->item_at[k] || !t->group_end[k] || !t->slot_of[k]) return NCF_ERR_NOMEM;
    }
    for (int k = 0; k < t->T; k++)
        if (!(t->from[k] = malloc((size_t)c->batch * 2 * sizeof(int64_t))) ||
            !(t->catch_rows[k] = malloc((size_t)c->batch * 2 * sizeof(int32_t))))
            return NCF_ERR_NOMEM;
    for (int k = 0; k < t->T * 2; k++) {
        /* a step touches at most one row per sample, two for item pairs */
        const size_t rows = (size_t)c->batch * (k % 2 && ncf_loss_pairwise(c->loss) ? 2 : 1);
        t->touched[k] = malloc(rows * sizeof(int32_t));
        t->row_grad[k] = ncf_alloc_aligned_(rows * t->row_stride * sizeof(float));
        if (!t->touched[k] || !t->row_grad[k]) return NCF_ERR_NOMEM;
    }
    /* the widest range one sum_rows call covers: a group's users, a thread's items */
    int32_t widest[2] = {1, 1};
    for (int g = 0; g < t->n_groups; g++) {
        const int32_t users = t->group_start[g + 1] - t->group_start[g];
        if (users > widest[0]) widest[0] = users;
    }
    for (int k = 0; k < t->T; k++) {
        const int32_t items = t->item_start[k + 1] - t->item_start[k];
        if (items > widest[1]) widest[1] = items;
    }
    for (int k = 0; k < t->T * 2; k++) {
        t->row_pos[k] = malloc((size_t)widest[k % 2] * sizeof(int32_t));
        if (!t->row_pos[k]) return NCF_ERR_NOMEM;
        memset(t->row_pos[k], 0xff, (size_t)widest[k % 2] * sizeof(int32_t)); /* all -1 */
    }
    for (int k = 0; k < t->T; k++) {
        t->ws[k] = ncf_alloc_aligned_(ncf_model_ws_floats_(m) * sizeof(float));
        if (!t->ws[k]) return NCF_ERR_NOMEM;
    }
    return NCF_OK;
}

/* Adds the embedding gradients of one side (0 users, 1 items) of the
 * batch samples at positions at[0 .. n) (0 .. n-1 when at is NULL), in that
 * order, for the rows in [lo, hi) that thread tid owns: a row's first
 * sample (no place in row_pos) lists it in touched and starts its sum in
 * row_grad from zero, later ones add to that sum. The sums are those a
 * zeroed gradient table would hold, bit for bit, but stay in cache: a
 * table row would be one more scattered read, write and zeroing per row
 * and step. row_pos stays in cache too (a stamp per row of the table was
 * one more scattered line per sample at scale); the caller clears it when
 * the range is done (clear_places). Position k's gradients are in slot
 * slot_of[k]. */
static void sum_rows(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n, int32_t lo,
                     int32_t hi)
{
    const int pair = ncf_loss_pairwise(t->c->loss);
    const size_t width = ncf_side_width_(t->m), item_at = ncf_slot_item_(t->m), rs = t->row_stride;
    int32_t *place = t->row_pos[tid * 2 + side];
    const int32_t *slot_of = t->slot_of[tid];
    int32_t *touched = t->touched[tid * 2 + side];
    float *sums = t->row_grad[tid * 2 + side];
    int n_touched = t->counts[tid].touched[side];
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
    t->counts[tid].touched[side] = n_touched;
}

/* Clears the places sum_rows gave the rows touched[from .. to) of a side,
 * summed with range start lo. */
static void clear_places(engine *t, int side, int tid, int from, int to, int32_t lo)
{
    const int32_t *touched = t->touched[tid * 2 + side];
    int32_t *place = t->row_pos[tid * 2 + side];
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
    const int32_t *touched = t->touched[tid * 2 + side];
    const int n_touched = t->counts[tid].touched[side];
    const float *sums = t->row_grad[tid * 2 + side] + ncf_table_col_(t->m, tb);
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
    owned_rows(t, 1, tid, &lo, &hi);
    const uint32_t span = (uint32_t)(hi - lo);
    const int pair = ncf_loss_pairwise(t->c->loss);
    int32_t *at = t->item_at[tid];
    int c = 0;
    for (int k = 0; k < B; k++) {
        at[c] = k;
        c += ((uint32_t)(s[k].item - lo) < span) | (pair && (uint32_t)(s[k].item2 - lo) < span);
    }
    *n = c;
    return at;
}

/* After the gradients are in: sums the item gradients of the samples
 * list_items gave (items, n_items) into the item rows this thread owns (the
 * user rows were summed as their groups were computed) and updates every
 * row it listed. */
static void update_embeddings(engine *t, const ncf_sample *s, const int32_t *items, int n_items, int tid,
                              int64_t gstep, const ncf_adam_step *as)
{
    const int64_t mark = gstep + 1; /* this step's number */
    for (int side = 0; side < 2; side++) {
        int32_t lo, hi;
        owned_rows(t, side, tid, &lo, &hi);
        if (side) {
            sum_rows(t, side, tid, s, items, n_items, lo, hi);
            clear_places(t, side, tid, 0, t->counts[tid].touched[side], lo);
        }
        for (int tb = 0; tb < NCF_TABLES; tb++)
            if (t->m->tab[tb].w && ncf_table_is_item_(tb) == side) update_rows(t, tb, tid, lo, hi, as);
        if (t->deferred) { /* the listed rows are current through this step */
            const int32_t *touched = t->touched[tid * 2 + side];
            for (int q = 0; q < t->counts[tid].touched[side]; q++) t->synced[side][touched[q]] = mark;
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
static void catch_up_samples(engine *t, int side, int tid, const ncf_sample *s, const int32_t *at, int n,
                             int32_t lo, int32_t hi, int64_t gstep)
{
    const int64_t through = gstep; /* steps done so far */
    const int pair = side && ncf_loss_pairwise(t->c->loss);
    int64_t *synced = t->synced[side];
    int32_t *rows = t->catch_rows[tid];
    int64_t *from = t->from[tid];
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

/* The dense arena cut into chunks for the update: each tensor a chunk,
 * and a layer's W (out x in, row-major) cut further at every 16th output
 * row when its W^T rows are whole cache lines, so that no line of the
 * transposed weights is refreshed by two threads. Chunks go to threads
 * largest first, each to the least loaded (the first layer's W alone is
 * three quarters of NeuMF's arena, so contiguous slices could not be even).
 * Which thread updates a chunk changes no result. */
static int dense_chunks_init(engine *t)
{
    const ncf_model *m = t->m;
    const int T = t->T;
    size_t cap = 2, n = 0;
    for (int l = 0; l < m->n_layers; l++) cap += (size_t)m->out[l] / 16 + 3;
    dense_chunk *all = malloc(cap * sizeof *all);
    t->dense_chunks = malloc(cap * sizeof *t->dense_chunks);
    t->dense_first = calloc((size_t)T + 1, sizeof *t->dense_first);
    size_t *load = calloc((size_t)T, sizeof *load);
    int *owner = malloc(cap * sizeof *owner);
    if (!all || !t->dense_chunks || !t->dense_first || !load || !owner) {
        free(all), free(load), free(owner);
        return -1;
    }
    for (int l = 0; l < m->n_layers; l++) {
        const size_t w0 = m->w_off[l], in = (size_t)m->in[l], out = (size_t)m->out[l];
        const size_t wend = m->b_off[l], bend = l + 1 < m->n_layers ? m->w_off[l + 1] : m->wo_off;
        if (out % 16 == 0 && w0 % 16 == 0)
            for (size_t o = 0; o < out; o += 16) all[n++] = (dense_chunk){w0 + o * in, o + 16 < out ? w0 + (o + 16) * in : wend};
        else
            all[n++] = (dense_chunk){w0, wend};
        all[n++] = (dense_chunk){wend, bend};
    }
    all[n++] = (dense_chunk){m->wo_off, m->n_dense}; /* the chunks tile [0, n_dense): the arena is laid out so */
    for (size_t c = 0; c < n; c++) owner[c] = -1;
    for (size_t done = 0; done < n; done++) { /* largest unassigned first, to the least loaded thread */
        size_t best = n;
        for (size_t c = 0; c < n; c++)
            if (owner[c] < 0 && (best == n || all[c].e - all[c].b > all[best].e - all[best].b)) best = c;
        int th = 0;
        for (int k = 1; k < T; k++)
            if (load[k] < load[th]) th = k;
        owner[best] = th;
        load[th] += all[best].e - all[best].b;
    }
    size_t at = 0;
    for (int k = 0; k < T; k++) { /* each thread's chunks in arena order */
        t->dense_first[k] = (int)at;
        for (size_t c = 0; c < n; c++)
            if (owner[c] == k) t->dense_chunks[at++] = all[c];
    }
    t->dense_first[T] = (int)at;
    free(all), free(load), free(owner);
    return 0;
}

/* Reduces elements [b, e) of the dense gradient over the groups (in group
 * order) and updates them. */
static void update_dense_range(engine *t, size_t b, size_t e, const ncf_adam_step *as)
{
    ncf_model *m = t->m;
    float *g = t->dense_grad;
    ncf_sum_strided_(g + b, t->group_grad + b, t->group_stride, t->n_groups, e - b);
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
    int32_t *at = t->at[tid], *slot_of = t->slot_of[tid];
    int *end = t->group_end[tid];
    memset(end, 0, ((size_t)G + 1) * sizeof *end);
    for (int k = 0; k < B; k++) end[t->user_group[s[k].user] + 1]++;
    for (int g = 0; g < G; g++) end[g + 1] += end[g]; /* end[g]: where group g starts */
    for (int k = 0; k < B; k++) {
        const int p = end[t->user_group[s[k].user]]++; /* end[g]: where it ends, once all are placed */
        at[p] = k;
        slot_of[k] = p;
    }
    int g0, g1;
    thread_groups(t, tid, &g0, &g1);
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
    const int32_t *at = t->at[tid];
    const int *end = t->group_end[tid];
    const int tile = ncf_loss_pairwise(t->c->loss) ? NCF_TILE_ROWS / 2 : NCF_TILE_ROWS; /* samples per call */
    const int begin = g > 0 ? end[g - 1] : 0, n = end[g] - begin, tiles = (n + tile - 1) / tile;
    float *dg = t->group_grad + (size_t)g * t->group_stride;
    memset(dg, 0, m->n_dense * sizeof *dg);
    double loss = 0.0;
    const int listed = t->counts[tid].touched[0]; /* users listed by this thread's earlier groups */
    if (t->deferred) catch_up_samples(t, 0, tid, s, at + begin, n, t->group_start[g], t->group_start[g + 1], gstep);
    for (int p = 0; p < tiles; p++) { /* n split evenly into tiles */
        const int b = begin + (int)((int64_t)n * p / tiles), e = begin + (int)((int64_t)n * (p + 1) / tiles);
        ncf_grad_args a = *ga;
        a.at = at + b;
        loss += ncf_model_chunk_grad_(m, s, e - b, &a, t->ws[tid], dg, t->emb_grad + (size_t)b * t->slot);
        sum_rows(t, 0, tid, s, at + b, e - b, t->group_start[g], t->group_start[g + 1]);
    }
    clear_places(t, 0, tid, listed, t->counts[tid].touched[0], t->group_start[g]);
    t->group_loss[(size_t)g * PAD_DOUBLES] = loss;
}

/* Thread tid's share of a step's gradients: its own groups in order, then,
 * when it runs out, the groups other threads have not yet claimed (so a
 * core that runs slow, on a shared machine, does not hold up the step).
 * Which thread computes a group changes no result. */
static void compute_groups(engine *t, const ncf_sample *s, int tid, int64_t gstep, const ncf_grad_args *ga)
{
    t->counts[tid].touched[0] = t->counts[tid].touched[1] = 0;
    for (int k = 0; k < (t->steal ? t->T : 1); k++) {
        const int owner = (tid + k) % t->T;
        int g0, g1;
        thread_groups(t, owner, &g0, &g1);
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
    const ncf_status sampled = ncf_sampler_epoch_(&t->sampler, c->loss, c->neg, c->seed, epoch, t->T, t->samples);
    if (sampled != NCF_OK) return sampled;
    const float lr = ncf_train_lr_at(c, epoch);
    t->opt1.lr = lr;
    if (c->optimizer == NCF_OPT_ADAM) {
        ncf_adam_window_free_(&t->win);
        if (ncf_adam_window_build_(&t->win, lr, c->beta1, c->beta2, c->eps, t->step - done, engine_steps(t)) != 0)
            return NCF_ERR_NOMEM;
    }
    return NCF_OK;
}

/* engine.h. Two barriers a step: after the catch-up (every row and weight current)
 * and after the groups (every gradient in). Each thread updates the dense
 * slice and the embedding rows it owns, and catches up its own rows for
 * the next step, so nothing else needs to wait. */
int64_t engine_run(engine *t, int epoch, int64_t from, const atomic_int *halt, double *loss_sum)
{
    const ncf_train_config *c = t->c;
    const int64_t n_steps = engine_steps(t), base = t->step - from; /* steps before the epoch */
    int diverged = 0, halted = 0;
    int64_t done = n_steps;
    const int64_t report_every = n_steps / 100 + 1;
    const int deferred = t->deferred, T = t->T;
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
            const int B = (int)(start + c->batch <= t->n_samples ? c->batch : t->n_samples - start);
            const ncf_sample *s = t->samples + start;
            ncf_grad_args ga = {.loss = c->loss,
                                .scale = 1.0f / (float)B,
                                .reg = c->reg,
                                .dropout = 1,
                                .drop_seed = c->seed ^ ((uint64_t)epoch << 40),
                                .sample_base = (uint64_t)start};
            int n_items;
            const int32_t *items = list_items(t, s, B, tid, &n_items);
            if (deferred) { /* the items this thread owns; users as their groups are computed */
                int32_t lo, hi;
                owned_rows(t, 1, tid, &lo, &hi);
                catch_up_samples(t, 1, tid, s, items, n_items, lo, hi, gstep);
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
            update_embeddings(t, s, items, n_items, tid, gstep, as);
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
