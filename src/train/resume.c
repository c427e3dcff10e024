/* resume.c — going on from a checkpoint (ncf_trainer_resume): the saved
 * run's configuration and data are compared with the caller's (only what
 * cannot change the result may differ), then the saved state moves into a
 * new trainer. Also the data's fingerprint that the comparison uses. Reading
 * and writing the file are checkpoint.c's. */
#include <string.h>

#include "core/core.h"
#include "dist/dist.h"
#include "train/config.h"
#include "train/shard.h"
#include "train/trainer_impl.h"

/* ---- the data's fingerprint -------------------------------------------------- */
typedef struct hasher {
    uint64_t h;
} hasher;

static void hash_bytes(hasher *x, const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = x->h;
    for (size_t k = 0; k < n; k++) h = (h ^ b[k]) * 0x100000001b3ULL; /* FNV-1a */
    x->h = h;
}

static void hash_cases(hasher *x, const ncf_cases *c)
{
    hash_bytes(x, &c->n, sizeof c->n);
    if (c->n == 0) return;
    hash_bytes(x, c->users, (size_t)c->n * sizeof *c->users);
    hash_bytes(x, c->items, (size_t)c->n * sizeof *c->items);
    if (!c->neg_offsets) return;
    hash_bytes(x, c->neg_offsets, ((size_t)c->n + 1) * sizeof *c->neg_offsets);
    hash_bytes(x, c->negs, (size_t)c->neg_offsets[c->n] * sizeof *c->negs);
}

static void hash_ids(hasher *x, const ncf_idmap *map, int32_t n)
{
    for (int32_t k = 0; map && k < n; k++) {
        const char *raw = ncf_idmap_raw(map, k);
        hash_bytes(x, raw, strlen(raw) + 1);
    }
}

/* The data's sizes, training offsets, held-out cases and ids, with its
 * training items where `items` says (in this order, which the fingerprints
 * saved in checkpoints depend on). */
static uint64_t hash_dataset(const ncf_dataset *ds, int items)
{
    hasher x = {0xcbf29ce484222325ULL};
    hash_bytes(&x, &ds->n_users, sizeof ds->n_users);
    hash_bytes(&x, &ds->n_items, sizeof ds->n_items);
    hash_bytes(&x, &ds->n_train, sizeof ds->n_train);
    hash_bytes(&x, ds->train_offsets, ((size_t)ds->n_users + 1) * sizeof *ds->train_offsets);
    if (items) hash_bytes(&x, ds->train_items, (size_t)ds->n_train * sizeof *ds->train_items);
    hash_cases(&x, &ds->test);
    hash_cases(&x, &ds->valid);
    hash_ids(&x, ds->user_ids, ds->n_users);
    hash_ids(&x, ds->item_ids, ds->n_items);
    return x.h;
}

uint64_t ncf_dataset_fingerprint(const ncf_dataset *ds) { return hash_dataset(ds, 1); }

uint64_t ncf_fingerprint_shared_(const ncf_dataset *ds) { return hash_dataset(ds, 0); }

uint64_t ncf_fingerprint_users_(const ncf_dataset *ds)
{
    uint64_t sum = 0;
    for (int32_t u = 0; u < ds->n_users; u++) {
        if (ds->own_users && !ds->own_users[u]) continue;
        hasher x = {0xcbf29ce484222325ULL};
        hash_bytes(&x, &u, sizeof u);
        const int64_t b = ds->train_offsets[u], n = ds->train_offsets[u + 1] - b;
        if (n > 0) hash_bytes(&x, ds->train_items + b, (size_t)n * sizeof *ds->train_items);
        uint64_t h = x.h; /* a finaliser (murmur3's), so that the sum mixes every bit */
        h ^= h >> 33;
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 33;
        h *= 0xc4ceb9fe1a85ec53ull;
        h ^= h >> 33;
        sum += h;
    }
    return sum;
}

int ncf_fingerprint_sharded_(const ncf_dataset *ds, uint64_t *out)
{
    uint64_t v[2] = {ncf_fingerprint_shared_(ds), ncf_fingerprint_users_(ds)};
    if (ds->own_users && ncf_dist_sum_u64_(&v[1], 1) != 0) return -1; /* every process its own users */
    hasher x = {0xcbf29ce484222325ULL};
    hash_bytes(&x, v, sizeof v);
    *out = x.h;
    return 0;
}

/* The fingerprint a run under c records (sharded runs: the sharded one;
 * collective then). -1 when the processes could not exchange it. */
static int run_fingerprint(const ncf_dataset *ds, const ncf_train_config *c, uint64_t *out)
{
    if (c->shards > 0) return ncf_fingerprint_sharded_(ds, out);
    *out = ncf_dataset_fingerprint(ds);
    return 0;
}


/* ---- resuming ---------------------------------------------------------------- */
/* NCF_OK when a run under c gives the result the checkpointed run under
 * was would: only threads, callbacks and (outside the linear schedule)
 * epochs may differ. */
static ncf_status compare_config(const ncf_train_config *was, const ncf_train_config *c, ncf_model_type type,
                                 int epochs_done, ncf_err *err)
{
#define SAME(field, what)                                                                                          \
    if (c->field != was->field)                                                                                    \
        return ncf_fail_(err, NCF_ERR_ARG, "%s differs from the checkpoint's (%g there, %g here): resuming would " \
                         "not continue the same run", what, (double)was->field, (double)c->field);
    SAME(batch, "the batch size (--batch)");
    SAME(neg, "the negatives per positive (--neg)");
    SAME(lr, "the learning rate (--lr)");
    SAME(optimizer, "the optimizer (--optimizer)");
    SAME(beta1, "Adam's beta1");
    SAME(beta2, "Adam's beta2");
    SAME(eps, "epsilon (--eps)");
    SAME(reg, "the embedding L2 (--reg-emb)");
    SAME(reg_layers, "the layer L2 (--reg-layers)");
    SAME(momentum, "the momentum (--momentum)");
    SAME(alpha, "RMSprop's alpha (--rmsprop-alpha)");
    SAME(schedule, "the learning-rate schedule (--lr-schedule)");
    SAME(lr_step, "the schedule's step (--lr-step)");
    SAME(lr_gamma, "the schedule's gamma (--lr-gamma)");
    SAME(lr_end, "the schedule's end rate (--lr-end)");
    SAME(loss, "the loss (--loss)");
    SAME(seed, "the seed (--seed)");
    SAME(eval_every_epoch, "the evaluation interval (--eval-every, --no-eval)");
    SAME(early_stop, "the early-stopping patience (--early-stop)");
    SAME(shards, "the shards (--shards)");
#undef SAME
    if (ncf_train_rows_mode(c, type) != ncf_train_rows_mode(was, type))
        return ncf_fail_(err, NCF_ERR_ARG, "the rows mode (--rows) differs from the checkpoint's: resuming would not "
                                           "continue the same run");
    const ncf_eval_config *a = &was->eval, *b = &c->eval;
    if (a->mode != b->mode || a->n_k != b->n_k || memcmp(a->k, b->k, (size_t)a->n_k * sizeof a->k[0]) != 0)
        return ncf_fail_(err, NCF_ERR_ARG, "the evaluation (--eval, --topk) differs from the checkpoint's: resuming "
                                           "would not continue the same run");
    if (c->epochs != was->epochs && c->schedule == NCF_LR_LINEAR)
        return ncf_fail_(err, NCF_ERR_ARG, "the epochs differ from the checkpoint's (%d there, %d here), and the "
                         "linear schedule depends on them", was->epochs, c->epochs);
    if (c->epochs < epochs_done)
        return ncf_fail_(err, NCF_ERR_ARG, "the checkpoint has %d epochs done already, more than --epochs %d",
                         epochs_done, c->epochs);
    return NCF_OK;
}

/* Copies a table-shaped buffer (both padded to the table's stride). */
static void copy_rows(float *dst, const float *src, const ncf_table *tb)
{
    if (dst && src) memcpy(dst, src, (size_t)tb->rows * (size_t)tb->stride * sizeof(float));
}

ncf_status ncf_trainer_resume(ncf_checkpoint *ck, const ncf_dataset *ds, const ncf_train_config *cfg,
                              ncf_model **model, ncf_trainer **out, ncf_err *err)
{
    *out = NULL;
    *model = NULL;
    if (!ck->m) return ncf_fail_(err, NCF_ERR_ARG, "this checkpoint's model was taken by an earlier resume");
    ncf_train_config c = cfg ? *cfg : ck->c;
    ncf_status st = compare_config(&ck->c, &c, ck->m->cfg.type, ck->epochs_done, err);
    if (st != NCF_OK) return st;
    uint64_t fp = 0;
    if (run_fingerprint(ds, &c, &fp) != 0)
        return ncf_fail_(err, NCF_ERR_IO, "the processes could not exchange the data's fingerprint");
    if (ds->n_users != ck->n_users || ds->n_items != ck->n_items || ds->n_train != ck->n_train ||
        fp != ck->fingerprint) /* equal below: the trainer keeps ck's */
        return ncf_fail_(err, NCF_ERR_ARG,
                         "the data is not what the checkpoint was trained on (there: %d users, %d items, %lld "
                         "training interactions; here: %d, %d, %lld%s)",
                         ck->n_users, ck->n_items, (long long)ck->n_train, ds->n_users, ds->n_items,
                         (long long)ds->n_train,
                         ds->n_users == ck->n_users && ds->n_items == ck->n_items && ds->n_train == ck->n_train
                             ? "; the same sizes, other interactions, cases or ids"
                             : "");
    ncf_trainer *t = NULL;
    st = ncf_trainer_create(ck->m, ds, &c, &t, err);
    if (st != NCF_OK) return st;
    engine *e = &t->e;
    const ncf_model *m = ck->m;
    int match = (e->dense_m != NULL) == (ck->dense_m != NULL) && (e->dense_v != NULL) == (ck->dense_v != NULL);
    for (int k = 0; k < NCF_TABLES; k++)
        match &= (e->tab_m[k] != NULL) == (ck->tab_m[k] != NULL) && (e->tab_v[k] != NULL) == (ck->tab_v[k] != NULL);
    for (int side = 0; side < 2; side++) match &= (e->synced[side] != NULL) == (ck->synced[side] != NULL);
    if (!match) {
        ncf_trainer_free(t);
        return ncf_fail_(err, NCF_ERR_FORMAT, "corrupt checkpoint: its optimizer state does not fit its configuration");
    }
    if (ck->dense_m) memcpy(e->dense_m, ck->dense_m, m->n_dense * sizeof(float));
    if (ck->dense_v) memcpy(e->dense_v, ck->dense_v, m->n_dense * sizeof(float));
    for (int k = 0; k < NCF_TABLES; k++) {
        copy_rows(e->tab_m[k], ck->tab_m[k], &m->tab[k]);
        copy_rows(e->tab_v[k], ck->tab_v[k], &m->tab[k]);
    }
    for (int side = 0; side < 2; side++)
        if (ck->synced[side])
            memcpy(e->synced[side], ck->synced[side], ((size_t)(side ? ds->n_items : ds->n_users) + 1) * sizeof(int64_t));
    e->step = ck->step;
    t->fingerprint = ck->fingerprint;
    t->known_fingerprint = 1;
    t->epochs_done = ck->epochs_done;
    t->steps_done = ck->steps_done;
    t->loss_sum = ck->loss_sum;
    t->result = ck->result;
    t->best_valid = ck->best_valid;
    t->since_better = ck->since_better;
    t->over = ck->result.stopped_early || ck->epochs_done >= c.epochs;
    t->best = ck->best; /* moved: malloc'd as snapshot_take would */
    memset(&ck->best, 0, sizeof ck->best);
    if (e->sh) shard_release_users(e, t->best.tab); /* the checkpoint had every user's rows */
    *model = ck->m;
    ck->m = NULL;
    *out = t;
    return NCF_OK;
}

