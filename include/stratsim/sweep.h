/*
 * stratsim/sweep.h - parameter sweeps: a scenario run at every point of a
 * full factorial grid of parameter values (the `sweep` verb and
 * Scenario:sweep).
 *
 * A grid has one or more axes; an axis is a parameter path (param.h) and
 * its values, given as `PATH=START:STOP:N` (N >= 1 evenly spaced values,
 * both ends included: value i is START + i * (STOP - START) / (N - 1), and
 * N = 1 gives START) or as a list `PATH=v1,v2,...`.  Points are numbered in
 * grid order with the last axis varying fastest: point p has on axis j the
 * value index (p / prod_{l > j} n_l) mod n_j.
 *
 * At a point, the run's own ss_model_copy() of the scenario gets each
 * axis's value with ss_param_lookup() + ss_param_set(), in axis order,
 * exactly as a Monte Carlo run gets its draws (so a decision input becomes
 * an intervention where the model makes it one, as with `--set`); then the
 * run validates and simulates it.  A failing point (a value outside the
 * parameter's range, a share sum != 1, a numerical failure) is an error of
 * the whole sweep: the error of the lowest failing point index is returned
 * as "point N (PATH=v, ...): message", whatever the thread count.
 *
 * Engines.  With opts.engine SS_SWEEP_ENGINE_AUTO (the default) the points
 * run in the batched engine of the Monte Carlo (src/core/batch.c: 16 lanes
 * in lockstep, each with its own steps) when the runs have no policy,
 * derived metric, user stock or link (no prepare hook, plain run_opts), the
 * solver is rk8pd and a run has at most 131,072 values (every metric at
 * every output time: the lanes hold whole results).  A point it cannot
 * finish is run again alone, which gives its exact error.  A point agrees
 * with the same point run alone (ss_sim_run, `stratsim run --set`) within
 * the solver's tolerance (tests: 1e-7 relative on every output), not bit
 * for bit; SS_SWEEP_ENGINE_SCALAR runs every point alone.  opts.info (may
 * be NULL) tells which engine ran.
 *
 * Threads.  ss_sweep_run() runs the points on opts.threads worker threads.
 * The scalar engine runs one point at a time (each thread with its own
 * simulation workspace), at most 4 * threads points ahead of the calling
 * thread; the batched one a chunk of consecutive points at a time (each
 * thread with its own lanes), at most 2 * threads chunks ahead: a quarter
 * of a thread's share of the points, rounded up to a multiple of 16 once
 * it is 16 or more, at most 256, and fewer when a chunk's results would
 * exceed 16 MiB (but then at least 16).  The
 * calling thread hands every result to opts.on_point strictly in point
 * order; each point's result depends only on the point (never on which
 * points share the lanes), so the calls (and any file written from them)
 * are identical for any thread count.
 *
 * Distribution (MPI, see docs/scale-out.md).  With opts.dist set, the
 * units of transport.h are the points: each process runs the points it
 * owns, results travel packed with ss_sweep_pack(), and rank 0 calls
 * on_point for every point in order, exactly as a single process does.
 *
 * Ownership: an axis from ss_sweep_axis_parse() owns its path and values;
 * release it with ss_sweep_axis_free().  Results handed to callbacks are
 * borrowed for the duration of the call.
 */
#ifndef STRATSIM_SWEEP_H
#define STRATSIM_SWEEP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/select.h"
#include "stratsim/sim.h"
#include "stratsim/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Most values on one axis, and most points of a grid. */
#define SS_SWEEP_MAX_VALUES 1000000u
#define SS_SWEEP_MAX_POINTS 100000000u

/** One axis of a grid. */
typedef struct ss_sweep_axis {
    char *path;       /**< parameter path (owned) */
    double *values;   /**< [n] (owned) */
    size_t n;
} ss_sweep_axis;

/**
 * Parse `PATH=START:STOP:N` or `PATH=v1,v2,...` (numbers read in the C
 * locale). Errors are SS_EINVAL naming what is wrong: no `=`, an empty
 * path, a range that is not START:STOP:N, a number that is not finite, N <
 * 1 or N > SS_SWEEP_MAX_VALUES, an empty list item.
 */
int ss_sweep_axis_parse(ss_sweep_axis *out, const char *spec, ss_err *err);

/** Release the axis's path and values. NULL-safe. */
void ss_sweep_axis_free(ss_sweep_axis *a);

/** Build an axis from a path and values (copied). SS_EINVAL for n = 0. */
int ss_sweep_axis_make(ss_sweep_axis *out, const char *path, const double *values, size_t n,
                       ss_err *err);

/**
 * Check a grid against model `m` (not modified: a copy is used): every path
 * names a numeric input (ss_param_lookup; the message has a "did you mean"),
 * no path appears twice, every value is in the parameter's range
 * (ss_param_check), and the grid has at most SS_SWEEP_MAX_POINTS points.
 * SS_EINVAL with err->path set to the axis's path.
 */
int ss_sweep_check(const ss_model *m, const ss_sweep_axis *axes, size_t naxes, ss_err *err);

/** Number of points of the grid (the product of the axis lengths; 0 if any is empty). */
uint64_t ss_sweep_npoints(const ss_sweep_axis *axes, size_t naxes);

/** The values x[naxes] of point p. */
void ss_sweep_point(const ss_sweep_axis *axes, size_t naxes, uint64_t p, double *x);

/** Set the values x[naxes] of a point on model m (lookup + set, axis order). */
int ss_sweep_apply(ss_model *m, const ss_sweep_axis *axes, size_t naxes, const double *x,
                   ss_err *err);

/** ss_sweep_opts.engine: the batched engine where it applies, or every point alone. */
enum { SS_SWEEP_ENGINE_AUTO = 0, SS_SWEEP_ENGINE_SCALAR = 1 };

/** What ran a sweep (this process's points). */
typedef struct ss_sweep_info {
    const char *engine;      /**< "batched" or "scalar" (static strings) */
    uint64_t scalar_points;  /**< points run alone: every point with "scalar"; with
                                  "batched", those the batched engine handed back */
} ss_sweep_info;

typedef struct ss_sweep_opts {
    unsigned threads;            /**< worker threads; 0: the number of CPUs */
    const ss_run_opts *run_opts; /**< template for every run (policy hooks); may be NULL */
    volatile int *interrupt;     /**< if set, stop with SS_EINTR; NULL: run_opts' */
    /** Called in worker `worker` before point `point` is run, after its values
     *  were set on `model`; may change `ro` (the run's copy of the
     *  template, e.g. a per-worker Lua state). Non-zero fails the point. */
    int (*prepare)(unsigned worker, uint64_t point, ss_model *model, ss_run_opts *ro,
                   void *payload, ss_err *err);
    /** Called in the calling thread for every point in point order (on rank 0
     *  only when distributed). Non-zero stops the sweep with that status. */
    int (*on_point)(uint64_t point, const double *x, const ss_result *r, void *payload,
                    ss_err *err);
    /** Called in the calling thread after each point handed to on_point. */
    void (*progress)(uint64_t done, uint64_t total, void *payload);
    void *payload;               /**< passed to prepare, on_point and progress */
    const ss_transport *dist;    /**< NULL: one process (transport.h) */
    int engine;                  /**< SS_SWEEP_ENGINE_AUTO (0) or SS_SWEEP_ENGINE_SCALAR */
    ss_sweep_info *info;         /**< if set, filled by ss_sweep_run (also on failure) */
} ss_sweep_opts;

#define SS_SWEEP_OPTS_INIT { 1, NULL, NULL, NULL, NULL, NULL, NULL, NULL, SS_SWEEP_ENGINE_AUTO, NULL }

/**
 * Run the sweep of model `m` (not modified) over the grid (checked with
 * ss_sweep_check first, and each path with ss_run_opts_check_path against
 * opts.run_opts: an input a link defines cannot be swept). Errors: SS_EINVAL (grid, a failing point), SS_ENUMERIC
 * (a failing point), SS_ENOMEM, SS_EINTR, or a callback's status.
 */
int ss_sweep_run(const ss_model *m, const ss_sweep_axis *axes, size_t naxes,
                 const ss_sweep_opts *opts, ss_err *err);

/** Serialise a result (every field) into a malloc'ed buffer, and back. */
int ss_sweep_pack(const ss_result *r, void **data, size_t *len, ss_err *err);
int ss_sweep_unpack(ss_result **out, const void *data, size_t len, ss_err *err);

/* ---- CSV ---- */

/**
 * Long layout: header `PATH1,...,PATHk,scenario,time,provider,segment,metric,value`
 * (ss_sweep_write_long_header), then per point the rows of the long layout
 * of ss_csv_write() for its result, each led by the point's values.
 */
int ss_sweep_write_long_header(FILE *f, const ss_sweep_axis *axes, size_t naxes, ss_err *err);
int ss_sweep_write_long_rows(FILE *f, const double *x, size_t naxes, const ss_result *r,
                             ss_err *err);

/**
 * Selected outputs: header `PATH1,...,PATHk,SEL1,...,SELm` (the selectors as
 * written), then one row per point: its values and the selected values
 * (single-value selectors: no `@each`).
 */
int ss_sweep_write_sel_header(FILE *f, const ss_sweep_axis *axes, size_t naxes,
                              const ss_selector *sel, size_t nsel, ss_err *err);
int ss_sweep_write_sel_row(FILE *f, const double *x, size_t naxes, const double *y, size_t nsel,
                           ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
