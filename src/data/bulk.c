/* bulk.c — the data module's work at scale (data_impl.h): large arrays on
 * transparent huge pages, a stable counting sort of records by an integer
 * key run in parallel over fixed chunks of the records (so its result does
 * not depend on the thread count), and the sort of the short lists (a
 * user's items) it leaves. Knows nothing of users, items or files. */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_HUGEPAGE (Linux) */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "data/data_impl.h"

void *ncf_big_alloc_(size_t n)
{
    void *p = malloc(n ? n : 1);
#ifdef MADV_HUGEPAGE
    if (p && n >= (8u << 20)) {
        const uintptr_t b = ((uintptr_t)p + 4095) & ~(uintptr_t)4095, e = ((uintptr_t)p + n) & ~(uintptr_t)4095;
        if (e > b) madvise((void *)b, e - b, MADV_HUGEPAGE);
    }
#endif
    return p;
}

/* Records per chunk below which a chunk is not worth a thread. */
#define CHUNK_MIN_RECORDS 65536

/* The chunks of n records over n_keys keys: as many as the threads, fewer
 * when the records are few or when the per-chunk counts (chunks x keys)
 * would outgrow the records themselves. */
static int chunk_count(int64_t n, int32_t n_keys)
{
    int c = 1;
#ifdef _OPENMP
    c = omp_get_max_threads();
#endif
    while (c > 1 && ((int64_t)c * CHUNK_MIN_RECORDS > n || (int64_t)c * ((int64_t)n_keys + 1) > 2 * n + 65536)) c--;
    return c;
}

static int kept(const int32_t *key, const int32_t *also, int64_t k)
{
    return key[k] >= 0 && (!also || also[k] >= 0);
}

int ncf_group_by_key_(const int32_t *key, const int32_t *also, int64_t n, int32_t n_keys, const int32_t *val,
                      int32_t *out_val, int64_t *out_pos, int64_t *off)
{
    const int C = chunk_count(n, n_keys);
    const size_t stride = (size_t)n_keys + 1;
    int64_t *at = calloc((size_t)C * stride, sizeof *at); /* chunk c's count, then its next place, of each key */
    if (!at) return -1;
    /* 1. each chunk counts its records per key */
#pragma omp parallel for schedule(static, 1) if (C > 1)
    for (int c = 0; c < C; c++) {
        int64_t *cnt = at + (size_t)c * stride;
        const int64_t b = n * c / C, e = n * (c + 1) / C;
        for (int64_t k = b; k < e; k++)
            if (kept(key, also, k)) cnt[key[k]]++;
    }
    /* 2. each key's start, then each chunk's first place within it, in chunk order */
    off[0] = 0;
    for (int32_t v = 0; v < n_keys; v++) {
        int64_t sum = 0;
        for (int c = 0; c < C; c++) sum += at[(size_t)c * stride + (size_t)v];
        off[v + 1] = off[v] + sum;
    }
#pragma omp parallel for schedule(static) if (C > 1 && n_keys > 4096)
    for (int32_t v = 0; v < n_keys; v++) {
        int64_t p = off[v];
        for (int c = 0; c < C; c++) {
            const int64_t cnt = at[(size_t)c * stride + (size_t)v];
            at[(size_t)c * stride + (size_t)v] = p;
            p += cnt;
        }
    }
    /* 3. each chunk places its records, in order */
#pragma omp parallel for schedule(static, 1) if (C > 1)
    for (int c = 0; c < C; c++) {
        int64_t *next = at + (size_t)c * stride;
        const int64_t b = n * c / C, e = n * (c + 1) / C;
        for (int64_t k = b; k < e; k++) {
            if (!kept(key, also, k)) continue;
            const int64_t p = next[key[k]]++;
            if (out_val) out_val[p] = val[k];
            if (out_pos) out_pos[p] = k;
        }
    }
    free(at);
    return 0;
}

/* ---- int32 sort -------------------------------------------------------------- */
static void insertion_sort(int32_t *a, int64_t n)
{
    for (int64_t k = 1; k < n; k++) {
        const int32_t v = a[k];
        int64_t j = k;
        for (; j > 0 && a[j - 1] > v; j--) a[j] = a[j - 1];
        a[j] = v;
    }
}

static void sift_down(int32_t *a, int64_t root, int64_t n)
{
    const int32_t v = a[root];
    for (;;) {
        int64_t child = 2 * root + 1;
        if (child >= n) break;
        if (child + 1 < n && a[child + 1] > a[child]) child++;
        if (a[child] <= v) break;
        a[root] = a[child];
        root = child;
    }
    a[root] = v;
}

static void heap_sort(int32_t *a, int64_t n)
{
    for (int64_t k = n / 2; k-- > 0;) sift_down(a, k, n);
    for (int64_t e = n - 1; e > 0; e--) {
        const int32_t t = a[0];
        a[0] = a[e];
        a[e] = t;
        sift_down(a, 0, e);
    }
}

static int32_t median3(int32_t x, int32_t y, int32_t z)
{
    if (x > y) {
        const int32_t t = x;
        x = y;
        y = t;
    }
    return z < x ? x : z > y ? y : z;
}

/* Quicksort (median of three, Hoare partition) down to short runs, which
 * insertion sort finishes; heap sort past a depth of 2 log2 n, so that no
 * input costs more than O(n log n). */
static void intro_sort(int32_t *a, int64_t n, int depth)
{
    while (n > 24) {
        if (depth-- == 0) {
            heap_sort(a, n);
            return;
        }
        const int32_t pivot = median3(a[0], a[n / 2], a[n - 1]);
        int64_t i = -1, j = n;
        for (;;) {
            do i++;
            while (a[i] < pivot);
            do j--;
            while (a[j] > pivot);
            if (i >= j) break;
            const int32_t t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
        /* [0, j] <= pivot <= [j + 1, n): recurse into the smaller part */
        if (j + 1 < n - (j + 1)) {
            intro_sort(a, j + 1, depth);
            a += j + 1;
            n -= j + 1;
        } else {
            intro_sort(a + j + 1, n - (j + 1), depth);
            n = j + 1;
        }
    }
    insertion_sort(a, n);
}

void ncf_sort_i32_(int32_t *a, int64_t n)
{
    int depth = 0;
    for (int64_t m = n; m > 1; m >>= 1) depth += 2;
    intro_sort(a, n, depth);
}

void ncf_sort_ids_(int32_t *a, int64_t n, int32_t bound, uint64_t *bits)
{
    const int64_t words = (int64_t)bound / 64 + 1;
    if (!bits || n < 16 || words > 8 * n) { /* few values: scanning the bitmap would cost more */
        ncf_sort_i32_(a, n);
        return;
    }
    int64_t k = 0;
    for (; k < n; k++) {
        uint64_t *w = &bits[a[k] >> 6];
        const uint64_t m = 1ull << (a[k] & 63);
        if (*w & m) break; /* a repeated value: the bitmap cannot count it */
        *w |= m;
    }
    if (k < n) {
        for (int64_t j = 0; j < k; j++) bits[a[j] >> 6] = 0;
        ncf_sort_i32_(a, n);
        return;
    }
    int64_t o = 0;
    for (int64_t w = 0; w < words; w++) {
        uint64_t x = bits[w];
        if (!x) continue;
        bits[w] = 0;
        for (; x; x &= x - 1) a[o++] = (int32_t)(w * 64 + __builtin_ctzll(x));
    }
}
