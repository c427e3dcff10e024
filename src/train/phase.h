/* phase.h — optional per-phase timers for the training step loop, for
 * finding where a step's time goes (docs/performance.md). Built in only
 * with -DNCF_PHASE_TIMING (`make phase` builds build-phase/ncf so); in the
 * normal build every macro here is empty and NCF_AB_ON is 1.
 *
 * With it, each thread adds up the time of each phase of each step, odd
 * and even steps apart, and prints per epoch, per thread and per parity
 * the mean time a step spends in each phase (µs) to stderr. Code guarded by
 * `if (NCF_AB_ON)` then runs on odd steps only: two ways of doing something
 * that give the same results can be compared inside one run ("step-parity
 * A/B"), where this VM's drift from run to run hides a few per cent.
 * Timing uses the time-stamp counter on x86-64 (a few ns a read), scaled by
 * the monotonic clock over the epoch; elsewhere the monotonic clock. */
#ifndef NCF_TRAIN_PHASE_H
#define NCF_TRAIN_PHASE_H

#ifdef NCF_PHASE_TIMING

#include <stdint.h>
#include <stdio.h>

#include "core/core.h"

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline uint64_t ncf_phase_ticks_(void) { return __rdtsc(); }
#else
static inline uint64_t ncf_phase_ticks_(void) { return (uint64_t)(ncf_now_seconds_() * 1e9); }
#endif

enum { NCF_PHASES = 6 };
static const char *const ncf_phase_names_[NCF_PHASES] = {"lists", "barrier1", "groups", "barrier2", "dense", "rows"};

/* one thread's sums over an epoch: [parity][phase] */
typedef struct ncf_phase_clock {
    uint64_t sum[2][NCF_PHASES];
    uint64_t last, start;
    double start_s;
} ncf_phase_clock;

static _Thread_local int ncf_phase_parity_; /* this thread's step parity */

#define NCF_AB_ON (ncf_phase_parity_)
#define NCF_PHASE_DECL ncf_phase_clock phase_clock_ = {.last = ncf_phase_ticks_(), .start_s = ncf_now_seconds_()}; \
    phase_clock_.start = phase_clock_.last
#define NCF_PHASE_STEP(step) (ncf_phase_parity_ = (int)((step) & 1))
#define NCF_PHASE(k)                                                                   \
    do {                                                                               \
        const uint64_t now_ = ncf_phase_ticks_();                                      \
        phase_clock_.sum[ncf_phase_parity_][k] += now_ - phase_clock_.last;            \
        phase_clock_.last = now_;                                                      \
    } while (0)
#define NCF_PHASE_REPORT(tid, epoch, n_steps) ncf_phase_report_(&phase_clock_, tid, epoch, n_steps)

static inline void ncf_phase_report_(const ncf_phase_clock *c, int tid, int epoch, int64_t n_steps)
{
    const double us_per_tick = (ncf_now_seconds_() - c->start_s) * 1e6 / (double)(ncf_phase_ticks_() - c->start);
    for (int p = 0; p < 2; p++) {
        const int64_t steps = (n_steps + 1 - p) / 2; /* even steps: 0, 2, ... */
        if (steps == 0) continue;
        char line[256];
        int len = snprintf(line, sizeof line, "phase: epoch %d thread %d %s steps:", epoch, tid, p ? "odd" : "even");
        double total = 0.0;
        for (int k = 0; k < NCF_PHASES && len > 0 && len < (int)sizeof line; k++) {
            const double us = (double)c->sum[p][k] * us_per_tick / (double)steps;
            total += us;
            len += snprintf(line + len, sizeof line - (size_t)len, " %s %.2f", ncf_phase_names_[k], us);
        }
        fprintf(stderr, "%s total %.2f us/step\n", line, total);
    }
}

#else /* the normal build: nothing */

#define NCF_AB_ON 1
#define NCF_PHASE_DECL ((void)0)
#define NCF_PHASE_STEP(step) ((void)0)
#define NCF_PHASE(k) ((void)0)
#define NCF_PHASE_REPORT(tid, epoch, n_steps) ((void)0)

#endif
#endif
