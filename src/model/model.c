/* model.c — configuration presets, allocation and initialisation of the NCF
 * model, its forward and backward passes over a chunk of samples, scoring
 * and top-K recommendation. Optimisation lives in optim/, the training loop
 * in train/, the file format in io/. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/streams.h"
#include "model/grad.h"
#include "model/model_impl.h"
#include "nn/nn.h"

const char *ncf_model_type_name(ncf_model_type type)
{
    switch (type) {
    case NCF_MODEL_GMF: return "gmf";
    case NCF_MODEL_MLP: return "mlp";
    case NCF_MODEL_NEUMF: return "neumf";
    case NCF_MODEL_MF: return "mf";
    }
    return "?";
}

/* MF is the GMF branch with its output weights fixed at 1, plus biases. */
static int has_gmf(const ncf_model_config *c)
{
    return c->type == NCF_MODEL_GMF || c->type == NCF_MODEL_NEUMF || c->type == NCF_MODEL_MF;
}
static int has_mlp(const ncf_model_config *c) { return c->type == NCF_MODEL_MLP || c->type == NCF_MODEL_NEUMF; }

ncf_status ncf_model_config_preset(ncf_preset preset, ncf_model_type type, int32_t factors,
                                   const int32_t *layers, int n_layers, ncf_model_config *cfg,
                                   ncf_err *err)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->type = type;
    cfg->factors = has_gmf(cfg) ? factors : 0;
    if (preset == NCF_PRESET_PAPER) {
        cfg->gmf_activation = NCF_ACT_IDENTITY;
        cfg->dropout = 0.0f;
        cfg->init_std = 0.01f;
        if (has_mlp(cfg)) {
            if (n_layers < 1)
                return ncf_fail_(err, NCF_ERR_ARG, "--layers needs at least the input width");
            if (layers[0] < 2 || layers[0] % 2 != 0)
                return ncf_fail_(err, NCF_ERR_ARG,
                                 "--layers: the first width (%d) is the MLP input [p_u ; q_i] and must be even",
                                 layers[0]);
            if (n_layers - 1 > NCF_MAX_HIDDEN)
                return ncf_fail_(err, NCF_ERR_ARG, "--layers: at most %d hidden layers", NCF_MAX_HIDDEN);
            cfg->mlp_embed = layers[0] / 2;
            cfg->n_hidden = n_layers - 1;
            for (int k = 1; k < n_layers; k++) cfg->hidden[k - 1] = layers[k];
        }
    } else if (preset == NCF_PRESET_SEED) {
        cfg->gmf_activation = NCF_ACT_SIGMOID;
        cfg->dropout = 0.2f;
        cfg->init_std = 0.05f;
        cfg->factors = has_gmf(cfg) ? factors : 0;
        if (has_mlp(cfg)) {
            if (n_layers > NCF_MAX_HIDDEN)
                return ncf_fail_(err, NCF_ERR_ARG, "--layers: at most %d hidden layers", NCF_MAX_HIDDEN);
            cfg->mlp_embed = factors;
            cfg->n_hidden = n_layers;
            for (int k = 0; k < n_layers; k++) cfg->hidden[k] = layers[k];
        }
    } else {
        return ncf_fail_(err, NCF_ERR_ARG, "unknown preset %d", (int)preset);
    }
    return NCF_OK;
}

ncf_status ncf_model_config_check(const ncf_model_config *c, ncf_err *err)
{
    if (c->type != NCF_MODEL_GMF && c->type != NCF_MODEL_MLP && c->type != NCF_MODEL_NEUMF && c->type != NCF_MODEL_MF)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown model type %d", (int)c->type);
    if (c->type == NCF_MODEL_MF && c->gmf_activation != NCF_ACT_IDENTITY)
        return ncf_fail_(err, NCF_ERR_ARG, "MF is a plain dot product: its activation is identity");
    if (c->n_users < 1 || c->n_items < 1)
        return ncf_fail_(err, NCF_ERR_ARG, "the model needs at least one user and one item");
    if (has_gmf(c) && (c->factors < 1 || c->factors > 4096))
        return ncf_fail_(err, NCF_ERR_ARG, "factors must be in 1..4096, got %d", c->factors);
    if (has_mlp(c)) {
        if (c->mlp_embed < 1 || c->mlp_embed > 4096)
            return ncf_fail_(err, NCF_ERR_ARG, "MLP embedding width must be in 1..4096, got %d", c->mlp_embed);
        if (c->n_hidden < 0 || c->n_hidden > NCF_MAX_HIDDEN)
            return ncf_fail_(err, NCF_ERR_ARG, "hidden layers must be 0..%d, got %d", NCF_MAX_HIDDEN, c->n_hidden);
        for (int k = 0; k < c->n_hidden; k++)
            if (c->hidden[k] < 1 || c->hidden[k] > 8192)
                return ncf_fail_(err, NCF_ERR_ARG, "hidden layer %d width must be in 1..8192, got %d", k + 1,
                                 c->hidden[k]);
    }
    if (!(c->dropout >= 0.0f && c->dropout < 1.0f))
        return ncf_fail_(err, NCF_ERR_ARG, "dropout must be in [0, 1), got %g", (double)c->dropout);
    if (!(c->init_std >= 0.0f && c->init_std < 10.0f))
        return ncf_fail_(err, NCF_ERR_ARG, "init std must be in [0, 10), got %g", (double)c->init_std);
    if (c->gmf_activation != NCF_ACT_IDENTITY && c->gmf_activation != NCF_ACT_SIGMOID)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown GMF activation %d", (int)c->gmf_activation);
    return NCF_OK;
}

void ncf_model_free(ncf_model *m)
{
    if (!m) return;
    for (int t = 0; t < NCF_TABLES; t++) ncf_free_aligned_(m->tab[t].w);
    ncf_free_aligned_(m->dense);
    ncf_free_aligned_(m->wt);
    ncf_idmap_free(m->users);
    ncf_idmap_free(m->items);
    free(m->seen_off);
    free(m->seen);
    free(m->meta);
    free(m);
}

static size_t round8(size_t n) { return (n + 7) & ~(size_t)7; }

uint64_t ncf_model_weight_count_(const ncf_model_config *c)
{
    const uint64_t F = has_gmf(c) ? (uint64_t)c->factors : 0, E = has_mlp(c) ? (uint64_t)c->mlp_embed : 0;
    const uint64_t B = c->type == NCF_MODEL_MF;
    uint64_t n = ((uint64_t)c->n_users + (uint64_t)c->n_items) * (F + E + B), width = 2 * E;
    for (int l = 0; has_mlp(c) && l < c->n_hidden; l++) {
        n += width * (uint64_t)c->hidden[l] + (uint64_t)c->hidden[l];
        width = (uint64_t)c->hidden[l];
    }
    return n + F + (has_mlp(c) ? width : 0) + 1;
}

ncf_status ncf_model_alloc_(const ncf_model_config *cfg, ncf_model **out, ncf_err *err)
{
    ncf_status st = ncf_model_config_check(cfg, err);
    if (st != NCF_OK) return st;
    ncf_model *m = calloc(1, sizeof *m);
    if (!m) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    m->cfg = *cfg;
    if (!has_gmf(cfg)) m->cfg.factors = 0;
    if (!has_mlp(cfg)) {
        m->cfg.mlp_embed = 0;
        m->cfg.n_hidden = 0;
        memset(m->cfg.hidden, 0, sizeof m->cfg.hidden);
    }
    m->F = m->cfg.factors;
    m->E = m->cfg.mlp_embed;
    m->B = cfg->type == NCF_MODEL_MF;
    int32_t dims[NCF_TABLES] = {m->F, m->F, m->E, m->E, m->B, m->B};
    int32_t rows[NCF_TABLES] = {cfg->n_users, cfg->n_items, cfg->n_users, cfg->n_items, cfg->n_users, cfg->n_items};
    for (int t = 0; t < NCF_TABLES; t++) {
        m->tab[t].rows = rows[t];
        m->tab[t].dim = dims[t];
        m->tab[t].stride = (int32_t)round8((size_t)dims[t]);
        if (dims[t] == 0) continue;
        size_t bytes;
        if (ncf_mul_size_((size_t)rows[t] * (size_t)m->tab[t].stride, sizeof(float), &bytes) != 0 ||
            !(m->tab[t].w = ncf_alloc_aligned_(bytes))) {
            ncf_model_free(m);
            return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory for a %d x %d embedding table", rows[t], dims[t]);
        }
    }
    /* dense arena layout; every tensor starts at a multiple of 8 floats */
    size_t off = 0;
    m->n_layers = m->cfg.n_hidden;
    int32_t width = 2 * m->E;
    m->max_width = width;
    for (int l = 0; l < m->n_layers; l++) {
        m->in[l] = width;
        m->out[l] = m->cfg.hidden[l];
        m->w_off[l] = off;
        off += round8((size_t)m->in[l] * (size_t)m->out[l]);
        m->b_off[l] = off;
        off += round8((size_t)m->out[l]);
        width = m->out[l];
        if (width > m->max_width) m->max_width = width;
    }
    m->out_in = m->F + (has_mlp(&m->cfg) ? width : 0);
    if (m->out_in > m->max_width) m->max_width = m->out_in;
    m->wo_off = off;
    off += round8((size_t)m->out_in);
    m->bo_off = off;
    off += 8;
    m->n_dense = off;
    m->dense = ncf_alloc_aligned_(off * sizeof(float));
    m->wt = ncf_alloc_aligned_(off * sizeof(float));
    if (!m->dense || !m->wt) {
        ncf_model_free(m);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    /* activation layout */
    size_t a = 0;
    m->act_g = a;
    a += round8((size_t)m->F);
    m->act_x0 = a;
    a += round8(2 * (size_t)m->E);
    for (int l = 0; l < m->n_layers; l++) {
        m->act_z[l] = a;
        a += round8((size_t)m->out[l]);
    }
    m->act_mask = a;
    a += round8((size_t)(m->out_in - m->F) + 1); /* mask, then a used-flag */
    m->act_size = a;
    *out = m;
    return NCF_OK;
}

void ncf_model_sync_(ncf_model *m)
{
    for (int l = 0; l < m->n_layers; l++) {
        const float *w = m->dense + m->w_off[l];
        float *wt = m->wt + m->w_off[l];
        int in = m->in[l], out = m->out[l];
        for (int o = 0; o < out; o++)
            for (int i = 0; i < in; i++) wt[(size_t)i * (size_t)out + (size_t)o] = w[(size_t)o * (size_t)in + (size_t)i];
    }
}

_Static_assert(NCF_STREAM_INIT_DENSE >= NCF_TABLES, "the dense arena's init stream is not a table's");

ncf_status ncf_model_create(const ncf_model_config *cfg, uint64_t seed, ncf_model **out, ncf_err *err)
{
    ncf_model *m;
    ncf_status st = ncf_model_alloc_(cfg, &m, err);
    if (st != NCF_OK) return st;
    m->seed = seed;
    /* each table from a stream of its own: the tables in parallel */
#pragma omp parallel for schedule(dynamic, 1) if ((int64_t)cfg->n_users + cfg->n_items > 100000)
    for (int t = 0; t < NCF_TABLES; t++) {
        ncf_table *tb = &m->tab[t];
        if (!tb->w || t >= NCF_TABLE_USER_BIAS) continue; /* biases start at 0 */
        ncf_rng rng;
        ncf_rng_seed_(&rng, seed, NCF_STREAM_INIT, (uint64_t)t);
        for (int32_t r = 0; r < tb->rows; r++)
            for (int32_t k = 0; k < tb->dim; k++)
                tb->w[(size_t)r * (size_t)tb->stride + (size_t)k] = (float)(m->cfg.init_std * ncf_rng_normal_(&rng));
    }
    ncf_rng rng;
    ncf_rng_seed_(&rng, seed, NCF_STREAM_INIT, NCF_STREAM_INIT_DENSE);
    for (int l = 0; l < m->n_layers; l++) { /* Glorot uniform */
        double limit = sqrt(6.0 / (double)(m->in[l] + m->out[l]));
        float *w = m->dense + m->w_off[l];
        for (size_t k = 0; k < (size_t)m->in[l] * (size_t)m->out[l]; k++)
            w[k] = (float)((2.0 * ncf_rng_uniform_(&rng) - 1.0) * limit);
    }
    double limit = sqrt(3.0 / (double)m->out_in); /* LeCun uniform */
    for (int32_t k = 0; k < m->out_in; k++)
        m->dense[m->wo_off + (size_t)k] = m->B ? 1.0f : (float)((2.0 * ncf_rng_uniform_(&rng) - 1.0) * limit);
    ncf_model_sync_(m);
    *out = m;
    return NCF_OK;
}

const ncf_model_config *ncf_model_get_config(const ncf_model *m) { return &m->cfg; }
const ncf_idmap *ncf_model_users(const ncf_model *m) { return m->users; }
const ncf_idmap *ncf_model_items(const ncf_model *m) { return m->items; }

int64_t ncf_model_param_count(const ncf_model *m)
{
    int64_t n = 0;
    for (int t = 0; t < NCF_TABLES; t++) n += (int64_t)m->tab[t].rows * m->tab[t].dim;
    for (int l = 0; l < m->n_layers; l++) n += (int64_t)m->in[l] * m->out[l] + m->out[l];
    return n + (m->B ? 0 : m->out_in) + 1; /* MF's output weights are fixed */
}

ncf_status ncf_model_attach_data(ncf_model *m, const ncf_dataset *ds, ncf_err *err)
{
    if (ds->n_users != m->cfg.n_users || ds->n_items != m->cfg.n_items)
        return ncf_fail_(err, NCF_ERR_ARG, "dataset has %d users and %d items, the model %d and %d",
                         ds->n_users, ds->n_items, m->cfg.n_users, m->cfg.n_items);
    ncf_idmap *u = NULL, *i = NULL;
    int64_t *off = malloc(((size_t)ds->n_users + 1) * sizeof *off);
    int32_t *seen = malloc(((size_t)ds->n_train + 1) * sizeof *seen);
    if (!off || !seen || ncf_idmap_clone(ds->user_ids, &u) != NCF_OK ||
        ncf_idmap_clone(ds->item_ids, &i) != NCF_OK) {
        free(off);
        free(seen);
        ncf_idmap_free(u);
        ncf_idmap_free(i);
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory");
    }
    memcpy(off, ds->train_offsets, ((size_t)ds->n_users + 1) * sizeof *off);
    if (ds->own_users) { /* a process of sharded training: its users' items only (the others come at saving) */
        for (int32_t v = 0; v < ds->n_users; v++)
            if (ds->own_users[v] && off[v + 1] > off[v])
                memcpy(seen + off[v], ds->train_items + off[v], (size_t)(off[v + 1] - off[v]) * sizeof *seen);
    } else if (ds->n_train > 0)
        memcpy(seen, ds->train_items, (size_t)ds->n_train * sizeof *seen); /* NULL when none */
    ncf_idmap_free(m->users);
    ncf_idmap_free(m->items);
    free(m->seen_off);
    free(m->seen);
    m->users = u;
    m->items = i;
    m->seen_off = off;
    m->seen = seen;
    return NCF_OK;
}

static int same_ids(const ncf_idmap *a, const ncf_idmap *b)
{
    if (!a || !b) return 1; /* a model without maps cannot disagree */
    if (ncf_idmap_size(a) != ncf_idmap_size(b)) return 0;
    for (int32_t k = 0; k < ncf_idmap_size(a); k++)
        if (strcmp(ncf_idmap_raw(a, k), ncf_idmap_raw(b, k)) != 0) return 0;
    return 1;
}

static void copy_table(ncf_table *dst, const ncf_table *src)
{
    for (int32_t r = 0; r < dst->rows; r++)
        memcpy(dst->w + (size_t)r * (size_t)dst->stride, src->w + (size_t)r * (size_t)src->stride,
               (size_t)dst->dim * sizeof(float));
}

/* An MF model y = b + b_u + b_i + <p_u, q_i> is exactly a GMF of two more
 * factors: p'_u = [p_u, b_u, 1], q'_i = [q_i, 1, b_i], output weights all 1
 * and output bias b (identity activation). Fills n's GMF tables that way;
 * the output weights and bias go through the mixing below like a GMF's. */
static void mf_into_gmf_part(ncf_model *n, const ncf_model *mf)
{
    const int f = mf->cfg.factors;
    const ncf_table *src[2] = {&mf->tab[NCF_TABLE_GMF_USER], &mf->tab[NCF_TABLE_GMF_ITEM]};
    const ncf_table *bias[2] = {&mf->tab[NCF_TABLE_USER_BIAS], &mf->tab[NCF_TABLE_ITEM_BIAS]};
    ncf_table *dst[2] = {&n->tab[NCF_TABLE_GMF_USER], &n->tab[NCF_TABLE_GMF_ITEM]};
    for (int side = 0; side < 2; side++)
        for (int32_t r = 0; r < dst[side]->rows; r++) {
            float *d = dst[side]->w + (size_t)r * (size_t)dst[side]->stride;
            memcpy(d, src[side]->w + (size_t)r * (size_t)src[side]->stride, (size_t)f * sizeof(float));
            const float b = bias[side]->w[(size_t)r * (size_t)bias[side]->stride];
            d[f + side] = b;     /* user: column f holds b_u; item: column f+1 holds b_i */
            d[f + 1 - side] = 1.0f;
        }
}

ncf_status ncf_model_init_pretrained(ncf_model *n, const ncf_model *g, const ncf_model *p, float alpha, ncf_err *err)
{
    const int from_mf = g->cfg.type == NCF_MODEL_MF;
    if (n->cfg.type != NCF_MODEL_NEUMF || (g->cfg.type != NCF_MODEL_GMF && !from_mf) || p->cfg.type != NCF_MODEL_MLP)
        return ncf_fail_(err, NCF_ERR_ARG,
                         "pre-training needs a NeuMF model from a GMF (or MF) and an MLP model, got %s from %s and %s",
                         ncf_model_type_name(n->cfg.type), ncf_model_type_name(g->cfg.type),
                         ncf_model_type_name(p->cfg.type));
    if (!(alpha >= 0.0f && alpha <= 1.0f)) return ncf_fail_(err, NCF_ERR_ARG, "alpha must be in [0, 1]");
    const ncf_model *parts[2] = {g, p};
    const char *names[2] = {"GMF", "MLP"};
    for (int k = 0; k < 2; k++) {
        if (parts[k]->cfg.n_users != n->cfg.n_users || parts[k]->cfg.n_items != n->cfg.n_items)
            return ncf_fail_(err, NCF_ERR_ARG, "the %s model has %d users and %d items, the data %d and %d", names[k],
                             parts[k]->cfg.n_users, parts[k]->cfg.n_items, n->cfg.n_users, n->cfg.n_items);
        if (!same_ids(parts[k]->users, n->users) || !same_ids(parts[k]->items, n->items))
            return ncf_fail_(err, NCF_ERR_ARG, "the %s model was trained on other user or item ids", names[k]);
    }
    if (from_mf && g->cfg.factors + 2 != n->cfg.factors)
        return ncf_fail_(err, NCF_ERR_ARG,
                         "an MF model of %d factors becomes a GMF part of %d factors (two carry its biases), "
                         "NeuMF asks for %d", g->cfg.factors, g->cfg.factors + 2, n->cfg.factors);
    if (!from_mf && g->cfg.factors != n->cfg.factors)
        return ncf_fail_(err, NCF_ERR_ARG, "the GMF model has %d factors, NeuMF asks for %d", g->cfg.factors,
                         n->cfg.factors);
    if (from_mf && n->cfg.gmf_activation != NCF_ACT_IDENTITY)
        return ncf_fail_(err, NCF_ERR_ARG, "an MF part needs NeuMF's GMF activation to be the identity");
    if (!from_mf && g->cfg.gmf_activation != n->cfg.gmf_activation)
        return ncf_fail_(err, NCF_ERR_ARG, "the GMF model's activation differs from NeuMF's");
    if (p->cfg.mlp_embed != n->cfg.mlp_embed || p->cfg.n_hidden != n->cfg.n_hidden)
        return ncf_fail_(err, NCF_ERR_ARG, "the MLP model has embeddings of %d and %d hidden layers, NeuMF %d and %d",
                         p->cfg.mlp_embed, p->cfg.n_hidden, n->cfg.mlp_embed, n->cfg.n_hidden);
    for (int l = 0; l < n->n_layers; l++)
        if (p->out[l] != n->out[l])
            return ncf_fail_(err, NCF_ERR_ARG, "MLP hidden layer %d has width %d, NeuMF %d", l + 1, p->out[l], n->out[l]);
    if (from_mf) mf_into_gmf_part(n, g);
    else {
        copy_table(&n->tab[NCF_TABLE_GMF_USER], &g->tab[NCF_TABLE_GMF_USER]);
        copy_table(&n->tab[NCF_TABLE_GMF_ITEM], &g->tab[NCF_TABLE_GMF_ITEM]);
    }
    copy_table(&n->tab[NCF_TABLE_MLP_USER], &p->tab[NCF_TABLE_MLP_USER]);
    copy_table(&n->tab[NCF_TABLE_MLP_ITEM], &p->tab[NCF_TABLE_MLP_ITEM]);
    for (int l = 0; l < n->n_layers; l++) {
        memcpy(n->dense + n->w_off[l], p->dense + p->w_off[l], (size_t)n->in[l] * (size_t)n->out[l] * sizeof(float));
        memcpy(n->dense + n->b_off[l], p->dense + p->b_off[l], (size_t)n->out[l] * sizeof(float));
    }
    const int F = n->F, h = n->out_in - F;
    for (int k = 0; k < F; k++) /* MF's output weights are fixed at 1, its two bias columns' too */
        n->dense[n->wo_off + (size_t)k] = alpha * (from_mf ? 1.0f : g->dense[g->wo_off + (size_t)k]);
    for (int k = 0; k < h; k++) n->dense[n->wo_off + (size_t)(F + k)] = (1.0f - alpha) * p->dense[p->wo_off + (size_t)k];
    n->dense[n->bo_off] = alpha * g->dense[g->bo_off] + (1.0f - alpha) * p->dense[p->bo_off];
    ncf_model_sync_(n);
    return NCF_OK;
}

ncf_status ncf_model_set_meta(ncf_model *m, const char *text)
{
    char *c = strdup(text ? text : "");
    if (!c) return NCF_ERR_NOMEM;
    free(m->meta);
    m->meta = c;
    return NCF_OK;
}

const char *ncf_model_meta(const ncf_model *m) { return m->meta ? m->meta : ""; }

/* ---- forward / backward ---------------------------------------------------- */

static inline const float *row_of(const ncf_table *t, int32_t r) { return t->w + (size_t)r * (size_t)t->stride; }

/* The forward pass in three parts, so that training can run the MLP tower
 * over a whole tile between the first and the last: forward_head returns
 * the output bias, MF's biases and the GMF term, and copies the MLP input;
 * the tower fills the hidden layers; forward_tail adds the last layer's
 * term. The score's sum runs in the same order either way. */
static float forward_head(const ncf_model *m, int32_t u, int32_t i, float *act)
{
    const int F = m->F, E = m->E;
    const float *wo = m->dense + m->wo_off;
    float s = m->dense[m->bo_off];
    if (m->B) s += ncf_mf_biases_(m, u, i);
    if (F) {
        const float *pu = row_of(&m->tab[NCF_TABLE_GMF_USER], u), *qi = row_of(&m->tab[NCF_TABLE_GMF_ITEM], i);
        float *g = act + m->act_g;
        for (int k = 0; k < F; k++) g[k] = pu[k] * qi[k];
        if (m->cfg.gmf_activation == NCF_ACT_SIGMOID)
            for (int k = 0; k < F; k++) g[k] = ncf_sigmoid_(g[k]);
        for (int k = 0; k < F; k++) s += wo[k] * g[k];
    }
    if (E) {
        float *x = act + m->act_x0;
        memcpy(x, row_of(&m->tab[NCF_TABLE_MLP_USER], u), (size_t)E * sizeof *x);
        memcpy(x + E, row_of(&m->tab[NCF_TABLE_MLP_ITEM], i), (size_t)E * sizeof *x);
    }
    return s;
}

static float forward_tail(const ncf_model *m, const float *act, const float *mask, float s)
{
    if (!m->E) return s;
    const int F = m->F, n = m->out_in - F;
    const float *x = act + (m->n_layers ? m->act_z[m->n_layers - 1] : m->act_x0);
    const float *w2 = m->dense + m->wo_off + F;
    if (mask)
        for (int k = 0; k < n; k++) s += w2[k] * (x[k] * mask[k]);
    else
        for (int k = 0; k < n; k++) s += w2[k] * x[k];
    return s;
}

float ncf_model_forward_(const ncf_model *m, int32_t u, int32_t i, float *act, const float *mask)
{
    float s = forward_head(m, u, i, act);
    if (m->E)
        for (int l = 0; l < m->n_layers; l++) {
            const float *x = act + (l ? m->act_z[l - 1] : m->act_x0);
            float *z = act + m->act_z[l];
            ncf_linear_forward_(z, x, m->wt + m->w_off[l], m->dense + m->b_off[l], m->in[l], m->out[l]);
            ncf_relu_forward_(z, m->out[l]);
        }
    return forward_tail(m, act, mask, s);
}

/* Rows of one tile: a BCE sample is one row; a pairwise sample is two
 * (positive, then negative). Activations and their gradients are kept per
 * row so the weight gradient can be summed over the whole tile at once. */
#define ROW_FLOATS(m) (2 * (m)->act_size) /* act, then dact with the same layout */

size_t ncf_model_ws_floats_(const ncf_model *m)
{
    return (size_t)NCF_TILE_ROWS * ROW_FLOATS(m) + 2 * (size_t)NCF_TILE_ROWS;
}

static void make_mask(const ncf_model *m, uint64_t seed, uint64_t stream, float *mask)
{
    ncf_rng rng;
    ncf_rng_seed_(&rng, seed, NCF_STREAM_DROPOUT, stream);
    const int n = m->out_in - m->F;
    const float keep = 1.0f - m->cfg.dropout, scale = 1.0f / keep;
    for (int k = 0; k < n; k++) mask[k] = ncf_rng_uniform_(&rng) < (double)keep ? scale : 0.0f;
}

static double add_reg(const ncf_model *m, int32_t user_or_item, int item_side, float coef, float *g)
{
    /* coef = 2 * reg * scale: gradient of reg * scale * ||row||^2 */
    double sq = 0.0;
    const ncf_table *tg = &m->tab[item_side ? NCF_TABLE_GMF_ITEM : NCF_TABLE_GMF_USER];
    const ncf_table *tm = &m->tab[item_side ? NCF_TABLE_MLP_ITEM : NCF_TABLE_MLP_USER];
    if (m->F) {
        const float *r = row_of(tg, user_or_item);
        for (int k = 0; k < m->F; k++) {
            sq += (double)r[k] * r[k];
            g[k] += coef * r[k];
        }
    }
    if (m->E) {
        const float *r = row_of(tm, user_or_item);
        for (int k = 0; k < m->E; k++) {
            sq += (double)r[k] * r[k];
            g[m->F + k] += coef * r[k];
        }
    }
    return sq;
}

/* Output layer and GMF branch of one row's backward; leaves d(loss)/d(z_L)
 * (relu-masked) in the row's dact. gu/gi receive the GMF embedding grads. */
static void backward_head(const ncf_model *m, int32_t u, int32_t i, const float *act, float *dact, float ds,
                          float *dg, float *gu, float *gi)
{
    const int F = m->F;
    const float *wo = m->dense + m->wo_off;
    float *dwo = dg + m->wo_off;
    dg[m->bo_off] += ds;
    if (m->B) { /* MF: biases; the output weights stay fixed at 1 */
        gu[F + m->E] += ds;
        gi[F + m->E] += ds;
    }
    if (F) { /* loops without branches over distinct arrays, so that they vectorise */
        const float *restrict pu = row_of(&m->tab[NCF_TABLE_GMF_USER], u);
        const float *restrict qi = row_of(&m->tab[NCF_TABLE_GMF_ITEM], i);
        const float *restrict g = act + m->act_g;
        float *restrict ou = gu, *restrict oi = gi, *restrict ow = dwo;
        if (!m->B)
            for (int k = 0; k < F; k++) ow[k] += ds * g[k];
        if (m->cfg.gmf_activation == NCF_ACT_SIGMOID)
            for (int k = 0; k < F; k++) {
                const float d = ds * wo[k] * (g[k] * (1.0f - g[k]));
                ou[k] += d * qi[k];
                oi[k] += d * pu[k];
            }
        else
            for (int k = 0; k < F; k++) {
                const float d = ds * wo[k];
                ou[k] += d * qi[k];
                oi[k] += d * pu[k];
            }
    }
    if (m->E) {
        const int n = m->out_in - F;
        const size_t zoff = m->n_layers ? m->act_z[m->n_layers - 1] : m->act_x0;
        const float *z = act + zoff, *mask = act + m->act_mask;
        float *dz = dact + zoff;
        const int drop = m->cfg.dropout > 0.0f && act[m->act_mask + (size_t)n] != 0.0f; /* flag after mask */
        for (int k = 0; k < n; k++) {
            float h = drop ? z[k] * mask[k] : z[k];
            dwo[F + k] += ds * h;
            dz[k] = ds * wo[F + k] * (drop ? mask[k] : 1.0f);
        }
        if (m->n_layers) ncf_relu_backward_(dz, z, n);
    }
}

/* Sample k of a call's n: its place in the batch (a->at[k], or k), which
 * picks its entry in s, its embedding-gradient slot and its dropout stream. */
static inline int place_of(const ncf_grad_args *a, int k) { return a->at ? a->at[k] : k; }

static inline const ncf_sample *sample_of(const ncf_sample *s, const ncf_grad_args *a, int k)
{
    return &s[place_of(a, k)];
}

static inline float *grad_slot(float *emb_grad, size_t slot, int k) { return emb_grad + (size_t)k * slot; }

double ncf_model_chunk_grad_(const ncf_model *m, const ncf_sample *s, int n, const ncf_grad_args *a,
                             float *ws, float *dense_grad, float *emb_grad)
{
    const size_t side = ncf_side_width_(m), slot = ncf_slot_width_(m, a->loss), rowf = ROW_FLOATS(m);
    const size_t item_at = ncf_slot_item_(m);
    const int pair = ncf_loss_pairwise(a->loss);
    const int R = pair ? 2 * n : n;
    const int drop = a->dropout && m->cfg.dropout > 0.0f && m->E > 0;
    const int E = m->E, F = m->F;
    float *ds = ws + (size_t)NCF_TILE_ROWS * rowf;
    double loss = 0.0;
    /* ask for every embedding row of the tile first (every line of it):
     * rows another core has just updated take a cross-core transfer each,
     * and these overlap */
    for (int k = 0; k < n; k++)
        for (int tb = 0; tb < NCF_TABLES; tb++) {
            const ncf_table *t = &m->tab[tb];
            if (!t->w) continue;
            const int item = ncf_table_is_item_(tb);
            for (int q = 0; q < (item && pair ? 2 : 1); q++) {
                const ncf_sample *x = sample_of(s, a, k);
                const float *p = row_of(t, !item ? x->user : q ? x->item2 : x->item);
                ncf_prefetch_lines_(p, (size_t)t->dim * sizeof(float), 0);
            }
        }
    /* and the tile's gradient slots for writing: another core read their
     * item parts last step */
    for (int k = 0; k < n; k++) {
        const float *g = grad_slot(emb_grad, slot, k);
        for (size_t f = 0; f < slot; f += 16) ncf_prefetch_write_(g + f);
    }
    /* forward every row */
    for (int r = 0; r < R; r++) {
        const int k = pair ? r / 2 : r;
        const ncf_sample *x = sample_of(s, a, k);
        float *act = ws + (size_t)r * rowf;
        int32_t item = pair && (r & 1) ? x->item2 : x->item;
        uint64_t stream = 2 * (a->sample_base + (uint64_t)place_of(a, k)) + (uint64_t)(pair ? r & 1 : 0);
        if (E) {
            float *mask = act + m->act_mask;
            if (drop) make_mask(m, a->drop_seed, stream, mask);
            /* the slot after the mask says whether this row used it */
            mask[m->out_in - F] = drop ? 1.0f : 0.0f;
        }
        ds[r] = forward_head(m, x->user, item, act);
    }
    /* the MLP tower over the whole tile, layer by layer */
    if (E)
        for (int l = 0; l < m->n_layers; l++) {
            const size_t xo = l ? m->act_z[l - 1] : m->act_x0, zo = m->act_z[l];
            ncf_linear_forward_tile_(ws + zo, rowf, ws + xo, rowf, R, m->wt + m->w_off[l], m->dense + m->b_off[l],
                                     m->in[l], m->out[l], 1);
        }
    for (int r = 0; r < R; r++) {
        const float *act = ws + (size_t)r * rowf;
        ds[r] = forward_tail(m, act, drop ? act + m->act_mask : NULL, ds[r]);
    }
    /* d(loss)/d(score) per row; the loss terms' softplus arguments go to
     * sp_arg (two per sample for pair-BCE) and are evaluated together */
    double sp_arg[NCF_TILE_ROWS];
    for (int k = 0; k < n; k++) {
        if (!pair) {
            float sp = ds[k];
            const int label = sample_of(s, a, k)->label & 1; /* the other bits are the trainer's */
            sp_arg[k] = label ? -(double)sp : (double)sp;
            ds[k] = a->scale * (ncf_sigmoid_(sp) - (float)(label != 0));
        } else if (a->loss == NCF_LOSS_PAIR_BCE) {
            float sp = ds[2 * k], sn = ds[2 * k + 1];
            sp_arg[2 * k] = -(double)sp;
            sp_arg[2 * k + 1] = (double)sn;
            ds[2 * k] = a->scale * 0.5f * (ncf_sigmoid_(sp) - 1.0f);
            ds[2 * k + 1] = a->scale * 0.5f * ncf_sigmoid_(sn);
        } else { /* BPR: -log sigmoid(sp - sn) */
            float d = ds[2 * k] - ds[2 * k + 1];
            sp_arg[k] = -(double)d;
            float g = a->scale * (ncf_sigmoid_(d) - 1.0f);
            ds[2 * k] = g;
            ds[2 * k + 1] = -g;
        }
        memset(grad_slot(emb_grad, slot, k), 0, slot * sizeof *emb_grad);
    }
    const int pair_bce = a->loss == NCF_LOSS_PAIR_BCE;
    ncf_softplus_many_(sp_arg, pair_bce ? 2 * n : n);
    for (int k = 0; k < n; k++) /* summed in sample order */
        loss += pair_bce ? a->scale * 0.5 * (sp_arg[2 * k] + sp_arg[2 * k + 1]) : a->scale * sp_arg[k];
    /* output layer and GMF per row */
    for (int r = 0; r < R; r++) {
        const ncf_sample *x = sample_of(s, a, pair ? r / 2 : r);
        float *gu = grad_slot(emb_grad, slot, pair ? r / 2 : r);
        float *gi = gu + item_at + side * (size_t)(pair && (r & 1));
        float *act = ws + (size_t)r * rowf;
        backward_head(m, x->user, pair && (r & 1) ? x->item2 : x->item, act, act + m->act_size, ds[r], dense_grad,
                      gu, gi);
    }
    /* MLP tower, layer by layer over the whole tile */
    for (int l = m->n_layers - 1; l >= 0; l--) {
        const size_t zo = m->act_z[l], xo = l > 0 ? m->act_z[l - 1] : m->act_x0;
        ncf_linear_backward_w_(dense_grad + m->w_off[l], dense_grad + m->b_off[l], ws + m->act_size + zo, rowf,
                               ws + xo, rowf, R, m->in[l], m->out[l]);
        /* below the first layer the input is a ReLU output: its gradient is masked in the same pass */
        ncf_linear_backward_x_tile_(ws + m->act_size + xo, rowf, ws + m->act_size + zo, rowf, R,
                                    m->dense + m->w_off[l], m->in[l], m->out[l], l > 0 ? ws + xo : NULL, rowf);
    }
    if (E)
        for (int r = 0; r < R; r++) {
            const float *dx = ws + (size_t)r * rowf + m->act_size + m->act_x0;
            float *gu = grad_slot(emb_grad, slot, pair ? r / 2 : r);
            float *gi = gu + item_at + side * (size_t)(pair && (r & 1));
            ncf_add_row_(gu + F, dx, (size_t)E, 0);
            ncf_add_row_(gi + F, dx + E, (size_t)E, 0);
        }
    if (a->reg > 0.0f) {
        const float coef = 2.0f * a->reg * a->scale;
        for (int k = 0; k < n; k++) {
            float *gu = grad_slot(emb_grad, slot, k);
            const ncf_sample *x = sample_of(s, a, k);
            double sq = add_reg(m, x->user, 0, coef, gu) + add_reg(m, x->item, 1, coef, gu + item_at);
            if (pair) sq += add_reg(m, x->item2, 1, coef, gu + item_at + side);
            loss += (double)a->reg * a->scale * sq;
        }
    }
    return loss;
}

/* ---- inference -------------------------------------------------------------- */

float *ncf_model_item_halves_(const ncf_model *m, int threads)
{
    if (m->n_layers == 0 || m->E == 0) return NULL;
    const int out = m->out[0], E = m->E;
    float *h = ncf_alloc_aligned_((size_t)m->cfg.n_items * (size_t)out * sizeof(float));
    if (!h) return NULL;
    const float *wt_item = m->wt + m->w_off[0] + (size_t)E * (size_t)out; /* rows E..2E-1 of W1^T */
#pragma omp parallel for schedule(static) num_threads(threads > 0 ? threads : 1)
    for (int32_t i = 0; i < m->cfg.n_items; i++)
        ncf_linear_forward_(h + (size_t)i * (size_t)out, row_of(&m->tab[NCF_TABLE_MLP_ITEM], i), wt_item,
                            m->dense + m->b_off[0], E, out);
    return h;
}

void ncf_model_user_half_(const ncf_model *m, int32_t u, float *uh)
{
    const int out = m->out[0];
    float zero[64] = {0};
    const float *bias = zero;
    float *heap = NULL;
    if (out > 64) bias = heap = ncf_alloc_aligned_((size_t)out * sizeof(float));
    if (!bias) { /* out of memory: fall back to a scalar loop without a bias vector */
        for (int o = 0; o < out; o++) {
            float acc = 0.0f;
            for (int k = 0; k < m->E; k++) acc += row_of(&m->tab[NCF_TABLE_MLP_USER], u)[k] * m->wt[m->w_off[0] + (size_t)k * (size_t)out + (size_t)o];
            uh[o] = acc;
        }
        return;
    }
    ncf_linear_forward_(uh, row_of(&m->tab[NCF_TABLE_MLP_USER], u), m->wt + m->w_off[0], bias, m->E, out);
    ncf_free_aligned_(heap);
}

float ncf_model_forward_split_(const ncf_model *m, int32_t u, int32_t i, const float *uh, const float *ih, float *act)
{
    float *restrict z = act + m->act_z[0];
    const float *restrict uhr = uh, *restrict ihr = ih;
    const int h = m->out[0];
    for (int k = 0; k < h; k++) { /* branch-free: the signs are random */
        const float v = uhr[k] + ihr[k];
        z[k] = v > 0.0f ? v : 0.0f;
    }
    const float *x = z;
    for (int l = 1; l < m->n_layers; l++) {
        float *zl = act + m->act_z[l];
        ncf_linear_forward_(zl, x, m->wt + m->w_off[l], m->dense + m->b_off[l], m->in[l], m->out[l]);
        ncf_relu_forward_(zl, m->out[l]);
        x = zl;
    }
    return ncf_model_output_(m, u, i, x);
}

ncf_status ncf_model_score(const ncf_model *m, int32_t user, const int32_t *items, int n, float *scores)
{
    if (user < 0 || user >= m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    float *act = ncf_alloc_aligned_(m->act_size * sizeof(float));
    if (!act) return NCF_ERR_NOMEM;
    ncf_status st = NCF_OK;
    for (int k = 0; k < n; k++) {
        if (items[k] < 0 || items[k] >= m->cfg.n_items) {
            st = NCF_ERR_NOT_FOUND;
            break;
        }
        scores[k] = ncf_model_forward_(m, user, items[k], act, NULL);
    }
    ncf_free_aligned_(act);
    return st;
}

ncf_status ncf_model_recommend(const ncf_model *m, int32_t user, int k, int32_t *items, float *scores, int *n_out)
{
    *n_out = 0;
    if (user < 0 || user >= m->cfg.n_users) return NCF_ERR_NOT_FOUND;
    ncf_scorer *s = NULL;
    if (ncf_scorer_create(m, 1, &s, NULL) != NCF_OK) return NCF_ERR_NOMEM;
    ncf_status st = ncf_scorer_recommend(s, user, k, items, scores, n_out);
    ncf_scorer_free(s);
    return st;
}

/* ---- summary ----------------------------------------------------------------- */
static void put_row(ncf_layer_info *rows, int cap, int *n, const char *name, const char *kind, int64_t r, int64_t c,
                    int64_t params)
{
    if (*n < cap) {
        ncf_layer_info *x = &rows[*n];
        snprintf(x->name, sizeof x->name, "%s", name);
        snprintf(x->kind, sizeof x->kind, "%s", kind);
        x->rows = r;
        x->cols = c;
        x->params = params;
    }
    (*n)++;
}

ncf_status ncf_model_table(const ncf_model *m, const char *name, ncf_table_view *out)
{
    if (out) memset(out, 0, sizeof *out);
    if (!m || !name || !out) return NCF_ERR_ARG;
    for (int t = 0; t < NCF_TABLES; t++) {
        if (!m->tab[t].dim || strcmp(ncf_table_name_(m, t), name) != 0) continue;
        out->data = m->tab[t].w;
        out->rows = m->tab[t].rows;
        out->dim = m->tab[t].dim;
        out->stride = m->tab[t].stride;
        return NCF_OK;
    }
    return NCF_ERR_NOT_FOUND;
}

int ncf_model_summary(const ncf_model *m, ncf_layer_info *rows, int cap)
{
    int n = 0;
    for (int t = 0; t < NCF_TABLES; t++)
        if (m->tab[t].dim)
            put_row(rows, cap, &n, ncf_table_name_(m, t), t >= NCF_TABLE_USER_BIAS ? "bias" : "embedding", m->tab[t].rows,
                    t >= NCF_TABLE_USER_BIAS ? 0 : m->tab[t].dim, (int64_t)m->tab[t].rows * m->tab[t].dim);
    if (m->B) {
        put_row(rows, cap, &n, "mf.dot", "dot+biases", 1, m->F, 0);
        put_row(rows, cap, &n, "mf.global_bias", "bias", 1, 0, 1);
        return n;
    }
    if (m->F)
        put_row(rows, cap, &n, "gmf.product", m->cfg.gmf_activation == NCF_ACT_SIGMOID ? "mul+sigmoid" : "mul", m->F,
                0, 0);
    for (int l = 0; l < m->n_layers; l++) {
        char name[48];
        snprintf(name, sizeof name, "mlp.%d", l);
        put_row(rows, cap, &n, name, "linear+relu", m->out[l], m->in[l], (int64_t)m->out[l] * m->in[l] + m->out[l]);
    }
    if (m->E && m->cfg.dropout > 0.0f) put_row(rows, cap, &n, "mlp.dropout", "dropout", m->out_in - m->F, 0, 0);
    put_row(rows, cap, &n, "output", "linear", 1, m->out_in, m->out_in + 1);
    return n;
}
