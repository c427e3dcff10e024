/* serve_core.h — the parts of `ncf serve` that need no socket: loading the
 * served model (with its /v1/model answer), and turning one request's
 * decoded query values or JSON body into its answer (status code and JSON
 * text), business rules (only / exclude / include_seen) included. cmd_serve.c wraps these in libmicrohttpd; tests/fuzz/fuzz_serve.c
 * calls them directly. Behaviour and messages are docs/serving.md's. */
#ifndef NCF_TOOL_SERVE_CORE_H
#define NCF_TOOL_SERVE_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "ncf/ncf.h"

/* One loaded model as served: the model, its scorer, its item vectors
 * for /v1/similar, and the /v1/model body. refs is the holder's reference
 * count (cmd_serve.c; 1 after load). */
typedef struct served {
    ncf_model *m;
    ncf_scorer *sc;
    ncf_similar *sim;
    ncf_foldin *fo; /* fold-in for {"history": [...]} (serve_foldin.c); NULL when the model has too many user parameters */
    char *info; /* /v1/model body */
    int refs;
} served;

/* Loads path and checks it can be served (every raw id valid UTF-8), with a
 * scorer of `threads` threads; NULL with err->msg set on failure. */
served *load_served(const char *path, int threads, ncf_err *err);
void served_free(served *s); /* NULL-safe */

/* Limits on one request (the options of the same names; docs/serving.md,
 * Limits). Set before serving starts; read-only while requests run. */
extern int serve_max_k;           /* --max-k: k */
extern int serve_max_users;       /* --max-users: users in one POST */
extern int64_t serve_max_results; /* --max-results: users x k, the items one answer may hold */

/* An answer: HTTP status and a JSON text (malloc'ed, owned by the caller).
 * text is NULL only when not even the out-of-memory error could be made. */
typedef struct serve_answer {
    int code;
    char *text;
} serve_answer;

/* {"error": message} with status code; whatever bytes the message echoes
 * from the request, the text is valid JSON. */
void serve_error(serve_answer *a, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The business-rule parameters of a GET as decoded from the query string
 * (NULL when absent): only and exclude are comma-separated raw item ids,
 * include_seen is true|false|1|0 (docs/serving.md, Business rules). */
typedef struct serve_rule_params {
    const char *only, *exclude, *include_seen;
} serve_rule_params;

/* GET /v1/recommend: user and k as decoded from the query string (NULL
 * when absent); rp may be NULL (no rules). */
void serve_recommend_get(const served *s, const char *user, const char *k, const serve_rule_params *rp,
                         serve_answer *a);
/* POST /v1/recommend: the body, len bytes (need not be NUL-terminated;
 * NULL when empty): {"users": [...], "k": 10, "only": [...], "exclude":
 * [...], "include_seen": false}. */
void serve_recommend_post(const served *s, const char *body, size_t len, serve_answer *a);
/* POST /v1/recommend whose body (parsed, an object) has "history": a user
 * given by their items, folded in (serve_foldin.c). */
struct json_t;
void serve_recommend_history(const served *s, struct json_t *body, serve_answer *a);
/* GET /v1/score: user and items as decoded from the query string. */
void serve_score(const served *s, const char *user, const char *items, serve_answer *a);
/* GET /v1/similar: item and k as decoded from the query string, rp as for
 * recommend (include_seen has no meaning here and is not read). */
void serve_similar(const served *s, const char *item, const char *k, const serve_rule_params *rp, serve_answer *a);

#endif
