/* fuzz_checkpoint.c — libFuzzer harness for the checkpoint loader
 * (ncf_checkpoint_load; src/train/checkpoint.c).
 *
 * The input is a checkpoint file. Both checksums are fixed up before it is
 * loaded, so that mutations reach the validation behind them: the embedded
 * model file's CRC (the model is found by its magic "NCFMODEL", its length
 * being the u64 before it) and then the checkpoint's own, its last 4
 * bytes. A loaded checkpoint must answer its accessors. */
#include "fuzz_util.h"
#include "ncf/model.h"
#include "ncf/train.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > (1u << 20)) return 0;
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    size_t at = 8;
    while (at + 8 <= size && memcmp(buf + at, "NCFMODEL", 8) != 0) at++;
    if (at + 8 <= size) {
        uint64_t len;
        memcpy(&len, buf + at - 8, 8);
        if (size >= 4 && len <= size - 4 - at) fuzz_fix_crc(buf + at, (size_t)len);
    }
    fuzz_fix_crc(buf, size);
    char path[512];
    fuzz_path(path, sizeof path, "run.ckpt");
    fuzz_write(path, buf, size);
    free(buf);
    ncf_err err = {{0}};
    ncf_checkpoint *ck = NULL;
    ncf_status st = ncf_checkpoint_load(path, &ck, &err);
    if (st != NCF_OK) {
        if (!err.msg[0] || ck) abort(); /* every refusal says why, and returns nothing */
        return 0;
    }
    const ncf_train_config *c = ncf_checkpoint_config(ck);
    const ncf_model *m = ncf_checkpoint_model(ck);
    const char *note = ncf_checkpoint_note(ck);
    if (!c || !m || !note || ncf_checkpoint_epochs_done(ck) < 0 || ncf_checkpoint_steps_done(ck) < 0) abort();
    ncf_checkpoint_free(ck);
    return 0;
}
