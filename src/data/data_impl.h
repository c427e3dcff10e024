/* data_impl.h — private pieces shared by the data module's files. */
#ifndef NCF_DATA_IMPL_H
#define NCF_DATA_IMPL_H

#include <stdint.h>
#include <stdio.h>

#include "ncf/data.h"

/* A 64-bit finaliser (murmur3's fmix64): spreads every input bit over the
 * result, for the hash tables of idmap.c and reader.c. */
static inline uint64_t ncf_mix64_(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Reads a delimited or list file. With integer_ids, ids must be non-negative
 * integers and are used as indices directly (x->users / x->items stay NULL;
 * *max_user / *max_item, when not NULL, are raised to the largest ids this
 * file names and otherwise left as they are: start them at -1, and pass the
 * same pair through every file whose ids share one index space). */
ncf_status ncf_read_interactions_(const char *path, const ncf_read_options *opt, int integer_ids,
                                  ncf_interactions **out, int32_t *max_user, int32_t *max_item,
                                  ncf_err *err);

/* The id map's hash of raw (len bytes): for len <= 7 a bijection of the
 * bytes and the length, so equal hashes of ids that short are equal ids. */
uint64_t ncf_idmap_hash_(const char *raw, size_t len);
/* ncf_idmap_add with raw's hash already computed by ncf_idmap_hash_. */
ncf_status ncf_idmap_add_hashed_(ncf_idmap *m, const char *raw, size_t len, uint64_t hash, int32_t *index);

/* An idmap holding "0", "1", ..., "n-1". */
ncf_status ncf_idmap_identity_(int32_t n, ncf_idmap **out);


/* Parses a whole field as a number; 0 on success. */
int ncf_parse_double_(const char *s, double *out);
int ncf_parse_int64_(const char *s, int64_t *out);

#endif
