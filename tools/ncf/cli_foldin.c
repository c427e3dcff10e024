/* cli_foldin.c — what the CLI needs of fold-in (ncf/model.h) beyond the
 * library's calls: `ncf eval --fold-in`'s model, a copy of the saved model
 * that also holds every test user of the data the model does not know,
 * folded in from that user's training interactions in the data; and
 * `ncf recommend --history` / `--history-file`, users given by their items.
 * Does not evaluate (cmd_eval.c does, as for any model) and does not
 * change the rows of the users the model knows. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_text.h"

void cli_foldin_config(const ncf_model *m, ncf_foldin_config *cfg)
{
    ncf_foldin_config_default(cfg);
    char buf[64];
    /* the negatives' weight is the training's negatives per positive */
    if (cli_meta_get(ncf_model_meta(m), "neg", buf, sizeof buf)) {
        char *end;
        double v = strtod(buf, &end);
        if (end != buf && *end == '\0' && v >= 1.0 && v <= 1000.0) cfg->neg_weight = (float)v;
    }
}

int cli_dataset_foldin(const char *cmd, const ncf_model *m, const char *path, const ncf_load_options *lo,
                       const ncf_foldin_config *fcfg, int threads, ncf_model **m_out, ncf_dataset **out,
                       int32_t *dropped, int32_t *folded)
{
    ncf_err err = {{0}};
    ncf_dataset *raw = NULL, *ds = NULL;
    ncf_idmap *users = NULL;
    ncf_model *ext = NULL;
    ncf_scorer *sc = NULL;
    ncf_foldin *fo = NULL;
    int rc = 1;
    *m_out = NULL;
    *out = NULL;
    *folded = 0;
    if (ncf_dataset_load(path, lo, &raw, &err) != NCF_OK) return cli_fail(cmd, &err);
    const ncf_idmap *known_users = ncf_model_users(m), *items = ncf_model_items(m);
    if (!known_users || !items) {
        fprintf(stderr, "ncf %s: the model has no id maps\n", cmd);
        goto done;
    }
    const int32_t n_known = ncf_idmap_size(known_users);
    /* the users to fold in: test users the model does not know that have a
     * training item it knows, in the data's order */
    if (ncf_idmap_clone(known_users, &users) != NCF_OK) goto nomem;
    for (int32_t c = 0; c < raw->test.n; c++) {
        const int32_t u = raw->test.users[c];
        if (c > 0 && raw->test.users[c - 1] == u) continue;
        const char *rid = ncf_idmap_raw(raw->user_ids, u);
        if (ncf_idmap_find(known_users, rid, strlen(rid)) >= 0) continue;
        int any = 0;
        for (int64_t t = raw->train_offsets[u]; t < raw->train_offsets[u + 1] && !any; t++) {
            const char *iid = ncf_idmap_raw(raw->item_ids, raw->train_items[t]);
            any = ncf_idmap_find(items, iid, strlen(iid)) >= 0;
        }
        int32_t idx;
        if (any && ncf_idmap_add(users, rid, strlen(rid), &idx) != NCF_OK) goto nomem;
    }
    if (ncf_dataset_remap(raw, users, items, &ds, dropped, &err) != NCF_OK) goto fail;
    ncf_model_config cfg = *ncf_model_get_config(m);
    cfg.n_users = ncf_idmap_size(users);
    if (ncf_model_create(&cfg, 1, &ext, &err) != NCF_OK || ncf_model_attach_data(ext, ds, &err) != NCF_OK ||
        ncf_model_init_warm(ext, m, NULL, NULL, &err) != NCF_OK || ncf_scorer_create(m, threads, &sc, &err) != NCF_OK ||
        ncf_foldin_create(sc, fcfg, &fo, &err) != NCF_OK)
        goto fail;
    /* each new user's rows, from their training items (already the model's indices) */
    int failed = 0;
    const int32_t n_new = cfg.n_users - n_known;
    const int T = ncf_threads_resolve(threads);
    (void)T;
#pragma omp parallel for schedule(dynamic, 4) num_threads(T)
    for (int32_t q = 0; q < n_new; q++) {
        const int32_t u = n_known + q;
        const int64_t b = ds->train_offsets[u], e = ds->train_offsets[u + 1];
        ncf_err uerr = {{0}};
        if (failed) continue;
        if (ncf_foldin_user(fo, ds->train_items + b, (int)(e - b), ext, u, NULL, &uerr) != NCF_OK) {
#pragma omp critical(foldin_err)
            {
                if (!failed) err = uerr;
                failed = 1;
            }
        }
    }
    if (failed) goto fail;
    *folded = n_new;
    *m_out = ext;
    *out = ds;
    ext = NULL;
    ds = NULL;
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "ncf %s: out of memory\n", cmd);
    goto done;
fail:
    rc = cli_fail(cmd, &err);
done:
    ncf_foldin_free(fo);
    ncf_scorer_free(sc);
    ncf_model_free(ext);
    ncf_dataset_free(ds);
    ncf_idmap_free(users);
    ncf_dataset_free(raw);
    return rc;
}

/* ---- ncf recommend --history / --history-file ------------------------------- */

/* Looks up the comma-separated raw ids of list (len bytes) in the model's
 * items: *n entries into idx (-1 for an id the model does not know).
 * Returns 0, or -1 for an empty list or an empty id (",," or a trailing
 * comma), or -2 out of memory. */
static int parse_history(const ncf_model *m, const char *list, size_t len, int32_t **idx, int *n)
{
    const ncf_idmap *items = ncf_model_items(m);
    *idx = NULL;
    *n = 0;
    if (len == 0) return -1;
    int cap = 1;
    for (size_t q = 0; q < len; q++) cap += list[q] == ',';
    int32_t *v = malloc((size_t)cap * sizeof *v);
    if (!v) return -2;
    int cnt = 0;
    for (size_t b = 0; b <= len;) {
        size_t e = b;
        while (e < len && list[e] != ',') e++;
        if (e == b) {
            free(v);
            return -1;
        }
        v[cnt++] = ncf_idmap_find(items, list + b, e - b);
        b = e + 1;
    }
    *idx = v;
    *n = cnt;
    return 0;
}

/* One folded user's top k: TSV lines (name first when not NULL) or JSON. */
static void print_answer(FILE *f, const ncf_model *m, const char *name, const int32_t *items, const float *scores,
                         int n, int n_given, int n_unknown, const char *unknown_lists, int json)
{
    const ncf_idmap *its = ncf_model_items(m);
    if (json) { /* through json_text.c, as the server's answers: ids checked and escaped */
        jtext t = {0};
        char head[96];
        snprintf(head, sizeof head, "{\"history\": %d, \"unknown\": %d", n_given, n_unknown);
        jt_lit(&t, head);
        jt_lit(&t, unknown_lists);
        jt_lit(&t, ", \"items\": [");
        for (int q = 0; q < n; q++) {
            const char *raw = ncf_idmap_raw(its, items[q]);
            jt_lit(&t, q ? ", {\"item\": " : "{\"item\": ");
            jt_str(&t, raw, strlen(raw));
            jt_lit(&t, ", \"score\": ");
            jt_num(&t, scores[q]);
            jt_lit(&t, "}");
        }
        jt_lit(&t, "]}\n");
        char *text = jt_take(&t);
        if (text) fputs(text, f);
        else fputs("ncf recommend: out of memory\n", stderr);
        free(text);
        return;
    }
    for (int q = 0; q < n; q++) {
        if (name) fprintf(f, "%s\t%s\t%.6f\t%d\n", name, ncf_idmap_raw(its, items[q]), (double)scores[q], q + 1);
        else fprintf(f, "%d\t%s\t%.6f\n", q + 1, ncf_idmap_raw(its, items[q]), (double)scores[q]);
    }
}

int cli_recommend_history(const ncf_model *m, const ncf_rules *rules, const char *unknown_lists, const char *history,
                          const char *history_file, const char *out, int k, int json)
{
    const char *cmd = "recommend";
    ncf_err err = {{0}};
    ncf_scorer *sc = NULL;
    ncf_foldin *fo = NULL;
    ncf_foldin_config fc;
    cli_foldin_config(m, &fc);
    int32_t *items = malloc((size_t)k * sizeof *items), *hist = NULL;
    float *scores = malloc((size_t)k * sizeof *scores);
    int status = 1, n_hist = 0, got = 0, unknown = 0;
    if (!items || !scores) goto nomem;
    if (history) { /* one user, answer on stdout */
        const int pr = parse_history(m, history, strlen(history), &hist, &n_hist);
        if (pr == -2) goto nomem;
        if (pr == -1) {
            fprintf(stderr, "ncf recommend: --history needs comma-separated item ids, got '%s'\n", history);
            status = 2;
            goto done;
        }
        if (ncf_scorer_create(m, 1, &sc, &err) != NCF_OK || ncf_foldin_create(sc, &fc, &fo, &err) != NCF_OK ||
            ncf_foldin_recommend_ex(fo, hist, n_hist, rules, k, items, scores, &got, &unknown, &err) != NCF_OK) {
            status = cli_fail(cmd, &err);
            goto done;
        }
        print_answer(stdout, m, NULL, items, scores, got, n_hist, unknown, unknown_lists, json);
        status = 0;
        goto done;
    }
    /* --history-file: one user a line, "name<TAB>item,item,...", answers to --out */
    FILE *in = fopen(history_file, "r");
    if (!in) {
        fprintf(stderr, "ncf recommend: %s: cannot open: %s\n", history_file, strerror(errno));
        goto done;
    }
    ncf_outfile *of = NULL;
    if (ncf_outfile_open(out, &of, &err) != NCF_OK) {
        fclose(in);
        status = cli_fail(cmd, &err);
        goto done;
    }
    if (ncf_scorer_create(m, 1, &sc, &err) != NCF_OK || ncf_foldin_create(sc, &fc, &fo, &err) != NCF_OK) {
        fclose(in);
        ncf_outfile_close(of, 0, NULL);
        status = cli_fail(cmd, &err);
        goto done;
    }
    FILE *f = ncf_outfile_stream(of);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long long lineno = 0, users = 0, skipped = 0, unknown_items = 0;
    int ok = 1;
    while (ok && (len = getline(&line, &cap, in)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        if (len == 0) continue;
        if (memchr(line, '\0', (size_t)len)) {
            fprintf(stderr, "ncf recommend: %s:%lld: a NUL byte (the file must be text)\n", history_file, lineno);
            ok = 0;
            break;
        }
        char *tab = strchr(line, '\t');
        if (!tab || tab == line) {
            fprintf(stderr, "ncf recommend: %s:%lld: expected 'name<TAB>item,item,...'\n", history_file, lineno);
            ok = 0;
            break;
        }
        *tab = '\0';
        free(hist);
        hist = NULL;
        const int pr = parse_history(m, tab + 1, (size_t)(line + len - (tab + 1)), &hist, &n_hist);
        if (pr == -2) {
            fprintf(stderr, "ncf recommend: out of memory\n");
            ok = 0;
            break;
        }
        if (pr == -1) {
            fprintf(stderr, "ncf recommend: %s:%lld: expected comma-separated item ids after the tab\n",
                    history_file, lineno);
            ok = 0;
            break;
        }
        users++;
        const ncf_status st = ncf_foldin_recommend_ex(fo, hist, n_hist, rules, k, items, scores, &got, &unknown, &err);
        unknown_items += unknown;
        if (st == NCF_ERR_EMPTY) { /* every item unknown: no answer for this user, counted */
            skipped++;
            continue;
        }
        if (st != NCF_OK) {
            fprintf(stderr, "ncf recommend: %s:%lld: %s\n", history_file, lineno, err.msg);
            ok = 0;
            break;
        }
        print_answer(f, m, line, items, scores, got, n_hist, unknown, "", 0);
    }
    if (ok && ferror(in)) {
        fprintf(stderr, "ncf recommend: %s: read error\n", history_file);
        ok = 0;
    }
    free(line);
    fclose(in);
    if (ncf_outfile_close(of, ok, &err) != NCF_OK) {
        if (ok) cli_fail(cmd, &err);
        ok = 0;
    }
    if (ok) {
        fprintf(stderr, "ncf recommend: %lld users folded in, %lld skipped (no item the model knows), %lld unknown "
                        "items ignored\n",
                users - skipped, skipped, unknown_items);
        status = 0;
    }
    goto done;
nomem:
    fprintf(stderr, "ncf recommend: out of memory\n");
done:
    free(hist);
    free(items);
    free(scores);
    ncf_foldin_free(fo);
    ncf_scorer_free(sc);
    return status;
}
