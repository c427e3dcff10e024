/* dataset.c — builds the dataset (training CSR, test and validation cases):
 * from the NCF authors' files (PREFIX.train.rating, .test.rating,
 * .test.negative, and .valid.* when present), from one interactions file
 * split leave-one-out in memory (optionally with a validation case per
 * user), or from a training file plus a separate test file (--test); also
 * writes the split in the NCF format (`ncf split`) and re-expresses a
 * dataset in a model's ids. Does not parse lines itself (reader.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "core/streams.h"
#include "data/own.h"
#include "data/reader_impl.h"
#include "dist/dist.h"

void ncf_load_options_default(ncf_load_options *opt)
{
    memset(opt, 0, sizeof *opt);
    ncf_read_options_default(&opt->read);
    opt->n_negatives = 99;
    opt->seed = 1;
}

static void cases_free(ncf_cases *c);

void ncf_dataset_free(ncf_dataset *ds)
{
    if (!ds) return;
    ncf_idmap_free(ds->user_ids);
    ncf_idmap_free(ds->item_ids);
    free(ds->train_offsets);
    free(ds->train_items);
    cases_free(&ds->test);
    cases_free(&ds->valid);
    free(ds->own_users);
    free(ds);
}

static void cases_free(ncf_cases *c)
{
    free(c->users);
    free(c->items);
    free(c->neg_offsets);
    free(c->negs);
    memset(c, 0, sizeof *c);
}

/* Room for n cases of up to n_neg negatives each (offsets zeroed). */
static ncf_status cases_alloc(ncf_cases *c, int32_t n, int64_t n_neg_total)
{
    cases_free(c);
    c->n = n;
    c->users = malloc(((size_t)n + 1) * sizeof *c->users);
    c->items = malloc(((size_t)n + 1) * sizeof *c->items);
    c->neg_offsets = calloc((size_t)n + 1, sizeof *c->neg_offsets);
    c->negs = malloc(((size_t)n_neg_total + 1) * sizeof *c->negs);
    if (!c->users || !c->items || !c->neg_offsets || !c->negs) return NCF_ERR_NOMEM;
    return NCF_OK;
}

int ncf_dataset_has_train(const ncf_dataset *ds, int32_t user, int32_t item)
{
    int64_t b = ds->train_offsets[user], e = ds->train_offsets[user + 1];
    return ncf_sorted_has_(ds->train_items + b, e - b, item);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

ncf_status ncf_idmap_identity_(int32_t n, ncf_idmap **out)
{
    ncf_idmap *m;
    ncf_status st = ncf_idmap_create(&m);
    if (st != NCF_OK) return st;
    char buf[16];
    for (int32_t k = 0; k < n; k++) {
        int len = snprintf(buf, sizeof buf, "%d", k);
        int32_t idx;
        st = ncf_idmap_add(m, buf, (size_t)len, &idx);
        if (st != NCF_OK) {
            ncf_idmap_free(m);
            return st;
        }
    }
    *out = m;
    return NCF_OK;
}

/* ---- test negatives ------------------------------------------------------- */

/* Per-thread item marks for draw_negatives: excl[j] == excl_stamp when
 * item j is excluded, drawn[j] == drawn_stamp when this draw has it. */
typedef struct item_marks {
    int32_t *excl, *drawn;
    int32_t excl_stamp, drawn_stamp;
} item_marks;

/* Draws up to n distinct items in [0, n_items) that are not in the sorted
 * list excl (length n_excl, marked in mk), into out. Returns the count
 * drawn (fewer than n only when too few items remain). */
static int draw_negatives(ncf_rng *rng, int32_t n_items, const int32_t *excl, int64_t n_excl, const item_marks *mk,
                          int n, int32_t *out)
{
    int64_t avail = n_items - n_excl;
    if (avail <= n) { /* take them all, in increasing order */
        int k = 0;
        for (int32_t j = 0; j < n_items && k < n; j++)
            if (!ncf_sorted_has_(excl, n_excl, j)) out[k++] = j;
        return k;
    }
    int k = 0;
    while (k < n) {
        int32_t j = (int32_t)ncf_rng_below_(rng, (uint32_t)n_items);
        if (mk->excl[j] == mk->excl_stamp || mk->drawn[j] == mk->drawn_stamp) continue;
        mk->drawn[j] = mk->drawn_stamp;
        out[k++] = j;
    }
    return k;
}

/* The first index of a (sorted by user, n entries) whose user is >= u. */
static int32_t first_case_of(const ncf_cases *a, int32_t u)
{
    int32_t lo = 0, hi = a->n;
    while (lo < hi) {
        const int32_t mid = lo + (hi - lo) / 2;
        if (a->users[mid] < u) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* out = the sorted multiset union of a (sorted, na) and b (nb, sorted here
 * in place): what sorting a and b together gives. */
static void merge_sorted(const int32_t *a, int64_t na, int32_t *b, int64_t nb, int32_t *out)
{
    for (int64_t k = 1; k < nb; k++) { /* b is short: a few held-out items */
        const int32_t v = b[k];
        int64_t j = k;
        for (; j > 0 && b[j - 1] > v; j--) b[j] = b[j - 1];
        b[j] = v;
    }
    int64_t i = 0, j = 0, w = 0;
    while (i < na && j < nb) out[w++] = a[i] <= b[j] ? a[i++] : b[j++];
    while (i < na) out[w++] = a[i++];
    while (j < nb) out[w++] = b[j++];
}

/* Draws each case's evaluation negatives (n_neg of them, stream `stream`
 * of the seed per user: NCF_STREAM_TEST_NEGATIVES or _VALID_NEGATIVES)
 * among the items the user has no interaction with: not a training item
 * and not an item of any of the user's cases in `cases` or `other` (both
 * sorted by user; other may be NULL). Users are drawn in parallel, each
 * from its own stream: the result does not depend on the thread count. */
static ncf_status draw_case_negatives(const ncf_dataset *ds, ncf_cases *cases, const ncf_cases *other, int n_neg,
                                      uint64_t seed, uint64_t stream)
{
    if (cases->n == 0) return NCF_OK;
    int64_t max_deg = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        if (ds->train_offsets[u + 1] - ds->train_offsets[u] > max_deg) max_deg = ds->train_offsets[u + 1] - ds->train_offsets[u];
    const size_t excl_cap = (size_t)max_deg + (size_t)cases->n + (other ? (size_t)other->n : 0) + 1;
    /* each user's first case */
    int32_t n_groups = 0;
    int32_t *group = malloc(((size_t)cases->n + 1) * sizeof *group);
    int32_t *got = malloc(((size_t)cases->n + 1) * sizeof *got);
    free(cases->negs);
    cases->negs = malloc(((size_t)cases->n * (size_t)n_neg + 1) * sizeof *cases->negs);
    if (!group || !got || !cases->negs) {
        free(group);
        free(got);
        return NCF_ERR_NOMEM;
    }
    for (int32_t c = 0; c < cases->n; c++)
        if (c == 0 || cases->users[c] != cases->users[c - 1]) group[n_groups++] = c;
    group[n_groups] = cases->n;
    int failed = 0;
#pragma omp parallel if (n_groups > 1000)
    {
        int32_t *excl = malloc(excl_cap * sizeof *excl), *extra = malloc(excl_cap * sizeof *extra);
        item_marks mk = {.excl = malloc(((size_t)ds->n_items + 1) * sizeof *mk.excl),
                         .drawn = malloc(((size_t)ds->n_items + 1) * sizeof *mk.drawn)};
        const int ok = excl && extra && mk.excl && mk.drawn;
        if (!ok) {
#pragma omp atomic write
            failed = 1;
        } else {
            for (int32_t i = 0; i < ds->n_items; i++) mk.excl[i] = mk.drawn[i] = -1;
        }
#pragma omp for schedule(dynamic, 64)
        for (int32_t g = 0; g < n_groups; g++) {
            if (!ok) continue;
            const int32_t c = group[g], e = group[g + 1], u = cases->users[c];
            int64_t n_extra = 0;
            for (int32_t k = c; k < e; k++) extra[n_extra++] = cases->items[k];
            if (other)
                for (int32_t k = first_case_of(other, u); k < other->n && other->users[k] == u; k++)
                    extra[n_extra++] = other->items[k];
            const int64_t b = ds->train_offsets[u], n_train = ds->train_offsets[u + 1] - b;
            merge_sorted(ds->train_items + b, n_train, extra, n_extra, excl);
            mk.excl_stamp = g;
            for (int64_t k = 0; k < n_train + n_extra; k++)
                if (excl[k] >= 0 && excl[k] < ds->n_items) mk.excl[excl[k]] = g;
            ncf_rng rng;
            ncf_rng_seed_(&rng, seed, stream, (uint64_t)u);
            for (int32_t k = c; k < e; k++) {
                mk.drawn_stamp = k;
                got[k] = draw_negatives(&rng, ds->n_items, excl, n_train + n_extra, &mk, n_neg,
                                        cases->negs + (size_t)k * (size_t)n_neg);
            }
        }
        free(excl);
        free(extra);
        free(mk.excl);
        free(mk.drawn);
    }
    if (failed) {
        free(group);
        free(got);
        return NCF_ERR_NOMEM;
    }
    /* each case's negatives after the previous case's (fewer than n_neg
     * only when too few items remain) */
    int64_t w = 0;
    cases->neg_offsets[0] = 0;
    for (int32_t k = 0; k < cases->n; k++) {
        if (w != (int64_t)k * n_neg)
            memmove(cases->negs + w, cases->negs + (size_t)k * (size_t)n_neg, (size_t)got[k] * sizeof *cases->negs);
        w += got[k];
        cases->neg_offsets[k + 1] = w;
    }
    free(group);
    free(got);
    return NCF_OK;
}

/* ---- leave-one-out split over interactions -------------------------------- */
typedef struct loo_split {
    int32_t n_users;
    int64_t *user_off; /* interactions grouped by user, file order within */
    int64_t *order;    /* positions into x arrays; NULL: x is grouped already (loo_at) */
    int64_t *held;     /* per user: position held out for test, or -1 */
    int64_t *held2;    /* per user: position held out for validation, or -1 */
} loo_split;

static void loo_free(loo_split *s)
{
    free(s->user_off);
    free(s->order);
    free(s->held);
    free(s->held2);
}

/* The position in x of the k-th interaction in user order. */
static inline int64_t loo_at(const loo_split *s, int64_t k) { return s->order ? s->order[k] : k; }

/* 1 when x's users never decrease from one interaction to the next, and
 * then user_off (n_users + 1) set: a file whose lines come user by user
 * (users are indexed by first appearance, so their runs come in index
 * order) is grouped by user as it is. */
static int grouped_by_user(const ncf_interactions *x, int32_t n_users, int64_t *user_off)
{
    int32_t last = -1; /* users [0, last] have their starts */
    for (int64_t k = 0; k < x->n; k++) {
        const int32_t u = x->user[k];
        if (u == last) continue;
        if (u < last) return 0;
        while (last < u) user_off[++last] = k;
    }
    while (last < n_users) user_off[++last] = x->n;
    return 1;
}

/* Latest interaction of user u's group (ties: the later line), skipping
 * position `skip`; -1 when none. */
static int64_t latest(const ncf_interactions *x, const loo_split *s, int32_t u, int64_t skip)
{
    int64_t best = -1;
    for (int64_t k = s->user_off[u]; k < s->user_off[u + 1]; k++) {
        int64_t p = loo_at(s, k);
        if (p == skip) continue;
        if (best < 0 || x->time[p] > x->time[best] || (x->time[p] == x->time[best] && x->line[p] > x->line[best]))
            best = p;
    }
    return best;
}

/* Groups x (users 0..n_users-1) by user and picks the held-out positions: test (users with 2+
 * interactions) when `test`, validation (users with 3+, or 2+ without a
 * test hold-out) when `validation`. */
static ncf_status loo_build(const ncf_interactions *x, int32_t n_users, int test, int validation, loo_split *s)
{
    memset(s, 0, sizeof *s);
    s->n_users = n_users;
    s->user_off = malloc(((size_t)s->n_users + 1) * sizeof *s->user_off);
    s->held = malloc(((size_t)s->n_users + 1) * sizeof *s->held);
    s->held2 = malloc(((size_t)s->n_users + 1) * sizeof *s->held2);
    if (!s->user_off || !s->held || !s->held2) {
        loo_free(s);
        return NCF_ERR_NOMEM;
    }
    if (!grouped_by_user(x, s->n_users, s->user_off) &&
        (!(s->order = ncf_big_alloc_((size_t)(x->n ? x->n : 1) * sizeof *s->order)) ||
         ncf_group_by_key_(x->user, NULL, x->n, s->n_users, NULL, NULL, s->order, s->user_off) != 0)) {
        loo_free(s);
        return NCF_ERR_NOMEM;
    }
#pragma omp parallel for schedule(dynamic, 1024) if (s->n_users > 10000)
    for (int32_t u = 0; u < s->n_users; u++) {
        int64_t n = s->user_off[u + 1] - s->user_off[u];
        s->held[u] = test && n >= 2 ? latest(x, s, u, -1) : -1;
        int64_t left = n - (s->held[u] >= 0);
        s->held2[u] = validation && left >= 2 ? latest(x, s, u, s->held[u]) : -1;
    }
    return NCF_OK;
}

/* Cases from the per-user held-out positions (users in increasing order). */
static ncf_status cases_from_held(const ncf_interactions *x, const loo_split *s, const int64_t *held, ncf_cases *c)
{
    int32_t n = 0;
    for (int32_t u = 0; u < s->n_users; u++) n += held[u] >= 0;
    if (cases_alloc(c, n, 0) != NCF_OK) return NCF_ERR_NOMEM;
    int32_t k = 0;
    for (int32_t u = 0; u < s->n_users; u++)
        if (held[u] >= 0) {
            c->users[k] = u;
            c->items[k++] = x->item[held[u]];
        }
    return NCF_OK;
}

static int csr_from_pairs(ncf_dataset *ds, const int32_t *user, const int32_t *item, int64_t n);

/* Sorts each user's items (all below bound) of a CSR in place, users in
 * parallel. */
static void csr_sort(const int64_t *off, int32_t *items, int32_t n_users, int32_t bound)
{
#pragma omp parallel if (n_users > 1000)
    {
        uint64_t *bits = calloc((size_t)bound / 64 + 1, sizeof *bits); /* NULL: ncf_sort_ids_ sorts without */
#pragma omp for schedule(dynamic, 256)
        for (int32_t u = 0; u < n_users; u++) ncf_sort_ids_(items + off[u], off[u + 1] - off[u], bound, bits);
        free(bits);
    }
}

/* Sorts each user's items of the CSR (off, items) over ds->n_users users
 * (all below bound) and makes it ds's training CSR, freeing the old one. */
static void csr_install(ncf_dataset *ds, int64_t *off, int32_t *items, int32_t bound)
{
    csr_sort(off, items, ds->n_users, bound);
    free(ds->train_offsets);
    free(ds->train_items);
    ds->train_offsets = off;
    ds->train_items = items;
    ds->n_train = off[ds->n_users];
}

/* Sets ds's training CSR (ds->n_users set) to the pairs of x that s does
 * not hold out, each user's items in increasing order: s has them grouped
 * by user already. 0, or -1 out of memory. */
static int csr_from_split(ncf_dataset *ds, const ncf_interactions *x, const loo_split *s)
{
    int64_t *off = malloc(((size_t)ds->n_users + 1) * sizeof *off);
    if (!off) return -1;
    off[0] = 0;
    for (int32_t u = 0; u < ds->n_users; u++)
        off[u + 1] = off[u] + (s->user_off[u + 1] - s->user_off[u]) - (s->held[u] >= 0) - (s->held2[u] >= 0);
    int32_t *items = ncf_big_alloc_(((size_t)off[ds->n_users] + 1) * sizeof *items);
    if (!items) {
        free(off);
        return -1;
    }
#pragma omp parallel for schedule(dynamic, 256) if (ds->n_users > 1000)
    for (int32_t u = 0; u < ds->n_users; u++) {
        int64_t w = off[u];
        for (int64_t k = s->user_off[u]; k < s->user_off[u + 1]; k++) {
            const int64_t p = loo_at(s, k);
            if (p != s->held[u] && p != s->held2[u]) items[w++] = x->item[p];
        }
    }
    csr_install(ds, off, items, ds->n_items); /* x's items are below ds->n_items */
    return 0;
}

/* The test cases' and then the validation cases' evaluation negatives,
 * each set avoiding the other's items too. */
static ncf_status draw_all_negatives(ncf_dataset *ds, int n_negatives, uint64_t seed)
{
    if (draw_case_negatives(ds, &ds->test, &ds->valid, n_negatives, seed, NCF_STREAM_TEST_NEGATIVES) != NCF_OK ||
        draw_case_negatives(ds, &ds->valid, &ds->test, n_negatives, seed, NCF_STREAM_VALID_NEGATIVES) != NCF_OK)
        return NCF_ERR_NOMEM;
    ds->negatives_drawn = 1;
    return NCF_OK;
}

/* The dataset of x: held-out cases as loo_build picked them (none when
 * neither test nor validation), everything else training; no negatives
 * drawn yet. The split itself goes to *keep when keep is not NULL (the
 * caller frees it), else it is freed here. */
static ncf_status dataset_from_split(const ncf_interactions *x, int test, int validation, ncf_dataset **out,
                                     loo_split *keep, ncf_err *err)
{
    loo_split s;
    if (loo_build(x, ncf_idmap_size(x->users), test, validation, &s) != NCF_OK) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    ncf_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) goto nomem;
    ds->n_users = s.n_users;
    ds->n_items = ncf_idmap_size(x->items);
    if (ncf_idmap_clone(x->users, &ds->user_ids) != NCF_OK || ncf_idmap_clone(x->items, &ds->item_ids) != NCF_OK)
        goto nomem;
    if (csr_from_split(ds, x, &s) != 0) goto nomem; /* training pairs: everything not held out */
    if (cases_from_held(x, &s, s.held, &ds->test) != NCF_OK || cases_from_held(x, &s, s.held2, &ds->valid) != NCF_OK)
        goto nomem;
    if (keep) *keep = s;
    else loo_free(&s);
    *out = ds;
    return NCF_OK;
nomem:
    loo_free(&s);
    ncf_dataset_free(ds);
    return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory building the split");
}

/* ncf_dataset_from_interactions, handing the split to *keep when not NULL
 * (ncf split writes its held-out lines from it). */
static ncf_status from_interactions(const ncf_interactions *x, int n_negatives, int validation, uint64_t seed,
                                    ncf_dataset **out, loo_split *keep, ncf_err *err)
{
    if (n_negatives < 0) return ncf_fail_(err, NCF_ERR_ARG, "negative count must be >= 0");
    ncf_dataset *ds = NULL;
    ncf_status st = dataset_from_split(x, 1, validation, &ds, keep, err);
    if (st != NCF_OK) return st;
    if (draw_all_negatives(ds, n_negatives, seed) != NCF_OK) {
        ncf_dataset_free(ds);
        if (keep) loo_free(keep);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory building the split");
    }
    *out = ds;
    return NCF_OK;
}

ncf_status ncf_dataset_from_interactions(const ncf_interactions *x, int n_negatives, int validation, uint64_t seed,
                                         ncf_dataset **out, ncf_err *err)
{
    return from_interactions(x, n_negatives, validation, seed, out, NULL, err);
}

/* ---- ncf split: write the leave-one-out split in the NCF format ------------ */
enum { SPLIT_TRAIN, SPLIT_TEST, SPLIT_NEG, SPLIT_UMAP, SPLIT_IMAP, SPLIT_VALID, SPLIT_VNEG, SPLIT_FILES };
static const char *split_suffix[SPLIT_FILES] = {".train.rating", ".test.rating", ".test.negative", ".user.map",
                                                ".item.map", ".valid.rating", ".valid.negative"};

/* Text of the split's files, formatted in parallel and written in order:
 * blocks of lines, ROUND_BLOCKS of them formatted at a time, each into a
 * buffer of its own sized by a bound of its lines, and written one after
 * another by one thread while the others format the next round (so the
 * memory held is two rounds', not a file's). */
#define ROUND_BLOCKS 16
#define BLOCK_LINES 65536

/* Writes v in decimal at p; returns the end. */
static char *put_int(char *p, int64_t v)
{
    char tmp[24];
    int n = 0;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do tmp[n++] = (char)('0' + u % 10);
    while (u /= 10);
    if (v < 0) *p++ = '-';
    while (n) *p++ = tmp[--n];
    return p;
}

/* "%d\t%d\t%.9g\t%lld\n" of interaction k (at most RATING_LINE_MAX bytes). */
#define RATING_LINE_MAX 80
static char *put_rating_line(char *p, const ncf_interactions *x, int64_t k)
{
    p = put_int(p, x->user[k]);
    *p++ = '\t';
    p = put_int(p, x->item[k]);
    *p++ = '\t';
    const double r = (double)x->rating[k];
    if (r == (double)(int64_t)r && r > -1e9 && r < 1e9 && !(r == 0 && signbit(r))) {
        p = put_int(p, (int64_t)r); /* what %.9g writes for an integer of at most 9 digits */
    } else {
        p += snprintf(p, 32, "%.9g", r);
    }
    *p++ = '\t';
    p = put_int(p, x->time[k]);
    *p++ = '\n';
    return p;
}

/* One block of a split file: training lines of users [b, e), or case lines [b, e). */
typedef struct split_text {
    const ncf_interactions *x;
    const loo_split *s;
    const ncf_cases *c;     /* cases (NULL: training lines) */
    const int64_t *held;    /* the cases' held-out positions, per user */
    int negatives;          /* the cases' .negative lines, else their .rating lines */
    const int64_t *starts;  /* n_blocks + 1 block starts */
} split_text;

static size_t block_bound(const split_text *t, int64_t b, int64_t e)
{
    if (!t->c) return (size_t)(t->s->user_off[e] - t->s->user_off[b]) * RATING_LINE_MAX + 1;
    if (!t->negatives) return (size_t)(e - b) * RATING_LINE_MAX + 1;
    return (size_t)(e - b) * 26 + (size_t)(t->c->neg_offsets[e] - t->c->neg_offsets[b]) * 12 + 1;
}

static char *block_text(const split_text *t, int64_t b, int64_t e, char *p)
{
    const ncf_interactions *x = t->x;
    if (!t->c) {
        const loo_split *s = t->s;
        for (int64_t u = b; u < e; u++)
            for (int64_t k = s->user_off[u]; k < s->user_off[u + 1]; k++)
                if (loo_at(s, k) != s->held[u] && loo_at(s, k) != s->held2[u]) p = put_rating_line(p, x, loo_at(s, k));
        return p;
    }
    const ncf_cases *c = t->c;
    for (int64_t k = b; k < e; k++) {
        const int32_t u = c->users[k];
        if (!t->negatives) {
            p = put_rating_line(p, x, t->held[u]);
            continue;
        }
        *p++ = '(';
        p = put_int(p, u);
        *p++ = ',';
        p = put_int(p, c->items[k]);
        *p++ = ')';
        for (int64_t q = c->neg_offsets[k]; q < c->neg_offsets[k + 1]; q++) {
            *p++ = '\t';
            p = put_int(p, c->negs[q]);
        }
        *p++ = '\n';
    }
    return p;
}

/* Writes the blocks [starts[j], starts[j + 1]) of t to f in order. 0, or -1
 * out of memory (errors of f are the stream's). */
static int write_text(FILE *f, const split_text *t, int64_t n_blocks)
{
    char *buf[2][ROUND_BLOCKS] = {{0}};
    size_t cap[2][ROUND_BLOCKS] = {{0}}, len[2][ROUND_BLOCKS];
    int failed = 0, n_prev = 0;
    const int64_t n_rounds = (n_blocks + ROUND_BLOCKS - 1) / ROUND_BLOCKS;
    /* round r is formatted into buffer set r % 2 while round r - 1 is written from the other */
    for (int64_t r = 0; r <= n_rounds && !failed; r++) {
        const int64_t first = r * ROUND_BLOCKS;
        const int n = r == n_rounds ? 0 : (int)(n_blocks - first < ROUND_BLOCKS ? n_blocks - first : ROUND_BLOCKS);
        char **out = buf[r & 1], **prev = buf[(r & 1) ^ 1];
        size_t *out_cap = cap[r & 1], *out_len = len[r & 1], *prev_len = len[(r & 1) ^ 1];
#pragma omp parallel if (n > 1)
        {
#pragma omp single nowait
            for (int j = 0; j < n_prev; j++)
                if (prev_len[j]) fwrite(prev[j], 1, prev_len[j], f);
#pragma omp for schedule(dynamic, 1)
            for (int j = 0; j < n; j++) {
                const int64_t b = t->starts[first + j], e = t->starts[first + j + 1];
                const size_t need = block_bound(t, b, e);
                out_len[j] = 0;
                if (need > out_cap[j]) {
                    free(out[j]);
                    out_cap[j] = 0;
                    if (!(out[j] = malloc(need))) {
#pragma omp atomic write
                        failed = 1;
                        continue;
                    }
                    out_cap[j] = need;
                }
                out_len[j] = (size_t)(block_text(t, b, e, out[j]) - out[j]);
            }
        }
        n_prev = n;
    }
    for (int s = 0; s < 2; s++)
        for (int j = 0; j < ROUND_BLOCKS; j++) free(buf[s][j]);
    return failed ? -1 : 0;
}

/* Block starts over units [0, n) of about BLOCK_LINES lines each (unit u
 * has off[u + 1] - off[u] lines, or one when off is NULL); *n_blocks
 * receives their count. */
static int64_t *block_starts(int64_t n, const int64_t *off, int64_t *n_blocks)
{
    int64_t *st = malloc(((size_t)n + 2) * sizeof *st), k = 0;
    if (!st) return NULL;
    st[k++] = 0;
    int64_t lines = 0;
    for (int64_t u = 0; u < n; u++) {
        lines += off ? off[u + 1] - off[u] : 1;
        if (lines >= BLOCK_LINES && u + 1 < n) {
            st[k++] = u + 1;
            lines = 0;
        }
    }
    st[k] = n;
    *n_blocks = n ? k : 0;
    return st;
}

/* The held-out lines (.rating) and their negatives (.negative) of cases. */
static int write_cases(FILE *rating, FILE *negative, const ncf_interactions *x, const int64_t *held,
                       const ncf_cases *c)
{
    int64_t nb;
    int64_t *starts = block_starts(c->n, NULL, &nb);
    if (!starts) return -1;
    split_text t = {.x = x, .c = c, .held = held, .starts = starts};
    int rc = write_text(rating, &t, nb);
    t.negatives = 1;
    if (rc == 0) rc = write_text(negative, &t, nb);
    free(starts);
    return rc;
}

ncf_status ncf_split_write(const ncf_interactions *x, const char *prefix, int n_negatives, int validation,
                           uint64_t seed, ncf_err *err)
{
    ncf_dataset *ds = NULL;
    loo_split s; /* the split the dataset was built from: its held-out lines are written as they are */
    ncf_status st = from_interactions(x, n_negatives, validation, seed, &ds, &s, err);
    if (st != NCF_OK) return st;
    if (ds->test.n == 0) {
        ncf_dataset_free(ds);
        loo_free(&s);
        return ncf_fail_(err, NCF_ERR_EMPTY, "no user has two or more interactions: nothing to hold out");
    }
    const int n_files = validation ? SPLIT_FILES : SPLIT_VALID;
    ncf_outfile *o[SPLIT_FILES] = {0};
    FILE *f[SPLIT_FILES] = {0};
    char *paths[SPLIT_FILES] = {0};
    int ok = 1;
    for (int k = 0; k < n_files && ok; k++) {
        size_t n = strlen(prefix) + strlen(split_suffix[k]) + 1;
        paths[k] = malloc(n);
        if (!paths[k]) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
            ok = 0;
            break;
        }
        snprintf(paths[k], n, "%s%s", prefix, split_suffix[k]);
        if ((st = ncf_outfile_open(paths[k], &o[k], err)) != NCF_OK) {
            ok = 0;
            break;
        }
        f[k] = ncf_outfile_stream(o[k]);
    }
    if (ok) {
        int64_t nb;
        int64_t *starts = block_starts(s.n_users, s.user_off, &nb);
        split_text t = {.x = x, .s = &s, .starts = starts};
        if (!starts || write_text(f[SPLIT_TRAIN], &t, nb) != 0 ||
            write_cases(f[SPLIT_TEST], f[SPLIT_NEG], x, s.held, &ds->test) != 0 ||
            (validation && write_cases(f[SPLIT_VALID], f[SPLIT_VNEG], x, s.held2, &ds->valid) != 0)) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory writing the split");
            ok = 0;
        }
        free(starts);
        for (int32_t u = 0; u < ds->n_users; u++)
            fprintf(f[SPLIT_UMAP], "%d\t%s\n", u, ncf_idmap_raw(ds->user_ids, u));
        for (int32_t i = 0; i < ds->n_items; i++)
            fprintf(f[SPLIT_IMAP], "%d\t%s\n", i, ncf_idmap_raw(ds->item_ids, i));
    }
    /* Commit all files only when every one was written. */
    for (int k = 0; k < n_files; k++)
        if (f[k] && (fflush(f[k]) != 0 || ferror(f[k]))) {
            if (ok) st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", paths[k], strerror(errno));
            ok = 0;
        }
    for (int k = 0; k < n_files; k++) {
        if (!o[k]) continue;
        ncf_status cs = ncf_outfile_close(o[k], ok, ok ? err : NULL);
        if (cs != NCF_OK && ok) {
            st = cs;
            ok = 0;
            for (int j = 0; j < k; j++) remove(paths[j]); /* undo the renamed ones */
        }
    }
    for (int k = 0; k < SPLIT_FILES; k++) free(paths[k]);
    loo_free(&s);
    ncf_dataset_free(ds);
    return ok ? NCF_OK : st;
}

/* Sets ds's training CSR (ds->n_users must be set) from n (user, item)
 * pairs, skipping pairs with a negative user or item; items sorted per
 * user. Returns 0, or -1 out of memory. */
static int csr_from_pairs(ncf_dataset *ds, const int32_t *user, const int32_t *item, int64_t n)
{
    int32_t bound = ds->n_items;
    for (int64_t k = 0; k < n; k++)
        if (item[k] >= bound) bound = item[k] + 1; /* (callers' items are below ds->n_items) */
    int64_t *off = malloc(((size_t)ds->n_users + 1) * sizeof *off);
    int32_t *items = ncf_big_alloc_(((size_t)n + 1) * sizeof *items);
    if (!off || !items || ncf_group_by_key_(user, item, n, ds->n_users, item, items, NULL, off) != 0) {
        free(off);
        free(items);
        return -1;
    }
    csr_install(ds, off, items, bound);
    return 0;
}

/* ---- loading the NCF authors' format --------------------------------------- */
static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *s = malloc(n);
    if (s) snprintf(s, n, "%s%s", a, b);
    return s;
}

static int file_exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Reads PREFIX.user.map / .item.map ("index TAB raw", indices 0..n-1 in order). */
static ncf_status read_map(const char *path, int32_t min_size, ncf_idmap **out, ncf_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return ncf_fail_(err, NCF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ncf_idmap *m = NULL;
    ncf_status st = ncf_idmap_create(&m);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineno = 0;
    while (st == NCF_OK && (len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        char *tab = strchr(line, '\t');
        int64_t idx;
        if (!tab) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected 'index<TAB>raw id'", path, (long long)lineno);
            break;
        }
        *tab = '\0';
        if (ncf_parse_int64_(line, &idx) != 0 || idx != ncf_idmap_size(m)) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected index %d, found '%s'", path,
                           (long long)lineno, ncf_idmap_size(m), line);
            break;
        }
        int32_t got;
        st = ncf_idmap_add(m, tab + 1, strlen(tab + 1), &got);
        if (st == NCF_OK && got != idx)
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: raw id '%s' repeated", path, (long long)lineno, tab + 1);
    }
    free(line);
    fclose(f);
    if (st == NCF_OK && ncf_idmap_size(m) < min_size)
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: has %d ids, the data uses %d", path, ncf_idmap_size(m), min_size);
    if (st != NCF_OK) {
        ncf_idmap_free(m);
        return st;
    }
    *out = m;
    return NCF_OK;
}

typedef struct neg_list {
    int32_t user, item;
    int64_t off, n; /* negs[off .. off + n) */
    int64_t line;   /* 1-based line in the file */
} neg_list;

/* One chunk of a .negative file: its lines parsed into lists and ids of
 * its own (line numbers the file's, from first_line on). */
typedef struct neg_chunk {
    const char *b, *e;  /* whole lines */
    int64_t first_line; /* the file's number of its first line */
    neg_list *L;
    int32_t *N;
    int64_t nl, nn;
    ncf_status st;      /* NCF_OK, or the first bad line's error (in err) */
    ncf_err err;
} neg_chunk;

/* Parses line (NUL-terminated, as getline gives it), number lineno of
 * path, appending its list to c. */
static ncf_status negative_line(const char *path, char *line, ssize_t len, int64_t lineno, neg_chunk *c,
                                int64_t *cl, int64_t *cn, ncf_err *err)
{
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    if (len == 0) return NCF_OK;
    char *p = line, *end;
    long long u, i;
    if (*p != '(') goto bad_head;
    p++;
    errno = 0;
    u = strtoll(p, &end, 10);
    if (end == p || *end != ',' || u < 0 || u >= INT32_MAX || errno) goto bad_head;
    p = end + 1;
    i = strtoll(p, &end, 10);
    if (end == p || *end != ')' || i < 0 || i >= INT32_MAX || errno) goto bad_head;
    p = end + 1;
    if (c->nl == *cl) {
        *cl = *cl ? *cl * 2 : 4096;
        neg_list *t = realloc(c->L, (size_t)*cl * sizeof *c->L);
        if (!t) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
        c->L = t;
    }
    neg_list *l = &c->L[c->nl];
    l->user = (int32_t)u;
    l->item = (int32_t)i;
    l->off = c->nn;
    l->line = lineno;
    int field = 1;
    while (*p) {
        if (*p != '\t' && *p != ' ')
            return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a tab before the next item id", path,
                             (long long)lineno, field + 1);
        while (*p == '\t' || *p == ' ') p++;
        if (!*p) break;
        field++;
        long long j = strtoll(p, &end, 10);
        if (end == p || (*end && *end != '\t' && *end != ' ') || j < 0 || j >= INT32_MAX)
            return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id (non-negative integer)",
                             path, (long long)lineno, field);
        if (c->nn == *cn) {
            *cn = *cn ? *cn * 2 : 65536;
            int32_t *t = realloc(c->N, (size_t)*cn * sizeof *c->N);
            if (!t) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
            c->N = t;
        }
        c->N[c->nn++] = (int32_t)j;
        p = end;
    }
    l->n = c->nn - l->off;
    c->nl++;
    return NCF_OK;
bad_head:
    return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected '(user,item)' as the first field", path,
                     (long long)lineno);
}

/* Parses PREFIX.test.negative: "(user,item)<TAB>neg<TAB>neg...". The ids
 * are only checked to be non-negative integers below INT32_MAX here: they
 * never size the item tables (check_negatives bounds them once the items
 * are known). The file is cut into chunks of whole lines parsed in
 * parallel, each line as getline would give it; the first bad line's
 * error wins, as in one pass. */
static ncf_status read_negatives(const char *path, neg_list **lists, int64_t *n_lists, int32_t **negs,
                                 int64_t *n_negs, ncf_err *err)
{
    rd_text t;
    ncf_status st = rd_text_open_(path, &t, err);
    if (st != NCF_OK) return st;
    int want = 1;
#ifdef _OPENMP
    want = 4 * omp_get_max_threads();
#endif
    if ((size_t)want > t.n / (1u << 20) + 1) want = (int)(t.n / (1u << 20)) + 1; /* chunks of 1 MB at least */
    neg_chunk *c = calloc((size_t)want, sizeof *c);
    if (!c) {
        rd_text_close_(&t);
        return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
    }
    int n_chunks = 0;
    for (const char *b = t.p, *end = t.p + t.n; b < end && n_chunks < want; n_chunks++) {
        const char *e = n_chunks == want - 1 ? end : t.p + (size_t)((double)t.n * (n_chunks + 1) / want);
        if (e < b) e = b;
        if (e < end) {
            const char *nl = e > b ? memchr(e - 1, '\n', (size_t)(end - (e - 1))) : memchr(b, '\n', (size_t)(end - b));
            e = nl ? nl + 1 : end;
        }
        c[n_chunks].b = b;
        c[n_chunks].e = e;
        b = e;
    }
    /* each chunk's first line number: its lines counted, then summed in order */
#pragma omp parallel for schedule(dynamic, 1) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++) {
        int64_t n = 0;
        for (const char *p = c[k].b; (p = memchr(p, '\n', (size_t)(c[k].e - p))) != NULL; p++) n++;
        c[k].first_line = n + (c[k].e > c[k].b && c[k].e[-1] != '\n'); /* a last line without its newline */
    }
    for (int64_t k = 0, line = 1; k < n_chunks; k++) {
        const int64_t lines = c[k].first_line;
        c[k].first_line = line;
        line += lines;
    }
#pragma omp parallel for schedule(dynamic, 1) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++) {
        rd_text part = {.p = c[k].b, .n = (size_t)(c[k].e - c[k].b)};
        size_t pos = 0, cap = 0;
        char *line = NULL;
        int64_t cl = 0, cn = 0;
        ssize_t len;
        for (int64_t lineno = c[k].first_line; (len = rd_getline_(&part, &pos, &line, &cap)) != -1; lineno++) {
            c[k].st = len < 0 ? ncf_fail_(&c[k].err, NCF_ERR_NOMEM, "%s: out of memory", path)
                              : negative_line(path, line, len, lineno, &c[k], &cl, &cn, &c[k].err);
            if (c[k].st != NCF_OK) break;
        }
        free(line);
    }
    rd_text_close_(&t);
    int64_t nl = 0, nn = 0;
    for (int k = 0; k < n_chunks && st == NCF_OK; k++) {
        if (c[k].st != NCF_OK) {
            st = c[k].st;
            if (err) *err = c[k].err;
        }
        nl += c[k].nl;
        nn += c[k].nn;
    }
    neg_list *L = NULL; /* NULL when there are no lists (no ids): as for an empty file */
    int32_t *N = NULL;
    if (st == NCF_OK && ((nl && !(L = malloc((size_t)nl * sizeof *L))) || (nn && !(N = malloc((size_t)nn * sizeof *N)))))
        st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
    if (st == NCF_OK) { /* the chunks' lists and ids in order, each list's offset made the file's */
        int64_t at = 0, atn = 0;
        for (int k = 0; k < n_chunks; k++) {
            for (int64_t j = 0; j < c[k].nl; j++) {
                L[at + j] = c[k].L[j];
                L[at + j].off += atn;
            }
            if (c[k].nn) memcpy(N + atn, c[k].N, (size_t)c[k].nn * sizeof *N);
            at += c[k].nl;
            atn += c[k].nn;
        }
    }
    for (int k = 0; k < n_chunks; k++) {
        free(c[k].L);
        free(c[k].N);
    }
    free(c);
    if (st != NCF_OK) {
        free(L);
        free(N);
        return st;
    }
    *lists = L;
    *n_lists = nl;
    *negs = N;
    *n_negs = nn;
    return NCF_OK;
}

/* One held-out file pair, PREFIX.<what>.rating and PREFIX.<what>.negative. */
typedef struct held_file {
    ncf_interactions *x; /* NULL: no .rating file */
    neg_list *lists;     /* NULL: no .negative file */
    int32_t *negs;
    int64_t n_lists, n_negs;
    char *neg_path;      /* the .negative file's path, for errors */
} held_file;

static void held_free(held_file *h)
{
    ncf_interactions_free(h->x);
    free(h->lists);
    free(h->negs);
    free(h->neg_path);
    memset(h, 0, sizeof *h);
}

/* Reads one held-out file pair; the .rating file's ids raise *mu / *mi, the
 * .negative file's do not (see check_negatives). */
static ncf_status read_held(const char *prefix, const char *what, const ncf_read_options *ro, held_file *h,
                            int32_t *mu, int32_t *mi, ncf_err *err)
{
    memset(h, 0, sizeof *h);
    char rating[32], negative[32];
    snprintf(rating, sizeof rating, ".%s.rating", what);
    snprintf(negative, sizeof negative, ".%s.negative", what);
    char *p_rating = join(prefix, rating), *p_neg = join(prefix, negative);
    ncf_status st = NCF_OK;
    if (!p_rating || !p_neg) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        goto done;
    }
    ncf_read_options rt = *ro;
    rt.use_min_rating = 0; /* the held-out item is the case whatever its rating */
    if (file_exists(p_rating)) {
        st = ncf_read_interactions_(p_rating, &rt, 1, &h->x, mu, mi, err);
        if (st != NCF_OK) goto done;
    }
    if (file_exists(p_neg)) {
        st = read_negatives(p_neg, &h->lists, &h->n_lists, &h->negs, &h->n_negs, err);
        if (st != NCF_OK) goto done;
        if (!(h->neg_path = strdup(p_neg))) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
            goto done;
        }
        if (!h->x || h->n_lists != h->x->n) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: has %lld lines, %s has %lld cases", p_neg, (long long)h->n_lists,
                           p_rating, (long long)(h->x ? h->x->n : 0));
            goto done;
        }
        for (int64_t k = 0; k < h->n_lists; k++)
            if (h->lists[k].user != h->x->user[k] || h->lists[k].item != h->x->item[k]) {
                st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: (%d,%d) does not match %s line %lld (%d,%d)", p_neg,
                               (long long)k + 1, h->lists[k].user, h->lists[k].item, p_rating,
                               (long long)h->x->line[k], h->x->user[k], h->x->item[k]);
                goto done;
            }
    }
done:
    free(p_rating);
    free(p_neg);
    if (st != NCF_OK) held_free(h);
    return st;
}

/* The largest item id the negatives files may extend the items to, beyond
 * max_rated (the largest item id of the .rating files): the NCF authors'
 * files list as negatives items that no rating names (ML-1M's last items),
 * always as a range without holes. Returns max_rated raised through every
 * id max_rated + 1, max_rated + 2, ... that some list names, up to the
 * first id none names: an id further on is not taken as an item (it is
 * refused by check_negatives). -2 when out of memory. */
static int64_t negatives_extent(const held_file *const *h, int n_h, int32_t max_rated)
{
    int64_t n = 0;
    for (int k = 0; k < n_h; k++)
        for (int64_t q = 0; q < h[k]->n_negs; q++) n += h[k]->negs[q] > max_rated;
    if (n == 0) return max_rated;
    int32_t *above = malloc((size_t)n * sizeof *above);
    if (!above) return -2;
    n = 0;
    for (int k = 0; k < n_h; k++)
        for (int64_t q = 0; q < h[k]->n_negs; q++)
            if (h[k]->negs[q] > max_rated) above[n++] = h[k]->negs[q];
    qsort(above, (size_t)n, sizeof *above, cmp_i32);
    int64_t e = max_rated;
    for (int64_t q = 0; q < n && above[q] <= e + 1; q++) e = above[q];
    free(above);
    return e;
}

/* Every listed negative of h must be an item of the data (below n_items);
 * else a FORMAT error naming the file, line, field and id. */
static ncf_status check_negatives(const held_file *h, int32_t n_items, ncf_err *err)
{
    for (int64_t k = 0; k < h->n_lists; k++)
        for (int64_t q = h->lists[k].off; q < h->lists[k].off + h->lists[k].n; q++)
            if (h->negs[q] >= n_items)
                return ncf_fail_(err, NCF_ERR_FORMAT,
                                 "%s:%lld: field %lld: item id %d is not an item of the data (item ids 0..%d)",
                                 h->neg_path, (long long)h->lists[k].line, (long long)(q - h->lists[k].off + 2),
                                 h->negs[q], n_items - 1);
    return NCF_OK;
}

static const ncf_interactions *sort_x; /* for by_case_user: set and used under no concurrency */

static int by_case_user(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    int32_t ux = sort_x->user[x], uy = sort_x->user[y];
    if (ux != uy) return ux < uy ? -1 : 1;
    return (x > y) - (x < y);
}

/* Cases from a held-out file, sorted by user (file order within a user),
 * with the listed negatives when the file has them; *listed says so. */
static ncf_status cases_from_file(const held_file *h, ncf_cases *c, int *listed)
{
    const int64_t n = h->x ? h->x->n : 0;
    *listed = h->lists != NULL;
    if (cases_alloc(c, (int32_t)n, *listed ? h->n_negs : 0) != NCF_OK) return NCF_ERR_NOMEM;
    int64_t *order = malloc(((size_t)n + 1) * sizeof *order);
    if (!order) return NCF_ERR_NOMEM;
    for (int64_t k = 0; k < n; k++) order[k] = k;
    sort_x = h->x;
    if (n) qsort(order, (size_t)n, sizeof *order, by_case_user);
    sort_x = NULL;
    int64_t w = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t p = order[k];
        c->users[k] = h->x->user[p];
        c->items[k] = h->x->item[p];
        if (*listed && h->lists[p].n > 0) { /* a line may list none (ncf split --negatives 0): negs may be NULL */
            memcpy(c->negs + w, h->negs + h->lists[p].off, (size_t)h->lists[p].n * sizeof *c->negs);
            w += h->lists[p].n;
        }
        c->neg_offsets[k + 1] = w;
    }
    free(order);
    return NCF_OK;
}

/* The NCF format's bound on ids: below NCF_ID_SPAN x the pairs read plus
 * NCF_ID_SLACK (tables of at most 64 rows per interaction, or 65,536). */
#define NCF_ID_SPAN 64
#define NCF_ID_SLACK 65536

/* Sharded training on several processes (shards > 0): whether this
 * process may read only its users' training lines (readown.c). Needs the
 * held-out negatives listed in files (drawing them needs every user's
 * items) and no validation case carved from the training lines. The same
 * answer on every process (the same files). */
static int may_read_own(const char *prefix, const ncf_load_options *opt, int shards)
{
    if (shards <= 0 || ncf_dist_size_() == 1) return 0;
    char *tn = join(prefix, ".test.negative"), *vr = join(prefix, ".valid.rating");
    char *vn = join(prefix, ".valid.negative");
    const int ok = tn && vr && vn && file_exists(tn) && (file_exists(vr) ? file_exists(vn) : !opt->validation);
    free(tn), free(vr), free(vn);
    return ok;
}

/* The training CSR of the users own marks from ix (the others' items left
 * unwritten: their pages are never touched). */
static ncf_status csr_own(ncf_dataset *ds, own_index *ix, int shards, ncf_err *err)
{
    const int S = shards;
    int32_t *start = malloc(((size_t)S + 1) * sizeof *start);
    ds->train_offsets = malloc(((size_t)ds->n_users + 1) * sizeof *ds->train_offsets);
    ds->own_users = malloc((size_t)ds->n_users + 1);
    if (!start || !ds->train_offsets || !ds->own_users) {
        free(start);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    int64_t at = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        ds->train_offsets[u] = at;
        if (u < ix->n) at += ix->count[u];
    }
    ds->train_offsets[ds->n_users] = at;
    ds->n_train = at;
    ncf_shard_starts_(ds->train_offsets, ds->n_users, S, start);
    ncf_shard_own_(start, ds->n_users, S, ncf_dist_size_(), ncf_dist_rank_(), ds->own_users);
    free(start);
    ds->own_shards = S;
    ds->train_items = malloc(((size_t)at + 1) * sizeof *ds->train_items); /* not written but where owned */
    if (!ds->train_items) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    const ncf_status st = ncf_own_fill_(ix, ds->train_offsets, ds->own_users, ds->train_items, err);
    ds->lines_read = ix->lines;
    return st;
}

static ncf_status load_ncf(const char *prefix, const ncf_load_options *opt, int shards, ncf_dataset **out,
                           ncf_err *err)
{
    ncf_status st = NCF_OK;
    ncf_interactions *tr = NULL;
    own_index ix = {0};
    held_file te = {0}, va = {0};
    loo_split carve = {0};
    ncf_dataset *ds = NULL;
    int32_t *pu = NULL;
    char *p_train = join(prefix, ".train.rating"), *p_umap = join(prefix, ".user.map");
    char *p_imap = join(prefix, ".item.map");
    if (!p_train || !p_umap || !p_imap) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        goto done;
    }
    ncf_read_options ro = opt->read;
    ro.on_layout = NULL; /* the layout is the format's, not guessed */
    ro.format = NCF_FORMAT_DELIMITED;
    ro.sep = "\t";
    ro.header = 0;
    ro.user_col = 0;
    ro.item_col = 1;
    ro.rating_col = -2;
    ro.time_col = -2;
    int32_t mu = -1, mi = -1;
    int64_t n_pairs = 0;
    if (may_read_own(prefix, opt, shards)) { /* the index of the file, then (below) one's users' lines */
        if ((st = ncf_own_index_(p_train, &ro, NCF_ID_SPAN, NCF_ID_SLACK, &ix, err)) != NCF_OK) goto done;
        if (!ix.sorted) ncf_own_index_free_(&ix); /* not sorted by user: read whole, below */
        mu = ix.max_user;
        mi = ix.max_item;
        for (int32_t u = 0; u < ix.n; u++) n_pairs += ix.count[u];
    }
    if (!ix.sorted) {
        mu = mi = -1;
        if ((st = ncf_read_interactions_(p_train, &ro, 1, &tr, &mu, &mi, err)) != NCF_OK) goto done;
        n_pairs = tr->n;
    }
    if (n_pairs == 0) {
        st = ncf_fail_(err, NCF_ERR_EMPTY, "%s: no training interactions", p_train);
        goto done;
    }
    if ((st = read_held(prefix, "test", &ro, &te, &mu, &mi, err)) != NCF_OK) goto done;
    if ((st = read_held(prefix, "valid", &ro, &va, &mu, &mi, err)) != NCF_OK) goto done;
    /* An id is a row number in this format: one far beyond the pairs read
     * would size the tables (and the identity id maps, ~30 bytes a row) by
     * the id instead of the data, 25 GB for a 150-byte file naming id 10^9.
     * Sparse id ranges up to NCF_ID_SPAN rows per pair pass. */
    const int64_t pairs = n_pairs + (te.x ? te.x->n : 0) + (va.x ? va.x->n : 0);
    const int64_t span = NCF_ID_SPAN * pairs + NCF_ID_SLACK;
    if ((int64_t)mu >= span || (int64_t)mi >= span) {
        st = ncf_fail_(err, NCF_ERR_FORMAT,
                       "%s: %s id %d is far beyond the %lld interactions read (ids up to %lld are accepted): the NCF "
                       "format uses an id as a row number, so the tables would have %d rows; give data with sparse "
                       "or raw ids as one delimited file (--format delimited), which maps ids",
                       p_train, (int64_t)mu >= span ? "user" : "item", (int64_t)mu >= span ? mu : mi,
                       (long long)pairs, (long long)span - 1, ((int64_t)mu >= span ? mu : mi) + 1);
        goto done;
    }
    ds = calloc(1, sizeof *ds);
    if (!ds) goto nomem;
    ds->n_users = mu + 1;
    ds->n_items = mi + 1; /* the rated items; the item map or the negatives may add more */
    if (file_exists(p_umap)) {
        st = read_map(p_umap, ds->n_users, &ds->user_ids, err);
        if (st != NCF_OK) goto done;
        ds->n_users = ncf_idmap_size(ds->user_ids);
    } else if (ncf_idmap_identity_(ds->n_users, &ds->user_ids) != NCF_OK)
        goto nomem;
    if (file_exists(p_imap)) {
        st = read_map(p_imap, ds->n_items, &ds->item_ids, err);
        if (st != NCF_OK) goto done;
        ds->n_items = ncf_idmap_size(ds->item_ids);
    } else {
        const held_file *hs[2] = {&te, &va};
        int64_t e = negatives_extent(hs, 2, mi);
        if (e < -1) goto nomem;
        ds->n_items = (int32_t)e + 1;
        if (ncf_idmap_identity_(ds->n_items, &ds->item_ids) != NCF_OK) goto nomem;
    }
    if ((st = check_negatives(&te, ds->n_items, err)) != NCF_OK || (st = check_negatives(&va, ds->n_items, err)) != NCF_OK)
        goto done;
    int test_listed = 0, valid_listed = 0;
    if (cases_from_file(&te, &ds->test, &test_listed) != NCF_OK) goto nomem;
    if (va.x && cases_from_file(&va, &ds->valid, &valid_listed) != NCF_OK) goto nomem;
    if (ix.sorted) { /* listed negatives, no carving (may_read_own) */
        if ((st = csr_own(ds, &ix, shards, err)) != NCF_OK) goto done;
    } else if (va.x) {
        if (csr_from_pairs(ds, tr->user, tr->item, tr->n) != 0) goto nomem;
    } else if (opt->validation) { /* each user's latest training interaction becomes a validation case */
        if (loo_build(tr, ds->n_users, 0, 1, &carve) != NCF_OK || !(pu = malloc(((size_t)tr->n + 1) * sizeof *pu)))
            goto nomem;
        memcpy(pu, tr->user, (size_t)tr->n * sizeof *pu);
        for (int32_t u = 0; u < ds->n_users; u++)
            if (carve.held2[u] >= 0) pu[carve.held2[u]] = -1;
        if (csr_from_pairs(ds, pu, tr->item, tr->n) != 0 || cases_from_held(tr, &carve, carve.held2, &ds->valid) != NCF_OK)
            goto nomem;
    } else if (csr_from_pairs(ds, tr->user, tr->item, tr->n) != 0)
        goto nomem;
    if (!test_listed &&
        draw_case_negatives(ds, &ds->test, &ds->valid, opt->n_negatives, opt->seed, NCF_STREAM_TEST_NEGATIVES) != NCF_OK)
        goto nomem;
    if (!valid_listed &&
        draw_case_negatives(ds, &ds->valid, &ds->test, opt->n_negatives, opt->seed, NCF_STREAM_VALID_NEGATIVES) != NCF_OK)
        goto nomem;
    ds->negatives_drawn = !test_listed;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory loading %s", prefix);
done:
    free(p_train);
    free(p_umap);
    free(p_imap);
    free(pu);
    loo_free(&carve);
    ncf_own_index_free_(&ix);
    ncf_interactions_free(tr);
    held_free(&te);
    held_free(&va);
    if (st != NCF_OK) {
        ncf_dataset_free(ds);
        return st;
    }
    *out = ds;
    return NCF_OK;
}

/* ---- a training file and a separate test file ----------------------------- */
/* Every pair of x is training (less a validation case per user when asked);
 * every pair of opt->test_path, read with the same options, is a test case.
 * Raw ids the training file lacks are added to the maps (LightGCN's item
 * count is the largest id over train and test, too). */
static ncf_status load_with_test_file(const ncf_interactions *x, const ncf_load_options *opt, ncf_dataset **out,
                                      ncf_err *err)
{
    ncf_interactions *t = NULL;
    ncf_dataset *ds = NULL;
    ncf_status st = ncf_interactions_read(opt->test_path, &opt->read, &t, err);
    if (st != NCF_OK) return st;
    if (t->n == 0) {
        ncf_interactions_free(t);
        return ncf_fail_(err, NCF_ERR_EMPTY, "%s: no test interactions", opt->test_path);
    }
    st = dataset_from_split(x, 0, opt->validation, &ds, NULL, err);
    if (st != NCF_OK) {
        ncf_interactions_free(t);
        return st;
    }
    int32_t *tu = malloc((size_t)t->n * sizeof *tu), *ti = malloc((size_t)t->n * sizeof *ti);
    held_file h = {.x = t};
    int listed;
    if (!tu || !ti) goto nomem;
    for (int64_t k = 0; k < t->n; k++) {
        const char *ru = ncf_idmap_raw(t->users, t->user[k]), *ri = ncf_idmap_raw(t->items, t->item[k]);
        if (ncf_idmap_add(ds->user_ids, ru, strlen(ru), &tu[k]) != NCF_OK ||
            ncf_idmap_add(ds->item_ids, ri, strlen(ri), &ti[k]) != NCF_OK)
            goto nomem;
    }
    int32_t n_users = ncf_idmap_size(ds->user_ids);
    if (n_users > ds->n_users) { /* users only the test file names: no training rows */
        int64_t *off = realloc(ds->train_offsets, ((size_t)n_users + 1) * sizeof *off);
        if (!off) goto nomem;
        for (int32_t u = ds->n_users + 1; u <= n_users; u++) off[u] = off[ds->n_users];
        ds->train_offsets = off;
        ds->n_users = n_users;
    }
    ds->n_items = ncf_idmap_size(ds->item_ids);
    memcpy(t->user, tu, (size_t)t->n * sizeof *tu);
    memcpy(t->item, ti, (size_t)t->n * sizeof *ti);
    /* a test pair that is also a training pair is not a held-out item */
    int64_t w = 0;
    for (int64_t k = 0; k < t->n; k++) {
        if (ncf_dataset_has_train(ds, t->user[k], t->item[k])) continue;
        t->user[w] = t->user[k];
        t->item[w] = t->item[k];
        t->line[w++] = t->line[k];
    }
    t->n = w;
    if (cases_from_file(&h, &ds->test, &listed) != NCF_OK) goto nomem;
    if (draw_all_negatives(ds, opt->n_negatives, opt->seed) != NCF_OK) goto nomem;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory loading %s", opt->test_path);
done:
    free(tu);
    free(ti);
    ncf_interactions_free(t);
    if (st != NCF_OK) {
        ncf_dataset_free(ds);
        return st;
    }
    *out = ds;
    return NCF_OK;
}

static ncf_status load(const char *path, const ncf_load_options *opt, int shards, ncf_dataset **out, ncf_err *err);

ncf_status ncf_dataset_load(const char *path, const ncf_load_options *opt, ncf_dataset **out, ncf_err *err)
{
    return load(path, opt, 0, out, err);
}

/* Keeps the training items of this process's users only (the others'
 * entries of a fresh array are never written), for data read whole. */
static ncf_status keep_own(ncf_dataset *ds, int shards, ncf_err *err)
{
    const int S = shards;
    int32_t *start = malloc(((size_t)S + 1) * sizeof *start);
    uint8_t *own = malloc((size_t)ds->n_users + 1);
    int32_t *items = malloc(((size_t)ds->n_train + 1) * sizeof *items);
    if (!start || !own || !items) {
        free(start), free(own), free(items);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    ncf_shard_starts_(ds->train_offsets, ds->n_users, S, start);
    ncf_shard_own_(start, ds->n_users, S, ncf_dist_size_(), ncf_dist_rank_(), own);
    for (int s = ncf_dist_rank_(); s < S; s += ncf_dist_size_()) {
        const int64_t b = ds->train_offsets[start[s]], e = ds->train_offsets[start[s + 1]];
        if (e > b) memcpy(items + b, ds->train_items + b, (size_t)(e - b) * sizeof *items);
    }
    free(start);
    free(ds->train_items);
    ds->train_items = items;
    ds->own_users = own;
    ds->own_shards = S;
    return NCF_OK;
}

ncf_status ncf_dataset_load_shards(const char *path, const ncf_load_options *opt, int shards, ncf_dataset **out,
                                   ncf_err *err)
{
    if (shards < 0) return ncf_fail_(err, NCF_ERR_ARG, "the shard count must be >= 0");
    if (shards == 0 || ncf_dist_size_() == 1) return ncf_dataset_load(path, opt, out, err);
    ncf_dataset *ds = NULL;
    ncf_status st = load(path, opt, shards, &ds, err);
    if (st == NCF_OK && !ds->own_users && (st = keep_own(ds, shards, err)) != NCF_OK) {
        ncf_dataset_free(ds);
        return st;
    }
    if (st == NCF_OK) *out = ds;
    return st;
}

static ncf_status load(const char *path, const ncf_load_options *opt, int shards, ncf_dataset **out, ncf_err *err)
{
    ncf_load_options def;
    if (!opt) {
        ncf_load_options_default(&def);
        opt = &def;
    }
    if (opt->n_negatives < 0) return ncf_fail_(err, NCF_ERR_ARG, "negative count must be >= 0");
    char *train = join(path, ".train.rating");
    if (!train) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    int is_ncf = opt->read.format == NCF_FORMAT_NCF ||
                 (opt->read.format == NCF_FORMAT_AUTO && file_exists(train));
    free(train);
    if (is_ncf) {
        if (opt->test_path)
            return ncf_fail_(err, NCF_ERR_ARG, "%s: a separate test file goes with a single interactions file, not the NCF format", path);
        return load_ncf(path, opt, shards, out, err);
    }
    if (!file_exists(path)) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            return ncf_fail_(err, NCF_ERR_IO, "%s: not a regular file", path);
        return ncf_fail_(err, NCF_ERR_IO, "%s: no such file (nor %s.train.rating)", path, path);
    }
    ncf_interactions *x = NULL;
    ncf_status st = ncf_interactions_read(path, &opt->read, &x, err);
    if (st != NCF_OK) return st;
    if (opt->test_path) st = load_with_test_file(x, opt, out, err);
    else st = ncf_dataset_from_interactions(x, opt->n_negatives, opt->validation, opt->seed, out, err);
    ncf_interactions_free(x);
    return st;
}

/* ---- expressing a dataset in another id space ------------------------------- */
static int32_t *index_translation(const ncf_idmap *from, const ncf_idmap *to)
{
    int32_t n = ncf_idmap_size(from);
    int32_t *map = malloc(((size_t)n + 1) * sizeof *map);
    if (!map) return NULL;
    for (int32_t k = 0; k < n; k++) {
        const char *raw = ncf_idmap_raw(from, k);
        map[k] = ncf_idmap_find(to, raw, strlen(raw));
    }
    return map;
}

/* dst = the cases of src whose user and item the translations know, with
 * the known negatives; *lost (may be NULL) counts the dropped cases. */
static ncf_status remap_cases(const ncf_cases *src, ncf_cases *dst, const int32_t *um, const int32_t *im, int32_t *lost)
{
    int64_t n_negs = src->n ? src->neg_offsets[src->n] : 0;
    if (cases_alloc(dst, src->n, n_negs) != NCF_OK) return NCF_ERR_NOMEM;
    int32_t c = 0, dropped = 0;
    int64_t w = 0;
    for (int32_t k = 0; k < src->n; k++) {
        int32_t u = um[src->users[k]], i = im[src->items[k]];
        if (u < 0 || i < 0) {
            dropped++;
            continue;
        }
        dst->users[c] = u;
        dst->items[c] = i;
        for (int64_t q = src->neg_offsets[k]; q < src->neg_offsets[k + 1]; q++)
            if (im[src->negs[q]] >= 0) dst->negs[w++] = im[src->negs[q]];
        dst->neg_offsets[++c] = w;
    }
    dst->n = c;
    if (lost) *lost = dropped;
    return NCF_OK;
}

ncf_status ncf_dataset_remap(const ncf_dataset *src, const ncf_idmap *users, const ncf_idmap *items,
                             ncf_dataset **out, int32_t *dropped, ncf_err *err)
{
    if (!users || !items) return ncf_fail_(err, NCF_ERR_ARG, "the model has no id maps");
    ncf_status st = NCF_OK;
    int32_t *um = index_translation(src->user_ids, users), *im = index_translation(src->item_ids, items);
    ncf_dataset *ds = calloc(1, sizeof *ds);
    if (!um || !im || !ds) goto nomem;
    ds->n_users = ncf_idmap_size(users);
    ds->n_items = ncf_idmap_size(items);
    if (ncf_idmap_clone(users, &ds->user_ids) != NCF_OK || ncf_idmap_clone(items, &ds->item_ids) != NCF_OK)
        goto nomem;
    /* training pairs in the target ids (-1: unknown there, dropped) */
    {
        int32_t *pu = malloc(((size_t)src->n_train + 1) * sizeof *pu), *pi = malloc(((size_t)src->n_train + 1) * sizeof *pi);
        int ok = pu && pi;
        for (int32_t u = 0; ok && u < src->n_users; u++)
            for (int64_t k = src->train_offsets[u]; k < src->train_offsets[u + 1]; k++) {
                pu[k] = um[u];
                pi[k] = im[src->train_items[k]];
            }
        ok = ok && csr_from_pairs(ds, pu, pi, src->n_train) == 0;
        free(pu);
        free(pi);
        if (!ok) goto nomem;
    }
    int32_t lost = 0;
    if (remap_cases(&src->test, &ds->test, um, im, &lost) != NCF_OK ||
        remap_cases(&src->valid, &ds->valid, um, im, NULL) != NCF_OK)
        goto nomem;
    ds->negatives_drawn = src->negatives_drawn;
    if (dropped) *dropped = lost;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
done:
    free(um);
    free(im);
    if (st != NCF_OK) {
        ncf_dataset_free(ds);
        return st;
    }
    *out = ds;
    return NCF_OK;
}
