/*
 * ss_analysis.h - the Lua half of the analysis layer (docs/analysis.md): the
 * scenario tables `uncertainty`, `outages`, `calibrate`, `optimize` and
 * `checks` read into an ss_analysis (stratsim/analysis.h, the plain-C half
 * in the core), the Lua API (distribution constructors stratsim.normal/...,
 * Scenario:montecarlo/sensitivity/calibrate/optimize/sweep and their result
 * objects), objectives written in Lua, and override files (`--params
 * FIT.lua`).
 *
 * Files: src/lua/analysis/ (read.c, objective.c, params.c, methods.c and
 * the files la_internal.h lists). Depends on the core (stratsim.h, which
 * includes stratsim/analysis.h) and sl_internal.h.
 *
 * Ownership: an ss_analysis returned through `out` belongs to the caller,
 * who releases it with ss_analysis_free() (NULL-safe). Strings returned
 * through `char **` / `char ***` are malloc'ed and the caller's.
 */
#ifndef SS_ANALYSIS_H
#define SS_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "stratsim.h"
#include "sl_internal.h"

/* The Lua analysis methods pass the interrupt flag found under the registry
 * key SL_INTERRUPT (stratsim_lua.h: the REPL's Ctrl-C flag) to the core, and
 * write files under the rules of SL_ALLOW_WRITES (as Result:write_csv). */
#ifndef SL_INTERRUPT
#define SL_INTERRUPT "stratsim.interrupt"
#endif

/*
 * A progress display the host program offers the analysis methods
 * (sc:montecarlo{}, sc:sensitivity{}, sc:calibrate{}, sc:optimize{}): a
 * light userdata pointing to this struct under the registry key
 * SL_PROGRESS (none: no display). Each analysis calls begin (its name
 * and scenario, the unit: "runs" or "starts"), then update with the core's
 * reports, then end (also when it fails). Not nested.
 */
typedef struct sl_progress {
    void (*begin)(void *payload, const char *label, const char *unit);
    void (*update)(uint64_t done, uint64_t total, void *payload);
    void (*end)(void *payload);
    void *payload;
} sl_progress;
#define SL_PROGRESS "stratsim.progress"

/**
 * Read the tables selected by `what` (SS_AN_*) of scenario i of a loaded
 * script and check them (distribution parameters, bounds, keys, parameter
 * paths against the scenario's model, selectors and constraints). Errors are
 * formatted "FILE:LINE: uncertainty["PATH"]: message". SS_EINVAL, SS_ENOMEM.
 */
int ss_script_analysis(ss_script *s, size_t i, unsigned what, ss_analysis **out, ss_err *err);

/* ------------------------------------------ Lua functions as objectives */

/** An optimisation objective written in Lua: function(result) -> number. */
typedef struct sl_objective sl_objective;

/**
 * The `optimize.objective` function of scenario i of a script. The function
 * is called in the script's state (one thread) with a stratsim.Result of
 * each run (a copy; the Lua API of results: r:value(...), r:series(...)).
 * `file` (may be NULL) is recorded in the Result. Release with
 * sl_objective_free() before closing the script.
 */
int ss_script_objective(ss_script *s, size_t i, const char *file, sl_objective **out,
                        ss_err *err);
void sl_objective_free(sl_objective *o);

/** The ss_opt_objective_fn of a Lua objective (payload: the sl_objective):
 *  errors of the function, non-numbers and non-finite values stop the run. */
int sl_objective_eval(double *out, const ss_result *r, const double *x, void *payload,
                          ss_err *err);

/* ------------------------------------------------ override files (--params) */

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

/* ---------------------------------------------------------------- the Lua API */

/**
 * Add the distribution constructors (normal, lognormal, uniform, triangular,
 * beta, truncnormal, fixed, dist) to the module table at the top of the
 * stack, and the analysis methods (montecarlo, sensitivity, calibrate,
 * optimize) to stratsim.Scenario by wrapping its __index. Called once from
 * luaopen_stratsim(); declared in stratsim_lua.h as well.
 */
void sl_open_analysis(lua_State *L);

#endif
