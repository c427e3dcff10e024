/* test_serve.c — `ncf serve` driven over loopback with curl: every endpoint,
 * malformed queries and bodies, bytes that are not UTF-8, unknown users and
 * items, a body and a batch over the limits (--max-body, --max-users,
 * --max-results), similar items (the library's answer; 404 for an unknown
 * item), the business rules on GET and POST (no excluded item, only allowed
 * items, training items only when asked, bad lists a 400 naming the field), scores that are not numbers,
 * model ids that are not UTF-8, slow clients (1,100 from one address; every
 * slot held past the request deadline), reload with a good and a corrupt
 * file, shutdown with exit 0, SIGHUP and SIGTERM arriving during a slow
 * reload; and
 * `ncf export` read back by an independent safetensors reader (C here, and
 * NumPy too when python3 with numpy is installed). */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "model/model_impl.h"
#include "ncf/ncf.h"
#include "testutil.h"

static char NCF[512] = "./ncf";
static char model_path[512], data_path[512];
static pid_t server = -1;
static int port;
static pid_t extra = -1; /* a test's own server, killed by stop_server if the test fails */
static int curl_max_time = 60; /* seconds curl waits for an answer */

static void sleep_ms(int ms) { nanosleep(&(struct timespec){ms / 1000, (long)(ms % 1000) * 1000000L}, NULL); }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void train_model(const char *out, const char *model, int epochs)
{
    char *log = NULL;
    int rc = tu_run(&log, "%s train --data %s --model %s --factors 8 --layers 32,16,8 --epochs %d --out %s --quiet", NCF,
                    data_path, model, epochs, out);
    if (rc != 0) fprintf(stderr, "%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);
}

/* Starts `ncf serve --port 0 ARGS...` (argv ends with NULL) with stdout in
 * tu_path(out) and stderr in tu_path(err); returns its pid and sets *port
 * from the "port N" line, or returns -1 when it exited first (its wait
 * status in spawn_status) or did not start listening within 20 s (killed). */
static int spawn_status;
static pid_t spawn_server(const char *out, const char *err, int *port_out, const char *const *args)
{
    char outp[512], errp[512];
    snprintf(outp, sizeof outp, "%s", tu_path(out));
    snprintf(errp, sizeof errp, "%s", tu_path(err));
    const char *argv[32] = {NCF, "serve", "--port", "0"};
    int n = 4;
    for (; args[n - 4] && n < 31; n++) argv[n] = args[n - 4];
    argv[n] = NULL;
    pid_t pid = fork();
    if (pid == 0) {
        if (!freopen(outp, "w", stdout) || !freopen(errp, "w", stderr)) _exit(127);
        execv(NCF, (char *const *)argv);
        _exit(127);
    }
    if (extra > 0) { /* left by a test that failed */
        kill(extra, SIGKILL);
        waitpid(extra, NULL, 0);
    }
    extra = pid; /* start_server takes it back for the group's server */
    *port_out = 0;
    for (int tries = 0; tries < 2000 && !*port_out; tries++) {
        sleep_ms(10);
        char *text = tu_read(outp, NULL);
        const char *p = text ? strstr(text, " port ") : NULL;
        if (p) *port_out = atoi(p + 6);
        free(text);
        int st = 0;
        if (!*port_out && waitpid(pid, &st, WNOHANG) == pid) {
            spawn_status = st;
            extra = -1;
            return -1;
        }
    }
    if (!*port_out) {
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
    }
    return pid;
}

/* Kills and reaps a test's own server (spawn_server). */
static void end_extra(void)
{
    if (extra > 0) {
        kill(extra, SIGKILL);
        waitpid(extra, NULL, 0);
    }
    extra = -1;
}

static int start_server(void **state)
{
    const char *bin = getenv("NCF_BIN");
    if (bin && *bin) snprintf(NCF, sizeof NCF, "%s", bin);
    snprintf(data_path, sizeof data_path, "%s", tu_path("serve.tsv"));
    snprintf(model_path, sizeof model_path, "%s", tu_path("serve.ncf"));
    char *log = NULL;
    if (tu_run(&log, "%s synth --out %s --users 300 --items 400 --interactions 9000 --seed 5", NCF, data_path) != 0) {
        fprintf(stderr, "%s\n", log ? log : "");
        free(log);
        return -1;
    }
    free(log);
    if (tu_run(NULL, "%s train --data %s --model neumf --factors 8 --layers 32,16,8 --epochs 2 --out %s --quiet", NCF,
               data_path, model_path) != 0)
        return -1;
    const char *args[] = {"--model", model_path, "--threads", "2", "--max-body", "4096", NULL};
    server = spawn_server("server.out", "server.err", &port, args);
    extra = -1;
    if (server < 0) {
        fprintf(stderr, "test_serve: the server did not start\n");
        return -1;
    }
    (void)state;
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (server > 0) {
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    if (extra > 0) {
        kill(extra, SIGKILL);
        waitpid(extra, NULL, 0);
    }
    return 0;
}

/* curl to the server on port p: returns the HTTP status, the body in *body
 * (malloc'd); -1 (and *body NULL) when curl fails, as with no server. */
static int http_to(int p, char **body, const char *method, const char *path, const char *data)
{
    char *out = NULL;
    const char *file = tu_path("body.json");
    if (data) {
        FILE *f = fopen(file, "w");
        fputs(data, f);
        fclose(f);
    }
    int rc = tu_run(&out, "curl -s -S -g -m %d -X %s %s%s%s -w '\\n%%{http_code}' 'http://127.0.0.1:%d%s'",
                    curl_max_time, method, data ? "--data-binary @" : "", data ? file : "",
                    data ? " -H 'Content-Type: application/json'" : "", p, path);
    if (rc != 0) {
        fprintf(stderr, "curl %s %s: exit %d: %s\n", method, path, rc, out ? out : "");
        free(out);
        *body = NULL;
        return -1;
    }
    char *nl = strrchr(out, '\n');
    assert_non_null(nl);
    int code = atoi(nl + 1);
    *nl = '\0';
    *body = out;
    return code;
}

static int http(char **body, const char *method, const char *path, const char *data)
{
    return http_to(port, body, method, path, data);
}

static json_t *http_json(int want, const char *method, const char *path, const char *data)
{
    char *body = NULL;
    int code = http(&body, method, path, data);
    if (code != want) fprintf(stderr, "%s %s: %d (want %d): %.300s\n", method, path, code, want, body ? body : "");
    assert_int_equal(code, want);
    json_error_t je;
    json_t *j = json_loads(body, 0, &je);
    if (!j) fprintf(stderr, "not JSON: %s\n", body);
    assert_non_null(j);
    free(body);
    return j;
}

static void test_healthz_and_model(void **state)
{
    json_t *j = http_json(200, "GET", "/healthz", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "status")), "ok");
    json_decref(j);
    j = http_json(200, "GET", "/v1/model", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "type")), "neumf");
    assert_int_equal(json_integer_value(json_object_get(j, "users")), 300);
    assert_int_equal(json_integer_value(json_object_get(j, "epochs") ? json_object_get(j, "epochs")
                                                                      : json_object_get(json_object_get(j, "training"), "epochs")),
                     2);
    assert_non_null(json_object_get(json_object_get(j, "training"), "final_hr"));
    json_decref(j);
}

static void test_recommend(void **state)
{
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(model_path, &m, &err), NCF_OK);
    json_t *j = http_json(200, "GET", "/v1/recommend?user=u7&k=5", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "user")), "u7");
    assert_null(json_object_get(j, "fallback"));
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 5);
    /* the same as the library's recommend, and never a training item */
    int32_t u = ncf_idmap_find(ncf_model_users(m), "u7", 2);
    int32_t want[5];
    float ws[5];
    int n;
    assert_int_equal(ncf_model_recommend(m, u, 5, want, ws, &n), NCF_OK);
    for (int q = 0; q < 5; q++) {
        json_t *it = json_array_get(items, (size_t)q);
        const char *raw = json_string_value(json_object_get(it, "item"));
        assert_string_equal(raw, ncf_idmap_raw(ncf_model_items(m), want[q]));
        int32_t i = ncf_idmap_find(ncf_model_items(m), raw, strlen(raw));
        for (int64_t k = m->seen_off[u]; k < m->seen_off[u + 1]; k++) assert_int_not_equal(m->seen[k], i);
        assert_true(fabs(json_number_value(json_object_get(it, "score")) - ws[q]) < 1e-4);
    }
    json_decref(j);
    /* unknown user: the popular items */
    j = http_json(200, "GET", "/v1/recommend?user=stranger&k=3", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "fallback")), "popular");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 3);
    json_decref(j);
    /* default k is 10 */
    j = http_json(200, "GET", "/v1/recommend?user=u1", NULL);
    assert_int_equal(json_array_size(json_object_get(j, "items")), 10);
    json_decref(j);
    /* batch */
    j = http_json(200, "POST", "/v1/recommend", "{\"users\": [\"u1\", \"u2\", \"nobody\"], \"k\": 4}");
    json_t *res = json_object_get(j, "results");
    assert_int_equal(json_array_size(res), 3);
    assert_int_equal(json_array_size(json_object_get(json_array_get(res, 1), "items")), 4);
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 2), "fallback")), "popular");
    json_decref(j);
    ncf_model_free(m);
}

static void test_score(void **state)
{
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(model_path, &m, &err), NCF_OK);
    json_t *j = http_json(200, "GET", "/v1/score?user=u3&items=i1,i2,i10", NULL);
    json_t *sc = json_object_get(j, "scores");
    assert_int_equal(json_array_size(sc), 3);
    int32_t u = ncf_idmap_find(ncf_model_users(m), "u3", 2);
    const char *names[3] = {"i1", "i2", "i10"};
    for (int q = 0; q < 3; q++) {
        int32_t i = ncf_idmap_find(ncf_model_items(m), names[q], strlen(names[q]));
        float s;
        assert_int_equal(ncf_model_score(m, u, &i, 1, &s), NCF_OK);
        json_t *e = json_array_get(sc, (size_t)q);
        assert_string_equal(json_string_value(json_object_get(e, "item")), names[q]);
        assert_true(fabs(json_number_value(json_object_get(e, "score")) - s) < 1e-4 * (1 + fabs(s)));
    }
    json_decref(j);
    ncf_model_free(m);
}

static void expect_error(int code, const char *method, const char *path, const char *data, const char *needle)
{
    json_t *j = http_json(code, method, path, data);
    const char *e = json_string_value(json_object_get(j, "error"));
    assert_non_null(e);
    if (needle && !strstr(e, needle)) fprintf(stderr, "error '%s' lacks '%s'\n", e, needle);
    if (needle) assert_non_null(strstr(e, needle));
    json_decref(j);
}

static void test_bad_requests(void **state)
{
    expect_error(400, "GET", "/v1/recommend", NULL, "missing query parameter 'user'");
    expect_error(400, "GET", "/v1/recommend?user=u1&k=abc", NULL, "'k' must be an integer");
    expect_error(400, "GET", "/v1/recommend?user=u1&k=0", NULL, "'k' must be an integer");
    expect_error(400, "GET", "/v1/recommend?user=u1&k=100000000", NULL, "'k' must be an integer");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"", "body is not JSON");
    expect_error(400, "POST", "/v1/recommend", "[1, 2]", "\"users\" array");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"k\": \"ten\"}", "\"k\" must be an integer");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\", {}]}", "\"users\"[1]");
    expect_error(400, "POST", "/v1/recommend", "", "body is not JSON");
    expect_error(400, "GET", "/v1/score?user=u1", NULL, "missing query parameter 'items'");
    expect_error(400, "GET", "/v1/score?user=u1&items=i1,nope", NULL, "unknown item 'nope'");
    expect_error(404, "GET", "/v1/score?user=ghost&items=i1", NULL, "unknown user 'ghost'");
    expect_error(404, "GET", "/v2/recommend", NULL, "no such path");
    expect_error(405, "DELETE", "/v1/recommend", NULL, "not allowed");
    expect_error(405, "POST", "/healthz", "{}", "not allowed");
    char big[6000];
    memset(big, ' ', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    expect_error(413, "POST", "/v1/recommend", big, "larger than 4096 bytes");
    /* the server is still fine */
    json_t *j = http_json(200, "GET", "/healthz", NULL);
    json_decref(j);
}

/* Bytes that are not UTF-8 in a parameter or the path get a 4xx with a JSON
 * body that says so (jansson refuses to encode such bytes: they used to come
 * out as 500 "out of memory", or as a 200 without its "user" key); ids
 * that are UTF-8 but not ASCII are echoed as they came. */
static void test_invalid_utf8(void **state)
{
    expect_error(400, "GET", "/v1/score?user=%FF&items=i1", NULL, "'user' is not valid UTF-8: '\\xff'");
    expect_error(400, "GET", "/v1/score?user=u1&items=i1,%FF", NULL, "'items' is not valid UTF-8");
    expect_error(400, "GET", "/v1/recommend?user=%FF&k=2", NULL, "'user' is not valid UTF-8");
    expect_error(400, "GET", "/v1/recommend?user=a%C0%AF", NULL, "not valid UTF-8"); /* overlong '/' */
    expect_error(400, "GET", "/v1/recommend?user=%ED%A0%80", NULL, "not valid UTF-8"); /* a surrogate */
    expect_error(400, "GET", "/v1/recommend?user=u1&k=%FF", NULL, "'k' must be an integer");
    expect_error(404, "GET", "/%FF", NULL, "no such path: /\\xff");
    expect_error(404, "GET", "/v1/recommend%FE", NULL, "no such path");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"\xff\"]}", "body is not JSON");
    /* a user the model does not know, in UTF-8: the popular items, echoed */
    json_t *j = http_json(200, "GET", "/v1/recommend?user=%C3%A9t%C3%A9&k=2", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "user")), "\xc3\xa9t\xc3\xa9");
    assert_string_equal(json_string_value(json_object_get(j, "fallback")), "popular");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 2);
    json_decref(j);
    j = http_json(200, "POST", "/v1/recommend", "{\"users\": [\"\xe2\x82\xac\", \"q\\\"\\n\"], \"k\": 1}");
    json_t *res = json_object_get(j, "results");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 0), "user")), "\xe2\x82\xac");
    assert_string_equal(json_string_value(json_object_get(json_array_get(res, 1), "user")), "q\"\n");
    json_decref(j);
    expect_error(404, "GET", "/v1/score?user=%C3%A9&items=i1", NULL, "unknown user '\xc3\xa9'");
    j = http_json(200, "GET", "/healthz", NULL);
    json_decref(j);
}

/* A JSON array of n user ids "u1".."un" as a request body with k. */
static char *users_body(int n, int k)
{
    char *b = malloc((size_t)n * 12 + 64);
    assert_non_null(b);
    size_t at = (size_t)sprintf(b, "{\"k\": %d, \"users\": [", k);
    for (int u = 1; u <= n; u++) at += (size_t)sprintf(b + at, "%s\"u%d\"", u > 1 ? "," : "", u);
    strcpy(b + at, "]}");
    return b;
}

/* The work of one request is bounded: users x k above --max-results
 * (default 100000) is a 413 saying so, before anything is scored; at the
 * bound the answer comes. */
static void test_work_bound(void **state)
{
    char *body = users_body(200, 1000);
    expect_error(413, "POST", "/v1/recommend", body, "users x k = 200 x 1000 = 200000 is over");
    free(body);
    body = users_body(100, 1000);
    json_t *j = http_json(200, "POST", "/v1/recommend", body);
    free(body);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 100);
    json_decref(j);
}

/* ---- similar items and business rules ------------------------------------------ */
/* The index of raw item id in m, which must know it. */
static int32_t item_index(const ncf_model *m, const char *raw)
{
    int32_t i = ncf_idmap_find(ncf_model_items(m), raw, strlen(raw));
    assert_true(i >= 0);
    return i;
}

/* The items of an answer's "items" array as indices of m (at most cap). */
static int answer_items(const ncf_model *m, const json_t *j, int32_t *out, int cap)
{
    const json_t *items = json_object_get(j, "items");
    assert_true(json_is_array(items));
    int n = (int)json_array_size(items);
    assert_true(n <= cap);
    for (int q = 0; q < n; q++) out[q] = item_index(m, json_string_value(json_object_get(json_array_get(items, (size_t)q), "item")));
    return n;
}

static int user_saw(const ncf_model *m, int32_t u, int32_t i)
{
    for (int64_t q = m->seen_off[u]; q < m->seen_off[u + 1]; q++)
        if (m->seen[q] == i) return 1;
    return 0;
}

/* GET /v1/similar: the library's answer (k distinct items, never the item
 * asked about), the rules applied, and every bad input its 4xx. */
static void test_similar(void **state)
{
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(model_path, &m, &err), NCF_OK);
    ncf_similar *sim = NULL;
    assert_int_equal(ncf_similar_create(m, 1, &sim, &err), NCF_OK);
    const int32_t i5 = item_index(m, "i5");
    int32_t want[20], got[20];
    float ws[20];
    int nw = 0;
    assert_int_equal(ncf_similar_items(sim, i5, NULL, 20, want, ws, &nw), NCF_OK);
    assert_int_equal(nw, 20);
    json_t *j = http_json(200, "GET", "/v1/similar?item=i5&k=20", NULL);
    assert_string_equal(json_string_value(json_object_get(j, "item")), "i5");
    assert_null(json_object_get(j, "unknown_only"));
    int n = answer_items(m, j, got, 20);
    assert_int_equal(n, 20);
    for (int q = 0; q < n; q++) {
        assert_int_equal(got[q], want[q]);
        assert_int_not_equal(got[q], i5);
        for (int r = 0; r < q; r++) assert_int_not_equal(got[q], got[r]);
        double sc = json_number_value(json_object_get(json_array_get(json_object_get(j, "items"), (size_t)q), "score"));
        assert_true(fabs(sc - ws[q]) < 1e-6 && sc <= 1.0 + 1e-6 && sc >= -1.0 - 1e-6);
    }
    json_decref(j);
    /* default k 10; exclude the best two (and an id the model lacks): the rest moves up */
    char path[512];
    snprintf(path, sizeof path, "/v1/similar?item=i5&exclude=%s,%s,nope", ncf_idmap_raw(ncf_model_items(m), want[0]),
             ncf_idmap_raw(ncf_model_items(m), want[1]));
    j = http_json(200, "GET", path, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_exclude")), 1);
    n = answer_items(m, j, got, 20);
    assert_int_equal(n, 10);
    for (int q = 0; q < n; q++) assert_int_equal(got[q], want[q + 2]);
    json_decref(j);
    /* only: the allowed items in their order; the item itself is never returned */
    snprintf(path, sizeof path, "/v1/similar?item=i5&k=5&only=i5,%s,%s,ghost", ncf_idmap_raw(ncf_model_items(m), want[7]),
             ncf_idmap_raw(ncf_model_items(m), want[3]));
    j = http_json(200, "GET", path, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_only")), 1);
    n = answer_items(m, j, got, 20);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], want[3]);
    assert_int_equal(got[1], want[7]);
    json_decref(j);
    /* an allow-list with no id the model knows allows nothing */
    j = http_json(200, "GET", "/v1/similar?item=i5&only=ghost", NULL);
    assert_int_equal(answer_items(m, j, got, 20), 0);
    json_decref(j);
    expect_error(400, "GET", "/v1/similar", NULL, "missing query parameter 'item'");
    expect_error(400, "GET", "/v1/similar?item=", NULL, "missing query parameter 'item'");
    expect_error(404, "GET", "/v1/similar?item=ghost", NULL, "unknown item 'ghost'");
    expect_error(400, "GET", "/v1/similar?item=i5&k=0", NULL, "'k' must be an integer in [1, 1000]");
    expect_error(400, "GET", "/v1/similar?item=i5&k=1001", NULL, "'k' must be an integer");
    expect_error(400, "GET", "/v1/similar?item=i5&k=ten", NULL, "'k' must be an integer");
    expect_error(400, "GET", "/v1/similar?item=%FF", NULL, "'item' is not valid UTF-8");
    expect_error(400, "GET", "/v1/similar?item=i5&only=i1,%FF", NULL, "'only' is not valid UTF-8");
    expect_error(405, "POST", "/v1/similar", "{}", "not allowed");
    ncf_similar_free(sim);
    ncf_model_free(m);
}

/* The business rules on GET and POST /v1/recommend: no excluded item, only
 * allowed items, the user's training items only when asked for, unknown
 * ids counted, the popular fallback filtered too; each answer equal to the
 * library's under the same rules. */
static void test_rules(void **state)
{
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(model_path, &m, &err), NCF_OK);
    ncf_scorer *sc = NULL;
    assert_int_equal(ncf_scorer_create(m, 1, &sc, &err), NCF_OK);
    const ncf_idmap *ids = ncf_model_items(m);
    const int32_t u = ncf_idmap_find(ncf_model_users(m), "u7", 2);
    assert_true(u >= 0 && m->seen_off[u + 1] - m->seen_off[u] >= 2);
    const int32_t seen0 = m->seen[m->seen_off[u]], seen1 = m->seen[m->seen_off[u] + 1];
    int32_t top[10], got[64];
    float ts[10];
    int nt = 0;
    assert_int_equal(ncf_scorer_recommend(sc, u, 10, top, ts, &nt), NCF_OK);
    /* exclude the first three of the default answer */
    char path[1024];
    snprintf(path, sizeof path, "/v1/recommend?user=u7&k=10&exclude=%s,%s,%s,nope", ncf_idmap_raw(ids, top[0]),
             ncf_idmap_raw(ids, top[1]), ncf_idmap_raw(ids, top[2]));
    json_t *j = http_json(200, "GET", path, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_exclude")), 1);
    int n = answer_items(m, j, got, 64);
    assert_int_equal(n, 10);
    for (int q = 0; q < 7; q++) assert_int_equal(got[q], top[q + 3]);
    for (int q = 0; q < n; q++) assert_true(got[q] != top[0] && got[q] != top[1] && got[q] != top[2]);
    json_decref(j);
    /* only: a seen item, two items and an unknown id; seen stays out by default */
    const int32_t a = top[5], b = top[8];
    snprintf(path, sizeof path, "/v1/recommend?user=u7&only=%s,%s,%s,zz", ncf_idmap_raw(ids, seen0),
             ncf_idmap_raw(ids, b), ncf_idmap_raw(ids, a));
    j = http_json(200, "GET", path, NULL);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_only")), 1);
    assert_null(json_object_get(j, "unknown_exclude"));
    n = answer_items(m, j, got, 64);
    assert_int_equal(n, 2);
    assert_int_equal(got[0], a);
    assert_int_equal(got[1], b);
    json_decref(j);
    /* include_seen: the seen item comes back, in the library's order */
    snprintf(path, sizeof path, "/v1/recommend?user=u7&include_seen=true&only=%s,%s,%s,%s", ncf_idmap_raw(ids, seen0),
             ncf_idmap_raw(ids, b), ncf_idmap_raw(ids, a), ncf_idmap_raw(ids, seen1));
    j = http_json(200, "GET", path, NULL);
    n = answer_items(m, j, got, 64);
    assert_int_equal(n, 4);
    int32_t lst[4] = {seen0, b, a, seen1}, want[4];
    float ws[4];
    int nw = 0;
    ncf_rules r = {lst, 4, NULL, 0, 1};
    assert_int_equal(ncf_scorer_recommend_ex(sc, u, &r, 4, want, ws, &nw), NCF_OK);
    assert_int_equal(nw, 4);
    int saw_seen = 0;
    for (int q = 0; q < n; q++) {
        assert_int_equal(got[q], want[q]);
        saw_seen |= user_saw(m, u, got[q]);
    }
    assert_true(saw_seen);
    json_decref(j);
    /* the whole ranking: with include_seen=1 every item, the user's training items included;
     * with include_seen=false (the default) none of them */
    const int32_t n_items = ncf_model_get_config(m)->n_items, n_seen = (int32_t)(m->seen_off[u + 1] - m->seen_off[u]);
    int32_t *whole = malloc((size_t)n_items * sizeof *whole);
    snprintf(path, sizeof path, "/v1/recommend?user=u7&k=%d&include_seen=1", (int)n_items);
    j = http_json(200, "GET", path, NULL);
    n = answer_items(m, j, whole, n_items);
    assert_int_equal(n, n_items);
    int seen_back = 0;
    for (int q = 0; q < n; q++) seen_back += user_saw(m, u, whole[q]);
    assert_int_equal(seen_back, n_seen);
    json_decref(j);
    snprintf(path, sizeof path, "/v1/recommend?user=u7&k=%d&include_seen=false", (int)n_items);
    j = http_json(200, "GET", path, NULL);
    n = answer_items(m, j, whole, n_items);
    assert_int_equal(n, n_items - n_seen);
    for (int q = 0; q < n; q++) assert_false(user_saw(m, u, whole[q]));
    json_decref(j);
    free(whole);
    /* POST: the rules hold for every user of the batch, the unknown user's popular items included */
    snprintf(path, sizeof path,
             "{\"users\": [\"u7\", \"u8\", \"stranger\", \"u9\"], \"k\": 5, \"exclude\": [\"%s\", \"%s\", \"gone\"], "
             "\"only\": [\"%s\", \"%s\", \"%s\", \"%s\", \"i1\", \"i2\", \"i3\", \"i4\", 12, \"zz\"]}",
             ncf_idmap_raw(ids, a), ncf_idmap_raw(ids, seen0), ncf_idmap_raw(ids, a), ncf_idmap_raw(ids, b),
             ncf_idmap_raw(ids, seen0), ncf_idmap_raw(ids, seen1));
    j = http_json(200, "POST", "/v1/recommend", path);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_only")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "unknown_exclude")), 1);
    json_t *res = json_object_get(j, "results");
    assert_int_equal(json_array_size(res), 4);
    const char *allowed[] = {ncf_idmap_raw(ids, b), ncf_idmap_raw(ids, seen1), "i1", "i2", "i3", "i4"};
    for (size_t q = 0; q < 4; q++) {
        json_t *e = json_array_get(res, q);
        const char *uname = json_string_value(json_object_get(e, "user"));
        int32_t uu = ncf_idmap_find(ncf_model_users(m), uname, strlen(uname));
        assert_true(q == 2 ? uu < 0 : uu >= 0);
        if (q == 2) assert_string_equal(json_string_value(json_object_get(e, "fallback")), "popular");
        n = answer_items(m, e, got, 64);
        assert_true(n > 0 && n <= 5);
        for (int t = 0; t < n; t++) {
            const char *raw = ncf_idmap_raw(ids, got[t]);
            int ok = 0;
            for (int o = 0; o < 6; o++) ok |= strcmp(raw, allowed[o]) == 0;
            assert_true(ok);
            if (uu >= 0) assert_false(user_saw(m, uu, got[t]));
        }
    }
    json_decref(j);
    /* bad lists: a 400 naming the field */
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"only\": \"i1\"}", "\"only\" must be an array");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"only\": null}", "\"only\" must be an array");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"exclude\": {\"i1\": 1}}",
                 "\"exclude\" must be an array");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"exclude\": [\"i1\", 1.5]}", "\"exclude\"[1]");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"only\": [\"\"]}", "\"only\"[0]");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"only\": [[\"i1\"]]}", "\"only\"[0]");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"include_seen\": \"yes\"}",
                 "\"include_seen\" must be true or false");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"include_seen\": 1}", "\"include_seen\"");
    expect_error(400, "POST", "/v1/recommend", "{\"users\": [\"u1\"], \"only\": [\"i1\"", "body is not JSON");
    expect_error(400, "GET", "/v1/recommend?user=u1&include_seen=maybe", NULL, "'include_seen' must be true or false");
    expect_error(400, "GET", "/v1/recommend?user=u1&exclude=%FF", NULL, "'exclude' is not valid UTF-8");
    ncf_scorer_free(sc);
    ncf_model_free(m);
}

/* A batch over --max-users is a 413 before anything is scored, and users x
 * k over --max-results too; at the limits, with rules, the answer comes. */
static void test_batch_limits(void **state)
{
    int p = 0;
    const char *args[] = {"--model", model_path, "--threads", "1", "--max-users", "5", "--max-results", "50", NULL};
    pid_t pid = spawn_server("batch.out", "batch.err", &p, args);
    assert_true(pid > 0);
    char *body = users_body(6, 2);
    json_t *j = NULL;
    char *text = NULL;
    int code = http_to(p, &text, "POST", "/v1/recommend", body);
    assert_int_equal(code, 413);
    assert_non_null(strstr(text, "6 users is over the limit of 5 per request (--max-users)"));
    free(text);
    free(body);
    body = users_body(5, 11);
    code = http_to(p, &text, "POST", "/v1/recommend", body);
    assert_int_equal(code, 413);
    assert_non_null(strstr(text, "users x k = 5 x 11 = 55 is over the limit of 50"));
    free(text);
    free(body);
    code = http_to(p, &text, "GET", "/v1/similar?item=i1&k=51", NULL);
    assert_int_equal(code, 413);
    assert_non_null(strstr(text, "k = 51 is over the limit of 50 items per answer"));
    free(text);
    code = http_to(p, &text, "POST", "/v1/recommend",
                   "{\"k\": 10, \"users\": [\"u1\", \"u2\", \"u3\", \"u4\", \"nobody\"], \"exclude\": [\"i1\"]}");
    assert_int_equal(code, 200);
    j = json_loads(text, 0, NULL);
    assert_non_null(j);
    assert_int_equal(json_array_size(json_object_get(j, "results")), 5);
    json_decref(j);
    free(text);
    end_extra();
}

static void test_metrics(void **state)
{
    char *body = NULL;
    assert_int_equal(http(&body, "GET", "/metrics", NULL), 200);
    assert_non_null(strstr(body, "# TYPE ncf_http_requests_total counter"));
    assert_non_null(strstr(body, "ncf_http_requests_total{endpoint=\"recommend\",code=\"200\"}"));
    assert_non_null(strstr(body, "ncf_http_requests_total{endpoint=\"recommend\",code=\"400\"}"));
    assert_non_null(strstr(body, "ncf_http_request_duration_seconds_bucket{le=\"+Inf\"}"));
    assert_non_null(strstr(body, "ncf_http_errors_total "));
    free(body);
}

static const char *model_type(void)
{
    static char t[16];
    json_t *j = http_json(200, "GET", "/v1/model", NULL);
    snprintf(t, sizeof t, "%s", json_string_value(json_object_get(j, "type")));
    json_decref(j);
    return t;
}

static void test_reload(void **state)
{
    assert_string_equal(model_type(), "neumf");
    /* a good new file (written elsewhere, renamed in like a deploy) */
    train_model(tu_path("gmf.ncf"), "gmf", 1);
    assert_int_equal(rename(tu_path("gmf.ncf"), model_path), 0);
    assert_int_equal(kill(server, SIGHUP), 0);
    int ok = 0;
    for (int t = 0; t < 200 && !ok; t++, sleep_ms(10)) ok = strcmp(model_type(), "gmf") == 0;
    assert_true(ok);
    /* a corrupt file is refused, the previous model keeps serving */
    FILE *f = fopen(model_path, "w");
    fputs("NCFMODEL but not really a model file", f);
    fclose(f);
    assert_int_equal(kill(server, SIGHUP), 0);
    int refused = 0;
    for (int t = 0; t < 200 && !refused; t++, sleep_ms(10)) {
        char *body = NULL;
        assert_int_equal(http(&body, "GET", "/metrics", NULL), 200);
        refused = strstr(body, "ncf_model_reloads_total{result=\"refused\"} 1") != NULL;
        free(body);
    }
    assert_true(refused);
    assert_string_equal(model_type(), "gmf");
    json_t *j = http_json(200, "GET", "/v1/recommend?user=u2&k=2", NULL);
    json_decref(j);
}

static void test_shutdown(void **state)
{
    assert_int_equal(kill(server, SIGTERM), 0);
    int status = 0;
    pid_t got = 0;
    for (int t = 0; t < 500 && got == 0; t++, sleep_ms(10)) got = waitpid(server, &status, WNOHANG);
    assert_int_equal(got, server);
    server = -1;
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- slow clients ---------------------------------------------------------- */
/* A connection from source address src (NULL: any) to 127.0.0.1:p that has
 * sent a request line and the start of a header, and waits; -1 when it
 * could not connect within a second. */
static int slow_client(const char *src, int p)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv); /* bounds connect() too */
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    if (src && (inet_pton(AF_INET, src, &a.sin_addr) != 1 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0)) {
        close(fd);
        return -1;
    }
    a.sin_port = htons((uint16_t)p);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    static const char head[] = "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0 || send(fd, head, sizeof head - 1, MSG_NOSIGNAL) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* One more header byte on each open connection (fd >= 0). */
static void trickle(const int *fds, int n)
{
    for (int k = 0; k < n; k++)
        if (fds[k] >= 0) (void)send(fds[k], "a", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* 1 when the server has closed the connection (it never answers a request
 * it has not received whole, so anything readable is the end). */
static int closed_by_server(int fd)
{
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, 0) != 1) return 0;
    char b[256];
    ssize_t r = recv(fd, b, sizeof b, MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* Room for n more descriptors: the soft limit raised toward the hard one;
 * 0 when there is not. */
static int fds_for(int n)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 0;
    if (rl.rlim_cur < (rlim_t)n + 64) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > (rlim_t)n + 64 ? (rlim_t)n + 64 : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    return rl.rlim_cur >= (rlim_t)n + 64;
}

/* 1,100 connections from one address (127.0.0.2) trickling a header byte a
 * second, more than libmicrohttpd's default limit (1,020) allows: with the
 * default --max-connections-per-ip (64) the server keeps 64 of them and
 * closes the rest at once, and a request from another address (127.0.0.1)
 * is answered at once. Before the limits, the 1,020 slots were theirs and
 * the request waited for as long as they kept trickling. */
static void test_slow_clients_one_address(void **state)
{
    enum { N = 1100 };
    if (!fds_for(N + 64)) {
        fprintf(stderr, "test_serve: fewer than %d file descriptors: skipped\n", N + 128);
        skip();
    }
    int p = 0;
    const char *args[] = {"--model", model_path, "--threads", "2", NULL};
    pid_t pid = spawn_server("slow1.out", "slow1.err", &p, args);
    assert_true(pid > 0);
    static int fds[N];
    int opened = 0;
    for (int k = 0; k < N; k++) {
        fds[k] = slow_client("127.0.0.2", p);
        if (fds[k] < 0 && k == 0) {
            end_extra();
            fprintf(stderr, "test_serve: cannot connect from 127.0.0.2: skipped\n");
            skip();
        }
        opened += fds[k] >= 0;
    }
    for (int t = 0; t < 2; t++) {
        sleep_ms(500);
        trickle(fds, N);
    }
    double t0 = now_s();
    curl_max_time = 8;
    char *body = NULL;
    int code = http_to(p, &body, "GET", "/healthz", NULL);
    curl_max_time = 60;
    double waited = now_s() - t0;
    free(body);
    int closed = 0;
    for (int k = 0; k < N; k++) closed += fds[k] >= 0 && closed_by_server(fds[k]);
    fprintf(stderr, "test_serve: %d slow connections from 127.0.0.2, %d closed by the server; a request from "
                    "127.0.0.1: %d after %.2f s\n",
            opened, closed, code, waited);
    for (int k = 0; k < N; k++)
        if (fds[k] >= 0) close(fds[k]);
    end_extra();
    assert_int_equal(code, 200);
    assert_true(waited < 5.0);
    assert_true(closed >= opened - 64);
}

/* With every slot held by clients that trickle a byte every 250 ms (so the
 * idle timeout never fires), --request-timeout cuts them at its deadline:
 * a request waiting behind them is answered then, each slow connection is
 * closed after 2 s (seen between 1.5 and 7 s), and /metrics counts them. */
static void test_request_deadline(void **state)
{
    enum { N = 4 };
    int p = 0;
    const char *args[] = {"--model", model_path, "--threads", "2", "--max-connections", "4",
                          "--max-connections-per-ip", "0", "--request-timeout", "2", "--idle-timeout", "10", NULL};
    pid_t pid = spawn_server("slow2.out", "slow2.err", &p, args);
    assert_true(pid > 0);
    int fds[N];
    double t0 = now_s(), closed_at[N];
    for (int k = 0; k < N; k++) {
        fds[k] = slow_client(NULL, p);
        assert_true(fds[k] >= 0);
        closed_at[k] = -1;
    }
    sleep_ms(250);
    trickle(fds, N);
    /* the slots are all taken: this waits in the listen queue until the
     * deadline frees them */
    curl_max_time = 10;
    char *body = NULL;
    int code = http_to(p, &body, "GET", "/healthz", NULL);
    curl_max_time = 60;
    double answered = now_s() - t0;
    free(body);
    for (int t = 0; t < 40; t++, sleep_ms(250)) { /* up to 10 s more, trickling */
        int open = 0;
        for (int k = 0; k < N; k++)
            if (closed_at[k] < 0) {
                if (closed_by_server(fds[k])) closed_at[k] = now_s() - t0;
                else open++;
            }
        if (!open) break;
        trickle(fds, N);
    }
    fprintf(stderr, "test_serve: request answered %d after %.2f s; slow connections closed after", code, answered);
    for (int k = 0; k < N; k++) fprintf(stderr, " %.2f", closed_at[k]);
    fprintf(stderr, " s\n");
    for (int k = 0; k < N; k++) close(fds[k]);
    assert_int_equal(code, 200);
    /* not before the deadline (2 s), and long before the idle timeout could
     * have fired (10 s); the upper bound leaves room for a loaded machine */
    for (int k = 0; k < N; k++) assert_true(closed_at[k] >= 1.5 && closed_at[k] <= 7.0);
    assert_int_equal(http_to(p, &body, "GET", "/metrics", NULL), 200);
    assert_non_null(strstr(body, "ncf_http_connections_timed_out_total 4\n"));
    free(body);
    /* the deadline is per request: a keep-alive connection asking every
     * 0.7 s is served for longer than --request-timeout */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)p);
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    struct timeval tv = {3, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int answered_n = 0;
    for (int r = 0; r < 5; r++) {
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
        if (send(fd, req, sizeof req - 1, MSG_NOSIGNAL) < 0) break;
        char got[1024];
        size_t n = 0;
        while (n < sizeof got - 1) {
            ssize_t k = recv(fd, got + n, sizeof got - 1 - n, 0);
            if (k <= 0) break;
            n += (size_t)k;
            got[n] = '\0';
            if (strstr(got, "{\"status\":\"ok\"}")) break;
        }
        got[n] = '\0';
        if (!strstr(got, "{\"status\":\"ok\"}")) break;
        answered_n++;
        sleep_ms(700);
    }
    close(fd);
    assert_int_equal(answered_n, 5);
    end_extra();
}

/* ---- scores that are not numbers -------------------------------------------- */
/* GMF with two factors, output weights (1, -1), bias 0: score = p0 q0 - p1 q1.
 * User u0 is (1e20, 1e20); items n0, n2, n4 score 1, 2, 0.5; n1 scores
 * inf - inf = NaN and n3 inf + inf = +inf (finite weights, overflowing
 * products). Item n1's raw id is n1_name. */
static void write_overflow_model(const char *path, const char *n1_name)
{
    ncf_err err = {{0}};
    ncf_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_users = 1;
    ds.n_items = 5;
    int32_t idx;
    assert_int_equal(ncf_idmap_create(&ds.user_ids), NCF_OK);
    assert_int_equal(ncf_idmap_create(&ds.item_ids), NCF_OK);
    assert_int_equal(ncf_idmap_add(ds.user_ids, "u0", 2, &idx), NCF_OK);
    const char *names[5] = {"n0", n1_name, "n2", "n3", "n4"};
    for (int k = 0; k < 5; k++) assert_int_equal(ncf_idmap_add(ds.item_ids, names[k], strlen(names[k]), &idx), NCF_OK);
    int64_t off[2] = {0, 0};
    int32_t none[1] = {0}; /* no training items (not NULL: attach copies 0 bytes from it) */
    ds.train_offsets = off;
    ds.train_items = none;
    int32_t layers[1] = {0};
    ncf_model_config c;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_GMF, 2, layers, 0, &c, &err), NCF_OK);
    c.n_users = 1;
    c.n_items = 5;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, 1, &m, &err), NCF_OK);
    assert_int_equal(ncf_model_attach_data(m, &ds, &err), NCF_OK);
    float *pu = m->tab[NCF_TABLE_GMF_USER].w;
    pu[0] = pu[1] = 1e20f;
    const float q[5][2] = {{1e-20f, 0}, {1e20f, 1e20f}, {2e-20f, 0}, {1e20f, -1e20f}, {0.5e-20f, 0}};
    for (int i = 0; i < 5; i++)
        memcpy(m->tab[NCF_TABLE_GMF_ITEM].w + (size_t)i * (size_t)m->tab[NCF_TABLE_GMF_ITEM].stride, q[i], sizeof q[i]);
    float *wo = m->dense + m->wo_off;
    wo[0] = 1.0f, wo[1] = -1.0f;
    m->dense[m->bo_off] = 0.0f;
    assert_int_equal(ncf_model_save(m, path, &err), NCF_OK);
    ncf_model_free(m);
    ncf_idmap_free(ds.user_ids);
    ncf_idmap_free(ds.item_ids);
}

/* Every item comes back, in order, with "score": null where the logit is
 * not a number (jansson refuses NaN and infinity: such items used to be
 * dropped from the answer without a word). */
static void test_non_finite_scores(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s", tu_path("overflow.ncf"));
    write_overflow_model(path, "n1");
    int p = 0;
    const char *args[] = {"--model", path, "--threads", "1", NULL};
    pid_t pid = spawn_server("overflow.out", "overflow.err", &p, args);
    assert_true(pid > 0);
    char *body = NULL;
    int code = http_to(p, &body, "GET", "/v1/recommend?user=u0&k=5", NULL);
    json_t *j = body ? json_loads(body, 0, NULL) : NULL;
    if (code != 200 || !j) fprintf(stderr, "recommend: %d %s\n", code, body ? body : "");
    free(body);
    assert_int_equal(code, 200);
    assert_non_null(j);
    json_t *items = json_object_get(j, "items");
    const char *order[5] = {"n3", "n2", "n0", "n4", "n1"};
    const double want[5] = {NAN, 2.0, 1.0, 0.5, NAN};
    assert_int_equal(json_array_size(items), 5);
    for (size_t q = 0; q < 5; q++) {
        json_t *it = json_array_get(items, q);
        assert_string_equal(json_string_value(json_object_get(it, "item")), order[q]);
        json_t *sc = json_object_get(it, "score");
        if (isnan(want[q])) assert_true(json_is_null(sc));
        else assert_true(fabs(json_number_value(sc) - want[q]) < 1e-4);
    }
    json_decref(j);
    code = http_to(p, &body, "GET", "/v1/score?user=u0&items=n1,n0,n3", NULL);
    j = body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    assert_int_equal(code, 200);
    assert_non_null(j);
    json_t *sc = json_object_get(j, "scores");
    assert_int_equal(json_array_size(sc), 3);
    assert_true(json_is_null(json_object_get(json_array_get(sc, 0), "score")));
    assert_true(fabs(json_number_value(json_object_get(json_array_get(sc, 1), "score")) - 1.0) < 1e-4);
    assert_true(json_is_null(json_object_get(json_array_get(sc, 2), "score")));
    json_decref(j);
    end_extra();
}

/* A model whose ids are not all UTF-8 (here a Latin-1 item id) is not
 * served: JSON answers cannot carry the id, and the item used to vanish from
 * every answer. The server says which id and exits 1; on SIGHUP such a file
 * is refused and the previous model keeps serving. */
static void test_model_ids_not_utf8(void **state)
{
    char bad[512], good[512];
    snprintf(bad, sizeof bad, "%s", tu_path("latin1.ncf"));
    snprintf(good, sizeof good, "%s", tu_path("utf8.ncf"));
    write_overflow_model(bad, "caf\xe9");
    write_overflow_model(good, "caf\xc3\xa9");
    int p = 0;
    const char *args[] = {"--model", bad, "--threads", "1", NULL};
    pid_t pid = spawn_server("latin1.out", "latin1.err", &p, args);
    if (pid > 0) end_extra();
    assert_true(pid < 0);
    assert_true(WIFEXITED(spawn_status) && WEXITSTATUS(spawn_status) == 1);
    char *err = tu_read(tu_path("latin1.err"), NULL);
    assert_non_null(err);
    if (!strstr(err, "item id 'caf\\xe9' (index 1) is not valid UTF-8")) fprintf(stderr, "stderr: %s\n", err);
    assert_non_null(strstr(err, "item id 'caf\\xe9' (index 1) is not valid UTF-8"));
    free(err);
    /* a UTF-8 id is served as it is */
    const char *args2[] = {"--model", good, "--threads", "1", NULL};
    pid = spawn_server("utf8.out", "utf8.err", &p, args2);
    assert_true(pid > 0);
    char *body = NULL;
    assert_int_equal(http_to(p, &body, "GET", "/v1/score?user=u0&items=caf%C3%A9,n0", NULL), 200);
    json_t *j = json_loads(body, 0, NULL);
    free(body);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(j, "scores"), 0), "item")),
                        "caf\xc3\xa9");
    json_decref(j);
    /* reloading the Latin-1 file is refused */
    assert_int_equal(rename(bad, good), 0);
    assert_int_equal(kill(pid, SIGHUP), 0);
    int refused = 0;
    for (int t = 0; t < 500 && !refused; t++, sleep_ms(10)) {
        assert_int_equal(http_to(p, &body, "GET", "/metrics", NULL), 200);
        refused = strstr(body, "ncf_model_reloads_total{result=\"refused\"} 1") != NULL;
        free(body);
    }
    assert_true(refused);
    end_extra();
}

/* ---- signals during a slow reload ------------------------------------------ */
/* A NeuMF model big enough that loading it takes a good part of a second:
 * 40,000 items whose first-layer halves (256 x 256 each) are computed at
 * load on the server's threads. Random weights, no training. */
static void write_big_model(const char *path)
{
    ncf_err err = {{0}};
    ncf_dataset ds;
    memset(&ds, 0, sizeof ds);
    ds.n_users = 1000;
    ds.n_items = 40000;
    assert_int_equal(ncf_idmap_create(&ds.user_ids), NCF_OK);
    assert_int_equal(ncf_idmap_create(&ds.item_ids), NCF_OK);
    char raw[32];
    int32_t idx;
    for (int k = 0; k < ds.n_users; k++) {
        int n = snprintf(raw, sizeof raw, "u%d", k);
        assert_int_equal(ncf_idmap_add(ds.user_ids, raw, (size_t)n, &idx), NCF_OK);
    }
    for (int k = 0; k < ds.n_items; k++) {
        int n = snprintf(raw, sizeof raw, "i%d", k);
        assert_int_equal(ncf_idmap_add(ds.item_ids, raw, (size_t)n, &idx), NCF_OK);
    }
    ds.train_offsets = calloc((size_t)ds.n_users + 1, sizeof *ds.train_offsets);
    assert_non_null(ds.train_offsets);
    int32_t none[1] = {0}; /* no training items (not NULL: attach copies 0 bytes from it) */
    ds.train_items = none;
    int32_t layers[2] = {512, 256};
    ncf_model_config c;
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, layers, 2, &c, &err), NCF_OK);
    c.n_users = ds.n_users;
    c.n_items = ds.n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&c, 7, &m, &err), NCF_OK);
    assert_int_equal(ncf_model_attach_data(m, &ds, &err), NCF_OK);
    assert_int_equal(ncf_model_save(m, path, &err), NCF_OK);
    ncf_model_free(m);
    ncf_idmap_free(ds.user_ids);
    ncf_idmap_free(ds.item_ids);
    free(ds.train_offsets);
}

/* ncf_model_reloads_total{result="ok"} of the server on port p. */
static long reloads_ok(int p)
{
    char *body = NULL;
    if (http_to(p, &body, "GET", "/metrics", NULL) != 200) {
        free(body);
        return -1;
    }
    const char *key = "ncf_model_reloads_total{result=\"ok\"} ";
    const char *at = strstr(body, key);
    long n = at ? atol(at + strlen(key)) : -1;
    free(body);
    return n;
}

/* Waits up to ms for pid to exit; returns 1 with its status in *status. */
static int wait_exit(pid_t pid, int ms, int *status)
{
    for (int t = 0; t < ms / 10; t++, sleep_ms(10))
        if (waitpid(pid, status, WNOHANG) == pid) return 1;
    return 0;
}

/* SIGHUP and SIGTERM arriving while a reload runs (the loader's OpenMP
 * threads exist by then) are handled by the main thread: a second SIGHUP
 * makes a second reload, SIGTERM a clean exit 0. Neither kills the server. */
static void test_signals_during_reload(void **state)
{
    char big[512];
    snprintf(big, sizeof big, "%s", tu_path("big.ncf"));
    write_big_model(big);
    int p = 0;
    const char *args[] = {"--model", big, "--threads", "2", NULL};
    double t0 = now_s();
    pid_t pid = spawn_server("big.out", "big.err", &p, args);
    assert_true(pid > 0);
    fprintf(stderr, "test_serve: the big model loads in %.2f s\n", now_s() - t0);
    int status = 0;
    /* two SIGHUPs in a row: the second lands during the first reload */
    assert_int_equal(kill(pid, SIGHUP), 0);
    sleep_ms(50);
    assert_int_equal(kill(pid, SIGHUP), 0);
    long ok = 0;
    for (int t = 0; t < 600 && ok < 2; t++, sleep_ms(100)) {
        if (waitpid(pid, &status, WNOHANG) == pid) {
            extra = -1;
            fprintf(stderr, "the server died during a reload: %s %d\n", WIFSIGNALED(status) ? "signal" : "exit",
                    WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
            fail();
        }
        ok = reloads_ok(p);
    }
    assert_int_equal(ok, 2);
    /* SIGTERM during a reload: the reload ends, then a clean exit */
    assert_int_equal(kill(pid, SIGHUP), 0);
    sleep_ms(50);
    assert_int_equal(kill(pid, SIGTERM), 0);
    int exited = wait_exit(pid, 60000, &status);
    if (exited) extra = -1;
    else end_extra();
    assert_true(exited);
    if (!WIFEXITED(status)) fprintf(stderr, "the server died of signal %d\n", WTERMSIG(status));
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* ---- export ----------------------------------------------------------------- */
static void test_export_safetensors(void **state)
{
    const char *st = tu_path("model.safetensors"), *ids = tu_path("model.ids.tsv");
    train_model(tu_path("exp.ncf"), "neumf", 1);
    char *log = NULL;
    int rc = tu_run(&log, "%s export --model %s --format safetensors --out %s --ids %s", NCF, tu_path("exp.ncf"), st, ids);
    if (rc) fprintf(stderr, "%s\n", log);
    free(log);
    assert_int_equal(rc, 0);
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(tu_path("exp.ncf"), &m, &err), NCF_OK);
    size_t size;
    unsigned char *b = (unsigned char *)tu_read(st, &size);
    assert_non_null(b);
    uint64_t hl;
    memcpy(&hl, b, 8);
    assert_true(hl % 8 == 0 && 8 + hl <= size);
    json_error_t je;
    json_t *h = json_loadb((const char *)b + 8, hl, 0, &je);
    assert_non_null(h);
    const unsigned char *data = b + 8 + hl;
    struct {
        const char *name;
        int64_t rows, cols;
        const float *w;
        int64_t stride;
    } want[] = {
        {"gmf.user_embedding", 300, 8, m->tab[NCF_TABLE_GMF_USER].w, m->tab[NCF_TABLE_GMF_USER].stride},
        {"mlp.item_embedding", 400, 16, m->tab[NCF_TABLE_MLP_ITEM].w, m->tab[NCF_TABLE_MLP_ITEM].stride},
        {"mlp.0.weight", 16, 32, m->dense + m->w_off[0], 32},
        {"mlp.1.bias", 8, 0, m->dense + m->b_off[1], 1},
        {"output.weight", 1, 16, m->dense + m->wo_off, 16},
    };
    for (size_t k = 0; k < sizeof want / sizeof *want; k++) {
        json_t *t = json_object_get(h, want[k].name);
        assert_non_null(t);
        assert_string_equal(json_string_value(json_object_get(t, "dtype")), "F32");
        json_t *shape = json_object_get(t, "shape"), *off = json_object_get(t, "data_offsets");
        assert_int_equal(json_integer_value(json_array_get(shape, 0)), want[k].rows);
        if (want[k].cols) assert_int_equal(json_integer_value(json_array_get(shape, 1)), want[k].cols);
        int64_t b0 = json_integer_value(json_array_get(off, 0)), b1 = json_integer_value(json_array_get(off, 1));
        int64_t cols = want[k].cols ? want[k].cols : want[k].rows, rows = want[k].cols ? want[k].rows : 1;
        assert_int_equal(b1 - b0, 4 * rows * cols);
        for (int64_t r = 0; r < rows; r++)
            assert_memory_equal(data + b0 + 4 * r * cols, want[k].w + r * want[k].stride, (size_t)(4 * cols));
    }
    assert_int_equal(json_object_size(h), 1 + 4 + 2 * 2 + 2); /* metadata, 4 tables, 2 layers, output */
    json_decref(h);
    free(b);
    /* the id maps */
    char *t = tu_read(ids, NULL);
    assert_non_null(t);
    assert_non_null(strstr(t, "user\t0\tu1\n"));
    assert_non_null(strstr(t, "item\t"));
    free(t);
    /* NumPy, when there: the same shapes and a checksum */
    if (tu_run(NULL, "python3 -c 'import numpy' 2>/dev/null") == 0) {
        char *py = NULL;
        rc = tu_run(&py,
                    "python3 - '%s' <<'EOF'\n"
                    "import json, struct, sys, numpy as np\n"
                    "b = open(sys.argv[1], 'rb').read()\n"
                    "n = struct.unpack('<Q', b[:8])[0]\n"
                    "h = json.loads(b[8:8 + n])\n"
                    "d = b[8 + n:]\n"
                    "t = h['mlp.0.weight']\n"
                    "a = np.frombuffer(d[t['data_offsets'][0]:t['data_offsets'][1]], dtype='<f4').reshape(t['shape'])\n"
                    "print(a.shape[0], a.shape[1], '%%.6f' %% float(a.astype(np.float64).sum()))\n"
                    "EOF",
                    st);
        assert_int_equal(rc, 0);
        int r0, c0;
        double sum;
        assert_int_equal(sscanf(py, "%d %d %lf", &r0, &c0, &sum), 3);
        double want_sum = 0;
        for (int k = 0; k < 16 * 32; k++) want_sum += m->dense[m->w_off[0] + (size_t)k];
        assert_int_equal(r0, 16);
        assert_int_equal(c0, 32);
        assert_true(fabs(sum - want_sum) < 1e-4);
        free(py);
    } else {
        fprintf(stderr, "python3 with numpy not found: the NumPy read-back is skipped (the C reader ran)\n");
    }
    ncf_model_free(m);
}

int main(void)
{
    if (tu_run(NULL, "command -v curl >/dev/null") != 0) {
        fprintf(stderr, "test_serve: curl is not installed (make test installs it)\n");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_healthz_and_model), cmocka_unit_test(test_recommend),
        cmocka_unit_test(test_score),             cmocka_unit_test(test_bad_requests),
        cmocka_unit_test(test_invalid_utf8),      cmocka_unit_test(test_work_bound),
        cmocka_unit_test(test_similar),           cmocka_unit_test(test_rules),
        cmocka_unit_test(test_batch_limits),
        cmocka_unit_test(test_slow_clients_one_address), cmocka_unit_test(test_request_deadline),
        cmocka_unit_test(test_metrics),           cmocka_unit_test(test_reload),
        cmocka_unit_test(test_shutdown),          cmocka_unit_test(test_non_finite_scores),
        cmocka_unit_test(test_model_ids_not_utf8),
        cmocka_unit_test(test_signals_during_reload),
        cmocka_unit_test(test_export_safetensors),
    };
    return cmocka_run_group_tests(tests, start_server, stop_server);
}
