/* ncf/model.h — the NCF model: GMF, MLP and NeuMF as one model with presets.
 *
 *   GMF:   phi = a(p_u * q_i) (elementwise), score = w . phi + b
 *   MLP:   z0 = [p_u ; q_i], z_l = relu(W_l z_{l-1} + b_l), score = w . z_L + b
 *   NeuMF: score = w . [phi ; z_L] + b, with separate GMF and MLP embeddings
 *   MF:    score = b + b_u + b_i + <p_u, q_i> (the dot-product baseline of
 *          Rendle et al. 2020: GMF with w fixed to ones, plus user and item
 *          biases)
 *
 * The score is a logit. An ncf_model also carries what serving needs: the
 * raw-id maps, each user's training items (never recommended back) and a
 * free-form metadata text (training settings and metrics, "key=value" lines).
 *
 * Inference functions take a const model and are safe to call from several
 * threads at once. Training (train.h) mutates the model and must not run
 * concurrently with anything else on the same model. */
#ifndef NCF_MODEL_H
#define NCF_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "ncf/data.h"
#include "ncf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define NCF_MAX_HIDDEN 8

typedef enum ncf_model_type {
    NCF_MODEL_GMF = 0,
    NCF_MODEL_MLP = 1,
    NCF_MODEL_NEUMF = 2,
    NCF_MODEL_MF = 3 /* matrix factorisation with biases (Rendle et al. 2020) */
} ncf_model_type;
typedef enum ncf_activation { NCF_ACT_IDENTITY = 0, NCF_ACT_SIGMOID = 1 } ncf_activation;
typedef enum ncf_preset { NCF_PRESET_PAPER = 0, NCF_PRESET_SEED = 1 } ncf_preset;

typedef struct ncf_model_config {
    ncf_model_type type;
    int32_t n_users, n_items;
    int32_t factors;   /* GMF embedding width (GMF, NeuMF) */
    int32_t mlp_embed; /* MLP embedding width per side (MLP, NeuMF) */
    int32_t n_hidden;  /* hidden layers of the MLP tower */
    int32_t hidden[NCF_MAX_HIDDEN];
    ncf_activation gmf_activation;
    float dropout;     /* after the last hidden layer, in training only */
    float init_std;    /* embeddings ~ N(0, init_std) */
} ncf_model_config;

/* Fills cfg from a preset (n_users/n_items left 0 for the caller):
 *  paper: layers[0] is the MLP input width (embeddings of layers[0]/2 per
 *         side), layers[1..] the hidden widths; identity GMF; N(0, 0.01).
 *  seed:  one embedding width (factors) for all four tables, hidden widths
 *         = layers; sigmoid GMF; dropout 0.2; N(0, 0.05).
 * Returns NCF_ERR_ARG (with a message) for an impossible combination. */
ncf_status ncf_model_config_preset(ncf_preset preset, ncf_model_type type, int32_t factors,
                                   const int32_t *layers, int n_layers, ncf_model_config *cfg,
                                   ncf_err *err);

/* Checks a configuration; NCF_OK or NCF_ERR_ARG with a message. */
ncf_status ncf_model_config_check(const ncf_model_config *cfg, ncf_err *err);

const char *ncf_model_type_name(ncf_model_type type); /* "gmf", "mlp", "neumf", "mf" */

typedef struct ncf_model ncf_model;

/* Creates a model with freshly initialised weights (embeddings normal,
 * hidden layers Glorot-uniform, output LeCun-uniform, biases 0), drawn from
 * seed. The model has no id maps until ncf_model_attach_data. */
ncf_status ncf_model_create(const ncf_model_config *cfg, uint64_t seed, ncf_model **out, ncf_err *err);
void ncf_model_free(ncf_model *m); /* NULL-safe */

/* Pre-training (NCF paper §3.4.1): fills a NeuMF model from a trained GMF
 * and a trained MLP of the same users, items and widths: embeddings and
 * hidden layers copied, output weights [alpha w_gmf ; (1 - alpha) w_mlp],
 * bias alpha b_gmf + (1 - alpha) b_mlp, so the NeuMF logit starts as
 * alpha s_gmf + (1 - alpha) s_mlp. The GMF part may be an MF model of F
 * factors when NeuMF has F + 2: it is written in as the equal GMF
 * [p_u, b_u, 1] . [q_i, 1, b_i] with output weights 1 and bias b.
 * NCF_ERR_ARG, naming the mismatch, when a type, a size, a width, the GMF
 * activation or the raw ids differ. */
ncf_status ncf_model_init_pretrained(ncf_model *neumf, const ncf_model *gmf, const ncf_model *mlp, float alpha,
                                     ncf_err *err);

/* Warm start: m, created for today's data with its ids attached
 * (ncf_model_attach_data), takes over old's rows for every user and item
 * old knows by raw id, and old's layers (the whole dense part); the rows of
 * users and items old does not know keep m's fresh initialisation. The two
 * must have the same type, factors, MLP widths and GMF activation
 * (NCF_ERR_ARG naming the difference). *carried_users / *carried_items
 * (may be NULL): how many of m's rows came from old. */
ncf_status ncf_model_init_warm(ncf_model *m, const ncf_model *old, int32_t *carried_users, int32_t *carried_items,
                               ncf_err *err);

/* Copies the dataset's id maps and training items into the model (for
 * recommend and for evaluation with raw ids). Sizes must match. */
ncf_status ncf_model_attach_data(ncf_model *m, const ncf_dataset *ds, ncf_err *err);

const ncf_model_config *ncf_model_get_config(const ncf_model *m);
const ncf_idmap *ncf_model_users(const ncf_model *m); /* NULL before attach */
const ncf_idmap *ncf_model_items(const ncf_model *m);
int64_t ncf_model_param_count(const ncf_model *m);

/* Scores (logits) of n items for one user into scores. Thread-safe. */
ncf_status ncf_model_score(const ncf_model *m, int32_t user, const int32_t *items, int n, float *scores);

/* Top-k items for user by score, excluding the user's training items;
 * ties go to the lower item index. Writes up to k items and scores, sets
 * *n_out. Thread-safe. Builds a one-thread scorer (the item halves of the
 * split first layer) per call: for many users, create an ncf_scorer once. */
ncf_status ncf_model_recommend(const ncf_model *m, int32_t user, int k, int32_t *items, float *scores,
                               int *n_out);

/* ---- scoring all items for many users (serving, recommend --all) ---------- */
/* An ncf_scorer holds what makes "score every item for this user" cheap:
 * the item half of the first MLP layer for every item (the user half is
 * computed once per call) and the items by training popularity (the
 * fallback for users the model does not know). It borrows the model, which
 * must outlive it. All calls on a scorer are thread-safe. */
typedef struct ncf_scorer ncf_scorer;

ncf_status ncf_scorer_create(const ncf_model *m, int threads, ncf_scorer **out, ncf_err *err);
void ncf_scorer_free(ncf_scorer *s); /* NULL-safe */
const ncf_model *ncf_scorer_model(const ncf_scorer *s);

/* Top-k items for user by score, excluding the user's training items; ties
 * go to the lower item index. Writes up to k items and scores. */
ncf_status ncf_scorer_recommend(const ncf_scorer *s, int32_t user, int k, int32_t *items, float *scores, int *n_out);

/* ncf_scorer_recommend for n users at once, on `threads` threads (0: all
 * cores): users[j]'s top k go to row j of items and scores (k apart), its
 * count to counts[j]; the same results as n calls. NCF_ERR_NOT_FOUND (and
 * nothing done) when a user index is out of range. */
ncf_status ncf_scorer_recommend_many(const ncf_scorer *s, const int32_t *users, int n, int k, int threads,
                                     int32_t *items, float *scores, int *counts);

/* The k most popular items in training (ties: lower index) and their
 * training counts; returns how many were written. */
int ncf_scorer_popular(const ncf_scorer *s, int k, int32_t *items, float *counts);

/* ---- business rules: which items a top-K may hold ---------------------------
 * Every top-K call with an _ex suffix takes rules (NULL: the default, which
 * is what the calls without it do: every item allowed, the user's training
 * items left out):
 *   only:    item indices allowed (an allow-list); only == NULL allows every
 *            item, while only != NULL with n_only == 0 allows none (an
 *            allow-list whose ids were all unknown stays an allow-list).
 *   exclude: item indices never returned (a deny-list; wins over only).
 *   include_seen: 1 lets the user's training items be returned.
 * The lists may hold repeats and come in any order; sorted lists without
 * repeats are read in place, other lists are copied and sorted once per call
 * (for many users, once for all of them). An index outside [0, n_items) is
 * NCF_ERR_ARG. The lists become item bitmaps the top-K engine reads; every
 * item is still scored (a short allow-list does not make a call cheaper). */
typedef struct ncf_rules {
    const int32_t *only;    int32_t n_only;    /* item indices; NULL: every item allowed */
    const int32_t *exclude; int32_t n_exclude; /* item indices never returned */
    int include_seen;                          /* 1: the user's training items may be returned */
} ncf_rules;

/* ncf_scorer_recommend under rules (NULL: the default). */
ncf_status ncf_scorer_recommend_ex(const ncf_scorer *s, int32_t user, const ncf_rules *rules, int k, int32_t *items,
                                   float *scores, int *n_out);

/* ncf_scorer_recommend_many under rules (NULL: the default), the same for
 * every user; the lists are prepared once for all users. */
ncf_status ncf_scorer_recommend_many_ex(const ncf_scorer *s, const int32_t *users, int n, const ncf_rules *rules,
                                        int k, int threads, int32_t *items, float *scores, int *counts);

/* ncf_scorer_popular under rules (only and exclude; include_seen means
 * nothing without a user): the k most popular allowed items. Returns how
 * many were written, or NCF_ERR_ARG / NCF_ERR_NOMEM (< 0). */
int ncf_scorer_popular_ex(const ncf_scorer *s, const ncf_rules *rules, int k, int32_t *items, float *counts);

/* ---- similar items ------------------------------------------------------------
 * An ncf_similar holds every item's learned representation, normalised to
 * unit length, so that the nearest items by cosine are dot products:
 *   MF:    q_i, the item embedding (the bias b_i is left out: it moves every
 *          user's score of i alike and says nothing of taste).
 *   GMF:   w . q_i (elementwise), the item embedding as the output layer
 *          reads it: with the identity activation the score is
 *          <p_u, w . q_i> + b, so two items with the same w . q_i score the
 *          same for every user (with the sigmoid, to first order).
 *   MLP:   W1_item q_i, the item's part of the first layer's input (b1,
 *          shared by all items, left out); without hidden layers, the item
 *          half of the output weights times q_i, elementwise.
 *   NeuMF: the GMF part and the MLP part above, each normalised, then
 *          concatenated: the cosine is the mean of the two parts' cosines.
 * A part that is all zeros stays zeros (cosine 0 with everything). Borrows
 * the model, which must outlive it; all calls are thread-safe. */
typedef struct ncf_similar ncf_similar;

ncf_status ncf_similar_create(const ncf_model *m, int threads, ncf_similar **out, ncf_err *err);
void ncf_similar_free(ncf_similar *s); /* NULL-safe */

/* The k items most similar to item by cosine, best first, ties to the lower
 * index: k distinct items, never item itself. rules (NULL: none) restrict
 * the answer with only and exclude (include_seen means nothing here).
 * Writes up to k items and cosines, sets *n_out. NCF_ERR_NOT_FOUND when item
 * is out of range, NCF_ERR_ARG for a list index out of range. */
ncf_status ncf_similar_items(const ncf_similar *s, int32_t item, const ncf_rules *rules, int k, int32_t *items,
                             float *scores, int *n_out);

/* ncf_similar_items for n query items at once, as blocked matrix products
 * (tiles of queries x items, a partial top-k per query) on `threads`
 * threads (0: all cores): query[j]'s top k go to row j of items and scores
 * (k apart), its count to counts[j]. The same results as n calls, whatever
 * the thread count. NCF_ERR_NOT_FOUND (nothing done) for a query index out
 * of range. */
ncf_status ncf_similar_items_many(const ncf_similar *s, const int32_t *query, int n, const ncf_rules *rules, int k,
                                  int threads, int32_t *items, float *scores, int *counts);

/* The width of the item vectors (after normalisation), and item i's vector
 * into out (dim floats); NCF_ERR_NOT_FOUND for i out of range. */
int32_t ncf_similar_dim(const ncf_similar *s);
ncf_status ncf_similar_vector(const ncf_similar *s, int32_t item, float *out);

/* Scores of n items for user (NCF_ERR_NOT_FOUND for an index out of range). */
ncf_status ncf_scorer_score(const ncf_scorer *s, int32_t user, const int32_t *items, int n, float *scores);

/* ---- fold-in: users from their history, without retraining ---------------- */
/* Folding in solves for one user's rows (GMF and MLP embeddings, MF's
 * embedding and bias) from the items they interacted with, every item row
 * and layer frozen: the maximum a posteriori rows under the training loss
 * (logistic, the history as positives, negatives drawn among the other
 * items) and a Gaussian prior fitted to the model's own user rows (their
 * mean and covariance). It is solved by Gauss-Newton steps with a line
 * search, which for MF and GMF with identity activation is Newton's method
 * on a convex problem (IRLS for logistic regression). Negatives come from a
 * stream seeded by `seed` and the sorted, deduplicated history, so the same
 * request gives the same answer, bit for bit. docs/design.md, "Fold-in". */
typedef struct ncf_foldin_config {
    int iters;        /* Gauss-Newton steps at most (1..100; default 5) */
    int negatives;    /* negatives drawn per history item (0..1000; default 4);
                         0: every item outside the history, weighted */
    float neg_weight; /* total weight of a history item's negatives (> 0;
                         default 4, the training's negatives per positive) */
    float prior;      /* strength of the prior (>= 0; default 1) */
    uint64_t seed;    /* mixed with the history into the negatives' seed (1) */
} ncf_foldin_config;

void ncf_foldin_config_default(ncf_foldin_config *cfg);

/* The fold-in state of one model: its scorer and the prior. Read-only once
 * created: every call on it is thread-safe. It borrows the scorer, which
 * must outlive it. Models of more than NCF_FOLDIN_MAX_PARAMS user
 * parameters (F + E, +1 for MF) are refused (NCF_ERR_ARG). */
#define NCF_FOLDIN_MAX_PARAMS 1024
typedef struct ncf_foldin ncf_foldin;

ncf_status ncf_foldin_create(const ncf_scorer *s, const ncf_foldin_config *cfg, ncf_foldin **out, ncf_err *err);
void ncf_foldin_free(ncf_foldin *f); /* NULL-safe */

/* One call: folds in the user whose history is the n item indices and
 * writes their top k items (by score, ties to the lower index, never a
 * history item) to items and scores, the count to *n_out. History entries
 * outside 0..n_items-1 (an unknown raw id looked up as -1) are ignored and
 * counted in *n_unknown (may be NULL); repeats count once. NCF_ERR_EMPTY
 * (with a message) when no history item is known; NCF_ERR_ARG for k < 0,
 * n < 0, or more than 2^26 rows (known history items x (1 + negatives));
 * NCF_ERR_NOMEM. Cost: O(rows x (tower + d^2) + d^3) per step, d the user
 * parameters (F + E, + 1 for MF), then one ranking. Thread-safe. */
ncf_status ncf_foldin_recommend(const ncf_foldin *f, const int32_t *history, int n, int k, int32_t *items,
                                float *scores, int *n_out, int *n_unknown, ncf_err *err);

/* ncf_foldin_recommend under business rules (NULL: the default): only and
 * exclude as for ncf_scorer_recommend_ex; include_seen lets the history's
 * own items be returned. NCF_ERR_ARG for a list index out of range. */
ncf_status ncf_foldin_recommend_ex(const ncf_foldin *f, const int32_t *history, int n, const ncf_rules *rules, int k,
                                   int32_t *items, float *scores, int *n_out, int *n_unknown, ncf_err *err);

/* Folds in the same way and writes the rows into row `user` of dst, a model
 * of the same type and widths whose item rows and layers are those of f's
 * model (a copy of it with more users, or the model itself to refresh a
 * user; the caller must not let this race with other use of that row).
 * NCF_ERR_ARG naming the mismatch; otherwise as ncf_foldin_recommend. */
ncf_status ncf_foldin_user(const ncf_foldin *f, const int32_t *history, int n, ncf_model *dst, int32_t user,
                           int *n_unknown, ncf_err *err);

/* One row of the model summary (`ncf train --summary`). */
typedef struct ncf_layer_info {
    char name[48];
    char kind[24];
    int64_t rows, cols; /* shape of the weight; cols 0 for a vector */
    int64_t params;
} ncf_layer_info;

/* Writes up to cap rows; returns how many rows the model has. */
int ncf_model_summary(const ncf_model *m, ncf_layer_info *rows, int cap);

/* ---- the weight tables, in place (bindings: NumPy views without a copy) -- */
/* A table's storage: rows x dim floats, row r at data + r * stride
 * (stride >= dim; rows are padded so each starts 32-byte aligned). */
typedef struct ncf_table_view {
    float *data;
    int32_t rows, dim, stride;
} ncf_table_view;

/* Fills *out with where the embedding or bias table `name` lives inside m:
 * "gmf.user_embedding", "gmf.item_embedding", "mlp.user_embedding",
 * "mlp.item_embedding", or for MF "mf.user_embedding", "mf.item_embedding",
 * "mf.user_bias", "mf.item_bias" (dim 1) -- the names of ncf_model_summary
 * and the safetensors export. Returns NCF_ERR_NOT_FOUND (out zeroed) when
 * the model has no such table, NCF_ERR_ARG when m, name or out is NULL.
 * The pointer is the model's own storage, valid until ncf_model_free:
 * reading it is thread-safe like any inference call; writing changes the
 * model's weights and must not race with training or inference. The
 * padding floats after dim in each row are not weights. */
ncf_status ncf_model_table(const ncf_model *m, const char *name, ncf_table_view *out);

/* Metadata text ("key=value" lines) stored in the model file. set copies. */
ncf_status ncf_model_set_meta(ncf_model *m, const char *text);
const char *ncf_model_meta(const ncf_model *m); /* "" when none */

/* ---- model file (format in docs/model-file.md) ----------------------------- */
/* Version 2 added MF models; files of the other models are still written
 * as version 1, byte for byte as before. */
#define NCF_MODEL_FILE_VERSION 2

/* Writes path by the rule of ncf/outfile.h (a regular file atomically:
 * temporary file, fsync, rename; a device or FIFO directly). A model with a
 * NaN or infinite weight is not written: NCF_ERR_NUMERIC, naming the
 * tensor and element, and path left as it was. */
ncf_status ncf_model_save(const ncf_model *m, const char *path, ncf_err *err);
/* Loads and validates a model file; refuses bad magic, future versions,
 * truncation, inconsistent sizes (the size the header implies is checked
 * against the file's before the model is allocated), CRC mismatches,
 * training items out of range and non-finite weights (docs/model-file.md). */
ncf_status ncf_model_load(const char *path, ncf_model **out, ncf_err *err);

/* ---- export ----------------------------------------------------------------- */
/* Writes the weights in the safetensors format (little-endian F32, names
 * gmf.user_embedding, gmf.item_embedding, mlp.user_embedding,
 * mlp.item_embedding, mlp.N.weight [out, in], mlp.N.bias, output.weight
 * [1, in], output.bias; docs/serving.md) to path, and the id maps to
 * ids_path (when not NULL) as TSV lines "user|item TAB index TAB raw id",
 * both by the rule of ncf/outfile.h; both paths are opened before either is
 * written, and a regular weights' file is removed again when the id maps
 * fail. */
ncf_status ncf_model_export_safetensors(const ncf_model *m, const char *path, const char *ids_path, ncf_err *err);

#ifdef __cplusplus
}
#endif
#endif
