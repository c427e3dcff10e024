/* fuzz_model.c — libFuzzer harness for the model-file loader
 * (ncf_model_parse_, what ncf_model_load runs on the file's bytes;
 * src/io/modelfile.c).
 *
 * The input is a model file whose last 4 bytes are replaced by the CRC-32
 * of the rest, so that mutations reach the validation behind the checksum
 * (header, sizes, ids, training items, weights) instead of stopping at the
 * CRC. A file the loader accepts must be usable: it is scored, asked for
 * recommendations and the popular items, saved and loaded back. */
#include "fuzz_util.h"
#include "io/modelfile.h"
#include "model/model_impl.h"
#include "ncf/model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0; /* the seeds are a few KB; bigger adds nothing */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    fuzz_fix_crc(buf, size);
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    ncf_status st = ncf_model_parse_(buf, size, "fuzz.ncf", &m, &err);
    free(buf);
    if (st != NCF_OK) {
        if (!err.msg[0]) abort(); /* every refusal says why */
        return 0;
    }
    const ncf_model_config *c = ncf_model_get_config(m);
    if (ncf_model_config_check(c, &err) != NCF_OK) abort(); /* accepted means valid */
    ncf_scorer *sc = NULL;
    if (ncf_scorer_create(m, 1, &sc, &err) != NCF_OK) abort();
    int32_t items[8];
    float scores[8];
    int n = 0;
    int32_t users[2] = {0, c->n_users - 1};
    for (int q = 0; q < 2 && c->n_users > 0 && c->n_items > 0; q++) {
        if (ncf_scorer_recommend(sc, users[q], 8, items, scores, &n) != NCF_OK || n < 0 || n > 8) abort();
        for (int j = 0; j < n; j++)
            if (items[j] < 0 || items[j] >= c->n_items) abort();
        int32_t some[3] = {0, c->n_items / 2, c->n_items - 1};
        if (ncf_model_score(m, users[q], some, 3, scores) != NCF_OK) abort();
    }
    n = ncf_scorer_popular(sc, 8, items, scores);
    if (n < 0 || n > 8) abort();
    ncf_scorer_free(sc);
    char path[512];
    fuzz_path(path, sizeof path, "resaved.ncf");
    ncf_model *again = NULL;
    if (ncf_model_save(m, path, &err) != NCF_OK || ncf_model_load(path, &again, &err) != NCF_OK) {
        fprintf(stderr, "fuzz_model: an accepted model does not save and load back: %s\n", err.msg);
        abort();
    }
    ncf_model_free(again);
    ncf_model_free(m);
    return 0;
}
