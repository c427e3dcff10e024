/* kernels.h — the linear kernels of one instruction-set path as a table,
 * the one place their signatures are written: nn.c forwards nn.h's entry
 * points (ncf_linear_forward_, ...) to the active path's table. Each path is
 * one translation unit that defines NCF_KPATH (generic, avx2 or avx512) and
 * includes kernels_body.h, which defines the six kernels as static
 * functions and the path's table; the table is all a path exports. Which
 * path is active, and whether the CPU has it, is nn.c's business.
 *
 * Names the paths generate (P = generic, avx2, avx512), for grep and
 * profiles:
 *   ncf_kernels_P_                         the table (the only external symbol)
 *   ncf_k_linear_forward_P, ncf_k_linear_backward_x_P, ncf_k_linear_backward_w_P,
 *   ncf_k_linear_forward_rows_P, ncf_k_linear_forward_tile_P,
 *   ncf_k_linear_backward_x_tile_P         the six kernels (static)
 *   ncf_k_dot_rows_P, ncf_k_dot_block_P, ncf_k_outer_block_P, and on the
 *   avx512 path ncf_k_dot_block16_P, ncf_k_outer_block16_P
 *                                          their always-inline register blocks */
#ifndef NCF_KERNELS_H
#define NCF_KERNELS_H

#include <stddef.h>

/* The six kernels of a path, each with the contract of the nn.h entry
 * point of the same name and a trailing underscore (ncf_linear_forward_
 * for linear_forward, ...), and each giving the same bits on every call. */
typedef struct ncf_kernel_table {
    const char *name; /* "generic", "avx2", "avx512" (NCF_KERNELS, ncf_set_kernels) */
    void (*linear_forward)(float *restrict y, const float *restrict x, const float *restrict wt,
                           const float *restrict b, int in, int out);
    void (*linear_backward_x)(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out);
    void (*linear_backward_w)(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                              const float *restrict x, size_t x_stride, int rows, int in, int out);
    void (*linear_forward_rows)(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                                const float *restrict wt, const float *restrict b, int in, int out, int relu);
    void (*linear_forward_tile)(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                                const float *restrict wt, const float *restrict b, int in, int out, int relu);
    void (*linear_backward_x_tile)(float *restrict DX, size_t dxs, const float *restrict DY, size_t dys, int rows,
                                   const float *restrict w, int in, int out, const float *restrict gate, size_t gs);
} ncf_kernel_table;

extern const ncf_kernel_table ncf_kernels_generic_;
#if defined(__x86_64__) && defined(__GNUC__)
#define NCF_HAVE_X86_PATHS 1
extern const ncf_kernel_table ncf_kernels_avx2_;
extern const ncf_kernel_table ncf_kernels_avx512_;
#endif

#endif
