/* score_generic.c — the portable path of the scoring kernels (score.h):
 * 8-float vectors, multiply and add rounded apart as in kernels_generic.c.
 * Defines ncf_score_generic_. */
#include <string.h>

#include "nn/simd.h"

#define SKPATH generic
#define SVEC v8f
#define SVW 8
#define SV_LOAD v8_load
#define SV_STORE v8_store
#define SV_SET1 v8_set1
#define SV_MADD(c, a, b) ((c) + (a) * (b))
#define SRB 1
#define SOB 6
#define SNC 2
#include "nn/score_body.h"
