/* reader.c — reads interaction files: MovieLens ratings.dat ("::"), u.data
 * (tab), ratings.csv (comma, header), any delimited user/item[/rating[/time]]
 * file with chosen columns, and LightGCN-style "user item item ..." lists.
 * Deduplicates (user, item) pairs. Does not split or sample: see dataset.c. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data_impl.h"

void ncf_read_options_default(ncf_read_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = NCF_FORMAT_AUTO;
    opt->sep = NULL;
    opt->header = -1;
    opt->user_col = 0;
    opt->item_col = 1;
    opt->rating_col = -2;
    opt->time_col = -2;
}

int ncf_parse_double_(const char *s, double *out)
{
    char *end;
    if (*s == '\0' || isspace((unsigned char)*s)) return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || v != v) return -1;
    *out = v;
    return 0;
}

int ncf_parse_int64_(const char *s, int64_t *out)
{
    char *end;
    if (*s == '\0' || isspace((unsigned char)*s)) return -1;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (*end != '\0' || errno == ERANGE) return -1;
    *out = (int64_t)v;
    return 0;
}

/* ---- line splitting ------------------------------------------------------ */
typedef struct fields {
    char **f;
    int n, cap;
} fields;

/* Splits line in place on sep (NULL: runs of spaces/tabs). Returns -1 on OOM. */
static int split_line(char *line, const char *sep, fields *out)
{
    out->n = 0;
    char *p = line;
    for (;;) {
        if (out->n == out->cap) {
            int cap = out->cap ? out->cap * 2 : 16;
            char **f = realloc(out->f, (size_t)cap * sizeof *f);
            if (!f) return -1;
            out->f = f;
            out->cap = cap;
        }
        if (!sep) {
            while (*p == ' ' || *p == '\t') p++;
            if (*p == '\0') return 0;
            out->f[out->n++] = p;
            while (*p && *p != ' ' && *p != '\t') p++;
            if (*p == '\0') return 0;
            *p++ = '\0';
        } else {
            out->f[out->n++] = p;
            char *q = strstr(p, sep);
            if (!q) return 0;
            *q = '\0';
            p = q + strlen(sep);
        }
    }
}

static void chomp(char *line, ssize_t *len)
{
    while (*len > 0 && (line[*len - 1] == '\n' || line[*len - 1] == '\r')) line[--*len] = '\0';
}

static int blank(const char *s)
{
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

static const char *sep_name(const char *sep)
{
    if (!sep) return "whitespace";
    if (strcmp(sep, "\t") == 0) return "tab";
    if (strcmp(sep, ",") == 0) return "','";
    if (strcmp(sep, "::") == 0) return "'::'";
    return sep;
}

static int is_number(const char *s)
{
    double v;
    return ncf_parse_double_(s, &v) == 0;
}

/* ---- dedup table: (user, item) -> position in the arrays ------------------- */
typedef struct pair_table {
    uint64_t *keys; /* (user << 32 | item) + 1; 0 = empty */
    int64_t *pos;
    size_t n_slots, n;
} pair_table;

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

static int pair_table_grow(pair_table *t)
{
    size_t n_slots = t->n_slots ? t->n_slots * 2 : 4096;
    uint64_t *keys = calloc(n_slots, sizeof *keys);
    int64_t *pos = malloc(n_slots * sizeof *pos);
    if (!keys || !pos) {
        free(keys);
        free(pos);
        return -1;
    }
    for (size_t k = 0; k < t->n_slots; k++) {
        if (!t->keys[k]) continue;
        size_t s = mix64(t->keys[k]) & (n_slots - 1);
        while (keys[s]) s = (s + 1) & (n_slots - 1);
        keys[s] = t->keys[k];
        pos[s] = t->pos[k];
    }
    free(t->keys);
    free(t->pos);
    t->keys = keys;
    t->pos = pos;
    t->n_slots = n_slots;
    return 0;
}

/* Returns the existing position of key, or stores new_pos and returns -1;
 * returns -2 on OOM. */
static int64_t pair_table_get_or_put(pair_table *t, uint64_t key, int64_t new_pos)
{
    if ((t->n + 1) * 2 > t->n_slots && pair_table_grow(t) != 0) return -2;
    key += 1;
    size_t mask = t->n_slots - 1;
    size_t s = mix64(key) & mask;
    while (t->keys[s]) {
        if (t->keys[s] == key) return t->pos[s];
        s = (s + 1) & mask;
    }
    t->keys[s] = key;
    t->pos[s] = new_pos;
    t->n++;
    return -1;
}

/* ---- growing interaction arrays ------------------------------------------- */
static int reserve(ncf_interactions *x, int64_t *cap, int64_t need)
{
    if (need <= *cap) return 0;
    int64_t c = *cap ? *cap * 2 : 65536;
    while (c < need) c *= 2;
    int32_t *u = realloc(x->user, (size_t)c * sizeof *u);
    if (u) x->user = u;
    int32_t *i = realloc(x->item, (size_t)c * sizeof *i);
    if (i) x->item = i;
    float *r = realloc(x->rating, (size_t)c * sizeof *r);
    if (r) x->rating = r;
    int64_t *t = realloc(x->time, (size_t)c * sizeof *t);
    if (t) x->time = t;
    int64_t *l = realloc(x->line, (size_t)c * sizeof *l);
    if (l) x->line = l;
    if (!u || !i || !r || !t || !l) return -1;
    *cap = c;
    return 0;
}

void ncf_interactions_free(ncf_interactions *x)
{
    if (!x) return;
    free(x->user);
    free(x->item);
    free(x->rating);
    free(x->time);
    free(x->line);
    ncf_idmap_free(x->users);
    ncf_idmap_free(x->items);
    free(x);
}

/* Maps a raw id field to an index: through the idmap, or as an integer. */
static ncf_status id_index(ncf_idmap *map, int integer_ids, const char *field, int32_t *max_id,
                           int32_t *index)
{
    if (integer_ids) {
        int64_t v;
        if (ncf_parse_int64_(field, &v) != 0 || v < 0 || v >= INT32_MAX) return NCF_ERR_FORMAT;
        *index = (int32_t)v;
        if (*index > *max_id) *max_id = *index;
        return NCF_OK;
    }
    if (field[0] == '\0') return NCF_ERR_FORMAT;
    return ncf_idmap_add(map, field, strlen(field), index);
}

typedef struct reader {
    const char *path;
    ncf_interactions *x;
    int64_t cap;
    pair_table seen;
    int integer_ids;
    int32_t max_user, max_item;
} reader;

static ncf_status add_pair(reader *r, int32_t u, int32_t i, float rating, int64_t time,
                           int64_t lineno, ncf_err *err)
{
    ncf_interactions *x = r->x;
    uint64_t key = ((uint64_t)(uint32_t)u << 32) | (uint32_t)i;
    int64_t prev = pair_table_get_or_put(&r->seen, key, x->n);
    if (prev == -2) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", r->path);
    if (prev >= 0) { /* repeated pair: keep the latest occurrence's time */
        if (time >= x->time[prev]) {
            x->time[prev] = time;
            x->line[prev] = lineno;
            x->rating[prev] = rating;
        }
        return NCF_OK;
    }
    if (reserve(x, &r->cap, x->n + 1) != 0)
        return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", r->path);
    x->user[x->n] = u;
    x->item[x->n] = i;
    x->rating[x->n] = rating;
    x->time[x->n] = time;
    x->line[x->n] = lineno;
    x->n++;
    return NCF_OK;
}

/* Guesses the separator and whether the file holds user-item lists, from
 * the first lines. */
static void guess_layout(FILE *f, const ncf_read_options *opt, const char **sep, int *lists)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n_lines = 0, min_fields = 1 << 30, max_fields = 0;
    const char *guess = NULL;
    int decided = 0;
    fields fl = {0};
    while (n_lines < 50 && (len = getline(&line, &cap, f)) >= 0) {
        chomp(line, &len);
        if (blank(line)) continue;
        if (!decided) {
            if (strstr(line, "::")) guess = "::";
            else if (strchr(line, '\t')) guess = "\t";
            else if (strchr(line, ',')) guess = ",";
            else guess = NULL;
            decided = 1;
        }
        if (split_line(line, opt->sep ? opt->sep : guess, &fl) != 0) break;
        if (fl.n < min_fields) min_fields = fl.n;
        if (fl.n > max_fields) max_fields = fl.n;
        n_lines++;
    }
    free(fl.f);
    free(line);
    rewind(f);
    *sep = opt->sep ? opt->sep : guess;
    *lists = opt->format == NCF_FORMAT_LISTS ||
             (opt->format == NCF_FORMAT_AUTO && !opt->sep && guess == NULL && n_lines > 0 &&
              (max_fields > 4 || min_fields != max_fields));
}

ncf_status ncf_read_interactions_(const char *path, const ncf_read_options *opt, int integer_ids,
                                  ncf_interactions **out, int32_t *max_user, int32_t *max_item,
                                  ncf_err *err)
{
    ncf_status st = NCF_OK;
    reader r = {.path = path, .integer_ids = integer_ids, .max_user = -1, .max_item = -1};
    char *line = NULL, *first = NULL;
    size_t cap = 0;
    fields fl = {0}, fl2 = {0};
    FILE *f = fopen(path, "r");
    if (!f) return ncf_fail_(err, NCF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));

    r.x = calloc(1, sizeof *r.x);
    if (!r.x) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if (!integer_ids) {
        if (ncf_idmap_create(&r.x->users) != NCF_OK || ncf_idmap_create(&r.x->items) != NCF_OK) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
    }

    const char *sep;
    int lists;
    guess_layout(f, opt, &sep, &lists);

    int ucol = opt->user_col, icol = opt->item_col;
    int rcol = opt->rating_col, tcol = opt->time_col;
    int header = opt->header;
    int64_t lineno = 0;
    ssize_t len;
    int first_data = 1;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        chomp(line, &len);
        if (blank(line)) continue;
        if (lists) {
            if (split_line(line, NULL, &fl) != 0) {
                st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            int32_t u, i;
            if (id_index(r.x->users, integer_ids, fl.f[0], &r.max_user, &u) != NCF_OK) {
                st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected a user id first, found '%s'",
                               path, (long long)lineno, fl.f[0]);
                goto done;
            }
            /* A list line names the user even with no items: keep the user. */
            for (int k = 1; k < fl.n; k++) {
                if (id_index(r.x->items, integer_ids, fl.f[k], &r.max_item, &i) != NCF_OK) {
                    st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id, found '%s'",
                                   path, (long long)lineno, k + 1, fl.f[k]);
                    goto done;
                }
                st = add_pair(&r, u, i, 1.0f, 0, lineno, err);
                if (st != NCF_OK) goto done;
            }
            continue;
        }
        if (first_data) {
            first_data = 0;
            /* Decide the header and default columns from this line and the next. */
            free(first);
            first = strdup(line);
            if (!first || split_line(first, sep, &fl2) != 0) {
                st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            if (rcol == -2) rcol = fl2.n > 2 ? 2 : -1;
            if (tcol == -2) tcol = fl2.n > 3 ? 3 : -1;
            if (header < 0) {
                /* A header names columns: its rating/time fields are not numbers
                 * (or, without them, its id fields are not numbers while ids
                 * further down are). */
                int h = 0;
                if (rcol >= 0 && rcol < fl2.n && !is_number(fl2.f[rcol])) h = 1;
                if (tcol >= 0 && tcol < fl2.n && !is_number(fl2.f[tcol])) h = 1;
                if (!h && rcol < 0 && ucol < fl2.n && icol < fl2.n && !is_number(fl2.f[ucol]) &&
                    !is_number(fl2.f[icol])) {
                    long pos = ftell(f);
                    char *next = NULL;
                    size_t ncap = 0;
                    ssize_t nlen = getline(&next, &ncap, f);
                    if (nlen > 0) {
                        chomp(next, &nlen);
                        fields fl3 = {0};
                        if (split_line(next, sep, &fl3) == 0 && fl3.n > ucol && fl3.n > icol &&
                            is_number(fl3.f[ucol]) && is_number(fl3.f[icol]))
                            h = 1;
                        free(fl3.f);
                    }
                    free(next);
                    fseek(f, pos, SEEK_SET);
                }
                header = h;
            }
            if (header) continue;
        }
        if (split_line(line, sep, &fl) != 0) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        int need = ucol;
        if (icol > need) need = icol;
        if (rcol > need) need = rcol;
        if (tcol > need) need = tcol;
        if (fl.n <= need) {
            st = ncf_fail_(err, NCF_ERR_FORMAT,
                           "%s:%lld: expected at least %d fields separated by %s, found %d",
                           path, (long long)lineno, need + 1, sep_name(sep), fl.n);
            goto done;
        }
        double rating = 1.0;
        int64_t time = 0;
        if (rcol >= 0 && ncf_parse_double_(fl.f[rcol], &rating) != 0) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a rating (number), found '%s'",
                           path, (long long)lineno, rcol + 1, fl.f[rcol]);
            goto done;
        }
        if (tcol >= 0) {
            double tv;
            if (ncf_parse_int64_(fl.f[tcol], &time) != 0) {
                if (ncf_parse_double_(fl.f[tcol], &tv) != 0 || tv < -9e18 || tv > 9e18) {
                    st = ncf_fail_(err, NCF_ERR_FORMAT,
                                   "%s:%lld: field %d: expected a timestamp (number), found '%s'",
                                   path, (long long)lineno, tcol + 1, fl.f[tcol]);
                    goto done;
                }
                time = (int64_t)tv;
            }
        }
        int32_t u, i;
        if (id_index(r.x->users, integer_ids, fl.f[ucol], &r.max_user, &u) != NCF_OK) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a user id%s, found '%s'",
                           path, (long long)lineno, ucol + 1,
                           integer_ids ? " (non-negative integer)" : "", fl.f[ucol]);
            goto done;
        }
        if (id_index(r.x->items, integer_ids, fl.f[icol], &r.max_item, &i) != NCF_OK) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id%s, found '%s'",
                           path, (long long)lineno, icol + 1,
                           integer_ids ? " (non-negative integer)" : "", fl.f[icol]);
            goto done;
        }
        if (opt->use_min_rating && rating < opt->min_rating) continue;
        st = add_pair(&r, u, i, (float)rating, time, lineno, err);
        if (st != NCF_OK) goto done;
    }
    if (ferror(f)) {
        st = ncf_fail_(err, NCF_ERR_IO, "%s: read error", path);
        goto done;
    }
    r.x->has_time = tcol >= 0 && !lists;
    /* Raised, never lowered: the NCF loader passes the same maxima through
     * the train, test and validation files, and sizes its tables by them. */
    if (max_user && r.max_user > *max_user) *max_user = r.max_user;
    if (max_item && r.max_item > *max_item) *max_item = r.max_item;

done:
    free(line);
    free(first);
    free(fl.f);
    free(fl2.f);
    free(r.seen.keys);
    free(r.seen.pos);
    fclose(f);
    if (st != NCF_OK) {
        ncf_interactions_free(r.x);
        return st;
    }
    *out = r.x;
    return NCF_OK;
}

ncf_status ncf_interactions_read(const char *path, const ncf_read_options *opt,
                                 ncf_interactions **out, ncf_err *err)
{
    ncf_read_options def;
    if (!opt) {
        ncf_read_options_default(&def);
        opt = &def;
    }
    if (opt->user_col < 0 || opt->item_col < 0 || opt->user_col == opt->item_col)
        return ncf_fail_(err, NCF_ERR_ARG, "user and item columns must be distinct and >= 0");
    ncf_interactions *x = NULL;
    ncf_status st = ncf_read_interactions_(path, opt, 0, &x, NULL, NULL, err);
    if (st != NCF_OK) return st;
    if (x->n == 0) {
        ncf_interactions_free(x);
        return ncf_fail_(err, NCF_ERR_EMPTY, "%s: no interactions%s", path,
                         opt->use_min_rating ? " at or above --min-rating" : "");
    }
    *out = x;
    return NCF_OK;
}
