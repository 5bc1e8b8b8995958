/*
 * ss_analysis.h - the analysis layer between scenario scripts and the CLI
 * (docs/analysis.md): Monte Carlo, sensitivity, calibration and
 * optimisation inputs read from a scenario's `uncertainty`, `outages`,
 * `calibrate` and `optimize` tables; the Lua API (distribution constructors
 * stratsim.normal/..., Scenario:montecarlo/sensitivity/calibrate/optimize
 * and their result objects); override files (`--params FIT.lua`); and the
 * output helpers shared by the CLI verbs and the Lua result objects (the
 * analysis settings recorded in the JSON sidecar, CSV + sidecar written
 * atomically).
 *
 * Files: l_analysis.c (everything that touches Lua), analysis.c (plain C:
 * the ss_analysis container, settings JSON, writers).  Depends on the core
 * (stratsim.h) and ss_lua.h.
 *
 * Ownership: an ss_analysis returned through `out` belongs to the caller,
 * who releases it with ss_analysis_free() (NULL-safe); the core structs in
 * it (ss_mc_param, ...) point into strings the ss_analysis owns.  Strings
 * returned through `char **` / `char ***` are malloc'ed and the caller's.
 */
#ifndef SS_ANALYSIS_H
#define SS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "stratsim.h"
#include "ss_lua.h"

/* The Lua analysis methods pass the interrupt flag found under the registry
 * key SS_LUA_INTERRUPT (ss_lua.h: the REPL's Ctrl-C flag) to the core, and
 * write files under the rules of SS_LUA_ALLOW_WRITES (as Result:write_csv). */
#ifndef SS_LUA_INTERRUPT
#define SS_LUA_INTERRUPT "stratsim.interrupt"
#endif

/*
 * A progress display the host program offers the analysis methods
 * (sc:montecarlo{}, sc:sensitivity{}, sc:calibrate{}, sc:optimize{}): a
 * light userdata pointing to this struct under the registry key
 * SS_LUA_PROGRESS (none: no display). Each analysis calls begin (its name
 * and scenario, the unit: "runs" or "starts"), then update with the core's
 * reports, then end (also when it fails). Not nested.
 */
typedef struct ss_lua_progress {
    void (*begin)(void *payload, const char *label, const char *unit);
    void (*update)(uint64_t done, uint64_t total, void *payload);
    void (*end)(void *payload);
    void *payload;
} ss_lua_progress;
#define SS_LUA_PROGRESS "stratsim.progress"

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

/**
 * Read the tables selected by `what` (SS_AN_*) of scenario i of a loaded
 * script and check them (distribution parameters, bounds, keys, parameter
 * paths against the scenario's model, selectors and constraints). Errors are
 * formatted "FILE:LINE: uncertainty["PATH"]: message". SS_EINVAL, SS_ENOMEM.
 */
int ss_script_analysis(ss_script *s, size_t i, unsigned what, ss_analysis **out, ss_err *err);

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

/* ------------------------------------------ Lua functions as objectives */

/** An optimisation objective written in Lua: function(result) -> number. */
typedef struct ss_lua_objective ss_lua_objective;

/**
 * The `optimize.objective` function of scenario i of a script. The function
 * is called in the script's state (one thread) with a stratsim.Result of
 * each run (a copy; the Lua API of results: r:value(...), r:series(...)).
 * `file` (may be NULL) is recorded in the Result. Release with
 * ss_lua_objective_free() before closing the script.
 */
int ss_script_objective(ss_script *s, size_t i, const char *file, ss_lua_objective **out,
                        ss_err *err);
void ss_lua_objective_free(ss_lua_objective *o);

/** The ss_opt_objective_fn of a Lua objective (payload: the ss_lua_objective):
 *  errors of the function, non-numbers and non-finite values stop the run. */
int ss_lua_objective_eval(double *out, const ss_result *r, const double *x, void *payload,
                          ss_err *err);

/* ------------------------------------------------ override files (--params) */

/**
 * Reseed math.random of the script's state (the deterministic generator of
 * the sandbox, or of the unsafe state) with `seed`: the Monte Carlo gives
 * every run of a scenario with a policy its own seed so that policies that
 * draw random numbers are reproducible for any thread count.
 */
int ss_script_reseed(ss_script *s, uint64_t seed, ss_err *err);

/**
 * Common random numbers for the analyses other than Monte Carlo
 * (sensitivity, calibration, optimisation): wrap the run options `ro` of a
 * scenario with Lua hooks (ss_script_run_opts) so that every run starts
 * with math.random reseeded to its default, as in a freshly loaded script;
 * the runs then differ only in the parameters. `w` keeps the original
 * options and must outlive the runs; L is the hooks' state. Without hooks
 * `ro` is left as it is.
 */
typedef struct ss_crn {
    ss_run_opts inner;
    lua_State *L;
} ss_crn;
void ss_lua_crn_opts(ss_crn *w, lua_State *L, ss_run_opts *ro);

/** The math.random seed of a Monte Carlo run with Lua hooks: 63 bits drawn
 *  from the run's stream (after its parameter and outage draws). */
uint64_t ss_analysis_run_seed(gsl_rng *rng);

/**
 * Read an override file: a Lua chunk (text only) that returns a table
 * { ["PATH"] = number, ... } as written by `stratsim calibrate --write`. It
 * runs sandboxed with small budgets and without the stratsim module. On
 * success *out receives n malloc'ed "PATH=VALUE" strings (sorted by path,
 * values round-trip exact) in a malloc'ed array; free each and the array.
 * Errors are "FILE:LINE: message" (SS_EINVAL, SS_EIO, SS_ELIMIT, SS_ENOMEM).
 * At most SS_PARAMS_MAX_KEYS parameters; the file at most 16 MiB; its
 * code runs within 1e7 instructions and 64 MiB.
 */
#define SS_PARAMS_MAX_KEYS 10000
int ss_params_read(const char *path, char ***out, size_t *n, ss_err *err);

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
 * o->max_memory.
 */
char *ss_analysis_json_mc(const ss_analysis *const *a, const char *const *names, size_t n,
                          const ss_mc_opts *o, const double *q, size_t nq,
                          const size_t *blocks, const ss_mc_result *const *res);
/* The sweep's grid (every value), its selected outputs (nout may be 0: the
 * long layout) and number of points, under "sweep". */
char *ss_analysis_json_sweep(const ss_sweep_axis *axes, size_t naxes, char *const *outputs,
                             size_t nout, uint64_t points);
char *ss_analysis_json_sens(const char *method, const ss_sens_param *p, size_t np,
                            char *const *outputs, size_t nout, double range, double qlow,
                            double qhigh, size_t samples, size_t nevals,
                            const ss_sobol_opts *so);
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

/* ---------------------------------------------------------------- the Lua API */

/**
 * Add the distribution constructors (normal, lognormal, uniform, triangular,
 * beta, truncnormal, fixed, dist) to the module table at the top of the
 * stack, and the analysis methods (montecarlo, sensitivity, calibrate,
 * optimize) to stratsim.Scenario by wrapping its __index. Called once from
 * luaopen_stratsim(); declared in ss_lua.h as well.
 */
void ss_lua_open_analysis(lua_State *L);

#endif
