/* main.c — the ncf tool: subcommand dispatch and the global usage text. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *USAGE =
    "Usage: ncf COMMAND [options]      (ncf COMMAND --help for its options)\n"
    "\n"
    "Neural Collaborative Filtering (GMF, MLP, NeuMF) on implicit feedback.\n"
    "\n"
    "Commands:\n"
    "  train       train a model and evaluate HR@K / NDCG@K after every epoch\n"
    "  eval        evaluate a saved model on a dataset\n"
    "  recommend   top-K items for a user (or every user), in raw ids\n"
    "  similar     the items nearest an item (or every item) by cosine\n"
    "  serve       HTTP/JSON recommendation service\n"
    "  export      weights as safetensors, id maps as TSV\n"
    "  split       leave-one-out split of an interactions file, in the NCF format\n"
    "  synth       write deterministic synthetic implicit-feedback data\n"
    "\n"
    "Example:\n"
    "  ncf synth --out demo.tsv\n"
    "  ncf train --data demo.tsv --model neumf --epochs 10 --out demo.ncf\n"
    "  ncf recommend --model demo.ncf --user u1 -k 10\n"
    "\n"
    "Exit status: 0 success, 1 error (bad input, unknown user, ...), 2 usage error.\n";

int main(int argc, char **argv)
{
    if (argc < 2) {
        fputs(USAGE, stderr);
        return 2;
    }
    const char *c = argv[1];
    if (strcmp(c, "--help") == 0 || strcmp(c, "-h") == 0 || strcmp(c, "help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(c, "--version") == 0) {
        printf("ncf %s\n", ncf_version());
        return 0;
    }
    if (strcmp(c, "train") == 0) return cmd_train(argc - 2, argv + 2);
    if (strcmp(c, "eval") == 0) return cmd_eval(argc - 2, argv + 2);
    if (strcmp(c, "recommend") == 0) return cmd_recommend(argc - 2, argv + 2);
    if (strcmp(c, "split") == 0) return cmd_split(argc - 2, argv + 2);
    if (strcmp(c, "synth") == 0) return cmd_synth(argc - 2, argv + 2);
    if (strcmp(c, "serve") == 0) return cmd_serve(argc - 2, argv + 2);
    if (strcmp(c, "export") == 0) return cmd_export(argc - 2, argv + 2);
    if (strcmp(c, "similar") == 0) return cmd_similar(argc - 2, argv + 2);
    fprintf(stderr, "ncf: unknown command '%s'\n\n%s", c, USAGE);
    return 2;
}
