/* fuzz_ncf.c — libFuzzer harness for the NCF-format loader
 * (ncf_dataset_load on PREFIX.train.rating, .test.rating, .test.negative,
 * .valid.rating, .valid.negative; src/data/dataset.c).
 *
 * Input layout: 1 option byte (validation, negatives to draw, seed), then
 * the files in that order separated by NUL bytes (files are text: a NUL in
 * one is the reader's concern, fuzzed by fuzz_reader). Fewer pieces leave
 * the later files absent, which is itself a case: no .test.negative means
 * the negatives are drawn. The loader must refuse bad files with a message
 * and never crash, leak or read out of bounds; a loaded dataset is checked
 * for consistency.
 *
 * Every id is fuzzed: the loader bounds rated ids by the pairs read (the
 * format maps id k to row k) and negatives' ids by the rated range. */
#include "fuzz_util.h"
#include "ncf/data.h"

static const char *suffix[5] = {".train.rating", ".test.rating", ".test.negative", ".valid.rating",
                                 ".valid.negative"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char prefix[300], path[400];
    fuzz_path(prefix, sizeof prefix, "d");
    const uint8_t *p = data + 1, *end = data + size;
    for (int f = 0; f < 5; f++) {
        snprintf(path, sizeof path, "%s%s", prefix, suffix[f]);
        if (p > end) {
            unlink(path);
            continue;
        }
        const uint8_t *nul = memchr(p, 0, (size_t)(end - p));
        size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);
        fuzz_write(path, p, n);
        p += n + 1; /* past the NUL, or past the end: the rest are absent */
    }
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.read.format = (data[0] & 1) ? NCF_FORMAT_NCF : NCF_FORMAT_AUTO;
    lo.validation = (data[0] & 2) != 0;
    static const int negs[4] = {0, 1, 4, 99};
    lo.n_negatives = negs[(data[0] >> 2) & 3];
    lo.seed = data[0] >> 4;
    ncf_err err = {{0}};
    ncf_dataset *ds = NULL;
    ncf_status st = ncf_dataset_load(prefix, &lo, &ds, &err);
    if (st == NCF_OK) {
        if (ds->train_offsets[0] != 0 || ds->train_offsets[ds->n_users] != ds->n_train) abort();
        for (int32_t u = 0; u < ds->n_users; u++)
            for (int64_t j = ds->train_offsets[u]; j < ds->train_offsets[u + 1]; j++)
                if (ds->train_items[j] < 0 || ds->train_items[j] >= ds->n_items) abort();
        const ncf_cases *sets[2] = {&ds->test, &ds->valid};
        for (int s = 0; s < 2; s++)
            for (int32_t c = 0; c < sets[s]->n; c++) {
                if (sets[s]->users[c] < 0 || sets[s]->users[c] >= ds->n_users || sets[s]->items[c] < 0 ||
                    sets[s]->items[c] >= ds->n_items)
                    abort();
                if (sets[s]->neg_offsets)
                    for (int64_t j = sets[s]->neg_offsets[c]; j < sets[s]->neg_offsets[c + 1]; j++)
                        if (sets[s]->negs[j] < 0 || sets[s]->negs[j] >= ds->n_items) abort();
            }
    } else if (!err.msg[0]) {
        abort();
    }
    ncf_dataset_free(ds);
    return 0;
}
