/*
 * stratsim/sim.h - integrate a resolved model (docs/model.md) with gsl_odeiv2 and
 * record the outputs.
 *
 * The run restarts integration at every discontinuity (event times, schedule
 * knots, decision epochs) and output time, applies events between intervals
 * and checks every derivative and state for NaN/Inf.  An optional callback is
 * called at every decision epoch and may change schedules from that time on
 * through ss_run_set(); this is how Lua policies are attached.  Optional
 * user stocks (extra state) and links (inputs computed from the state in
 * every evaluation) are how the Lua layer extends the model (l_stocks.c).
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

    /* ---- user state and links (docs/model.md "User stocks and links").
     * All zero/NULL: the run does exactly what it does without them (no
     * callback, no extra work in the right-hand side). ---- */
    /** Number of user stocks: extra state variables integrated with the
     *  model's own state (same solver, tolerances and breakpoints). Their
     *  values are recorded as the first nstock derived metrics of the result
     *  (names stock_names, before the nextra derived metrics). */
    size_t nstock;
    const char *const *stock_names;  /**< [nstock] */
    const char *const *stock_units;  /**< [nstock] or NULL; entries may be NULL */
    /** Called once at t0 after the model's initial state is set: writes the
     *  nstock initial values into y0. The accessors see the initial model
     *  state only (ss_run_state_only() is 1). */
    int (*stock_init)(ss_run *run, double *y0, void *payload, ss_err *err);
    /** Writes the nstock derivatives at (t, state) into dydt. Called inside
     *  the right-hand side at every stage, after the links and the algebra:
     *  every accessor reads the stage being evaluated. */
    int (*stock_rates)(ss_run *run, double t, double *dydt, void *payload, ss_err *err);
    /** Links: inputs defined continuously by link_eval (their schedules are
     *  ignored; a `set` event or ss_run_set on them is an error). */
    size_t nlink;
    const struct ss_link *links;     /**< [nlink] */
    /** Writes the nlink input values at (t, state) into values. Called first
     *  in every evaluation of the equations; the accessors see the state
     *  only (ss_run_state_only() is 1: no algebraic quantities yet). */
    int (*link_eval)(ss_run *run, double t, double *values, void *payload, ss_err *err);
    void *ext_payload;               /**< payload of stock_init, stock_rates, link_eval */

    /** Called once at the start of every run, before any other callback
     *  (stock_init, link_eval, stock_rates, on_epoch, on_output), with
     *  start_payload; only ss_run_model() may be asked of the run. Optional
     *  (the Lua layer restarts math.random here, so that every run of an
     *  analysis starts from the same stream whatever ran before it on the
     *  thread). */
    int (*on_start)(ss_run *run, void *payload, ss_err *err);
    void *start_payload;
} ss_run_opts;

/** Options with nothing attached (every other member zero or NULL). */
#define SS_RUN_OPTS_INIT { .version = 1 }

/** The input a link defines: a decision input of a provider (field, segment
 *  for the per-segment fields) or, with field SS_LINK_GROWTH, the growth of
 *  segment `segment` (provider ignored). */
#define SS_LINK_GROWTH ((int)SS_NFIELDS)
typedef struct ss_link {
    int field;                       /**< ss_field, or SS_LINK_GROWTH */
    int provider;
    int segment;
    const char *name;                /**< for messages, e.g. "providers.alibaba.lever.ai" */
} ss_link;

/**
 * An analysis that varies the input at parameter path `path` would vary
 * nothing if a link of `o` defines it: SS_EINVAL naming both, else SS_OK
 * (also for NULL options). "providers.P.FIELD" without a segment conflicts
 * with a link on any segment of that field.
 */
int ss_run_opts_check_path(const ss_run_opts *o, const char *path, ss_err *err);

/** 1 if the options attach any callback (policy, derived metrics, stocks or links). */
static inline int ss_run_opts_active(const ss_run_opts *o)
{
    return o && (o->on_epoch || o->on_output || o->nstock || o->nlink);
}

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

/**
 * Run a resolved model (stratsim/model.h) with `ws` (NULL: a temporary
 * workspace): as ss_sim_run_ws() on the model it holds, without checking
 * or resolving it again. What a run changes (set events, interventions) it
 * changes in its own copy, so one resolved model serves any number of runs.
 */
int ss_sim_run_resolved(ss_sim_workspace *ws, ss_result **out, const ss_resolved *r,
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

/** Value of user stock j (0-based) in the state being evaluated. */
double ss_run_stock(const ss_run *run, size_t j);
/** Index of the user stock named `id`, or -1. */
int ss_run_stock_index(const ss_run *run, const char *id);
/** 1 while links are evaluated or stocks initialised: the accessors then
 *  give the state variables (share, capability, reliability, npv, size,
 *  hhi, revenue = size * share, stocks) and NaN for algebraic quantities
 *  (target share, margin, profits, investment). */
int ss_run_state_only(const ss_run *run);
/** Index of the link on (field, provider, segment) among opts->links, or -1. */
int ss_run_link_index(const ss_run *run, int field, int provider, int segment);
/** The value link j took at its latest evaluation. */
double ss_run_link_value(const ss_run *run, size_t j);

#ifdef __cplusplus
}
#endif
#endif
