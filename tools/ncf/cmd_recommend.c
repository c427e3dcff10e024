/* cmd_recommend.c — `ncf recommend`: the top-K items for one user, in raw
 * ids, never an item the user had in training (unless --include-seen), under
 * the business rules --only / --exclude (rules_opts.c). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf recommend --model MODEL --user RAW_ID [-k 10] [--json] [rules]\n"
    "       ncf recommend --model MODEL --all [-k 10] --out FILE [--threads N] [rules]\n"
    "       ncf recommend --model MODEL --history ITEM,ITEM,... [-k 10] [--json]\n"
    "       ncf recommend --model MODEL --history-file FILE [-k 10] --out FILE\n"
    "\n"
    "Prints the K best-scoring items the user has not interacted with in training\n"
    "(unless --include-seen), one per line: rank, raw item id, score (logit). Ties\n"
    "go to the earlier item. A user the model does not know is an error (exit 1).\n"
    "With --all, writes the top K of every user to FILE as TSV lines\n"
    "user<TAB>item<TAB>score<TAB>rank (rank from 1), users in model order.\n"
    "\n"
    "--history: a user the model need not know, given by the raw ids of the items\n"
    "they interacted with, is folded in (their rows solved for, the model's items\n"
    "and layers frozen) and gets the K best items outside that list. Unknown\n"
    "items are ignored and counted (JSON: \"unknown\"); none known: exit 1.\n"
    "--history-file: one user a line, 'name<TAB>item,item,...'; their top K go to\n"
    "--out as name<TAB>item<TAB>score<TAB>rank lines, in file order; a user with no\n"
    "known item gets no line (counted on stderr); a malformed line is an error\n"
    "naming file and line (exit 1, --out left as it was).\n"
    "\n"
    "Business rules (the same for every user):\n" RULES_OPTS_HELP
    "  --include-seen     the user's training items may be recommended too\n" RULES_NOTE_HELP
    "With --json the answer also counts them: \"unknown_only\", \"unknown_exclude\".\n";

/* --all: every user's top k into a TSV file, threaded. The output is
 * opened first (ncf/outfile.h), so a path that is refused costs no work. */
static int recommend_all(const ncf_model *m, const ncf_rules *rules, int k, const char *out, int threads)
{
    ncf_err err = {{0}};
    ncf_outfile *of = NULL;
    ncf_scorer *sc = NULL;
    const int T = ncf_threads_resolve(threads);
    if (ncf_outfile_open(out, &of, &err) != NCF_OK) return cli_fail("recommend", &err);
    if (ncf_scorer_create(m, T, &sc, &err) != NCF_OK) {
        ncf_outfile_close(of, 0, NULL);
        return cli_fail("recommend", &err);
    }
    const int32_t nu = ncf_model_get_config(m)->n_users;
    int32_t *items = malloc((size_t)nu * (size_t)k * sizeof *items);
    float *scores = malloc((size_t)nu * (size_t)k * sizeof *scores);
    int *counts = calloc((size_t)nu, sizeof *counts);
    int32_t *every = malloc((size_t)nu * sizeof *every);
    int failed = !items || !scores || !counts || !every;
    for (int32_t u = 0; !failed && u < nu; u++) every[u] = u;
    if (!failed) failed = ncf_scorer_recommend_many_ex(sc, every, nu, rules, k, T, items, scores, counts) != NCF_OK;
    free(every);
    int status = 0;
    if (failed) {
        fprintf(stderr, "ncf recommend: out of memory\n");
        ncf_outfile_close(of, 0, NULL);
        status = 1;
    } else {
        FILE *f = ncf_outfile_stream(of);
        const ncf_idmap *users = ncf_model_users(m), *its = ncf_model_items(m);
        for (int32_t u = 0; u < nu; u++)
            for (int q = 0; q < counts[u]; q++)
                fprintf(f, "%s\t%s\t%.6f\t%d\n", ncf_idmap_raw(users, u),
                        ncf_idmap_raw(its, items[(size_t)u * (size_t)k + (size_t)q]),
                        (double)scores[(size_t)u * (size_t)k + (size_t)q], q + 1);
        if (ncf_outfile_close(of, 1, &err) != NCF_OK) status = cli_fail("recommend", &err);
    }
    free(items);
    free(scores);
    free(counts);
    ncf_scorer_free(sc);
    return status;
}

/* --history / --history-file: fold-in (cli_foldin.c). */
static int recommend_history(const char *model_path, const char *user, int all, const char *history,
                             const char *history_file, const rules_opts *ro, const char *out, int k, int json)
{
    if (!model_path || user || all || (history && history_file)) {
        fprintf(stderr, "ncf recommend: --model and one of --user, --all, --history or --history-file are required\n");
        return 2;
    }
    if (history_file && (!out || json)) {
        fprintf(stderr, "ncf recommend: --history-file needs --out FILE (and writes TSV, not --json)\n");
        return 2;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail("recommend", &err);
    rule_lists lists;
    ncf_rules rules;
    if (rules_opts_load("recommend", m, ro, &lists, &rules) != 0) {
        ncf_model_free(m);
        return 1;
    }
    char unknown[96] = "";
    if (ro->only) snprintf(unknown, sizeof unknown, ", \"unknown_only\": %d", (int)lists.unknown_only);
    if (ro->exclude)
        snprintf(unknown + strlen(unknown), sizeof unknown - strlen(unknown), ", \"unknown_exclude\": %d",
                 (int)lists.unknown_exclude);
    int st = cli_recommend_history(m, &rules, unknown, history, history_file, out, k, json);
    rule_lists_free(&lists);
    ncf_model_free(m);
    return st;
}

int cmd_recommend(int argc, char **argv)
{
    const char *cmd = "recommend";
    const char *model_path = NULL, *user = NULL, *out = NULL, *history = NULL, *history_file = NULL;
    int k = 10, json = 0, all = 0, threads = 0;
    rules_opts ro = {NULL, NULL, 0};
    opt_spec specs[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0},
        {"user", 0, OPT_STRING, &user, 0, 0, NULL, 0},
        {"k", 'k', OPT_INT, &k, 1, 100000, NULL, 0},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
        {"all", 0, OPT_FLAG, &all, 0, 0, NULL, 0},
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0},
        {"only", 0, OPT_STRING, &ro.only, 0, 0, NULL, 0},
        {"exclude", 0, OPT_STRING, &ro.exclude, 0, 0, NULL, 0},
        {"include-seen", 0, OPT_FLAG, &ro.include_seen, 0, 0, NULL, 0},
        {"history", 0, OPT_STRING, &history, 0, 0, NULL, 0},
        {"history-file", 0, OPT_STRING, &history_file, 0, 0, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), pos, 0, &n_pos, HELP,
                                NULL);
    if (rc >= 0) return rc;
    if (history || history_file)
        return recommend_history(model_path, user, all, history, history_file, &ro, out, k, json);
    if (!model_path || (!user && !all) || (user && all)) {
        fprintf(stderr, "ncf recommend: --model and one of --user or --all are required (see ncf recommend --help)\n");
        return 2;
    }
    if (all && (!out || json)) {
        fprintf(stderr, "ncf recommend: --all needs --out FILE (and writes TSV, not --json)\n");
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
    if (all) {
        int st = recommend_all(m, &rules, k, out, threads);
        rule_lists_free(&lists);
        ncf_model_free(m);
        return st;
    }
    int32_t u = ncf_idmap_find(ncf_model_users(m), user, strlen(user));
    if (u < 0) {
        fprintf(stderr, "ncf recommend: user '%s' is not in the model (%d users known)\n", user,
                ncf_model_get_config(m)->n_users);
        rule_lists_free(&lists);
        ncf_model_free(m);
        return 1;
    }
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    ncf_scorer *sc = NULL;
    int n = 0, status = 0;
    if (!items || !scores || ncf_scorer_create(m, 1, &sc, &err) != NCF_OK ||
        ncf_scorer_recommend_ex(sc, u, &rules, k, items, scores, &n) != NCF_OK) {
        fprintf(stderr, "ncf recommend: out of memory\n");
        status = 1;
    } else if (json) {
        printf("{\"user\": ");
        cli_json_string(user);
        if (ro.only) printf(", \"unknown_only\": %d", (int)lists.unknown_only);
        if (ro.exclude) printf(", \"unknown_exclude\": %d", (int)lists.unknown_exclude);
        printf(", \"items\": [");
        for (int q = 0; q < n; q++) {
            printf(q ? ", {\"item\": " : "{\"item\": ");
            cli_json_string(ncf_idmap_raw(ncf_model_items(m), items[q]));
            /* JSON has no NaN or infinity: a score that overflowed (finite
             * but huge weights) is null, as JavaScript's JSON.stringify does */
            if (isfinite(scores[q])) printf(", \"score\": %.6g}", (double)scores[q]);
            else printf(", \"score\": null}");
        }
        printf("]}\n");
    } else {
        for (int q = 0; q < n; q++)
            printf("%d\t%s\t%.6f\n", q + 1, ncf_idmap_raw(ncf_model_items(m), items[q]), (double)scores[q]);
    }
    free(items);
    free(scores);
    ncf_scorer_free(sc);
    rule_lists_free(&lists);
    ncf_model_free(m);
    return status;
}
