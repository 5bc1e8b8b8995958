/*
 * stratsim/optimize.h - optimisation (docs/analysis.md): choose controls (parameter
 * paths within bounds) to maximise or minimise an objective subject to
 * constraints on the outputs.
 *
 * The objective is a single-value selector ("npv:alibaba",
 * "share:alibaba:public@2028") or a C callback on the run result (the hook
 * for Lua functions).  Constraints are strings "SELECTOR >= VALUE" or
 * "SELECTOR <= VALUE" (select.h); an `@each` selector must hold at every
 * output time.
 *
 * Method: gsl_multimin_fminimizer_nmsimplex2 (Nelder-Mead) on unbounded
 * variables z with x = lo + (hi - lo) (1 + sin z) / 2, so every z is inside
 * the box and the bounds themselves are reachable.  Constraints enter as a
 * quadratic penalty mu * S * sum(violation^2) (S = max(|objective at the
 * model's current values|, 1), so the penalty scales with the objective; for
 * @each the sum runs over every output time) whose weight mu grows by
 * `penalty_growth` each round until every constraint holds within
 * `feas_tol` (after at least one restart) or `penalty_rounds` rounds are
 * done; each round restarts the simplex at the previous solution with the
 * step shrunk by 0.3.  The
 * whole is repeated from `starts` starting points: the model's current
 * values (clamped into the box) and then points of a Sobol sequence over the
 * box (shifted by a seed-derived random vector if seed != 0).  The best
 * feasible end point wins (largest objective when maximising); if none is
 * feasible, the least infeasible one (smallest total violation), flagged.
 * The final report evaluates every constraint at the winning point without
 * any penalty.  A run that fails (invalid parameter combination, numerical
 * failure) counts as infinitely bad; an interrupt, out-of-memory or an error
 * from the objective callback stops the optimisation.
 *
 * Ownership: ss_optimize_run() returns through `out` a result the caller
 * frees with ss_optimize_free() (NULL-safe). The model and problem are
 * borrowed and not modified.
 */
#ifndef STRATSIM_OPTIMIZE_H
#define STRATSIM_OPTIMIZE_H

#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/select.h"
#include "stratsim/sim.h"
#include "stratsim/progress.h"
#include "stratsim/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest number of controls (dimensions of gsl_qrng_sobol). */
#define SS_OPT_MAX_CONTROLS 40

/** A control: parameter path (param.h) and finite bounds lower <= upper. */
typedef struct ss_opt_control {
    const char *path;
    double lower, upper;
} ss_opt_control;

/**
 * Objective callback: write the objective of run result `r` obtained with
 * control values x[0..ncontrols-1] into *out (finite). A non-zero return
 * (with a message in err) stops the optimisation with that status.
 */
typedef int (*ss_opt_objective_fn)(double *out, const ss_result *r, const double *x,
                                   void *payload, ss_err *err);

typedef struct ss_opt_problem {
    const ss_opt_control *controls;
    size_t ncontrols;               /**< 1 .. SS_OPT_MAX_CONTROLS */
    const char *objective;          /**< selector, or NULL when fn is set */
    ss_opt_objective_fn fn;         /**< callback, or NULL when objective is set */
    void *payload;                  /**< passed to fn */
    int minimize;                   /**< 0: maximise (default), 1: minimise */
    const char *const *constraints; /**< [nconstraints] "SELECTOR >= VALUE" */
    size_t nconstraints;
} ss_opt_problem;

typedef struct ss_opt_opts {
    int version;
    size_t starts;          /**< number of starting points, default 4 */
    size_t max_iter;        /**< simplex iterations per round, default 400 */
    double tol;             /**< simplex size (in z) to stop a round, default 1e-7 */
    unsigned long seed;     /**< 0: plain Sobol starts; else random shift seed */
    double step;            /**< initial simplex step in z (radians), default 0.3 */
    double penalty;         /**< initial penalty weight mu, default 10 */
    double penalty_growth;  /**< factor per round, default 10 */
    size_t penalty_rounds;  /**< at most, default 10 */
    double feas_tol;        /**< constraint tolerance, default 1e-6 */
    ss_progress progress;   /**< told the starts done of `starts` (0 of them at the start) */
    /** Several processes (transport.h; NULL: one): the units are the starts;
     *  every process evaluates the current values (the penalty scale) and
     *  draws every starting point, runs its own starts and sends their end
     *  points and counts to rank 0, which picks the winner in start order
     *  and reports it, bit-identical to one process; the other ranks return
     *  SS_OK with *out NULL. */
    const ss_transport *dist;
} ss_opt_opts;

#define SS_OPT_OPTS_INIT { 1, 4, 400, 1e-7, 0, 0.3, 10.0, 10.0, 10, 1e-6, SS_PROGRESS_NONE, NULL }

/** Summary of one start. */
typedef struct ss_opt_start {
    double objective;       /**< objective at its end point */
    double violation;       /**< sum of constraint violations there */
    int feasible;
    int converged;          /**< last round stopped on the size test */
    size_t iterations;
} ss_opt_start;

typedef struct ss_opt_result {
    size_t ncontrols, nconstraints, nstarts;
    char **paths;           /**< [ncontrols] owned */
    double *lower, *upper;  /**< [ncontrols] */
    double *x;              /**< [ncontrols] best point */
    double *x0;             /**< [ncontrols] the model's current values (clamped) */
    double objective;       /**< objective at x (unpenalised, in the user's sense) */
    double objective0;      /**< objective at x0 */
    char **cons_text;       /**< [nconstraints] owned */
    double *cons_value;     /**< [nconstraints] selected value at x (worst over times for @each) */
    double *cons_violation; /**< [nconstraints] >= 0 */
    unsigned char *cons_holds; /**< [nconstraints] violation <= feas_tol */
    int feasible;           /**< every constraint holds at x */
    int converged;          /**< the winning start converged */
    size_t best_start;      /**< index of the winning start */
    ss_opt_start *start;    /**< [nstarts] per-start summary */
    size_t nevals;          /**< model runs */
    size_t nfailed;         /**< runs that failed and were penalised */
    char last_failure[512]; /**< message of the last failed run, "" if none */
} ss_opt_result;

/**
 * Optimise `prob` on model `m`. `ropts` (may be NULL) is passed to every
 * run; `opts` may be NULL (defaults). Infeasibility is not an error: see
 * `feasible` and the per-constraint values.
 */
int ss_optimize_run(ss_opt_result **out, const ss_model *m, const ss_opt_problem *prob,
                    const ss_run_opts *ropts, const ss_opt_opts *opts, ss_err *err);

void ss_optimize_free(ss_opt_result *r);

/** The width of a table's label column for r: its longest control path or
 *  constraint text, and at least `min` (the tables of `stratsim optimize`
 *  and of the Lua result's summary()). */
size_t ss_opt_label_width(const ss_opt_result *r, size_t min);

#ifdef __cplusplus
}
#endif
#endif
