/* shard.c — sharded training (shard.h; docs/distributed.md): the shards
 * and their samples, each step's local and global batches, the reduction
 * of the dense and item gradients in 64-bit fixed point across processes
 * (through dist.h, the only place that talks to MPI), the update of the
 * replicated rows from it, evaluation with integer rank sums, and the
 * gathering of user rows on rank 0. The step loop that calls it is
 * step.c's; it does not print. */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_DONTNEED, MADV_NOHUGEPAGE (Linux) */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/core.h"
#include "data/own.h"
#include "dist/dist.h"
#include "eval/eval.h"
#include "nn/nn.h" /* NCF_MULTIVERSION */
#include "train/rows.h"
#include "train/shard.h"
#include "train/trainer_impl.h"

/* ---- fixed point ------------------------------------------------------------- */
/* A float x becomes x 2^E rounded to the nearest integer (ties to even),
 * as a 64-bit two's complement pattern: adding 1.5 * 2^52 puts the integer
 * part in the mantissa when |x 2^E| < 2^51 (the limit is lower:
 * shard_init). A value out of range, NaN included, is flagged. */
#define FIX_MAGIC 6755399441055744.0 /* 1.5 * 2^52 */
#define FIX_MAGIC_BITS 0x4338000000000000ull

static inline float unfix(uint64_t u, double inv_scale) { return (float)((double)(int64_t)u * inv_scale); }

/* dst[i] = (first ? 0 : dst[i]) + src[i] in fixed point, for i < n; 1
 * when a value left the range. Written so that the compiler vectorizes it
 * (built for three instruction sets; the same bits on each: the products
 * by a power of two and the sums are exact, the one rounding is the
 * addition of the constant). */
NCF_MULTIVERSION static int fix_add(uint64_t *restrict dst, const float *restrict src, size_t n, double scale,
                                    double limit, int first)
{
    int bad = 0;
    if (first) {
        for (size_t i = 0; i < n; i++) {
            const double d = (double)src[i] * scale, y = d + FIX_MAGIC;
            bad |= !(fabs(d) < limit);
            uint64_t u;
            memcpy(&u, &y, sizeof u);
            dst[i] = u - FIX_MAGIC_BITS;
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            const double d = (double)src[i] * scale, y = d + FIX_MAGIC;
            bad |= !(fabs(d) < limit);
            uint64_t u;
            memcpy(&u, &y, sizeof u);
            dst[i] += u - FIX_MAGIC_BITS;
        }
    }
    return bad;
}

/* dst[i] = unfix(src[i]) for i < n, the same bits, vectorized: a sum below
 * 2^51 in magnitude becomes a double exactly by the magic constant the
 * other way round (int64 to double has no vector instruction before
 * AVX-512); a larger one (rare: the sum of many values near the range's
 * edge) sends the whole slice through unfix's conversion, which rounds. */
NCF_MULTIVERSION static void unfix_many(float *restrict dst, const uint64_t *restrict src, size_t n, double inv_scale)
{
    uint64_t wide = 0;
    for (size_t i = 0; i < n; i++) {
        const uint64_t b = src[i] + FIX_MAGIC_BITS;
        wide |= (src[i] + (1ull << 51)) >> 52; /* |v| >= 2^51 */
        double y;
        memcpy(&y, &b, sizeof y);
        dst[i] = (float)((y - FIX_MAGIC) * inv_scale);
    }
    if (wide)
        for (size_t i = 0; i < n; i++) dst[i] = unfix(src[i], inv_scale);
}

/* ---- set-up ------------------------------------------------------------------- */
/* The wire: [0] halt requests, [1] out-of-range flags, [2, 2 + S) each
 * shard's loss (a double's bits: one process adds it, the others 0), then
 * the dense gradient, the touched item rows' gradients, the next step's
 * items. */
static size_t dense_off(const shard_state *sh) { return 2 + (size_t)sh->S; }
static size_t items_off(const engine *t) { return dense_off(t->sh) + t->m->n_dense; }

/* A hash of what must be the same on every process: the data and
 * everything in the configuration that changes the result. */
static uint64_t run_hash(const engine *t, const ncf_dataset *ds)
{
    const ncf_train_config *c = t->c;
    uint64_t h = ncf_fingerprint_shared_(ds); /* what every process holds: not the items, which may be its own */
#define MIX(v) h = (h ^ (uint64_t)(v)) * 0x100000001b3ULL
    uint32_t f;
    MIX(c->epochs), MIX(c->batch), MIX(c->neg), MIX(c->optimizer), MIX(t->mode), MIX(c->loss), MIX(c->seed);
    MIX(c->shards), MIX(c->schedule), MIX(c->lr_step), MIX(t->m->n_dense), MIX(t->m->cfg.type);
    const float fs[] = {c->lr, c->beta1, c->beta2, c->eps, c->reg, c->reg_layers, c->momentum, c->alpha, c->lr_gamma,
                        c->lr_end, t->m->cfg.dropout};
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
        memcpy(&f, &fs[k], 4);
        MIX(f);
    }
#undef MIX
    return h;
}

int shard_init(engine *t, const ncf_dataset *ds)
{
    const ncf_train_config *c = t->c;
    shard_state *sh = calloc(1, sizeof *sh);
    if (!sh) return -1;
    t->sh = sh;
    atomic_init(&sh->out_of_range, 0);
    sh->S = c->shards;
    sh->N = ncf_dist_size_();
    sh->rank = ncf_dist_rank_();
    uint64_t lo, hi;
    if (ncf_dist_minmax_u64_(run_hash(t, ds), &lo, &hi) != 0 || lo != hi) return -2;
    if (sh->N > sh->S) return -2;
    const int S = sh->S;
    sh->L = (S - sh->rank + sh->N - 1) / sh->N;
    sh->pair = ncf_loss_pairwise(c->loss);
    sh->W = ncf_side_width_(t->m);
    /* at most C = 2 (batch + S) values add up in one element; each below
     * 2^v with v + log2 C <= 62, and 2^8 above the largest |x| expected */
    int cbits = 0;
    while ((1ll << cbits) < 2ll * ((int64_t)c->batch + S)) cbits++;
    const int v = 62 - cbits < 50 ? 62 - cbits : 50;
    sh->scale = ldexp(1.0, v - 8);
    sh->inv_scale = ldexp(1.0, 8 - v);
    sh->limit = ldexp(1.0, v);
    /* shards: consecutive users with about equal positives (as the groups) */
    sh->user_start = malloc(((size_t)S + 1) * sizeof *sh->user_start);
    sh->count = malloc((size_t)S * sizeof *sh->count);
    sh->first = malloc(((size_t)S + 1) * sizeof *sh->first);
    sh->local = malloc((size_t)sh->L * sizeof *sh->local + 1);
    sh->own_user = calloc((size_t)ds->n_users + 1, 1);
    if (!sh->user_start || !sh->count || !sh->first || !sh->local || !sh->own_user) return -1;
    ncf_shard_starts_(ds->train_offsets, ds->n_users, S, sh->user_start);
    const int per = sh->pair ? c->neg : 1 + c->neg;
    sh->first[0] = 0;
    for (int s = 0; s < S; s++) {
        sh->count[s] = (ds->train_offsets[sh->user_start[s + 1]] - ds->train_offsets[sh->user_start[s]]) * per;
        sh->first[s + 1] = sh->first[s] + sh->count[s];
    }
    t->n_samples = sh->first[S];
    t->max_batch = c->batch + S;
    /* the engine's groups: the owned shards */
    t->n_groups = sh->L > 0 ? sh->L : 1;
    t->group_start = calloc((size_t)t->n_groups + 1, sizeof *t->group_start);
    t->group_hi = calloc((size_t)t->n_groups, sizeof *t->group_hi);
    t->user_group = malloc(((size_t)ds->n_users + 1) * sizeof *t->user_group);
    sh->sampler = calloc((size_t)sh->L + 1, sizeof *sh->sampler);
    sh->samples = calloc((size_t)sh->L + 1, sizeof *sh->samples);
    if (!t->group_start || !t->group_hi || !t->user_group || !sh->sampler || !sh->samples) return -1;
    memset(t->user_group, 0xff, ((size_t)ds->n_users + 1) * sizeof *t->user_group);
    for (int g = 0; g < sh->L; g++) {
        const int s = sh->rank + g * sh->N;
        sh->local[g] = s;
        t->group_start[g] = sh->user_start[s];
        t->group_hi[g] = sh->user_start[s + 1];
        for (int32_t v2 = sh->user_start[s]; v2 < sh->user_start[s + 1]; v2++) {
            t->user_group[v2] = g;
            sh->own_user[v2] = 1;
        }
        if (ncf_sampler_init_range_(&sh->sampler[g], ds, sh->user_start[s], sh->user_start[s + 1], s) != NCF_OK)
            return -1;
        size_t bytes;
        if (ncf_mul_size_((size_t)sh->count[s] + 1, sizeof(ncf_sample), &bytes) != 0 ||
            !(sh->samples[g] = ncf_alloc_aligned_(bytes)))
            return -1;
    }
    const size_t mb = (size_t)t->max_batch;
    for (int p = 0; p < 2; p++) {
        sh->batch[p] = malloc(mb * sizeof(ncf_sample));
        sh->global[p] = malloc(mb * sizeof(ncf_sample));
        sh->touched[p] = malloc(2 * mb * sizeof(int32_t));
        sh->group_off[p] = malloc(((size_t)sh->L + 1) * sizeof(int));
        sh->group_base[p] = malloc(((size_t)sh->L + 1) * sizeof(uint64_t));
        sh->group_pos[p] = malloc(((size_t)sh->L + 1) * sizeof(int64_t));
        if (!sh->batch[p] || !sh->global[p] || !sh->touched[p] || !sh->group_off[p] || !sh->group_base[p] ||
            !sh->group_pos[p])
            return -1;
    }
    sh->item_pos = malloc(((size_t)ds->n_items + 1) * sizeof *sh->item_pos);
    sh->wire_cap = items_off(t) + 2 * mb * sh->W + 2 * mb;
    sh->wire = ncf_alloc_aligned_(sh->wire_cap * sizeof(uint64_t));
    if (!sh->item_pos || !sh->wire) return -1;
    memset(sh->item_pos, 0xff, ((size_t)ds->n_items + 1) * sizeof *sh->item_pos);
    if (ds->own_users) /* loaded for these shards (ncf_dataset_load_shards): the same users */
        for (int32_t v2 = 0; v2 < ds->n_users; v2++)
            if (ds->own_users[v2] != sh->own_user[v2]) return -2;
    sh->seen_partial = ds->own_users != NULL;
    return 0;
}

/* ---- rows of other processes' users: never touched ---------------------------------- */
/* Gives the pages wholly inside bytes [b, e) of base back to the system
 * (they read as zeros if touched again). */
static void release_bytes(char *base, size_t b, size_t e)
{
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    const uintptr_t lo = ((uintptr_t)base + b + page - 1) / page * page, hi = ((uintptr_t)base + e) / page * page;
    if (lo < hi) madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

/* Every array of rows by user: the model's user tables, their optimizer
 * state, the synced counters, bufs (table-shaped, NULL entries skipped),
 * and (seen != 0) the model's training items. */
typedef struct user_array {
    char *base;
    size_t bytes;       /* of one user's row, or of one element when off is set */
    const int64_t *off; /* NULL: user u's row at base + u bytes; else its elements [off[u], off[u + 1]) */
} user_array;

static int add_user_tables(const engine *t, float *const *bufs, user_array *arr, int n);

static int all_user_arrays(engine *t, float *const *best_tab, int seen, user_array *arr)
{
    float *w[NCF_TABLES];
    for (int tb = 0; tb < NCF_TABLES; tb++) w[tb] = t->m->tab[tb].w;
    int n = add_user_tables(t, w, arr, 0);
    n = add_user_tables(t, t->tab_m, arr, n);
    n = add_user_tables(t, t->tab_v, arr, n);
    if (best_tab) n = add_user_tables(t, best_tab, arr, n);
    if (t->synced[0]) arr[n++] = (user_array){(char *)t->synced[0], sizeof(int64_t), NULL};
    if (seen && t->m->seen && t->m->seen_off)
        arr[n++] = (user_array){(char *)t->m->seen, sizeof(int32_t), t->m->seen_off};
    return n;
}

/* Bytes [*b, *e) of users [u0, u1) in a. */
static void user_bytes(const user_array *a, int32_t u0, int32_t u1, size_t *b, size_t *e)
{
    *b = (size_t)(a->off ? a->off[u0] : u0) * a->bytes;
    *e = (size_t)(a->off ? a->off[u1] : u1) * a->bytes;
}

void shard_release_users(engine *t, float *const *best_tab)
{
    shard_state *sh = t->sh;
    if (sh->N == 1) return;
    user_array arr[4 * NCF_TABLES + 2];
    const int n = all_user_arrays(t, best_tab, sh->seen_partial, arr); /* whole training items stay whole */
    for (int k = 0; k < n; k++) {
        size_t b, e;
        user_bytes(&arr[k], 0, t->m->cfg.n_users, &b, &e);
#ifdef MADV_NOHUGEPAGE /* a huge page would back the other processes' rows beside one's own */
        const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
        const uintptr_t lo = ((uintptr_t)arr[k].base + b + page - 1) / page * page;
        const uintptr_t hi = ((uintptr_t)arr[k].base + e) / page * page;
        if (lo < hi) madvise((void *)lo, hi - lo, MADV_NOHUGEPAGE);
#endif
        for (int s = 0; s < sh->S; s++) {
            if (s % sh->N == sh->rank) continue;
            size_t sb, se;
            user_bytes(&arr[k], sh->user_start[s], sh->user_start[s + 1], &sb, &se);
            release_bytes(arr[k].base, sb, se);
        }
    }
}

void shard_free(engine *t)
{
    shard_state *sh = t->sh;
    if (!sh) return;
    for (int g = 0; sh->sampler && g < sh->L; g++) ncf_sampler_free_(&sh->sampler[g]);
    for (int g = 0; sh->samples && g < sh->L; g++) ncf_free_aligned_(sh->samples[g]);
    free(sh->sampler);
    free(sh->samples);
    free(sh->local);
    free(sh->user_start);
    free(sh->count);
    free(sh->first);
    free(sh->own_user);
    for (int p = 0; p < 2; p++) {
        free(sh->batch[p]);
        free(sh->global[p]);
        free(sh->touched[p]);
        free(sh->group_off[p]);
        free(sh->group_base[p]);
        free(sh->group_pos[p]);
    }
    free(sh->item_pos);
    ncf_free_aligned_(sh->wire);
    free(sh);
    t->sh = NULL;
}

ncf_status shard_begin_epoch(engine *t, int epoch)
{
    const ncf_train_config *c = t->c;
    shard_state *sh = t->sh;
    for (int g = 0; g < sh->L; g++) {
        const ncf_status st =
            ncf_sampler_epoch_(&sh->sampler[g], c->loss, c->neg, c->seed, epoch, t->T, sh->samples[g]);
        if (st != NCF_OK) return st;
    }
    return NCF_OK;
}

/* ---- the batches ------------------------------------------------------------- */
/* Step k of the epoch takes samples [count[s] k / K, count[s] (k + 1) / K)
 * of every shard s (K steps): every sample once an epoch, about batch a
 * step, and the same global batches whatever the number of processes. */
static int64_t slice_at(const engine *t, int s, int64_t k)
{
    const int64_t K = engine_steps(t);
    return (int64_t)((__int128)t->sh->count[s] * k / K);
}

/* Fills the local batch of the epoch's step k into buffer p. */
static void prepare_local(engine *t, int64_t k, int p)
{
    shard_state *sh = t->sh;
    int64_t pos = 0;
    int n = 0;
    for (int s = 0; s < sh->S; s++) {
        const int64_t lo = slice_at(t, s, k), hi = slice_at(t, s, k + 1);
        if (s % sh->N == sh->rank) {
            const int g = (s - sh->rank) / sh->N;
            sh->group_off[p][g] = n;
            sh->group_pos[p][g] = pos;
            sh->group_base[p][g] = (uint64_t)(sh->first[s] + lo) - (uint64_t)n;
            memcpy(sh->batch[p] + n, sh->samples[g] + lo, (size_t)(hi - lo) * sizeof(ncf_sample));
            n += (int)(hi - lo);
        }
        pos += hi - lo;
    }
    sh->group_off[p][sh->L] = n;
    sh->n_local[p] = n;
    sh->n_global[p] = (int)pos;
}

/* Writes the local batch p's items at their global places into ids. */
static void put_ids(const shard_state *sh, int p, uint64_t *ids)
{
    const int w = 1 + sh->pair;
    for (int g = 0; g < sh->L; g++)
        for (int j = sh->group_off[p][g]; j < sh->group_off[p][g + 1]; j++) {
            const int64_t at = (sh->group_pos[p][g] + (j - sh->group_off[p][g])) * w;
            ids[at] = (uint64_t)sh->batch[p][j].item;
            if (sh->pair) ids[at + 1] = (uint64_t)sh->batch[p][j].item2;
        }
}

/* Reads the global batch p from ids and lists its distinct items (their
 * places in item_pos, after clearing those of batch 1 - p, whose list stays
 * for its update). -1 when an id is out of range: the processes disagree. */
static int take_ids(engine *t, int p, const uint64_t *ids)
{
    shard_state *sh = t->sh;
    const int w = 1 + sh->pair;
    const uint64_t n_items = (uint64_t)t->m->cfg.n_items;
    for (int q = 0; q < sh->n_touched[1 - p]; q++) sh->item_pos[sh->touched[1 - p][q]] = -1;
    int n = 0;
    for (int j = 0; j < sh->n_global[p]; j++) {
        ncf_sample *x = &sh->global[p][j];
        x->user = -1;
        for (int q = 0; q < w; q++) {
            const uint64_t r = ids[(size_t)j * (size_t)w + (size_t)q];
            if (r >= n_items) {
                sh->mismatch = 1;
                return -1;
            }
            if (q) x->item2 = (int32_t)r;
            else x->item = (int32_t)r;
            if (sh->item_pos[r] < 0) {
                sh->item_pos[r] = n;
                sh->touched[p][n++] = (int32_t)r;
            }
        }
        if (!sh->pair) x->item2 = 0; /* the label word, spare bits too */
    }
    sh->n_touched[p] = n;
    return 0;
}

/* One reduction of the first n words of the wire, timed. */
static int reduce(shard_state *sh, size_t n)
{
    const double t0 = ncf_now_seconds_();
    const int rc = ncf_dist_sum_u64_(sh->wire, n);
    sh->comm_seconds += ncf_now_seconds_() - t0;
    sh->comm_bytes += (uint64_t)n * 8;
    sh->exchanges++;
    return rc;
}

int shard_run_begin(engine *t, int64_t from, int64_t gfrom)
{
    shard_state *sh = t->sh;
    const int p = (int)(gfrom & 1);
    sh->epoch_base = gfrom - from;
    memset(sh->item_pos, 0xff, ((size_t)t->m->cfg.n_items + 1) * sizeof *sh->item_pos);
    sh->n_touched[0] = sh->n_touched[1] = 0;
    atomic_store(&sh->out_of_range, 0);
    prepare_local(t, from, p);
    const size_t n = (size_t)sh->n_global[p] * (size_t)(1 + sh->pair);
    memset(sh->wire, 0, n * sizeof *sh->wire);
    put_ids(sh, p, sh->wire);
    if (reduce(sh, n) != 0) return -1;
    return take_ids(t, p, sh->wire);
}

/* ---- a step's reduction --------------------------------------------------------- */
void shard_pack(engine *t, int tid, const ncf_sample *s, const int32_t *items, int n_items, int64_t gstep, int next,
                int halt)
{
    shard_state *sh = t->sh;
    const int p = (int)(gstep & 1);
    const double scale = sh->scale, limit = sh->limit;
    int bad = 0;
    /* the dense chunks: each owned shard's gradient in fixed point, summed */
    uint64_t *wd = sh->wire + dense_off(sh);
    for (int k = t->dense_first[tid]; k < t->dense_first[tid + 1]; k++) {
        const size_t b = t->dense_chunks[k].b, e = t->dense_chunks[k].e;
        if (sh->L == 0) memset(wd + b, 0, (e - b) * sizeof *wd);
        for (int g = 0; g < sh->L; g++)
            bad |= fix_add(wd + b, t->group_grad + (size_t)g * t->group_stride + b, e - b, scale, limit, g == 0);
    }
    /* the item rows this thread owns: every sample's gradient in fixed point */
    int32_t lo, hi;
    engine_owned_rows(t, 1, tid, &lo, &hi);
    const size_t W = sh->W, item_at = ncf_slot_item_(t->m);
    uint64_t *wi = sh->wire + items_off(t);
    for (int q = 0; q < sh->n_touched[p]; q++) {
        const int32_t r = sh->touched[p][q];
        if (r >= lo && r < hi) memset(wi + (size_t)q * W, 0, W * sizeof *wi);
    }
    const int32_t *slot_of = t->w[tid].slot_of;
    for (int j = 0; j < n_items; j++) {
        const int k = items ? items[j] : j;
        const int32_t rows[2] = {s[k].item, sh->pair ? s[k].item2 : -1};
        for (int q = 0; q < 1 + sh->pair; q++) {
            const int32_t r = rows[q];
            if (r < lo || r >= hi) continue;
            const float *src = t->emb_grad + (size_t)slot_of[k] * t->slot + item_at + (size_t)q * W;
            bad |= fix_add(wi + (size_t)sh->item_pos[r] * W, src, W, scale, limit, 0);
        }
    }
    if (bad) atomic_fetch_or(&sh->out_of_range, 1);
    if (tid != 0) return;
    /* thread 0: halt, losses, and the next step's items */
    memset(sh->wire, 0, dense_off(sh) * sizeof *sh->wire);
    sh->wire[0] = halt != 0;
    for (int g = 0; g < sh->L; g++) memcpy(&sh->wire[2 + sh->local[g]], &t->group_loss[(size_t)g * PAD_DOUBLES], 8);
    if (next) {
        const int q = 1 - p;
        prepare_local(t, gstep + 1 - sh->epoch_base, q);
        uint64_t *ids = wi + (size_t)sh->n_touched[p] * W;
        memset(ids, 0, (size_t)sh->n_global[q] * (size_t)(1 + sh->pair) * sizeof *ids);
        put_ids(sh, q, ids);
    }
}

int shard_exchange(engine *t, int64_t gstep, int next, double *loss, int *halted)
{
    shard_state *sh = t->sh;
    const int p = (int)(gstep & 1), q = 1 - p;
    sh->wire[1] = (uint64_t)atomic_exchange(&sh->out_of_range, 0);
    size_t n = items_off(t) + (size_t)sh->n_touched[p] * sh->W;
    const size_t ids = n;
    if (next) n += (size_t)sh->n_global[q] * (size_t)(1 + sh->pair);
    if (reduce(sh, n) != 0) return -1;
    double sum = 0.0;
    for (int s = 0; s < sh->S; s++) { /* in shard order, on every process */
        double l;
        memcpy(&l, &sh->wire[2 + s], 8);
        sum += l;
    }
    *loss = sum;
    *halted = sh->wire[0] != 0;
    if (sh->wire[1]) {
        sh->overflow = 1;
        return -1;
    }
    return next ? take_ids(t, q, sh->wire + ids) : 0;
}

void shard_update(engine *t, int tid, int64_t gstep, const ncf_adam_step *as)
{
    shard_state *sh = t->sh;
    const int p = (int)(gstep & 1);
    const double inv = sh->inv_scale;
    const uint64_t *wd = sh->wire + dense_off(sh);
    for (int k = t->dense_first[tid]; k < t->dense_first[tid + 1]; k++) {
        const size_t b = t->dense_chunks[k].b, e = t->dense_chunks[k].e;
        unfix_many(t->dense_grad + b, wd + b, e - b, inv);
        engine_apply_dense_(t, b, e, as);
    }
    /* the item rows this thread owns, in the order of the list */
    int32_t lo, hi;
    engine_owned_rows(t, 1, tid, &lo, &hi);
    worker *w = &t->w[tid];
    const uint64_t *wi = sh->wire + items_off(t);
    const size_t W = sh->W, rs = t->row_stride;
    int n = 0;
    for (int q = 0; q < sh->n_touched[p]; q++) {
        const int32_t r = sh->touched[p][q];
        if (r < lo || r >= hi) continue;
        unfix_many(w->row_grad[1] + (size_t)n * rs, wi + (size_t)q * W, W, inv);
        w->touched[1][n++] = r;
    }
    w->n_touched[1] = n;
    rows_update_listed(t, 1, tid, gstep, as);
    rows_update_listed(t, 0, tid, gstep, as);
}

/* ---- evaluation and the final model --------------------------------------------- */
static int sum_ranks(int *rank, int32_t n, void *arg)
{
    (void)arg;
    uint64_t *u = malloc(((size_t)n + 1) * sizeof *u);
    if (!u) return -1;
    for (int32_t c = 0; c < n; c++) u[c] = (uint64_t)(int64_t)rank[c];
    const int rc = ncf_dist_sum_u64_(u, (size_t)n);
    for (int32_t c = 0; c < n; c++) rank[c] = (int)(int64_t)u[c];
    free(u);
    return rc;
}

ncf_status shard_evaluate(engine *t, const ncf_dataset *ds, const ncf_cases *cs, const ncf_eval_config *ec,
                          ncf_metrics *out, ncf_err *err)
{
    return ncf_evaluate_cases_own_(t->m, ds, cs, ec, t->T, t->sh->own_user, sum_ranks, NULL, out, err);
}

/* Copies rows [user_start[s], user_start[s + 1]) of every array to rank 0
 * from the owner of shard s, for every shard. */
static int gather_rows(engine *t, const user_array *arr, int n_arr)
{
    shard_state *sh = t->sh;
    if (sh->N == 1) return 0;
    size_t *counts = calloc((size_t)sh->N, sizeof *counts), total = 0;
    if (!counts) return -1;
    for (int s = 0; s < sh->S; s++)
        for (int k = 0; k < n_arr; k++) {
            size_t b, e;
            user_bytes(&arr[k], sh->user_start[s], sh->user_start[s + 1], &b, &e);
            counts[s % sh->N] += e - b;
        }
    for (int r = 0; r < sh->N; r++) total += counts[r];
    char *send = malloc(counts[sh->rank] + 1), *recv = sh->rank == 0 ? malloc(total + 1) : NULL;
    int rc = !send || (sh->rank == 0 && !recv) ? -1 : 0;
    /* a rank's block: its shards in order, each array's rows of the shard's users */
    size_t at = 0;
    for (int g = 0; rc == 0 && g < sh->L; g++) {
        const int s = sh->local[g];
        for (int k = 0; k < n_arr; k++) {
            size_t b, e;
            user_bytes(&arr[k], sh->user_start[s], sh->user_start[s + 1], &b, &e);
            memcpy(send + at, arr[k].base + b, e - b);
            at += e - b;
        }
    }
    /* every rank takes part even after a failed allocation here (the
     * others would wait for it); a failure is then reported by all of them */
    uint64_t failed = rc != 0, lo, hi;
    if (ncf_dist_minmax_u64_(failed, &lo, &hi) != 0 || hi != 0) rc = -1;
    if (rc == 0) rc = ncf_dist_gather_(send, at, recv, counts, 0);
    if (rc == 0 && sh->rank == 0) {
        size_t off = 0;
        for (int r = 0; r < sh->N; r++)
            for (int s = r; s < sh->S; s += sh->N)
                for (int k = 0; k < n_arr; k++) {
                    size_t b, e;
                    user_bytes(&arr[k], sh->user_start[s], sh->user_start[s + 1], &b, &e);
                    memcpy(arr[k].base + b, recv + off, e - b);
                    off += e - b;
                }
    }
    free(counts), free(send), free(recv);
    return rc;
}

/* Adds table-shaped buffers of the user tables (bufs[tb], NULL: none) to arr. */
static int add_user_tables(const engine *t, float *const *bufs, user_array *arr, int n)
{
    for (int tb = 0; tb < NCF_TABLES; tb++)
        if (t->m->tab[tb].w && !ncf_table_is_item_(tb) && bufs[tb])
            arr[n++] = (user_array){(char *)bufs[tb], (size_t)t->m->tab[tb].stride * sizeof(float), NULL};
    return n;
}

int shard_collect_users(engine *t)
{
    float *w[NCF_TABLES];
    for (int tb = 0; tb < NCF_TABLES; tb++) w[tb] = t->m->tab[tb].w;
    user_array arr[NCF_TABLES + 1];
    int n = add_user_tables(t, w, arr, 0);
    if (t->sh->seen_partial && t->m->seen && t->m->seen_off) /* the model file's training items */
        arr[n++] = (user_array){(char *)t->m->seen, sizeof(int32_t), t->m->seen_off};
    return gather_rows(t, arr, n);
}

int shard_collect_state(engine *t, float *const *best_tab)
{
    user_array arr[4 * NCF_TABLES + 2];
    return gather_rows(t, arr, all_user_arrays(t, best_tab, t->sh->seen_partial, arr));
}
