/* bench_foldin.c — fold-in speed (ncf_foldin_recommend: a user folded in
 * from 50 history items and their top 10 over every item) on one thread,
 * for NeuMF (paper preset, factors 8, layers 64,32,16,8) and MF 64 trained
 * NCF_BENCH_EPOCHS (default 3) epochs on ../shared/data/ncf-ml-1m-half
 * (synthetic data of the same shape when absent). The histories are the
 * first 50 training items of 200 users with at least 50. Each answer is
 * checked (10 items, none from the history) before the timing counts.
 * Prints the median and 90th percentile per request (wall time, and the
 * median of the thread's CPU time, which a loaded machine disturbs less), the known-user
 * ncf_scorer_recommend beside it, and one JSON object per model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/core.h"
#include "ncf/ncf.h"

/* this thread's CPU time: on a loaded machine it shows the work a request
 * costs, when wall time shows how long it waited for a core as well */
static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(double *v, int n, double p)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    int k = (int)(p * (n - 1) + 0.5);
    return v[k];
}

enum { N_REQ = 200, HIST = 50, K = 10 };

static int run(const char *name, ncf_model_type type, int factors, const ncf_dataset *ds, int epochs,
               const char *source)
{
    ncf_err err = {{0}};
    int32_t layers[4] = {64, 32, 16, 8};
    ncf_model_config mc;
    if (ncf_model_config_preset(NCF_PRESET_PAPER, type, factors, layers, type == NCF_MODEL_MF ? 0 : 4, &mc, &err) !=
        NCF_OK)
        goto fail;
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    if (ncf_model_create(&mc, 1, &m, &err) != NCF_OK) goto fail;
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = epochs;
    tc.threads = 0;
    if (type == NCF_MODEL_MF) tc.reg = 1e-3f;
    ncf_train_result res;
    ncf_scorer *s = NULL;
    ncf_foldin *f = NULL;
    ncf_foldin_config fc;
    ncf_foldin_config_default(&fc);
    if (ncf_train(m, ds, &tc, &res, &err) != NCF_OK || ncf_model_attach_data(m, ds, &err) != NCF_OK ||
        ncf_scorer_create(m, 1, &s, &err) != NCF_OK || ncf_foldin_create(s, &fc, &f, &err) != NCF_OK)
        goto fail;
    double t_fold[N_REQ], t_known[N_REQ], c_fold[N_REQ];
    int n = 0;
    for (int32_t u = 0; u < ds->n_users && n < N_REQ; u++) {
        const int64_t b = ds->train_offsets[u];
        if (ds->train_offsets[u + 1] - b < HIST) continue;
        const int32_t *hist = ds->train_items + b;
        int32_t items[K];
        float scores[K];
        int got = 0;
        double c0 = cpu_seconds(), t0 = ncf_now_seconds_();
        if (ncf_foldin_recommend(f, hist, HIST, K, items, scores, &got, NULL, &err) != NCF_OK) goto fail;
        double t1 = ncf_now_seconds_(), c1 = cpu_seconds();
        int known_got = 0;
        int32_t known[K];
        float known_scores[K];
        if (ncf_scorer_recommend(s, u, K, known, known_scores, &known_got) != NCF_OK) goto fail;
        double t2 = ncf_now_seconds_();
        if (got != K) {
            fprintf(stderr, "bench_foldin: %d items for user %d, expected %d\n", got, u, K);
            return 1;
        }
        for (int q = 0; q < got; q++)
            for (int h = 0; h < HIST; h++)
                if (items[q] == hist[h]) {
                    fprintf(stderr, "bench_foldin: user %d was recommended history item %d\n", u, items[q]);
                    return 1;
                }
        t_fold[n] = 1e3 * (t1 - t0);
        c_fold[n] = 1e3 * (c1 - c0);
        t_known[n] = 1e3 * (t2 - t1);
        n++;
    }
    if (n == 0) {
        fprintf(stderr, "bench_foldin: no user with %d training items\n", HIST);
        return 1;
    }
    double med = pct(t_fold, n, 0.5), p90 = pct(t_fold, n, 0.9), known_med = pct(t_known, n, 0.5);
    double cpu_med = pct(c_fold, n, 0.5);
    printf("%-10s %5d %11.3f %9.3f %11.3f %15.3f %10.4f\n", name, n, med, p90, cpu_med, known_med, res.final.hr);
    printf("{\"bench\": \"foldin\", \"data\": \"%s\", \"model\": \"%s\", \"history\": %d, \"k\": %d, \"threads\": 1, "
           "\"requests\": %d, \"median_ms\": %.4f, \"p90_ms\": %.4f, \"cpu_median_ms\": %.4f, "
           "\"known_user_median_ms\": %.4f}\n",
           source, name, HIST, K, n, med, p90, cpu_med, known_med);
    fflush(stdout);
    ncf_foldin_free(f);
    ncf_scorer_free(s);
    ncf_model_free(m);
    return 0;
fail:
    fprintf(stderr, "bench_foldin: %s\n", err.msg);
    return 1;
}

int main(void)
{
    const char *env = getenv("NCF_BENCH_EPOCHS");
    int epochs = env ? atoi(env) : 3;
    if (epochs < 1) epochs = 1;
    ncf_err err = {{0}};
    ncf_dataset *ds = NULL;
    const char *source = "ncf-ml-1m-half";
    if (ncf_dataset_load("../shared/data/ncf-ml-1m-half/ml-1m-half", NULL, &ds, &err) != NCF_OK) {
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
            fprintf(stderr, "bench_foldin: %s\n", err.msg);
            return 1;
        }
        remove(path);
    }
    printf("# fold-in: %d history items, top %d of %d items, one thread, %d training epochs, on %s\n", HIST, K,
           ds->n_items, epochs, source);
    printf("%-10s %5s %11s %9s %11s %15s %10s\n", "model", "users", "median_ms", "p90_ms", "cpu_med_ms", "known_user_ms",
           "train_hr");
    int rc = run("neumf-f8", NCF_MODEL_NEUMF, 8, ds, epochs, source);
    if (!rc) rc = run("mf-64", NCF_MODEL_MF, 64, ds, epochs, source);
    ncf_dataset_free(ds);
    return rc;
}
