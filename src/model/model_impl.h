/* model_impl.h — the inside of ncf_model (its tables, dense arena and
 * activation layout) and the model's internal functions: forward passes,
 * the split first layer for scoring, allocation and the weight count.
 * Shared by the model, evaluation, io and training modules. Not part of the
 * public API. What the gradient code shares with the trainer is in
 * model/grad.h; the model file as bytes is io/modelfile.h's.
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

#include <stddef.h>
#include <stdint.h>

#include "ncf/model.h"
#include "nn/nn.h"

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

/* For fold-in (foldin.c): the scorer's item halves (NULL when the model has
 * no hidden layer), and ncf_scorer_recommend run with `view` in place of
 * the scorer's model -- a shallow copy of it whose user tables, seen lists
 * and n_users describe folded users; items and layers must be the
 * scorer's model's own. */
const float *ncf_scorer_item_halves_(const ncf_scorer *s);
ncf_status ncf_scorer_recommend_view_(const ncf_scorer *s, const ncf_model *view, int32_t user, int k,
                                      int32_t *items, float *scores, int *n_out);

/* Weights a model of cfg stores in its file (tables, hidden layers, output
 * layer; no padding), computed from cfg alone so a loader can check a
 * file's size before allocating. cfg must pass ncf_model_config_check;
 * the result is below 2^46. */
uint64_t ncf_model_weight_count_(const ncf_model_config *cfg);

/* Allocates the tables and the arena for cfg (weights zero); used by create and load. */
ncf_status ncf_model_alloc_(const ncf_model_config *cfg, ncf_model **out, ncf_err *err);

#endif
