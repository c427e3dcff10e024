/* test_resume.c — durable training through the tool: `ncf train
 * --checkpoint` killed with SIGKILL at several moments (inside an epoch, and
 * while a checkpoint is being written), resumed with `ncf train --resume`
 * until it finishes, writes the model bytes of an uninterrupted run, on 1
 * and 2 threads, for NeuMF (dense and lazy rows), MF with BPR and a run with
 * early stopping on validation. Also: SIGINT writes a checkpoint and exits
 * 130, SIGTERM 143; a refused resume leaves the checkpoint as it was.
 * With NCF_QUICK (sanitizer runs) only NeuMF with dense rows is killed. */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ncf/ncf.h"
#include "testutil.h"

static char NCF[512] = "./ncf";
static char DATA[512];

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 1 when a temporary file of ck (a checkpoint being written) exists. */
static int writing(const char *dir, const char *ck)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    size_t n = strlen(ck);
    for (struct dirent *e; !found && (e = readdir(d));)
        found = e->d_name[0] == '.' && strncmp(e->d_name + 1, ck, n) == 0 && strstr(e->d_name, ".ncf-tmp.") != NULL;
    closedir(d);
    return found;
}

/* Runs `ncf ARGS` (output to a log in the scratch directory) and sends it
 * `sig` after `delay` seconds, or, with at_write, as soon as a checkpoint
 * write is seen under way (giving up after 20 s). Returns the exit status,
 * or -1 when it was killed by SIGKILL. */
static int run_and_signal(const char *args, double delay, int at_write, int sig)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "cd %s && exec %s %s >>run.log 2>&1", tu_dir(), NCF, args);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    const double t0 = now();
    int status = 0, sent = 0;
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        const double t = now() - t0;
        if (!sent && (at_write ? writing(tu_dir(), "ck.ckpt") || t > 20.0 : t >= delay)) {
            kill(pid, sig);
            sent = 1;
            if (at_write && t <= 20.0) fprintf(stderr, "  (killed while a checkpoint was being written)\n");
        }
        if (!at_write || sent) nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    if (WIFSIGNALED(status)) return WTERMSIG(status) == SIGKILL ? -1 : 128 + WTERMSIG(status);
    return WEXITSTATUS(status);
}

static char *read_scratch(const char *name, size_t *n)
{
    return tu_read(tu_path(name), n);
}

/* One configuration on `threads`: an uninterrupted run's model against
 * one killed at each moment in `delays` (and once mid-write), each time
 * resumed from whatever checkpoint survived. */
static void killed_runs_same_bytes(const char *opts, int threads)
{
    char args[1024];
    snprintf(args, sizeof args, "train --data %s %s --threads %d --quiet --out ref.ncf", DATA, opts, threads);
    assert_int_equal(run_and_signal(args, 1e9, 0, SIGKILL), 0);
    size_t n0;
    char *want = read_scratch("ref.ncf", &n0);
    assert_non_null(want);
    const double delays[] = {0.25, 0.6, -1.0 /* mid-write */, 1.1};
    remove(tu_path("ck.ckpt"));
    remove(tu_path("out.ncf"));
    int kills = 0, resumes = 0, rc = -1;
    for (size_t k = 0; k < sizeof delays / sizeof *delays && rc != 0; k++) {
        if (tu_exists(tu_path("ck.ckpt"))) {
            snprintf(args, sizeof args, "train --resume ck.ckpt --threads %d", 3 - threads);
            resumes++;
        } else {
            snprintf(args, sizeof args, "train --data %s %s --threads %d --quiet --checkpoint ck.ckpt --out out.ncf",
                     DATA, opts, threads);
        }
        rc = run_and_signal(args, delays[k], delays[k] < 0, SIGKILL);
        kills += rc == -1;
        assert_true(rc == 0 || rc == -1);
    }
    while (rc != 0) { /* to the end */
        snprintf(args, sizeof args, "train --resume ck.ckpt --threads %d", threads);
        if (!tu_exists(tu_path("ck.ckpt")))
            snprintf(args, sizeof args, "train --data %s %s --threads %d --quiet --checkpoint ck.ckpt --out out.ncf",
                     DATA, opts, threads);
        rc = run_and_signal(args, 1e9, 0, SIGKILL);
        resumes++;
        assert_int_equal(rc, 0);
    }
    size_t n;
    char *got = read_scratch("out.ncf", &n);
    assert_non_null(got);
    fprintf(stderr, "%s, %d thread(s): %d kills, %d resumes: %s\n", opts, threads, kills, resumes,
            n == n0 && memcmp(got, want, n) == 0 ? "same bytes" : "DIFFERENT");
    assert_int_equal(n, n0);
    assert_memory_equal(got, want, n);
    free(got);
    free(want);
}

static void test_killed_neumf_dense(void **state)
{
    for (int th = 1; th <= 2; th++) killed_runs_same_bytes("--model neumf --rows dense --epochs 6", th);
}

static void test_killed_neumf_lazy(void **state)
{
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep one configuration)\n");
        skip();
    }
    for (int th = 1; th <= 2; th++) killed_runs_same_bytes("--model neumf --rows lazy --epochs 6", th);
}

static void test_killed_mf_bpr(void **state)
{
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep one configuration)\n");
        skip();
    }
    for (int th = 1; th <= 2; th++)
        killed_runs_same_bytes("--model mf --factors 16 --loss bpr --neg 1 --epochs 8", th);
}

static void test_killed_early_stop(void **state)
{
    if (tu_quick()) {
        fprintf(stderr, "skipped: NCF_QUICK is set (sanitizer runs keep one configuration)\n");
        skip();
    }
    for (int th = 1; th <= 2; th++)
        killed_runs_same_bytes("--model neumf --validation --early-stop 2 --epochs 10", th);
}

/* SIGINT and SIGTERM: a checkpoint, the exit codes, and a way to go on. */
static void test_signals(void **state)
{
    char args[1024];
    const int sigs[] = {SIGINT, SIGTERM};
    for (int k = 0; k < 2; k++) {
        remove(tu_path("ck.ckpt"));
        snprintf(args, sizeof args, "train --data %s --epochs 30 --threads 2 --quiet --checkpoint ck.ckpt", DATA);
        assert_int_equal(run_and_signal(args, 0.6, 0, sigs[k]), 128 + sigs[k]);
        assert_true(tu_exists(tu_path("ck.ckpt")));
        size_t n;
        char *log = read_scratch("run.log", &n);
        assert_non_null(strstr(log, "resume with: ncf train --resume ck.ckpt"));
        free(log);
    }
    /* a refused resume (another seed) leaves the checkpoint as it was */
    size_t n1, n2;
    char *before = read_scratch("ck.ckpt", &n1);
    char *out = NULL;
    int rc = tu_run(&out, "cd %s && %s train --resume ck.ckpt --seed 7", tu_dir(), NCF);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "seed"));
    free(out);
    rc = tu_run(&out, "cd %s && %s train --resume ck.ckpt --factors 16", tu_dir(), NCF);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(out, "model options"));
    free(out);
    char *after = read_scratch("ck.ckpt", &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(before, after, n1);
    free(before);
    free(after);
    /* a damaged checkpoint is refused, exit 1 */
    FILE *f = fopen(tu_path("ck.ckpt"), "r+b");
    fseek(f, 100, SEEK_SET);
    fputc('X', f);
    fclose(f);
    rc = tu_run(&out, "cd %s && %s train --resume ck.ckpt", tu_dir(), NCF);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(out, "CRC"));
    free(out);
}

static int setup(void **state)
{
    const char *bin = getenv("NCF_BIN");
    if (bin) {
        if (bin[0] == '/') snprintf(NCF, sizeof NCF, "%s", bin);
        else {
            char cwd[256];
            snprintf(NCF, sizeof NCF, "%s/%s", getcwd(cwd, sizeof cwd), bin);
        }
    } else {
        char cwd[256];
        snprintf(NCF, sizeof NCF, "%s/ncf", getcwd(cwd, sizeof cwd));
    }
    snprintf(DATA, sizeof DATA, "%s", tu_path("resume.tsv"));
    return tu_run(NULL, "%s synth --out %s --users 1500 --items 1000 --interactions 60000 --seed 3 >/dev/null", NCF,
                  DATA);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_killed_neumf_dense), cmocka_unit_test(test_killed_neumf_lazy),
        cmocka_unit_test(test_killed_mf_bpr),      cmocka_unit_test(test_killed_early_stop),
        cmocka_unit_test(test_signals),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
