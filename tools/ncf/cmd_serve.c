/* cmd_serve.c — `ncf serve`: recommendations over HTTP/JSON on
 * libmicrohttpd (request bodies parsed with jansson and answers written as
 * text by json_text.c, both in serve_core.c).
 *
 *   GET  /v1/recommend?user=RAW&k=10   top-K unseen items (unknown user:
 *                                      most popular items, "fallback")
 *   POST /v1/recommend {"users": [...], "k": 10}
 *        both with business rules: only, exclude, include_seen
 *   GET  /v1/score?user=RAW&items=a,b,c
 *   GET  /v1/similar?item=RAW&k=10     nearest items by cosine
 *   GET  /v1/model, /healthz, /metrics (Prometheus text)
 *
 * One model is served at a time through a reference-counted holder: a
 * request takes a reference for its whole life, SIGHUP loads the file again
 * and swaps it in only when it loads cleanly, and the old model is freed
 * when its last request ends. SIGTERM/SIGINT stop accepting, let requests
 * in flight finish, and exit 0; the main thread alone takes the signals.
 *
 * Whatever a client sends, the answer is valid JSON and a 4xx for bad input
 * (500 only when memory runs out), and what one request or connection can
 * cost is bounded: body bytes, k, users per batch, users x k per answer,
 * connections in all and per address, an idle timeout and a deadline per
 * request (docs/serving.md, Limits). Does not do TLS or authentication: it
 * binds to loopback unless told otherwise. The answers themselves (and
 * loading the model) are serve_core.c's, which needs no socket. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h> /* malloc_trim */
#endif

#include "cli.h"
#include "serve_core.h"

static const char *HELP =
    "Usage: ncf serve --model MODEL [--host 127.0.0.1] [--port 8080] [--threads N]\n"
    "                 [--max-body BYTES] [--max-k K] [--max-users N] [--max-results N]\n"
    "                 [--max-connections N] [--max-connections-per-ip N]\n"
    "                 [--idle-timeout S] [--request-timeout S]\n"
    "\n"
    "Serves recommendations over HTTP/JSON (docs/serving.md):\n"
    "  GET  /v1/recommend?user=RAW&k=10     top-K items the user has not had\n"
    "  POST /v1/recommend  {\"users\": [...], \"k\": 10}\n"
    "       rules: only=a,b / exclude=a,b / include_seen=true in the query,\n"
    "       \"only\": [...], \"exclude\": [...], \"include_seen\": true in the body\n"
    "  GET  /v1/similar?item=RAW&k=10       items nearest the item (cosine); only=, exclude=\n"
    "  GET  /v1/score?user=RAW&items=a,b,c\n"
    "  GET  /v1/model   GET /healthz   GET /metrics (Prometheus)\n"
    "An unknown user gets the most popular items, marked \"fallback\": \"popular\".\n"
    "Binds to loopback unless --host says otherwise (--port 0: any free port; the\n"
    "chosen one is printed). SIGHUP reloads MODEL (a bad file is refused and the\n"
    "old model keeps serving); SIGTERM finishes requests in flight and exits 0.\n"
    "Limits on one request (over one: a JSON error, 413 for the size ones):\n"
    "  --max-body BYTES    request body (default 1048576)\n"
    "  --max-k K           k (default 1000)\n"
    "  --max-users N       users in one POST (default 10000)\n"
    "  --max-results N     items in one answer: users x k (default 100000)\n"
    "Limits on connections (over one: the connection waits, or is closed):\n"
    "  --max-connections N         open at once (default 256; at least --threads);\n"
    "                              more wait in the listen queue\n"
    "  --max-connections-per-ip N  open at once from one address (default 64,\n"
    "                              0: no limit); more are closed at once\n"
    "  --idle-timeout S            close after S seconds without a byte (default 10)\n"
    "  --request-timeout S         close a connection that has not received, answered\n"
    "                              and sent a request within S seconds of opening or\n"
    "                              of its previous request's end (default 30, 0: none)\n"
    "--threads: default all cores.\n";

/* ---- the served model ----------------------------------------------------- */
static pthread_mutex_t model_lock = PTHREAD_MUTEX_INITIALIZER;
static served *current;
static const char *model_path;

static served *acquire(void)
{
    pthread_mutex_lock(&model_lock);
    served *s = current;
    s->refs++;
    pthread_mutex_unlock(&model_lock);
    return s;
}

static void release(served *s)
{
    pthread_mutex_lock(&model_lock);
    int last = --s->refs == 0;
    pthread_mutex_unlock(&model_lock);
    if (last) served_free(s);
}

/* ---- metrics -------------------------------------------------------------- */
enum { EP_RECOMMEND, EP_RECOMMEND_BATCH, EP_SCORE, EP_SIMILAR, EP_MODEL, EP_HEALTHZ, EP_METRICS, EP_OTHER, N_EP };
static const char *ep_name[N_EP] = {"recommend", "recommend_batch", "score",  "similar",
                                    "model",     "healthz",         "metrics", "other"};
static const int codes[] = {200, 400, 404, 405, 413, 500};
enum { N_CODES = sizeof codes / sizeof codes[0] };
static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0};
enum { N_BUCKETS = sizeof buckets / sizeof buckets[0] };
static _Atomic unsigned long long n_requests[N_EP][N_CODES];
static _Atomic unsigned long long n_bucket[N_BUCKETS + 1];
static _Atomic unsigned long long sum_usec, n_reload_ok, n_reload_failed, n_conn_timed_out;
static _Atomic int in_flight, n_conn_open;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void record(int ep, int code, double seconds)
{
    int ci = N_CODES - 1;
    for (int k = 0; k < N_CODES; k++)
        if (codes[k] == code) ci = k;
    atomic_fetch_add(&n_requests[ep][ci], 1);
    int b = N_BUCKETS;
    for (int k = 0; k < N_BUCKETS; k++)
        if (seconds <= buckets[k]) {
            b = k;
            break;
        }
    atomic_fetch_add(&n_bucket[b], 1);
    atomic_fetch_add(&sum_usec, (unsigned long long)(seconds * 1e6));
}

static char *metrics_text(void)
{
    size_t cap = 8192, n = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
#define OUT(...)                                                                 \
    do {                                                                         \
        int w_ = snprintf(b + n, cap - n, __VA_ARGS__);                          \
        if (w_ > 0 && (size_t)w_ >= cap - n) {                                   \
            char *nb_ = realloc(b, cap * 2 + (size_t)w_);                        \
            if (!nb_) { free(b); return NULL; }                                  \
            b = nb_;                                                             \
            cap = cap * 2 + (size_t)w_;                                          \
            w_ = snprintf(b + n, cap - n, __VA_ARGS__);                          \
        }                                                                        \
        if (w_ > 0) n += (size_t)w_;                                             \
    } while (0)
    OUT("# HELP ncf_http_requests_total HTTP requests answered, by endpoint and status code.\n");
    OUT("# TYPE ncf_http_requests_total counter\n");
    unsigned long long errors = 0, total = 0;
    for (int e = 0; e < N_EP; e++)
        for (int c = 0; c < N_CODES; c++) {
            unsigned long long v = atomic_load(&n_requests[e][c]);
            total += v;
            if (codes[c] >= 400) errors += v;
            if (v) OUT("ncf_http_requests_total{endpoint=\"%s\",code=\"%d\"} %llu\n", ep_name[e], codes[c], v);
        }
    OUT("# HELP ncf_http_errors_total HTTP requests answered with a 4xx or 5xx status.\n");
    OUT("# TYPE ncf_http_errors_total counter\nncf_http_errors_total %llu\n", errors);
    OUT("# HELP ncf_http_request_duration_seconds Time from a request's arrival to its response.\n");
    OUT("# TYPE ncf_http_request_duration_seconds histogram\n");
    unsigned long long cum = 0;
    for (int k = 0; k <= N_BUCKETS; k++) {
        cum += atomic_load(&n_bucket[k]);
        if (k < N_BUCKETS) OUT("ncf_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[k], cum);
        else OUT("ncf_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", cum);
    }
    OUT("ncf_http_request_duration_seconds_sum %.6f\n", (double)atomic_load(&sum_usec) * 1e-6);
    OUT("ncf_http_request_duration_seconds_count %llu\n", cum);
    OUT("# HELP ncf_model_reloads_total Model reloads on SIGHUP, by result.\n# TYPE ncf_model_reloads_total counter\n");
    OUT("ncf_model_reloads_total{result=\"ok\"} %llu\nncf_model_reloads_total{result=\"refused\"} %llu\n",
        atomic_load(&n_reload_ok), atomic_load(&n_reload_failed));
    OUT("# HELP ncf_http_requests_in_flight Requests being handled.\n# TYPE ncf_http_requests_in_flight gauge\n");
    OUT("ncf_http_requests_in_flight %d\n", atomic_load(&in_flight));
    OUT("# HELP ncf_http_connections_open Client connections open.\n# TYPE ncf_http_connections_open gauge\n");
    OUT("ncf_http_connections_open %d\n", atomic_load(&n_conn_open));
    OUT("# HELP ncf_http_connections_timed_out_total Connections cut at their request deadline "
        "(--request-timeout).\n# TYPE ncf_http_connections_timed_out_total counter\n");
    OUT("ncf_http_connections_timed_out_total %llu\n", atomic_load(&n_conn_timed_out));
    (void)total;
#undef OUT
    return b;
}

/* ---- connections: a deadline per request --------------------------------------
 * libmicrohttpd's own timeout (--idle-timeout) counts from the last byte, so
 * a client sending a byte a second keeps its connection, and its slot, for
 * ever. Here every open connection has a deadline: --request-timeout seconds
 * after it opened, or after its previous request ended (keep-alive), for
 * receiving a request, answering it and sending the answer. A reaper thread
 * shuts down the socket of a connection past its deadline; libmicrohttpd
 * then sees the end of the stream and closes it in its own thread.
 *
 * The socket stays open while its entry is on the list: libmicrohttpd
 * notifies MHD_CONNECTION_NOTIFY_CLOSED, which takes the entry off under
 * conn_lock, before it closes the descriptor, so the reaper never shuts
 * down a descriptor that was closed and reused. */
typedef struct conn {
    struct conn *prev, *next;
    MHD_socket fd;
    double deadline; /* now_s() time */
    int cut;         /* shut down by the reaper */
} conn;

static pthread_mutex_t conn_lock = PTHREAD_MUTEX_INITIALIZER;
static conn *conns;                /* open connections, under conn_lock */
static int request_timeout = 30;   /* --request-timeout seconds; 0: none */
static _Atomic int reaper_stop;

static void notify_connection(void *cls, struct MHD_Connection *c, void **socket_context,
                              enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        atomic_fetch_add(&n_conn_open, 1);
        const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn *e = request_timeout && ci ? calloc(1, sizeof *e) : NULL;
        if (!e) return; /* no deadline: libmicrohttpd's timeouts only */
        e->fd = ci->connect_fd;
        e->deadline = now_s() + request_timeout;
        pthread_mutex_lock(&conn_lock);
        e->next = conns;
        if (conns) conns->prev = e;
        conns = e;
        pthread_mutex_unlock(&conn_lock);
        *socket_context = e;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        atomic_fetch_sub(&n_conn_open, 1);
        conn *e = *socket_context;
        if (!e) return;
        pthread_mutex_lock(&conn_lock);
        if (e->prev) e->prev->next = e->next;
        else conns = e->next;
        if (e->next) e->next->prev = e->prev;
        pthread_mutex_unlock(&conn_lock);
        free(e);
        *socket_context = NULL;
    }
}

/* A request on c has ended: the next one on the connection gets a whole
 * --request-timeout from now. */
static void restart_deadline(struct MHD_Connection *c)
{
    const union MHD_ConnectionInfo *ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    conn *e = ci ? ci->socket_context : NULL;
    if (!e) return;
    pthread_mutex_lock(&conn_lock);
    e->deadline = now_s() + request_timeout;
    pthread_mutex_unlock(&conn_lock);
}

/* Every 250 ms: shut down the sockets of connections past their deadline.
 * Runs until reaper_stop is set. */
static void *reaper(void *arg)
{
    (void)arg;
    while (!atomic_load(&reaper_stop)) {
        nanosleep(&(struct timespec){0, 250 * 1000 * 1000}, NULL);
        const double t = now_s();
        pthread_mutex_lock(&conn_lock);
        for (conn *e = conns; e; e = e->next)
            if (!e->cut && t > e->deadline) {
                shutdown(e->fd, SHUT_RDWR);
                e->cut = 1;
                atomic_fetch_add(&n_conn_timed_out, 1);
            }
        pthread_mutex_unlock(&conn_lock);
    }
    return NULL;
}

/* ---- requests --------------------------------------------------------------- */
typedef struct request {
    char *body;
    size_t len, cap;
    int too_big;
    int endpoint, code;
    double t0;
} request;

/* The limit on a request body (--max-body; docs/serving.md); the others
 * are serve_core.h's serve_max_*. */
static size_t max_body = 1 << 20;

/* Big answers and bodies leave glibc's per-thread arenas holding memory
 * that a later request may never reuse (5 GB after one huge answer, before
 * the work bound): after one, the free pages go back to the system. */
enum { TRIM_ANSWER = 1 << 20, TRIM_BODY = 256 << 10 };

static void trim_memory(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}

/* MHD frees an answer once it is sent: a big one is freed, then trimmed */
static void free_and_trim(void *text)
{
    free(text);
    trim_memory();
}

static enum MHD_Result send_text(struct MHD_Connection *c, request *rq, int code, const char *type, char *text,
                                 const char *allow)
{
    rq->code = code;
    size_t len = strlen(text);
    struct MHD_Response *r = len >= TRIM_ANSWER
                                 ? MHD_create_response_from_buffer_with_free_callback(len, text, free_and_trim)
                                 : MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(text);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    if (allow) MHD_add_response_header(r, "Allow", allow);
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)code, r);
    MHD_destroy_response(r);
    return ret;
}

/* Sends an answer made by serve_core.c (taken). */
static enum MHD_Result send_answer(struct MHD_Connection *c, request *rq, serve_answer *a, const char *allow)
{
    if (!a->text) return MHD_NO;
    return send_text(c, rq, a->code, "application/json", a->text, allow);
}

/* {"error": message}; whatever bytes the message echoes from the request,
 * the answer is valid JSON (serve_error). */
static enum MHD_Result send_error(struct MHD_Connection *c, request *rq, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static enum MHD_Result send_error(struct MHD_Connection *c, request *rq, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    const char *allow = NULL;
    if (code == 405) allow = rq->endpoint == EP_RECOMMEND ? "GET, POST" : "GET";
    serve_answer a;
    serve_error(&a, code, "%s", msg);
    return send_answer(c, rq, &a, allow);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                               const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
    (void)cls;
    (void)version;
    request *rq = *con_cls;
    if (!rq) {
        rq = calloc(1, sizeof *rq);
        if (!rq) return MHD_NO;
        rq->t0 = now_s();
        rq->endpoint = EP_OTHER;
        rq->code = 500;
        atomic_fetch_add(&in_flight, 1);
        *con_cls = rq;
        return MHD_YES;
    }
    if (*upload_data_size) { /* body arrives in pieces: keep up to max_body */
        if (!rq->too_big) {
            if (rq->len + *upload_data_size > max_body) {
                rq->too_big = 1;
            } else {
                if (rq->len + *upload_data_size + 1 > rq->cap) {
                    size_t cap = (rq->len + *upload_data_size + 1) * 2;
                    char *b = realloc(rq->body, cap);
                    if (!b) return MHD_NO;
                    rq->body = b;
                    rq->cap = cap;
                }
                memcpy(rq->body + rq->len, upload_data, *upload_data_size);
                rq->len += *upload_data_size;
                rq->body[rq->len] = '\0';
            }
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0, post = strcmp(method, "POST") == 0;
    if (strcmp(url, "/v1/recommend") == 0) rq->endpoint = EP_RECOMMEND;
    else if (strcmp(url, "/v1/score") == 0) rq->endpoint = EP_SCORE;
    else if (strcmp(url, "/v1/similar") == 0) rq->endpoint = EP_SIMILAR;
    else if (strcmp(url, "/v1/model") == 0) rq->endpoint = EP_MODEL;
    else if (strcmp(url, "/healthz") == 0) rq->endpoint = EP_HEALTHZ;
    else if (strcmp(url, "/metrics") == 0) rq->endpoint = EP_METRICS;
    else return send_error(c, rq, 404, "no such path: %.200s", url);
    if (rq->too_big) return send_error(c, rq, 413, "request body larger than %zu bytes", max_body);
    if (!(get || (post && rq->endpoint == EP_RECOMMEND)))
        return send_error(c, rq, 405, "method %.50s not allowed on %s", method, url);
    if (rq->endpoint == EP_METRICS) {
        char *text = metrics_text();
        if (!text) return send_error(c, rq, 500, "out of memory");
        return send_text(c, rq, 200, "text/plain; version=0.0.4", text, NULL);
    }
    served *s = acquire();
    enum MHD_Result ret;
    const serve_rule_params rp = {MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "only"),
                                  MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "exclude"),
                                  MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "include_seen")};
    switch (rq->endpoint) {
    case EP_RECOMMEND: {
        serve_answer a;
        if (post) {
            rq->endpoint = EP_RECOMMEND_BATCH;
            serve_recommend_post(s, rq->body, rq->len, &a);
        } else {
            serve_recommend_get(s, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user"),
                                MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "k"), &rp, &a);
        }
        ret = send_answer(c, rq, &a, NULL);
        break;
    }
    case EP_SCORE: {
        serve_answer a;
        serve_score(s, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "user"),
                    MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "items"), &a);
        ret = send_answer(c, rq, &a, NULL);
        break;
    }
    case EP_SIMILAR: {
        serve_answer a;
        serve_similar(s, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "item"),
                      MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "k"), &rp, &a);
        ret = send_answer(c, rq, &a, NULL);
        break;
    }
    case EP_MODEL: {
        char *text = strdup(s->info);
        ret = text ? send_text(c, rq, 200, "application/json", text, NULL) : send_error(c, rq, 500, "out of memory");
        break;
    }
    default: {
        char *text = strdup("{\"status\":\"ok\"}");
        ret = text ? send_text(c, rq, 200, "application/json", text, NULL) : send_error(c, rq, 500, "out of memory");
        break;
    }
    }
    release(s);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    request *rq = *con_cls;
    if (!rq) return;
    restart_deadline(c);
    record(rq->endpoint, rq->code, now_s() - rq->t0);
    atomic_fetch_sub(&in_flight, 1);
    int big = rq->cap >= TRIM_BODY;
    free(rq->body);
    free(rq);
    *con_cls = NULL;
    if (big) trim_memory();
}

/* ---- main ------------------------------------------------------------------ */
int cmd_serve(int argc, char **argv)
{
    /* SIGHUP, SIGTERM and SIGINT are taken by the main thread alone, through
     * sigwait below. They are blocked here, before anything can start a
     * thread: every thread inherits this mask, the loader's OpenMP workers
     * included, so a signal that comes while the main thread is busy (a
     * reload) stays pending until it waits again, instead of landing on a
     * thread that has it unblocked and killing the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    const char *cmd = "serve", *path = NULL, *host = "127.0.0.1";
    int port = 8080, threads = 0;
    int max_conns = 256, max_conns_ip = 64, idle_timeout = 10;
    int64_t body_limit = 1 << 20;
    opt_spec specs[] = {
        {"model", 0, OPT_STRING, &path, 0, 0, NULL, 0},
        {"host", 0, OPT_STRING, &host, 0, 0, NULL, 0},
        {"port", 0, OPT_INT, &port, 0, 65535, NULL, 0},
        {"threads", 0, OPT_INT, &threads, 0, 1024, NULL, 0},
        {"max-body", 0, OPT_I64, &body_limit, 16, 1 << 30, NULL, 0},
        {"max-k", 0, OPT_INT, &serve_max_k, 1, 100000, NULL, 0},
        {"max-users", 0, OPT_INT, &serve_max_users, 1, 1000000, NULL, 0},
        {"max-results", 0, OPT_I64, &serve_max_results, 1, 100000000, NULL, 0},
        {"max-connections", 0, OPT_INT, &max_conns, 1, 1000000, NULL, 0},
        {"max-connections-per-ip", 0, OPT_INT, &max_conns_ip, 0, 1000000, NULL, 0},
        {"idle-timeout", 0, OPT_INT, &idle_timeout, 1, 86400, NULL, 0},
        {"request-timeout", 0, OPT_INT, &request_timeout, 0, 86400, NULL, 0},
    };
    const char *pos[1];
    int n_pos;
    int rc = args_parse_or_help(cmd, argc, argv, specs, (int)(sizeof specs / sizeof specs[0]), pos, 0, &n_pos, HELP,
                                NULL);
    if (rc >= 0) return rc;
    if (!path) {
        fprintf(stderr, "ncf serve: --model is required (see ncf serve --help)\n");
        return 2;
    }
    max_body = (size_t)body_limit;
    struct sockaddr_storage addr;
    memset(&addr, 0, sizeof addr);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&addr;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)port);
        flags |= MHD_USE_IPv6;
    } else {
        fprintf(stderr, "ncf serve: --host must be a numeric IPv4 or IPv6 address, got '%s'\n", host);
        return 2;
    }
    int nthreads = ncf_threads_resolve(threads);
    if (max_conns < nthreads) { /* libmicrohttpd shares the limit out among its threads */
        fprintf(stderr, "ncf serve: --max-connections (%d) must be at least the thread count (%d)\n", max_conns,
                nthreads);
        return 2;
    }
    ncf_err err = {{0}};
    served *s = load_served(path, nthreads, &err);
    if (!s) return cli_fail(cmd, &err);
    model_path = path;
    current = s;

    struct MHD_Daemon *d = MHD_start_daemon(
        flags, (uint16_t)port, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)nthreads, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, notify_connection, NULL, MHD_OPTION_CONNECTION_LIMIT, (unsigned)max_conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)max_conns_ip, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)idle_timeout, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128 * 1024), MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "ncf serve: cannot listen on %s port %d: %s\n", host, port, strerror(errno));
        served_free(s);
        return 1;
    }
    pthread_t reaper_thread;
    int reaping = request_timeout > 0 && pthread_create(&reaper_thread, NULL, reaper, NULL) == 0;
    if (request_timeout > 0 && !reaping) {
        fprintf(stderr, "ncf serve: cannot start the deadline thread: %s\n", strerror(errno));
        MHD_stop_daemon(d);
        served_free(s);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("ncf serve: listening on %s port %u, model %s (%d threads)\n", host, info ? info->port : (unsigned)port,
           path, nthreads);
    fflush(stdout);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0) continue;
        if (sig == SIGHUP) {
            ncf_err e2 = {{0}};
            served *fresh = load_served(model_path, nthreads, &e2);
            if (!fresh) {
                atomic_fetch_add(&n_reload_failed, 1);
                fprintf(stderr, "ncf serve: reload refused, still serving the previous model: %s\n", e2.msg);
                continue;
            }
            pthread_mutex_lock(&model_lock);
            served *old = current;
            current = fresh;
            pthread_mutex_unlock(&model_lock);
            release(old);
            atomic_fetch_add(&n_reload_ok, 1);
            fprintf(stderr, "ncf serve: reloaded %s\n", model_path);
            continue;
        }
        break; /* SIGTERM or SIGINT */
    }
    /* stop accepting, let requests in flight finish (up to 30 s), then stop */
    MHD_socket listen_fd = MHD_quiesce_daemon(d);
    for (int waited = 0; atomic_load(&in_flight) > 0 && waited < 3000; waited++)
        nanosleep(&(struct timespec){0, 10 * 1000 * 1000}, NULL);
    MHD_stop_daemon(d);
    if (reaping) {
        atomic_store(&reaper_stop, 1);
        pthread_join(reaper_thread, NULL);
    }
    if (listen_fd != MHD_INVALID_SOCKET) close(listen_fd);
    release(current);
    fprintf(stderr, "ncf serve: stopped\n");
    return 0;
}
