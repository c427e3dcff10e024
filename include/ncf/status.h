/* ncf/status.h — status codes and the caller-owned error buffer used by every
 * fallible libncf call.
 *
 * Every fallible function returns an ncf_status (NCF_OK == 0, failures < 0)
 * and, when the caller passes a non-NULL ncf_err, writes a one-line message
 * there naming what failed and where (file, line, field). The library never
 * prints and never exits; the tool decides what to do with the message. */
#ifndef NCF_STATUS_H
#define NCF_STATUS_H

#ifdef __cplusplus
extern "C" {
#endif

typedef enum ncf_status {
    NCF_OK = 0,
    NCF_ERR_NOMEM = -1,     /* an allocation failed */
    NCF_ERR_IO = -2,        /* a file could not be opened, read or written */
    NCF_ERR_FORMAT = -3,    /* malformed input: a data line or a model file */
    NCF_ERR_VERSION = -4,   /* a model file from a newer ncf */
    NCF_ERR_ARG = -5,       /* a nonsensical argument or configuration */
    NCF_ERR_NUMERIC = -6,   /* NaN or infinity during training */
    NCF_ERR_NOT_FOUND = -7, /* an unknown user or item id */
    NCF_ERR_EMPTY = -8,     /* a dataset with nothing to train or evaluate on */
    NCF_ERR_INTERRUPTED = -9 /* training stopped on request (ncf_trainer_interrupt) */
} ncf_status;

#define NCF_ERR_LEN 512

/* Caller-owned error buffer; msg is always NUL-terminated. */
typedef struct ncf_err {
    char msg[NCF_ERR_LEN];
} ncf_err;

/* A static, human-readable name for a status ("out of memory", ...). */
const char *ncf_status_str(ncf_status status);

#ifdef __cplusplus
}
#endif
#endif
