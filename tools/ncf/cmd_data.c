/* cmd_data.c — `ncf split` (leave-one-out split written in the NCF format)
 * and `ncf synth` (deterministic synthetic implicit feedback). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static const char *SPLIT_HELP =
    "Usage: ncf split INPUT --out PREFIX [--validation] [--negatives 99] [--seed N]\n"
    "                 [data options]\n"
    "\n"
    "Leave-one-out split: holds out each user's latest interaction (latest timestamp;\n"
    "ties: the later line; no timestamps: the last line) and draws test negatives\n"
    "among the items the user never interacted with. A user with one interaction\n"
    "stays in train. Writes\n"
    "PREFIX.train.rating, .test.rating, .test.negative (NCF format, dense 0-based\n"
    "ids) and PREFIX.user.map / .item.map (index, raw id), all or none.\n"
    "\n"
    "With --validation, each user's second-latest interaction (users with three or\n"
    "more) is held out too, as PREFIX.valid.rating / .valid.negative, for model\n"
    "selection and ncf train --early-stop.\n"
    "\n";

/* ncf_split_write writes its files all or none, each through a temporary
 * file renamed onto it: an existing PREFIX.* that is not a regular file
 * would be replaced (a device, a FIFO, a symbolic link) or cannot be (a
 * directory), so it is refused before any work. Returns 1 when every
 * output may be written, else prints why and returns 0. */
static int split_outputs_ok(const char *prefix, int validation)
{
    static const char *const suffix[] = {".train.rating", ".test.rating", ".test.negative", ".user.map",
                                         ".item.map",     ".valid.rating", ".valid.negative"};
    for (int k = 0; k < (validation ? 7 : 5); k++) {
        char path[4096];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s%s", prefix, suffix[k]) >= (int)sizeof path) {
            fprintf(stderr, "ncf split: --out %s: path too long\n", prefix);
            return 0;
        }
        if (lstat(path, &sb) != 0 || S_ISREG(sb.st_mode)) continue;
        const mode_t m = sb.st_mode;
        fprintf(stderr, "ncf split: %s: is %s; split writes its outputs as regular files only (remove it or choose "
                        "another --out)\n",
                path, S_ISLNK(m) ? "a symbolic link" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
                      : S_ISDIR(m) ? "a directory" : S_ISBLK(m) ? "a block device" : "not a regular file");
        return 0;
    }
    return 1;
}

int cmd_split(int argc, char **argv)
{
    const char *cmd = "split", *out = NULL;
    uint64_t seed = 1;
    data_opts d;
    opt_spec specs[DATA_OPT_COUNT + 2];
    data_opts_specs(&d, specs);
    opt_spec own[] = {{"out", 0, OPT_STRING, &out, 0, 0, NULL, 0}, {"seed", 0, OPT_U64, &seed, 0, 0, NULL, 0}};
    memcpy(specs + DATA_OPT_COUNT, own, sizeof own);
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, DATA_OPT_COUNT + 2, pos, 1, &n_pos, SPLIT_HELP, DATA_OPTS_HELP);
    if (rc >= 0) return rc;
    if (n_pos != 1 || !out) {
        fprintf(stderr, "ncf split: needs INPUT and --out PREFIX (see ncf split --help)\n");
        return 2;
    }
    ncf_load_options lo;
    if (data_opts_to_load(cmd, &d, specs, seed, &lo)) return 2;
    const int validation = d.validation;
    if (d.test) {
        fprintf(stderr, "ncf split: --test does not apply: split holds out the test cases itself\n");
        return 2;
    }
    if (lo.read.format == NCF_FORMAT_NCF) {
        fprintf(stderr, "ncf split: INPUT is one interactions file, not an NCF prefix\n");
        return 2;
    }
    if (!split_outputs_ok(out, validation)) return 1;
    ncf_err err = {{0}};
    ncf_interactions *x = NULL;
    if (ncf_interactions_read(pos[0], &lo.read, &x, &err) != NCF_OK) return cli_fail(cmd, &err);
    ncf_status st = ncf_split_write(x, out, lo.n_negatives, validation, seed, &err);
    if (st == NCF_OK)
        printf("%s: %d users, %d items, %lld interactions -> %s.{train.rating,test.rating,test.negative,%suser.map,item.map}\n",
               pos[0], ncf_idmap_size(x->users), ncf_idmap_size(x->items), (long long)x->n, out,
               validation ? "valid.rating,valid.negative," : "");
    ncf_interactions_free(x);
    return st == NCF_OK ? 0 : cli_fail(cmd, &err);
}

static const char *SYNTH_HELP =
    "Usage: ncf synth --out FILE [--users N] [--items N] [--interactions N]\n"
    "                 [--clusters K] [--zipf X] [--focus X] [--seed N]\n"
    "\n"
    "Writes deterministic synthetic implicit feedback (user TAB item TAB rating TAB\n"
    "timestamp, raw ids like u17 / i42): power-law item popularity, latent taste\n"
    "groups, log-normal user activity, increasing timestamps per user.\n"
    "Defaults: 2000 users, 1500 items, 150000 interactions, 24 clusters, zipf 0.9,\n"
    "focus 0.8 (share of picks from the user's own groups), seed 1.\n"
    "\n";

int cmd_synth(int argc, char **argv)
{
    const char *cmd = "synth", *out = NULL;
    ncf_synth_options o;
    ncf_synth_options_default(&o);
    int users = o.n_users, items = o.n_items, clusters = o.n_clusters;
    int64_t inter = o.n_interactions;
    opt_spec specs[] = {
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"users", 0, OPT_INT, &users, 1, 1e9, NULL, 0},
        {"items", 0, OPT_INT, &items, 4, 1e9, NULL, 0},
        {"interactions", 0, OPT_I64, &inter, 2, 1e12, NULL, 0},
        {"clusters", 0, OPT_INT, &clusters, 1, 1e6, NULL, 0},
        {"zipf", 0, OPT_DOUBLE, &o.zipf, 0, 3, NULL, 0},
        {"focus", 0, OPT_DOUBLE, &o.focus, 0, 1, NULL, 0},
        {"seed", 0, OPT_U64, &o.seed, 0, 0, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, 8, pos, 0, &n_pos, SYNTH_HELP, NULL);
    if (rc >= 0) return rc;
    if (!out) {
        fprintf(stderr, "ncf synth: --out FILE is required (see ncf synth --help)\n");
        return 2;
    }
    o.n_users = users;
    o.n_items = items;
    o.n_clusters = clusters;
    o.n_interactions = inter;
    ncf_err err = {{0}};
    if (ncf_synth_write(&o, out, &err) != NCF_OK) return cli_fail(cmd, &err);
    return 0;
}

static const char *EXPORT_HELP =
    "Usage: ncf export --model MODEL --format safetensors --out FILE [--ids FILE]\n"
    "\n"
    "Writes the weights as safetensors (F32; tensor names in docs/serving.md, e.g.\n"
    "gmf.user_embedding, mlp.0.weight [out, in], output.weight) and the id maps as\n"
    "TSV lines user|item<TAB>index<TAB>raw id to --ids (default FILE.ids.tsv), so the\n"
    "model loads in PyTorch (safetensors.torch.load_file) or NumPy.\n"
    "\n";

int cmd_export(int argc, char **argv)
{
    const char *cmd = "export", *model_path = NULL, *out = NULL, *ids = NULL;
    int format = -1;
    opt_spec specs[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0},
        {"format", 0, OPT_CHOICE, &format, 0, 0, "safetensors", 0},
        {"out", 0, OPT_STRING, &out, 0, 0, NULL, 0},
        {"ids", 0, OPT_STRING, &ids, 0, 0, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, 4, pos, 0, &n_pos, EXPORT_HELP, NULL);
    if (rc >= 0) return rc;
    if (!model_path || !out || format != 0) {
        fprintf(stderr, "ncf export: --model, --format safetensors and --out are required (see ncf export --help)\n");
        return 2;
    }
    char ids_default[4096];
    if (!ids) {
        snprintf(ids_default, sizeof ids_default, "%s.ids.tsv", out);
        ids = ids_default;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail(cmd, &err);
    ncf_status st = ncf_model_export_safetensors(m, out, ids, &err);
    ncf_model_free(m);
    if (st != NCF_OK) return cli_fail(cmd, &err);
    printf("wrote %s and %s\n", out, ids);
    return 0;
}
