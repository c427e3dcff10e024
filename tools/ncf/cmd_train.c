/* cmd_train.c — `ncf train`: load data, build the model from a preset and
 * options, train with per-epoch evaluation, report (table or JSON lines),
 * save the model. */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf train --data PREFIX_OR_FILE [options]\n"
    "\n"
    "Trains GMF, MLP, NeuMF or MF on implicit feedback and evaluates it after every\n"
    "epoch: HR@K and NDCG@K with the sampled leave-one-out protocol of the NCF paper\n"
    "(default), or HR, Recall, Precision, NDCG and MRR at each K over all items\n"
    "(--eval full).\n"
    "\n"
    "Model:\n"
    "  --model gmf|mlp|neumf|mf  model (default neumf); mf: b + b_u + b_i + <p_u, q_i>,\n"
    "                            the dot-product baseline (Rendle et al. 2020)\n"
    "  --preset paper|seed       paper: the NCF authors' code (default); seed: the TF2\n"
    "                            model (one embedding width, sigmoid GMF, dropout 0.2,\n"
    "                            L2 1e-6, N(0,0.05), one negative, pairwise BCE)\n"
    "  --factors N               GMF embedding width (default 8)\n"
    "  --layers A,B,...          MLP widths (default 64,32,16,8; paper: A is the input,\n"
    "                            A/2 per side; seed: all hidden, input 2 x factors)\n"
    "  --gmf-activation identity|sigmoid\n"
    "  --dropout X               dropout after the last hidden layer\n"
    "  --reg-emb X (or --reg X)  L2 on the embedding rows each sample looks up\n"
    "  --reg-layers X            L2 on the weight matrices of the MLP and output layer\n"
    "  --init-std X              embeddings ~ N(0, X)\n"
    "  --summary                 print layers, shapes and parameter counts\n"
    "  --pretrain-gmf G.model --pretrain-mlp M.model [--alpha 0.5]\n"
    "                            NeuMF starts from a trained GMF and MLP (paper 3.4.1):\n"
    "                            their embeddings and layers, output [a w_gmf; (1-a) w_mlp]\n"
    "                            (the paper then trained with --optimizer sgd). G may be an\n"
    "                            MF model of F factors: it becomes a GMF part of F+2 (its\n"
    "                            biases in two columns), so NeuMF needs --factors F+2\n"
    "Training:\n"
    "  --epochs N (20)  --batch N (256)  --lr X (0.001)  --neg N (4; seed: 1)\n"
    "  --loss bce|pair-bce|bpr   pointwise BCE (paper), the seed's pairwise BCE, or\n"
    "                            BPR -log s(pos - neg); pairwise losses draw --neg\n"
    "                            negatives per positive, one (pos, neg) pair each\n"
    "  --optimizer adam|sgd|adagrad|rmsprop   (default adam; PyTorch's formulas)\n"
    "  --momentum X              SGD momentum (default 0)\n"
    "  --rmsprop-alpha X         RMSprop smoothing constant (default 0.99)\n"
    "  --eps X                   Adam, Adagrad and RMSprop epsilon (default 1e-8)\n"
    "  --rows dense|lazy|auto    embedding rows a batch does not touch: dense moves them\n"
    "                            every step, as PyTorch and Keras (differs from lazy for\n"
    "                            Adam, momentum SGD and RMSprop); lazy: only the rows a\n"
    "                            batch touches (TF LazyAdam): faster, but less accurate\n"
    "                            on sparse data. Default dense; auto (kept from 0.1) is\n"
    "                            dense too.\n"
    "                            --adam is a synonym\n"
    "  --lr-schedule constant|step|linear     learning rate per epoch (default constant)\n"
    "  --lr-step N --lr-gamma X  step: lr * X every N epochs (defaults 10, 0.5)\n"
    "  --lr-end X                linear: from lr towards X over the epochs (default 0)\n"
    "  --threads N               (default: all cores); results do not depend on it\n"
    "  --seed N                  (default 1): same seed, same model bytes\n"
    "%s"
    "  --eval-every N            evaluate every N epochs (default 1) and after the last\n"
    "  --no-eval                 evaluate only after the last epoch\n"
    "  --early-stop N            with validation cases: stop after N evaluations without\n"
    "                            a better validation metric and keep that epoch's model\n"
    "Output:\n"
    "  --out MODEL  --json  --quiet (no progress bar)\n"
    "Checkpoints (docs/cli.md):\n"
    "  --checkpoint FILE         after every --checkpoint-every N epochs (default 1),\n"
    "                            and when SIGINT or SIGTERM stops training (after the\n"
    "                            current step), write everything needed to go on to FILE\n"
    "                            (atomically: the previous one stays until the new one\n"
    "                            is complete); a second signal exits at once\n"
    "  --init MODEL              warm start: users and items MODEL knows (by raw id)\n"
    "                            start from its rows, new ones as usual; its layers are\n"
    "                            carried; the model's ids are the union of MODEL's and\n"
    "                            the data's; model options default to MODEL's\n"
    "  --resume FILE             go on from FILE with the options it was started with\n"
    "                            (--data, --out, --threads, --epochs, --checkpoint, --json,\n"
    "                            --quiet may be given again; any option that would change\n"
    "                            the result is refused); the final model is the same bytes\n"
    "                            as an uninterrupted run's\n"
    "\n"
    "With --json, stdout has one JSON object per epoch (epoch, loss, hr, ndcg at the\n"
    "first K, every metric as name@K -- hr@10, recall@20, ndcg@20, precision@K,\n"
    "mrr@K -- and valid_name@K with validation cases, train_seconds, eval_seconds,\n"
    "samples_per_second) and a final one: best_epoch (best test metric, as the paper\n"
    "reported), best_hr, best_ndcg, best_name@K, final_hr, final_ndcg, final_name@K,\n"
    "and with validation selected_epoch (chosen on validation), selected_name@K (its\n"
    "test metrics), stopped_early.\n"
    "\n";

typedef struct run_state {
    int json, progress, epochs;
    ncf_eval_config ec;
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
    const ncf_metric primary = ncf_primary_metric(rs->ec.mode);
    if (rs->progress) fprintf(stderr, "\r%60s\r", "");
    if (rs->json) {
        /* hr and ndcg at the first cutoff, -1 when the epoch was not evaluated */
        const double hr = r->test.n_cases ? r->test.hr : -1.0, ndcg = r->test.n_cases ? r->test.ndcg : -1.0;
        printf("{\"epoch\": %d, \"loss\": %.6f, \"hr\": %.6f, \"ndcg\": %.6f", r->epoch, r->loss, hr, ndcg);
        if (r->test.n_cases) cli_print_metrics_json(stdout, "", &r->test);
        if (r->valid.n_cases) cli_print_metrics_json(stdout, "valid_", &r->valid);
        printf(", \"train_seconds\": %.4f, \"eval_seconds\": %.4f, \"samples_per_second\": %.0f}\n", r->train_seconds,
               r->eval_seconds, sps);
    } else {
        char a[16] = "-", b[16] = "-", v[16] = "";
        if (r->test.n_cases) {
            snprintf(a, sizeof a, "%.4f", r->test.at[0][primary]);
            snprintf(b, sizeof b, "%.4f", r->test.at[0][NCF_METRIC_NDCG]);
        }
        if (r->valid.n_cases) snprintf(v, sizeof v, "%.4f", r->valid.at[0][primary]);
        printf("%5d  %9.5f  %9s  %9s  %9s  %8.2f  %7.3f  %11.0f\n", r->epoch, r->loss, a, b, v, r->train_seconds,
               r->eval_seconds, sps);
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

/* --rows dense|lazy|auto, in that order. */
enum { ROWS_DENSE, ROWS_LAZY, ROWS_AUTO };
static const ncf_adam_mode ROWS_MODE[] = {NCF_ADAM_DENSE, NCF_ADAM_LAZY, NCF_ADAM_AUTO};
_Static_assert(NCF_MODEL_GMF == 0 && NCF_MODEL_MLP == 1 && NCF_MODEL_NEUMF == 2 && NCF_MODEL_MF == 3,
               "--model gmf|mlp|neumf|mf follows ncf_model_type");
_Static_assert(NCF_OPT_ADAM == 0 && NCF_OPT_SGD == 1 && NCF_OPT_ADAGRAD == 2 && NCF_OPT_RMSPROP == 3,
               "--optimizer adam|sgd|adagrad|rmsprop follows ncf_optimizer");
_Static_assert(NCF_LOSS_BCE == 0 && NCF_LOSS_PAIR_BCE == 1 && NCF_LOSS_BPR == 2, "--loss follows ncf_loss");
_Static_assert(NCF_LR_CONSTANT == 0 && NCF_LR_STEP == 1 && NCF_LR_LINEAR == 2, "--lr-schedule follows ncf_lr_schedule");

/* SIGINT / SIGTERM: the first asks the trainer to stop after its current
 * step (the loop then writes the checkpoint and exits 128 + signal); a
 * second exits at once. */
static volatile sig_atomic_t g_signal;
static ncf_trainer *volatile g_trainer;

static void on_signal(int sig)
{
    if (g_signal) _exit(128 + sig);
    g_signal = sig;
    ncf_trainer *t = g_trainer;
    if (t) ncf_trainer_interrupt(t);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The command line kept in a checkpoint: one argument a line, with '\\'
 * and newlines escaped. */
static char *args_encode(int argc, char **argv)
{
    size_t n = 1;
    for (int k = 0; k < argc; k++) n += 2 * strlen(argv[k]) + 1;
    char *s = malloc(n), *p = s;
    if (!s) return NULL;
    for (int k = 0; k < argc; k++) {
        for (const char *a = argv[k]; *a; a++) {
            if (*a == '\\' || *a == '\n') *p++ = '\\';
            *p++ = *a == '\n' ? 'n' : *a;
        }
        *p++ = '\n';
    }
    *p = '\0';
    return s;
}

/* Splits an args_encode text in place into argv (at most cap); returns the count. */
static int args_decode(char *s, char **argv, int cap)
{
    int n = 0;
    while (*s && n < cap) {
        argv[n++] = s;
        char *w = s;
        for (; *s && *s != '\n'; s++) {
            if (*s == '\\' && s[1]) s++, *w++ = *s == 'n' ? '\n' : *s;
            else *w++ = *s;
        }
        if (*s) s++;
        *w = '\0';
    }
    return n;
}

/* A formatted string of any length (malloc'd), or NULL out of memory. */
__attribute__((format(printf, 1, 2))) static char *format_alloc(const char *fmt, ...)
{
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s) vsnprintf(s, (size_t)n + 1, fmt, again);
    va_end(again);
    return s;
}

/* Whether the option `name` (which must be in specs) was given. */
static int option_given(opt_spec *specs, int n_specs, const char *name)
{
    const opt_spec *s = args_find(specs, n_specs, name);
    if (!s) { /* a misspelt name in this file: a bug, caught by any run of the command */
        fprintf(stderr, "ncf train: internal error: no option --%s\n", name);
        abort();
    }
    return s->given;
}

/* Writes the checkpoint; returns 0 or prints why not and returns 1. */
static int save_checkpoint(const ncf_trainer *t, const char *path, const char *note, FILE *info)
{
    ncf_err err = {{0}};
    if (ncf_trainer_save_checkpoint(t, path, note, &err) != NCF_OK) return cli_fail("train", &err);
    fprintf(info, "checkpoint: %s (epoch %d done%s)\n", path, ncf_trainer_epochs_done(t),
            ncf_trainer_steps_done(t) ? ", and part of the next" : "");
    return 0;
}

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train";
    const char *checkpoint = NULL, *resume = NULL, *init = NULL;
    int checkpoint_every = 1;
    const char *data = NULL, *out = NULL, *layers_s = "64,32,16,8", *pre_gmf = NULL, *pre_mlp = NULL;
    double alpha = 0.5;
    /* choices are indices into the options' "a|b|c" lists, which follow the library's enums */
    int model = NCF_MODEL_NEUMF, preset = 0, factors = 8, epochs = 20, batch = 256, neg = 4;
    int optimizer = NCF_OPT_ADAM, adam_mode = ROWS_DENSE;
    int threads = 0, json = 0, summary = 0, gmf_act = 0, loss = 0, quiet = 0, no_eval = 0;
    int eval_mode = 0, eval_every = 1, early_stop = 0;
    const char *topk_s = "10";
    double lr = 0.001, dropout = 0.0, reg = 0.0, init_std = 0.01, reg_layers = 0.0, momentum = 0.0;
    double rms_alpha = 0.99, eps = 1e-8, lr_gamma = 0.5, lr_end = 0.0;
    int schedule = NCF_LR_CONSTANT, lr_step = 10, rows_mode = ROWS_DENSE;
    uint64_t seed = 1;
    data_opts d;
    opt_spec own[] = {
        {"data", 0, OPT_STRING, &data, 0, 0, NULL, 0},
        {"model", 0, OPT_CHOICE, &model, 0, 0, "gmf|mlp|neumf|mf", 0},
        {"preset", 0, OPT_CHOICE, &preset, 0, 0, "paper|seed", 0},
        {"factors", 0, OPT_INT, &factors, 1, 4096, NULL, 0},
        {"layers", 0, OPT_STRING, &layers_s, 0, 0, NULL, 0},
        {"gmf-activation", 0, OPT_CHOICE, &gmf_act, 0, 0, "identity|sigmoid", 0},
        {"dropout", 0, OPT_DOUBLE, &dropout, 0, 0.99, NULL, 0},
        {"reg", 0, OPT_DOUBLE, &reg, 0, 100, NULL, 0},
        {"reg-emb", 0, OPT_DOUBLE, &reg, 0, 100, NULL, 0},
        {"reg-layers", 0, OPT_DOUBLE, &reg_layers, 0, 100, NULL, 0},
        {"momentum", 0, OPT_DOUBLE, &momentum, 0, 0.999999, NULL, 0},
        {"rmsprop-alpha", 0, OPT_DOUBLE, &rms_alpha, 1e-6, 0.999999, NULL, 0},
        {"eps", 0, OPT_DOUBLE, &eps, 1e-30, 1, NULL, 0},
        {"rows", 0, OPT_CHOICE, &rows_mode, 0, 0, "dense|lazy|auto", 0},
        {"lr-schedule", 0, OPT_CHOICE, &schedule, 0, 0, "constant|step|linear", 0},
        {"lr-step", 0, OPT_INT, &lr_step, 1, 1000000, NULL, 0},
        {"lr-gamma", 0, OPT_DOUBLE, &lr_gamma, 1e-9, 1, NULL, 0},
        {"lr-end", 0, OPT_DOUBLE, &lr_end, 0, 10, NULL, 0},
        {"init-std", 0, OPT_DOUBLE, &init_std, 0, 5, NULL, 0},
        {"summary", 0, OPT_FLAG, &summary, 0, 0, NULL, 0},
        {"epochs", 0, OPT_INT, &epochs, 0, 100000, NULL, 0},
        {"batch", 0, OPT_INT, &batch, 1, 1 << 22, NULL, 0},
        {"lr", 0, OPT_DOUBLE, &lr, 1e-12, 10, NULL, 0},
        {"neg", 0, OPT_INT, &neg, 1, 1000, NULL, 0},
        {"loss", 0, OPT_CHOICE, &loss, 0, 0, "bce|pair-bce|bpr", 0},
        {"optimizer", 0, OPT_CHOICE, &optimizer, 0, 0, "adam|sgd|adagrad|rmsprop", 0},
        {"adam", 0, OPT_CHOICE, &adam_mode, 0, 0, "dense|lazy|auto", 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0},
        {"seed", 0, OPT_U64, &seed, 0, 0, NULL, 0},
        {"topk", 0, OPT_STRING, &topk_s, 0, 0, NULL, 0},
        {"eval", 0, OPT_CHOICE, &eval_mode, 0, 0, "sampled|full", 0},
        {"eval-every", 0, OPT_INT, &eval_every, 1, 1000000, NULL, 0},
        {"early-stop", 0, OPT_INT, &early_stop, 1, 1000000, NULL, 0},
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"quiet", 0, OPT_FLAG, &quiet, 0, 0, NULL, 0},
        {"no-eval", 0, OPT_FLAG, &no_eval, 0, 0, NULL, 0},
        {"pretrain-gmf", 0, OPT_STRING, &pre_gmf, 0, 0, NULL, 0},
        {"pretrain-mlp", 0, OPT_STRING, &pre_mlp, 0, 0, NULL, 0},
        {"alpha", 0, OPT_DOUBLE, &alpha, 0, 1, NULL, 0},
        {"checkpoint", 0, OPT_STRING, &checkpoint, 0, 0, NULL, 0},
        {"checkpoint-every", 0, OPT_INT, &checkpoint_every, 1, 1000000, NULL, 0},
        {"resume", 0, OPT_STRING, &resume, 0, 0, NULL, 0},
        {"init", 0, OPT_STRING, &init, 0, 0, NULL, 0},
    };
    int n_own = (int)(sizeof own / sizeof own[0]);
    opt_spec specs[DATA_OPT_COUNT + sizeof own / sizeof own[0]]; /* sized from the tables */
    data_opts_specs(&d, specs);
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
    int n_specs = DATA_OPT_COUNT + n_own;
    const char *pos[1];
    int n_pos;
    char help[8192];
    snprintf(help, sizeof help, HELP, EVAL_OPTS_HELP);
    int rc = args_parse_or_help(cmd, argc, argv, specs, n_specs, pos, 0, &n_pos, help, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    /* --resume: the checkpoint's command line, with this one's options over it */
    ncf_checkpoint *ck = NULL;
    char *saved = NULL, **merged = NULL;
    if (resume) {
        ncf_err cerr = {{0}};
        if (ncf_checkpoint_load(resume, &ck, &cerr) != NCF_OK) return cli_fail(cmd, &cerr);
        saved = strdup(ncf_checkpoint_note(ck));
        char **base = saved ? malloc((strlen(saved) + 1) * sizeof *base) : NULL;
        merged = base ? malloc((strlen(saved) + 1 + (size_t)argc) * sizeof *merged) : NULL;
        if (!merged) {
            free(base);
            free(saved);
            ncf_checkpoint_free(ck);
            fprintf(stderr, "ncf train: out of memory\n");
            return 1;
        }
        int base_n = args_decode(saved, base, (int)strlen(saved) + 1);
        opt_spec *own_resume = args_find(specs, n_specs, "resume");
        int n = 0;
        for (int k = 0; k < argc; k++) /* this command line without --resume FILE */
            if (strcmp(argv[k], "--resume") == 0) k++;
            else if (strncmp(argv[k], "--resume=", 9) != 0) argv[n++] = argv[k];
        n = args_merge(specs, n_specs, base_n, base, n, argv, merged);
        free(base);
        for (int k = 0; k < n_specs; k++) specs[k].given = 0;
        data_opts_specs(&d, specs); /* defaults again, then the merged line */
        (void)own_resume;
        rc = args_parse_or_help(cmd, n, merged, specs, n_specs, pos, 0, &n_pos, help, DATA_OPTS_HELP);
        if (rc >= 0 || resume == NULL) {
            ncf_checkpoint_free(ck);
            free(saved);
            free(merged);
            return rc >= 0 ? rc : 2;
        }
        argc = n;
        argv = merged;
    }
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
    ncf_eval_config ec;
    if (cli_eval_config(cmd, eval_mode, topk_s, &ec)) return 2;
    const int topk = ec.k[0];
    if (ec.mode == NCF_EVAL_FULL && !args_find(specs, n_specs, "negatives")->given)
        lo.n_negatives = 0; /* full ranking needs no sampled negatives */

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
#define GIVEN(name) option_given(S, n_specs, name)
    if (GIVEN("gmf-activation")) mc.gmf_activation = (ncf_activation)gmf_act;
    if (GIVEN("dropout")) mc.dropout = (float)dropout;
    if (GIVEN("init-std")) mc.init_std = (float)init_std;
    if (GIVEN("reg") && GIVEN("reg-emb")) {
        fprintf(stderr, "ncf train: --reg and --reg-emb are the same option; give one\n");
        return 2;
    }
    if (GIVEN("reg") || GIVEN("reg-emb")) tc.reg = (float)reg;
    if (GIVEN("adam") && GIVEN("rows")) {
        fprintf(stderr, "ncf train: --adam and --rows are the same option; give one\n");
        return 2;
    }
    if (GIVEN("rows")) adam_mode = rows_mode;
    if (GIVEN("momentum") && optimizer != NCF_OPT_SGD) {
        fprintf(stderr, "ncf train: --momentum applies only to --optimizer sgd\n");
        return 2;
    }
    if (GIVEN("rmsprop-alpha") && optimizer != NCF_OPT_RMSPROP) {
        fprintf(stderr, "ncf train: --rmsprop-alpha applies only to --optimizer rmsprop\n");
        return 2;
    }
    if ((GIVEN("lr-step") || GIVEN("lr-gamma")) && schedule != NCF_LR_STEP) {
        fprintf(stderr, "ncf train: --lr-step and --lr-gamma apply only to --lr-schedule step\n");
        return 2;
    }
    if (GIVEN("lr-end") && schedule != NCF_LR_LINEAR) {
        fprintf(stderr, "ncf train: --lr-end applies only to --lr-schedule linear\n");
        return 2;
    }
    tc.reg_layers = (float)reg_layers;
    tc.momentum = (float)momentum;
    tc.alpha = (float)rms_alpha;
    tc.eps = (float)eps;
    tc.schedule = (ncf_lr_schedule)schedule;
    tc.lr_step = lr_step;
    tc.lr_gamma = (float)lr_gamma;
    tc.lr_end = (float)lr_end;
    if (GIVEN("neg")) tc.neg = neg;
    if (GIVEN("loss")) tc.loss = (ncf_loss)loss;
    tc.epochs = epochs;
    tc.batch = batch;
    tc.lr = (float)lr;
    tc.optimizer = (ncf_optimizer)optimizer;
    tc.adam_mode = ROWS_MODE[adam_mode];
    const int lazy_rows = ncf_train_rows_mode(&tc, mc.type) == NCF_ADAM_LAZY;
    tc.threads = threads;
    tc.seed = seed;
    tc.eval = ec;
    tc.eval_every_epoch = no_eval ? 0 : eval_every;
    tc.early_stop = early_stop;
    if (GIVEN("no-eval") && GIVEN("eval-every")) {
        fprintf(stderr, "ncf train: --no-eval and --eval-every exclude each other\n");
        return 2;
    }
    if ((pre_gmf || pre_mlp) && (!pre_gmf || !pre_mlp || model != NCF_MODEL_NEUMF)) {
        fprintf(stderr, "ncf train: pre-training needs --model neumf with both --pretrain-gmf and --pretrain-mlp\n");
        return 2;
    }
    if (init && pre_gmf) {
        fprintf(stderr, "ncf train: --init and pre-training exclude each other\n");
        return 2;
    }
    const int model_given = GIVEN("model") || GIVEN("preset") || GIVEN("factors") || GIVEN("layers") ||
                            GIVEN("gmf-activation") || GIVEN("dropout") || GIVEN("init-std");
    if (GIVEN("alpha") && !pre_gmf) {
        fprintf(stderr, "ncf train: --alpha applies only with --pretrain-gmf and --pretrain-mlp\n");
        return 2;
    }
    if (GIVEN("adam") && optimizer != NCF_OPT_ADAM) {
        fprintf(stderr, "ncf train: --adam applies only to --optimizer adam (--rows for the others)\n");
        return 2;
    }
    if (ncf_train_config_check(&tc, &err) != NCF_OK) {
        fprintf(stderr, "ncf train: %s\n", err.msg);
        return 2;
    }
#undef GIVEN

    ncf_dataset *ds = NULL;
    ncf_model *m = NULL, *init_model = NULL;
    ncf_trainer *trainer = NULL;
    char *note = NULL;
    int status = 0;
    run_state rs = {.json = json, .progress = !quiet && isatty(2), .ec = ec, .epochs = epochs};
    tc.on_epoch = on_epoch;
    tc.on_progress = on_progress;
    tc.user = &rs;
    FILE *info = json ? stderr : stdout;
    int32_t added_users = 0, added_items = 0, carried_users = 0, carried_items = 0;
    catch_signals();
    if (init && !ck) { /* warm start: the model's options default to the initial model's */
        if (ncf_model_load(init, &init_model, &err) != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
        if (!model_given) mc = *ncf_model_get_config(init_model);
    }
    if (ncf_dataset_load(data, &lo, &ds, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (ds->test.n == 0) {
        fprintf(stderr, "ncf train: %s: no test cases (every user has a single interaction)\n", data);
        status = 1;
        goto done;
    }
    if (early_stop && ds->valid.n == 0) {
        fprintf(stderr, "ncf train: --early-stop needs validation cases: add --validation, or split with "
                        "ncf split --validation\n");
        status = 2;
        goto done;
    }
    if (init_model && ncf_dataset_add_ids(ds, ncf_model_users(init_model), ncf_model_items(init_model), &added_users,
                                          &added_items, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    if (ck) { /* the model's shape is the checkpoint's */
        const ncf_model_config *was = ncf_model_get_config(ncf_checkpoint_model(ck));
        if (was->type != mc.type || was->factors != mc.factors || was->mlp_embed != mc.mlp_embed ||
            was->n_hidden != mc.n_hidden || memcmp(was->hidden, mc.hidden, sizeof mc.hidden) != 0 ||
            was->gmf_activation != mc.gmf_activation || was->dropout != mc.dropout) {
            fprintf(stderr, "ncf train: %s: the model options (--model, --factors, --layers, --gmf-activation, "
                            "--dropout, --preset) differ from the checkpoint's %s model: resuming would not "
                            "continue the same run\n",
                    resume, ncf_model_type_name(was->type));
            status = 2;
            goto done;
        }
        if (ncf_trainer_resume(ck, ds, &tc, &m, &trainer, &err) != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
    } else if (ncf_model_create(&mc, seed, &m, &err) != NCF_OK || ncf_model_attach_data(m, ds, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (init_model && !ck &&
        ncf_model_init_warm(m, init_model, &carried_users, &carried_items, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (pre_gmf && !ck) {
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
    fprintf(info, "data: %s: %d users, %d items, %lld training interactions, %d test cases, %d validation cases%s\n",
            data, ds->n_users, ds->n_items, (long long)ds->n_train, ds->test.n, ds->valid.n,
            ec.mode == NCF_EVAL_FULL ? " (full ranking)" : ds->negatives_drawn ? " (negatives drawn)" : "");
    if (pre_gmf) fprintf(info, "pre-trained from %s and %s, alpha %g\n", pre_gmf, pre_mlp, alpha);
    if (init_model && !ck)
        fprintf(info, "warm start from %s: %d users and %d items carried over, %d users and %d items new; %d users "
                      "and %d items only the initial model knows kept\n",
                init, carried_users, carried_items, ds->n_users - carried_users, ds->n_items - carried_items,
                added_users, added_items);
    fprintf(info, "model: %s (%s preset), %lld parameters; %s%s%s, lr %g%s, batch %d, %d negatives, %s loss, %d threads, %s kernels\n",
            ncf_model_type_name(mc.type), preset ? "seed" : "paper", (long long)ncf_model_param_count(m),
            ncf_optimizer_name(tc.optimizer), tc.momentum > 0 ? " with momentum" : "",
            lazy_rows ? " (lazy rows)" : "", (double)tc.lr,
            tc.schedule == NCF_LR_STEP ? " (step schedule)" : tc.schedule == NCF_LR_LINEAR ? " (linear decay)" : "",
            tc.batch, tc.neg, ncf_loss_name(tc.loss), ncf_threads_resolve(tc.threads), ncf_kernels());
    if (summary) print_summary(info, m);
    const char *pname = ec.mode == NCF_EVAL_FULL ? "Recall" : "HR";
    if (!json) {
        char a[32], b[32], v[32] = "";
        snprintf(a, sizeof a, "%s@%d", pname, topk);
        snprintf(b, sizeof b, "NDCG@%d", topk);
        if (ds->valid.n) snprintf(v, sizeof v, "val_%s", pname);
        printf("%5s  %9s  %9s  %9s  %9s  %8s  %7s  %11s\n", "epoch", "loss", a, b, v, "train_s", "eval_s", "samples/s");
    }
    if (!trainer && ncf_trainer_create(m, ds, &tc, &trainer, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (ck)
        fprintf(info, "resumed from %s: %d epochs done%s\n", resume, ncf_trainer_epochs_done(trainer),
                ncf_trainer_steps_done(trainer) ? ", and part of the next" : "");
    note = args_encode(argc, argv);
    if (!note) {
        fprintf(stderr, "ncf train: out of memory\n");
        status = 1;
        goto done;
    }
    g_trainer = trainer;
    if (g_signal) ncf_trainer_interrupt(trainer); /* a signal while loading */
    while (!ncf_trainer_done(trainer)) {
        ncf_status st = ncf_trainer_epoch(trainer, NULL, &err);
        if (st == NCF_ERR_INTERRUPTED || (st == NCF_OK && g_signal)) {
            if (rs.progress) fprintf(stderr, "\r%60s\r", "");
            if (checkpoint && save_checkpoint(trainer, checkpoint, note, info)) {
                status = 1;
                goto done;
            }
            const int sig = g_signal ? g_signal : SIGINT;
            fprintf(stderr, "ncf train: stopped by %s in epoch %d%s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                    ncf_trainer_epochs_done(trainer) + (ncf_trainer_steps_done(trainer) > 0),
                    checkpoint ? "" : " (no --checkpoint: nothing saved)");
            if (checkpoint) fprintf(stderr, "ncf train: resume with: ncf train --resume %s\n", checkpoint);
            status = 128 + sig;
            goto done;
        }
        if (st != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
        if (checkpoint && (ncf_trainer_epochs_done(trainer) % checkpoint_every == 0 || ncf_trainer_done(trainer)) &&
            save_checkpoint(trainer, checkpoint, note, info)) {
            status = 1;
            goto done;
        }
    }
    g_trainer = NULL;
    ncf_train_result res;
    ncf_trainer_finish(trainer, &res, &err);
    if (json) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"best_epoch\": %d, \"best_hr\": %.6f, \"best_ndcg\": %.6f, \"final_hr\": %.6f, \"final_ndcg\": %.6f",
               res.best_epoch, res.best.hr, res.best.ndcg, res.final.hr, res.final.ndcg);
        if (res.best_epoch) {
            cli_print_metrics_json(stdout, "best_", &res.best);
            cli_print_metrics_json(stdout, "final_", &res.final);
        }
        if (res.selected_epoch) {
            printf(", \"selected_epoch\": %d", res.selected_epoch);
            cli_print_metrics_json(stdout, "selected_", &res.selected);
            cli_print_metrics_json(stdout, "selected_valid_", &res.selected_valid);
        }
        if (ds->valid.n) printf(", \"stopped_early\": %s", res.stopped_early ? "true" : "false");
        printf(", \"peak_rss_mb\": %.1f}\n", (double)ru.ru_maxrss / 1024.0);
    } else if (res.best_epoch > 0) {
        const ncf_metric pm = ncf_primary_metric(ec.mode);
        printf("best epoch %d (on test, as the paper): %s@%d %.4f  NDCG@%d %.4f;  final: %s@%d %.4f  NDCG@%d %.4f\n",
               res.best_epoch, pname, topk, res.best.at[0][pm], topk, res.best.ndcg, pname, topk, res.final.at[0][pm],
               topk, res.final.ndcg);
        if (res.selected_epoch)
            printf("selected on validation: epoch %d: test %s@%d %.4f  NDCG@%d %.4f%s\n", res.selected_epoch, pname,
                   topk, res.selected.at[0][pm], topk, res.selected.ndcg,
                   res.stopped_early ? " (stopped early; the model is this epoch's)" :
                   early_stop ? " (the model is this epoch's)" : "");
    }
    if (out) {
        char *meta = format_alloc(
                 "model=%s\npreset=%s\nfactors=%d\nlayers=%s\nepochs=%d\nbatch=%d\nlr=%g\nneg=%d\nloss=%s\n"
                 "optimizer=%s\nmomentum=%g\nrows=%s\nreg=%g\nreg_layers=%g\nlr_schedule=%s\nseed=%llu\ntopk=%d\n"
                 "data=%s\nnegatives=%d\nbest_epoch=%d\n"
                 "best_hr=%.6f\nbest_ndcg=%.6f\nfinal_hr=%.6f\nfinal_ndcg=%.6f\neval=%s\nselected_epoch=%d\n",
                 ncf_model_type_name(mc.type), preset ? "seed" : "paper", init_model && !model_given ? mc.factors : factors,
                 init_model && !model_given ? "(as the initial model's)" : layers_s, res.epochs_run, batch,
                 (double)tc.lr, tc.neg, ncf_loss_name(tc.loss),
                 ncf_optimizer_name(tc.optimizer), (double)tc.momentum, lazy_rows ? "lazy" : "dense",
                 (double)tc.reg, (double)tc.reg_layers,
                 tc.schedule == NCF_LR_STEP ? "step" : tc.schedule == NCF_LR_LINEAR ? "linear" : "constant",
                 (unsigned long long)seed, topk, data, lo.n_negatives, res.best_epoch, res.best.hr, res.best.ndcg,
                 res.final.hr, res.final.ndcg, ec.mode == NCF_EVAL_FULL ? "full" : "sampled", res.selected_epoch);
        const ncf_status ms = meta ? ncf_model_set_meta(m, meta) : NCF_ERR_NOMEM;
        free(meta);
        if (ms != NCF_OK || ncf_model_save(m, out, &err) != NCF_OK) {
            if (ms != NCF_OK) snprintf(err.msg, sizeof err.msg, "out of memory");
            status = cli_fail(cmd, &err);
            goto done;
        }
        fprintf(info, "saved model to %s\n", out);
    }
done:
    g_trainer = NULL;
    ncf_trainer_free(trainer);
    ncf_checkpoint_free(ck);
    ncf_model_free(init_model);
    free(note);
    free(saved);
    free(merged);
    ncf_model_free(m);
    ncf_dataset_free(ds);
    return status;
}
