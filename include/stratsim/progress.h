/*
 * stratsim/progress.h - progress reports of long analyses (sensitivity,
 * calibration, optimisation; Monte Carlo has its own in ss_mc_opts):
 * a callback told how much of the work is done, and the count formatted
 * for people.
 */
#ifndef STRATSIM_PROGRESS_H
#define STRATSIM_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * `fn(done, total, payload)` is called in the calling thread as the work
 * proceeds (not more often than the units complete): `done` of `total`
 * units are complete; total 0 means the total is not known in advance
 * (calibration). The units are the analysis's: model runs (tornado, Sobol,
 * calibration) or starts (optimisation). fn NULL: no reports.
 */
typedef struct ss_progress {
    void (*fn)(uint64_t done, uint64_t total, void *payload);
    void *payload;
} ss_progress;

#define SS_PROGRESS_NONE { NULL, NULL }

/** Report through p (NULL-safe). */
static inline void ss_progress_report(const ss_progress *p, uint64_t done, uint64_t total)
{
    if (p && p->fn)
        p->fn(done, total, p->payload);
}

/**
 * A count with thousands separators: 7168 -> "7,168", 200000 -> "200,000".
 * Returns buf.
 */
const char *ss_fmt_count(char *buf, size_t size, uint64_t n);

#ifdef __cplusplus
}
#endif
#endif
