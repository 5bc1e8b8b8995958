/*
 * stratsim/schedule.h - time-varying inputs: constants, right-continuous step
 * schedules and piecewise-linear schedules.
 *
 * A schedule is a small value type embedded in model structs.  It owns its knot
 * arrays; release them with ss_schedule_clear().  A zero-initialised schedule
 * is the constant 0.  Step schedules hold the first value before the first knot
 * and are right-continuous (at a knot the new value applies).  Linear
 * schedules interpolate between knots and are flat outside them.
 */
#ifndef STRATSIM_SCHEDULE_H
#define STRATSIM_SCHEDULE_H

#include <stddef.h>
#include "stratsim/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SS_SCHED_CONST = 0, SS_SCHED_STEPS, SS_SCHED_LINEAR } ss_sched_kind;

typedef struct ss_schedule {
    ss_sched_kind kind;
    double value;     /**< the constant (kind == SS_SCHED_CONST) */
    size_t n;         /**< number of knots (steps/linear), >= 1 */
    double *t;        /**< knot times, strictly increasing (owned) */
    double *v;        /**< knot values (owned) */
} ss_schedule;

/** Make `s` the constant `v`, releasing any knots it held. */
void ss_schedule_set_const(ss_schedule *s, double v);

/**
 * Make `s` a step or linear schedule with copies of the `n` knots (t[i], v[i]).
 * Knot times must be finite and strictly increasing, values finite, n >= 1.
 * On error `s` is unchanged and the message is recorded under `path`.
 */
int ss_schedule_set_knots(ss_schedule *s, ss_sched_kind kind, size_t n,
                          const double *t, const double *v,
                          const char *path, ss_err *err);

/** Deep copy `src` into `dst` (dst is overwritten, not freed first). */
int ss_schedule_copy(ss_schedule *dst, const ss_schedule *src);

/** Release the knots; `s` becomes the constant 0. */
void ss_schedule_clear(ss_schedule *s);

/**
 * Index of the last knot with t[i] <= t, or -1 if t is before the first
 * (a step or linear schedule: n >= 1).
 */
long ss_schedule_last_knot(const ss_schedule *s, double t);

/** Value at time t (right-continuous for steps). */
double ss_schedule_eval(const ss_schedule *s, double t);

/**
 * Value at time t inside an integration interval that starts at `ta`:
 * a step schedule holds the value that applies at ta (the one in force inside
 * the interval), a linear schedule is evaluated at t.
 */
double ss_schedule_eval_in(const ss_schedule *s, double ta, double t);

/** Smallest and largest value the schedule takes. */
double ss_schedule_min(const ss_schedule *s);
double ss_schedule_max(const ss_schedule *s);

/** 1 if the schedule is a constant. */
int ss_schedule_is_const(const ss_schedule *s);

#ifdef __cplusplus
}
#endif
#endif
