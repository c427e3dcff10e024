/* modelfile.c — the versioned binary model file (docs/model-file.md):
 * magic, version, a fixed 128-byte header, metadata text, id maps, each
 * user's training items, the weights, and a CRC-32 of everything before it.
 * Saving refuses a model with a NaN or infinite weight and writes by the
 * rule of ncf/outfile.h (a regular file: temporary file, fsync, rename).
 * Loading reads the whole file, checks magic, version and CRC, computes
 * the size every section must have from the header and compares it with
 * the file's before allocating the model, checks the training-item offsets
 * before reading any item, refuses non-finite weights, and fails cleanly
 * (no partial model) otherwise. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/crcwriter.h"
#include "io/modelfile.h"
#include "model/model_impl.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the model file is little-endian; add byte swapping for this platform"
#endif

#define HEADER_SIZE 128
static const char MAGIC[8] = {'N', 'C', 'F', 'M', 'O', 'D', 'E', 'L'};

/* ---- checks shared by saving and loading ----------------------------------- */
/* *acc += a (add_u64), *acc += a * b (add_mul_u64); 1 on overflow (then *acc
 * is meaningless), else 0. */
static int add_u64(uint64_t *acc, uint64_t a)
{
    if (a > UINT64_MAX - *acc) return 1;
    *acc += a;
    return 0;
}

static int add_mul_u64(uint64_t *acc, uint64_t a, uint64_t b)
{
    if (a != 0 && b > UINT64_MAX / a) return 1;
    return add_u64(acc, a * b);
}

/* Names the first NaN or infinity among the weights: 1 with where (e.g.
 * "gmf.user_embedding[2][5]", "mlp.0.bias[3]"; the names of the
 * safetensors export) and *value set, 0 when every weight is finite. */
static int find_non_finite(const ncf_model *m, char *where, size_t cap, float *value)
{
    for (int t = 0; t < NCF_TABLES; t++) {
        const ncf_table *tb = &m->tab[t];
        for (int32_t r = 0; r < tb->rows && tb->dim; r++)
            for (int32_t k = 0; k < tb->dim; k++) {
                float v = tb->w[(size_t)r * (size_t)tb->stride + (size_t)k];
                if (isfinite(v)) continue;
                if (t >= NCF_TABLE_USER_BIAS) snprintf(where, cap, "%s[%d]", ncf_table_name_(m, t), r);
                else snprintf(where, cap, "%s[%d][%d]", ncf_table_name_(m, t), r, k);
                *value = v;
                return 1;
            }
    }
    for (int l = 0; l < m->n_layers; l++) {
        const float *w = m->dense + m->w_off[l], *b = m->dense + m->b_off[l];
        for (int32_t o = 0; o < m->out[l]; o++) {
            for (int32_t i = 0; i < m->in[l]; i++)
                if (!isfinite(w[(size_t)o * (size_t)m->in[l] + (size_t)i])) {
                    snprintf(where, cap, "mlp.%d.weight[%d][%d]", l, o, i);
                    *value = w[(size_t)o * (size_t)m->in[l] + (size_t)i];
                    return 1;
                }
            if (!isfinite(b[o])) {
                snprintf(where, cap, "mlp.%d.bias[%d]", l, o);
                *value = b[o];
                return 1;
            }
        }
    }
    for (int32_t k = 0; k < m->out_in; k++)
        if (!isfinite(m->dense[m->wo_off + (size_t)k])) {
            snprintf(where, cap, "output.weight[%d]", k);
            *value = m->dense[m->wo_off + (size_t)k];
            return 1;
        }
    if (!isfinite(m->dense[m->bo_off])) {
        snprintf(where, cap, "output.bias");
        *value = m->dense[m->bo_off];
        return 1;
    }
    return 0;
}

/* ---- writing ----------------------------------------------------------------- */
static void put_table(ncf_crc_writer *w, const ncf_table *t)
{
    for (int32_t r = 0; r < t->rows && t->dim; r++) ncf_cw_put_(w, t->w + (size_t)r * (size_t)t->stride, (size_t)t->dim * 4);
}

static uint64_t ids_bytes(const ncf_idmap *map, int32_t n)
{
    uint64_t b = 0;
    for (int32_t k = 0; k < n; k++) b += 4 + (map ? strlen(ncf_idmap_raw(map, k)) : (uint64_t)snprintf(NULL, 0, "%d", k));
    return b;
}

static void put_ids(ncf_crc_writer *w, const ncf_idmap *map, int32_t n)
{
    char buf[16];
    for (int32_t k = 0; k < n; k++) {
        const char *s = map ? ncf_idmap_raw(map, k) : (snprintf(buf, sizeof buf, "%d", k), buf);
        uint32_t len = (uint32_t)strlen(s);
        ncf_cw_u32_(w, len);
        ncf_cw_put_(w, s, len);
    }
}

ncf_status ncf_model_write_(const ncf_model *m, FILE *f, const char *path, ncf_err *err)
{
    char where[96];
    float bad_value;
    if (find_non_finite(m, where, sizeof where, &bad_value))
        return ncf_fail_(err, NCF_ERR_NUMERIC, "%s: not saved: the model has a non-finite weight, %s = %g", path,
                         where, (double)bad_value);
    ncf_crc_writer w = {f, 0, 1};
    const ncf_model_config *c = &m->cfg;
    unsigned char h[HEADER_SIZE];
    memset(h, 0, sizeof h);
    /* version 1 unless the model needs 2 (MF), so older readers still read the rest */
    uint32_t version = c->type == NCF_MODEL_MF ? 2 : 1, hsize = HEADER_SIZE;
    int32_t fields[] = {(int32_t)c->type, c->n_users, c->n_items, c->factors, c->mlp_embed, c->n_hidden};
    memcpy(h, MAGIC, 8);
    memcpy(h + 8, &version, 4);
    memcpy(h + 12, &hsize, 4);
    memcpy(h + 16, fields, sizeof fields);
    memcpy(h + 40, c->hidden, sizeof c->hidden);
    int32_t act = (int32_t)c->gmf_activation;
    memcpy(h + 72, &act, 4);
    memcpy(h + 76, &c->dropout, 4);
    memcpy(h + 80, &c->init_std, 4);
    uint64_t meta_bytes = strlen(ncf_model_meta(m));
    uint64_t n_seen = m->seen_off ? (uint64_t)m->seen_off[c->n_users] : 0;
    uint64_t ub = ids_bytes(m->users, c->n_users), ib = ids_bytes(m->items, c->n_items);
    memcpy(h + 88, &m->seed, 8);
    memcpy(h + 96, &meta_bytes, 8);
    memcpy(h + 104, &n_seen, 8);
    memcpy(h + 112, &ub, 8);
    memcpy(h + 120, &ib, 8);
    ncf_cw_put_(&w, h, sizeof h);
    ncf_cw_put_(&w, ncf_model_meta(m), meta_bytes);
    put_ids(&w, m->users, c->n_users);
    put_ids(&w, m->items, c->n_items);
    for (int32_t u = 0; u <= c->n_users; u++) ncf_cw_i64_(&w, m->seen_off ? m->seen_off[u] : 0);
    ncf_cw_put_(&w, m->seen, n_seen * 4);
    for (int t = 0; t < NCF_TABLES; t++) put_table(&w, &m->tab[t]);
    for (int l = 0; l < m->n_layers; l++) {
        ncf_cw_put_(&w, m->dense + m->w_off[l], (size_t)m->in[l] * (size_t)m->out[l] * 4);
        ncf_cw_put_(&w, m->dense + m->b_off[l], (size_t)m->out[l] * 4);
    }
    ncf_cw_put_(&w, m->dense + m->wo_off, (size_t)m->out_in * 4);
    ncf_cw_put_(&w, m->dense + m->bo_off, 4);
    uint32_t crc = w.crc;
    ncf_cw_put_(&w, &crc, 4);
    if (!w.ok) return ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    return NCF_OK;
}

ncf_status ncf_model_save(const ncf_model *m, const char *path, ncf_err *err)
{
    char where[96];
    float bad_value;
    if (find_non_finite(m, where, sizeof where, &bad_value)) /* before the output is opened */
        return ncf_fail_(err, NCF_ERR_NUMERIC, "%s: not saved: the model has a non-finite weight, %s = %g", path,
                         where, (double)bad_value);
    ncf_outfile *out;
    if (ncf_outfile_open(path, &out, err) != NCF_OK) return NCF_ERR_IO;
    const ncf_status st = ncf_model_write_(m, ncf_outfile_stream(out), path, err);
    const ncf_status cs = ncf_outfile_close(out, st == NCF_OK, st == NCF_OK ? err : NULL);
    return st != NCF_OK ? st : cs;
}

/* ---- reading ----------------------------------------------------------------- */
typedef struct reader {
    const unsigned char *p;
    size_t n, at;
} reader;

static int take(reader *r, void *dst, size_t n)
{
    if (n > r->n - r->at) return -1;
    memcpy(dst, r->p + r->at, n);
    r->at += n;
    return 0;
}

static ncf_status get_ids(reader *r, int32_t n, uint64_t bytes, ncf_idmap **out, const char *path,
                          const char *what, ncf_err *err)
{
    size_t start = r->at;
    ncf_idmap *map;
    if (ncf_idmap_create(&map) != NCF_OK) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    for (int32_t k = 0; k < n; k++) {
        uint32_t len;
        int32_t idx;
        if (take(r, &len, 4) != 0 || len > r->n - r->at) goto bad;
        /* raw ids are C strings from here on (ncf_idmap_raw): one holding
         * a NUL would be cut short, then repeat another or be empty */
        if (memchr(r->p + r->at, '\0', len)) {
            ncf_idmap_free(map);
            return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: %s id %d holds a NUL byte", path, what, k);
        }
        if (ncf_idmap_add(map, (const char *)r->p + r->at, len, &idx) != NCF_OK) {
            ncf_idmap_free(map);
            return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
        }
        if (idx != k) {
            ncf_idmap_free(map);
            return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: %s id %d repeats an earlier id", path,
                             what, k);
        }
        r->at += len;
    }
    if (r->at - start != bytes) goto bad;
    *out = map;
    return NCF_OK;
bad:
    ncf_idmap_free(map);
    return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: %s id section does not match its size", path,
                     what);
}

ncf_status ncf_model_load(const char *path, ncf_model **out, ncf_err *err)
{
    unsigned char *buf = NULL;
    size_t size = 0;
    ncf_status st = ncf_read_file_(path, &buf, &size, err);
    if (st != NCF_OK) return st;
    st = ncf_model_parse_(buf, size, path, out, err); /* checks the size against the header first */
    free(buf);
    return st;
}

ncf_status ncf_model_parse_(const unsigned char *buf, size_t size, const char *path, ncf_model **out, ncf_err *err)
{
    ncf_status st = NCF_OK;
    ncf_model *m = NULL;
    if (size < HEADER_SIZE + 4)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: not an ncf model file (only %zu bytes)", path, size);
    reader r = {buf, size, 0};
    if (memcmp(buf, MAGIC, 8) != 0) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: not an ncf model file (bad magic)", path);
        goto done;
    }
    uint32_t version, hsize;
    memcpy(&version, buf + 8, 4);
    memcpy(&hsize, buf + 12, 4);
    if (version > NCF_MODEL_FILE_VERSION) {
        st = ncf_fail_(err, NCF_ERR_VERSION,
                       "%s: model file version %u is newer than this ncf reads (up to %d); upgrade ncf", path,
                       version, NCF_MODEL_FILE_VERSION);
        goto done;
    }
    if (version < 1 || hsize != HEADER_SIZE) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file header (version %u, header size %u)", path,
                       version, hsize);
        goto done;
    }
    uint32_t crc_file, crc = ncf_crc32_update_(0, buf, size - 4);
    memcpy(&crc_file, buf + size - 4, 4);
    if (crc != crc_file) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt or truncated model file (CRC mismatch)", path);
        goto done;
    }
    ncf_model_config c;
    memset(&c, 0, sizeof c);
    int32_t fields[6], act;
    memcpy(fields, buf + 16, sizeof fields);
    c.type = (ncf_model_type)fields[0];
    c.n_users = fields[1];
    c.n_items = fields[2];
    c.factors = fields[3];
    c.mlp_embed = fields[4];
    c.n_hidden = fields[5];
    memcpy(c.hidden, buf + 40, sizeof c.hidden);
    memcpy(&act, buf + 72, 4);
    c.gmf_activation = (ncf_activation)act;
    memcpy(&c.dropout, buf + 76, 4);
    memcpy(&c.init_std, buf + 80, 4);
    uint64_t seed, meta_bytes, n_seen, ub, ib;
    memcpy(&seed, buf + 88, 8);
    memcpy(&meta_bytes, buf + 96, 8);
    memcpy(&n_seen, buf + 104, 8);
    memcpy(&ub, buf + 112, 8);
    memcpy(&ib, buf + 120, 8);
    ncf_err cerr;
    if (ncf_model_config_check(&c, &cerr) != NCF_OK) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: %s", path, cerr.msg);
        goto done;
    }
    if (c.n_users > (1 << 30) || c.n_items > (1 << 30) || meta_bytes > size || n_seen > size || ub > size ||
        ib > size) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: sizes exceed the file", path);
        goto done;
    }
    /* the size the header implies, checked against the file's before
     * anything of the header's sizes is allocated */
    uint64_t expect = HEADER_SIZE;
    int over = add_u64(&expect, meta_bytes) | add_u64(&expect, ub) | add_u64(&expect, ib) |
               add_u64(&expect, 8 * ((uint64_t)c.n_users + 1)) | add_mul_u64(&expect, 4, n_seen) |
               add_mul_u64(&expect, 4, ncf_model_weight_count_(&c)) | add_u64(&expect, 4);
    if (over) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file (%zu bytes, the header implies over 2^64)", path,
                       size);
        goto done;
    }
    if (expect != size) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt or truncated model file (%zu bytes, the header implies %llu)",
                       path, size, (unsigned long long)expect);
        goto done;
    }
    st = ncf_model_alloc_(&c, &m, err);
    if (st != NCF_OK) goto done;
    m->seed = seed;
    r.at = HEADER_SIZE;
    m->meta = malloc(meta_bytes + 1);
    if (!m->meta) goto nomem;
    take(&r, m->meta, meta_bytes);
    m->meta[meta_bytes] = '\0';
    if (memchr(m->meta, '\0', meta_bytes)) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: NUL in metadata", path);
        goto done;
    }
    st = get_ids(&r, c.n_users, ub, &m->users, path, "user", err);
    if (st != NCF_OK) goto done;
    st = get_ids(&r, c.n_items, ib, &m->items, path, "item", err);
    if (st != NCF_OK) goto done;
    m->seen_off = malloc(((size_t)c.n_users + 1) * sizeof *m->seen_off);
    m->seen = malloc((size_t)(n_seen + 1) * sizeof *m->seen);
    if (!m->seen_off || !m->seen) goto nomem;
    take(&r, m->seen_off, ((size_t)c.n_users + 1) * 8);
    take(&r, m->seen, (size_t)n_seen * 4);
    /* every offset in range and in order before any item is looked at */
    for (int32_t u = 0; u <= c.n_users; u++) {
        int64_t o = m->seen_off[u], lo = u ? m->seen_off[u - 1] : 0;
        if (o < lo || (uint64_t)o > n_seen || (u == 0 && o != 0) || (u == c.n_users && (uint64_t)o != n_seen)) {
            st = ncf_fail_(err, NCF_ERR_FORMAT,
                           "%s: corrupt model file: training-item offsets[%d] = %lld (they must run from 0 up to "
                           "n_seen = %llu, never decreasing)",
                           path, u, (long long)o, (unsigned long long)n_seen);
            goto done;
        }
    }
    for (int32_t u = 0; u < c.n_users; u++)
        for (int64_t k = m->seen_off[u]; k < m->seen_off[u + 1]; k++)
            if (m->seen[k] < 0 || m->seen[k] >= c.n_items || (k > m->seen_off[u] && m->seen[k] <= m->seen[k - 1])) {
                st = ncf_fail_(err, NCF_ERR_FORMAT,
                               "%s: corrupt model file: training items of user %d are not increasing item indices "
                               "below n_items = %d (item %d)",
                               path, u, c.n_items, m->seen[k]);
                goto done;
            }
    for (int t = 0; t < NCF_TABLES; t++) {
        ncf_table *tb = &m->tab[t];
        for (int32_t row = 0; row < tb->rows && tb->dim; row++)
            take(&r, tb->w + (size_t)row * (size_t)tb->stride, (size_t)tb->dim * 4);
    }
    for (int l = 0; l < m->n_layers; l++) {
        take(&r, m->dense + m->w_off[l], (size_t)m->in[l] * (size_t)m->out[l] * 4);
        take(&r, m->dense + m->b_off[l], (size_t)m->out[l] * 4);
    }
    take(&r, m->dense + m->wo_off, (size_t)m->out_in * 4);
    take(&r, m->dense + m->bo_off, 4);
    char where[96];
    float bad_value;
    if (find_non_finite(m, where, sizeof where, &bad_value)) {
        st = ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt model file: non-finite weight %s = %g", path, where,
                       (double)bad_value);
        goto done;
    }
    ncf_model_sync_(m);
    goto done;
nomem:
    st = ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory", path);
done:
    if (st != NCF_OK) {
        ncf_model_free(m);
        return st;
    }
    *out = m;
    return NCF_OK;
}
