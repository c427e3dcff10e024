/* crcwriter.h — a binary stream writer that keeps a running CRC-32 of the
 * bytes it wrote and remembers the first failed write (ok 0; later puts
 * do nothing). The model file and the checkpoint are written through it;
 * values go out in the host's byte order, which those formats require to
 * be little-endian. */
#ifndef NCF_CORE_CRCWRITER_H
#define NCF_CORE_CRCWRITER_H

#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

typedef struct ncf_crc_writer {
    FILE *f;
    uint32_t crc; /* of everything written so far */
    int ok;       /* 0 after a failed write */
} ncf_crc_writer;

static inline void ncf_cw_put_(ncf_crc_writer *w, const void *p, size_t n)
{
    if (!w->ok || n == 0) return;
    w->crc = ncf_crc32_update_(w->crc, p, n);
    if (fwrite(p, 1, n, w->f) != n) w->ok = 0;
}

static inline void ncf_cw_u32_(ncf_crc_writer *w, uint32_t v) { ncf_cw_put_(w, &v, 4); }
static inline void ncf_cw_i32_(ncf_crc_writer *w, int32_t v) { ncf_cw_put_(w, &v, 4); }
static inline void ncf_cw_i64_(ncf_crc_writer *w, int64_t v) { ncf_cw_put_(w, &v, 8); }
static inline void ncf_cw_u64_(ncf_crc_writer *w, uint64_t v) { ncf_cw_put_(w, &v, 8); }
static inline void ncf_cw_f32_(ncf_crc_writer *w, float v) { ncf_cw_put_(w, &v, 4); }
static inline void ncf_cw_f64_(ncf_crc_writer *w, double v) { ncf_cw_put_(w, &v, 8); }

#endif
