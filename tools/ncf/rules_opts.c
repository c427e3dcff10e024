/* rules_opts.c — the business-rule options of `ncf recommend` and `ncf
 * similar`: --only FILE and --exclude FILE (one raw item id per line) read
 * into item indices of the model, ids the model does not know counted and
 * reported on stderr (not an error), and --include-seen; the result is an
 * ncf_rules for the library. Does not decide what the rules mean: that is
 * the library's (include/ncf/model.h, ncf_rules). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "cli.h"

/* Reads path's ids into *out (indices of m's items, *n of them); unknown
 * ids are counted in lists->unknown_*. Returns 0, or 1 after a message. */
static int read_list(const char *cmd, const ncf_model *m, const char *opt, const char *path, int32_t **out,
                     int32_t *n, int32_t *unknown)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "ncf %s: --%s %s: %s\n", cmd, opt, path, strerror(errno));
        return 1;
    }
    const ncf_idmap *items = ncf_model_items(m);
    size_t cap = 0, used = 0;
    int32_t *list = NULL;
    char *line = NULL, first_unknown[64] = "";
    size_t line_cap = 0;
    long lineno = 0, first_unknown_line = 0, ids = 0;
    ssize_t len;
    int status = 0;
    while ((len = getline(&line, &line_cap, f)) >= 0) {
        lineno++;
        if (len && line[len - 1] == '\n') len--;
        if (len && line[len - 1] == '\r') len--;
        if (!len) continue; /* blank lines are not ids */
        ids++;
        int32_t i = ncf_idmap_find(items, line, (size_t)len);
        if (i < 0) {
            if (!*unknown) {
                snprintf(first_unknown, sizeof first_unknown, "%.*s", (int)(len < 60 ? len : 60), line);
                first_unknown_line = lineno;
            }
            (*unknown)++;
            continue;
        }
        if (used == cap) {
            size_t nc = cap ? 2 * cap : 256;
            int32_t *nl = realloc(list, nc * sizeof *nl);
            if (!nl) {
                fprintf(stderr, "ncf %s: out of memory reading --%s %s\n", cmd, opt, path);
                status = 1;
                break;
            }
            list = nl;
            cap = nc;
        }
        if (used >= (size_t)INT32_MAX) {
            fprintf(stderr, "ncf %s: --%s %s: more than %d ids\n", cmd, opt, path, INT32_MAX);
            status = 1;
            break;
        }
        list[used++] = i;
    }
    if (!status && ferror(f)) {
        fprintf(stderr, "ncf %s: --%s %s: read failed: %s\n", cmd, opt, path, strerror(errno));
        status = 1;
    }
    free(line);
    fclose(f);
    if (status) {
        free(list);
        return 1;
    }
    if (*unknown)
        fprintf(stderr, "ncf %s: --%s %s: %d of %ld ids are not items of the model, ignored (the first: '%s', line %ld)\n",
                cmd, opt, path, (int)*unknown, ids, first_unknown, first_unknown_line);
    *out = list;
    *n = (int32_t)used;
    return 0;
}

int rules_opts_load(const char *cmd, const ncf_model *m, const rules_opts *o, rule_lists *lists, ncf_rules *r)
{
    memset(lists, 0, sizeof *lists);
    memset(r, 0, sizeof *r);
    r->include_seen = o->include_seen;
    if (o->only) {
        if (read_list(cmd, m, "only", o->only, &lists->only, &lists->n_only, &lists->unknown_only)) return 1;
        static const int32_t none[1] = {0};
        r->only = lists->only ? lists->only : none; /* an allow-list with no known item allows none */
        r->n_only = lists->n_only;
    }
    if (o->exclude) {
        if (read_list(cmd, m, "exclude", o->exclude, &lists->exclude, &lists->n_exclude, &lists->unknown_exclude)) {
            rule_lists_free(lists);
            return 1;
        }
        r->exclude = lists->exclude;
        r->n_exclude = lists->n_exclude;
    }
    return 0;
}

void rule_lists_free(rule_lists *lists)
{
    free(lists->only);
    free(lists->exclude);
    memset(lists, 0, sizeof *lists);
}
