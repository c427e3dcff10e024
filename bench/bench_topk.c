/* bench_topk.c — full-ranking evaluation speed (the top-K engine,
 * src/model/topk.c) on Gowalla as the LightGCN split has it
 * (../shared/data/gowalla: train.txt + valid.txt for training, test.txt
 * held out; skipped, saying so, when absent): MF with 64 factors trained
 * one epoch (BCE, 8 negatives, batch 1024, all cores), then
 * ncf_evaluate_cases at Recall/NDCG@20 over every item the user has no
 * training interaction with, on all cores, median of 3. Before timing,
 * the metrics are computed on 1 thread too and must be the same numbers
 * (the engine's results do not depend on the thread count). Prints a line
 * and one JSON object. `ncf recommend --all` on ML-20M-shaped data is timed
 * by scripts/bench-topk.sh. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ncf/ncf.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* train.txt and valid.txt, concatenated into a scratch file */
static int concat(const char *a, const char *b, const char *out)
{
    FILE *o = fopen(out, "wb");
    if (!o) return -1;
    const char *in[2] = {a, b};
    char buf[1 << 16];
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(in[k], "rb");
        if (!f) {
            fclose(o);
            return -1;
        }
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, n, o);
        fclose(f);
    }
    return fclose(o) == 0 ? 0 : -1;
}

int main(void)
{
    const char *dir = "../shared/data/gowalla";
    char train[512], valid[512], test[512], both[] = "/tmp/ncf-bench-topk-XXXXXX";
    snprintf(train, sizeof train, "%s/train.txt", dir);
    snprintf(valid, sizeof valid, "%s/valid.txt", dir);
    snprintf(test, sizeof test, "%s/test.txt", dir);
    FILE *probe = fopen(test, "rb");
    if (!probe) {
        printf("# full-ranking evaluation: skipped (%s absent)\n", dir);
        return 0;
    }
    fclose(probe);
    int fd = mkstemp(both);
    if (fd < 0 || concat(train, valid, both) != 0) {
        fprintf(stderr, "bench_topk: cannot write %s\n", both);
        return 1;
    }
    ncf_err err = {{0}};
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.test_path = test;
    ncf_dataset *ds = NULL;
    ncf_status st = ncf_dataset_load(both, &lo, &ds, &err);
    remove(both);
    if (st != NCF_OK) {
        fprintf(stderr, "bench_topk: %s\n", err.msg);
        return 1;
    }
    int32_t none[1] = {0};
    ncf_model_config mc;
    ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_MF, 64, none, 0, &mc, &err);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 1;
    tc.neg = 8;
    tc.batch = 1024;
    tc.eval_every_epoch = 0;
    tc.eval.mode = NCF_EVAL_FULL;
    tc.eval.k[0] = 20;
    ncf_train_result res;
    if (ncf_model_create(&mc, 1, &m, &err) != NCF_OK || ncf_train(m, ds, &tc, &res, &err) != NCF_OK) {
        fprintf(stderr, "bench_topk: %s\n", err.msg);
        return 1;
    }
    ncf_eval_config ec;
    ncf_eval_config_default(&ec);
    ec.mode = NCF_EVAL_FULL;
    ec.k[0] = 20;
    ncf_metrics one, all;
    if (ncf_evaluate_cases(m, ds, &ds->test, &ec, 1, &one, &err) != NCF_OK) {
        fprintf(stderr, "bench_topk: %s\n", err.msg);
        return 1;
    }
    double t[3];
    for (int r = 0; r < 3; r++) {
        const double t0 = ncf_now_seconds_();
        if (ncf_evaluate_cases(m, ds, &ds->test, &ec, 0, &all, &err) != NCF_OK) {
            fprintf(stderr, "bench_topk: %s\n", err.msg);
            return 1;
        }
        t[r] = ncf_now_seconds_() - t0;
        if (memcmp(one.at, all.at, sizeof one.at) != 0) {
            fprintf(stderr, "bench_topk: metrics differ between 1 thread and all cores\n");
            return 1;
        }
    }
    qsort(t, 3, sizeof *t, cmp_double);
    printf("# full-ranking evaluation, Gowalla (%d users, %d items), MF 64 after one epoch, all cores, median of 3\n",
           all.n_cases, ds->n_items);
    printf("eval %.3f s  Recall@20 %.4f  NDCG@20 %.4f\n", t[1], all.at[0][NCF_METRIC_RECALL],
           all.at[0][NCF_METRIC_NDCG]);
    printf("{\"bench\": \"full_ranking\", \"data\": \"gowalla\", \"model\": \"mf64\", \"eval_seconds\": %.4f, "
           "\"recall@20\": %.4f, \"ndcg@20\": %.4f}\n",
           t[1], all.at[0][NCF_METRIC_RECALL], all.at[0][NCF_METRIC_NDCG]);
    ncf_model_free(m);
    ncf_dataset_free(ds);
    return 0;
}
