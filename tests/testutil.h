/* testutil.h — helpers shared by the cmocka tests: scratch files and
 * directories, running the ./ncf tool, locating ../shared/data. */
#ifndef NCF_TESTUTIL_H
#define NCF_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh scratch directory for this test process (removed at exit). */
const char *tu_dir(void);
/* Path inside tu_dir, in one of 8 rotating static buffers: valid for the
 * next 7 calls only (tu_run makes one); copy it to keep it longer. */
const char *tu_path(const char *name);
/* Writes text to tu_path(name) and returns that path. */
const char *tu_write(const char *name, const char *text);
/* 1 when the file exists. */
int tu_exists(const char *path);
/* Reads a whole file (malloc'd, NUL-terminated), NULL if missing. */
char *tu_read(const char *path, size_t *len);
/* Runs a shell command; returns its exit status, output (stdout + stderr)
 * in *out (malloc'd) when out is non-NULL. */
int tu_run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Path of a shared data file relative to the repository root, or NULL when
 * absent (the caller skips, saying so). */
const char *tu_shared(const char *rel);
/* 1 when NCF_QUICK is set (sanitizer runs skip the slow tests). */
int tu_quick(void);

#endif
