/*
 * stratsim/behaviour.h - behaviour checks: named expectations about the
 * direction in which a change moves an output ("more reinvestment gains
 * public share"), evaluated against the scenario itself (docs/scenarios.md,
 * "Behaviour checks").
 *
 * A check has a name, a set of changes (parameter paths and values, applied
 * with ss_param_lookup/ss_param_set, so a decision input is an intervention
 * from the policy time on and any other input changes the base) and an
 * expectation `SELECTOR OP RHS`: OP is <, <=, > or >=, RHS is `base` (the
 * selected value in the unchanged scenario) or a number. The selector gives
 * one value (no `@each`). A strict comparison needs a difference of more
 * than SS_EFFECT_TOL relative (sens.h), so that a change that acts only
 * through rounding does not pass; a non-strict one allows that much
 * rounding the other way.
 * Ownership: plain value types; the caller owns every array.
 * Depends on model.h, param.h, select.h, sim.h.
 */
#ifndef STRATSIM_BEHAVIOUR_H
#define STRATSIM_BEHAVIOUR_H

#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/select.h"
#include "stratsim/sim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { SS_EXPECT_LT = 0, SS_EXPECT_LE, SS_EXPECT_GT, SS_EXPECT_GE } ss_expect_op;

/** A parsed expectation. */
typedef struct ss_expect {
    ss_selector sel;
    ss_expect_op op;
    int vs_base;              /**< 1: RHS is `base` */
    double value;             /**< RHS number when !vs_base */
    char text[SS_SELECTOR_MAX + 1];
} ss_expect;

/** Parse "SELECTOR OP base" or "SELECTOR OP NUMBER". */
int ss_expect_parse(ss_expect *out, const char *text, ss_err *err);

/** The text of an operator ("<", "<=", ">", ">="). */
const char *ss_expect_op_text(ss_expect_op op);

/** One check: its changes and its expectation (borrowed). */
typedef struct ss_check {
    const char *name;
    const char *const *paths;  /**< [nchanges] parameter paths */
    const double *values;      /**< [nchanges] */
    size_t nchanges;
    const char *expect;
} ss_check;

/** The outcome of one check. */
typedef struct ss_check_outcome {
    double base;    /**< the selected value in the unchanged scenario */
    double value;   /**< the selected value with the changes */
    double rhs;     /**< what it was compared with (base or the number) */
    int pass;
} ss_check_outcome;

/**
 * Validate every check against m (paths, values in range, expectations) and
 * run it: 1 + n simulations. `ropts` (may be NULL) is passed to every run.
 * out[0..n-1] receives the outcomes. A failing run is an error that names
 * the check; a failing expectation is not (see ss_check_outcome.pass).
 */
int ss_checks_run(ss_check_outcome *out, const ss_model *m, const ss_check *checks, size_t n,
                  const ss_run_opts *ropts, ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
