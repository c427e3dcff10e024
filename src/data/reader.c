/* reader.c — reads interaction files: MovieLens ratings.dat ("::"), u.data
 * (tab), ratings.csv (comma, header), any delimited user/item[/rating[/time]]
 * file with chosen columns, and LightGCN-style "user item item ..." lists.
 * The rules: which layout a file has (guessed from its first lines), whether
 * its first line is a header, and what one line holds or why it is refused;
 * and the reference reader, which applies them line by line with one pass
 * and a hash of pairs (ncf_read_interactions_ref_). The reader the library
 * uses is readpar.c's, which must give the same result (tested against this
 * one). Does not split or sample: see dataset.c.
 * Refuses what is not text: a NUL byte anywhere, ids that are not UTF-8 or
 * hold control characters; a UTF-8 byte-order mark at the start is skipped. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/core.h"
#include "data/reader_impl.h"

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
/* Splits line in place on sep (NULL: runs of spaces/tabs). Returns -1 on OOM. */
static int split_line(char *line, const char *sep, rd_fields *out)
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


/* ---- the file's bytes ------------------------------------------------------- */
ncf_status rd_text_open_(const char *path, rd_text *t, ncf_err *err)
{
    memset(t, 0, sizeof *t);
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ncf_fail_(err, NCF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            close(fd);
            t->map = m;
            t->p = m;
            t->n = (size_t)sb.st_size;
            return NCF_OK;
        }
    }
    /* not a regular file (or not mappable): read it all */
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    for (;;) {
        if (!b) {
            close(fd);
            return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
        }
        if (n == cap) {
            char *g = cap * 2 > cap ? realloc(b, cap * 2) : NULL;
            if (!g) free(b);
            b = g;
            cap *= 2;
            continue;
        }
        ssize_t got = read(fd, b + n, cap - n);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) {
            int e = errno;
            free(b);
            close(fd);
            return ncf_fail_(err, NCF_ERR_IO, "%s: read error: %s", path, strerror(e));
        }
        if (got == 0) break;
        n += (size_t)got;
    }
    close(fd);
    t->own = b;
    t->p = b;
    t->n = n;
    return NCF_OK;
}

void rd_text_close_(rd_text *t)
{
    if (t->map) munmap(t->map, t->n);
    free(t->own);
    memset(t, 0, sizeof *t);
}

ssize_t rd_getline_(const rd_text *t, size_t *pos, char **buf, size_t *cap)
{
    if (*pos >= t->n) return -1;
    const char *s = t->p + *pos;
    const char *nl = memchr(s, '\n', t->n - *pos);
    size_t len = nl ? (size_t)(nl - s) + 1 : t->n - *pos;
    if (len + 1 > *cap) {
        size_t c = *cap ? *cap : 128;
        while (c < len + 1) c *= 2;
        char *b = realloc(*buf, c);
        if (!b) return -2;
        *buf = b;
        *cap = c;
    }
    memcpy(*buf, s, len);
    (*buf)[len] = '\0';
    *pos += len;
    return (ssize_t)len;
}

/* ---- the layout ------------------------------------------------------------- */
/* Guesses the separator and whether the file holds user-item lists, from
 * the first lines (up to the first that holds a NUL byte, which the reading
 * then refuses). */
static void guess_layout(const rd_text *t, const ncf_read_options *opt, const char **sep, int *lists)
{
    char *line = NULL;
    size_t cap = 0, pos = 0;
    ssize_t len;
    int n_lines = 0, min_fields = 1 << 30, max_fields = 0, first = 1;
    const char *guess = NULL;
    int decided = 0;
    rd_fields fl = {0};
    while (n_lines < 50 && (len = rd_getline_(t, &pos, &line, &cap)) >= 0) {
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


static ncf_status nul_error(const char *path, int64_t lineno, const char *line, const char *nul, ncf_err *err)
{
    return ncf_fail_(err, NCF_ERR_FORMAT,
                     "%s:%lld: a NUL byte (byte %lld of the line): not a text file (UTF-16 must be converted to UTF-8)",
                     path, (long long)lineno, (long long)(nul - line) + 1);
}

ncf_status rd_layout_decide_(const char *path, const rd_text *t, const ncf_read_options *opt, int integer_ids,
                             rd_layout *L, size_t *pos_out, int64_t *lineno_out, ncf_err *err)
{
    ncf_status st = NCF_OK;
    memset(L, 0, sizeof *L);
    L->path = path;
    L->integer_ids = integer_ids;
    L->use_min = opt->use_min_rating;
    L->min_rating = opt->min_rating;
    guess_layout(t, opt, &L->sep, &L->lists);
    L->ucol = opt->user_col;
    L->icol = opt->item_col;
    L->rcol = opt->rating_col;
    L->tcol = opt->time_col;
    const int has_bom = t->n >= 3 && (unsigned char)t->p[0] == 0xEF && (unsigned char)t->p[1] == 0xBB &&
                        (unsigned char)t->p[2] == 0xBF;
    size_t pos = 0;
    int64_t lineno = 0;
    char *line = NULL, *first = NULL;
    size_t cap = 0;
    rd_fields fl2 = {0};
    if (L->lists) {
        report_layout(path, opt, 1, NULL, 0, 1, -1, -1, 0);
        L->rcol = L->tcol = -1;
        *pos_out = has_bom ? 3 : 0;
        *lineno_out = 0;
        return NCF_OK;
    }
    int header = opt->header;
    for (;;) {
        const size_t start = pos;
        ssize_t len = rd_getline_(t, &pos, &line, &cap);
        if (len == -2) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if (len < 0) { /* no data line: nothing to decide */
            if (L->rcol == -2) L->rcol = -1;
            if (L->tcol == -2) L->tcol = -1;
            break;
        }
        lineno++;
        size_t skipped = 0;
        if (lineno == 1 && has_bom) {
            skip_bom(line, &len);
            skipped = 3;
        }
        const char *nul = memchr(line, '\0', (size_t)len);
        if (nul) {
            st = nul_error(path, lineno, line, nul, err);
            goto done;
        }
        chomp(line, &len);
        if (blank(line)) continue;
        /* The first data line: decide the header and default columns from it and the next. */
        first = strdup(line);
        if (!first || split_line(first, L->sep, &fl2) != 0) {
            st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
            goto done;
        }
        if (L->rcol == -2) L->rcol = fl2.n > 2 ? 2 : -1;
        if (L->tcol == -2) L->tcol = fl2.n > 3 ? 3 : -1;
        const int ucol = L->ucol, icol = L->icol, rcol = L->rcol, tcol = L->tcol;
        if (header < 0) {
            /* A header names columns: its rating/time fields are not numbers
             * (or, without them, its id fields are not numbers while ids
             * further down are). */
            int h = 0;
            if (rcol >= 0 && rcol < fl2.n && !is_number(fl2.f[rcol])) h = 1;
            if (tcol >= 0 && tcol < fl2.n && !is_number(fl2.f[tcol])) h = 1;
            if (!h && rcol < 0 && ucol < fl2.n && icol < fl2.n && !is_number(fl2.f[ucol]) && !is_number(fl2.f[icol])) {
                size_t npos = pos;
                char *next = NULL;
                size_t ncap = 0;
                ssize_t nlen = rd_getline_(t, &npos, &next, &ncap);
                if (nlen > 0) {
                    chomp(next, &nlen);
                    rd_fields fl3 = {0};
                    if (split_line(next, L->sep, &fl3) == 0 && fl3.n > ucol && fl3.n > icol && is_number(fl3.f[ucol]) &&
                        is_number(fl3.f[icol]))
                        h = 1;
                    free(fl3.f);
                }
                free(next);
            }
            /* a guessed header must be text: column names, not binary data */
            for (int k = 0; h && k < fl2.n; k++)
                if ((st = check_id_text(path, lineno, k + 1, "header's column name", fl2.f[k], err)) != NCF_OK)
                    goto done;
            header = h;
        }
        report_layout(path, opt, 0, L->sep, ucol, icol, rcol, tcol, header);
        if (!header) { /* the data start with this line */
            pos = start + skipped;
            lineno--;
        }
        break;
    }
    L->need = L->ucol;
    if (L->icol > L->need) L->need = L->icol;
    if (L->rcol > L->need) L->need = L->rcol;
    if (L->tcol > L->need) L->need = L->tcol;
    *pos_out = pos;
    *lineno_out = lineno;
done:
    free(line);
    free(first);
    free(fl2.f);
    return st;
}

/* ---- one line ----------------------------------------------------------------- */
/* Checks an id field as an index would be made of it: an integer in
 * [0, INT32_MAX) with integer_ids, else a non-empty string. */
static int id_ok(int integer_ids, const char *field)
{
    if (integer_ids) {
        int64_t v;
        return ncf_parse_int64_(field, &v) == 0 && v >= 0 && v < INT32_MAX;
    }
    return field[0] != '\0';
}

ncf_status rd_parse_line_(const rd_layout *L, char *line, ssize_t len, int64_t lineno, rd_fields *fl, rd_line *o,
                          ncf_err *err)
{
    const char *path = L->path;
    char shown_buf[64];
    memset(o, 0, sizeof *o);
    const char *nul = memchr(line, '\0', (size_t)len);
    if (nul) return nul_error(path, lineno, line, nul, err);
    chomp(line, &len);
    if (blank(line)) {
        o->blank = 1;
        return NCF_OK;
    }
    ncf_status st;
    if (L->lists) {
        if (split_line(line, NULL, fl) != 0) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
        if (!L->integer_ids && (st = check_id_text(path, lineno, 1, "user id", fl->f[0], err)) != NCF_OK) return st;
        if (!id_ok(L->integer_ids, fl->f[0]))
            return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected a user id first, found '%s'", path,
                             (long long)lineno, shown(fl->f[0], shown_buf, sizeof shown_buf));
        /* A list line names the user even with no items: keep the user. */
        for (int k = 1; k < fl->n; k++) {
            if (!L->integer_ids && (st = check_id_text(path, lineno, k + 1, "item id", fl->f[k], err)) != NCF_OK)
                return st;
            if (!id_ok(L->integer_ids, fl->f[k]))
                return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id, found '%s'", path,
                                 (long long)lineno, k + 1, shown(fl->f[k], shown_buf, sizeof shown_buf));
        }
        o->user = fl->f[0];
        o->items = fl->f + 1;
        o->n_items = fl->n - 1;
        o->rating = 1.0;
        o->keep = 1;
        return NCF_OK;
    }
    if (split_line(line, L->sep, fl) != 0) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
    const int ucol = L->ucol, icol = L->icol, rcol = L->rcol, tcol = L->tcol;
    if (fl->n <= L->need)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: expected at least %d fields separated by %s, found %d", path,
                         (long long)lineno, L->need + 1, sep_name(L->sep), fl->n);
    double rating = 1.0;
    int64_t time = 0;
    if (rcol >= 0 && ncf_parse_double_(fl->f[rcol], &rating) != 0)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a rating (finite number), found '%s'", path,
                         (long long)lineno, rcol + 1, shown(fl->f[rcol], shown_buf, sizeof shown_buf));
    if (tcol >= 0) {
        double tv;
        if (ncf_parse_int64_(fl->f[tcol], &time) != 0) {
            if (ncf_parse_double_(fl->f[tcol], &tv) != 0 || tv < -9e18 || tv > 9e18)
                return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a timestamp (number), found '%s'",
                                 path, (long long)lineno, tcol + 1, shown(fl->f[tcol], shown_buf, sizeof shown_buf));
            time = (int64_t)tv;
        }
    }
    if (!L->integer_ids && ((st = check_id_text(path, lineno, ucol + 1, "user id", fl->f[ucol], err)) != NCF_OK ||
                            (st = check_id_text(path, lineno, icol + 1, "item id", fl->f[icol], err)) != NCF_OK))
        return st;
    if (!id_ok(L->integer_ids, fl->f[ucol]))
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected a user id%s, found '%s'", path,
                         (long long)lineno, ucol + 1, L->integer_ids ? " (non-negative integer)" : "",
                         shown(fl->f[ucol], shown_buf, sizeof shown_buf));
    if (!id_ok(L->integer_ids, fl->f[icol]))
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s:%lld: field %d: expected an item id%s, found '%s'", path,
                         (long long)lineno, icol + 1, L->integer_ids ? " (non-negative integer)" : "",
                         shown(fl->f[icol], shown_buf, sizeof shown_buf));
    o->user = fl->f[ucol];
    o->items = fl->f + icol;
    o->n_items = 1;
    o->rating = rating;
    o->time = time;
    o->keep = !(L->use_min && rating < L->min_rating);
    return NCF_OK;
}

/* ---- the reference reader -------------------------------------------------------- */
/* dedup table: (user, item) -> position in the arrays */
typedef struct pair_table {
    uint64_t *keys; /* (user << 32 | item) + 1; 0 = empty */
    int64_t *pos;
    size_t n_slots, n;
} pair_table;

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
        size_t s = ncf_mix64_(t->keys[k]) & (n_slots - 1);
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
    size_t s = ncf_mix64_(key) & mask;
    while (t->keys[s]) {
        if (t->keys[s] == key) return t->pos[s];
        s = (s + 1) & mask;
    }
    t->keys[s] = key;
    t->pos[s] = new_pos;
    t->n++;
    return -1;
}

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

/* Maps a raw id field (checked by rd_parse_line_) to an index. */
static ncf_status id_index(ncf_idmap *map, int integer_ids, const char *field, int32_t *max_id, int32_t *index)
{
    if (integer_ids) {
        int64_t v = 0;
        (void)ncf_parse_int64_(field, &v);
        *index = (int32_t)v;
        if (*index > *max_id) *max_id = *index;
        return NCF_OK;
    }
    return ncf_idmap_add(map, field, strlen(field), index);
}

typedef struct reader {
    const char *path;
    ncf_interactions *x;
    int64_t cap;
    pair_table seen;
} reader;

static ncf_status add_pair(reader *r, int32_t u, int32_t i, float rating, int64_t time, int64_t lineno, ncf_err *err)
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
    if (reserve(x, &r->cap, x->n + 1) != 0) return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", r->path);
    x->user[x->n] = u;
    x->item[x->n] = i;
    x->rating[x->n] = rating;
    x->time[x->n] = time;
    x->line[x->n] = lineno;
    x->n++;
    return NCF_OK;
}

ncf_status ncf_read_interactions_ref_(const char *path, const ncf_read_options *opt, int integer_ids,
                                      ncf_interactions **out, int32_t *max_user, int32_t *max_item, ncf_err *err)
{
    rd_text t;
    ncf_status st = rd_text_open_(path, &t, err);
    if (st != NCF_OK) return st;
    reader r = {.path = path};
    int32_t mu = -1, mi = -1;
    char *line = NULL;
    size_t cap = 0, pos;
    rd_fields fl = {0};
    rd_layout L;
    int64_t lineno;
    r.x = calloc(1, sizeof *r.x);
    if (!r.x || (!integer_ids && (ncf_idmap_create(&r.x->users) != NCF_OK || ncf_idmap_create(&r.x->items) != NCF_OK))) {
        st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
        goto done;
    }
    if ((st = rd_layout_decide_(path, &t, opt, integer_ids, &L, &pos, &lineno, err)) != NCF_OK) goto done;
    ssize_t len;
    while ((len = rd_getline_(&t, &pos, &line, &cap)) >= 0) {
        lineno++;
        rd_line o;
        if ((st = rd_parse_line_(&L, line, len, lineno, &fl, &o, err)) != NCF_OK) goto done;
        if (o.blank) continue;
        int32_t u, i;
        if ((st = id_index(r.x->users, integer_ids, o.user, &mu, &u)) != NCF_OK) goto nomem;
        for (int k = 0; k < o.n_items; k++) {
            if ((st = id_index(r.x->items, integer_ids, o.items[k], &mi, &i)) != NCF_OK) goto nomem;
            if (o.keep && (st = add_pair(&r, u, i, (float)o.rating, o.time, lineno, err)) != NCF_OK) goto done;
        }
    }
    if (len == -2) goto nomem;
    r.x->has_time = L.tcol >= 0 && !L.lists;
    if (max_user && mu > *max_user) *max_user = mu;
    if (max_item && mi > *max_item) *max_item = mi;
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
done:
    free(line);
    free(fl.f);
    free(r.seen.keys);
    free(r.seen.pos);
    rd_text_close_(&t);
    if (st != NCF_OK) {
        ncf_interactions_free(r.x);
        return st;
    }
    *out = r.x;
    return NCF_OK;
}

/* ---- the reader --------------------------------------------------------------------- */
ncf_status ncf_read_interactions_(const char *path, const ncf_read_options *opt, int integer_ids,
                                  ncf_interactions **out, int32_t *max_user, int32_t *max_item, ncf_err *err)
{
    if (opt->sep && !opt->sep[0]) return ncf_fail_(err, NCF_ERR_ARG, "the separator is empty");
    rd_text t;
    ncf_status st = rd_text_open_(path, &t, err);
    if (st != NCF_OK) return st;
    rd_layout L;
    size_t pos;
    int64_t lineno;
    st = rd_layout_decide_(path, &t, opt, integer_ids, &L, &pos, &lineno, err);
    if (st == NCF_OK) st = rd_read_parallel_(&t, &L, pos, lineno, out, max_user, max_item, err);
    rd_text_close_(&t);
    return st;
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
