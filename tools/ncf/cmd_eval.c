/* cmd_eval.c — `ncf eval`: sampled or full-ranking metrics of a saved model on a dataset,
 * with the model's raw ids. When the data has no negatives file they are
 * drawn with the seed the model was trained with, so the figures equal the
 * training run's final epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf eval --model MODEL --data PREFIX_OR_FILE [--eval sampled|full] [--topk K[,K...]]\n"
    "                [--json] [--threads N] [--seed N] [--fold-in]\n"
    "\n"
    "Evaluates a saved model on the data's test cases: the sampled leave-one-out\n"
    "protocol (HR@K, NDCG@K; default) or full ranking (HR, Recall, Precision, NDCG,\n"
    "MRR at each K). Users and items are matched by raw id; test cases the model\n"
    "does not know are skipped and counted. --seed (default: the model's training\n"
    "seed) draws test negatives when the data has none.\n"
    "\n"
    "--fold-in: every test user the model does not know is folded in from that\n"
    "user's training interactions in the data (their rows solved for with the\n"
    "items and layers frozen; items the model does not know are ignored) and\n"
    "then evaluated like the others; without it such users are skipped.\n"
    "\n"
    "%s"
    "\n"
    "With --json: one object with hr, ndcg (first K), every metric as name@K, topk,\n"
    "cases (test cases, or users for full ranking), skipped, and with --fold-in\n"
    "folded_in (users folded in).\n"
    "\n";

/* Value of key in "key=value" lines, or NULL. */
int cmd_eval(int argc, char **argv)
{
    const char *cmd = "eval";
    const char *model_path = NULL, *data = NULL;
    int json = 0, threads = 0, eval_mode = 0, fold_in = 0;
    const char *topk_s = "10";
    uint64_t seed = 1;
    data_opts d;
    opt_spec specs[DATA_OPT_COUNT + 8];
    data_opts_specs(&d, specs);
    opt_spec own[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0}, {"data", 0, OPT_STRING, &data, 0, 0, NULL, 0},
        {"topk", 0, OPT_STRING, &topk_s, 0, 0, NULL, 0},      {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"eval", 0, OPT_CHOICE, &eval_mode, 0, 0, "sampled|full", 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0}, {"seed", 0, OPT_U64, &seed, 0, 0, NULL, 0},
        {"fold-in", 0, OPT_FLAG, &fold_in, 0, 0, NULL, 0},
    };
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
    int n_specs = DATA_OPT_COUNT + (int)(sizeof own / sizeof own[0]);
    const char *pos[1];
    int n_pos;
    char help[4096];
    snprintf(help, sizeof help, HELP, EVAL_OPTS_HELP);
    int rc = args_parse_or_help(cmd, argc, argv, specs, n_specs, pos, 0, &n_pos, help, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    ncf_eval_config ec;
    if (cli_eval_config(cmd, eval_mode, topk_s, &ec)) return 2;
    const int topk = ec.k[0];
    if (!model_path || !data) {
        fprintf(stderr, "ncf eval: --model and --data are required (see ncf eval --help)\n");
        return 2;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail(cmd, &err);
    char buf[64];
    const char *meta = ncf_model_meta(m);
    if (!args_find(specs, n_specs, "seed")->given && cli_meta_get(meta, "seed", buf, sizeof buf))
        seed = strtoull(buf, NULL, 10);
    if (!args_find(specs, n_specs, "negatives")->given && cli_meta_get(meta, "negatives", buf, sizeof buf))
        d.negatives = atoi(buf);
    ncf_load_options lo;
    if (data_opts_to_load(cmd, &d, specs, seed, &lo)) {
        ncf_model_free(m);
        return 2;
    }
    if (ec.mode == NCF_EVAL_FULL && !args_find(specs, n_specs, "negatives")->given) lo.n_negatives = 0;
    ncf_dataset *ds = NULL;
    int32_t dropped = 0, folded = 0;
    int status;
    if (fold_in) { /* evaluate a copy of the model that holds the folded-in users */
        ncf_foldin_config fc;
        cli_foldin_config(m, &fc);
        ncf_model *ext = NULL;
        status = cli_dataset_foldin(cmd, m, data, &lo, &fc, threads, &ext, &ds, &dropped, &folded);
        if (!status) {
            ncf_model_free(m);
            m = ext;
        }
    } else {
        status = cli_dataset_for_model(cmd, m, data, &lo, &ds, &dropped);
    }
    if (status) {
        ncf_model_free(m);
        return status;
    }
    ncf_metrics mt;
    if (ncf_evaluate_cases(m, ds, &ds->test, &ec, threads, &mt, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
    } else if (json) {
        printf("{\"hr\": %.6f, \"ndcg\": %.6f", mt.hr, mt.ndcg);
        cli_print_metrics_json(stdout, "", &mt);
        printf(", \"topk\": %d, \"cases\": %d, \"skipped\": %d", topk, mt.n_cases, dropped);
        if (fold_in) printf(", \"folded_in\": %d", folded);
        printf("}\n");
    } else if (ec.mode == NCF_EVAL_SAMPLED) {
        printf("HR@%d %.4f  NDCG@%d %.4f  (%d test cases", topk, mt.hr, topk, mt.ndcg, mt.n_cases);
        if (dropped) printf(", %d skipped: unknown user or item", dropped);
        if (fold_in) printf(", %d users folded in", folded);
        printf(")\n");
    } else {
        for (int j = 0; j < mt.n_k; j++)
            printf("@%-4d Recall %.4f  NDCG %.4f  HR %.4f  Precision %.4f  MRR %.4f\n", mt.k[j],
                   mt.at[j][NCF_METRIC_RECALL], mt.at[j][NCF_METRIC_NDCG], mt.at[j][NCF_METRIC_HR],
                   mt.at[j][NCF_METRIC_PRECISION], mt.at[j][NCF_METRIC_MRR]);
        printf("(full ranking, %d users", mt.n_cases);
        if (dropped) printf(", %d test cases skipped: unknown user or item", dropped);
        if (fold_in) printf(", %d users folded in", folded);
        printf(")\n");
    }
    ncf_dataset_free(ds);
    ncf_model_free(m);
    return status;
}
