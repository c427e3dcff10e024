/* core.c — status names, error formatting, aligned allocation, RNG seeding,
 * CRC-32 (IEEE 802.3, the one zlib and PNG use) and a monotonic clock.
 * Nothing here prints or exits. */
#define _DEFAULT_SOURCE 1 /* madvise's MADV_HUGEPAGE (Linux) */
#include "core/core.h"

#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

const char *ncf_status_str(ncf_status status)
{
    switch (status) {
    case NCF_OK: return "ok";
    case NCF_ERR_NOMEM: return "out of memory";
    case NCF_ERR_IO: return "input/output error";
    case NCF_ERR_FORMAT: return "malformed input";
    case NCF_ERR_VERSION: return "unsupported version";
    case NCF_ERR_ARG: return "invalid argument";
    case NCF_ERR_NUMERIC: return "numerical error";
    case NCF_ERR_NOT_FOUND: return "not found";
    case NCF_ERR_EMPTY: return "empty dataset";
    case NCF_ERR_INTERRUPTED: return "interrupted";
    }
    return "unknown status";
}

ncf_status ncf_fail_(ncf_err *err, ncf_status status, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return status;
}

int ncf_mul_size_(size_t n, size_t size, size_t *out)
{
    if (size != 0 && n > (size_t)-1 / size) return -1;
    *out = n * size;
    return 0;
}

void *ncf_alloc_unfilled_(size_t n, size_t *bytes)
{
    const size_t huge = (size_t)2 << 20;
    void *p = NULL;
    size_t align = 64;
    size_t rounded = (n + 63) & ~(size_t)63;
    if (rounded < n) return NULL;
    if (rounded == 0) rounded = 64;
    if (rounded >= huge) {
        if (rounded > (size_t)-1 - huge) return NULL;
        align = huge;
        rounded = (rounded + huge - 1) / huge * huge;
    }
    if (posix_memalign(&p, align, rounded) != 0) return NULL;
#ifdef MADV_HUGEPAGE
    if (align == huge) madvise(p, rounded, MADV_HUGEPAGE);
#endif
    *bytes = rounded;
    return p;
}

void *ncf_alloc_aligned_(size_t n)
{
    size_t bytes;
    void *p = ncf_alloc_unfilled_(n, &bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void ncf_free_aligned_(void *p) { free(p); }

uint64_t ncf_splitmix64_(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void ncf_rng_seed_(ncf_rng *r, uint64_t seed, uint64_t a, uint64_t b)
{
    uint64_t st = seed;
    uint64_t mix = ncf_splitmix64_(&st);
    st = mix ^ (a * 0xD1B54A32D192ED03ull);
    mix = ncf_splitmix64_(&st);
    st = mix ^ (b * 0x8CB92BA72F3D8DD7ull);
    for (int k = 0; k < 4; k++) r->s[k] = ncf_splitmix64_(&st);
}

double ncf_rng_normal_(ncf_rng *r)
{
    double u1 = ncf_rng_uniform_(r);
    double u2 = ncf_rng_uniform_(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}

uint32_t ncf_crc32_update_(uint32_t crc, const void *data, size_t n)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    for (size_t k = 0; k < n; k++) crc = crc_table[(crc ^ p[k]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}

double ncf_now_seconds_(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

#include "ncf/ncf.h"
const char *ncf_version(void) { return NCF_VERSION_STRING; }

int ncf_sorted_has_(const int32_t *a, int64_t n, int32_t v)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (a[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && a[lo] == v;
}

ncf_status ncf_read_file_(const char *path, unsigned char **buf, size_t *size, ncf_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ncf_fail_(err, NCF_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ncf_fail_(err, NCF_ERR_IO, "%s: not a regular file", path);
    }
    *size = (size_t)sb.st_size;
    *buf = malloc(*size + 1);
    if (!*buf) {
        fclose(f);
        return ncf_fail_(err, NCF_ERR_NOMEM, "%s: out of memory reading %zu bytes", path, *size);
    }
    const size_t got = fread(*buf, 1, *size, f);
    fclose(f);
    if (got != *size) {
        free(*buf);
        *buf = NULL;
        return ncf_fail_(err, NCF_ERR_IO, "%s: read failed", path);
    }
    return NCF_OK;
}
