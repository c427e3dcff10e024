/* common.c — what the ncf subcommands share: data options and errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

const char *DATA_OPTS_HELP =
    "Data options (for a single interactions file; the NCF prefix format needs none):\n"
    "  --format auto|ncf|delimited|lists   input format (auto: PREFIX.train.rating -> ncf;\n"
    "                                      '::', tab, ',' or whitespace guessed from the file;\n"
    "                                      the layout read goes to stderr: 'ncf CMD: reading\n"
    "                                      FILE as tab-separated user item rating time'; not\n"
    "                                      with train --quiet)\n"
    "  --sep S                   field separator (default: guessed)\n"
    "  --header auto|yes|no      skip a header line (auto: detected)\n"
    "  --user-col N --item-col N --rating-col N --time-col N\n"
    "                            1-based columns (defaults 1, 2, 3, 4 when present; 0 = none)\n"
    "  --min-rating X            keep only interactions rated >= X (implicit positives)\n"
    "  --negatives N             test negatives drawn per user when the data has none (99)\n"
    "  --test FILE               a separate test file (same format): the data file is\n"
    "                            then all training and every pair here a test case\n"
    "                            (several per user: Gowalla's test.txt)\n"
    "  --validation              hold out a validation case per user: each user's\n"
    "                            latest training interaction (NCF prefix without\n"
    "                            .valid files, or --test), else the second-latest\n"
    "Files must be text: a NUL byte, or an id that is not UTF-8 or holds a control\n"
    "character, is an error naming file and line; a UTF-8 byte-order mark is skipped.\n";

const char *EVAL_OPTS_HELP =
    "Evaluation:\n"
    "  --eval sampled|full       sampled: each held-out item against its 99 (or listed)\n"
    "                            negatives (NCF paper, default); full: against every item\n"
    "                            the user has no training interaction with\n"
    "  --topk K[,K...]           cutoffs (default 10); the first is the primary one:\n"
    "                            best epoch and early stopping compare HR@K (sampled)\n"
    "                            or Recall@K (full)\n";

void data_opts_specs(data_opts *d, opt_spec *s)
{
    memset(d, 0, sizeof *d);
    d->negatives = 99;
    d->user_col = 1;
    d->item_col = 2;
    d->rating_col = -1;
    d->time_col = -1;
    opt_spec specs[DATA_OPT_COUNT] = {
        {"format", 0, OPT_CHOICE, &d->format, 0, 0, "auto|ncf|delimited|lists", 0},
        {"sep", 0, OPT_STRING, &d->sep, 0, 0, NULL, 0},
        {"header", 0, OPT_CHOICE, &d->header, 0, 0, "auto|yes|no", 0},
        {"user-col", 0, OPT_INT, &d->user_col, 1, 1000, NULL, 0},
        {"item-col", 0, OPT_INT, &d->item_col, 1, 1000, NULL, 0},
        {"rating-col", 0, OPT_INT, &d->rating_col, 0, 1000, NULL, 0},
        {"time-col", 0, OPT_INT, &d->time_col, 0, 1000, NULL, 0},
        {"min-rating", 0, OPT_DOUBLE, &d->min_rating, -1e300, 1e300, NULL, 0},
        {"negatives", 0, OPT_INT, &d->negatives, 0, 100000, NULL, 0},
        {"test", 0, OPT_STRING, &d->test, 0, 0, NULL, 0},
        {"validation", 0, OPT_FLAG, &d->validation, 0, 0, NULL, 0},
    };
    memcpy(s, specs, sizeof specs);
}

/* ncf_read_options.on_layout: "ncf CMD: reading FILE as LAYOUT" on stderr
 * (stdout stays the command's, JSON with --json); ctx is the command name. */
static void print_layout(void *ctx, const char *path, const char *layout, int guessed)
{
    fprintf(stderr, "ncf %s: reading %s as %s%s\n", (const char *)ctx, path, layout,
            guessed ? " (guessed; --format, --sep override)" : "");
}

int data_opts_to_load(const char *cmd, data_opts *d, opt_spec *specs, uint64_t seed, ncf_load_options *lo)
{
    ncf_load_options_default(lo);
    ncf_read_options *r = &lo->read;
    if (!args_given("quiet")) { /* train --quiet: no layout line either */
        r->on_layout = print_layout;
        r->layout_ctx = (void *)cmd;
    }
    r->format = (ncf_format)d->format;
    if (d->sep) {
        if (strcmp(d->sep, "\\t") == 0 || strcmp(d->sep, "tab") == 0) r->sep = "\t";
        else r->sep = d->sep;
    }
    r->header = d->header == 0 ? -1 : d->header == 1 ? 1 : 0;
    r->user_col = d->user_col - 1;
    r->item_col = d->item_col - 1;
    r->rating_col = args_find(specs, DATA_OPT_COUNT, "rating-col")->given ? d->rating_col - 1 : -2;
    r->time_col = args_find(specs, DATA_OPT_COUNT, "time-col")->given ? d->time_col - 1 : -2;
    if (r->user_col == r->item_col) {
        fprintf(stderr, "ncf %s: --user-col and --item-col must differ\n", cmd);
        return 2;
    }
    if (args_find(specs, DATA_OPT_COUNT, "min-rating")->given) {
        r->use_min_rating = 1;
        r->min_rating = d->min_rating;
        if (r->rating_col == -1) {
            fprintf(stderr, "ncf %s: --min-rating needs a rating column\n", cmd);
            return 2;
        }
    }
    lo->n_negatives = d->negatives;
    lo->seed = seed;
    lo->test_path = d->test;
    lo->validation = d->validation;
    return 0;
}

int cli_eval_config(const char *cmd, int mode, const char *topk, ncf_eval_config *ec)
{
    ncf_eval_config_default(ec);
    ec->mode = mode ? NCF_EVAL_FULL : NCF_EVAL_SAMPLED;
    int32_t k[NCF_MAX_TOPK];
    int n = args_parse_int_list(topk, k, NCF_MAX_TOPK);
    if (n < 1) {
        fprintf(stderr, "ncf %s: --topk needs 1 to %d comma-separated positive cutoffs, got '%s'\n", cmd, NCF_MAX_TOPK,
                topk);
        return 2;
    }
    ec->n_k = n;
    for (int j = 0; j < n; j++) ec->k[j] = k[j];
    ncf_err err = {{0}};
    if (ncf_eval_config_check(ec, &err) != NCF_OK) {
        fprintf(stderr, "ncf %s: %s\n", cmd, err.msg);
        return 2;
    }
    return 0;
}

void cli_print_metrics_json(FILE *out, const char *prefix, const ncf_metrics *mt)
{
    for (int j = 0; j < mt->n_k; j++)
        for (int q = 0; q < NCF_METRICS; q++)
            fprintf(out, ", \"%s%s@%d\": %.6f", prefix, ncf_metric_name((ncf_metric)q), mt->k[j], mt->at[j][q]);
}

int cli_meta_next(const char **p, const char **key, size_t *klen, const char **val, size_t *vlen)
{
    while (*p && **p) {
        const char *line = *p, *nl = strchr(line, '\n');
        const size_t len = nl ? (size_t)(nl - line) : strlen(line);
        const char *eq = memchr(line, '=', len);
        *p = nl ? nl + 1 : NULL;
        if (!eq) continue;
        *key = line;
        *klen = (size_t)(eq - line);
        *val = eq + 1;
        *vlen = len - *klen - 1;
        return 1;
    }
    return 0;
}

const char *cli_meta_get(const char *meta, const char *key, char *buf, size_t n)
{
    const char *k, *v;
    size_t kl, vl;
    for (const char *p = meta; cli_meta_next(&p, &k, &kl, &v, &vl);)
        if (kl == strlen(key) && strncmp(k, key, kl) == 0) {
            if (vl > n - 1) vl = n - 1;
            memcpy(buf, v, vl);
            buf[vl] = '\0';
            return buf;
        }
    return NULL;
}

int cli_fail(const char *cmd, const ncf_err *err)
{
    fprintf(stderr, "ncf %s: %s\n", cmd, err->msg);
    return 1;
}

int cli_dataset_for_model(const char *cmd, const ncf_model *m, const char *path, const ncf_load_options *lo,
                          ncf_dataset **out, int32_t *dropped)
{
    ncf_err err = {{0}};
    ncf_dataset *ds = NULL;
    if (ncf_dataset_load(path, lo, &ds, &err) != NCF_OK) return cli_fail(cmd, &err);
    ncf_status st = ncf_dataset_remap(ds, ncf_model_users(m), ncf_model_items(m), out, dropped, &err);
    ncf_dataset_free(ds);
    if (st != NCF_OK) return cli_fail(cmd, &err);
    return 0;
}

void cli_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}
