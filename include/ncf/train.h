/* ncf/train.h — training (paper protocol) and evaluation.
 *
 * Training, per epoch: for every training positive draw `neg` items the
 * user has no training interaction with (uniform, resampled on collision);
 * shuffle; mini-batches; BCE on logits (or the pairwise loss of the seed
 * preset); Adam or SGD; then evaluate HR@K / NDCG@K on the test cases.
 * The same seed gives a byte-identical model whatever the thread count:
 * batches are cut into fixed chunks whose gradients are reduced in order.
 *
 * Evaluation (sampled leave-one-out, NCF paper): the held-out item is ranked
 * against its negatives, with listed negatives equal to it and repeats
 * dropped; rank r = #{negatives j : s(u,j) >= s(u,i)} (ties count against
 * the held-out item); HR@K = mean[r < K]; NDCG@K = mean[r < K ? 1/log2(r+2) : 0]. */
#ifndef NCF_TRAIN_H
#define NCF_TRAIN_H

#include <stdint.h>

#include "ncf/data.h"
#include "ncf/model.h"
#include "ncf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ncf_loss {
    NCF_LOSS_BCE = 0,      /* pointwise binary cross-entropy, `neg` negatives per positive */
    NCF_LOSS_PAIR_BCE = 1, /* the seed's (-log s(pos) - log(1 - s(neg))) / 2 per (pos, neg) pair */
    NCF_LOSS_BPR = 2       /* Bayesian personalised ranking: -log s(s_pos - s_neg) per (pos, neg) pair */
} ncf_loss;

/* 1 for the losses over (positive, negative) pairs. */
static inline int ncf_loss_pairwise(ncf_loss loss) { return loss != NCF_LOSS_BCE; }
/* "bce", "pair-bce", "bpr". */
const char *ncf_loss_name(ncf_loss loss);

typedef enum ncf_optimizer { NCF_OPT_ADAM = 0, NCF_OPT_SGD = 1 } ncf_optimizer;

/* How Adam treats embedding rows a batch does not touch. */
typedef enum ncf_adam_mode {
    /* Dense Adam, as PyTorch and Keras: every row moves every step (its
     * momentum keeps acting). Run without sweeping the tables: an untouched
     * row's zero-gradient steps are applied in closed form when it is next
     * read (or at the end of the epoch); equal to NCF_ADAM_DENSE_SWEEP up
     * to float rounding (src/optim/optim.h). */
    NCF_ADAM_DENSE = 0,
    /* Lazy Adam (TF LazyAdam): only touched rows move. */
    NCF_ADAM_LAZY = 1,
    /* Reference for NCF_ADAM_DENSE: sweeps every row every step (slow). */
    NCF_ADAM_DENSE_SWEEP = 2
} ncf_adam_mode;

/* ---- evaluation ----------------------------------------------------------- */
typedef struct ncf_metrics {
    double hr, ndcg;
    int32_t n_cases;  /* test cases evaluated */
    int topk;
} ncf_metrics;

/* Removes from negs (in place) entries equal to item and repeats; returns
 * the new count. Order of the kept entries is preserved. */
int ncf_negatives_clean(int32_t item, int32_t *negs, int n);

/* 0-based rank of the held-out score among negative scores: the number of
 * negatives scoring >= it. */
int ncf_rank_of(float item_score, const float *neg_scores, int n);

/* Adds one case of rank r to HR/NDCG sums for cutoff k. */
void ncf_metrics_add_rank(int rank, int k, double *hr_sum, double *ndcg_sum);

/* Evaluates the model on the dataset's test cases with `threads` threads
 * (0: all cores). Indices are the dataset's, which must be the model's. */
ncf_status ncf_evaluate(const ncf_model *m, const ncf_dataset *ds, int topk, int threads,
                        ncf_metrics *out, ncf_err *err);

/* ---- training ------------------------------------------------------------- */
typedef struct ncf_epoch_report {
    int epoch;
    double loss;          /* mean over mini-batches */
    double hr, ndcg;
    double train_seconds; /* sampling + gradient steps, no evaluation */
    double eval_seconds;
    int64_t samples;      /* scored (user, item) training pairs this epoch */
} ncf_epoch_report;

typedef struct ncf_train_config {
    int epochs;
    int batch;
    int neg;              /* negatives per positive */
    float lr;
    ncf_optimizer optimizer;
    float beta1, beta2, eps; /* Adam */
    ncf_adam_mode adam_mode; /* embedding rows under Adam (default dense) */
    float reg;            /* L2 on looked-up embedding rows, per sample */
    ncf_loss loss;
    int threads;          /* 0: all cores */
    uint64_t seed;
    int topk;
    int eval_every_epoch; /* evaluate after each epoch (1) or only at the end (0) */

    /* Called after each epoch (may be NULL); returning non-zero stops training. */
    int (*on_epoch)(const ncf_epoch_report *report, void *user);
    /* Called from the training thread now and then with the epoch's progress in [0, 1]. */
    void (*on_progress)(int epoch, double fraction, void *user);
    void *user;
} ncf_train_config;

void ncf_train_config_default(ncf_train_config *cfg);
ncf_status ncf_train_config_check(const ncf_train_config *cfg, ncf_err *err);

typedef struct ncf_train_result {
    int epochs_run;
    int best_epoch;       /* by test HR (what the paper reported); 0 if no epoch was evaluated */
    double best_hr, best_ndcg;
    double final_hr, final_ndcg;
    double final_loss;
} ncf_train_result;

/* Trains m on ds. m must have been created for ds's sizes. */
ncf_status ncf_train(ncf_model *m, const ncf_dataset *ds, const ncf_train_config *cfg,
                     ncf_train_result *result, ncf_err *err);

/* Number of threads the library uses for `threads` (0 = all cores). */
int ncf_threads_resolve(int threads);

#ifdef __cplusplus
}
#endif
#endif
