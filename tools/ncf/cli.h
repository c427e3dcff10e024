/* cli.h — the ncf subcommands and what they share: the data-reading options
 * (format, separator, columns, --min-rating) and error reporting. Exit
 * codes: 0 success, 1 runtime error (bad file, unknown user, ...), 2 usage. */
#ifndef NCF_TOOL_CLI_H
#define NCF_TOOL_CLI_H

#include <stdio.h>

#include "args.h"
#include "ncf/ncf.h"

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_synth(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_similar(int argc, char **argv);

/* Data options shared by train, eval and split. */
typedef struct data_opts {
    int format;        /* 0 auto, 1 ncf, 2 delimited, 3 lists */
    const char *sep;
    int header;        /* 0 auto, 1 yes, 2 no */
    int user_col, item_col, rating_col, time_col; /* 1-based; 0 = default/none */
    double min_rating;
    int negatives;
    const char *test;  /* --test FILE */
    int validation;    /* --validation */
} data_opts;

#define DATA_OPT_COUNT 11
/* Fills specs[0..DATA_OPT_COUNT) for d (defaults set in d). */
void data_opts_specs(data_opts *d, opt_spec *specs);
/* Converts to library options; returns 0 or prints a usage error and returns 2. */
int data_opts_to_load(const char *cmd, data_opts *d, opt_spec *specs, uint64_t seed, ncf_load_options *out);
/* Help text for the data options. */
extern const char *DATA_OPTS_HELP;

/* Evaluation options shared by train and eval: --eval sampled|full (mode 0|1)
 * and --topk K[,K...]. Fills ec; returns 0 or prints a usage error and
 * returns 2. */
int cli_eval_config(const char *cmd, int mode, const char *topk, ncf_eval_config *ec);
extern const char *EVAL_OPTS_HELP;

/* Prints ', "<prefix><name>@K": value' for every metric and cutoff of mt. */
void cli_print_metrics_json(FILE *out, const char *prefix, const ncf_metrics *mt);

/* A model's metadata is "key=value" lines (ncf_model_meta). cli_meta_next
 * steps *p over them: returns 1 with the key and value of the next line
 * that has an '=' (other lines are skipped) and moves *p past it, 0 at the
 * end. cli_meta_get copies the value of `key` into buf (cut to n - 1
 * bytes) and returns buf, or NULL when there is no such line. */
int cli_meta_next(const char **p, const char **key, size_t *klen, const char **val, size_t *vlen);
const char *cli_meta_get(const char *meta, const char *key, char *buf, size_t n);

/* Business-rule options of recommend and similar (rules_opts.c): --only
 * FILE, --exclude FILE (one raw item id per line; a trailing CR is dropped,
 * blank lines are skipped) and --include-seen. */
typedef struct rules_opts {
    const char *only, *exclude; /* paths, or NULL */
    int include_seen;
} rules_opts;
typedef struct rule_lists {
    int32_t *only, *exclude; /* item indices (malloc'd) */
    int32_t n_only, n_exclude;
    int32_t unknown_only, unknown_exclude; /* ids the model does not know (ignored) */
} rule_lists;
#define RULES_OPTS_HELP                                                                     \
    "  --only FILE        only items listed in FILE (one raw item id per line)\n"           \
    "  --exclude FILE     never the items listed in FILE\n"
#define RULES_NOTE_HELP                                                                     \
    "Ids the model does not know are ignored and counted on stderr; an --only list\n"       \
    "none of whose ids the model knows allows no item.\n"
/* Reads o's lists into lists (indices of m's items) and fills r, which
 * points into lists; the count of unknown ids goes to stderr. Returns 0,
 * or 1 after printing "ncf CMD: FILE: reason" (a file that cannot be read). */
int rules_opts_load(const char *cmd, const ncf_model *m, const rules_opts *o, rule_lists *lists, ncf_rules *r);
void rule_lists_free(rule_lists *lists);

/* Prints s to stdout as a JSON string: '"' and backslash escaped, control
 * bytes as \u00XX, other bytes as they are (ids are UTF-8 text). */
void cli_json_string(const char *s);

/* Prints "ncf CMD: message" to stderr and returns 1. */
int cli_fail(const char *cmd, const ncf_err *err);

/* Dataset in the model's id space: test cases whose user or item the model
 * does not know are dropped (counted in *dropped). */
int cli_dataset_for_model(const char *cmd, const ncf_model *m, const char *path, const ncf_load_options *lo,
                          ncf_dataset **out, int32_t *dropped);

/* Fold-in (cli_foldin.c). cli_foldin_config: the defaults, with the
 * negatives' weight taken from the model's training ratio (meta "neg"). */
void cli_foldin_config(const ncf_model *m, ncf_foldin_config *cfg);
/* `eval --fold-in`: the data in the id space of a copy of m (*m_out) that
 * also holds every test user of the data m does not know who has a
 * training item m knows, folded in from those items (*folded of them);
 * other test cases of unknown users or items are dropped (*dropped). */
int cli_dataset_foldin(const char *cmd, const ncf_model *m, const char *path, const ncf_load_options *lo,
                       const ncf_foldin_config *fcfg, int threads, ncf_model **m_out, ncf_dataset **out,
                       int32_t *dropped, int32_t *folded);
/* `recommend --history LIST` (top k on stdout, TSV or JSON) or
 * `--history-file FILE --out OUT` (lines "name TAB item,item,..." in, TSV
 * "name TAB item TAB score TAB rank" out), under rules; unknown_lists is
 * the JSON answer's counts of unknown list ids (", \"unknown_only\": N..."
 * or ""). Returns the exit code. */
int cli_recommend_history(const ncf_model *m, const ncf_rules *rules, const char *unknown_lists, const char *history,
                          const char *history_file, const char *out, int k, int json);

#endif
