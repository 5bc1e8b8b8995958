/*
 * stratsim/analysis.h - the analyses' shared half in the core: the analysis
 * inputs of one scenario (ss_analysis: its `uncertainty`, `outages`,
 * `calibrate`, `optimize` and `checks` tables, read by the Lua binding or
 * set from command-line flags), the parameter list of a sensitivity
 * analysis, the analysis settings recorded in the JSON sidecar, the
 * optimisation CSV and CSV + sidecar written atomically (docs/analysis.md).
 * The front ends (the CLI verbs, the Lua methods) fill an ss_analysis and
 * hand it to the jobs here; nothing in this header needs Lua.
 *
 * Files: src/core/analysis.c. Depends on the rest of the core.
 *
 * Ownership: an ss_analysis belongs to its creator, who releases it with
 * ss_analysis_free() (NULL-safe); the core structs in it (ss_mc_param, ...)
 * point into strings the ss_analysis owns. Strings returned through
 * `char **` / `char ***` are malloc'ed and the caller's.
 */
#ifndef STRATSIM_ANALYSIS_H
#define STRATSIM_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <gsl/gsl_rng.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/dist.h"
#include "stratsim/io.h"
#include "stratsim/mc.h"
#include "stratsim/sens.h"
#include "stratsim/calibrate.h"
#include "stratsim/optimize.h"
#include "stratsim/sweep.h"
#include "stratsim/behaviour.h"

/* Which tables ss_script_analysis() reads (others are left empty). */
#define SS_AN_UNCERTAINTY 1u  /**< `uncertainty` and `outages` */
#define SS_AN_CALIBRATE   2u  /**< `calibrate` */
#define SS_AN_OPTIMIZE    4u  /**< `optimize` */
#define SS_AN_CHECKS      8u  /**< `checks` */

/** One behaviour check of the `checks` table (stratsim/behaviour.h). */
typedef struct ss_an_check {
    char *name;
    char **paths;             /**< [nchanges] by path in byte order */
    double *values;           /**< [nchanges] */
    size_t nchanges;
    char *expect;
} ss_an_check;

/** The analysis inputs of one scenario. */
typedef struct ss_analysis {
    ss_mc_param *params;      /**< [nparams] uncertainty, by path in byte order
                                   (the Monte Carlo draw order); paths owned */
    size_t nparams;
    ss_mc_outage *outages;    /**< [noutages] by provider declaration order; ids owned */
    size_t noutages;
    ss_calib_param *calib;    /**< [ncalib] by path; paths owned */
    size_t ncalib;
    ss_opt_control *controls; /**< [ncontrols] by path; paths owned */
    size_t ncontrols;
    char *objective;          /**< selector text; NULL if unset or a function */
    int objective_fn;         /**< 1: the objective is a Lua function */
    int minimize;             /**< -1 unset, 0 maximise, 1 minimise */
    char **constraints;       /**< [nconstraints] owned */
    size_t nconstraints;
    size_t starts;            /**< optimize.starts, 0 if unset */
    unsigned long seed;       /**< optimize.seed if has_seed */
    int has_seed;
    int has_policy;           /**< the scenario has a `policy` function */
    int has_outputs;          /**< the scenario has derived `outputs` */
    ss_an_check *checks;      /**< [nchecks] in declaration order; owned */
    size_t nchecks;
} ss_analysis;

/** An empty container (NULL on allocation failure). */
ss_analysis *ss_analysis_new(void);
void ss_analysis_free(ss_analysis *a);

/** The behaviour checks of a as the core's ss_check structs (c[a->nchecks],
 * borrowing a's strings and arrays): what `stratsim check` and sc:check()
 * hand to ss_checks_run. */
void ss_analysis_checks(const ss_analysis *a, ss_check *c);


/* Setters used for command-line flags that override scenario keys (kept
 * sorted by path; an existing path is replaced). SS_ENOMEM only. */
int ss_analysis_set_dist(ss_analysis *a, const char *path, const ss_dist *d, ss_err *err);
int ss_analysis_set_calib(ss_analysis *a, const char *path, double lower, double upper,
                          double start, ss_err *err);
int ss_analysis_set_control(ss_analysis *a, const char *path, double lower, double upper,
                            ss_err *err);
int ss_analysis_add_constraint(ss_analysis *a, const char *text, ss_err *err);
int ss_analysis_set_objective(ss_analysis *a, const char *selector, ss_err *err);
/** Forget the outage processes (--no-outages). */
void ss_analysis_drop_outages(ss_analysis *a);
/** Index of `path` among the uncertain parameters, or -1. */
long ss_analysis_find_dist(const ss_analysis *a, const char *path);

/**
 * Check parameter `path` against model `m` (a copy is used): SS_EINVAL with
 * the core's message if it names no numeric input or is a `time.*` path and
 * `what` says it must vary ("uncertainty", "control", ...).
 */
int ss_analysis_check_path(const ss_model *m, const char *path, const char *what, ss_err *err);

/* ------------------------------------------------- sensitivity parameters */

/** A parameter of a sensitivity analysis. */
typedef struct ss_sens_param {
    const char *path;  /**< borrowed (from the ss_analysis or the caller's list) */
    ss_dist dist;      /**< from `uncertainty`, or uniform over base +- range */
    int from_range;    /**< 1: no distribution was given, dist is the +- range one */
    double base;       /**< value in the (resolved) scenario */
    double low, high;  /**< tornado: quantiles qlow/qhigh of dist, or base -+ range */
} ss_sens_param;

/**
 * The parameters of a sensitivity analysis of model `m`: the `nvary` paths
 * given (or, if none, every uncertain parameter of `a`), each with its
 * distribution from `a` if it has one, else uniform over base * (1 -+
 * range) (an error if the base value is 0). On success *out receives a
 * malloc'ed array of *n entries whose paths are borrowed from `a` / `vary`.
 */
int ss_sens_params(ss_sens_param **out, size_t *n, const ss_analysis *a, const ss_model *m,
                   const char *const *vary, size_t nvary, double range, double qlow,
                   double qhigh, ss_err *err);

/**
 * The outputs a sensitivity analysis uses when none are named: NPV of the
 * first provider and its share of every segment at the last output time
 * ("npv:P", "share:P:S", ...). *out receives n malloc'ed strings in a
 * malloc'ed array. SS_ENOMEM only.
 */
int ss_sens_default_outputs(const ss_model *m, char ***out, size_t *n, ss_err *err);

/** Free an array of n malloc'ed strings. NULL-safe. */
void ss_strings_free(char **v, size_t n);
/** The length of the longest of n strings, at least `min`: the width of a
 *  table's label column. */
size_t ss_strings_width(char *const *v, size_t n, size_t min);

/** The math.random seed of a Monte Carlo run with Lua hooks: 63 bits drawn
 *  from the run's stream (after its parameter and outage draws). */
uint64_t ss_analysis_run_seed(gsl_rng *rng);

/* ------------------------------------------------------ settings and output */

/**
 * JSON object text recorded in the sidecar (ss_sidecar_info.extra_json) for
 * each analysis, {"mc"|"sens"|"calibrate"|"optimize": {...}}; malloc'ed,
 * NULL on allocation failure. Integers above 2^53 (seeds) and non-finite
 * numbers are written as strings. ss_analysis_json_mc describes n scenarios
 * (their uncertainty, outages and runs per block, blocks[i] =
 * ss_mc_result_block() of scenario i, under "scenarios" when n > 1), and,
 * if res is non-NULL, the engine that ran each (res[i]: "engine", "lanes",
 * "scalar_runs") and its memory estimate (ss_mc_result_memory()), the
 * selection o->outputs ("outputs": the selectors, or "all") and the limit
 * o->max_memory. ss_analysis_json_sens records the engine that ran the
 * evaluations ("batched" or "scalar", ss_sobol.engine; a tornado's are
 * scalar) unless it is NULL.
 */
char *ss_analysis_json_mc(const ss_analysis *const *a, const char *const *names, size_t n,
                          const ss_mc_opts *o, const double *q, size_t nq,
                          const size_t *blocks, const ss_mc_result *const *res);
/* The sweep's grid (every value), its selected outputs (nout may be 0: the
 * long layout), number of points and, unless NULL, the engine that ran them
 * ("batched" or "scalar", ss_sweep_info.engine), under "sweep". */
char *ss_analysis_json_sweep(const ss_sweep_axis *axes, size_t naxes, char *const *outputs,
                             size_t nout, uint64_t points, const char *engine);
char *ss_analysis_json_sens(const char *method, const ss_sens_param *p, size_t np,
                            char *const *outputs, size_t nout, double range, double qlow,
                            double qhigh, size_t samples, size_t nevals,
                            const ss_sobol_opts *so, const char *engine);
char *ss_analysis_json_calib(const ss_calib_result *c, const char *data_file,
                             const char *data_sha256);
char *ss_analysis_json_opt(const ss_analysis *a, const ss_opt_result *r, const ss_opt_opts *o);

/**
 * CSV of an optimisation result: header
 * `kind,name,value,initial,lower,upper,violation,holds`; one row per
 * control (kind "control": best value, value at the start, bounds), the
 * objective (kind "objective") and each constraint (kind "constraint": value
 * at the best point, violation, holds 1/0). SS_EIO if a write fails.
 */
int ss_opt_write_csv(FILE *f, const ss_opt_result *r, const char *objective, ss_err *err);

/** A writer of one CSV file: called with the (temporary) stream. */
typedef int (*ss_an_writer)(FILE *f, const void *payload, ss_err *err);

/**
 * Write `path` with `write` and its JSON sidecar `path.json` (info, models)
 * atomically: on any error neither file is left behind (an existing file is
 * kept or, if the CSV was already replaced when the sidecar failed, removed).
 */
int ss_analysis_write_pair(const char *path, ss_an_writer write, const void *payload,
                           const ss_sidecar_info *info, const ss_model *const *models,
                           size_t nmodels, ss_err *err);

/* ================================================================ the jobs */
/*
 * A job is one analysis from its settings to its files, the same for every
 * front end (the CLI verbs in src/cli/cmd_*.c, the Lua methods in
 * src/lua/analysis/methods_*.c): the front end starts from the job's INIT
 * macro (the only place its defaults are written), overrides the settings it
 * was given, validates what is its own to report (option syntax, usage
 * errors), calls the job's steps, and then prints or wraps the result. A job
 * owns what its steps allocate; ss_*_job_free() releases that (not the struct
 * itself, which the caller places, e.g. on the stack or in a Lua userdata).
 * Hooks that need a front end (Lua policies and derived metrics, the
 * interrupt flag) come in through ss_run_opts; progress through ss_progress
 * (stratsim/progress.h); several processes through ss_transport
 * (stratsim/transport.h).
 */

/* ------------------------------------------------------------ Monte Carlo */

/**
 * A Monte Carlo (stratsim/mc.h) of one scenario or of several under one
 * CSV: `stratsim mc` runs every scenario of a file through one job,
 * Scenario:montecarlo{} one. Optionally one row per run (`--per-run`): the
 * scenario, the run index, its drawn parameter values and chosen outputs,
 * streamed in run order to the front end's stream.
 */
typedef struct ss_mc_job {
    /* settings; ss_mc_job_init gives the defaults */
    ss_mc_opts o;               /**< 1000 runs, seed 1; run_opts, on_run, progress, prepare
                                     and payload are set by ss_mc_job_run */
    FILE *per_run;              /**< where the per-run rows go (header first); NULL: none.
                                     Needs a job of one scenario */
    const ss_selector *per_run_sel; /**< [nper_run] the outputs of those rows, parsed and
                                     validated (borrowed); none: the NPV of every provider */
    size_t nper_run;
    /** The front end's hooks: told the runs done; run in worker `worker`
     *  before each run (ss_mc_opts.prepare, e.g. a per-worker Lua state),
     *  with `payload`. */
    ss_progress progress;
    int (*prepare)(unsigned worker, uint64_t run, ss_model *model, gsl_rng *rng,
                   ss_run_opts *ro, void *payload, ss_err *err);
    void *payload;
    /* owned state */
    size_t n;                   /**< scenarios run */
    ss_mc_result **res;         /**< [n] their results (NULL on ranks other than 0) */
    const ss_analysis **an;     /**< [n] their inputs (borrowed) */
    const char **names;         /**< [n] their names (borrowed from the models) */
    ss_selector *own_sel;       /**< the default per-run outputs */
    const ss_selector *row_sel; /**< the per-run outputs in use */
    size_t nrow_sel;
    const ss_analysis *row_an;  /**< the per-run scenario's inputs and name */
    const char *row_name;
    gsl_rng *rng;               /**< re-derives a run's draws for its row */
} ss_mc_job;

/**
 * The job's defaults, the Monte Carlo settings both front ends start from:
 * SS_MC_OPTS_INIT with 1000 runs and seed 1, no per-run rows, no hooks. The
 * thread count stays the front end's: the CLI uses every online CPU (0), a
 * Lua method one thread unless told otherwise.
 */
void ss_mc_job_init(ss_mc_job *j);
/** The worker threads ss_mc_run will start for the job's runs and threads
 *  (0: every online CPU): the number of per-worker states `prepare` needs. */
unsigned ss_mc_job_workers(const ss_mc_job *j);
/**
 * Run the Monte Carlo of model `m` over the uncertain inputs `a` (borrowed
 * until the job is freed) with run options `ro` (may be NULL), spread over
 * o.dist; its result is appended to the job. The per-run rows are written
 * as the runs finish: SS_EINVAL if an output gives a series (@each) or the
 * job already holds a scenario, SS_EIO if the stream fails.
 */
int ss_mc_job_run(ss_mc_job *j, const ss_model *m, const ss_analysis *a, const ss_run_opts *ro,
                  ss_err *err);
/**
 * The sidecar settings {"mc": ...} of a finished job: ss_analysis_json_mc
 * with the quantile levels the results hold and their runs per block.
 * malloc'ed; NULL on allocation failure or without a result (other ranks).
 */
char *ss_mc_job_json(const ss_mc_job *j);
/** ss_an_writer of a finished job (payload: the job): every scenario's
 *  statistics (ss_mc_write_csv) under one header. */
int ss_mc_job_write_csv(FILE *f, const void *job, ss_err *err);
void ss_mc_job_free(ss_mc_job *j);

/* ---------------------------------------------------- sensitivity (sens) */

/** A sensitivity analysis: tornado (one at a time) or Sobol indices. */
typedef struct ss_sens_job {
    /* settings; SS_SENS_JOB_INIT gives the defaults */
    int sobol;                  /**< 0: tornado, 1: Sobol indices */
    double range;               /**< relative range of paths without a distribution (0.1) */
    double qlow, qhigh;         /**< tornado: the quantiles taken as low and high */
    size_t samples;             /**< Sobol base sample size N (256) */
    ss_sobol_opts so;           /**< bootstrap resamples, seed, level (SS_SOBOL_OPTS_INIT) */
    const char *const *outputs; /**< [nout] single-value selectors, borrowed; NULL: the
                                     defaults (ss_sens_job_default_outputs) */
    size_t nout;
    const char *const *vary;    /**< [nvary] paths, borrowed; none: every uncertain parameter */
    size_t nvary;
    /* owned state */
    char **default_outputs;     /**< [ndefault] when the defaults are used */
    size_t ndefault;
    ss_sens_param *params;      /**< [nparams] from ss_sens_job_params */
    size_t nparams;
    ss_tornado *tornado;        /**< the result of a tornado */
    ss_sobol *indices;          /**< the result of a Sobol analysis */
} ss_sens_job;

#define SS_SENS_JOB_INIT \
    { 0, 0.1, 0.05, 0.95, 256, SS_SOBOL_OPTS_INIT, NULL, 0, NULL, 0, NULL, 0, NULL, 0, NULL, NULL }

/** If no outputs were named: NPV of the first provider and its share of
 *  every segment at the end (ss_sens_default_outputs), owned by the job.
 *  SS_ENOMEM only. */
int ss_sens_job_default_outputs(ss_sens_job *j, const ss_model *m, ss_err *err);
/** The parameters to vary (ss_sens_params over the job's settings). */
int ss_sens_job_params(ss_sens_job *j, const ss_analysis *a, const ss_model *m, ss_err *err);
/**
 * Run the analysis on model `m` with run options `ro` (may be NULL),
 * reporting runs to `progress` and spread over `dist` (NULL: one process;
 * ranks other than 0 get no result). The result lands in j->tornado or
 * j->indices.
 */
int ss_sens_job_run(ss_sens_job *j, const ss_model *m, const ss_run_opts *ro,
                    ss_progress progress, const ss_transport *dist, ss_err *err);
/** 1 if parameter i moved none of the outputs (ss_tornado_inert/ss_sobol_inert). */
int ss_sens_job_inert(const ss_sens_job *j, size_t i);
/** The sidecar settings {"sens": ...} of a finished job (malloc'ed; NULL: no memory). */
char *ss_sens_job_json(const ss_sens_job *j);
/** ss_an_writer of a finished job (payload: the ss_sens_job): the tornado or Sobol CSV. */
int ss_sens_job_write_csv(FILE *f, const void *job, ss_err *err);
void ss_sens_job_free(ss_sens_job *j);

/* ------------------------------------------------------------ calibration */

/** A calibration: the `calibrate` parameters fitted to observations. */
typedef struct ss_calibrate_job {
    /* settings; SS_CALIBRATE_JOB_INIT gives the defaults */
    ss_calib_opts co;           /**< SS_CALIB_OPTS_INIT (progress: see run) */
    const char *data_file;      /**< the observations' CSV file (sidecar); NULL: a list the
                                     front end built ("(Lua table)") */
    const ss_obs_set *obs;      /**< the observations: read by ss_calibrate_job_read, or the
                                     caller's (borrowed) */
    /* owned state */
    ss_obs_set *own_obs;
    ss_calib_result *result;
} ss_calibrate_job;

#define SS_CALIBRATE_JOB_INIT { SS_CALIB_OPTS_INIT, NULL, NULL, NULL, NULL }

/** Read the observations from CSV `file` (ss_obs_read); it becomes data_file. */
int ss_calibrate_job_read(ss_calibrate_job *j, const char *file, ss_err *err);
/** Fit the calibration parameters of `a` on model `m` (ss_calibrate_run) with run options
 *  `ro` (may be NULL), reporting runs to `progress`; the result lands in j->result. */
int ss_calibrate_job_run(ss_calibrate_job *j, const ss_model *m, const ss_analysis *a,
                         const ss_run_opts *ro, ss_progress progress, ss_err *err);
/** The sidecar settings {"calibrate": ...} of a finished job, with the data file's
 *  SHA-256 (malloc'ed; NULL: no memory). */
char *ss_calibrate_job_json(const ss_calibrate_job *j);
/** ss_an_writer of a finished job (payload: the job): the residuals CSV. */
int ss_calibrate_job_write_residuals(FILE *f, const void *job, ss_err *err);
/** ss_an_writer of a finished job: the override file (`--write FIT.lua`). */
int ss_calibrate_job_write_fit(FILE *f, const void *job, ss_err *err);
void ss_calibrate_job_free(ss_calibrate_job *j);

/* ----------------------------------------------------------- optimisation */

/** An optimisation: the `optimize` problem of an ss_analysis, multi-start. */
typedef struct ss_optimize_job {
    /* settings; SS_OPTIMIZE_JOB_INIT gives the defaults */
    ss_opt_opts oo;            /**< SS_OPT_OPTS_INIT; ss_optimize_job_inputs takes the
                                    scenario's starts and seed (progress, dist: see run) */
    ss_opt_objective_fn fn;    /**< the objective as a function (e.g. Lua) when the
                                    ss_analysis has no objective selector, else NULL */
    void *fn_payload;
    /* state */
    const ss_analysis *a;      /**< the problem of the last run (borrowed) */
    ss_opt_result *result;     /**< owned */
} ss_optimize_job;

#define SS_OPTIMIZE_JOB_INIT { SS_OPT_OPTS_INIT, NULL, NULL, NULL, NULL }

/** Take the starts and seed of the scenario's optimize table (if it sets them); a
 *  front end's own settings are applied after this. */
void ss_optimize_job_inputs(ss_optimize_job *j, const ss_analysis *a);
/** Maximise (or minimise) the objective of `a` over its controls on model `m`
 *  (ss_optimize_run) under its constraints, with run options `ro` (may be NULL),
 *  reporting starts to `progress`, spread over `dist` (NULL: one process; ranks other
 *  than 0 get no result); `a` must outlive the job's use. Result in j->result. */
int ss_optimize_job_run(ss_optimize_job *j, const ss_model *m, const ss_analysis *a,
                        const ss_run_opts *ro, ss_progress progress, const ss_transport *dist,
                        ss_err *err);
/** The sidecar settings {"optimize": ...} of a finished job (malloc'ed; NULL: no memory). */
char *ss_optimize_job_json(const ss_optimize_job *j);
/** ss_an_writer of a finished job (payload: the job): ss_opt_write_csv. */
int ss_optimize_job_write_csv(FILE *f, const void *job, ss_err *err);
void ss_optimize_job_free(ss_optimize_job *j);

/* ------------------------------------------------------------------ sweep */

/**
 * A parameter sweep over a grid (stratsim/sweep.h). With selected outputs the
 * job keeps each point's axis values and outputs, in memory (in_memory: for a
 * table or the Lua result) or as CSV rows in a temporary file; without
 * outputs it streams the long layout (every metric of every point) there.
 */
typedef struct ss_sweep_job {
    /* settings; SS_SWEEP_JOB_INIT gives the defaults */
    ss_sweep_opts so;            /**< SS_SWEEP_OPTS_INIT: threads (1), run_opts, interrupt,
                                      dist are the front end's; on_point, progress and
                                      payload are the job's */
    const ss_sweep_axis *axes;   /**< [naxes] the grid, borrowed */
    size_t naxes;
    const char *const *outputs;  /**< [nout] single-value selectors (validated by the
                                      front end), borrowed; none: the long layout */
    size_t nout;
    int in_memory;               /**< 1: keep x and y in memory (needs outputs) */
    /** The front end's hooks: told the points done; run before each point
     *  (e.g. a per-worker Lua state), with `payload`. */
    ss_progress progress;
    int (*prepare)(unsigned worker, uint64_t point, ss_model *model, ss_run_opts *ro,
                   void *payload, ss_err *err);
    void *payload;
    /* owned state */
    char **default_outputs;      /**< [ndefault] from ss_sweep_job_default_outputs */
    size_t ndefault;
    ss_selector *sel;            /**< [nout] parsed outputs */
    uint64_t npoints;            /**< points of the grid */
    double *x;                   /**< in memory: [npoints][naxes] axis values */
    double *y;                   /**< in memory: [npoints][nout] outputs */
    double *scratch;             /**< [nout] */
    FILE *rows;                  /**< streamed: the CSV rows in point order */
    ss_sweep_info info;          /**< the engine that ran the points (ss_sweep_job_run) */
} ss_sweep_job;

#define SS_SWEEP_JOB_INIT \
    { SS_SWEEP_OPTS_INIT, NULL, 0, NULL, 0, 0, SS_PROGRESS_NONE, NULL, NULL, \
      NULL, 0, NULL, 0, NULL, NULL, NULL, NULL, { NULL, 0 } }

/** The outputs of `stratsim sens` (ss_sens_default_outputs) if none were named,
 *  owned by the job. SS_ENOMEM only. */
int ss_sweep_job_default_outputs(ss_sweep_job *j, const ss_model *m, ss_err *err);
/** Parse the outputs, count the points and make room for them (memory or a
 *  temporary file: SS_EIO if it cannot be created). */
int ss_sweep_job_alloc(ss_sweep_job *j, ss_err *err);
/** Run the sweep of model `m` (ss_sweep_run); the points land in x, y or rows. */
int ss_sweep_job_run(ss_sweep_job *j, const ss_model *m, ss_err *err);
/** The sidecar settings {"sweep": ...}; `outputs` 0 records no outputs (the long
 *  layout); after ss_sweep_job_run, the engine that ran (malloc'ed; NULL: no
 *  memory). */
char *ss_sweep_job_json(const ss_sweep_job *j, int outputs);
/** ss_an_writer of a finished job (payload: the job): the header, then the rows. */
int ss_sweep_job_write_csv(FILE *f, const void *job, ss_err *err);
void ss_sweep_job_free(ss_sweep_job *j);

#endif
