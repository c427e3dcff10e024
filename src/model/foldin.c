/* foldin.c — folding a user into a trained model from the items they
 * interacted with (ncf/model.h, "fold-in"): the user's rows (GMF and MLP
 * embeddings, MF's embedding and bias; theta below) are solved for with
 * every item row and layer frozen, then every item is ranked for them by
 * the scorer. Does not change the model it folds into (ncf_foldin_user
 * writes one row of a model the caller names), keeps no state between
 * calls, and does not map raw ids (callers look them up; -1 is "unknown").
 *
 * The objective, for theta = [p_gmf (F) ; p_mlp (E) ; b_u (MF only)]:
 *   L(theta) = sum_r c_r (softplus(s_r) - y_r s_r) + 1/2 (theta - mu)^T P (theta - mu)
 * over rows r: each known history item (y = 1, c = 1) and the negatives
 * (y = 0), drawn uniformly among the items outside the history, with
 * weights summing to neg_weight per history item; s_r is the model's logit
 * for (theta, item). mu and P = prior * Sigma^-1 are the mean and inverse
 * covariance of the model's user rows (the prior that the new user is like
 * the others). Gauss-Newton: H = sum_r c_r sigma'(s_r) j_r j_r^T + P with
 * j_r = ds_r / dtheta, the step solves H d = grad L (Cholesky), a
 * backtracking line search keeps L decreasing. For MF and identity GMF,
 * s is linear in theta and this is Newton's method on a convex problem.
 *
 * Scores of the folded user come from the model's own inference code run
 * on a "view": a shallow copy of the model whose user tables hold theta as
 * user 0 and whose seen list is the history. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/streams.h"
#include "model/model_impl.h"
#include "model/foldin.h"
#include "nn/nn.h"

/* rows of one request at most (history + negatives): 2^26, 768 MB of row
 * data, far beyond any history a catalogue of a few million items gives
 * with the default 4 negatives */
#define NCF_FOLDIN_MAX_ROWS (1 << 26)

struct ncf_foldin {
    const ncf_scorer *s;
    const ncf_model *m;
    const float *ih;    /* item halves of the first MLP layer (the scorer's), or NULL */
    ncf_foldin_config cfg;
    int d;              /* F + E + B */
    double *mu;         /* d: prior mean */
    double *prec;       /* d x d: prior precision (row-major, symmetric) */
};

void ncf_foldin_config_default(ncf_foldin_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->iters = 5;
    cfg->negatives = 4;
    cfg->neg_weight = 4.0f;
    cfg->prior = 1.0f;
    cfg->seed = 1;
}

static ncf_status config_check(const ncf_foldin_config *c, ncf_err *err)
{
    if (c->iters < 1 || c->iters > 100)
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: iters must be in 1..100, got %d", c->iters);
    if (c->negatives < 0 || c->negatives > 1000)
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: negatives must be in 0..1000, got %d", c->negatives);
    if (!(c->neg_weight > 0.0f) || !isfinite(c->neg_weight))
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: neg_weight must be a positive number");
    if (!(c->prior >= 0.0f) || !isfinite(c->prior))
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: prior must be a number >= 0");
    return NCF_OK;
}

/* ---- dense linear algebra (d <= NCF_FOLDIN_MAX_PARAMS) ---------------------- */
/* In-place Cholesky of the symmetric positive definite a (n x n, lower
 * triangle used and overwritten with L); -1 when a pivot is not positive. */
static int cholesky(double *a, int n)
{
    for (int j = 0; j < n; j++) {
        double s = a[(size_t)j * n + j];
        for (int k = 0; k < j; k++) s -= a[(size_t)j * n + k] * a[(size_t)j * n + k];
        if (!(s > 0.0)) return -1;
        const double l = sqrt(s);
        a[(size_t)j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double t = a[(size_t)i * n + j];
            for (int k = 0; k < j; k++) t -= a[(size_t)i * n + k] * a[(size_t)j * n + k];
            a[(size_t)i * n + j] = t / l;
        }
    }
    return 0;
}

/* Solves L L^T x = b in place (b becomes x), L from cholesky. */
static void cholesky_solve(const double *l, int n, double *b)
{
    for (int i = 0; i < n; i++) {
        double t = b[i];
        for (int k = 0; k < i; k++) t -= l[(size_t)i * n + k] * b[k];
        b[i] = t / l[(size_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) {
        double t = b[i];
        for (int k = i + 1; k < n; k++) t -= l[(size_t)k * n + i] * b[k];
        b[i] = t / l[(size_t)i * n + i];
    }
}

/* ---- the prior ------------------------------------------------------------ */
static void user_theta(const ncf_model *m, int32_t u, double *theta)
{
    const int F = m->F, E = m->E;
    const ncf_table *tg = &m->tab[NCF_TABLE_GMF_USER], *tm = &m->tab[NCF_TABLE_MLP_USER];
    for (int k = 0; k < F; k++) theta[k] = tg->w[(size_t)u * (size_t)tg->stride + (size_t)k];
    for (int k = 0; k < E; k++) theta[F + k] = tm->w[(size_t)u * (size_t)tm->stride + (size_t)k];
    if (m->B) theta[F + E] = m->tab[NCF_TABLE_USER_BIAS].w[(size_t)u * (size_t)m->tab[NCF_TABLE_USER_BIAS].stride];
}

/* mu = mean user row, prec = prior * (Sigma + ridge I)^-1 with Sigma the
 * rows' covariance and ridge 1e-3 of its mean variance (1e-4 without users
 * or spread), so that P is positive definite whatever the rows. */
static ncf_status fit_prior(ncf_foldin *f)
{
    const ncf_model *m = f->m;
    const int d = f->d;
    const int32_t n = m->cfg.n_users;
    double *cov = calloc((size_t)d * (size_t)d, sizeof *cov), *t = malloc((size_t)d * sizeof *t);
    if (!cov || !t) {
        free(cov);
        free(t);
        return NCF_ERR_NOMEM;
    }
    for (int32_t u = 0; u < n; u++) {
        user_theta(m, u, t);
        for (int k = 0; k < d; k++) f->mu[k] += t[k];
    }
    for (int k = 0; n > 0 && k < d; k++) f->mu[k] /= n;
    for (int32_t u = 0; u < n; u++) {
        user_theta(m, u, t);
        for (int k = 0; k < d; k++) t[k] -= f->mu[k];
        for (int i = 0; i < d; i++)
            for (int j = 0; j <= i; j++) cov[(size_t)i * d + j] += t[i] * t[j];
    }
    double trace = 0.0;
    for (int i = 0; i < d; i++) {
        for (int j = 0; j <= i; j++) cov[(size_t)i * d + j] /= n > 0 ? n : 1;
        trace += cov[(size_t)i * d + i];
    }
    const double ridge = trace > 0.0 ? 1e-3 * trace / d : 1e-4;
    for (int i = 0; i < d; i++) cov[(size_t)i * d + i] += ridge;
    if (cholesky(cov, d) != 0) { /* cannot happen with the ridge, but never divide by it */
        free(cov);
        free(t);
        return NCF_ERR_NUMERIC;
    }
    for (int j = 0; j < d; j++) { /* column j of Sigma^-1 */
        for (int k = 0; k < d; k++) t[k] = k == j;
        cholesky_solve(cov, d, t);
        for (int k = 0; k < d; k++) f->prec[(size_t)k * d + j] = (double)f->cfg.prior * t[k];
    }
    free(cov);
    free(t);
    return NCF_OK;
}

ncf_status ncf_foldin_create(const ncf_scorer *s, const ncf_foldin_config *cfg, ncf_foldin **out, ncf_err *err)
{
    *out = NULL;
    if (!s || !cfg) return ncf_fail_(err, NCF_ERR_ARG, "fold-in: no scorer or configuration");
    ncf_status st = config_check(cfg, err);
    if (st != NCF_OK) return st;
    const ncf_model *m = ncf_scorer_model(s);
    const int d = m->F + m->E + m->B;
    if (d > NCF_FOLDIN_MAX_PARAMS)
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: the model has %d user parameters, at most %d are supported", d,
                         NCF_FOLDIN_MAX_PARAMS);
    ncf_foldin *f = calloc(1, sizeof *f);
    if (!f) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory preparing fold-in");
    f->s = s;
    f->m = m;
    f->ih = ncf_scorer_item_halves_(s);
    f->cfg = *cfg;
    f->d = d;
    f->mu = calloc((size_t)d, sizeof *f->mu);
    f->prec = calloc((size_t)d * (size_t)d, sizeof *f->prec);
    if (!f->mu || !f->prec) st = NCF_ERR_NOMEM;
    else st = fit_prior(f);
    if (st != NCF_OK) {
        ncf_foldin_free(f);
        return st == NCF_ERR_NOMEM ? ncf_fail_(err, st, "out of memory preparing fold-in")
                                   : ncf_fail_(err, st, "fold-in: the user rows' covariance is not positive definite");
    }
    *out = f;
    return NCF_OK;
}

void ncf_foldin_free(ncf_foldin *f)
{
    if (!f) return;
    free(f->mu);
    free(f->prec);
    free(f);
}

/* ---- one request ------------------------------------------------------------ */
struct ncf_foldin_work {
    const ncf_foldin *f;
    ncf_model view;        /* the model with theta as user 0 */
    int64_t seen_off[2];
    int32_t *hist;         /* sorted, unique, known history items */
    int n_hist;
    int32_t *item;         /* rows: item, label, weight */
    float *y, *c;
    int n_rows;
    float *pg, *pm, *pb;   /* the view's user rows (theta in floats) */
    float *act, *uh, *da, *db, *dx;
    float *j;              /* d: ds/dtheta of one row */
    float *hf;             /* d x d: the Gauss-Newton sum */
    double *theta;
};

static uint64_t history_hash(const int32_t *h, int n)
{
    uint64_t x = 0x9e3779b97f4a7c15u ^ (uint64_t)n;
    for (int k = 0; k < n; k++) {
        x ^= (uint64_t)(uint32_t)h[k];
        x = ncf_splitmix64_(&x);
    }
    return x;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void ncf_foldin_work_free_(ncf_foldin_work *w)
{
    if (!w) return;
    free(w->hist);
    free(w->item);
    free(w->y);
    free(w->c);
    ncf_free_aligned_(w->pg);
    ncf_free_aligned_(w->pm);
    ncf_free_aligned_(w->pb);
    ncf_free_aligned_(w->act);
    ncf_free_aligned_(w->uh);
    ncf_free_aligned_(w->da);
    ncf_free_aligned_(w->db);
    ncf_free_aligned_(w->dx);
    free(w->j);
    free(w->hf);
    free(w->theta);
    free(w);
}

/* Sets theta (and the view's rows, and the user half of the first layer). */
void ncf_foldin_set_theta_(ncf_foldin_work *w, const double *theta)
{
    const ncf_model *m = w->f->m;
    const int F = m->F, E = m->E;
    memcpy(w->theta, theta, (size_t)w->f->d * sizeof *theta);
    for (int k = 0; k < F; k++) w->pg[k] = (float)theta[k];
    for (int k = 0; k < E; k++) w->pm[k] = (float)theta[F + k];
    if (m->B) w->pb[0] = (float)theta[F + E];
    if (w->f->ih) ncf_model_user_half_(&w->view, 0, w->uh);
}

ncf_status ncf_foldin_work_create_(const ncf_foldin *f, const int32_t *history, int n, ncf_foldin_work **out,
                                   int *n_unknown, ncf_err *err)
{
    *out = NULL;
    if (n_unknown) *n_unknown = 0;
    if (n < 0 || (n > 0 && !history)) return ncf_fail_(err, NCF_ERR_ARG, "fold-in: bad history (%d items)", n);
    const ncf_model *m = f->m;
    const int32_t n_items = m->cfg.n_items;
    ncf_foldin_work *w = calloc(1, sizeof *w);
    if (!w) return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory folding in");
    w->f = f;
    w->hist = malloc(((size_t)n + 1) * sizeof *w->hist);
    if (!w->hist) goto nomem;
    int unknown = 0, kept = 0;
    for (int q = 0; q < n; q++) {
        if (history[q] < 0 || history[q] >= n_items) unknown++;
        else w->hist[kept++] = history[q];
    }
    qsort(w->hist, (size_t)kept, sizeof *w->hist, cmp_i32);
    int u = 0;
    for (int q = 0; q < kept; q++)
        if (u == 0 || w->hist[u - 1] != w->hist[q]) w->hist[u++] = w->hist[q];
    w->n_hist = u;
    if (n_unknown) *n_unknown = unknown;
    if (u == 0) {
        ncf_foldin_work_free_(w);
        return ncf_fail_(err, NCF_ERR_EMPTY, "fold-in: no history item is known to the model (%d given, %d unknown)",
                         n, unknown);
    }
    /* rows: the history, then the negatives */
    const int32_t n_cand = n_items - u; /* items outside the history */
    const ncf_foldin_config *cfg = &f->cfg;
    int64_t n_neg = n_cand == 0 ? 0 : cfg->negatives == 0 ? n_cand : (int64_t)cfg->negatives * u;
    if (u + n_neg > NCF_FOLDIN_MAX_ROWS) {
        ncf_foldin_work_free_(w);
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: %d history items with %d negatives each make more than %d rows",
                         u, cfg->negatives, NCF_FOLDIN_MAX_ROWS);
    }
    w->item = malloc((size_t)(u + n_neg) * sizeof *w->item);
    w->y = malloc((size_t)(u + n_neg) * sizeof *w->y);
    w->c = malloc((size_t)(u + n_neg) * sizeof *w->c);
    if (!w->item || !w->y || !w->c) goto nomem;
    for (int q = 0; q < u; q++) w->item[q] = w->hist[q], w->y[q] = 1.0f, w->c[q] = 1.0f;
    const float cn = n_neg ? (float)((double)cfg->neg_weight * u / (double)n_neg) : 0.0f;
    int64_t r = u;
    if (cfg->negatives == 0) { /* every candidate once */
        int64_t h = 0;
        for (int32_t i = 0; i < n_items && n_neg; i++) {
            while (h < u && w->hist[h] < i) h++;
            if (h < u && w->hist[h] == i) continue;
            w->item[r++] = i;
        }
    } else if (n_neg) { /* uniform among the candidates, with replacement: the k-th candidate */
        ncf_rng rng;
        ncf_rng_seed_(&rng, cfg->seed, NCF_STREAM_FOLDIN, history_hash(w->hist, u));
        for (int64_t q = 0; q < n_neg; q++) {
            int32_t k = (int32_t)ncf_rng_below_(&rng, (uint32_t)n_cand);
            /* the k-th item outside the history: skip the history items at or below it */
            int lo = 0, hi = u; /* number of history items h with h - index <= k, by bisection */
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (w->hist[mid] - mid <= k) lo = mid + 1;
                else hi = mid;
            }
            w->item[r++] = k + lo;
        }
    }
    for (int64_t q = u; q < r; q++) w->y[q] = 0.0f, w->c[q] = cn;
    w->n_rows = (int)r;

    /* the view: user 0 is theta, its seen list the history */
    w->view = *m;
    w->view.cfg.n_users = 1;
    w->view.users = NULL;
    w->seen_off[0] = 0;
    w->seen_off[1] = u;
    w->view.seen_off = w->seen_off;
    w->view.seen = w->hist;
    const int d = f->d, F = m->F, E = m->E;
    w->pg = ncf_alloc_aligned_(((size_t)F + 8) * sizeof(float));
    w->pm = ncf_alloc_aligned_(((size_t)E + 8) * sizeof(float));
    w->pb = ncf_alloc_aligned_(8 * sizeof(float));
    const size_t wide = (size_t)(m->max_width > 2 * E ? m->max_width : 2 * E) + 8;
    w->act = ncf_alloc_aligned_(m->act_size * sizeof(float));
    w->uh = ncf_alloc_aligned_(((size_t)(m->n_layers ? m->out[0] : 0) + 8) * sizeof(float));
    w->da = ncf_alloc_aligned_(wide * sizeof(float));
    w->db = ncf_alloc_aligned_(wide * sizeof(float));
    w->dx = ncf_alloc_aligned_(wide * sizeof(float));
    w->j = malloc((size_t)d * sizeof *w->j);
    w->hf = malloc((size_t)d * (size_t)d * sizeof *w->hf);
    w->theta = malloc((size_t)d * sizeof *w->theta);
    if (!w->pg || !w->pm || !w->pb || !w->act || !w->uh || !w->da || !w->db || !w->dx || !w->j || !w->hf || !w->theta)
        goto nomem;
    w->view.tab[NCF_TABLE_GMF_USER] = (ncf_table){F ? w->pg : NULL, 1, F, F ? ((F + 7) & ~7) : 0};
    w->view.tab[NCF_TABLE_MLP_USER] = (ncf_table){E ? w->pm : NULL, 1, E, E ? ((E + 7) & ~7) : 0};
    if (m->B) w->view.tab[NCF_TABLE_USER_BIAS] = (ncf_table){w->pb, 1, 1, 8};
    ncf_foldin_set_theta_(w, f->mu);
    *out = w;
    return NCF_OK;
nomem:
    ncf_foldin_work_free_(w);
    return ncf_fail_(err, NCF_ERR_NOMEM, "out of memory folding in");
}

/* Logit of (theta, item) and, when j is not NULL, ds/dtheta into j. */
static float row_score(ncf_foldin_work *w, int32_t i, float *j)
{
    const ncf_foldin *f = w->f;
    const ncf_model *m = f->m;
    const int F = m->F, E = m->E, L = m->n_layers;
    const float *wo = m->dense + m->wo_off;
    float s;
    if (f->ih)
        s = ncf_model_forward_split_(&w->view, 0, i, w->uh, f->ih + (size_t)i * (size_t)m->out[0], w->act);
    else
        s = ncf_model_forward_(&w->view, 0, i, w->act, NULL);
    if (!j) return s;
    if (F) {
        const ncf_table *tq = &m->tab[NCF_TABLE_GMF_ITEM];
        const float *q = tq->w + (size_t)i * (size_t)tq->stride;
        if (m->cfg.gmf_activation == NCF_ACT_SIGMOID)
            for (int k = 0; k < F; k++) {
                const float a = ncf_sigmoid_(w->pg[k] * q[k]);
                j[k] = wo[k] * a * (1.0f - a) * q[k];
            }
        else
            for (int k = 0; k < F; k++) j[k] = wo[k] * q[k];
    }
    if (E) {
        if (L == 0) {
            for (int k = 0; k < E; k++) j[F + k] = wo[F + k];
        } else {
            /* delta of the last hidden layer's pre-activation, then down */
            float *delta = w->da, *next = w->db;
            const float *z = w->act + m->act_z[L - 1];
            for (int k = 0; k < m->out[L - 1]; k++) delta[k] = z[k] > 0.0f ? wo[F + k] : 0.0f;
            for (int l = L - 1; l >= 1; l--) {
                ncf_linear_backward_x_(next, delta, m->dense + m->w_off[l], m->in[l], m->out[l]);
                ncf_relu_backward_(next, w->act + m->act_z[l - 1], m->in[l]);
                float *t = delta;
                delta = next;
                next = t;
            }
            /* the user half of W1^T delta: j_m[k] = sum_o W1[o][k] delta[o], k < E */
            const float *w1 = m->dense + m->w_off[0];
            float *restrict jm = w->dx;
            memset(jm, 0, (size_t)E * sizeof *jm);
            for (int o = 0; o < m->out[0]; o++) {
                const float dv = delta[o];
                const float *restrict row = w1 + (size_t)o * (size_t)m->in[0];
                for (int k = 0; k < E; k++) jm[k] += dv * row[k];
            }
            memcpy(j + F, jm, (size_t)E * sizeof *j);
        }
    }
    if (m->B) j[F + E] = 1.0f;
    return s;
}

double ncf_foldin_objective_(ncf_foldin_work *w, double *grad, double *hess)
{
    const ncf_foldin *f = w->f;
    const int d = f->d;
    double loss = 0.0;
    if (grad) memset(grad, 0, (size_t)d * sizeof *grad);
    /* the Gauss-Newton sum in floats (a full d x d, so that the row update
     * vectorises), added to the prior's in doubles */
    float *restrict hf = hess ? w->hf : NULL;
    if (hf) memset(hf, 0, (size_t)d * (size_t)d * sizeof *hf);
    for (int r = 0; r < w->n_rows; r++) {
        const double s = row_score(w, w->item[r], grad ? w->j : NULL);
        const double c = w->c[r], y = w->y[r];
        loss += c * (ncf_softplus_(s) - y * s);
        if (!grad) continue;
        const double p = 1.0 / (1.0 + exp(-s));
        const double gr = c * (p - y);
        const float *restrict j = w->j;
        for (int a = 0; a < d; a++) grad[a] += gr * j[a];
        if (hf) {
            const float hr = (float)(c * p * (1.0 - p));
            for (int a = 0; a < d; a++) {
                const float hja = hr * j[a];
                float *restrict row = hf + (size_t)a * d;
                for (int b = 0; b < d; b++) row[b] += hja * j[b];
            }
        }
    }
    /* the prior: 1/2 (theta - mu)^T P (theta - mu) */
    for (int a = 0; a < d; a++) {
        const double ta = w->theta[a] - f->mu[a];
        double pa = 0.0;
        for (int b = 0; b < d; b++) pa += f->prec[(size_t)a * d + b] * (w->theta[b] - f->mu[b]);
        loss += 0.5 * ta * pa;
        if (grad) grad[a] += pa;
    }
    if (hess)
        for (size_t q = 0; q < (size_t)d * (size_t)d; q++) hess[q] = (double)hf[q] + f->prec[q];
    return loss;
}

ncf_status ncf_foldin_solve_(ncf_foldin_work *w, int *iters_done)
{
    const int d = w->f->d;
    double *g = malloc((size_t)d * sizeof *g), *h = malloc((size_t)d * (size_t)d * sizeof *h);
    double *step = malloc((size_t)d * sizeof *step), *t0 = malloc((size_t)d * sizeof *t0);
    double *trial = malloc((size_t)d * sizeof *trial);
    int it = 0; /* accepted steps */
    ncf_status st = NCF_OK;
    if (!g || !h || !step || !t0 || !trial) {
        st = NCF_ERR_NOMEM;
        goto done;
    }
    double loss = ncf_foldin_objective_(w, g, h);
    while (it < w->f->cfg.iters) {
        memcpy(step, g, (size_t)d * sizeof *step);
        if (cholesky(h, d) != 0) break; /* H = GN + P is positive definite; rounding aside */
        cholesky_solve(h, d, step);
        double dec = 0.0; /* Newton decrement squared: g^T H^-1 g */
        for (int a = 0; a < d; a++) dec += g[a] * step[a];
        if (!(dec > 1e-10 * (1.0 + fabs(loss)))) break;
        memcpy(t0, w->theta, (size_t)d * sizeof *t0);
        double tstep = 1.0, tl = loss;
        int ok = 0;
        for (int ls = 0; ls < 12 && !ok; ls++, tstep *= 0.5) {
            for (int a = 0; a < d; a++) trial[a] = t0[a] - tstep * step[a];
            ncf_foldin_set_theta_(w, trial);
            tl = ncf_foldin_objective_(w, NULL, NULL);
            ok = tl <= loss - 1e-4 * tstep * dec;
        }
        if (!ok) { /* no decrease along the step: keep the last good theta */
            ncf_foldin_set_theta_(w, t0);
            break;
        }
        if (++it == w->f->cfg.iters) break; /* no need for the derivatives of the last point */
        loss = ncf_foldin_objective_(w, g, h);
    }
done:
    if (iters_done) *iters_done = it;
    free(g);
    free(h);
    free(step);
    free(t0);
    free(trial);
    return st;
}

ncf_status ncf_foldin_recommend(const ncf_foldin *f, const int32_t *history, int n, int k, int32_t *items,
                                float *scores, int *n_out, int *n_unknown, ncf_err *err)
{
    *n_out = 0;
    if (k < 0) return ncf_fail_(err, NCF_ERR_ARG, "fold-in: k must be >= 0, got %d", k);
    ncf_foldin_work *w = NULL;
    ncf_status st = ncf_foldin_work_create_(f, history, n, &w, n_unknown, err);
    if (st != NCF_OK) return st;
    st = ncf_foldin_solve_(w, NULL);
    if (st == NCF_OK) st = ncf_scorer_recommend_view_(f->s, &w->view, 0, k, items, scores, n_out);
    ncf_foldin_work_free_(w);
    return st == NCF_OK ? NCF_OK : ncf_fail_(err, st, "out of memory folding in");
}

ncf_status ncf_foldin_user(const ncf_foldin *f, const int32_t *history, int n, ncf_model *dst, int32_t user,
                           int *n_unknown, ncf_err *err)
{
    const ncf_model *m = f->m;
    if (!dst) return ncf_fail_(err, NCF_ERR_ARG, "fold-in: no destination model");
    if (dst->cfg.type != m->cfg.type || dst->F != m->F || dst->E != m->E || dst->B != m->B ||
        dst->n_layers != m->n_layers || dst->cfg.n_items != m->cfg.n_items)
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: the destination model's type, widths or items differ");
    if (user < 0 || user >= dst->cfg.n_users)
        return ncf_fail_(err, NCF_ERR_ARG, "fold-in: user %d is not in the destination model (%d users)", user,
                         dst->cfg.n_users);
    ncf_foldin_work *w = NULL;
    ncf_status st = ncf_foldin_work_create_(f, history, n, &w, n_unknown, err);
    if (st != NCF_OK) return st;
    st = ncf_foldin_solve_(w, NULL);
    if (st == NCF_OK) {
        const int F = m->F, E = m->E;
        ncf_table *tg = &dst->tab[NCF_TABLE_GMF_USER], *tm = &dst->tab[NCF_TABLE_MLP_USER];
        if (F) memcpy(tg->w + (size_t)user * (size_t)tg->stride, w->pg, (size_t)F * sizeof(float));
        if (E) memcpy(tm->w + (size_t)user * (size_t)tm->stride, w->pm, (size_t)E * sizeof(float));
        if (m->B) dst->tab[NCF_TABLE_USER_BIAS].w[(size_t)user * (size_t)dst->tab[NCF_TABLE_USER_BIAS].stride] = w->pb[0];
    }
    ncf_foldin_work_free_(w);
    return st == NCF_OK ? NCF_OK : ncf_fail_(err, st, "out of memory folding in");
}

int ncf_foldin_dim_(const ncf_foldin *f) { return f->d; }
int ncf_foldin_rows_(const ncf_foldin_work *w) { return w->n_rows; }
const double *ncf_foldin_theta_(const ncf_foldin_work *w) { return w->theta; }
const ncf_model *ncf_foldin_view_(const ncf_foldin_work *w) { return &w->view; }
