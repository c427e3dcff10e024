/* sampler.c — negative sampling and shuffling for one epoch (sampler.h). */
#include "sampler/sampler.h"

#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/streams.h"

/* A stream's generator, returned by value: its state then lives in
 * registers in the loops that draw from it (a generator whose address
 * went to the seeding call stayed in memory, and every draw waited on the
 * last one's stores; the same draws either way). */
static inline ncf_rng stream_rng(uint64_t seed, uint64_t stream, uint64_t index)
{
    ncf_rng r;
    ncf_rng_seed_(&r, seed, stream, index);
    return r;
}

#define SAMPLER_BLOCK 4096   /* positives per RNG stream */
#define SHUFFLE_BUCKET 32768 /* samples per shuffle bucket on average (384 kB: within L2) */

ncf_status ncf_sampler_init_range_(ncf_sampler *s, const ncf_dataset *ds, int32_t u0, int32_t u1, int shard)
{
    memset(s, 0, sizeof *s);
    s->ds = ds;
    s->u0 = u0;
    s->pos0 = ds->train_offsets[u0];
    s->n_pos = ds->train_offsets[u1] - s->pos0;
    s->key = shard < 0 ? 0 : (uint64_t)(shard + 1) << 40;
    s->bucket = SHUFFLE_BUCKET;
    s->pos_user = malloc(((size_t)s->n_pos + 1) * sizeof *s->pos_user);
    if (!s->pos_user) return NCF_ERR_NOMEM;
    for (int32_t u = u0; u < u1; u++)
        for (int64_t k = ds->train_offsets[u]; k < ds->train_offsets[u + 1]; k++) s->pos_user[k - s->pos0] = u;
    uint64_t bits = (uint64_t)(u1 - u0) * (uint64_t)ds->n_items;
    if (bits <= (1ull << 30)) {
        s->bits = calloc((size_t)(bits / 64 + 1), sizeof *s->bits);
        if (s->bits) /* without it the binary search still works */
            for (int64_t k = 0; k < s->n_pos; k++) {
                uint64_t b = (uint64_t)(s->pos_user[k] - u0) * (uint64_t)ds->n_items + (uint64_t)ds->train_items[s->pos0 + k];
                s->bits[b >> 6] |= 1ull << (b & 63);
            }
    }
    return NCF_OK;
}

ncf_status ncf_sampler_init_(ncf_sampler *s, const ncf_dataset *ds)
{
    return ncf_sampler_init_range_(s, ds, 0, ds->n_users, -1);
}

void ncf_sampler_free_(ncf_sampler *s)
{
    free(s->bits);
    free(s->pos_user);
    memset(s, 0, sizeof *s);
}

/* 1 when (u, i) is a training positive (u in the sampler's range). */
static inline int has_positive(const ncf_sampler *s, int32_t u, int32_t i)
{
    if (s->bits) {
        uint64_t b = (uint64_t)(u - s->u0) * (uint64_t)s->ds->n_items + (uint64_t)i;
        return (int)((s->bits[b >> 6] >> (b & 63)) & 1);
    }
    return ncf_dataset_has_train(s->ds, u, i);
}

/* Samples each positive makes: itself and its negatives, or (pairwise
 * losses) one (positive, negative) pair per negative. */
static int per_positive(ncf_loss loss, int neg) { return ncf_loss_pairwise(loss) ? neg : 1 + neg; }

int64_t ncf_sampler_count_(const ncf_sampler *s, ncf_loss loss, int neg)
{
    return s->n_pos * per_positive(loss, neg);
}

/* One past the last positive of block b. */
static int64_t block_end(const ncf_sampler *s, int64_t b)
{
    return (b + 1) * SAMPLER_BLOCK < s->n_pos ? (b + 1) * SAMPLER_BLOCK : s->n_pos;
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
        const int has = ub ? (int)((ub->w[j >> 6] >> (j & 63)) & 1) : has_positive(s, u, j);
        if (!has) return j;
    }
}

/* The Fisher-Yates draw for position k: uniform in [0, k]. */
static inline int64_t shuffle_draw(ncf_rng *rng, int64_t k)
{
    return (int64_t)(k < (int64_t)UINT32_MAX ? ncf_rng_below_(rng, (uint32_t)(k + 1))
                                              : ncf_rng_next_(rng) % (uint64_t)(k + 1));
}

/* The samples of block b of positives, into out: each positive, then its
 * negatives. */
static void fill_block(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int64_t b,
                       user_bits *own, ncf_sample *out)
{
    const ncf_dataset *ds = s->ds;
    const int per = per_positive(loss, neg);
    const user_bits *ub = own->w ? own : NULL; /* NULL: the global bitset, or the binary search */
    ncf_rng rng = stream_rng(seed, ncf_stream_negatives_(epoch), s->key + (uint64_t)b);
    const int64_t end = block_end(s, b);
    for (int64_t p = b * SAMPLER_BLOCK; p < end; p++) {
        int32_t u = s->pos_user[p], i = ds->train_items[s->pos0 + p];
        ncf_sample *o = out + (p - b * SAMPLER_BLOCK) * per;
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

/* The shuffle (Rao-Sandelius): every sample goes to one of K buckets drawn
 * uniformly and independently, the buckets are laid out in order, and each
 * is shuffled by Fisher-Yates. That is a uniformly random permutation, and
 * unlike one Fisher-Yates pass over the whole array (80M random swaps in
 * 960 MB at 16M interactions, on one thread) every part runs in parallel
 * and the swaps stay in a bucket that fits in L2. The bucket draws come
 * from one stream per chunk (a fixed run of blocks), the in-bucket shuffles
 * from one per bucket: nothing depends on the number of threads. */
#define SHUFFLE_CHUNKS 256 /* most chunks; fewer when there are fewer blocks */

typedef struct shuffle_plan {
    int64_t n_buckets, n_chunks, n_blocks;
    int64_t *at; /* n_chunks x n_buckets: where chunk c writes its next sample of bucket k */
} shuffle_plan;

static int64_t chunk_first_block(const shuffle_plan *sp, int64_t c) { return sp->n_blocks * c / sp->n_chunks; }

static ncf_rng chunk_stream(uint64_t seed, int epoch, uint64_t key, int64_t c)
{
    return stream_rng(seed, ncf_stream_buckets_(epoch), key + (uint64_t)c);
}

static int64_t block_samples(const ncf_sampler *s, int per, int64_t b)
{
    return (block_end(s, b) - b * SAMPLER_BLOCK) * per;
}

/* Bucket k's Fisher-Yates (samples a = out + start[k], n of them), from
 * its own stream: the draws FY_AHEAD positions ahead of the swaps, in the
 * same order, each swap's random sample asked for then (the draws need no
 * data; the swaps had waited on those loads one after the other). */
#define FY_AHEAD 16
static void shuffle_bucket(const ncf_sampler *s, uint64_t seed, int epoch, int64_t k, ncf_sample *a, int64_t n)
{
    ncf_rng rng = stream_rng(seed, ncf_stream_shuffle_(epoch), s->key + (uint64_t)k);
    int64_t drawn[FY_AHEAD], next = n - 1; /* next: the position drawn for next */
    for (int64_t q = next; q > 0; q--) {
        for (; next > 0 && next > q - FY_AHEAD; next--) {
            const int64_t j = shuffle_draw(&rng, next);
            drawn[next % FY_AHEAD] = j;
            __builtin_prefetch(a + j, 1);
        }
        const int64_t j = drawn[q % FY_AHEAD];
        const ncf_sample t = a[q];
        a[q] = a[j];
        a[j] = t;
    }
}

ncf_status ncf_sampler_epoch_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch, int threads,
                              ncf_sample *out)
{
    return ncf_sampler_epoch_visit_(s, loss, neg, seed, epoch, threads, out, NULL, NULL);
}

ncf_status ncf_sampler_epoch_visit_(const ncf_sampler *s, ncf_loss loss, int neg, uint64_t seed, int epoch,
                                    int threads, ncf_sample *out, ncf_sampler_visit visit, void *ctx)
{
    const int per = per_positive(loss, neg);
    const int64_t n = s->n_pos * per;
    shuffle_plan sp = {.n_blocks = (s->n_pos + SAMPLER_BLOCK - 1) / SAMPLER_BLOCK};
    if (n == 0) return NCF_OK;
    sp.n_buckets = n / s->bucket + 1;
    sp.n_chunks = sp.n_blocks < SHUFFLE_CHUNKS ? sp.n_blocks : SHUFFLE_CHUNKS;
    if (sp.n_buckets > (int64_t)UINT32_MAX) return NCF_ERR_ARG;
    size_t cells;
    if (ncf_mul_size_((size_t)sp.n_chunks, (size_t)sp.n_buckets, &cells) != 0 ||
        !(sp.at = calloc(cells, sizeof *sp.at)))
        return NCF_ERR_NOMEM;
    int64_t *start = calloc((size_t)sp.n_buckets + 1, sizeof *start);
    if (!start) {
        free(sp.at);
        return NCF_ERR_NOMEM;
    }
    int failed = 0;
    const uint32_t K = (uint32_t)sp.n_buckets;
    /* 1. each chunk counts its samples per bucket */
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int64_t c = 0; c < sp.n_chunks; c++) {
        int64_t *count = sp.at + c * sp.n_buckets, m = 0;
        const int64_t b1 = chunk_first_block(&sp, c + 1);
        for (int64_t b = chunk_first_block(&sp, c); b < b1; b++) m += block_samples(s, per, b);
        ncf_rng rng = chunk_stream(seed, epoch, s->key, c);
        for (int64_t q = 0; q < m; q++) count[ncf_rng_below_(&rng, K)]++;
    }
    /* where each bucket starts, and within it each chunk's part, in chunk order */
    for (int64_t k = 0; k < sp.n_buckets; k++) {
        int64_t at = start[k];
        for (int64_t c = 0; c < sp.n_chunks; c++) {
            const int64_t cnt = sp.at[c * sp.n_buckets + k];
            sp.at[c * sp.n_buckets + k] = at;
            at += cnt;
        }
        start[k + 1] = at;
    }
    /* 2. each chunk fills its blocks and sends each sample to its bucket,
     * drawing the same buckets again */
#pragma omp parallel num_threads(threads)
    {
        /* without the global bitset, a bitmap of one user's items per
         * thread (if its memory cannot be had, the binary search) */
        user_bits own = {.w = s->bits ? NULL : calloc((size_t)s->ds->n_items / 64 + 1, sizeof(uint64_t)), .u = -1};
        ncf_sample *block = malloc((size_t)SAMPLER_BLOCK * (size_t)per * sizeof *block);
        if (!block) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int64_t c = 0; c < sp.n_chunks; c++) {
            if (!block) continue;
            int64_t *at = sp.at + c * sp.n_buckets;
            ncf_rng rng = chunk_stream(seed, epoch, s->key, c);
            const int64_t b1 = chunk_first_block(&sp, c + 1);
            for (int64_t b = chunk_first_block(&sp, c); b < b1; b++) {
                fill_block(s, loss, neg, seed, epoch, b, &own, block);
                const int64_t m = block_samples(s, per, b);
                for (int64_t q = 0; q < m; q++) out[at[ncf_rng_below_(&rng, K)]++] = block[q];
            }
        }
        free(block);
        free(own.w);
    }
    free(sp.at);
    if (failed) {
        free(start);
        return NCF_ERR_NOMEM;
    }
    /* 3. Fisher-Yates in each bucket (the buckets in any order: each has
     * its own stream); with a visitor and one thread, from the last bucket
     * to the first, each visited while it is in cache */
    if (visit && threads <= 1) {
        for (int64_t k = sp.n_buckets - 1; k >= 0; k--) {
            shuffle_bucket(s, seed, epoch, k, out + start[k], start[k + 1] - start[k]);
            visit(ctx, start[k], start[k + 1]);
        }
    } else {
#pragma omp parallel for schedule(dynamic, 16) num_threads(threads)
        for (int64_t k = 0; k < sp.n_buckets; k++)
            shuffle_bucket(s, seed, epoch, k, out + start[k], start[k + 1] - start[k]);
        if (visit) visit(ctx, 0, n);
    }
    free(start);
    return NCF_OK;
}
