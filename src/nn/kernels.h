/* kernels.h — the per-path linear kernels behind nn.h's dispatching entry
 * points (see nn.c); each path is one translation unit including
 * kernels_body.h. */
#ifndef NCF_KERNELS_H
#define NCF_KERNELS_H

#include <stddef.h>

#define NCF_DECLARE_KERNEL_PATH(sfx)                                                                           \
    void ncf_k_linear_forward_##sfx(float *restrict y, const float *restrict x, const float *restrict wt,     \
                                    const float *restrict b, int in, int out);                               \
    void ncf_k_linear_backward_x_##sfx(float *restrict dx, const float *restrict dy, const float *restrict w, \
                                       int in, int out);                                                     \
    void ncf_k_linear_backward_w_##sfx(float *restrict dw, float *restrict db, const float *restrict dy,      \
                                       size_t dy_stride, const float *restrict x, size_t x_stride, int rows, \
                                       int in, int out);                                                     \
    void ncf_k_linear_forward_rows_##sfx(float *restrict Y, size_t ys, const float *restrict X, size_t xs,    \
                                         int rows, const float *restrict wt, const float *restrict b, int in, \
                                         int out, int relu);                                                  \
    void ncf_k_linear_forward_tile_##sfx(float *restrict Y, size_t ys, const float *restrict X, size_t xs,    \
                                         int rows, const float *restrict wt, const float *restrict b, int in, \
                                         int out, int relu);                                                  \
    void ncf_k_linear_backward_x_tile_##sfx(float *restrict DX, size_t dxs, const float *restrict DY,         \
                                            size_t dys, int rows, const float *restrict w, int in, int out,   \
                                            const float *restrict gate, size_t gs);

NCF_DECLARE_KERNEL_PATH(generic)
#if defined(__x86_64__) && defined(__GNUC__)
#define NCF_HAVE_X86_PATHS 1
NCF_DECLARE_KERNEL_PATH(avx2)
NCF_DECLARE_KERNEL_PATH(avx512)
#endif

#endif
