/* ncf/data.h — reading implicit-feedback data, id maps, datasets, the
 * leave-one-out split and the synthetic data generator.
 *
 * Raw user and item ids are strings; an ncf_idmap maps them to dense 0-based
 * indices in order of first appearance (the NCF authors' files, whose ids are
 * already 0-based integers, map id k to index k). An ncf_interactions holds
 * deduplicated (user, item) pairs as read from a file; an ncf_dataset is what
 * training and evaluation use: the training positives grouped by user and
 * the leave-one-out test cases with their sampled negatives.
 *
 * Errors name the file, the line and what was expected. Nothing here prints.
 * Objects are not thread-safe to modify; const access is safe from any thread. */
#ifndef NCF_DATA_H
#define NCF_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "ncf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- id maps -------------------------------------------------------------- */
typedef struct ncf_idmap ncf_idmap;

ncf_status ncf_idmap_create(ncf_idmap **out);
void ncf_idmap_free(ncf_idmap *map); /* NULL-safe */
/* Index of raw id (len bytes, need not be NUL-terminated), or -1. */
int32_t ncf_idmap_find(const ncf_idmap *map, const char *raw, size_t len);
/* Index of raw id, adding it at the end when new. */
ncf_status ncf_idmap_add(ncf_idmap *map, const char *raw, size_t len, int32_t *index);
int32_t ncf_idmap_size(const ncf_idmap *map);
/* The raw id of index (NUL-terminated, owned by the map), or NULL. */
const char *ncf_idmap_raw(const ncf_idmap *map, int32_t index);
ncf_status ncf_idmap_clone(const ncf_idmap *map, ncf_idmap **out);

/* ---- reading interactions ------------------------------------------------- */
typedef enum ncf_format {
    NCF_FORMAT_AUTO = 0,  /* NCF prefix if PREFIX.train.rating exists, else guess from the file */
    NCF_FORMAT_NCF,       /* PREFIX.train.rating / .test.rating / .test.negative */
    NCF_FORMAT_DELIMITED, /* one interaction per line: user SEP item [SEP rating [SEP time]] */
    NCF_FORMAT_LISTS      /* LightGCN style: user item item ... (whitespace) */
} ncf_format;

typedef struct ncf_read_options {
    ncf_format format;
    const char *sep;    /* NULL: guess ("::", tab, comma, or whitespace) */
    int header;         /* -1: guess (a first line whose id columns are not
                           integers and whose rating column is not a number);
                           0: none; 1: skip the first line */
    int user_col;       /* 0-based columns; rating_col/time_col -1 = none */
    int item_col;
    int rating_col;     /* -2: guess (column 2 when present) */
    int time_col;       /* -2: guess (column 3 when present) */
    double min_rating;  /* keep lines whose rating >= min_rating ... */
    int use_min_rating; /* ... when this is non-zero */
    /* When not NULL, called once per file read (the data file, a --test
     * file; not the NCF format's files, whose layout is fixed) as soon as
     * its layout is decided, before any line is stored: layout describes
     * it, e.g. "tab-separated user item rating time" or "whitespace-
     * separated lists: user item item ...", and guessed is 1 when the
     * format or the separator was guessed rather than given. */
    void (*on_layout)(void *ctx, const char *path, const char *layout, int guessed);
    void *layout_ctx;
} ncf_read_options;

void ncf_read_options_default(ncf_read_options *opt);

/* Deduplicated interactions in file order of first appearance. A repeated
 * (user, item) pair counts once; it keeps its latest timestamp and line.
 * A file must be text: a NUL byte, or an id that is not UTF-8 or holds a
 * control character, is an error naming file and line; a leading UTF-8
 * byte-order mark is skipped. Ratings and timestamps must be finite. */
typedef struct ncf_interactions {
    int64_t n;
    int32_t *user;    /* index into users */
    int32_t *item;    /* index into items */
    float *rating;    /* rating column, 1 when absent */
    int64_t *time;    /* timestamp column, 0 when absent */
    int64_t *line;    /* 1-based line of the (latest) occurrence */
    int has_time;
    ncf_idmap *users; /* owned */
    ncf_idmap *items; /* owned */
} ncf_interactions;

ncf_status ncf_interactions_read(const char *path, const ncf_read_options *opt,
                                 ncf_interactions **out, ncf_err *err);
void ncf_interactions_free(ncf_interactions *x); /* NULL-safe */

/* ---- datasets ------------------------------------------------------------- */
/* Held-out evaluation cases: one (user, item) pair each, with the sampled
 * protocol's negatives (neg_offsets has n + 1 entries; none when the data
 * was loaded for full ranking only). Cases are sorted by user; a user with
 * several held-out items (Gowalla's test file) has several cases in a row. */
typedef struct ncf_cases {
    int32_t n;
    int32_t *users;
    int32_t *items;
    int64_t *neg_offsets;
    int32_t *negs;
} ncf_cases;

typedef struct ncf_dataset {
    int32_t n_users, n_items;
    ncf_idmap *user_ids, *item_ids; /* owned */

    /* Training positives, CSR by user, items strictly increasing per user. */
    int64_t n_train;
    int64_t *train_offsets; /* n_users + 1 */
    int32_t *train_items;   /* n_train */

    /* Test cases (leave-one-out: each user's latest interaction), and the
     * validation cases (each user's second-latest) when asked for. Negatives
     * are as listed in the file; evaluation drops the held-out item and
     * repeats. */
    ncf_cases test;
    ncf_cases valid;
    int negatives_drawn; /* 1 when negatives were drawn with the seed */

    /* Loaded for one process of sharded training (ncf_dataset_load_shards,
     * ncf/train.h): own_users (n_users bytes) is 1 for the users of the
     * shards this process owns, and only their training items are in
     * train_items; the other users' entries are never written (their
     * values are unspecified, their pages take no memory).
     * Everything else (sizes, offsets, id maps, the cases) is the whole
     * data's. NULL: the
     * whole data is here. lines_read: the data lines this process parsed
     * to load it (0 when not counted). */
    int32_t own_shards;
    uint8_t *own_users;
    int64_t lines_read;
} ncf_dataset;

typedef struct ncf_load_options {
    ncf_read_options read;
    int n_negatives;       /* test negatives to draw when no negatives file: 99 */
    uint64_t seed;         /* seed for those draws */
    int validation;        /* also hold out a validation case per user (see
                              ncf_dataset_from_interactions); with the NCF
                              format, used when PREFIX.valid.rating is absent:
                              each user's latest training interaction */
    const char *test_path; /* a separate test file (same read options, raw
                              ids as in the data): the data file is then all
                              training and every pair of this file is a test
                              case; users and items only it names are added */
} ncf_load_options;

void ncf_load_options_default(ncf_load_options *opt);

/* Loads a dataset. path is either an NCF prefix (PREFIX.train.rating exists;
 * PREFIX.valid.rating/.valid.negative are read when present) or a single
 * interactions file, which is split leave-one-out in memory as
 * ncf_dataset_from_interactions does (or, with opt->test_path, used whole
 * for training). */
ncf_status ncf_dataset_load(const char *path, const ncf_load_options *opt,
                            ncf_dataset **out, ncf_err *err);
void ncf_dataset_free(ncf_dataset *ds); /* NULL-safe */

/* ncf_dataset_load for one process of sharded training with `shards`
 * shards (docs/distributed.md); collective: every process of the group
 * (ncf_dist_size, ncf/train.h) calls it with the same arguments. With one
 * process or shards 0, ncf_dataset_load. Otherwise the result's own_users
 * marks the users of the shards this process owns, and train_items holds
 * only their items. An NCF prefix whose training file is sorted by user
 * (as ncf split writes it), with its held-out negatives in files and no
 * validation carved from the training lines, is read in two passes: each
 * process parses a 1/N slice of the training file (the counts and bytes
 * of every user, exchanged), then the lines of its own users; anything
 * else is read whole by every process, which then keeps its users' items
 * only. The sizes, offsets, id maps and cases are the whole data's, the
 * same as ncf_dataset_load's. An error found by one process (a bad line
 * in its slice, memory) is returned by that process only, and the others
 * may then wait in a collective: a caller ends the group on an error
 * (ncf_dist_abort), as `ncf train` does. */
ncf_status ncf_dataset_load_shards(const char *path, const ncf_load_options *opt, int shards, ncf_dataset **out,
                                   ncf_err *err);

/* Leave-one-out: each user's latest interaction (ties: the later line) is
 * held out unless the user has a single interaction; with validation, the
 * latest of the rest also, as a validation case, when the user has three or
 * more. n_negatives evaluation negatives are drawn per case without
 * repetition among the items the user never interacted with. */
ncf_status ncf_dataset_from_interactions(const ncf_interactions *x, int n_negatives, int validation,
                                         uint64_t seed, ncf_dataset **out, ncf_err *err);

/* Writes the same split in the NCF format: PREFIX.train.rating,
 * PREFIX.test.rating, PREFIX.test.negative, with validation also
 * PREFIX.valid.rating and PREFIX.valid.negative, plus PREFIX.user.map and
 * PREFIX.item.map (index TAB raw id) so the raw ids survive. Each file is
 * written to a temporary name and renamed; on error none is left behind. */
ncf_status ncf_split_write(const ncf_interactions *x, const char *prefix, int n_negatives, int validation,
                           uint64_t seed, ncf_err *err);

/* Adds to ds the raw ids of users and items (either may be NULL) it does
 * not have, after its own: users with no training interaction and no case,
 * items no one has interacted with. For warm starts, so that a model's id
 * maps are the union of an earlier model's and today's data's. *added_users
 * and *added_items (may be NULL) receive how many were added. */
ncf_status ncf_dataset_add_ids(ncf_dataset *ds, const ncf_idmap *users, const ncf_idmap *items, int32_t *added_users,
                               int32_t *added_items, ncf_err *err);

/* A copy of src expressed in other id maps (a model's): training pairs and
 * test cases whose user or held-out item the maps lack are dropped, as are
 * unknown negatives; *dropped counts dropped test cases. The copy owns
 * clones of users and items. */
ncf_status ncf_dataset_remap(const ncf_dataset *src, const ncf_idmap *users, const ncf_idmap *items,
                             ncf_dataset **out, int32_t *dropped, ncf_err *err);

/* 1 if user has item among its training positives (binary search). */
int ncf_dataset_has_train(const ncf_dataset *ds, int32_t user, int32_t item);

/* ---- synthetic data ------------------------------------------------------- */
typedef struct ncf_synth_options {
    int32_t n_users, n_items;
    int64_t n_interactions; /* target total (each user gets at least 2) */
    int32_t n_clusters;     /* latent taste groups */
    double zipf;            /* item popularity exponent */
    double focus;           /* share of a user's picks from their own groups */
    uint64_t seed;
} ncf_synth_options;

void ncf_synth_options_default(ncf_synth_options *opt);

/* Writes user TAB item TAB rating TAB timestamp lines to path (by the rule
 * of ncf/outfile.h). Deterministic for a given set of options. */
ncf_status ncf_synth_write(const ncf_synth_options *opt, const char *path, ncf_err *err);

#ifdef __cplusplus
}
#endif
#endif
