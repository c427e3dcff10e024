/* score.h — the scoring kernels of the top-K engine (src/model/topk.c):
 * scores of many (user, item) pairs of one model, items taken in panels of
 * NCF_PANEL stored feature-major (a panel is, per feature, the NCF_PANEL
 * items' values side by side), so that a vector holds one feature of
 * several items and every pair's sum is an ordinary vertical sum.
 *
 * The bits: each score is the same function of (user, item) whatever the
 * panel, the block or the number of users scored together.
 * - Output layer (ncf_model_output_, model_impl.h): eight partial sums,
 *   acc[k & 7] += w_k * (p_k * q_k) for the GMF/MF features k in order,
 *   then acc[k & 7] += w_(F+k) * z_k for the last hidden layer, added as
 *   ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7)) after the bias
 *   (MF: b + (b_u + b_i)): the bits of ncf_model_output_ on every path
 *   (multiplies and adds rounded apart; a weight of exactly 1 is skipped,
 *   which changes no bit).
 * - Hidden layers after the first: y_o = relu(b_o + x_0 w_0o + x_1 w_1o + ...)
 *   summed in input order with the path's multiply-add (fused on the AVX2
 *   and AVX-512 paths, apart on the portable one): the bits of
 *   ncf_linear_forward_rows_ for the rows it takes four at a time. ReLU as
 *   there: x > 0 ? x : +0 for the outputs in blocks of 8, x < 0 ? 0 : x for
 *   the last out % 8.
 * - The first hidden layer is split (model_impl.h): relu(uh + ih), the
 *   user half and the item half computed by the caller.
 * Not here: which pairs to score, selection, threads (topk.c). */
#ifndef NCF_NN_SCORE_H
#define NCF_NN_SCORE_H

#include <stddef.h>

#include "ncf/model.h" /* NCF_MAX_HIDDEN */

/* Items per panel; the engine packs panels in pairs (a pass of the
 * AVX-512 tower kernel takes two), so a panel count is always even. */
#define NCF_PANEL 16

/* Where one panel's parts sit (offsets in floats from the panel's start)
 * and the model's shape, as the kernels need it. */
typedef struct ncf_score_shape {
    int F;                 /* GMF / MF features (0: none) */
    size_t qt_off;         /* F x NCF_PANEL: the items' GMF/MF factors */
    size_t bi_off;         /* NCF_PANEL item biases (MF), when has_bias */
    size_t ih_off;         /* h x NCF_PANEL: the items' halves of the first layer */
    size_t pstride;        /* floats per panel */
    int has_bias;          /* MF: b_u + b_i */
    const float *wo;       /* output weights (F, then the last hidden width) */
    int wo_ones;           /* the first F output weights are exactly 1 (MF) */
    float b0;              /* output bias */
    int n_layers;          /* hidden layers; 0: output layer only (GMF, MF) */
    int h;                 /* width of the first hidden layer */
    int in[NCF_MAX_HIDDEN], out[NCF_MAX_HIDDEN];
    const float *wt[NCF_MAX_HIDDEN]; /* W_l^T (in, out), l >= 1 */
    const float *b[NCF_MAX_HIDDEN];
    int max_width;         /* widest hidden layer */
} ncf_score_shape;

typedef struct ncf_score_kernels {
    const char *name; /* the kernel path (ncf_kernels()) */
    /* GMF / MF: S[r * lds + t] for users r < nu (factors pu[r], bias bu[r]
     * when has_bias) and items t < np * NCF_PANEL of the np panels at
     * panels (pstride apart). */
    void (*dot)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *panels, int np,
                const ncf_score_shape *sh);
    /* The same as dot for panels packed by pairs (ncf_score_pair_slot_;
     * F a multiple of 8), or NULL when the path has no such kernel. */
    void (*dot8)(float *S, size_t lds, const float *const *pu, const float *bu, int nu, const float *panels, int np,
                 const ncf_score_shape *sh);
    /* Models with hidden layers: S[t] for one user (first-layer half uh,
     * GMF factors pu or NULL) and the items of np panels (np even); work
     * holds 2 * max_width * 2 * NCF_PANEL floats. */
    void (*tower)(float *S, const float *uh, const float *pu, const float *panels, int np, const ncf_score_shape *sh,
                  float *work);
} ncf_score_kernels;

/* Where feature k of item t (< NCF_PANEL) of a panel sits in its F x
 * NCF_PANEL factor block, in the layout the dot8 kernels read: per block of
 * 8 features, 8 vectors of 16 floats, vector c holding two items' 8
 * features side by side (items c and c + 4 for c < 4, c + 4 and c + 8
 * above), so that one vector's multiply serves two items x 8 features and
 * the partial sums come out in item order. */
static inline size_t ncf_score_pair_slot_(int t, int k)
{
    const int c = t < 8 ? t & 3 : 4 + (t & 3), half = (t >> 2) & 1;
    return (size_t)(k / 8) * 128 + (size_t)c * 16 + (size_t)half * 8 + (size_t)(k % 8);
}

/* The kernels of the active path (the one ncf_kernels() names). */
const ncf_score_kernels *ncf_score_kernels_(void);

extern const ncf_score_kernels ncf_score_generic_;
#if defined(__x86_64__) && defined(__GNUC__)
extern const ncf_score_kernels ncf_score_avx2_;
extern const ncf_score_kernels ncf_score_avx512_;
#endif

#endif
