/* core.h — private helpers shared by every libncf module: error reporting,
 * aligned allocation, a deterministic random number generator, CRC-32, a
 * monotonic clock, and what libncf's own writers need of ncf/outfile.h
 * beyond its public calls. Not part of the public API. */
#ifndef NCF_CORE_H
#define NCF_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "ncf/outfile.h"
#include "ncf/status.h"

/* Writes a printf-style message into err (if non-NULL) and returns status. */
ncf_status ncf_fail_(ncf_err *err, ncf_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* 64-byte aligned, zero-filled allocation of n bytes; NULL on failure or
 * size overflow. Free with ncf_free_aligned_ (NULL-safe). From 2 MB up it
 * is 2 MB aligned and asks for transparent huge pages (the kernel grants
 * them in its madvise mode too): embedding tables larger than what the TLB
 * covers are read at random, and each 4 kB page walk adds to a miss. */
void *ncf_alloc_aligned_(size_t n);
void ncf_free_aligned_(void *p);
/* The same without the zero fill (the caller writes or touches every page
 * itself); *bytes: the size it has, n rounded up to 64 bytes, or to 2 MB
 * from 2 MB up. Free with ncf_free_aligned_. */
void *ncf_alloc_unfilled_(size_t n, size_t *bytes);

/* Asks for the cache line at p for writing. gcc's __builtin_prefetch(p, 1)
 * emits a read prefetch unless the target has PRFCHW, which the x86-64
 * levels do not include; a line another core holds then arrives shared,
 * and the store that follows waits for that core to drop it. PREFETCHW
 * (AMD since K8, Intel since Broadwell, a no-op hint before) takes it
 * exclusive at once. */
static inline void ncf_prefetch_write_(const void *p)
{
#if defined(__x86_64__) && defined(__GNUC__)
    __asm__ volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1);
#endif
}

/* Asks for the cache line at p, for reading or (write) for writing. */
static inline void ncf_prefetch_line_(const void *p, int write)
{
    if (write) ncf_prefetch_write_(p);
    else __builtin_prefetch(p);
}

/* Asks for every cache line of [p, p + bytes), bytes > 0 (the first and the
 * last, then any between). A row of 64 floats spans four lines and the
 * hardware prefetcher fetches none of them for a random row. */
static inline void ncf_prefetch_lines_(const void *p, size_t bytes, int write)
{
    const uintptr_t last = (uintptr_t)p + bytes - 1;
    ncf_prefetch_line_(p, write);
    ncf_prefetch_line_((const void *)last, write);
    for (uintptr_t l = ((uintptr_t)p & ~(uintptr_t)63) + 64; l + 64 <= last; l += 64)
        ncf_prefetch_line_((const void *)l, write);
}

/* n * size with overflow check; returns 0 and sets *out, or -1 on overflow. */
int ncf_mul_size_(size_t n, size_t size, size_t *out);

/* ---- random numbers ------------------------------------------------------
 * xoshiro256** seeded through splitmix64. Every stream is derived from
 * (seed, a, b) so that work split into blocks draws the same numbers no
 * matter how many threads run the blocks. The tags `a` libncf uses are
 * listed in core/streams.h. */
typedef struct ncf_rng {
    uint64_t s[4];
} ncf_rng;

uint64_t ncf_splitmix64_(uint64_t *state);
void ncf_rng_seed_(ncf_rng *r, uint64_t seed, uint64_t a, uint64_t b);

static inline uint64_t ncf_rotl_(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t ncf_rng_next_(ncf_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = ncf_rotl_(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ncf_rotl_(s[3], 45);
    return result;
}

/* Uniform integer in [0, n), n >= 1, without modulo bias (Lemire). */
static inline uint32_t ncf_rng_below_(ncf_rng *r, uint32_t n)
{
    uint64_t m = (uint64_t)(uint32_t)(ncf_rng_next_(r) >> 32) * n;
    uint32_t low = (uint32_t)m;
    if (low < n) {
        uint32_t threshold = (uint32_t)(-n) % n;
        while (low < threshold) {
            m = (uint64_t)(uint32_t)(ncf_rng_next_(r) >> 32) * n;
            low = (uint32_t)m;
        }
    }
    return (uint32_t)(m >> 32);
}

/* Uniform double in [0, 1). */
static inline double ncf_rng_uniform_(ncf_rng *r)
{
    return (double)(ncf_rng_next_(r) >> 11) * (1.0 / 9007199254740992.0);
}

/* Standard normal draw (Box-Muller, one value per call). */
double ncf_rng_normal_(ncf_rng *r);

/* ---- output files (ncf/outfile.h) ---------------------------------------- */
/* The regular file o renames onto when closed (its links followed), or
 * NULL when o writes a device or FIFO directly; valid until the close. */
const char *ncf_outfile_target_(const ncf_outfile *o);

/* ---- checksums and time ------------------------------------------------ */
uint32_t ncf_crc32_update_(uint32_t crc, const void *data, size_t n);
double ncf_now_seconds_(void);

/* Reads the regular file at path whole into *buf (malloc'd, one spare
 * byte) and its size into *size; NCF_ERR_IO naming path (cannot open, not
 * a regular file, read failed) or NCF_ERR_NOMEM. Allocates the file's
 * actual size only. */
ncf_status ncf_read_file_(const char *path, unsigned char **buf, size_t *size, ncf_err *err);

/* 1 if v is in the increasing array a[0..n) (binary search). */
int ncf_sorted_has_(const int32_t *a, int64_t n, int32_t v);

#endif
