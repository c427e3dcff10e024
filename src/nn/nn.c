/* nn.c — picks the kernel path (portable, AVX2+FMA or AVX-512) once, from
 * the CPU or from NCF_KERNELS / ncf_set_kernels, and forwards the layer
 * kernels to it; also the ReLU, softplus and row-sum kernels. The paths round differently (fused
 * or separate multiply-add), so a run is reproducible bit for bit on one
 * path; tests run every path the machine has. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ncf/ncf.h"
#include "nn/kernels.h"
#include "nn/nn.h"

/* In increasing order of preference for the default. The AVX-512 path
 * gives the AVX2 path's bits with 16-float vectors where the blocks allow:
 * twice the work per instruction on CPUs with full-width 512-bit units (AMD
 * Zen 5: NeuMF kernels ~1.8x), about the same on Zen 4, which splits them. */
static const ncf_kernel_table *const paths[] = {
    &ncf_kernels_generic_,
#ifdef NCF_HAVE_X86_PATHS
    &ncf_kernels_avx2_,
    &ncf_kernels_avx512_,
#endif
};
enum { N_PATHS = sizeof paths / sizeof paths[0] };

static const ncf_kernel_table *active;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int supported(const ncf_kernel_table *p)
{
#ifdef NCF_HAVE_X86_PATHS
    __builtin_cpu_init();
    if (strcmp(p->name, "avx2") == 0) return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(p->name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("fma");
#endif
    return strcmp(p->name, "generic") == 0;
}

static const ncf_kernel_table *find(const char *name)
{
    for (int k = 0; k < N_PATHS; k++)
        if (strcmp(paths[k]->name, name) == 0) return paths[k];
    return NULL;
}

static void choose(void)
{
    const char *env = getenv("NCF_KERNELS");
    const ncf_kernel_table *p = env && *env ? find(env) : NULL;
    if (p && supported(p)) {
        active = p;
        return;
    }
    active = paths[0];
    for (int k = 0; k < N_PATHS; k++)
        if (supported(paths[k])) active = paths[k]; /* the last supported one */
}

static const ncf_kernel_table *path(void)
{
    pthread_once(&once, choose);
    return active;
}

const char *ncf_kernels(void) { return path()->name; }

int ncf_kernels_supported(const char *name)
{
    const ncf_kernel_table *p = find(name);
    return p && supported(p);
}

ncf_status ncf_set_kernels(const char *name)
{
    path(); /* settle the default first */
    const ncf_kernel_table *p = find(name);
    if (!p || !supported(p)) return NCF_ERR_ARG;
    __atomic_store_n(&active, p, __ATOMIC_RELEASE);
    return NCF_OK;
}

void ncf_linear_forward_(float *restrict y, const float *restrict x, const float *restrict wt,
                         const float *restrict b, int in, int out)
{
    path()->linear_forward(y, x, wt, b, in, out);
}

void ncf_linear_backward_x_(float *restrict dx, const float *restrict dy, const float *restrict w, int in, int out)
{
    path()->linear_backward_x(dx, dy, w, in, out);
}

void ncf_linear_backward_w_(float *restrict dw, float *restrict db, const float *restrict dy, size_t dy_stride,
                            const float *restrict x, size_t x_stride, int rows, int in, int out)
{
    path()->linear_backward_w(dw, db, dy, dy_stride, x, x_stride, rows, in, out);
}

void ncf_linear_forward_rows_(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                              const float *restrict wt, const float *restrict b, int in, int out, int relu)
{
    path()->linear_forward_rows(Y, ys, X, xs, rows, wt, b, in, out, relu);
}

void ncf_linear_forward_tile_(float *restrict Y, size_t ys, const float *restrict X, size_t xs, int rows,
                              const float *restrict wt, const float *restrict b, int in, int out, int relu)
{
    path()->linear_forward_tile(Y, ys, X, xs, rows, wt, b, in, out, relu);
}

void ncf_linear_backward_x_tile_(float *restrict DX, size_t dxs, const float *restrict DY, size_t dys, int rows,
                                 const float *restrict w, int in, int out, const float *restrict gate, size_t gs)
{
    path()->linear_backward_x_tile(DX, dxs, DY, dys, rows, w, in, out, gate, gs);
}

NCF_MULTIVERSION
void ncf_softplus_many_(double *x, int n)
{
    for (int k = 0; k < n; k++) x[k] = ncf_softplus_(x[k]);
}

NCF_MULTIVERSION
void ncf_add_row_(float *restrict dst, const float *restrict src, size_t n, int first)
{
    for (size_t k = 0; k < n; k++) dst[k] = (first ? 0.0f : dst[k]) + src[k];
}

void ncf_relu_forward_(float *x, int n)
{
    for (int k = 0; k < n; k++) x[k] = x[k] > 0.0f ? x[k] : 0.0f;
}

void ncf_relu_backward_(float *restrict dy, const float *restrict y, int n)
{
    for (int k = 0; k < n; k++) dy[k] = y[k] > 0.0f ? dy[k] : 0.0f;
}
