/*
 * sl_internal.h - what the files of the Lua layer (src/lua) share among
 * themselves: protected calls and budgets, error raising and locating, the
 * sandbox, the Scenario, Schedule, View and Result objects, user stocks,
 * terminal charts, key-path location and --set overrides. Names carry the
 * binding's prefix sl_ (ss_ is the core library's). The CLI and the REPL
 * use only stratsim_lua.h; tests of the binding include this header too.
 *
 * Files: script.c (state, allocator, hook, protected calls, loading),
 * l_policy.c (policies, derived metrics, the View, ss_script_run*),
 * l_result.c (scenario:run(), Result objects, compare, sparkline),
 * chart.c (terminal charts), l_docs.c (stratsim._docs), module.c
 * (sl_open, the module hub, and luaopen_stratsim for stratsim.so),
 * sandbox.c (the restricted _ENV, C work charged by size, the Lua 5.4.4
 * coroutine.close guard), vet.c (the Lua 5.4.4 code-generation guards),
 * l_include.c (stratsim.include and the one path check for files scripts
 * read), scenario/ (the Scenario object: the table -> ss_model
 * conversion, :with; its files share scenario/ls_internal.h),
 * l_schedule.c (stratsim.steps/linear),
 * l_stocks.c (user stocks, links, stratsim.series), files.c (the files a
 * script read), l_strmatch.c (bounded string matching), locate.c (key path
 * -> source line), overrides.c (--set), analysis/ (the analyses,
 * ss_analysis.h; its files share analysis/la_internal.h).
 */
#ifndef SL_INTERNAL_H
#define SL_INTERNAL_H

#include <stddef.h>
#include <stdio.h>
#include <lua.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"
#include "stratsim/suggest.h" /* ss_edit_distance, ss_suggest */
#include "stratsim_lua.h"

/** stratsim.include(FILE): run another scenario file (l_include.c). */
int sl_include(lua_State *L);

/**
 * THE path check for files a script names (stratsim.include, and any other
 * function that reads a file named in a scenario, such as a CSV of
 * stratsim.series{file=...}); l_include.c.
 *
 * A relative `name` is taken relative to the directory of the file that
 * calls (the nearest Lua function on the call stack whose chunk is a file,
 * so pcall(stratsim.include, "x.lua") and load()ed code resolve against the
 * including file, never the working directory); an absolute one as is. The
 * path is resolved with realpath (links followed) and must lie inside the
 * root (registry SL_ROOT: the directory of the top-level scenario file,
 * or --root DIR; see sl_set_root), else a Lua error
 * "WHAT: NAME is outside the root DIR (...; widen it with --root DIR)".
 * Pushes the name as shown in messages and chunk names (caller's directory
 * + name) and the resolved path; returns the former (anchored on the stack).
 * Raises "WHAT: cannot open NAME: reason" if it does not resolve.
 */
const char *sl_resolve_script_file(lua_State *L, const char *name, const char *what);

/**
 * Read a file a script names: sl_resolve_script_file(), then open the
 * resolved path without blocking and without following a link
 * (O_NONBLOCK | O_NOFOLLOW), refuse anything but a regular file ("WHAT: NAME
 * is not a regular file") and files above max_bytes, and read it whole
 * (no descriptor leaks if reading raises). Pushes the shown name and the
 * contents (a string); returns the shown name.
 */
const char *sl_read_script_file(lua_State *L, const char *name, const char *what,
                                    size_t max_bytes);

/** Registry key of the root directory (a realpath string; nil: no file
 * may be read). */
#define SL_ROOT "stratsim.root"

/** Set the root of the state to the directory `path` (is_file = 0), or
 * record `path` as the top-level scenario file (is_file = 1): names resolve
 * against its directory when no calling file is left on the stack, and its
 * directory becomes the root unless one was set (--root). Roots are
 * resolved with realpath. */
void sl_set_root(lua_State *L, const char *path, int is_file);

/**
 * Test hook (allocation-failure injection, tests/unit/test_lua_oom.c): the
 * Lua allocator of every state grants `n` more growing requests, then
 * refuses the next one (and, if `persistent`, every one after it) as a
 * real out-of-memory would. n < 0 turns injection off (the default).
 * Returns the number of failures injected since the previous call.
 * Process-wide and not thread-safe: for single-threaded tests only.
 */
unsigned long sl_test_fail_after(long n, int persistent);

/**
 * Open the stratsim module in a state this program embeds (ss_script_open
 * does it): pushes the module table. No process-wide set-up (module.c).
 */
int sl_open(lua_State *L);


/** Add the analysis API (distributions, Scenario:montecarlo/sensitivity/
 *  calibrate/optimize) to the module table on top of the stack
 *  (analysis/methods.c; the rest of that API is in ss_analysis.h). */
void sl_open_analysis(lua_State *L);

/**
 * Push a Result object (stratsim.Result) for r, taking ownership of r in
 * every case; `m` (the model that was run, copied; may be NULL) gives the
 * summary header and the sidecar, `file` (may be NULL) the scenario file.
 * Call it from protected code: when it fails (memory, the memory budget,
 * an interruption) it frees r and raises that error, so a caller reports
 * what happened rather than guessing.
 */
void sl_push_result(lua_State *L, ss_result *r, const ss_model *m, const char *file);

/** Registry key: set it to true in a sandboxed state (the REPL) to let
 * result:write_csv write to any path. */
#define SL_ALLOW_WRITES "stratsim.allow_writes"





/**
 * Translate a failed sl_pcall status and the error object on top of the
 * stack (popped) into an ss_err record. Returns the SS_E* code.
 */
int sl_to_err(lua_State *L, int status, ss_err *err);

/**
 * Charge `bytes` of C memory (a model owned by a Lua object) to the state's
 * memory budget, collecting garbage first if it does not fit. Returns 0, or
 * -1 when the budget is exceeded (then marked exceeded for good).
 */
int sl_charge(lua_State *L, size_t bytes);
void sl_uncharge(lua_State *L, size_t bytes);

/**
 * Charge `n` units of C work done for the script (bytes of source lexed to
 * locate errors) to its instruction budget. Returns 0, or -1 once the
 * budget is exceeded (the caller then raises any error; it is reported as
 * the instruction limit).
 */
int sl_charge_work(lua_State *L, size_t n);

/** Longest string a script may create (bytes; at most the memory budget):
 * longer ones end the script with "a string of N bytes: longer than the
 * 16 MiB limit on strings" (checked in the allocator). */
#define SL_MAX_STRING ((size_t)16 << 20)

/** Bytes print may write in all for one script (state); beyond, output is
 * dropped with one note on standard error. */
#define SL_PRINT_MAX ((size_t)4 << 20)


/**
 * End the script for good with "FILE:LINE: message" (a sticky error like
 * an exceeded budget: pcall cannot swallow it, handlers are skipped; the
 * load or run reports it). Used where going on would crash Lua 5.4.4
 * (nested coroutine.close). Does not return.
 */
void sl_fatal(lua_State *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;

/** Record that thread `to` runs Lua code from now on (coroutine resume and
 * return, in sandbox.c; a newly created long string then re-arms its count
 * hook at once) and give its hook the current interval. Returns the
 * previous running thread. */
lua_State *sl_switch_thread(lua_State *L, lua_State *to);

/** While on (nesting), strings created are the host's own (sources kept to
 * locate errors): exempt from the string limit and from long-string
 * charging. */
void sl_trusted(lua_State *L, int on);

/** 1 once the instruction or memory budget of the state has been exceeded
 * (or a string was too long, or sl_fatal was called). */
int sl_limit_hit(lua_State *L);

/** Reset the instruction budget of the state (for later per-call budgets). */
void sl_budget_reset(lua_State *L);


/** "FILE:LINE" of the Lua function at `level` (1 = caller of a C function). */
void sl_where(lua_State *L, int level, char *buf, size_t size);

/** Type name of the value at idx for messages; userdata report their
 * __name. The string is anchored (a literal or in the metatable). */
const char *sl_tname(lua_State *L, int idx);

/** Ids of providers, segments and stocks, and names of derived outputs:
 * they match [A-Za-z_][A-Za-z0-9_-]* (sl_valid_id, scenario/convert.c) and
 * have at most SL_MAX_ID_LEN characters (checked by the callers, which say
 * so). */
#define SL_MAX_ID_LEN 63
int sl_valid_id(const char *s, size_t len);

/** Push an array (a new table) of the n numbers / strings v[0..n-1]. */
void sl_push_numbers(lua_State *L, const double *v, size_t n);
void sl_push_strings(lua_State *L, char *const *v, size_t n);


/** Build the restricted environment table and push it (sandbox.c). */
void sl_push_sandbox_env(lua_State *L);

/** Give the function on top of the stack the state's sandbox environment
 * (registry "stratsim.env") as its _ENV, if the state is sandboxed
 * (script.c). */
void sl_bind_env(lua_State *L);

/** Install an xpcall whose message handler is skipped once a budget has
 * been exceeded (the handler would run with hooks off) into table `idx`. */
void sl_install_xpcall(lua_State *L, int idx);

/** Install coroutine.close/wrap that never run __close handlers of a
 * coroutine killed by an exceeded budget into the coroutine table `idx`. */
void sl_install_coroutine(lua_State *L, int idx);

/** Install string.find/match/gmatch/gsub whose matching steps count
 * against the instruction budget into the string table at `idx`
 * (l_strmatch.c; docs/robustness.md). */
void sl_install_strmatch(lua_State *L, int idx);

/** Install deterministic math.random/randomseed into the table at `idx`. */
void sl_install_random(lua_State *L, int idx);

/** Remember math.random's state as the start of every run (ss_script_load
 *  calls it when the script has loaded: a fresh `stratsim run` starts its
 *  runs from there). Never raises. */
void sl_random_mark(lua_State *L);

/** Put math.random back to the state sl_random_mark remembered (before
 *  it: seed 42, the state's first). 0 if the state has no such generator.
 *  Never raises. */
int sl_random_restore(lua_State *L);

/** ss_script_reseed for state L (the Lua Monte Carlo). */
void sl_random_seed(lua_State *L, uint64_t seed);

/** ss_script_crn_opts for the hooks' state L (the Lua analyses). */
void sl_crn_opts(lua_State *L, ss_run_opts *ro);

/** Registry key of the table chunkname -> source text used by locate. */
#define SL_SOURCES "stratsim.sources"
/** Registry key of the set (path -> true) of data files a script read
 *  (stratsim.series), for ss_script_files(). */
#define SL_DATA_FILES "stratsim.data_files"

/* ---- Scenario objects (scenario/) ---- */

#define SL_SCENARIO "stratsim.Scenario"
#define SL_SCHEDULE "stratsim.Schedule"
#define SL_ERROR "stratsim.Error"

/** Register the stratsim.Scenario metatable (scenario/scenario.c). */
void sl_open_scenario(lua_State *L);
/** stratsim.scenario{...}: push a validated Scenario (scenario/scenario.c). */
int sl_scenario_new(lua_State *L);

/** The model as written of the Scenario at idx (borrowed), or NULL. */
ss_model *sl_scenario_model(lua_State *L, int idx);
/** Its resolved model (made when it was built; borrowed), or NULL. */
const ss_resolved *sl_scenario_resolved(lua_State *L, int idx);

/** Push field `key` of the scenario spec at idx (policy, outputs, ...). */
int sl_scenario_push_field(lua_State *L, int idx, const char *key);

/**
 * Format a core error about the scenario at idx as "FILE:LINE: PATH: msg",
 * locating `path` in the scenario's source. Writes into out[size]
 * (scenario/errors.c).
 */
void sl_scenario_format(lua_State *L, int idx, const char *path,
                            const char *msg, char *out, size_t size);

/* ---- Schedules (l_schedule.c) ---- */

/** Knots of the schedule userdata at idx, or NULL if it is not one. */
typedef struct sl_sched {
    int kind;        /**< SS_SCHED_STEPS or SS_SCHED_LINEAR */
    size_t n;
    double *t, *v;   /**< point into the userdata */
} sl_sched;
int sl_toschedule(lua_State *L, int idx, sl_sched *out);
void sl_open_schedule(lua_State *L); /* sets steps/linear in table at -1 */

/* ---- policies and derived metrics (l_policy.c) ---- */

#define SL_VIEW "stratsim.View"

/**
 * Push the callback data for a run, started from Lua on thread L, of the
 * Scenario at idx, and fill *opts; both stay valid while the pushed value
 * is on the stack. Raises if the scenario's outputs table was broken.
 */
void *sl_push_hooks(lua_State *L, int idx, ss_run_opts *opts);
/** 1 if a callback of the hooks failed in the last run (message in its err). */
int sl_hooks_failed(const void *hooks);
/** Register the View metatable. */
void sl_open_policy(lua_State *L);
/** Push a View for user stocks and links (bound to a run per call with
 *  sl_view_bind; run NULL expires it). */
void *sl_view_push(lua_State *L);
void sl_view_bind(void *view, ss_run *run, double t);

/* ---- user stocks, links and stratsim.series (l_stocks.c) ---- */

/**
 * Check the `stocks` and `links` of the scenario spec at `spec` against the
 * model being built (ids, collisions, targets, link plus set event). Returns
 * 0, or -1 with the key path and message written (the caller raises).
 */
int sl_ext_check(lua_State *L, int spec, const ss_model *m, char *path, size_t npath,
                     char *msg, size_t nmsg);
/**
 * Push the stock/link callback data of the Scenario at idx for callbacks
 * on thread T (nil and NULL when it has neither). `failed` is set when a
 * callback fails.
 */
void *sl_ext_push(lua_State *L, int idx, lua_State *T, int c_run, int *failed);
/** Attach the callbacks of ext to run options. */
void sl_ext_fill(void *ext, ss_run_opts *o);
/** stratsim.series{file=, time=, value=, kind=}. */
int sl_series(lua_State *L);
/** Push a new schedule userdata of `kind` with knots t[0..n), v[0..n). */
void sl_push_schedule(lua_State *L, int kind, const double *t, const double *v, size_t n);

/* ---- results (l_result.c) and the API docs (l_docs.c) ---- */

#define SL_RESULT "stratsim.Result"

/** scenario:run() (reached through the Scenario's __index). */
int sl_scenario_run(lua_State *L);
/** Register the Result metatable; set compare/sparkline in the table at -1. */
void sl_open_results(lua_State *L);
/** Set stratsim._docs (API name -> one-line doc) in the module table at -1. */
void sl_open_docs(lua_State *L);
/** Push the file the Scenario at idx was built in (its newest origin), or nil. */
void sl_scenario_push_file(lua_State *L, int idx);
/** 1 if file access is restricted: a sandboxed state without the REPL's
 * permission (registry SL_ALLOW_WRITES). */
int sl_writes_restricted(lua_State *L);
/** 1 if p is a relative path without ".." components. */
int sl_safe_path(const char *p);
/** Raise the write_csv error unless `path` may be written here ("-", or
 * any path when unrestricted); returns sl_writes_restricted(L). */
int sl_check_write_path(lua_State *L, const char *path);

/* ---- terminal charts (chart.c, pure C) ---- */

typedef struct sl_chart_series {
    const char *label;     /**< legend text (may be NULL) */
    size_t n;
    const double *t, *v;   /**< [n] times (increasing) and values */
} sl_chart_series;

typedef struct sl_chart_opts {
    int width;             /**< total columns (default 72) */
    int height;            /**< rows of the plot area (default 10) */
    int ascii;             /**< 1: ASCII markers, 0: Unicode braille dots */
    const char *title;     /**< first line, or NULL */
} sl_chart_opts;

/** Draw a line chart of ns series (y labels, time axis, legend) to f. */
void sl_chart_write(FILE *f, const sl_chart_series *s, size_t ns, const sl_chart_opts *o);
/** Write a sparkline (one block character U+2581..U+2588 per value). */
void sl_sparkline_write(FILE *f, const double *v, size_t n);

/* ---- locate.c: key path -> line, pure C over the source text ---- */

/**
 * Find the line of `path` (e.g. "providers.alibaba.share.public",
 * "events[2].severity") in `text`, starting from the constructor call on
 * line `ctor_line`. Returns the line of the deepest component found
 * (ctor_line if none) and stores the number of components found in *depth.
 */
int sl_locate_path(const char *text, size_t len, int ctor_line,
                   const char *path, int *depth);

/**
 * Lines of the positional items of the array `key` in the constructor table
 * called on `ctor_line` (lines[i] = 0 where not found), in one pass.
 * Returns the number of items found.
 */
int sl_locate_items(const char *text, size_t len, int ctor_line, const char *key,
                    int *lines, size_t n);

/* ---- overrides.c: --set ---- */

/**
 * Set the numeric input named by `path` in an unresolved model to `value`
 * (parameter paths of docs/analysis.md). Errors name the path in err->path; the
 * message has no prefix.
 */
int sl_override_set(ss_model *m, const char *path, double value, ss_err *err);

/**
 * Parse "PATH=VALUE" and apply it. Errors are formatted for the user:
 * "--set 'X': expected PATH=VALUE", "--set PATH: unknown provider 'x'".
 */
int sl_override_apply(ss_model *m, const char *assignment, ss_err *err);

#endif
