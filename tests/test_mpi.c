/* test_mpi.c — sharded training (--shards, docs/distributed.md) through the
 * tool. Without MPI: the same model bytes and per-epoch metrics on 1, 2 and
 * 3 threads, and bad options refused. With an MPI build (NCF_MPI_BIN, which
 * make test sets when mpicc and mpirun exist) and mpirun: the same bytes and
 * metrics on 1, 2 and 4 processes as the build without MPI, for NeuMF, GMF,
 * MLP and MF, dense and lazy rows, pairwise losses with dropout, also over
 * TCP (--mca btl self,tcp); processes that disagree on the data, more
 * processes than shards, and several processes without --shards are
 * refused with a message and a non-zero exit, never a hang (every mpirun
 * runs under `timeout`); checkpoints taken on 2 processes, between epochs
 * and within one, resume on 3 and on 1 with the uninterrupted run's bytes;
 * SIGTERM or SIGINT to mpirun itself stops every process at mpirun's
 * SIGCONT with rank 0's checkpoint written, and it resumes to the same
 * bytes. Reading only one's users (an NCF prefix sorted by user): the same
 * bytes and metrics on 1, 2, 3 (TCP) and 4 processes as without MPI,
 * resume from 2 processes on 4, the training lines each process reads
 * shrinking with the process count, an unsorted training file read whole
 * with the same bytes, and a bad line named by its line number from
 * whichever process holds it. Skipped, saying so, when there is no MPI
 * build. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"

static char NCF[512];     /* the tool without MPI */
static char MPI_NCF[512]; /* the tool built with MPI=1, "" when absent */
static char DATA[512], DATA2[512];
static char PREFIX[512];     /* DATA split into the NCF format (sorted by user) */
static const char *CUR = DATA; /* the data train_plain and train_mpi use */

/* mpirun's options for N processes on this machine, as root or not. */
#define MPIRUN "timeout 600 mpirun --allow-run-as-root --oversubscribe"

static void absolute(char *dst, size_t n, const char *bin)
{
    char cwd[256];
    if (bin[0] == '/') snprintf(dst, n, "%s", bin);
    else snprintf(dst, n, "%s/%s", getcwd(cwd, sizeof cwd), bin);
}

static int setup(void **state)
{
    const char *bin = getenv("NCF_BIN"), *mpi = getenv("NCF_MPI_BIN");
    absolute(NCF, sizeof NCF, bin && *bin ? bin : "ncf");
    if (mpi && *mpi && tu_run(NULL, "command -v mpirun") == 0) absolute(MPI_NCF, sizeof MPI_NCF, mpi);
    snprintf(DATA, sizeof DATA, "%s", tu_path("mpi.tsv"));
    snprintf(DATA2, sizeof DATA2, "%s", tu_path("mpi2.tsv"));
    snprintf(PREFIX, sizeof PREFIX, "%s", tu_path("mpip"));
    return tu_run(NULL, "%s synth --out %s --users 700 --items 500 --interactions 24000 --seed 5 && "
                        "%s synth --out %s --users 700 --items 500 --interactions 24000 --seed 6 && "
                        "%s split %s --out %s --negatives 99 --seed 1 2>/dev/null",
                  NCF, DATA, NCF, DATA2, NCF, DATA, PREFIX);
}

/* The per-epoch JSON lines and the final line of a run's stdout, without
 * the fields that are timings (malloc'd). */
static char *metrics_of(const char *path)
{
    char *text = tu_read(path, NULL);
    assert_non_null(text);
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    assert_non_null(out);
    for (char *line = text; *line;) {
        char *end = strchr(line, '\n');
        if (!end) end = line + strlen(line);
        char *cut = strstr(line, "\"train_seconds\"");
        if (!cut || cut > end) cut = strstr(line, "\"peak_rss_mb\"");
        if (!cut || cut > end) cut = end;
        memcpy(o, line, (size_t)(cut - line));
        o += cut - line;
        *o++ = '\n';
        line = *end ? end + 1 : end;
    }
    *o = '\0';
    free(text);
    return out;
}

/* 1 when two files have the same bytes. */
static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = tu_read(a, &na), *y = tu_read(b, &nb);
    const int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

/* Trains `args` without MPI on `threads` threads into NAME.ncf / NAME.json. */
static void train_plain(const char *name, const char *args, int threads)
{
    char model[600], json[600];
    snprintf(model, sizeof model, "%s.ncf", tu_path(name));
    snprintf(json, sizeof json, "%s.json", tu_path(name));
    char *log = NULL;
    int rc = tu_run(&log, "%s train --data %s --epochs 2 --json --quiet --threads %d %s --out %s >%s", NCF, CUR,
                    threads, args, model, json);
    if (rc != 0) fprintf(stderr, "%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);
}

/* Trains `args` with mpirun on np processes (mca: extra mpirun options). */
static void train_mpi(const char *name, const char *args, int np, const char *mca)
{
    char model[600], json[600];
    snprintf(model, sizeof model, "%s.ncf", tu_path(name));
    snprintf(json, sizeof json, "%s.json", tu_path(name));
    char *log = NULL;
    int rc = tu_run(&log, MPIRUN " %s -np %d %s train --data %s --epochs 2 --json --quiet --threads 1 %s --out %s >%s",
                    mca, np, MPI_NCF, CUR, args, model, json);
    if (rc != 0) fprintf(stderr, "%s\n", log ? log : "");
    free(log);
    assert_int_equal(rc, 0);
}

/* NAME.ncf and NAME.json's metrics equal REF's. */
static void assert_same_run(const char *ref, const char *name)
{
    char a[600], b[600];
    snprintf(a, sizeof a, "%s.ncf", tu_path(ref));
    snprintf(b, sizeof b, "%s.ncf", tu_path(name));
    if (!same_file(a, b)) fail_msg("%s: model bytes differ from %s", name, ref);
    snprintf(a, sizeof a, "%s.json", tu_path(ref));
    snprintf(b, sizeof b, "%s.json", tu_path(name));
    char *x = metrics_of(a), *y = metrics_of(b);
    assert_non_null(strstr(x, "\"epoch\": 2"));
    assert_string_equal(x, y);
    free(x);
    free(y);
}

static void test_shards_any_thread_count(void **state)
{
    train_plain("t1", "--shards 5", 1);
    train_plain("t2", "--shards 5", 2);
    train_plain("t3", "--shards 5", 3);
    assert_same_run("t1", "t2");
    assert_same_run("t1", "t3");
    train_plain("l1", "--model gmf --rows lazy --shards 7", 1);
    train_plain("l2", "--model gmf --rows lazy --shards 7", 2);
    assert_same_run("l1", "l2");
}

static void test_shards_refused(void **state)
{
    char *out = NULL;
    assert_int_equal(tu_run(&out, "%s train --data %s --shards 0", NCF, DATA), 2);
    assert_non_null(strstr(out, "--shards"));
    free(out);
    assert_int_not_equal(tu_run(&out, "%s train --data %s --batch 64 --shards 65 --epochs 1", NCF, DATA), 0);
    assert_non_null(strstr(out, "at most the batch size"));
    free(out);
    /* a checkpoint resumes with its own shards only */
    assert_int_equal(tu_run(&out, "%s train --data %s --epochs 1 --shards 4 --checkpoint %s", NCF, DATA, tu_path("c.ckpt")), 0);
    free(out);
    assert_int_not_equal(tu_run(&out, "%s train --resume %s --shards 5", NCF, tu_path("c.ckpt")), 0);
    assert_non_null(strstr(out, "shards"));
    free(out);
}

static int have_mpi(void)
{
    if (MPI_NCF[0]) return 1;
    fprintf(stderr, "skipped: no MPI build (NCF_MPI_BIN unset, or no mpirun): make test builds build-mpi/ncf when "
                    "mpicc and mpirun exist (scripts/setup-deps.sh mpi installs Open MPI)\n");
    return 0;
}

/* One configuration on 1, 2 and 4 processes against the build without MPI. */
static void same_on_every_count(const char *tag, const char *args)
{
    char ref[64], name[64];
    snprintf(ref, sizeof ref, "%s_plain", tag);
    train_plain(ref, args, 2);
    const int counts[] = {1, 2, 4};
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "%s_np%d", tag, counts[k]);
        train_mpi(name, args, counts[k], "");
        assert_same_run(ref, name);
    }
}

static void test_mpi_neumf(void **state)
{
    if (!have_mpi()) skip();
    same_on_every_count("neumf", "--model neumf --shards 8");
    same_on_every_count("neumf_lazy", "--model neumf --rows lazy --shards 8");
}

static void test_mpi_gmf_mlp_mf(void **state)
{
    if (!have_mpi()) skip();
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep NeuMF only)\n");
        skip();
    }
    same_on_every_count("gmf", "--model gmf --shards 6");
    same_on_every_count("mlp", "--model mlp --rows lazy --shards 6");
    same_on_every_count("mf", "--model mf --factors 16 --loss bpr --neg 2 --shards 6");
    same_on_every_count("seed", "--preset seed --shards 6"); /* pairwise BCE, dropout */
}

static void test_mpi_tcp(void **state)
{
    if (!have_mpi()) skip();
    train_plain("tcp_plain", "--model gmf --eval full --topk 10,20 --shards 4", 1);
    train_mpi("tcp_np3", "--model gmf --eval full --topk 10,20 --shards 4", 3, "--mca btl self,tcp");
    assert_same_run("tcp_plain", "tcp_np3");
}

/* Checkpoints of sharded runs resume on another number of processes (and
 * in the build without MPI) with the bytes of an uninterrupted run: one
 * taken between epochs on 2 processes resumed on 3, one taken within an
 * epoch (both ranks sent SIGTERM, as a batch system would) resumed on 1. */
static void test_mpi_resume_other_count(void **state)
{
    if (!have_mpi()) skip();
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep NeuMF only)\n");
        skip();
    }
    const char *args = "--model neumf --shards 6";
    char *log = NULL;
    int rc = tu_run(&log, "%s train --data %s --epochs 4 --quiet %s --out %s", NCF, DATA, args, tu_path("r_full.ncf"));
    assert_int_equal(rc, 0);
    free(log);
    rc = tu_run(&log, MPIRUN " -np 2 %s train --data %s --epochs 2 --quiet %s --checkpoint %s", MPI_NCF, DATA, args,
                tu_path("r.ckpt"));
    if (rc != 0) fprintf(stderr, "%s\n", log);
    assert_int_equal(rc, 0);
    free(log);
    rc = tu_run(&log, MPIRUN " -np 3 %s train --resume %s --epochs 4 --quiet --out %s", MPI_NCF, tu_path("r.ckpt"),
                tu_path("r_np3.ncf"));
    if (rc != 0) fprintf(stderr, "%s\n", log);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(log, "resumed from"));
    free(log);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s", tu_path("r_full.ncf"));
    snprintf(b, sizeof b, "%s", tu_path("r_np3.ncf"));
    if (!same_file(a, b)) fail_msg("resumed on 3 processes: model bytes differ from the uninterrupted run");
    /* within an epoch: SIGTERM to both ranks (the children of mpirun, the
     * child of timeout) once training is under way, as a batch system
     * would (a signal to mpirun: test_mpi_signal_to_mpirun) */
    rc = tu_run(&log, "cd %s && %s synth --out big.tsv --users 1500 --items 1000 --interactions 80000 --seed 7 && "
                "%s train --data big.tsv --epochs 3 --quiet %s --out r_big.ncf && { " MPIRUN " -np 2 %s train "
                "--data big.tsv --epochs 3 --quiet %s --checkpoint m.ckpt >m.log 2>&1 & mp=$!; "
                "for i in $(seq 600); do grep -q '^epoch' m.log && break; sleep 0.1; done; sleep 1; "
                "kill -TERM $(pgrep -P $(pgrep -P $mp)) 2>/dev/null; wait $mp; cat m.log; }",
                tu_dir(), NCF, NCF, args, MPI_NCF, args);
    assert_int_not_equal(rc, 124);
    if (!strstr(log, "part of the next"))
        fprintf(stderr, "note: the signal did not land within an epoch this time (%s)\n",
                strstr(log, "checkpoint:") ? "checkpoint between epochs" : "no checkpoint");
    free(log);
    rc = tu_run(&log, "cd %s && %s train --resume m.ckpt --quiet --out r_np1.ncf", tu_dir(), NCF);
    if (rc != 0) fprintf(stderr, "%s\n", log);
    assert_int_equal(rc, 0);
    free(log);
    snprintf(a, sizeof a, "%s", tu_path("r_big.ncf"));
    snprintf(b, sizeof b, "%s", tu_path("r_np1.ncf"));
    if (!same_file(a, b)) fail_msg("stopped on 2 processes, resumed on 1: model bytes differ from the uninterrupted run");
}

/* The training lines each process read, as rank 0 reports them (the
 * largest); -1 when it says it read the whole file. */
static long lines_read(const char *out)
{
    const char *at = strstr(out, "data (per process): ");
    assert_non_null(at);
    if (strstr(at, "the whole training file")) return -1;
    const char *to = strstr(at, " to ");
    assert_non_null(to);
    return strtol(to + 4, NULL, 10);
}

/* Reading only one's users from an NCF prefix: the bytes of the run
 * without MPI on any number of processes, resume across counts, and less
 * read by each process as they are more. */
static void test_mpi_own_users(void **state)
{
    if (!have_mpi()) skip();
    CUR = PREFIX;
    same_on_every_count("own_neumf", "--model neumf --shards 8");
    train_plain("own_tcp_plain", "--model gmf --rows lazy --eval full --topk 10,20 --shards 4", 1);
    train_mpi("own_tcp_np3", "--model gmf --rows lazy --eval full --topk 10,20 --shards 4", 3, "--mca btl self,tcp");
    assert_same_run("own_tcp_plain", "own_tcp_np3");
    CUR = DATA;
    /* the lines read: about 1/N of the file (the index) plus one's shards' */
    char train[600];
    snprintf(train, sizeof train, "%s.train.rating", PREFIX);
    char *text = tu_read(train, NULL), *out = NULL;
    assert_non_null(text);
    long total = 0;
    for (const char *q = text; (q = strchr(q, '\n')); q++) total++;
    free(text);
    long read[2];
    const int counts[2] = {2, 4};
    for (int k = 0; k < 2; k++) {
        int rc = tu_run(&out, MPIRUN " -np %d %s train --data %s --epochs 1 --no-eval --threads 1 --shards 8",
                        counts[k], MPI_NCF, PREFIX);
        if (rc != 0) fprintf(stderr, "%s\n", out);
        assert_int_equal(rc, 0);
        read[k] = lines_read(out);
        free(out);
    }
    fprintf(stderr, "training lines read by a process (of %ld): at most %ld on 2, %ld on 4\n", total, read[0],
            read[1]);
    assert_true(read[0] > 0 && read[0] <= total * 11 / 10);
    assert_true(read[1] > 0 && read[1] <= total * 6 / 10 && read[1] < read[0]);
    /* resume: a checkpoint of 2 processes goes on on 4 */
    const char *args = "--model neumf --shards 6";
    int rc = tu_run(&out, "%s train --data %s --epochs 3 --quiet %s --out %s", NCF, PREFIX, args, tu_path("o_full.ncf"));
    assert_int_equal(rc, 0);
    free(out);
    rc = tu_run(&out, MPIRUN " -np 2 %s train --data %s --epochs 1 --quiet %s --checkpoint %s", MPI_NCF, PREFIX, args,
                tu_path("o.ckpt"));
    if (rc != 0) fprintf(stderr, "%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
    rc = tu_run(&out, MPIRUN " -np 4 %s train --resume %s --epochs 3 --quiet --out %s", MPI_NCF, tu_path("o.ckpt"),
                tu_path("o_np4.ncf"));
    if (rc != 0) fprintf(stderr, "%s\n", out);
    assert_int_equal(rc, 0);
    free(out);
    char a[600], b[600];
    snprintf(a, sizeof a, "%s", tu_path("o_full.ncf"));
    snprintf(b, sizeof b, "%s", tu_path("o_np4.ncf"));
    if (!same_file(a, b)) fail_msg("own users, resumed on 4 processes: model bytes differ from the uninterrupted run");
}

/* An NCF training file not sorted by user is read whole by every process
 * (the same bytes); a bad line is named by its number, whichever process
 * reads it. */
static void test_mpi_own_users_fallback(void **state)
{
    if (!have_mpi()) skip();
    char *out = NULL;
    int rc = tu_run(&out, "cd %s && for f in test.rating test.negative user.map item.map; do cp mpip.$f mpiu.$f && "
                          "cp mpip.$f mpib.$f; done && tac mpip.train.rating >mpiu.train.rating && "
                          "awk 'NR == 15000 { print \"15000\\tnot-an-item\\t1\\t1\"; next } { print }' "
                          "mpip.train.rating >mpib.train.rating",
                    tu_dir());
    assert_int_equal(rc, 0);
    free(out);
    char unsorted[600];
    snprintf(unsorted, sizeof unsorted, "%s", tu_path("mpiu"));
    CUR = unsorted;
    train_plain("u_plain", "--model gmf --shards 5", 1);
    train_mpi("u_np2", "--model gmf --shards 5", 2, "");
    CUR = DATA;
    assert_same_run("u_plain", "u_np2");
    rc = tu_run(&out, MPIRUN " -np 2 %s train --data %s --epochs 1 --no-eval --shards 5", MPI_NCF, unsorted);
    assert_int_equal(rc, 0);
    assert_int_equal(lines_read(out), -1);
    free(out);
    /* line 15000 of 22,490 is in the second process's slice */
    rc = tu_run(&out, MPIRUN " -np 2 %s train --data %s --epochs 1 --shards 5", MPI_NCF, tu_path("mpib"));
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    if (!strstr(out, "mpib.train.rating:15000: field 2")) fail_msg("the bad line is not named: %s", out);
    free(out);
}

static void test_mpi_refused(void **state)
{
    if (!have_mpi()) skip();
    char *out = NULL;
    /* the processes disagree on the data */
    int rc = tu_run(&out, MPIRUN " -np 1 %s train --data %s --epochs 1 --shards 2 : -np 1 %s train --data %s --epochs 1 "
                          "--shards 2",
                    MPI_NCF, DATA, MPI_NCF, DATA2);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124); /* not timeout's: it did not hang */
    assert_non_null(strstr(out, "do not all have the same data and options"));
    free(out);
    rc = tu_run(&out, MPIRUN " -np 3 %s train --data %s --epochs 1 --shards 2", MPI_NCF, DATA);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "3 processes but 2 shards"));
    free(out);
    rc = tu_run(&out, MPIRUN " -np 2 %s train --data %s --epochs 1", MPI_NCF, DATA);
    assert_int_not_equal(rc, 0);
    assert_int_not_equal(rc, 124);
    assert_non_null(strstr(out, "need --shards"));
    free(out);
}

/* Ctrl-C, SIGINT or SIGTERM to mpirun: Open MPI 4.1's mpirun sends each
 * process SIGCONT, SIGTERM odls_base_sigkill_timeout seconds later and
 * SIGKILL as long again after that. The processes take mpirun's SIGCONT
 * as the request to stop: they stop after the same step, rank 0 writes the
 * checkpoint, and it resumes (in the build without MPI) to the bytes of
 * an uninterrupted run. SIGTERM with mpirun's default timeout (1 s);
 * SIGINT with a timeout of 5 s, where the processes must be gone within 4
 * s of the signal: before mpirun's SIGTERM, which a run that ignored the
 * SIGCONT would wait for. The signal goes to mpirun itself, not to
 * `timeout` (which would follow it with a SIGCONT of its own, cutting
 * mpirun's waits short). */
static void test_mpi_signal_to_mpirun(void **state)
{
    if (!have_mpi()) skip();
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep NeuMF only)\n");
        skip();
    }
    /* checkpoints only at the end, or when stopped; epochs enough that a
     * fast machine is still training 0.2 s after the first one (an epoch
     * takes 0.1-0.4 s here) */
    const char *args = "--model neumf --shards 6 --epochs 16 --quiet --threads 1 --checkpoint-every 100";
    char *log = NULL;
    int rc = tu_run(&log, "cd %s && %s synth --out sig.tsv --users 1500 --items 1000 --interactions 80000 --seed 8 && "
                    "%s train --data sig.tsv %s --out sig_full.ncf", tu_dir(), NCF, NCF, args);
    assert_int_equal(rc, 0);
    free(log);
    const struct {
        const char *sig, *mca;
    } cases[] = {{"TERM", ""}, {"INT", "--mca odls_base_sigkill_timeout 5"}};
    for (int k = 0; k < 2; k++) {
        rc = tu_run(&log, "cd %s && rm -f sig.ckpt && { " MPIRUN " %s -np 2 %s train --data sig.tsv %s "
                    "--checkpoint sig.ckpt >sig.log 2>&1 & tp=$!; "
                    "for i in $(seq 600); do grep -q '^epoch' sig.log && break; sleep 0.1; done; sleep 0.2; "
                    "mp=$(pgrep -P $tp); kill -%s $mp; "
                    "running() { ps -o stat= --ppid $mp | grep -qv '^Z'; }; " /* zombies have ended */
                    "for i in $(seq 40); do running || break; sleep 0.1; done; "
                    "running && echo 'processes still there 4 s after the signal'; "
                    "wait $tp; rc=$?; cat sig.log; exit $rc; }",
                    tu_dir(), cases[k].mca, MPI_NCF, args, cases[k].sig);
        if (rc == 124 || !strstr(log, "mpirun is ending the job")) fprintf(stderr, "%s\n", log);
        assert_int_not_equal(rc, 124); /* no hang */
        assert_int_not_equal(rc, 0);
        assert_non_null(strstr(log, "stopped by SIGTERM (mpirun is ending the job)"));
        assert_non_null(strstr(log, "checkpoint: sig.ckpt"));
        assert_null(strstr(log, "signal 9")); /* no process was killed */
        if (k == 1) assert_null(strstr(log, "still there")); /* they stopped at the SIGCONT */
        if (!strstr(log, "part of the next"))
            fprintf(stderr, "note: the signal did not land within an epoch this time\n");
        free(log);
        rc = tu_run(&log, "cd %s && %s train --resume sig.ckpt --quiet --out sig_resumed.ncf", tu_dir(), NCF);
        if (rc != 0) fprintf(stderr, "%s\n", log);
        assert_int_equal(rc, 0);
        free(log);
        char a[600], b[600];
        snprintf(a, sizeof a, "%s", tu_path("sig_full.ncf"));
        snprintf(b, sizeof b, "%s", tu_path("sig_resumed.ncf"));
        if (!same_file(a, b))
            fail_msg("SIG%s to mpirun, resumed: model bytes differ from the uninterrupted run", cases[k].sig);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shards_any_thread_count), cmocka_unit_test(test_shards_refused),
        cmocka_unit_test(test_mpi_neumf),               cmocka_unit_test(test_mpi_gmf_mlp_mf),
        cmocka_unit_test(test_mpi_tcp),                 cmocka_unit_test(test_mpi_resume_other_count),
        cmocka_unit_test(test_mpi_refused),             cmocka_unit_test(test_mpi_own_users),
        cmocka_unit_test(test_mpi_own_users_fallback),  cmocka_unit_test(test_mpi_signal_to_mpirun),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
