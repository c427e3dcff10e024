/* reader_impl.h — what reader.c (the rules of the file formats, the
 * reference reader) and readpar.c (the parallel reader) share: the file's
 * bytes, its layout once decided, one line's parse, and the dedup rule.
 * Internal to src/data. */
#ifndef NCF_DATA_READER_IMPL_H
#define NCF_DATA_READER_IMPL_H

#include <sys/types.h>

#include "data/data_impl.h"

/* A file's bytes: mapped (a regular file) or read into memory (anything
 * else, e.g. a pipe). */
typedef struct rd_text {
    const char *p;
    size_t n;
    void *map;   /* munmap(map, n) when not NULL */
    char *own;   /* free(own) when not NULL */
} rd_text;

ncf_status rd_text_open_(const char *path, rd_text *t, ncf_err *err);
void rd_text_close_(rd_text *t);

/* A line as getline(3) would return it from t at *pos (the '\n' included,
 * a NUL after it), copied into *buf (capacity *cap, grown as needed);
 * -1 at the end of t, -2 out of memory. Advances *pos. */
ssize_t rd_getline_(const rd_text *t, size_t *pos, char **buf, size_t *cap);

/* How a file's lines are read, once decided. */
typedef struct rd_layout {
    const char *path;
    const char *sep;     /* NULL: runs of spaces and tabs */
    int lists;           /* user item item ... */
    int ucol, icol, rcol, tcol; /* rating/time -1: none */
    int need;            /* the largest column used */
    int integer_ids;
    int use_min;
    double min_rating;
} rd_layout;

/* Fields of a line split in place. */
typedef struct rd_fields {
    char **f;
    int n, cap;
} rd_fields;

/* One line as the rules read it. */
typedef struct rd_line {
    int blank;              /* nothing to read (only spaces and tabs) */
    const char *user;       /* the user field */
    char *const *items;     /* n_items item fields */
    int n_items;
    double rating;          /* 1 when there is no rating column */
    int64_t time;           /* 0 when there is no time column */
    int keep;               /* 0: below min_rating (its ids still count) */
} rd_line;

/* Reads one line: `line` is a NUL-terminated copy of len bytes as
 * rd_getline_ gives it (a byte-order mark already skipped), split in place
 * into fl; lineno names it in errors. Every check of the format runs here,
 * in the order that decides which error a bad line gets. NCF_OK and *o,
 * or an error naming path:lineno. */
ncf_status rd_parse_line_(const rd_layout *L, char *line, ssize_t len, int64_t lineno, rd_fields *fl, rd_line *o,
                          ncf_err *err);

/* Decides the layout of t (separator, lists, header, default columns) as
 * the first lines say, reporting it through opt->on_layout. *pos and
 * *lineno receive where the data lines start (a header line and the
 * blank lines before the first data line consumed; a byte-order mark at
 * the start skipped) and the lines before it. */
ncf_status rd_layout_decide_(const char *path, const rd_text *t, const ncf_read_options *opt, int integer_ids,
                             rd_layout *L, size_t *pos, int64_t *lineno, ncf_err *err);

/* Reads the data lines of t from pos (lineno lines before it) into *out,
 * in parallel (readpar.c). The result equals the reference reader's. */
ncf_status rd_read_parallel_(const rd_text *t, const rd_layout *L, size_t pos, int64_t lineno, ncf_interactions **out,
                             int32_t *max_user, int32_t *max_item, ncf_err *err);

/* The reference: the same lines one after another (reader.c). */
ncf_status ncf_read_interactions_ref_(const char *path, const ncf_read_options *opt, int integer_ids,
                                      ncf_interactions **out, int32_t *max_user, int32_t *max_item, ncf_err *err);

#endif
