/* checkpoint.c — saving a trainer's state to a checkpoint file and going
 * on from one (ncf/train.h; the layout is in docs/model-file.md). The file:
 * magic "NCFCKPT\0", version, then in order the configuration, the data's
 * fingerprint and sizes, the progress (epochs done, steps done of the next,
 * their loss sum, the global step), model selection, the caller's note, the
 * model file of the current weights, the optimizer's state (dense moments,
 * table moments without row padding, the synced counters), the selected
 * epoch's weights when early stopping keeps them, and a CRC-32 of all
 * before it, written by the rule of ncf/outfile.h (a temporary file renamed
 * into place) with the directory fsynced after the rename. Loading reads the whole file and checks magic, version, CRC
 * and every size before it builds anything; resuming checks the data and
 * the configuration (resume.c). Little-endian, as the model file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"
#include "core/crcwriter.h"
#include "io/modelfile.h"
#include "ncf/outfile.h"
#include "train/shard.h"
#include "train/trainer_impl.h"

static const char MAGIC[8] = {'N', 'C', 'F', 'C', 'K', 'P', 'T', '\0'};

/* ---- writing ----------------------------------------------------------------- */
/* A table-shaped buffer (rows x stride, dim used), rows without padding;
 * a flag first: 0 when absent. */
static void put_rows(ncf_crc_writer *w, const float *a, const ncf_table *tb)
{
    ncf_cw_i32_(w, a != NULL);
    for (int32_t r = 0; a && r < tb->rows; r++) ncf_cw_put_(w, a + (size_t)r * (size_t)tb->stride, (size_t)tb->dim * 4);
}

static void put_config(ncf_crc_writer *w, const ncf_train_config *c)
{
    ncf_cw_i32_(w, c->epochs), ncf_cw_i32_(w, c->batch), ncf_cw_i32_(w, c->neg), ncf_cw_f32_(w, c->lr);
    ncf_cw_i32_(w, (int32_t)c->optimizer), ncf_cw_f32_(w, c->beta1), ncf_cw_f32_(w, c->beta2), ncf_cw_f32_(w, c->eps);
    ncf_cw_i32_(w, (int32_t)c->adam_mode), ncf_cw_f32_(w, c->reg), ncf_cw_f32_(w, c->reg_layers), ncf_cw_f32_(w, c->momentum);
    ncf_cw_f32_(w, c->alpha), ncf_cw_i32_(w, (int32_t)c->schedule), ncf_cw_i32_(w, c->lr_step), ncf_cw_f32_(w, c->lr_gamma);
    ncf_cw_f32_(w, c->lr_end), ncf_cw_i32_(w, (int32_t)c->loss), ncf_cw_i32_(w, c->threads), ncf_cw_u64_(w, c->seed);
    ncf_cw_i32_(w, (int32_t)c->eval.mode), ncf_cw_i32_(w, c->eval.n_k);
    for (int k = 0; k < NCF_MAX_TOPK; k++) ncf_cw_i32_(w, c->eval.k[k]);
    ncf_cw_i32_(w, c->eval_every_epoch), ncf_cw_i32_(w, c->early_stop);
}

static void put_metrics(ncf_crc_writer *w, const ncf_metrics *mt)
{
    ncf_cw_f64_(w, mt->hr), ncf_cw_f64_(w, mt->ndcg), ncf_cw_i32_(w, mt->n_cases), ncf_cw_i32_(w, mt->topk), ncf_cw_i32_(w, mt->n_k);
    for (int k = 0; k < NCF_MAX_TOPK; k++) ncf_cw_i32_(w, mt->k[k]);
    for (int k = 0; k < NCF_MAX_TOPK; k++)
        for (int j = 0; j < NCF_METRICS; j++) ncf_cw_f64_(w, mt->at[k][j]);
}

static void put_result(ncf_crc_writer *w, const ncf_train_result *r)
{
    ncf_cw_i32_(w, r->epochs_run), ncf_cw_i32_(w, r->best_epoch), ncf_cw_f64_(w, r->final_loss);
    put_metrics(w, &r->best), put_metrics(w, &r->final);
    ncf_cw_i32_(w, r->selected_epoch), put_metrics(w, &r->selected_valid), put_metrics(w, &r->selected);
    ncf_cw_i32_(w, r->stopped_early);
}

/* fsyncs the directory holding path, so that a rename into it lasts. */
static ncf_status sync_dir(const char *path, ncf_err *err)
{
    char *copy = strdup(path);
    if (!copy) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    const int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    int ok = fd >= 0 && fsync(fd) == 0;
    if (fd >= 0) close(fd);
    free(copy);
    return ok ? NCF_OK : ncf_fail_(err, NCF_ERR_IO, "%s: cannot sync its directory: %s", path, strerror(errno));
}

static ncf_status write_checkpoint(ncf_trainer *t, const char *path, const char *note, ncf_err *err);

ncf_status ncf_trainer_save_checkpoint(ncf_trainer *t, const char *path, const char *note, ncf_err *err)
{
    if (t->finished) return ncf_fail_(err, NCF_ERR_ARG, "%s: the run is finished: nothing to go on from", path);
    if (!t->known_fingerprint) { /* the data does not change under a trainer */
        if (t->e.sh ? ncf_fingerprint_sharded_(t->ds, &t->fingerprint) != 0 /* collective */
                    : (t->fingerprint = ncf_dataset_fingerprint(t->ds), 0))
            return ncf_fail_(err, NCF_ERR_IO, "the processes could not exchange the data's fingerprint");
        t->known_fingerprint = 1;
    }
    if (t->e.sh && shard_collect_state(&t->e, t->best.tab) != 0) /* rank 0 gets every user row and its state */
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory gathering the user rows");
    if (ncf_dist_rank() != 0) return NCF_OK; /* rank 0 writes */
    const ncf_status st = write_checkpoint(t, path, note, err);
    if (t->e.sh) shard_release_users(&t->e, t->best.tab); /* the other processes' rows again */
    return st;
}

static ncf_status write_checkpoint(ncf_trainer *t, const char *path, const char *note, ncf_err *err)
{
    /* the model file, whole, first in memory: its length goes before it */
    char *model_bytes = NULL;
    size_t model_len = 0;
    FILE *mf = open_memstream(&model_bytes, &model_len);
    if (!mf) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    ncf_status st = ncf_model_write_(t->m, mf, path, err);
    if (fclose(mf) != 0 && st == NCF_OK) st = ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    if (st != NCF_OK) {
        free(model_bytes);
        return st;
    }
    ncf_outfile *out = NULL;
    if (ncf_outfile_open(path, &out, err) != NCF_OK) {
        free(model_bytes);
        return NCF_ERR_IO;
    }
    ncf_crc_writer w = {ncf_outfile_stream(out), 0, 1};
    const uint32_t version = t->c.shards > 0 ? 2 : 1; /* version 1 has no shards: runs without them write it */
    ncf_cw_put_(&w, MAGIC, 8);
    ncf_cw_put_(&w, &version, 4);
    put_config(&w, &t->c);
    if (version >= 2) ncf_cw_i32_(&w, t->c.shards);
    ncf_cw_u64_(&w, t->fingerprint);
    ncf_cw_i32_(&w, t->ds->n_users), ncf_cw_i32_(&w, t->ds->n_items), ncf_cw_i64_(&w, t->ds->n_train);
    ncf_cw_i32_(&w, t->epochs_done), ncf_cw_i64_(&w, t->steps_done), ncf_cw_f64_(&w, t->loss_sum), ncf_cw_i64_(&w, t->e.step);
    put_result(&w, &t->result);
    ncf_cw_f64_(&w, t->best_valid), ncf_cw_i32_(&w, t->since_better), ncf_cw_i32_(&w, t->over);
    const size_t note_len = note ? strlen(note) : 0;
    ncf_cw_u64_(&w, note_len);
    ncf_cw_put_(&w, note, note_len);
    ncf_cw_u64_(&w, model_len);
    ncf_cw_put_(&w, model_bytes, model_len);
    free(model_bytes);
    const engine *e = &t->e;
    const ncf_model *m = t->m;
    ncf_cw_i32_(&w, e->dense_m != NULL);
    ncf_cw_put_(&w, e->dense_m, e->dense_m ? m->n_dense * 4 : 0);
    ncf_cw_i32_(&w, e->dense_v != NULL);
    ncf_cw_put_(&w, e->dense_v, e->dense_v ? m->n_dense * 4 : 0);
    for (int k = 0; k < NCF_TABLES; k++) {
        put_rows(&w, e->tab_m[k], &m->tab[k]);
        put_rows(&w, e->tab_v[k], &m->tab[k]);
    }
    for (int side = 0; side < 2; side++) {
        const size_t rows = (size_t)(side ? t->ds->n_items : t->ds->n_users) + 1;
        ncf_cw_i32_(&w, e->synced[side] != NULL);
        ncf_cw_put_(&w, e->synced[side], e->synced[side] ? rows * 8 : 0);
    }
    const int keep = t->best.dense != NULL;
    ncf_cw_i32_(&w, keep);
    for (int k = 0; keep && k < NCF_TABLES; k++) put_rows(&w, t->best.tab[k], &m->tab[k]);
    if (keep) ncf_cw_put_(&w, t->best.dense, m->n_dense * 4);
    const uint32_t crc = w.crc;
    ncf_cw_put_(&w, &crc, 4);
    if (!w.ok) ncf_fail_(err, NCF_ERR_IO, "%s: write failed: %s", path, strerror(errno));
    st = ncf_outfile_close(out, w.ok, w.ok ? err : NULL);
    if (!w.ok) return NCF_ERR_IO;
    return st == NCF_OK ? sync_dir(path, err) : st;
}

/* ---- reading ----------------------------------------------------------------- */
typedef struct reader {
    const unsigned char *p;
    size_t n, at;
    int ok; /* 0 once a read ran past the end */
} reader;

static void take(reader *r, void *dst, size_t n)
{
    if (!r->ok || n > r->n - r->at) {
        r->ok = 0;
        if (dst && n) memset(dst, 0, n);
        return;
    }
    if (n) memcpy(dst, r->p + r->at, n);
    r->at += n;
}
static int32_t get_i32(reader *r) { int32_t v; take(r, &v, 4); return v; }
static int64_t get_i64(reader *r) { int64_t v; take(r, &v, 8); return v; }
static uint64_t get_u64(reader *r) { uint64_t v; take(r, &v, 8); return v; }
static float get_f32(reader *r) { float v; take(r, &v, 4); return v; }
static double get_f64(reader *r) { double v; take(r, &v, 8); return v; }

static void get_config(reader *r, ncf_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->epochs = get_i32(r), c->batch = get_i32(r), c->neg = get_i32(r), c->lr = get_f32(r);
    c->optimizer = (ncf_optimizer)get_i32(r), c->beta1 = get_f32(r), c->beta2 = get_f32(r), c->eps = get_f32(r);
    c->adam_mode = (ncf_adam_mode)get_i32(r), c->reg = get_f32(r), c->reg_layers = get_f32(r);
    c->momentum = get_f32(r), c->alpha = get_f32(r), c->schedule = (ncf_lr_schedule)get_i32(r);
    c->lr_step = get_i32(r), c->lr_gamma = get_f32(r), c->lr_end = get_f32(r), c->loss = (ncf_loss)get_i32(r);
    c->threads = get_i32(r), c->seed = get_u64(r);
    c->eval.mode = (ncf_eval_mode)get_i32(r), c->eval.n_k = get_i32(r);
    for (int k = 0; k < NCF_MAX_TOPK; k++) c->eval.k[k] = get_i32(r);
    c->eval_every_epoch = get_i32(r), c->early_stop = get_i32(r);
}

static void get_metrics(reader *r, ncf_metrics *mt)
{
    mt->hr = get_f64(r), mt->ndcg = get_f64(r), mt->n_cases = get_i32(r), mt->topk = get_i32(r);
    mt->n_k = get_i32(r);
    for (int k = 0; k < NCF_MAX_TOPK; k++) mt->k[k] = get_i32(r);
    for (int k = 0; k < NCF_MAX_TOPK; k++)
        for (int j = 0; j < NCF_METRICS; j++) mt->at[k][j] = get_f64(r);
}

static void get_result(reader *r, ncf_train_result *res)
{
    memset(res, 0, sizeof *res);
    res->epochs_run = get_i32(r), res->best_epoch = get_i32(r), res->final_loss = get_f64(r);
    get_metrics(r, &res->best), get_metrics(r, &res->final);
    res->selected_epoch = get_i32(r), get_metrics(r, &res->selected_valid), get_metrics(r, &res->selected);
    res->stopped_early = get_i32(r);
}

/* Reads a buffer of count elements of size bytes after its presence flag
 * (NULL when absent); -1 when the file ends first or memory runs out. The
 * size is checked against what is left of the file before allocating. */
static int get_array(reader *r, size_t count, size_t size, void **out)
{
    *out = NULL;
    if (!get_i32(r)) return r->ok ? 0 : -1;
    if (count > (r->n - r->at) / size) {
        r->ok = 0;
        return -1;
    }
    if (!(*out = malloc(count * size + 1))) return -1;
    take(r, *out, count * size);
    return r->ok ? 0 : -1;
}

/* As get_array, into a table-shaped buffer (rows padded to tb->stride with zeros). */
static int get_rows(reader *r, const ncf_table *tb, float **out)
{
    *out = NULL;
    if (!get_i32(r)) return r->ok ? 0 : -1;
    if (!tb->w || (uint64_t)tb->rows * (uint64_t)tb->dim > (r->n - r->at) / 4) {
        r->ok = 0;
        return -1;
    }
    if (!(*out = calloc((size_t)tb->rows * (size_t)tb->stride, sizeof(float)))) return -1;
    for (int32_t row = 0; row < tb->rows; row++) take(r, *out + (size_t)row * (size_t)tb->stride, (size_t)tb->dim * 4);
    return r->ok ? 0 : -1;
}

void ncf_checkpoint_free(ncf_checkpoint *ck)
{
    if (!ck) return;
    free(ck->note);
    ncf_model_free(ck->m);
    free(ck->dense_m);
    free(ck->dense_v);
    for (int k = 0; k < NCF_TABLES; k++) {
        free(ck->tab_m[k]);
        free(ck->tab_v[k]);
        free(ck->best.tab[k]);
    }
    free(ck->best.dense);
    for (int s = 0; s < 2; s++) free(ck->synced[s]);
    free(ck);
}

/* Parses the checked bytes of a checkpoint after magic and version. */
static ncf_status parse(reader *r, uint32_t version, const char *path, ncf_checkpoint *ck, ncf_err *err)
{
    get_config(r, &ck->c);
    if (version >= 2) ck->c.shards = get_i32(r);
    ck->fingerprint = get_u64(r);
    ck->n_users = get_i32(r), ck->n_items = get_i32(r), ck->n_train = get_i64(r);
    ck->epochs_done = get_i32(r), ck->steps_done = get_i64(r), ck->loss_sum = get_f64(r), ck->step = get_i64(r);
    get_result(r, &ck->result);
    ck->best_valid = get_f64(r), ck->since_better = get_i32(r), ck->over = get_i32(r);
    ncf_err cerr;
    if (!r->ok) return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: truncated header", path);
    if (ncf_train_config_check(&ck->c, &cerr) != NCF_OK)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: %s", path, cerr.msg);
    if (ck->epochs_done < 0 || ck->epochs_done > ck->c.epochs || ck->steps_done < 0 || ck->step < 0 ||
        ck->n_users < 0 || ck->n_items < 0 || ck->n_train < 0)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: progress out of range", path);
    const uint64_t note_len = get_u64(r);
    if (!r->ok || note_len > r->n - r->at)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: note exceeds the file", path);
    if (!(ck->note = malloc(note_len + 1))) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    take(r, ck->note, note_len);
    ck->note[note_len] = '\0';
    const uint64_t model_len = get_u64(r);
    if (!r->ok || model_len > r->n - r->at)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: model exceeds the file", path);
    ncf_status st = ncf_model_parse_(r->p + r->at, model_len, path, &ck->m, err);
    if (st != NCF_OK) return st;
    r->at += model_len;
    const ncf_model *m = ck->m;
    if (m->cfg.n_users != ck->n_users || m->cfg.n_items != ck->n_items)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: its model does not match its data sizes", path);
    int bad = get_array(r, m->n_dense, 4, (void **)&ck->dense_m) != 0 ||
              get_array(r, m->n_dense, 4, (void **)&ck->dense_v) != 0;
    for (int k = 0; k < NCF_TABLES && !bad; k++)
        bad = get_rows(r, &m->tab[k], &ck->tab_m[k]) != 0 || get_rows(r, &m->tab[k], &ck->tab_v[k]) != 0;
    for (int side = 0; side < 2 && !bad; side++)
        bad = get_array(r, (size_t)(side ? ck->n_items : ck->n_users) + 1, 8, (void **)&ck->synced[side]) != 0;
    if (!bad && get_i32(r)) {
        for (int k = 0; k < NCF_TABLES && !bad; k++) {
            float *rows = NULL;
            bad = get_rows(r, &m->tab[k], &rows) != 0;
            ck->best.tab[k] = rows;
        }
        if (!bad) {
            bad = m->n_dense > (r->n - r->at) / 4 || !(ck->best.dense = malloc(m->n_dense * 4 + 1));
            if (!bad) take(r, ck->best.dense, m->n_dense * 4);
        }
    }
    if (bad || !r->ok || r->at != r->n)
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt checkpoint: the optimizer state does not match its model",
                         path);
    return NCF_OK;
}

ncf_status ncf_checkpoint_load(const char *path, ncf_checkpoint **out, ncf_err *err)
{
    *out = NULL;
    unsigned char *buf = NULL;
    size_t size = 0;
    ncf_status st = ncf_read_file_(path, &buf, &size, err);
    if (st != NCF_OK) return st;
    uint32_t version = 0, crc_file = 0;
    if (size < 16 || memcmp(buf, MAGIC, 8) != 0) {
        free(buf);
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: not an ncf checkpoint", path);
    }
    memcpy(&crc_file, buf + size - 4, 4); /* the CRC ends the file in every version */
    if (ncf_crc32_update_(0, buf, size - 4) != crc_file) {
        free(buf);
        return ncf_fail_(err, NCF_ERR_FORMAT, "%s: corrupt or truncated checkpoint (CRC mismatch)", path);
    }
    memcpy(&version, buf + 8, 4);
    if (version < 1 || version > NCF_CHECKPOINT_VERSION) {
        free(buf);
        return ncf_fail_(err, NCF_ERR_VERSION, "%s: checkpoint version %u; this ncf reads versions 1 to %d", path, version,
                         NCF_CHECKPOINT_VERSION);
    }
    ncf_checkpoint *ck = calloc(1, sizeof *ck);
    if (!ck) {
        free(buf);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    reader r = {buf, size - 4, 12, 1};
    st = parse(&r, version, path, ck, err);
    free(buf);
    if (st != NCF_OK) {
        ncf_checkpoint_free(ck);
        return st;
    }
    *out = ck;
    return NCF_OK;
}

const ncf_train_config *ncf_checkpoint_config(const ncf_checkpoint *ck) { return &ck->c; }
const char *ncf_checkpoint_note(const ncf_checkpoint *ck) { return ck->note; }
const ncf_model *ncf_checkpoint_model(const ncf_checkpoint *ck) { return ck->m; }
int ncf_checkpoint_epochs_done(const ncf_checkpoint *ck) { return ck->epochs_done; }
int64_t ncf_checkpoint_steps_done(const ncf_checkpoint *ck) { return ck->steps_done; }
