/*
 * stratsim/param.h - numeric inputs of a model addressed by parameter paths,
 * the common currency of --set, Monte Carlo, sensitivity, calibration and
 * optimisation.
 *
 * Paths (SPEC §4): `discount_rate`, `time.start|stop|step|epoch`,
 * `solver.rtol|atol|h|hmin`, `segments.<id>.<field>` (size, growth, tau,
 * beta_capability, beta_price, beta_reliability, learning, efficiency,
 * depreciation, bass.p, bass.q, bass.potential), `providers.<id>.<field>`
 * (fixed_cost, reinvest, reliability, recovery, experience) and
 * `providers.<id>.<field>.<segment>` (share, margin, opex, allocation, price,
 * participation, lever, capability, brand).  Setting a schedule field makes
 * it the constant; a path ending in `#N` (N >= 1) addresses the value of
 * knot N of a step/linear schedule instead.  Setting capability or brand
 * marks it as given.  Setting one segment's allocation of a provider whose
 * allocation was defaulted first makes the default explicit (initial revenue
 * fractions for every segment), then changes the one segment.
 * Bass fields exist only on segments declared with `bass`.
 * A handle points into one model: look the path up again for a copy.
 */
#ifndef STRATSIM_PARAM_H
#define STRATSIM_PARAM_H

#include "stratsim/error.h"
#include "stratsim/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ss_param {
    double *scalar;          /**< a plain number, or NULL */
    ss_schedule *sched;      /**< a schedule, or NULL */
    long knot;               /**< -1: whole schedule (set makes it constant); else knot index */
    unsigned char *given;    /**< flag set to 1 on ss_param_set, or NULL */
    int alloc_provider;      /**< provider index for allocation paths, else -1 */
    ss_model *model;         /**< the model the handle points into */
} ss_param;

/** Resolve `path` against model `m`. Unknown ids/fields are SS_EINVAL naming them. */
int ss_param_lookup(ss_param *out, ss_model *m, const char *path, ss_err *err);

/** Current value (for a whole non-constant schedule: its value at m->t0). */
double ss_param_get(const ss_param *p, const ss_model *m);

/** Set the value (finite required, else SS_EINVAL). */
int ss_param_set(const ss_param *p, double v, ss_err *err);

/** Convenience: lookup + set. */
int ss_model_set_path(ss_model *m, const char *path, double v, ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
