/*
 * stratsim/param.h - numeric inputs of a model addressed by parameter paths,
 * the common currency of --set, Monte Carlo, sensitivity, calibration and
 * optimisation: this is the one resolver of such paths (src/lua/overrides.c,
 * behind `--set`, is a thin wrapper over it).
 *
 * Paths (docs/analysis.md): `discount_rate`, `time.start|stop|step|epoch`,
 * `solver.rtol|atol|h|hmin|max_steps`, `segments.<id>.<field>` (size, growth,
 * tau, beta_capability, beta_price, beta_reliability, learning, efficiency,
 * depreciation, bass.p, bass.q, bass.potential), `providers.<id>.<field>`
 * (fixed_cost, reinvest, reliability, recovery, experience) and
 * `providers.<id>.<field>.<segment>` (share, margin, opex, allocation, price,
 * participation, lever, capability, brand), and `events.N.severity` (an
 * outage, in (0, 1)) or `events.N.factor` (a market event, > 0) of event N
 * in declaration order, from 1.  Setting a schedule field makes
 * it the constant; a path ending in `#N` (N >= 1) addresses the value of
 * knot N of a step/linear schedule instead.  Setting capability or brand
 * marks it as given.  Setting one segment's allocation of a provider whose
 * allocation was defaulted first makes the default explicit (initial revenue
 * fractions for every segment), then changes the one segment.
 * Bass fields exist only on segments declared with `bass`, growth only on
 * the others.  Values are checked against the range of the scenario key
 * (finite always; > 0, >= 0, < 1, (0, 1], [0, 1], or a whole number >= 1 for
 * solver.max_steps) when set; cross-checks (share sums, potential >= size,
 * events inside the time range) are left to ss_model_resolve().  Unknown ids
 * and fields are SS_EINVAL with a "did you mean" suggestion.
 * A handle points into one model: look the path up again for a copy.
 */
#ifndef STRATSIM_PARAM_H
#define STRATSIM_PARAM_H

#include "stratsim/error.h"
#include "stratsim/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Value ranges of parameters (those of the scenario keys, docs/model.md). */
typedef enum ss_param_range {
    SS_RANGE_ANY = 0,   /**< any finite number */
    SS_RANGE_GT0,       /**< > 0 */
    SS_RANGE_GE0,       /**< >= 0 */
    SS_RANGE_LT1,       /**< < 1 */
    SS_RANGE_LOPEN01,   /**< in (0, 1] */
    SS_RANGE_CLOSED01,  /**< in [0, 1] */
    SS_RANGE_WHOLE,     /**< a whole number in [1, 1e15] */
    SS_RANGE_OPEN01     /**< in (0, 1) */
} ss_param_range;

typedef struct ss_param {
    double *scalar;          /**< a plain number, or NULL */
    ss_schedule *sched;      /**< a schedule, or NULL */
    long knot;               /**< -1: whole schedule (set makes it constant); else knot index */
    unsigned char *given;    /**< flag set to 1 on ss_param_set, or NULL */
    int alloc_provider;      /**< provider index for allocation paths, else -1 */
    ss_model *model;         /**< the model the handle points into */
    size_t count;            /**< consecutive values addressed: 1, or nseg (SS_PARAM_ALL_SEGMENTS) */
    unsigned long *whole;    /**< solver.max_steps (a whole number), or NULL */
    int range;               /**< ss_param_range of the value */
} ss_param;

/** ss_param_resolve() flag: a per-segment provider field without
 * `.<segment>` (margin, opex, allocation, price, participation, lever)
 * addresses every segment at once (`--set providers.x.price=1.1`). */
#define SS_PARAM_ALL_SEGMENTS 1u

/** ss_param_resolve() flag: a decision input (reinvest, allocation, price,
 * participation, lever) addresses the base schedule, from which the initial
 * state is resolved, instead of an intervention (calibration estimates the
 * base). Without it, setting a decision input makes an intervention that
 * applies from the policy time on (docs/model.md §6). */
#define SS_PARAM_BASE 2u

/**
 * Resolve `path` against model `m` with `flags`. Errors are SS_EINVAL with
 * err->path = path and a message without a path prefix ("unknown provider
 * 'x' (did you mean 'y'?)").
 */
int ss_param_resolve(ss_param *out, ss_model *m, const char *path, unsigned flags, ss_err *err);

/** Resolve `path` (no flags); messages start with "'PATH': ". */
int ss_param_lookup(ss_param *out, ss_model *m, const char *path, ss_err *err);

/** ss_param_lookup() with ss_param_resolve() flags. */
int ss_param_lookup_flags(ss_param *out, ss_model *m, const char *path, unsigned flags, ss_err *err);

/** Current value (for a whole non-constant schedule: its value at m->t0). */
double ss_param_get(const ss_param *p, const ss_model *m);

/** Check `v` against the parameter's range (SS_EINVAL "must be > 0, got -1"). */
int ss_param_check(const ss_param *p, double v, ss_err *err);

/** Set the value (checked with ss_param_check first). */
int ss_param_set(const ss_param *p, double v, ss_err *err);

/** Convenience: lookup + set. */
int ss_model_set_path(ss_model *m, const char *path, double v, ss_err *err);

/** Convenience: resolve with SS_PARAM_BASE + set (messages as ss_param_lookup). */
int ss_model_set_base_path(ss_model *m, const char *path, double v, ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
