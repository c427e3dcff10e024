/* test_cli.c — the ncf tool as users and scripts drive it: help texts, usage
 * errors (exit 2), runtime errors naming file and line (exit 1, no output
 * file), the --json contract of train, eval equal to the final epoch,
 * recommend in raw ids without training items (and under the business
 * rules), similar items against a brute-force cosine, split and synth, where
 * --out may point (FIFOs, devices, symbolic links, directories), a full
 * disk, the layout line and non-text input. */
#define _XOPEN_SOURCE 700 /* mknod, S_IFCHR (test_out_full_disk) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "core/core.h"
#include "ncf/ncf.h"
#include "testutil.h"

/* The tool under test: $NCF_BIN (set by make test), else ./ncf. */
static char NCF[512] = "./ncf";

static void expect_run(int want, const char *needle, const char *cmd)
{
    char *out = NULL;
    int rc = tu_run(&out, "%s %s", NCF, cmd);
    if (rc != want || (needle && (!out || !strstr(out, needle))))
        fprintf(stderr, "command: %s\nexit %d (want %d), output:\n%s\n(wanted '%s')\n", cmd, rc, want, out ? out : "",
                needle ? needle : "");
    assert_int_equal(rc, want);
    if (needle) assert_non_null(strstr(out, needle));
    free(out);
}

static void test_help(void **state)
{
    expect_run(0, "Commands:", "--help");
    expect_run(0, "--factors", "train --help");
    expect_run(0, "--model MODEL", "eval --help");
    expect_run(0, "--user RAW_ID", "recommend --help");
    expect_run(0, "Leave-one-out", "split --help");
    expect_run(0, "power-law", "synth --help");
    expect_run(2, "Usage", "");
}

static void test_usage_errors(void **state)
{
    expect_run(2, "unknown command", "frobnicate");
    expect_run(2, "unknown option '--bogus'", "train --data x --bogus 1");
    expect_run(2, "--epochs needs an integer", "train --data x --epochs -1");
    expect_run(2, "--model must be one of gmf|mlp|neumf", "train --data x --model svd");
    expect_run(2, "--lr needs a number", "train --data x --lr fast");
    expect_run(2, "--layers needs", "train --data x --layers 64,,8");
    expect_run(2, "must be even", "train --data x --model mlp --layers 63,8");
    expect_run(2, "--data is required", "train --epochs 1");
    expect_run(2, "--epochs given twice", "train --data x --epochs 1 --epochs 2");
    expect_run(2, "-k needs an integer", "recommend --model m --user u -k 0");
    expect_run(2, "needs INPUT", "split --out p");
    expect_run(2, "pre-training needs --model neumf", "train --data x --model gmf --pretrain-gmf a --pretrain-mlp b");
    expect_run(2, "pre-training needs --model neumf", "train --data x --pretrain-gmf a");
    expect_run(2, "--alpha applies only", "train --data x --alpha 0.3");
}

static void test_bad_input(void **state)
{
    char bad[512]; /* a copy: tu_path's buffers rotate */
    snprintf(bad, sizeof bad, "%s", tu_write("bad.dat", "1::10::5::100\n1::11::5::101\n2::10\n"));
    char cmd[1024];
    const char *out = tu_path("never.ncf");
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 1 --out %s", bad, out);
    expect_run(1, "bad.dat:3: expected at least 4 fields", cmd);
    assert_false(tu_exists(out));
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 1", tu_path("missing.dat"));
    expect_run(1, "missing.dat: no such file", cmd);
    const char *empty = tu_write("empty.dat", "");
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 1", empty);
    expect_run(1, "no interactions", cmd);
    snprintf(cmd, sizeof cmd, "split %s --out %s", bad, tu_path("badsplit"));
    expect_run(1, "bad.dat:3", cmd);
    assert_false(tu_exists(tu_path("badsplit.train.rating")));
    const char *notmodel = tu_write("junk.ncf", "this is not a model, just some text long enough to have a header....."
                                               "........................................................................");
    snprintf(cmd, sizeof cmd, "recommend --model %s --user 1", notmodel);
    expect_run(1, "bad magic", cmd);
    snprintf(cmd, sizeof cmd, "eval --model %s --data %s", notmodel, bad);
    expect_run(1, "not an ncf model file", cmd);
}

static double json_num(const char *line, const char *key)
{
    char pat[128];
    int n = snprintf(pat, sizeof pat, "\"%s\": ", key);
    assert_true(n > 0 && (size_t)n < sizeof pat);
    const char *p = strstr(line, pat);
    assert_non_null(p);
    return strtod(p + strlen(pat), NULL);
}

static void test_train_eval_recommend(void **state)
{
    char cmd[2048];
    char data[512], model[512]; /* copies: tu_path's buffers rotate */
    snprintf(data, sizeof data, "%s", tu_path("cli.tsv"));
    snprintf(model, sizeof model, "%s", tu_path("cli.ncf"));
    snprintf(cmd, sizeof cmd, "synth --out %s --users 300 --items 250 --interactions 9000 --seed 3", data);
    expect_run(0, NULL, cmd);
    char *out = NULL;
    int rc = tu_run(&out,
                    "%s train --data %s --model neumf --factors 8 --layers 32,16,8 --epochs 3 --batch 128 --lr 0.002 "
                        "--neg 4 --optimizer adam --threads 2 --seed 4 --topk 10 --out %s --json 2>/dev/null",
                    NCF, data, model);
    assert_int_equal(rc, 0);
    /* stdout: 3 epoch lines then the final object, nothing else */
    int lines = 0;
    char *save = NULL, *last_epoch = NULL, *final = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        assert_true(l[0] == '{' && l[strlen(l) - 1] == '}');
        lines++;
        if (lines <= 3) {
            const char *keys[] = {"epoch", "loss", "hr", "ndcg", "train_seconds", "eval_seconds", "samples_per_second"};
            for (int k = 0; k < 7; k++) json_num(l, keys[k]);
            assert_int_equal((int)json_num(l, "epoch"), lines);
            assert_true(json_num(l, "samples_per_second") > 0);
            last_epoch = l;
        } else {
            final = l;
        }
    }
    assert_int_equal(lines, 4);
    double final_hr = json_num(final, "final_hr"), final_ndcg = json_num(final, "final_ndcg");
    json_num(final, "best_epoch");
    json_num(final, "best_hr");
    json_num(final, "best_ndcg");
    assert_true(final_hr == json_num(last_epoch, "hr"));
    free(out);
    /* eval of the saved model equals the final epoch */
    rc = tu_run(&out, "%s eval --model %s --data %s --json", NCF, model, data);
    assert_int_equal(rc, 0);
    assert_true(fabs(json_num(out, "hr") - final_hr) < 1e-9);
    assert_true(fabs(json_num(out, "ndcg") - final_ndcg) < 1e-9);
    free(out);
    /* recommend: raw ids, k lines, none from the user's training items */
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 5", NCF, model);
    assert_int_equal(rc, 0);
    int n = 0;
    char *sv = NULL;
    ncf_interactions *x = NULL;
    ncf_err err;
    assert_int_equal(ncf_interactions_read(data, NULL, &x, &err), NCF_OK);
    for (char *l = strtok_r(out, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
        int rank;
        char item[64];
        double score;
        assert_int_equal(sscanf(l, "%d\t%63s\t%lf", &rank, item, &score), 3);
        assert_int_equal(rank, ++n);
        assert_true(item[0] == 'i');
        /* item must not be a training interaction of u7: only the held-out one may appear */
        int seen = 0, held = 0;
        int64_t latest = -1;
        for (int64_t k = 0; k < x->n; k++)
            if (strcmp(ncf_idmap_raw(x->users, x->user[k]), "u7") == 0 && x->time[k] > latest) latest = x->time[k];
        for (int64_t k = 0; k < x->n; k++)
            if (strcmp(ncf_idmap_raw(x->users, x->user[k]), "u7") == 0 &&
                strcmp(ncf_idmap_raw(x->items, x->item[k]), item) == 0) {
                if (x->time[k] == latest) held = 1;
                else seen = 1;
            }
        assert_false(seen);
        (void)held;
    }
    assert_int_equal(n, 5);
    ncf_interactions_free(x);
    free(out);
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 3 --json", NCF, model);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "{\"user\": \"u7\", \"items\": [{\"item\": \"i"));
    free(out);
    snprintf(cmd, sizeof cmd, "recommend --model %s --user nobody", model);
    expect_run(1, "user 'nobody' is not in the model", cmd);
    /* --all: every user's top k as TSV, the same as one user at a time */
    char all[512];
    snprintf(all, sizeof all, "%s", tu_path("all.tsv"));
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 3 --out %s --threads 2", model, all);
    expect_run(0, NULL, cmd);
    char *tsv = tu_read(all, NULL);
    assert_non_null(tsv);
    int lines_all = 0, u7 = 0;
    char first_u7[64] = "";
    for (char *l = strtok_r(tsv, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
        char user[64], item[64];
        double score;
        int rank;
        assert_int_equal(sscanf(l, "%63[^\t]\t%63[^\t]\t%lf\t%d", user, item, &score, &rank), 4);
        assert_true(rank >= 1 && rank <= 3);
        if (strcmp(user, "u7") == 0 && rank == 1) snprintf(first_u7, sizeof first_u7, "%s", item);
        u7 += strcmp(user, "u7") == 0;
        lines_all++;
    }
    free(tsv);
    assert_int_equal(lines_all, 300 * 3);
    assert_int_equal(u7, 3);
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 1", NCF, model);
    assert_int_equal(rc, 0);
    char one[64];
    assert_int_equal(sscanf(out, "%*d\t%63s", one), 1);
    assert_string_equal(one, first_u7);
    free(out);
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 3", model);
    expect_run(2, "--all needs --out FILE", cmd);
    /* a model whose output bias is NaN (CRC made right) is refused, never
     * printed as a bare nan in JSON */
    size_t nb;
    char *b = tu_read(model, &nb);
    assert_non_null(b);
    float nan_value = NAN;
    memcpy(b + nb - 8, &nan_value, 4); /* output.bias, the last weight */
    uint32_t crc = ncf_crc32_update_(0, b, nb - 4);
    memcpy(b + nb - 4, &crc, 4);
    char nan_model[512];
    snprintf(nan_model, sizeof nan_model, "%s", tu_path("nan.ncf"));
    FILE *f = fopen(nan_model, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, nb, f), nb);
    assert_int_equal(fclose(f), 0);
    free(b);
    snprintf(cmd, sizeof cmd, "recommend --model %s --user u7 --json", nan_model);
    expect_run(1, "non-finite weight output.bias = nan", cmd);
    /* finite weights whose scores overflow: the last hidden layer's biases
     * and the output weights on it 1e30 (this model: F = 8, last hidden
     * width 8, so the file ends in ... b_L[8], w_out[16], b_out, CRC): the
     * JSON score is null, not inf */
    b = tu_read(model, &nb);
    assert_non_null(b);
    const float huge = 1e30f;
    for (int k = 0; k < 8; k++) {
        memcpy(b + nb - 8 - 64 - 32 + 4 * (size_t)k, &huge, 4);
        memcpy(b + nb - 8 - 32 + 4 * (size_t)k, &huge, 4);
    }
    crc = ncf_crc32_update_(0, b, nb - 4);
    memcpy(b + nb - 4, &crc, 4);
    f = fopen(nan_model, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, nb, f), nb);
    assert_int_equal(fclose(f), 0);
    free(b);
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 2 --json", NCF, nan_model);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "\"score\": null}, {\"item\": "));
    assert_null(strstr(out, "inf"));
    free(out);
}

static void test_split_and_summary(void **state)
{
    char cmd[2048];
    const char *data = tu_write("sp.csv", "userId,movieId,rating,timestamp\n1,10,5,100\n1,11,2,200\n1,12,4,300\n"
                                          "2,10,4,100\n2,13,5,50\n3,11,5,10\n");
    const char *prefix = tu_path("sp");
    snprintf(cmd, sizeof cmd, "split %s --out %s --negatives 2 --seed 1 --min-rating 4", data, prefix);
    expect_run(0, "3 users", cmd);
    char path[600];
    snprintf(path, sizeof path, "%s.test.rating", prefix);
    char *t = tu_read(path, NULL);
    assert_non_null(t);
    /* user 1 keeps 10 and 12 (11 is rated 2): 12 is held out; user 2: 10 (latest); user 3 has one */
    assert_string_equal(t, "0\t2\t4\t300\n1\t0\t4\t100\n");
    free(t);
    snprintf(cmd, sizeof cmd, "train --data %s --model neumf --epochs 1 --summary --quiet", prefix);
    expect_run(0, "mlp.user_embedding", cmd);
}

/* D1, the hardening issue's reproducer: a training line naming a user above
 * every id of the test file (heap corruption, exit 134, before the fix). */
static void test_ncf_train_names_larger_ids(void **state)
{
    char cmd[2048], data[512], prefix[512];
    snprintf(data, sizeof data, "%s", tu_path("d1.tsv"));
    snprintf(prefix, sizeof prefix, "%s", tu_path("d1"));
    snprintf(cmd, sizeof cmd, "synth --out %s --users 12 --items 10 --interactions 60 --clusters 2", data);
    expect_run(0, NULL, cmd);
    snprintf(cmd, sizeof cmd, "split %s --out %s --negatives 3", data, prefix);
    expect_run(0, NULL, cmd);
    char path[600];
    snprintf(path, sizeof path, "%s.train.rating", prefix);
    FILE *f = fopen(path, "a");
    assert_non_null(f);
    fputs("13\t1\t1\t1\n", f);
    fclose(f);
    /* the user map has 12 ids: the data's 14 users are refused, with the reason */
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 1", prefix);
    expect_run(1, "d1.user.map: has 12 ids, the data uses 14", cmd);
    /* with the map extended (or without a map) the extra user is trained */
    snprintf(path, sizeof path, "%s.user.map", prefix);
    f = fopen(path, "a");
    assert_non_null(f);
    fputs("12\tu13\n13\tu14\n", f);
    fclose(f);
    expect_run(0, "14 users", cmd);
    remove(path);
    expect_run(0, "14 users", cmd);
}

/* Writing to a full disk says why and fails; a device given as --out is
 * written, never replaced (as root, the temporary file renamed onto
 * /dev/full used to make it a regular file; on a full disk the message was
 * empty: "ncf synth: "). */
static void test_out_full_disk(void **state)
{
    /* As root, a private node of the same device (1, 7) in the scratch
     * directory: a tool with the old fault (run in a bisection, say) then
     * replaces that node, not the machine's /dev/full. Others cannot
     * replace /dev/full. */
    char full[512] = "/dev/full";
    struct stat sb;
    if (geteuid() == 0 && mknod(tu_path("full"), S_IFCHR | 0666, makedev(1, 7)) == 0)
        snprintf(full, sizeof full, "%s", tu_path("full"));
    if (stat(full, &sb) != 0 || !S_ISCHR(sb.st_mode)) {
        fprintf(stderr, "skipped: no %s character device\n", full);
        skip();
    }
    char cmd[2048], want[600];
    snprintf(cmd, sizeof cmd, "synth --out %s --users 50 --items 400 --interactions 2000", full);
    snprintf(want, sizeof want, "synth: %s: write failed: No space left on device", full);
    expect_run(1, want, cmd);
    assert_int_equal(stat(full, &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
    snprintf(cmd, sizeof cmd, "split %s --out %s", tu_write("fd.tsv", "a\tx\nb\ty\na\ty\n"), tu_path("fd"));
    expect_run(0, NULL, cmd);
    char model[512];
    snprintf(model, sizeof model, "%s", tu_path("fd.ncf"));
    snprintf(cmd, sizeof cmd, "train --data %s --model gmf --epochs 1 --quiet --out %s", tu_path("fd"), model);
    expect_run(0, NULL, cmd);
    snprintf(cmd, sizeof cmd, "export --model %s --format safetensors --out %s --ids %s", model, tu_path("fd.st"), full);
    snprintf(want, sizeof want, "export: %s: write failed: No space left on device", full);
    expect_run(1, want, cmd);
    assert_false(tu_exists(tu_path("fd.st")));
    assert_int_equal(stat(full, &sb), 0);
    assert_true(S_ISCHR(sb.st_mode));
}

/* The layout read is said on stderr (not with train --quiet) and --format
 * forces it; what is not text is refused naming file and line. Before: no
 * layout line, and a NUL byte in the first line made a tab file lists. */
static void test_layout_and_text(void **state)
{
    char cmd[2048], data[512];
    snprintf(data, sizeof data, "%s", tu_write("lt.tsv", "1\t10\t5\t1\n1\t11\t4\t2\n2\t10\t3\t3\n2\t12\t5\t4\n"));
    snprintf(cmd, sizeof cmd, "train --data %s --model gmf --epochs 1", data);
    expect_run(0, "lt.tsv as tab-separated user item rating time (guessed", cmd);
    char *out = NULL;
    int rc = tu_run(&out, "%s train --data %s --model gmf --epochs 1 --quiet", NCF, data);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "reading"));
    free(out);
    /* --json: stdout is only the JSON objects; the layout line is on stderr */
    rc = tu_run(&out, "%s train --data %s --model gmf --epochs 1 --json 2>/dev/null", NCF, data);
    assert_int_equal(rc, 0);
    assert_null(strstr(out, "reading"));
    assert_int_equal(out[0], '{');
    free(out);
    /* the same lines as lists when forced */
    snprintf(cmd, sizeof cmd, "split %s --out %s --format lists", data, tu_path("ltl"));
    expect_run(0, "as whitespace-separated lists: user item item ...", cmd);
    expect_run(0, "2 users, 8 items", cmd);
    /* a NUL byte in the first line */
    const char *nul = tu_path("ltnul.tsv");
    FILE *f = fopen(nul, "wb");
    assert_non_null(f);
    static const char bytes[] = "1\t10\t5\0\t1\n1\t11\t4\t2\n2\t10\t3\t3\n";
    fwrite(bytes, 1, sizeof bytes - 1, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "split %s --out %s", nul, tu_path("ltnul"));
    expect_run(1, "ltnul.tsv:1: a NUL byte (byte 7 of the line)", cmd);
    assert_false(tu_exists(tu_path("ltnul.train.rating")));
}

static void test_full_ranking_validation_mf(void **state)
{
    char cmd[2048];
    char train[512], test[512], data[512], prefix[512], model[512];
    /* Gowalla-style lists: the data file all training, a separate test file */
    snprintf(train, sizeof train, "%s", tu_write("fr.train.txt", "0 1 2 3 4\n1 2 3 5 6\n2 1 4 6 7\n3 0 2 5 7\n0 5\n"));
    snprintf(test, sizeof test, "%s", tu_write("fr.test.txt", "0 6 7\n1 1\n2 0\n3 3 4\n"));
    char *out = NULL;
    int rc = tu_run(&out,
                    "%s train --data %s --test %s --format lists --eval full --topk 2,5 --model mf --factors 4 "
                    "--loss bpr --neg 1 --epochs 2 --batch 4 --json --quiet 2>/dev/null",
                    NCF, train, test);
    assert_int_equal(rc, 0);
    char *save = NULL, *first = strtok_r(out, "\n", &save), *second = strtok_r(NULL, "\n", &save);
    char *final = strtok_r(NULL, "\n", &save);
    assert_non_null(final);
    const char *names[] = {"hr", "recall", "precision", "ndcg", "mrr"};
    for (int q = 0; q < 5; q++)
        for (int k = 2; k <= 5; k += 3) {
            char key[64];
            snprintf(key, sizeof key, "%s@%d", names[q], k);
            double v = json_num(first, key);
            assert_true(v >= 0.0 && v <= 1.0);
            snprintf(key, sizeof key, "best_%s@%d", names[q], k);
            json_num(final, key);
            snprintf(key, sizeof key, "final_%s@%d", names[q], k);
            assert_true(json_num(final, key) == json_num(second, key + 6));
        }
    /* recall@5 >= recall@2, precision@5 <= 5/2 precision@2 */
    assert_true(json_num(second, "recall@5") >= json_num(second, "recall@2"));
    free(out);

    /* split --validation, then early stopping on it */
    snprintf(data, sizeof data, "%s", tu_path("es.tsv"));
    snprintf(prefix, sizeof prefix, "%s", tu_path("es"));
    snprintf(model, sizeof model, "%s", tu_path("es.ncf"));
    snprintf(cmd, sizeof cmd, "synth --out %s --users 200 --items 150 --interactions 6000 --seed 5", data);
    expect_run(0, NULL, cmd);
    snprintf(cmd, sizeof cmd, "split %s --out %s --validation", data, prefix);
    expect_run(0, "valid.rating", cmd);
    snprintf(cmd, sizeof cmd, "%s.valid.negative", prefix);
    assert_true(tu_exists(cmd));
    rc = tu_run(&out,
                "%s train --data %s --model gmf --epochs 30 --lr 0.05 --early-stop 2 --out %s --json --quiet 2>/dev/null",
                NCF, prefix, model);
    assert_int_equal(rc, 0);
    const char *fin = strrchr(out, '{');
    int sel = (int)json_num(fin, "selected_epoch");
    assert_true(sel >= 1 && sel < 30);
    assert_non_null(strstr(fin, "\"stopped_early\": true"));
    double sel_hr = json_num(fin, "selected_hr@10");
    free(out);
    /* the saved model is the selected epoch's */
    rc = tu_run(&out, "%s eval --model %s --data %s --json", NCF, model, prefix);
    assert_int_equal(rc, 0);
    assert_true(fabs(json_num(out, "hr") - sel_hr) < 1e-9);
    free(out);
    /* early stopping without validation cases, and options that contradict */
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 2 --early-stop 2", data);
    expect_run(2, "needs validation cases", cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 2 --momentum 0.9", data);
    expect_run(2, "--momentum applies only to --optimizer sgd", cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 2 --topk 10,x", data);
    expect_run(2, "--topk needs", cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 2 --lr-end 0.1", data);
    expect_run(2, "--lr-end applies only", cmd);
    snprintf(cmd, sizeof cmd, "split %s --out %s --test %s", data, prefix, data);
    expect_run(2, "--test does not apply", cmd);
    /* the other optimizers and schedules run */
    snprintf(cmd, sizeof cmd,
             "train --data %s --model neumf --epochs 2 --optimizer sgd --momentum 0.9 --lr 0.01 --lr-schedule step "
             "--lr-step 1 --lr-gamma 0.5 --reg-layers 1e-4 --quiet",
             data);
    expect_run(0, "sgd with momentum", cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 2 --optimizer rmsprop --rows lazy --lr-schedule linear --quiet",
             data);
    expect_run(0, "rmsprop (lazy rows)", cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --epochs 1 --optimizer adagrad --lr 0.05 --quiet", data);
    expect_run(0, "adagrad", cmd);
    /* dense rows by default for every model; auto (from 0.1) is dense too; lazy on request */
    const char *rows_cases[][2] = {{"--model neumf", "adam, lr"},
                                   {"--model neumf --rows auto", "adam, lr"},
                                   {"--model neumf --rows lazy", "adam (lazy rows)"},
                                   {"--model gmf", "adam, lr"},
                                   {"--model mlp", "adam, lr"},
                                   {"--model neumf --rows dense", "adam, lr"},
                                   {"--model mlp --rows auto", "adam, lr"}};
    for (size_t k = 0; k < sizeof rows_cases / sizeof *rows_cases; k++) {
        snprintf(cmd, sizeof cmd, "train --data %s --epochs 1 %s --quiet", data, rows_cases[k][0]);
        expect_run(0, rows_cases[k][1], cmd);
    }
}

/* ---- where --out may point (docs/cli.md, "Output files") -------------------- */
/* The type of what path names, the link itself not followed: 'f' regular
 * file, 'l' symbolic link, 'c' character device, 'p' FIFO, 'd' directory,
 * '-' nothing, '?' anything else. */
static char ftype(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) return '-';
    return S_ISREG(sb.st_mode) ? 'f' : S_ISLNK(sb.st_mode) ? 'l' : S_ISCHR(sb.st_mode) ? 'c'
           : S_ISFIFO(sb.st_mode) ? 'p' : S_ISDIR(sb.st_mode) ? 'd' : '?';
}

/* A small model in the scratch directory for the --out tests; path in buf. */
static void small_model(char *buf, size_t cap)
{
    char data[512], cmd[2048];
    snprintf(data, sizeof data, "%s", tu_path("out.tsv"));
    snprintf(buf, cap, "%s", tu_path("out.ncf"));
    if (tu_exists(buf)) return;
    snprintf(cmd, sizeof cmd, "synth --out %s --users 40 --items 30 --interactions 400 --seed 2", data);
    expect_run(0, NULL, cmd);
    snprintf(cmd, sizeof cmd, "train --data %s --model gmf --factors 4 --epochs 1 --quiet --out %s", data, buf);
    expect_run(0, NULL, cmd);
}

/* 1 when the files at a and b hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
    size_t na, nb;
    char *x = tu_read(a, &na), *y = tu_read(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* 1 when the scratch directory holds a temporary file of ncf. */
static int temp_left(void)
{
    char *out = NULL;
    int rc = tu_run(&out, "ls -a '%s' | grep -e '\\.ncf-tmp\\.' -e '\\.tmp\\.'", tu_dir());
    if (rc == 0) fprintf(stderr, "left behind:\n%s", out);
    free(out);
    return rc == 0;
}

/* A FIFO is written into, never replaced: what a reader gets equals the
 * regular file's output. A symbolic link is followed, through a chain and
 * when dangling, and kept; the file it ends at gets the output. A
 * directory is refused. */
static void test_out_fifo_and_links(void **state)
{
    char model[512], ref[512], fifo[512], got[512], cmd[4096];
    small_model(model, sizeof model);
    snprintf(ref, sizeof ref, "%s", tu_path("ref.tsv"));
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out %s", model, ref);
    expect_run(0, NULL, cmd);
    assert_false(temp_left());
    /* FIFO, read by cat (both bounded in time, in case the FIFO is never opened) */
    snprintf(fifo, sizeof fifo, "%s", tu_path("out.fifo"));
    snprintf(got, sizeof got, "%s", tu_path("from-fifo.tsv"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    int rc = tu_run(NULL, "timeout 10 cat '%s' > '%s' & timeout 30 %s recommend --model %s --all -k 2 --out '%s'; "
                          "r=$?; wait; exit $r",
                    fifo, got, NCF, model, fifo);
    assert_int_equal(rc, 0);
    assert_int_equal(ftype(fifo), 'p');
    assert_true(same_bytes(got, ref));
    /* a link to a regular file, and a link to that link (relative targets) */
    char real[512], link[512], link2[512];
    snprintf(real, sizeof real, "%s", tu_write("real.tsv", "old content\n"));
    snprintf(link, sizeof link, "%s", tu_path("link.tsv"));
    snprintf(link2, sizeof link2, "%s", tu_path("link2.tsv"));
    assert_int_equal(symlink("real.tsv", link), 0);
    assert_int_equal(symlink("link.tsv", link2), 0);
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out %s", model, link2);
    expect_run(0, NULL, cmd);
    assert_int_equal(ftype(link2), 'l');
    assert_int_equal(ftype(link), 'l');
    assert_int_equal(ftype(real), 'f');
    assert_true(same_bytes(real, ref));
    /* a dangling link: the file it names is created */
    char dangling[512], made[512];
    snprintf(dangling, sizeof dangling, "%s", tu_path("dangling.tsv"));
    snprintf(made, sizeof made, "%s", tu_path("made.tsv"));
    assert_int_equal(symlink("made.tsv", dangling), 0);
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out %s", model, dangling);
    expect_run(0, NULL, cmd);
    assert_int_equal(ftype(dangling), 'l');
    assert_true(same_bytes(made, ref));
    /* the model file and the export follow links the same way */
    char mlink[512], mreal[512];
    snprintf(mreal, sizeof mreal, "%s", tu_path("model-real.ncf"));
    snprintf(mlink, sizeof mlink, "%s", tu_path("model-link.ncf"));
    assert_int_equal(symlink("model-real.ncf", mlink), 0);
    snprintf(cmd, sizeof cmd, "train --data %s --model gmf --factors 4 --epochs 1 --quiet --out %s",
             tu_path("out.tsv"), mlink);
    expect_run(0, NULL, cmd);
    assert_int_equal(ftype(mlink), 'l');
    assert_int_equal(ftype(mreal), 'f');
    /* a directory is refused, and stays */
    snprintf(cmd, sizeof cmd, "mkdir '%s'", tu_path("adir"));
    assert_int_equal(tu_run(NULL, "%s", cmd), 0);
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out %s", model, tu_path("adir"));
    expect_run(1, "adir: is a directory", cmd);
    assert_int_equal(ftype(tu_path("adir")), 'd');
    /* export opens both outputs first: a refused --ids writes no weights */
    snprintf(cmd, sizeof cmd, "export --model %s --format safetensors --out %s --ids %s", model,
             tu_path("never.safetensors"), tu_path("adir"));
    expect_run(1, "adir: is a directory", cmd);
    assert_int_equal(ftype(tu_path("never.safetensors")), '-');
    assert_false(temp_left());
}

/* Character devices are written into, never replaced: a full one (ENOSPC)
 * fails with exit 1 and a message, a null one succeeds, a link to one is
 * kept. The devices are private copies (mknod, root only) of /dev/null and
 * /dev/full in the scratch directory, so that a faulty ncf cannot replace
 * the machine's; once they pass, /dev/null and /dev/full themselves (only
 * those when not root). */
/* The machine's /dev/full and /dev/null: a write error and exit 1, success;
 * both stay devices. */
static void real_devices(const char *model)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out /dev/full", model);
    expect_run(1, "/dev/full: write failed: No space left on device", cmd);
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out /dev/null", model);
    expect_run(0, NULL, cmd);
    assert_int_equal(ftype("/dev/full"), 'c');
    assert_int_equal(ftype("/dev/null"), 'c');
}

static void test_out_devices(void **state)
{
    char model[512], null_dev[512], full_dev[512], to_full[512], cmd[4096];
    small_model(model, sizeof model);
    if (geteuid() != 0) { /* not root: nor could a faulty ncf replace these */
        fprintf(stderr, "test_out_devices: not root, so no private device nodes (mknod): skipping those, "
                        "testing /dev/full and /dev/null only\n");
        real_devices(model);
        return;
    }
    snprintf(null_dev, sizeof null_dev, "%s", tu_path("null"));
    snprintf(full_dev, sizeof full_dev, "%s", tu_path("full"));
    snprintf(to_full, sizeof to_full, "%s", tu_path("to-full"));
    if (tu_run(NULL, "mknod '%s' c 1 3 && mknod '%s' c 1 7", null_dev, full_dev) != 0) {
        fprintf(stderr, "skipped: mknod refused here\n");
        skip();
    }
    assert_int_equal(symlink("full", to_full), 0);
    const char *targets[] = {null_dev, full_dev, to_full};
    for (int k = 0; k < 3; k++) {
        const int full = k > 0;
        snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 2 --out %s", model, targets[k]);
        expect_run(full, full ? "No space left on device" : NULL, cmd);
        snprintf(cmd, sizeof cmd, "train --data %s --model gmf --factors 4 --epochs 1 --quiet --out %s",
                 tu_path("out.tsv"), targets[k]);
        expect_run(full, full ? "No space left on device" : NULL, cmd);
        snprintf(cmd, sizeof cmd, "synth --out %s --users 40 --items 30 --interactions 400", targets[k]);
        expect_run(full, full ? "No space left on device" : NULL, cmd);
        snprintf(cmd, sizeof cmd, "export --model %s --format safetensors --out %s --ids %s", model, targets[k],
                 null_dev);
        expect_run(full, full ? "No space left on device" : NULL, cmd);
        assert_int_equal(ftype(null_dev), 'c');
        assert_int_equal(ftype(full_dev), 'c');
        assert_int_equal(ftype(to_full), 'l');
    }
    /* the id maps fail on the full device after the weights were renamed
     * into place: the weights' file is removed again */
    snprintf(cmd, sizeof cmd, "export --model %s --format safetensors --out %s --ids %s", model,
             tu_path("undone.safetensors"), full_dev);
    expect_run(1, "No space left on device", cmd);
    assert_int_equal(ftype(tu_path("undone.safetensors")), '-');
    assert_false(temp_left());
    real_devices(model); /* safe now that the copies passed */
}

/* split writes its PREFIX.* files all or none, as regular files: one that
 * exists as a FIFO or a link is refused before anything is written. */
static void test_split_out_special(void **state)
{
    char data[512], prefix[512], fifo[600], cmd[2048];
    snprintf(data, sizeof data, "%s", tu_write("spx.tsv", "1\t10\t5\t1\n1\t11\t5\t2\n2\t10\t5\t3\n2\t12\t5\t4\n"));
    snprintf(prefix, sizeof prefix, "%s", tu_path("spx"));
    snprintf(fifo, sizeof fifo, "%s.test.rating", prefix);
    assert_int_equal(mkfifo(fifo, 0600), 0);
    snprintf(cmd, sizeof cmd, "split %s --out %s --negatives 1", data, prefix);
    expect_run(1, "spx.test.rating: is a FIFO", cmd);
    assert_int_equal(ftype(fifo), 'p');
    snprintf(cmd, sizeof cmd, "%s.train.rating", prefix);
    assert_int_equal(ftype(cmd), '-');
    remove(fifo);
    assert_int_equal(symlink("elsewhere", fifo), 0);
    snprintf(cmd, sizeof cmd, "split %s --out %s --negatives 1", data, prefix);
    expect_run(1, "spx.test.rating: is a symbolic link", cmd);
    assert_int_equal(ftype(fifo), 'l');
    assert_false(temp_left());
}

/* The progress line inside an epoch: on a terminal (script(1) gives the run
 * a pseudo-terminal) stderr shows it, with carriage returns, samples/s and
 * the time left; under --quiet, under --json, and when stderr is a pipe
 * nothing of it is written, and --json's stdout stays one JSON object a
 * line. */
static void test_progress_line(void **state)
{
    (void)state;
    if (system("script --version >/dev/null 2>&1") != 0) {
        fprintf(stderr, "skipped: script(1) (bsdutils) not found, no pseudo-terminal to try the progress line on\n");
        return;
    }
    char data[600], cmd[1400];
    snprintf(data, sizeof data, "%s", tu_path("progress.tsv"));
    snprintf(cmd, sizeof cmd, "synth --out %s --users 300 --items 250 --interactions 9000 --seed 3", data);
    expect_run(0, NULL, cmd);
    const char *train = "train --epochs 2 --batch 16 --no-eval --threads 2 --data";
    char *out = NULL;
    /* on a terminal */
    snprintf(cmd, sizeof cmd, "script -qec \"%s %s %s\" /dev/null", NCF, train, data);
    assert_int_equal(tu_run(&out, "%s", cmd), 0);
    if (!strstr(out, "samples/s  ETA") || !strstr(out, "\r  epoch 2/2"))
        fprintf(stderr, "no progress line on a terminal:\n%s\n", out);
    assert_non_null(strstr(out, "samples/s  ETA"));
    assert_non_null(strstr(out, "\r  epoch 2/2"));
    free(out);
    /* not with --quiet, nor --json, on the same terminal */
    snprintf(cmd, sizeof cmd, "script -qec \"%s %s %s --quiet\" /dev/null", NCF, train, data);
    assert_int_equal(tu_run(&out, "%s", cmd), 0);
    assert_null(strstr(out, "ETA"));
    assert_null(strstr(out, "\r  epoch"));
    free(out);
    snprintf(cmd, sizeof cmd, "script -qec \"%s %s %s --json 2>/dev/null\" /dev/null", NCF, train, data);
    assert_int_equal(tu_run(&out, "%s", cmd), 0);
    assert_null(strstr(out, "ETA"));
    for (char *line = out; *line;) { /* every stdout line a JSON object (the terminal adds \r\n) */
        char *nl = strchr(line, '\n');
        assert_int_equal(line[0], '{');
        assert_non_null(nl);
        assert_true(nl[-1] == '}' || (nl[-1] == '\r' && nl[-2] == '}'));
        line = nl + 1;
    }
    free(out);
    /* stderr a pipe (tu_run sends both streams to a file) */
    assert_int_equal(tu_run(&out, "%s %s %s", NCF, train, data), 0);
    assert_null(strstr(out, "ETA"));
    assert_null(strchr(out, '\r'));
    free(out);
}

/* The lines of a "rank<TAB>item<TAB>score" answer: items into out (up to
 * cap, 64 bytes each), scores into sc; returns how many. */
static int rank_lines(char *text, char (*out)[64], double *sc, int cap)
{
    int n = 0;
    char *sv = NULL;
    for (char *l = strtok_r(text, "\n", &sv); l && n < cap; l = strtok_r(NULL, "\n", &sv)) {
        int rank;
        assert_int_equal(sscanf(l, "%d\t%63[^\t]\t%lf", &rank, out[n], &sc[n]), 3);
        assert_int_equal(rank, n + 1);
        n++;
    }
    return n;
}

static int cos_order(const void *a, const void *b)
{
    const double *x = a, *y = b; /* {cosine, index} */
    if (x[0] != y[0]) return x[0] > y[0] ? -1 : 1;
    return (x[1] > y[1]) - (x[1] < y[1]);
}

/* ncf similar on MF: the order of a brute-force cosine over the item
 * embeddings (read here from the model file through the library), K
 * distinct items never the item itself, --all equal to one item at a time
 * and the same bytes on 1 and 2 threads, --only / --exclude, the errors;
 * and the rules of ncf recommend (--only, --exclude, --include-seen) for
 * one user and --all. */
static void test_similar_and_rules(void **state)
{
    char data[512], model[512], cmd[2048];
    snprintf(data, sizeof data, "%s", tu_path("sim.tsv"));
    snprintf(model, sizeof model, "%s", tu_path("sim.ncf"));
    char *out = NULL;
    int rc = tu_run(&out, "%s synth --out %s --users 200 --items 150 --interactions 5000 --seed 4 && "
                    "%s train --data %s --model mf --factors 8 --epochs 2 --out %s --quiet",
                    NCF, data, NCF, data, model);
    if (rc) fprintf(stderr, "%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
    expect_run(0, "--item RAW_ID", "similar --help");
    expect_run(0, "--include-seen", "recommend --help");
    snprintf(cmd, sizeof cmd, "similar --model %s", model);
    expect_run(2, "one of --item or --all", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --item i1 --all --out x", model);
    expect_run(2, "one of --item or --all", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --all", model);
    expect_run(2, "--all needs --out FILE", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --item i1 --out x", model);
    expect_run(2, "--out goes with --all", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --item i1 -k 0", model);
    expect_run(2, "-k needs an integer", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --item nope", model);
    expect_run(1, "item 'nope' is not in the model (150 items known)", cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --item i1 --only %s", model, tu_path("no-such-list"));
    expect_run(1, "--only", cmd);

    /* brute force over the MF item embeddings */
    ncf_model *m = NULL;
    ncf_err err;
    assert_int_equal(ncf_model_load(model, &m, &err), NCF_OK);
    ncf_table_view t;
    assert_int_equal(ncf_model_table(m, "mf.item_embedding", &t), NCF_OK);
    const int32_t n = t.rows, q5 = ncf_idmap_find(ncf_model_items(m), "i5", 2);
    assert_true(q5 >= 0);
    double (*rank)[2] = malloc((size_t)n * sizeof *rank);
    int nr = 0;
    const float *qv = t.data + (size_t)q5 * (size_t)t.stride;
    for (int32_t i = 0; i < n; i++) {
        if (i == q5) continue;
        const float *v = t.data + (size_t)i * (size_t)t.stride;
        double dot = 0, a = 0, b = 0;
        for (int k = 0; k < t.dim; k++) dot += (double)qv[k] * v[k], a += (double)qv[k] * qv[k], b += (double)v[k] * v[k];
        rank[nr][0] = dot / sqrt(a * b);
        rank[nr][1] = i;
        nr++;
    }
    qsort(rank, (size_t)nr, sizeof *rank, cos_order);
    char items[200][64];
    double sc[200];
    rc = tu_run(&out, "%s similar --model %s --item i5 -k 20", NCF, model);
    assert_int_equal(rc, 0);
    int got = rank_lines(out, items, sc, 200);
    free(out);
    assert_int_equal(got, 20);
    for (int q = 0; q < got; q++) {
        const char *want = ncf_idmap_raw(ncf_model_items(m), (int32_t)rank[q][1]);
        assert_true(fabs(sc[q] - rank[q][0]) < 2e-6);
        /* the brute force's item, unless its cosine ties this one within float rounding */
        if (strcmp(items[q], want) != 0) {
            int32_t i = ncf_idmap_find(ncf_model_items(m), items[q], strlen(items[q]));
            int found = 0;
            for (int r = 0; r < nr; r++)
                if ((int32_t)rank[r][1] == i) found = fabs(rank[r][0] - rank[q][0]) < 1e-6;
            assert_true(found);
        }
        assert_string_not_equal(items[q], "i5");
        for (int r = 0; r < q; r++) assert_string_not_equal(items[q], items[r]);
    }
    /* k above the other items: all of them, once each */
    rc = tu_run(&out, "%s similar --model %s --item i5 -k 1000", NCF, model);
    assert_int_equal(rc, 0);
    assert_int_equal(rank_lines(out, items, sc, 200), n - 1);
    free(out);
    /* --exclude (an unknown id counted on stderr) and --only */
    char list[512];
    snprintf(list, sizeof list, "%s\n%s\r\n\nnot-an-item\n", items[0], items[2]);
    char excl[512];
    snprintf(excl, sizeof excl, "%s", tu_write("excl.txt", list));
    rc = tu_run(&out, "%s similar --model %s --item i5 -k 5 --exclude %s --json", NCF, model, excl);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "1 of 3 ids are not items of the model, ignored (the first: 'not-an-item', line 4)"));
    assert_non_null(strstr(out, "\"unknown_exclude\": 1"));
    char needle[128];
    snprintf(needle, sizeof needle, "\"item\": \"%s\"", items[0]);
    assert_null(strstr(out, needle));
    snprintf(needle, sizeof needle, "\"item\": \"%s\"", items[2]);
    assert_null(strstr(out, needle));
    snprintf(needle, sizeof needle, "[{\"item\": \"%s\"", items[1]);
    assert_non_null(strstr(out, needle));
    free(out);
    snprintf(list, sizeof list, "%s\ni5\n%s\n", items[7], items[3]);
    char only[512];
    snprintf(only, sizeof only, "%s", tu_write("only.txt", list));
    rc = tu_run(&out, "%s similar --model %s --item i5 --only %s 2>/dev/null", NCF, model, only);
    assert_int_equal(rc, 0);
    char two[2][64];
    double two_sc[2];
    assert_int_equal(rank_lines(out, two, two_sc, 2), 2);
    assert_string_equal(two[0], items[3]);
    assert_string_equal(two[1], items[7]);
    free(out);
    /* --all: the same as one item at a time, the same bytes on 1 and 2 threads */
    char all1[512], all2[512];
    snprintf(all1, sizeof all1, "%s", tu_path("sim1.tsv"));
    snprintf(all2, sizeof all2, "%s", tu_path("sim2.tsv"));
    snprintf(cmd, sizeof cmd, "similar --model %s --all -k 20 --out %s --threads 1", model, all1);
    expect_run(0, NULL, cmd);
    snprintf(cmd, sizeof cmd, "similar --model %s --all -k 20 --out %s --threads 2", model, all2);
    expect_run(0, NULL, cmd);
    size_t n1 = 0, n2 = 0;
    char *t1 = tu_read(all1, &n1), *t2 = tu_read(all2, &n2);
    assert_non_null(t1);
    assert_non_null(t2);
    assert_int_equal(n1, n2);
    assert_memory_equal(t1, t2, n1);
    int lines = 0, i5_lines = 0;
    char *sv = NULL;
    for (char *l = strtok_r(t1, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
        char a[64], b[64];
        double s;
        int r;
        assert_int_equal(sscanf(l, "%63[^\t]\t%63[^\t]\t%lf\t%d", a, b, &s, &r), 4);
        assert_string_not_equal(a, b);
        if (strcmp(a, "i5") == 0) {
            assert_string_equal(b, items[r - 1 < 20 ? r - 1 : 0]);
            i5_lines++;
        }
        lines++;
    }
    assert_int_equal(lines, n * 20);
    assert_int_equal(i5_lines, 20);
    free(t1);
    free(t2);

    /* recommend's rules: u7's default top 5, then without its first two */
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 5", NCF, model);
    assert_int_equal(rc, 0);
    char top[5][64];
    double top_sc[5];
    assert_int_equal(rank_lines(out, top, top_sc, 5), 5);
    free(out);
    snprintf(list, sizeof list, "%s\n%s\nghost\n", top[0], top[1]);
    snprintf(excl, sizeof excl, "%s", tu_write("rexcl.txt", list));
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 3 --exclude %s 2>/dev/null", NCF, model, excl);
    assert_int_equal(rc, 0);
    char three[3][64];
    double three_sc[3];
    assert_int_equal(rank_lines(out, three, three_sc, 3), 3);
    for (int q = 0; q < 3; q++) assert_string_equal(three[q], top[q + 2]);
    free(out);
    /* --only with one of u7's training items: left out, unless --include-seen */
    const int32_t u7 = ncf_idmap_find(ncf_model_users(m), "u7", 2);
    ncf_scorer *scr = NULL;
    assert_int_equal(ncf_scorer_create(m, 1, &scr, &err), NCF_OK);
    ncf_rules inc = {NULL, 0, NULL, 0, 1};
    /* one of u7's training items: in the ranking with them, not in the default one */
    int32_t *whole = malloc((size_t)n * sizeof *whole);
    float *whole_sc = malloc((size_t)n * sizeof *whole_sc);
    int nw = 0;
    assert_int_equal(ncf_scorer_recommend_ex(scr, u7, &inc, n, whole, whole_sc, &nw), NCF_OK);
    assert_int_equal(nw, n);
    int32_t def[200];
    float def_sc[200];
    int nd = 0;
    assert_int_equal(ncf_scorer_recommend(scr, u7, n, def, def_sc, &nd), NCF_OK);
    assert_true(nd < n); /* u7 has training items */
    const char *seen_raw = NULL;
    for (int q = 0; q < nw && !seen_raw; q++) {
        int in_default = 0;
        for (int r = 0; r < nd; r++) in_default |= def[r] == whole[q];
        if (!in_default) seen_raw = ncf_idmap_raw(ncf_model_items(m), whole[q]);
    }
    assert_non_null(seen_raw);
    snprintf(list, sizeof list, "%s\n%s\n", seen_raw, top[4]);
    snprintf(only, sizeof only, "%s", tu_write("ronly.txt", list));
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 5 --only %s", NCF, model, only);
    assert_int_equal(rc, 0);
    assert_int_equal(rank_lines(out, three, three_sc, 3), 1);
    assert_string_equal(three[0], top[4]);
    free(out);
    rc = tu_run(&out, "%s recommend --model %s --user u7 -k 5 --only %s --include-seen --json", NCF, model, only);
    assert_int_equal(rc, 0);
    snprintf(needle, sizeof needle, "\"item\": \"%s\"", seen_raw);
    assert_non_null(strstr(out, needle));
    assert_non_null(strstr(out, "\"unknown_only\": 0"));
    free(out);
    /* --all under the rules: no excluded item for any user, u7's rows as above */
    snprintf(cmd, sizeof cmd, "recommend --model %s --all -k 3 --exclude %s --out %s", model, excl, all1);
    expect_run(0, "1 of 3 ids are not items of the model", cmd);
    t1 = tu_read(all1, NULL);
    assert_non_null(t1);
    lines = 0;
    int u7_rows = 0;
    for (char *l = strtok_r(t1, "\n", &sv); l; l = strtok_r(NULL, "\n", &sv)) {
        char a[64], b[64];
        double s;
        int r;
        assert_int_equal(sscanf(l, "%63[^\t]\t%63[^\t]\t%lf\t%d", a, b, &s, &r), 4);
        assert_string_not_equal(b, top[0]);
        assert_string_not_equal(b, top[1]);
        if (strcmp(a, "u7") == 0) assert_string_equal(b, top[r + 1]), u7_rows++;
        lines++;
    }
    assert_int_equal(u7_rows, 3);
    assert_int_equal(lines, 200 * 3);
    free(t1);
    /* an allow-list none of whose ids the model knows allows nothing */
    snprintf(only, sizeof only, "%s", tu_write("ghosts.txt", "ghost\nspectre\n"));
    rc = tu_run(&out, "%s recommend --model %s --user u7 --only %s 2>&1 >/dev/null", NCF, model, only);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "2 of 2 ids are not items of the model"));
    free(out);
    rc = tu_run(&out, "%s recommend --model %s --user u7 --only %s 2>/dev/null", NCF, model, only);
    assert_int_equal(rc, 0);
    assert_string_equal(out, ""); /* no line at all */
    free(out);
    snprintf(cmd, sizeof cmd, "recommend --model %s --user u7 --exclude %s", model, tu_path("missing-list"));
    expect_run(1, "--exclude", cmd);
    free(whole);
    free(whole_sc);
    free(rank);
    ncf_scorer_free(scr);
    ncf_model_free(m);
}

int main(void)
{
    const char *bin = getenv("NCF_BIN");
    if (bin && *bin) snprintf(NCF, sizeof NCF, "%s", bin);
    if (!tu_exists(NCF)) {
        fprintf(stderr, "test_cli: %s not built (run make first)\n", NCF);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_help),
        cmocka_unit_test(test_usage_errors),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_train_eval_recommend),
        cmocka_unit_test(test_split_and_summary),
        cmocka_unit_test(test_ncf_train_names_larger_ids),
        cmocka_unit_test(test_out_full_disk),
        cmocka_unit_test(test_layout_and_text),
        cmocka_unit_test(test_full_ranking_validation_mf),
        cmocka_unit_test(test_out_fifo_and_links),
        cmocka_unit_test(test_out_devices),
        cmocka_unit_test(test_split_out_special),
        cmocka_unit_test(test_similar_and_rules),
        cmocka_unit_test(test_progress_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
