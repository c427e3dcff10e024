/* topk.c — the top-K engine (topk.h): item panels packed once, then for a
 * block of users at a time, tile by tile over the items, a block of scores
 * (nn/score.h kernels) handed to each user's selection: a bounded heap for
 * the top K, or counts for full-ranking ranks. Most scores are rejected by
 * a vector comparison with the user's current threshold; only the rest
 * look at the filter and the heap. Models the kernels do not cover (a
 * sigmoid on the GMF product, an MLP without hidden layers) are scored
 * pair by pair through the model's own forward functions, in the same
 * blocks. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
#include "model/rank.h"
#include "model/topk.h"
#include "ncf/train.h"
#include "nn/score.h"
#ifdef __SSE2__
#include <emmintrin.h>
#endif

enum { KIND_DOT, KIND_TOWER, KIND_PAIR };

/* users per block; a tile is at most TILE_MAX panels (and about 128 kB of them) */
#define USER_BLOCK 48
#define TILE_MAX 64
#define TILE_BYTES (128 * 1024)

struct ncf_topk {
    const ncf_model *m;
    int kind;
    float *panels;     /* n_panels x sh.pstride */
    int32_t n_panels;  /* even */
    int tile;          /* panels per tile, even */
    float *halves;     /* KIND_PAIR with hidden layers: the item halves (model_impl.h) */
    const ncf_score_kernels *kn; /* the kernel path's, when the item halves were computed */
    int pairs;         /* the factors are packed by pairs (kn->dot8) */
    ncf_score_shape sh;
};

/* where feature k of item t of a panel sits in its factor block */
static size_t qt_slot(const ncf_topk *e, int t, int k)
{
    return e->pairs ? ncf_score_pair_slot_(t, k) : (size_t)k * NCF_PANEL + (size_t)t;
}

static const float *row_at(const ncf_table *t, int32_t r) { return t->w + (size_t)r * (size_t)t->stride; }

ncf_status ncf_topk_create_(const ncf_model *m, int threads, ncf_topk **out)
{
    *out = NULL;
    ncf_topk *e = calloc(1, sizeof *e);
    if (!e) return NCF_ERR_NOMEM;
    e->m = m;
    e->kn = ncf_score_kernels_();
    const int T = ncf_threads_resolve(threads);
    const int sigmoid = m->F > 0 && m->cfg.gmf_activation == NCF_ACT_SIGMOID;
    const int hidden = m->n_layers > 0 && m->E > 0;
    e->kind = sigmoid || (m->E > 0 && !hidden) ? KIND_PAIR : hidden ? KIND_TOWER : KIND_DOT;
    float *halves = hidden ? ncf_model_item_halves_(m, T) : NULL;
    if (hidden && !halves) goto nomem;
    if (e->kind == KIND_PAIR) { /* scored pair by pair: no panels */
        e->halves = halves;
        *out = e;
        return NCF_OK;
    }
    ncf_score_shape *sh = &e->sh;
    sh->F = m->F;
    sh->h = hidden ? m->out[0] : 0;
    sh->has_bias = m->B;
    sh->qt_off = 0;
    sh->ih_off = (size_t)sh->F * NCF_PANEL;
    sh->bi_off = (size_t)(sh->F + sh->h) * NCF_PANEL;
    sh->pstride = (size_t)(sh->F + sh->h + sh->has_bias) * NCF_PANEL;
    sh->wo = m->dense + m->wo_off;
    sh->wo_ones = 1;
    for (int k = 0; k < sh->F; k++) sh->wo_ones &= sh->wo[k] == 1.0f;
    sh->b0 = m->dense[m->bo_off];
    e->pairs = !hidden && e->kn->dot8 && sh->F % 8 == 0;
    sh->n_layers = hidden ? m->n_layers : 0;
    sh->max_width = 1;
    for (int l = 0; l < sh->n_layers; l++) {
        sh->in[l] = m->in[l];
        sh->out[l] = m->out[l];
        sh->wt[l] = m->wt + m->w_off[l];
        sh->b[l] = m->dense + m->b_off[l];
        if (m->out[l] > sh->max_width) sh->max_width = m->out[l];
    }
    const int32_t n_items = m->cfg.n_items;
    e->n_panels = (n_items + 2 * NCF_PANEL - 1) / (2 * NCF_PANEL) * 2;
    size_t bytes;
    if (ncf_mul_size_((size_t)e->n_panels * sh->pstride, sizeof(float), &bytes) != 0) goto nomem;
    e->panels = ncf_alloc_aligned_(bytes); /* zeroed: the last panel's missing items score from zeros */
    if (!e->panels) goto nomem;
    int tile = (int)(TILE_BYTES / (sh->pstride * sizeof(float))) & ~1;
    if (tile < 2) tile = 2;
    if (tile > TILE_MAX) tile = TILE_MAX;
    e->tile = tile < e->n_panels ? tile : e->n_panels;
    const ncf_table *q = &m->tab[NCF_TABLE_GMF_ITEM], *bi = &m->tab[NCF_TABLE_ITEM_BIAS];
    const int F = sh->F, h = sh->h;
    float *panels = e->panels;
#pragma omp parallel for schedule(static) num_threads(T)
    for (int32_t p = 0; p < e->n_panels; p++) {
        float *P = panels + (size_t)p * sh->pstride;
        for (int t = 0; t < NCF_PANEL; t++) {
            const int32_t i = p * NCF_PANEL + t;
            if (i >= n_items) break;
            for (int k = 0; k < F; k++) P[sh->qt_off + qt_slot(e, t, k)] = row_at(q, i)[k];
            for (int k = 0; k < h; k++)
                P[sh->ih_off + (size_t)k * NCF_PANEL + (size_t)t] = halves[(size_t)i * (size_t)h + (size_t)k];
            if (sh->has_bias) P[sh->bi_off + (size_t)t] = row_at(bi, i)[0];
        }
    }
    ncf_free_aligned_(halves);
    *out = e;
    return NCF_OK;
nomem:
    ncf_free_aligned_(halves);
    ncf_topk_free_(e);
    return NCF_ERR_NOMEM;
}

void ncf_topk_free_(ncf_topk *e)
{
    if (!e) return;
    ncf_free_aligned_(e->panels);
    ncf_free_aligned_(e->halves);
    free(e);
}

/* ---- scoring a block -------------------------------------------------------- */

/* A thread's buffers: a block of users' scores over a tile, their GMF/MF
 * rows and biases, first-layer halves, the tower's work rows. */
typedef struct block {
    float *S;          /* USER_BLOCK x lds */
    size_t lds;        /* tile * NCF_PANEL */
    const float *pu[USER_BLOCK];
    float bu[USER_BLOCK];
    float *uh;         /* USER_BLOCK x hs */
    size_t hs;
    float *work;       /* the tower's rows, or the forward pass's activations */
    int32_t users[USER_BLOCK];
    int nu;
} block;

static void block_free(block *b)
{
    ncf_free_aligned_(b->S);
    ncf_free_aligned_(b->uh);
    ncf_free_aligned_(b->work);
}

/* buffers for blocks of up to cap (<= USER_BLOCK) users and tiles of up to
 * tile panels */
static int block_init(const ncf_topk *e, int tile, int cap, block *b)
{
    memset(b, 0, sizeof *b);
    const ncf_model *m = e->m;
    b->lds = (size_t)tile * NCF_PANEL;
    b->hs = (((size_t)(m->n_layers > 0 ? m->out[0] : 0)) + 15) & ~(size_t)15;
    b->S = ncf_alloc_aligned_(((size_t)cap * b->lds + 16) * sizeof(float));
    b->uh = ncf_alloc_aligned_(((size_t)cap * b->hs + 16) * sizeof(float));
    size_t w = e->kind == KIND_PAIR ? m->act_size : 2 * (size_t)e->sh.max_width * 2 * NCF_PANEL;
    b->work = ncf_alloc_aligned_((w + 16) * sizeof(float));
    if (b->S && b->uh && b->work) return 0;
    block_free(b);
    return -1;
}

/* The users' rows and halves for a block of users. */
static void block_users(const ncf_topk *e, block *b, const int32_t *users, int nu)
{
    const ncf_model *m = e->m;
    b->nu = nu;
    for (int r = 0; r < nu; r++) {
        const int32_t u = users[r];
        b->users[r] = u;
        b->pu[r] = m->F ? row_at(&m->tab[NCF_TABLE_GMF_USER], u) : NULL;
        b->bu[r] = m->B ? row_at(&m->tab[NCF_TABLE_USER_BIAS], u)[0] : 0.0f;
        if (m->n_layers > 0 && m->E > 0) ncf_model_user_half_(m, u, b->uh + (size_t)r * b->hs);
    }
}

/* S[q][t] for the block's users rows[q], q < nr, and the items of panels
 * [p0, p0 + np) (the KIND_PAIR models: items below n_items only). */
static void block_score(const ncf_topk *e, block *b, const int *rows, int nr, int32_t p0, int np)
{
    const ncf_score_kernels *kn = e->kn;
    const ncf_model *m = e->m;
    if (e->kind == KIND_DOT) {
        const float *pu[USER_BLOCK];
        float bu[USER_BLOCK];
        for (int q = 0; q < nr; q++) pu[q] = b->pu[rows[q]], bu[q] = b->bu[rows[q]];
        (e->pairs ? kn->dot8 : kn->dot)(b->S, b->lds, pu, m->B ? bu : NULL, nr, e->panels + (size_t)p0 * e->sh.pstride,
                                        np, &e->sh);
        return;
    }
    if (e->kind == KIND_TOWER) {
        for (int q = 0; q < nr; q++)
            kn->tower(b->S + (size_t)q * b->lds, b->uh + (size_t)rows[q] * b->hs, b->pu[rows[q]],
                      e->panels + (size_t)p0 * e->sh.pstride, np, &e->sh, b->work);
        return;
    }
    const int32_t i0 = p0 * NCF_PANEL;
    int32_t n = np * NCF_PANEL;
    if (n > m->cfg.n_items - i0) n = m->cfg.n_items - i0;
    const size_t h = m->n_layers > 0 ? (size_t)m->out[0] : 0;
    for (int q = 0; q < nr; q++) {
        const int r = rows[q];
        const int32_t u = b->users[r];
        float *S = b->S + (size_t)q * b->lds;
        for (int32_t t = 0; t < n; t++) {
            const int32_t i = i0 + t;
            if (e->halves) S[t] = ncf_model_forward_split_(m, u, i, b->uh + (size_t)r * b->hs, e->halves + (size_t)i * h, b->work);
            else if (m->E == 0) S[t] = ncf_model_output_(m, u, i, NULL);
            else S[t] = ncf_model_forward_(m, u, i, b->work, NULL);
        }
    }
}

/* ---- selection -------------------------------------------------------------- */

/* the order and the heap: model/rank.h */

static inline int bit_at(const uint64_t *map, int32_t i) { return (int)((map[i >> 6] >> (i & 63)) & 1u); }

/* A user's excluded list and a cursor into it; items are asked in
 * increasing order. */
typedef struct seen_list {
    const int32_t *seen;
    int64_t n, at;
} seen_list;

static void seen_init(const ncf_topk *e, const ncf_topk_filter *f, int32_t u, seen_list *s)
{
    memset(s, 0, sizeof *s);
    if (f->include_seen) return;
    const int64_t *off = f->seen_off ? f->seen_off : e->m->seen_off;
    const int32_t *list = f->seen_off ? f->seen : e->m->seen;
    if (!off || !list) return;
    s->seen = list + off[u];
    s->n = off[u + 1] - off[u];
}

static inline int candidate(const ncf_topk_filter *f, seen_list *s, int32_t i)
{
    if (f->allowed && !bit_at(f->allowed, i)) return 0;
    if (f->denied && bit_at(f->denied, i)) return 0;
    while (s->at < s->n && s->seen[s->at] < i) s->at++;
    return !(s->at < s->n && s->seen[s->at] == i);
}

/* 1 when some of p[0 .. 16) is > t (ge = 0) or >= t (ge = 1) */
static inline int any16(const float *p, float t, int ge)
{
#ifdef __SSE2__
    const __m128 tv = _mm_set1_ps(t);
    __m128 m;
    if (ge)
        m = _mm_or_ps(_mm_or_ps(_mm_cmpge_ps(_mm_loadu_ps(p), tv), _mm_cmpge_ps(_mm_loadu_ps(p + 4), tv)),
                      _mm_or_ps(_mm_cmpge_ps(_mm_loadu_ps(p + 8), tv), _mm_cmpge_ps(_mm_loadu_ps(p + 12), tv)));
    else
        m = _mm_or_ps(_mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(p), tv), _mm_cmpgt_ps(_mm_loadu_ps(p + 4), tv)),
                      _mm_or_ps(_mm_cmpgt_ps(_mm_loadu_ps(p + 8), tv), _mm_cmpgt_ps(_mm_loadu_ps(p + 12), tv)));
    return _mm_movemask_ps(m) != 0;
#else
    int any = 0;
    for (int j = 0; j < 16; j++) any |= ge ? p[j] >= t : p[j] > t;
    return any;
#endif
}

typedef struct heap {
    int32_t *it;
    float *sc;
    int n, k;
    seen_list seen;
} heap;

/* Items i0 .. i0 + n with scores row[0 .. n), after every item before i0. */
static void heap_take(heap *h, const float *row, int32_t i0, int32_t n, const ncf_topk_filter *f)
{
    int32_t t = 0;
    while (t < n) {
        /* full, with a number at the root: a later item enters only with a
         * greater score (an equal one loses on index, a NaN to a number) */
        if (h->n == h->k && h->sc[0] == h->sc[0]) {
            const float r = h->sc[0];
            while (t + 16 <= n && !any16(row + t, r, 0)) t += 16;
            if (t >= n) break;
            if (!(row[t] > r)) {
                t++;
                continue;
            }
        }
        const float v = row[t];
        const int32_t i = i0 + t++;
        if (h->n == h->k && !ncf_before_(v, i, h->sc[0], h->it[0])) continue;
        if (!candidate(f, &h->seen, i)) continue;
        if (h->n < h->k) {
            h->it[h->n] = i, h->sc[h->n] = v;
            ncf_heap_sift_up_(h->it, h->sc, h->n++);
        } else {
            h->it[0] = i, h->sc[0] = v;
            ncf_heap_sift_down_(h->it, h->sc, h->n, 0);
        }
    }
}

/* heap -> best first */
static void heap_sort(heap *h) { ncf_heap_sort_(h->it, h->sc, h->n); }

/* ---- the engine's loop ------------------------------------------------------ */

/* One user's full-ranking counts (ncf_topk_ranks_). */
typedef struct ranker {
    const int32_t *test;
    int nt;
    float *st;   /* the held-out items' scores */
    int *cnt;    /* candidates counted >= st[q], or -1: settled (kmax) */
    float thr;   /* the least st[q] still counting */
    int active;
    seen_list seen;
} ranker;

static void ranker_settle(ranker *rk, int kmax)
{
    rk->active = 0;
    rk->thr = 0.0f;
    for (int q = 0; q < rk->nt; q++) {
        if (rk->cnt[q] >= kmax) rk->cnt[q] = -1;
        if (rk->cnt[q] < 0) continue;
        if (!rk->active || rk->st[q] < rk->thr) rk->thr = rk->st[q];
        rk->active = 1;
    }
}

static void ranker_take(ranker *rk, const float *row, int32_t i0, int32_t n, const ncf_topk_filter *f, int kmax)
{
    if (!rk->active) return;
    const float thr = rk->thr;
    for (int32_t t = 0; t < n; t++) {
        if ((t & 15) == 0 && t + 16 <= n && !any16(row + t, thr, 1)) {
            t += 15;
            continue;
        }
        const float v = row[t];
        if (!(v >= thr)) continue;
        const int32_t i = i0 + t;
        if (!candidate(f, &rk->seen, i)) continue;
        for (int q = 0; q < rk->nt; q++)
            if (rk->cnt[q] >= 0 && i != rk->test[q] && v >= rk->st[q]) rk->cnt[q]++;
    }
    ranker_settle(rk, kmax);
}

typedef struct job {
    const int32_t *users;
    int n;
    const ncf_topk_filter *f;
    /* recommend */
    int k;
    int32_t *items;
    float *scores;
    int *counts;
    /* ranks */
    const int32_t *test_off, *test;
    int kmax;
    int *ranks;
} job;

static const ncf_topk_filter no_filter;

static ncf_status run(const ncf_topk *e, const job *jb, int threads)
{
    const ncf_model *m = e->m;
    const int32_t n_items = m->cfg.n_items;
    const int32_t n_panels = e->kind == KIND_PAIR ? (n_items + NCF_PANEL - 1) / NCF_PANEL : e->n_panels;
    const int tile = e->kind == KIND_PAIR ? (n_panels < 16 ? (int)n_panels : 16) : e->tile;
    if (jb->n <= 0) return NCF_OK;
    const int n_blocks = (jb->n + USER_BLOCK - 1) / USER_BLOCK;
    const ncf_topk_filter *f = jb->f ? jb->f : &no_filter;
    int T = ncf_threads_resolve(threads);
    if (T > n_blocks) T = n_blocks > 0 ? n_blocks : 1;
    int failed = 0;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        block b;
        const int ok = block_init(e, tile, jb->n < USER_BLOCK ? jb->n : USER_BLOCK, &b) == 0;
        int max_nt = 0;
        if (jb->test_off)
            for (int j = 0; j < jb->n; j++)
                if (jb->test_off[j + 1] - jb->test_off[j] > max_nt) max_nt = jb->test_off[j + 1] - jb->test_off[j];
        float *st = jb->test_off ? malloc(((size_t)USER_BLOCK * (size_t)max_nt + 1) * sizeof *st) : NULL;
        int *cnt = jb->test_off ? malloc(((size_t)USER_BLOCK * (size_t)max_nt + 1) * sizeof *cnt) : NULL;
        if (!ok || (jb->test_off && (!st || !cnt))) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int bl = 0; bl < n_blocks; bl++) {
            if (failed) continue;
            const int j0 = bl * USER_BLOCK, nu = jb->n - j0 < USER_BLOCK ? jb->n - j0 : USER_BLOCK;
            block_users(e, &b, jb->users + j0, nu);
            heap hp[USER_BLOCK];
            ranker rk[USER_BLOCK];
            for (int r = 0; r < nu; r++) {
                const int j = j0 + r;
                if (!jb->test_off) {
                    hp[r] = (heap){jb->items + (size_t)j * (size_t)jb->k, jb->scores + (size_t)j * (size_t)jb->k, 0,
                                   jb->k, {0}};
                    seen_init(e, f, b.users[r], &hp[r].seen);
                    continue;
                }
                ranker *x = &rk[r];
                x->test = jb->test + jb->test_off[j];
                x->nt = jb->test_off[j + 1] - jb->test_off[j];
                x->st = st + (size_t)r * (size_t)max_nt;
                x->cnt = cnt + (size_t)r * (size_t)max_nt;
                if (ncf_topk_score_(e, b.users[r], x->test, x->nt, x->st) != NCF_OK) {
#pragma omp atomic write
                    failed = 1;
                }
                for (int q = 0; q < x->nt; q++) {
                    seen_list one;
                    seen_init(e, f, b.users[r], &one);
                    x->cnt[q] = candidate(f, &one, x->test[q]) && x->st[q] == x->st[q] ? 0 : -1;
                }
                seen_init(e, f, b.users[r], &x->seen);
                ranker_settle(x, jb->kmax);
            }
            for (int32_t p0 = 0; p0 < n_panels && (jb->test_off || jb->k > 0); p0 += tile) {
                const int np = n_panels - p0 < tile ? (int)(n_panels - p0) : tile;
                int rows[USER_BLOCK], nr = 0; /* users whose ranks are settled need no more scores */
                for (int r = 0; r < nu; r++)
                    if (!jb->test_off || rk[r].active) rows[nr++] = r;
                if (nr == 0) break;
                block_score(e, &b, rows, nr, p0, np);
                const int32_t i0 = p0 * NCF_PANEL;
                const int32_t n = n_items - i0 < np * NCF_PANEL ? n_items - i0 : np * NCF_PANEL;
                for (int q = 0; q < nr; q++) {
                    const float *row = b.S + (size_t)q * b.lds;
                    if (jb->test_off) ranker_take(&rk[rows[q]], row, i0, n, f, jb->kmax);
                    else heap_take(&hp[rows[q]], row, i0, n, f);
                }
            }
            for (int r = 0; r < nu; r++) {
                const int j = j0 + r;
                if (!jb->test_off) {
                    heap_sort(&hp[r]);
                    jb->counts[j] = hp[r].n;
                    continue;
                }
                for (int q = 0; q < rk[r].nt; q++)
                    jb->ranks[jb->test_off[j] + q] = rk[r].cnt[q] < 0 ? jb->kmax : rk[r].cnt[q];
            }
        }
        if (ok) block_free(&b);
        free(st);
        free(cnt);
    }
    return failed ? NCF_ERR_NOMEM : NCF_OK;
}

ncf_topk *ncf_topk_view_(const ncf_topk *e, const ncf_model *view)
{
    ncf_topk *v = malloc(sizeof *v);
    if (!v) return NULL;
    *v = *e;
    v->m = view;
    return v;
}

ncf_status ncf_topk_recommend_(const ncf_topk *e, const int32_t *users, int n, int k, const ncf_topk_filter *f,
                               int threads, int32_t *items, float *scores, int *counts)
{
    if (k <= 0) {
        for (int j = 0; j < n; j++) counts[j] = 0;
        return NCF_OK;
    }
    job jb = {.users = users, .n = n, .f = f, .k = k, .items = items, .scores = scores, .counts = counts};
    return run(e, &jb, threads);
}

ncf_status ncf_topk_ranks_(const ncf_topk *e, const int32_t *users, int n, const int32_t *test_off,
                           const int32_t *test, const ncf_topk_filter *f, int kmax, int threads, int *ranks)
{
    job jb = {.users = users, .n = n, .f = f, .test_off = test_off, .test = test, .kmax = kmax, .ranks = ranks};
    return run(e, &jb, threads);
}

ncf_status ncf_topk_score_(const ncf_topk *e, int32_t user, const int32_t *items, int n, float *scores)
{
    if (n <= 0) return NCF_OK;
    const ncf_model *m = e->m;
    block b;
    if (block_init(e, 2, 1, &b) != 0) return NCF_ERR_NOMEM;
    block_users(e, &b, &user, 1);
    if (e->kind == KIND_PAIR) {
        const size_t h = m->n_layers > 0 ? (size_t)m->out[0] : 0;
        for (int q = 0; q < n; q++) {
            const int32_t i = items[q];
            if (e->halves) scores[q] = ncf_model_forward_split_(m, user, i, b.uh, e->halves + (size_t)i * h, b.work);
            else if (m->E == 0) scores[q] = ncf_model_output_(m, user, i, NULL);
            else scores[q] = ncf_model_forward_(m, user, i, b.work, NULL);
        }
        block_free(&b);
        return NCF_OK;
    }
    /* the items gathered into two panels at a time, scored like any panel */
    const ncf_score_kernels *kn = e->kn;
    const ncf_score_shape *sh = &e->sh;
    float *P = ncf_alloc_aligned_(2 * sh->pstride * sizeof(float));
    if (!P) {
        block_free(&b);
        return NCF_ERR_NOMEM;
    }
    for (int q0 = 0; q0 < n; q0 += 2 * NCF_PANEL) {
        const int nq = n - q0 < 2 * NCF_PANEL ? n - q0 : 2 * NCF_PANEL;
        for (int t = 0; t < 2 * NCF_PANEL; t++) {
            const int32_t i = items[q0 + (t < nq ? t : 0)]; /* the rest repeat the first: scored, not used */
            const int ti = i % NCF_PANEL, td = t % NCF_PANEL;
            const float *src = e->panels + (size_t)(i / NCF_PANEL) * sh->pstride;
            float *dst = P + (size_t)(t / NCF_PANEL) * sh->pstride;
            for (int k = 0; k < sh->F; k++) dst[sh->qt_off + qt_slot(e, td, k)] = src[sh->qt_off + qt_slot(e, ti, k)];
            for (int k = 0; k < sh->h; k++)
                dst[sh->ih_off + (size_t)k * NCF_PANEL + (size_t)td] = src[sh->ih_off + (size_t)k * NCF_PANEL + (size_t)ti];
            if (sh->has_bias) dst[sh->bi_off + (size_t)td] = src[sh->bi_off + (size_t)ti];
        }
        if (e->kind == KIND_DOT) (e->pairs ? kn->dot8 : kn->dot)(b.S, b.lds, b.pu, m->B ? b.bu : NULL, 1, P, 2, sh);
        else kn->tower(b.S, b.uh, b.pu[0], P, 2, sh, b.work);
        memcpy(scores + q0, b.S, (size_t)nq * sizeof *scores);
    }
    ncf_free_aligned_(P);
    block_free(&b);
    return NCF_OK;
}
