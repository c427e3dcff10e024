/* config.h — internal helpers of the training configuration (config.c). */
#ifndef NCF_TRAIN_CONFIG_H
#define NCF_TRAIN_CONFIG_H

#include "ncf/train.h"

/* The evaluation a config asks for (eval.n_k 0: sampled at topk). */
ncf_eval_config ncf_train_eval_config_(const ncf_train_config *c);

#endif
