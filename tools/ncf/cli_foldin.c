/* cli_foldin.c — what the CLI needs of fold-in (ncf/model.h) beyond the
 * library's calls: `ncf eval --fold-in`'s model, a copy of the saved model
 * that also holds every test user of the data the model does not know,
 * folded in from that user's training interactions in the data. Does not
 * evaluate (cmd_eval.c does, as for any model) and does not change the
 * rows of the users the model knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

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
    if (getenv("XF_NEG")) cfg->negatives = atoi(getenv("XF_NEG"));      /* EXPERIMENT */
    if (getenv("XF_IT")) cfg->iters = atoi(getenv("XF_IT"));            /* EXPERIMENT */
    if (getenv("XF_PRIOR")) cfg->prior = (float)atof(getenv("XF_PRIOR")); /* EXPERIMENT */
    if (getenv("XF_W")) cfg->neg_weight = (float)atof(getenv("XF_W"));  /* EXPERIMENT */
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
