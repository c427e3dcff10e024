/* dist.h — the process group of distributed training (dist.c): this
 * process's rank, the group's size, and the few collective operations the
 * sharded trainer needs. In a -DNCF_MPI build (make MPI=1) the group is
 * MPI_COMM_WORLD of Open MPI, once ncf_dist_init (ncf/train.h) has started
 * MPI; otherwise, or before that, it is a group of one and every
 * collective is a copy or nothing. Every MPI call of libncf is in dist.c.
 *
 * Contracts: collectives are called by every rank, in the same order,
 * with the same sizes, from the thread that started MPI (MPI is started
 * MPI_THREAD_FUNNELED; the trainer calls them from OpenMP's thread 0,
 * which is that thread). They return 0, or -1 when MPI reported an error
 * (MPI's default handler aborts the job first; -1 is for the group of
 * one's argument checks and for sizes MPI cannot express). Nothing here
 * knows about training, and nothing here orders floating-point sums: the
 * only reduction is a sum of unsigned 64-bit integers modulo 2^64, which
 * is associative and commutative, so its result does not depend on the
 * number of ranks or on the algorithm MPI picks. Not part of the public API. */
#ifndef NCF_DIST_H
#define NCF_DIST_H

#include <stddef.h>
#include <stdint.h>

/* This process's rank in [0, size) and the group's size (0 and 1 without MPI). */
int ncf_dist_rank_(void);
int ncf_dist_size_(void);

/* buf[k] = the sum over all ranks of their buf[k], modulo 2^64, on every rank. */
int ncf_dist_sum_u64_(uint64_t *buf, size_t n);

/* Gathers each rank's `bytes` bytes of send into recv on root, rank after
 * rank (recv: the sum of every rank's bytes; only root's is written, and
 * only root needs counts: counts[r] = rank r's bytes). */
int ncf_dist_gather_(const void *send, size_t bytes, void *recv, const size_t *counts, int root);

/* The smallest and the largest of every rank's v, on every rank (to check
 * that the ranks agree on something: a fingerprint, an option). */
int ncf_dist_minmax_u64_(uint64_t v, uint64_t *min, uint64_t *max);

/* root's bytes of buf, on every rank. */
int ncf_dist_bcast_(void *buf, size_t bytes, int root);

/* Ends the whole job with status (MPI_Abort), after an error on one rank
 * that the others would otherwise wait for forever; exit(status) without MPI. */
void ncf_dist_abort_(int status);

#endif
