/* similar.c — the items nearest an item by cosine over the learned item
 * representations (ncf_similar, model.h says what they are per model
 * type): the vectors normalised once at creation and stored transposed
 * (coordinate-major, so one coordinate of many items is one contiguous
 * row), then the similarities of a block of query items to a tile of
 * items as a small matrix product, and a bounded heap per query.
 *
 * Every similarity is summed over the coordinates in one fixed order,
 * whichever block, tile or thread computes it, so a query's answer is the
 * same alone or among many, on any thread count, and two items with the
 * same vector tie exactly (then the lower index wins). Does not use users,
 * training items or scores: similar items are a property of the item
 * tables and layers alone. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "model/model_impl.h"
#include "model/rules.h"
#include "model/topk.h"
#include "ncf/train.h"
#include "nn/nn.h"

struct ncf_similar {
    const ncf_model *m;
    int32_t n, d; /* items, vector width */
    size_t ld;    /* row stride of vt (n rounded up to 16) */
    float *vt;    /* d x ld: vt[k * ld + i] is coordinate k of item i's unit vector */
};

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* The width of the GMF part (0: none) and of the MLP part. */
static int32_t gmf_width(const ncf_model *m) { return m->F; }
static int32_t mlp_width(const ncf_model *m) { return m->E ? (m->n_layers ? m->out[0] : m->E) : 0; }

/* Item i's representation (model.h) into v (d doubles), each part scaled
 * to unit length (a zero part stays zero) and the whole then too. With
 * hidden layers, zero and h are scratch of out[0] floats, zero all zeros:
 * W1_item q_i goes through the forward kernel, as in scoring. */
static void item_vector(const ncf_model *m, int32_t i, const float *zero, float *hf, double *v)
{
    const int32_t F = gmf_width(m), H = mlp_width(m), E = m->E;
    const float *wo = m->dense + m->wo_off;
    double part_norm2[2] = {0, 0};
    if (F) {
        const float *q = m->tab[NCF_TABLE_GMF_ITEM].w + (size_t)i * (size_t)m->tab[NCF_TABLE_GMF_ITEM].stride;
        for (int32_t k = 0; k < F; k++) {
            v[k] = m->B ? (double)q[k] : (double)wo[k] * (double)q[k]; /* MF's output weights are fixed at 1 */
            part_norm2[0] += v[k] * v[k];
        }
    }
    if (H) {
        const float *q = m->tab[NCF_TABLE_MLP_ITEM].w + (size_t)i * (size_t)m->tab[NCF_TABLE_MLP_ITEM].stride;
        double *h = v + F;
        if (m->n_layers) { /* rows E..2E-1 of W1^T are the item half */
            ncf_linear_forward_(hf, q, m->wt + m->w_off[0] + (size_t)E * (size_t)H, zero, E, H);
            for (int32_t o = 0; o < H; o++) h[o] = (double)hf[o];
        } else { /* no hidden layer: the output weights of the item half */
            for (int32_t k = 0; k < E; k++) h[k] = (double)wo[F + E + k] * (double)q[k];
        }
        for (int32_t o = 0; o < H; o++) part_norm2[1] += h[o] * h[o];
    }
    /* each part to unit length, then the whole (sqrt of the parts that are not zero) */
    int nonzero = (part_norm2[0] > 0) + (part_norm2[1] > 0);
    const double whole = nonzero ? 1.0 / sqrt((double)nonzero) : 0.0;
    const double s0 = part_norm2[0] > 0 ? whole / sqrt(part_norm2[0]) : 0.0;
    const double s1 = part_norm2[1] > 0 ? whole / sqrt(part_norm2[1]) : 0.0;
    for (int32_t k = 0; k < F; k++) v[k] *= s0;
    for (int32_t k = 0; k < H; k++) v[F + k] *= s1;
}

ncf_status ncf_similar_create(const ncf_model *m, int threads, ncf_similar **out, ncf_err *err)
{
    *out = NULL;
    ncf_similar *s = calloc(1, sizeof *s);
    if (!s) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory preparing the item vectors");
    s->m = m;
    s->n = m->cfg.n_items;
    s->d = gmf_width(m) + mlp_width(m);
    s->ld = round16((size_t)s->n);
    size_t bytes;
    if (ncf_mul_size_((size_t)s->d * s->ld, sizeof(float), &bytes) != 0 || !(s->vt = ncf_alloc_aligned_(bytes))) {
        const int n = (int)s->n, d = (int)s->d;
        free(s);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory for %d item vectors of %d floats", n, d);
    }
    int failed = 0;
    const int T = ncf_threads_resolve(threads);
    (void)T;
    /* blocks of 64 items, so that no two threads write one cache line of vt */
    const int32_t blocks = (s->n + 63) / 64;
#pragma omp parallel num_threads(T)
    {
        double *v = malloc(((size_t)s->d + 1) * sizeof *v);
        const size_t h = (size_t)mlp_width(m) + 8;
        float *zero = ncf_alloc_aligned_(h * sizeof *zero), *hf = ncf_alloc_aligned_(h * sizeof *hf);
        if (!v || !zero || !hf) failed = 1;
#pragma omp for schedule(static)
        for (int32_t b = 0; b < blocks; b++) {
            if (!v || !zero || !hf) continue;
            for (int32_t i = b * 64; i < s->n && i < (b + 1) * 64; i++) {
                item_vector(m, i, zero, hf, v);
                for (int32_t k = 0; k < s->d; k++) s->vt[(size_t)k * s->ld + (size_t)i] = (float)v[k];
            }
        }
        free(v);
        ncf_free_aligned_(zero);
        ncf_free_aligned_(hf);
    }
    if (failed) {
        ncf_similar_free(s);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory preparing the item vectors");
    }
    *out = s;
    return NCF_OK;
}

void ncf_similar_free(ncf_similar *s)
{
    if (!s) return;
    ncf_free_aligned_(s->vt);
    free(s);
}

int32_t ncf_similar_dim(const ncf_similar *s) { return s->d; }

ncf_status ncf_similar_vector(const ncf_similar *s, int32_t item, float *out)
{
    if (item < 0 || item >= s->n) return NCF_ERR_NOT_FOUND;
    for (int32_t k = 0; k < s->d; k++) out[k] = s->vt[(size_t)k * s->ld + (size_t)item];
    return NCF_OK;
}

/* ---- blocked similarities ----------------------------------------------------- */
enum { QB = 8, CT = 512 }; /* queries per block, items per tile */

/* S[r][c] = sum over k of qv[r][k] * g[k][c0 + c], for r < nq, c < nc;
 * qv is nq x d (row stride d), g is d x ldg, S is QB x CT. Each sum starts
 * at 0 and adds the coordinates in increasing k, whatever r, c0 and c are:
 * only the lanes of c are vectorised. */
NCF_MULTIVERSION
static void tile_dots(const float *restrict qv, int nq, int32_t d, const float *restrict g, size_t ldg, size_t c0,
                      int nc, float *restrict S)
{
    for (int r = 0; r < nq; r++) memset(S + (size_t)r * CT, 0, (size_t)nc * sizeof *S);
    for (int32_t k = 0; k < d; k++) {
        const float *restrict gk = g + (size_t)k * ldg + c0;
        for (int r = 0; r < nq; r++) {
            const float a = qv[(size_t)r * (size_t)d + (size_t)k];
            float *restrict Sr = S + (size_t)r * CT;
            for (int c = 0; c < nc; c++) Sr[c] += a * gk[c];
        }
    }
}

ncf_status ncf_similar_items(const ncf_similar *s, int32_t item, const ncf_rules *rules, int k, int32_t *items,
                             float *scores, int *n_out)
{
    return ncf_similar_items_many(s, &item, 1, rules, k, 1, items, scores, n_out);
}

ncf_status ncf_similar_items_many(const ncf_similar *s, const int32_t *query, int n, const ncf_rules *rules, int k,
                                  int threads, int32_t *items, float *scores, int *counts)
{
    for (int j = 0; j < n; j++)
        if (query[j] < 0 || query[j] >= s->n) return NCF_ERR_NOT_FOUND;
    for (int j = 0; j < n; j++) counts[j] = 0;
    if (k <= 0 || n <= 0) return NCF_OK;
    ncf_filter_ f;
    ncf_status st = ncf_filter_init_(&f, rules, s->n);
    if (st != NCF_OK) return st;
    /* the items the rules allow: all of vt, or a gathered copy of their columns */
    int32_t *cand = NULL, n_cand = 0;
    const float *g = s->vt;
    size_t ldg = s->ld;
    float *gathered = NULL;
    st = ncf_filter_items_(&f, s->n, &cand, &n_cand);
    ncf_filter_free_(&f);
    if (st != NCF_OK) return st;
    if (cand) {
        ldg = round16((size_t)n_cand);
        gathered = ncf_alloc_aligned_(((size_t)s->d * ldg + 1) * sizeof(float));
        if (!gathered) {
            free(cand);
            return NCF_ERR_NOMEM;
        }
        for (int32_t kk = 0; kk < s->d; kk++)
            for (int32_t c = 0; c < n_cand; c++)
                gathered[(size_t)kk * ldg + (size_t)c] = s->vt[(size_t)kk * s->ld + (size_t)cand[c]];
        g = gathered;
    }
    const int32_t d = s->d;
    const int blocks = (n + QB - 1) / QB;
    int failed = 0;
    const int T = n < QB ? 1 : ncf_threads_resolve(threads);
    (void)T;
#pragma omp parallel num_threads(T) if (T > 1)
    {
        float *qv = malloc(((size_t)QB * (size_t)d + 1) * sizeof *qv);
        float *S = ncf_alloc_aligned_((size_t)QB * CT * sizeof *S);
        if (!qv || !S) failed = 1;
#pragma omp for schedule(dynamic, 1)
        for (int b = 0; b < blocks; b++) {
            if (!qv || !S) continue;
            const int j0 = b * QB, nq = n - j0 < QB ? n - j0 : QB;
            for (int r = 0; r < nq; r++)
                for (int32_t kk = 0; kk < d; kk++)
                    qv[(size_t)r * (size_t)d + (size_t)kk] = s->vt[(size_t)kk * s->ld + (size_t)query[j0 + r]];
            int heap_n[QB] = {0};
            for (int32_t c0 = 0; c0 < n_cand; c0 += CT) {
                const int nc = n_cand - c0 < CT ? n_cand - c0 : CT;
                tile_dots(qv, nq, d, g, ldg, (size_t)c0, nc, S);
                for (int r = 0; r < nq; r++) {
                    const int32_t self = query[j0 + r];
                    int32_t *it = items + (size_t)(j0 + r) * (size_t)k;
                    float *sc = scores + (size_t)(j0 + r) * (size_t)k;
                    const float *Sr = S + (size_t)r * CT;
                    for (int c = 0; c < nc; c++) {
                        const int32_t i = cand ? cand[c0 + c] : c0 + c;
                        if (i != self) ncf_heap_offer_(it, sc, &heap_n[r], k, Sr[c], i);
                    }
                }
            }
            for (int r = 0; r < nq; r++) {
                ncf_heap_sort_(items + (size_t)(j0 + r) * (size_t)k, scores + (size_t)(j0 + r) * (size_t)k, heap_n[r]);
                counts[j0 + r] = heap_n[r];
            }
        }
        free(qv);
        ncf_free_aligned_(S);
    }
    free(cand);
    ncf_free_aligned_(gathered);
    return failed ? NCF_ERR_NOMEM : NCF_OK;
}
