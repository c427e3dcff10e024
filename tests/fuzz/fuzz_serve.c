/* fuzz_serve.c — libFuzzer harness for the request handling of `ncf serve`
 * without a socket: serve_recommend_get, serve_recommend_post, serve_score
 * and serve_similar (tools/ncf/serve_core.c) on a small NeuMF model made
 * once at start-up (ids include non-ASCII UTF-8, a comma and a space).
 *
 * Input layout: byte 0 chooses the endpoint (bits 0-1: GET /v1/recommend,
 * POST /v1/recommend, GET /v1/score, GET /v1/similar) and the limits (bit
 * 2: --max-k 5, bit 3: --max-users 3, bit 4: --max-results 20; else the
 * defaults). The rest is the query string ("user=..&k=..&items=..&item=..
 * &only=..&exclude=..&include_seen=..", split on '&' and '=' and %-decoded
 * as libmicrohttpd does; the first value of a key wins) or, for POST, the
 * body (its "only", "exclude" and "include_seen" included). Every answer must be a status the API documents and
 * valid JSON (an object), whatever the input. */
#include <jansson.h>

#include "fuzz_util.h"
#include "ncf/ncf.h"
#include "serve_core.h"

static served *model;

static void must(ncf_status st, const ncf_err *err)
{
    if (st != NCF_OK) {
        fprintf(stderr, "fuzz_serve: set-up failed: %s\n", err->msg);
        abort();
    }
}

/* A NeuMF model of 6 users and 7 items with a few odd raw ids. */
static served *make_model(void)
{
    static const char data[] = "u1\ti1\n"
                               "u1\ti2\n"
                               "u1\t\xc3\xa9t\xc3\xa9\n"
                               "u2\ti2\n"
                               "u2\ti,3\n"
                               "u2\ti 4\n"
                               "\xe2\x98\x83\ti1\n"
                               "\xe2\x98\x83\ti5\n"
                               "7\ti6\n"
                               "7\ti1\n"
                               "u 5\ti2\n"
                               "u 5\ti5\n"
                               "-3\ti6\n"
                               "-3\ti,3\n";
    char tsv[512], path[512];
    fuzz_path(tsv, sizeof tsv, "serve.tsv");
    fuzz_path(path, sizeof path, "serve.ncf");
    fuzz_write(tsv, (const uint8_t *)data, sizeof data - 1);
    ncf_err err = {{0}};
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.n_negatives = 3;
    ncf_dataset *ds = NULL;
    must(ncf_dataset_load(tsv, &lo, &ds, &err), &err);
    ncf_model_config cfg;
    const int32_t layers[] = {8, 4};
    must(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 4, layers, 2, &cfg, &err), &err);
    cfg.n_users = ds->n_users;
    cfg.n_items = ds->n_items;
    ncf_model *m = NULL;
    must(ncf_model_create(&cfg, 1, &m, &err), &err);
    must(ncf_model_attach_data(m, ds, &err), &err);
    must(ncf_model_set_meta(m, "model=neumf\nepochs=1\nlr=0.001\nnote=\xc3\xa9\n"), &err);
    must(ncf_model_save(m, path, &err), &err);
    ncf_model_free(m);
    ncf_dataset_free(ds);
    served *s = load_served(path, 1, &err);
    if (!s) must(NCF_ERR_FORMAT, &err);
    return s;
}

static int hexval(int c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %-decodes s in place (invalid escapes kept as they are). */
static void unescape(char *s)
{
    char *w = s;
    for (char *r = s; *r;) {
        int h, l;
        if (r[0] == '%' && (h = hexval((unsigned char)r[1])) >= 0 && (l = hexval((unsigned char)r[2])) >= 0) {
            *w++ = (char)(h * 16 + l);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* The first value of key in the query q (a NUL-separated copy made by
 * split_query), or NULL. */
typedef struct query {
    const char *key[16], *val[16];
    int n;
} query;

static void split_query(char *q, query *out)
{
    out->n = 0;
    for (char *p = q; p && *p && out->n < 16;) {
        char *amp = strchr(p, '&');
        if (amp) *amp = '\0';
        char *eq = strchr(p, '=');
        if (eq) *eq = '\0';
        unescape(p);
        if (eq) unescape(eq + 1);
        out->key[out->n] = p;
        out->val[out->n] = eq ? eq + 1 : ""; /* a key without '=' has the empty value */
        out->n++;
        p = amp ? amp + 1 : NULL;
    }
}

static const char *lookup(const query *q, const char *key)
{
    for (int k = 0; k < q->n; k++)
        if (strcmp(q->key[k], key) == 0) return q->val[k];
    return NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!model) model = make_model();
    if (size < 1 || size > 65536) return 0;
    serve_max_k = data[0] & 4 ? 5 : 1000;
    serve_max_users = data[0] & 8 ? 3 : 10000;
    serve_max_results = data[0] & 16 ? 20 : 100000;
    serve_answer a = {0, NULL};
    int endpoint = data[0] & 3;
    if (endpoint == 1) {
        serve_recommend_post(model, size > 1 ? (const char *)data + 1 : NULL, size - 1, &a);
    } else {
        char *q = malloc(size);
        if (!q) return 0;
        memcpy(q, data + 1, size - 1);
        q[size - 1] = '\0'; /* a NUL in the input ends the query, as it would the URL */
        query qs;
        split_query(q, &qs);
        const serve_rule_params rp = {lookup(&qs, "only"), lookup(&qs, "exclude"), lookup(&qs, "include_seen")};
        if (endpoint == 2) serve_score(model, lookup(&qs, "user"), lookup(&qs, "items"), &a);
        else if (endpoint == 3) serve_similar(model, lookup(&qs, "item"), lookup(&qs, "k"), &rp, &a);
        else serve_recommend_get(model, lookup(&qs, "user"), lookup(&qs, "k"), &rp, &a);
        free(q);
    }
    if (!a.text) abort(); /* only when memory runs out */
    if (a.code != 200 && a.code != 400 && a.code != 404 && a.code != 413) {
        fprintf(stderr, "fuzz_serve: status %d: %s\n", a.code, a.text);
        abort();
    }
    json_error_t je;
    json_t *j = json_loads(a.text, 0, &je);
    if (!j || !json_is_object(j)) {
        fprintf(stderr, "fuzz_serve: the answer is not a JSON object (%s): %s\n", j ? "" : je.text, a.text);
        abort();
    }
    json_decref(j);
    free(a.text);
    return 0;
}
