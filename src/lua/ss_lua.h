/*
 * ss_lua.h - the Lua layer of stratsim: the only unit that includes lua.h.
 *
 * Responsibility: run scenario scripts (docs/scenarios.md) in a sandboxed Lua 5.4
 * state with memory and instruction budgets, provide the `stratsim` Lua
 * module (scenario, steps, linear, version, Scenario:with), turn the
 * returned scenario tables into core ss_model structs, apply `--set`
 * overrides and map core key paths back to FILE:LINE.  The CLI drives it
 * through the ss_script_* calls below; nothing else in this header is meant
 * for the CLI.  Depends on the core (include/stratsim/), Lua 5.4 and GSL
 * (the sandbox's deterministic math.random).
 *
 * Files: script.c (state, allocator, hook, protected calls, loading),
 * l_policy.c (policies, derived metrics, the View, ss_script_run*),
 * l_result.c (scenario:run(), Result objects, compare, sparkline),
 * chart.c (terminal charts), l_docs.c (stratsim._docs), module.c
 * (luaopen_stratsim for stratsim.so),
 * sandbox.c (the restricted _ENV, C work charged by size, the Lua 5.4.4
 * coroutine.close guard), vet.c (the Lua 5.4.4 code-generation guards),
 * l_include.c (stratsim.include and the one path check for files scripts
 * read), l_scenario.c (the stratsim module and the
 * table -> ss_model conversion), l_schedule.c (stratsim.steps/linear),
 * locate.c (key path -> source line), overrides.c (--set).
 *
 * Ownership: ss_script_open() returns a script the caller releases with
 * ss_script_close(); models returned by ss_script_model() are borrowed and
 * live as long as the script.
 */
#ifndef SS_LUA_H
#define SS_LUA_H

#include <stddef.h>
#include <stdio.h>
#include <lua.h>
#include "stratsim/error.h"
#include "stratsim/model.h"
#include "stratsim/result.h"
#include "stratsim/sim.h"
#include "stratsim/suggest.h" /* ss_edit_distance, ss_suggest */

/* ===================================================== API for the CLI */

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

/** Scenario i (0-based): borrowed, resolved, owned by the script. */
ss_model *ss_script_model(ss_script *s, size_t i);

/**
 * Push the Lua Scenario object i onto the script's stack (for later
 * extensions: policy, outputs, uncertainty... are reachable from it with
 * ss_lua_scenario_push_field()). Returns 0, or -1 if i is out of range.
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

/** Run scenario i with ss_script_run_opts(); *out receives a result the
 * caller frees with ss_result_free(). */
int ss_script_run(ss_script *s, size_t i, ss_result **out, ss_err *err);

/** stratsim.include(FILE): run another scenario file (l_include.c). */
int ss_lua_include(lua_State *L);

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
 * root (registry SS_LUA_ROOT: the directory of the top-level scenario file,
 * or --root DIR; see ss_lua_set_root), else a Lua error
 * "WHAT: NAME is outside the root DIR (...; widen it with --root DIR)".
 * Pushes the name as shown in messages and chunk names (caller's directory
 * + name) and the resolved path; returns the former (anchored on the stack).
 * Raises "WHAT: cannot open NAME: reason" if it does not resolve.
 */
const char *ss_lua_resolve_script_file(lua_State *L, const char *name, const char *what);

/**
 * Read a file a script names: ss_lua_resolve_script_file(), then open the
 * resolved path without blocking and without following a link
 * (O_NONBLOCK | O_NOFOLLOW), refuse anything but a regular file ("WHAT: NAME
 * is not a regular file") and files above max_bytes, and read it whole
 * (no descriptor leaks if reading raises). Pushes the shown name and the
 * contents (a string); returns the shown name.
 */
const char *ss_lua_read_script_file(lua_State *L, const char *name, const char *what,
                                    size_t max_bytes);

/** Registry key of the root directory (a realpath string; nil: no file
 * may be read). */
#define SS_LUA_ROOT "stratsim.root"

/** Set the root of the state to the directory `path` (is_file = 0), or
 * record `path` as the top-level scenario file (is_file = 1): names resolve
 * against its directory when no calling file is left on the stack, and its
 * directory becomes the root unless one was set (--root). Roots are
 * resolved with realpath. */
void ss_lua_set_root(lua_State *L, const char *path, int is_file);

/**
 * Test hook (allocation-failure injection, tests/unit/test_lua_oom.c): the
 * Lua allocator of every state grants `n` more growing requests, then
 * refuses the next one (and, if `persistent`, every one after it) as a
 * real out-of-memory would. n < 0 turns injection off (the default).
 * Returns the number of failures injected since the previous call.
 * Process-wide and not thread-safe: for single-threaded tests only.
 */
unsigned long ss_lua_test_fail_after(long n, int persistent);

/**
 * Open the stratsim module in a state this program embeds (ss_script_open
 * does it): pushes the module table. No process-wide set-up.
 */
int ss_lua_open(lua_State *L);

/**
 * Entry point of the Lua C module stratsim.so (`require "stratsim"`,
 * module.c): ss_global_init() and ss_lua_open(). Returns the module table.
 */
int luaopen_stratsim(lua_State *L);

/** Add the analysis API (distributions, Scenario:montecarlo/sensitivity/
 *  calibrate/optimize) to the module table on top of the stack
 *  (l_analysis.c; the rest of that API is in ss_analysis.h). */
void ss_lua_open_analysis(lua_State *L);

/**
 * Push a Result object (stratsim.Result) for r, taking ownership of r in
 * every case; `m` (the model that was run, copied; may be NULL) gives the
 * summary header and the sidecar, `file` (may be NULL) the scenario file.
 * Safe outside protected calls. Returns 0, or -1 (nothing pushed, r freed)
 * when memory runs out.
 */
int ss_lua_push_result(lua_State *L, ss_result *r, const ss_model *m, const char *file);

/** Registry key: set it to true in a sandboxed state (the REPL) to let
 * result:write_csv write to any path. */
#define SS_LUA_ALLOW_WRITES "stratsim.allow_writes"

/** Registry key: a light userdata pointing to a `volatile int` that, when
 * set, stops runs started by scenario:run() with SS_EINTR (the REPL's
 * Ctrl-C flag; the pointer must outlive the state). */
#define SS_LUA_INTERRUPT "stratsim.interrupt"

/* ============================================ internal to src/lua/ only */

/**
 * The one protected-call helper: like lua_pcall(L, nargs, nresults, h) with
 * a message handler that appends a short traceback to string errors, turns
 * any other error object into readable text, and leaves stratsim.Error
 * objects (scenario errors) untouched.
 */
int ss_lua_pcall(lua_State *L, int nargs, int nresults);

/** Push ss_lua_pcall's message handler (for lua_pcall in hot loops that
 *  push it once: user stocks and links). */
void ss_lua_push_msgh(lua_State *L);

/**
 * Translate a failed ss_lua_pcall status and the error object on top of the
 * stack (popped) into an ss_err record. Returns the SS_E* code.
 */
int ss_lua_to_err(lua_State *L, int status, ss_err *err);

/**
 * Charge `bytes` of C memory (a model owned by a Lua object) to the state's
 * memory budget, collecting garbage first if it does not fit. Returns 0, or
 * -1 when the budget is exceeded (then marked exceeded for good).
 */
int ss_lua_charge(lua_State *L, size_t bytes);
void ss_lua_uncharge(lua_State *L, size_t bytes);

/**
 * Charge `n` units of C work done for the script (bytes of source lexed to
 * locate errors) to its instruction budget. Returns 0, or -1 once the
 * budget is exceeded (the caller then raises any error; it is reported as
 * the instruction limit).
 */
int ss_lua_charge_work(lua_State *L, size_t n);

/** Longest string a script may create (bytes; at most the memory budget):
 * longer ones end the script with "a string of N bytes: longer than the
 * 16 MiB limit on strings" (checked in the allocator). */
#define SS_LUA_MAX_STRING ((size_t)16 << 20)

/** Bytes print may write in all for one script (state); beyond, output is
 * dropped with one note on standard error. */
#define SS_LUA_PRINT_MAX ((size_t)4 << 20)

/** Push the print function: it writes its arguments, tab-separated, and a
 * newline to `stream`, flushed per call; when `capped`, at most
 * SS_LUA_PRINT_MAX bytes per state, each byte charged to the instruction
 * budget (the scripts' print on stderr; the REPL's on stdout is uncapped). */
void ss_lua_push_print(lua_State *L, FILE *stream, int capped);

/**
 * End the script for good with "FILE:LINE: message" (a sticky error like
 * an exceeded budget: pcall cannot swallow it, handlers are skipped; the
 * load or run reports it). Used where going on would crash Lua 5.4.4
 * (nested coroutine.close). Does not return.
 */
void ss_lua_fatal(lua_State *L, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3), noreturn))
#endif
    ;

/** Record that thread `to` runs Lua code from now on (coroutine resume and
 * return, in sandbox.c; a newly created long string then re-arms its count
 * hook at once) and give its hook the current interval. Returns the
 * previous running thread. */
lua_State *ss_lua_switch_thread(lua_State *L, lua_State *to);

/** While on (nesting), strings created are the host's own (sources kept to
 * locate errors): exempt from the string limit and from long-string
 * charging. */
void ss_lua_trusted(lua_State *L, int on);

/** 1 once the instruction or memory budget of the state has been exceeded
 * (or a string was too long, or ss_lua_fatal was called). */
int ss_lua_limit_hit(lua_State *L);

/** Reset the instruction budget of the state (for later per-call budgets). */
void ss_lua_budget_reset(lua_State *L);

/**
 * Raise a stratsim.Error: a table {code=, msg=} with a protected metatable
 * whose __tostring gives msg. Its message is final (no traceback added).
 */
int ss_lua_raise(lua_State *L, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4), noreturn))
#endif
    ;

/** "FILE:LINE" of the Lua function at `level` (1 = caller of a C function). */
void ss_lua_where(lua_State *L, int level, char *buf, size_t size);

/** Type name of the value at idx for messages; userdata report their
 * __name. The string is anchored (a literal or in the metatable). */
const char *ss_lua_tname(lua_State *L, int idx);

/** Push an array (a new table) of the n numbers / strings v[0..n-1]. */
void ss_lua_push_numbers(lua_State *L, const double *v, size_t n);
void ss_lua_push_strings(lua_State *L, char *const *v, size_t n);

/**
 * Check the function on top of the stack, just compiled, for the code
 * generation bugs of Lua 5.4.4 (vet.c): a miscompiled `break` out of a
 * generic for is fixed (the function is replaced by a corrected one); a
 * miscompiled bitwise operation raises "FILE:LINE: ... miscompiled by Lua
 * 5.4.4". Call it on every chunk loaded from text, before binding _ENV.
 */
void ss_lua_vet_chunk(lua_State *L);

/** Build the restricted environment table and push it (sandbox.c). */
void ss_lua_push_sandbox_env(lua_State *L);

/** Give the function on top of the stack the state's sandbox environment
 * (registry "stratsim.env") as its _ENV, if the state is sandboxed
 * (script.c). */
void ss_lua_bind_env(lua_State *L);

/** Install an xpcall whose message handler is skipped once a budget has
 * been exceeded (the handler would run with hooks off) into table `idx`. */
void ss_lua_install_xpcall(lua_State *L, int idx);

/** Install coroutine.close/wrap that never run __close handlers of a
 * coroutine killed by an exceeded budget into the coroutine table `idx`. */
void ss_lua_install_coroutine(lua_State *L, int idx);

/** Install string.find/match/gmatch/gsub whose matching steps count
 * against the instruction budget into the string table at `idx`
 * (l_strmatch.c; docs/robustness.md). */
void ss_lua_install_strmatch(lua_State *L, int idx);

/** Install deterministic math.random/randomseed into the table at `idx`. */
void ss_lua_install_random(lua_State *L, int idx);

/** Registry key of the table chunkname -> source text used by locate. */
#define SS_LUA_SOURCES "stratsim.sources"
/** Registry key of the set (path -> true) of data files a script read
 *  (stratsim.series), for ss_script_files(). */
#define SS_LUA_DATA_FILES "stratsim.data_files"

/* ---- Scenario objects (l_scenario.c) ---- */

#define SS_LUA_SCENARIO "stratsim.Scenario"
#define SS_LUA_SCHEDULE "stratsim.Schedule"
#define SS_LUA_ERROR "stratsim.Error"

/** The unresolved model of the Scenario at idx (borrowed), or NULL. */
ss_model *ss_lua_scenario_model(lua_State *L, int idx);

/** Push field `key` of the scenario spec at idx (policy, outputs, ...). */
int ss_lua_scenario_push_field(lua_State *L, int idx, const char *key);

/**
 * Format a core error about the scenario at idx as "FILE:LINE: PATH: msg",
 * locating `path` in the scenario's source. Writes into out[size].
 */
void ss_lua_scenario_format(lua_State *L, int idx, const char *path,
                            const char *msg, char *out, size_t size);

/* ---- Schedules (l_schedule.c) ---- */

/** Knots of the schedule userdata at idx, or NULL if it is not one. */
typedef struct ss_lua_sched {
    int kind;        /**< SS_SCHED_STEPS or SS_SCHED_LINEAR */
    size_t n;
    double *t, *v;   /**< point into the userdata */
} ss_lua_sched;
int ss_lua_toschedule(lua_State *L, int idx, ss_lua_sched *out);
void ss_lua_open_schedule(lua_State *L); /* sets steps/linear in table at -1 */

/* ---- policies and derived metrics (l_policy.c) ---- */

#define SS_LUA_VIEW "stratsim.View"

/**
 * Push the callback data for a run, started from Lua on thread L, of the
 * Scenario at idx, and fill *opts; both stay valid while the pushed value
 * is on the stack. Raises if the scenario's outputs table was broken.
 */
void *ss_lua_push_hooks(lua_State *L, int idx, ss_run_opts *opts);
/** 1 if a callback of the hooks failed in the last run (message in its err). */
int ss_lua_hooks_failed(const void *hooks);
/** Register the View metatable. */
void ss_lua_open_policy(lua_State *L);
/** Push a View for user stocks and links (bound to a run per call with
 *  ss_lua_view_bind; run NULL expires it). */
void *ss_lua_view_push(lua_State *L);
void ss_lua_view_bind(void *view, ss_run *run, double t);

/* ---- user stocks, links and stratsim.series (l_stocks.c) ---- */

/**
 * Check the `stocks` and `links` of the scenario spec at `spec` against the
 * model being built (ids, collisions, targets, link plus set event). Returns
 * 0, or -1 with the key path and message written (the caller raises).
 */
int ss_lua_ext_check(lua_State *L, int spec, const ss_model *m, char *path, size_t npath,
                     char *msg, size_t nmsg);
/**
 * Push the stock/link callback data of the Scenario at idx for callbacks
 * on thread T (nil and NULL when it has neither). `failed` is set when a
 * callback fails.
 */
void *ss_lua_ext_push(lua_State *L, int idx, lua_State *T, int c_run, int *failed);
/** Attach the callbacks of ext to run options. */
void ss_lua_ext_fill(void *ext, ss_run_opts *o);
/** stratsim.series{file=, time=, value=, kind=}. */
int ss_lua_series(lua_State *L);
/** Push a new schedule userdata of `kind` with knots t[0..n), v[0..n). */
void ss_lua_push_schedule(lua_State *L, int kind, const double *t, const double *v, size_t n);

/* ---- results (l_result.c) and the API docs (l_docs.c) ---- */

#define SS_LUA_RESULT "stratsim.Result"

/** scenario:run() (reached through the Scenario's __index). */
int ss_lua_scenario_run(lua_State *L);
/** Register the Result metatable; set compare/sparkline in the table at -1. */
void ss_lua_open_results(lua_State *L);
/** Set stratsim._docs (API name -> one-line doc) in the module table at -1. */
void ss_lua_open_docs(lua_State *L);
/** Push the file the Scenario at idx was built in (its newest origin), or nil. */
void ss_lua_scenario_push_file(lua_State *L, int idx);
/** 1 if file access is restricted: a sandboxed state without the REPL's
 * permission (registry SS_LUA_ALLOW_WRITES). */
int ss_lua_writes_restricted(lua_State *L);
/** 1 if p is a relative path without ".." components. */
int ss_lua_safe_path(const char *p);
/** Raise the write_csv error unless `path` may be written here ("-", or
 * any path when unrestricted); returns ss_lua_writes_restricted(L). */
int ss_lua_check_write_path(lua_State *L, const char *path);

/* ---- terminal charts (chart.c, pure C) ---- */

typedef struct ss_chart_series {
    const char *label;     /**< legend text (may be NULL) */
    size_t n;
    const double *t, *v;   /**< [n] times (increasing) and values */
} ss_chart_series;

typedef struct ss_chart_opts {
    int width;             /**< total columns (default 72) */
    int height;            /**< rows of the plot area (default 10) */
    int ascii;             /**< 1: ASCII markers, 0: Unicode braille dots */
    const char *title;     /**< first line, or NULL */
} ss_chart_opts;

/** Draw a line chart of ns series (y labels, time axis, legend) to f. */
void ss_chart_write(FILE *f, const ss_chart_series *s, size_t ns, const ss_chart_opts *o);
/** Write a sparkline (one block character U+2581..U+2588 per value). */
void ss_sparkline_write(FILE *f, const double *v, size_t n);

/* ---- locate.c: key path -> line, pure C over the source text ---- */

/**
 * Find the line of `path` (e.g. "providers.alibaba.share.public",
 * "events[2].severity") in `text`, starting from the constructor call on
 * line `ctor_line`. Returns the line of the deepest component found
 * (ctor_line if none) and stores the number of components found in *depth.
 */
int ss_locate_path(const char *text, size_t len, int ctor_line,
                   const char *path, int *depth);

/**
 * Lines of the positional items of the array `key` in the constructor table
 * called on `ctor_line` (lines[i] = 0 where not found), in one pass.
 * Returns the number of items found.
 */
int ss_locate_items(const char *text, size_t len, int ctor_line, const char *key,
                    int *lines, size_t n);

/* ---- overrides.c: --set ---- */

/**
 * Set the numeric input named by `path` in an unresolved model to `value`
 * (parameter paths of docs/analysis.md). Errors name the path in err->path; the
 * message has no prefix.
 */
int ss_override_set(ss_model *m, const char *path, double value, ss_err *err);

/**
 * Parse "PATH=VALUE" and apply it. Errors are formatted for the user:
 * "--set 'X': expected PATH=VALUE", "--set PATH: unknown provider 'x'".
 */
int ss_override_apply(ss_model *m, const char *assignment, ss_err *err);

#endif
