/* kernels_generic.c — the portable kernel path (any C11 compiler with
 * vector extensions; SSE2 on x86-64): multiply and add rounded separately.
 * Defines ncf_kernels_generic_ (kernels.h). */
#define NCF_KPATH generic
#define V8_MADD(c, a, b) ((c) + (a) * (b))
#define S_MADD(c, a, b) ((c) + (a) * (b))
#include "nn/kernels_body.h"
