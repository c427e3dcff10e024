/* optim.c — the optimizer kernels and the gradient-buffer sum (see
 * optim.h). Every Adam kernel goes through ADAM_STEP, so a deferred
 * zero-gradient step computes exactly the operations of an immediate one.
 * Loops over a row run to a run-time length: gcc then vectorises them with
 * a 16-wide body and an 8-wide epilogue, where constant 8-element blocks
 * had stayed scalar. The fused look-ahead kernel is the exception: its
 * longer body does vectorise at constant lengths, and is inlined for the
 * common ones (ncf_adam_rows_ahead_). */
#include "optim/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "nn/nn.h" /* NCF_MULTIVERSION */

void ncf_adam_step_init_(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, long long t)
{
    s->beta1 = beta1;
    s->beta2 = beta2;
    s->eps = eps;
    s->step = (float)((double)lr / (1.0 - pow((double)beta1, (double)t)));
    s->inv_b2 = (float)(1.0 / sqrt(1.0 - pow((double)beta2, (double)t)));
}

/* Adam's denominator sqrt(v) c + eps: the step's (c = inv_b2) and the
 * catch-up's (c = c0, the same float for the step a row was last updated
 * at) are this one expression, so they round alike. */
static inline __attribute__((always_inline)) float adam_denominator(float v, float c, float eps)
{
    return sqrtf(v) * c + eps;
}

/* One Adam step of one element, its denominator left in D (the fused
 * look-ahead kernel's catch-up goes on from it); every kernel uses exactly
 * this. */
#define ADAM_STEP(P, M, V, G, D)                         \
    do {                                                 \
        const float mk_ = b1 * (M) + c1 * (G);           \
        const float vk_ = b2 * (V) + c2 * (G) * (G);     \
        (M) = mk_;                                       \
        (V) = vk_;                                       \
        (D) = adam_denominator(vk_, inv_b2, eps);        \
        (P) -= step * mk_ / (D);                         \
    } while (0)
#define ADAM_ELEM(P, M, V, G)             \
    do {                                  \
        float d_;                         \
        ADAM_STEP((P), (M), (V), (G), d_); \
    } while (0)

#define ADAM_CONSTANTS(S)                                                              \
    const float b1 = (S)->beta1, b2 = (S)->beta2, c1 = 1.0f - b1, c2 = 1.0f - b2;      \
    const float step = (S)->step, inv_b2 = (S)->inv_b2, eps = (S)->eps

NCF_MULTIVERSION
void ncf_adam_update_(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      const ncf_adam_step *s)
{
    ADAM_CONSTANTS(s);
    for (size_t k = 0; k < n; k++) ADAM_ELEM(p[k], m[k], v[k], g[k]);
}

/* k zero-gradient steps on a block of W elements kept in registers. */
#define CATCHUP_BLOCK(W)                                                  \
    for (; e + (W) <= n; e += (W)) {                                      \
        float pb[W], mb[W], vb[W];                                        \
        for (int q = 0; q < (W); q++) {                                   \
            pb[q] = p[e + q];                                             \
            mb[q] = m[e + q];                                             \
            vb[q] = v[e + q];                                             \
        }                                                                 \
        for (long long j = 0; j < k; j++) {                               \
            ADAM_CONSTANTS(&steps[j]);                                    \
            for (int q = 0; q < (W); q++) ADAM_ELEM(pb[q], mb[q], vb[q], zero); \
        }                                                                 \
        for (int q = 0; q < (W); q++) {                                   \
            p[e + q] = pb[q];                                             \
            m[e + q] = mb[q];                                             \
            v[e + q] = vb[q];                                             \
        }                                                                 \
    }

NCF_MULTIVERSION
void ncf_adam_catchup_(float *restrict p, float *restrict m, float *restrict v, size_t n, const ncf_adam_step *steps,
                       long long k)
{
    const float zero = 0.0f;
    size_t e = 0;
    CATCHUP_BLOCK(16)
    CATCHUP_BLOCK(8)
    CATCHUP_BLOCK(1)
}

/* Embedding rows are scattered over tables larger than L2, so the row
 * kernels ask for the rows (every cache line of each) for writing, 12
 * places ahead in their list: on two threads an item row's
 * weights were read by the other core, and giving its line up takes a
 * cross-core round trip (4 ahead with PREFETCHW: 3.11 M samples/s, 12:
 * 3.19 M, 20: no better). */
#define PREFETCH_AHEAD 12
static inline void prefetch_row(const float *t, size_t stride, int dim, int32_t r)
{
    ncf_prefetch_lines_(t + (size_t)r * stride, (size_t)(dim > 0 ? dim : 1) * sizeof(float), 1);
}

NCF_MULTIVERSION
void ncf_adam_rows_(float *restrict w, const float *restrict g, size_t g_stride, float *restrict m, float *restrict v,
                    size_t stride, int dim, const int32_t *rows, int n, const ncf_adam_step *s)
{
    ADAM_CONSTANTS(s);
    for (int i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n) {
            const int32_t ahead = rows[i + PREFETCH_AHEAD];
            prefetch_row(w, stride, dim, ahead), prefetch_row(m, stride, dim, ahead), prefetch_row(v, stride, dim, ahead);
        }
        const size_t o = (size_t)rows[i] * stride;
        float *restrict pw = w + o, *restrict pm = m + o, *restrict pv = v + o;
        const float *restrict pg = g + (size_t)i * g_stride;
        for (int e = 0; e < dim; e++) ADAM_ELEM(pw[e], pm[e], pv[e], pg[e]);
    }
}

/* The largest ratio x (u_j - 1) of the series' terms that the closed form
 * takes: four terms then leave a relative error below RATIO_MAX^4 = 1.5e-5
 * of the movement. */
#define RATIO_MAX (1.0 / 16.0)
/* The plan's xmax for a row that takes the closed form whatever its
 * elements' x (x <= 1 up to rounding): the span checks are skipped. */
#define CLOSED_ONLY 2.0f

/* The movement's series B_n from c = c_0 and A_1 .. A_4 (optim.h). */
static inline __attribute__((always_inline)) void plan_series(double c, double A0, double A1, double A2, double A3,
                                                              float *B0, float *B1, float *B2, float *B3)
{
    const double c1 = c * A0, c2 = c * c * A1, c3 = c * c * c * A2, c4 = c * c * c * c * A3;
    *B0 = (float)c1;
    *B1 = (float)(c2 - c1);
    *B2 = (float)(c3 - 2.0 * c2 + c1);
    *B3 = (float)(c4 - 3.0 * c3 + 3.0 * c2 - c1);
}

/* xmax from u = c_0 / c_kk - 1: the series' ratio x (u_j - 1) grows with
 * j, and past kk the steps' weights are below 1e-12 of the movement. */
static inline __attribute__((always_inline)) float plan_xmax(double u)
{
    return u > RATIO_MAX ? (float)RATIO_MAX / (float)u : CLOSED_ONLY; /* else every x: x <= 1, up to rounding */
}

/* The first step from which every step's constants are their limits,
 * step = lr and inv_b2 = 1 (INT64_MAX: none before 2^40). Both converge
 * monotonically and, once rounded to floats, stay there, so the steps
 * that have them are all those from some step on: found by bisection. */
static int64_t stationary_from(float lr, float beta1, float beta2, float eps)
{
    int64_t lo = 0, hi = (int64_t)1 << 40; /* lo lacks them (step 0 has no constants), hi is to be checked */
    ncf_adam_step s;
    ncf_adam_step_init_(&s, lr, beta1, beta2, eps, hi);
    if (s.step != lr || s.inv_b2 != 1.0f) return INT64_MAX;
    while (hi - lo > 1) {
        const int64_t mid = lo + (hi - lo) / 2;
        ncf_adam_step_init_(&s, lr, beta1, beta2, eps, mid);
        if (s.step == lr && s.inv_b2 == 1.0f) hi = mid;
        else lo = mid;
    }
    return hi;
}

/* The most gaps stat holds (2 MB at most; longer gaps are planned per row). */
#define STAT_GAPS ((int64_t)1 << 16)

/* The plans of gaps 0 .. stat_n - 1 from a stationary step (optim.h),
 * with plan_row's operations on c_0 = 1, A_n = lr sum rho_n^j (j = 1 ..
 * k) and rinv = 1. */
static void stat_build(ncf_adam_window *w, float lr)
{
    const double c = 1.0, T = (double)lr;
    double A[4] = {0.0, 0.0, 0.0, 0.0};
    for (int64_t k = 0; k < w->stat_n; k++) {
        ncf_adam_coef *e = &w->stat[k];
        const double *pk = w->pw + (size_t)k * NCF_ADAM_PWROW;
        if (k > 0)
            for (int q = 0; q < 4; q++) A[q] += T * pk[q];
        plan_series(c, A[0], A[1], A[2], A[3], &e->B[0], &e->B[1], &e->B[2], &e->B[3]);
        const int64_t kk = k < w->exact_cap ? k : w->exact_cap;
        e->xmax = plan_xmax(c * w->pw[(size_t)kk * NCF_ADAM_PWROW + 6] * 1.0 - 1.0);
        e->b1k = (float)pk[4];
        e->b2k = (float)pk[5];
        e->c0 = 1.0f;
    }
}

/* Step t's constants: ncf_adam_step_init_'s, whose values from step
 * limits_from on (stationary_from) are their limits, taken without pow. */
static void step_at(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, int64_t t, int64_t limits_from)
{
    if (t >= limits_from) *s = (ncf_adam_step){.beta1 = beta1, .beta2 = beta2, .eps = eps, .step = lr, .inv_b2 = 1.0f};
    else ncf_adam_step_init_(s, lr, beta1, beta2, eps, t);
}

/* A step's term T_(n+1) of the future sums, step / inv_b2^(n+1) (pow of 1
 * is exactly 1, so a stationary step's is its step, without pow). */
static inline double future_term(const ncf_adam_step *s, int n)
{
    return s->inv_b2 == 1.0f ? (double)s->step : (double)s->step / pow((double)s->inv_b2, n + 1);
}

int ncf_adam_window_build_(ncf_adam_window *w, float lr, float beta1, float beta2, float eps, int64_t base,
                           int64_t count)
{
    memset(w, 0, sizeof *w);
    return ncf_adam_window_renew_(w, lr, beta1, beta2, eps, base, count);
}

int ncf_adam_window_renew_(ncf_adam_window *w, float lr, float beta1, float beta2, float eps, int64_t base,
                           int64_t count)
{
    const size_t H = (size_t)count + 1;
    if (w->cap < H) {
        free(w->steps), free(w->h), free(w->pw), free(w->rinv);
        w->steps = malloc(H * sizeof *w->steps);
        /* whole lines: a step's h in half of one, a gap's pw in one */
        w->h = aligned_alloc(64, (NCF_ADAM_HROW * H * sizeof *w->h + 63) & ~(size_t)63);
        w->pw = aligned_alloc(64, NCF_ADAM_PWROW * H * sizeof *w->pw);
        w->rinv = malloc(H * sizeof *w->rinv);
        w->cap = H;
        if (!w->steps || !w->h || !w->pw || !w->rinv) {
            ncf_adam_window_free_(w);
            return -1;
        }
    }
    w->stat_n = 0;
    w->stat_from = INT64_MAX;
    w->base = base;
    w->count = count;
    w->beta1 = beta1;
    w->beta2 = beta2;
    w->eps = eps;
    const int64_t limits_from = stationary_from(lr, beta1, beta2, eps);
    for (int64_t i = 0; i < count; i++) step_at(&w->steps[i], lr, beta1, beta2, eps, base + 1 + i, limits_from);
    w->inv_b2_base = 0.0f;
    if (base > 0) {
        ncf_adam_step s0;
        step_at(&s0, lr, beta1, beta2, eps, base, limits_from);
        w->inv_b2_base = s0.inv_b2;
    }
    w->exact_cap = count;
    if (beta1 > 0.0f && beta1 < 1.0f) {
        double cap = ceil(log(1e-12) / log((double)beta1));
        if (cap < (double)count) w->exact_cap = (int64_t)cap;
    } else if (beta1 == 0.0f) {
        w->exact_cap = count < 1 ? count : 1;
    }
    for (size_t i = 0; i < H; i++) {
        const float ib = ncf_adam_window_inv_b2_(w, w->base + (int64_t)i);
        w->rinv[i] = ib > 0.0f ? 1.0 / (double)ib : 0.0;
    }
    double rho[7];
    for (int n = 0; n < 7; n++)
        rho[n] = n < 4 ? (double)beta1 / pow((double)beta2, 0.5 * (n + 1))
                 : n == 4 ? beta1
                 : n == 5 ? beta2
                          : 1.0 / sqrt((double)beta2);
    w->replay = !(rho[3] < 1.0); /* rho_4 = beta1 / beta2^2, the largest */
    /* every column in one pass over the rows (each column's products in
     * the same order as alone) */
    double *pw = w->pw;
    for (int n = 0; n < 7; n++) pw[n] = 1.0;
    for (size_t k = 1; k < H; k++)
        for (int n = 0; n < 7; n++) pw[k * NCF_ADAM_PWROW + n] = pw[(k - 1) * NCF_ADAM_PWROW + n] * rho[n];
    /* H past the window: the steps after it, until rho^j is negligible */
    double tail[4] = {0.0, 0.0, 0.0, 0.0}, f[4] = {1.0, 1.0, 1.0, 1.0};
    int live = 0;
    for (int n = 0; n < 4; n++) live |= (rho[n] < 1.0) << n;
    for (int64_t u = base + count + 1; live && u <= base + count + 4096; u++) {
        ncf_adam_step s;
        step_at(&s, lr, beta1, beta2, eps, u, limits_from);
        for (int n = 0; n < 4; n++) {
            if (!(live >> n & 1)) continue;
            f[n] *= rho[n];
            if (f[n] < 1e-30) {
                live &= ~(1 << n);
                continue;
            }
            tail[n] += future_term(&s, n) * f[n];
        }
    }
    double *h = w->h;
    for (int n = 0; n < 4; n++) h[(size_t)count * NCF_ADAM_HROW + n] = tail[n];
    for (int64_t i = count - 1; i >= 0; i--)
        for (int n = 0; n < 4; n++)
            h[(size_t)i * NCF_ADAM_HROW + n] =
                rho[n] * (future_term(&w->steps[i], n) + h[(size_t)(i + 1) * NCF_ADAM_HROW + n]);
    const int64_t from = w->replay ? INT64_MAX : limits_from;
    if (from < base + count) { /* else no step of the window is stationary (plans from base + count are empty) */
        const int64_t n = count + 1 < STAT_GAPS ? count + 1 : STAT_GAPS;
        if (w->stat_cap < n) {
            free(w->stat);
            w->stat = aligned_alloc(64, ((size_t)n * sizeof *w->stat + 63) & ~(size_t)63);
            w->stat_cap = n;
            if (!w->stat) {
                ncf_adam_window_free_(w);
                return -1;
            }
        }
        w->stat_n = n;
        w->stat_from = from;
        stat_build(w, lr);
    }
    return 0;
}

void ncf_adam_window_free_(ncf_adam_window *w)
{
    free(w->steps);
    free(w->h);
    free(w->pw);
    free(w->rinv);
    free(w->stat);
    memset(w, 0, sizeof *w);
    w->stat_from = INT64_MAX;
}

/* One row's plan from step `from` to step `through`: the window's
 * stationary plan where it has one (optim.h), else from the future sums. */
static inline void plan_row(const ncf_adam_window *win, int64_t from, int64_t through, ncf_adam_plan *P)
{
    const int64_t k = through - from;
    P->from = from;
    P->k = k > 0 ? k : 0;
    if (k <= 0) return;
    P->kk = k < win->exact_cap ? k : win->exact_cap; /* the rest only decays m, v */
    if (from >= win->stat_from && k < win->stat_n) {
        P->c = win->stat[k];
        return;
    }
    const size_t a = (size_t)(from - win->base), b = (size_t)(through - win->base);
    const double *ha = win->h + a * NCF_ADAM_HROW, *hb = win->h + b * NCF_ADAM_HROW;
    const double *pk = win->pw + (size_t)k * NCF_ADAM_PWROW;
    double A[4];
    for (int q = 0; q < 4; q++) A[q] = ha[q] - pk[q] * hb[q];
    /* c = 0 (from = 0: no update yet, so m = 0): no movement */
    const double c = P->c.c0 = ncf_adam_window_inv_b2_(win, from);
    plan_series(c, A[0], A[1], A[2], A[3], &P->c.B[0], &P->c.B[1], &P->c.B[2], &P->c.B[3]);
    const double *pkk = win->pw + (size_t)P->kk * NCF_ADAM_PWROW;
    P->c.xmax = plan_xmax(c * pkk[6] * win->rinv[a + (size_t)P->kk] - 1.0);
    P->c.b1k = (float)pk[4];
    P->c.b2k = (float)pk[5];
    if (win->replay) { /* the sums above are not to be trusted: every element with m != 0 replays */
        P->c.B[0] = P->c.B[1] = P->c.B[2] = P->c.B[3] = 0.0f;
        P->c.xmax = -1.0f;
    }
}

void ncf_adam_plan_rows_(const ncf_adam_window *win, const int64_t *from, int n, int64_t through, ncf_adam_plan *plan)
{
    for (int i = 0; i < n; i++) plan_row(win, from[i], through, &plan[i]);
}

/* The table of one step (optim.h): plan_row's values for the gaps 1 ..
 * closed - 1 from step `from`, in one loop over the window's rows
 * (vectorised: the operations of plan_row, elementwise, so the same bits),
 * where kk = k (gaps up to exact_cap); at gap 0, none (B 0, beta^k 1). A
 * window that replays (optim.h) has only gap 0 here. */
#define AHEAD_BLOCK 32
/* "No dependence between this loop's iterations", for gcc (clang's
 * equivalent is an error under -Werror where it cannot vectorise, as at -O1) */
#if defined(__GNUC__) && !defined(__clang__)
#define IVDEP _Pragma("GCC ivdep")
#else
#define IVDEP
#endif
NCF_MULTIVERSION
static void ahead_table(const ncf_adam_window *win, int64_t from, ncf_adam_ahead *T)
{
    const size_t a = (size_t)(from - win->base);
    int64_t kmax = NCF_ADAM_AHEAD;
    if (kmax > win->exact_cap + 1) kmax = win->exact_cap + 1;
    if (kmax > win->count - (int64_t)a + 1) kmax = win->count - (int64_t)a + 1;
    T->from = from, T->base = win->base, T->count = win->count;
    const int kn = kmax > 1 ? (int)kmax : 1;
    T->closed = kn;
    const double c = ncf_adam_window_inv_b2_(win, from);
    const double *h = win->h + a * NCF_ADAM_HROW, *p = win->pw, *ri = win->rinv + a;
    const double ha0 = h[0], ha1 = h[1], ha2 = h[2], ha3 = h[3];
    float *B0 = T->B[0], *B1 = T->B[1], *B2 = T->B[2], *B3 = T->B[3], *b1k = T->b1k, *b2k = T->b2k;
    uint8_t closed[NCF_ADAM_AHEAD];
    B0[0] = B1[0] = B2[0] = B3[0] = 0.0f, b1k[0] = b2k[0] = 1.0f;
    if (win->replay) { /* no closed form: only gap 0 (none) from the table */
        T->closed = 1;
        return;
    }
    /* u = c_0 / c_k - 1 grows with k (beta2^(-k/2) alone passes RATIO_MAX
     * at k of about 120): the table stops at the first gap whose plan is
     * not closed-only, a block at a time */
    for (int k0 = 1; k0 < kn; k0 += AHEAD_BLOCK) {
        const int k1 = kn - k0 < AHEAD_BLOCK ? kn : k0 + AHEAD_BLOCK;
        IVDEP /* the table's rows do not overlap the window's */
        for (int k = k0; k < k1; k++) {
            const double *hk = h + (size_t)k * NCF_ADAM_HROW, *pk = p + (size_t)k * NCF_ADAM_PWROW;
            plan_series(c, ha0 - pk[0] * hk[0], ha1 - pk[1] * hk[1], ha2 - pk[2] * hk[2], ha3 - pk[3] * hk[3],
                        &B0[k], &B1[k], &B2[k], &B3[k]);
            closed[k] = !(c * pk[6] * ri[k] - 1.0 > RATIO_MAX); /* plan_xmax's condition */
            b1k[k] = (float)pk[4];
            b2k[k] = (float)pk[5];
        }
        int k = k0;
        while (k < k1 && closed[k]) k++;
        if (k < k1) {
            T->closed = k;
            break;
        }
    }
}

/* The table of any stationary step of the window: its stationary plans
 * (the same values as plan_row's) up to the first gap that is not
 * closed-only (stat[0], gap 0, is: at least that one). */
static void ahead_stat(const ncf_adam_window *win, ncf_adam_ahead *T)
{
    const int kn = win->stat_n < NCF_ADAM_AHEAD ? (int)win->stat_n : NCF_ADAM_AHEAD;
    int k = 0;
    for (; k < kn && win->stat[k].xmax >= CLOSED_ONLY; k++) {
        const ncf_adam_coef *e = &win->stat[k];
        for (int q = 0; q < 4; q++) T->B[q][k] = e->B[q];
        T->b1k[k] = e->b1k;
        T->b2k[k] = e->b2k;
    }
    T->closed = k;
}

void ncf_adam_ahead_at_(const ncf_adam_window *win, int64_t from, ncf_adam_ahead *tab)
{
    const int same_window = tab->base == win->base && tab->count == win->count;
    if (tab->from == from && same_window) return;
    if (from >= win->stat_from) { /* the same table for every such step of the window: built once (a table
                                     of this window from such a step is it; zeroed, from is 0 < stat_from) */
        if (!(same_window && tab->from >= win->stat_from)) ahead_stat(win, tab);
        tab->from = from, tab->base = win->base, tab->count = win->count;
        return;
    }
    ahead_table(win, from, tab);
}

/* rd = 1 / (sqrt(v) c0 + eps) (optim.h): both catch-up paths compute it
 * here, so an element gets the same bits on either. */
static inline __attribute__((always_inline)) float catchup_rd(float v, float c0, float eps)
{
    return 1.0f / adam_denominator(v, c0, eps);
}

/* The closed form on one element (x = eps rd; optim.h). An element whose
 * m is 0 does not move: rd is finite (at most 1 / eps, eps a normal float)
 * and so is the series (x <= 1). */
static inline __attribute__((always_inline)) void catchup_closed(float *p, float *m, float *v, float rd, float eps,
                                                                 float B0, float B1, float B2, float B3, float b1k,
                                                                 float b2k)
{
    const float x = eps * rd;
    *p -= (*m * rd) * (B0 - x * (B1 - x * (B2 - x * B3)));
    *m *= b1k;
    *v *= b2k;
}

/* One element, choosing between the step-by-step replay and the closed form. */
static inline void catchup_elem(float *p, float *m, float *v, float rd, float eps, const ncf_adam_plan *P,
                                const ncf_adam_window *win)
{
    if (*m != 0.0f && eps * rd > P->c.xmax) {
        ncf_adam_catchup_(p, m, v, 1, ncf_adam_window_step_(win, P->from + 1), P->kk);
        const double *pr = win->pw + (size_t)(P->k - P->kk) * NCF_ADAM_PWROW; /* beta^(k - kk) */
        *m *= (float)pr[4];
        *v *= (float)pr[5];
    } else {
        catchup_closed(p, m, v, rd, eps, P->c.B[0], P->c.B[1], P->c.B[2], P->c.B[3], P->c.b1k, P->c.b2k);
    }
}

/* The catch-up of the row's elements [e0, e0 + len), len <= CATCHUP_SPAN,
 * with each one's rd in a buffer. A span where some element with m
 * != 0 has too large an x goes element by element (those replay step by
 * step); any other span takes the branch-free form. An element gets the
 * same result either way, so the spans do not change any bits. Loops of
 * run-time length over constants in registers, so that gcc vectorises
 * each (a 16-wide body, an 8-wide epilogue: 8-float rows too). */
#define CATCHUP_SPAN 16
static inline __attribute__((always_inline)) void catchup_span_rd(float *restrict p, float *restrict pm,
                                                                  float *restrict pv, const float *restrict rd,
                                                                  int len, float eps, const ncf_adam_plan *P,
                                                                  const ncf_adam_window *win)
{
    const float xmax = P->c.xmax;
    int exact = 0;
    for (int q = 0; q < len; q++) exact |= (pm[q] != 0.0f) & (eps * rd[q] > xmax);
    if (exact) {
        for (int q = 0; q < len; q++) catchup_elem(p + q, pm + q, pv + q, rd[q], eps, P, win);
        return;
    }
    const float B0 = P->c.B[0], B1 = P->c.B[1], B2 = P->c.B[2], B3 = P->c.B[3], b1k = P->c.b1k, b2k = P->c.b2k;
    for (int q = 0; q < len; q++) catchup_closed(p + q, pm + q, pv + q, rd[q], eps, B0, B1, B2, B3, b1k, b2k);
}

/* The same, rd computed here. */
static inline __attribute__((always_inline)) void catchup_span(float *restrict p, float *restrict pm,
                                                               float *restrict pv, int len, float eps,
                                                               const ncf_adam_plan *P, const ncf_adam_window *win)
{
    float rd[CATCHUP_SPAN];
    for (int q = 0; q < len; q++) rd[q] = catchup_rd(pv[q], P->c.c0, eps);
    catchup_span_rd(p, pm, pv, rd, len, eps, P, win);
}

NCF_MULTIVERSION
void ncf_adam_catchup_rows_(float *restrict w, float *restrict m, float *restrict v, size_t stride, int dim,
                            const int32_t *rows, const ncf_adam_plan *plan, int n, const ncf_adam_window *win)
{
    const float eps = win->eps;
    for (int i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n) {
            const int32_t ahead = rows[i + PREFETCH_AHEAD];
            prefetch_row(w, stride, dim, ahead), prefetch_row(m, stride, dim, ahead), prefetch_row(v, stride, dim, ahead);
        }
        const ncf_adam_plan *P = &plan[i];
        if (P->k <= 0) continue;
        const size_t o = (size_t)rows[i] * stride;
        float *restrict p = w + o, *restrict pm = m + o, *restrict pv = v + o;
        if (P->c.xmax >= CLOSED_ONLY) { /* no element can replay: one loop over the row, no checks */
            const float c0 = P->c.c0, B0 = P->c.B[0], B1 = P->c.B[1], B2 = P->c.B[2], B3 = P->c.B[3], b1k = P->c.b1k,
                        b2k = P->c.b2k;
            for (int e = 0; e < dim; e++)
                catchup_closed(p + e, pm + e, pv + e, catchup_rd(pv[e], c0, eps), eps, B0, B1, B2, B3, b1k, b2k);
            continue;
        }
        for (int e = 0; e < dim; e += CATCHUP_SPAN)
            catchup_span(p + e, pm + e, pv + e, dim - e < CATCHUP_SPAN ? dim - e : CATCHUP_SPAN, eps, P, win);
    }
}

/* The longest row whose checked catch-up takes the row whole (the
 * longest row length ncf_adam_rows_ahead_ inlines). */
#define CHECKED_MAX 64

/* ncf_adam_rows_ahead_'s body, inlined for a few row lengths given as
 * constants (below). */
static inline __attribute__((always_inline)) void rows_ahead(float *restrict w, const float *restrict g,
                                                             size_t g_stride, float *restrict m, float *restrict v,
                                                             size_t stride, int dim, const int32_t *rows, int n,
                                                             const ncf_adam_step *s, const ncf_adam_ahead *tab,
                                                             const int32_t *gap, const ncf_adam_plan *plan,
                                                             const ncf_adam_window *win)
{
    ADAM_CONSTANTS(s);
    for (int i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n) {
            const int32_t ahead = rows[i + PREFETCH_AHEAD];
            prefetch_row(w, stride, dim, ahead), prefetch_row(m, stride, dim, ahead), prefetch_row(v, stride, dim, ahead);
        }
        const size_t o = (size_t)rows[i] * stride;
        float *restrict pw = w + o, *restrict pm = m + o, *restrict pv = v + o;
        const float *restrict pg = g + (size_t)i * g_stride;
        const int32_t k = gap[i];
        float B0, B1, B2, B3, b1k, b2k;
        if (k >= 0) { /* the table's plan (at 0, none: the form below then leaves p, m and v as the step made them) */
            B0 = tab->B[0][k], B1 = tab->B[1][k], B2 = tab->B[2][k], B3 = tab->B[3][k], b1k = tab->b1k[k],
            b2k = tab->b2k[k];
        } else if (plan[i].c.xmax >= CLOSED_ONLY) {
            const ncf_adam_plan *P = &plan[i];
            B0 = P->c.B[0], B1 = P->c.B[1], B2 = P->c.B[2], B3 = P->c.B[3], b1k = P->c.b1k, b2k = P->c.b2k;
        } else if (dim <= CHECKED_MAX) { /* the step, then the catch-up with its checks from the step's
                                            denominator (gaps past about 120 steps: beta2^(-k/2) alone makes u > 1/16):
                                            the closed form on the whole row in the same pass, as above, the step's
                                            values kept; should an element replay, the row goes on from those */
            const ncf_adam_plan *P = &plan[i];
            const float xmax = P->c.xmax;
            B0 = P->c.B[0], B1 = P->c.B[1], B2 = P->c.B[2], B3 = P->c.B[3], b1k = P->c.b1k, b2k = P->c.b2k;
            float rd[CHECKED_MAX], sp[CHECKED_MAX], sm[CHECKED_MAX], sv[CHECKED_MAX];
            int exact = 0;
            for (int e = 0; e < dim; e++) {
                float d, p = pw[e], mm = pm[e], vv = pv[e];
                ADAM_STEP(p, mm, vv, pg[e], d);
                sp[e] = p, sm[e] = mm, sv[e] = vv;
                rd[e] = 1.0f / d;
                exact |= (mm != 0.0f) & (eps * rd[e] > xmax);
                catchup_closed(&p, &mm, &vv, rd[e], eps, B0, B1, B2, B3, b1k, b2k);
                pw[e] = p, pm[e] = mm, pv[e] = vv;
            }
            if (exact)
                for (int e = 0; e < dim; e++) {
                    pw[e] = sp[e], pm[e] = sm[e], pv[e] = sv[e];
                    catchup_elem(pw + e, pm + e, pv + e, rd[e], eps, P, win);
                }
            continue;
        } else { /* the same span by span */
            for (int e = 0; e < dim; e += CATCHUP_SPAN) {
                const int len = dim - e < CATCHUP_SPAN ? dim - e : CATCHUP_SPAN;
                float rd[CATCHUP_SPAN];
                for (int q = 0; q < len; q++) {
                    float d;
                    ADAM_STEP(pw[e + q], pm[e + q], pv[e + q], pg[e + q], d);
                    rd[q] = 1.0f / d;
                }
                catchup_span_rd(pw + e, pm + e, pv + e, rd, len, eps, &plan[i], win);
            }
            continue;
        }
        /* the step, then the closed form from its denominator (the plan's
         * c0 is this step's inv_b2): what the two kernels one after the
         * other compute, without a second square root or pass */
        for (int e = 0; e < dim; e++) {
            float d;
            ADAM_STEP(pw[e], pm[e], pv[e], pg[e], d);
            catchup_closed(&pw[e], &pm[e], &pv[e], 1.0f / d, eps, B0, B1, B2, B3, b1k, b2k);
        }
    }
}

/* The common row lengths (factors, and half the first MLP layer) as
 * constants: gcc then takes a row in one to four whole vectors with no
 * loop control, where a run-time length costs each row a vectorised
 * loop's set-up and epilogue (most of what this kernel cost beyond the
 * step itself on NeuMF's rows of 8 and 32 floats; docs/performance.md).
 * The same operations in the same order, so the same bits. */
NCF_MULTIVERSION
void ncf_adam_rows_ahead_(float *restrict w, const float *restrict g, size_t g_stride, float *restrict m,
                          float *restrict v, size_t stride, int dim, const int32_t *rows, int n, const ncf_adam_step *s,
                          const ncf_adam_ahead *tab, const int32_t *gap, const ncf_adam_plan *plan,
                          const ncf_adam_window *win)
{
    switch (dim) {
    case 8: rows_ahead(w, g, g_stride, m, v, stride, 8, rows, n, s, tab, gap, plan, win); break;
    case 16: rows_ahead(w, g, g_stride, m, v, stride, 16, rows, n, s, tab, gap, plan, win); break;
    case 32: rows_ahead(w, g, g_stride, m, v, stride, 32, rows, n, s, tab, gap, plan, win); break;
    case 64: rows_ahead(w, g, g_stride, m, v, stride, 64, rows, n, s, tab, gap, plan, win); break;
    default: rows_ahead(w, g, g_stride, m, v, stride, dim, rows, n, s, tab, gap, plan, win);
    }
}

NCF_MULTIVERSION
void ncf_sum_strided_(float *restrict dst, const float *restrict src, size_t stride, int count, size_t n)
{
    memcpy(dst, src, n * sizeof *dst);
    for (int c = 1; c < count; c++) {
        const float *restrict s = src + (size_t)c * stride;
        for (size_t k = 0; k < n; k++) dst[k] += s[k];
    }
}

NCF_MULTIVERSION
void ncf_sgd_update_(float *restrict p, const float *restrict g, size_t n, float lr)
{
    for (size_t k = 0; k < n; k++) p[k] -= lr * g[k];
}

/* One element of the one-buffer optimizers; the flat and the rows kernels
 * both use exactly this. */
#define OPT1_ELEM(P, S, G)                                                          \
    do {                                                                            \
        switch (kind) {                                                             \
        case NCF_OPTK_SGD: (P) -= lr * (G); break;                                  \
        case NCF_OPTK_MOMENTUM: (S) = mu * (S) + (G); (P) -= lr * (S); break;       \
        case NCF_OPTK_ADAGRAD: (S) += (G) * (G); (P) -= lr * (G) / (sqrtf(S) + eps); break; \
        case NCF_OPTK_RMSPROP:                                                      \
            (S) = alpha * (S) + (1.0f - alpha) * (G) * (G);                         \
            (P) -= lr * (G) / (sqrtf(S) + eps);                                     \
            break;                                                                  \
        }                                                                           \
    } while (0)

#define OPT1_CONSTANTS(O) \
    const ncf_opt_kind kind = (O)->kind; \
    const float lr = (O)->lr, mu = (O)->mu, alpha = (O)->alpha, eps = (O)->eps; \
    (void)mu, (void)alpha, (void)eps

NCF_MULTIVERSION
void ncf_opt1_update_(const ncf_opt1 *o, float *restrict p, const float *restrict g, float *restrict s, size_t n)
{
    OPT1_CONSTANTS(o);
    float none = 0.0f;
    if (kind == NCF_OPTK_SGD)
        for (size_t k = 0; k < n; k++) OPT1_ELEM(p[k], none, g[k]);
    else
        for (size_t k = 0; k < n; k++) OPT1_ELEM(p[k], s[k], g[k]);
}

NCF_MULTIVERSION
void ncf_opt1_rows_(const ncf_opt1 *o, float *restrict w, const float *restrict g, size_t g_stride, float *restrict s,
                    size_t stride, int dim, const int32_t *rows, int n)
{
    OPT1_CONSTANTS(o);
    float none = 0.0f;
    for (int i = 0; i < n; i++) {
        const size_t off = (size_t)rows[i] * stride;
        float *restrict p = w + off;
        const float *restrict pg = g + (size_t)i * g_stride;
        for (int e = 0; e < dim; e++) {
            if (kind == NCF_OPTK_SGD) OPT1_ELEM(p[e], none, pg[e]);
            else OPT1_ELEM(p[e], s[off + (size_t)e], pg[e]);
        }
    }
}

void ncf_opt1_catchup_rows_(const ncf_opt1 *o, float *restrict w, float *restrict s, size_t stride, int dim,
                            const int32_t *rows, const int64_t *from, int n, int64_t through)
{
    if (!ncf_opt1_has_zero_grad_steps_(o)) return;
    for (int i = 0; i < n; i++) {
        const int64_t k = through - from[i];
        if (k <= 0) continue;
        const size_t off = (size_t)rows[i] * stride;
        if (o->kind == NCF_OPTK_MOMENTUM) {
            const double muk = pow((double)o->mu, (double)k);
            const float move = (float)((double)o->lr * (double)o->mu * (1.0 - muk) / (1.0 - (double)o->mu));
            for (int e = 0; e < dim; e++) {
                w[off + (size_t)e] -= move * s[off + (size_t)e];
                s[off + (size_t)e] *= (float)muk;
            }
        } else { /* RMSprop */
            const float ak = (float)pow((double)o->alpha, (double)k);
            for (int e = 0; e < dim; e++) s[off + (size_t)e] *= ak;
        }
    }
}
