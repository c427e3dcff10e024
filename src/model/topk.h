/* topk.h — keeping the K best of a stream of (score, item) pairs: the order
 * every top-K answer uses (higher score first, then lower index, NaN last)
 * and a bounded min-heap on it. Shared by the scorer (recommendations) and
 * similar.c (similar items). Not part of the public API. */
#ifndef NCF_MODEL_TOPK_H
#define NCF_MODEL_TOPK_H

#include <stdint.h>

/* "a ranks before b": higher score, then lower index; a NaN score (a model
 * whose products overflow) ranks after every number, NaNs by index. A
 * total order, so the heap below keeps the best k whatever the scores. */
static inline int ncf_before_(float sa, int32_t ia, float sb, int32_t ib)
{
    if (sa > sb) return 1;
    if (sa == sb) return ia < ib;
    if (sa < sb) return 0;
    /* unordered: one of them at least is NaN */
    if (sb != sb) return sa == sa || ia < ib; /* b NaN: a number wins, two NaNs go by index */
    return 0;                                 /* a NaN, b a number */
}

/* min-heap on "rank": the root is the worst of the kept items */
static inline void ncf_heap_sift_down_(int32_t *it, float *sc, int n, int q)
{
    for (;;) {
        int l = 2 * q + 1, r = l + 1, w = q;
        if (l < n && ncf_before_(sc[w], it[w], sc[l], it[l])) w = l;
        if (r < n && ncf_before_(sc[w], it[w], sc[r], it[r])) w = r;
        if (w == q) return;
        float ts = sc[q];
        int32_t ti = it[q];
        sc[q] = sc[w], it[q] = it[w];
        sc[w] = ts, it[w] = ti;
        q = w;
    }
}

static inline void ncf_heap_sift_up_(int32_t *it, float *sc, int q)
{
    while (q > 0) {
        int p = (q - 1) / 2;
        if (!ncf_before_(sc[p], it[p], sc[q], it[q])) return;
        float ts = sc[q];
        int32_t ti = it[q];
        sc[q] = sc[p], it[q] = it[p];
        sc[p] = ts, it[p] = ti;
        q = p;
    }
}

/* Offers (v, i) to the heap of *n <= k entries. */
static inline void ncf_heap_offer_(int32_t *it, float *sc, int *n, int k, float v, int32_t i)
{
    if (*n < k) {
        it[*n] = i, sc[*n] = v;
        ncf_heap_sift_up_(it, sc, (*n)++);
    } else if (ncf_before_(v, i, sc[0], it[0])) {
        it[0] = i, sc[0] = v;
        ncf_heap_sift_down_(it, sc, *n, 0);
    }
}

/* The heap of n entries -> best first: repeatedly move the worst to the end. */
static inline void ncf_heap_sort_(int32_t *it, float *sc, int n)
{
    for (int end = n - 1; end > 0; end--) {
        float ts = sc[0];
        int32_t ti = it[0];
        sc[0] = sc[end], it[0] = it[end];
        sc[end] = ts, it[end] = ti;
        ncf_heap_sift_down_(it, sc, end, 0);
    }
}

#endif
