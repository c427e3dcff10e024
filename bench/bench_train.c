/* bench_train.c — training and evaluation speed of GMF, MLP and NeuMF
 * (paper preset, factors 8, layers 64,32,16,8, batch 256, 4 negatives) at 1
 * thread and at all cores, on ../shared/data/ncf-ml-1m-half when present
 * (synthetic data of the same shape otherwise). Before timing, the linear
 * kernels are checked against a naive reference. Prints a table and one
 * JSON object per result; figures are medians over the epochs run
 * (NCF_BENCH_EPOCHS, default 5). Last, NeuMF's dense rows against lazy
 * rows in alternated pairs of runs (issue 15's ratio). */
#define _GNU_SOURCE 1 /* sched_setaffinity, CPU_SET (Linux) */
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "core/core.h"
#include "ncf/ncf.h"
#include "nn/nn.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int check_kernels(void)
{
    float x[64], wt[64 * 32], w[32 * 64], b[32], y[32];
    ncf_rng r;
    ncf_rng_seed_(&r, 1, 2, 3);
    for (int k = 0; k < 64; k++) x[k] = (float)ncf_rng_uniform_(&r);
    for (int k = 0; k < 32; k++) b[k] = (float)ncf_rng_uniform_(&r);
    for (int o = 0; o < 32; o++)
        for (int i = 0; i < 64; i++) w[o * 64 + i] = wt[i * 32 + o] = (float)ncf_rng_uniform_(&r) - 0.5f;
    ncf_linear_forward_(y, x, wt, b, 64, 32);
    for (int o = 0; o < 32; o++) {
        double ref = b[o];
        for (int i = 0; i < 64; i++) ref += (double)w[o * 64 + i] * x[i];
        if (fabs(ref - y[o]) > 1e-4) {
            fprintf(stderr, "bench: linear kernel disagrees with the naive reference\n");
            return -1;
        }
    }
    return 0;
}

typedef struct bench_state {
    double sps[64], train_s[64], eval_s[64];
    int n;
} bench_state;

static int on_epoch(const ncf_epoch_report *r, void *user)
{
    bench_state *b = user;
    if (b->n < 64) {
        b->sps[b->n] = (double)r->samples / r->train_seconds;
        b->train_s[b->n] = r->train_seconds;
        b->eval_s[b->n] = r->eval_seconds;
        b->n++;
    }
    return 0;
}

/* Trains a paper-preset model (factors 8, layers 64,32,16,8) of type on ds
 * for `epochs` epochs: the medians over the epochs of samples/s, epoch
 * seconds and evaluation seconds, and the final HR. -1 on failure. */
static int run(const ncf_dataset *ds, ncf_model_type type, ncf_adam_mode mode, int threads, int epochs, double *sps,
               double *es, double *ev, double *hr)
{
    ncf_err err = {{0}};
    int32_t layers[4] = {64, 32, 16, 8};
    ncf_model_config mc;
    ncf_model_config_preset(NCF_PRESET_PAPER, type, 8, layers, 4, &mc, &err);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    if (ncf_model_create(&mc, 1, &m, &err) != NCF_OK) return -1;
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = epochs;
    tc.threads = threads;
    tc.adam_mode = mode;
    bench_state b = {.n = 0};
    tc.on_epoch = on_epoch;
    tc.user = &b;
    ncf_train_result res;
    const ncf_status st = ncf_train(m, ds, &tc, &res, &err);
    ncf_model_free(m);
    if (st != NCF_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return -1;
    }
    *sps = median(b.sps, b.n);
    *es = median(b.train_s, b.n);
    *ev = median(b.eval_s, b.n);
    *hr = res.final.hr;
    return 0;
}

int main(int argc, char **argv)
{
    if (check_kernels() != 0) return 1;
    const char *prefix = "../shared/data/ncf-ml-1m-half/ml-1m-half";
    const char *env = getenv("NCF_BENCH_EPOCHS");
    int epochs = env ? atoi(env) : 5;
    if (epochs < 1) epochs = 1;
    ncf_err err = {{0}};
    ncf_dataset *ds = NULL;
    const char *source = "ncf-ml-1m-half";
    if (ncf_dataset_load(prefix, NULL, &ds, &err) != NCF_OK) {
        source = "synthetic (ml-1m-half shape)";
        ncf_synth_options o;
        ncf_synth_options_default(&o);
        o.n_users = 2999;
        o.n_items = 3706;
        o.n_interactions = 487650;
        char path[] = "/tmp/ncf-bench-XXXXXX";
        int fd = mkstemp(path);
        if (fd < 0) return 1;
        ncf_load_options lo;
        ncf_load_options_default(&lo);
        if (ncf_synth_write(&o, path, &err) != NCF_OK || ncf_dataset_load(path, &lo, &ds, &err) != NCF_OK) {
            fprintf(stderr, "bench: %s\n", err.msg);
            return 1;
        }
        remove(path);
    }
    int all = ncf_threads_resolve(0);
    int thread_counts[2] = {1, all};
    const ncf_model_type types[3] = {NCF_MODEL_GMF, NCF_MODEL_MLP, NCF_MODEL_NEUMF};
    const char *adam_modes[2] = {"lazy", "dense"};
    printf("# training speed on %s (%d users, %d items, %lld positives), %d epochs each, medians\n", source,
           ds->n_users, ds->n_items, (long long)ds->n_train, epochs);
    printf("%-6s %-6s %7s %14s %10s %10s\n", "model", "adam", "threads", "samples/s", "epoch_s", "eval_ms");
    for (int t = 0; t < 3; t++)
        for (int a = 0; a < 2; a++)
            for (int h = 0; h < (all > 1 ? 2 : 1); h++) {
                double sps, es, ev, hr;
                if (run(ds, types[t], a == 0 ? NCF_ADAM_LAZY : NCF_ADAM_DENSE, thread_counts[h], epochs, &sps, &es,
                        &ev, &hr) != 0)
                    return 1;
                printf("%-6s %-6s %7d %14.0f %10.3f %10.1f\n", ncf_model_type_name(types[t]), adam_modes[a],
                       thread_counts[h], sps, es, 1e3 * ev);
                printf("{\"bench\": \"train\", \"data\": \"%s\", \"model\": \"%s\", \"adam\": \"%s\", \"threads\": %d, "
                       "\"samples_per_second\": %.0f, \"epoch_seconds\": %.4f, \"eval_seconds\": %.5f, "
                       "\"final_hr\": %.4f}\n",
                       source, ncf_model_type_name(types[t]), adam_modes[a], thread_counts[h], sps, es, ev, hr);
                fflush(stdout);
            }
    /* dense rows (the default) against lazy rows, NeuMF: pairs of 3-epoch
     * runs, each pair's two runs one after the other so that both see the
     * same state of the machine, half of the pairs lazy first and half dense
     * first; on one thread both runs of a pair on the same CPU (this VM's
     * vCPUs can differ several times over in memory latency), the pairs
     * spread over the CPUs. The ratio of each pair, their median and range. */
    const int rounds = 8;
    printf("# NeuMF dense / lazy rows, %d pairs of 3-epoch runs (order alternated; one thread: a pair on one CPU), "
           "median of the pairs' ratios [range]\n",
           rounds);
    cpu_set_t mask0;
    const int have_mask = sched_getaffinity(0, sizeof mask0, &mask0) == 0;
    const int n_cpus = have_mask ? CPU_COUNT(&mask0) : 1;
    for (int h = 0; h < (all > 1 ? 2 : 1); h++) {
        double ratio[16], lazy_sps[16], dense_sps[16], es, ev, hr;
        for (int k = 0; k < rounds; k++) {
            if (thread_counts[h] == 1 && have_mask) { /* the (k / 2 mod n)-th CPU of the original mask */
                cpu_set_t one;
                CPU_ZERO(&one);
                for (int c = 0, seen = 0; c < CPU_SETSIZE; c++)
                    if (CPU_ISSET(c, &mask0) && seen++ == (k / 2) % n_cpus) {
                        CPU_SET(c, &one);
                        break;
                    }
                sched_setaffinity(0, sizeof one, &one);
            }
            for (int o = 0; o < 2; o++) {
                const int dense = (o + k) % 2; /* even pairs lazy first, odd ones dense first */
                if (run(ds, NCF_MODEL_NEUMF, dense ? NCF_ADAM_DENSE : NCF_ADAM_LAZY, thread_counts[h], 3,
                        dense ? &dense_sps[k] : &lazy_sps[k], &es, &ev, &hr) != 0)
                    return 1;
            }
            ratio[k] = dense_sps[k] / lazy_sps[k];
        }
        if (have_mask) sched_setaffinity(0, sizeof mask0, &mask0);
        const double r = median(ratio, rounds), l = median(lazy_sps, rounds), d = median(dense_sps, rounds);
        printf("threads %d: lazy %.0f, dense %.0f samples/s; dense / lazy %.3f [%.3f, %.3f]\n", thread_counts[h], l, d,
               r, ratio[0], ratio[rounds - 1]); /* median sorted the ratios */
        printf("{\"bench\": \"dense_over_lazy\", \"data\": \"%s\", \"model\": \"neumf\", \"threads\": %d, "
               "\"pairs\": %d, \"lazy_samples_per_second\": %.0f, \"dense_samples_per_second\": %.0f, \"ratio\": %.3f, "
               "\"ratio_min\": %.3f, \"ratio_max\": %.3f}\n",
               source, thread_counts[h], rounds, l, d, r, ratio[0], ratio[rounds - 1]);
        fflush(stdout);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("{\"bench\": \"memory\", \"peak_rss_mb\": %.1f}\n", (double)ru.ru_maxrss / 1024.0);
    ncf_dataset_free(ds);
    (void)argc;
    (void)argv;
    return 0;
}
