/* optim.h — optimizer kernels over flat float ranges: Adam (PyTorch's
 * formulation, bias-corrected), SGD with or without momentum, Adagrad and
 * RMSprop, with the closed-form zero-gradient catch-ups of dense rows, and
 * the sum of per-group gradient buffers. Elementwise, so any partition of a
 * range across threads gives the same bytes; built for three instruction
 * sets (target_clones). Which rows or ranges to update (dense sweep,
 * catch-up, or touched rows only) is the trainer's decision. */
#ifndef NCF_OPTIM_H
#define NCF_OPTIM_H

#include <stddef.h>
#include <stdint.h>

typedef struct ncf_adam_step {
    float beta1, beta2, eps;
    float step;   /* lr / (1 - beta1^t) */
    float inv_b2; /* 1 / sqrt(1 - beta2^t) */
} ncf_adam_step;

/* Fills the bias corrections for step t (1-based). */
void ncf_adam_step_init_(ncf_adam_step *s, float lr, float beta1, float beta2, float eps, long long t);

/* m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= step * m / (sqrt(v) * inv_b2 + eps), i.e. PyTorch's
 * lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). */
void ncf_adam_update_(float *restrict p, const float *restrict g, float *restrict m, float *restrict v, size_t n,
                      const ncf_adam_step *s);

/* Applies k Adam steps with a zero gradient (steps[0], ..., steps[k-1]) to
 * n parameters: bit for bit what k calls of ncf_adam_update_ with g = 0
 * would do, without reading a gradient (the exact path of the catch-up). */
void ncf_adam_catchup_(float *restrict p, float *restrict m, float *restrict v, size_t n, const ncf_adam_step *steps,
                       long long k);

/* Dense Adam on embedding rows a batch does not touch.
 *
 * With a zero gradient, k Adam steps after step t0 give m_k = b1^k m and
 * v_k = b2^k v, and move p by -m * sum_j D_j / (s c_j + eps) with
 * s = sqrt(v), D_j = step_(t0+j) b1^j and c_j = b2^(j/2) inv_b2_(t0+j).
 * With rd = 1 / (s c_0 + eps) (c_0 = inv_b2_t0: the denominator of the
 * row's last update), x = eps rd and u_j = c_0 / c_j, 1 / (s c_j + eps) =
 * rd u_j / (1 + x (u_j - 1)), and expanding in x,
 *   p -= m rd (B_0 - x (B_1 - x (B_2 - x B_3))),
 *   B_n = sum_j D_j u_j (u_j - 1)^n
 *       = sum_i C(n, i) (-1)^(n-i) c_0^(i+1) A_(i+1),  A_n = sum_j D_j / c_j^n,
 * where A_n = H_n[t0] - rho_n^k H_n[t0 + k] from "future sums" H_n[t] =
 * sum_(u>t) T_n(u) rho_n^(u-t) (T_n(u) = step_u / inv_b2_u^n, rho_n = b1 /
 * b2^(n/2)): per element one square root and one division, whatever k;
 * the B_n once per row for all of a side's tables (ncf_adam_plan_rows_).
 * u_j grows with j, so the terms' ratio x (u_j - 1) is largest at the
 * last step that counts (j = k, or exact_cap below); where it is at most
 * 1/16, four terms leave a relative error below 1.5e-5 of the movement.
 * Elements with a larger x (a second moment near eps^2, most often early
 * in training, where u_j is far from 1) replay step by step
 * (ncf_adam_catchup_), for at most exact_cap steps (then m and v only
 * decay). A window covers steps base+1 .. base+count (one epoch); all
 * rows are brought up to date at its end.
 *
 * The future sums converge only while every rho_n < 1, that is beta1 <
 * beta2^2 (PyTorch's 0.9 / 0.999, and most settings; not 0.9 / 0.9).
 * Otherwise they grow with the window until A_n is lost to cancellation
 * or overflow, and the window is built to replay: every plan then has
 * B = 0 and xmax below any x, so each element with m != 0 replays its
 * idle steps one by one, up to exact_cap as above (slower by the gap's
 * length). */
#define NCF_ADAM_HROW 4
#define NCF_ADAM_PWROW 8
typedef struct ncf_adam_window {
    int64_t base, count;
    ncf_adam_step *steps; /* steps[i]: the constants of step base + 1 + i */
    float inv_b2_base;    /* inv_b2 of step base (0 when base is 0: no row was updated then) */
    double *h;            /* h[i * NCF_ADAM_HROW + n] = H_(n+1)[base + i], n = 0..3: a row's plan reads
                             two steps' sums, each in half a cache line */
    double *pw;           /* pw[k * NCF_ADAM_PWROW + n]: rho_(n+1)^k (n = 0..3), beta1^k (4), beta2^k (5),
                             beta2^(-k/2) (6): a gap's powers in one line */
    double *rinv;         /* rinv[i] = 1 / inv_b2 of step base + i (0 for step 0) */
    float beta1, beta2, eps;
    int64_t exact_cap;    /* step-by-step replays stop after this many steps: beta1^cap < 1e-12, so
                             later steps move p by less than 1e-12 of the movement; m and v just decay */
    int replay;           /* beta1 >= beta2^2: no closed form, every catch-up replays (above) */
    /* From step stat_from on (INT64_MAX: never in this window), every
     * step's constants are their limits, step = lr and inv_b2 = 1 (as
     * floats; beta2^t below 2^-23, about step 16,000 at 0.999), so a plan
     * depends on its gap alone: stat[k] (k < stat_n) is the plan of gap k
     * from any step from there on, computed once, with A_n as the sum
     * lr rho_n^j, j = 1 .. k, that the future sums' difference would give
     * up to rounding. Every plan from such a step with such a gap is this
     * one (ncf_adam_plan_rows_ and the look-ahead's table alike), so a row's
     * catch-up has the same bits on every path. */
    int64_t stat_from, stat_n;
    struct ncf_adam_coef *stat;
    size_t cap;       /* rows the per-step arrays have room for (at least count + 1) */
    int64_t stat_cap; /* plans stat has room for */
} ncf_adam_window;

int ncf_adam_window_build_(ncf_adam_window *w, float lr, float beta1, float beta2, float eps, int64_t base,
                           int64_t count);
/* The same into a window built before (or zeroed): its arrays are kept
 * where they have room (tens of MB at 20M interactions, whose fresh pages
 * each epoch cost their faults). -1 when out of memory (w then freed). */
int ncf_adam_window_renew_(ncf_adam_window *w, float lr, float beta1, float beta2, float eps, int64_t base,
                           int64_t count);
void ncf_adam_window_free_(ncf_adam_window *w);
static inline const ncf_adam_step *ncf_adam_window_step_(const ncf_adam_window *w, int64_t t)
{
    return &w->steps[t - w->base - 1];
}
/* inv_b2 of step t, base <= t <= base + count. */
static inline float ncf_adam_window_inv_b2_(const ncf_adam_window *w, int64_t t)
{
    return t == w->base ? w->inv_b2_base : w->steps[t - w->base - 1].inv_b2;
}

/* A catch-up's constants for a gap k (one line holds two). */
typedef struct ncf_adam_coef {
    float B[4];     /* the movement's series in x (above) */
    float b1k, b2k; /* beta1^k, beta2^k */
    float xmax;     /* x above it: the element replays step by step (2: none can; -1: all with m != 0 do) */
    float c0;       /* inv_b2 of step from */
} ncf_adam_coef;

/* One row's catch-up from step `from` to step `through`: what every
 * table of the row's side needs (ncf_adam_plan_rows_ fills it). */
typedef struct ncf_adam_plan {
    ncf_adam_coef c;
    int64_t from, k, kk; /* kk: the steps a replay takes (then m and v decay by beta^(k - kk)) */
} ncf_adam_plan;

void ncf_adam_plan_rows_(const ncf_adam_window *win, const int64_t *from, int n, int64_t through, ncf_adam_plan *plan);
/* The look-ahead's catch-ups (right after a row's update, so all from the
 * step just done, each to its own step): the plans of the small gaps for
 * one step, computed in one vectorised pass when the step changes (a
 * step's rows share most gaps), as a table the row kernel reads by gap.
 * The table holds the gaps below `closed`, whose plans take the closed
 * form whatever the elements are (xmax CLOSED_ONLY; k = 0: no catch-up);
 * a longer gap is planned per row. Whether a plan is closed-only turns
 * once, from yes to no, as the gap grows (u = c_0 / c_k - 1 grows with
 * k), so one bound says which gaps the table has (were it not so, a
 * gap past the bound would only be planned per row, to the same plan).
 * Keyed by the step and the window's base and count (a window's base
 * only grows). From the window's stat_from on, the steps share one
 * table, the stationary plans' (stat), filled once. Zeroed at first. */
#define NCF_ADAM_AHEAD 256
typedef struct ncf_adam_ahead {
    int64_t from, base, count; /* the step and the window it is for */
    int closed;                /* gaps below it are in the table (at least 1: gap 0) */
    float B[4][NCF_ADAM_AHEAD], b1k[NCF_ADAM_AHEAD], b2k[NCF_ADAM_AHEAD]; /* the plan's, at [k] */
} ncf_adam_ahead;

/* Brings the table to step `from` of the window. */
void ncf_adam_ahead_at_(const ncf_adam_window *win, int64_t from, ncf_adam_ahead *tab);
/* Which gaps a table has: its step and bound, copied out of it, so that a
 * loop storing gaps (which may alias the table, to the compiler) need not
 * load them again for every row. */
typedef struct ncf_adam_ahead_bound {
    int64_t from, closed;
} ncf_adam_ahead_bound;

static inline ncf_adam_ahead_bound ncf_adam_ahead_bound_(const ncf_adam_ahead *tab)
{
    return (ncf_adam_ahead_bound){tab->from, tab->closed};
}

/* The gap ncf_adam_rows_ahead_ takes for a row caught up from the table's
 * step to `through` (k = through - from >= 0): k where the table has its
 * plan (k = 0: no catch-up), else -1, and the caller plans the row
 * (ncf_adam_plan_rows_ from tab->from: the same plan, so the same bits).
 * One comparison, no load: a loop over a step's rows need not branch. */
static inline int32_t ncf_adam_ahead_gap_(ncf_adam_ahead_bound b, int64_t through)
{
    const int64_t k = through - b.from;
    return k < b.closed ? (int32_t)k : -1;
}

/* Row-list forms for embedding tables (row r at w + r * stride, dim
 * floats): one call per table and step instead of one per row.
 * ncf_adam_rows_ applies one step to row rows[i] with the gradient at
 * g + i * g_stride (a compact buffer in list order, not a table: the
 * trainer sums a step's gradients there, in cache, so no gradient table
 * row is read, written or zeroed); ncf_adam_catchup_rows_ brings row
 * rows[i] to step `through` as plan[i] says (base <= from <= through <=
 * base + count) with dense Adam's zero-gradient steps (closed form
 * above). */
void ncf_adam_rows_(float *restrict w, const float *restrict g, size_t g_stride, float *restrict m, float *restrict v,
                    size_t stride, int dim, const int32_t *rows, int n, const ncf_adam_step *s);
void ncf_adam_catchup_rows_(float *restrict w, float *restrict m, float *restrict v, size_t stride, int dim,
                            const int32_t *rows, const ncf_adam_plan *plan, int n, const ncf_adam_window *win);
/* ncf_adam_rows_ with each row then caught up as gap[i] says (from this
 * step; ncf_adam_ahead_gap_ gave it, plan[i] the plan where it is -1), in one
 * pass over the row: the bits of ncf_adam_rows_ followed by
 * ncf_adam_catchup_rows_ (gap 0 goes through the closed form with B = 0,
 * which leaves the step's p, m, v as they are while m rd is finite, as it
 * is: rd <= 1 / eps). */
void ncf_adam_rows_ahead_(float *restrict w, const float *restrict g, size_t g_stride, float *restrict m,
                          float *restrict v, size_t stride, int dim, const int32_t *rows, int n, const ncf_adam_step *s,
                          const ncf_adam_ahead *tab, const int32_t *gap, const ncf_adam_plan *plan,
                          const ncf_adam_window *win);

/* dst[k] = src[k] + src[stride + k] + ... + src[(count - 1) * stride + k],
 * added in that order, for k < n (the per-group gradient buffers'
 * reduction). */
void ncf_sum_strided_(float *restrict dst, const float *restrict src, size_t stride, int count, size_t n);

/* p -= lr g */
void ncf_sgd_update_(float *restrict p, const float *restrict g, size_t n, float lr);

/* The optimizers with one state buffer s (PyTorch's formulations):
 *   momentum SGD: s = mu s + g;                p -= lr s
 *   Adagrad:      s += g^2;                    p -= lr g / (sqrt(s) + eps)
 *   RMSprop:      s = a s + (1 - a) g^2;       p -= lr g / (sqrt(s) + eps)
 * (plain SGD when kind is SGD and mu is 0: s is not touched). */
typedef enum ncf_opt_kind { NCF_OPTK_SGD, NCF_OPTK_MOMENTUM, NCF_OPTK_ADAGRAD, NCF_OPTK_RMSPROP } ncf_opt_kind;

typedef struct ncf_opt1 {
    ncf_opt_kind kind;
    float lr, mu, alpha, eps;
} ncf_opt1;

void ncf_opt1_update_(const ncf_opt1 *o, float *restrict p, const float *restrict g, float *restrict s, size_t n);
/* Rows form with ncf_adam_rows_'s contract (rows[i]'s gradient at g + i * g_stride). */
void ncf_opt1_rows_(const ncf_opt1 *o, float *restrict w, const float *restrict g, size_t g_stride, float *restrict s,
                    size_t stride, int dim, const int32_t *rows, int n);
/* k = through - from[i] zero-gradient steps on each row, in closed form:
 * momentum p -= lr s (mu + ... + mu^k), s *= mu^k; RMSprop s *= a^k (p does
 * not move); Adagrad and SGD: nothing. */
void ncf_opt1_catchup_rows_(const ncf_opt1 *o, float *restrict w, float *restrict s, size_t stride, int dim,
                            const int32_t *rows, const int64_t *from, int n, int64_t through);
/* 1 when untouched rows move or change state under this optimizer
 * (momentum, RMSprop): dense and lazy then differ. */
static inline int ncf_opt1_has_zero_grad_steps_(const ncf_opt1 *o)
{
    return (o->kind == NCF_OPTK_MOMENTUM && o->mu > 0.0f) || o->kind == NCF_OPTK_RMSPROP;
}

#endif
