/*
 * stratsim/sens.h - sensitivity analysis (docs/analysis.md): one-at-a-time tornado
 * and global Sobol indices.
 *
 * Tornado: each parameter path is moved to a caller-given low and high value
 * with every other input at its base value; the swing |y(high) - y(low)| of
 * each selected output ranks the parameters (rank 1 = largest swing, ties in
 * the order given).  Distribution quantiles, if wanted, are computed by the
 * caller and passed as low/high.
 *
 * Sobol: Saltelli sampling from a Sobol low-discrepancy sequence
 * (gsl_qrng_sobol in 2d dimensions, so d <= 20): row j of the sequence gives
 * u in (0,1)^(2d); its first d coordinates, mapped through the caller's
 * inverse CDFs, form row j of matrix A, the last d form B, and AB_i is A with
 * column i taken from B.  The model is evaluated N (d + 2) times.  GSL's
 * sequence already omits the all-zero point, so no point is skipped by
 * default (every u is in (0,1) and inverse CDFs stay finite).  Estimators:
 * first order S_i = mean((f(B) - m) (f(AB_i) - f(A))) / V (Saltelli et al.
 * 2010, with f(B) centred on the sample mean m so that a large output mean
 * adds no error), total ST_i = mean((f(A) - f(AB_i))^2) / (2V) (Jansen
 * 1999), with m and V the mean and variance (divisor 2N) of the 2N values
 * f(A), f(B).  Confidence intervals: percentile
 * bootstrap over the N rows (resampled with replacement by an MT19937
 * gsl_rng of the given seed, B = 200 by default).  If V = 0 the indices are
 * NaN.
 *
 * Ownership: ss_tornado_run(), ss_sobol_analyze() and ss_sobol_model()
 * return objects through `out` that the caller releases with
 * ss_tornado_free() / ss_sobol_free() (NULL-safe).  Inputs are borrowed and
 * not modified: the model is copied for every evaluation.
 */
#ifndef STRATSIM_SENS_H
#define STRATSIM_SENS_H

#include <stdio.h>
#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"
#include "stratsim/progress.h"
#include "stratsim/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------- tornado */

/** One parameter of a tornado: a parameter path (param.h) and its range. */
typedef struct ss_tornado_param {
    const char *path;
    double low, high;
} ss_tornado_param;

/** One bar: parameter `param` against output `output`. */
typedef struct ss_tornado_row {
    size_t param;          /**< index into ss_tornado.params */
    size_t output;         /**< index into ss_tornado.outputs */
    double low, high;      /**< parameter values */
    double out_low;        /**< output with the parameter at low */
    double out_high;       /**< output with the parameter at high */
    double swing;          /**< |out_high - out_low| */
    size_t rank;           /**< 1 = largest swing for this output */
} ss_tornado_row;

typedef struct ss_tornado {
    size_t nparam, nout;
    char **params;         /**< [nparam] paths (owned) */
    char **outputs;        /**< [nout] selectors as written (owned) */
    double *base_param;    /**< [nparam] base value of each parameter */
    double *base_out;      /**< [nout] outputs at the base values */
    ss_tornado_row *rows;  /**< [nout * nparam], by output, then rank */
} ss_tornado;

/**
 * Run a tornado analysis of model `m`: 1 + 2 * nparam simulations. Outputs
 * are selectors (select.h) that give one value (no `@each`). `ropts` (may
 * be NULL) is passed to every ss_sim_run (policies, interrupt flag). A
 * failing run is an error that names the parameter and its value.
 * `progress` (may be NULL) is told the runs done of 1 + 2 * nparam.
 */
int ss_tornado_run(ss_tornado **out, const ss_model *m, const ss_tornado_param *params,
                   size_t nparam, const char *const *outputs, size_t nout,
                   const ss_run_opts *ropts, const ss_progress *progress, ss_err *err);

/**
 * ss_tornado_run() over several processes (transport.h; dist NULL: one):
 * the units are the base run (unit 0) and each parameter's low and high
 * runs (unit 1 + i); rank 0 gets every unit's outputs and returns the
 * tornado, bit-identical to one process; the other ranks return SS_OK with
 * *out NULL. `progress` counts the runs this process did.
 */
int ss_tornado_run_dist(ss_tornado **out, const ss_model *m, const ss_tornado_param *params,
                        size_t nparam, const char *const *outputs, size_t nout,
                        const ss_run_opts *ropts, const ss_progress *progress,
                        const ss_transport *dist, ss_err *err);

void ss_tornado_free(ss_tornado *t);

/**
 * CSV for a tornado chart: header
 * `parameter,output,low_value,high_value,output_at_low,output_at_high,swing,rank`,
 * rows by output, then rank. Numbers via ss_fmt_double, text via ss_csv_field.
 */
int ss_tornado_write_csv(FILE *f, const ss_tornado *t, ss_err *err);

/* ------------------------------------------------------ effect probes */

/** An input whose probe changes no output by more than this (relative) has
 * no effect (docs/analysis.md, "Inputs that move nothing"). */
#define SS_EFFECT_TOL 1e-9

/** The relative difference |a - b| / max(|a|, |b|): 0 when a == b, HUGE_VAL
 * when either is not finite (or NaN) and they differ. */
double ss_rel_change(double a, double b);

/** 1 if a and b differ by more than SS_EFFECT_TOL relative
 * (ss_rel_change(a, b) > SS_EFFECT_TOL): the one test of "moved" that the
 * effect probes, the calibration's identification probe and the behaviour
 * checks' comparisons share. */
int ss_moved(double a, double b);

/**
 * Whether an input acts: run `m` with parameter `path` at `low` and at
 * `high` (every other input as in m; a decision input is an intervention)
 * and return in *change the largest relative difference |a - b| / max(|a|,
 * |b|) over every metric, provider, segment, derived metric and output time.
 * 2 runs. The analyses use it to warn about uncertain inputs and controls
 * that move nothing (*change <= SS_EFFECT_TOL).
 */
int ss_effect_probe(const ss_model *m, const char *path, double low, double high,
                    const ss_run_opts *ropts, double *change, ss_err *err);

/** 1 if parameter `param` of a tornado moves none of its outputs (every
 * swing <= SS_EFFECT_TOL relative). */
int ss_tornado_inert(const ss_tornado *t, size_t param);

/* --------------------------------------------------------------- Sobol */

/** Largest number of inputs: gsl_qrng_sobol has at most 40 dimensions = 2d. */
#define SS_SOBOL_MAX_DIM 20

/**
 * A model with d inputs x[0..d-1] and nout outputs: write y_out[0..nout-1].
 * Return SS_OK, or a negative status with a message in err to stop.
 */
typedef int (*ss_sobol_fn)(const double *x, double *y_out, void *payload, ss_err *err);

/** Inverse CDF of input `param` at probability u in (0,1). Must be finite. */
typedef double (*ss_inv_cdf_fn)(int param, double u, void *payload);

typedef struct ss_sobol_opts {
    int version;
    size_t nboot;          /**< bootstrap resamples, default 200; 0: no intervals (NaN) */
    unsigned long seed;    /**< bootstrap gsl_rng seed, default 1 */
    double level;          /**< confidence level, default 0.95 */
    size_t skip;           /**< extra leading Sobol points to skip, default 0 */
    ss_progress progress;  /**< told the evaluations done of N (d + 2), per sample row */
    /** Several processes (transport.h; NULL: one): the units are the rows j
     *  of the design (f at A_j, B_j and every AB_i,j); rank 0 gets every
     *  row's outputs and computes the indices, bit-identical to one process;
     *  the other ranks return SS_OK with *out NULL. */
    const ss_transport *dist;
    /** ss_sobol_model's engine: SS_SOBOL_ENGINE_AUTO (0), the batched engine
     *  of the Monte Carlo (src/core/batch.c) when the runs have no policy,
     *  derived metric, user stock or link, the solver is rk8pd and a run
     *  has at most 131,072 values (every metric at every output time), with
     *  every evaluation it cannot finish done again alone (which reports
     *  its error); SS_SOBOL_ENGINE_SCALAR: every evaluation alone
     *  (ss_sim_run). The two agree within the solver's tolerance (tests:
     *  1e-7 relative on every output); either gives the same result for
     *  any number of processes. */
    int engine;
    /** Worker threads of the batched engine (0: every online CPU; default
     *  1): each evaluates whole chunks of about 256 runs with its own
     *  lanes, and the result is the same for any number. The scalar engine
     *  and ss_sobol_analyze run on the calling thread. */
    unsigned threads;
} ss_sobol_opts;

enum { SS_SOBOL_ENGINE_AUTO = 0, SS_SOBOL_ENGINE_SCALAR = 1 };

#define SS_SOBOL_OPTS_INIT { 1, 200, 1, 0.95, 0, SS_PROGRESS_NONE, NULL, SS_SOBOL_ENGINE_AUTO, 1 }

typedef struct ss_sobol {
    size_t d, nout, n;     /**< inputs, outputs, base sample size N */
    size_t nevals;         /**< model evaluations, N (d + 2) */
    char **params;         /**< [d] input names (owned; "x1".. for ss_sobol_analyze) */
    char **outputs;        /**< [nout] output names (owned; "y1".. for ss_sobol_analyze) */
    double *mean, *var;    /**< [nout] mean and variance of the output over A and B */
    /* indices, [d * nout], element (i, j) at i * nout + j */
    double *S1, *S1_lo, *S1_hi;
    double *ST, *ST_lo, *ST_hi;
    /** ss_sobol_model: "batched" or "scalar" (static strings; NULL for
     *  ss_sobol_analyze), and how many evaluations the batched engine left
     *  to the scalar one (on this process) */
    const char *engine;
    size_t scalar_evals;
} ss_sobol;

/** Element (input i, output j) of one of the index arrays. */
#define SS_SOBOL_AT(s, arr, i, j) ((s)->arr[(size_t)(i) * (s)->nout + (size_t)(j)])

/**
 * Generic Sobol analysis of `f` with d inputs (1 <= d <= 20) and nout >= 1
 * outputs, base sample size n >= 2 (powers of two keep the Sobol points
 * balanced). `inv` maps u to each input; `opts` may be NULL (defaults).
 */
int ss_sobol_analyze(ss_sobol **out, size_t d, size_t nout, size_t n,
                     ss_sobol_fn f, void *payload, ss_inv_cdf_fn inv, void *inv_payload,
                     const ss_sobol_opts *opts, ss_err *err);

/**
 * Sobol analysis of model `m`: input i is parameter path paths[i], sampled
 * through inv(i, u, inv_payload); outputs are single-value selectors.
 * `ropts` (may be NULL) is passed to every run.
 */
int ss_sobol_model(ss_sobol **out, const ss_model *m, const char *const *paths, size_t d,
                   ss_inv_cdf_fn inv, void *inv_payload,
                   const char *const *outputs, size_t nout, size_t n,
                   const ss_run_opts *ropts, const ss_sobol_opts *opts, ss_err *err);

void ss_sobol_free(ss_sobol *s);

/** 1 if input `param` of a Sobol analysis moves none of its outputs: every
 * total index is <= SS_EFFECT_TOL or NaN (no output varies at all). */
int ss_sobol_inert(const ss_sobol *s, size_t param);

/**
 * CSV: header `parameter,output,S1,S1_lo,S1_hi,ST,ST_lo,ST_hi`, one row per
 * input and output (input order, then output order).
 */
int ss_sobol_write_csv(FILE *f, const ss_sobol *s, ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
