/* score.c — picks the scoring kernels (score.h) of the path the linear
 * kernels use (nn.c, ncf_kernels()), so that a tower scored by the engine
 * gives the bits the layer kernels of that path give. */
#include <string.h>

#include "ncf/ncf.h"
#include "nn/score.h"

const ncf_score_kernels *ncf_score_kernels_(void)
{
    const char *name = ncf_kernels();
#if defined(__x86_64__) && defined(__GNUC__)
    if (strcmp(name, "avx512") == 0) return &ncf_score_avx512_;
    if (strcmp(name, "avx2") == 0) return &ncf_score_avx2_;
#endif
    (void)name;
    return &ncf_score_generic_;
}
