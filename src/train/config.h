/* config.h — the rows mode of the training configuration (config.c) that
 * only the library and its tests use. */
#ifndef NCF_TRAIN_CONFIG_H
#define NCF_TRAIN_CONFIG_H

#include "ncf/train.h"

/* The reference for NCF_ADAM_DENSE, outside the public rows modes (dense,
 * lazy, auto): sweeps every embedding row every step, as dense Adam is
 * defined (slow; Adam only). The tests compare whole training runs under
 * dense against it; ncf_train_config_check accepts it, the CLI cannot ask
 * for it. Its value is the one ncf/train.h reserves. */
#define NCF_ADAM_DENSE_SWEEP ((ncf_adam_mode)2)
_Static_assert(NCF_ADAM_DENSE_SWEEP != NCF_ADAM_DENSE && NCF_ADAM_DENSE_SWEEP != NCF_ADAM_LAZY &&
                   NCF_ADAM_DENSE_SWEEP != NCF_ADAM_AUTO,
               "the sweep is none of the public rows modes");

#endif
