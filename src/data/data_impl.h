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


/* malloc(n), on transparent huge pages where the kernel grants them when n
 * is large (bulk.c): arrays written once through, for which a 4 kB page
 * fault per 4 kB (a hypervisor exit on a VM) costs more than the writing.
 * Freed with free(). */
void *ncf_big_alloc_(size_t n);

/* Groups records [0, n) by key (bulk.c), in parallel: a stable counting
 * sort. Record k is left out when key[k] < 0, or when also is not NULL and
 * also[k] < 0; keys are otherwise below n_keys. off (n_keys + 1 entries)
 * receives where each key's records start; for the j-th kept record k of
 * key v in record order, out_val[off[v] + j] = val[k] (when out_val is not
 * NULL) and out_pos[off[v] + j] = k (when out_pos is not NULL). The result
 * does not depend on the thread count. 0, or -1 out of memory. */
int ncf_group_by_key_(const int32_t *key, const int32_t *also, int64_t n, int32_t n_keys, const int32_t *val,
                      int32_t *out_val, int64_t *out_pos, int64_t *off);

/* Sorts a[0, n) in increasing order, in place, in O(n log n) (bulk.c). */
void ncf_sort_i32_(int32_t *a, int64_t n);
/* The same for values in [0, bound), through bits (bound / 64 + 1 words,
 * all zero, left all zero; NULL: ncf_sort_i32_) when the values are many
 * for the bound and distinct; the result is ncf_sort_i32_'s either way. */
void ncf_sort_ids_(int32_t *a, int64_t n, int32_t bound, uint64_t *bits);

/* Parses a whole field as a number; 0 on success. */
int ncf_parse_double_(const char *s, double *out);
int ncf_parse_int64_(const char *s, int64_t *out);

#endif
