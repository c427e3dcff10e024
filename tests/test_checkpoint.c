/* test_checkpoint.c — the trainer object and its checkpoints: a run
 * interrupted within an epoch (and between epochs), saved, freed, loaded and
 * resumed, on the same or another thread count, ends with the model bytes
 * of a run never stopped, for NeuMF (dense and lazy rows, and dense rows with
 * betas whose steps are soon stationary), MF with BPR and a run with early
 * stopping on validation; corrupt, truncated, other-version
 * and other-data checkpoints, and result-changing options, are refused. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "ncf/ncf.h"
#include "testutil.h"

static ncf_dataset *load_synth(int validation)
{
    ncf_synth_options o;
    ncf_synth_options_default(&o);
    o.n_users = 120;
    o.n_items = 150;
    o.n_interactions = 3000;
    o.seed = 5;
    ncf_err err = {{0}};
    const char *p = tu_path("ck-synth.tsv");
    if (!tu_exists(p)) assert_int_equal(ncf_synth_write(&o, p, &err), NCF_OK);
    ncf_load_options lo;
    ncf_load_options_default(&lo);
    lo.validation = validation;
    ncf_dataset *ds = NULL;
    assert_int_equal(ncf_dataset_load(p, &lo, &ds, &err), NCF_OK);
    return ds;
}

typedef struct variant {
    const char *name;
    ncf_model_type type;
    ncf_adam_mode rows;
    ncf_loss loss;
    int early_stop;
    float beta1, beta2; /* 0: the defaults */
} variant;

static const variant VARIANTS[] = {
    {"neumf dense", NCF_MODEL_NEUMF, NCF_ADAM_DENSE, NCF_LOSS_BCE, 0, 0.0f, 0.0f},
    {"neumf lazy", NCF_MODEL_NEUMF, NCF_ADAM_LAZY, NCF_LOSS_BCE, 0, 0.0f, 0.0f},
    {"mf bpr", NCF_MODEL_MF, NCF_ADAM_DENSE, NCF_LOSS_BPR, 0, 0.0f, 0.0f},
    {"neumf early stop", NCF_MODEL_NEUMF, NCF_ADAM_DENSE, NCF_LOSS_BCE, 2, 0.0f, 0.0f},
    /* Adam's steps stationary from step 152 on (about 225 steps an epoch):
     * interrupted before it and after, the catch-ups from the window's
     * stationary plans */
    {"neumf dense, stationary", NCF_MODEL_NEUMF, NCF_ADAM_DENSE, NCF_LOSS_BCE, 0, 0.5f, 0.9f},
};

static ncf_model *new_model(const variant *v, const ncf_dataset *ds)
{
    int32_t layers[3] = {16, 8, 4};
    ncf_model_config mc;
    ncf_err err = {{0}};
    assert_int_equal(ncf_model_config_preset(NCF_PRESET_PAPER, v->type, 4, layers, 3, &mc, &err), NCF_OK);
    mc.n_users = ds->n_users;
    mc.n_items = ds->n_items;
    ncf_model *m = NULL;
    assert_int_equal(ncf_model_create(&mc, 3, &m, &err), NCF_OK);
    return m;
}

static ncf_train_config config_for(const variant *v, int threads)
{
    ncf_train_config tc;
    ncf_train_config_default(&tc);
    tc.epochs = 6;
    tc.batch = 64;
    tc.adam_mode = v->rows;
    tc.loss = v->loss;
    tc.threads = threads;
    tc.seed = 9;
    tc.early_stop = v->early_stop;
    if (v->beta1 > 0.0f) tc.beta1 = v->beta1, tc.beta2 = v->beta2;
    return tc;
}

/* The saved model file's bytes. */
static char *model_bytes(const ncf_model *m, size_t *n)
{
    ncf_err err = {{0}};
    const char *p = tu_path("ck-model.ncf");
    assert_int_equal(ncf_model_save(m, p, &err), NCF_OK);
    char *b = tu_read(p, n);
    assert_non_null(b);
    return b;
}

/* Interrupts from on_progress once the epoch's fraction passes `at`, in
 * epoch `in_epoch`. */
typedef struct stopper {
    ncf_trainer *t;
    int in_epoch;
    double at;
    int fired;
} stopper;

static void stop_at(int epoch, double fraction, void *user)
{
    stopper *s = user;
    if (s->t && !s->fired && epoch == s->in_epoch && fraction >= s->at) {
        ncf_trainer_interrupt(s->t);
        s->fired = 1;
    }
}

extern unsigned ncf_rows_far_for_tests_; /* train/rows.h */
static unsigned g_far_first, g_far_after; /* the look-ahead's far limit before and after the interrupt
                                             (0: as built; 1: none) */

/* Runs v to the end through the trainer, interrupted once in epoch
 * `in_epoch` at `at` (at 0: just before the epoch starts) on `threads`,
 * checkpointed, freed and resumed on `threads2`; returns the final model's
 * bytes. */
static char *interrupted_run(const variant *v, const ncf_dataset *ds, int threads, int threads2, int in_epoch,
                             double at, size_t *n)
{
    ncf_err err = {{0}};
    ncf_model *m = new_model(v, ds);
    ncf_train_config tc = config_for(v, threads);
    stopper s = {NULL, in_epoch, at, 0};
    tc.on_progress = stop_at;
    tc.user = &s;
    ncf_trainer *t = NULL;
    ncf_rows_far_for_tests_ = g_far_first;
    assert_int_equal(ncf_trainer_create(m, ds, &tc, &t, &err), NCF_OK);
    s.t = t;
    ncf_status st = NCF_OK;
    while (!ncf_trainer_done(t)) {
        if (at == 0.0 && ncf_trainer_epochs_done(t) == in_epoch - 1 && !s.fired) {
            ncf_trainer_interrupt(t);
            s.fired = 1;
        }
        st = ncf_trainer_epoch(t, NULL, &err);
        if (st == NCF_ERR_INTERRUPTED) break;
        assert_int_equal(st, NCF_OK);
    }
    assert_int_equal(st, NCF_ERR_INTERRUPTED);
    const char *ck_path = tu_path("ck.ckpt");
    char ck_copy[1024];
    snprintf(ck_copy, sizeof ck_copy, "%s", ck_path);
    assert_int_equal(ncf_trainer_save_checkpoint(t, ck_copy, "note text", &err), NCF_OK);
    ncf_trainer_free(t);
    ncf_model_free(m);
    ncf_rows_far_for_tests_ = g_far_after;

    ncf_checkpoint *ck = NULL;
    assert_int_equal(ncf_checkpoint_load(ck_copy, &ck, &err), NCF_OK);
    assert_string_equal(ncf_checkpoint_note(ck), "note text");
    assert_int_equal(ncf_checkpoint_epochs_done(ck), in_epoch - 1);
    if (at == 0.0) assert_int_equal(ncf_checkpoint_steps_done(ck), 0);
    else assert_true(ncf_checkpoint_steps_done(ck) > 0);
    ncf_train_config tc2 = config_for(v, threads2);
    ncf_model *m2 = NULL;
    assert_int_equal(ncf_trainer_resume(ck, ds, &tc2, &m2, &t, &err), NCF_OK);
    ncf_checkpoint_free(ck);
    while (!ncf_trainer_done(t)) assert_int_equal(ncf_trainer_epoch(t, NULL, &err), NCF_OK);
    ncf_train_result r;
    assert_int_equal(ncf_trainer_finish(t, &r, &err), NCF_OK);
    ncf_trainer_free(t);
    char *b = model_bytes(m2, n);
    ncf_model_free(m2);
    return b;
}

static void test_resume_same_bytes(void **state)
{
    ncf_dataset *plain = load_synth(0), *valid = load_synth(1);
    for (size_t k = 0; k < sizeof VARIANTS / sizeof *VARIANTS; k++) {
        const variant *v = &VARIANTS[k];
        const ncf_dataset *ds = v->early_stop ? valid : plain;
        ncf_err err = {{0}};
        ncf_model *m = new_model(v, ds);
        ncf_train_config tc = config_for(v, 2);
        ncf_train_result r;
        assert_int_equal(ncf_train(m, ds, &tc, &r, &err), NCF_OK);
        size_t n0;
        char *want = model_bytes(m, &n0);
        ncf_model_free(m);
        /* within epochs 1 and 3, between epochs 2 and 3; 1 -> 2, 2 -> 1, 2 -> 2 threads */
        const struct { int threads, threads2, epoch; double at; } cases[] = {
            {1, 2, 1, 0.3}, {2, 1, 3, 0.6}, {2, 2, 3, 0.0}, {1, 1, 2, 0.9}};
        for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
            if (cases[c].epoch > r.epochs_run) continue; /* stopped early before it */
            size_t n;
            char *got = interrupted_run(v, ds, cases[c].threads, cases[c].threads2, cases[c].epoch, cases[c].at, &n);
            fprintf(stderr, "%s: interrupted in epoch %d at %.1f on %d thread(s), resumed on %d: %s\n", v->name,
                    cases[c].epoch, cases[c].at, cases[c].threads, cases[c].threads2,
                    n == n0 && memcmp(got, want, n) == 0 ? "same bytes" : "DIFFERENT");
            assert_int_equal(n, n0);
            assert_memory_equal(got, want, n);
            free(got);
        }
        if (v->early_stop) fprintf(stderr, "  (early stopping: %d epochs run, selected %d)\n", r.epochs_run, r.selected_epoch);
        free(want);
    }
    ncf_dataset_free(plain);
    ncf_dataset_free(valid);
}

/* Dense Adam's look-ahead leaves rows caught up past the stop, or not
 * (a checkpoint of a build without it, here a far limit of 1): resumed
 * with the other, the run must still give an uninterrupted run's bytes. */
static void test_resume_across_look_ahead(void **state)
{
    ncf_dataset *ds = load_synth(0);
    const variant *vs[2] = {&VARIANTS[0], &VARIANTS[2]}; /* NeuMF BCE, MF BPR */
    for (int k = 0; k < 2; k++) {
        ncf_err err = {{0}};
        ncf_model *m = new_model(vs[k], ds);
        ncf_train_config tc = config_for(vs[k], 2);
        ncf_train_result r;
        assert_int_equal(ncf_train(m, ds, &tc, &r, &err), NCF_OK);
        size_t n0, n1, n2;
        char *want = model_bytes(m, &n0);
        ncf_model_free(m);
        g_far_first = 1; /* none before the stop, the look-ahead after */
        char *a = interrupted_run(vs[k], ds, 2, 1, 2, 0.5, &n1);
        g_far_first = 3; /* a short one before, the full one after */
        char *b = interrupted_run(vs[k], ds, 1, 2, 3, 0.4, &n2);
        g_far_first = 0, g_far_after = 1; /* the look-ahead before, none after */
        size_t n3;
        char *c = interrupted_run(vs[k], ds, 2, 2, 1, 0.7, &n3);
        g_far_first = g_far_after = 0;
        ncf_rows_far_for_tests_ = 0;
        fprintf(stderr, "%s: resumed across look-ahead limits: %s, %s, %s\n", vs[k]->name,
                n1 == n0 && memcmp(a, want, n0) == 0 ? "same bytes" : "DIFFERENT",
                n2 == n0 && memcmp(b, want, n0) == 0 ? "same bytes" : "DIFFERENT",
                n3 == n0 && memcmp(c, want, n0) == 0 ? "same bytes" : "DIFFERENT");
        assert_int_equal(n3, n0);
        assert_memory_equal(c, want, n0);
        free(c);
        assert_int_equal(n1, n0);
        assert_memory_equal(a, want, n0);
        assert_int_equal(n2, n0);
        assert_memory_equal(b, want, n0);
        free(a);
        free(b);
        free(want);
    }
    ncf_dataset_free(ds);
}

/* A checkpoint after epoch 2 of a dense NeuMF run, at path. */
static void write_checkpoint(const ncf_dataset *ds, const char *path)
{
    ncf_err err = {{0}};
    ncf_model *m = new_model(&VARIANTS[0], ds);
    ncf_train_config tc = config_for(&VARIANTS[0], 2);
    ncf_trainer *t = NULL;
    assert_int_equal(ncf_trainer_create(m, ds, &tc, &t, &err), NCF_OK);
    assert_int_equal(ncf_trainer_epoch(t, NULL, &err), NCF_OK);
    assert_int_equal(ncf_trainer_epoch(t, NULL, &err), NCF_OK);
    assert_int_equal(ncf_trainer_save_checkpoint(t, path, NULL, &err), NCF_OK);
    ncf_trainer_free(t);
    ncf_model_free(m);
}

static ncf_status try_load(const char *path, ncf_err *err)
{
    ncf_checkpoint *ck = NULL;
    ncf_status st = ncf_checkpoint_load(path, &ck, err);
    ncf_checkpoint_free(ck);
    return st;
}

static void test_bad_checkpoints_refused(void **state)
{
    ncf_dataset *ds = load_synth(0);
    char good[1024], bad[1024];
    snprintf(good, sizeof good, "%s", tu_path("good.ckpt"));
    snprintf(bad, sizeof bad, "%s", tu_path("bad.ckpt"));
    write_checkpoint(ds, good);
    size_t n;
    char *b = tu_read(good, &n);
    assert_non_null(b);
    ncf_err err = {{0}};
    /* a flipped byte anywhere: the CRC */
    for (size_t at = 9; at < n; at += n / 7) {
        b[at] ^= 0x20;
        FILE *f = fopen(bad, "wb");
        fwrite(b, 1, n, f);
        fclose(f);
        b[at] ^= 0x20;
        assert_int_equal(try_load(bad, &err), NCF_ERR_FORMAT);
        assert_non_null(strstr(err.msg, "CRC"));
    }
    /* truncated */
    FILE *f = fopen(bad, "wb");
    fwrite(b, 1, n / 2, f);
    fclose(f);
    assert_int_not_equal(try_load(bad, &err), NCF_OK);
    fprintf(stderr, "truncated: %s\n", err.msg);
    /* another version (with its CRC) */
    b[8] = 99;
    uint32_t crc = ncf_crc32_update_(0, b, n - 4);
    memcpy(b + n - 4, &crc, 4);
    f = fopen(bad, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    assert_int_equal(try_load(bad, &err), NCF_ERR_VERSION);
    fprintf(stderr, "other version: %s\n", err.msg);
    /* not a checkpoint: a model file */
    ncf_model *m = new_model(&VARIANTS[0], ds);
    assert_int_equal(ncf_model_save(m, bad, &err), NCF_OK);
    ncf_model_free(m);
    assert_int_equal(try_load(bad, &err), NCF_ERR_FORMAT);
    fprintf(stderr, "a model file: %s\n", err.msg);
    free(b);

    /* other data, and options that change the result, are refused; threads and more epochs are not */
    ncf_dataset *other = load_synth(1);
    ncf_checkpoint *ck = NULL;
    assert_int_equal(ncf_checkpoint_load(good, &ck, &err), NCF_OK);
    ncf_model *m2 = NULL;
    ncf_trainer *t = NULL;
    ncf_train_config tc = config_for(&VARIANTS[0], 1);
    assert_int_equal(ncf_trainer_resume(ck, other, &tc, &m2, &t, &err), NCF_ERR_ARG);
    fprintf(stderr, "other data: %s\n", err.msg);
    tc.lr = 0.002f;
    assert_int_equal(ncf_trainer_resume(ck, ds, &tc, &m2, &t, &err), NCF_ERR_ARG);
    assert_non_null(strstr(err.msg, "--lr"));
    tc = config_for(&VARIANTS[0], 1);
    tc.adam_mode = NCF_ADAM_LAZY;
    assert_int_equal(ncf_trainer_resume(ck, ds, &tc, &m2, &t, &err), NCF_ERR_ARG);
    tc = config_for(&VARIANTS[0], 1);
    tc.epochs = 1; /* fewer than done */
    assert_int_equal(ncf_trainer_resume(ck, ds, &tc, &m2, &t, &err), NCF_ERR_ARG);
    assert_null(t);
    assert_null(m2);
    tc = config_for(&VARIANTS[0], 1);
    tc.epochs = 8;
    assert_int_equal(ncf_trainer_resume(ck, ds, &tc, &m2, &t, &err), NCF_OK);
    assert_int_equal(ncf_trainer_epochs_done(t), 2);
    assert_int_equal(ncf_trainer_epoch(t, NULL, &err), NCF_OK);
    ncf_trainer_free(t);
    ncf_model_free(m2);
    ncf_checkpoint_free(ck);
    ncf_dataset_free(other);
    ncf_dataset_free(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_resume_same_bytes), cmocka_unit_test(test_resume_across_look_ahead),
        cmocka_unit_test(test_bad_checkpoints_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
