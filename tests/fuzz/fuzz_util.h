/* fuzz_util.h — what the libFuzzer harnesses in tests/fuzz share: a private
 * scratch directory (in /dev/shm when there is one, so that writing the
 * input as files costs no disk), writing bytes to a file there, and the
 * CRC-32 fix-up that lets a mutated model file or checkpoint get past its
 * checksum to the validation behind it. Header-only; harnesses are single
 * files linked with libncf. */
#ifndef NCF_FUZZ_UTIL_H
#define NCF_FUZZ_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/core.h"

/* The harness's scratch directory, created on first use and removed at
 * exit; aborts when it cannot be created (no fuzzing is possible then). */
static char fuzz_dir_[256];

static inline void fuzz_dir_remove_(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fuzz_dir_);
    if (system(cmd) != 0) { /* best effort */
    }
}

static inline const char *fuzz_dir(void)
{
    if (fuzz_dir_[0]) return fuzz_dir_;
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(fuzz_dir_, sizeof fuzz_dir_, "%s/ncf-fuzz.XXXXXX", base);
    if (!mkdtemp(fuzz_dir_)) {
        perror("fuzz: mkdtemp");
        abort();
    }
    atexit(fuzz_dir_remove_);
    return fuzz_dir_;
}

/* Fills path (n bytes) with fuzz_dir()/name. */
static inline void fuzz_path(char *path, size_t n, const char *name) { snprintf(path, n, "%s/%s", fuzz_dir(), name); }

/* Writes data[0..n) to path, replacing it; aborts on failure. */
static inline void fuzz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Sets the last 4 bytes of buf[0..n) to the little-endian CRC-32 of the
 * bytes before them, as the model file and checkpoint writers do. */
static inline void fuzz_fix_crc(uint8_t *buf, size_t n)
{
    if (n < 4) return;
    uint32_t crc = ncf_crc32_update_(0, buf, n - 4);
    for (int b = 0; b < 4; b++) buf[n - 4 + b] = (uint8_t)(crc >> (8 * b));
}

#endif
