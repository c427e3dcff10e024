/* own.h — reading only one's users (readown.c; docs/distributed.md): the
 * rule that splits users into shards, and the two passes by which each
 * process of sharded training reads an NCF training file sorted by user:
 * an index (each process parses a 1/N slice of the file and the processes
 * add up every user's count and byte range), then the items of the users
 * of the shards it owns. Collective: every process calls these in the
 * same order (dist.h). Internal to libncf. */
#ifndef NCF_DATA_OWN_H
#define NCF_DATA_OWN_H

#include "data/reader_impl.h"

/* The shard rule of sharded training: shard s starts at the first user u
 * with offsets[u] >= n_train s / S (n_train = offsets[n_users]), so shards
 * are consecutive users with about equal training positives;
 * user_start[S] = n_users. */
void ncf_shard_starts_(const int64_t *offsets, int32_t n_users, int S, int32_t *user_start);

/* own[u] = 1 for the users of shards rank, rank + N, ..., else 0 (n_users bytes). */
void ncf_shard_own_(const int32_t *user_start, int32_t n_users, int S, int N, int rank, uint8_t *own);

/* The first pass's result, the same on every process. */
typedef struct own_index {
    rd_text text;         /* the file, mapped: only the pages read are resident */
    rd_layout L;
    int sorted;           /* 0: not sorted by user (or ids too sparse): read it whole */
    int32_t max_user, max_item; /* over every line (-1: none) */
    int32_t n;            /* users indexed: max_user + 1 */
    int64_t *count;       /* n: each user's distinct training items */
    uint64_t *begin, *end; /* n: the bytes of each user's lines (begin == end: none) */
    int64_t lines;        /* lines this process parsed (both passes) */
} own_index;

/* Pass one over path (an NCF .train.rating, read with ro and integer
 * ids): each of the N processes parses its slice of the file, cut at
 * lines where the user changes, and the counts, byte ranges and largest
 * ids are summed across processes. Sets ix->sorted = 0 (and nothing
 * else) when the file's users are not in non-decreasing order or an id
 * reaches span x (distinct pairs) + slack: the caller then reads the whole
 * file as usual (and its checks speak). Errors name
 * the file and line (from the process whose slice holds it). */
ncf_status ncf_own_index_(const char *path, const ncf_read_options *ro, int64_t span, int64_t slack,
                          own_index *ix, ncf_err *err);

/* Pass two: the items of every user u with own[u] (u < ix->n), deduplicated
 * and ascending, at items + offsets[u] (offsets: the whole data's CSR;
 * entries of other users are not written). */
ncf_status ncf_own_fill_(own_index *ix, const int64_t *offsets, const uint8_t *own, int32_t *items, ncf_err *err);

void ncf_own_index_free_(own_index *ix);

#endif
