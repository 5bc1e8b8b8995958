/*
 * stratsim/sim.h - integrate a resolved model (SPEC §1) with gsl_odeiv2 and
 * record the outputs.
 *
 * The run restarts integration at every discontinuity (output times, event
 * times, schedule knots, decision epochs), applies events between intervals
 * and checks every derivative and state for NaN/Inf.  An optional callback is
 * called at every decision epoch and may change schedules from that time on
 * through ss_run_set(); this is how Lua policies are attached.
 */
#ifndef STRATSIM_SIM_H
#define STRATSIM_SIM_H

#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A run in progress (opaque); valid only inside callbacks. */
typedef struct ss_run ss_run;

typedef struct ss_run_opts {
    int version;
    /** Called at every decision epoch t0 + n*epoch <= t1 (after events at
     *  that time, before the output at that time). Non-zero return stops the
     *  run with that status (message in err). */
    int (*on_epoch)(ss_run *run, double t, void *payload, ss_err *err);
    /** Called at every output time after the built-in metrics are computed;
     *  writes result->nextra values into `out`. */
    int (*on_output)(ss_run *run, double t, double *out, void *payload, ss_err *err);
    size_t nextra;                   /**< number of derived metrics */
    const char *const *extra_names;  /**< [nextra] names of derived metrics */
    void *payload;
    volatile int *interrupt;         /**< if non-NULL and set, stop with SS_EINTR */
} ss_run_opts;

#define SS_RUN_OPTS_INIT { 1, NULL, NULL, 0, NULL, NULL, NULL }

/**
 * Run a model. The model is resolved first if it was not (a copy is used, the
 * argument is not modified). On success *out receives a result the caller
 * frees with ss_result_free().
 */
int ss_sim_run(ss_result **out, const ss_model *m, const ss_run_opts *opts, ss_err *err);

/* ---- reusable workspaces (repeated runs: Monte Carlo, sensitivity, fits) ---- */

/**
 * A simulation workspace: the state and scratch arrays, the breakpoint lists
 * and the GSL driver of a run, kept between runs so that repeated runs
 * allocate only the model copy and the result. It grows to the largest model
 * it has run; the GSL driver is reused while the solver method, the state
 * size and the tolerances stay the same. A workspace is not thread-safe: use
 * one per thread. ss_sim_run() is ss_sim_run_ws() with a temporary workspace.
 */
typedef struct ss_sim_workspace ss_sim_workspace;

/** A new, empty workspace (NULL on allocation failure). */
ss_sim_workspace *ss_sim_workspace_new(void);

/** Release a workspace. NULL-safe. Must not be called during a run that uses it. */
void ss_sim_workspace_free(ss_sim_workspace *ws);

/**
 * Same as ss_sim_run(), using (and growing) `ws`. The result does not refer
 * to the workspace. Results are identical to ss_sim_run()'s whatever ran in
 * the workspace before.
 */
int ss_sim_run_ws(ss_sim_workspace *ws, ss_result **out, const ss_model *m,
                  const ss_run_opts *opts, ss_err *err);

/* ---- access to the state of a run in progress (callbacks only) ---- */

const ss_model *ss_run_model(const ss_run *run);
double ss_run_time(const ss_run *run);
/** Current value of a metric: per provider+segment, per provider, per segment. */
double ss_run_ps(const ss_run *run, ss_metric_ps m, int i, int k);
double ss_run_p(const ss_run *run, ss_metric_p m, int i);
double ss_run_s(const ss_run *run, ss_metric_s m, int k);
/**
 * From the current time on, the provider's schedule `field` is the constant
 * `value` (segment k for per-segment fields, ignored for reinvest).
 * Same semantics as a `set` event.
 */
int ss_run_set(ss_run *run, int provider, ss_field field, int k, double value, ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
