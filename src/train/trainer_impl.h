/* trainer_impl.h — the inside of ncf_trainer, shared by trainer.c (the
 * epoch loop, evaluation, model selection, early stopping) and
 * checkpoint.c (saving and restoring it). Not part of the public API. */
#ifndef NCF_TRAIN_TRAINER_IMPL_H
#define NCF_TRAIN_TRAINER_IMPL_H

#include <stdatomic.h>

#include "train/engine.h"

/* A copy of the weights (embedding tables, padded rows as in the model, and the
 * dense arena): early stopping keeps the selected epoch's. */
typedef struct snapshot {
    float *tab[NCF_TABLES];
    float *dense;
} snapshot;

void snapshot_free(snapshot *s);
/* Copies m's weights into s (allocating what s lacks); -1 out of memory. */
int snapshot_take(snapshot *s, const ncf_model *m);

struct ncf_trainer {
    engine e;               /* points at c */
    ncf_train_config c;     /* the caller's configuration, copied */
    ncf_model *m;
    const ncf_dataset *ds;
    int epochs_done;
    int64_t steps_done;     /* of epoch epochs_done + 1; 0 between epochs */
    double loss_sum;        /* the batch losses of those steps, summed in step order */
    int samples_epoch;      /* the epoch whose samples e.samples holds (0: none) */
    ncf_train_result result;
    double best_valid;      /* the selected epoch's validation metric */
    int since_better;       /* evaluations since the selected epoch */
    int over;               /* 1: every epoch run, stopped early, stopped by on_epoch, or failed */
    int finished;           /* ncf_trainer_finish ran */
    snapshot best;          /* early stopping: the selected epoch's weights */
    atomic_int interrupt;
    uint64_t fingerprint;   /* ncf_dataset_fingerprint(ds) (sharded: ncf_fingerprint_sharded_), once known_fingerprint */
    int known_fingerprint;  /* computed by the first checkpoint, or by resume */
};

/* The fingerprint of sharded runs (resume.c; docs/distributed.md): a hash
 * of what every process holds (sizes, offsets, cases, id maps) and of the
 * sum over users of a hash of each user's training items, which the
 * processes add up over their own users (ds->own_users), so that it is the
 * same for any number of processes. Collective when ds->own_users is set;
 * -1 when the processes could not exchange it. */
uint64_t ncf_fingerprint_shared_(const ncf_dataset *ds);
uint64_t ncf_fingerprint_users_(const ncf_dataset *ds);
int ncf_fingerprint_sharded_(const ncf_dataset *ds, uint64_t *out);

/* A checkpoint read back (checkpoint.c), before ncf_trainer_resume
 * (resume.c) moves its state into a trainer. */
struct ncf_checkpoint {
    ncf_train_config c;
    uint64_t fingerprint;
    int32_t n_users, n_items;
    int64_t n_train;
    int epochs_done;
    int64_t steps_done;
    double loss_sum;
    int64_t step;
    ncf_train_result result;
    double best_valid;
    int since_better, over;
    char *note;
    ncf_model *m;
    float *dense_m, *dense_v;
    float *tab_m[NCF_TABLES], *tab_v[NCF_TABLES];
    int64_t *synced[2];
    snapshot best;
};

#endif
