/*
 * la_internal.h - what the files of the Lua half of the analysis layer
 * (src/lua/analysis/) share among themselves: the boxes that own core
 * objects (inputs, jobs, results), the result kinds, and the helpers one
 * file defines and others call. Names carry the prefix la_; the functions
 * the rest of the binding calls keep their sl_/ss_ names and are declared
 * in ss_analysis.h. Only the files of this folder include this header.
 *
 * Files: helpers.c (messages and raising), dists.c (stratsim.normal, ...:
 * Distribution values), read.c (the scenario tables -> ss_analysis),
 * objective.c (objectives written in Lua, math.random reseeding), params.c
 * (override files), results.c (the result objects, their fields, csv and
 * write_csv), results_summary.c (their summary()), methods.c (what the
 * Scenario methods share, and sl_open_analysis), methods_explore.c
 * (montecarlo, sensitivity, check, sweep), methods_fit.c (calibrate,
 * optimize).
 *
 * Error model (docs/robustness.md): C memory is never held across a Lua
 * call that can raise. Every core object lives in a userdata box whose __gc
 * frees it, created *before* the object is acquired; temporary arrays are
 * userdata. Functions marked "raises" raise a Lua error and may only be
 * called from Lua (protected) code.
 * Depends on ss_analysis.h (and through it sl_internal.h and the core).
 */
#ifndef LA_INTERNAL_H
#define LA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <lauxlib.h>
#include "lua/ss_analysis.h"

/* ---- helpers.c ---- */

/* 1 if s is one of the NULL-terminated list. */
int la_in_list(const char *const *list, const char *s);
/* x formatted for messages (shortest exact form) into buf; returns buf. */
const char *la_fnum(double x, char *buf, size_t n);
/* Raise "out of memory". */
_Noreturn void la_nomem(lua_State *L);
/* Raise a core failure of a method as "FILE:LINE: name: message". */
_Noreturn void la_core_fail(lua_State *L, const char *fname, int rc, const ss_err *err);

/* ---- dists.c ---- */

/* __newindex of immutable values (distributions, results): raises. */
int la_immutable(lua_State *L);
/* A distribution from the value at idx (a Distribution, its text form, or
 * a number: fixed) into *out; 0, or -1 with a message in msg. */
int la_to_dist(lua_State *L, int idx, ss_dist *out, char *msg, size_t n);
/* Register the Distribution metatable and set the constructors (normal,
 * ..., fixed, dist) in the module table at index mod. */
void la_open_dists(lua_State *L, int mod);

/* ---- read.c ---- */

/* An ss_analysis in a userdata (freed by its __gc). */
typedef struct inputs_box {
    ss_analysis *a;
} inputs_box;

/* Push a new box owning an empty ss_analysis. Raises. */
inputs_box *la_new_inputs(lua_State *L);
/* A parameter-path key at idx (a string without NUL bytes), or NULL. */
const char *la_path_key(lua_State *L, int idx);
/* A `calibrate` table (parameters with lower, upper, start) at t into a;
 * scen 0: an option table of a method (errors name argument 2). Raises. */
void la_read_calib_table(lua_State *L, int scen, const ss_model *m, int t, const char *where,
                         ss_analysis *a);
/* An `optimize` table (objective, controls, constraints, ...) at t into a. Raises. */
void la_read_problem(lua_State *L, int scen, const ss_model *m, int t, const char *where,
                     ss_analysis *a);
/* Read the tables `what` (SS_AN_*) of the scenario at scen into a. Raises. */
void la_read_tables(lua_State *L, int scen, unsigned what, ss_analysis *a);

/* ---- objective.c ---- */

/* An objective from the function at idx of state L, or NULL (no memory). */
sl_objective *la_objective_new(lua_State *L, int idx, const ss_model *m, const char *file);

/* ---- results.c: the result objects ---- */

enum { R_MC, R_TORNADO, R_SOBOL, R_CALIB, R_OPT, R_SWEEP, R_NKINDS };

/* A sweep's result: its grid (owned) and the job that ran it, which keeps
 * the points' values and selected outputs in memory. */
typedef struct sweep_res {
    ss_sweep_axis *axes;
    size_t naxes;
    ss_sweep_job job;
} sweep_res;

void la_sweep_res_free(sweep_res *r);

/* User values of a result box. */
enum { RV_FIELDS = 1, RV_SETTINGS = 2, RV_SOURCE = 3, RV_OBJECTIVE = 4, RV_SCENARIO = 5, RV_N = 5 };

/* A result object: owns the core result, the observations of a fit, and a
 * resolved copy of the scenario (selectors, sidecar). */
typedef struct rbox {
    int kind;
    void *res;
    ss_obs_set *obs;
    ss_model *model;
} rbox;

/* Any result box at idx (its kind from the metatable). Raises. */
rbox *la_any_rbox(lua_State *L, int idx);
/* Push a new result box of `kind` for the scenario at argument 1 (a copy
 * of its resolved model). Raises. */
rbox *la_new_rbox(lua_State *L, int kind);
/* Store a malloc'ed settings JSON text (freed here) in the box. Raises. */
void la_set_settings(lua_State *L, int box, char *json);
/* t[k] = v for the table on top of the stack. */
void la_set_num(lua_State *L, const char *k, double v);
void la_set_int(lua_State *L, const char *k, lua_Integer v);
/* Attach the table on top as the fields of the box at `box`. */
void la_set_fields(lua_State *L, int box);
/* The fields of each kind of result (the table is made and attached). */
void la_mc_fields(lua_State *L, int box, const ss_mc_result *r, unsigned threads);
void la_tornado_fields(lua_State *L, int box, const ss_tornado *t);
void la_sobol_fields(lua_State *L, int box, const ss_sobol *s);
void la_calib_fields(lua_State *L, int box, const ss_calib_result *c, const ss_obs_set *o);
void la_opt_fields(lua_State *L, int box, const ss_opt_result *r);
/* Register the metatables of the result kinds. */
void la_open_results(lua_State *L);

/* ---- results_summary.c ---- */

/* A number in at most `digits` significant digits ("-0" shown as "0"). */
const char *la_gnum(double x, int digits, char *buf, size_t n);
/* r:summary() -> string: the result as the table its CLI verb prints. */
int la_rbox_summary(lua_State *L);

/* ---- methods.c: what the Scenario methods share ---- */

/* A job of the core (stratsim/analysis.h) in a userdata: released by its
 * __gc, so a Lua error during the job leaks nothing. */
typedef struct jobbox {
    void (*release)(struct jobbox *b);
    union {
        ss_mc_job mc;
        ss_sens_job sens;
        ss_calibrate_job cal;
        ss_optimize_job opt;
        struct sweep_res *sw;
    } u;
} jobbox;

/* Push a new job box released by `release` (its job still to be set). */
jobbox *la_new_job(lua_State *L, void (*release)(jobbox *b));

/* The option table of a method (argument 2) and its values; errors name
 * argument 2. All raise. */
int la_opts_table(lua_State *L, const char *const *allowed);
int la_opt_push(lua_State *L, int t, const char *key);
lua_Integer la_opt_int(lua_State *L, int t, const char *key, lua_Integer def,
                       lua_Integer lo, lua_Integer hi);
double la_opt_num(lua_State *L, int t, const char *key, double def, double lo, double hi);
int la_opt_bool(lua_State *L, int t, const char *key, int def);
const char **la_opt_strings(lua_State *L, int t, const char *key, size_t *n);

/*
 * The progress of one analysis: forwarded to the host's display (registry
 * key SL_PROGRESS, e.g. the REPL's progress bar) if there is one, and
 * kept for the message of an interruption.
 */
typedef struct lprog {
    const sl_progress *host;
    uint64_t done, total;
    const char *unit;
} lprog;

void la_lprog_update(uint64_t done, uint64_t total, void *payload);
ss_progress la_lprog_begin(lua_State *L, lprog *p, const char *what, const ss_model *m,
                           const char *unit);
void la_lprog_end(lprog *p);
/* End the progress, then raise the core failure (an interruption says how
 * far the analysis got). */
_Noreturn void la_analysis_fail(lua_State *L, lprog *p, const char *fname, int rc,
                                const ss_err *err);

/* The model of the Scenario at argument 1. Raises. */
ss_model *la_check_scen(lua_State *L);
/* Read the scenario's tables `what` into a new inputs box (pushed). Raises. */
ss_analysis *la_scen_inputs(lua_State *L, unsigned what);
/* Run options with the scenario's Lua hooks (pushed) and the interrupt
 * flag; _crn: every run starts with math.random where the script left it
 * when it had loaded (sl_crn_opts). */
void la_scen_run_opts(lua_State *L, ss_run_opts *ro);
void la_scen_run_opts_crn(lua_State *L, ss_run_opts *ro);

/* ---- the Scenario methods (methods_explore.c, methods_fit.c) ---- */

int la_scen_montecarlo(lua_State *L);
int la_scen_sensitivity(lua_State *L);
int la_scen_check(lua_State *L);
int la_scen_sweep(lua_State *L);
int la_scen_calibrate(lua_State *L);
int la_scen_optimize(lua_State *L);

#endif
