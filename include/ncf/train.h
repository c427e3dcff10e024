/* ncf/train.h — training (paper protocol) and evaluation.
 *
 * Training, per epoch: for every training positive draw `neg` items the
 * user has no training interaction with (uniform, resampled on collision);
 * shuffle; mini-batches; BCE on logits (or the pairwise loss of the seed
 * preset); Adam or SGD; then evaluate HR@K / NDCG@K on the test cases.
 * The same seed gives a byte-identical model whatever the thread count:
 * batches are cut into fixed user groups whose gradients are reduced in order.
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

typedef enum ncf_optimizer {
    NCF_OPT_ADAM = 0,
    NCF_OPT_SGD = 1,     /* with momentum when cfg.momentum > 0 */
    NCF_OPT_ADAGRAD = 2,
    NCF_OPT_RMSPROP = 3
} ncf_optimizer;
/* "adam", "sgd", "adagrad", "rmsprop". */
const char *ncf_optimizer_name(ncf_optimizer opt);

typedef enum ncf_lr_schedule {
    NCF_LR_CONSTANT = 0,
    NCF_LR_STEP = 1,   /* lr * gamma^floor((epoch - 1) / step) */
    NCF_LR_LINEAR = 2  /* lr + (lr_end - lr) * (epoch - 1) / epochs */
} ncf_lr_schedule;

/* How the optimizer treats embedding rows a batch does not touch (the
 * names say Adam; the modes apply to every optimizer: under momentum SGD
 * and RMSprop an untouched row also moves or changes state, and dense
 * applies that in closed form when the row is next read; plain SGD and
 * Adagrad do nothing to such a row, so the two modes agree). The value 2
 * is reserved (the library's internal reference for dense). */
typedef enum ncf_adam_mode {
    /* Dense Adam, as PyTorch and Keras: every row moves every step (its
     * momentum keeps acting). Run without sweeping the tables: an untouched
     * row's zero-gradient steps are applied in closed form when it is next
     * read (or at the end of the epoch); equal to sweeping every row every
     * step up to float rounding (src/optim/optim.h; tested). */
    NCF_ADAM_DENSE = 0,
    /* Lazy Adam (TF LazyAdam): only touched rows move. */
    NCF_ADAM_LAZY = 1,
    /* Kept for scripts of 0.1, where it picked lazy rows for NeuMF: now
     * dense for every model. Lazy rows move a rarely seen row far less than
     * Adam does, and on sparse data most rows are rarely seen (NeuMF on
     * Gowalla, sampled protocol: HR@10 0.827 lazy against 0.866 dense;
     * docs/results.md). */
    NCF_ADAM_AUTO = 3
} ncf_adam_mode;

/* ---- evaluation ----------------------------------------------------------- */
#define NCF_MAX_TOPK 8

typedef enum ncf_eval_mode {
    NCF_EVAL_SAMPLED = 0, /* each case's item against its listed/drawn negatives (NCF paper) */
    NCF_EVAL_FULL = 1     /* each user's held-out items against every item the user has no
                             training interaction with (Krichene & Rendle 2020; NGCF, LightGCN) */
} ncf_eval_mode;

typedef enum ncf_metric {
    NCF_METRIC_HR = 0,    /* 1 if any held-out item ranks < K */
    NCF_METRIC_RECALL,    /* hits / |held-out items| */
    NCF_METRIC_PRECISION, /* hits / K */
    NCF_METRIC_NDCG,      /* sum over hits 1/log2(r+2), over IDCG of min(|held-out|, K) hits */
    NCF_METRIC_MRR,       /* 1 / (r + 1) of the best-ranked held-out item if r < K */
    NCF_METRICS
} ncf_metric;

/* "hr", "recall", "precision", "ndcg", "mrr". */
const char *ncf_metric_name(ncf_metric metric);

typedef struct ncf_eval_config {
    ncf_eval_mode mode;
    int n_k;               /* cutoffs, 1..NCF_MAX_TOPK of them; k[0] is the primary one */
    int k[NCF_MAX_TOPK];
} ncf_eval_config;

/* Sampled, K = 10. */
void ncf_eval_config_default(ncf_eval_config *ec);
ncf_status ncf_eval_config_check(const ncf_eval_config *ec, ncf_err *err);

typedef struct ncf_metrics {
    double hr, ndcg;  /* HR and NDCG at k[0] */
    int32_t n_cases;  /* cases (sampled) or users (full) averaged over */
    int topk;         /* k[0] */
    int n_k;
    int k[NCF_MAX_TOPK];
    double at[NCF_MAX_TOPK][NCF_METRICS]; /* at[j][metric]: the metric at k[j] */
} ncf_metrics;

/* Evaluates the model on cases (ds->test or ds->valid) with `threads`
 * threads (0: all cores). Indices are the dataset's, which must be the
 * model's. Sampled: each case ranked against its negatives. Full: the
 * cases grouped by user. Sums run in a fixed order: figures do not depend
 * on the thread count. */
ncf_status ncf_evaluate_cases(const ncf_model *m, const ncf_dataset *ds, const ncf_cases *cases,
                              const ncf_eval_config *ec, int threads, ncf_metrics *out, ncf_err *err);

/* ---- training ------------------------------------------------------------- */
typedef struct ncf_epoch_report {
    int epoch;
    double loss;          /* mean over mini-batches */
    ncf_metrics test;     /* n_cases 0 when not evaluated this epoch */
    ncf_metrics valid;    /* n_cases 0 without validation cases or evaluation */
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
    float beta1, beta2, eps; /* Adam; eps also for Adagrad and RMSprop */
    ncf_adam_mode adam_mode; /* embedding rows (default dense: the exact optimizer) */
    float reg;            /* L2 on looked-up embedding rows, per sample (--reg-emb) */
    float reg_layers;     /* L2 on the weight matrices of the MLP and the output layer, per step
                             (not the biases; not MF's fixed output weights) */
    float momentum;       /* SGD momentum (0: plain SGD) */
    float alpha;          /* RMSprop smoothing constant (0.99) */
    ncf_lr_schedule schedule; /* learning rate per epoch; constant within an epoch */
    int lr_step;          /* NCF_LR_STEP: epochs per decay */
    float lr_gamma;       /* NCF_LR_STEP: factor per decay */
    float lr_end;         /* NCF_LR_LINEAR: the rate the decay heads for */
    ncf_loss loss;
    int threads;          /* 0: all cores */
    uint64_t seed;
    ncf_eval_config eval; /* mode and cutoffs (k[0] the one model selection uses; default
                             sampled at K = 10) */
    int eval_every_epoch; /* evaluate every N epochs (1: each) and after the last; 0: only after the last */
    /* Early stopping: stop after this many evaluations without a better
     * validation metric (the first cutoff's HR when sampled, recall when
     * full) and put the weights of the best validation epoch back. 0: off.
     * Needs validation cases (ds->valid). */
    int early_stop;
    /* 0: the order of one process (today's, the default). S >= 1: sharded
     * training (docs/distributed.md): the users split into S shards whose
     * gradients are reduced in fixed point, which gives the same model
     * bytes on any number of processes (ncf_dist_size) and threads for a
     * given S and seed -- other bytes than shards 0. At most batch. */
    int shards;

    /* Called after each epoch (may be NULL); returning non-zero stops training. */
    int (*on_epoch)(const ncf_epoch_report *report, void *user);
    /* Called from a training thread about a thousand times an epoch (after
     * every k-th step, k = steps / 1000 + 1, and after the last) with the fraction of
     * the epoch's steps done, in (0, 1]. It runs between two steps while
     * the other threads go on: it should return quickly (a clock read, an
     * occasional line of output) and must not touch the model. */
    void (*on_progress)(int epoch, double fraction, void *user);
    void *user;
} ncf_train_config;

/* Defaults: 20 epochs, batch 256, 4 negatives, Adam at lr 0.001 with
 * dense rows, BCE, all cores, seed 1, evaluation sampled at K = 10 after
 * every epoch, no early stopping, no callbacks. */
void ncf_train_config_default(ncf_train_config *cfg);
ncf_status ncf_train_config_check(const ncf_train_config *cfg, ncf_err *err);

/* The rows mode a run of cfg on a model of this type uses: cfg->adam_mode,
 * with NCF_ADAM_AUTO resolved (to NCF_ADAM_DENSE). */
ncf_adam_mode ncf_train_rows_mode(const ncf_train_config *cfg, ncf_model_type type);

typedef struct ncf_train_result {
    int epochs_run;
    int best_epoch;       /* by the test metric (what the paper reported); 0 if no epoch was evaluated */
    double final_loss;
    ncf_metrics best;     /* test metrics at best_epoch */
    ncf_metrics final;    /* test metrics after the last epoch run */
    /* With validation cases: the epoch chosen on validation, its validation
     * and test metrics (the honest figure); selected_epoch 0 otherwise.
     * With early_stop the model ends with that epoch's weights. */
    int selected_epoch;
    ncf_metrics selected_valid, selected;
    int stopped_early;    /* 1 when early stopping ended training */
} ncf_train_result;

/* The metric model selection compares: HR for sampled evaluation, recall
 * for full ranking (ncf_primary_metric), at the first cutoff
 * (ncf_metrics_primary gives its value). */
ncf_metric ncf_primary_metric(ncf_eval_mode mode);
double ncf_metrics_primary(const ncf_metrics *mt, ncf_eval_mode mode);

/* The learning rate of epoch (1-based) under cfg's schedule. */
float ncf_train_lr_at(const ncf_train_config *cfg, int epoch);

/* Trains m on ds. m must have been created for ds's sizes. A loop over the
 * trainer object below: create, ncf_trainer_epoch until ncf_trainer_done,
 * finish. */
ncf_status ncf_train(ncf_model *m, const ncf_dataset *ds, const ncf_train_config *cfg,
                     ncf_train_result *result, ncf_err *err);

/* ---- the trainer object ---------------------------------------------------- */
/* One training run as an object with durable state: it runs an epoch at a
 * time, can be asked to stop within an epoch (from a signal handler or
 * another thread), saves checkpoints, and resumes from them. A resumed run
 * gives the same model bytes as one that was never stopped (same seed;
 * any thread count). The model and the dataset must outlive the trainer. */
typedef struct ncf_trainer ncf_trainer;

/* Checks cfg, m and ds as ncf_train does and allocates the run (cfg is
 * copied, callbacks included), all but the epoch's samples, which the first
 * ncf_trainer_epoch allocates (a trainer that runs no epoch never holds
 * them). */
ncf_status ncf_trainer_create(ncf_model *m, const ncf_dataset *ds, const ncf_train_config *cfg, ncf_trainer **out,
                              ncf_err *err);
void ncf_trainer_free(ncf_trainer *t); /* NULL-safe; the model keeps its weights */

/* Runs the next epoch (or the rest of one that was interrupted): its steps,
 * evaluation when due, model selection and early stopping; fills *report
 * and calls cfg.on_epoch. NCF_ERR_INTERRUPTED when an interrupt stopped it
 * after a step (report untouched; the next call goes on from that step);
 * another error stops the run for good. */
ncf_status ncf_trainer_epoch(ncf_trainer *t, ncf_epoch_report *report, ncf_err *err);

/* 1 when the run is over: every epoch run, early stopping ended it, or
 * on_epoch asked to stop. */
int ncf_trainer_done(const ncf_trainer *t);
/* Epochs completed, and steps done of the next one (0 between epochs). */
int ncf_trainer_epochs_done(const ncf_trainer *t);
int64_t ncf_trainer_steps_done(const ncf_trainer *t);
/* Steps in one epoch. */
int64_t ncf_trainer_epoch_steps(const ncf_trainer *t);
/* Samples in one epoch, as ncf_epoch_report.samples counts them (scored
 * (user, item) pairs): with on_progress's fraction, the samples done. */
int64_t ncf_trainer_epoch_samples(const ncf_trainer *t);

/* Asks the epoch under way (or the next one started) to stop after its
 * current step; ncf_trainer_epoch then returns NCF_ERR_INTERRUPTED.
 * Async-signal-safe: one lock-free atomic store. */
void ncf_trainer_interrupt(ncf_trainer *t);

/* The results so far, as ncf_train reports them. */
void ncf_trainer_result(const ncf_trainer *t, ncf_train_result *result);

/* Ends the run: with early stopping, puts the selected epoch's weights
 * back; after an interrupted epoch (dense rows), brings every row up to
 * date (dense Adam has caught some rows up past the stop already: through
 * the step before their next read in the epoch, as an uninterrupted run
 * would; design.md). The trainer can then only be freed (or checkpointed
 * first: a checkpoint is of the state before finishing). */
ncf_status ncf_trainer_finish(ncf_trainer *t, ncf_train_result *result, ncf_err *err);

/* ---- checkpoints ----------------------------------------------------------- */
/* A checkpoint holds everything a run needs to go on (docs/model-file.md):
 * the model file of the current weights, optimizer moments and step
 * counters, the dense rows' synced counters, the epoch and the step within
 * it, the learning-rate schedule's place (the epoch), model selection and
 * early-stopping state with the selected epoch's weights, the
 * configuration, a fingerprint of the training data, and a caller's note
 * (the CLI keeps its command line there). The sampler and every random
 * stream are functions of (seed, epoch, index), so the epoch is their
 * state. Written to a temporary file, fsynced, renamed into place, and the
 * directory fsynced: a crash leaves the previous checkpoint or the new one.
 * CRC-checked and versioned like the model file. The data's fingerprint
 * is computed by the first save of a trainer and kept for the others. */
#define NCF_CHECKPOINT_VERSION 2 /* 2: sharded runs (cfg.shards > 0); others still write 1 */

/* Sharded runs: collective (every process calls it; rank 0 gathers the
 * user rows and their optimizer state and alone writes the file, which any
 * number of processes can resume from with the same shards). */
ncf_status ncf_trainer_save_checkpoint(ncf_trainer *t, const char *path, const char *note, ncf_err *err);

typedef struct ncf_checkpoint ncf_checkpoint;

/* Reads and checks a checkpoint (magic, version, CRC, every size). */
ncf_status ncf_checkpoint_load(const char *path, ncf_checkpoint **out, ncf_err *err);
void ncf_checkpoint_free(ncf_checkpoint *ck); /* NULL-safe */
/* The saved configuration (callbacks NULL), note ("" when none), model
 * (NULL once ncf_trainer_resume took it), and progress. */
const ncf_train_config *ncf_checkpoint_config(const ncf_checkpoint *ck);
const char *ncf_checkpoint_note(const ncf_checkpoint *ck);
const ncf_model *ncf_checkpoint_model(const ncf_checkpoint *ck);
int ncf_checkpoint_epochs_done(const ncf_checkpoint *ck);
int64_t ncf_checkpoint_steps_done(const ncf_checkpoint *ck);

/* The training data's fingerprint: a 64-bit hash of the sizes, the
 * training positives, the test and validation cases and the raw ids. */
uint64_t ncf_dataset_fingerprint(const ncf_dataset *ds);

/* Goes on with the run ck saved, on ds, under cfg (NULL: the saved
 * configuration; callbacks come from cfg). Takes the model out of ck into
 * *model (the caller frees it after the trainer). Refused (NCF_ERR_ARG,
 * the message naming the difference) when ds is not the data ck was
 * trained on, or when cfg differs from the saved configuration in
 * anything that changes the result: only threads, callbacks, and epochs
 * (not below those done; not under the linear schedule, which depends on
 * it) may differ. */
ncf_status ncf_trainer_resume(ncf_checkpoint *ck, const ncf_dataset *ds, const ncf_train_config *cfg,
                              ncf_model **model, ncf_trainer **out, ncf_err *err);

/* ---- several processes (docs/distributed.md) -------------------------------- */
/* In a library built with MPI (make MPI=1), starts MPI (MPI_THREAD_FUNNELED:
 * later calls into the library that communicate come from this thread);
 * the processes mpirun started are then one group, and a trainer with
 * cfg.shards >= 1 trains on all of them (collectively: every rank makes
 * the same calls in the same order; rank 0 alone should write files).
 * Without MPI, or without this call, the group is this process alone.
 * Returns NCF_OK at once when already started or built without MPI. */
ncf_status ncf_dist_init(int *argc, char ***argv, ncf_err *err);
void ncf_dist_finalize(void);     /* ends MPI when ncf_dist_init started it */
int ncf_dist_available(void);     /* 1 when the library was built with MPI */
int ncf_dist_rank(void);          /* this process's rank (0 without MPI) */
int ncf_dist_size(void);          /* processes in the group (1 without MPI) */
void ncf_dist_abort(int status);  /* ends every process of the group (MPI_Abort), or exits */
/* The smallest and largest of every process's v, on every process
 * (collective); 0, or -1 when MPI failed. */
int ncf_dist_minmax(uint64_t v, uint64_t *min, uint64_t *max);
int ncf_dist_max(int v);          /* the largest v of every process, on every process (collective) */

/* What a sharded run's reductions have cost this process so far: seconds
 * spent in them (thread 0's wall clock, waiting for the other processes
 * included), bytes this process contributed to them (each byte is sent and
 * received; MPI's algorithm decides how often), and their number (one a
 * step, one an epoch). All 0 for a run without shards. */
void ncf_trainer_comm(const ncf_trainer *t, double *seconds, uint64_t *bytes, int64_t *exchanges);

/* Number of threads the library uses for `threads` (0 = all cores). */
int ncf_threads_resolve(int threads);

#ifdef __cplusplus
}
#endif
#endif
