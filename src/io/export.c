/* export.c — the model's weights as safetensors (an 8-byte little-endian
 * header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the raw data) plus the raw-id maps as TSV, so that PyTorch or
 * NumPy can load a trained model. The JSON header is written by hand: its
 * keys and values are fixed ASCII. Does not read safetensors. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "data/data_impl.h"
#include "model/model_impl.h"
#include "ncf/ncf.h"

typedef struct tensor {
    char name[48];
    int64_t rows, cols; /* cols 0: a vector of rows */
    const float *data;  /* contiguous, or a table with a row stride */
    int64_t stride;     /* floats between rows (tables), else cols */
} tensor;

static int collect(const ncf_model *m, tensor *t)
{
    int n = 0;
    for (int k = 0; k < NCF_TABLES; k++)
        if (m->tab[k].dim) {
            snprintf(t[n].name, sizeof t[n].name, "%s", ncf_table_name_(m, k));
            t[n].rows = m->tab[k].rows, t[n].cols = k >= NCF_TABLE_USER_BIAS ? 0 : m->tab[k].dim;
            t[n].data = m->tab[k].w, t[n].stride = m->tab[k].stride;
            n++;
        }
    for (int l = 0; l < m->n_layers; l++) {
        snprintf(t[n].name, sizeof t[n].name, "mlp.%d.weight", l);
        t[n].rows = m->out[l], t[n].cols = m->in[l], t[n].data = m->dense + m->w_off[l], t[n].stride = m->in[l];
        n++;
        snprintf(t[n].name, sizeof t[n].name, "mlp.%d.bias", l);
        t[n].rows = m->out[l], t[n].cols = 0, t[n].data = m->dense + m->b_off[l], t[n].stride = 1;
        n++;
    }
    if (!m->B) { /* MF's output weights are fixed ones: not a parameter */
        snprintf(t[n].name, sizeof t[n].name, "output.weight");
        t[n].rows = 1, t[n].cols = m->out_in, t[n].data = m->dense + m->wo_off, t[n].stride = m->out_in;
        n++;
    }
    snprintf(t[n].name, sizeof t[n].name, "output.bias");
    t[n].rows = 1, t[n].cols = 0, t[n].data = m->dense + m->bo_off, t[n].stride = 1;
    return n + 1;
}

static int64_t tensor_bytes(const tensor *t) { return 4 * t->rows * (t->cols ? t->cols : 1); }

ncf_status ncf_model_export_safetensors(const ncf_model *m, const char *path, const char *ids_path, ncf_err *err)
{
    tensor t[NCF_TABLES + 2 * NCF_MAX_HIDDEN + 2];
    int n = collect(m, t);
    /* header JSON */
    size_t cap = 4096, len = 0;
    char *h = malloc(cap);
    if (!h) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    const ncf_model_config *c = &m->cfg;
    len += (size_t)snprintf(h + len, cap - len,
                            "{\"__metadata__\":{\"format\":\"pt\",\"producer\":\"ncf %s\",\"model\":\"%s\","
                            "\"gmf_activation\":\"%s\",\"users\":\"%d\",\"items\":\"%d\"}",
                            NCF_VERSION_STRING, ncf_model_type_name(c->type),
                            c->gmf_activation == NCF_ACT_SIGMOID ? "sigmoid" : "identity", c->n_users, c->n_items);
    int64_t off = 0;
    for (int k = 0; k < n; k++) {
        if (cap - len < 256) {
            char *nh = realloc(h, cap *= 2);
            if (!nh) {
                free(h);
                return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
            }
            h = nh;
        }
        int64_t b = tensor_bytes(&t[k]);
        if (t[k].cols)
            len += (size_t)snprintf(h + len, cap - len,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[%lld,%lld]}",
                                    t[k].name, (long long)t[k].rows, (long long)t[k].cols, (long long)off,
                                    (long long)(off + b));
        else
            len += (size_t)snprintf(h + len, cap - len,
                                    ",\"%s\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%lld,%lld]}",
                                    t[k].name, (long long)t[k].rows, (long long)off, (long long)(off + b));
        off += b;
    }
    len += (size_t)snprintf(h + len, cap - len, "}");
    while (len % 8) h[len++] = ' '; /* pad so the data starts 8-byte aligned */
    char *tmp = NULL;
    FILE *f = ncf_open_tmp_(path, &tmp, err);
    if (!f) {
        free(h);
        return NCF_ERR_IO;
    }
    uint64_t hl = len;
    int ok = fwrite(&hl, 8, 1, f) == 1 && fwrite(h, 1, len, f) == len;
    free(h);
    for (int k = 0; ok && k < n; k++) {
        /* a matrix row by row; a vector at once, or element by element when
         * its entries are a stride apart (the bias tables) */
        const int strided = !t[k].cols && t[k].stride > 1;
        int64_t row_floats = t[k].cols ? t[k].cols : strided ? 1 : t[k].rows;
        int64_t rows = t[k].cols || strided ? t[k].rows : 1;
        for (int64_t r = 0; ok && r < rows; r++)
            ok = fwrite(t[k].data + r * t[k].stride, 4, (size_t)row_floats, f) == (size_t)row_floats;
    }
    if (!ok) ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    ncf_status st = ncf_commit_file_(f, tmp, path, ok, err);
    if (!ok || st != NCF_OK) return ok ? st : NCF_ERR_IO;
    if (!ids_path) return NCF_OK;
    /* the id maps */
    f = ncf_open_tmp_(ids_path, &tmp, err);
    if (!f) {
        remove(path);
        return NCF_ERR_IO;
    }
    for (int32_t u = 0; u < c->n_users; u++)
        fprintf(f, "user\t%d\t%s\n", u, m->users ? ncf_idmap_raw(m->users, u) : "");
    for (int32_t i = 0; i < c->n_items; i++)
        fprintf(f, "item\t%d\t%s\n", i, m->items ? ncf_idmap_raw(m->items, i) : "");
    st = ncf_commit_file_(f, tmp, ids_path, 1, err); /* reports a failed write itself */
    if (st != NCF_OK) remove(path);
    return st;
}
