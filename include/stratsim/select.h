/*
 * stratsim/select.h - output selectors and constraints: the names by which
 * sensitivity analysis, calibration and optimisation pick values out of a
 * run result (docs/analysis.md).
 *
 * A selector is `METRIC:ID[:ID][@WHEN]`:
 *
 *     share:alibaba:public@2028     per provider and segment (SS_PS_* names)
 *     operating_profit:alibaba@2027 per provider (SS_P_* names)
 *     size:public@2025.5            per segment (SS_S_* names)
 *     npv:alibaba                   no `@`: the last output time
 *     operating_profit:alibaba@each every output time (a series)
 *     gpu@2028                      a user stock or derived metric (no ids)
 *
 * `@start` and `@end` name the first and last output times.  A metric that
 * exists per provider and per provider-and-segment (`revenue`) is told apart
 * by the number of ids.  Metric names are those of result.h; any other name
 * without ids addresses a user stock or derived metric (ss_result.extra) by
 * name, checked when the selector is evaluated on a result.
 *
 * Evaluation at a time that is an output time (within 1e-9) reads that value;
 * a time strictly between two output times is linearly interpolated between
 * the two neighbouring outputs (so a jump caused by an event between them is
 * smeared over the interval); a time outside the output range is an error.
 *
 * A constraint is `SELECTOR >= VALUE` or `SELECTOR <= VALUE`.  With an `@each`
 * selector it must hold at every output time.
 *
 * Ownership: ss_selector and ss_constraint are plain value types with fixed
 * buffers; they own no memory and need no free.  Evaluation borrows the
 * result.  Depends on error.h, model.h and result.h only.
 */
#ifndef STRATSIM_SELECT_H
#define STRATSIM_SELECT_H

#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest selector or constraint text, and longest id, in bytes (NUL excluded). */
#define SS_SELECTOR_MAX 255
#define SS_SELECTOR_ID_MAX 127

/** Which metric table a selector addresses. */
typedef enum {
    SS_SEL_PS = 0,  /**< per provider and segment: metric is an ss_metric_ps */
    SS_SEL_P,       /**< per provider: metric is an ss_metric_p */
    SS_SEL_S,       /**< per segment: metric is an ss_metric_s */
    SS_SEL_X        /**< a user stock or derived metric: its name is `extra` */
} ss_sel_kind;

/** Which time(s) a selector addresses. */
typedef enum {
    SS_SEL_AT = 0,  /**< the time `t` (interpolated between outputs if needed) */
    SS_SEL_LAST,    /**< the last output time (no `@`, or `@end`) */
    SS_SEL_FIRST,   /**< the first output time (`@start`) */
    SS_SEL_EACH     /**< every output time (`@each`) */
} ss_sel_when;

typedef struct ss_selector {
    ss_sel_kind kind;
    int metric;                              /**< enum value of the table given by kind */
    char provider[SS_SELECTOR_ID_MAX + 1];   /**< "" for SS_SEL_S */
    char segment[SS_SELECTOR_ID_MAX + 1];    /**< "" for SS_SEL_P */
    char extra[SS_SELECTOR_ID_MAX + 1];      /**< SS_SEL_X: the stock or derived metric */
    ss_sel_when when;
    double t;                                /**< for SS_SEL_AT */
    char text[SS_SELECTOR_MAX + 1];          /**< the selector as written (trimmed) */
} ss_selector;

/**
 * Parse a selector. Checks the syntax, the metric name and the number of ids
 * it needs; ids are checked against a model by ss_selector_validate().
 * Errors (SS_EINVAL) quote the selector and say what was expected.
 */
int ss_selector_parse(ss_selector *out, const char *text, ss_err *err);

/**
 * Build a selector from its parts (used for observation files): `provider` or
 * `segment` may be NULL or "" where the metric does not take one; which of
 * the three tables is meant follows from which ids are non-empty. `when` and
 * `t` as in ss_selector. The text is synthesised in selector syntax.
 */
int ss_selector_make(ss_selector *out, const char *metric, const char *provider,
                     const char *segment, ss_sel_when when, double t, ss_err *err);

/**
 * Check the ids against model `m` and that an SS_SEL_AT time lies within
 * [t0, t1] (within 1e-9). Unknown ids are SS_EINVAL naming them.
 */
int ss_selector_validate(const ss_selector *sel, const ss_model *m, ss_err *err);

/**
 * One value from a result: at the selector's time (SS_SEL_AT, SS_SEL_FIRST,
 * SS_SEL_LAST). An SS_SEL_EACH selector is SS_EINVAL here; use
 * ss_selector_eval_series(). Ids are looked up by name in the result.
 */
int ss_selector_eval(double *out, const ss_selector *sel, const ss_result *r, ss_err *err);

/** The selected metric at an arbitrary time t (the selector's own time ignored). */
int ss_selector_eval_at(double *out, const ss_selector *sel, const ss_result *r,
                        double t, ss_err *err);

/**
 * The selected metric at every output time: writes r->nt values into `out`
 * (caller-owned, at least r->nt entries). The selector's time is ignored.
 */
int ss_selector_eval_series(double *out, const ss_selector *sel, const ss_result *r,
                            ss_err *err);

/** Constraint sense. */
typedef enum { SS_CMP_GE = 0, SS_CMP_LE } ss_cmp;

typedef struct ss_constraint {
    ss_selector sel;
    ss_cmp op;
    double bound;
    char text[SS_SELECTOR_MAX + 1];   /**< as written (trimmed) */
} ss_constraint;

/** How a constraint fares on one result. */
typedef struct ss_constraint_value {
    double value;      /**< the selected value; for @each the worst one (min for >=, max for <=) */
    double violation;  /**< max(0, bound - value) for >=, max(0, value - bound) for <=; >= 0 */
    double sq;         /**< sum of squared violations (over every output time for @each) */
} ss_constraint_value;

/**
 * Parse "SELECTOR >= VALUE" or "SELECTOR <= VALUE" (spaces optional). VALUE
 * is a finite decimal number read independently of the locale.
 */
int ss_constraint_parse(ss_constraint *out, const char *text, ss_err *err);

/** ss_selector_validate() on the constraint's selector. */
int ss_constraint_validate(const ss_constraint *c, const ss_model *m, ss_err *err);

/** Evaluate a constraint on a result. */
int ss_constraint_eval(ss_constraint_value *out, const ss_constraint *c,
                       const ss_result *r, ss_err *err);

/**
 * Holds within `tol` (violation <= tol). The analysis modules use 1e-6.
 */
int ss_constraint_holds(const ss_constraint_value *v, double tol);

#ifdef __cplusplus
}
#endif
#endif
