/* fuzz_reader.c — libFuzzer harness for the interactions reader
 * (src/data/reader.c) and the single-file dataset loader (leave-one-out
 * split, negative draws; src/data/dataset.c).
 *
 * Input layout: 4 option bytes, then the file's bytes.
 *   byte 0: format (auto, delimited, lists) and header (guess, none, skip)
 *   byte 1: separator (guess, "::", tab, comma, space, ';', "||")
 *   byte 2: user/item/rating/time columns (defaults or other choices)
 *   byte 3: --min-rating, and whether to load a dataset (validation,
 *           negatives, a --test file: the same bytes again) or only read
 * Every call must return NCF_OK or an error with a message, never crash,
 * leak or read out of bounds; a successful read is checked for
 * consistency (indices inside the id maps), and every read must equal the
 * reference reader's (reader.c, line by line): the same interactions, id
 * maps and error message. */
#include <assert.h>

#include "data/reader_impl.h"
#include "fuzz_util.h"
#include "ncf/data.h"

/* The parallel reader's result (st, x, err) against the reference's on the
 * same file; aborts on any difference. */
static void check_reference(const char *path, const ncf_read_options *o, ncf_status st, const ncf_interactions *x,
                            const ncf_err *err)
{
    ncf_err e = {{0}};
    ncf_interactions *y = NULL;
    ncf_status sr = ncf_read_interactions_ref_(path, o, 0, &y, NULL, NULL, &e);
    if (sr == NCF_OK && y->n == 0) { /* ncf_interactions_read refuses an empty result */
        ncf_interactions_free(y);
        y = NULL;
        sr = NCF_ERR_EMPTY;
    }
    if (sr != st) abort();
    if (st != NCF_OK) {
        if (sr != NCF_ERR_EMPTY && strcmp(e.msg, err->msg) != 0) abort();
        return;
    }
    if (y->n != x->n || y->has_time != x->has_time || ncf_idmap_size(y->users) != ncf_idmap_size(x->users) ||
        ncf_idmap_size(y->items) != ncf_idmap_size(x->items))
        abort();
    for (int64_t k = 0; k < x->n; k++)
        if (y->user[k] != x->user[k] || y->item[k] != x->item[k] || y->time[k] != x->time[k] ||
            y->line[k] != x->line[k] || memcmp(&y->rating[k], &x->rating[k], sizeof(float)) != 0)
            abort();
    for (int32_t k = 0; k < ncf_idmap_size(x->users); k++)
        if (strcmp(ncf_idmap_raw(x->users, k), ncf_idmap_raw(y->users, k)) != 0) abort();
    for (int32_t k = 0; k < ncf_idmap_size(x->items); k++)
        if (strcmp(ncf_idmap_raw(x->items, k), ncf_idmap_raw(y->items, k)) != 0) abort();
    ncf_interactions_free(y);
}

static void on_layout(void *ctx, const char *path, const char *layout, int guessed)
{
    (void)ctx;
    (void)guessed;
    if (!path || !layout || !*layout) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4) return 0;
    static const char *seps[8] = {NULL, "::", "\t", ",", " ", ";", "||", NULL};
    static const ncf_format formats[4] = {NCF_FORMAT_AUTO, NCF_FORMAT_DELIMITED, NCF_FORMAT_LISTS,
                                          NCF_FORMAT_DELIMITED};
    char path[512];
    fuzz_path(path, sizeof path, "data.txt");
    fuzz_write(path, data + 4, size - 4);

    ncf_load_options lo;
    ncf_load_options_default(&lo);
    ncf_read_options *o = &lo.read;
    o->format = formats[data[0] & 3];
    o->header = (int)((data[0] >> 2) % 3) - 1;
    o->sep = seps[data[1] & 7];
    if (data[2] & 0x80) { /* other columns: each from 0..3 or none */
        o->user_col = data[2] & 3;
        o->item_col = (data[2] >> 2) & 3;
        int r = (data[2] >> 4) & 3, t = data[1] >> 6;
        o->rating_col = r == 3 ? -1 : r + 1;
        o->time_col = t == 3 ? -1 : t;
    }
    o->use_min_rating = (data[3] & 1) != 0;
    o->min_rating = (double)((data[3] >> 1) & 7) - 1.0;
    o->on_layout = on_layout;

    ncf_err err = {{0}};
    if (!(data[3] & 0x10)) {
        ncf_interactions *x = NULL;
        ncf_status st = ncf_interactions_read(path, o, &x, &err);
        if (o->user_col != o->item_col) check_reference(path, o, st, x, &err);
        if (st == NCF_OK) {
            int32_t nu = ncf_idmap_size(x->users), ni = ncf_idmap_size(x->items);
            for (int64_t k = 0; k < x->n; k++)
                if (x->user[k] < 0 || x->user[k] >= nu || x->item[k] < 0 || x->item[k] >= ni) abort();
        } else if (!err.msg[0]) {
            abort(); /* every refusal says why */
        }
        ncf_interactions_free(x);
        return 0;
    }
    static const int negs[4] = {0, 1, 3, 99};
    lo.n_negatives = negs[(data[3] >> 5) & 3];
    lo.validation = (data[3] & 0x80) != 0;
    lo.seed = data[1];
    if (data[0] & 0x80) lo.test_path = path;
    ncf_dataset *ds = NULL;
    ncf_status st = ncf_dataset_load(path, &lo, &ds, &err);
    if (st == NCF_OK) {
        if (ds->train_offsets[0] != 0 || ds->train_offsets[ds->n_users] != ds->n_train) abort();
        for (int32_t u = 0; u < ds->n_users; u++)
            for (int64_t j = ds->train_offsets[u]; j < ds->train_offsets[u + 1]; j++)
                if (ds->train_items[j] < 0 || ds->train_items[j] >= ds->n_items ||
                    (j > ds->train_offsets[u] && ds->train_items[j] <= ds->train_items[j - 1]))
                    abort();
        for (int32_t c = 0; c < ds->test.n; c++)
            if (ds->test.users[c] < 0 || ds->test.users[c] >= ds->n_users || ds->test.items[c] < 0 ||
                ds->test.items[c] >= ds->n_items)
                abort();
    } else if (!err.msg[0]) {
        abort();
    }
    ncf_dataset_free(ds);
    return 0;
}
