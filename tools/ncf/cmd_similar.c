/* cmd_similar.c — `ncf similar`: the items nearest an item by cosine over
 * the learned item representations (ncf_similar; what they are per model
 * type is in include/ncf/model.h and docs/cli.md), for one item or for
 * every item into a TSV file, under the --only / --exclude rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf similar --model MODEL --item RAW_ID [-k 10] [--json] [--only FILE] [--exclude FILE]\n"
    "       ncf similar --model MODEL --all [-k 10] --out FILE [--threads N] [--only FILE] [--exclude FILE]\n"
    "\n"
    "Prints the K items nearest the item by cosine over the items' learned\n"
    "representations, one per line: rank, raw item id, cosine. Never the item\n"
    "itself; K distinct items; ties go to the earlier item. The representation:\n"
    "MF the item embedding (bias left out); GMF the item embedding times the output\n"
    "weights; MLP the item half of the first layer (W1_item q_i); NeuMF both of\n"
    "these, each normalised, so its cosine is the mean of the two (docs/cli.md).\n"
    "An item the model does not know is an error (exit 1).\n"
    "With --all, writes the K nearest of every item to FILE as TSV lines\n"
    "item<TAB>similar item<TAB>cosine<TAB>rank (rank from 1), items in model order,\n"
    "computed as blocked matrix products on --threads threads (default: all cores).\n"
    "\n"
    "Business rules (they restrict the answers, not the items asked about):\n" RULES_OPTS_HELP RULES_NOTE_HELP
    "With --json the answer also counts them: \"unknown_only\", \"unknown_exclude\".\n";

/* Items asked about per round of --all: 4,096, or fewer for a large k, so
 * that the answers held at once (rows x k) stay under 2^22 whatever the
 * number of items. */
static int chunk_rows(int k)
{
    const int rows = (1 << 22) / k;
    return rows > 4096 ? 4096 : rows < 8 ? 8 : rows;
}

/* --all: every item's k nearest into a TSV file. The output is opened
 * first (ncf/outfile.h), so a path that is refused costs no work. */
static int similar_all(const ncf_model *m, const ncf_rules *rules, int k, const char *out, int threads)
{
    const char *cmd = "similar";
    ncf_err err = {{0}};
    ncf_outfile *of = NULL;
    ncf_similar *sim = NULL;
    const int T = ncf_threads_resolve(threads);
    if (ncf_outfile_open(out, &of, &err) != NCF_OK) return cli_fail(cmd, &err);
    if (ncf_similar_create(m, T, &sim, &err) != NCF_OK) {
        ncf_outfile_close(of, 0, NULL);
        return cli_fail(cmd, &err);
    }
    const int32_t n = ncf_model_get_config(m)->n_items;
    const int chunk = chunk_rows(k);
    int32_t *items = malloc((size_t)chunk * (size_t)k * sizeof *items);
    float *scores = malloc((size_t)chunk * (size_t)k * sizeof *scores);
    int *counts = malloc((size_t)chunk * sizeof *counts);
    int32_t *query = malloc((size_t)chunk * sizeof *query);
    int failed = !items || !scores || !counts || !query;
    FILE *f = ncf_outfile_stream(of);
    const ncf_idmap *ids = ncf_model_items(m);
    for (int32_t j0 = 0; !failed && j0 < n; j0 += chunk) {
        const int nq = n - j0 < chunk ? (int)(n - j0) : chunk;
        for (int q = 0; q < nq; q++) query[q] = j0 + q;
        if (ncf_similar_items_many(sim, query, nq, rules, k, T, items, scores, counts) != NCF_OK) {
            failed = 1;
            break;
        }
        for (int q = 0; q < nq; q++) {
            const char *raw = ncf_idmap_raw(ids, query[q]);
            for (int r = 0; r < counts[q]; r++)
                fprintf(f, "%s\t%s\t%.6f\t%d\n", raw, ncf_idmap_raw(ids, items[(size_t)q * (size_t)k + (size_t)r]),
                        (double)scores[(size_t)q * (size_t)k + (size_t)r], r + 1);
        }
    }
    int status = 0;
    if (failed) {
        fprintf(stderr, "ncf similar: out of memory\n");
        ncf_outfile_close(of, 0, NULL);
        status = 1;
    } else if (ncf_outfile_close(of, 1, &err) != NCF_OK) {
        status = cli_fail(cmd, &err);
    }
    free(items);
    free(scores);
    free(counts);
    free(query);
    ncf_similar_free(sim);
    return status;
}

int cmd_similar(int argc, char **argv)
{
    const char *cmd = "similar";
    const char *model_path = NULL, *item = NULL, *out = NULL;
    int k = 10, json = 0, all = 0, threads = 0;
    rules_opts ro = {NULL, NULL, 0};
    opt_spec specs[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0},
        {"item", 0, OPT_STRING, &item, 0, 0, NULL, 0},
        {"k", 'k', OPT_INT, &k, 1, 100000, NULL, 0},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"all", 0, OPT_FLAG, &all, 0, 0, NULL, 0},
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0},
        {"only", 0, OPT_STRING, &ro.only, 0, 0, NULL, 0},
        {"exclude", 0, OPT_STRING, &ro.exclude, 0, 0, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), pos, 0, &n_pos, HELP,
                                NULL);
    if (rc >= 0) return rc;
    if (!model_path || (!item && !all) || (item && all)) {
        fprintf(stderr, "ncf similar: --model and one of --item or --all are required (see ncf similar --help)\n");
        return 2;
    }
    if (all && (!out || json)) {
        fprintf(stderr, "ncf similar: --all needs --out FILE (and writes TSV, not --json)\n");
        return 2;
    }
    if (!all && out) {
        fprintf(stderr, "ncf similar: --out goes with --all (one item's answer goes to stdout)\n");
        return 2;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail(cmd, &err);
    rule_lists lists;
    ncf_rules rules;
    if (rules_opts_load(cmd, m, &ro, &lists, &rules) != 0) {
        ncf_model_free(m);
        return 1;
    }
    int status = 0;
    if (all) {
        status = similar_all(m, &rules, k, out, threads);
        goto done;
    }
    const ncf_idmap *ids = ncf_model_items(m);
    int32_t i = ncf_idmap_find(ids, item, strlen(item));
    if (i < 0) {
        fprintf(stderr, "ncf similar: item '%s' is not in the model (%d items known)\n", item,
                ncf_model_get_config(m)->n_items);
        status = 1;
        goto done;
    }
    ncf_similar *sim = NULL;
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    int n = 0;
    if (!items || !scores || ncf_similar_create(m, 1, &sim, &err) != NCF_OK ||
        ncf_similar_items(sim, i, &rules, k, items, scores, &n) != NCF_OK) {
        fprintf(stderr, "ncf similar: out of memory\n");
        status = 1;
    } else if (json) {
        printf("{\"item\": ");
        cli_json_string(item);
        if (ro.only) printf(", \"unknown_only\": %d", (int)lists.unknown_only);
        if (ro.exclude) printf(", \"unknown_exclude\": %d", (int)lists.unknown_exclude);
        printf(", \"items\": [");
        for (int q = 0; q < n; q++) {
            printf(q ? ", {\"item\": " : "{\"item\": ");
            cli_json_string(ncf_idmap_raw(ids, items[q]));
            printf(", \"score\": %.6g}", (double)scores[q]); /* a cosine: always a number */
        }
        printf("]}\n");
    } else {
        for (int q = 0; q < n; q++) printf("%d\t%s\t%.6f\n", q + 1, ncf_idmap_raw(ids, items[q]), (double)scores[q]);
    }
    free(items);
    free(scores);
    ncf_similar_free(sim);
done:
    rule_lists_free(&lists);
    ncf_model_free(m);
    return status;
}
