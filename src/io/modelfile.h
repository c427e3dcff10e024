/* modelfile.h — the model file (modelfile.c, docs/model-file.md) as bytes
 * in a stream or a buffer, for what embeds a model file in a file of its
 * own (checkpoints). Saving to and loading from a path are public
 * (ncf_model_save, ncf_model_load in ncf/model.h). Not part of the public
 * API. */
#ifndef NCF_IO_MODELFILE_H
#define NCF_IO_MODELFILE_H

#include <stddef.h>
#include <stdio.h>

#include "ncf/model.h"
#include "ncf/status.h"

/* The model file (docs/model-file.md) written to f, whole (path names it in
 * errors); and a model built from such a file's bytes, checked as
 * ncf_model_load checks a file. Checkpoints embed a model file this way. */
ncf_status ncf_model_write_(const ncf_model *m, FILE *f, const char *path, ncf_err *err);
ncf_status ncf_model_parse_(const unsigned char *buf, size_t size, const char *path, ncf_model **out, ncf_err *err);

#endif
