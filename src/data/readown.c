/* readown.c — reading only one's users (own.h; docs/distributed.md): the
 * shard rule, and the two passes over an NCF training file sorted by user
 * by which each process of sharded training reads its slice of the file
 * (to learn every user's count and bytes, summed across processes) and
 * then the lines of its own users. It parses lines with the reader's
 * rules (reader_impl.h), so a line means what it means to the whole-file
 * reader; it does not read the held-out files or build the dataset
 * (dataset.c does, load_ncf). */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/own.h"
#include "dist/dist.h"

void ncf_shard_starts_(const int64_t *offsets, int32_t n_users, int S, int32_t *user_start)
{
    const int64_t n_train = offsets[n_users];
    int32_t u = 0;
    for (int s = 0; s < S; s++) {
        const int64_t want = n_train * s / S;
        while (u < n_users && offsets[u] < want) u++;
        user_start[s] = u;
    }
    user_start[S] = n_users;
}

void ncf_shard_own_(const int32_t *user_start, int32_t n_users, int S, int N, int rank, uint8_t *own)
{
    memset(own, 0, (size_t)n_users);
    for (int s = rank; s < S; s += N) memset(own + user_start[s], 1, (size_t)(user_start[s + 1] - user_start[s]));
}

/* ---- the file's lines -------------------------------------------------------- */
/* The first line start at or after b. */
static size_t line_start_at(const rd_text *t, size_t b)
{
    if (b >= t->n) return t->n;
    if (b == 0 || t->p[b - 1] == '\n') return b;
    const char *nl = memchr(t->p + b, '\n', t->n - b);
    return nl ? (size_t)(nl - t->p) + 1 : t->n;
}

/* The bytes of the first field of the line at b (up to a tab or the line's end). */
static size_t user_field(const rd_text *t, size_t b)
{
    size_t e = b;
    while (e < t->n && t->p[e] != '\t' && t->p[e] != '\n' && t->p[e] != '\r') e++;
    return e - b;
}

/* Where slice k of N starts: the k-th N-th of the data bytes moved to a
 * line start, then past every line whose first field is the previous
 * line's (a user's lines stay in one slice). The same on every process. */
static size_t cut(const rd_text *t, size_t pos0, int k, int N)
{
    if (k == 0) return pos0;
    if (k == N) return t->n;
    size_t b = line_start_at(t, pos0 + (size_t)((uint64_t)(t->n - pos0) * (uint64_t)k / (uint64_t)N));
    while (b < t->n && b > pos0) {
        size_t a = b - 1; /* t->p[b - 1] is the previous line's '\n' */
        while (a > pos0 && t->p[a - 1] != '\n') a--;
        const size_t la = user_field(t, a), lb = user_field(t, b);
        if (la != lb || memcmp(t->p + a, t->p + b, la) != 0) break;
        b = line_start_at(t, b + 1);
    }
    return b;
}

static int cmp_i32(const void *a, const void *b)
{
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts and deduplicates items[0 .. n); returns the distinct count. */
static int64_t sort_unique(int32_t *items, int64_t n)
{
    if (n > 1) qsort(items, (size_t)n, sizeof *items, cmp_i32);
    int64_t w = 0;
    for (int64_t k = 0; k < n; k++)
        if (w == 0 || items[k] != items[w - 1]) items[w++] = items[k];
    return w;
}

/* One user's lines as read: its id, its items, its bytes. */
typedef struct block {
    int32_t user;
    int64_t count;
    uint64_t begin, end;
} block;

/* Parses the lines of [b, e) (the first numbered lineno + 1): each run of
 * lines of one user becomes a block (its items sorted and deduplicated
 * in *items, when keep_items); *unsorted when a user comes after a larger
 * one (the parse stops there). */
typedef struct parse {
    block *blocks;
    int64_t n_blocks, cap_blocks;
    int32_t *items;
    int64_t n_items, cap_items;
    int32_t max_user, max_item;
    int unsorted;
    int64_t lines;
} parse;

static int push_item(parse *p, int32_t i)
{
    if (p->n_items == p->cap_items) {
        int64_t c = p->cap_items ? 2 * p->cap_items : 1024;
        int32_t *g = realloc(p->items, (size_t)c * sizeof *g);
        if (!g) return -1;
        p->items = g;
        p->cap_items = c;
    }
    p->items[p->n_items++] = i;
    return 0;
}

/* Closes the block of the items from item0 on. */
static int close_block(parse *p, int32_t user, int64_t item0, uint64_t begin, uint64_t end)
{
    if (p->n_blocks == p->cap_blocks) {
        int64_t c = p->cap_blocks ? 2 * p->cap_blocks : 1024;
        block *g = realloc(p->blocks, (size_t)c * sizeof *g);
        if (!g) return -1;
        p->blocks = g;
        p->cap_blocks = c;
    }
    const int64_t n = sort_unique(p->items + item0, p->n_items - item0);
    p->n_items = item0 + n;
    p->blocks[p->n_blocks++] = (block){user, n, begin, end};
    return 0;
}

/* keep_items 0: each block's items are dropped once counted. */
static ncf_status parse_range(const own_index *ix, size_t b, size_t e, int64_t lineno, int keep_items, parse *p,
                              ncf_err *err)
{
    rd_text v = ix->text; /* a view of [0, e): rd_getline_ stops at e */
    v.n = e;
    v.map = NULL;
    v.own = NULL;
    size_t pos = b, cap = 0;
    char *line = NULL;
    rd_fields fl = {0};
    ncf_status st = NCF_OK;
    int32_t cur = -1;
    int64_t item0 = p->n_items;
    uint64_t cur_begin = 0, cur_end = 0;
    ssize_t len;
    while ((len = rd_getline_(&v, &pos, &line, &cap)) >= 0) {
        const size_t at = pos - (size_t)len;
        lineno++;
        p->lines++;
        rd_line o;
        if ((st = rd_parse_line_(&ix->L, line, len, lineno, &fl, &o, err)) != NCF_OK) goto done;
        if (o.blank) continue;
        int64_t uv = 0;
        (void)ncf_parse_int64_(o.user, &uv); /* checked by rd_parse_line_ */
        const int32_t u = (int32_t)uv;
        if (u > p->max_user) p->max_user = u;
        if (u != cur) {
            if (cur >= 0 && u < cur) {
                p->unsorted = 1;
                goto done;
            }
            if (cur >= 0 && close_block(p, cur, item0, cur_begin, cur_end) != 0) goto nomem;
            if (!keep_items) p->n_items = 0;
            item0 = p->n_items;
            cur = u;
            cur_begin = at;
        }
        for (int k = 0; k < o.n_items; k++) {
            int64_t iv = 0;
            (void)ncf_parse_int64_(o.items[k], &iv);
            if ((int32_t)iv > p->max_item) p->max_item = (int32_t)iv;
            if (o.keep && push_item(p, (int32_t)iv) != 0) goto nomem;
        }
        cur_end = pos;
    }
    if (len == -2) goto nomem;
    if (cur >= 0 && close_block(p, cur, item0, cur_begin, cur_end) != 0) goto nomem;
    if (!keep_items) p->n_items = 0;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", ix->L.path);
done:
    free(line);
    free(fl.f);
    return st;
}

/* ---- the two passes ------------------------------------------------------------ */
void ncf_own_index_free_(own_index *ix)
{
    rd_text_close_(&ix->text);
    free(ix->count);
    free(ix->begin);
    free(ix->end);
    memset(ix, 0, sizeof *ix);
}

static ncf_status nomem(const char *path, ncf_err *err) { return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path); }

ncf_status ncf_own_index_(const char *path, const ncf_read_options *ro, int64_t span, int64_t slack,
                          own_index *ix, ncf_err *err)
{
    memset(ix, 0, sizeof *ix);
    const int N = ncf_dist_size_(), r = ncf_dist_rank_();
    ncf_status st = rd_text_open_(path, &ix->text, err);
    if (st != NCF_OK) return st;
    size_t pos0;
    int64_t lineno0;
    if ((st = rd_layout_decide_(path, &ix->text, ro, 1, &ix->L, &pos0, &lineno0, err)) != NCF_OK) {
        ncf_own_index_free_(ix);
        return st;
    }
    const rd_text *t = &ix->text;
    const size_t b = cut(t, pos0, r, N), e = b < cut(t, pos0, r + 1, N) ? cut(t, pos0, r + 1, N) : b;
    /* the line numbers: every slice's line count, summed in slice order */
    uint64_t *nl = calloc((size_t)N, sizeof *nl);
    if (!nl) {
        ncf_own_index_free_(ix);
        return nomem(path, err);
    }
    for (const char *q = t->p + b, *end = t->p + e; q < end && (q = memchr(q, '\n', (size_t)(end - q))); q++) nl[r]++;
    if (e > b && t->p[e - 1] != '\n') nl[r]++; /* the file's last line, without a '\n' */
    if (ncf_dist_sum_u64_(nl, (size_t)N) != 0) {
        free(nl);
        ncf_own_index_free_(ix);
        return ncf_fail_(err, NCF_ERR_IO, "%s: the processes could not exchange their line counts", path);
    }
    int64_t base = lineno0;
    for (int k = 0; k < r; k++) base += (int64_t)nl[k];
    free(nl);
    parse p = {.max_user = -1, .max_item = -1};
    st = parse_range(ix, b, e, base, 0, &p, err);
    ix->lines = p.lines;
    if (st != NCF_OK) {
        free(p.blocks), free(p.items);
        ncf_own_index_free_(ix);
        return st;
    }
    /* what every process must know: sortedness across slices, the largest ids, the pairs */
    uint64_t lo = 0, hi = 0, mu = 0, mi = 0;
    uint64_t *v = calloc(2 * (size_t)N + 1, sizeof *v);
    int rc = v ? 0 : -1;
    if (v && p.n_blocks > 0) {
        v[2 * r] = (uint64_t)p.blocks[0].user + 1;
        v[2 * r + 1] = (uint64_t)p.blocks[p.n_blocks - 1].user + 1;
    }
    int64_t pairs = 0;
    for (int64_t k = 0; k < p.n_blocks; k++) pairs += p.blocks[k].count;
    if (v) v[2 * N] = (uint64_t)pairs;
    uint64_t size_lo = 0, size_hi = 0; /* the same file everywhere, or at least one of the same size */
    if (rc == 0) rc = ncf_dist_minmax_u64_((uint64_t)t->n, &size_lo, &size_hi);
    if (rc == 0) rc = ncf_dist_minmax_u64_((uint64_t)p.unsorted, &lo, &hi);
    int unsorted = (int)hi;
    if (rc == 0) rc = ncf_dist_minmax_u64_((uint64_t)(p.max_user + 1), &lo, &mu);
    if (rc == 0) rc = ncf_dist_minmax_u64_((uint64_t)(p.max_item + 1), &lo, &mi);
    if (rc == 0) rc = ncf_dist_sum_u64_(v, 2 * (size_t)N + 1);
    if (rc != 0) {
        free(v), free(p.blocks), free(p.items);
        ncf_own_index_free_(ix);
        return ncf_fail_(err, NCF_ERR_IO, "%s: the processes could not exchange the file's index", path);
    }
    if (size_lo != size_hi) {
        free(v), free(p.blocks), free(p.items);
        ncf_own_index_free_(ix);
        return ncf_fail_(err, NCF_ERR_ARG, "%s: the processes of sharded training do not all have the same file (%llu "
                         "and %llu bytes)", path, (unsigned long long)size_lo, (unsigned long long)size_hi);
    }
    uint64_t last = 0; /* each non-empty slice's users above the previous slice's */
    for (int k = 0; k < N; k++) {
        if (!v[2 * k]) continue;
        if (v[2 * k] <= last) unsorted = 1;
        last = v[2 * k + 1];
    }
    const int64_t all_pairs = (int64_t)v[2 * N], limit = span * all_pairs + slack;
    free(v);
    free(p.items);
    ix->max_user = (int32_t)mu - 1;
    ix->max_item = (int32_t)mi - 1;
    if (unsorted || (int64_t)mu > limit || (int64_t)mi > limit) { /* the whole-file reader decides */
        free(p.blocks);
        ix->sorted = 0;
        return NCF_OK;
    }
    /* every user's count and bytes, from the slice that holds them */
    ix->n = (int32_t)mu;
    const size_t n = (size_t)ix->n;
    uint64_t *w = calloc(3 * n + 1, sizeof *w);
    if (!w) {
        free(p.blocks);
        ncf_own_index_free_(ix);
        return nomem(path, err);
    }
    for (int64_t k = 0; k < p.n_blocks; k++) {
        const block *bk = &p.blocks[k];
        w[bk->user] = (uint64_t)bk->count;
        w[n + (size_t)bk->user] = bk->begin;
        w[2 * n + (size_t)bk->user] = bk->end;
    }
    free(p.blocks);
    if (ncf_dist_sum_u64_(w, 3 * n) != 0) {
        free(w);
        ncf_own_index_free_(ix);
        return ncf_fail_(err, NCF_ERR_IO, "%s: the processes could not exchange the file's index", path);
    }
    ix->count = malloc((n + 1) * sizeof *ix->count);
    ix->begin = malloc((n + 1) * sizeof *ix->begin);
    ix->end = malloc((n + 1) * sizeof *ix->end);
    if (!ix->count || !ix->begin || !ix->end) {
        free(w);
        ncf_own_index_free_(ix);
        return nomem(path, err);
    }
    for (size_t u = 0; u < n; u++) {
        ix->count[u] = (int64_t)w[u];
        ix->begin[u] = w[n + u];
        ix->end[u] = w[2 * n + u];
    }
    free(w);
    ix->sorted = 1;
    return NCF_OK;
}

ncf_status ncf_own_fill_(own_index *ix, const int64_t *offsets, const uint8_t *own, int32_t *items, ncf_err *err)
{
    parse p = {.max_user = -1, .max_item = -1};
    ncf_status st = NCF_OK;
    for (int32_t u = 0; u < ix->n && st == NCF_OK; u++) {
        if (!own[u] || ix->count[u] == 0) continue;
        p.n_blocks = 0;
        p.n_items = 0;
        st = parse_range(ix, (size_t)ix->begin[u], (size_t)ix->end[u], 0, 1, &p, err);
        if (st == NCF_OK && (p.n_blocks != 1 || p.blocks[0].user != u || p.blocks[0].count != ix->count[u] ||
                             offsets[u + 1] - offsets[u] != ix->count[u]))
            st = ncf_fail_(err, NCF_ERR_IO, "%s: changed while it was read (user %d's lines)", ix->L.path, u);
        if (st == NCF_OK) memcpy(items + offsets[u], p.items, (size_t)ix->count[u] * sizeof *items);
    }
    ix->lines += p.lines;
    free(p.blocks);
    free(p.items);
    return st;
}
