/* dataset.c — builds the training/test dataset: from the NCF authors' files
 * (PREFIX.train.rating, .test.rating, .test.negative) or from one
 * interactions file split leave-one-out in memory; also writes that split in
 * the NCF format (`ncf split`). Does not parse lines itself (reader.c). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "data/data_impl.h"

void ncf_load_options_default(ncf_load_options *opt)
{
    memset(opt, 0, sizeof *opt);
    ncf_read_options_default(&opt->read);
    opt->n_negatives = 99;
    opt->seed = 1;
}

void ncf_dataset_free(ncf_dataset *ds)
{
    if (!ds) return;
    ncf_idmap_free(ds->user_ids);
    ncf_idmap_free(ds->item_ids);
    free(ds->train_offsets);
    free(ds->train_items);
    free(ds->test_users);
    free(ds->test_items);
    free(ds->test_neg_offsets);
    free(ds->test_negs);
    free(ds);
}

static int sorted_contains(const int32_t *a, int64_t n, int32_t v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == v;
}

int ncf_dataset_has_train(const ncf_dataset *ds, int32_t user, int32_t item)
{
    int64_t b = ds->train_offsets[user], e = ds->train_offsets[user + 1];
    return sorted_contains(ds->train_items + b, e - b, item);
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

/* Draws up to n distinct items in [0, n_items) that are not in the sorted
 * list excl (length n_excl), nor equal to extra (-1: none), into out.
 * Returns the count drawn (fewer than n only when too few items remain). */
static int draw_negatives(ncf_rng *rng, int32_t n_items, const int32_t *excl, int64_t n_excl,
                          int32_t extra, int n, int32_t *out)
{
    int64_t avail = n_items - n_excl - (extra >= 0 && !sorted_contains(excl, n_excl, extra));
    if (avail <= n) { /* take them all, in increasing order */
        int k = 0;
        for (int32_t j = 0; j < n_items && k < n; j++)
            if (j != extra && !sorted_contains(excl, n_excl, j)) out[k++] = j;
        return k;
    }
    int k = 0;
    while (k < n) {
        int32_t j = (int32_t)ncf_rng_below_(rng, (uint32_t)n_items);
        if (j == extra || sorted_contains(excl, n_excl, j)) continue;
        int dup = 0;
        for (int t = 0; t < k && !dup; t++) dup = out[t] == j;
        if (!dup) out[k++] = j;
    }
    return k;
}

/* ---- leave-one-out split over interactions -------------------------------- */
typedef struct loo_split {
    int32_t n_users;
    int64_t *user_off; /* interactions grouped by user, file order within */
    int64_t *order;    /* positions into x arrays */
    int64_t *held;     /* per user: position held out, or -1 */
} loo_split;

static void loo_free(loo_split *s)
{
    free(s->user_off);
    free(s->order);
    free(s->held);
}

static ncf_status loo_build(const ncf_interactions *x, loo_split *s)
{
    memset(s, 0, sizeof *s);
    s->n_users = ncf_idmap_size(x->users);
    s->user_off = calloc((size_t)s->n_users + 1, sizeof *s->user_off);
    s->order = malloc((size_t)(x->n ? x->n : 1) * sizeof *s->order);
    s->held = malloc(((size_t)s->n_users + 1) * sizeof *s->held);
    if (!s->user_off || !s->order || !s->held) {
        loo_free(s);
        return NCF_ERR_NOMEM;
    }
    for (int64_t k = 0; k < x->n; k++) s->user_off[x->user[k] + 1]++;
    for (int32_t u = 0; u < s->n_users; u++) s->user_off[u + 1] += s->user_off[u];
    int64_t *fill = malloc(((size_t)s->n_users + 1) * sizeof *fill);
    if (!fill) {
        loo_free(s);
        return NCF_ERR_NOMEM;
    }
    memcpy(fill, s->user_off, ((size_t)s->n_users + 1) * sizeof *fill);
    for (int64_t k = 0; k < x->n; k++) s->order[fill[x->user[k]]++] = k;
    free(fill);
    for (int32_t u = 0; u < s->n_users; u++) {
        int64_t b = s->user_off[u], e = s->user_off[u + 1];
        s->held[u] = -1;
        if (e - b < 2) continue; /* a single interaction stays in train */
        int64_t best = s->order[b];
        for (int64_t k = b + 1; k < e; k++) {
            int64_t p = s->order[k];
            if (x->time[p] > x->time[best] || (x->time[p] == x->time[best] && x->line[p] > x->line[best]))
                best = p;
        }
        s->held[u] = best;
    }
    return NCF_OK;
}

/* All items of user u (train and held out), sorted, into buf. */
static int64_t user_items_sorted(const ncf_interactions *x, const loo_split *s, int32_t u, int32_t *buf)
{
    int64_t b = s->user_off[u], e = s->user_off[u + 1];
    for (int64_t k = b; k < e; k++) buf[k - b] = x->item[s->order[k]];
    qsort(buf, (size_t)(e - b), sizeof *buf, cmp_i32);
    return e - b;
}

static ncf_status alloc_test(ncf_dataset *ds, int32_t n_test, int n_neg)
{
    ds->n_test = n_test;
    ds->test_users = malloc(((size_t)n_test + 1) * sizeof *ds->test_users);
    ds->test_items = malloc(((size_t)n_test + 1) * sizeof *ds->test_items);
    ds->test_neg_offsets = calloc((size_t)n_test + 1, sizeof *ds->test_neg_offsets);
    ds->test_negs = malloc(((size_t)n_test * (size_t)n_neg + 1) * sizeof *ds->test_negs);
    if (!ds->test_users || !ds->test_items || !ds->test_neg_offsets || !ds->test_negs)
        return NCF_ERR_NOMEM;
    return NCF_OK;
}

ncf_status ncf_dataset_from_interactions(const ncf_interactions *x, int n_negatives,
                                         uint64_t seed, ncf_dataset **out, ncf_err *err)
{
    if (n_negatives < 0) return ncf_fail_(err, NCF_ERR_ARG, "negative count must be >= 0");
    loo_split s;
    if (loo_build(x, &s) != NCF_OK) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    ncf_status st = NCF_OK;
    int32_t *buf = NULL;
    ncf_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) goto nomem;
    ds->n_users = s.n_users;
    ds->n_items = ncf_idmap_size(x->items);
    if (ncf_idmap_clone(x->users, &ds->user_ids) != NCF_OK ||
        ncf_idmap_clone(x->items, &ds->item_ids) != NCF_OK)
        goto nomem;
    int32_t n_test = 0;
    int64_t max_deg = 0;
    for (int32_t u = 0; u < s.n_users; u++) {
        n_test += s.held[u] >= 0;
        int64_t d = s.user_off[u + 1] - s.user_off[u];
        if (d > max_deg) max_deg = d;
    }
    ds->n_train = x->n - n_test;
    ds->train_offsets = calloc((size_t)ds->n_users + 1, sizeof *ds->train_offsets);
    ds->train_items = malloc(((size_t)ds->n_train + 1) * sizeof *ds->train_items);
    buf = malloc(((size_t)max_deg + 1) * sizeof *buf);
    if (!ds->train_offsets || !ds->train_items || !buf) goto nomem;
    if (alloc_test(ds, n_test, n_negatives) != NCF_OK) goto nomem;
    int64_t t = 0;
    int32_t c = 0;
    for (int32_t u = 0; u < s.n_users; u++) {
        ds->train_offsets[u] = t;
        int64_t start = t;
        for (int64_t k = s.user_off[u]; k < s.user_off[u + 1]; k++)
            if (s.order[k] != s.held[u]) ds->train_items[t++] = x->item[s.order[k]];
        qsort(ds->train_items + start, (size_t)(t - start), sizeof *ds->train_items, cmp_i32);
        if (s.held[u] >= 0) {
            ncf_rng rng;
            ncf_rng_seed_(&rng, seed, 0x7e57, (uint64_t)u);
            int64_t n_all = user_items_sorted(x, &s, u, buf);
            ds->test_users[c] = u;
            ds->test_items[c] = x->item[s.held[u]];
            int64_t off = ds->test_neg_offsets[c];
            int got = draw_negatives(&rng, ds->n_items, buf, n_all, -1, n_negatives, ds->test_negs + off);
            ds->test_neg_offsets[c + 1] = off + got;
            c++;
        }
    }
    ds->train_offsets[s.n_users] = t;
    ds->negatives_drawn = 1;
    free(buf);
    loo_free(&s);
    *out = ds;
    return NCF_OK;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory building the split");
    free(buf);
    loo_free(&s);
    ncf_dataset_free(ds);
    return st;
}

/* ---- atomic file writing -------------------------------------------------- */
FILE *ncf_open_tmp_(const char *path, char **tmp_path, ncf_err *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp) {
        ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        return NULL;
    }
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        ncf_fail_(err, NCF_ERR_IO, "%s: cannot create: %s", tmp, strerror(errno));
        free(tmp);
        return NULL;
    }
    *tmp_path = tmp;
    return f;
}

ncf_status ncf_commit_file_(FILE *f, char *tmp, const char *path, int ok, ncf_err *err)
{
    ncf_status st = NCF_OK;
    if (ok && (fflush(f) != 0 || ferror(f) || fsync(fileno(f)) != 0)) {
        st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        ok = 0;
    }
    if (fclose(f) != 0 && ok) {
        st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        ok = 0;
    }
    if (ok && rename(tmp, path) != 0) {
        st = ncf_fail_(err, NCF_ERR_IO, "%s: cannot rename into place: %s", path, strerror(errno));
        ok = 0;
    }
    if (!ok) remove(tmp);
    free(tmp);
    return ok ? NCF_OK : (st != NCF_OK ? st : NCF_ERR_IO);
}

/* ---- ncf split: write the leave-one-out split in the NCF format ------------ */
enum { SPLIT_TRAIN, SPLIT_TEST, SPLIT_NEG, SPLIT_UMAP, SPLIT_IMAP, SPLIT_FILES };
static const char *split_suffix[SPLIT_FILES] = {".train.rating", ".test.rating", ".test.negative",
                                                ".user.map", ".item.map"};

static void write_rating_line(FILE *f, const ncf_interactions *x, int64_t p)
{
    fprintf(f, "%d\t%d\t%.9g\t%lld\n", x->user[p], x->item[p], (double)x->rating[p], (long long)x->time[p]);
}

ncf_status ncf_split_write(const ncf_interactions *x, const char *prefix, int n_negatives,
                           uint64_t seed, ncf_err *err)
{
    ncf_dataset *ds = NULL;
    ncf_status st = ncf_dataset_from_interactions(x, n_negatives, seed, &ds, err);
    if (st != NCF_OK) return st;
    if (ds->n_test == 0) {
        ncf_dataset_free(ds);
        return ncf_fail_(err, NCF_ERR_EMPTY, "no user has two or more interactions: nothing to hold out");
    }
    loo_split s;
    if (loo_build(x, &s) != NCF_OK) {
        ncf_dataset_free(ds);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    FILE *f[SPLIT_FILES] = {0};
    char *tmp[SPLIT_FILES] = {0};
    char *paths[SPLIT_FILES] = {0};
    int ok = 1;
    for (int k = 0; k < SPLIT_FILES && ok; k++) {
        size_t n = strlen(prefix) + strlen(split_suffix[k]) + 1;
        paths[k] = malloc(n);
        if (!paths[k]) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
            ok = 0;
            break;
        }
        snprintf(paths[k], n, "%s%s", prefix, split_suffix[k]);
        f[k] = ncf_open_tmp_(paths[k], &tmp[k], err);
        if (!f[k]) {
            st = NCF_ERR_IO;
            ok = 0;
        }
    }
    if (ok) {
        for (int32_t u = 0; u < s.n_users; u++)
            for (int64_t k = s.user_off[u]; k < s.user_off[u + 1]; k++)
                if (s.order[k] != s.held[u]) write_rating_line(f[SPLIT_TRAIN], x, s.order[k]);
        for (int32_t c = 0; c < ds->n_test; c++) {
            int32_t u = ds->test_users[c];
            write_rating_line(f[SPLIT_TEST], x, s.held[u]);
            fprintf(f[SPLIT_NEG], "(%d,%d)", u, ds->test_items[c]);
            for (int64_t k = ds->test_neg_offsets[c]; k < ds->test_neg_offsets[c + 1]; k++)
                fprintf(f[SPLIT_NEG], "\t%d", ds->test_negs[k]);
            fputc('\n', f[SPLIT_NEG]);
        }
        for (int32_t u = 0; u < ds->n_users; u++)
            fprintf(f[SPLIT_UMAP], "%d\t%s\n", u, ncf_idmap_raw(ds->user_ids, u));
        for (int32_t i = 0; i < ds->n_items; i++)
            fprintf(f[SPLIT_IMAP], "%d\t%s\n", i, ncf_idmap_raw(ds->item_ids, i));
    }
    /* Commit all files only when every one was written. */
    for (int k = 0; k < SPLIT_FILES; k++)
        if (f[k] && (fflush(f[k]) != 0 || ferror(f[k]))) {
            if (ok) st = ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", paths[k], strerror(errno));
            ok = 0;
        }
    for (int k = 0; k < SPLIT_FILES; k++) {
        if (!f[k]) continue;
        ncf_status cs = ncf_commit_file_(f[k], tmp[k], paths[k], ok, ok ? err : NULL);
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
    int64_t *off = calloc((size_t)ds->n_users + 1, sizeof *off), *fill = malloc(((size_t)ds->n_users + 1) * sizeof *fill);
    int32_t *items = malloc(((size_t)n + 1) * sizeof *items);
    if (!off || !fill || !items) {
        free(off);
        free(fill);
        free(items);
        return -1;
    }
    for (int64_t k = 0; k < n; k++)
        if (user[k] >= 0 && item[k] >= 0) off[user[k] + 1]++;
    for (int32_t u = 0; u < ds->n_users; u++) off[u + 1] += off[u];
    memcpy(fill, off, ((size_t)ds->n_users + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++)
        if (user[k] >= 0 && item[k] >= 0) items[fill[user[k]]++] = item[k];
    for (int32_t u = 0; u < ds->n_users; u++)
        qsort(items + off[u], (size_t)(off[u + 1] - off[u]), sizeof *items, cmp_i32);
    free(fill);
    free(ds->train_offsets);
    free(ds->train_items);
    ds->train_offsets = off;
    ds->train_items = items;
    ds->n_train = off[ds->n_users];
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
    int64_t off, n;
} neg_list;

/* Parses PREFIX.test.negative: "(user,item)<TAB>neg<TAB>neg...". */
static ncf_status read_negatives(const char *path, neg_list **lists, int64_t *n_lists, int32_t **negs,
                                 int64_t *n_negs, int32_t *max_item, ncf_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f) return ncf_fail_(err, NCF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    ncf_status st = NCF_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int64_t lineno = 0, nl = 0, cl = 0, nn = 0, cn = 0;
    neg_list *L = NULL;
    int32_t *N = NULL;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
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
        if (nl == cl) {
            cl = cl ? cl * 2 : 4096;
            neg_list *t = realloc(L, (size_t)cl * sizeof *L);
            if (!t) goto nomem;
            L = t;
        }
        L[nl].user = (int32_t)u;
        L[nl].item = (int32_t)i;
        L[nl].off = nn;
        if ((int32_t)i > *max_item) *max_item = (int32_t)i;
        int field = 1;
        while (*p) {
            if (*p != '\t' && *p != ' ') {
                st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a tab before the next item id",
                               path, (long long)lineno, field + 1);
                goto done;
            }
            while (*p == '\t' || *p == ' ') p++;
            if (!*p) break;
            field++;
            long long j = strtoll(p, &end, 10);
            if (end == p || (*end && *end != '\t' && *end != ' ') || j < 0 || j >= INT32_MAX) {
                st = ncf_fail_(err, NCF_ERR_FORMAT,
                               "%s:%lld: field %d: expected an item id (non-negative integer)", path,
                               (long long)lineno, field);
                goto done;
            }
            if (nn == cn) {
                cn = cn ? cn * 2 : 65536;
                int32_t *t = realloc(N, (size_t)cn * sizeof *N);
                if (!t) goto nomem;
                N = t;
            }
            N[nn++] = (int32_t)j;
            if ((int32_t)j > *max_item) *max_item = (int32_t)j;
            p = end;
        }
        L[nl].n = nn - L[nl].off;
        nl++;
        continue;
    bad_head:
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected '(user,item)' as the first field", path,
                       (long long)lineno);
        goto done;
    }
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
done:
    free(line);
    fclose(f);
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

static ncf_status load_ncf(const char *prefix, const ncf_load_options *opt, ncf_dataset **out, ncf_err *err)
{
    ncf_status st = NCF_OK;
    ncf_interactions *tr = NULL, *te = NULL;
    neg_list *lists = NULL;
    int32_t *negs = NULL;
    int64_t n_lists = 0, n_negs = 0;
    ncf_dataset *ds = NULL;
    char *p_train = join(prefix, ".train.rating"), *p_test = join(prefix, ".test.rating");
    char *p_neg = join(prefix, ".test.negative"), *p_umap = join(prefix, ".user.map");
    char *p_imap = join(prefix, ".item.map");
    if (!p_train || !p_test || !p_neg || !p_umap || !p_imap) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        goto done;
    }
    ncf_read_options ro = opt->read;
    ro.format = NCF_FORMAT_DELIMITED;
    ro.sep = "\t";
    ro.header = 0;
    ro.user_col = 0;
    ro.item_col = 1;
    ro.rating_col = -2;
    ro.time_col = -2;
    int32_t mu = -1, mi = -1, tu = -1, ti = -1;
    st = ncf_read_interactions_(p_train, &ro, 1, &tr, &mu, &mi, err);
    if (st != NCF_OK) goto done;
    if (tr->n == 0) {
        st = ncf_fail_(err, NCF_ERR_EMPTY, "%s: no training interactions", p_train);
        goto done;
    }
    ncf_read_options rt = ro;
    rt.use_min_rating = 0; /* the held-out item is the test case whatever its rating */
    if (file_exists(p_test)) {
        st = ncf_read_interactions_(p_test, &rt, 1, &te, &tu, &ti, err);
        if (st != NCF_OK) goto done;
    }
    int has_neg = file_exists(p_neg);
    if (has_neg) {
        st = read_negatives(p_neg, &lists, &n_lists, &negs, &n_negs, &ti, err);
        if (st != NCF_OK) goto done;
        if (!te || n_lists != te->n) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: has %lld lines, %s has %lld test cases", p_neg,
                           (long long)n_lists, p_test, (long long)(te ? te->n : 0));
            goto done;
        }
        for (int64_t k = 0; k < n_lists; k++)
            if (lists[k].user != te->user[k] || lists[k].item != te->item[k]) {
                st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: (%d,%d) does not match %s line %lld (%d,%d)",
                               p_neg, (long long)k + 1, lists[k].user, lists[k].item, p_test,
                               (long long)te->line[k], te->user[k], te->item[k]);
                goto done;
            }
    }
    ds = calloc(1, sizeof *ds);
    if (!ds) goto nomem;
    ds->n_users = (mu > tu ? mu : tu) + 1;
    ds->n_items = (mi > ti ? mi : ti) + 1;
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
    } else if (ncf_idmap_identity_(ds->n_items, &ds->item_ids) != NCF_OK)
        goto nomem;
    if (csr_from_pairs(ds, tr->user, tr->item, tr->n) != 0) goto nomem;
    /* test cases */
    int32_t n_test = te ? (int32_t)te->n : 0;
    int per = has_neg ? 0 : opt->n_negatives;
    if (alloc_test(ds, n_test, per) != NCF_OK) goto nomem;
    if (has_neg) {
        free(ds->test_negs);
        ds->test_negs = malloc(((size_t)n_negs + 1) * sizeof *ds->test_negs);
        if (!ds->test_negs) goto nomem;
        memcpy(ds->test_negs, negs, (size_t)n_negs * sizeof *negs);
    }
    for (int32_t c = 0; c < n_test; c++) {
        int32_t u = te->user[c];
        ds->test_users[c] = u;
        ds->test_items[c] = te->item[c];
        if (has_neg) {
            ds->test_neg_offsets[c + 1] = lists[c].off + lists[c].n;
        } else {
            ncf_rng rng;
            ncf_rng_seed_(&rng, opt->seed, 0x7e57, (uint64_t)u);
            int64_t b = ds->train_offsets[u], e = ds->train_offsets[u + 1];
            int64_t off = ds->test_neg_offsets[c];
            int got = draw_negatives(&rng, ds->n_items, ds->train_items + b, e - b, te->item[c],
                                     per, ds->test_negs + off);
            ds->test_neg_offsets[c + 1] = off + got;
        }
    }
    ds->negatives_drawn = !has_neg;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory loading %s", prefix);
done:
    free(p_train);
    free(p_test);
    free(p_neg);
    free(p_umap);
    free(p_imap);
    ncf_interactions_free(tr);
    ncf_interactions_free(te);
    free(lists);
    free(negs);
    if (st != NCF_OK) {
        ncf_dataset_free(ds);
        return st;
    }
    *out = ds;
    return NCF_OK;
}

ncf_status ncf_dataset_load(const char *path, const ncf_load_options *opt, ncf_dataset **out, ncf_err *err)
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
    if (is_ncf) return load_ncf(path, opt, out, err);
    if (!file_exists(path)) {
        struct stat sb;
        if (stat(path, &sb) == 0)
            return ncf_fail_(err, NCF_ERR_IO, "%s: not a regular file", path);
        return ncf_fail_(err, NCF_ERR_IO, "%s: no such file (nor %s.train.rating)", path, path);
    }
    ncf_interactions *x = NULL;
    ncf_status st = ncf_interactions_read(path, &opt->read, &x, err);
    if (st != NCF_OK) return st;
    st = ncf_dataset_from_interactions(x, opt->n_negatives, opt->seed, out, err);
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
    int64_t n_negs = src->n_test ? src->test_neg_offsets[src->n_test] : 0;
    if (alloc_test(ds, src->n_test, 0) != NCF_OK) goto nomem;
    free(ds->test_negs);
    ds->test_negs = malloc(((size_t)n_negs + 1) * sizeof *ds->test_negs);
    if (!ds->test_negs) goto nomem;
    int32_t c = 0, lost = 0;
    int64_t w = 0;
    for (int32_t k = 0; k < src->n_test; k++) {
        int32_t u = um[src->test_users[k]], i = im[src->test_items[k]];
        if (u < 0 || i < 0) {
            lost++;
            continue;
        }
        ds->test_users[c] = u;
        ds->test_items[c] = i;
        for (int64_t q = src->test_neg_offsets[k]; q < src->test_neg_offsets[k + 1]; q++)
            if (im[src->test_negs[q]] >= 0) ds->test_negs[w++] = im[src->test_negs[q]];
        ds->test_neg_offsets[++c] = w;
    }
    ds->n_test = c;
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
