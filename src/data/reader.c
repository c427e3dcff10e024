/* reader.c — reads interaction files: MovieLens ratings.dat ("::"), u.data
 * (tab), ratings.csv (comma, header), any delimited user/item[/rating[/time]]
 * file with chosen columns, and LightGCN-style "user item item ..." lists.
 * Deduplicates (user, item) pairs. Does not split or sample: see dataset.c.
 * Refuses what is not text: a NUL byte anywhere, ids that are not UTF-8 or
 * hold control characters; a UTF-8 byte-order mark at the start is skipped. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
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
    if (*end != '\0' || errno == ERANGE || !isfinite(v)) return -1;
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

/* 1 when the whole field reads as a number of any kind, nan and inf
 * included: a header names columns with words, so a first line whose
 * rating is "nan" is data (and then an error), not a header. */
static int is_number(const char *s)
{
    char *end;
    if (*s == '\0' || isspace((unsigned char)*s)) return 0;
    (void)strtod(s, &end);
    return *end == '\0';
}

/* ---- what is not text ------------------------------------------------------ */
/* Skips a UTF-8 byte-order mark at the start of the line. */
static void skip_bom(char *line, ssize_t *len)
{
    if (*len >= 3 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB && (unsigned char)line[2] == 0xBF) {
        memmove(line, line + 3, (size_t)*len - 2); /* with the terminating NUL */
        *len -= 3;
    }
}

/* Offset of the first byte of s that is not part of well-formed UTF-8
 * (RFC 3629: no overlong forms, surrogates or code points above U+10FFFF)
 * or that is a control character (C0 or DEL); -1 when s is clean. */
static long bad_text_at(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (const unsigned char *q = p; *q;) {
        unsigned c = *q;
        if (c < 0x80) {
            if (c < 0x20 || c == 0x7F) return (long)(q - p);
            q++;
            continue;
        }
        int n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) n = 1;
        else if (c >= 0xE0 && c <= 0xEF) {
            n = 2;
            if (c == 0xE0) lo = 0xA0;
            if (c == 0xED) hi = 0x9F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 3;
            if (c == 0xF0) lo = 0x90;
            if (c == 0xF4) hi = 0x8F;
        } else
            return (long)(q - p);
        if (q[1] < lo || q[1] > hi) return (long)(q - p);
        for (int k = 2; k <= n; k++)
            if (q[k] < 0x80 || q[k] > 0xBF) return (long)(q - p);
        q += n + 1;
    }
    return -1;
}

/* s for an error message, in buf (n >= 16 bytes): as it is when it is
 * clean text (bad_text_at) that fits, else cut and with every byte that is
 * not printable ASCII written as \xNN, "..." marking a cut. */
static const char *shown(const char *s, char *buf, size_t n)
{
    if (strlen(s) < n && bad_text_at(s) < 0) return s;
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    for (; *p && w + 9 < n; p++) { /* room for \xNN, "..." and the NUL */
        if (*p >= 0x20 && *p < 0x7F) buf[w++] = (char)*p;
        else w += (size_t)snprintf(buf + w, n - w, "\\x%02X", *p);
    }
    buf[w] = '\0';
    if (*p) snprintf(buf + w, n - w, "...");
    return buf;
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
 * the first lines (up to the first that holds a NUL byte, which the reading
 * loop then refuses). */
static void guess_layout(FILE *f, const ncf_read_options *opt, const char **sep, int *lists)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int n_lines = 0, min_fields = 1 << 30, max_fields = 0, first = 1;
    const char *guess = NULL;
    int decided = 0;
    fields fl = {0};
    while (n_lines < 50 && (len = getline(&line, &cap, f)) >= 0) {
        if (first) skip_bom(line, &len);
        first = 0;
        if (memchr(line, '\0', (size_t)len)) break;
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

/* Appends to the string d (room for n bytes), cutting what does not fit. */
static void append(char *d, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *d, size_t n, const char *fmt, ...)
{
    size_t w = strlen(d);
    va_list ap;
    va_start(ap, fmt);
    if (w + 1 < n) vsnprintf(d + w, n - w, fmt, ap);
    va_end(ap);
}

/* Tells opt->on_layout how the file is read (see ncf_read_options). */
static void report_layout(const char *path, const ncf_read_options *opt, int lists, const char *sep, int ucol,
                          int icol, int rcol, int tcol, int header)
{
    if (!opt->on_layout) return;
    char d[256] = "";
    if (lists) {
        append(d, sizeof d, "whitespace-separated lists: user item item ...");
    } else {
        const char *name = !sep ? "whitespace" : strcmp(sep, "\t") == 0 ? "tab" : strcmp(sep, ",") == 0 ? "comma" : NULL;
        if (name) append(d, sizeof d, "%s-separated", name);
        else append(d, sizeof d, "'%.32s'-separated", sep);
        if (ucol == 0 && icol == 1 && (rcol < 0 || rcol == 2) && (tcol < 0 || (tcol == 3 && rcol == 2))) {
            append(d, sizeof d, " user item%s%s", rcol >= 0 ? " rating" : "", tcol >= 0 ? " time" : "");
        } else {
            append(d, sizeof d, ": user in column %d, item in column %d", ucol + 1, icol + 1);
            if (rcol >= 0) append(d, sizeof d, ", rating in column %d", rcol + 1);
            if (tcol >= 0) append(d, sizeof d, ", time in column %d", tcol + 1);
        }
        if (header) append(d, sizeof d, ", after a header line");
    }
    int guessed = lists ? opt->format == NCF_FORMAT_AUTO : !opt->sep;
    opt->on_layout(opt->layout_ctx, path, d, guessed);
}

/* An id field (or a guessed header's field) must be clean text (see
 * bad_text_at); else a FORMAT error naming the line, the field, what it is
 * and the first bad byte. */
static ncf_status check_id_text(const char *path, int64_t lineno, int field, const char *what, const char *s,
                                ncf_err *err)
{
    long at = bad_text_at(s);
    if (at < 0) return NCF_OK;
    char buf[64];
    unsigned char c = (unsigned char)s[at];
    return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: the %s '%s' %s (byte 0x%02X at offset %ld)", path,
                     (long long)lineno, field, what, shown(s, buf, sizeof buf),
                     c < 0x80 ? "holds a control character" : "is not valid UTF-8", c, at);
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
    char shown_buf[64];
    if (lists) report_layout(path, opt, 1, NULL, 0, 1, -1, -1, 0);
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (lineno == 1) skip_bom(line, &len);
        const char *nul = memchr(line, '\0', (size_t)len);
        if (nul) {
            st = ncf_fail_(err, NCF_ERR_FORMAT,
                           "%s:%lld: a NUL byte (byte %lld of the line): not a text file (UTF-16 must be "
                           "converted to UTF-8)",
                           path, (long long)lineno, (long long)(nul - line) + 1);
            goto done;
        }
        chomp(line, &len);
        if (blank(line)) continue;
        if (lists) {
            if (split_line(line, NULL, &fl) != 0) {
                st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
                goto done;
            }
            int32_t u, i;
            if (!integer_ids && (st = check_id_text(path, lineno, 1, "user id", fl.f[0], err)) != NCF_OK) goto done;
            if (id_index(r.x->users, integer_ids, fl.f[0], &r.max_user, &u) != NCF_OK) {
                st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected a user id first, found '%s'",
                               path, (long long)lineno, shown(fl.f[0], shown_buf, sizeof shown_buf));
                goto done;
            }
            /* A list line names the user even with no items: keep the user. */
            for (int k = 1; k < fl.n; k++) {
                if (!integer_ids && (st = check_id_text(path, lineno, k + 1, "item id", fl.f[k], err)) != NCF_OK)
                    goto done;
                if (id_index(r.x->items, integer_ids, fl.f[k], &r.max_item, &i) != NCF_OK) {
                    st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id, found '%s'",
                                   path, (long long)lineno, k + 1, shown(fl.f[k], shown_buf, sizeof shown_buf));
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
                /* a guessed header must be text: column names, not binary data */
                for (int k = 0; h && k < fl2.n; k++)
                    if ((st = check_id_text(path, lineno, k + 1, "header's column name", fl2.f[k], err)) != NCF_OK)
                        goto done;
                header = h;
            }
            report_layout(path, opt, 0, sep, ucol, icol, rcol, tcol, header);
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
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a rating (finite number), found '%s'",
                           path, (long long)lineno, rcol + 1, shown(fl.f[rcol], shown_buf, sizeof shown_buf));
            goto done;
        }
        if (tcol >= 0) {
            double tv;
            if (ncf_parse_int64_(fl.f[tcol], &time) != 0) {
                if (ncf_parse_double_(fl.f[tcol], &tv) != 0 || tv < -9e18 || tv > 9e18) {
                    st = ncf_fail_(err, NCF_ERR_FORMAT,
                                   "%s:%lld: field %d: expected a timestamp (number), found '%s'",
                                   path, (long long)lineno, tcol + 1, shown(fl.f[tcol], shown_buf, sizeof shown_buf));
                    goto done;
                }
                time = (int64_t)tv;
            }
        }
        int32_t u, i;
        if (!integer_ids && ((st = check_id_text(path, lineno, ucol + 1, "user id", fl.f[ucol], err)) != NCF_OK ||
                             (st = check_id_text(path, lineno, icol + 1, "item id", fl.f[icol], err)) != NCF_OK))
            goto done;
        if (id_index(r.x->users, integer_ids, fl.f[ucol], &r.max_user, &u) != NCF_OK) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a user id%s, found '%s'",
                           path, (long long)lineno, ucol + 1,
                           integer_ids ? " (non-negative integer)" : "", shown(fl.f[ucol], shown_buf, sizeof shown_buf));
            goto done;
        }
        if (id_index(r.x->items, integer_ids, fl.f[icol], &r.max_item, &i) != NCF_OK) {
            st = ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id%s, found '%s'",
                           path, (long long)lineno, icol + 1,
                           integer_ids ? " (non-negative integer)" : "", shown(fl.f[icol], shown_buf, sizeof shown_buf));
            goto done;
        }
        if (opt->use_min_rating && rating < opt->min_rating) continue;
        st = add_pair(&r, u, i, (float)rating, time, lineno, err);
        if (st != NCF_OK) goto done;
    }
    if (ferror(f)) {
        st = ncf_fail_(err, NCF_ERR_IO, "%s: read error: %s", path, strerror(errno));
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
