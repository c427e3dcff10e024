/* ncf/ncf.h — libncf, Neural Collaborative Filtering (He et al., WWW 2017)
 * for implicit feedback in C11: GMF, MLP and NeuMF, the paper's training
 * and evaluation protocols, a versioned model file and top-K
 * recommendations in raw ids. Include this header for the whole API:
 *
 *   ncf_dataset *ds;  ncf_dataset_load("ml-1m", NULL, &ds, &err);
 *   ncf_model_config mc;  ncf_model_config_preset(NCF_PRESET_PAPER, NCF_MODEL_NEUMF, 8, layers, 4, &mc, &err);
 *   mc.n_users = ds->n_users;  mc.n_items = ds->n_items;
 *   ncf_model *m;  ncf_model_create(&mc, seed, &m, &err);  ncf_model_attach_data(m, ds, &err);
 *   ncf_train_config tc;  ncf_train_config_default(&tc);  ncf_train(m, ds, &tc, &result, &err);
 *   ncf_model_save(m, "model.ncf", &err);
 *
 * Every fallible call returns ncf_status and fills an optional ncf_err. */
#ifndef NCF_NCF_H
#define NCF_NCF_H

#define NCF_VERSION_MAJOR 0
#define NCF_VERSION_MINOR 1
#define NCF_VERSION_STRING "0.1.0"

#include "ncf/data.h"
#include "ncf/model.h"
#include "ncf/outfile.h"
#include "ncf/status.h"
#include "ncf/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version string, to compare with NCF_VERSION_STRING. */
const char *ncf_version(void);

/* Kernel paths: "generic" (portable C, any CPU), "avx2" (AVX2 + FMA) and
 * "avx512" (AVX-512VL + FMA). The best the CPU supports is used, unless the
 * environment variable NCF_KERNELS names another supported one. "avx2" and
 * "avx512" give the same bits; "generic" rounds multiply-adds separately,
 * so a seed reproduces a model bit for bit on the portable path or on the
 * two x86 paths. ncf_set_kernels switches path (NCF_ERR_ARG when the
 * name is unknown or the CPU lacks it); call it before training, not during. */
const char *ncf_kernels(void);
int ncf_kernels_supported(const char *name);
ncf_status ncf_set_kernels(const char *name);

#ifdef __cplusplus
}
#endif
#endif
