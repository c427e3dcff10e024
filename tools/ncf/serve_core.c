/* serve_core.c — the socket-free part of `ncf serve` (serve_core.h):
 * loading a model to serve, and the answers to /v1/recommend (GET and POST),
 * /v1/score and /v1/similar from a request's decoded values, with the
 * business rules a request carries (only / exclude / include_seen). A
 * fuzzer (tests/fuzz/fuzz_serve.c) drives it without a socket. */
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_text.h"
#include "serve_core.h"

int serve_max_k = 1000;
int serve_max_users = 10000;
int64_t serve_max_results = 100000;

void served_free(served *s)
{
    if (!s) return;
    ncf_similar_free(s->sim);
    ncf_foldin_free(s->fo);
    ncf_scorer_free(s->sc);
    ncf_model_free(s->m);
    free(s->info);
    free(s);
}

/* A jansson string of s (n bytes), invalid UTF-8 bytes shown as \xHH:
 * json_string refuses invalid UTF-8, and a NULL here would drop the key. */
static json_t *clean_string(const char *s, size_t n)
{
    char *c = utf8_clean(s, n);
    json_t *j = c ? json_string(c) : NULL;
    free(c);
    return j;
}

static json_t *meta_json(const char *meta)
{
    json_t *o = json_object();
    const char *k, *v;
    size_t kl, vl;
    for (const char *p = meta; o && cli_meta_next(&p, &k, &kl, &v, &vl);) {
        char key[128], val[512];
        snprintf(key, sizeof key, "%.*s", (int)kl, k);
        snprintf(val, sizeof val, "%.*s", (int)vl, v);
        char *end;
        double d = strtod(val, &end);
        json_t *jv = !*val || *end ? clean_string(val, strlen(val))
                     : d == (double)(json_int_t)d && d > -9e15 && d < 9e15 ? json_integer((json_int_t)d)
                                                                           : json_real(d);
        char *ck = utf8_clean(key, strlen(key));
        if (!jv || !ck || json_object_set_new(o, ck, jv) != 0) {
            free(ck);
            json_decref(o);
            return NULL;
        }
        free(ck);
    }
    return o;
}

/* 1 when every raw id of map is valid UTF-8; else 0 with a message naming
 * the first that is not. Answers carry ids as JSON strings, which must be
 * UTF-8: a model with such an id is not served rather than answered with
 * invalid JSON or with the item silently left out. */
static int ids_utf8(const ncf_idmap *map, const char *what, ncf_err *err)
{
    for (int32_t k = 0; k < ncf_idmap_size(map); k++) {
        const char *raw = ncf_idmap_raw(map, k);
        size_t n = strlen(raw);
        if (utf8_valid_len(raw, n) == n) continue;
        char *c = utf8_clean(raw, n);
        snprintf(err->msg, sizeof err->msg,
                 "%s id '%.200s' (index %d) is not valid UTF-8, which JSON answers cannot carry; "
                 "train on data whose ids are UTF-8",
                 what, c ? c : "?", (int)k);
        free(c);
        return 0;
    }
    return 1;
}

served *load_served(const char *path, int threads, ncf_err *err)
{
    served *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err->msg, sizeof err->msg, "out of memory");
        return NULL;
    }
    if (ncf_model_load(path, &s->m, err) != NCF_OK || !ids_utf8(ncf_model_users(s->m), "user", err) ||
        !ids_utf8(ncf_model_items(s->m), "item", err) || ncf_scorer_create(s->m, threads, &s->sc, err) != NCF_OK ||
        ncf_similar_create(s->m, threads, &s->sim, err) != NCF_OK) {
        served_free(s);
        return NULL;
    }
    ncf_foldin_config fc;
    cli_foldin_config(s->m, &fc);
    ncf_err ferr = {{0}};
    if (ncf_foldin_create(s->sc, &fc, &s->fo, &ferr) == NCF_ERR_NOMEM) { /* too many user parameters: fo stays NULL */
        snprintf(err->msg, sizeof err->msg, "%s", ferr.msg);
        served_free(s);
        return NULL;
    }
    const ncf_model_config *c = ncf_model_get_config(s->m);
    json_t *layers = json_array();
    for (int k = 0; layers && k < c->n_hidden; k++) json_array_append_new(layers, json_integer(c->hidden[k]));
    json_t *info = json_pack("{s:o, s:s, s:i, s:i, s:i, s:i, s:o, s:s, s:I, s:s, s:o}", "file",
                             clean_string(path, strlen(path)), "type", ncf_model_type_name(c->type), "users",
                             c->n_users, "items", c->n_items, "factors", c->factors, "mlp_embedding", c->mlp_embed,
                             "hidden_layers", layers, "gmf_activation",
                             c->gmf_activation == NCF_ACT_SIGMOID ? "sigmoid" : "identity", "parameters",
                             (json_int_t)ncf_model_param_count(s->m), "kernels", ncf_kernels(), "training",
                             meta_json(ncf_model_meta(s->m)));
    s->info = info ? json_dumps(info, JSON_COMPACT) : NULL;
    json_decref(info);
    if (!s->info) {
        snprintf(err->msg, sizeof err->msg, "out of memory building the /v1/model answer");
        served_free(s);
        return NULL;
    }
    s->refs = 1;
    return s;
}

/* Takes the JSON text in t as the answer; a t that ran out of memory is a
 * 500 (as is code). */
static void answer_jtext(serve_answer *a, int code, jtext *t)
{
    a->code = code;
    a->text = jt_take(t);
    if (!a->text) {
        a->text = strdup("{\"error\":\"out of memory\"}");
        a->code = 500;
    }
}

void serve_error(serve_answer *a, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    jtext t = {0};
    jt_lit(&t, "{\"error\":");
    jt_str(&t, msg, strlen(msg));
    jt_lit(&t, "}");
    answer_jtext(a, code, &t);
}

/* 1 when id (a user or item id from the request) is valid UTF-8: the
 * model's ids all are (load_served), and answers echo ids as JSON strings. */
static int id_ok(const char *id) { return utf8_valid_len(id, strlen(id)) == strlen(id); }

/* 1 when the query's id parameter `name` ("user", "item") is present and
 * valid UTF-8; else answers 400 saying which and returns 0. */
static int id_param_ok(const char *name, const char *id, serve_answer *a)
{
    if (!id || !*id) {
        serve_error(a, 400, "missing query parameter '%s'", name);
        return 0;
    }
    if (!id_ok(id)) {
        serve_error(a, 400, "'%s' is not valid UTF-8: '%.200s'", name, id);
        return 0;
    }
    return 1;
}

/* Parses k: default 10, integer in [1, serve_max_k]; -1 when malformed. */
static int parse_k(const char *v)
{
    if (!v) return 10;
    char *end;
    errno = 0;
    long k = strtol(v, &end, 10);
    if (end == v || *end || errno || k < 1 || k > serve_max_k) return -1;
    return (int)k;
}

/* The k of a query string (kv NULL: 10), or -1 after answering 400 (not
 * an integer in [1, --max-k]) or 413 (over --max-results). */
static int query_k(const char *kv, serve_answer *a)
{
    int k = parse_k(kv);
    if (k < 0) {
        serve_error(a, 400, "'k' must be an integer in [1, %d], got '%.200s'", serve_max_k, kv);
        return -1;
    }
    if (k > serve_max_results) {
        serve_error(a, 413, "k = %d is over the limit of %lld items per answer (--max-results)", k,
                    (long long)serve_max_results);
        return -1;
    }
    return k;
}

/* Appends {"item": raw, "score": v} for n items (score null when v is not a
 * finite number: JSON has no NaN). */
static void put_items(jtext *t, const ncf_model *m, const int32_t *items, const float *scores, int n)
{
    const ncf_idmap *ids = ncf_model_items(m);
    jt_lit(t, "[");
    for (int q = 0; q < n; q++) {
        const char *raw = ncf_idmap_raw(ids, items[q]);
        jt_lit(t, q ? ",{\"item\":" : "{\"item\":");
        jt_str(t, raw, strlen(raw));
        jt_lit(t, ",\"score\":");
        jt_num(t, (double)scores[q]);
        jt_lit(t, "}");
    }
    jt_lit(t, "]");
}

/* ---- business rules ---------------------------------------------------------- */
/* A request's rules: the lists as item indices, sorted without repeats (so
 * the library reads them in place for every user of a batch), and how many
 * ids of each list the model does not know (ignored, and counted in the
 * answer). */
typedef struct req_rules {
    ncf_rules r;
    int32_t *only, *exclude;
    int32_t unknown_only, unknown_exclude;
    int has_only, has_exclude;
} req_rules;

static void req_rules_free(req_rules *q)
{
    free(q->only);
    free(q->exclude);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* Sorts list and drops repeats; returns the new length. */
static int32_t sort_unique(int32_t *list, int32_t n)
{
    if (n < 2) return n;
    qsort(list, (size_t)n, sizeof *list, cmp_i32);
    int32_t w = 1;
    for (int32_t q = 1; q < n; q++)
        if (list[q] != list[w - 1]) list[w++] = list[q];
    return w;
}

/* Points q->r at q's lists (after they are filled). */
static void req_rules_finish(req_rules *q)
{
    static const int32_t none[1] = {0};
    if (q->has_only) {
        int32_t n = q->r.n_only;
        q->r.n_only = sort_unique(q->only, n);
        q->r.only = q->only ? q->only : none; /* an allow-list with no known id allows no item */
    }
    if (q->has_exclude) {
        q->r.n_exclude = sort_unique(q->exclude, q->r.n_exclude);
        q->r.exclude = q->exclude;
    }
}

/* One list of a GET, comma-separated raw ids (empty pieces skipped): known
 * ids into *out (n of them), unknown ones counted. 0, or -1 after answering
 * (400 for bytes that are not UTF-8, 500 out of memory). */
static int list_from_query(const ncf_model *m, const char *name, const char *v, int32_t **out, int32_t *n,
                           int32_t *unknown, serve_answer *a)
{
    if (!id_ok(v)) {
        serve_error(a, 400, "'%s' is not valid UTF-8: '%.200s'", name, v);
        return -1;
    }
    size_t cap = 1;
    for (const char *p = v; *p; p++) cap += *p == ',';
    int32_t *list = malloc(cap * sizeof *list);
    if (!list) {
        serve_error(a, 500, "out of memory");
        return -1;
    }
    *n = 0;
    for (const char *p = v;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len) {
            int32_t i = ncf_idmap_find(ncf_model_items(m), p, len);
            if (i >= 0) list[(*n)++] = i;
            else (*unknown)++;
        }
        if (!comma) break;
        p = comma + 1;
    }
    *out = list;
    return 0;
}

/* The rules of a GET (rp may be NULL: none). 0, or -1 after answering. */
static int rules_from_query(const ncf_model *m, const serve_rule_params *rp, int with_seen, req_rules *q,
                            serve_answer *a)
{
    memset(q, 0, sizeof *q);
    if (!rp) return 0;
    if (rp->only) {
        q->has_only = 1;
        if (list_from_query(m, "only", rp->only, &q->only, &q->r.n_only, &q->unknown_only, a) != 0) return -1;
    }
    if (rp->exclude) {
        q->has_exclude = 1;
        if (list_from_query(m, "exclude", rp->exclude, &q->exclude, &q->r.n_exclude, &q->unknown_exclude, a) != 0) {
            req_rules_free(q);
            return -1;
        }
    }
    if (with_seen && rp->include_seen) {
        const char *v = rp->include_seen;
        if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0) {
            q->r.include_seen = 1;
        } else if (strcmp(v, "false") != 0 && strcmp(v, "0") != 0) {
            serve_error(a, 400, "'include_seen' must be true or false (or 1 or 0), got '%.200s'", v);
            req_rules_free(q);
            return -1;
        }
    }
    req_rules_finish(q);
    return 0;
}

/* A JSON id: a non-empty string, or an integer (written into buf, 32
 * bytes); NULL for anything else. jansson's strings are valid UTF-8 (it
 * refuses other input). */
static const char *json_id(const json_t *j, char *buf)
{
    if (json_is_integer(j)) {
        snprintf(buf, 32, "%lld", (long long)json_integer_value(j));
        return buf;
    }
    const char *v = json_is_string(j) ? json_string_value(j) : NULL;
    return v && *v ? v : NULL;
}

/* One list of a JSON body: an array of item ids. 0, or -1 after answering
 * (400 naming the field, 500 out of memory). */
static int list_from_json(const ncf_model *m, const char *name, const json_t *arr, int32_t **out, int32_t *n,
                          int32_t *unknown, serve_answer *a)
{
    if (!json_is_array(arr)) {
        serve_error(a, 400, "\"%s\" must be an array of item ids (strings or integers)", name);
        return -1;
    }
    const size_t len = json_array_size(arr);
    int32_t *list = malloc((len ? len : 1) * sizeof *list);
    if (!list) {
        serve_error(a, 500, "out of memory");
        return -1;
    }
    *n = 0;
    for (size_t q = 0; q < len; q++) {
        char buf[32];
        const char *id = json_id(json_array_get(arr, q), buf);
        if (!id) {
            free(list);
            serve_error(a, 400, "\"%s\"[%zu] must be a non-empty string or an integer (an item id)", name, q);
            return -1;
        }
        int32_t i = ncf_idmap_find(ncf_model_items(m), id, strlen(id));
        if (i >= 0) list[(*n)++] = i;
        else (*unknown)++;
    }
    *out = list;
    return 0;
}

/* The rules of a JSON body ("only", "exclude", "include_seen"; absent:
 * none). 0, or -1 after answering. */
static int rules_from_json(const ncf_model *m, const json_t *body, req_rules *q, serve_answer *a)
{
    memset(q, 0, sizeof *q);
    const json_t *only = json_object_get(body, "only"), *excl = json_object_get(body, "exclude"),
                 *seen = json_object_get(body, "include_seen");
    if (only) {
        q->has_only = 1;
        if (list_from_json(m, "only", only, &q->only, &q->r.n_only, &q->unknown_only, a) != 0) return -1;
    }
    if (excl) {
        q->has_exclude = 1;
        if (list_from_json(m, "exclude", excl, &q->exclude, &q->r.n_exclude, &q->unknown_exclude, a) != 0) {
            req_rules_free(q);
            return -1;
        }
    }
    if (seen) {
        if (!json_is_boolean(seen)) {
            serve_error(a, 400, "\"include_seen\" must be true or false");
            req_rules_free(q);
            return -1;
        }
        q->r.include_seen = json_is_true(seen);
    }
    req_rules_finish(q);
    return 0;
}

/* Appends ,"unknown_only":N and ,"unknown_exclude":N for the lists the
 * request gave. */
static void put_unknown(jtext *t, const req_rules *q)
{
    char b[64];
    if (q->has_only) {
        snprintf(b, sizeof b, ",\"unknown_only\":%d", (int)q->unknown_only);
        jt_lit(t, b);
    }
    if (q->has_exclude) {
        snprintf(b, sizeof b, ",\"unknown_exclude\":%d", (int)q->unknown_exclude);
        jt_lit(t, b);
    }
}

/* ---- recommendations ------------------------------------------------------------ */
/* Appends {"user": raw, ["fallback": "popular",] "items": [...]} for one
 * user under rules (the popular items the rules allow when the model does
 * not know the user). items and scores have room for k; unknown (may be
 * NULL) adds the counts of unknown list ids. */
static ncf_status recommend_one(jtext *t, const served *s, const char *user, int k, const req_rules *q,
                                const req_rules *unknown, int32_t *items, float *scores)
{
    const ncf_model *m = s->m;
    int32_t u = ncf_idmap_find(ncf_model_users(m), user, strlen(user));
    int n = 0;
    jt_lit(t, "{\"user\":");
    jt_str(t, user, strlen(user));
    if (u < 0) {
        n = ncf_scorer_popular_ex(s->sc, &q->r, k, items, scores);
        if (n < 0) return (ncf_status)n;
        jt_lit(t, ",\"fallback\":\"popular\"");
    } else {
        ncf_status st = ncf_scorer_recommend_ex(s->sc, u, &q->r, k, items, scores, &n);
        if (st != NCF_OK) return st;
    }
    if (unknown) put_unknown(t, unknown);
    jt_lit(t, ",\"items\":");
    put_items(t, m, items, scores, n);
    jt_lit(t, "}");
    return t->oom ? NCF_ERR_NOMEM : NCF_OK;
}

void serve_recommend_get(const served *s, const char *user, const char *kv, const serve_rule_params *rp,
                         serve_answer *a)
{
    if (!id_param_ok("user", user, a)) return;
    const int k = query_k(kv, a);
    if (k < 0) return;
    req_rules q;
    if (rules_from_query(s->m, rp, 1, &q, a) != 0) return;
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    jtext t = {0};
    ncf_status st = items && scores ? recommend_one(&t, s, user, k, &q, &q, items, scores) : NCF_ERR_NOMEM;
    free(items);
    free(scores);
    req_rules_free(&q);
    if (st != NCF_OK) {
        jt_free(&t);
        serve_error(a, 500, "out of memory");
        return;
    }
    answer_jtext(a, 200, &t);
}

void serve_recommend_post(const served *s, const char *text, size_t len, serve_answer *a)
{
    json_error_t je;
    json_t *body = json_loadb(text ? text : "", len, 0, &je);
    if (!body) {
        serve_error(a, 400, "body is not JSON: %s (line %d, column %d)", je.text, je.line, je.column);
        return;
    }
    if (json_is_object(body) && json_object_get(body, "history")) { /* a user by their items: fold-in */
        req_rules q;
        if (rules_from_json(s->m, body, &q, a) == 0) {
            jtext u = {0};
            put_unknown(&u, &q);
            char *unknown = jt_take(&u);
            if (unknown) serve_recommend_history(s, body, &q.r, unknown, a);
            else serve_error(a, 500, "out of memory");
            free(unknown);
            req_rules_free(&q);
        }
        json_decref(body);
        return;
    }
    json_t *users = json_object_get(body, "users"), *kj = json_object_get(body, "k");
    int k = 10;
    req_rules q;
    memset(&q, 0, sizeof q);
    if (!json_is_object(body) || !json_is_array(users)) {
        serve_error(a, 400, "body must be an object with a \"users\" array");
    } else if (kj && (!json_is_integer(kj) || json_integer_value(kj) < 1 || json_integer_value(kj) > serve_max_k)) {
        serve_error(a, 400, "\"k\" must be an integer in [1, %d]", serve_max_k);
    } else if (json_array_size(users) > (size_t)serve_max_users) {
        serve_error(a, 413, "%zu users is over the limit of %d per request (--max-users); split the batch",
                    json_array_size(users), serve_max_users);
    } else if ((kj ? json_integer_value(kj) : k) * (json_int_t)json_array_size(users) > serve_max_results) {
        /* the answer would hold users x k items: bounded before anything is scored */
        long long nu = (long long)json_array_size(users), kk = kj ? (long long)json_integer_value(kj) : k;
        serve_error(a, 413,
                    "users x k = %lld x %lld = %lld is over the limit of %lld items per answer "
                    "(--max-results); send fewer users or a smaller k",
                    nu, kk, nu * kk, (long long)serve_max_results);
    } else if (rules_from_json(s->m, body, &q, a) == 0) {
        /* the rules are read once and hold for every user of the batch */
        if (kj) k = (int)json_integer_value(kj);
        int32_t *items = malloc((size_t)k * sizeof *items);
        float *scores = malloc((size_t)k * sizeof *scores);
        jtext t = {0};
        jt_lit(&t, "{\"results\":[");
        size_t i;
        json_t *uj;
        int bad = -1;
        ncf_status st = items && scores ? NCF_OK : NCF_ERR_NOMEM;
        json_array_foreach(users, i, uj)
        {
            if (st != NCF_OK) break;
            char buf[32];
            const char *user = json_id(uj, buf);
            if (!user) {
                bad = (int)i;
                break;
            }
            if (i) jt_lit(&t, ",");
            st = recommend_one(&t, s, user, k, &q, NULL, items, scores);
        }
        jt_lit(&t, "]");
        put_unknown(&t, &q);
        jt_lit(&t, "}");
        free(items);
        free(scores);
        req_rules_free(&q);
        if (bad >= 0) {
            jt_free(&t);
            serve_error(a, 400, "\"users\"[%d] must be a non-empty string or an integer", bad);
        } else if (st != NCF_OK) {
            jt_free(&t);
            serve_error(a, 500, "out of memory");
        } else {
            answer_jtext(a, 200, &t);
        }
    }
    json_decref(body);
}

void serve_score(const served *s, const char *user, const char *list, serve_answer *a)
{
    const ncf_model *m = s->m;
    if (!id_param_ok("user", user, a)) return;
    if (!list || !*list) {
        serve_error(a, 400, "missing query parameter 'items' (comma-separated item ids)");
        return;
    }
    if (!id_ok(list)) {
        serve_error(a, 400, "'items' is not valid UTF-8: '%.200s'", list);
        return;
    }
    int32_t u = ncf_idmap_find(ncf_model_users(m), user, strlen(user));
    if (u < 0) {
        serve_error(a, 404, "unknown user '%.200s'", user);
        return;
    }
    int n = 1;
    for (const char *p = list; *p; p++) n += *p == ',';
    if (n > 10000) {
        serve_error(a, 400, "at most 10000 items per request");
        return;
    }
    int32_t *idx = malloc((size_t)n * sizeof *idx);
    float *sc = malloc((size_t)n * sizeof *sc);
    if (!idx || !sc) {
        free(idx);
        free(sc);
        serve_error(a, 500, "out of memory");
        return;
    }
    const char *p = list;
    for (int q = 0; q < n; q++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        idx[q] = len ? ncf_idmap_find(ncf_model_items(m), p, len) : -1;
        if (idx[q] < 0) {
            serve_error(a, 400, "unknown item '%.*s'", (int)(len > 200 ? 200 : len), p);
            free(idx);
            free(sc);
            return;
        }
        p = comma ? comma + 1 : p + len;
    }
    ncf_status st = ncf_scorer_score(s->sc, u, idx, n, sc);
    jtext t = {0};
    if (st == NCF_OK) {
        jt_lit(&t, "{\"user\":");
        jt_str(&t, user, strlen(user));
        jt_lit(&t, ",\"scores\":");
        put_items(&t, m, idx, sc, n);
        jt_lit(&t, "}");
    }
    free(idx);
    free(sc);
    if (st != NCF_OK) {
        serve_error(a, 500, st == NCF_ERR_NOMEM ? "out of memory" : "scoring failed");
        return;
    }
    answer_jtext(a, 200, &t);
}

void serve_similar(const served *s, const char *item, const char *kv, const serve_rule_params *rp, serve_answer *a)
{
    const ncf_model *m = s->m;
    if (!id_param_ok("item", item, a)) return;
    const int k = query_k(kv, a);
    if (k < 0) return;
    int32_t i = ncf_idmap_find(ncf_model_items(m), item, strlen(item));
    if (i < 0) {
        serve_error(a, 404, "unknown item '%.200s'", item);
        return;
    }
    req_rules q;
    if (rules_from_query(m, rp, 0, &q, a) != 0) return;
    int32_t *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    int n = 0;
    ncf_status st = items && scores ? ncf_similar_items(s->sim, i, &q.r, k, items, scores, &n) : NCF_ERR_NOMEM;
    jtext t = {0};
    if (st == NCF_OK) {
        jt_lit(&t, "{\"item\":");
        jt_str(&t, item, strlen(item));
        put_unknown(&t, &q);
        jt_lit(&t, ",\"items\":");
        put_items(&t, m, items, scores, n);
        jt_lit(&t, "}");
    }
    free(items);
    free(scores);
    req_rules_free(&q);
    if (st != NCF_OK || t.oom) {
        jt_free(&t);
        serve_error(a, 500, "out of memory");
        return;
    }
    answer_jtext(a, 200, &t);
}
