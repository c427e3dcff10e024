/* sampler.c — negative sampling and shuffling for one epoch (sampler.h). */
#include "sampler/sampler.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"

#define SAMPLER_BLOCK 4096 /* positives per RNG stream */

ncf_status ncf_sampler_init_(ncf_sampler *s, const ncf_dataset *ds)
{
    memset(s, 0, sizeof *s);
    s->ds = ds;
    s->n_pos = ds->n_train;
    s->pos_user = malloc(((size_t)ds->n_train + 1) * sizeof *s->pos_user);
    if (!s->pos_user) return NCF_ERR_NOMEM;
    for (int32_t u = 0; u < ds->n_users; u++)
        for (int64_t k = ds->train_offsets[u]; k < ds->train_offsets[u + 1]; k++) s->pos_user[k] = u;
    uint64_t bits = (uint64_t)ds->n_users * (uint64_t)ds->n_items;
    if (bits <= (1ull << 30)) {
        s->bits = calloc((size_t)(bits / 64 + 1), sizeof *s->bits);
        if (s->bits) /* without it the binary search still works */
            for (int64_t k = 0; k < ds->n_train; k++) {
                uint64_t b = (uint64_t)s->pos_user[k] * (uint64_t)ds->n_items + (uint64_t)ds->train_items[k];
                s->bits[b >> 6] |= 1ull << (b & 63);
            }
    }
    return NCF_OK;
}

void ncf_sampler_free_(ncf_sampler *s)
{
    free(s->bits);
    free(s->pos_user);
    memset(s, 0, sizeof *s);
}

int ncf_sampler_has_(const ncf_sampler *s, int32_t u, int32_t i)
{
    if (s->bits) {
        uint64_t b = (uint64_t)u * (uint64_t)s->ds->n_items + (uint64_t)i;
        return (int)((s->bits[b >> 6] >> (b & 63)) & 1);
    }
    return ncf_dataset_has_train(s->ds, u, i);
}

int64_t ncf_sampler_count_(const ncf_sampler *s, ncf_loss loss, int neg)
{
    return ncf_loss_pairwise(loss) ? s->n_pos * neg : s->n_pos * (1 + neg);
}

/* Without the global bitset, each thread keeps the items of the user it is
 * drawing for as a bitmap of n_items bits, rebuilt when the user changes
 * (positives come user by user): a draw then tests one bit instead of
 * binary-searching the user's items. Exact either way, so the same draws. */
typedef struct user_bits {
    uint64_t *w; /* n_items bits: the training items of user u */
    int32_t u;   /* -1: none yet */
} user_bits;

static void user_bits_set(const ncf_dataset *ds, user_bits *ub, int32_t u)
{
    if (ub->u == u) return;
    if (ub->u >= 0)
        for (int64_t k = ds->train_offsets[ub->u]; k < ds->train_offsets[ub->u + 1]; k++)
            ub->w[ds->train_items[k] >> 6] = 0;
    for (int64_t k = ds->train_offsets[u]; k < ds->train_offsets[u + 1]; k++)
        ub->w[ds->train_items[k] >> 6] |= 1ull << (ds->train_items[k] & 63);
    ub->u = u;
}

static int32_t draw_negative(const ncf_sampler *s, ncf_rng *rng, int32_t u, const user_bits *ub)
{
    const uint32_t n_items = (uint32_t)s->ds->n_items;
    for (;;) {
        int32_t j = (int32_t)ncf_rng_below_(rng, n_items);
        const int has = ub ? (int)((ub->w[j >> 6] >> (j & 63)) & 1) : ncf_sampler_has_(s, u, j);
        if (!has) return j;
    }
}

#define SHUFFLE_AHEAD 16

/* The Fisher-Yates draw for position k: uniform in [0, k]. */
static inline int64_t shuffle_draw(ncf_rng *rng, int64_t k)
{
    return (int64_t)(k < (int64_t)UINT32_MAX ? ncf_rng_below_(rng, (uint32_t)(k + 1))
                                              : ncf_rng_next_(rng) % (uint64_t)(k + 1));
}

/* The samples of block b of positives: each positive, then its negatives. */
static void fill_block(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int64_t b,
                       user_bits *own, ncf_sample *out)
{
    const ncf_dataset *ds = s->ds;
    const int per = ncf_loss_pairwise(loss) ? neg : 1 + neg;
    const user_bits *ub = own->w ? own : NULL; /* NULL: the global bitset, or the binary search */
    ncf_rng rng;
    ncf_rng_seed_(&rng, seed, 0x5a3e0000ull + (uint64_t)epoch, (uint64_t)b);
    int64_t end = (b + 1) * SAMPLER_BLOCK < s->n_pos ? (b + 1) * SAMPLER_BLOCK : s->n_pos;
    for (int64_t p = b * SAMPLER_BLOCK; p < end; p++) {
        int32_t u = s->pos_user[p], i = ds->train_items[p];
        ncf_sample *o = out + p * per;
        if (ub) user_bits_set(ds, own, u);
        /* A user who has every item has no negative: skip drawing (the
         * trainer refuses such data before it gets here). */
        if (!ncf_loss_pairwise(loss)) {
            o[0] = (ncf_sample){.user = u, .item = i, .label = 1};
            for (int k = 1; k <= neg; k++)
                o[k] = (ncf_sample){.user = u, .item = draw_negative(s, &rng, u, ub), .label = 0};
        } else {
            for (int k = 0; k < neg; k++)
                o[k] = (ncf_sample){.user = u, .item = i, .item2 = draw_negative(s, &rng, u, ub)};
        }
    }
}

void ncf_sampler_epoch_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int threads,
                        ncf_sample *out)
{
    const int64_t n_blocks = (s->n_pos + SAMPLER_BLOCK - 1) / SAMPLER_BLOCK;
    const int per = ncf_loss_pairwise(loss) ? neg : 1 + neg;
#pragma omp parallel num_threads(threads)
    {
        /* without the global bitset, a bitmap of one user's items per
         * thread (if its memory cannot be had, the binary search) */
        user_bits own = {.w = s->bits ? NULL : calloc((size_t)s->ds->n_items / 64 + 1, sizeof(uint64_t)), .u = -1};
#pragma omp for schedule(dynamic, 4)
        for (int64_t b = 0; b < n_blocks; b++) fill_block(s, loss, neg, seed, epoch, b, &own, out);
        free(own.w);
    }
    /* Fisher-Yates shuffle from one stream. The draws do not depend on the
     * array, so they are made SHUFFLE_AHEAD swaps early and the element each
     * will touch is prefetched (the array is far larger than the caches). */
    const int64_t n = s->n_pos * per;
    ncf_rng rng;
    ncf_rng_seed_(&rng, seed, 0x50ffull + (uint64_t)epoch, 0xffffffffull);
    int64_t ahead[SHUFFLE_AHEAD];
    int64_t drawn = n - 1; /* the next k to draw for */
    for (int q = 0; q < SHUFFLE_AHEAD && drawn > 0; q++, drawn--) {
        ahead[q] = shuffle_draw(&rng, drawn);
        __builtin_prefetch(out + ahead[q], 1);
    }
    for (int64_t k = n - 1; k > 0; k--) {
        const int slot = (int)((n - 1 - k) % SHUFFLE_AHEAD);
        const int64_t j = ahead[slot];
        if (drawn > 0) {
            ahead[slot] = shuffle_draw(&rng, drawn--);
            __builtin_prefetch(out + ahead[slot], 1);
        }
        ncf_sample t = out[k];
        out[k] = out[j];
        out[j] = t;
    }
}
