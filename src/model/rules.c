/* rules.c — business rules prepared for the top-K loops (rules.h): the
 * allow-list and deny-list checked, sorted and freed of repeats once per
 * call, and the questions the loops ask of them. Scores, heaps and the
 * answers' order are the scorer's and similar.c's, not this file's. */
#include <stdlib.h>
#include <string.h>

#include "model/rules.h"

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Checks list (n indices) against [0, n_items); when it is sorted without
 * repeats, *out = list; else *out = a sorted copy without repeats at
 * *store (n entries reserved there), *n_out its length. -1: out of range. */
static int prepare(const int32_t *list, int32_t n, int32_t n_items, int32_t *store, const int32_t **out,
                   int32_t *n_out)
{
    int sorted = 1;
    for (int32_t q = 0; q < n; q++) {
        if (list[q] < 0 || list[q] >= n_items) return -1;
        if (q && list[q] <= list[q - 1]) sorted = 0;
    }
    if (sorted) {
        *out = list;
        *n_out = n;
        return 0;
    }
    memcpy(store, list, (size_t)n * sizeof *store);
    qsort(store, (size_t)n, sizeof *store, cmp_i32);
    int32_t w = 0;
    for (int32_t q = 0; q < n; q++)
        if (!w || store[q] != store[w - 1]) store[w++] = store[q];
    *out = store;
    *n_out = w;
    return 0;
}

static int is_sorted_unique(const int32_t *list, int32_t n)
{
    for (int32_t q = 1; q < n; q++)
        if (list[q] <= list[q - 1]) return 0;
    return 1;
}

ncf_status ncf_filter_init_(ncf_filter_ *f, const ncf_rules *r, int32_t n_items)
{
    memset(f, 0, sizeof *f);
    if (!r) return NCF_OK;
    if (r->n_only < 0 || r->n_exclude < 0 || (r->n_only > 0 && !r->only) || (r->n_exclude > 0 && !r->exclude))
        return NCF_ERR_ARG;
    f->include_seen = r->include_seen != 0;
    /* room for the copies of the lists that need sorting, in one block */
    size_t need = 0;
    if (r->only && !is_sorted_unique(r->only, r->n_only)) need += (size_t)r->n_only;
    if (r->n_exclude && !is_sorted_unique(r->exclude, r->n_exclude)) need += (size_t)r->n_exclude;
    if (need && !(f->owned = malloc(need * sizeof *f->owned))) return NCF_ERR_NOMEM;
    int32_t *store = f->owned;
    if (r->only) {
        static const int32_t none[1] = {0};
        if (prepare(r->only, r->n_only, n_items, store, &f->only, &f->n_only) != 0) goto range;
        if (f->only == store) store += r->n_only;
        if (!f->n_only) f->only = none; /* an empty allow-list allows nothing: still a list */
    }
    if (r->n_exclude && prepare(r->exclude, r->n_exclude, n_items, store, &f->exclude, &f->n_exclude) != 0)
        goto range;
    return NCF_OK;
range:
    ncf_filter_free_(f);
    return NCF_ERR_ARG;
}

void ncf_filter_free_(ncf_filter_ *f)
{
    free(f->owned);
    memset(f, 0, sizeof *f);
}

static int in_sorted(const int32_t *list, int32_t n, int32_t i)
{
    int32_t lo = 0, hi = n; /* [lo, hi) */
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (list[mid] < i) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && list[lo] == i;
}

int ncf_filter_allows_item_(const ncf_filter_ *f, int32_t i)
{
    if (f->only && !in_sorted(f->only, f->n_only, i)) return 0;
    return !in_sorted(f->exclude, f->n_exclude, i);
}

int ncf_filter_allows_(const ncf_filter_ *f, const ncf_model *m, int32_t u, int32_t i)
{
    if (!ncf_filter_allows_item_(f, i)) return 0;
    if (f->include_seen || u < 0 || !m->seen) return 1;
    const int64_t a = m->seen_off[u], b = m->seen_off[u + 1];
    return !in_sorted(m->seen + a, (int32_t)(b - a), i);
}

void ncf_walk_start_(ncf_walk_ *w, const ncf_filter_ *f, const ncf_model *m, int32_t u)
{
    memset(w, 0, sizeof *w);
    w->f = f;
    w->n_items = m->cfg.n_items;
    if (u >= 0 && !f->include_seen && m->seen) {
        w->seen = m->seen + m->seen_off[u];
        w->n_seen = m->seen_off[u + 1] - m->seen_off[u];
    }
}

ncf_status ncf_filter_items_(const ncf_filter_ *f, int32_t n_items, int32_t **out, int32_t *n)
{
    *out = NULL;
    *n = n_items;
    if (!f->only && !f->n_exclude) return NCF_OK;
    const int32_t cap = f->only ? f->n_only : n_items;
    int32_t *list = malloc(((size_t)cap + 1) * sizeof *list);
    if (!list) return NCF_ERR_NOMEM;
    ncf_walk_ w;
    memset(&w, 0, sizeof w);
    w.f = f;
    w.n_items = n_items;
    *n = 0;
    for (int got; (got = ncf_walk_next_(&w, list + *n, cap - *n)) > 0;) *n += got;
    *out = list;
    return NCF_OK;
}
