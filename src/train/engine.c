/* engine.c — the step engine's set-up (engine.h): the epoch's sample
 * array, the user groups and item ranges that fix every sum's order
 * whatever the thread count, the dense update's chunks, the optimizer
 * state, and each thread's worker. The steps themselves are step.c's, the
 * rows' state rows.c's. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "train/engine.h"
#include "train/shard.h"

void engine_free(engine *t)
{
    ncf_sampler_free_(&t->sampler);
    ncf_free_aligned_(t->samples);
    for (int q = 0; q < 3; q++) free(t->ahead[q]);
    for (int side = 0; side < 2; side++) free(t->ahead_steps[side]);
    ncf_free_aligned_(t->emb_grad);
    for (int k = 0; t->w && k < t->T; k++) worker_free(&t->w[k]);
    ncf_free_aligned_(t->w);
    free(t->group_start);
    free(t->group_hi);
    shard_free(t);
    free(t->user_group);
    free(t->item_start);
    ncf_free_aligned_(t->group_grad);
    ncf_free_aligned_(t->group_loss);
    free(t->dense_chunks);
    free(t->dense_first);
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
    ncf_free_aligned_(t->claim);
    ncf_free_aligned_(t->rclaim);
    ncf_free_aligned_(t->barrier);
}

/* The epoch's samples (1.2 GB at 20M interactions), on huge pages from 2 MB
 * up (ncf_alloc_unfilled_), each page touched by the team in parallel: the
 * sampler writes every entry, so nothing needs zeroing, but the pages'
 * faults (the kernel's zeroing, most of the cost) should neither run on one
 * thread nor fall in the epoch. */
static ncf_sample *samples_alloc(size_t n, int T)
{
    const size_t page = 4096;
    size_t bytes;
    void *p = NULL;
    if (ncf_mul_size_(n ? n : 1, sizeof(ncf_sample), &bytes) != 0 || !(p = ncf_alloc_unfilled_(bytes, &bytes)))
        return NULL;
    char *b = p;
    const int64_t pages = (int64_t)((bytes + page - 1) / page);
#pragma omp parallel for schedule(static) num_threads(T) if (pages > 512)
    for (int64_t k = 0; k < pages; k++) b[(size_t)k * page] = 0;
    return p;
}

ncf_status engine_samples_ready(engine *t)
{
    if (t->samples || t->sh) return NCF_OK;
    t->samples = samples_alloc((size_t)t->n_samples, t->T);
    if (!t->samples) return NCF_ERR_NOMEM;
    for (int side = 0; t->look_ahead && side < 2; side++)
        if (!(t->ahead_steps[side] = calloc((size_t)engine_steps(t) + 1, 1))) t->look_ahead = 0; /* same bytes */
    if (t->look_ahead && ncf_loss_pairwise(t->c->loss)) { /* BCE's look-ahead is in the samples */
        const size_t bytes = (size_t)(t->n_samples ? t->n_samples : 1) * sizeof(uint16_t);
        for (int q = 0; q < 3; q++)
            if ((t->ahead[q] = malloc(bytes))) memset(t->ahead[q], 0, bytes); /* the pages' faults before the
                                                                                  epoch's clock starts */
        if (!t->ahead[0] || !t->ahead[1] || !t->ahead[2]) { /* without them: every row caught up when read,
                                                               the same bytes */
            for (int q = 0; q < 3; q++) free(t->ahead[q]), t->ahead[q] = NULL;
            t->look_ahead = 0;
        }
    }
    return NCF_OK;
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
    for (int32_t u = 0; u < ds->n_users; u++) /* loaded for shards: its own users' items are all it has */
        if (!ds->own_users || ds->own_users[u])
            for (int64_t k = ds->train_offsets[u]; k < ds->train_offsets[u + 1]; k++) weight[ds->train_items[k]] += 1.0;
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

static float *table_alloc(const ncf_table *tb)
{
    return ncf_alloc_aligned_((size_t)tb->rows * (size_t)tb->stride * sizeof(float));
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

/* The optimizer: its constants, and its state (Adam m and v; the others
 * one buffer, in the m slot; plain SGD none) for the dense arena, the
 * tables and, in dense modes, the rows' synced counters. */
static ncf_status optimizer_init(engine *t, const ncf_dataset *ds)
{
    const ncf_train_config *c = t->c;
    const ncf_model *m = t->m;
    const int adam = c->optimizer == NCF_OPT_ADAM;
    t->opt1.kind = c->optimizer == NCF_OPT_ADAGRAD   ? NCF_OPTK_ADAGRAD
                   : c->optimizer == NCF_OPT_RMSPROP ? NCF_OPTK_RMSPROP
                   : c->momentum > 0.0f             ? NCF_OPTK_MOMENTUM
                                                    : NCF_OPTK_SGD;
    t->opt1.lr = c->lr;
    t->opt1.mu = c->momentum;
    t->opt1.alpha = c->alpha;
    t->opt1.eps = c->eps;
    const int state = adam ? 2 : t->opt1.kind != NCF_OPTK_SGD;
    t->deferred = t->mode == NCF_ADAM_DENSE && (adam || ncf_opt1_has_zero_grad_steps_(&t->opt1));
    /* the look-ahead's backward pass counts steps in int32 */
    t->look_ahead = t->deferred && adam && c->shards == 0 && engine_steps(t) < INT32_MAX;
    if (state >= 1 && !(t->dense_m = ncf_alloc_aligned_(m->n_dense * sizeof(float)))) return NCF_ERR_NOMEM;
    if (state == 2 && !(t->dense_v = ncf_alloc_aligned_(m->n_dense * sizeof(float)))) return NCF_ERR_NOMEM;
    size_t user_state = 0; /* bytes of the user tables' optimizer state */
    for (int k = 0; k < NCF_TABLES; k++) {
        const ncf_table *tb = &m->tab[k];
        if (!tb->w) continue;
        if (t->mode == NCF_ADAM_DENSE_SWEEP && !(t->tab_grad[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
        if (state >= 1 && !(t->tab_m[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
        if (state == 2 && !(t->tab_v[k] = table_alloc(tb))) return NCF_ERR_NOMEM;
        if (!ncf_table_is_item_(k)) user_state += (size_t)state * (size_t)tb->rows * (size_t)tb->stride * sizeof(float);
    }
    t->prefetch_user_state = user_state > ((size_t)16 << 20);
    for (int side = 0; side < 2; side++) {
        const size_t rows = (size_t)(side ? ds->n_items : ds->n_users) + 1;
        if (state >= 1 && !(t->synced[side] = calloc(rows, sizeof *t->synced[side]))) return NCF_ERR_NOMEM;
    }
    return NCF_OK;
}

/* The team: barriers, group claims, and each thread's worker. */
static ncf_status team_init(engine *t)
{
    const ncf_train_config *c = t->c;
    t->claim = ncf_alloc_aligned_((size_t)t->T * sizeof *t->claim);
    t->rclaim = ncf_alloc_aligned_((size_t)t->T * sizeof *t->rclaim);
    t->barrier = ncf_alloc_aligned_(sizeof *t->barrier);
    t->w = ncf_alloc_aligned_((size_t)t->T * sizeof *t->w); /* zeroed */
    if (!t->claim || !t->rclaim || !t->barrier || !t->w) return NCF_ERR_NOMEM;
    for (int k = 0; k < t->T; k++) {
        atomic_init(&t->claim[k].next, 0);
        atomic_init(&t->rclaim[k].ready, -1);
        atomic_init(&t->rclaim[k].next, 0);
        atomic_init(&t->rclaim[k].done, 0);
    }
    atomic_init(&t->barrier->arrived, 0);
    atomic_init(&t->barrier->sense, 0);
#ifdef _OPENMP
    t->spin_barrier = t->T <= omp_get_num_procs();
#endif
    /* the reference sweep updates whole static ranges of user rows, so
     * their gradients must come from the owner's groups alone */
    t->steal = t->T > 1 && t->mode != NCF_ADAM_DENSE_SWEEP;
    worker_sizes z = {.batch = t->max_batch,
                      .pairwise = ncf_loss_pairwise(c->loss),
                      .n_groups = t->n_groups,
                      .row_stride = t->row_stride,
                      .widest = {1, 1},
                      .ws_floats = ncf_model_ws_floats_(t->m)};
    /* the widest range one rows_sum call covers: a group's users, a thread's items */
    for (int g = 0; g < t->n_groups; g++) {
        int32_t lo, hi;
        engine_group_users(t, g, &lo, &hi);
        if (hi - lo > z.widest[0]) z.widest[0] = hi - lo;
    }
    for (int k = 0; k < t->T; k++) {
        const int32_t items = t->item_start[k + 1] - t->item_start[k];
        if (items > z.widest[1]) z.widest[1] = items;
    }
    for (int k = 0; k < t->T; k++)
        if (worker_init(&t->w[k], &z) != 0) return NCF_ERR_NOMEM;
    return NCF_OK;
}

ncf_status engine_init(engine *t, ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c)
{
    memset(t, 0, sizeof *t);
    t->m = m;
    t->c = c;
    t->mode = ncf_train_rows_mode(c, m->cfg.type);
    t->T = ncf_threads_resolve(c->threads);
    t->slot = ncf_slot_width_(m, c->loss);
    t->row_stride = ncf_slot_item_(m);
    t->max_batch = c->batch;
    if (c->shards > 0) { /* samples per shard, groups = the shards this process owns (shard.c) */
        const int sh = shard_init(t, ds);
        if (sh != 0) return sh == -2 ? NCF_ERR_ARG : NCF_ERR_NOMEM;
    } else {
        if (ncf_sampler_init_(&t->sampler, ds) != NCF_OK) return NCF_ERR_NOMEM;
        t->n_samples = ncf_sampler_count_(&t->sampler, c->loss, c->neg); /* t->samples: engine_samples_ready */
        t->n_groups = (c->batch + GROUP - 1) / GROUP;
        if (t->n_groups > ds->n_users) t->n_groups = ds->n_users > 0 ? ds->n_users : 1;
        if (user_groups_init(t, ds) != 0) return NCF_ERR_NOMEM;
    }
    t->emb_grad = ncf_alloc_aligned_((size_t)t->max_batch * t->slot * sizeof(float));
    t->group_stride = (m->n_dense + 15) & ~(size_t)15;
    t->group_grad = ncf_alloc_aligned_((size_t)t->n_groups * t->group_stride * sizeof(float));
    t->group_loss = ncf_alloc_aligned_((size_t)t->n_groups * PAD_DOUBLES * sizeof *t->group_loss);
    t->dense_grad = ncf_alloc_aligned_(m->n_dense * sizeof(float));
    if (!t->emb_grad || !t->group_grad || !t->group_loss || !t->dense_grad || item_ranges_init(t, ds, c->neg) != 0 ||
        dense_chunks_init(t) != 0)
        return NCF_ERR_NOMEM;
    if (optimizer_init(t, ds) != NCF_OK) return NCF_ERR_NOMEM;
    if (t->sh) shard_release_users(t, NULL); /* other processes' user rows take no memory */
    return team_init(t);
}
