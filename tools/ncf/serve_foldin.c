/* serve_foldin.c — POST /v1/recommend with {"history": [...], "k": K}: a
 * user given by the items they interacted with is folded in (ncf/model.h)
 * and gets the top K items outside that list. Answers {"history": N,
 * "unknown": U, "items": [...]}; errors as docs/serving.md says (400 for a
 * malformed or empty history or k, 404 when no history item is known, 413
 * over --max-results). Parsing the body and the other requests are
 * serve_core.c's. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "json_text.h"
#include "serve_core.h"

void serve_recommend_history(const served *s, json_t *body, serve_answer *a)
{
    json_t *hist = json_object_get(body, "history"), *kj = json_object_get(body, "k");
    if (json_object_get(body, "users")) {
        serve_error(a, 400, "give \"users\" or \"history\", not both");
        return;
    }
    if (json_object_get(body, "only") || json_object_get(body, "exclude") || json_object_get(body, "include_seen")) {
        serve_error(a, 400, "\"only\", \"exclude\" and \"include_seen\" do not apply to \"history\" yet");
        return;
    }
    if (!s->fo) {
        serve_error(a, 400, "this model cannot fold in users (more than %d user parameters)", NCF_FOLDIN_MAX_PARAMS);
        return;
    }
    if (!json_is_array(hist)) {
        serve_error(a, 400, "\"history\" must be an array of item ids");
        return;
    }
    const size_t n = json_array_size(hist);
    if (n == 0) {
        serve_error(a, 400, "\"history\" is empty: give the items the user interacted with");
        return;
    }
    if (n > (size_t)INT32_MAX / 2) {
        serve_error(a, 413, "\"history\" has too many items");
        return;
    }
    if (kj && (!json_is_integer(kj) || json_integer_value(kj) < 1 || json_integer_value(kj) > serve_max_k)) {
        serve_error(a, 400, "\"k\" must be an integer in [1, %d]", serve_max_k);
        return;
    }
    const int k = kj ? (int)json_integer_value(kj) : 10;
    if (k > serve_max_results) {
        serve_error(a, 413, "k = %d is over the limit of %lld items per answer (--max-results)", k,
                    (long long)serve_max_results);
        return;
    }
    const ncf_idmap *ids = ncf_model_items(s->m);
    int32_t *idx = malloc(n * sizeof *idx), *items = malloc((size_t)k * sizeof *items);
    float *scores = malloc((size_t)k * sizeof *scores);
    if (!idx || !items || !scores) {
        serve_error(a, 500, "out of memory");
        goto done;
    }
    size_t i;
    json_t *v;
    json_array_foreach(hist, i, v)
    {
        char buf[32];
        /* jansson's strings are valid UTF-8 (it refuses other input) */
        const char *raw = json_is_string(v) ? json_string_value(v) : NULL;
        size_t len = raw ? json_string_length(v) : 0;
        if (json_is_integer(v)) {
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            raw = buf;
            len = strlen(buf);
        }
        if (!raw || len == 0) {
            serve_error(a, 400, "\"history\"[%zu] must be a non-empty string or an integer", i);
            goto done;
        }
        idx[i] = ncf_idmap_find(ids, raw, len);
    }
    ncf_err err = {{0}};
    int got = 0, unknown = 0;
    ncf_status st = ncf_foldin_recommend(s->fo, idx, (int)n, k, items, scores, &got, &unknown, &err);
    if (st == NCF_ERR_EMPTY) {
        serve_error(a, 404, "none of the %zu history items is known to the model", n);
        goto done;
    }
    if (st != NCF_OK) {
        serve_error(a, 500, "%s", err.msg);
        goto done;
    }
    jtext t = {0};
    char head[96];
    snprintf(head, sizeof head, "{\"history\":%zu,\"unknown\":%d,\"items\":[", n, unknown);
    jt_lit(&t, head);
    for (int q = 0; q < got; q++) {
        const char *raw = ncf_idmap_raw(ids, items[q]);
        jt_lit(&t, q ? ",{\"item\":" : "{\"item\":");
        jt_str(&t, raw, strlen(raw));
        jt_lit(&t, ",\"score\":");
        jt_num(&t, (double)scores[q]);
        jt_lit(&t, "}");
    }
    jt_lit(&t, "]}");
    a->code = 200;
    a->text = jt_take(&t);
    if (!a->text) serve_error(a, 500, "out of memory");
done:
    free(idx);
    free(items);
    free(scores);
}
