/* data_impl.h — private pieces shared by the data module's files. */
#ifndef NCF_DATA_IMPL_H
#define NCF_DATA_IMPL_H

#include <stdio.h>

#include "ncf/data.h"

/* Reads a delimited or list file. With integer_ids, ids must be non-negative
 * integers and are used as indices directly (x->users / x->items stay NULL;
 * *max_user / *max_item, when not NULL, are raised to the largest ids this
 * file names and otherwise left as they are: start them at -1, and pass the
 * same pair through every file whose ids share one index space). */
ncf_status ncf_read_interactions_(const char *path, const ncf_read_options *opt, int integer_ids,
                                  ncf_interactions **out, int32_t *max_user, int32_t *max_item,
                                  ncf_err *err);

/* An idmap holding "0", "1", ..., "n-1". */
ncf_status ncf_idmap_identity_(int32_t n, ncf_idmap **out);


/* Parses a whole field as a number; 0 on success. */
int ncf_parse_double_(const char *s, double *out);
int ncf_parse_int64_(const char *s, int64_t *out);

#endif
