/* cmd_eval.c — `ncf eval`: HR@K / NDCG@K of a saved model on a dataset,
 * with the model's raw ids. When the data has no negatives file they are
 * drawn with the seed the model was trained with, so the figures equal the
 * training run's final epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf eval --model MODEL --data PREFIX_OR_FILE [--topk K] [--json] [--threads N] [--seed N]\n"
    "\n"
    "Evaluates a saved model with the sampled leave-one-out protocol (HR@K, NDCG@K).\n"
    "Users and items are matched by raw id; test cases the model does not know are\n"
    "skipped and counted. --seed (default: the model's training seed) draws test\n"
    "negatives when the data has none.\n"
    "\n";

/* Value of key in "key=value" lines, or NULL. */
static const char *meta_get(const char *meta, const char *key, char *buf, size_t n)
{
    size_t klen = strlen(key);
    for (const char *p = meta; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > klen && strncmp(p, key, klen) == 0 && p[klen] == '=') {
            size_t vlen = len - klen - 1 < n - 1 ? len - klen - 1 : n - 1;
            memcpy(buf, p + klen + 1, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    const char *model_path = NULL, *data = NULL;
    int topk = 10, json = 0, threads = 0;
    uint64_t seed = 1;
    data_opts d;
    opt_spec specs[DATA_OPT_COUNT + 6];
    data_opts_specs(&d, specs);
    opt_spec own[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0}, {"data", 0, OPT_STRING, &data, 0, 0, NULL, 0},
        {"topk", 0, OPT_INT, &topk, 1, 100000, NULL, 0},      {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0}, {"seed", 0, OPT_U64, &seed, 0, 0, NULL, 0},
    };
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
    int n_specs = DATA_OPT_COUNT + (int)(sizeof own / sizeof own[0]);
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, n_specs, pos, 0, &n_pos, HELP, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    if (!model_path || !data) {
        fprintf(stderr, "ncf eval: --model and --data are required (see ncf eval --help)\n");
        return 2;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail(cmd, &err);
    char buf[64];
    const char *meta = ncf_model_meta(m);
    if (!args_find(specs, n_specs, "seed")->given && meta_get(meta, "seed", buf, sizeof buf))
        seed = strtoull(buf, NULL, 10);
    if (!args_find(specs, n_specs, "negatives")->given && meta_get(meta, "negatives", buf, sizeof buf))
        d.negatives = atoi(buf);
    ncf_load_options lo;
    if (data_opts_to_load(cmd, &d, specs, seed, &lo)) {
        ncf_model_free(m);
        return 2;
    }
    ncf_dataset *ds = NULL;
    int32_t dropped = 0;
    int status = cli_dataset_for_model(cmd, m, data, &lo, &ds, &dropped);
    if (status) {
        ncf_model_free(m);
        return status;
    }
    ncf_metrics mt;
    if (ncf_evaluate(m, ds, topk, threads, &mt, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
    } else if (json) {
        printf("{\"hr\": %.6f, \"ndcg\": %.6f, \"topk\": %d, \"cases\": %d, \"skipped\": %d}\n", mt.hr, mt.ndcg, topk,
               mt.n_cases, dropped);
    } else {
        printf("HR@%d %.4f  NDCG@%d %.4f  (%d test cases", topk, mt.hr, topk, mt.ndcg, mt.n_cases);
        if (dropped) printf(", %d skipped: unknown user or item", dropped);
        printf(")\n");
    }
    ncf_dataset_free(ds);
    ncf_model_free(m);
    return status;
}
