/* model_impl.h — the inside of ncf_model, shared by the model, trainer,
 * evaluation and model-file modules. Not part of the public API.
 *
 * Parameters: four embedding tables (row-major, rows padded to a multiple of
 * 8 floats so every row starts 32-byte aligned) and one dense arena holding
 * the MLP layers and the output layer:
 *   for l in hidden layers: W_l (out_l, in_l) then b_l (out_l)
 *   then w_out (out_in) and b_out (1)
 * Gradients and optimizer state of the dense part use the same layout, so
 * they are flat loops (llm.c's scheme). `wt` holds W_l transposed for the
 * forward kernel; it is derived data, refreshed by ncf_model_sync_. */
#ifndef NCF_MODEL_IMPL_H
#define NCF_MODEL_IMPL_H

#include <stdio.h>

#include "ncf/model.h"
#include "nn/nn.h"
#include "ncf/train.h"

typedef struct ncf_table {
    float *w;
    int32_t rows, dim, stride;
} ncf_table;

/* The bias tables (one float per row) exist only in MF models. */
enum {
    NCF_TABLE_GMF_USER,
    NCF_TABLE_GMF_ITEM,
    NCF_TABLE_MLP_USER,
    NCF_TABLE_MLP_ITEM,
    NCF_TABLE_USER_BIAS,
    NCF_TABLE_ITEM_BIAS,
    NCF_TABLES
};

static inline int ncf_table_is_item_(int t)
{
    return t == NCF_TABLE_GMF_ITEM || t == NCF_TABLE_MLP_ITEM || t == NCF_TABLE_ITEM_BIAS;
}

struct ncf_model {
    ncf_model_config cfg;
    uint64_t seed;
    ncf_table tab[NCF_TABLES]; /* dim 0 (w NULL) when the model has no such branch */

    int32_t F, E;              /* GMF width, MLP width per side (0 when absent) */
    int32_t B;                 /* 1 for MF (a bias per user and item; output weights fixed at 1), else 0 */
    int32_t n_layers;          /* hidden layers */
    int32_t in[NCF_MAX_HIDDEN], out[NCF_MAX_HIDDEN];
    int32_t out_in;            /* width of the output layer's input */
    size_t w_off[NCF_MAX_HIDDEN], b_off[NCF_MAX_HIDDEN], wo_off, bo_off;
    size_t n_dense;
    float *dense;
    float *wt;                 /* transposed W_l, same offsets as w_off */

    /* activation layout of one forward pass (floats) */
    size_t act_g, act_x0, act_z[NCF_MAX_HIDDEN], act_mask, act_size;
    int32_t max_width;

    /* attached data */
    ncf_idmap *users, *items;
    int64_t *seen_off;  /* n_users + 1 */
    int32_t *seen;
    char *meta;
};

/* One training example, 12 bytes (an epoch holds one per scored pair: 80M
 * of them for 16M interactions): BCE uses (user, item, label 1 or 0); the
 * pairwise loss uses (user, item = positive, item2 = negative). */
typedef struct ncf_sample {
    int32_t user, item;
    union {
        int32_t item2; /* pairwise loss */
        int32_t label; /* BCE */
    };
} ncf_sample;
_Static_assert(sizeof(ncf_sample) == 12, "ncf_sample is three int32");

typedef struct ncf_grad_args {
    ncf_loss loss;
    float scale;          /* 1 / batch size */
    float reg;            /* L2 on the embedding rows a sample looks up */
    int dropout;          /* apply cfg.dropout */
    uint64_t drop_seed;   /* dropout masks come from (drop_seed, sample_base + at(k)) */
    uint64_t sample_base;
    const int32_t *at;    /* sample k's place: at[k], or k when NULL (its entry in s and its mask) */
} ncf_grad_args;

/* Per-sample embedding gradient slot: user (F, then E, then B), item, and
 * for the pairwise loss item2; ncf_side_width_ floats each. */
static inline size_t ncf_side_width_(const ncf_model *m) { return (size_t)(m->F + m->E + m->B); }

/* Column of table t's gradient within a side of the slot. */
static inline size_t ncf_table_col_(const ncf_model *m, int t)
{
    return t == NCF_TABLE_MLP_USER || t == NCF_TABLE_MLP_ITEM ? (size_t)m->F
           : t >= NCF_TABLE_USER_BIAS                         ? (size_t)(m->F + m->E)
                                                              : 0;
}

/* Table t's tensor name in summaries and exports ("mf.*" for MF's tables). */
static inline const char *ncf_table_name_(const ncf_model *m, int t)
{
    static const char *const names[NCF_TABLES] = {"gmf.user_embedding", "gmf.item_embedding", "mlp.user_embedding",
                                                  "mlp.item_embedding", "mf.user_bias",       "mf.item_bias"};
    if (m->B && t == NCF_TABLE_GMF_USER) return "mf.user_embedding";
    if (m->B && t == NCF_TABLE_GMF_ITEM) return "mf.item_embedding";
    return names[t];
}

/* MF's b_u + b_i (0 for the other models). */
static inline float ncf_mf_biases_(const ncf_model *m, int32_t u, int32_t i)
{
    if (!m->B) return 0.0f;
    return m->tab[NCF_TABLE_USER_BIAS].w[(size_t)u * (size_t)m->tab[NCF_TABLE_USER_BIAS].stride] +
           m->tab[NCF_TABLE_ITEM_BIAS].w[(size_t)i * (size_t)m->tab[NCF_TABLE_ITEM_BIAS].stride];
}

/* Where a slot's item part starts: the user part is rounded up to whole
 * cache lines (emb_grad is 64-byte aligned), so that the thread which sums
 * a sample's items, often not the one that computed it, reads no line of
 * the user part. */
static inline size_t ncf_slot_item_(const ncf_model *m) { return (ncf_side_width_(m) + 15) & ~(size_t)15; }

/* A sample's slot: user part, item part (and item2's for the pairwise
 * losses), rounded up to whole cache lines: neighbouring slots are often
 * written by different threads. */
static inline size_t ncf_slot_width_(const ncf_model *m, ncf_loss loss)
{
    return (ncf_slot_item_(m) + (ncf_loss_pairwise(loss) ? 2 : 1) * ncf_side_width_(m) + 15) & ~(size_t)15;
}

/* Most rows one ncf_model_chunk_grad_ call handles: n samples make n rows
 * (BCE) or 2n rows (pairwise). */
#define NCF_TILE_ROWS 64

/* Floats of workspace one thread needs for ncf_model_chunk_grad_. */
size_t ncf_model_ws_floats_(const ncf_model *m);

/* Forward and backward over n samples (at most NCF_TILE_ROWS rows), sample
 * k being s[a->at[k]] (or s[k]): returns the summed loss (times scale,
 * regularisation included); adds dense gradients into dense_grad (n_dense
 * floats) and writes sample k's embedding gradients into slot k of
 * emb_grad (slots of ncf_slot_width_(m, a->loss) floats, overwritten). */
double ncf_model_chunk_grad_(const ncf_model *m, const ncf_sample *s, int n, const ncf_grad_args *a,
                             float *ws, float *dense_grad, float *emb_grad);

/* Recomputes the transposed forward weights from the dense arena
 * (rows [begin, end) of the total over all layers; pass 0, SIZE_MAX for all). */
void ncf_model_sync_(ncf_model *m);

/* Score of one (user, item) pair with the given activation buffer. */
float ncf_model_forward_(const ncf_model *m, int32_t u, int32_t i, float *act, const float *mask);

/* Scoring many items for few users (evaluation, recommend): the first MLP
 * layer splits into a user half W1u p_u and an item half W1i q_i + b1, so
 * the item halves are computed once for all items and each user's half
 * once per user. ncf_model_item_halves_ returns n_items x out[0] floats
 * (NULL when the model has no hidden layer, or on OOM; free with
 * ncf_free_aligned_); ncf_model_forward_split_ scores (u, i) from the
 * halves. The sums run in another order than ncf_model_forward_, so scores
 * may differ from it in the last bits; every evaluation uses this path. */
float *ncf_model_item_halves_(const ncf_model *m, int threads);

/* The output layer of the inference paths: w . [a(p_u * q_i) ; z] + b for
 * (u, i) given z, the last hidden layer's output, summed in eight
 * interleaved partial sums added in a fixed order so that it vectorises. */
static inline float ncf_model_output_(const ncf_model *m, int32_t u, int32_t i, const float *z)
{
    const int F = m->F, n = m->out_in - F;
    const float *wo = m->dense + m->wo_off;
    float acc[8] = {0};
    /* acc[j] sums elements j, j + 8, j + 16, ...: written as blocks of 8 (which
     * the compiler turns into one vector multiply-add each) and a tail */
    if (F) {
        const float *pu = m->tab[NCF_TABLE_GMF_USER].w + (size_t)u * (size_t)m->tab[NCF_TABLE_GMF_USER].stride;
        const float *qi = m->tab[NCF_TABLE_GMF_ITEM].w + (size_t)i * (size_t)m->tab[NCF_TABLE_GMF_ITEM].stride;
        int k = 0;
        if (m->cfg.gmf_activation == NCF_ACT_SIGMOID) {
            for (; k < F; k++) acc[k & 7] += wo[k] * ncf_sigmoid_(pu[k] * qi[k]);
        } else {
            for (; k + 8 <= F; k += 8)
                for (int j = 0; j < 8; j++) acc[j] += wo[k + j] * (pu[k + j] * qi[k + j]);
            for (; k < F; k++) acc[k & 7] += wo[k] * (pu[k] * qi[k]);
        }
    }
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) acc[j] += wo[F + k + j] * z[k + j];
    for (; k < n; k++) acc[k & 7] += wo[F + k] * z[k];
    float b = m->dense[m->bo_off];
    if (m->B) b += ncf_mf_biases_(m, u, i);
    return b + (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7])));
}
void ncf_model_user_half_(const ncf_model *m, int32_t u, float *uh);
float ncf_model_forward_split_(const ncf_model *m, int32_t u, int32_t i, const float *uh, const float *ih,
                               float *act);

/* ncf_scorer_score without checking user and item indices, for callers that
 * produced them (full-ranking evaluation scores every item of every user). */
ncf_status ncf_scorer_score_trusted_(const ncf_scorer *s, int32_t user, const int32_t *items, int n, float *scores);

/* Weights a model of cfg stores in its file (tables, hidden layers, output
 * layer; no padding), computed from cfg alone so a loader can check a
 * file's size before allocating. cfg must pass ncf_model_config_check;
 * the result is below 2^46. */
uint64_t ncf_model_weight_count_(const ncf_model_config *cfg);

/* Allocates the tables and the arena for cfg (weights zero); used by create and load. */
ncf_status ncf_model_alloc_(const ncf_model_config *cfg, ncf_model **out, ncf_err *err);

/* The model file (docs/model-file.md) written to f, whole (path names it in
 * errors); and a model built from such a file's bytes, checked as
 * ncf_model_load checks a file. Checkpoints embed a model file this way. */
ncf_status ncf_model_write_(const ncf_model *m, FILE *f, const char *path, ncf_err *err);
ncf_status ncf_model_parse_(const unsigned char *buf, size_t size, const char *path, ncf_model **out, ncf_err *err);

#endif
