/* ncf/outfile.h — the one rule by which libncf and the ncf tool write an
 * output file (the model file, the export, synthetic data, recommendation
 * lists), so that a path given by the user is written the way the shell's
 * `>` would, never replaced by something else:
 *
 *   - a missing path or a regular file: written to a temporary file
 *     `.NAME.ncf-tmp.PID` in the same directory, flushed, fsynced and renamed
 *     onto NAME when complete, so a reader sees the old file or the new one,
 *     never a part; on failure the temporary file is removed and NAME is
 *     left as it was. A process killed while writing leaves its temporary
 *     file behind: any `.*.ncf-tmp.*` whose PID no ncf process has can be
 *     removed.
 *   - a symbolic link: followed, link after link (at most 40); the rule
 *     applies to what the last one names, which is replaced (a regular
 *     file) or created (a dangling link) while every link stays.
 *   - a character device or a FIFO (a terminal, /dev/null, a pipe), and
 *     /dev/stdout, /dev/stderr, /dev/fd/N: written directly, in order, with
 *     no temporary file and no rename; a failure can leave part written
 *     (/dev/full fails with "No space left on device"), and a FIFO whose
 *     reader has gone raises SIGPIPE, as any write to it does.
 *   - a directory, a block device or a socket: refused (NCF_ERR_IO).
 *
 * Nothing here creates directories or locks anything. The calls are
 * thread-safe on different ncf_outfile objects. */
#ifndef NCF_OUTFILE_H
#define NCF_OUTFILE_H

#include <stdio.h>

#include "ncf/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ncf_outfile ncf_outfile;

/* Opens path for writing by the rule above. NCF_OK and *out, or NCF_ERR_IO
 * (NCF_ERR_NOMEM) with a message naming path and the reason; *out is then
 * NULL. Opening a FIFO waits for a reader, as the shell does. */
ncf_status ncf_outfile_open(const char *path, ncf_outfile **out, ncf_err *err);

/* The stream to write to; borrowed, valid until ncf_outfile_close. */
FILE *ncf_outfile_stream(ncf_outfile *o);

/* Finishes and frees o (NULL-safe: NCF_OK). With ok non-zero: flushes,
 * and for a regular file fsyncs and renames it into place; any write error
 * of the stream so far, or of these steps, gives NCF_ERR_IO with
 * "PATH: write failed: reason" (the temporary file removed). With ok zero
 * (the caller gave up): removes the temporary file, returns NCF_ERR_IO
 * and leaves err alone. */
ncf_status ncf_outfile_close(ncf_outfile *o, int ok, ncf_err *err);

#ifdef __cplusplus
}
#endif
#endif
