/* trainer.c — the trainer object (ncf/train.h): the epoch loop over the
 * step engine (engine.c), evaluation of the test (and validation) cases
 * after an epoch, the best / selected / final epochs, early stopping that
 * keeps the selected epoch's weights, interruption within an epoch, and
 * ncf_train as a loop over it. Checkpoints are checkpoint.c's. Does not
 * print. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dist/dist.h"
#include "train/shard.h"
#include "train/trainer_impl.h"

void snapshot_free(snapshot *s)
{
    for (int k = 0; k < NCF_TABLES; k++) free(s->tab[k]);
    free(s->dense);
    memset(s, 0, sizeof *s);
}

int snapshot_take(snapshot *s, const ncf_model *m)
{
    for (int k = 0; k < NCF_TABLES; k++) {
        const ncf_table *tb = &m->tab[k];
        if (!tb->w) continue;
        size_t n = (size_t)tb->rows * (size_t)tb->stride;
        if (!s->tab[k] && !(s->tab[k] = malloc(n * sizeof(float)))) return -1;
        memcpy(s->tab[k], tb->w, n * sizeof(float));
    }
    if (!s->dense && !(s->dense = malloc(m->n_dense * sizeof(float)))) return -1;
    memcpy(s->dense, m->dense, m->n_dense * sizeof(float));
    return 0;
}

static void snapshot_restore(const snapshot *s, ncf_model *m)
{
    if (!s->dense) return;
    for (int k = 0; k < NCF_TABLES; k++)
        if (m->tab[k].w) memcpy(m->tab[k].w, s->tab[k], (size_t)m->tab[k].rows * (size_t)m->tab[k].stride * sizeof(float));
    memcpy(m->dense, s->dense, m->n_dense * sizeof(float));
    ncf_model_sync_(m);
}

/* The checks of ncf_train on its arguments. */
static ncf_status check_run(const ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c, ncf_err *err)
{
    ncf_status st = ncf_train_config_check(c, err);
    if (st != NCF_OK) return st;
    if (ds->n_users != m->cfg.n_users || ds->n_items != m->cfg.n_items)
        return ncf_fail_(err, NCF_ERR_ARG, "model is for %d users and %d items, data has %d and %d",
                         m->cfg.n_users, m->cfg.n_items, ds->n_users, ds->n_items);
    if (ds->n_train == 0) return ncf_fail_(err, NCF_ERR_EMPTY, "no training interactions");
    for (int32_t u = 0; u < ds->n_users; u++)
        if (ds->train_offsets[u + 1] - ds->train_offsets[u] >= ds->n_items && ds->n_items > 0)
            return ncf_fail_(err, NCF_ERR_ARG, "user '%s' has interacted with every item: no negative to sample",
                             ncf_idmap_raw(ds->user_ids, u));
    if (c->early_stop > 0 && ds->valid.n == 0)
        return ncf_fail_(err, NCF_ERR_ARG, "early stopping needs validation cases (ncf split --validation, or --validation)");
    if (ds->own_users && c->shards != ds->own_shards)
        return ncf_fail_(err, NCF_ERR_ARG, "the data was loaded for %d shards, the training has %d: load it with "
                         "ncf_dataset_load_shards and the training's shards", ds->own_shards, c->shards);
    if (c->shards > 0 && ncf_dist_size() > c->shards)
        return ncf_fail_(err, NCF_ERR_ARG, "%d processes but %d shards: each process needs a shard (--shards >= %d)",
                         ncf_dist_size(), c->shards, ncf_dist_size());
    return NCF_OK;
}

ncf_status ncf_trainer_create(ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c, ncf_trainer **out,
                              ncf_err *err)
{
    *out = NULL;
    ncf_status st = check_run(m, ds, c, err);
    if (st != NCF_OK) return st;
    ncf_trainer *t = calloc(1, sizeof *t);
    if (!t) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory allocating the trainer");
    t->c = *c;
    t->m = m;
    t->ds = ds;
    t->best_valid = -1.0;
    t->over = c->epochs == 0;
    atomic_init(&t->interrupt, 0);
    st = engine_init(&t->e, m, ds, &t->c);
    if (st != NCF_OK) {
        ncf_trainer_free(t);
        if (st == NCF_ERR_ARG)
            return ncf_fail_(err, st, "the %d processes of sharded training do not all have the same data and "
                             "options", ncf_dist_size());
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory allocating the trainer");
    }
    *out = t;
    return NCF_OK;
}

void ncf_trainer_free(ncf_trainer *t)
{
    if (!t) return;
    engine_free(&t->e);
    snapshot_free(&t->best);
    free(t);
}

int ncf_trainer_done(const ncf_trainer *t) { return t->over; }
int ncf_trainer_epochs_done(const ncf_trainer *t) { return t->epochs_done; }
int64_t ncf_trainer_steps_done(const ncf_trainer *t) { return t->steps_done; }
int64_t ncf_trainer_epoch_steps(const ncf_trainer *t) { return engine_steps(&t->e); }
int64_t ncf_trainer_epoch_samples(const ncf_trainer *t)
{
    return ncf_loss_pairwise(t->c.loss) ? 2 * t->e.n_samples : t->e.n_samples;
}

void ncf_trainer_comm(const ncf_trainer *t, double *seconds, uint64_t *bytes, int64_t *exchanges)
{
    const shard_state *sh = t->e.sh;
    *seconds = sh ? sh->comm_seconds : 0.0;
    *bytes = sh ? sh->comm_bytes : 0;
    *exchanges = sh ? sh->exchanges : 0;
}

void ncf_trainer_interrupt(ncf_trainer *t) { atomic_store_explicit(&t->interrupt, 1, memory_order_relaxed); }

void ncf_trainer_result(const ncf_trainer *t, ncf_train_result *r)
{
    *r = t->result;
}

/* Evaluates cs (sharded: every process its users, the ranks summed). */
static ncf_status evaluate(ncf_trainer *t, const ncf_cases *cs, ncf_metrics *out, ncf_err *err)
{
    if (t->e.sh) return shard_evaluate(&t->e, t->ds, cs, &t->c.eval, out, err);
    return ncf_evaluate_cases(t->m, t->ds, cs, &t->c.eval, t->e.T, out, err);
}

/* After epoch's steps: evaluates when due, updates the best, final and
 * selected epochs, and decides on early stopping (sets t->over). */
static ncf_status evaluate_epoch(ncf_trainer *t, int epoch, ncf_epoch_report *r, double t1, ncf_err *err)
{
    const ncf_train_config *c = &t->c;
    const ncf_dataset *ds = t->ds;
    ncf_train_result *result = &t->result;
    const int due = (c->eval_every_epoch > 0 && epoch % c->eval_every_epoch == 0) || epoch == c->epochs;
    if (!due || ds->test.n == 0) return NCF_OK;
    ncf_status st = evaluate(t, &ds->test, &r->test, err);
    if (st == NCF_OK && ds->valid.n > 0) st = evaluate(t, &ds->valid, &r->valid, err);
    if (st != NCF_OK) return st;
    r->eval_seconds = ncf_now_seconds_() - t1;
    const double primary = ncf_metrics_primary(&r->test, t->c.eval.mode);
    if (result->best_epoch == 0 || primary > ncf_metrics_primary(&result->best, t->c.eval.mode)) {
        result->best_epoch = epoch;
        result->best = r->test;
    }
    result->final = r->test;
    if (ds->valid.n == 0) return NCF_OK;
    const double v = ncf_metrics_primary(&r->valid, t->c.eval.mode);
    if (result->selected_epoch == 0 || v > t->best_valid) {
        t->best_valid = v;
        result->selected_epoch = epoch;
        result->selected_valid = r->valid;
        result->selected = r->test;
        t->since_better = 0;
        if (c->early_stop > 0 && snapshot_take(&t->best, t->m) != 0)
            return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory keeping the best model");
        if (c->early_stop > 0 && t->e.sh) shard_release_users(&t->e, t->best.tab); /* other processes' rows */
    } else if (c->early_stop > 0 && ++t->since_better >= c->early_stop) {
        result->stopped_early = 1;
        t->over = 1;
    }
    return NCF_OK;
}

ncf_status ncf_trainer_epoch(ncf_trainer *t, ncf_epoch_report *report, ncf_err *err)
{
    if (t->over || t->finished)
        return ncf_fail_(err, NCF_ERR_ARG, "training is over (%d epochs run)", t->epochs_done);
    int stop = atomic_exchange_explicit(&t->interrupt, 0, memory_order_relaxed);
    if (t->e.sh && t->e.sh->N > 1) { /* every process stops, or none: agreed (collective) */
        uint64_t lo, hi;
        if (ncf_dist_minmax_u64_((uint64_t)stop, &lo, &hi) != 0) {
            t->over = 1; /* the processes could not agree: none may go on alone */
            return ncf_fail_(err, NCF_ERR_IO, "the processes could not agree whether to stop before epoch %d",
                             t->epochs_done + 1);
        }
        stop = hi != 0;
    }
    if (stop) return ncf_fail_(err, NCF_ERR_INTERRUPTED, "interrupted before epoch %d", t->epochs_done + 1);
    const ncf_train_config *c = &t->c;
    const int epoch = t->epochs_done + 1;
    if (engine_samples_ready(&t->e) != NCF_OK) {
        t->over = 1;
        return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory allocating epoch %d's samples", epoch);
    }
    const double t0 = ncf_now_seconds_();
    if (t->samples_epoch != epoch) {
        const ncf_status sampled = engine_begin_epoch(&t->e, epoch, t->steps_done);
        if (sampled != NCF_OK) {
            t->over = 1;
            return ncf_fail_(err, sampled, "sampling epoch %d: %s", epoch, ncf_status_str(sampled));
        }
        t->samples_epoch = epoch;
    }
    const int64_t n_steps = engine_steps(&t->e);
    const int64_t done = engine_run(&t->e, epoch, t->steps_done, &t->interrupt, &t->loss_sum);
    if (done < 0) {
        t->over = 1;
        if (t->e.sh && t->e.sh->mismatch)
            return ncf_fail_(err, NCF_ERR_ARG, "epoch %d: the processes of sharded training disagree", epoch);
        if (t->e.sh && t->e.sh->overflow)
            return ncf_fail_(err, NCF_ERR_NUMERIC, "epoch %d: a gradient left the fixed-point range of the sharded "
                             "reduction (try a smaller --lr)", epoch);
        return ncf_fail_(err, NCF_ERR_NUMERIC, "epoch %d: the loss became %g (try a smaller --lr)", epoch, NAN);
    }
    if (done < n_steps) {
        t->steps_done = done;
        atomic_store_explicit(&t->interrupt, 0, memory_order_relaxed);
        return ncf_fail_(err, NCF_ERR_INTERRUPTED, "interrupted in epoch %d after step %lld of %lld", epoch,
                         (long long)done, (long long)n_steps);
    }
    if (t->e.deferred) engine_catch_up_all(&t->e);
    const double loss = t->loss_sum / (double)(n_steps ? n_steps : 1);
    t->steps_done = 0;
    t->loss_sum = 0.0;
    t->epochs_done = epoch;
    const double t1 = ncf_now_seconds_();
    ncf_epoch_report r = {.epoch = epoch, .loss = loss, .train_seconds = t1 - t0};
    r.samples = ncf_trainer_epoch_samples(t);
    ncf_status st = evaluate_epoch(t, epoch, &r, t1, err);
    if (st != NCF_OK) {
        t->over = 1;
        return st;
    }
    t->result.epochs_run = epoch;
    t->result.final_loss = loss;
    if (epoch >= c->epochs) t->over = 1;
    if (c->on_epoch && c->on_epoch(&r, c->user)) t->over = 1;
    if (report) *report = r;
    return NCF_OK;
}

ncf_status ncf_trainer_finish(ncf_trainer *t, ncf_train_result *result, ncf_err *err)
{
    if (!t->finished) {
        t->finished = 1;
        t->over = 1;
        if (t->steps_done > 0 && t->e.deferred) engine_catch_up_all(&t->e);
        if (t->c.early_stop > 0 && t->result.selected_epoch > 0) snapshot_restore(&t->best, t->m);
        if (t->e.sh && shard_collect_users(&t->e) != 0) /* rank 0's model gets every user row */
            return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory gathering the user rows");
    }
    if (result) ncf_trainer_result(t, result);
    return NCF_OK;
}

ncf_status ncf_train(ncf_model *m, const ncf_dataset *ds, const ncf_train_config *c, ncf_train_result *result,
                     ncf_err *err)
{
    ncf_trainer *t = NULL;
    memset(result, 0, sizeof *result);
    ncf_status st = ncf_trainer_create(m, ds, c, &t, err);
    while (st == NCF_OK && !ncf_trainer_done(t)) st = ncf_trainer_epoch(t, NULL, err);
    if (st == NCF_OK) st = ncf_trainer_finish(t, result, err);
    else if (t) ncf_trainer_result(t, result);
    ncf_trainer_free(t);
    return st;
}
