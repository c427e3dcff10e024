/* bench_machine.c — the state of the machine the other benchmarks run on,
 * printed before them: per CPU, the latency of a dependent load over 8 MB
 * (last-level cache, which a VM's neighbours share) and, for CPUs 0 and 1,
 * the round trip of a cache line bounced between them. On the project's
 * 2-vCPU VM both move by 3-5x from hour to hour, and the two-thread
 * training figures with them (docs/performance.md), so every figure
 * should be read beside these. Measures nothing of ncf itself. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* ns per load of a pointer chase over a random cycle through `bytes`. */
static double chase_ns(size_t bytes)
{
    const size_t n = bytes / 64;
    size_t *next = aligned_alloc(64, n * 64), *order = malloc(n * sizeof *order);
    if (!next || !order) {
        free(next);
        free(order);
        return -1.0;
    }
    uint64_t x = 88172645463325252ull; /* xorshift: a fixed random cycle */
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t j = (size_t)(x % (i + 1)), t = order[i];
        order[i] = order[j], order[j] = t;
    }
    for (size_t i = 0; i < n; i++) next[order[i] * 8] = order[(i + 1) % n] * 8;
    size_t p = 0;
    for (size_t i = 0; i < n; i++) p = next[p]; /* warm */
    const size_t steps = 4000000;
    double t0 = now();
    for (size_t i = 0; i < steps; i++) p = next[p];
    double ns = 1e9 * (now() - t0) / (double)steps;
    free(next);
    free(order);
    return p == (size_t)-1 ? -1.0 : ns; /* p used, so the chase is not removed */
}

static _Alignas(64) atomic_int ball;
enum { BOUNCES = 100000 };

static void *bounce_back(void *arg)
{
    (void)arg;
    pin(1);
    for (int i = 0; i < BOUNCES; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 1) {
        }
        atomic_store_explicit(&ball, 0, memory_order_release);
    }
    return NULL;
}

/* ns for a line to go from CPU 0 to CPU 1 and back. */
static double round_trip_ns(void)
{
    pthread_t other;
    atomic_store(&ball, 0);
    if (pin(0) != 0 || pthread_create(&other, NULL, bounce_back, NULL) != 0) return -1.0;
    double t0 = now();
    for (int i = 0; i < BOUNCES; i++) {
        atomic_store_explicit(&ball, 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 0) {
        }
    }
    double ns = 1e9 * (now() - t0) / BOUNCES;
    pthread_join(other, NULL);
    return ns;
}

int main(void)
{
    const int cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
    printf("# machine state: dependent-load latency over 8 MB per CPU; cache-line round trip CPU 0 <-> 1\n");
    for (int c = 0; c < cpus && c < 64; c++) {
        if (pin(c) != 0) continue;
        double ns = chase_ns((size_t)8 << 20);
        printf("cpu %-3d 8 MB load %7.1f ns\n", c, ns);
        printf("{\"bench\": \"machine\", \"cpu\": %d, \"load_8mb_ns\": %.1f}\n", c, ns);
    }
    if (cpus > 1) {
        double rt = round_trip_ns();
        printf("cpu 0 <-> 1 round trip %7.0f ns\n", rt);
        printf("{\"bench\": \"machine\", \"round_trip_ns\": %.0f}\n", rt);
    }
    return 0;
}
