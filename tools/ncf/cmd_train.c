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
#include <time.h>
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
    "  --shards S                sharded training (docs/distributed.md): the users in S\n"
    "                            shards, gradients reduced in fixed point; the same\n"
    "                            model bytes for a given S on any number of processes\n"
    "                            (mpirun -np N, N <= S, in a build with MPI=1) and\n"
    "                            threads, other bytes than without --shards; needed\n"
    "                            with more than one process; its checkpoints resume\n"
    "                            on any number of processes\n"
    "%s"
    "  --eval-every N            evaluate every N epochs (default 1) and after the last\n"
    "  --no-eval                 evaluate only after the last epoch\n"
    "  --early-stop N            with validation cases: stop after N evaluations without\n"
    "                            a better validation metric and keep that epoch's model\n"
    "Output:\n"
    "  --out MODEL  --json  --quiet\n"
    "                            on a terminal, a line on stderr shows each epoch's\n"
    "                            progress (samples done, samples/s, time left); not with\n"
    "                            --quiet or --json, nor when stderr is not a terminal\n"
    "Checkpoints (docs/cli.md):\n"
    "  --checkpoint FILE         after every --checkpoint-every N epochs (default 1),\n"
    "                            and when SIGINT or SIGTERM stops training (after the\n"
    "                            current step), write everything needed to go on to FILE\n"
    "                            (atomically: the previous one stays until the new one\n"
    "                            is complete); a second signal exits at once. Under\n"
    "                            mpirun, Ctrl-C or a signal to mpirun does the same\n"
    "                            for every process (docs/distributed.md)\n"
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
    double train_seconds; /* the epochs' training time, summed */
    /* the progress line (stderr on a terminal, not under --quiet or --json) */
    const ncf_trainer *trainer;
    int line_epoch;          /* the epoch the line is about (0: none yet) */
    double t_first, f_first; /* the clock and fraction at its first report */
    double t_shown;          /* when the line was last written */
    int shown_len;           /* its length, for clearing it */
} run_state;

#define PROGRESS_EVERY 0.25 /* seconds between updates of the progress line */

static double monotonic_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A count of samples the way a person reads it: 812, 81.2k, 8.12M. */
static void human_count(char *b, size_t n, double v)
{
    if (v >= 1e9) snprintf(b, n, "%.2fG", v / 1e9);
    else if (v >= 1e6) snprintf(b, n, "%.2fM", v / 1e6);
    else if (v >= 1e3) snprintf(b, n, "%.1fk", v / 1e3);
    else snprintf(b, n, "%.0f", v);
}

/* Erases the progress line (the cursor back at its start). */
static void progress_clear(run_state *rs)
{
    if (!rs->shown_len) return;
    fprintf(stderr, "\r%*s\r", rs->shown_len, "");
    fflush(stderr);
    rs->shown_len = 0;
}

/* The progress line, rewritten in place a few times a second: the epoch,
 * samples done of the epoch's, samples per second since this process saw
 * the epoch start (or resume), and the time left at that rate. */
static void on_progress(int epoch, double fraction, void *user)
{
    run_state *rs = user;
    if (!rs->progress || !rs->trainer) return;
    const double now = monotonic_seconds();
    if (epoch != rs->line_epoch) { /* the first line after PROGRESS_EVERY, with a rate: none for short epochs */
        rs->line_epoch = epoch;
        rs->t_first = now;
        rs->f_first = fraction;
        rs->t_shown = now;
        return;
    }
    if (now - rs->t_shown < PROGRESS_EVERY || fraction >= 1.0) {
        return; /* the line is cleared when the epoch's result is printed */
    }
    const double total = (double)ncf_trainer_epoch_samples(rs->trainer), done = fraction * total;
    const double dt = now - rs->t_first, rate = dt > 0 ? (fraction - rs->f_first) * total / dt : 0.0;
    char d[16], t[16], r[16], eta[32] = "";
    human_count(d, sizeof d, done);
    human_count(t, sizeof t, total);
    human_count(r, sizeof r, rate);
    if (rate > 0) {
        const double left = (total - done) / rate;
        if (left >= 3600) snprintf(eta, sizeof eta, "  ETA %dh%02dm", (int)(left / 3600), (int)(left / 60) % 60);
        else if (left >= 60) snprintf(eta, sizeof eta, "  ETA %dm%02ds", (int)(left / 60), (int)left % 60);
        else snprintf(eta, sizeof eta, "  ETA %.0fs", left);
    }
    char line[160];
    int n = snprintf(line, sizeof line, "  epoch %d/%d  %s / %s samples (%3.0f%%)  %s samples/s%s", epoch, rs->epochs,
                     d, t, 100.0 * fraction, rate > 0 ? r : "-", eta);
    if (n >= (int)sizeof line) n = (int)sizeof line - 1;
    fprintf(stderr, "\r%s%*s", line, rs->shown_len > n ? rs->shown_len - n : 0, "");
    fflush(stderr);
    if (n > rs->shown_len) rs->shown_len = n;
    rs->t_shown = now;
}

static int on_epoch(const ncf_epoch_report *r, void *user)
{
    run_state *rs = user;
    rs->samples_total += (double)r->samples;
    rs->train_seconds += r->train_seconds;
    if (ncf_dist_rank() != 0) return 0; /* every process has the same report: rank 0 prints it */
    double sps = r->train_seconds > 0 ? (double)r->samples / r->train_seconds : 0.0;
    const ncf_metric primary = ncf_primary_metric(rs->ec.mode);
    progress_clear(rs);
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
 * second exits at once.
 *
 * Under mpirun (docs/distributed.md): when mpirun is told to end the job
 * (Ctrl-C, SIGINT or SIGTERM to it), Open MPI 4.1 sends each process
 * SIGCONT, then SIGTERM odls_base_sigkill_timeout seconds later (default
 * 1), then SIGKILL as long again after that. Waiting for the SIGTERM
 * would leave one timeout for the checkpoint; so a SIGCONT sent by the
 * process that started this one (mpirun, or its daemon on another host:
 * si_pid is the parent, and OMPI_COMM_WORLD_SIZE says mpirun started us)
 * asks the trainer to stop as SIGTERM would, and the SIGTERM that follows
 * it (sent by the same process) never counts as a second signal. Any other SIGCONT (a shell's `fg`,
 * a batch system resuming a suspended job) keeps its default meaning. */
static volatile sig_atomic_t g_signal;   /* SIGINT or SIGTERM received */
static volatile sig_atomic_t g_launcher; /* mpirun's SIGCONT received: it is ending the job */
static pid_t g_launcher_pid;             /* the parent when mpirun started this process, else 0 */
static ncf_trainer *volatile g_trainer;

static void on_signal(int sig, siginfo_t *info, void *context)
{
    (void)context;
    /* mpirun's own SIGTERM, after its SIGCONT, is never the second signal
     * (the first may have come from elsewhere, e.g. a batch system that
     * signalled the processes and mpirun at once) */
    const int from_launcher = g_launcher_pid && info && info->si_code == SI_USER && info->si_pid == g_launcher_pid;
    if (g_signal && !from_launcher) _exit(128 + sig);
    if (g_signal) return;
    g_signal = sig;
    ncf_trainer *t = g_trainer;
    if (t) ncf_trainer_interrupt(t);
}

static void on_continue(int sig, siginfo_t *info, void *context)
{
    (void)sig, (void)context;
    if (!g_launcher_pid || info->si_code != SI_USER || info->si_pid != g_launcher_pid) return;
    g_launcher = 1;
    ncf_trainer *t = g_trainer;
    if (t) ncf_trainer_interrupt(t);
}

static void catch_signals(void)
{
    struct sigaction sa;
    if (ncf_dist_available() && getenv("OMPI_COMM_WORLD_SIZE")) g_launcher_pid = getppid();
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    if (g_launcher_pid) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_continue;
        sa.sa_flags = SA_SIGINFO | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGCONT, &sa, NULL);
    }
}

/* 1 when this process was asked to stop (a signal, or mpirun ending the job). */
static int stop_requested(void) { return g_signal || g_launcher; }

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
static int save_checkpoint(ncf_trainer *t, const char *path, const char *note, FILE *info)
{
    ncf_err err = {{0}};
    if (ncf_trainer_save_checkpoint(t, path, note, &err) != NCF_OK) return cli_fail("train", &err);
    fprintf(info, "checkpoint: %s (epoch %d done%s)\n", path, ncf_trainer_epochs_done(t),
            ncf_trainer_steps_done(t) ? ", and part of the next" : "");
    return 0;
}

/* Everything `ncf train` reads from its command line (choices are indices
 * into the options' "a|b|c" lists, which follow the library's enums). */
typedef struct train_args {
    const char *data, *out, *layers, *topk, *pre_gmf, *pre_mlp, *checkpoint, *resume, *init;
    int model, preset, factors, epochs, batch, neg, optimizer, adam_mode, rows_mode, threads;
    int json, summary, gmf_act, loss, quiet, no_eval, eval_mode, eval_every, early_stop;
    int schedule, lr_step, checkpoint_every, shards;
    double alpha, lr, dropout, reg, init_std, reg_layers, momentum, rms_alpha, eps, lr_gamma, lr_end;
    uint64_t seed;
    data_opts d;
} train_args;

#define TRAIN_OPTS 45 /* the options of the table in train_specs */
#define TRAIN_SPECS (DATA_OPT_COUNT + TRAIN_OPTS)

/* Sets a's defaults and fills specs[0 .. TRAIN_SPECS) with the options
 * pointing into a. */
static void train_specs(train_args *a, opt_spec *specs)
{
    *a = (train_args){.layers = "64,32,16,8", .topk = "10", .model = NCF_MODEL_NEUMF, .factors = 8, .epochs = 20,
                      .batch = 256, .neg = 4, .optimizer = NCF_OPT_ADAM, .adam_mode = ROWS_DENSE,
                      .rows_mode = ROWS_DENSE, .eval_every = 1, .schedule = NCF_LR_CONSTANT, .lr_step = 10,
                      .checkpoint_every = 1, .alpha = 0.5, .lr = 0.001, .init_std = 0.01, .rms_alpha = 0.99,
                      .eps = 1e-8, .lr_gamma = 0.5, .seed = 1};
    const opt_spec own[] = {
        {"data", 0, OPT_STRING, &a->data, 0, 0, NULL, 0},
        {"model", 0, OPT_CHOICE, &a->model, 0, 0, "gmf|mlp|neumf|mf", 0},
        {"preset", 0, OPT_CHOICE, &a->preset, 0, 0, "paper|seed", 0},
        {"factors", 0, OPT_INT, &a->factors, 1, 4096, NULL, 0},
        {"layers", 0, OPT_STRING, &a->layers, 0, 0, NULL, 0},
        {"gmf-activation", 0, OPT_CHOICE, &a->gmf_act, 0, 0, "identity|sigmoid", 0},
        {"dropout", 0, OPT_DOUBLE, &a->dropout, 0, 0.99, NULL, 0},
        {"reg", 0, OPT_DOUBLE, &a->reg, 0, 100, NULL, 0},
        {"reg-emb", 0, OPT_DOUBLE, &a->reg, 0, 100, NULL, 0},
        {"reg-layers", 0, OPT_DOUBLE, &a->reg_layers, 0, 100, NULL, 0},
        {"momentum", 0, OPT_DOUBLE, &a->momentum, 0, 0.999999, NULL, 0},
        {"rmsprop-alpha", 0, OPT_DOUBLE, &a->rms_alpha, 1e-6, 0.999999, NULL, 0},
        {"eps", 0, OPT_DOUBLE, &a->eps, 1e-30, 1, NULL, 0},
        {"rows", 0, OPT_CHOICE, &a->rows_mode, 0, 0, "dense|lazy|auto", 0},
        {"lr-schedule", 0, OPT_CHOICE, &a->schedule, 0, 0, "constant|step|linear", 0},
        {"lr-step", 0, OPT_INT, &a->lr_step, 1, 1000000, NULL, 0},
        {"lr-gamma", 0, OPT_DOUBLE, &a->lr_gamma, 1e-9, 1, NULL, 0},
        {"lr-end", 0, OPT_DOUBLE, &a->lr_end, 0, 10, NULL, 0},
        {"init-std", 0, OPT_DOUBLE, &a->init_std, 0, 5, NULL, 0},
        {"summary", 0, OPT_FLAG, &a->summary, 0, 0, NULL, 0},
        {"epochs", 0, OPT_INT, &a->epochs, 0, 100000, NULL, 0},
        {"batch", 0, OPT_INT, &a->batch, 1, 1 << 22, NULL, 0},
        {"lr", 0, OPT_DOUBLE, &a->lr, 1e-12, 10, NULL, 0},
        {"neg", 0, OPT_INT, &a->neg, 1, 1000, NULL, 0},
        {"loss", 0, OPT_CHOICE, &a->loss, 0, 0, "bce|pair-bce|bpr", 0},
        {"optimizer", 0, OPT_CHOICE, &a->optimizer, 0, 0, "adam|sgd|adagrad|rmsprop", 0},
        {"adam", 0, OPT_CHOICE, &a->adam_mode, 0, 0, "dense|lazy|auto", 0},
        {"threads", 0, OPT_INT, &a->threads, 0, 1024, NULL, 0},
        {"seed", 0, OPT_U64, &a->seed, 0, 0, NULL, 0},
        {"topk", 0, OPT_STRING, &a->topk, 0, 0, NULL, 0},
        {"eval", 0, OPT_CHOICE, &a->eval_mode, 0, 0, "sampled|full", 0},
        {"eval-every", 0, OPT_INT, &a->eval_every, 1, 1000000, NULL, 0},
        {"early-stop", 0, OPT_INT, &a->early_stop, 1, 1000000, NULL, 0},
        {"out", 0, OPT_STRING, &a->out, 0, 0, NULL, 0},
        {"json", 0, OPT_FLAG, &a->json, 0, 0, NULL, 0},
        {"quiet", 0, OPT_FLAG, &a->quiet, 0, 0, NULL, 0},
        {"no-eval", 0, OPT_FLAG, &a->no_eval, 0, 0, NULL, 0},
        {"pretrain-gmf", 0, OPT_STRING, &a->pre_gmf, 0, 0, NULL, 0},
        {"pretrain-mlp", 0, OPT_STRING, &a->pre_mlp, 0, 0, NULL, 0},
        {"alpha", 0, OPT_DOUBLE, &a->alpha, 0, 1, NULL, 0},
        {"checkpoint", 0, OPT_STRING, &a->checkpoint, 0, 0, NULL, 0},
        {"checkpoint-every", 0, OPT_INT, &a->checkpoint_every, 1, 1000000, NULL, 0},
        {"resume", 0, OPT_STRING, &a->resume, 0, 0, NULL, 0},
        {"init", 0, OPT_STRING, &a->init, 0, 0, NULL, 0},
        {"shards", 0, OPT_INT, &a->shards, 1, 65536, NULL, 0},
    };
    _Static_assert(sizeof own / sizeof own[0] == TRAIN_OPTS, "TRAIN_OPTS counts the table");
    data_opts_specs(&a->d, specs);
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
}

/* What one run holds; everything is freed by run_free. */
typedef struct train_run {
    train_args a;
    opt_spec specs[TRAIN_SPECS];
    int argc;                /* the command line in force (the merged one on resume) */
    char **argv;
    ncf_checkpoint *ck;      /* --resume */
    char *saved, **merged;   /* the checkpoint's command line, and it merged with this one */
    ncf_model_config mc;
    ncf_train_config tc;
    ncf_load_options lo;
    ncf_eval_config ec;
    int model_given;         /* a model option was given (else --init's model's are used) */
    run_state rs;
    FILE *info;              /* where the run's description goes: stderr under --json */
    ncf_dataset *ds;
    long loaded_rss_kb; /* the peak resident memory once the data was loaded */
    ncf_model *m, *init_model;
    ncf_trainer *trainer;
    char *note;              /* the command line kept in checkpoints */
    FILE *devnull;           /* info on ranks other than 0 */
} train_run;

static void run_free(train_run *r)
{
    g_trainer = NULL;
    ncf_trainer_free(r->trainer);
    ncf_checkpoint_free(r->ck);
    ncf_model_free(r->init_model);
    ncf_model_free(r->m);
    ncf_dataset_free(r->ds);
    free(r->note);
    free(r->saved);
    free(r->merged);
    if (r->devnull) fclose(r->devnull);
}

static int out_of_memory(void)
{
    fprintf(stderr, "ncf train: out of memory\n");
    return 1;
}

/* Parses the command line; with --resume, the checkpoint's command line
 * with this one's options over it. Returns -1 to go on, else the exit
 * status. */
static int parse_command_line(train_run *r, int argc, char **argv, const char *help)
{
    const char *pos[1];
    int n_pos;
    train_specs(&r->a, r->specs);
    int rc = args_parse_or_help("train", argc, argv, r->specs, TRAIN_SPECS, pos, 0, &n_pos, help, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    r->argc = argc;
    r->argv = argv;
    if (!r->a.resume) return -1;
    const char *resume = r->a.resume;
    ncf_err err = {{0}};
    if (ncf_checkpoint_load(resume, &r->ck, &err) != NCF_OK) return cli_fail("train", &err);
    const size_t cap = strlen(ncf_checkpoint_note(r->ck)) + 1;
    r->saved = strdup(ncf_checkpoint_note(r->ck));
    char **base = r->saved ? malloc(cap * sizeof *base) : NULL;
    r->merged = base ? malloc((cap + (size_t)argc) * sizeof *r->merged) : NULL;
    if (!r->merged) {
        free(base);
        return out_of_memory();
    }
    const int base_n = args_decode(r->saved, base, (int)cap);
    int n = 0;
    for (int k = 0; k < argc; k++) /* this command line without --resume FILE */
        if (strcmp(argv[k], "--resume") == 0) k++;
        else if (strncmp(argv[k], "--resume=", 9) != 0) argv[n++] = argv[k];
    n = args_merge(r->specs, TRAIN_SPECS, base_n, base, n, argv, r->merged);
    free(base);
    train_specs(&r->a, r->specs); /* defaults again, then the merged line */
    rc = args_parse_or_help("train", n, r->merged, r->specs, TRAIN_SPECS, pos, 0, &n_pos, help, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    r->a.resume = resume;
    r->argc = n;
    r->argv = r->merged;
    return -1;
}

/* A usage error: prints "ncf train: message" and returns 2. */
__attribute__((format(printf, 1, 2))) static int usage(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "ncf train: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    return 2;
}

/* The options that exclude or need each other. Returns -1 or 2. */
static int check_combinations(train_run *r)
{
    const train_args *a = &r->a;
    opt_spec *S = r->specs;
#define GIVEN(name) option_given(S, TRAIN_SPECS, name)
    if (GIVEN("reg") && GIVEN("reg-emb")) return usage("--reg and --reg-emb are the same option; give one");
    if (GIVEN("adam") && GIVEN("rows")) return usage("--adam and --rows are the same option; give one");
    if (GIVEN("momentum") && a->optimizer != NCF_OPT_SGD) return usage("--momentum applies only to --optimizer sgd");
    if (GIVEN("rmsprop-alpha") && a->optimizer != NCF_OPT_RMSPROP)
        return usage("--rmsprop-alpha applies only to --optimizer rmsprop");
    if ((GIVEN("lr-step") || GIVEN("lr-gamma")) && a->schedule != NCF_LR_STEP)
        return usage("--lr-step and --lr-gamma apply only to --lr-schedule step");
    if (GIVEN("lr-end") && a->schedule != NCF_LR_LINEAR) return usage("--lr-end applies only to --lr-schedule linear");
    if (GIVEN("no-eval") && GIVEN("eval-every")) return usage("--no-eval and --eval-every exclude each other");
    if ((a->pre_gmf || a->pre_mlp) && (!a->pre_gmf || !a->pre_mlp || a->model != NCF_MODEL_NEUMF))
        return usage("pre-training needs --model neumf with both --pretrain-gmf and --pretrain-mlp");
    if (a->init && a->pre_gmf) return usage("--init and pre-training exclude each other");
    if (GIVEN("alpha") && !a->pre_gmf) return usage("--alpha applies only with --pretrain-gmf and --pretrain-mlp");
    if (GIVEN("adam") && a->optimizer != NCF_OPT_ADAM)
        return usage("--adam applies only to --optimizer adam (--rows for the others)");
    if (!a->shards && ncf_dist_size() > 1)
        return usage("%d processes need --shards S (S >= %d; the same S gives the same model on any number of "
                     "processes)", ncf_dist_size(), ncf_dist_size());
    r->model_given = GIVEN("model") || GIVEN("preset") || GIVEN("factors") || GIVEN("layers") ||
                     GIVEN("gmf-activation") || GIVEN("dropout") || GIVEN("init-std");
    return -1;
}

/* The model, training, loading and evaluation configurations the options
 * ask for. Returns -1 to go on, else the exit status. */
static int build_configs(train_run *r)
{
    train_args *a = &r->a;
    opt_spec *S = r->specs;
    if (!a->data) return usage("--data is required (see ncf train --help)");
    int32_t layers[NCF_MAX_HIDDEN + 1];
    const int n_layers = args_parse_int_list(a->layers, layers, NCF_MAX_HIDDEN + 1);
    if (n_layers < 0)
        return usage("--layers needs 1 to %d comma-separated positive widths, got '%s'", NCF_MAX_HIDDEN + 1,
                     a->layers);
    if (data_opts_to_load("train", &a->d, S, a->seed, &r->lo)) return 2;
    if (cli_eval_config("train", a->eval_mode, a->topk, &r->ec)) return 2;
    if (r->ec.mode == NCF_EVAL_FULL && !GIVEN("negatives"))
        r->lo.n_negatives = 0; /* full ranking needs no sampled negatives */
    int rc = check_combinations(r);
    if (rc >= 0) return rc;
    ncf_err err = {{0}};
    ncf_model_config *mc = &r->mc;
    if (ncf_model_config_preset(a->preset ? NCF_PRESET_SEED : NCF_PRESET_PAPER, (ncf_model_type)a->model, a->factors,
                                layers, n_layers, mc, &err) != NCF_OK)
        return usage("%s", err.msg);
    if (GIVEN("gmf-activation")) mc->gmf_activation = (ncf_activation)a->gmf_act;
    if (GIVEN("dropout")) mc->dropout = (float)a->dropout;
    if (GIVEN("init-std")) mc->init_std = (float)a->init_std;
    ncf_train_config *tc = &r->tc;
    ncf_train_config_default(tc);
    if (a->preset == 1) { /* the seed model's training */
        tc->loss = NCF_LOSS_PAIR_BCE;
        tc->neg = 1;
        tc->reg = 1e-6f;
    }
    if (GIVEN("reg") || GIVEN("reg-emb")) tc->reg = (float)a->reg;
    if (GIVEN("neg")) tc->neg = a->neg;
    if (GIVEN("loss")) tc->loss = (ncf_loss)a->loss;
    tc->reg_layers = (float)a->reg_layers;
    tc->momentum = (float)a->momentum;
    tc->alpha = (float)a->rms_alpha;
    tc->eps = (float)a->eps;
    tc->schedule = (ncf_lr_schedule)a->schedule;
    tc->lr_step = a->lr_step;
    tc->lr_gamma = (float)a->lr_gamma;
    tc->lr_end = (float)a->lr_end;
    tc->epochs = a->epochs;
    tc->batch = a->batch;
    tc->lr = (float)a->lr;
    tc->optimizer = (ncf_optimizer)a->optimizer;
    tc->adam_mode = ROWS_MODE[GIVEN("rows") ? a->rows_mode : a->adam_mode];
    tc->threads = a->threads;
    tc->seed = a->seed;
    tc->eval = r->ec;
    tc->eval_every_epoch = a->no_eval ? 0 : a->eval_every;
    tc->early_stop = a->early_stop;
    tc->shards = a->shards;
#undef GIVEN
    if (ncf_train_config_check(tc, &err) != NCF_OK) return usage("%s", err.msg);
    const int rank0 = ncf_dist_rank() == 0; /* under mpirun, rank 0 alone reports and writes */
    r->rs = (run_state){.json = a->json, .progress = rank0 && !a->quiet && !a->json && isatty(2), .ec = r->ec,
                        .epochs = a->epochs};
    tc->on_epoch = on_epoch;
    tc->on_progress = on_progress;
    tc->user = &r->rs;
    r->info = a->json ? stderr : stdout;
    if (!rank0 && !(r->info = r->devnull = fopen("/dev/null", "w"))) return out_of_memory();
    return -1;
}

/* --resume: the model options must be the checkpoint model's. */
static int check_resumed_model(const train_run *r)
{
    const ncf_model_config *was = ncf_model_get_config(ncf_checkpoint_model(r->ck));
    const ncf_model_config *mc = &r->mc;
    if (was->type == mc->type && was->factors == mc->factors && was->mlp_embed == mc->mlp_embed &&
        was->n_hidden == mc->n_hidden && memcmp(was->hidden, mc->hidden, sizeof mc->hidden) == 0 &&
        was->gmf_activation == mc->gmf_activation && was->dropout == mc->dropout)
        return -1;
    return usage("%s: the model options (--model, --factors, --layers, --gmf-activation, --dropout, --preset) differ "
                 "from the checkpoint's %s model: resuming would not continue the same run",
                 r->a.resume, ncf_model_type_name(was->type));
}

/* The model's starting point besides fresh rows: pre-trained GMF and MLP. */
static ncf_status init_pretrained(train_run *r, ncf_err *err)
{
    ncf_model *g = NULL, *p = NULL;
    ncf_status st = ncf_model_load(r->a.pre_gmf, &g, err);
    if (st == NCF_OK) st = ncf_model_load(r->a.pre_mlp, &p, err);
    if (st == NCF_OK) st = ncf_model_init_pretrained(r->m, g, p, (float)r->a.alpha, err);
    ncf_model_free(g);
    ncf_model_free(p);
    return st;
}

/* Prints what is about to run: data, warm start, model and training. */
static void describe(const train_run *r, int32_t carried[2], int32_t added[2])
{
    const train_args *a = &r->a;
    const ncf_dataset *ds = r->ds;
    const ncf_train_config *tc = &r->tc;
    FILE *info = r->info;
    fprintf(info, "data: %s: %d users, %d items, %lld training interactions, %d test cases, %d validation cases%s\n",
            a->data, ds->n_users, ds->n_items, (long long)ds->n_train, ds->test.n, ds->valid.n,
            r->ec.mode == NCF_EVAL_FULL ? " (full ranking)" : ds->negatives_drawn ? " (negatives drawn)" : "");
    if (a->pre_gmf) fprintf(info, "pre-trained from %s and %s, alpha %g\n", a->pre_gmf, a->pre_mlp, a->alpha);
    if (r->init_model)
        fprintf(info, "warm start from %s: %d users and %d items carried over, %d users and %d items new; %d users "
                      "and %d items only the initial model knows kept\n",
                a->init, carried[0], carried[1], ds->n_users - carried[0], ds->n_items - carried[1], added[0],
                added[1]);
    fprintf(info,
            "model: %s (%s preset), %lld parameters; %s%s%s, lr %g%s, batch %d, %d negatives, %s loss, %d threads, "
            "%s kernels\n",
            ncf_model_type_name(r->mc.type), a->preset ? "seed" : "paper", (long long)ncf_model_param_count(r->m),
            ncf_optimizer_name(tc->optimizer), tc->momentum > 0 ? " with momentum" : "",
            ncf_train_rows_mode(tc, r->mc.type) == NCF_ADAM_LAZY ? " (lazy rows)" : "", (double)tc->lr,
            tc->schedule == NCF_LR_STEP ? " (step schedule)" : tc->schedule == NCF_LR_LINEAR ? " (linear decay)" : "",
            tc->batch, tc->neg, ncf_loss_name(tc->loss), ncf_threads_resolve(tc->threads), ncf_kernels());
    if (tc->shards)
        fprintf(info, "sharded: %d shards over %d process%s (%s MPI), %d threads each\n", tc->shards, ncf_dist_size(),
                ncf_dist_size() > 1 ? "es" : "", ncf_dist_available() ? "with" : "without",
                ncf_threads_resolve(tc->threads));
    if (a->summary) print_summary(info, r->m);
    if (!a->json && ncf_dist_rank() == 0) {
        const char *pname = r->ec.mode == NCF_EVAL_FULL ? "Recall" : "HR";
        char h1[32], h2[32], v[32] = "";
        snprintf(h1, sizeof h1, "%s@%d", pname, r->ec.k[0]);
        snprintf(h2, sizeof h2, "NDCG@%d", r->ec.k[0]);
        if (ds->valid.n) snprintf(v, sizeof v, "val_%s", pname);
        printf("%5s  %9s  %9s  %9s  %9s  %8s  %7s  %11s\n", "epoch", "loss", h1, h2, v, "train_s", "eval_s",
               "samples/s");
    }
}

/* Loads the data and makes the model and the trainer: from the checkpoint
 * (--resume), from an earlier model (--init), pre-trained, or fresh.
 * Returns -1 to go on, else the exit status. */
static int prepare(train_run *r)
{
    const train_args *a = &r->a;
    ncf_err err = {{0}};
    int32_t added[2] = {0, 0}, carried[2] = {0, 0};
    if (a->init && !r->ck) { /* warm start: the model's options default to the initial model's */
        if (ncf_model_load(a->init, &r->init_model, &err) != NCF_OK) return cli_fail("train", &err);
        if (!r->model_given) r->mc = *ncf_model_get_config(r->init_model);
    }
    /* sharded on several processes: each reads its own users' lines where it can (docs/distributed.md) */
    if (ncf_dataset_load_shards(a->data, &r->lo, r->tc.shards, &r->ds, &err) != NCF_OK) return cli_fail("train", &err);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    r->loaded_rss_kb = ru.ru_maxrss;
    ncf_dataset *ds = r->ds;
    if (ds->test.n == 0) {
        fprintf(stderr, "ncf train: %s: no test cases (every user has a single interaction)\n", a->data);
        return 1;
    }
    if (a->early_stop && ds->valid.n == 0)
        return usage("--early-stop needs validation cases: add --validation, or split with ncf split --validation");
    if (r->init_model && ncf_dataset_add_ids(ds, ncf_model_users(r->init_model), ncf_model_items(r->init_model),
                                             &added[0], &added[1], &err) != NCF_OK)
        return cli_fail("train", &err);
    r->mc.n_users = ds->n_users;
    r->mc.n_items = ds->n_items;
    if (r->ck) {
        const int rc = check_resumed_model(r);
        if (rc >= 0) return rc;
        if (ncf_trainer_resume(r->ck, ds, &r->tc, &r->m, &r->trainer, &err) != NCF_OK) return cli_fail("train", &err);
    } else if (ncf_model_create(&r->mc, a->seed, &r->m, &err) != NCF_OK ||
               ncf_model_attach_data(r->m, ds, &err) != NCF_OK ||
               (r->init_model && ncf_model_init_warm(r->m, r->init_model, &carried[0], &carried[1], &err) != NCF_OK) ||
               (a->pre_gmf && init_pretrained(r, &err) != NCF_OK)) {
        return cli_fail("train", &err);
    }
    describe(r, carried, added);
    if (!r->trainer && ncf_trainer_create(r->m, ds, &r->tc, &r->trainer, &err) != NCF_OK)
        return cli_fail("train", &err);
    r->rs.trainer = r->trainer;
    if (r->ck)
        fprintf(r->info, "resumed from %s: %d epochs done%s\n", a->resume, ncf_trainer_epochs_done(r->trainer),
                ncf_trainer_steps_done(r->trainer) ? ", and part of the next" : "");
    r->note = args_encode(r->argc, r->argv);
    return r->note ? -1 : out_of_memory();
}

/* The epochs, with checkpoints, until the run is over or a signal stops it.
 * Returns -1 when training is over, else the exit status. */
static int train_epochs(train_run *r)
{
    const train_args *a = &r->a;
    ncf_trainer *t = r->trainer;
    ncf_err err = {{0}};
    g_trainer = t;
    if (stop_requested()) ncf_trainer_interrupt(t); /* a signal while loading */
    /* With several processes, every decision to stop is collective: the
     * trainer stops them all after the same step (the request travels in
     * the step's reduction, or is agreed before an epoch), and a request
     * that arrives after an epoch's last step waits for the next epoch's
     * agreement rather than stopping this process alone. */
    const int several = ncf_dist_size() > 1;
    while (!ncf_trainer_done(t)) {
        const ncf_status st = ncf_trainer_epoch(t, NULL, &err);
        if (st == NCF_ERR_INTERRUPTED || (st == NCF_OK && !several && stop_requested())) {
            progress_clear(&r->rs);
            /* the signal reported (SIGTERM for mpirun ending the job), the same on every process */
            int sig = g_signal ? g_signal : g_launcher ? SIGTERM : SIGINT, by_mpirun = g_launcher;
            if (several) {
                sig = ncf_dist_max(sig);
                by_mpirun = ncf_dist_max(by_mpirun);
            }
            int failed = a->checkpoint && save_checkpoint(t, a->checkpoint, r->note, r->info);
            if (!failed && ncf_dist_rank() == 0) {
                fprintf(stderr, "ncf train: stopped by %s%s in epoch %d%s\n", sig == SIGTERM ? "SIGTERM" : "SIGINT",
                        by_mpirun ? " (mpirun is ending the job)" : "",
                        ncf_trainer_epochs_done(t) + (ncf_trainer_steps_done(t) > 0),
                        a->checkpoint ? "" : " (no --checkpoint: nothing saved)");
                if (a->checkpoint) fprintf(stderr, "ncf train: resume with: ncf train --resume %s\n", a->checkpoint);
            }
            fflush(stdout);
            /* the others wait here until rank 0 has written the checkpoint:
             * once one process exits, mpirun ends the others within a
             * second, rank 0 included */
            if (several) failed = ncf_dist_max(failed);
            if (failed) return 1;
            return 128 + sig;
        }
        if (st != NCF_OK) {
            progress_clear(&r->rs);
            return cli_fail("train", &err);
        }
        if (a->checkpoint && (ncf_trainer_epochs_done(t) % a->checkpoint_every == 0 || ncf_trainer_done(t)) &&
            save_checkpoint(t, a->checkpoint, r->note, r->info))
            return 1;
    }
    g_trainer = NULL;
    return -1;
}

/* The final lines: best, final and selected epochs (text or JSON). */
static void print_result(const train_run *r, const ncf_train_result *res)
{
    const int topk = r->ec.k[0];
    if (r->a.json) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        printf("{\"best_epoch\": %d, \"best_hr\": %.6f, \"best_ndcg\": %.6f, \"final_hr\": %.6f, \"final_ndcg\": %.6f",
               res->best_epoch, res->best.hr, res->best.ndcg, res->final.hr, res->final.ndcg);
        if (res->best_epoch) {
            cli_print_metrics_json(stdout, "best_", &res->best);
            cli_print_metrics_json(stdout, "final_", &res->final);
        }
        if (res->selected_epoch) {
            printf(", \"selected_epoch\": %d", res->selected_epoch);
            cli_print_metrics_json(stdout, "selected_", &res->selected);
            cli_print_metrics_json(stdout, "selected_valid_", &res->selected_valid);
        }
        if (r->ds->valid.n) printf(", \"stopped_early\": %s", res->stopped_early ? "true" : "false");
        printf(", \"peak_rss_mb\": %.1f}\n", (double)ru.ru_maxrss / 1024.0);
    } else if (res->best_epoch > 0) {
        const ncf_metric pm = ncf_primary_metric(r->ec.mode);
        const char *pname = r->ec.mode == NCF_EVAL_FULL ? "Recall" : "HR";
        printf("best epoch %d (on test, as the paper): %s@%d %.4f  NDCG@%d %.4f;  final: %s@%d %.4f  NDCG@%d %.4f\n",
               res->best_epoch, pname, topk, res->best.at[0][pm], topk, res->best.ndcg, pname, topk,
               res->final.at[0][pm], topk, res->final.ndcg);
        if (res->selected_epoch)
            printf("selected on validation: epoch %d: test %s@%d %.4f  NDCG@%d %.4f%s\n", res->selected_epoch, pname,
                   topk, res->selected.at[0][pm], topk, res->selected.ndcg,
                   res->stopped_early ? " (stopped early; the model is this epoch's)"
                   : r->a.early_stop  ? " (the model is this epoch's)"
                                      : "");
    }
}

/* --out: the model with its metadata (the run's options and results). */
static int save_model(train_run *r, const ncf_train_result *res)
{
    const train_args *a = &r->a;
    const ncf_train_config *tc = &r->tc;
    const int inherited = r->init_model && !r->model_given;
    ncf_err err = {{0}};
    char *meta = format_alloc(
        "model=%s\npreset=%s\nfactors=%d\nlayers=%s\nepochs=%d\nbatch=%d\nlr=%g\nneg=%d\nloss=%s\n"
        "optimizer=%s\nmomentum=%g\nrows=%s\nreg=%g\nreg_layers=%g\nlr_schedule=%s\nseed=%llu\ntopk=%d\n"
        "data=%s\nnegatives=%d\nbest_epoch=%d\n"
        "best_hr=%.6f\nbest_ndcg=%.6f\nfinal_hr=%.6f\nfinal_ndcg=%.6f\neval=%s\nselected_epoch=%d\n",
        ncf_model_type_name(r->mc.type), a->preset ? "seed" : "paper", inherited ? r->mc.factors : a->factors,
        inherited ? "(as the initial model's)" : a->layers, res->epochs_run, a->batch, (double)tc->lr, tc->neg,
        ncf_loss_name(tc->loss), ncf_optimizer_name(tc->optimizer), (double)tc->momentum,
        ncf_train_rows_mode(tc, r->mc.type) == NCF_ADAM_LAZY ? "lazy" : "dense", (double)tc->reg,
        (double)tc->reg_layers,
        tc->schedule == NCF_LR_STEP ? "step" : tc->schedule == NCF_LR_LINEAR ? "linear" : "constant",
        (unsigned long long)a->seed, r->ec.k[0], a->data, r->lo.n_negatives, res->best_epoch, res->best.hr,
        res->best.ndcg, res->final.hr, res->final.ndcg, r->ec.mode == NCF_EVAL_FULL ? "full" : "sampled",
        res->selected_epoch);
    if (!meta) return out_of_memory();
    const ncf_status ms = ncf_model_set_meta(r->m, meta);
    free(meta);
    if (ms != NCF_OK) return out_of_memory();
    if (ncf_model_save(r->m, a->out, &err) != NCF_OK) return cli_fail("train", &err);
    fprintf(r->info, "saved model to %s\n", a->out);
    return 0;
}

/* Sharded runs: the training lines each process read and its peak
 * resident memory once the data was loaded and at the end, each the
 * smallest and largest over the processes (collective; docs/distributed.md). */
static void report_data(const train_run *r)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    uint64_t l0, l1, d0, d1, m0, m1;
    const int64_t lines = r->ds->lines_read;
    if (ncf_dist_minmax((uint64_t)lines, &l0, &l1) != 0 ||
        ncf_dist_minmax((uint64_t)r->loaded_rss_kb, &d0, &d1) != 0 ||
        ncf_dist_minmax((uint64_t)ru.ru_maxrss, &m0, &m1) != 0)
        return;
    if (lines > 0)
        fprintf(r->info, "data (per process): %llu to %llu training lines read, ", (unsigned long long)l0,
                (unsigned long long)l1);
    else
        fprintf(r->info, "data (per process): the whole training file read, ");
    fprintf(r->info, "peak resident memory %.1f to %.1f MB once loaded, %.1f to %.1f MB at the end\n",
            (double)d0 / 1024.0, (double)d1 / 1024.0, (double)m0 / 1024.0, (double)m1 / 1024.0);
}

/* Sharded runs: what the reductions cost rank 0 (docs/distributed.md). */
static void report_comm(const train_run *r)
{
    report_data(r);
    double seconds;
    uint64_t bytes;
    int64_t n;
    ncf_trainer_comm(r->trainer, &seconds, &bytes, &n);
    const double samples = r->rs.samples_total; /* of the epochs run here (a resumed run: since resuming) */
    fprintf(r->info, "communication (rank 0): %lld reductions, %.1f MB, %.0f bytes per sample, %.2f s (%.0f %% of "
                     "the training time)\n",
            (long long)n, (double)bytes / 1e6, samples > 0 ? (double)bytes / samples : 0.0, seconds,
            r->rs.train_seconds > 0 ? 100.0 * seconds / r->rs.train_seconds : 0.0);
}

/* Parse, configure, prepare, train, report, save: each step returns -1 to
 * go on or the exit status. */
static int run_train(train_run *r, int argc, char **argv)
{
    char help[8192];
    snprintf(help, sizeof help, HELP, EVAL_OPTS_HELP);
    int rc = parse_command_line(r, argc, argv, help);
    if (rc < 0) rc = build_configs(r);
    if (rc >= 0) return rc;
    catch_signals();
    if ((rc = prepare(r)) >= 0 || (rc = train_epochs(r)) >= 0) return rc;
    ncf_train_result res;
    ncf_err err = {{0}};
    if (ncf_trainer_finish(r->trainer, &res, &err) != NCF_OK) return cli_fail("train", &err);
    if (r->tc.shards) report_comm(r);
    if (ncf_dist_rank() != 0) return 0; /* rank 0 has every user row now, and writes */
    print_result(r, &res);
    return r->a.out ? save_model(r, &res) : 0;
}

int cmd_train(int argc, char **argv)
{
    ncf_err err = {{0}};
    if (ncf_dist_init(&argc, &argv, &err) != NCF_OK) return cli_fail("train", &err); /* MPI builds: mpirun's group */
    train_run *r = calloc(1, sizeof *r);
    if (!r) return out_of_memory();
    const int status = run_train(r, argc, argv);
    run_free(r);
    free(r);
    if (status == 0) ncf_dist_finalize(); /* on failure, exiting non-zero ends the other processes */
    return status;
}
