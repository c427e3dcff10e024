/* dist.c — the process group (dist.h) and its public face (ncf_dist_* in
 * ncf/train.h): Open MPI under -DNCF_MPI, a group of one otherwise. The
 * only file of libncf that includes mpi.h. It starts and ends MPI when
 * the tool asks (ncf_dist_init, ncf_dist_finalize); a library user who
 * never asks gets a group of one even in an MPI build. Does not print. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "dist/dist.h"
#include "ncf/train.h"

#ifdef NCF_MPI
#include <limits.h>
#include <mpi.h>

/* 1 once ncf_dist_init started MPI (and until ncf_dist_finalize): the
 * process-wide state MPI itself is; nothing else here changes. */
static int g_started;

static int started(void) { return g_started; }

int ncf_dist_rank_(void)
{
    int r = 0;
    if (started()) MPI_Comm_rank(MPI_COMM_WORLD, &r);
    return r;
}

int ncf_dist_size_(void)
{
    int n = 1;
    if (started()) MPI_Comm_size(MPI_COMM_WORLD, &n);
    return n;
}

/* MPI counts are int: large buffers go in pieces of at most this many elements. */
#define PIECE (1 << 28)

int ncf_dist_sum_u64_(uint64_t *buf, size_t n)
{
    if (!started() || ncf_dist_size_() == 1) return 0;
    for (size_t at = 0; at < n; at += PIECE) {
        const int c = (int)(n - at < PIECE ? n - at : PIECE);
        if (MPI_Allreduce(MPI_IN_PLACE, buf + at, c, MPI_UINT64_T, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    }
    return 0;
}

int ncf_dist_gather_(const void *send, size_t bytes, void *recv, const size_t *counts, int root)
{
    const int n = ncf_dist_size_(), me = ncf_dist_rank_();
    if (n == 1) {
        if (bytes) memmove(recv, send, bytes);
        return 0;
    }
    if (bytes > INT_MAX) return -1;
    int *cnt = NULL, *disp = NULL;
    if (me == root) {
        cnt = malloc((size_t)n * sizeof *cnt);
        disp = malloc((size_t)n * sizeof *disp);
        if (!cnt || !disp) {
            free(cnt), free(disp);
            return -1;
        }
        size_t at = 0;
        for (int r = 0; r < n; r++) {
            if (counts[r] > INT_MAX || at > INT_MAX) {
                free(cnt), free(disp);
                return -1;
            }
            cnt[r] = (int)counts[r];
            disp[r] = (int)at;
            at += counts[r];
        }
    }
    const int rc = MPI_Gatherv(send, (int)bytes, MPI_BYTE, recv, cnt, disp, MPI_BYTE, root, MPI_COMM_WORLD);
    free(cnt), free(disp);
    return rc == MPI_SUCCESS ? 0 : -1;
}

int ncf_dist_minmax_u64_(uint64_t v, uint64_t *min, uint64_t *max)
{
    *min = *max = v;
    if (!started() || ncf_dist_size_() == 1) return 0;
    if (MPI_Allreduce(&v, min, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    return MPI_Allreduce(&v, max, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD) == MPI_SUCCESS ? 0 : -1;
}

int ncf_dist_bcast_(void *buf, size_t bytes, int root)
{
    if (!started() || ncf_dist_size_() == 1) return 0;
    for (size_t at = 0; at < bytes; at += PIECE) {
        const int c = (int)(bytes - at < PIECE ? bytes - at : PIECE);
        if (MPI_Bcast((char *)buf + at, c, MPI_BYTE, root, MPI_COMM_WORLD) != MPI_SUCCESS) return -1;
    }
    return 0;
}

void ncf_dist_abort_(int status)
{
    if (started()) MPI_Abort(MPI_COMM_WORLD, status);
    exit(status);
}

ncf_status ncf_dist_init(int *argc, char ***argv, ncf_err *err)
{
    if (g_started) return NCF_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return ncf_fail_(err, NCF_ERR_IO, "MPI_Init_thread failed");
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return ncf_fail_(err, NCF_ERR_IO, "this MPI does not support threads (MPI_THREAD_FUNNELED)");
    }
    g_started = 1;
    return NCF_OK;
}

void ncf_dist_finalize(void)
{
    if (!g_started) return;
    MPI_Finalize();
    g_started = 0;
}

int ncf_dist_available(void) { return 1; }

#else /* a group of one */

int ncf_dist_rank_(void) { return 0; }
int ncf_dist_size_(void) { return 1; }
int ncf_dist_sum_u64_(uint64_t *buf, size_t n) { (void)buf, (void)n; return 0; }

int ncf_dist_gather_(const void *send, size_t bytes, void *recv, const size_t *counts, int root)
{
    (void)counts;
    if (root != 0) return -1;
    if (bytes) memmove(recv, send, bytes);
    return 0;
}

int ncf_dist_minmax_u64_(uint64_t v, uint64_t *min, uint64_t *max)
{
    *min = *max = v;
    return 0;
}

int ncf_dist_bcast_(void *buf, size_t bytes, int root)
{
    (void)buf, (void)bytes;
    return root == 0 ? 0 : -1;
}

void ncf_dist_abort_(int status) { exit(status); }

ncf_status ncf_dist_init(int *argc, char ***argv, ncf_err *err)
{
    (void)argc, (void)argv, (void)err;
    return NCF_OK;
}

void ncf_dist_finalize(void) {}
int ncf_dist_available(void) { return 0; }

#endif

int ncf_dist_rank(void) { return ncf_dist_rank_(); }
int ncf_dist_size(void) { return ncf_dist_size_(); }
void ncf_dist_abort(int status) { ncf_dist_abort_(status); }
int ncf_dist_minmax(uint64_t v, uint64_t *min, uint64_t *max) { return ncf_dist_minmax_u64_(v, min, max); }

int ncf_dist_max(int v)
{
    const int64_t shift = (int64_t)1 << 31; /* ints in unsigned order */
    uint64_t lo, hi;
    if (ncf_dist_minmax_u64_((uint64_t)((int64_t)v + shift), &lo, &hi) != 0) return v;
    return (int)((int64_t)hi - shift);
}
