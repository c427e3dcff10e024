/* cmd_recommend.c — `ncf recommend`: the top-K items for one user, in raw
 * ids, never an item the user had in training. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *HELP =
    "Usage: ncf recommend --model MODEL --user RAW_ID [-k 10] [--json]\n"
    "\n"
    "Prints the K best-scoring items the user has not interacted with in training,\n"
    "one per line: rank, raw item id, score (logit). Ties go to the earlier item.\n"
    "\n";

static void json_string(const char *s)
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

int cmd_recommend(int argc, char **argv)
{
    const char *cmd = "recommend";
    const char *model_path = NULL, *user = NULL;
    int k = 10, json = 0;
    opt_spec specs[] = {
        {"model", 0, OPT_STRING, &model_path, 0, 0, NULL, 0},
        {"user", 0, OPT_STRING, &user, 0, 0, NULL, 0},
        {"k", 'k', OPT_INT, &k, 1, 100000, NULL, 0},
        {"json", 0, OPT_FLAG, &json, 0, 0, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse(cmd, argc, argv, specs, 4, pos, 0, &n_pos);
    if (rc == 1) {
        printf("%s", HELP);
        return 0;
    }
    if (rc) return rc;
    if (!model_path || !user) {
        fprintf(stderr, "ncf recommend: --model and --user are required (see ncf recommend --help)\n");
        return 2;
    }
    ncf_err err = {{0}};
    ncf_model *m = NULL;
    if (ncf_model_load(model_path, &m, &err) != NCF_OK) return cli_fail(cmd, &err);
    int32_t u = ncf_idmap_find(ncf_model_users(m), user, strlen(user));
    if (u < 0) {
        fprintf(stderr, "ncf recommend: user '%s' is not in the model (%d users known)\n", user,
                ncf_model_get_config(m)->n_users);
        ncf_model_free(m);
        return 1;
    }
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    int n = 0, status = 0;
    if (!items || !scores || ncf_model_recommend(m, u, k, items, scores, &n) != NCF_OK) {
        fprintf(stderr, "ncf recommend: out of memory\n");
        status = 1;
    } else if (json) {
        printf("{\"user\": ");
        json_string(user);
        printf(", \"items\": [");
        for (int q = 0; q < n; q++) {
            printf(q ? ", {\"item\": " : "{\"item\": ");
            json_string(ncf_idmap_raw(ncf_model_items(m), items[q]));
            printf(", \"score\": %.6g}", (double)scores[q]);
        }
        printf("]}\n");
    } else {
        for (int q = 0; q < n; q++)
            printf("%d\t%s\t%.6f\n", q + 1, ncf_idmap_raw(ncf_model_items(m), items[q]), (double)scores[q]);
    }
    free(items);
    free(scores);
    ncf_model_free(m);
    return status;
}
