/* readpar.c — the interactions reader in parallel: the data lines (after
 * reader.c has decided the layout) cut into chunks of whole lines, each
 * chunk parsed by one thread into a range of its own with ids indexed in a
 * map of its own; then the chunks' maps merged in chunk order into the
 * file's, which gives every raw id the index of its first appearance, as
 * one pass would; then repeated (user, item) pairs merged user by user.
 * The result, and the error a bad file gets (the first bad line's), are the
 * reference reader's (reader.c), whatever the thread count.
 *
 * A line takes a fast path when it is plain: printable ASCII ids, ratings
 * and timestamps written as plain decimals. Anything else goes through
 * rd_parse_line_, the rules themselves. Does not decide the layout, and
 * does not split or sample. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "data/reader_impl.h"

/* Chunks: at least this many bytes each, and about this many per thread. */
#define CHUNK_MIN (1u << 20)
#define CHUNKS_PER_THREAD 8
/* Entries of a chunk's cache of item ids (a power of two). */
#define ITEM_CACHE 16384

/* The records of every chunk, each chunk in its own range [base, base + cap). */
typedef struct recs {
    int32_t *user, *item;
    float *rating;
    int64_t *time, *line;
} recs;

typedef struct chunk {
    const char *b, *e;       /* whole lines */
    int64_t base, cap;       /* its range of the records */
    int64_t n;               /* records written */
    int64_t lines;           /* lines read */
    ncf_idmap *users, *items; /* ids in order of first appearance in the chunk (string ids) */
    int32_t max_user, max_item; /* integer ids */
    int32_t *utrans, *itrans; /* the chunk's indices -> the file's */
    ncf_status st;           /* NCF_OK, or why the line at `bad` failed */
    const char *bad;         /* the first line that failed */
    int64_t bad_line;        /* its 0-based index in the chunk */
} chunk;

/* ---- bounds ------------------------------------------------------------------ */
/* An upper bound of the records [b, e) can hold: its lines, or for lists its
 * whitespace-separated tokens. */
static int64_t record_bound(const char *b, const char *e, int lists)
{
    int64_t n = 1;
    if (!lists) { /* newlines counted 16 bytes at a time in byte counters, 255 rounds before they could wrap */
        const char *p = b;
        while (e - p >= 16 * 255) {
            unsigned char acc[16] = {0};
            for (int i = 0; i < 255; i++, p += 16)
                for (int j = 0; j < 16; j++) acc[j] += p[j] == '\n';
            for (int j = 0; j < 16; j++) n += acc[j];
        }
        for (; p < e; p++) n += *p == '\n';
        return n;
    }
    int in = 0;
    for (const char *p = b; p < e; p++) {
        const int ws = *p == ' ' || *p == '\t' || *p == '\n' || *p == '\r';
        n += !ws && !in;
        in = !ws;
    }
    return n;
}

/* ---- the fast path ------------------------------------------------------------ */
/* A plain decimal "[-]d+[.d+]" of at most 15 digits as strtod reads it: the
 * digits as an integer m < 2^53 and m / 10^k are exact, and one correctly
 * rounded division gives strtod's double. 0, or -1 when not plain. */
static int plain_double(const char *b, const char *e, double *out)
{
    static const double pow10[16] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15};
    const char *p = b;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    uint64_t m = 0;
    int digits = 0, frac = 0;
    const char *d0 = p;
    while (p < e && *p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++;
    if (p == d0) return -1;
    if (p < e && *p == '.') {
        const char *f0 = ++p;
        while (p < e && *p >= '0' && *p <= '9') m = m * 10 + (uint64_t)(*p++ - '0'), digits++, frac++;
        if (p == f0) return -1;
    }
    if (p != e || digits > 15) return -1;
    double v = frac ? (double)m / pow10[frac] : (double)m;
    *out = neg ? -v : v;
    return 0;
}

/* "[-]d+" of at most 18 digits: the value, as strtoll reads it. */
static int plain_int64(const char *b, const char *e, int64_t *out)
{
    const char *p = b;
    int neg = 0;
    if (p < e && *p == '-') neg = 1, p++;
    if (p == e || e - p > 18) return -1;
    int64_t v = 0;
    for (; p < e; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* An integer id "d+" below INT32_MAX. */
static int plain_index(const char *b, const char *e, int32_t *out)
{
    if (b == e || e - b > 10) return -1;
    int64_t v = 0;
    for (const char *p = b; p < e; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
    }
    if (v >= INT32_MAX) return -1;
    *out = (int32_t)v;
    return 0;
}

/* A string id that needs no check: non-empty printable ASCII. */
static int plain_text(const char *b, const char *e)
{
    if (b == e) return 0;
    unsigned bad = 0;
    for (const char *p = b; p < e; p++) bad |= (unsigned)((unsigned char)*p < 0x20) | (unsigned)((unsigned char)*p > 0x7E);
    return !bad;
}

/* The first occurrence of sep (length sl >= 2) in [p, e), as strstr finds it, or NULL. */
static const char *find_sep(const char *p, const char *e, const char *sep, size_t sl)
{
    while (p + sl <= e) {
        const char *q = memchr(p, sep[0], (size_t)(e - p) - sl + 1);
        if (!q) return NULL;
        if (memcmp(q + 1, sep + 1, sl - 1) == 0) return q;
        p = q + 1;
    }
    return NULL;
}

/* Splits [p, e) into its first n fields (fs, fe) as split_line would;
 * returns the fields found (fewer than n when the line has fewer). */
static int fast_fields(const char *p, const char *e, const char *sep, size_t sl, int n, const char **fs,
                       const char **fe)
{
    int f = 0;
    if (!sep) {
        while (f < n) {
            while (p < e && (*p == ' ' || *p == '\t')) p++;
            if (p == e) break;
            fs[f] = p;
            while (p < e && *p != ' ' && *p != '\t') p++;
            fe[f++] = p;
        }
        return f;
    }
    if (sl == 1) { /* fields of a few bytes: a byte loop beats a call per field */
        const char c = sep[0];
        while (f < n) {
            fs[f] = p;
            while (p < e && *p != c) p++;
            fe[f++] = p;
            if (p == e) break;
            p++;
        }
        return f;
    }
    while (f < n) {
        const char *q = find_sep(p, e, sep, sl);
        fs[f] = p;
        fe[f++] = q ? q : e;
        if (!q) break;
        p = q + sl;
    }
    return f;
}

/* ---- a chunk -------------------------------------------------------------------- */
typedef struct chunk_ctx {
    const rd_layout *L;
    recs *r;
    size_t sl;              /* strlen(sep) */
    const char **fs, **fe;  /* need + 1 fields */
    char *buf;              /* a line's copy for the rules */
    size_t cap;
    rd_fields fl;
    const char *last_user;  /* the previous line's user field and index */
    size_t last_len;
    int32_t last_index;
    int no_nul;             /* the chunk holds no NUL byte: no line needs the check */
    struct {                /* recently seen short item ids: hash -> index + 1 */
        uint64_t hash;
        int32_t index1;
    } seen[ITEM_CACHE];
} chunk_ctx;

/* The chunk's index of a user or item field; -1 out of memory. */
static int index_of(chunk *c, chunk_ctx *x, int item, const char *b, size_t len, int32_t *out)
{
    if (x->L->integer_ids) {
        if (plain_index(b, b + len, out) != 0) { /* "+5", "-0", "0000000000007": from the rules' path, NUL-terminated */
            int64_t v = 0;
            (void)ncf_parse_int64_(b, &v);
            *out = (int32_t)v;
        }
        int32_t *mx = item ? &c->max_item : &c->max_user;
        if (*out > *mx) *mx = *out;
        return 0;
    }
    if (!item && x->last_user && x->last_len == len && memcmp(x->last_user, b, len) == 0) {
        *out = x->last_index;
        return 0;
    }
    const uint64_t h = ncf_idmap_hash_(b, len);
    if (item && len <= 7) { /* the hash is the id: a hit needs no look at the map */
        const size_t e = h & (ITEM_CACHE - 1);
        if (x->seen[e].index1 && x->seen[e].hash == h) {
            *out = x->seen[e].index1 - 1;
            return 0;
        }
        if (ncf_idmap_add_hashed_(c->items, b, len, h, out) != NCF_OK) return -1;
        x->seen[e].hash = h;
        x->seen[e].index1 = *out + 1;
        return 0;
    }
    if (ncf_idmap_add_hashed_(item ? c->items : c->users, b, len, h, out) != NCF_OK) return -1;
    if (!item) {
        x->last_user = b;
        x->last_len = len;
        x->last_index = *out;
    }
    return 0;
}

static void put(chunk *c, chunk_ctx *x, int32_t u, int32_t i, float rating, int64_t time, int64_t line)
{
    recs *r = x->r;
    const int64_t w = c->base + c->n++;
    r->user[w] = u;
    r->item[w] = i;
    r->rating[w] = rating;
    r->time[w] = time;
    r->line[w] = line;
}

/* One line through the fast path: 1 done, 0 not plain (the rules must read it). */
static int fast_line(chunk *c, chunk_ctx *x, const char *p, const char *e, int64_t li)
{
    const rd_layout *L = x->L;
    if (!x->no_nul && memchr(p, '\0', (size_t)(e - p))) return 0;
    while (e > p && (e[-1] == '\r' || e[-1] == '\n')) e--;
    const char *q = p;
    while (q < e && (*q == ' ' || *q == '\t')) q++;
    if (q == e) return 1; /* blank */
    if (L->lists) return 0;
    const int n = L->need + 1;
    if (fast_fields(p, e, L->sep, x->sl, n, x->fs, x->fe) < n) return 0;
    double rating = 1.0;
    int64_t time = 0;
    if (L->rcol >= 0 && plain_double(x->fs[L->rcol], x->fe[L->rcol], &rating) != 0) return 0;
    if (L->tcol >= 0 && plain_int64(x->fs[L->tcol], x->fe[L->tcol], &time) != 0) return 0;
    const char *ub = x->fs[L->ucol], *ue = x->fe[L->ucol], *ib = x->fs[L->icol], *ie = x->fe[L->icol];
    int32_t u, i;
    if (L->integer_ids) {
        if (plain_index(ub, ue, &u) != 0 || plain_index(ib, ie, &i) != 0) return 0;
    } else if (!plain_text(ub, ue) || !plain_text(ib, ie)) {
        return 0;
    }
    if (index_of(c, x, 0, ub, (size_t)(ue - ub), &u) != 0 || index_of(c, x, 1, ib, (size_t)(ie - ib), &i) != 0) {
        c->st = NCF_ERR_NOMEM;
        return 1;
    }
    if (!L->use_min || !(rating < L->min_rating)) put(c, x, u, i, (float)rating, time, li);
    return 1;
}

/* One line through the rules; sets c->st on failure. */
static void slow_line(chunk *c, chunk_ctx *x, const char *p, const char *next, int64_t li)
{
    const size_t len = (size_t)(next - p);
    if (len + 1 > x->cap) {
        size_t cap = x->cap ? x->cap : 256;
        while (cap < len + 1) cap *= 2;
        char *b = realloc(x->buf, cap);
        if (!b) {
            c->st = NCF_ERR_NOMEM;
            return;
        }
        x->buf = b;
        x->cap = cap;
    }
    memcpy(x->buf, p, len);
    x->buf[len] = '\0';
    rd_line o;
    ncf_err scratch = {{0}};
    ncf_status st = rd_parse_line_(x->L, x->buf, (ssize_t)len, li + 1, &x->fl, &o, &scratch);
    if (st != NCF_OK) {
        c->st = st;
        return;
    }
    if (o.blank) return;
    x->last_user = NULL; /* the copy is overwritten by the next line */
    int32_t u, i;
    if (index_of(c, x, 0, o.user, strlen(o.user), &u) != 0) {
        c->st = NCF_ERR_NOMEM;
        return;
    }
    for (int k = 0; k < o.n_items; k++) {
        if (c->n >= c->cap) { /* cannot happen: the bound counts every token */
            c->st = NCF_ERR_NOMEM;
            return;
        }
        if (index_of(c, x, 1, o.items[k], strlen(o.items[k]), &i) != 0) {
            c->st = NCF_ERR_NOMEM;
            return;
        }
        if (o.keep) put(c, x, u, i, (float)o.rating, o.time, li);
    }
}

/* Parses the chunk's lines into its range of r; line numbers are the
 * chunk's, 0-based (made the file's by the merge). Stops at the first
 * line that fails. */
static void parse_chunk(chunk *c, const rd_layout *L, recs *r)
{
    chunk_ctx *x = calloc(1, sizeof *x); /* with its item cache: too large for a stack */
    if (!x) {
        c->st = NCF_ERR_NOMEM;
        c->bad = c->b;
        return;
    }
    x->L = L;
    x->r = r;
    x->sl = L->sep ? strlen(L->sep) : 0;
    x->no_nul = !memchr(c->b, '\0', (size_t)(c->e - c->b));
    x->fs = malloc(((size_t)L->need + 1) * sizeof *x->fs);
    x->fe = malloc(((size_t)L->need + 1) * sizeof *x->fe);
    c->max_user = c->max_item = -1;
    if (!x->fs || !x->fe ||
        (!L->integer_ids && (ncf_idmap_create(&c->users) != NCF_OK || ncf_idmap_create(&c->items) != NCF_OK))) {
        c->st = NCF_ERR_NOMEM;
        c->bad = c->b;
        goto done;
    }
    int64_t li = 0;
    for (const char *p = c->b; p < c->e; li++) {
        const char *nl = memchr(p, '\n', (size_t)(c->e - p));
        const char *next = nl ? nl + 1 : c->e;
        if (!fast_line(c, x, p, next, li)) {
            x->last_user = NULL;
            slow_line(c, x, p, next, li);
        }
        if (c->st != NCF_OK) {
            c->bad = p;
            c->bad_line = li;
            break;
        }
        p = next;
    }
    c->lines = li;
done:
    free(x->fs);
    free(x->fe);
    free(x->buf);
    free(x->fl.f);
    free(x);
}

/* ---- repeated pairs ------------------------------------------------------------ */
/* Merges repeated (user, item) pairs of the n records as one pass would:
 * the first occurrence keeps its place, with the time, line and rating of
 * the latest occurrence (the later line among equal times). Users in
 * [0, n_users), items in [0, n_items). Returns the records left, or -1 out
 * of memory. */
static int64_t merge_repeats(recs *r, int64_t n, int32_t n_users, int32_t n_items)
{
    /* Each user's records: the runs of the file when every user has one
     * run (files sorted by user), else a counting sort by user. */
    int64_t n_groups = 0, *off = malloc(((size_t)n_users + 2) * sizeof *off), *order = NULL;
    unsigned char *seen = calloc((size_t)n_users + 1, 1), *drop = calloc((size_t)n + 1, 1);
    int64_t dropped = 0;
    int failed = 0, grouped = 1;
    if (!off || !seen || !drop) goto fail;
    for (int64_t k = 0; k < n && grouped; k++) {
        if (k > 0 && r->user[k] == r->user[k - 1]) continue;
        if (seen[r->user[k]]) grouped = 0;
        seen[r->user[k]] = 1;
        off[n_groups++] = k;
    }
    if (grouped) {
        off[n_groups] = n;
    } else {
        if (!(order = malloc(((size_t)n + 1) * sizeof *order))) goto fail;
        memset(off, 0, ((size_t)n_users + 2) * sizeof *off);
        for (int64_t k = 0; k < n; k++) off[r->user[k] + 2]++;
        for (int32_t u = 0; u < n_users; u++) off[u + 2] += off[u + 1];
        int64_t *fill = off + 1; /* fill[u] runs from off[u] to off[u + 1] */
        for (int64_t k = 0; k < n; k++) order[fill[r->user[k]]++] = k;
        n_groups = n_users;
    }
#pragma omp parallel reduction(+ : dropped) if (n > 100000)
    {
        int32_t *stamp = malloc(((size_t)n_items + 1) * sizeof *stamp);
        int64_t *first = malloc(((size_t)n_items + 1) * sizeof *first);
        if (!stamp || !first) {
#pragma omp atomic write
            failed = 1;
        } else {
            for (int32_t i = 0; i < n_items; i++) stamp[i] = -1;
        }
#pragma omp for schedule(dynamic, 256)
        for (int64_t g = 0; g < n_groups; g++) { /* one user's records, in file order */
            if (!stamp || !first || off[g] == off[g + 1]) continue;
            const int32_t u = r->user[order ? order[off[g]] : off[g]];
            for (int64_t k = off[g]; k < off[g + 1]; k++) {
                const int64_t p = order ? order[k] : k;
                const int32_t i = r->item[p];
                if (stamp[i] != u) {
                    stamp[i] = u;
                    first[i] = p;
                    continue;
                }
                const int64_t q = first[i];
                drop[p] = 1;
                dropped++;
                if (r->time[p] >= r->time[q]) {
                    r->time[q] = r->time[p];
                    r->line[q] = r->line[p];
                    r->rating[q] = r->rating[p];
                }
            }
        }
        free(stamp);
        free(first);
    }
    if (failed) goto fail;
    if (dropped) {
        int64_t w = 0;
        for (int64_t k = 0; k < n; k++) {
            if (drop[k]) continue;
            r->user[w] = r->user[k];
            r->item[w] = r->item[k];
            r->rating[w] = r->rating[k];
            r->time[w] = r->time[k];
            r->line[w++] = r->line[k];
        }
    }
    free(off);
    free(order);
    free(seen);
    free(drop);
    return n - dropped;
fail:
    free(off);
    free(order);
    free(seen);
    free(drop);
    return -1;
}

/* The same, for ids too sparse for per-user and per-item arrays (integer
 * ids far beyond the records): one pass with a hash of the pairs. */
static int64_t merge_repeats_hashed(recs *r, int64_t n)
{
    size_t n_slots = 1024;
    while (n_slots < 2 * (size_t)n + 2) n_slots *= 2;
    uint64_t *keys = calloc(n_slots, sizeof *keys);
    int64_t *pos = malloc(n_slots * sizeof *pos);
    if (!keys || !pos) {
        free(keys);
        free(pos);
        return -1;
    }
    int64_t w = 0;
    for (int64_t k = 0; k < n; k++) {
        const uint64_t key = (((uint64_t)(uint32_t)r->user[k] << 32) | (uint32_t)r->item[k]) + 1;
        uint64_t h = key * 0x9e3779b97f4a7c15ull;
        size_t s = (size_t)(h ^ (h >> 29)) & (n_slots - 1);
        while (keys[s] && keys[s] != key) s = (s + 1) & (n_slots - 1);
        if (keys[s]) {
            const int64_t q = pos[s];
            if (r->time[k] >= r->time[q]) {
                r->time[q] = r->time[k];
                r->line[q] = r->line[k];
                r->rating[q] = r->rating[k];
            }
            continue;
        }
        keys[s] = key;
        pos[s] = w;
        r->user[w] = r->user[k];
        r->item[w] = r->item[k];
        r->rating[w] = r->rating[k];
        r->time[w] = r->time[k];
        r->line[w++] = r->line[k];
    }
    free(keys);
    free(pos);
    return w;
}

/* ---- the whole file ------------------------------------------------------------- */
static void chunks_free(chunk *c, int n)
{
    for (int k = 0; k < n; k++) {
        ncf_idmap_free(c[k].users);
        ncf_idmap_free(c[k].items);
        free(c[k].utrans);
        free(c[k].itrans);
    }
    free(c);
}

/* Cuts [pos, t->n) into about n chunks of whole lines; returns the count. */
static int cut_chunks(const rd_text *t, size_t pos, int n, chunk *c)
{
    const char *b = t->p + pos, *end = t->p + t->n;
    int k = 0;
    for (int j = 0; j < n && b < end; j++) {
        const char *e = j == n - 1 ? end : t->p + pos + (size_t)((double)(t->n - pos) * (j + 1) / n);
        if (e <= b) continue;
        if (e < end) {
            const char *nl = memchr(e - 1, '\n', (size_t)(end - (e - 1)));
            e = nl ? nl + 1 : end;
        }
        c[k].b = b;
        c[k].e = e;
        k++;
        b = e;
    }
    return k;
}

ncf_status rd_read_parallel_(const rd_text *t, const rd_layout *L, size_t pos, int64_t lineno, ncf_interactions **out,
                             int32_t *max_user, int32_t *max_item, ncf_err *err)
{
    const char *path = L->path;
    ncf_status st = NCF_OK;
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    const size_t bytes = pos < t->n ? t->n - pos : 0;
    int want = (int)(bytes / CHUNK_MIN);
    if (want > threads * CHUNKS_PER_THREAD) want = threads * CHUNKS_PER_THREAD;
    if (want < 1) want = 1;
    chunk *c = calloc((size_t)want, sizeof *c);
    ncf_interactions *x = calloc(1, sizeof *x);
    recs r = {0};
    if (!c || !x) goto nomem;
    const int n_chunks = cut_chunks(t, pos, want, c);
#pragma omp parallel for schedule(dynamic, 1) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++) c[k].cap = record_bound(c[k].b, c[k].e, L->lists);
    int64_t total = 0;
    for (int k = 0; k < n_chunks; k++) {
        c[k].base = total;
        total += c[k].cap;
    }
    x->user = r.user = ncf_big_alloc_((size_t)total * sizeof *r.user);
    x->item = r.item = ncf_big_alloc_((size_t)total * sizeof *r.item);
    x->rating = r.rating = ncf_big_alloc_((size_t)total * sizeof *r.rating);
    x->time = r.time = ncf_big_alloc_((size_t)total * sizeof *r.time);
    x->line = r.line = ncf_big_alloc_((size_t)total * sizeof *r.line);
    if (!r.user || !r.item || !r.rating || !r.time || !r.line) goto nomem;
    if (!L->integer_ids && (ncf_idmap_create(&x->users) != NCF_OK || ncf_idmap_create(&x->items) != NCF_OK)) goto nomem;

#pragma omp parallel for schedule(dynamic, 1) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++) parse_chunk(&c[k], L, &r);

    /* The first failure in file order is the file's error: its line again
     * through the rules, now with its number in the file. */
    int64_t line0 = lineno;
    for (int k = 0; k < n_chunks; k++) {
        if (c[k].st != NCF_OK) {
            if (c[k].st == NCF_ERR_NOMEM || !c[k].bad) goto nomem;
            rd_text rest = {.p = c[k].bad, .n = (size_t)(t->p + t->n - c[k].bad)};
            size_t at = 0, cap = 0;
            char *line = NULL;
            rd_fields fl = {0};
            rd_line o;
            ssize_t len = rd_getline_(&rest, &at, &line, &cap);
            st = len < 0 ? NCF_ERR_NOMEM : rd_parse_line_(L, line, len, line0 + c[k].bad_line + 1, &fl, &o, err);
            free(line);
            free(fl.f);
            if (st == NCF_OK || st == NCF_ERR_NOMEM) goto nomem; /* the rules agree with the chunk, or no memory */
            goto done;
        }
        line0 += c[k].lines;
    }

    /* The chunks' ids in chunk order: indices by first appearance in the file. */
    int32_t mu = -1, mi = -1;
    for (int k = 0; k < n_chunks; k++) {
        if (L->integer_ids) {
            if (c[k].max_user > mu) mu = c[k].max_user;
            if (c[k].max_item > mi) mi = c[k].max_item;
            continue;
        }
        for (int side = 0; side < 2; side++) {
            const ncf_idmap *local = side ? c[k].items : c[k].users;
            ncf_idmap *global = side ? x->items : x->users;
            const int32_t n = ncf_idmap_size(local);
            int32_t *tr = malloc(((size_t)n + 1) * sizeof *tr);
            if (!tr) goto nomem;
            if (side) c[k].itrans = tr;
            else c[k].utrans = tr;
            for (int32_t j = 0; j < n; j++) {
                const char *raw = ncf_idmap_raw(local, j);
                if (ncf_idmap_add(global, raw, strlen(raw), &tr[j]) != NCF_OK) goto nomem;
            }
        }
        ncf_idmap_free(c[k].users);
        ncf_idmap_free(c[k].items);
        c[k].users = c[k].items = NULL;
    }
    /* Indices and line numbers made the file's, in each chunk's range. */
    line0 = lineno;
    int64_t *first_line = malloc(((size_t)n_chunks + 1) * sizeof *first_line);
    if (!first_line) goto nomem;
    for (int k = 0; k < n_chunks; k++) {
        first_line[k] = line0 + 1;
        line0 += c[k].lines;
    }
#pragma omp parallel for schedule(dynamic, 1) if (n_chunks > 1)
    for (int k = 0; k < n_chunks; k++) {
        for (int64_t j = c[k].base; j < c[k].base + c[k].n; j++) {
            if (!L->integer_ids) {
                r.user[j] = c[k].utrans[r.user[j]];
                r.item[j] = c[k].itrans[r.item[j]];
            }
            r.line[j] += first_line[k];
        }
    }
    free(first_line);
    /* The ranges moved together, in order. */
    int64_t n = 0;
    for (int k = 0; k < n_chunks; k++) {
        if (c[k].base != n && c[k].n) {
            const size_t m = (size_t)c[k].n;
            memmove(r.user + n, r.user + c[k].base, m * sizeof *r.user);
            memmove(r.item + n, r.item + c[k].base, m * sizeof *r.item);
            memmove(r.rating + n, r.rating + c[k].base, m * sizeof *r.rating);
            memmove(r.time + n, r.time + c[k].base, m * sizeof *r.time);
            memmove(r.line + n, r.line + c[k].base, m * sizeof *r.line);
        }
        n += c[k].n;
    }
    /* Repeated pairs. */
    const int32_t n_users = L->integer_ids ? mu + 1 : ncf_idmap_size(x->users);
    const int32_t n_items = L->integer_ids ? mi + 1 : ncf_idmap_size(x->items);
    const int64_t dense_limit = 4 * n + 65536;
    const int64_t left = n_users <= dense_limit && n_items <= dense_limit ? merge_repeats(&r, n, n_users, n_items)
                                                                          : merge_repeats_hashed(&r, n);
    if (left < 0) goto nomem;
    x->n = left;
    x->has_time = L->tcol >= 0 && !L->lists;
    /* Raised, never lowered: the NCF loader passes the same maxima through
     * the train, test and validation files, and sizes its tables by them. */
    if (max_user && mu > *max_user) *max_user = mu;
    if (max_item && mi > *max_item) *max_item = mi;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
done:
    if (c) chunks_free(c, want);
    if (st != NCF_OK) {
        if (x) {
            x->user = r.user;
            x->item = r.item;
            x->rating = r.rating;
            x->time = r.time;
            x->line = r.line;
        }
        ncf_interactions_free(x);
        return st;
    }
    *out = x;
    return NCF_OK;
}
