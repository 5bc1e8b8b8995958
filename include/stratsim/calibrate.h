/*
 * stratsim/calibrate.h - calibration (docs/analysis.md): fit chosen parameters of a
 * model to observed series by weighted nonlinear least squares.
 *
 * Observations come from a CSV file with a header naming the columns
 * `time,provider,segment,metric,value` and optionally `weight` (default 1),
 * in any order; columns `scenario`, `source`, `note` and `period` are accepted and
 * ignored (so a long-layout output file, or a sourced data set, can be read
 * as is); any other column is an error.  `provider` / `segment` are empty
 * where the metric has none (result.h names; `revenue` with a segment is the
 * per-segment revenue).  A UTF-8 byte-order mark, CRLF line ends, blank
 * lines and lines whose first non-blank character is `#` are accepted;
 * fields may be quoted as in RFC 4180 (not across lines).  Numbers are
 * decimal, read independently of the locale.  Every error message starts
 * with `FILE:LINE:COLUMN:` (or `FILE:LINE:` when no single column is at
 * fault).
 *
 * The fit minimises chi2 = sum_j w_j (model_j - obs_j)^2 with
 * gsl_multifit_nlinear (trust region, Levenberg-Marquardt, forward
 * finite-difference Jacobian), where model_j is the selected output read at
 * the observation time (exact at an output time, linear between outputs;
 * see select.h).  Bounds are enforced by a smooth one-to-one change of
 * variable: x = lo + (hi - lo) / (1 + exp(-z)) for two finite bounds,
 * x = lo + exp(z) or x = hi - exp(z) for one, x = z for none; the solver
 * works on z, everything reported is in the original units.  Standard errors
 * come from cov_z = s^2 (J^T J)^-1 (gsl_multifit_nlinear_covar, J the
 * weighted Jacobian in z at the solution), with s^2 = chi2 / dof unless
 * absolute weights are requested (then weights are 1/sigma^2 and s^2 = 1),
 * mapped to x by the delta method: cov_x = D cov_z D, D = diag(dx/dz).
 * They are NaN when dof = 0 (without absolute weights) or when the Jacobian
 * is rank deficient in that parameter.  Near a bound (dx/dz tiny) they are
 * not meaningful; such parameters are flagged.
 *
 * Ownership: ss_obs_read*() and ss_calibrate_run() return objects through
 * `out` that the caller frees with ss_obs_free() / ss_calibrate_free()
 * (NULL-safe).  The model, parameters and observations are borrowed and not
 * modified.  Depends on model.h, sim.h, param.h and select.h.
 */
#ifndef STRATSIM_CALIBRATE_H
#define STRATSIM_CALIBRATE_H

#include <stdio.h>
#include <stddef.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/select.h"
#include "stratsim/sim.h"
#include "stratsim/progress.h"

#ifdef __cplusplus
extern "C" {
#endif

/* -------------------------------------------------------- observations */

/** One observed value. */
typedef struct ss_obs {
    double t;          /**< time */
    double value;      /**< observed value */
    double weight;     /**< >= 0, default 1 */
    ss_selector sel;   /**< metric, provider, segment at t (SS_SEL_AT) */
    long line;         /**< line in the file (1-based) */
} ss_obs;

typedef struct ss_obs_set {
    char *file;        /**< file name used in messages (owned) */
    size_t n;
    ss_obs *obs;       /**< [n] in file order (owned) */
} ss_obs_set;

/** Data limits: at most SS_OBS_MAX observations (rows) per set, lines of at
 *  most SS_OBS_LINE_MAX bytes, and a data file (regular file) of at most
 *  SS_OBS_FILE_MAX bytes; beyond, reading and ss_calibrate_run() stop with
 *  SS_ELIMIT and a message naming the limit. */
#define SS_OBS_MAX 100000
#define SS_OBS_LINE_MAX 65536
#define SS_OBS_FILE_MAX (64L * 1024 * 1024)

/** Read observations from a file. At least one data row is required. */
int ss_obs_read(ss_obs_set **out, const char *path, ss_err *err);

/** Read observations from an open stream; `name` is used in messages. */
int ss_obs_read_stream(ss_obs_set **out, FILE *f, const char *name, ss_err *err);

/**
 * Check every observation against a model: provider and segment ids must
 * exist, times must lie within [t0, t1]. Errors name FILE:LINE:COLUMN.
 */
int ss_obs_validate(const ss_obs_set *o, const ss_model *m, ss_err *err);

void ss_obs_free(ss_obs_set *o);

/* --------------------------------------------------------------- fitting */

/** A parameter to fit: path (param.h), bounds (may be -/+INFINITY), start. */
typedef struct ss_calib_param {
    const char *path;
    double lower, upper;   /**< lower < upper */
    double start;          /**< in [lower, upper]; NaN: the model's current value */
} ss_calib_param;

typedef struct ss_calib_opts {
    int version;
    size_t max_iter;       /**< default 200 */
    double xtol;           /**< step test, default 1e-10 */
    double gtol;           /**< gradient test, default 1e-10 */
    double ftol;           /**< passed to the GSL driver, default 0 */
    double fd_step;        /**< finite-difference step h_df in z, default 1e-6 (see docs) */
    int central;           /**< 1: central differences (2p runs per Jacobian) */
    int absolute_weights;  /**< 1: weights are 1/sigma^2; covariance not rescaled */
    ss_progress progress;  /**< told the model runs done (total 0: not known) */
} ss_calib_opts;

#define SS_CALIB_OPTS_INIT { 1, 200, 1e-10, 1e-10, 0.0, 1e-6, 0, 0, SS_PROGRESS_NONE }

typedef struct ss_calib_result {
    size_t np, nobs;
    char **paths;          /**< [np] owned */
    double *lower, *upper; /**< [np] bounds */
    double *start;         /**< [np] starting values actually used */
    double *value;         /**< [np] fitted values (original units) */
    double *se;            /**< [np] standard errors, NaN if not available */
    unsigned char *at_bound; /**< [np] 1: the fit ended within ~1e-6 of a bound */
    unsigned char *identified; /**< [np] 0: moving the parameter to its bounds changes no
                                    model value at the observations (relative 1e-9); its
                                    se is NaN (docs/analysis.md, calibration) */
    unsigned char *constructed; /**< [nobs] 1: an observation at the start that no parameter
                                     moves and that the model meets exactly (an initial
                                     share): not a degree of freedom */
    size_t nconstructed;   /**< number of such observations */
    double *corr;          /**< [np * np] correlation matrix (row major), NaN if unavailable */
    double *model;         /**< [nobs] model value at each observation */
    double *resid;         /**< [nobs] model - observed */
    double *wresid;        /**< [nobs] sqrt(weight) * (model - observed) */
    double chi2;           /**< sum of squared weighted residuals */
    double rmse;           /**< sqrt(chi2 / n_eff), n_eff = observations with weight > 0 */
    double sigma;          /**< sqrt(chi2 / dof), NaN if dof = 0 */
    long dof;              /**< n_eff - nconstructed - identified parameters */
    size_t iterations;     /**< solver iterations */
    size_t nevals;         /**< model runs */
    int converged;         /**< 1 if a convergence test was met */
    int gsl_status;        /**< status of gsl_multifit_nlinear_driver */
    char status[128];      /**< "converged (small step)", "maximum iterations reached", ... */
} ss_calib_result;

/**
 * Fit `np` parameters of `m` to `obs` (which is validated against m first).
 * Needs n_eff >= np. `ropts` (may be NULL) is passed to every run; `opts`
 * may be NULL. A run that fails during the fit is an error naming the
 * parameter values; not converging is not an error (see `converged`).
 */
int ss_calibrate_run(ss_calib_result **out, const ss_model *m, const ss_calib_param *params,
                     size_t np, const ss_obs_set *obs, const ss_run_opts *ropts,
                     const ss_calib_opts *opts, ss_err *err);

void ss_calibrate_free(ss_calib_result *c);

/**
 * Write the fitted values as a Lua override file:
 * `return { ["segments.public.tau"] = 1.234, ... }` with a comment per value
 * giving its standard error, and a header comment with the fit statistics.
 */
int ss_calibrate_write_lua(FILE *f, const ss_calib_result *c, ss_err *err);

/**
 * Parameter i as a --set argument "PATH=VALUE" into buf (round-trip exact
 * number). Returns the length needed (like snprintf).
 */
int ss_calibrate_set_string(char *buf, size_t size, const ss_calib_result *c, size_t i);

/** CSV `parameter,value,se,lower,upper,start,at_bound`. */
int ss_calibrate_write_params(FILE *f, const ss_calib_result *c, ss_err *err);

/**
 * CSV `time,provider,segment,metric,observed,weight,model,residual,weighted_residual`,
 * one row per observation (obs must be the set that was fitted).
 */
int ss_calibrate_write_residuals(FILE *f, const ss_calib_result *c, const ss_obs_set *obs,
                                 ss_err *err);

#ifdef __cplusplus
}
#endif
#endif
