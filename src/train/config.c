/* config.c — the training configuration: names of the enums, defaults,
 * checks, the learning rate per epoch, the rows mode a run uses, and the
 * thread count. No training happens here. */
#include <float.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/core.h"
#include "train/config.h"

const char *ncf_optimizer_name(ncf_optimizer opt)
{
    switch (opt) {
    case NCF_OPT_ADAM: return "adam";
    case NCF_OPT_SGD: return "sgd";
    case NCF_OPT_ADAGRAD: return "adagrad";
    case NCF_OPT_RMSPROP: return "rmsprop";
    }
    return "?";
}

float ncf_train_lr_at(const ncf_train_config *c, int epoch)
{
    switch (c->schedule) {
    case NCF_LR_STEP: return c->lr * powf(c->lr_gamma, (float)((epoch - 1) / (c->lr_step > 0 ? c->lr_step : 1)));
    case NCF_LR_LINEAR:
        return c->lr + (c->lr_end - c->lr) * (float)(epoch - 1) / (float)(c->epochs > 0 ? c->epochs : 1);
    case NCF_LR_CONSTANT: break;
    }
    return c->lr;
}

const char *ncf_loss_name(ncf_loss loss)
{
    switch (loss) {
    case NCF_LOSS_BCE: return "bce";
    case NCF_LOSS_PAIR_BCE: return "pair-bce";
    case NCF_LOSS_BPR: return "bpr";
    }
    return "?";
}

int ncf_threads_resolve(int threads)
{
#ifdef _OPENMP
    return threads > 0 ? threads : omp_get_num_procs();
#else
    (void)threads; /* built without OpenMP: one thread whatever is asked */
    return 1;
#endif
}

void ncf_train_config_default(ncf_train_config *c)
{
    memset(c, 0, sizeof *c);
    c->epochs = 20;
    c->batch = 256;
    c->neg = 4;
    c->lr = 0.001f;
    c->optimizer = NCF_OPT_ADAM;
    c->beta1 = 0.9f;
    c->beta2 = 0.999f;
    c->eps = 1e-8f;
    c->adam_mode = NCF_ADAM_DENSE;
    c->reg = 0.0f;
    c->reg_layers = 0.0f;
    c->momentum = 0.0f;
    c->alpha = 0.99f;
    c->schedule = NCF_LR_CONSTANT;
    c->lr_step = 10;
    c->lr_gamma = 0.5f;
    c->lr_end = 0.0f;
    c->loss = NCF_LOSS_BCE;
    c->threads = 0;
    c->seed = 1;
    ncf_eval_config_default(&c->eval);
    c->eval_every_epoch = 1;
    c->early_stop = 0;
}

ncf_metric ncf_primary_metric(ncf_eval_mode mode) { return mode == NCF_EVAL_FULL ? NCF_METRIC_RECALL : NCF_METRIC_HR; }

double ncf_metrics_primary(const ncf_metrics *mt, ncf_eval_mode mode) { return mt->at[0][ncf_primary_metric(mode)]; }

ncf_status ncf_train_config_check(const ncf_train_config *c, ncf_err *err)
{
    if (c->epochs < 0 || c->epochs > 1000000) return ncf_fail_(err, NCF_ERR_ARG, "epochs must be in 0..1000000");
    if (c->batch < 1 || c->batch > (1 << 22)) return ncf_fail_(err, NCF_ERR_ARG, "batch must be in 1..4194304");
    if (c->neg < 1 || c->neg > 1000) return ncf_fail_(err, NCF_ERR_ARG, "neg must be in 1..1000");
    if (!(c->lr > 0.0f && c->lr < 100.0f)) return ncf_fail_(err, NCF_ERR_ARG, "lr must be in (0, 100)");
    if (c->optimizer != NCF_OPT_ADAM && c->optimizer != NCF_OPT_SGD && c->optimizer != NCF_OPT_ADAGRAD &&
        c->optimizer != NCF_OPT_RMSPROP)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown optimizer");
    if (!(c->momentum >= 0.0f && c->momentum < 1.0f)) return ncf_fail_(err, NCF_ERR_ARG, "momentum must be in [0, 1)");
    if (c->momentum > 0.0f && c->optimizer != NCF_OPT_SGD)
        return ncf_fail_(err, NCF_ERR_ARG, "momentum applies to SGD only");
    if (!(c->alpha > 0.0f && c->alpha < 1.0f)) return ncf_fail_(err, NCF_ERR_ARG, "RMSprop alpha must be in (0, 1)");
    if (!(c->reg_layers >= 0.0f && c->reg_layers < 1e3f)) return ncf_fail_(err, NCF_ERR_ARG, "reg-layers must be in [0, 1000)");
    if (c->schedule != NCF_LR_CONSTANT && c->schedule != NCF_LR_STEP && c->schedule != NCF_LR_LINEAR)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown learning-rate schedule");
    if (c->schedule == NCF_LR_STEP && (c->lr_step < 1 || !(c->lr_gamma > 0.0f && c->lr_gamma <= 1.0f)))
        return ncf_fail_(err, NCF_ERR_ARG, "step schedule needs a step >= 1 epoch and 0 < gamma <= 1");
    if (c->schedule == NCF_LR_LINEAR && !(c->lr_end >= 0.0f && c->lr_end < 100.0f))
        return ncf_fail_(err, NCF_ERR_ARG, "linear schedule needs 0 <= lr-end < 100");
    if (c->adam_mode == NCF_ADAM_DENSE_SWEEP && c->optimizer != NCF_OPT_ADAM)
        return ncf_fail_(err, NCF_ERR_ARG, "the dense sweep is a reference for Adam only");
    if (c->adam_mode != NCF_ADAM_DENSE && c->adam_mode != NCF_ADAM_LAZY && c->adam_mode != NCF_ADAM_DENSE_SWEEP &&
        c->adam_mode != NCF_ADAM_AUTO)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown Adam mode");
    if (!(c->beta1 >= 0.0f && c->beta1 < 1.0f) || !(c->beta2 >= 0.0f && c->beta2 < 1.0f) || !(c->eps >= FLT_MIN))
        return ncf_fail_(err, NCF_ERR_ARG, "Adam needs 0 <= beta < 1 and eps >= 1.2e-38 (a normal float)");
    if (!(c->reg >= 0.0f && c->reg < 1e3f)) return ncf_fail_(err, NCF_ERR_ARG, "reg must be in [0, 1000)");
    if (c->loss != NCF_LOSS_BCE && c->loss != NCF_LOSS_PAIR_BCE && c->loss != NCF_LOSS_BPR)
        return ncf_fail_(err, NCF_ERR_ARG, "unknown loss");
    if (c->threads < 0 || c->threads > 1024) return ncf_fail_(err, NCF_ERR_ARG, "threads must be in 0..1024");
    if (ncf_eval_config_check(&c->eval, err) != NCF_OK) return NCF_ERR_ARG;
    if (c->eval_every_epoch < 0) return ncf_fail_(err, NCF_ERR_ARG, "evaluation interval must be >= 0");
    if (c->early_stop < 0) return ncf_fail_(err, NCF_ERR_ARG, "early stopping patience must be >= 0");
    if (c->shards < 0 || c->shards > 65536) return ncf_fail_(err, NCF_ERR_ARG, "shards must be in 0..65536");
    if (c->shards > c->batch) return ncf_fail_(err, NCF_ERR_ARG, "shards (%d) must be at most the batch size (%d)", c->shards, c->batch);
    if (c->shards > 0 && c->adam_mode == NCF_ADAM_DENSE_SWEEP)
        return ncf_fail_(err, NCF_ERR_ARG, "the dense sweep is a reference of the one-process order, not of shards");
    return NCF_OK;
}

ncf_adam_mode ncf_train_rows_mode(const ncf_train_config *c, ncf_model_type type)
{
    (void)type; /* every model trains dense unless asked otherwise (ncf_adam_mode) */
    return c->adam_mode == NCF_ADAM_AUTO ? NCF_ADAM_DENSE : c->adam_mode;
}
