/* foldin.h — the pieces of fold-in (foldin.c) below its public calls, for
 * the tests (gradients against finite differences, Newton's convergence)
 * and the benchmark: one request's working state, its objective with
 * gradient and Gauss-Newton matrix, and the solve. Not part of the public
 * API. */
#ifndef NCF_MODEL_FOLDIN_H
#define NCF_MODEL_FOLDIN_H

#include "ncf/model.h"

typedef struct ncf_foldin_work ncf_foldin_work;

/* One request: the history cleaned (unknown entries counted, repeats
 * dropped), its rows (history, then the negatives), theta at the prior
 * mean. NCF_ERR_EMPTY when no history item is known. */
ncf_status ncf_foldin_work_create_(const ncf_foldin *f, const int32_t *history, int n, ncf_foldin_work **out,
                                   int *n_unknown, ncf_err *err);
void ncf_foldin_work_free_(ncf_foldin_work *w); /* NULL-safe */

/* Sets theta (d = ncf_foldin_dim_ doubles: GMF part, MLP part, MF bias). */
void ncf_foldin_set_theta_(ncf_foldin_work *w, const double *theta);
/* The objective at the current theta; its gradient into grad and the
 * Gauss-Newton matrix (d x d, full) into hess when not NULL (hess needs
 * grad). */
double ncf_foldin_objective_(ncf_foldin_work *w, double *grad, double *hess);
/* Gauss-Newton from the current theta; *iters_done (may be NULL): the
 * steps taken. */
ncf_status ncf_foldin_solve_(ncf_foldin_work *w, int *iters_done);

int ncf_foldin_dim_(const ncf_foldin *f);
int ncf_foldin_rows_(const ncf_foldin_work *w);
const double *ncf_foldin_theta_(const ncf_foldin_work *w);
/* The model as seen with theta as its only user (user 0). */
const ncf_model *ncf_foldin_view_(const ncf_foldin_work *w);

#endif
