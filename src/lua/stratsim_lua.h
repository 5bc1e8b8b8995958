/*
 * stratsim_lua.h - the Lua layer of stratsim as the CLI and the REPL see it:
 * load a scenario file into a sandboxed Lua 5.4 state with memory and
 * instruction budgets (docs/scenarios.md), get its scenarios as resolved
 * core models, and run them with their policies and derived metrics; plus
 * the few calls the REPL needs to host the state (protected calls, print,
 * the chunk guard, the Ctrl-C flag) and the entry point of stratsim.so.
 * Everything else of src/lua is in sl_internal.h (prefix sl_). Depends on
 * the core (include/stratsim/) and Lua 5.4.
 *
 * Ownership: ss_script_open() returns a script the caller releases with
 * ss_script_close(); models returned by ss_script_model() are borrowed and
 * live as long as the script.
 */
#ifndef STRATSIM_LUA_H
#define STRATSIM_LUA_H

#include <stddef.h>
#include <stdio.h>
#include <lua.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"

/* ============================================== scenario scripts */

/** A loaded scenario script: one Lua state plus the models it produced. */
typedef struct ss_script ss_script;

typedef struct ss_script_opts {
    int unsafe;                         /**< 1: full standard libraries, no sandbox */
    size_t max_memory;                  /**< bytes of Lua memory; 0 = 512 MiB */
    unsigned long long max_instructions;/**< Lua VM instructions; 0 = 2e9 */
    const char *root;                   /**< --root DIR: files scripts may read lie
                                             below it; NULL = the directory of the
                                             file given to ss_script_load */
} ss_script_opts;

#define SS_SCRIPT_OPTS_INIT {0, 0, 0, NULL}

#define SS_SCRIPT_DEFAULT_MEMORY ((size_t)512 * 1024 * 1024)
#define SS_SCRIPT_DEFAULT_INSTRUCTIONS 2000000000ULL

/**
 * Create a Lua state (sandboxed unless opts->unsafe) with the stratsim
 * module. `opts` may be NULL (defaults). On success *out receives a script
 * the caller frees with ss_script_close().
 */
int ss_script_open(ss_script **out, const ss_script_opts *opts, ss_err *err);

/**
 * Run the file (text chunks only), collect the returned scenario(s), apply
 * the `nsets` overrides "PATH=VALUE" to each, convert each to an ss_model
 * and resolve it. Can be called once per script. Errors: SS_EINVAL
 * (scenario problem, Lua error), SS_ELIMIT (instruction or memory budget),
 * SS_ENOMEM, SS_EIO (cannot read the file); err->msg is fully formatted
 * ("FILE:LINE: KEY.PATH: message" or the Lua message and a traceback).
 */
int ss_script_load(ss_script *s, const char *path, const char *const *sets,
                   size_t nsets, ss_err *err);

/** Number of scenarios loaded (0 before a successful ss_script_load, and
 * 0 after loading a script that returned nothing: it did its own work). */
size_t ss_script_count(const ss_script *s);

/** Scenario i (0-based) with the overrides, resolved: borrowed, owned by
 *  the script; as the resolved model that ss_sim_run_resolved() takes, and
 *  as the model it holds. */
const ss_resolved *ss_script_resolved(const ss_script *s, size_t i);
const ss_model *ss_script_model(const ss_script *s, size_t i);

/**
 * Push the Lua Scenario object i onto the script's stack (for later
 * extensions: policy, outputs, uncertainty... are reachable from it with
 * sl_scenario_push_field()). Returns 0, or -1 if i is out of range.
 */
int ss_script_push_scenario(ss_script *s, size_t i);

/** The script's Lua state (for later extensions such as policies). */
lua_State *ss_script_state(ss_script *s);

/** Close the state and free the models. NULL-safe. */
void ss_script_close(ss_script *s);

/**
 * The files the script has read so far: the scenario file, every file it
 * included (stratsim.include) and every data file it read (stratsim.series),
 * as the paths they were opened with, in no particular order (files.c). *out receives n malloc'ed strings in a
 * malloc'ed array (free each, then the array). Errors: SS_ENOMEM.
 */
int ss_script_files(ss_script *s, char ***out, size_t *n, ss_err *err);

/**
 * Fill *out with the run options that attach scenario i's `policy` (called
 * at every decision epoch) and `outputs` (derived metrics, evaluated at
 * every output time, in alphabetical order of their names) to a run of
 * ss_script_model(s, i) - or of a modified copy of it (parameters changed
 * by an analysis): the callbacks read ids from the run's model. Without a
 * policy or outputs the callbacks stay NULL (the core's fast path). The
 * options are valid until the script is closed; `interrupt` may be set by
 * the caller afterwards. A run with them executes Lua code in the script's
 * state, so runs of one script must not overlap (one script per thread).
 * The instruction budget is reset at the start of each such run (per run,
 * not per call); the memory budget is the script's. A failing policy or
 * derived metric stops the run with err->msg "FILE:LINE: message (in policy
 * at t=T)" plus the Lua traceback; exceeded budgets give SS_ELIMIT.
 * Errors: SS_EINVAL (no scenario i), SS_ENOMEM.
 */
int ss_script_run_opts(ss_script *s, size_t i, ss_run_opts *out, ss_err *err);

/**
 * Common random numbers: give run options of this script's scenarios that
 * carry Lua hooks (a policy, derived metrics, user stocks or links) an
 * on_start hook that puts math.random back where the script left it when
 * it had loaded (its own math.randomseed and load-time draws included),
 * before anything else of a run calls Lua. Every run then starts as in a
 * freshly loaded script, whatever ran before it in the state: `stratsim
 * run`, sweeps, sensitivity, checks, calibration and optimisation use it
 * (a Monte Carlo reseeds each run from its own stream instead). Options
 * without hooks are left as they are.
 */
void ss_script_crn_opts(ss_script *s, ss_run_opts *ro);

/**
 * Reseed math.random of the script's state (the deterministic generator of
 * the sandbox, or of the unsafe state) with `seed`, as math.randomseed(seed
 * mod 2^63) does: the Monte Carlo gives every run of a scenario with Lua
 * hooks its own seed, so that hooks that draw random numbers are
 * reproducible for any thread count.
 */
void ss_script_reseed(ss_script *s, uint64_t seed);

/** Run scenario i as `stratsim run` does: ss_script_run_opts() with
 * ss_script_crn_opts(); *out receives a result the caller frees with
 * ss_result_free(). */
int ss_script_run(ss_script *s, size_t i, ss_result **out, ss_err *err);

/* ================================================ hosting the state (the REPL) */

/**
 * The one protected-call helper: like lua_pcall(L, nargs, nresults, h) with
 * a message handler that appends a short traceback to string errors, turns
 * any other error object into readable text, and leaves stratsim.Error
 * objects (scenario errors) untouched.
 */
int sl_pcall(lua_State *L, int nargs, int nresults);

/** Push sl_pcall's message handler (for lua_pcall in hot loops that
 *  push it once: user stocks and links; the REPL's interrupt hook). */
void sl_push_msgh(lua_State *L);

/**
 * Raise a stratsim.Error: a table {code=, msg=} with a protected metatable
 * whose __tostring gives msg. Its message is final (no traceback added).
 */
int sl_raise(lua_State *L, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

/** Push the print function: it writes its arguments, tab-separated, and a
 * newline to `stream`, flushed per call; when `capped`, at most
 * 4 MiB per state (sl_internal.h), each byte charged to the instruction
 * budget (the scripts' print on stderr; the REPL's on stdout is uncapped). */
void sl_push_print(lua_State *L, FILE *stream, int capped);

/**
 * Check the function on top of the stack, just compiled, for the code
 * generation bugs of Lua 5.4.4 (vet.c): a miscompiled `break` out of a
 * generic for is fixed (the function is replaced by a corrected one); a
 * miscompiled bitwise operation raises "FILE:LINE: ... miscompiled by Lua
 * 5.4.4". Call it on every chunk loaded from text, before binding _ENV.
 */
void sl_vet_chunk(lua_State *L);

/** Registry key: a light userdata pointing to a `volatile int` that, when
 * set, stops runs started by scenario:run() with SS_EINTR (the REPL's
 * Ctrl-C flag; the pointer must outlive the state). */
#define SL_INTERRUPT "stratsim.interrupt"

/**
 * Entry point of the Lua C module stratsim.so (`require "stratsim"`,
 * module.c): ss_global_init() and sl_open(). Returns the module table.
 */
int luaopen_stratsim(lua_State *L);

#endif
