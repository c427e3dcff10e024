/* cmd_train.c — `ncf train`: load data, build the model from a preset and
 * options, train with per-epoch evaluation, report (table or JSON lines),
 * save the model. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf train --data PREFIX_OR_FILE [options]\n"
    "\n"
    "Trains GMF, MLP or NeuMF on implicit feedback and evaluates HR@K and NDCG@K\n"
    "(sampled leave-one-out, NCF paper protocol) after every epoch.\n"
    "\n"
    "Model:\n"
    "  --model gmf|mlp|neumf     model (default neumf)\n"
    "  --preset paper|seed       paper: the NCF authors' code (default); seed: the TF2\n"
    "                            model (one embedding width, sigmoid GMF, dropout 0.2,\n"
    "                            L2 1e-6, N(0,0.05), one negative, pairwise BCE)\n"
    "  --factors N               GMF embedding width (default 8)\n"
    "  --layers A,B,...          MLP widths (default 64,32,16,8; paper: A is the input,\n"
    "                            A/2 per side; seed: all hidden, input 2 x factors)\n"
    "  --gmf-activation identity|sigmoid\n"
    "  --dropout X               dropout after the last hidden layer\n"
    "  --reg X                   L2 on the embedding rows each sample looks up\n"
    "  --init-std X              embeddings ~ N(0, X)\n"
    "  --summary                 print layers, shapes and parameter counts\n"
    "  --pretrain-gmf G.model --pretrain-mlp M.model [--alpha 0.5]\n"
    "                            NeuMF starts from a trained GMF and MLP (paper 3.4.1):\n"
    "                            their embeddings and layers, output [a w_gmf; (1-a) w_mlp]\n"
    "                            (the paper then trained with --optimizer sgd)\n"
    "Training:\n"
    "  --epochs N (20)  --batch N (256)  --lr X (0.001)  --neg N (4; seed: 1)\n"
    "  --loss bce|pair-bce|bpr   pointwise BCE (paper), the seed's pairwise BCE, or\n"
    "                            BPR -log s(pos - neg); pairwise losses draw --neg\n"
    "                            negatives per positive, one (pos, neg) pair each\n"
    "  --optimizer adam|sgd      (default adam)\n"
    "  --adam dense|lazy         dense: every embedding row each step, as PyTorch and\n"
    "                            Keras (default); lazy: only the rows a batch touches\n"
    "  --threads N               (default: all cores); results do not depend on it\n"
    "  --seed N                  (default 1): same seed, same model bytes\n"
    "Evaluation and output:\n"
    "  --topk K (10)  --out MODEL  --json  --quiet (no progress bar)\n"
    "  --no-eval                 evaluate only after the last epoch\n"
    "\n"
    "With --json, stdout has one JSON object per epoch (epoch, loss, hr, ndcg,\n"
    "train_seconds, eval_seconds, samples_per_second) and a final one (best_epoch,\n"
    "best_hr, best_ndcg, final_hr, final_ndcg).\n"
    "\n";

typedef struct run_state {
    int json, progress, topk, epochs;
    double samples_total;
} run_state;

static void on_progress(int epoch, double fraction, void *user)
{
    run_state *rs = user;
    if (!rs->progress) return;
    int width = 30, filled = (int)(fraction * width + 0.5);
    char bar[64];
    for (int k = 0; k < width; k++) bar[k] = k < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r  epoch %d/%d [%s] %3.0f%%", epoch, rs->epochs, bar, 100.0 * fraction);
    fflush(stderr);
}

static int on_epoch(const ncf_epoch_report *r, void *user)
{
    run_state *rs = user;
    double sps = r->train_seconds > 0 ? (double)r->samples / r->train_seconds : 0.0;
    if (rs->progress) fprintf(stderr, "\r%60s\r", "");
    if (rs->json) {
        printf("{\"epoch\": %d, \"loss\": %.6f, \"hr\": %.6f, \"ndcg\": %.6f, \"train_seconds\": %.4f, "
               "\"eval_seconds\": %.4f, \"samples_per_second\": %.0f}\n",
               r->epoch, r->loss, isnan(r->hr) ? -1.0 : r->hr, isnan(r->ndcg) ? -1.0 : r->ndcg, r->train_seconds,
               r->eval_seconds, sps);
    } else {
        if (isnan(r->hr))
            printf("%5d  %9.5f  %8s  %8s  %8.2f  %7.3f  %11.0f\n", r->epoch, r->loss, "-", "-", r->train_seconds,
                   r->eval_seconds, sps);
        else
            printf("%5d  %9.5f  %8.4f  %8.4f  %8.2f  %7.3f  %11.0f\n", r->epoch, r->loss, r->hr, r->ndcg,
                   r->train_seconds, r->eval_seconds, sps);
    }
    fflush(stdout);
    return 0;
}

static void print_summary(FILE *out, const ncf_model *m)
{
    ncf_layer_info rows[32];
    int n = ncf_model_summary(m, rows, 32);
    if (n > 32) n = 32;
    fprintf(out, "%-22s %-14s %-16s %12s\n", "layer", "kind", "shape", "params");
    for (int k = 0; k < n; k++) {
        char shape[40];
        if (rows[k].cols) snprintf(shape, sizeof shape, "%lld x %lld", (long long)rows[k].rows, (long long)rows[k].cols);
        else snprintf(shape, sizeof shape, "%lld", (long long)rows[k].rows);
        fprintf(out, "%-22s %-14s %-16s %12lld\n", rows[k].name, rows[k].kind, shape, (long long)rows[k].params);
    }
    fprintf(out, "%-22s %-14s %-16s %12lld\n", "total", "", "", (long long)ncf_model_param_count(m));
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    const char *data = NULL, *out = NULL, *layers_s = "64,32,16,8", *pre_gmf = NULL, *pre_mlp = NULL;
    double alpha = 0.5;
    int model = 2, preset = 0, factors = 8, epochs = 20, batch = 256, neg = 4, optimizer = 0, adam_mode = 0;
    int threads = 0, topk = 10, json = 0, summary = 0, gmf_act = 0, loss = 0, quiet = 0, no_eval = 0;
    double lr = 0.001, dropout = 0.0, reg = 0.0, init_std = 0.01;
    uint64_t seed = 1;
    data_opts d;
    opt_spec specs[DATA_OPT_COUNT + 30];
    data_opts_specs(&d, specs);
    opt_spec own[] = {
        {"data", 0, OPT_STRING, &data, 0, 0, NULL, 0},
        {"model", 0, OPT_CHOICE, &model, 0, 0, "gmf|mlp|neumf", 0},
        {"preset", 0, OPT_CHOICE, &preset, 0, 0, "paper|seed", 0},
        {"factors", 0, OPT_INT, &factors, 1, 4096, NULL, 0},
        {"layers", 0, OPT_STRING, &layers_s, 0, 0, NULL, 0},
        {"gmf-activation", 0, OPT_CHOICE, &gmf_act, 0, 0, "identity|sigmoid", 0},
        {"dropout", 0, OPT_DOUBLE, &dropout, 0, 0.99, NULL, 0},
        {"reg", 0, OPT_DOUBLE, &reg, 0, 100, NULL, 0},
        {"init-std", 0, OPT_DOUBLE, &init_std, 0, 5, NULL, 0},
        {"summary", 0, OPT_FLAG, &summary, 0, 0, NULL, 0},
        {"epochs", 0, OPT_INT, &epochs, 0, 100000, NULL, 0},
        {"batch", 0, OPT_INT, &batch, 1, 1 << 22, NULL, 0},
        {"lr", 0, OPT_DOUBLE, &lr, 1e-12, 10, NULL, 0},
        {"neg", 0, OPT_INT, &neg, 1, 1000, NULL, 0},
        {"loss", 0, OPT_CHOICE, &loss, 0, 0, "bce|pair-bce|bpr", 0},
        {"optimizer", 0, OPT_CHOICE, &optimizer, 0, 0, "adam|sgd", 0},
        {"adam", 0, OPT_CHOICE, &adam_mode, 0, 0, "dense|lazy", 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0},
        {"seed", 0, OPT_U64, &seed, 0, 0, NULL, 0},
        {"topk", 0, OPT_INT, &topk, 1, 100000, NULL, 0},
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"quiet", 0, OPT_FLAG, &quiet, 0, 0, NULL, 0},
        {"no-eval", 0, OPT_FLAG, &no_eval, 0, 0, NULL, 0},
        {"pretrain-gmf", 0, OPT_STRING, &pre_gmf, 0, 0, NULL, 0},
        {"pretrain-mlp", 0, OPT_STRING, &pre_mlp, 0, 0, NULL, 0},
        {"alpha", 0, OPT_DOUBLE, &alpha, 0, 1, NULL, 0},
    };
    int n_own = (int)(sizeof own / sizeof own[0]);
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
    int n_specs = DATA_OPT_COUNT + n_own;
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, n_specs, pos, 0, &n_pos, HELP, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    if (!data) {
        fprintf(stderr, "ncf train: --data is required (see ncf train --help)\n");
        return 2;
    }
    int32_t layers[NCF_MAX_HIDDEN + 1];
    int n_layers = args_parse_int_list(layers_s, layers, NCF_MAX_HIDDEN + 1);
    if (n_layers < 0) {
        fprintf(stderr, "ncf train: --layers needs 1 to %d comma-separated positive widths, got '%s'\n",
                NCF_MAX_HIDDEN + 1, layers_s);
        return 2;
    }
    ncf_load_options lo;
    if (data_opts_to_load(cmd, &d, specs, seed, &lo)) return 2;

    ncf_err err = {{0}};
    ncf_model_config mc;
    if (ncf_model_config_preset(preset ? NCF_PRESET_SEED : NCF_PRESET_PAPER, (ncf_model_type)model, factors, layers,
                                n_layers, &mc, &err) != NCF_OK) {
        fprintf(stderr, "ncf train: %s\n", err.msg);
        return 2;
    }
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    if (preset == 1) { /* the seed model's training */
        tc.loss = NCF_LOSS_PAIR_BCE;
        tc.neg = 1;
        tc.reg = 1e-6f;
    }
    opt_spec *S = specs;
#define GIVEN(name) (args_find(S, n_specs, name)->given)
    if (GIVEN("gmf-activation")) mc.gmf_activation = (ncf_activation)gmf_act;
    if (GIVEN("dropout")) mc.dropout = (float)dropout;
    if (GIVEN("init-std")) mc.init_std = (float)init_std;
    if (GIVEN("reg")) tc.reg = (float)reg;
    if (GIVEN("neg")) tc.neg = neg;
    if (GIVEN("loss")) tc.loss = (ncf_loss)loss;
    tc.epochs = epochs;
    tc.batch = batch;
    tc.lr = (float)lr;
    tc.optimizer = (ncf_optimizer)optimizer;
    tc.adam_mode = adam_mode == 1 ? NCF_ADAM_LAZY : NCF_ADAM_DENSE;
    tc.threads = threads;
    tc.seed = seed;
    tc.topk = topk;
    tc.eval_every_epoch = !no_eval;
    if ((pre_gmf || pre_mlp) && (!pre_gmf || !pre_mlp || model != NCF_MODEL_NEUMF)) {
        fprintf(stderr, "ncf train: pre-training needs --model neumf with both --pretrain-gmf and --pretrain-mlp\n");
        return 2;
    }
    if (GIVEN("alpha") && !pre_gmf) {
        fprintf(stderr, "ncf train: --alpha applies only with --pretrain-gmf and --pretrain-mlp\n");
        return 2;
    }
    if (GIVEN("adam") && optimizer != 0) {
        fprintf(stderr, "ncf train: --adam applies only to --optimizer adam\n");
        return 2;
    }
    if (ncf_train_config_check(&tc, &err) != NCF_OK) {
        fprintf(stderr, "ncf train: %s\n", err.msg);
        return 2;
    }
#undef GIVEN

    ncf_dataset *ds = NULL;
    ncf_model *m = NULL;
    int status = 0;
    if (ncf_dataset_load(data, &lo, &ds, &err) != NCF_OK) return cli_fail(cmd, &err);
    if (ds->n_test == 0) {
        fprintf(stderr, "ncf train: %s: no test cases (every user has a single interaction)\n", data);
        ncf_dataset_free(ds);
        return 1;
    }
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    if (ncf_model_create(&mc, seed, &m, &err) != NCF_OK || ncf_model_attach_data(m, ds, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (pre_gmf) {
        ncf_model *g = NULL, *p = NULL;
        ncf_status pst = ncf_model_load(pre_gmf, &g, &err);
        if (pst == NCF_OK) pst = ncf_model_load(pre_mlp, &p, &err);
        if (pst == NCF_OK) pst = ncf_model_init_pretrained(m, g, p, (float)alpha, &err);
        ncf_model_free(g);
        ncf_model_free(p);
        if (pst != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
    }
    run_state rs = {.json = json, .progress = !quiet && isatty(2), .topk = topk, .epochs = epochs};
    tc.on_epoch = on_epoch;
    tc.on_progress = on_progress;
    tc.user = &rs;
    FILE *info = json ? stderr : stdout;
    fprintf(info, "data: %s: %d users, %d items, %lld training interactions, %d test cases%s\n", data, ds->n_users,
            ds->n_items, (long long)ds->n_train, ds->n_test, ds->negatives_drawn ? " (negatives drawn)" : "");
    if (pre_gmf) fprintf(info, "pre-trained from %s and %s, alpha %g\n", pre_gmf, pre_mlp, alpha);
    fprintf(info, "model: %s (%s preset), %lld parameters; %s, lr %g, batch %d, %d negatives, %d threads, %s kernels\n",
            ncf_model_type_name(mc.type), preset ? "seed" : "paper", (long long)ncf_model_param_count(m),
            tc.optimizer == NCF_OPT_ADAM ? (tc.adam_mode == NCF_ADAM_LAZY ? "lazy Adam" : "Adam") : "SGD", (double)tc.lr, tc.batch, tc.neg,
            ncf_threads_resolve(tc.threads), ncf_kernels());
    if (summary) print_summary(info, m);
    if (!json)
        printf("%5s  %9s  %8s  %8s  %8s  %7s  %11s\n", "epoch", "loss", "HR@K", "NDCG@K", "train_s", "eval_s",
               "samples/s");
    ncf_train_result res;
    if (ncf_train(m, ds, &tc, &res, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (json) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"best_epoch\": %d, \"best_hr\": %.6f, \"best_ndcg\": %.6f, \"final_hr\": %.6f, \"final_ndcg\": %.6f, "
               "\"peak_rss_mb\": %.1f}\n",
               res.best_epoch, res.best_hr, res.best_ndcg, res.final_hr, res.final_ndcg, (double)ru.ru_maxrss / 1024.0);
    } else if (res.epochs_run > 0) {
        printf("best epoch %d: HR@%d %.4f  NDCG@%d %.4f;  final: HR@%d %.4f  NDCG@%d %.4f\n", res.best_epoch, topk,
               res.best_hr, topk, res.best_ndcg, topk, res.final_hr, topk, res.final_ndcg);
    }
    if (out) {
        char meta[2048];
        snprintf(meta, sizeof meta,
                 "model=%s\npreset=%s\nfactors=%d\nlayers=%s\nepochs=%d\nbatch=%d\nlr=%g\nneg=%d\nloss=%s\n"
                 "optimizer=%s\nadam=%s\nreg=%g\nseed=%llu\ntopk=%d\ndata=%s\nnegatives=%d\nbest_epoch=%d\n"
                 "best_hr=%.6f\nbest_ndcg=%.6f\nfinal_hr=%.6f\nfinal_ndcg=%.6f\n",
                 ncf_model_type_name(mc.type), preset ? "seed" : "paper", factors, layers_s, res.epochs_run, batch,
                 (double)tc.lr, tc.neg, ncf_loss_name(tc.loss),
                 tc.optimizer == NCF_OPT_ADAM ? "adam" : "sgd", tc.adam_mode == NCF_ADAM_LAZY ? "lazy" : "dense", (double)tc.reg,
                 (unsigned long long)seed, topk, data, lo.n_negatives, res.best_epoch, res.best_hr, res.best_ndcg,
                 res.final_hr, res.final_ndcg);
        if (ncf_model_set_meta(m, meta) != NCF_OK || ncf_model_save(m, out, &err) != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
        fprintf(info, "saved model to %s\n", out);
    }
done:
    ncf_model_free(m);
    ncf_dataset_free(ds);
    return status;
}
